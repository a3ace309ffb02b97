// What a claim app needs of a campaign, from the package in a real Chromium: CampaignTree over a
// tree file the CLI wrote (`airprover sample`), its root and an identity's paths against the
// CLI's own claim, the smallest circuit, and typed errors for bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { launch, openPage } from './support/browser.mjs';
import { CIRCUIT, ROOT, fixture } from './support/fixture.mjs';
import { startServer } from './support/server.mjs';

let browser;
let server;
let claim;
let treeText;

before(async () => {
  const fx = fixture([CIRCUIT]);
  claim = fx.claims[CIRCUIT];
  // The CLI writes the tree next to the claim: NAME.claim.json -> NAME.claim.tree.json.
  treeText = readFileSync(join(fx.dir, `${CIRCUIT}.claim.tree.json`), 'utf8');
  browser = await launch();
  server = await startServer({ isolated: true, mounts: { '/pkg/': join(ROOT, 'pkg'), '/': import.meta.dirname } });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function page(t) {
  const p = await openPage(browser, `${server.url}/page.html`);
  t.after(async () => {
    const problems = p.problems;
    await p.context().close();
    assert.deepEqual(problems, [], 'no page error or console error');
  });
  return p;
}

const big = (x) => BigInt(x);

describe('campaign', () => {
  test("CampaignTree hashes the CLI's tree to its root and gives the CLI's claim its paths", async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async ({ treeText, secret }) => {
      await airprover.init();
      const tree = new airprover.CampaignTree(treeText);
      const fromObject = new airprover.CampaignTree(JSON.parse(treeText));
      const { depth, count, root, computedRoot } = tree;
      const mine = tree.attestationsOf(secret);
      const stranger = tree.attestationsOf('12345');
      const out = {
        depth, count, root, computedRoot, mine, stranger,
        objectRoot: fromObject.computedRoot,
        commitment: airprover.poseidonHash([secret]),
      };
      tree.free();
      fromObject.free();
      return out;
    }, { treeText, secret: claim.secret });
    const file = JSON.parse(treeText);
    assert.equal(out.depth, file.depth);
    assert.equal(out.count, file.leaves.length);
    assert.equal(big(out.root), big(file.root));
    assert.equal(big(out.computedRoot), big(file.root), 'the leaves hash to the published root');
    assert.equal(big(out.root), big(claim.root));
    assert.equal(out.objectRoot, out.computedRoot, 'a parsed object reads the same as its text');
    assert.equal(big(out.mine.commitment), big(out.commitment));
    // The sampled claimant's attestations, each with the path the CLI put in its claim.
    assert.equal(out.mine.attestations.length, claim.attestations.length);
    out.mine.attestations.forEach((a, i) => {
      const want = claim.attestations[i];
      assert.equal(a.index, want.index);
      assert.equal(big(a.attester), big(want.attester));
      assert.equal(a.weight, want.weight);
      assert.deepEqual(a.siblings.map(big), want.siblings.map(big), `attestations[${i}].siblings`);
      assert.equal(a.siblings.length, file.depth);
    });
    assert.equal(out.mine.score, claim.attestations.reduce((s, a) => s + a.weight, 0));
    assert.deepEqual(out.stranger.attestations, []);
    assert.equal(out.stranger.score, 0);
  });

  test('smallestCircuit picks the smallest K whose heaviest reach the threshold, and keeps those', async (t) => {
    const p = await page(t);
    const ids = ['threshold-d4-k1', 'threshold-d4-k2', 'threshold-d5-k1', 'exact-d4-k1', 'square-chain-8'];
    const out = await p.evaluate(async ({ ids, attestations, threshold }) => {
      await airprover.init();
      const reached = airprover.smallestCircuit(ids, attestations, threshold, 4);
      const none = airprover.smallestCircuit(ids, attestations, 1e15, 4);
      return {
        circuits: airprover.thresholdCircuits(ids, 4),
        reached: { ...reached, kept: reached.attestations.map((a) => attestations.indexOf(a)) },
        none: { id: none.id, k: none.k, reached: none.reached, n: none.attestations.length },
        otherDepth: airprover.smallestCircuit(ids, attestations, threshold, 6),
        empty: airprover.smallestCircuit(ids, [], threshold, 4),
      };
    }, { ids, attestations: claim.attestations, threshold: claim.threshold });
    assert.deepEqual(out.circuits, [{ id: 'threshold-d4-k1', k: 1 }, { id: 'threshold-d4-k2', k: 2 }]);
    const weights = claim.attestations.map((a) => a.weight);
    const heaviest = Math.max(...weights);
    const k = heaviest >= Number(claim.threshold) ? 1 : 2;
    assert.equal(out.reached.id, `threshold-d4-k${k}`);
    assert.equal(out.reached.k, k);
    assert.equal(out.reached.reached, true);
    assert.equal(out.reached.score, k === 1 ? heaviest : weights.reduce((s, w) => s + w, 0));
    // The same objects, in leaf order; with K = 1 the heaviest (ties: the lower index).
    const expectKept = k === 1 ? [weights.indexOf(heaviest)] : [0, 1];
    assert.deepEqual(out.reached.kept, expectKept);
    assert.deepEqual(out.none, { id: 'threshold-d4-k2', k: 2, reached: false, n: 2 }, 'none reaches: the largest');
    assert.equal(out.otherDepth, null);
    assert.equal(out.empty.id, 'threshold-d4-k2');
    assert.equal(out.empty.reached, false);
  });

  test('bad input throws an AirproverError with a stable code', async (t) => {
    const p = await page(t);
    const out = await p.evaluate(async ({ treeText, attestations }) => {
      await airprover.init();
      const file = JSON.parse(treeText);
      const caught = (f) => {
        try {
          f();
          return null;
        } catch (e) {
          return { name: e.name, code: e.code, message: e.message, isError: e instanceof Error };
        }
      };
      const heavy = { ...file, leaves: file.leaves.map((l, i) => (i === 1 ? { ...l, weight: 2 ** 32 } : l)) };
      return {
        syntax: caught(() => new airprover.CampaignTree('{"depth": 4,')),
        weight: caught(() => new airprover.CampaignTree(heavy)),
        depth: caught(() => new airprover.CampaignTree({ ...file, depth: 40 })),
        typo: caught(() => new airprover.CampaignTree({ ...file, lefs: [] })),
        secret: caught(() => new airprover.CampaignTree(file).attestationsOf('0xnot-a-secret')),
        unknownCircuit: caught(() => airprover.smallestCircuit(['threshold-d4-k0'], attestations, 1, 4)),
        badDepth: caught(() => airprover.smallestCircuit(['threshold-d4-k2'], attestations, 1, 0)),
        fractionalDepth: caught(() => airprover.thresholdCircuits(['threshold-d4-k2'], 4.5)),
        notAnArray: caught(() => airprover.thresholdCircuits('threshold-d4-k2', 4)),
        badWeight: caught(() => airprover.smallestCircuit(['threshold-d4-k2'], [{ index: 1, weight: -1 }], 1, 4)),
        outside: caught(() => airprover.smallestCircuit(['threshold-d4-k2'], [{ index: 16, weight: 1 }], 1, 4)),
        threshold: caught(() => airprover.smallestCircuit(['threshold-d4-k2'], attestations, '1e3', 4)),
      };
    }, { treeText, attestations: claim.attestations });
    const expected = {
      syntax: ['INVALID_JSON', 'tree'],
      weight: ['INVALID_INPUT', 'leaves[1].weight'],
      depth: ['INVALID_INPUT', 'depth'],
      typo: ['INVALID_INPUT', 'tree.lefs'],
      secret: ['INVALID_INPUT', 'secret'],
      unknownCircuit: ['UNKNOWN_CIRCUIT', 'threshold-d4-k0'],
      badDepth: ['INVALID_INPUT', 'depth'],
      fractionalDepth: ['INVALID_INPUT', 'depth'],
      notAnArray: ['INVALID_INPUT', 'circuitIds'],
      badWeight: ['INVALID_INPUT', 'attestations[0].weight'],
      outside: ['INVALID_INPUT', 'attestations[0].index'],
      threshold: ['INVALID_INPUT', 'threshold'],
    };
    for (const [what, [code, field]] of Object.entries(expected)) {
      const e = out[what];
      assert.ok(e, `${what}: throws`);
      assert.equal(e.code, code, `${what}: ${e.message}`);
      assert.equal(e.name, 'AirproverError', what);
      assert.ok(e.isError, `${what}: an Error`);
      assert.ok(e.message.startsWith(code) && e.message.includes(field), `${what}: ${e.message}`);
    }
    assert.ok(!out.secret.message.includes('not-a-secret'), 'a secret never shows in an error');
  });
});
