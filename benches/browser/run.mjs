// `make bench-browser`: airprover against snarkjs 0.7.6, side by side, in one run.
//
// For each circuit (square-chain-65536, threshold-d20-k8, threshold-d20-k32 by default):
//   native   1 thread and all threads (examples/bench_native.rs, one process each)
//   wasm     the single-threaded and the threaded build in headless Chromium, through the
//            package's own worker (pkg/prover-worker.js, keys loaded once and kept in memory)
//   snarkjs  groth16.fullProve in the same Chromium, singleThread and with its workers, on the
//            same statement written in circom (circuits/), compiled with circom2
// in BENCH_ROUNDS rounds that each measure every configuration once (a fresh process or browser:
// a cold run, then BENCH_RUNS warm runs), airprover's wasm build just before snarkjs with the
// same threading, so that a machine whose speed drifts moves both sides of a ratio alike; min
// and median over all rounds' warm runs, per-stage times, key bytes and load time, peak memory
// (process VmHWM natively; the renderer's VmHWM in Chromium, and wasm memory), and whether other
// processes used the CPU during a timing. Everything snarkjs needs (powers of tau,
// r1cs, wasm, zkey) is made locally and cached under target/bench-browser/; the powers of tau is a
// DEVELOPMENT one from a fixed seed (examples/dev_ptau.rs), made natively in seconds.
//
// Same key (BENCH_SAMEKEY_CIRCUITS, default threshold-d20-k8): airprover on snarkjs's own zkey
// and witness wasm of the circom circuit, so that no difference between the two circuits (ours in
// arkworks, theirs in circom) is in the ratio:
//   samekey-wasm-*     airprover's public API (createProver with a circom manifest entry, as
//                      airprover/snarkjs's fullProve makes it) and snarkjs's groth16.fullProve on
//                      the very same bytes in one page, their proofs interleaved, both builds;
//                      the stages from progress events, circom's witness wasm timed apart
//   samekey-native-*   `airprover prove --zkey --wtns` (and `--wasm --input`) with the converted-key
//                      cache warm, one process per proof as rapidsnark's CLI, beside rapidsnark on
//                      the same zkey and witness file
//
// Writes target/bench/browser.json, prints the tables, draws docs/bench-speed.svg and rewrites
// the `## Speed` section of README.md.
//
// Environment: BENCH_CIRCUITS (comma list), BENCH_ROUNDS (default 2), BENCH_RUNS (runs after
// the cold one in each round; default 2),
// BENCH_ONLY (comma list of native,wasm,snarkjs,samekey), BENCH_SNARKJS_CIRCUITS (the circuits snarkjs
// runs on; default all), BENCH_SAMEKEY_CIRCUITS (the circuits of the same-key rows: snarkjs's
// zkey; default threshold-d20-k8, where BENCH_CIRCUITS has it),
// BENCH_BUILDS (wasm builds, default single,threaded), BENCH_NO_README=1 (leave README.md and
// docs/ alone), BENCH_RENDER_ONLY=1 (measure nothing: README.md's section and the chart again
// from target/bench/browser.json).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

import { startServer } from '../../tests/browser/support/server.mjs';
import { CpuMonitor, peakRss } from './cpu.mjs';
import { renderChart } from './chart.mjs';
import { renderReadme, renderTables } from './report.mjs';
import { circomClaimInput } from './circuits/claim-input.mjs';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '../..');
const BUILD = join(ROOT, 'target/bench-browser');
const CLI = join(ROOT, 'target/release/airprover');
const NATIVE = join(ROOT, 'target/release/examples/bench_native');
const DEV_PTAU = join(ROOT, 'target/release/examples/dev_ptau');
const SNARKJS = join(HERE, 'node_modules/snarkjs/build/cli.cjs');
const CIRCOM = join(HERE, 'node_modules/circom2/cli.js');
const CORES = cpus().length;
// The pool sizes a scaling table measures (native, and the threaded wasm build), up to the cores
// the machine has: more threads than cores would measure the scheduler, not the prover.
const SCALING = (process.env.BENCH_THREADS ?? '1,2,4,8,16').split(',').map(Number);
const SCALED = [...new Set([...SCALING.filter((t) => t <= CORES), CORES])].sort((a, b) => a - b);
const NOT_SCALED = SCALING.filter((t) => t > CORES);
// rapidsnark, the native peer, where benches/rapidsnark/build.sh has built it.
const RAPIDSNARK = process.env.RAPIDSNARK ?? join(ROOT, 'target/rapidsnark/prover');

