// The claim app end to end in Debian's Chromium, served as `make demo` serves it: the demo
// identity's claim to a verified proof (progress, copy buttons, a screenshot), that proof checked
// by the native CLI and claimed on a chain by the contracts' hook, the app's own on-chain claim
// through the relayer (Redis, `serve --campaigns`, a relay worker: phase by phase, no private key
// in the page) and the relayer's refusal of a second claim by the same identity; cancel; the proof cache across a reload;
// a page without COOP/COEP; the queue. No page error or console error in any test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { claimOnChainWithProofFiles } from '../../contracts/test/browser-proof.mjs';
import { connect } from '../../contracts/lib/chain.mjs';
import { CHAIN_CIRCUIT, CLI, OUTPUT, PUBLIC, demoClaim, launch, load, openApp, output, prove, serveApp, settled, startChain, startRelayer } from './support/app.mjs';

let browser;
let chain;
let relayer;
const servers = {};

before(async () => {
  rmSync(OUTPUT, { recursive: true, force: true });
  chain = await startChain();
  for (const isolated of [true, false]) servers[isolated] = await serveApp({ isolated, chainFile: chain.file });
  relayer = await startRelayer(chain, Object.values(servers).map((s) => s.url));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
  await relayer?.close();
  chain?.stop();
});

/** The app in a fresh context; the test fails if the page logged an error. */
async function app(t, { isolated = true, allow = null } = {}) {
  const page = await openApp(browser, `${servers[isolated].url}/index.html`);
  t.after(async () => {
    const problems = page.problems.filter((m) => !(allow && allow.test(m)));
    await page.context().close();
    assert.deepEqual(problems, [], 'no page error or console error');
  });
  return page;
}

/** Another address for the same identity's claim: a different proof (no cache, no sharing). */
function claimantVariant(n) {
  return `0x${'00'.repeat(19)}${(0xc0 + n).toString(16)}`;
}

/** The bar's values while the card runs, sampled every 50 ms, and the stages shown. */
async function watch(card) {
  const seen = { percents: [], stages: new Set() };
  for (;;) {
    const state = await card.getAttribute('data-state');
    if (state !== 'running') return { ...seen, state };
    const bar = card.getByTestId('progress');
    const [now, stage] = await Promise.all([
      bar.getAttribute('aria-valuenow', { timeout: 1000 }).catch(() => null),
      card.getByTestId('stage').textContent({ timeout: 1000 }).catch(() => null),
    ]);
    if (now !== null) seen.percents.push(Number(now));
    if (stage) seen.stages.add(stage);
    await card.page().waitForTimeout(50);
  }
}

