// A campaign's parameters as the contracts want them, read from what airprover writes: a claim
// file (the demo's) or a proof's public signals (claim spec order).

/** { roots, campaignId, rule, target } of a claim JSON object. */
export function campaignOfClaim(claim) {
  const exact = claim.score !== undefined;
  return {
    roots: [BigInt(claim.root)],
    campaignId: BigInt(claim.campaignId),
    rule: exact ? "exactly" : "atLeast",
    target: BigInt(exact ? claim.score : claim.threshold),
  };
}

/**
 * { roots, campaignId, rule, target } for which the proof with these public signals
 * (`[root, campaignId, claimant, nullifier, threshold or score]`) is a valid claim.
 */
export function campaignOfPublicSignals(publicSignals, circuit) {
  const [root, campaignId, , , target] = publicSignals.map(BigInt);
  return { roots: [root], campaignId, rule: circuit.startsWith("exact-") ? "exactly" : "atLeast", target };
}
