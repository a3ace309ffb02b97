// The field product in Chromium, per product: scalar (mont::mul: Karatsuba columns, then the
// reduction), the product-scanned one it replaced (mont_scanned::mul), the square (mont::sqr,
// Karatsuba; mont_scanned::sqr before), and simd128 (mont_simd::mul).
// `make bench-simd-mont` builds both and runs this; by hand, from the repo root:
//   node benches/simd-mont/run.mjs [--rounds N] [--reps N]
// Both builds load in one page; every repetition times each variant once, in turn (interleaved),
// and the medians are printed in ns per product. Fails if the products differ anywhere.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const rounds = arg('rounds', 20000);
const reps = arg('reps', 15);
const wasm = (build) =>
  readFileSync(`target/simd-mont/${build}/wasm32-unknown-unknown/release/simd_mont_bench.wasm`).toString('base64');

const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => { throw e; });
  const result = await page.evaluate(async ({ scalarB64, simdB64, rounds, reps }) => {
    const load = async (b64) =>
      (await WebAssembly.instantiate(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))).instance.exports;
    const scalar = await load(scalarB64);
    const simd = await load(simdB64);
    const simdSupported = WebAssembly.validate(new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
    ]));
    const checks = { scalarBuild: scalar.check(2000), simdBuild: simd.check(2000) };
    const variants = {
      'scalar product, baseline build': () => scalar.bench_scalar(rounds),
      'scalar product, +simd128 build': () => simd.bench_scalar(rounds),
      'product-scanned (before Karatsuba), baseline build': () => scalar.bench_scanned(rounds),
      'square, baseline build': () => scalar.bench_sqr(rounds),
      'square product-scanned (before Karatsuba), baseline build': () => scalar.bench_sqr_scanned(rounds),
      'simd product, +simd128 build': () => simd.bench_simd(rounds),
      'simd limb products + scalar reduction, +simd128 build': () => simd.bench_simd_then_reduce(rounds),
    };
    for (const f of Object.values(variants)) f(); // warm up (tier-up)
    const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let r = 0; r < reps; r++) {
      for (const [k, f] of Object.entries(variants)) {
        const t0 = performance.now();
        f();
        times[k].push(performance.now() - t0);
      }
    }
    return { simdSupported, simd128: [scalar.simd128(), simd.simd128()], checks, times };
  }, { scalarB64: wasm('scalar'), simdB64: wasm('simd'), rounds, reps });
  if (result.simd128[0] !== 0 || result.simd128[1] !== 1) throw new Error(`builds mixed up: ${result.simd128}`);
  if (result.checks.scalarBuild !== 0 || result.checks.simdBuild !== 0) {
    throw new Error(`a product differs from mont::mul: ${JSON.stringify(result.checks)}`);
  }
  const products = rounds * 64;
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(`chromium: ${execFileSync(chromiumPath, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}`);
  console.log(`simd128 supported (WebAssembly.validate): ${result.simdSupported}`);
  console.log(`check: products equal on ${5 * 2004} operand pairs in both builds`);
  console.log(`${products} products per run, ${reps} interleaved runs, median:`);
  for (const [k, ts] of Object.entries(result.times)) {
    console.log(`  ${k}: ${((median(ts) * 1e6) / products).toFixed(1)} ns/product (min ${((Math.min(...ts) * 1e6) / products).toFixed(1)})`);
  }
} finally {
  await browser.close();
}
