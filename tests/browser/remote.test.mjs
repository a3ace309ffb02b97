// The runtime's opt-in `remote` in a real Chromium against a real service: Debian's Redis,
// `airprover serve` and a worker (support/service.mjs). An injected out-of-memory moves the job to
// the server and the result verifies on the page; without `remote` nothing leaves the page; a
// server proving with another key is caught on the page; refusals and cancellation are typed;
// with `workerKeys` a result whose signature is not a pinned worker's over exactly the task's
// bytes is refused (WebCrypto's Ed25519 in Chromium). A circom circuit (the `multi` fixture,
// listed in the key directory with `airprover add-circom`) proves on the server as `{ circuit,
// input }`, checked on the page with its verification_key.json; a ready witness never leaves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { circomFixture } from '../interop/circom-fixtures.mjs';
import { launch, openPage } from './support/browser.mjs';
import { CIRCUIT, CLI, ROOT, fixture } from './support/fixture.mjs';
import { startServer } from './support/server.mjs';
import { API_KEY, startService } from './support/service.mjs';

let browser;
let fx;
let site;
let honest;
let dishonest;
let circom;
let keys;

before(async () => {
  fx = fixture([CIRCUIT]);
  // The fixture's keys and a circom circuit, in a directory of this suite's own.
  circom = await circomFixture('multi');
  keys = join(fx.dir, 'keys-remote-circom');
  rmSync(keys, { recursive: true, force: true });
  cpSync(join(fx.dir, 'keys'), keys, { recursive: true });
  execFileSync(CLI, ['add-circom', '--keys', keys, '--circuit', 'multi', '--zkey', circom.zkey, '--wasm', circom.wasm, '--vkey', circom.vkey], {
    stdio: 'ignore',
  });
  // Another development key pair of the same circuit (seed 2): a server proving with it makes
  // proofs that verify with its key, not with the page's manifest.
  const otherKeys = join(fx.dir, 'other-keys');
  if (!existsSync(join(otherKeys, `${CIRCUIT}.pk`))) {
    execFileSync(CLI, ['setup', '--circuit', CIRCUIT, '--out', otherKeys, '--seed', '2'], { stdio: 'ignore' });
  }
  browser = await launch();
  site = await startServer({
    isolated: true,
    mounts: { '/pkg/': join(ROOT, 'pkg'), '/keys/': keys, '/circom-fixture/': circom.dir, '/': import.meta.dirname },
  });
  honest = await startService({ keys, origins: [site.url] });
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
    // The runtime's own job, moved: the device's code in the audit log, no failure there.
    assert.ok(out.log.includes('sent-to-server:OUT_OF_MEMORY'), out.log.join());
    assert.ok(!out.log.some((e) => e.startsWith('failed:')), out.log.join());
    assert.equal(out.log.at(-1), 'succeeded:');
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
        const sentId = job.id;
        job.cancel();
        const cancelled = await codeOf(() => job.result);
        const aborted = new AbortController();
        const job2 = prover.submit({ ...claim, campaignId: '4243' }, { signal: aborted.signal });
        aborted.abort();
        const abortedCode = await codeOf(() => job2.result);
        prover.terminate();
        return { badWhen, badUrl, unknown, unauthorized, badClaim, cancelled, abortedCode, cancelledStage: job.progress.value.stage, sentId };
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
    assert.ok(out.sentId > 0, `a job sent to the server has the runtime's own id: ${out.sentId}`);
  });

  test("a 503 with Retry-After is sent again after it, a lost event stream is read again, and the job is counted", async (t) => {
    // The 503 is logged by Chromium itself.
    const p = await page(t, /503 \(Service Unavailable\)/);
    let posts = 0;
    await p.route(`${honest.url}/v1/proofs`, async (route) => {
      if (route.request().method() !== 'POST' || ++posts > 1) return route.continue();
      await route.fulfill({ status: 503, headers: { 'retry-after': '1', 'access-control-allow-origin': '*', 'access-control-expose-headers': 'retry-after' }, contentType: 'application/json', body: '{"code":"BUSY","message":"try later"}' });
    });
    const streams = [];
    await p.route(`${honest.url}/v1/proofs/*/events`, async (route) => {
      streams.push(route.request().headers()['last-event-id'] ?? null);
      // The first stream breaks after its first event; the next one goes through.
      if (streams.length > 1) return route.continue();
      const response = await route.fetch();
      const text = await response.text();
      const first = text.slice(0, text.indexOf('\n\n') + 2);
      await route.fulfill({ response, body: first });
    });
    const out = await p.evaluate(
      async ({ claim, url, apiKey }) => {
        const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', remote: { url, apiKey, when: 'always' } });
        const started = performance.now();
        const job = prover.submit(claim);
        const seen = [];
        const off = prover.stats.subscribe((s) => seen.push(s.byPriority.NORMAL.remote));
        const result = await job.result;
        off();
        const ms = performance.now() - started;
        const stats = prover.stats.value.byPriority.NORMAL;
        const log = prover.auditLog().map((e) => `${e.kind}:${e.code ?? ''}`);
        prover.terminate();
        return { ms, id: job.id, result, seen, stats, log };
      },
      { claim: { ...fx.claims[CIRCUIT], campaignId: '7201' }, url: honest.url, apiKey: API_KEY },
    );
    assert.equal(posts, 2, 'sent again after the 503');
    assert.ok(out.ms >= 1000, `not before its Retry-After: ${out.ms} ms`);
    assert.ok(streams.length >= 2, `the stream was read again: ${JSON.stringify(streams)}`);
    assert.equal(streams[0], null);
    assert.ok(streams[1], 'from after the last event seen (Last-Event-ID)');
    assert.equal(out.result.publicSignals.length, 5);
    assert.ok(out.seen.includes(1), `counted as on the server while there: ${out.seen}`);
    assert.deepEqual([out.stats.remote, out.stats.completed], [0, 1]);
    assert.deepEqual(out.log, ['submitted:', 'sent-to-server:', 'succeeded:']);
  });
});

