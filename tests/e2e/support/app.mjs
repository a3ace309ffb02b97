// The claim app as `make demo` serves it: www/dist (built by `make app`) with or without the
// COOP/COEP headers, a local chain deployed by contracts/scripts/deploy-local.mjs, and pages that
// record every page error and console error. Browser launch and the static server are
// tests/browser's (support/).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { startServer } from '../../browser/support/server.mjs';
import { freePort, startService } from '../../browser/support/service.mjs';

export { launch } from '../../browser/support/browser.mjs';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const DIST = join(ROOT, 'www/dist');
export const PUBLIC = join(ROOT, 'www/public');
export const OUTPUT = join(ROOT, 'tests/e2e/output');
/** The CLI: $AIRPROVER_BIN (`make test` sets it to its native build's binary), else the release build. */
export const CLI = process.env.AIRPROVER_BIN ?? join(ROOT, 'target/release/airprover');
/** The circuit whose verifier the demo chain's airdrop uses (the Makefile's DEMO_CHAIN_CIRCUIT). */
export const CHAIN_CIRCUIT = process.env.DEMO_CHAIN_CIRCUIT ?? 'threshold-d20-k4';

export function demoClaim() {
  return JSON.parse(readFileSync(join(PUBLIC, 'campaign/claim.json'), 'utf8'));
}

export function output(...parts) {
  const dir = join(OUTPUT, ...parts.slice(0, -1));
  mkdirSync(dir, { recursive: true });
  return join(OUTPUT, ...parts);
}

/**
 * anvil on 127.0.0.1 (a free port) with the demo campaign deployed, and its claim relayer (the
 * relayer's campaign configuration and DEVELOPMENT key written by deploy-local, as `make demo`
 * does it; the service is started by `startRelayer`). Resolves to { file, config, relayerPort,
 * campaigns, stop() }; stop() ends that anvil (by its pid) and nothing else.
 */
export async function startChain() {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('www/dist is missing: run `make app`');
  const dir = mkdtempSync(join(tmpdir(), 'airprover-e2e-chain-'));
  const file = join(dir, 'chain.json');
  const relayerPort = await freePort();
  execFileSync('node', [
    join(ROOT, 'contracts/scripts/deploy-local.mjs'),
    '--keys', join(PUBLIC, 'keys'),
    '--circuit', CHAIN_CIRCUIT,
    '--claim', join(PUBLIC, 'campaign/claim.json'),
    '--port', '0',
    '--out', file,
    '--detach',
    '--relayer-url', `http://127.0.0.1:${relayerPort}`,
    '--campaigns', join(dir, 'campaigns.json'),
    '--relayer-key-file', join(dir, 'relayer.key'),
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const config = JSON.parse(readFileSync(file, 'utf8'));
  return {
    file,
    config,
    relayerPort,
    campaigns: join(dir, 'campaigns.json'),
    relayerKeyFile: join(dir, 'relayer.key'),
    stop() {
      try {
        process.kill(config.anvilPid, 'SIGTERM');
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Redis, `serve --campaigns` (open, as in `make demo`) and one relayer worker for `chain`. */
export function startRelayer(chain, origins) {
  return startService({
    keys: join(PUBLIC, 'keys'),
    origins,
    port: chain.relayerPort,
    campaigns: chain.campaigns,
    provers: 0,
    relays: 1,
    apiKey: false,
  });
}

/** www/dist and chain.json on 127.0.0.1, cross-origin isolated or not. */
export function serveApp({ isolated, chainFile }) {
  return startServer({ isolated, mounts: { '/chain.json': chainFile, '/': DIST } });
}

/**
 * A fresh browser context (its own IndexedDB) and the app loaded in it: the campaign's tree
 * hashed and the demo identity's score shown. `page.problems` collects page and console errors.
 */
export async function openApp(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  await load(page, url);
  return page;
}

export async function load(page, url) {
  if (url) await page.goto(url);
  else await page.reload();
  await page.getByTestId('score').waitFor({ timeout: 60_000 });
}

/** Clicks Prove and resolves to the new job card (by its number, so later cards do not shift it). */
export async function prove(page) {
  const before = await page.getByTestId('job').count();
  await page.getByTestId('prove').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=job]').length > n, before);
  const n = await page.getByTestId('job').first().getAttribute('data-job');
  return page.locator(`[data-testid=job][data-job="${n}"]`);
}

/** Waits until a job card leaves the running state; returns its state. */
export async function settled(card, timeout = 180_000) {
  await card.page().waitForFunction(
    (el) => el.dataset.state !== 'running',
    await card.elementHandle(),
    { timeout },
  );
  return card.getAttribute('data-state');
}
