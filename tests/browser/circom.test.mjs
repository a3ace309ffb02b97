// circom circuits through the runtime in a real Chromium, in both wasm builds: a format-2
// manifest lists the shared circom fixtures (`multi`, `arrays`, `assert`: snarkjs's zkey, circom's
// witness wasm, snarkjs's verification key); `prover.submit({ circuit, input })` downloads and
// converts the zkey, runs the witness wasm in the worker and proves; snarkjs's own browser bundle
// verifies the proof in the same page. Bad inputs are refused by signal name, never by value; a
// repeated input is a proof cache hit filed under a keyed hash, not a plain hash of the input. A
// ready witness (the fixture's witness.wtns) proves through `{ circuit, wtns }` and through
// airprover/snarkjs's `groth16.prove(zkey, wtns)`; another circuit's witness is ZKEY_MISMATCH, a
// truncated one INVALID_INPUT.
// Then the proofs of both builds go on-chain: the verifier snarkjs exported from each fixture's
// zkey (verifier.sol), on a real anvil, accepts them with the calldata the package's
// `solidityCalldata` wrote (snarkjs's own, character for character) and refuses each public
// signal changed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { startAnvil } from '../../contracts/lib/anvil.mjs';
import { parseCalldata } from '../../contracts/lib/airprover.mjs';
import { connect } from '../../contracts/lib/chain.mjs';
import { deploySnarkjsVerifier, withSignalChanged } from '../../contracts/lib/circom-verifier.mjs';
import { circomFixture } from '../interop/circom-fixtures.mjs';
import { launch, openPage } from './support/browser.mjs';
import { ROOT } from './support/fixture.mjs';
import { startServer } from './support/server.mjs';

const CIRCUITS = ['multi', 'arrays', 'assert'];
const MANIFEST_DIR = join(ROOT, 'target/browser-fixture/circom');

let browser;
let server;
const fixtures = {};

