// ReputationAirdrop on a real EVM (anvil on 127.0.0.1): a claim proved by the native CLI pays the
// claimant bound in it, once; every refusal has its own custom error. DEVELOPMENT keys (seed 1).
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { BaseError, decodeErrorResult, encodeDeployData, getAddress, getContractAddress, parseEventLogs } from "viem";

import { startAnvil } from "../lib/anvil.mjs";
import { campaignIdOf, predictCampaign } from "../lib/campaign.mjs";
import { connect, customError, send } from "../lib/chain.mjs";
import { contracts, deployCampaign, RULE } from "../lib/deploy.mjs";
import { airprover, devKeys, prove, recordGas, sampleClaim, scratch, writeClaim } from "./fixture.mjs";

const AMOUNT = 25n * 10n ** 18n;
// A relayer sends the claims: the tokens must still go to the claimant bound in the proof.
const RELAYER = 1;

let anvil;
let operator;
let relayer;
let campaign;
let threshold;
let verifierSource;
// The campaign id of the deployment, known before it: claims are proved for it.
let CAMPAIGN;
const proofs = {};
const claimants = {};

let dir;

before(async () => {
  dir = scratch();
  const { keys, verifier } = devKeys(dir);
  verifierSource = readFileSync(verifier, "utf8");
  anvil = await startAnvil();
  operator = connect(anvil.url, anvil.devKeys[0]);
  relayer = connect(anvil.url, anvil.devKeys[RELAYER]);
  CAMPAIGN = `${(await predictCampaign(operator, { verifier: verifierSource })).campaignId}`;
  // Three identities, each in its own tree (so its own root), all for this campaign.
  const sampled = { alice: 7, bob: 8, carol: 9 };
  for (const [name, seed] of Object.entries(sampled)) sampled[name] = sampleClaim(dir, name, { seed }).claim;
  // The campaign asks for the lowest of their thresholds, so that every sample reaches it.
  threshold = Object.values(sampled).map((c) => BigInt(c.threshold)).reduce((a, b) => (a < b ? a : b));
  const proveAs = (name, variant, changes = {}) => {
    const claim = { ...sampled[name], campaignId: CAMPAIGN, threshold: `${threshold}`, ...changes };
    return prove(dir, variant, keys, writeClaim(dir, variant, claim));
  };
  for (const name of ["alice", "bob", "carol"]) {
    claimants[name] = getAddress(sampled[name].claimant);
    proofs[name] = proveAs(name, `${name}-campaign`);
  }
  proofs.aliceToMallory = proveAs("alice", "alice-mallory", { claimant: "0x000000000000000000000000000000000000dead" });
  proofs.bobBelow = proveAs("bob", "bob-below", { threshold: `${threshold - 1n}` });
  proofs.bobOtherCampaign = proveAs("bob", "bob-other-campaign", { campaignId: "78" });

  campaign = await deployCampaign(operator, {
    verifier: verifierSource,
    // Carol's root is never published.
    roots: [proofs.alice.publicSignals[0], proofs.bob.publicSignals[0]],
    campaignId: CAMPAIGN,
    target: threshold,
    amount: AMOUNT,
  });
});