describe('remote circom jobs', () => {
  const json = (path) => JSON.parse(readFileSync(path, 'utf8'));

  test("a circom input proves on the server, signed over its verification_key.json's SHA-256 and verified on the page; a ready witness never leaves", async (t) => {
    const pinned = await exportWorkerKeys(honest);
    const manifest = json(join(keys, 'manifest.json'));
    const entry = manifest.circuits.find((c) => c.id === 'multi');
    assert.equal(entry.kind, 'circom');
    assert.equal(entry.verifyingKey.sha256, createHash('sha256').update(readFileSync(circom.vkey)).digest('hex'));
    const p = await page(t);
    const out = await p.evaluate(
      async ({ input, url, apiKey, workerKeys, vkey }) => {
        const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', remote: { url, apiKey, when: 'always', workerKeys } });
        const progress = [];
        const result = await prover.submit({ circuit: 'multi', input }, { onProgress: (p) => progress.push({ ...p }) }).result;
        const verifies = airprover.verifySnarkjs(vkey, result.publicSignals, result.proof);
        const wtns = new Uint8Array(await (await fetch('/circom-fixture/witness.wtns')).arrayBuffer());
        let refused = null;
        try {
          prover.submit({ circuit: 'multi', wtns });
        } catch (e) {
          refused = { code: e.code, message: e.message };
        }
        prover.terminate();
        return { result, progress, verifies, refused };
      },
      { input: json(circom.input), url: honest.url, apiKey: API_KEY, workerKeys: pinned, vkey: json(circom.vkey) },
    );
    assert.equal(out.verifies, true);
    assert.equal(out.result.circuit, 'multi');
    assert.deepEqual(out.result.publicSignals, json(circom.public), "snarkjs's public signals");
    assert.equal(out.result.verifyingKeySha256, entry.verifyingKey.sha256);
    assert.ok(out.result.remote.publicKey, 'signed by a pinned worker');
    assert.ok(out.progress.some((p) => p.remote && p.stage === 'proving'), JSON.stringify(out.progress));
    const task = await serverTask(out.result.remote.id);
    assert.equal(task.status, 'succeeded');
    assert.equal(task.result.vkSha256, entry.verifyingKey.sha256);
    assert.equal(out.refused?.code, 'INVALID_INPUT', JSON.stringify(out.refused));
    assert.match(out.refused.message, /remote.*never sent/);
    const posts = p.requested.filter((u) => u === `${honest.url}/v1/proofs`);
    assert.equal(posts.length, 1, 'only the input job was sent');
  });

  test('a circom job the device cannot prove moves to the server; a ready witness stays on the device', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(
      async ({ input, url, apiKey }) => {
        const prover = await airprover.createProver({
          manifestUrl: '/keys/manifest.json',
          maxRetries: 1,
          faultInjection: { oomAtStage: 'msm-h', times: 100 },
          remote: { url, apiKey, when: 'fallback' },
          storage: { proofCache: false },
        });
        const result = await prover.submit({ circuit: 'multi', input }).result;
        const wtns = new Uint8Array(await (await fetch('/circom-fixture/witness.wtns')).arrayBuffer());
        let local = null;
        try {
          await prover.submit({ circuit: 'multi', wtns }).result;
          local = 'resolved';
        } catch (e) {
          local = { code: e.code, message: e.message };
        }
        const log = prover.auditLog().map((e) => `${e.kind}:${e.code ?? ''}`);
        prover.terminate();
        return { result, local, log };
      },
      { input: json(circom.input), url: honest.url, apiKey: API_KEY },
    );
    assert.ok(out.log.includes('sent-to-server:OUT_OF_MEMORY'), out.log.join());
    assert.ok(out.log.includes('failed:OUT_OF_MEMORY'), `the witness job's own end: ${out.log.join()}`);
    assert.equal(out.result.circuit, 'multi');
    assert.deepEqual(out.result.publicSignals, json(circom.public));
    assert.equal((await serverTask(out.result.remote.id)).status, 'succeeded');
    assert.equal(out.local?.code, 'OUT_OF_MEMORY', `the witness job's own failure, not sent: ${JSON.stringify(out.local)}`);
    const posts = p.requested.filter((u) => u === `${honest.url}/v1/proofs`);
    assert.equal(posts.length, 1, 'only the input job was sent');
  });
});

