// Damaged zkeys through the runtime in a real Chromium, in both wasm builds (issue 30: "each
// corrupted zkey gives its code, no panic, in all three runtimes"; the native CLI's are
// tests/zkey.rs). A format-2 manifest lists, beside the good `multi`, one circuit per damage of
// its zkey (support/zkey-damage.mjs: a flipped byte in each of sections 1-9, truncations, a point
// off the curve), each pinned to the damaged file's own SHA-256, so that the download passes and
// the worker's conversion (`convertZkey`) is what refuses it; the fixture's PLONK zkey; `arrays`'
// zkey with `multi`'s witness wasm (ZKEY_MISMATCH); and a damaged file served where the good one
// is pinned (KEY_INTEGRITY: the SHA-256 check catches it before any conversion). Every job ends
// with its code in a typed error, never a trap ('unreachable', RuntimeError), no worker dies,
// and the same worker then proves a zkey whose unread contributions section is flipped and the
// good one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { circomFixture } from '../interop/circom-fixtures.mjs';
import { launch, openPage } from './support/browser.mjs';
import { ROOT } from './support/fixture.mjs';
import { startServer } from './support/server.mjs';
import { contributionFlipped, damagedZkeys } from './support/zkey-damage.mjs';

const DAMAGE_DIR = join(ROOT, 'target/browser-fixture/zkey-damage');

let browser;
let server;
let multi;
let arrays;
/** [{ circuit, code, says }]: each damaged circuit of the manifest and what it must answer. */
const refusals = [];

/**
 * A manifest entry's file, pinned to `bytes`: `name` relative to the manifest's URL (/damage/), a
 * fixture's under /fixtures/.
 */
