// The proof runtime in a real Chromium with real Workers: priorities, crashes, cancellation,
// timeouts, the single-threaded fallback, progress, terminate, and a 200-job load test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { launch, openPage } from './support/browser.mjs';
import { CIRCUIT, CLI, ROOT, fixture } from './support/fixture.mjs';
import { startServer } from './support/server.mjs';

let browser;
let fx;
const servers = {};

/**
 * A copy of the keys whose proving key has its verifying key's alpha moved off the curve, with the
 * file's digest and the manifest's SHA-256 recomputed (as whoever made such a key would): it
 * passes every hash check, and only a point check can tell.
 */
function offCurveKeys() {
  const dir = join(fx.dir, 'off-curve-keys');
  cpSync(join(fx.dir, 'keys'), dir, { recursive: true });
  const file = join(dir, `${CIRCUIT}.pk`);
  const pk = readFileSync(file);
  const payloadAt = 53 + CIRCUIT.length; // alpha_g1 is the payload's first point
  pk[payloadAt] ^= 1;
  createHash('sha256').update(pk.subarray(payloadAt)).digest().copy(pk, payloadAt - 32);
  writeFileSync(file, pk);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const entry = manifest.circuits.find((c) => c.id === CIRCUIT).files.provingKey;
  entry.sha256 = createHash('sha256').update(pk).digest('hex');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/**
 * A copy of the keys whose verifying key comes from another setup (seed 2): each file is sound and
 * matches the manifest's SHA-256, but the pair does not match, so the worker's self-check (with the
 * verifying key inside its proving key) passes and only a check against the manifest's catches it.
 */
function mismatchedKeys() {
  const dir = join(fx.dir, 'mismatched-keys');
  cpSync(join(fx.dir, 'keys'), dir, { recursive: true });
  const other = join(fx.dir, 'other-setup');
  if (!existsSync(join(other, `${CIRCUIT}.vk`))) {
    execFileSync(CLI, ['setup', '--circuit', CIRCUIT, '--out', other, '--seed', '2'], { stdio: 'ignore' });
  }
  const vk = readFileSync(join(other, `${CIRCUIT}.vk`));
  writeFileSync(join(dir, `${CIRCUIT}.vk`), vk);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const entry = manifest.circuits.find((c) => c.id === CIRCUIT).files.verifyingKey;
  entry.sha256 = createHash('sha256').update(vk).digest('hex');
  entry.bytes = vk.length;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/** A copy of the keys without the proving key file: its download answers 404. */
function missingProvingKey() {
  const dir = join(fx.dir, 'missing-pk-keys');
  cpSync(join(fx.dir, 'keys'), dir, { recursive: true });
  rmSync(join(dir, `${CIRCUIT}.pk`), { force: true });
  return dir;
}

/** A copy of the keys with a smaller circuit of the same family, for the OUT_OF_MEMORY fallback. */
const SMALLER = 'threshold-d4-k1';
function keysWithSmaller() {
  const dir = join(fx.dir, 'fallback-keys');
  cpSync(join(fx.dir, 'keys'), dir, { recursive: true });
  if (!JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).circuits.some((c) => c.id === SMALLER)) {
    execFileSync(CLI, ['setup', '--circuit', SMALLER, '--out', dir, '--seed', '1'], { stdio: 'ignore' });
  }
  return dir;
}

before(async () => {
  fx = fixture([CIRCUIT]);
  const badKeys = offCurveKeys();
  const fallbackKeys = keysWithSmaller();
  const otherVk = mismatchedKeys();
  const noPk = missingProvingKey();
  browser = await launch();
  for (const isolated of [true, false]) {
    servers[isolated] = await startServer({
      isolated,
      mounts: {
        '/pkg/': join(ROOT, 'pkg'),
        '/keys/': join(fx.dir, 'keys'),
        '/off-curve-keys/': badKeys,
        '/fallback-keys/': fallbackKeys,
        '/mismatched-keys/': otherVk,
        '/missing-pk-keys/': noPk,
        '/': import.meta.dirname,
      },
    });
  }
});

after(async () => {
  await browser?.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

/** Opens the test page; returns the page, checked for errors when the test ends. */
async function page(t, { isolated = true, expect404 = null } = {}) {
  const p = await openPage(browser, `${servers[isolated].url}/page.html`);
  t.after(async () => {
    // A fetch of a missing file is logged by the browser itself: allowed only where expected.
    const problems = p.problems.filter((m) => !(expect404 && m.includes('404') && m.includes(expect404)));
    await p.context().close();
    assert.deepEqual(problems, [], 'no page error or console error');
  });
  return p;
}

/** The claim with another campaign id: a different, equally valid claim (no deduplication). */
function variant(claim, n) {
  return { ...claim, campaignId: String(1000 + n) };
}

describe('runtime', () => {
  test('a CRITICAL job submitted behind several LOW ones runs next', async (t) => {
    const p = await page(t);
    const order = await p.evaluate(async ({ claim, variants }) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', workers: 1 });
      const done = [];
      const track = (job, name) => job.result.then(() => done.push(name));
      const first = prover.submit(claim, { priority: 'LOW' });
      // Wait until the first job runs, so the others queue behind it.
      await new Promise((ok) => first.progress.subscribe((v) => v.stage !== 'queued' && ok()));
      const all = [track(first, 'low-0')];
      variants.forEach((c, i) => all.push(track(prover.submit(c, { priority: 'LOW' }), `low-${i + 1}`)));
      all.push(track(prover.submit({ ...claim, campaignId: '999' }, { priority: 'CRITICAL' }), 'critical'));
      await Promise.all(all);
      prover.terminate();
      return done;
    }, { claim: fx.claims[CIRCUIT], variants: [1, 2, 3, 4].map((n) => variant(fx.claims[CIRCUIT], n)) });
    assert.deepEqual(order, ['low-0', 'critical', 'low-1', 'low-2', 'low-3', 'low-4']);
  });

  test('a job whose worker dies mid-proof completes on a fresh worker', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        faultInjection: { crashAtStage: 'msm-h', times: 1 },
      });
      const job = prover.submit(claim);
      const result = await job.result;
      const log = prover.auditLog();
      prover.terminate();
      return { signals: result.publicSignals.length, kinds: log.map((e) => e.kind), attempts: log.at(-1).attempt };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.signals, 5);
    assert.ok(out.kinds.includes('worker-crashed'), out.kinds.join());
    assert.equal(out.kinds.at(-1), 'succeeded');
    assert.equal(out.attempts, 2);
  });

  for (const how of ['cancel()', 'AbortController.abort()']) {
    test(`${how} of a running job rejects with CANCELLED within 1 s, and the pool goes on`, async (t) => {
      const p = await page(t);
      const out = await p.evaluate(async ({ claim, how }) => {
        const prover = await airprover.createProver({
          manifestUrl: '/keys/manifest.json',
          // The first attempt blocks its worker in the prover for a minute, as a large proof does.
          faultInjection: { stallAtStage: 'msm-h', stallMs: 60_000, times: 1 },
        });
        const controller = new AbortController();
        const job = prover.submit(claim, { signal: controller.signal });
        await new Promise((ok) => job.progress.subscribe((v) => v.stage === 'proving' && v.percent > 30 && ok()));
        const t0 = performance.now();
        if (how === 'cancel()') job.cancel();
        else controller.abort();
        const error = await job.result.then(() => null, (e) => e);
        const ms = performance.now() - t0;
        const next = await prover.submit({ ...claim, campaignId: '4242' }).result;
        prover.terminate();
        return { code: error?.code, name: error?.name, ms, next: next.publicSignals.length };
      }, { claim: fx.claims[CIRCUIT], how });
      assert.equal(out.code, 'CANCELLED');
      assert.equal(out.name, 'AirproverError');
      assert.ok(out.ms < 1000, `rejected after ${out.ms} ms`);
      assert.equal(out.next, 5, 'the pool proves the next job');
    });
  }

  test('a timeout retries and succeeds on the next attempt', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        backoff: { baseMs: 50, jitter: 0 },
        faultInjection: { stallAtStage: 'qap', stallMs: 60_000, times: 1 },
      });
      const result = await prover.submit(claim, { timeoutMs: 8000, maxRetries: 2 }).result;
      const log = prover.auditLog();
      prover.terminate();
      return { signals: result.publicSignals, log };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.signals.length, 5);
    const retried = out.log.find((e) => e.kind === 'retried');
    assert.equal(retried?.code, 'TIMEOUT');
    assert.equal(out.log.at(-1).kind, 'succeeded');
    assert.equal(out.log.at(-1).attempt, 2);
  });

  test('a worker that goes silent mid-proof is ended after stallTimeoutMs and the job retried', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        stallTimeoutMs: 1500,
        backoff: { baseMs: 10 },
        // Blocks the worker for 60 s at msm-h, once: no message can leave it meanwhile.
        faultInjection: { stallAtStage: 'msm-h', stallMs: 60_000, times: 1 },
      });
      const start = performance.now();
      const result = await prover.submit(claim).result;
      const log = prover.auditLog();
      prover.terminate();
      return { ms: performance.now() - start, signals: result.publicSignals.length, log };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.signals, 5);
    const stalled = out.log.find((e) => e.kind === 'stalled');
    assert.ok(stalled, out.log.map((e) => e.kind).join());
    assert.equal(stalled.code, 'TIMEOUT');
    assert.equal(out.log.at(-1).kind, 'succeeded');
    assert.equal(out.log.at(-1).attempt, 2);
    assert.ok(out.ms < 30_000, `ended the stuck worker well before its 60 s stall (${out.ms} ms)`);
  });

  test('a page without COOP/COEP proves on the single-threaded build and says so', async (t) => {
    const p = await page(t, { isolated: false });
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      const result = await prover.submit(claim).result;
      const status = prover.status.value;
      prover.terminate();
      return { isolated: crossOriginIsolated, status, signals: result.publicSignals.length };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.isolated, false);
    assert.equal(out.status.build, 'single');
    assert.equal(out.status.threads, 1);
    assert.match(out.status.reason, /not cross-origin isolated/);
    assert.equal(out.signals, 5);
  });

  test('the threaded build runs with threads on an isolated page', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', threads: 2 });
      await prover.submit(claim).result;
      const status = prover.status.value;
      const stats = prover.stats.value;
      prover.terminate();
      return { status, threadsInUse: stats.threadsInUse, memory: stats.wasmMemoryPerWorker };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.status.build, 'threaded');
    assert.equal(out.status.threads, 2);
    assert.equal(out.threadsInUse, 2);
    assert.ok(out.memory[0] > 0, 'wasm memory per worker is reported');
  });

  test('threaded asked for where threads cannot start: THREADS_UNAVAILABLE in the status, proved single-threaded', async (t) => {
    const p = await page(t, { isolated: false });
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', build: 'threaded' });
      const before = prover.status.value;
      const result = await prover.submit(claim).result;
      const status = prover.status.value;
      const stats = prover.stats.value;
      prover.terminate();
      return { before, status, statsBuild: stats.build, signals: result.publicSignals.length };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.before.code, null);
    assert.equal(out.signals, 5);
    assert.equal(out.status.code, 'THREADS_UNAVAILABLE');
    assert.equal(out.status.build, 'single');
    assert.equal(out.statsBuild, 'single', 'stats and status agree');
    assert.equal(out.status.threads, 1);
    assert.match(out.status.reason, /threaded build did not start in the worker \(.*SharedArrayBuffer/);
    assert.deepEqual(p.messages, [], 'the fallback is reported in the status, not on the console');
  });

  test('index.d.ts declares what the runtime returns: error fields, stats and status keys', async (t) => {
    const dts = readFileSync(join(ROOT, 'src/js/index.d.ts'), 'utf8');
    /** The member names of `interface name` (optional ones marked with `?`). */
    const members = (name) => {
      const body = dts.slice(dts.indexOf(`export interface ${name} `)).split('\n}')[0];
      return [...body.matchAll(/^  (\w+)(\??):/gm)].map(([, k, opt]) => k + opt);
    };
    const required = (name) => members(name).filter((k) => !k.endsWith('?')).sort();
    const p = await page(t);
    const out = await p.evaluate(async (claim) => {
      // `message` and `stack` are Error's own; `name` is set on each error.
      const keysOf = (e) => [...new Set(['name', ...Object.keys(e)])].filter((k) => k !== 'stack').sort();
      const errors = {};
      // A standalone function's error, a submit refusal, and a job that ended.
      await airprover.init();
      try { airprover.poseidonHash(['not a number']); } catch (e) { errors.standalone = { keys: keysOf(e), e: { ...e } }; }
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      try { prover.submit('{'); } catch (e) { errors.submit = { keys: keysOf(e), e: { ...e } }; }
      const job = prover.submit(claim);
      job.cancel();
      await job.result.catch((e) => { errors.job = { keys: keysOf(e), e: { ...e } }; });
      const result = Object.keys(await prover.submit({ ...claim, campaignId: '31' }).result).sort();
      const stats = Object.keys(prover.stats.value).sort();
      const status = Object.keys(prover.status.value).sort();
      prover.terminate();
      return { errors, stats, status, result };
    }, fx.claims[CIRCUIT]);
    const declared = required('AirproverError');
    for (const [where, { keys, e }] of Object.entries(out.errors)) {
      assert.deepEqual(keys, declared, `${where}: the fields of an AirproverError`);
      assert.equal(typeof e.retryable, 'boolean', where);
      assert.equal(typeof e.fallback, 'boolean', where);
      assert.ok(Array.isArray(e.attempts), where);
      assert.match(e.category, /^(input|key|prover|resource|runtime|cancelled)$/, where);
      assert.match(e.severity, /^(info|error|critical)$/, where);
    }
    assert.equal(out.errors.standalone.e.code, 'INVALID_INPUT');
    assert.equal(out.errors.job.e.code, 'CANCELLED');
    assert.deepEqual(out.stats, required('Stats'), 'prover.stats keys');
    const declaredResult = members('ProofResult').map((k) => k.replace('?', ''));
    for (const k of out.result) assert.ok(declaredResult.includes(k), `ProofResult declares ${k}`);
    for (const k of required('ProofResult')) assert.ok(out.result.includes(k), `a result has ${k}`);
    assert.deepEqual(out.status, required('Status'), 'prover.status keys');
  });

  test('after OUT_OF_MEMORY the proof is of the claimed circuit unless the caller accepts a smaller one; the result says which', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async ({ claim, smaller }) => {
      const manifest = await (await fetch('/fallback-keys/manifest.json')).json();
      const vkSha = (id) => manifest.circuits.find((c) => c.id === id).files.verifyingKey.sha256;
      const run = async (options) => {
        const prover = await airprover.createProver({
          manifestUrl: '/fallback-keys/manifest.json',
          faultInjection: { oomAtStage: 'msm-h', times: 1 },
          backoff: { baseMs: 10 },
          storage: false, // each run proves: no proof from the one before
        });
        try {
          const r = await prover.submit(claim, options).result;
          const vk = new Uint8Array(await (await fetch(`/fallback-keys/${r.circuit}.vk`)).arrayBuffer());
          return {
            circuit: r.circuit,
            vkMatches: r.verifyingKeySha256 === vkSha(r.circuit),
            verifies: airprover.verify(vk, r.proof, r.publicSignals),
            kinds: prover.auditLog().map((e) => e.kind),
          };
        } finally {
          prover.terminate();
        }
      };
      await airprover.init();
      const prover = await airprover.createProver({ manifestUrl: '/fallback-keys/manifest.json' });
      const codeOf = (options) => {
        try {
          prover.submit(claim, options);
          return 'no error';
        } catch (e) {
          return e.code;
        }
      };
      const bad = { notArray: codeOf({ fallbackCircuits: smaller }), unknown: codeOf({ fallbackCircuits: ['nope'] }) };
      prover.terminate();
      return { byDefault: await run(undefined), accepted: await run({ fallbackCircuits: [smaller] }), bad };
    }, { claim: { ...fx.claims[CIRCUIT], threshold: '1' }, smaller: SMALLER });
    assert.equal(out.byDefault.circuit, CIRCUIT, 'no fallback the caller did not accept');
    assert.ok(!out.byDefault.kinds.includes('fell-back'), out.byDefault.kinds.join());
    assert.ok(out.byDefault.kinds.includes('retried'), out.byDefault.kinds.join());
    assert.equal(out.accepted.circuit, SMALLER, out.accepted.kinds.join());
    assert.ok(out.accepted.kinds.includes('fell-back'), out.accepted.kinds.join());
    for (const r of [out.byDefault, out.accepted]) {
      assert.ok(r.vkMatches, 'verifyingKeySha256 is the manifest pin of the result circuit');
      assert.equal(r.verifies, true, 'the proof verifies with the key of the circuit the result names');
    }
    assert.deepEqual(out.bad, { notArray: 'INVALID_INPUT', unknown: 'UNKNOWN_CIRCUIT' });
  });

  test('the package prints nothing on the console: loading both builds and proving', async (t) => {
    for (const isolated of [true, false]) {
      const p = await page(t, { isolated });
      await p.evaluate(async (claim) => {
        const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', threads: 2, workers: 2 });
        await Promise.all([prover.submit(claim).result, prover.submit({ ...claim, campaignId: '77' }).result]);
        prover.terminate();
      }, fx.claims[CIRCUIT]);
      assert.deepEqual(p.messages, [], `console of the ${isolated ? 'isolated' : 'plain'} page`);
    }
  });

  test('a runtime freed without terminate() ends its workers and rejects its pending jobs', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async (claim) => {
      // Every Worker the package makes, and whether it was ended.
      const made = [];
      const Original = window.Worker;
      window.Worker = class extends Original {
        constructor(...args) {
          super(...args);
          this.ended = false;
          made.push(this);
        }
        terminate() {
          this.ended = true;
          super.terminate();
        }
      };
      try {
        const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', workers: 2 });
        await prover.submit(claim).result;
        const pending = prover.submit({ ...claim, campaignId: '41' }).result.then(
          () => 'resolved',
          (e) => e.code,
        );
        const before = made.filter((w) => !w.ended).length;
        prover.free();
        const waited = new Promise((ok) => setTimeout(() => ok('still pending after 10 s'), 10_000));
        return { before, after: made.filter((w) => !w.ended).length, pending: await Promise.race([pending, waited]) };
      } finally {
        window.Worker = Original;
      }
    }, fx.claims[CIRCUIT]);
    assert.ok(out.before >= 1, `workers were running (${out.before})`);
    assert.equal(out.after, 0, 'no worker outlives the runtime');
    assert.equal(out.pending, 'TERMINATED');
  });

  test('progress events arrive during proving with increasing percent', async (t) => {
    const p = await page(t);
    const events = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      const seen = [];
      await prover.submit(claim, { onProgress: (v) => seen.push({ ...v }) }).result;
      prover.terminate();
      return seen;
    }, fx.claims[CIRCUIT]);
    const stages = [...new Set(events.map((e) => e.stage))];
    for (const s of ['queued', 'loading-keys', 'witness', 'proving', 'verifying', 'done']) {
      assert.ok(stages.includes(s), `stage ${s} in ${stages.join()}`);
    }
    const percents = events.map((e) => e.percent);
    for (let i = 1; i < percents.length; i++) assert.ok(percents[i] >= percents[i - 1], percents.join());
    const proving = events.filter((e) => e.stage === 'proving');
    assert.ok(proving.length >= 4, 'several events between the prover sub-steps');
    assert.equal(events.at(-1).percent, 100);
  });

  test('after terminate() no worker is left and pending jobs reject with TERMINATED', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', workers: 2 });
      const jobs = [0, 1, 2, 3].map((n) => prover.submit({ ...claim, campaignId: String(77 + n) }));
      await new Promise((ok) => jobs[0].progress.subscribe((v) => v.stage !== 'queued' && ok()));
      prover.terminate();
      const codes = await Promise.all(jobs.map((j) => j.result.then(() => 'ok', (e) => e.code)));
      let refused = null;
      try {
        prover.submit(claim);
      } catch (e) {
        refused = e.code;
      }
      return { codes, workers: prover.workerCount(), refused };
    }, fx.claims[CIRCUIT]);
    assert.deepEqual(out.codes, ['TERMINATED', 'TERMINATED', 'TERMINATED', 'TERMINATED']);
    assert.equal(out.workers, 0);
    assert.equal(out.refused, 'TERMINATED');
    // The browser agrees: no dedicated worker of the page is alive.
    await p.waitForFunction(() => true);
    for (let i = 0; i < 50 && p.workers().length > 0; i++) await new Promise((ok) => setTimeout(ok, 100));
    assert.equal(p.workers().length, 0, 'no worker left');
  });

  test('bad input gets a typed error and loses nothing', async (t) => {
    const p = await page(t, { expect404: '/keys/nope.json' });
    const out = await p.evaluate(async (claim) => {
      const codeOf = (f) => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return `${e.name}:${e.code}`;
        }
      };
      const creating = await airprover.createProver({ manifestUrl: '/keys/manifest.json', wrokers: 2 }).then(
        () => 'no error',
        (e) => `${e.name}:${e.code}`,
      );
      const missing = await airprover.createProver({ manifestUrl: '/keys/nope.json' }).then(
        () => 'no error',
        (e) => e.code,
      );
      // setTimeout keeps at most 2^31 - 1 ms; 2^31 would fire at once.
      const longTimeout = await airprover.createProver({ manifestUrl: '/keys/manifest.json', timeoutMs: 2 ** 31 }).then(
        () => 'no error',
        (e) => `${e.name}:${e.code}`,
      );
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', capacity: 1 });
      const out = {
        creating,
        longTimeout,
        longJobTimeout: codeOf(() => prover.submit(claim, { timeoutMs: 2 ** 31 })),
        missing,
        badJson: codeOf(() => prover.submit('{')),
        badPriority: codeOf(() => prover.submit(claim, { priority: 'URGENT' })),
        unknownOption: codeOf(() => prover.submit(claim, { prio: 'LOW' })),
        noKeys: codeOf(() => prover.submit({ ...claim, circuit: 'threshold-d4-k3' })),
        notMet: codeOf(() => prover.submit({ ...claim, threshold: '100000' })),
      };
      const accepted = prover.submit(claim);
      out.full = codeOf(() => prover.submit({ ...claim, campaignId: '5' }));
      out.accepted = (await accepted.result).publicSignals.length;
      prover.terminate();
      return out;
    }, fx.claims[CIRCUIT]);
    assert.deepEqual(out, {
      creating: 'AirproverError:INVALID_INPUT',
      longTimeout: 'AirproverError:INVALID_INPUT',
      longJobTimeout: 'AirproverError:INVALID_INPUT',
      missing: 'KEY_NOT_FOUND',
      badJson: 'AirproverError:INVALID_JSON',
      badPriority: 'AirproverError:INVALID_INPUT',
      unknownOption: 'AirproverError:INVALID_INPUT',
      noKeys: 'AirproverError:KEY_NOT_FOUND',
      notMet: 'AirproverError:SCORE_NOT_MET',
      full: 'AirproverError:QUEUE_FULL',
      accepted: 5,
    });
  });

  /** Proves the fixture's claim with the keys of `manifestUrl`: its error's code, message and attempts, or `resolved`. */
  async function outcome(t, manifestUrl, maxRetries, expect404 = null) {
    const p = await page(t, { expect404 });
    return p.evaluate(
      async ({ claim, manifestUrl, maxRetries }) => {
        const prover = await airprover.createProver({ manifestUrl, maxRetries, storage: false });
        try {
          const r = await prover.submit(claim).result;
          return { resolved: r.circuit };
        } catch (e) {
          return { code: e.code, message: e.message, attempts: e.attempts.map((a) => a.code) };
        } finally {
          prover.terminate();
        }
      },
      { claim: fx.claims[CIRCUIT], manifestUrl, maxRetries },
    );
  }

  test('a pinned key with a point off the curve is KEY_INTEGRITY, not VERIFY_FAILED', async (t) => {
    const out = await outcome(t, '/off-curve-keys/manifest.json', 1);
    assert.equal(out.code, 'KEY_INTEGRITY', JSON.stringify(out));
    assert.match(out.message, /invalid point/);
    assert.ok(!out.attempts.includes('VERIFY_FAILED'), JSON.stringify(out.attempts));
  });

  test('a proving key the server does not have (HTTP 404) is KEY_NOT_FOUND, not retried', async (t) => {
    // The worker reports the raw status; the runtime's answers::download_failed codes it.
    const out = await outcome(t, '/missing-pk-keys/manifest.json', 2, `/missing-pk-keys/${CIRCUIT}.pk`);
    assert.equal(out.code, 'KEY_NOT_FOUND', JSON.stringify(out));
    assert.match(out.message, /HTTP 404/);
    assert.deepEqual(out.attempts, ['KEY_NOT_FOUND']);
  });

  test("a proof that fails the manifest's verifying key is KEY_INTEGRITY, not a result", async (t) => {
    const out = await outcome(t, '/mismatched-keys/manifest.json', 0);
    assert.equal(out.code, 'KEY_INTEGRITY', JSON.stringify(out));
    assert.match(out.message, /manifest's verifying key/);
    assert.deepEqual(out.attempts, ['KEY_INTEGRITY']);
  });

  test('load: 200 jobs at mixed priorities with random cancels and a crash; none lost', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        workers: 2,
        threads: 1,
        capacity: 250,
        auditLogSize: 5000,
        faultInjection: { crashAtStage: 'msm-a', times: 1 },
      });
      const priorities = ['LOW', 'NORMAL', 'HIGH', 'CRITICAL'];
      let seed = 12345;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const t0 = performance.now();
      const jobs = [];
      for (let i = 0; i < 200; i++) {
        const priority = priorities[Math.floor(random() * 4)];
        const job = prover.submit({ ...claim, campaignId: String(10_000 + i) }, { priority });
        const settled = { id: job.id, priority, outcome: null, finals: 0 };
        job.result.then(
          () => { settled.outcome = 'succeeded'; settled.finals++; },
          (e) => { settled.outcome = e.code; settled.finals++; },
        );
        jobs.push({ job, settled });
      }
      // Cancel about one job in ten, at random moments while the queue drains.
      const cancelled = new Set();
      for (const { job } of jobs) {
        if (random() < 0.1) {
          const delay = random() * 3000;
          cancelled.add(job.id);
          setTimeout(() => job.cancel(), delay);
        }
      }
      await Promise.allSettled(jobs.map(({ job }) => job.result));
      const ms = performance.now() - t0;
      const log = prover.auditLog();
      const stats = prover.stats.value;
      prover.terminate();
      return { settled: jobs.map((j) => j.settled), cancelled: cancelled.size, log, ms, stats };
    }, fx.claims[CIRCUIT]);
    const outcomes = {};
    for (const s of out.settled) {
      assert.equal(s.finals, 1, `job ${s.id} settled once`);
      outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
    }
    assert.equal(out.settled.length, 200);
    assert.equal((outcomes.succeeded ?? 0) + (outcomes.CANCELLED ?? 0), 200, JSON.stringify(outcomes));
    assert.ok(out.log.some((e) => e.kind === 'worker-crashed'), 'the injected crash happened');
    // Priority order: among first attempts started while jobs of several priorities waited, a
    // job never starts while a higher-priority job submitted earlier still waits.
    const startedOnce = new Set();
    const waiting = new Map();
    const rank = { LOW: 0, NORMAL: 1, HIGH: 2, CRITICAL: 3 };
    let inversions = 0;
    for (const e of out.log) {
      if (e.kind === 'submitted') waiting.set(e.job, e);
      if (e.kind === 'cancelled' || e.kind === 'failed' || e.kind === 'succeeded') waiting.delete(e.job);
      if (e.kind !== 'started') continue;
      if (!startedOnce.has(e.job)) {
        for (const w of waiting.values()) {
          if (w.job !== e.job && rank[w.priority] > rank[e.priority]) inversions++;
        }
      }
      startedOnce.add(e.job);
      waiting.delete(e.job);
    }
    assert.equal(inversions, 0, 'no job started ahead of a waiting higher-priority job');
    console.log(
      `load test: 200 jobs in ${(out.ms / 1000).toFixed(1)} s, outcomes ${JSON.stringify(outcomes)}, ` +
        `${out.cancelled} cancel calls, p50 ${out.stats.durations[CIRCUIT]?.p50?.toFixed(0)} ms, ` +
        `p95 ${out.stats.durations[CIRCUIT]?.p95?.toFixed(0)} ms, success rate ${out.stats.successRate}`,
    );
  });
});
