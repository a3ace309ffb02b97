// The runtime's opt-in `remote` in a real Chromium against a real service: Debian's Redis,
// `airprover serve` and a worker (support/service.mjs). An injected out-of-memory moves the job to
// the server and the result verifies on the page; without `remote` nothing leaves the page; a
// server proving with another key is caught on the page; refusals and cancellation are typed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { launch, openPage } from './support/browser.mjs';
import { CIRCUIT, CLI, ROOT, fixture } from './support/fixture.mjs';
import { startServer } from './support/server.mjs';
import { API_KEY, startService } from './support/service.mjs';

let browser;
let fx;
let site;
let honest;
let dishonest;

before(async () => {
  fx = fixture([CIRCUIT]);
  // Another development key pair of the same circuit (seed 2): a server proving with it makes
  // proofs that verify with its key, not with the page's manifest.
  const otherKeys = join(fx.dir, 'other-keys');
  if (!existsSync(join(otherKeys, `${CIRCUIT}.pk`))) {
    execFileSync(CLI, ['setup', '--circuit', CIRCUIT, '--out', otherKeys, '--seed', '2'], { stdio: 'ignore' });
  }
  browser = await launch();
  site = await startServer({
    isolated: true,
    mounts: { '/pkg/': join(ROOT, 'pkg'), '/keys/': join(fx.dir, 'keys'), '/': import.meta.dirname },
  });
  honest = await startService({ keys: join(fx.dir, 'keys'), origins: [site.url] });
  dishonest = await startService({ keys: otherKeys, origins: [site.url] });
});

after(async () => {
  await browser?.close();
  await site?.close();
  await honest?.close();
  await dishonest?.close();
});

/** The test page; its page errors and console errors fail the test (but those `allow` matches). */
async function page(t, allow = null) {
  const p = await openPage(browser, `${site.url}/page.html`);
  p.requested = [];
  p.on('request', (r) => p.requested.push(r.url()));
  t.after(async () => {
    const problems = p.problems.filter((m) => !(allow && allow.test(m)));
    await p.context().close();
    assert.deepEqual(problems, [], 'no page error or console error');
  });
  return p;
}