after(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const airdrop = () => ({ address: campaign.airdrop, abi: campaign.abi.airdrop });
const claim = (args, from = relayer) => send(from, airdrop(), "claim", args);
const balance = (who) => operator.publicClient.readContract({
  address: campaign.token, abi: campaign.abi.token, functionName: "balanceOf", args: [who],
});

/** Asserts that `promise` reverts with the custom error `name` (and `args`, when given). */
async function refused(promise, name, args) {
  await assert.rejects(promise, (err) => {
    const error = customError(err);
    assert.ok(error, `expected ${name}, got ${err.shortMessage ?? err.message}`);
    assert.equal(error.errorName, name);
    if (args) assert.deepEqual(error.args, args);
    return true;
  });
}

const withSignal = (args, i, value) => {
  const copy = structuredClone(args);
  copy[3][i] = value;
  return copy;
};

describe("ReputationAirdrop on anvil, proofs by the native CLI (development keys, seed 1)", () => {
  test("pays the claimant bound in the proof, though a relayer sends it", async () => {
    assert.equal(await balance(claimants.alice), 0n);
    const receipt = await claim(proofs.alice.calldata.args);
    assert.equal(await balance(claimants.alice), AMOUNT);
    assert.equal(await balance(relayer.account.address), 0n);
    const [event] = parseEventLogs({ abi: campaign.abi.airdrop, logs: receipt.logs, eventName: "Claimed" });
    assert.equal(event.args.claimant, claimants.alice);
    assert.equal(event.args.nullifier, BigInt(proofs.alice.publicSignals[3]));
    const gas = recordGas("claim", {
      circuit: "threshold-d4-k2",
      claimTx: receipt.gasUsed,
      note: "first claim of the campaign, to an address with no tokens yet; sent by a relayer",
      deploy: campaign.gas,
    });
    console.log(`claim gas (transaction total): ${receipt.gasUsed} (in ${gas})`);
  });

  test("refuses the same proof again: NullifierUsed", async () => {
    await refused(claim(proofs.alice.calldata.args), "NullifierUsed", [BigInt(proofs.alice.publicSignals[3])]);
  });

  test("refuses another proof of the same identity, made out to another claimant: NullifierUsed", async () => {
    await refused(claim(proofs.aliceToMallory.calldata.args), "NullifierUsed");
    assert.equal(await balance("0x000000000000000000000000000000000000dEaD"), 0n);
  });

  test("refuses a tampered proof: InvalidProof", async () => {
    const args = structuredClone(proofs.bob.calldata.args);
    [args[0], args[2]] = [args[2], args[0]];
    await refused(claim(args), "InvalidProof");
  });

  test("refuses the claimant changed in the calldata: the tokens cannot be redirected", async () => {
    const thief = relayer.account.address;
    await refused(claim(withSignal(proofs.bob.calldata.args, 2, BigInt(thief))), "InvalidProof");
    await refused(claim(withSignal(proofs.bob.calldata.args, 2, 1n << 160n)), "ClaimantNotAnAddress");
    assert.equal(await balance(thief), 0n);
  });

  test("refuses a proof against a root the operator has not published: RootNotPublished", async () => {
    await refused(claim(proofs.carol.calldata.args), "RootNotPublished", [BigInt(proofs.carol.publicSignals[0])]);
    // Nor can the root be swapped in the calldata for a published one: the proof no longer verifies.
    await refused(claim(withSignal(proofs.carol.calldata.args, 0, BigInt(proofs.bob.publicSignals[0]))), "InvalidProof");
  });

  test("refuses a proven threshold below the campaign's: ThresholdBelowCampaign", async () => {
    await refused(claim(proofs.bobBelow.calldata.args), "ThresholdBelowCampaign", [threshold, threshold - 1n]);
  });

  test("refuses a proof for another campaign: WrongCampaign", async () => {
    await refused(claim(proofs.bobOtherCampaign.calldata.args), "WrongCampaign", [BigInt(CAMPAIGN), 78n]);
  });

  test("the campaign id is the deployment's: the contract, viem and `airprover campaign-id` agree", async () => {
    const chainId = await operator.publicClient.getChainId();
    const onChain = await operator.publicClient.readContract({ ...airdrop(), functionName: "campaignId" });
    const pure = await operator.publicClient.readContract({ ...airdrop(), functionName: "campaignIdOf", args: [BigInt(chainId), campaign.airdrop] });
    const cli = airprover("campaign-id", "--chain-id", `${chainId}`, "--address", campaign.airdrop).trim();
    assert.equal(onChain, BigInt(CAMPAIGN));
    assert.equal(pure, onChain);
    assert.equal(campaignIdOf(chainId, campaign.airdrop), onChain);
    assert.equal(cli, `${onChain}`);
    // Known before deploying: the deployer and its nonce fix the address.
    const nonce = await operator.publicClient.getTransactionCount({ address: operator.account.address });
    const next = await predictCampaign(operator, { verifier: campaign.verifier });
    const predicted = airprover("campaign-id", "--chain-id", `${chainId}`, "--deployer", operator.account.address, "--nonce", `${nonce + 1}`).trim();
    assert.equal(predicted, `${next.campaignId}`);
    // Another chain, another id.
    assert.notEqual(campaignIdOf(chainId + 1, campaign.airdrop), onChain);
  });

  test("a second deployment of the same campaign refuses the first one's proof: WrongCampaign", async () => {
    const second = await deployCampaign(operator, {
      verifier: campaign.verifier,
      roots: [proofs.bob.publicSignals[0]],
      target: threshold,
      amount: AMOUNT,
    });
    assert.notEqual(second.campaignId, BigInt(CAMPAIGN));
    await refused(
      send(relayer, { address: second.airdrop, abi: second.abi.airdrop }, "claim", proofs.bob.calldata.args),
      "WrongCampaign",
      [second.campaignId, BigInt(CAMPAIGN)],
    );
  });

  test("a deployment given another deployment's campaign id reverts: CampaignNotBound", async () => {
    const { ReputationAirdrop } = contracts();
    // eth_call creates the contract at the address of the sender's next nonce.
    const chainId = await operator.publicClient.getChainId();
    const here = getContractAddress({
      from: operator.account.address,
      nonce: BigInt(await operator.publicClient.getTransactionCount({ address: operator.account.address })),
    });
    const data = encodeDeployData({
      abi: ReputationAirdrop.abi,
      bytecode: ReputationAirdrop.bytecode,
      args: [operator.account.address, campaign.verifier, campaign.token, BigInt(CAMPAIGN), RULE.atLeast, threshold, AMOUNT],
    });
    await assert.rejects(operator.publicClient.call({ account: operator.account, data }), (err) => {
      const raw = err instanceof BaseError ? err.walk((e) => typeof e?.data === "string" && e.data.startsWith("0x")) : null;
      assert.ok(raw, `expected a revert with data, got ${err.shortMessage ?? err.message}`);
      const decoded = decodeErrorResult({ abi: ReputationAirdrop.abi, data: raw.data });
      assert.equal(decoded.errorName, "CampaignNotBound");
      assert.deepEqual(decoded.args, [campaignIdOf(chainId, here), BigInt(CAMPAIGN)]);
      return true;
    });
    // deployCampaign refuses it before sending anything.
    const nonce = await operator.publicClient.getTransactionCount({ address: operator.account.address });
    await assert.rejects(
      deployCampaign(operator, { verifier: campaign.verifier, roots: [], campaignId: CAMPAIGN, target: threshold }),
      /is not this deployment's/,
    );
    assert.equal(await operator.publicClient.getTransactionCount({ address: operator.account.address }), nonce);
  });

  test("a withdrawn root is refused; only the operator publishes roots", async () => {
    const bobRoot = BigInt(proofs.bob.publicSignals[0]);
    await refused(send(relayer, airdrop(), "setRoot", [bobRoot, false]), "OwnableUnauthorizedAccount");
    await send(operator, airdrop(), "setRoot", [bobRoot, false]);
    await refused(claim(proofs.bob.calldata.args), "RootNotPublished");
    await send(operator, airdrop(), "setRoot", [bobRoot, true]);
  });

  test("after all those refusals, Bob's own proof still pays Bob", async () => {
    await claim(proofs.bob.calldata.args);
    assert.equal(await balance(claimants.bob), AMOUNT);
  });
});