// The flags of tests/browser/support/browser.mjs: headless, as root, no network side traffic.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const circuits = (process.env.BENCH_CIRCUITS ?? 'square-chain-65536,threshold-d20-k8,threshold-d20-k32')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const only = new Set((process.env.BENCH_ONLY ?? 'native,wasm,snarkjs,samekey').split(','));
// Same-key rows need snarkjs's zkey of the circuit (made as for snarkjs's rows).
const sameKeyCircuits = new Set(
  (process.env.BENCH_SAMEKEY_CIRCUITS ?? 'threshold-d20-k8')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
// snarkjs's side of a circuit needs a zkey, made once from a development powers of tau of its size
// (seconds): `groth16 setup` took 2.5 minutes for threshold-d20-k8 (2^16) and 9 for
// threshold-d20-k32 (2^18) on 2 busy cores. BENCH_SNARKJS_CIRCUITS limits it to some.
const snarkjsCircuits = new Set(
  (process.env.BENCH_SNARKJS_CIRCUITS ?? circuits.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

function log(...args) {
  console.error('[bench]', ...args);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28, ...opts });
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Runs `make` steps only when `out` is missing; `stamp` content must match to reuse it. */
function cached(out, stamp, make) {
  const stampFile = `${out}.stamp`;
  if (existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  mkdirSync(dirname(out), { recursive: true });
  make();
  writeFileSync(stampFile, stamp);
}

// ---------------------------------------------------------------------------------------------
// Inputs: airprover keys and statements (CLI, seeded), snarkjs circuits and keys (cached).

function airproverInputs(id) {
  const keys = join(BUILD, 'keys');
  const pk = join(keys, `${id}.pk`);
  cached(pk, `setup seed 1 ${statSync(CLI).size}`, () => {
    log(`airprover setup ${id}`);
    run(CLI, ['setup', '--circuit', id, '--out', keys, '--seed', '1']);
  });
  const inputFile = join(BUILD, 'inputs', `${id}.json`);
  if (id.startsWith('square-chain-')) {
    mkdirSync(dirname(inputFile), { recursive: true });
    writeFileSync(inputFile, JSON.stringify({ circuit: id, x0: '3' }));
  } else {
    cached(inputFile, 'sample seed 7', () => run(CLI, ['sample', '--circuit', id, '--out', inputFile, '--seed', '7']));
  }
  return { pk, inputFile, input: JSON.parse(readFileSync(inputFile, 'utf8')) };
}

/**
 * A DEVELOPMENT powers of tau of 2^`power`, already prepared for phase 2, made natively from the
 * fixed seed 1 by examples/dev_ptau.rs in seconds (snarkjs's `powersoftau prepare phase2` alone
 * takes about two hours for 2^18 on 2 cores) and cached. Anyone who knows the seed can forge
 * proofs for the zkeys made from it, which does not matter to a benchmark. Each circuit gets the
 * smallest one its domain fits in.
 */
function ptau(power) {
  if (!existsSync(DEV_PTAU)) throw new Error(`${DEV_PTAU} is missing: cargo build --release --example dev_ptau`);
  const file = join(BUILD, 'ptau', `dev${power}.ptau`);
  cached(file, `dev_ptau ${power} seed 1 ${sha256(DEV_PTAU)}`, () => {
    log(`powers of tau 2^${power}: a DEVELOPMENT one from a fixed seed (examples/dev_ptau.rs; cached in ${dirname(file)})`);
    run(DEV_PTAU, ['--power', String(power), '--out', file, '--seed', '1']);
  });
  return file;
}

/** circom source of the main component for a circuit id. */
function circomMain(id) {
  const chain = /^square-chain-(\d+)$/.exec(id);
  if (chain) {
    return `pragma circom 2.0.0;\ninclude "square_chain.circom";\ncomponent main {public [x0]} = SquareChain(${chain[1]});\n`;
  }
  const claim = /^threshold-d(\d+)-k(\d+)$/.exec(id);
  if (!claim) throw new Error(`no circom reference circuit for ${id}`);
  return (
    'pragma circom 2.0.0;\ninclude "claim.circom";\n' +
    `component main {public [root, campaignId, claimant, nullifier, threshold]} = ThresholdClaim(${claim[1]}, ${claim[2]});\n`
  );
}

function snarkjsInputs(id) {
  const dir = join(BUILD, 'circom', id);
  const main = join(dir, 'main.circom');
  const source = circomMain(id);
  const circuitsDir = join(HERE, 'circuits');
  const stamp = createHash('sha256')
    .update(source)
    .update(readFileSync(join(circuitsDir, 'claim.circom')))
    .update(readFileSync(join(circuitsDir, 'square_chain.circom')))
    .digest('hex');
  const wasm = join(dir, 'main_js/main.wasm');
  const r1cs = join(dir, 'main.r1cs');
  cached(r1cs, stamp, () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(main, source);
    log(`circom2 ${id} (--O2)`);
    // circom2 runs in WASI and sees the working directory only: relative paths from ROOT.
    const rel = (p) => p.slice(ROOT.length + 1);
    const out = run(
      'node',
      [CIRCOM, rel(main), '--O2', '--r1cs', '--wasm', '-o', rel(dir), '-l', rel(circuitsDir), '-l', 'benches/browser/node_modules/circomlib/circuits'],
      { cwd: ROOT },
    );
    writeFileSync(join(dir, 'circom.log'), out);
  });
  const info = run('node', [SNARKJS, 'r1cs', 'info', r1cs]);
  const count = (what) => Number(new RegExp(`# of ${what}: (\\d+)`).exec(info)?.[1]);
  const constraints = count('Constraints');
  // snarkjs's groth16 domain: 2^(floor(log2(constraints + public inputs + outputs)) + 1).
  const power = Math.floor(Math.log2(constraints + count('Public Inputs') + count('Outputs'))) + 1;
  const zkey = join(dir, `${id}.zkey`);
  const ptauFile = ptau(power);
  cached(zkey, `${stamp} ${power}`, () => {
    log(`snarkjs groth16 setup ${id} (powers of tau 2^${power})`);
    run('node', [SNARKJS, 'groth16', 'setup', r1cs, ptauFile, zkey]);
  });
  return { wasm, zkey, constraints };
}

const dec = (x) => BigInt(x).toString();

/** The circom circuit's input for the same statement as an airprover input. */
function circomInput(id, input, publicSignals) {
  if (id.startsWith('square-chain-')) return { x0: dec(input.x0) };
  const claim = /^threshold-d(\d+)-k(\d+)$/.exec(id);
  return circomClaimInput(input, publicSignals[3], Number(claim[1]), Number(claim[2]));
}

// ---------------------------------------------------------------------------------------------
// Timings.

function summary(runs) {
  const warm = runs.slice(1).map((r) => r.totalMs).sort((x, y) => x - y);
  return {
    coldMs: runs[0].totalMs,
    minMs: warm[0],
    medianMs: warm[Math.floor((warm.length - 1) / 2)],
    runs: warm.length,
  };
}

const median = (values) => [...values].sort((x, y) => x - y)[Math.floor((values.length - 1) / 2)];

/**
 * One configuration's rounds as one result: min and median over every round's warm runs, the
 * median cold run and key load, the highest peak memory, busy if any round was.
 */
function mergeRounds(list) {
  const warm = list.flatMap((r) => r.rawRuns.slice(1));
  const merged = { ...list[0], ...summary([list[0].rawRuns[0], ...warm]) };
  merged.coldMs = median(list.map((r) => r.rawRuns[0].totalMs));
  merged.rounds = list.length;
  if (warm[0]?.stages) merged.stages = stageMedians([null, ...warm]);
  for (const field of ['keyLoadMs', 'initMs']) {
    if (Number.isFinite(list[0][field])) merged[field] = median(list.map((r) => r[field]));
  }
  for (const field of ['peakRssBytes', 'wasmMemoryBytes']) {
    if (list[0][field] !== undefined) merged[field] = Math.max(...list.map((r) => r[field] ?? 0));
  }
  merged.cpu = {
    seconds: list.reduce((t, r) => t + r.cpu.seconds, 0),
    otherCores: Math.max(...list.map((r) => r.cpu.otherCores)),
    busy: list.some((r) => r.cpu.busy),
  };
  delete merged.rawRuns;
  return merged;
}

/** Median duration of each stage over the warm runs, from the stage start marks. */
function stageMedians(runs) {
  const per = {};
  for (const r of runs.slice(1)) {
    const marks = [...r.stages, ['end', r.totalMs]];
    for (let i = 0; i + 1 < marks.length; i++) {
      const name = marks[i][0] === 'done' ? 'verify' : marks[i][0];
      (per[name] ??= []).push(marks[i + 1][1] - marks[i][1]);
    }
  }
  return Object.fromEntries(
    Object.entries(per).map(([k, v]) => [k, v.sort((x, y) => x - y)[Math.floor((v.length - 1) / 2)]]),
  );
}

async function nativeBench(id, pk, inputFile, threads, runs) {
  const monitor = new CpuMonitor();
  monitor.start();
  const out = await new Promise((ok, fail) => {
    const child = spawn(NATIVE, ['--key', pk, '--input', inputFile, '--threads', String(threads), '--runs', String(runs)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('exit', (code) => (code === 0 ? ok(JSON.parse(text)) : fail(new Error(`bench_native exited ${code}`))));
  });
  const cpu = monitor.stop();
  return {
    config: threads === 1 ? 'native-1' : threads === CORES ? 'native-all' : `native-${threads}`,
    threads,
    ...summary(out.runs),
    rawRuns: out.runs,
    keyBytes: out.keyBytes,
    keyLoadMs: out.keyLoadMs,
    peakRssBytes: out.peakRssBytes,
    publicSignals: out.publicSignals,
    witness: out.witness,
    cpu,
  };
}

async function withBrowser(server, fn) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await (await browser.newContext()).newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    await page.goto(`${server.url}/bench/page.html`);
    await page.waitForFunction(() => window.benchReady === true && window.snarkjs, null, { timeout: 60_000 });
    const cdp = await browser.newBrowserCDPSession();
    const renderers = async () => {
      const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
      return processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
    };
    const pids = await renderers();
    const monitor = new CpuMonitor();
    monitor.start();
    const rssSampler = setInterval(() => monitor.sampleRss(pids), 250);
    let result;
    try {
      result = await fn(page);
    } finally {
      clearInterval(rssSampler);
    }
    const cpu = monitor.stop();
    const peak = pids.reduce((sum, pid) => sum + peakRss(pid), 0);
    if (problems.length) log(`page problems: ${problems.join('; ')}`);
    return { ...result, rendererPeakRssBytes: peak, cpu };
  } finally {
    await browser.close();
  }
}

async function wasmBench(server, id, key, input, build, runs, threads = CORES) {
  const out = await withBrowser(server, (page) =>
    page.evaluate((args) => window.airproverBench(args), { build, threads, key, input, runs }),
  );
  if (out.build !== build) throw new Error(`asked for the ${build} build, the worker loaded ${out.build}`);
  return {
    config: build === 'single' ? 'wasm-single' : threads === CORES ? 'wasm-threads' : `wasm-threads-${threads}`,
    threads: out.info.threads,
    ...summary(out.runs),
    rawRuns: out.runs,
    keyBytes: key.bytes,
    keyLoadMs: out.keyLoadMs,
    initMs: out.initMs,
    wasmMemoryBytes: out.memoryBytes,
    peakRssBytes: out.rendererPeakRssBytes,
    publicSignals: out.publicSignals,
    cpu: out.cpu,
  };
}

/**
 * rapidsnark on snarkjs's zkey and a witness snarkjs computed (the witness is not timed): one
 * process per proof, as its CLI works, so each time includes reading the zkey (a cold run, then
 * `runs` more). All cores (its own OpenMP threads).
 */
async function rapidsnarkBench(id, files, input, runs) {
  const dir = dirname(files.zkey);
  const { wtns } = witnessFile(files, input);
  const monitor = new CpuMonitor();
  monitor.start();
  const out = [];
  let publicSignals = null;
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    execFileSync(RAPIDSNARK, [files.zkey, wtns, join(dir, 'rs-proof.json'), join(dir, 'rs-public.json')], { stdio: 'ignore' });
    out.push({ totalMs: performance.now() - start });
    publicSignals = JSON.parse(readFileSync(join(dir, 'rs-public.json'), 'utf8'));
  }
  const cpu = monitor.stop();
  const vk = join(dir, 'vk.json');
  if (!existsSync(vk)) execFileSync('node', [SNARKJS, 'zkey', 'export', 'verificationkey', files.zkey, vk], { stdio: 'ignore' });
  const check = execFileSync('node', [SNARKJS, 'groth16', 'verify', vk, join(dir, 'rs-public.json'), join(dir, 'rs-proof.json')], { encoding: 'utf8' });
  if (!check.includes('OK')) throw new Error(`${id}: snarkjs does not verify rapidsnark's proof: ${check}`);
  return {
    config: 'rapidsnark',
    threads: CORES,
    ...summary(out),
    rawRuns: out,
    keyBytes: statSync(files.zkey).size,
    publicSignals,
    cpu,
    constraints: files.constraints,
  };
}

/** The circom input as a file and snarkjs's witness of it (`wtns calculate`), beside the zkey. */
function witnessFile(files, input) {
  const dir = dirname(files.zkey);
  const inputFile = join(dir, 'input.json');
  const wtns = join(dir, 'bench.wtns');
  writeFileSync(inputFile, JSON.stringify(input));
  execFileSync('node', [SNARKJS, 'wtns', 'calculate', files.wasm, inputFile, wtns], { stdio: 'ignore' });
  return { inputFile, wtns };
}

/**
 * airprover's CLI on snarkjs's zkey: `prove --zkey --wtns` (the witness snarkjs computed, as
 * rapidsnark gets it) or, with `fullProve`, `prove --zkey --wasm --input` (circom's witness wasm
 * run natively first). One process per proof, as rapidsnark's: each reads the zkey (its SHA-256
 * is the cache's key) and the converted key from the converted-key cache, made warm by an untimed
 * run first. All cores. The proof is verified by the CLI before it is written.
 */
async function sameKeyNativeBench(id, files, input, runs, fullProve) {
  const dir = dirname(files.zkey);
  const { inputFile, wtns } = witnessFile(files, input);
  const cache = join(BUILD, 'zkey-cache');
  const witness = fullProve ? ['--wasm', files.wasm, '--input', inputFile] : ['--wtns', wtns];
  const proofFile = join(dir, 'ap-proof.json');
  const publicFile = join(dir, 'ap-public.json');
  const args = ['prove', '--zkey', files.zkey, ...witness, '--proof', proofFile, '--public', publicFile, '--zkey-cache', cache];
  // Warm the cache (converts the zkey the first time only).
  execFileSync(CLI, args, { stdio: 'ignore' });
  const monitor = new CpuMonitor();
  monitor.start();
  const out = [];
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    execFileSync(CLI, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    out.push({ totalMs: performance.now() - start });
  }
  const cpu = monitor.stop();
  return {
    config: fullProve ? 'samekey-native-fullprove' : 'samekey-native',
    threads: CORES,
    ...summary(out),
    rawRuns: out,
    keyBytes: statSync(files.zkey).size,
    publicSignals: JSON.parse(readFileSync(publicFile, 'utf8')),
    cpu,
    constraints: files.constraints,
  };
}

/**
 * The same-key page (page.mjs sameKeyBench): airprover's public API and snarkjs's fullProve on
 * the same zkey and witness wasm, interleaved in one page of `build`'s threading. Four results:
 * the two provers' proofs, and circom's witness wasm timed alone on each side. The renderer's
 * peak memory is the page's, both provers together: not given per side.
 */
async function sameKeyBrowserBench(server, id, files, input, build, runs) {
  const url = (p) => `/data/${p.slice(BUILD.length + 1)}`;
  const out = await withBrowser(server, (page) =>
    page.evaluate((args) => window.sameKeyBench(args), {
      build,
      threads: CORES,
      wasmUrl: url(files.wasm),
      zkeyUrl: url(files.zkey),
      input,
      runs,
    }),
  );
  if (out.build !== build) throw new Error(`same key: asked for the ${build} build, the runtime runs ${out.build}`);
  if (JSON.stringify(out.publicSignals) !== JSON.stringify(out.snarkjsPublicSignals)) {
    throw new Error(`${id} same key: airprover's public signals ${out.publicSignals} differ from snarkjs's ${out.snarkjsPublicSignals}`);
  }
  const suffix = build === 'single' ? 'single' : 'threads';
  const threads = build === 'single' ? 1 : out.threads;
  const common = { keyBytes: out.zkeyBytes, cpu: out.cpu, constraints: files.constraints, publicSignals: out.publicSignals };
  const witness = (side) => out.witness.map((w) => ({ totalMs: w[`${side}Ms`] }));
  return [
    { config: `samekey-wasm-${suffix}`, threads, ...summary(out.airprover), rawRuns: out.airprover, keyLoadMs: out.keyLoadMs, ...common },
    { config: `samekey-snarkjs-${suffix}`, threads: build === 'single' ? 1 : CORES, ...summary(out.snarkjs), rawRuns: out.snarkjs, ...common },
    { config: `samekey-witness-airprover-${suffix}`, threads: 1, ...summary(witness('airprover')), rawRuns: witness('airprover'), ...common },
    { config: `samekey-witness-snarkjs-${suffix}`, threads: 1, ...summary(witness('snarkjs')), rawRuns: witness('snarkjs'), ...common },
  ];
}

/** Which rapidsnark: the revisions benches/rapidsnark/build.sh recorded, else 'unknown'. */
function rapidsnarkVersion() {
  const file = join(dirname(RAPIDSNARK), 'REVISION');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : 'unknown';
}

async function snarkjsBench(server, id, files, input, singleThread, runs) {
  const url = (p) => `/data/${p.slice(BUILD.length + 1)}`;
  const out = await withBrowser(server, (page) =>
    page.evaluate((args) => window.snarkjsBench(args), {
      wasmUrl: url(files.wasm),
      zkeyUrl: url(files.zkey),
      input,
      runs,
      singleThread,
    }),
  );
  return {
    config: singleThread ? 'snarkjs-single' : 'snarkjs-threads',
    threads: singleThread ? 1 : CORES,
    ...summary(out.runs),
    rawRuns: out.runs,
    keyBytes: out.zkeyBytes,
    keyLoadMs: out.keyLoadMs,
    peakRssBytes: out.rendererPeakRssBytes,
    publicSignals: out.publicSignals,
    cpu: out.cpu,
    constraints: files.constraints,
  };
}

// ---------------------------------------------------------------------------------------------

/** BENCH_RENDER_ONLY=1: README.md's `## Speed` and the chart again from target/bench/browser.json. */
function renderOnly() {
  const doc = JSON.parse(readFileSync(join(ROOT, 'target/bench/browser.json'), 'utf8'));
  console.log(renderTables(doc));
  writeFileSync(join(ROOT, 'docs/bench-speed.svg'), renderChart(doc));
  const readme = join(ROOT, 'README.md');
  writeFileSync(readme, renderReadme(readFileSync(readme, 'utf8'), doc));
  log('rewrote docs/bench-speed.svg and the `## Speed` section of README.md from target/bench/browser.json');
}

async function main() {
  if (process.env.BENCH_RENDER_ONLY === '1') return renderOnly();
  const started = Date.now();
  for (const f of [CLI, NATIVE]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`make bench-browser\` (it builds it)`);
  }
  for (const f of ['pkg/prover-worker.js', 'pkg/threads/airprover_bg.wasm', 'pkg/single/airprover_bg.wasm']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`make build\``);
  }
  const server = await startServer({
    isolated: true,
    mounts: {
      '/pkg/': join(ROOT, 'pkg'),
      '/bench/': HERE,
      '/snarkjs/': join(HERE, 'node_modules/snarkjs/build'),
      '/data/': BUILD,
    },
  });
  const results = [];
  const add = (row, r) => {
    row.configs.push(r);
    // Saved as it goes, so that an interrupted run keeps what it measured.
    mkdirSync(join(ROOT, 'target/bench'), { recursive: true });
    writeFileSync(join(ROOT, 'target/bench/browser.partial.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + '\n');
    log(`${row.circuit} ${r.config}: median ${(r.medianMs / 1e3).toFixed(3)} s, min ${(r.minMs / 1e3).toFixed(3)} s, cold ${(r.coldMs / 1e3).toFixed(3)} s over ${r.rounds} rounds${r.cpu.busy ? ' (machine busy)' : ''}`);
  };
  const runs = Number(process.env.BENCH_RUNS ?? 2);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const builds = (process.env.BENCH_BUILDS ?? 'single,threaded').split(',');
  try {
    for (const id of circuits) {
      // Every input first (snarkjs's zkey can take minutes the first time), then the timings.
      const { pk, inputFile, input } = airproverInputs(id);
      const constraints = JSON.parse(readFileSync(join(BUILD, 'keys/manifest.json'), 'utf8')).circuits.find((c) => c.id === id)?.constraints;
      const row = { circuit: id, constraints, configs: [], input };
      results.push(row);
      const snark = only.has('snarkjs') && snarkjsCircuits.has(id) ? snarkjsInputs(id) : null;
      const sameKey = only.has('samekey') && sameKeyCircuits.has(id) ? (snark ?? snarkjsInputs(id)) : null;
      if (snark ?? sameKey) row.snarkjsConstraints = (snark ?? sameKey).constraints;
      const key = { url: `/data/keys/${id}.pk`, sha256: sha256(pk), bytes: statSync(pk).size, development: true };
      // The public signals every configuration must reproduce: the first run's (airprover's).
      let expected = null;
      const agree = (r) => {
        // snarkjs lists the square chain's output y first (as does everything proving circom's).
        const circom = r.config.startsWith('snarkjs') || r.config === 'rapidsnark' || r.config.startsWith('samekey');
        const signals = circom && id.startsWith('square-chain-') ? [r.publicSignals[1], r.publicSignals[0]] : r.publicSignals;
        expected ??= signals;
        if (JSON.stringify(signals) !== JSON.stringify(expected)) {
          throw new Error(`${id} ${r.config}: public signals ${signals} differ from ${expected}`);
        }
        return r;
      };
      // Rounds, each measuring every configuration once, an airprover build just before
      // snarkjs's with the same threading: a machine whose speed drifts over the minutes of a
      // run (shared hosts do) moves both sides of a ratio alike.
      const measured = new Map();
      const keep = (r) => {
        if (!measured.has(r.config)) measured.set(r.config, []);
        measured.get(r.config).push(r);
        log(`${id} ${r.config} round ${measured.get(r.config).length}: median ${(r.medianMs / 1e3).toFixed(3)} s, cold ${(r.coldMs / 1e3).toFixed(3)} s${r.cpu.busy ? ' (machine busy)' : ''}`);
      };
      for (let round = 0; round < rounds; round++) {
        if (only.has('native')) {
          for (const threads of SCALED) keep(agree(await nativeBench(id, pk, inputFile, threads, runs)));
          if ((snark ?? sameKey) && existsSync(RAPIDSNARK)) {
            keep(agree(await rapidsnarkBench(id, snark ?? sameKey, circomInput(id, row.input, expected), runs)));
          }
          if (sameKey) {
            // Right after rapidsnark, on its zkey and witness: the native same-key rows.
            for (const fullProve of [false, true]) {
              keep(agree(await sameKeyNativeBench(id, sameKey, circomInput(id, row.input, expected), runs, fullProve)));
            }
          }
        }
        // The threaded build on smaller pools, for the scaling table (its all-cores run is below).
        if (only.has('wasm') && builds.includes('threaded')) {
          for (const threads of SCALED.filter((t) => t < CORES)) {
            keep(agree(await wasmBench(server, id, key, input, 'threaded', runs, threads)));
          }
        }
        for (const build of builds) {
          if (only.has('wasm')) keep(agree(await wasmBench(server, id, key, input, build, runs)));
          if (snark) {
            if (!expected) throw new Error('snarkjs needs the public signals of an airprover run (BENCH_ONLY without native or wasm)');
            const circom = circomInput(id, row.input, expected);
            keep(agree(await snarkjsBench(server, id, snark, circom, build === 'single', runs)));
          }
          if (sameKey) {
            if (!expected) throw new Error('the same-key rows need the public signals of an airprover run (BENCH_ONLY without native or wasm)');
            const circom = circomInput(id, row.input, expected);
            for (const r of await sameKeyBrowserBench(server, id, sameKey, circom, build, runs)) keep(agree(r));
          }
        }
      }
      for (const list of measured.values()) add(row, mergeRounds(list));
    }
    for (const row of results) {
      delete row.input;
      for (const c of row.configs) delete c.publicSignals;
    }
  } finally {
    await server.close();
  }

  const doc = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: CORES, loadavgAtEnd: loadavg() },
    threads: { measured: SCALED, notMeasured: NOT_SCALED },
    chromium: execFileSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    snarkjs: JSON.parse(readFileSync(join(HERE, 'node_modules/snarkjs/package.json'), 'utf8')).version,
    nativeBuild: 'release, portable x86-64 (no bmi2/adx assembly)',
    statistic: 'min and median of the warm runs after a cold one, over every round',
    rounds,
    runsPerRound: runs,
    totalSeconds: (Date.now() - started) / 1e3,
    snarkjsSkipped: only.has('snarkjs') ? circuits.filter((id) => !snarkjsCircuits.has(id)) : circuits,
    sameKeyCircuits: only.has('samekey') ? circuits.filter((id) => sameKeyCircuits.has(id)) : [],
    rapidsnark: existsSync(RAPIDSNARK) ? rapidsnarkVersion() : null,
    results,
  };
  mkdirSync(join(ROOT, 'target/bench'), { recursive: true });
  writeFileSync(join(ROOT, 'target/bench/browser.json'), JSON.stringify(doc, null, 2) + '\n');
  console.log(renderTables(doc));
  log(`written to target/bench/browser.json (${doc.totalSeconds.toFixed(0)} s)`);
  if (process.env.BENCH_NO_README !== '1' && circuits.length === 3 && ['native', 'wasm', 'snarkjs', 'samekey'].every((o) => only.has(o))) {
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    writeFileSync(join(ROOT, 'docs/bench-speed.svg'), renderChart(doc));
    const readme = join(ROOT, 'README.md');
    const before = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
    writeFileSync(readme, renderReadme(before, doc));
    log('updated docs/bench-speed.svg and the `## Speed` section of README.md');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
