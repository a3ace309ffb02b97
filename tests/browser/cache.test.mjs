// IndexedDB in a real Chromium: the proof cache (hits, checks, LRU), the proving-key cache (no
// second download, tamper detection), the durable queue across a reload, a second tab, and life
// without IndexedDB. Each test gets a fresh browser context, so a fresh origin storage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { launch } from './support/browser.mjs';
import { CIRCUIT, ROOT, fixture } from './support/fixture.mjs';
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

const PK = `/keys/${CIRCUIT}.pk`;
const VK = `/keys/${CIRCUIT}.vk`;
const fetched = (path) => server.requests.filter((p) => p === path).length;

/** Loads the test page in `page` and waits for the package. */
async function load(page) {
  await page.waitForFunction(() => window.airproverReady === true || window.airproverFailed, null, { timeout: 60_000 });
  const failed = await page.evaluate(() => window.airproverFailed);
  if (failed) throw new Error(`the test page did not load: ${failed}`);
}

/** A page in a fresh context (its own IndexedDB); errors on the page fail the test. */
async function context(t, { initScript } = {}) {
  const ctx = await browser.newContext();
  const pages = [];
  const open = async () => {
    const page = await ctx.newPage();
    page.problems = [];
    page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') page.problems.push(`console.error: ${m.text()}`);
    });
    if (initScript) await page.addInitScript(initScript);
    await page.goto(`${server.url}/page.html`);
    await load(page);
    pages.push(page);
    return page;
  };
  t.after(async () => {
    const problems = pages.flatMap((p) => p.problems);
    await ctx.close();
    assert.deepEqual(problems, [], 'no page error or console error');
  });
  return { open };
}

/** Page-side helpers, installed into the page before each evaluate that needs them. */
const HELPERS = () => {
  window.idb = {
    open: (name = 'airprover') =>
      new Promise((ok, fail) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      }),
    async all(store) {
      const db = await idb.open();
      return new Promise((ok, fail) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => {
          db.close();
          ok(r.result);
        };
        r.onerror = () => fail(r.error);
      });
    },
    async put(store, value) {
      const db = await idb.open();
      return new Promise((ok, fail) => {
        const tx = db.transaction(store, 'readwrite');
        tx.objectStore(store).put(value);
        tx.oncomplete = () => {
          db.close();
          ok();
        };
        tx.onerror = () => fail(tx.error);
      });
    },
    async until(store, predicate, ms = 10_000) {
      const t0 = performance.now();
      for (;;) {
        const rows = await idb.all(store);
        if (predicate(rows)) return rows;
        if (performance.now() - t0 > ms) throw new Error(`${store}: condition not met in ${ms} ms`);
        await new Promise((ok) => setTimeout(ok, 50));
      }
    },
  };
  window.prove = async (prover, claim) => {
    const seen = [];
    const t0 = performance.now();
    const result = await prover.submit(claim, { onProgress: (p) => seen.push({ ...p }) }).result;
    return { result, ms: performance.now() - t0, cached: seen.at(-1).cached, stages: seen.map((p) => p.stage) };
  };
};

const variant = (claim, n) => ({ ...claim, campaignId: String(5000 + n) });

