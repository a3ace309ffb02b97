// HOOK for proofs made in the browser by the wasm build: the e2e suite calls
// `claimOnChainWithProofFiles` with the proof.json and public.json the page wrote and the key
// directory it proved with. The native path (airdrop.test.mjs) is the same chain of steps.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { getAddress } from "viem";

import { calldataArgs, exportVerifier } from "../lib/airprover.mjs";
import { startAnvil } from "../lib/anvil.mjs";
import { campaignOfPublicSignals } from "../lib/campaign.mjs";
import { connect, customError, send } from "../lib/chain.mjs";
import { deployCampaign } from "../lib/deploy.mjs";

/**
 * Starts anvil on 127.0.0.1, deploys the verifier of `circuit`'s DEVELOPMENT keys in `keysDir` and
 * an airdrop whose root, campaign and threshold (or score) are the proof's, claims with the proof
 * from a relayer account, checks that the claimant got the tokens and that a second claim is
 * refused with NullifierUsed, and stops anvil whatever happens.
 * Resolves to { txHash, claimant, balance, gasUsed }.
 */
export async function claimOnChainWithProofFiles({ proofPath, publicPath, keysDir, circuit }) {
  const publicSignals = JSON.parse(readFileSync(publicPath, "utf8"));
  const args = calldataArgs(proofPath, publicPath);
  const anvil = await startAnvil();
  try {
    const operator = connect(anvil.url, anvil.devKeys[0]);
    const relayer = connect(anvil.url, anvil.devKeys[1]);
    const amount = 10n ** 18n;
    const campaign = await deployCampaign(operator, {
      verifier: exportVerifier(keysDir, circuit),
      ...campaignOfPublicSignals(publicSignals, circuit),
      amount,
    });
    const airdrop = { address: campaign.airdrop, abi: campaign.abi.airdrop };
    const receipt = await send(relayer, airdrop, "claim", args);
    const claimant = getAddress(`0x${BigInt(publicSignals[2]).toString(16).padStart(40, "0")}`);
    const balance = await operator.publicClient.readContract({
      address: campaign.token, abi: campaign.abi.token, functionName: "balanceOf", args: [claimant],
    });
    assert.equal(balance, amount, "the claimant bound in the proof is paid");
    await assert.rejects(send(relayer, airdrop, "claim", args), (err) => customError(err)?.errorName === "NullifierUsed");
    return { txHash: receipt.transactionHash, claimant, balance, gasUsed: receipt.gasUsed };
  } finally {
    await anvil.stop();
  }
}
