// Keys and claims made by the native CLI for the browser tests: development keys (fixed seed),
// for tests only. Regenerated when missing; the CLI ($AIRPROVER_BIN, which `make test` sets to the
// binary its native build made, else the release build) is built by `make`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CLI = process.env.AIRPROVER_BIN ?? join(ROOT, 'target/release/airprover');
export const DIR = join(ROOT, 'target/browser-fixture');
export const CIRCUIT = 'threshold-d4-k2';

function cli(...args) {
  return execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The campaign id of the airdrop that contracts/lib's deployCampaign puts on a fresh anvil (chain
 * 31337; its public account 0 deploys the verifier, the token, then the airdrop with nonce 2):
 * the claims are made for it, so that a browser proof can be claimed on anvil (peers.test.mjs).
 */
export const devCampaign = () =>
  cli('campaign-id', '--chain-id', '31337', '--deployer', '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '--nonce', '2').trim();

/** Keys for `circuits` under DIR/keys (manifest.json there) and one sample claim each. */
export function fixture(circuits = [CIRCUIT]) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`cargo build --release --bin airprover\` (or set AIRPROVER_BIN)`);
  mkdirSync(join(DIR, 'keys'), { recursive: true });
  const claims = {};
  const campaign = devCampaign();
  for (const circuit of circuits) {
    if (!existsSync(join(DIR, 'keys', `${circuit}.pk`))) {
      cli('setup', '--circuit', circuit, '--out', join(DIR, 'keys'), '--seed', '1');
    }
    const claimFile = join(DIR, `${circuit}.claim.json`);
    const stale = !existsSync(claimFile) || JSON.parse(readFileSync(claimFile, 'utf8')).campaignId !== campaign;
    if (stale) cli('sample', '--circuit', circuit, '--out', claimFile, '--seed', '7', '--campaign', campaign, '--force');
    claims[circuit] = JSON.parse(readFileSync(claimFile, 'utf8'));
  }
  return { dir: DIR, claims };
}