describe('claim app', () => {
  test('the demo claim proves and verifies, is verified by the CLI, and claims on-chain once', async (t) => {
    // The relayer answers the second claim 409, which Chromium logs itself.
    const page = await app(t, { allow: /409 \(Conflict\)/ });
    const demo = demoClaim();

    // The campaign: 10,000 attestations, the root shown and recomputed; the demo identity's score.
    assert.match(await page.getByTestId('attestation-count').textContent(), /^10,000 /);
    assert.equal(await page.getByTestId('root').textContent(), demo.root);
    assert.match(await page.getByTestId('root-check').textContent(), /hashes to the published root/);
    // The campaign id (77 decimal digits) fits its card: shortened, whole in its tooltip and copy.
    const campaignId = page.getByTestId('campaign-id');
    const fullId = await campaignId.getAttribute('data-value');
    assert.match(fullId, /^\d{60,78}$/);
    assert.equal(await campaignId.getAttribute('title'), fullId);
    const shown = await campaignId.textContent();
    assert.ok(shown.length <= 21 && shown.includes('…'), `shortened: ${shown}`);
    assert.ok(fullId.startsWith(shown.split('…')[0]) && fullId.endsWith(shown.split('…')[1]));
    const campaignCard = page.getByTestId('campaign');
    const [idBox, cardBox] = [await campaignId.boundingBox(), await campaignCard.boundingBox()];
    assert.ok(idBox.x + idBox.width <= cardBox.x + cardBox.width, 'the id stays inside its card');
    await page.getByTestId('campaign-id-copy').click();
    await page.getByTestId('campaign-id-note').getByText('copied').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), fullId);
    assert.match(await page.getByTestId('score').textContent(), /eligible/);
    assert.match(await page.getByTestId('build').textContent(), /Threaded: \d+ threads/);
    assert.match(await page.getByTestId('dev-keys').textContent(), /DEVELOPMENT KEYS/);
    assert.match(await page.getByTestId('circuit').locator('option').first().textContent(), new RegExp(`auto \\(${CHAIN_CIRCUIT}\\)`));

    const card = await prove(page);
    const run = await watch(card);
    assert.equal(run.state, 'verified');
    const moves = run.percents.filter((v, i, all) => i === 0 || v !== all[i - 1]);
    assert.ok(moves.length >= 3, `the progress bar moved: ${moves}`);
    assert.deepEqual(moves, [...moves].sort((a, b) => a - b), 'and only forward');
    assert.ok(run.stages.size >= 2, `stages shown: ${[...run.stages]}`);
    assert.match(await card.getByTestId('verified').innerText(), /again on this page with the verifying key \(valid\)/);

    const proofText = await card.getByTestId('proof-json').textContent();
    const publicText = await card.getByTestId('public-json').textContent();
    await card.getByTestId('copy-proof').click();
    await card.getByText('proof.json copied').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), proofText);
    await card.getByTestId('copy-public').click();
    await card.getByText('public.json copied').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), publicText);
    const publicSignals = JSON.parse(publicText);
    assert.equal(BigInt(publicSignals[0]), BigInt(demo.root));
    assert.equal(BigInt(publicSignals[2]), BigInt(demo.claimant));
    await page.screenshot({ path: output('claim-verified.png'), fullPage: true });

    // The browser's proof verified by the native CLI (issue 3's hook: tests/interop convention),
    // then claimed on a chain of its own by the contracts' hook.
    const dir = join(OUTPUT, 'browser-proof');
    mkdirSync(join(dir, 'keys'), { recursive: true });
    writeFileSync(join(dir, 'proof.json'), proofText);
    writeFileSync(join(dir, 'public.json'), publicText);
    writeFileSync(join(dir, 'circuit'), `${CHAIN_CIRCUIT}\n`);
    for (const f of ['manifest.json', `${CHAIN_CIRCUIT}.pk`, `${CHAIN_CIRCUIT}.vk`]) copyFileSync(join(PUBLIC, 'keys', f), join(dir, 'keys', f));
    const verifyArgs = ['verify', '--keys', join(dir, 'keys'), '--circuit', CHAIN_CIRCUIT, '--proof', join(dir, 'proof.json')];
    const ok = spawnSync(CLI, [...verifyArgs, '--public', join(dir, 'public.json')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, `airprover verify: ${ok.stderr}`);
    const altered = join(dir, 'public-altered.json');
    writeFileSync(altered, JSON.stringify([String(BigInt(publicSignals[0]) + 1n), ...publicSignals.slice(1)]));
    assert.equal(spawnSync(CLI, [...verifyArgs, '--public', altered]).status, 1, 'an altered public signal does not verify');
    const hooked = await claimOnChainWithProofFiles({
      proofPath: join(dir, 'proof.json'),
      publicPath: join(dir, 'public.json'),
      keysDir: join(dir, 'keys'),
      circuit: CHAIN_CIRCUIT,
    });
    assert.match(hooked.txHash, /^0x[0-9a-f]{64}$/);

    // The app's own claim on the demo chain, through the relayer: the page holds no private key,
    // posts the proof, and shows each phase as the relayer reports it.
    const relayerKey = readFileSync(chain.relayerKeyFile, 'utf8').trim();
    const served = await page.evaluate(async () => (await fetch('/chain.json')).text());
    assert.ok(!served.includes(relayerKey.slice(2)) && !/privateKey/i.test(served), 'chain.json holds no private key');
    await card.getByTestId('claim-onchain').click();
    const txHash = await card.getByTestId('tx-hash').textContent({ timeout: 60_000 });
    assert.match(txHash, /^0x[0-9a-f]{64}$/);
    const phases = await card.getByTestId('relay-phase').evaluateAll((els) => els.map((e) => e.dataset.phase));
    assert.deepEqual(phases, ['received', 'verified', 'submitted', 'confirmed']);
    assert.match(await card.getByTestId('balance').textContent(), /^1 [A-Z]+ at 0x/, 'one token (10^18 units) to the claimant');
    // The relayer's account sent it (anvil's development account #1), not the page.
    const { publicClient } = connect(chain.config.rpcUrl, relayerKey);
    const tx = await publicClient.getTransaction({ hash: txHash });
    assert.equal(tx.from.toLowerCase(), chain.config.relayerAccount.toLowerCase());
    const balanceOf = (address) => publicClient.readContract({
      address: chain.config.token, abi: chain.config.abi.token, functionName: 'balanceOf', args: [address],
    });
    assert.equal(await balanceOf(demo.claimant), BigInt(chain.config.amount), 'the claimant bound in the proof is paid');
    const receipt = await publicClient.getTransactionReceipt({ hash: txHash });
    assert.equal(receipt.status, 'success');

    // The same identity again, for another address: a valid proof, refused by the contract.
    const other = claimantVariant(0);
    await page.getByTestId('claimant').fill(other);
    const second = await prove(page);
    assert.equal(await settled(second), 'verified');
    await second.getByTestId('claim-onchain').click();
    const refusal = await second.getByTestId('onchain-error').textContent({ timeout: 30_000 });
    assert.match(refusal, /NULLIFIER_USED/, 'the relayer refuses it before sending anything');
    assert.equal(await balanceOf(other), 0n);
    await page.screenshot({ path: output('claim-onchain.png'), fullPage: true });
  });

  test('a generated identity is not in the tree: score 0, and Prove shows the error code', async (t) => {
    const page = await app(t);
    await page.getByTestId('identity-new').check();
    await page.getByTestId('score').filter({ hasText: /^\s*0\s/ }).waitFor();
    assert.match(await page.getByTestId('score').textContent(), /not eligible/);
    await page.getByTestId('prove').click();
    const error = await page.getByTestId('submit-error').textContent();
    assert.match(error, /^INVALID_INPUT\s*attestations: has 0 entries/, 'the code, then the message naming the field');
    assert.equal(await page.getByTestId('job').count(), 0);
  });

  test('cancel stops a running proof', async (t) => {
    const page = await app(t);
    await page.getByTestId('claimant').fill(claimantVariant(1));
    const card = await prove(page);
    await card.getByTestId('stage').filter({ hasText: /Proving|witness|key/ }).waitFor({ timeout: 60_000 });
    const start = Date.now();
    await card.getByTestId('cancel').click();
    assert.equal(await settled(card, 5000), 'cancelled');
    assert.ok(Date.now() - start < 3000, 'cancelled within 3 s');
    assert.match(await card.getByTestId('cancelled').textContent(), /CANCELLED/);
    await page.waitForFunction(() => document.querySelector('[data-priority=NORMAL] [data-state=cancelled]')?.textContent === '1');
    // The runtime goes on: the next claim proves.
    const next = await prove(page);
    assert.equal(await settled(next), 'verified');
  });

  test('after a reload the same claim comes from the proof cache', async (t) => {
    const page = await app(t);
    await page.getByTestId('claimant').fill(claimantVariant(2));
    const first = await prove(page);
    assert.equal(await settled(first), 'verified');
    const proofText = await first.getByTestId('proof-json').textContent();
    // Stored before the reload: the cache counts it.
    await page.waitForFunction(() => /^[1-9]/.test(document.querySelector('[data-testid=cache-entries]')?.textContent ?? ''), null, { timeout: 10_000 });
    await load(page);
    await page.getByTestId('claimant').fill(claimantVariant(2));
    const again = await prove(page);
    assert.equal(await settled(again, 30_000), 'verified');
    await again.getByTestId('cached').waitFor({ timeout: 1000 });
    assert.equal(await again.getByTestId('proof-json').textContent(), proofText);
    assert.match(await page.getByTestId('cache-hits').textContent(), /^[1-9]\d* \//);
  });

  test('without COOP/COEP the app proves single-threaded and says why', async (t) => {
    const page = await app(t, { isolated: false });
    assert.match(await page.getByTestId('build').textContent(), /Single-threaded/);
    assert.match(await page.getByTestId('build').textContent(), /not cross-origin isolated/);
    assert.match(await page.getByTestId('build-reason').textContent(), /cross-origin isolated/);
    const card = await prove(page);
    assert.equal(await settled(card), 'verified');
  });

  test('four claims at four priorities: the most urgent queued claim runs next', async (t) => {
    const page = await app(t);
    await page.getByTestId('queue-demo').click();
    const cards = page.getByTestId('job');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=job]').length === 4);
    for (let i = 0; i < 4; i++) assert.equal(await settled(cards.nth(i)), 'verified');
    const order = {};
    for (let i = 0; i < 4; i++) order[await cards.nth(i).getAttribute('data-priority')] = Number(await cards.nth(i).getAttribute('data-finished'));
    // LOW was submitted first and ran at once on the one worker; the others queued behind it.
    assert.deepEqual(order, { LOW: 1, CRITICAL: 2, HIGH: 3, NORMAL: 4 });
    await page.getByTestId('percentile-chart').waitFor();
    assert.equal(await page.locator('[data-priority=CRITICAL] [data-state=completed]').textContent(), '1');
  });
});