async function serverTask(id) {
  const r = await fetch(`${honest.url}/v1/proofs/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  return r.json();
}

describe('remote', () => {
  test('an out-of-memory job moves to the server, and its proof verifies on the page', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(
      async ({ claim, url, apiKey }) => {
        const prover = await airprover.createProver({
          manifestUrl: '/keys/manifest.json',
          maxRetries: 1,
          faultInjection: { oomAtStage: 'msm-h', times: 100 },
          remote: { url, apiKey, when: 'fallback' },
        });
        const progress = [];
        const job = prover.submit(claim, { onProgress: (p) => progress.push({ ...p }) });
        const result = await job.result;
        // Independently of the runtime: the manifest's verifying key, on this page.
        const manifest = await (await fetch('/keys/manifest.json')).json();
        const vkName = manifest.circuits.find((c) => c.id === claim.circuit).files.verifyingKey.name;
        const vk = new Uint8Array(await (await fetch(`/keys/${vkName}`)).arrayBuffer());
        const verifies = airprover.verify(vk, result.proof, result.publicSignals);
        const log = prover.auditLog().map((e) => `${e.kind}:${e.code ?? ''}`);
        const storeValue = job.progress.value;
        prover.terminate();
        return { verifies, result, progress, log, storeValue };
      },
      { claim: fx.claims[CIRCUIT], url: honest.url, apiKey: API_KEY },
    );
    assert.equal(out.verifies, true);
    assert.equal(out.result.circuit, CIRCUIT);
    assert.equal(out.result.publicSignals.length, 5);
    assert.ok(out.log.includes('failed:OUT_OF_MEMORY'), out.log.join());
    assert.ok(out.progress.some((p) => p.remote && p.stage === 'proving'), JSON.stringify(out.progress));
    assert.ok(!out.progress.some((p) => p.stage === 'failed'), 'the device failure is not reported as the end');
    assert.deepEqual([out.storeValue.stage, out.storeValue.done], ['done', true]);
    // The server's record: the same task, succeeded, signed by its worker.
    const task = await serverTask(out.result.remote.id);
    assert.equal(task.status, 'succeeded');
    assert.deepEqual(task.result.publicSignals, out.result.publicSignals);
    assert.equal(out.result.remote.signature, task.result.signature);
  });

  test('without remote the same failure stays on the device: nothing is sent', async (t) => {
    const p = await page(t);
    const code = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        maxRetries: 1,
        faultInjection: { oomAtStage: 'msm-h', times: 100 },
      });
      try {
        await prover.submit(claim).result;
        return 'resolved';
      } catch (e) {
        return e.code;
      } finally {
        prover.terminate();
      }
    }, fx.claims[CIRCUIT]);
    assert.equal(code, 'OUT_OF_MEMORY');
    // (Workers load from blob: URLs of the page's origin.)
    assert.deepEqual(p.requested.filter((u) => !u.startsWith(site.url) && !u.startsWith(`blob:${site.url}`)), []);
  });

  test("a server whose proof does not verify with the manifest's key is caught on the page", async (t) => {
    const p = await page(t);
    const err = await p.evaluate(
      async ({ claim, url, apiKey }) => {
        const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', remote: { url, apiKey, when: 'always' } });
        try {
          await prover.submit(claim).result;
          return null;
        } catch (e) {
          return { code: e.code, message: e.message, category: e.category };
        } finally {
          prover.terminate();
        }
      },
      { claim: fx.claims[CIRCUIT], url: dishonest.url, apiKey: API_KEY },
    );
    assert.equal(err?.code, 'VERIFY_FAILED', JSON.stringify(err));
    assert.match(err.message, /manifest's verifying key/);
    assert.equal(err.category, 'prover');
  });

  test('bad options, refusals and cancel are typed', async (t) => {
    // The refused request is logged by Chromium itself.
    const p = await page(t, /401 \(Unauthorized\)/);
    const out = await p.evaluate(
      async ({ claim, url, apiKey }) => {
        const codeOf = async (f) => {
          try {
            await f();
            return 'ok';
          } catch (e) {
            return { code: e.code, serverCode: e.serverCode ?? null, status: e.status ?? null, message: e.message };
          }
        };
        const manifestUrl = '/keys/manifest.json';
        const badWhen = await codeOf(() => airprover.createProver({ manifestUrl, remote: { url, when: 'sometimes' } }));
        const badUrl = await codeOf(() => airprover.createProver({ manifestUrl, remote: { url: 'ftp://x' } }));
        const unknown = await codeOf(() => airprover.createProver({ manifestUrl, remote: { url, apikey: 'x' } }));
        const wrongKey = await airprover.createProver({ manifestUrl, remote: { url, apiKey: 'wrong', when: 'always' } });
        const unauthorized = await codeOf(() => wrongKey.submit(claim).result);
        wrongKey.terminate();
        const prover = await airprover.createProver({ manifestUrl, remote: { url, apiKey, when: 'always' } });
        const badClaim = await codeOf(() => prover.submit({ ...claim, root: 'nope' }).result);
        const job = prover.submit({ ...claim, campaignId: '4242' });
        job.cancel();
        const cancelled = await codeOf(() => job.result);
        const aborted = new AbortController();
        const job2 = prover.submit({ ...claim, campaignId: '4243' }, { signal: aborted.signal });
        aborted.abort();
        const abortedCode = await codeOf(() => job2.result);
        prover.terminate();
        return { badWhen, badUrl, unknown, unauthorized, badClaim, cancelled, abortedCode, cancelledStage: job.progress.value.stage };
      },
      { claim: fx.claims[CIRCUIT], url: honest.url, apiKey: API_KEY },
    );
    assert.equal(out.badWhen.code, 'INVALID_INPUT');
    assert.match(out.badWhen.message, /options\.remote\.when/);
    assert.equal(out.badUrl.code, 'INVALID_INPUT');
    assert.match(out.unknown.message, /options\.remote\.apikey: unknown option/);
    assert.deepEqual(
      [out.unauthorized.code, out.unauthorized.serverCode, out.unauthorized.status],
      ['REMOTE_FAILED', 'UNAUTHORIZED', 401],
    );
    assert.equal(out.badClaim.code, 'INVALID_INPUT');
    assert.equal(out.cancelled.code, 'CANCELLED');
    assert.equal(out.cancelledStage, 'cancelled');
    assert.equal(out.abortedCode.code, 'CANCELLED');
  });
});
