// The package outside this repository's layout: app/ (a minimal Vite project) is copied to a
// temporary directory, `npm install`s the packed tarball (`make pack`) as a user would, is built
// with `vite build`, served with and without COOP/COEP, and proves one claim in Chromium; its
// second page proves a circom circuit through `airprover/snarkjs`, checked by snarkjs itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launch } from '../browser/support/browser.mjs';
import { CIRCUIT, ROOT, fixture } from '../browser/support/fixture.mjs';
import { startServer } from '../browser/support/server.mjs';
import { circomFixture } from '../interop/circom-fixtures.mjs';

const version = JSON.parse(readFileSync(join(ROOT, 'pkg/package.json'), 'utf8')).version;
const TARBALL = process.env.AIRPROVER_TARBALL ?? join(ROOT, 'target/npm', `airprover-${version}.tgz`);

let app;
let browser;
let fx;

function run(cmd, args, cwd) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

before(async () => {
  fx = fixture([CIRCUIT]);
  app = mkdtempSync(join(tmpdir(), 'airprover-vite-consumer-'));
  for (const f of ['package.json', 'package-lock.json', 'index.html', 'main.ts', 'snarkjs.html', 'snarkjs.ts', 'tsconfig.json', 'vite.config.js']) {
    cpSync(join(import.meta.dirname, 'app', f), join(app, f));
  }
  // The one step a user takes: install the package (the lock file pins vite).
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', TARBALL], app);
  run('npx', ['vite', 'build', '--logLevel', 'warn'], app);
  browser = await launch();
});

test('the installed package is typed: strict tsc accepts the app, and no `any` in the declarations', () => {
  run('npx', ['tsc', '-p', 'tsconfig.json'], app);
  const installed = join(app, 'node_modules/airprover');
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal(manifest.exports['.'].types, './index.d.ts');
  assert.equal(manifest.exports['./snarkjs'].types, './snarkjs.d.ts');
  for (const types of [manifest.types, manifest.exports['./snarkjs'].types]) {
    const declarations = readFileSync(join(installed, types), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    assert.doesNotMatch(declarations, /\bany\b/, types);
  }
});

after(async () => {
  await browser?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

/** Opens `url` in a fresh context, waits for the app's proof and checks it and the page's log. */
async function proveIn(url, build) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
    await page.goto(url);
    await page
      .waitForFunction(() => window.consumerResult, null, { timeout: 120_000 })
      .catch(async (e) => {
        throw new Error(`${e.message}; the page says ${await page.textContent('#status')}; ${problems.join('; ')}`);
      });
    const result = await page.evaluate(() => window.consumerResult);
    assert.equal(result.error, undefined);
    assert.equal(result.build, build);
    assert.equal(result.publicSignals.length, 5);
    assert.equal(result.proof.protocol, 'groth16');
    assert.equal(result.calldataClaimant, result.publicSignals[2]);
    assert.ok(result.stages.includes('proving'), `stages seen: ${result.stages}`);
    assert.match(await page.textContent('#status'), /^verified/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
}

for (const isolated of [true, false]) {
  test(`a claim proves in the built app ${isolated ? 'with' : 'without'} COOP/COEP`, async (t) => {
    const server = await startServer({
      isolated,
      mounts: {
        '/keys/': join(fx.dir, 'keys'),
        '/claim.json': join(fx.dir, `${CIRCUIT}.claim.json`),
        '/': join(app, 'dist'),
      },
    });
    t.after(() => server.close());
    await proveIn(`${server.url}/index.html`, isolated ? 'threaded' : 'single');
  });
}

test('a claim proves threaded on the Vite dev server (`vite`)', async (t) => {
  cpSync(join(fx.dir, 'keys'), join(app, 'public/keys'), { recursive: true });
  cpSync(join(fx.dir, `${CIRCUIT}.claim.json`), join(app, 'public/claim.json'));
  const dev = spawn(join(app, 'node_modules/.bin/vite'), ['--host', '127.0.0.1', '--port', '0', '--logLevel', 'info'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => dev.kill());
  const url = await new Promise((found, failed) => {
    let out = '';
    dev.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) found(m[1]);
    });
    dev.once('exit', (code) => failed(new Error(`vite exited (${code}): ${out}`)));
  });
  await proveIn(url, 'threaded');
});

test('airprover/snarkjs in the built app: fullProve from URLs and bytes, prove(zkey, wtns), verified by snarkjs in the same page', async (t) => {
  const circom = await circomFixture('multi');
  const server = await startServer({
    isolated: true,
    mounts: {
      '/circom/circuit.wasm': circom.wasm,
      '/circom/': circom.dir,
      '/snarkjs/': join(ROOT, 'tests/interop/node_modules/snarkjs/build'),
      '/': join(app, 'dist'),
    },
  });
  t.after(() => server.close());
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  await page.goto(`${server.url}/snarkjs.html`);
  await page
    .waitForFunction(() => window.snarkjsResult, null, { timeout: 120_000 })
    .catch(async (e) => {
      throw new Error(`${e.message}; the page says ${await page.textContent('#status')}; ${problems.join('; ')}`);
    });
  const result = await page.evaluate(() => window.snarkjsResult);
  assert.equal(result.error, undefined);
  assert.equal(result.verified, true, "airprover/snarkjs's groth16.verify");
  assert.deepEqual(result.publicSignals, JSON.parse(readFileSync(circom.public, 'utf8')));
  assert.deepEqual(result.again, result.publicSignals, 'fullProve from bytes');
  // snarkjs itself, loaded into the same page: it verifies the proof and writes the same calldata.
  await page.addScriptTag({ url: '/snarkjs/snarkjs.min.js' });
  const vkey = JSON.parse(readFileSync(circom.vkey, 'utf8'));
  const bySnarkjs = await page.evaluate(
    async ({ vkey, proof, publicSignals, fromWtns }) => ({
      verified: await snarkjs.groth16.verify(vkey, publicSignals, proof),
      calldata: await snarkjs.groth16.exportSolidityCallData(proof, publicSignals),
      wtnsVerified: await snarkjs.groth16.verify(vkey, fromWtns.publicSignals, fromWtns.proof),
    }),
    { vkey, proof: result.proof, publicSignals: result.publicSignals, fromWtns: result.fromWtns },
  );
  assert.equal(bySnarkjs.verified, true, 'snarkjs verifies the proof');
  assert.equal(bySnarkjs.wtnsVerified, true, 'snarkjs verifies the proof of groth16.prove(zkey, wtns)');
  assert.deepEqual(result.fromWtns.publicSignals, result.publicSignals, "witness.wtns is input.json's witness");
  assert.deepEqual(Object.keys(result.fromWtns).sort(), ['proof', 'publicSignals']);
  assert.equal(result.calldata, bySnarkjs.calldata);
  assert.deepEqual(problems, []);
});
