// The prover service as it runs, for browser tests: Debian's redis-server (append-only, in a
// temporary directory, on a free loopback port), `airprover serve` (CORS for the test pages'
// origins, an API key, a sealing key), prover workers and (with a campaigns file) relayer
// workers, all started here and stopped by `close()`.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CLI } from './fixture.mjs';

export const API_KEY = 'browser-test-key-0123456789';

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitPort(port, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const up = await new Promise((ok) => {
      const c = connect(port, '127.0.0.1', () => {
        c.end();
        ok(true);
      });
      c.once('error', () => ok(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/**
 * Redis, `serve` (on `port`, or a free one) and `provers` workers proving with the keys in `keys`;
 * with `campaigns`, the claim relayer too (`serve --campaigns` and `relays` relay workers).
 * `origins` may call it. `apiKey: false` leaves the API open (as `make demo` does).
 */
export async function startService({ keys, origins, port = null, campaigns = null, provers = 1, relays = 0, apiKey = true }) {
  const dir = mkdtempSync(join(tmpdir(), 'airprover-service-'));
  const procs = [];
  const start = (cmd, args) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    p.stderrTail = () => err;
    procs.push(p);
    return p;
  };
  const redisPort = await freePort();
  start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
  await waitPort(redisPort);
  const redis = `redis://127.0.0.1:${redisPort}/`;
  port ??= await freePort();
  // Task inputs (claims, secrets included) are stored in Redis only sealed with this key.
  const sealingKey = join(dir, 'sealing.key');
  const made = spawnSync(CLI, ['sealing-key', 'new', '--out', sealingKey], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`airprover sealing-key new: ${made.stderr}`);
  const serveArgs = ['serve', '--redis', redis, '--keys', keys, '--listen', `127.0.0.1:${port}`,
    '--sealing-key', sealingKey];
  if (apiKey) {
    // The keys file holds the key's SHA-256, never the key (and must be private: mode 0600).
    const keySha256 = createHash('sha256').update(API_KEY).digest('hex');
    writeFileSync(join(dir, 'api-keys.json'), JSON.stringify({ keys: [{ name: 'browser', keySha256, role: 'admin' }] }), { mode: 0o600 });
    serveArgs.push('--api-keys', join(dir, 'api-keys.json'));
  }
  for (const origin of origins) serveArgs.push('--cors-origin', origin);
  if (campaigns) serveArgs.push('--campaigns', campaigns);
  const serve = start(CLI, serveArgs);
  await waitPort(port).catch((e) => {
    throw new Error(`${e.message}: ${serve.stderrTail()}`);
  });
  for (let i = 0; i < provers; i++) {
    start(CLI, ['worker', '--redis', redis, '--keys', keys, '--threads', '1', '--id', `prover-${i}`,
      '--state', join(dir, `worker-${i}`), '--sealing-key', sealingKey]);
  }
  for (let i = 0; i < relays; i++) start(CLI, ['relay', '--redis', redis, '--campaigns', campaigns, '--id', `relay-${i}`]);
  return {
    url: `http://127.0.0.1:${port}`,
    redis,
    /** Prover worker `i`'s --state directory (its worker.key). */
    workerState: (i) => join(dir, `worker-${i}`),
    async close() {
      for (const p of procs) p.kill('SIGKILL');
      await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode ? null : new Promise((ok) => p.once('exit', ok)))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
