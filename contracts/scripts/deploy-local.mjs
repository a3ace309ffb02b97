#!/usr/bin/env node
// Starts anvil on 127.0.0.1, deploys a campaign (the verifier of a key directory, the demo token,
// a funded ReputationAirdrop with its root published) and writes the addresses to a JSON file.
// For `make demo`: everything is DEVELOPMENT only (anvil's public accounts, `setup --seed` keys).
//
//   node contracts/scripts/deploy-local.mjs --keys DIR --circuit ID --out chain.json \
//     (--claim claim.json | --root R [--campaign C] --threshold T | --score S) \
//     [--amount WEI] [--claims N] [--port 8545] [--detach] [--dump-state FILE]
//     [--relayer-url URL --campaigns campaigns.json --relayer-key-file FILE]
//
// Without --detach it keeps anvil running until SIGINT or SIGTERM; with it, it leaves anvil
// running and exits (the JSON's `anvilPid` is the process to stop). With --dump-state, anvil
// writes its state to FILE when it is stopped (SIGTERM), for `anvil --load-state FILE`.
//
// The campaign id is the deployment's own (ReputationAirdrop.campaignIdOf(chain id, airdrop)): on
// a fresh anvil, `airprover campaign-id --chain-id 31337 --deployer <account 0> --nonce 2`. A
// claim (or --campaign) for any other id is refused before anything is deployed.
//
// With --relayer-url, the claim relayer (`airprover serve --campaigns` and `airprover relay`) is
// configured for the campaign: --campaigns gets its configuration (campaign "demo"), with anvil's
// funded DEVELOPMENT account #1 as the relayer account, whose key goes to --relayer-key-file (mode
// 0600; anvil prints it to anyone: never use it on a real chain); chain.json names the relayer's
// URL and the account's address, never a private key (the page claims through the relayer).
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { exportVerifier } from "../lib/airprover.mjs";
import { HARDFORK, startAnvil } from "../lib/anvil.mjs";
import { campaignOfClaim } from "../lib/campaign.mjs";
import { connect } from "../lib/chain.mjs";
import { deployCampaign } from "../lib/deploy.mjs";

const { values: opt } = parseArgs({
  options: {
    keys: { type: "string" },
    circuit: { type: "string" },
    claim: { type: "string" },
    root: { type: "string" },
    campaign: { type: "string" },
    threshold: { type: "string" },
    score: { type: "string" },
    amount: { type: "string", default: `${10n ** 18n}` },
    claims: { type: "string", default: "1000" },
    port: { type: "string", default: "8545" },
    out: { type: "string" },
    detach: { type: "boolean", default: false },
    "dump-state": { type: "string" },
    "relayer-url": { type: "string" },
    campaigns: { type: "string" },
    "relayer-key-file": { type: "string" },
  },
});

function usage(problem) {
  console.error(`deploy-local: ${problem}\nsee the comment at the top of ${fileURLToPath(import.meta.url)}`);
  process.exit(2);
}

function campaignOptions() {
  if (opt.claim) return campaignOfClaim(JSON.parse(readFileSync(opt.claim, "utf8")));
  if (!opt.root || (opt.threshold === undefined) === (opt.score === undefined)) {
    usage("give --claim, or --root and one of --threshold / --score (and --campaign to check the id)");
  }
  return {
    roots: [BigInt(opt.root)],
    campaignId: opt.campaign === undefined ? undefined : BigInt(opt.campaign),
    rule: opt.score === undefined ? "atLeast" : "exactly",
    target: BigInt(opt.score ?? opt.threshold),
  };
}

if (!opt.keys || !opt.circuit || !opt.out) usage("--keys, --circuit and --out are required");
const relayed = [opt["relayer-url"], opt.campaigns, opt["relayer-key-file"]];
if (relayed.some((v) => v !== undefined) && !relayed.every((v) => v !== undefined)) {
  usage("--relayer-url, --campaigns and --relayer-key-file go together");
}
const campaign = campaignOptions();
const verifier = exportVerifier(opt.keys, opt.circuit);

const anvil = await startAnvil({
  port: Number(opt.port),
  detached: opt.detach,
  args: opt["dump-state"] === undefined ? [] : ["--dump-state", resolve(opt["dump-state"])],
});
try {
  // Account 0 deploys and operates; account 1 is the relayer's (the tokens go to the claimant
  // bound in the proof, not to the sender).
  const operator = connect(anvil.url, anvil.devKeys[0]);
  const relayerAccount = connect(anvil.url, anvil.devKeys[1]).account.address;
  const deployed = await deployCampaign(operator, {
    verifier,
    ...campaign,
    amount: BigInt(opt.amount),
    claims: BigInt(opt.claims),
  });
  const chainId = await operator.publicClient.getChainId();
  const out = {
    note: "DEVELOPMENT chain: anvil's accounts and keys are public; the verifier's keys come from `setup --seed`",
    rpcUrl: anvil.url,
    chainId,
    hardfork: HARDFORK,
    anvilPid: opt.detach ? anvil.pid : undefined,
    circuit: opt.circuit,
    campaignId: `${deployed.campaignId}`,
    rule: campaign.rule,
    target: `${campaign.target}`,
    roots: campaign.roots.map((r) => `0x${r.toString(16).padStart(64, "0")}`),
    amount: opt.amount,
    operator: operator.account.address,
    relayerAccount,
    relayer: opt["relayer-url"] ? { url: opt["relayer-url"], campaign: "demo" } : undefined,
    verifier: deployed.verifier,
    token: deployed.token,
    airdrop: deployed.airdrop,
    abi: deployed.abi,
  };
  writeFileSync(opt.out, `${JSON.stringify(out, null, 2)}\n`);
  if (opt.campaigns) {
    writeFileSync(opt["relayer-key-file"], `${anvil.devKeys[1]}\n`, { mode: 0o600 });
    chmodSync(opt["relayer-key-file"], 0o600);
    const campaigns = {
      campaigns: [{
        name: "demo",
        chainId,
        rpcUrl: anvil.url,
        airdrop: deployed.airdrop,
        circuit: opt.circuit,
        keys: resolve(opt.keys),
        relayers: [{ file: resolve(opt["relayer-key-file"]) }],
        replaceAfterBlocks: 3,
        feeBumpPercent: 25,
      }],
    };
    writeFileSync(opt.campaigns, `${JSON.stringify(campaigns, null, 2)}\n`);
    console.log(`relayer: campaign "demo" in ${opt.campaigns}, DEVELOPMENT relayer account ${relayerAccount} (anvil's public key #1, in ${opt["relayer-key-file"]})`);
  }
  console.log(`anvil on ${anvil.url} (pid ${anvil.pid}); airdrop ${deployed.airdrop}, token ${deployed.token}, verifier ${deployed.verifier}; written to ${opt.out}`);
} catch (err) {
  await anvil.stop();
  throw err;
}

if (!opt.detach) {
  console.log("Ctrl-C stops anvil");
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, async () => {
      await anvil.stop();
      process.exit(0);
    });
  }
}
