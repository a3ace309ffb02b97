// A proof made in Chromium by each wasm build, checked by real peers: the native CLI's verifier
// (tests/interop's hook) and the airdrop contract on anvil (contracts/'s hook), both run as they
// run in their own suites, pointed at the browser's output with AIRPROVER_BROWSER_PROOF.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { launch, openPage } from './support/browser.mjs';
import { CIRCUIT, CLI, ROOT, fixture } from './support/fixture.mjs';
import { startServer } from './support/server.mjs';

let browser;
let fx;
let server;

before(async () => {
  fx = fixture([CIRCUIT]);
  browser = await launch();
  server = await startServer({
    isolated: true,
    mounts: { '/pkg/': join(ROOT, 'pkg'), '/keys/': join(fx.dir, 'keys'), '/': import.meta.dirname },
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Proves the fixture claim in the page with `build`; writes the hook directory; returns it. */
async function browserProof(build) {
  const page = await openPage(browser, `${server.url}/page.html`);
  const out = await page.evaluate(
    async ({ claim, build }) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', build });
      const result = await prover.submit(claim).result;
      const status = prover.status.value;
      prover.terminate();
      return { ...result, build: status.build };
    },
    { claim: fx.claims[CIRCUIT], build },
  );
  assert.deepEqual(page.problems, []);
  await page.context().close();
  assert.equal(out.build, build === 'single' ? 'single' : 'threaded');
  const dir = join(ROOT, 'target', 'browser-proof', build);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'proof.json'), JSON.stringify(out.proof, null, 1));
  writeFileSync(join(dir, 'public.json'), JSON.stringify(out.publicSignals, null, 1));
  writeFileSync(join(dir, 'circuit'), `${CIRCUIT}\n`);
  cpSync(join(fx.dir, 'keys'), join(dir, 'keys'), { recursive: true });
  return dir;
}

function withoutTestContext(env) {
  const { NODE_TEST_CONTEXT: _, ...rest } = env;
  return rest;
}

/** Runs one test file of another suite with the hook variable set; fails unless it passed. */
function runHook(suiteDir, file, proofDir) {
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], {
    cwd: join(ROOT, suiteDir),
    // Without the parent runner's NODE_TEST_CONTEXT, the child runs as a suite of its own.
    env: { ...withoutTestContext(process.env), AIRPROVER_BROWSER_PROOF: proofDir },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, output);
  assert.match(output, /ℹ pass 1/, output);
  assert.match(output, /ℹ skipped 0/, output);
  return output;
}

for (const build of ['threaded', 'single']) {
  test(`a proof made by the ${build} build verifies with the native CLI`, async () => {
    const dir = await browserProof(build);
    runHook('tests/interop', 'browser.test.mjs', dir);
  });
}

test('a proof made in the browser claims tokens on anvil (development keys)', async () => {
  const dir = await browserProof('threaded');
  const output = runHook('contracts', 'test/browser.test.mjs', dir);
  console.log(output.split('\n').find((l) => l.includes('claimed in')) ?? '');
});

test("the package's solidityVerifier and solidityCalldata give what the CLI writes", async () => {
  const dir = await browserProof('single');
  const page = await openPage(browser, `${server.url}/page.html`);
  const out = await page.evaluate(
    async ({ circuit, proof, publicSignals }) => {
      await airprover.init();
      const vk = new Uint8Array(await (await fetch(`/keys/${circuit}.vk`)).arrayBuffer());
      const calldata = airprover.solidityCalldata(proof, publicSignals);
      const fromText = airprover.solidityCalldata(JSON.stringify(proof), JSON.stringify(publicSignals));
      const dec = (v) => (Array.isArray(v) ? v.map(dec) : typeof v === 'bigint' ? v.toString() : `not a bigint: ${v}`);
      const codeOf = (f) => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return e.code;
        }
      };
      const offCurve = { ...proof, pi_a: [proof.pi_a[0], (BigInt(proof.pi_a[1]) + 1n).toString(), '1'] };
      return {
        verifier: airprover.solidityVerifier(vk),
        text: calldata.text,
        sameFromText: fromText.text === calldata.text,
        args: dec(calldata.args),
        named: dec([calldata.pA, calldata.pB, calldata.pC, calldata.pubSignals]),
        errors: {
          offCurve: codeOf(() => airprover.solidityCalldata(offCurve, publicSignals)),
          notJson: codeOf(() => airprover.solidityCalldata('{', publicSignals)),
          provingKeyAsVk: codeOf(() => airprover.solidityVerifier(new Uint8Array([1, 2, 3]))),
        },
      };
    },
    {
      circuit: CIRCUIT,
      proof: JSON.parse(readFileSync(join(dir, 'proof.json'), 'utf8')),
      publicSignals: JSON.parse(readFileSync(join(dir, 'public.json'), 'utf8')),
    },
  );
  assert.deepEqual(page.problems, []);
  await page.context().close();

  const sol = join(dir, 'Verifier.sol');
  execFileSync(CLI, ['export-verifier', '--keys', join(dir, 'keys'), '--circuit', CIRCUIT, '--out', sol]);
  assert.equal(out.verifier, readFileSync(sol, 'utf8'));
  assert.match(out.verifier, /function verifyProof\(/);
  const cliText = execFileSync(CLI, ['calldata', '--proof', join(dir, 'proof.json'), '--public', join(dir, 'public.json')], {
    encoding: 'utf8',
  });
  assert.equal(out.text, cliText.trim());
  assert.ok(out.sameFromText);
  // The typed arguments are the printed calldata's numbers, in the same nesting.
  const printed = JSON.parse(`[${cliText}]`, (_, v) => (typeof v === 'string' ? BigInt(v).toString() : v));
  assert.deepEqual(out.args, printed);
  assert.deepEqual(out.named, printed);
  assert.equal(out.args[3].length, 5);
  // Malformed proof text is INVALID_PROOF, as in `verify`.
  assert.deepEqual(out.errors, { offCurve: 'INVALID_PROOF', notJson: 'INVALID_PROOF', provingKeyAsVk: 'KEY_INTEGRITY' });
});
