// A campaign's parameters as the contracts want them, read from what airprover writes: a claim
// file (the demo's) or a proof's public signals (claim spec order); and a campaign's id, which is
// its deployment's (ReputationAirdrop.campaignIdOf, `airprover campaign-id`).
import { encodeAbiParameters, getContractAddress, keccak256 } from "viem";

/** BN254's scalar field modulus. */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** keccak256(abi.encode(chainId, airdrop)) mod r: the only campaignId the airdrop at `airdrop` accepts. */
export function campaignIdOf(chainId, airdrop) {
  const encoded = encodeAbiParameters([{ type: "uint256" }, { type: "address" }], [BigInt(chainId), airdrop]);
  return BigInt(keccak256(encoded)) % FIELD_MODULUS;
}

/**
 * The airdrop address and campaign id of the next `deployCampaign` by `chain`'s account, known
 * before it runs (a claim must name its campaign before it is proved): `verifier` as
 * deployCampaign takes it (a source is deployed first, an address is not), then the token, then
 * the airdrop. Resolves to { chainId, airdrop, campaignId }.
 */
export async function predictCampaign({ publicClient, account }, { verifier }) {
  const nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
  const deploysVerifier = !/^0x[0-9a-fA-F]{40}$/.test(verifier);
  const airdrop = getContractAddress({ from: account.address, nonce: BigInt(nonce + (deploysVerifier ? 2 : 1)) });
  const chainId = await publicClient.getChainId();
  return { chainId, airdrop, campaignId: campaignIdOf(chainId, airdrop) };
}

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
