// The exact-score rule on anvil: an `exact-*` circuit's verifier behind a campaign whose score
// must be proven exactly. DEVELOPMENT keys (seed 1).
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { after, before, test } from "node:test";
import { getAddress } from "viem";

import { startAnvil } from "../lib/anvil.mjs";
import { campaignOfClaim, predictCampaign } from "../lib/campaign.mjs";
import { connect, customError, send } from "../lib/chain.mjs";
import { deployCampaign } from "../lib/deploy.mjs";
import { devKeys, prove, sampleClaim, scratch, writeClaim } from "./fixture.mjs";

const CIRCUIT = "exact-d4-k2";

let dir;
let anvil;
let chain;
let keys;
let claim;

before(async () => {
  dir = scratch();
  keys = devKeys(dir, CIRCUIT);
  claim = sampleClaim(dir, "claim", { circuit: CIRCUIT, seed: 5 }).claim;
  anvil = await startAnvil();
  chain = connect(anvil.url, anvil.devKeys[0]);
});

/**
 * The claim proved for the next deployment's campaign (its id is bound to the deployment), and
 * that campaign's parameters with `changes`.
 */
async function nextCampaign(name, changes = {}) {
  const verifier = readFileSync(keys.verifier, "utf8");
  const { campaignId } = await predictCampaign(chain, { verifier });
  const bound = { ...claim, campaignId: `${campaignId}` };
  const proved = prove(dir, name, keys.keys, writeClaim(dir, name, bound));
  return { proved, campaign: { verifier, ...campaignOfClaim(bound), ...changes } };
}

after(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const claimOn = async (deployed, proved) => send(chain, { address: deployed.airdrop, abi: deployed.abi.airdrop }, "claim", proved.calldata.args);

test("an exact-score campaign pays a proof of exactly its score (development keys)", async () => {
  const { proved, campaign } = await nextCampaign("paid");
  assert.equal(campaign.rule, "exactly");
  const deployed = await deployCampaign(chain, campaign);
  await claimOn(deployed, proved);
  const balance = await chain.publicClient.readContract({
    address: deployed.token, abi: deployed.abi.token, functionName: "balanceOf", args: [getAddress(claim.claimant)],
  });
  assert.equal(balance, 10n ** 18n);
});

test("an exact-score campaign refuses another score: ScoreMismatch", async () => {
  const target = BigInt(claim.score);
  const { proved, campaign } = await nextCampaign("mismatch", { target: target - 1n });
  const deployed = await deployCampaign(chain, campaign);
  await assert.rejects(claimOn(deployed, proved), (err) => {
    assert.equal(customError(err)?.errorName, "ScoreMismatch");
    assert.deepEqual(customError(err).args, [target - 1n, target]);
    return true;
  });
});