/** The honest service's workers.json (`airprover workers export-keys`), once its worker registered. */
async function exportWorkerKeys(service) {
  const out = join(fx.dir, 'workers.json');
  for (let tries = 0; ; tries++) {
    try {
      execFileSync(CLI, ['workers', 'export-keys', '--redis', service.redis, '--out', out], { stdio: 'pipe' });
      return JSON.parse(readFileSync(out, 'utf8'));
    } catch (e) {
      if (tries > 100) throw e;
      await new Promise((ok) => setTimeout(ok, 200));
    }
  }
}

/** The signed bytes, written here from the README's format (not taken from the package). */
function signedBytes({ id, circuit, vkSha256, proof, publicSignals }) {
  const sha = (text) => createHash('sha256').update(text).digest('hex');
  return ['airprover-proof-v1', id, circuit, vkSha256, sha(JSON.stringify(proof)), sha(JSON.stringify(publicSignals))].join('\n');
}

/**
 * Rewrites the `succeeded` event of every task event stream the page reads from `service`:
 * `forge(result, taskId)` returns the result the page gets (a stand-in for a compromised server).
 */
async function forgeResults(p, service, forge) {
  await p.route(`${service.url}/v1/proofs/*/events`, async (route) => {
    const taskId = new URL(route.request().url()).pathname.split('/')[3];
    const response = await route.fetch();
    let kind = null;
    const body = (await response.text())
      .split('\n')
      .map((line) => {
        if (line.startsWith('event:')) kind = line.slice(6).trim();
        if (kind !== 'succeeded' || !line.startsWith('data:')) return line;
        return `data: ${JSON.stringify(forge(JSON.parse(line.slice(5)), taskId))}`;
      })
      .join('\n');
    await route.fulfill({ response, body });
  });
}

