// A claim of CLAIM-SPEC.md (as `airprover sample` writes it) as the input of claim.circom's
// ThresholdClaim(depth, slots): the used slots first, the rest padded with zeros. Shared by the
// bench (run.mjs) and the circom test fixtures (tests/interop/circom-fixtures.mjs).

/** `claim`'s circom input; `nullifier` is Poseidon([secret, campaignId]), a decimal string. */
export function circomClaimInput(claim, nullifier, depth, slots) {
  const dec = (x) => BigInt(x).toString();
  const pad = (values, fill) => [...values, ...Array(slots - values.length).fill(fill)];
  const a = claim.attestations;
  return {
    root: dec(claim.root),
    campaignId: dec(claim.campaignId),
    claimant: dec(claim.claimant),
    nullifier: dec(nullifier),
    threshold: dec(claim.threshold),
    secret: dec(claim.secret),
    used: pad(a.map(() => '1'), '0'),
    index: pad(a.map((x) => dec(x.index)), '0'),
    attester: pad(a.map((x) => dec(x.attester)), '0'),
    weight: pad(a.map((x) => dec(x.weight)), '0'),
    siblings: pad(a.map((x) => x.siblings.map(dec)), Array(depth).fill('0')),
  };
}