function pinned(path, bytes = readFileSync(path)) {
  const fixtures = join(multi.dir, '..');
  return {
    name: path.startsWith(DAMAGE_DIR) ? relative(DAMAGE_DIR, path) : `../fixtures/${relative(fixtures, path)}`,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

before(async () => {
  multi = await circomFixture('multi');
  arrays = await circomFixture('arrays');
  rmSync(DAMAGE_DIR, { recursive: true, force: true });
  mkdirSync(DAMAGE_DIR, { recursive: true });
  const good = new Uint8Array(readFileSync(multi.zkey));
  const write = (name, bytes) => {
    const path = join(DAMAGE_DIR, `${name}.zkey`);
    writeFileSync(path, bytes);
    return path;
  };
  const circom = (id, zkey, { wasm = multi.wasm, vkey = multi.vkey } = {}) => ({
    id,
    kind: 'circom',
    zkey,
    wasm: pinned(wasm),
    verifyingKey: pinned(vkey),
  });
  const circuits = [circom('multi', pinned(multi.zkey))];
  for (const d of damagedZkeys(good)) {
    circuits.push(circom(`multi-${d.name}`, pinned(write(d.name, d.bytes))));
    refusals.push({ circuit: `multi-${d.name}`, code: d.code, says: d.says });
  }
  circuits.push(circom('multi-plonk', pinned(multi.plonk)));
  refusals.push({ circuit: 'multi-plonk', code: 'ZKEY_UNSUPPORTED', says: /plonk/ });
  circuits.push(circom('multi-wtns', pinned(multi.wtns)));
  refusals.push({ circuit: 'multi-wtns', code: 'ZKEY_CORRUPT', says: /./ });
  // arrays' zkey, multi's witness: a witness of another length.
  circuits.push(circom('arrays-with-multi-wasm', pinned(arrays.zkey), { vkey: arrays.vkey }));
  refusals.push({ circuit: 'arrays-with-multi-wasm', code: 'ZKEY_MISMATCH', says: /./ });
  // A damaged file where the good one is pinned: refused by its SHA-256, before conversion.
  circuits.push(circom('multi-swapped', { ...pinned(multi.zkey), name: 's5-point.zkey' }));
  refusals.unshift({ circuit: 'multi-swapped', code: 'KEY_INTEGRITY', says: /./ });
  circuits.push(circom('multi-contributions', pinned(write('s10-contributions', contributionFlipped(good)))));
  writeFileSync(join(DAMAGE_DIR, 'manifest.json'), JSON.stringify({ format: 2, circuits }, null, 1));

  browser = await launch();
  server = await startServer({
    isolated: true,
    mounts: {
      '/pkg/': join(ROOT, 'pkg'),
      '/damage/': DAMAGE_DIR,
      '/fixtures/': join(multi.dir, '..'),
      '/snarkjs/': join(ROOT, 'tests/interop/node_modules/snarkjs/build'),
      '/': import.meta.dirname,
    },
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const json = (path) => JSON.parse(readFileSync(path, 'utf8'));

for (const build of ['threaded', 'single']) {
  test(`damaged zkeys in the ${build} build: each its code, no trap, and the worker proves afterwards`, async () => {
    const page = await openPage(browser, `${server.url}/page.html`);
    await page.addScriptTag({ url: '/snarkjs/snarkjs.min.js' });
    const started = Date.now();
    const out = await page.evaluate(
      async ({ build, circuits, input, vkey }) => {
        // No retries: KEY_INTEGRITY is retryable (a download again), the ZKEY_ codes are not.
        const prover = await airprover.createProver({ manifestUrl: '/damage/manifest.json', build, maxRetries: 0 });
        const outcome = async (circuit) => {
          try {
            const { proof, publicSignals } = await prover.submit({ circuit, input }).result;
            return { circuit, publicSignals, verified: await snarkjs.groth16.verify(vkey, publicSignals, proof) };
          } catch (e) {
            return { circuit, name: e.name, code: e.code, message: e.message, stack: String(e.stack ?? '') };
          }
        };
        const results = [];
        // In order: the swapped file first, before the good zkey's converted key is cached under
        // the SHA-256 it carries; the good jobs last, on the worker that refused the rest.
        for (const circuit of [...circuits, 'multi-contributions', 'multi']) results.push(await outcome(circuit));
        const audit = prover.auditLog().map(({ kind, circuit, attempt, code }) => ({ kind, circuit, attempt, code }));
        const workers = prover.workerCount();
        prover.terminate();
        return { results, audit, workers, build: prover.status.value.build };
      },
      { build, circuits: refusals.map((r) => r.circuit), input: json(multi.input), vkey: json(multi.vkey) },
    );
    const ms = Date.now() - started;
    assert.deepEqual(page.problems, []);
    await page.context().close();
    assert.equal(out.build, build);

    const byCircuit = Object.fromEntries(out.results.map((r) => [r.circuit, r]));
    for (const { circuit, code, says } of refusals) {
      const r = byCircuit[circuit];
      assert.equal(r.code, code, `${circuit}: ${JSON.stringify(r)}`);
      assert.equal(r.name, 'AirproverError', circuit);
      assert.match(r.message, says, circuit);
      assert.ok(r.message.startsWith(`${code}: `), `${circuit}: ${r.message}`);
      assert.ok(!r.message.startsWith(`${code}: ${code}`), `${circuit}: the code once: ${r.message}`);
      for (const trap of ['unreachable', 'RuntimeError', 'panicked']) {
        assert.ok(!r.message.includes(trap) && !r.stack.includes(trap), `${circuit}: ${trap} in ${r.message}`);
      }
    }
    for (const circuit of ['multi-contributions', 'multi']) {
      const r = byCircuit[circuit];
      assert.equal(r.verified, true, `${circuit}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.publicSignals, json(multi.public), `${circuit}: snarkjs's public signals`);
    }
    // One attempt each, no worker lost.
    assert.deepEqual(out.audit.filter((e) => ['worker-crashed', 'retried', 'internal'].includes(e.kind)), []);
    const failed = out.audit.filter((e) => e.kind === 'failed');
    assert.deepEqual(failed.map((e) => [e.circuit, e.code]), refusals.map((r) => [r.circuit, r.code]));
    assert.equal(out.workers, 1);
    console.log(`${build}: ${refusals.length} damaged zkeys refused, 2 proved, in ${ms} ms`);
  });
}