/** A format-2 manifest of the fixtures, its names relative to the manifest's own URL. */
function writeManifest(fixturesDir) {
  const file = (path) => {
    const bytes = readFileSync(path);
    return {
      name: `../fixtures/${relative(fixturesDir, path)}`,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  };
  const circuits = CIRCUITS.map((id) => ({
    id,
    kind: 'circom',
    zkey: file(fixtures[id].zkey),
    wasm: file(fixtures[id].wasm),
    verifyingKey: file(fixtures[id].vkey),
  }));
  mkdirSync(MANIFEST_DIR, { recursive: true });
  writeFileSync(join(MANIFEST_DIR, 'manifest.json'), JSON.stringify({ format: 2, circuits }, null, 1));
}

before(async () => {
  for (const name of CIRCUITS) fixtures[name] = await circomFixture(name);
  const fixturesDir = join(fixtures.multi.dir, '..');
  writeManifest(fixturesDir);
  browser = await launch();
  server = await startServer({
    isolated: true,
    mounts: {
      '/pkg/': join(ROOT, 'pkg'),
      '/circom/': MANIFEST_DIR,
      '/fixtures/': fixturesDir,
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

// The field's modulus: a value at or above it is refused (snarkjs would reduce it).
const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

for (const build of ['threaded', 'single']) {
  test(`circom jobs in the ${build} build: proofs snarkjs verifies, bad inputs by name, the keyed proof cache`, async () => {
    const page = await openPage(browser, `${server.url}/page.html`);
    await page.addScriptTag({ url: '/snarkjs/snarkjs.min.js' });
    const inputs = Object.fromEntries(CIRCUITS.map((c) => [c, json(fixtures[c].input)]));
    const vkeys = Object.fromEntries(CIRCUITS.map((c) => [c, json(fixtures[c].vkey)]));
    const secretValue = '987654321987654321987';
    const overP = (P + 4242n).toString();
    const out = await page.evaluate(
      async ({ build, inputs, vkeys, secretValue, overP }) => {
        const prover = await airprover.createProver({ manifestUrl: '/circom/manifest.json', build });
        const run = async (circuit, input) => {
          const seen = [];
          const t0 = performance.now();
          const result = await prover.submit({ circuit, input }, { onProgress: (p) => seen.push({ ...p }) }).result;
          return { result, ms: performance.now() - t0, stages: seen.map((p) => p.stage), cached: seen.at(-1).cached };
        };
        const refusal = async (circuit, input) => {
          try {
            await prover.submit({ circuit, input }).result;
            return { code: 'no error' };
          } catch (e) {
            return { code: e.code, message: e.message };
          }
        };
        const jobs = {};
        for (const circuit of ['multi', 'arrays']) {
          const job = await run(circuit, inputs[circuit]);
          job.verified = await snarkjs.groth16.verify(vkeys[circuit], job.result.publicSignals, job.result.proof);
          job.calldata = airprover.solidityCalldata(job.result.proof, job.result.publicSignals).text;
          job.snarkjsCalldata = await snarkjs.groth16.exportSolidityCallData(job.result.proof, job.result.publicSignals);
          jobs[circuit] = job;
        }
        // The same input again, its keys in another order: the proof cache answers.
        const again = await run('multi', Object.fromEntries(Object.entries(inputs.multi).reverse()));
        const { offset: _, ...rest } = inputs.multi;
        const errors = {
          unknownSignal: await refusal('multi', { ...rest, offzet: secretValue }),
          overP: await refusal('multi', { ...inputs.multi, offset: overP }),
          missing: await refusal('multi', rest),
          assert: await refusal('assert', { x: 0 }),
        };
        // What the proof cache holds: keys, never the input.
        const db = await new Promise((ok, fail) => {
          const r = indexedDB.open('airprover');
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
        const records = await new Promise((ok, fail) => {
          const r = db.transaction('proofs').objectStore('proofs').getAll();
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
        db.close();
        const hex = async (text) =>
          Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))), (b) =>
            b.toString(16).padStart(2, '0'),
          ).join('');
        const plainHashes = await Promise.all(
          [JSON.stringify(inputs.multi), JSON.stringify(inputs.multi, null, 1), JSON.stringify({ circuit: 'multi', input: inputs.multi })].map(hex),
        );
        const status = prover.status.value;
        const stats = prover.cacheStats.value;
        prover.terminate();
        return { jobs, again, errors, records, plainHashes, build: status.build, hits: stats.hits };
      },
      { build, inputs, vkeys, secretValue, overP },
    );
    const wtns = await page.evaluate(
      async ({ build, vkeys }) => {
        // A ready witness (snarkjs's witness.wtns), through the runtime's `{ circuit, wtns }` and
        // through airprover/snarkjs's groth16.prove(zkey, wtns) (which picks the build itself).
        const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
        const multiWtns = await bytes('/fixtures/multi/witness.wtns');
        const arraysWtns = await bytes('/fixtures/arrays/witness.wtns');
        // The stored conversion of multi's zkey (made above) cut short: the new workers find it
        // unreadable and convert the zkey again (answers::load_converted_key), storing it whole.
        const manifest = await (await fetch('/circom/manifest.json')).json();
        const conversion = `circom-converted:${manifest.circuits.find((c) => c.id === 'multi').zkey.sha256}`;
        const keys = async (write) => {
          const db = await new Promise((ok, fail) => {
            const r = indexedDB.open('airprover');
            r.onsuccess = () => ok(r.result);
            r.onerror = () => fail(r.error);
          });
          try {
            return await new Promise((ok, fail) => {
              const tx = db.transaction('keys', write ? 'readwrite' : 'readonly');
              const r = write ? tx.objectStore('keys').put(write) : tx.objectStore('keys').get(conversion);
              tx.oncomplete = () => ok(r.result);
              tx.onerror = () => fail(tx.error);
            });
          } finally {
            db.close();
          }
        };
        const whole = await keys();
        await keys({ ...whole, bytes: whole.bytes.slice(0, whole.bytes.length >> 1) });
        const prover = await airprover.createProver({ manifestUrl: '/circom/manifest.json', build, storage: { proofCache: false } });
        const refusal = async (job) => {
          try {
            await prover.submit(job).result;
            return { code: 'no error' };
          } catch (e) {
            return { code: e.code, message: e.message };
          }
        };
        const stages = [];
        const runtime = await prover.submit({ circuit: 'multi', wtns: multiWtns }, { onProgress: (p) => stages.push(p.stage) }).result;
        runtime.verified = await snarkjs.groth16.verify(vkeys.multi, runtime.publicSignals, runtime.proof);
        const reconverted = await keys();
        const conversionAgain = { before: whole.bytes.length, after: reconverted.bytes.length };
        const errors = {
          otherCircuit: await refusal({ circuit: 'multi', wtns: arraysWtns }),
          truncated: await refusal({ circuit: 'multi', wtns: multiWtns.slice(0, multiWtns.length - 40) }),
          notWtns: await refusal({ circuit: 'multi', wtns: new TextEncoder().encode('{"not":"a wtns"}') }),
          notBytes: await refusal({ circuit: 'multi', wtns: 'witness.wtns' }),
          extraField: await refusal({ circuit: 'multi', wtns: multiWtns, input: {} }),
        };
        prover.terminate();
        const dropIn = await import('/pkg/snarkjs.js');
        const fromUrls = await dropIn.groth16.prove('/fixtures/arrays/circuit.zkey', '/fixtures/arrays/witness.wtns');
        fromUrls.verified = await snarkjs.groth16.verify(vkeys.arrays, fromUrls.publicSignals, fromUrls.proof);
        const fromBytes = await dropIn.groth16.prove(await bytes('/fixtures/arrays/circuit.zkey'), arraysWtns.buffer);
        const dropInRefusal = async (zkey, wtns) => {
          try {
            await dropIn.groth16.prove(zkey, wtns);
            return null;
          } catch (e) {
            return { name: e.name, code: e.code, message: e.message, retryable: e.retryable };
          }
        };
        const dropInError = await dropInRefusal('/fixtures/arrays/circuit.zkey', multiWtns);
        // A file the server does not have: coded by the runtime from the raw status.
        const dropInMissing = await dropInRefusal('/fixtures/arrays/missing.zkey', multiWtns);
        await dropIn.terminate();
        return { runtime, stages, conversionAgain, errors, fromUrls, fromBytes, dropInError, dropInMissing };
      },
      { build, vkeys },
    );
    // The browser itself logs the fetch of the missing zkey; nothing else may be logged.
    assert.deepEqual(
      page.problems.filter((m) => !(m.includes('404') && m.includes('/fixtures/arrays/missing.zkey'))),
      [],
    );
    await page.context().close();
    assert.equal(out.build, build);

    for (const circuit of ['multi', 'arrays']) {
      const job = out.jobs[circuit];
      assert.equal(job.verified, true, `${circuit}: snarkjs verifies the proof`);
      assert.deepEqual(job.result.publicSignals, json(fixtures[circuit].public), `${circuit}: snarkjs's public signals`);
      assert.equal(job.cached, false);
      assert.equal(job.calldata, job.snarkjsCalldata, `${circuit}: solidityCalldata is snarkjs's`);
      proofsByBuild[build] = { ...proofsByBuild[build], [circuit]: { calldata: job.calldata, publicSignals: job.result.publicSignals } };
      for (const stage of ['download', 'convert', 'witness', 'proving']) {
        assert.ok(job.stages.includes(stage), `${circuit}: stage ${stage} in ${job.stages.join()}`);
      }
      const order = ['download', 'convert', 'witness', 'proving'].map((s) => job.stages.indexOf(s));
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `${circuit}: stages in order: ${job.stages.join()}`);
      console.log(`${build} ${circuit}: proved in ${job.ms.toFixed(0)} ms (${job.stages.filter((s, i, a) => s !== a[i - 1]).join(' > ')})`);
    }

    assert.equal(out.again.cached, true, 'the repeated input is answered from the proof cache');
    assert.ok(out.hits >= 1);
    assert.deepEqual(out.again.result.publicSignals, out.jobs.multi.result.publicSignals);

    const { unknownSignal, overP: tooBig, missing, assert: failed } = out.errors;
    assert.equal(unknownSignal.code, 'INVALID_INPUT', JSON.stringify(unknownSignal));
    assert.match(unknownSignal.message, /offzet/);
    assert.equal(tooBig.code, 'INVALID_INPUT', JSON.stringify(tooBig));
    assert.match(tooBig.message, /offset/);
    // The witness wasm knows its signals by hash only: a missing one is counted, not named.
    assert.equal(missing.code, 'INVALID_INPUT', JSON.stringify(missing));
    assert.match(missing.message, /a signal is missing/);
    for (const e of [unknownSignal, tooBig, missing]) {
      assert.ok(!e.message.includes(secretValue) && !e.message.includes(overP), `no value in: ${e.message}`);
      assert.ok(!e.message.includes('12345678901234567890'), `no other signal's value in: ${e.message}`);
    }
    assert.equal(failed.code, 'WITNESS_FAILED', JSON.stringify(failed));
    assert.match(failed.message, /NonZero/, "circom's own message names the template");

    const multi = out.records.filter((r) => r.circuit === 'multi');
    assert.equal(multi.length, 1, 'one cached proof of multi');
    assert.match(multi[0].key, /^[0-9a-f]{64}$/);
    for (const h of out.plainHashes) assert.notEqual(multi[0].key, h, 'the key is not a plain hash of the input');
    const stored = JSON.stringify(out.records);
    assert.ok(!stored.includes('12345678901234567890'), 'the input is not in the proof cache');
    keysByBuild[build] = multi[0].key;

    // A ready witness: proved without the witness wasm, the same public signals as snarkjs's.
    assert.equal(wtns.runtime.verified, true, 'snarkjs verifies the proof of witness.wtns');
    assert.deepEqual(wtns.runtime.publicSignals, json(fixtures.multi.public));
    // (Its `witness` progress is the prover's constraint check, as for a claim: no witness wasm runs.)
    assert.ok(wtns.stages.includes('proving') && wtns.stages.at(-1) === 'done', wtns.stages.join());
    assert.ok(wtns.stages.includes('convert'), `an unreadable stored conversion is converted again: ${wtns.stages.join()}`);
    assert.deepEqual(wtns.conversionAgain.after, wtns.conversionAgain.before, 'and stored whole again');
    const { otherCircuit, truncated, notWtns, notBytes, extraField } = wtns.errors;
    assert.equal(otherCircuit.code, 'ZKEY_MISMATCH', JSON.stringify(otherCircuit));
    for (const bad of [truncated, notWtns, notBytes, extraField]) assert.equal(bad.code, 'INVALID_INPUT', JSON.stringify(bad));
    assert.match(truncated.message, /wtns/);
    assert.match(notBytes.message, /Uint8Array/);
    assert.equal(wtns.fromUrls.verified, true, 'snarkjs verifies groth16.prove(zkey, wtns)');
    assert.deepEqual(wtns.fromUrls.publicSignals, json(fixtures.arrays.public));
    assert.deepEqual(Object.keys(wtns.fromUrls).sort(), ['proof', 'publicSignals', 'verified']);
    assert.deepEqual(wtns.fromBytes.publicSignals, json(fixtures.arrays.public));
    assert.equal(wtns.dropInError?.code, 'ZKEY_MISMATCH', JSON.stringify(wtns.dropInError));
    assert.equal(wtns.dropInMissing?.code, 'KEY_NOT_FOUND', JSON.stringify(wtns.dropInMissing));
    assert.equal(wtns.dropInMissing.name, 'AirproverError');
    assert.equal(wtns.dropInMissing.retryable, false);
    assert.match(wtns.dropInMissing.message, /zkey .*missing\.zkey: HTTP 404/);
  });
}

const keysByBuild = {};
/** build -> circuit -> { calldata, publicSignals } of the proofs made above. */
const proofsByBuild = {};

test('the cache key is keyed per origin storage: the same input in a fresh profile files under another key', () => {
  assert.ok(keysByBuild.threaded && keysByBuild.single, 'both builds ran');
  assert.notEqual(keysByBuild.threaded, keysByBuild.single);
});

test("the browser's proofs verify on anvil with the verifier snarkjs exported from the zkey", async () => {
  assert.ok(proofsByBuild.threaded && proofsByBuild.single, 'both builds ran');
  const anvil = await startAnvil();
  try {
    const chain = connect(anvil.url, anvil.devKeys[0]);
    for (const circuit of ['multi', 'arrays']) {
      const { verifyProof } = await deploySnarkjsVerifier(chain, fixtures[circuit].verifier, `${circuit}/verifier.sol`);
      for (const build of ['threaded', 'single']) {
        const { calldata, publicSignals } = proofsByBuild[build][circuit];
        assert.deepEqual(publicSignals, json(fixtures[circuit].public), `${build} ${circuit}: snarkjs's public signals`);
        const args = parseCalldata(calldata);
        assert.equal(await verifyProof(args), true, `${build} ${circuit}: accepted on-chain`);
        for (let i = 0; i < args[3].length; i++) {
          assert.equal(await verifyProof(withSignalChanged(args, i)), false, `${build} ${circuit}: public signal ${i} changed`);
        }
      }
    }
  } finally {
    await anvil.stop();
  }
});
