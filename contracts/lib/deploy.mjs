// Deploys a campaign: the verifier of its circuit, the demo token, the airdrop funded with the
// token and its roots published. Shared by the tests and scripts/deploy-local.mjs.
import { predictCampaign } from "./campaign.mjs";
import { compileProject, compileVerifier } from "./compile.mjs";
import { deploy, send } from "./chain.mjs";

let project;
/** The project's compiled contracts, compiled once per process (solcjs takes seconds). */
export function contracts() {
  project ??= compileProject();
  return project;
}

/** ReputationAirdrop.Rule by name. */
export const RULE = { atLeast: 0, exactly: 1 };

/**
 * Deploys with the account of `chain` as the operator. `verifier` is a verifier contract's source
 * or the address of one already deployed. `campaignId` defaults to the deployment's own
 * (predictCampaign); any other is refused before anything is sent (the contract would revert
 * with CampaignNotBound). Resolves to { verifier, token, airdrop, campaignId } (addresses, the
 * id) with the abis under `abi`, and the gas of each deployment under `gas`.
 */
export async function deployCampaign(chain, {
  verifier,
  roots,
  campaignId,
  rule = "atLeast",
  target,
  amount = 10n ** 18n,
  claims = 100n,
  tokenName = "Airprover Demo Token",
  tokenSymbol = "AIRD",
}) {
  const { ReputationAirdrop, DemoToken } = contracts();
  const operator = chain.account.address;
  const bound = await predictCampaign(chain, { verifier });
  if (campaignId !== undefined && BigInt(campaignId) !== bound.campaignId) {
    throw new Error(
      `campaignId ${campaignId} is not this deployment's: the airdrop at ${bound.airdrop} on chain ${bound.chainId} ` +
        `accepts only ${bound.campaignId} (prove the claim for that id: predictCampaign, or airprover campaign-id)`,
    );
  }
  const gas = {};
  let verifierAddress = verifier;
  if (!/^0x[0-9a-fA-F]{40}$/.test(verifier)) {
    const deployed = await deploy(chain, compileVerifier(verifier));
    verifierAddress = deployed.address;
    gas.verifier = deployed.gasUsed;
  }
  const budget = BigInt(amount) * BigInt(claims);
  const token = await deploy(chain, DemoToken, [tokenName, tokenSymbol, operator, budget]);
  const airdrop = await deploy(chain, ReputationAirdrop, [
    operator, verifierAddress, token.address, bound.campaignId, RULE[rule], BigInt(target), BigInt(amount),
  ]);
  if (airdrop.address.toLowerCase() !== bound.airdrop.toLowerCase()) {
    throw new Error(`the airdrop landed at ${airdrop.address}, not at ${bound.airdrop}: another transaction from ${operator} came between`);
  }
  Object.assign(gas, { token: token.gasUsed, airdrop: airdrop.gasUsed });
  await send(chain, { address: token.address, abi: DemoToken.abi }, "transfer", [airdrop.address, budget]);
  for (const root of roots) {
    await send(chain, { address: airdrop.address, abi: ReputationAirdrop.abi }, "setRoot", [BigInt(root), true]);
  }
  return {
    verifier: verifierAddress,
    token: token.address,
    airdrop: airdrop.address,
    campaignId: bound.campaignId,
    abi: { airdrop: ReputationAirdrop.abi, token: DemoToken.abi },
    gas,
  };
}