describe('cache', () => {
  test('a repeated claim is answered from the cache, checked, well under the proving time', async (t) => {
    const p = await (await context(t)).open();
    await p.evaluate(HELPERS);
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      const first = await prove(prover, claim);
      // The same claim spelled differently: decimal campaign id, keys in another order.
      const respelled = Object.fromEntries(Object.entries({ ...claim, campaignId: String(BigInt(claim.campaignId)) }).reverse());
      const second = await prove(prover, respelled);
      await idb.until('proofs', (rows) => rows.length === 1);
      const records = await idb.all('proofs');
      const stats = prover.cacheStats.value;
      const kinds = prover.auditLog().map((e) => e.kind);
      prover.terminate();
      return { first, second, records, stats, kinds, status: prover.status.value.storage };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.first.cached, false);
    assert.equal(out.second.cached, true);
    assert.deepEqual(out.second.result.publicSignals, out.first.result.publicSignals);
    assert.ok(out.second.ms < out.first.ms / 3, `cached ${out.second.ms} ms vs proved ${out.first.ms} ms`);
    assert.ok(!out.second.stages.includes('proving'), out.second.stages.join());
    assert.ok(out.kinds.includes('cache-hit'), out.kinds.join());
    assert.equal(out.stats.hits, 1);
    assert.equal(out.stats.misses, 1);
    assert.equal(out.stats.hitRate, 0.5);
    assert.equal(out.stats.entries, 1);
    assert.ok(out.stats.bytes > 500, `${out.stats.bytes} bytes`);
    assert.deepEqual(out.status.available, true);
    // The record: proof and public signals, never the secret or the attestations.
    const text = JSON.stringify(out.records);
    const claim = fx.claims[CIRCUIT];
    for (const secretish of [claim.secret, BigInt(claim.secret).toString(), claim.attestations[0].attester, claim.attestations[0].siblings[0]]) {
      assert.ok(!text.toLowerCase().includes(String(secretish).toLowerCase()), `${secretish} is not stored`);
    }
    assert.deepEqual(Object.keys(out.records[0]).sort(), ['bytes', 'circuit', 'digest', 'format', 'key', 'lastUsed', 'proof', 'publicSignals', 'vkSha256']);
    console.log(`proof cache: proved in ${out.first.ms.toFixed(0)} ms, answered from the cache in ${out.second.ms.toFixed(0)} ms`);
  });

  test('after a reload the cached proof and the keys are still there: no key is downloaded again', async (t) => {
    const p = await (await context(t)).open();
    const claim = fx.claims[CIRCUIT];
    const [pk0, vk0] = [fetched(PK), fetched(VK)];
    await p.evaluate(HELPERS);
    await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      await prove(prover, claim);
      // The proof, the proving key and the verifying key are in IndexedDB.
      await idb.until('keys', (rows) => rows.length === 2);
      await idb.until('proofs', (rows) => rows.length === 1);
      prover.terminate();
    }, claim);
    assert.equal(fetched(PK) - pk0, 1, 'the proving key was downloaded once');
    assert.equal(fetched(VK) - vk0, 1, 'the verifying key was downloaded once');
    await p.reload();
    await load(p);
    await p.evaluate(HELPERS);
    const out = await p.evaluate(async ({ claim, other }) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      const again = await prove(prover, claim);
      const fresh = await prove(prover, other);
      const stats = prover.cacheStats.value;
      prover.terminate();
      return { again: again.cached, fresh: fresh.cached, signals: fresh.result.publicSignals.length, stats };
    }, { claim, other: variant(claim, 1) });
    assert.equal(out.again, true, 'the proof came from the cache');
    assert.equal(out.fresh, false);
    assert.equal(out.signals, 5);
    assert.equal(fetched(PK) - pk0, 1, 'the proving key was read from IndexedDB, not downloaded');
    assert.equal(fetched(VK) - vk0, 1, 'the verifying key was read from IndexedDB, not downloaded');
    assert.equal(out.stats.keys.downloads, 0);
    assert.ok(out.stats.keys.hits >= 2, JSON.stringify(out.stats.keys));
  });

  test('a tampered proof record is detected, evicted and recomputed', async (t) => {
    const p = await (await context(t)).open();
    await p.evaluate(HELPERS);
    const out = await p.evaluate(async ({ claim, other }) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      await prove(prover, claim);
      await prove(prover, other);
      const [a, b] = await idb.until('proofs', (rows) => rows.length === 2);
      const mine = [a, b].find((r) => r.publicSignals[1] !== other.campaignId);
      const theirs = [a, b].find((r) => r !== mine);
      // 1. A coordinate of the proof edited.
      const edited = structuredClone(mine);
      edited.proof.pi_a[0] = '1';
      await idb.put('proofs', edited);
      const afterEdit = await prove(prover, claim);
      // 2. Another claim's valid proof filed under this claim's key (digest and all copied).
      await idb.until('proofs', (rows) => rows.length === 2 && rows.every((r) => r.proof.pi_a[0] !== '1'));
      await idb.put('proofs', { ...structuredClone(theirs), key: mine.key });
      const afterSwap = await prove(prover, claim);
      const stored = await idb.until('proofs', (rows) => rows.find((r) => r.key === mine.key)?.publicSignals[1] === mine.publicSignals[1]);
      const third = await prove(prover, claim);
      const stats = prover.cacheStats.value;
      const kinds = prover.auditLog().map((e) => e.kind);
      prover.terminate();
      return { afterEdit: afterEdit.cached, afterSwap: afterSwap.cached, third: third.cached, signals: afterSwap.result.publicSignals, mine: mine.publicSignals, stats, kinds, stored: stored.length };
    }, { claim: fx.claims[CIRCUIT], other: variant(fx.claims[CIRCUIT], 2) });
    assert.equal(out.afterEdit, false, 'an edited proof is not used');
    assert.equal(out.afterSwap, false, "another claim's proof is not used");
    assert.deepEqual(out.signals, out.mine, 'the recomputed proof is for this claim');
    assert.equal(out.third, true, 'the recomputed proof was cached again');
    assert.equal(out.stats.rejected, 2);
    assert.equal(out.kinds.filter((k) => k === 'cache-rejected').length, 2);
  });

  test('a tampered or truncated key record is detected, dropped and downloaded again', async (t) => {
    const p = await (await context(t)).open();
    await p.evaluate(HELPERS);
    const pk0 = fetched(PK);
    const out = await p.evaluate(async (claims) => {
      const manifest = await (await fetch('/keys/manifest.json')).json();
      const sha = manifest.circuits[0].files.provingKey.sha256;
      const run = async (claim) => {
        const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
        const out = await prove(prover, claim);
        const stats = prover.cacheStats.value.keys;
        prover.terminate();
        return { signals: out.result.publicSignals.length, stats };
      };
      await run(claims[0]);
      const key = (await idb.until('keys', (rows) => rows.some((r) => r.sha256 === sha))).find((r) => r.sha256 === sha);
      const flipped = structuredClone(key);
      flipped.bytes[flipped.bytes.length >> 1] ^= 1;
      await idb.put('keys', flipped);
      const afterFlip = await run(claims[1]);
      await idb.until('keys', (rows) => rows.some((r) => r.sha256 === sha && r.bytes.length === key.bytes.length));
      await idb.put('keys', { ...structuredClone(key), bytes: key.bytes.slice(0, key.bytes.length - 100) });
      const afterCut = await run(claims[2]);
      const intact = await idb.until('keys', (rows) => rows.some((r) => r.sha256 === sha && r.bytes.length === key.bytes.length));
      return { afterFlip, afterCut, intact: intact.length };
    }, [1, 2, 3].map((n) => variant(fx.claims[CIRCUIT], 10 + n)));
    for (const run of [out.afterFlip, out.afterCut]) {
      assert.equal(run.signals, 5, 'the proof is made with the downloaded key');
      assert.equal(run.stats.integrityFailures, 1);
      assert.equal(run.stats.downloads, 1);
    }
    assert.equal(fetched(PK) - pk0, 3, 'downloaded at first and after each tampering, never used tampered');
  });

  test('LRU eviction under the byte bound evicts the least recently used proof', async (t) => {
    const p = await (await context(t)).open();
    await p.evaluate(HELPERS);
    const out = await p.evaluate(async (claims) => {
      // One record's size, to set a bound that holds two records but not three.
      let prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      await prove(prover, claims[0]);
      const [record] = await idb.until('proofs', (rows) => rows.length === 1);
      const size = record.bytes;
      await prover.clearCache();
      prover.terminate();
      const maxBytes = Math.floor(size * 2.5);
      prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        storage: { proofCache: { maxEntries: 100, maxBytes } },
      });
      const campaigns = async () => (await idb.all('proofs')).sort((a, b) => a.lastUsed - b.lastUsed).map((r) => r.publicSignals[1]);
      await prove(prover, claims[0]);
      await prove(prover, claims[1]);
      await idb.until('proofs', (rows) => rows.length === 2);
      const hit = (await prove(prover, claims[0])).cached; // refreshes claim 0
      const beforeThird = await campaigns();
      await prove(prover, claims[2]);
      await idb.until('proofs', (rows) => rows.some((r) => r.publicSignals[1] === claims[2].campaignId));
      const afterThird = await campaigns();
      const stats = prover.cacheStats.value;
      const again1 = (await prove(prover, claims[1])).cached;
      prover.terminate();
      return { size, maxBytes, hit, beforeThird, afterThird, stats, again1 };
    }, [1, 2, 3].map((n) => variant(fx.claims[CIRCUIT], 20 + n)));
    const [c0, c1, c2] = [21, 22, 23].map((n) => String(5000 + n));
    assert.equal(out.hit, true);
    assert.deepEqual(out.beforeThird, [c1, c0], 'the hit made claim 0 the most recently used');
    assert.deepEqual(out.afterThird, [c0, c2], 'claim 1, least recently used, was evicted');
    assert.equal(out.stats.entries, 2);
    assert.ok(out.stats.bytes <= out.maxBytes, `${out.stats.bytes} <= ${out.maxBytes}`);
    assert.equal(out.stats.evictions, 1);
    assert.equal(out.again1, false, 'the evicted claim is proved again');
  });

  test('by default no job is stored: the claim and its secret stay in memory', async (t) => {
    const p = await (await context(t)).open();
    await p.evaluate(HELPERS);
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        workers: 1,
        faultInjection: { stallAtStage: 'msm-h', stallMs: 60_000, times: 1 },
      });
      const job = prover.submit(claim);
      job.result.catch(() => {});
      await new Promise((ok) => job.progress.subscribe((v) => v.stage === 'proving' && ok()));
      // Long enough for a store to have landed (the durable test sees it within a few ms).
      await new Promise((ok) => setTimeout(ok, 500));
      const rows = await idb.all('jobs');
      const durable = prover.status.value.storage.durableQueue;
      const stored = await job.stored;
      job.cancel();
      prover.terminate();
      return { rows: rows.length, durable, stored };
    }, variant(fx.claims[CIRCUIT], 30));
    assert.deepEqual(out, { rows: 0, durable: false, stored: false });
  });

  test('a job queued before a reload completes after it; its claim is sealed at rest', async (t) => {
    const p = await (await context(t)).open();
    await p.evaluate(HELPERS);
    const claims = [variant(fx.claims[CIRCUIT], 31), variant(fx.claims[CIRCUIT], 32)];
    const before = await p.evaluate(async (claims) => {
      const prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        workers: 1,
        storage: { durableQueue: true },
        // The first job blocks its worker, so the second stays queued until the reload.
        faultInjection: { stallAtStage: 'msm-h', stallMs: 60_000, times: 1 },
      });
      const jobs = claims.map((c) => prover.submit(c));
      jobs.forEach((j) => j.result.catch(() => {}));
      await new Promise((ok) => jobs[0].progress.subscribe((v) => v.stage === 'proving' && ok()));
      const told = await Promise.all(jobs.map((j) => j.stored));
      const stored = await idb.until('jobs', (rows) => rows.length === 2);
      // What a reader of the database's files would find: no claim, no secret, in any encoding.
      const secret = claims[0].secret;
      const text = (v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : JSON.stringify(v));
      const leaks = stored.filter((r) => 'claim' in r || [r, r.sealedClaim?.data].some((v) => text(v).includes(secret)));
      const [key] = await idb.all('secrets');
      return {
        states: jobs.map((j) => j.progress.value.stage),
        told,
        sealed: stored.every((r) => r.sealedClaim?.data instanceof Uint8Array && r.sealedClaim.iv.length === 12),
        leaks: leaks.length,
        key: { type: key?.constructor?.name, extractable: key?.extractable, algorithm: key?.algorithm?.name },
      };
    }, claims);
    assert.deepEqual(before.states, ['proving', 'queued']);
    assert.deepEqual(before.told, [true, true], 'job.stored says both are durable');
    assert.equal(before.sealed, true, 'both jobs are stored, their claims sealed');
    assert.equal(before.leaks, 0, 'no claim or secret readable in IndexedDB');
    assert.deepEqual(before.key, { type: 'CryptoKey', extractable: false, algorithm: 'AES-GCM' });
    await p.reload();
    await load(p);
    await p.evaluate(HELPERS);
    const out = await p.evaluate(async (claims) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', workers: 1, storage: { durableQueue: true } });
      const resumed = prover.resumed();
      const results = await Promise.all(resumed.map((j) => j.result));
      await idb.until('jobs', (rows) => rows.length === 0);
      const cached = await Promise.all(claims.map(async (c) => (await prove(prover, c)).cached));
      const log = await prover.persistedAuditLog();
      prover.terminate();
      return {
        resumed: resumed.length,
        signals: results.map((r) => r.publicSignals[1]).sort(),
        cached,
        kinds: log.map((e) => e.kind),
        sessions: new Set(log.map((e) => e.session)).size,
      };
    }, claims);
    assert.equal(out.resumed, 2);
    assert.deepEqual(out.signals, ['5031', '5032']);
    assert.deepEqual(out.cached, [true, true], 'their proofs were cached, and their records removed');
    assert.equal(out.kinds.filter((k) => k === 'resumed').length, 2);
    assert.equal(out.sessions, 2, 'the persisted audit log spans both page loads');
  });

  test('a stored job refused at start (queue full) keeps its record and runs when there is room', async (t) => {
    const p = await (await context(t)).open();
    await p.evaluate(HELPERS);
    const claims = [variant(fx.claims[CIRCUIT], 33), variant(fx.claims[CIRCUIT], 34)];
    await p.evaluate(async (claims) => {
      const prover = await airprover.createProver({
        manifestUrl: '/keys/manifest.json',
        workers: 1,
        storage: { durableQueue: true },
        faultInjection: { stallAtStage: 'msm-h', stallMs: 60_000, times: 1 },
      });
      const jobs = claims.map((c) => prover.submit(c));
      jobs.forEach((j) => j.result.catch(() => {}));
      await idb.until('jobs', (rows) => rows.length === 2);
    }, claims);
    await p.reload();
    await load(p);
    await p.evaluate(HELPERS);
    const out = await p.evaluate(async () => {
      // Room for one job: the second stored job is refused with QUEUE_FULL at start.
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', workers: 1, capacity: 1, storage: { durableQueue: true } });
      const resumed = prover.resumed();
      const atStart = resumed.length;
      const kept = (await idb.all('jobs')).length;
      const first = await resumed[0].result;
      // When the first ends, the refused one is tried again and accepted.
      const t0 = performance.now();
      while (resumed.length < 2 && performance.now() - t0 < 30_000) await new Promise((ok) => setTimeout(ok, 50));
      const second = resumed.length === 2 ? await resumed[1].result : null;
      await idb.until('jobs', (rows) => rows.length === 0);
      prover.terminate();
      return { atStart, kept, signals: [first.publicSignals[1], second?.publicSignals[1]].sort() };
    });
    assert.equal(out.atStart, 1, 'one stored job fits');
    assert.equal(out.kept, 2, "the refused job's record is kept");
    assert.deepEqual(out.signals, ['5033', '5034'], 'both stored jobs ran');
  });

  test('a second tab sees the same cache', async (t) => {
    const ctx = await context(t);
    const [a, b] = [await ctx.open(), await ctx.open()];
    const claim = variant(fx.claims[CIRCUIT], 41);
    await a.evaluate(HELPERS);
    await a.evaluate(async (claim) => {
      window.prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      await prove(prover, claim);
      await idb.until('proofs', (rows) => rows.length === 1);
    }, claim);
    await b.evaluate(HELPERS);
    const out = await b.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      const r = await prove(prover, claim);
      const entries = prover.cacheStats.value.entries;
      prover.terminate();
      return { cached: r.cached, entries };
    }, claim);
    assert.equal(out.cached, true);
    assert.equal(out.entries, 1);
    // A tab that needs a newer schema: the first tab closes its connection and goes on uncached.
    const closed = await a.evaluate(async (claim) => {
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open('airprover', 99);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      db.close();
      const storage = prover.status.value.storage;
      const again = await prove(prover, { ...claim, campaignId: '777' });
      prover.terminate();
      return { storage, cached: again.cached, signals: again.result.publicSignals.length };
    }, claim);
    assert.equal(closed.storage.available, false);
    assert.match(closed.storage.reason, /newer version/);
    assert.equal(closed.signals, 5);
  });

  test('without IndexedDB proofs still work, uncached, and the status says so', async (t) => {
    const initScript = () => {
      Object.defineProperty(window, 'indexedDB', {
        get() {
          throw new DOMException('IndexedDB is disabled in this test', 'InvalidStateError');
        },
      });
    };
    const p = await (await context(t, { initScript })).open();
    const out = await p.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      const first = await prover.submit(claim).result;
      const progress = [];
      await prover.submit(claim, { onProgress: (v) => progress.push(v.cached) }).result;
      const status = prover.status.value.storage;
      const stats = prover.cacheStats.value;
      await prover.clearCache();
      prover.terminate();
      return { signals: first.publicSignals.length, cached: progress.at(-1), status, stats };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.signals, 5);
    assert.equal(out.cached, false);
    assert.equal(out.status.available, false);
    assert.match(out.status.reason, /disabled in this test/);
    assert.equal(out.stats.enabled, false);
  });

  test('a full quota: proofs are returned all the same and the status says so', async (t) => {
    const p = await (await context(t)).open();
    const out = await p.evaluate(async (claim) => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (value, key) {
        if (this.name === 'proofs') throw new DOMException('quota exceeded (test)', 'QuotaExceededError');
        return put.call(this, value, key);
      };
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      const r = await prover.submit(claim).result;
      const t0 = performance.now();
      while (!prover.status.value.storage.quotaExceeded && performance.now() - t0 < 5000) {
        await new Promise((ok) => setTimeout(ok, 50));
      }
      const storage = prover.status.value.storage;
      prover.terminate();
      return { signals: r.publicSignals.length, storage };
    }, fx.claims[CIRCUIT]);
    assert.equal(out.signals, 5);
    assert.equal(out.storage.quotaExceeded, true);
    assert.equal(out.storage.available, true);
  });

  test('a new manifest evicts older keys and proofs; storage: false stores nothing', async (t) => {
    const p = await (await context(t)).open();
    await p.evaluate(HELPERS);
    const out = await p.evaluate(async () => {
      let prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      prover.terminate();
      // Left by an earlier manifest: a key and a proof made under another verifying key.
      await idb.put('keys', { sha256: 'ff'.repeat(32), url: '/keys/old.pk', bytes: new Uint8Array(8), size: 8, storedAt: 0 });
      await idb.put('proofs', { format: 1, key: 'ab'.repeat(32), circuit: 'threshold-d4-k2', vkSha256: 'ee'.repeat(32), proof: {}, publicSignals: [], bytes: 10, lastUsed: 1, digest: '' });
      prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json' });
      const stats = prover.cacheStats.value;
      prover.terminate();
      const left = { keys: (await idb.all('keys')).length, proofs: (await idb.all('proofs')).length };
      const bad = await airprover.createProver({ manifestUrl: '/keys/manifest.json', storage: { proofcache: false } }).then(
        () => 'accepted',
        (e) => e.code,
      );
      return { stats, left, bad };
    });
    assert.equal(out.stats.keys.evicted, 1);
    assert.equal(out.stats.rejected, 1);
    assert.deepEqual(out.left, { keys: 0, proofs: 0 });
    assert.equal(out.bad, 'INVALID_INPUT', 'a misspelt storage option is refused');

    const q = await (await context(t)).open();
    const none = await q.evaluate(async (claim) => {
      const prover = await airprover.createProver({ manifestUrl: '/keys/manifest.json', storage: false });
      await prover.submit(claim).result;
      const storage = prover.status.value.storage;
      prover.terminate();
      return { databases: (await indexedDB.databases()).map((d) => d.name), storage };
    }, fx.claims[CIRCUIT]);
    assert.deepEqual(none.databases, []);
    assert.equal(none.storage.available, false);
  });
});
