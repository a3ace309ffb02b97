// snarkjs's own Groth16 verifier, for comparison: its npm package's template rendered with ejs,
// as `snarkjs zkey export solidityverifier` renders it, from airprover's verification_key.json.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import ejs from "ejs";

const require = createRequire(import.meta.url);

/** The snarkjs package directory (its `exports` hide package.json, so go through its main). */
function snarkjsDir() {
  let dir = dirname(require.resolve("snarkjs"));
  while (!dir.endsWith("snarkjs")) dir = dirname(dir);
  return dir;
}

/** The Solidity source of snarkjs's verifier for `verification_key.json` at `vkPath`. */
export function snarkjsVerifierSource(vkPath) {
  const template = readFileSync(join(snarkjsDir(), "templates", "verifier_groth16.sol.ejs"), "utf8");
  return ejs.render(template, JSON.parse(readFileSync(vkPath, "utf8")));
}
