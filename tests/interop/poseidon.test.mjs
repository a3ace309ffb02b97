// (a) circomlibjs recomputes what airprover hashed: the spec's Poseidon vector, every leaf and
// inner node of a tree written by `airprover sample`, its root, the identity commitment and the
// nullifier of the claim proved from it.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { buildPoseidon, buildPoseidonReference } from "circomlibjs";

import { provedClaim, readJson } from "./fixture.mjs";

let poseidon;
let hash;
let files;

before(async () => {
  poseidon = await buildPoseidon();
  hash = (inputs) => poseidon.F.toObject(poseidon(inputs.map(BigInt)));
  files = provedClaim();
});

/** Every level of the tree from the leaves up: levels[0] = leaves, levels[depth] = [root]. */
function treeLevels(depth, leaves) {
  const levels = [Array.from({ length: 2 ** depth }, (_, i) => leaves.get(i) ?? 0n)];
  for (let level = 0; level < depth; level++) {
    const below = levels[level];
    const above = [];
    for (let i = 0; i < below.length; i += 2) above.push(hash([below[i], below[i + 1]]));
    levels.push(above);
  }
  return levels;
}

describe("circomlibjs agrees with airprover", () => {
  test("the spec's test vector, with both circomlibjs implementations", async () => {
    const expected = 0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189an;
    assert.equal(hash([1, 2]), expected);
    const reference = await buildPoseidonReference();
    assert.equal(reference.F.toObject(reference([1n, 2n])), expected);
  });

  test("every leaf, every node and the root of a sampled tree", () => {
    const tree = readJson(files.tree);
    const claim = readJson(files.claim);
    assert.ok(tree.leaves.length >= 2);
    const leaves = new Map(tree.leaves.map((l) => [l.index, hash([l.attester, l.subject, l.weight])]));
    const levels = treeLevels(tree.depth, leaves);
    assert.equal(levels[tree.depth][0], BigInt(tree.root), "root of the tree file");
    assert.equal(BigInt(claim.root), BigInt(tree.root), "the claim's root");
    // airprover's siblings are its own leaf and node hashes: each must be circomlibjs's.
    for (const [position, a] of claim.attestations.entries()) {
      assert.equal(a.siblings.length, tree.depth);
      a.siblings.forEach((sibling, level) => {
        const expected = levels[level][(a.index >> level) ^ 1];
        assert.equal(BigInt(sibling), expected, `attestations[${position}].siblings[${level}]`);
      });
    }
  });

  test("the identity commitment, the claimed leaves and the nullifier", () => {
    const tree = readJson(files.tree);
    const claim = readJson(files.claim);
    const publicSignals = readJson(files.public).map(BigInt);
    const commitment = hash([claim.secret]);
    for (const a of claim.attestations) {
      const published = tree.leaves.find((l) => l.index === a.index);
      assert.equal(BigInt(published.subject), commitment, `leaf ${a.index} is the claimant's`);
      // Walk the path with circomlibjs: it must reach the root.
      let node = hash([a.attester, commitment, a.weight]);
      a.siblings.forEach((sibling, level) => {
        node = (a.index >> level) & 1 ? hash([sibling, node]) : hash([node, sibling]);
      });
      assert.equal(node, BigInt(claim.root), `path of leaf ${a.index}`);
    }
    const [root, campaignId, claimant, nullifier, threshold] = publicSignals;
    assert.equal(root, BigInt(claim.root));
    assert.equal(campaignId, BigInt(claim.campaignId));
    assert.equal(claimant, BigInt(claim.claimant));
    assert.equal(threshold, BigInt(claim.threshold));
    assert.equal(nullifier, hash([claim.secret, claim.campaignId]), "nullifier");
  });
});
