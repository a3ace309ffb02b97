// Keys and claims made by the native CLI for the browser tests: development keys (fixed seed),
// for tests only. Regenerated when missing; the CLI is built by `make`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CLI = join(ROOT, 'target/release/airprover');
export const DIR = join(ROOT, 'target/browser-fixture');
export const CIRCUIT = 'threshold-d4-k2';

function cli(...args) {
  return execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Keys for `circuits` under DIR/keys (manifest.json there) and one sample claim each. */
export function fixture(circuits = [CIRCUIT]) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`cargo build --release --bin airprover\``);
  mkdirSync(join(DIR, 'keys'), { recursive: true });
  const claims = {};
  for (const circuit of circuits) {
    if (!existsSync(join(DIR, 'keys', `${circuit}.pk`))) {
      cli('setup', '--circuit', circuit, '--out', join(DIR, 'keys'), '--seed', '1');
    }
    const claimFile = join(DIR, `${circuit}.claim.json`);
    if (!existsSync(claimFile)) cli('sample', '--circuit', circuit, '--out', claimFile, '--seed', '7');
    claims[circuit] = JSON.parse(readFileSync(claimFile, 'utf8'));
  }
  return { dir: DIR, claims };
}
