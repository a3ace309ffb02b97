// The exact-score rule on anvil: an `exact-*` circuit's verifier behind a campaign whose score
// must be proven exactly. DEVELOPMENT keys (seed 1).
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { after, before, test } from "node:test";
import { getAddress } from "viem";

import { startAnvil } from "../lib/anvil.mjs";
import { campaignOfClaim } from "../lib/campaign.mjs";
import { connect, customError, send } from "../lib/chain.mjs";
import { deployCampaign } from "../lib/deploy.mjs";
import { devKeys, prove, sampleClaim, scratch } from "./fixture.mjs";

const CIRCUIT = "exact-d4-k2";

let dir;
let anvil;
let chain;
let campaign;
let claim;
let proved;

before(async () => {
  dir = scratch();
  const keys = devKeys(dir, CIRCUIT);
  const sampled = sampleClaim(dir, "claim", { circuit: CIRCUIT, seed: 5 });
  claim = sampled.claim;
  proved = prove(dir, "claim", keys.keys, sampled.path);
  anvil = await startAnvil();
  chain = connect(anvil.url, anvil.devKeys[0]);
  campaign = { verifier: readFileSync(keys.verifier, "utf8"), ...campaignOfClaim(claim) };
});

after(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const claimOn = async (deployed) => send(chain, { address: deployed.airdrop, abi: deployed.abi.airdrop }, "claim", proved.calldata.args);

test("an exact-score campaign pays a proof of exactly its score (development keys)", async () => {
  assert.equal(campaign.rule, "exactly");
  const deployed = await deployCampaign(chain, campaign);
  await claimOn(deployed);
  const balance = await chain.publicClient.readContract({
    address: deployed.token, abi: deployed.abi.token, functionName: "balanceOf", args: [getAddress(claim.claimant)],
  });
  assert.equal(balance, 10n ** 18n);
});

test("an exact-score campaign refuses another score: ScoreMismatch", async () => {
  const deployed = await deployCampaign(chain, { ...campaign, target: campaign.target - 1n });
  await assert.rejects(claimOn(deployed), (err) => {
    assert.equal(customError(err)?.errorName, "ScoreMismatch");
    assert.deepEqual(customError(err).args, [campaign.target - 1n, campaign.target]);
    return true;
  });
});
