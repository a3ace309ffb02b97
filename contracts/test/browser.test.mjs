// Proofs made in the browser, claimed on anvil: set AIRPROVER_BROWSER_PROOF to a directory with
// the page's proof.json and public.json, a one-line `circuit` file and the `keys/` directory it
// proved with (the convention of tests/interop). Skipped without it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { claimOnChainWithProofFiles } from "./browser-proof.mjs";

const dir = process.env.AIRPROVER_BROWSER_PROOF;

test("a proof made in the browser claims on anvil (development keys)", { skip: !dir && "AIRPROVER_BROWSER_PROOF is not set" }, async () => {
  const claimed = await claimOnChainWithProofFiles({
    proofPath: join(dir, "proof.json"),
    publicPath: join(dir, "public.json"),
    keysDir: join(dir, "keys"),
    circuit: readFileSync(join(dir, "circuit"), "utf8").trim(),
  });
  assert.match(claimed.txHash, /^0x[0-9a-f]{64}$/);
  console.log(`browser proof claimed in ${claimed.txHash}: ${claimed.balance} to ${claimed.claimant}, ${claimed.gasUsed} gas`);
});
