// The page-worker protocol on the worker's side: the worker files as the build lays them out
// (pkg/) type-check against protocol.d.ts (the TypeScript side of src/runtime/protocol.rs) and
// the wasm builds' generated declarations, and so does the bench page's side (benches/browser/
// page.mjs, which drives a prover worker directly); a message off the protocol does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const PKG = join(here, '..', '..', 'pkg');

function typecheck(args) {
  const run = spawnSync(process.execPath, [tsc, ...args], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('the worker files type-check against the protocol and the wasm declarations', () => {
  const { status, output } = typecheck(['-p', join(here, 'tsconfig.worker.json')]);
  assert.equal(status, 0, output);
});

test("the bench page's messages type-check against the protocol", () => {
  const { status, output } = typecheck(['-p', join(here, 'tsconfig.bench.json')]);
  assert.equal(status, 0, output);
});

test('a message off the protocol fails the check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airprover-protocol-'));
  try {
    const file = join(dir, 'bad.js');
    writeFileSync(
      file,
      [
        `/** @param {import(${JSON.stringify(join(PKG, 'protocol'))}).WorkerMessage} m */`,
        'function post(m) {}',
        "post({ type: 'airprover:job-result', id: 1, value: { proof: {}, publicSignals: [] } });",
        "post({ type: 'airprover:ready', build: 'threads', info: { threaded: true }, ms: 1 });",
      ].join('\n'),
    );
    const { status, output } = typecheck([
      '--noEmit', '--allowJs', '--checkJs', '--target', 'es2022', '--module', 'es2022',
      '--moduleResolution', 'bundler', '--lib', 'es2022,webworker', file,
    ]);
    assert.notEqual(status, 0);
    assert.match(output, /bad\.js\(3,.*'ms' is missing/s, output);
    assert.match(output, /bad\.js\(4,.*"threads"/s, output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