describe('remote with workerKeys', () => {
  test('a pinned worker\'s signature is checked on the page; a forged one is refused', async (t) => {
    const pinned = await exportWorkerKeys(honest);
    assert.equal(pinned.workers.length, 1);
    const { publicKey } = pinned.workers[0];
    // The worker's own key, to sign bytes it never signed (the key, not the format, is trusted).
    const seed = Buffer.from(readFileSync(join(honest.workerState(0), 'worker.key'), 'utf8').trim(), 'hex');
    const workerKey = createPrivateKey({
      format: 'jwk',
      key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: Buffer.from(publicKey, 'hex').toString('base64url') },
    });
    const signAs = (bytes) => sign(null, Buffer.from(bytes), workerKey).toString('hex');
    const manifest = JSON.parse(readFileSync(join(keys, 'manifest.json'), 'utf8'));
    const vkSha256 = manifest.circuits.find((c) => c.id === CIRCUIT).files.verifyingKey.sha256;

    const run = async (campaignId, workerKeys, forge = null) => {
      const p = await page(t);
      if (forge) await forgeResults(p, honest, forge);
      return p.evaluate(
        async ({ claim, url, apiKey, workerKeys }) => {
          const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', remote: { url, apiKey, when: 'always', workerKeys } });
          try {
            const result = await prover.submit(claim).result;
            return { ok: true, result };
          } catch (e) {
            return { ok: false, code: e.code, message: e.message, category: e.category, severity: e.severity };
          } finally {
            prover.terminate();
          }
        },
        { claim: { ...fx.claims[CIRCUIT], campaignId }, url: honest.url, apiKey: API_KEY, workerKeys },
      );
    };

    // Genuine, with workers.json as written and as its list; the worker signed the documented bytes.
    let seen = null;
    const genuine = await run('7101', pinned, (result, id) => {
      seen = { result, id };
      return result;
    });
    assert.equal(genuine.ok, true, JSON.stringify(genuine));
    assert.equal(genuine.result.remote.publicKey, publicKey);
    assert.equal(seen.result.vkSha256, vkSha256);
    assert.equal(
      seen.result.signature,
      signAs(signedBytes({ id: seen.id, circuit: CIRCUIT, vkSha256, proof: seen.result.proof, publicSignals: seen.result.publicSignals })),
    );
    assert.equal((await run('7102', pinned.workers)).ok, true);

    // A forged signature: one digit changed.
    const flipped = await run('7103', pinned, (result) => ({
      ...result,
      signature: (result.signature[0] === '0' ? '1' : '0') + result.signature.slice(1),
    }));
    assert.deepEqual([flipped.ok, flipped.code], [false, 'BAD_SIGNATURE'], JSON.stringify(flipped));
    assert.deepEqual([flipped.category, flipped.severity], ['runtime', 'critical']);
    // The pinned key's real signature, over another task's bytes, and over another circuit's.
    for (const [campaignId, alter] of [
      ['7104', (id) => ({ id: `${id}0` })],
      ['7105', () => ({ circuit: 'threshold-d4-k3' })],
    ]) {
      const replayed = await run(campaignId, pinned, (result, id) => ({
        ...result,
        signature: signAs(signedBytes({ id, circuit: CIRCUIT, vkSha256, proof: result.proof, publicSignals: result.publicSignals, ...alter(id) })),
      }));
      assert.deepEqual([replayed.ok, replayed.code], [false, 'BAD_SIGNATURE'], JSON.stringify(replayed));
    }
    // An altered proof (a valid point where another was) under the genuine signature.
    const altered = await run('7106', pinned, (result) => ({ ...result, proof: { ...result.proof, pi_a: result.proof.pi_c, pi_c: result.proof.pi_a } }));
    assert.deepEqual([altered.ok, altered.code], [false, 'BAD_SIGNATURE'], JSON.stringify(altered));
    // workers.json from another key: the genuine result is from a worker the page does not know.
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x;
    const stranger = [{ id: 'prover-0', publicKey: Buffer.from(other, 'base64url').toString('hex') }];
    const unknown = await run('7107', stranger);
    assert.deepEqual([unknown.ok, unknown.code], [false, 'UNKNOWN_WORKER'], JSON.stringify(unknown));
    // A bad option is refused at createProver.
    const p = await page(t);
    const bad = await p.evaluate(async (url) => {
      try {
        await airprover.createProver({ manifestUrl: '/keys/manifest.json', remote: { url, workerKeys: [{ id: 'x', publicKey: 'nope' }] } });
        return null;
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    }, honest.url);
    assert.equal(bad?.code, 'INVALID_INPUT');
    assert.match(bad.message, /options\.remote\.workerKeys\[0\]\.publicKey/);
  });
});
