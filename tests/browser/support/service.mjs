// The prover service as it runs, for browser tests: Debian's redis-server (append-only, in a
// temporary directory, on a free loopback port), `airprover serve` (CORS for the test page's
// origin, an API key) and one `airprover worker`, all started here and stopped by `close()`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CLI } from './fixture.mjs';

export const API_KEY = 'browser-test-key-0123456789';

function freePort() {
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

/** Redis, `serve` and one worker proving with the keys in `keys`; `origin` may call it. */
export async function startService({ keys, origin }) {
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
  writeFileSync(join(dir, 'api-keys.json'), JSON.stringify({ keys: [{ name: 'browser', key: API_KEY }] }));
  const port = await freePort();
  start(CLI, ['serve', '--redis', redis, '--keys', keys, '--listen', `127.0.0.1:${port}`,
    '--api-keys', join(dir, 'api-keys.json'), '--cors-origin', origin]);
  await waitPort(port);
  start(CLI, ['worker', '--redis', redis, '--keys', keys, '--threads', '1', '--id', 'browser-test',
    '--state', join(dir, 'worker')]);
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const p of procs) p.kill('SIGKILL');
      await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode ? null : new Promise((ok) => p.once('exit', ok)))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
