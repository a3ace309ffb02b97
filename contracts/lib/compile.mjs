// Solidity compilation with solcjs (the npm `solc` package, pinned in package-lock.json): no
// compiler download at run time. Imports resolve inside contracts/ and contracts/node_modules only.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

export const CONTRACTS = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOTS = [CONTRACTS, join(CONTRACTS, "node_modules")];

// Cancun: what today's chains run; nothing here needs a later EVM.
export const EVM_VERSION = "cancun";

function findImport(path) {
  for (const root of ROOTS) {
    const file = normalize(join(root, path));
    if (file.startsWith(root + sep) && existsSync(file)) return { contents: readFileSync(file, "utf8") };
  }
  return { error: `not found in contracts/ or contracts/node_modules/: ${path}` };
}

/**
 * Compiles `sources` ({ unitName: solidityText }) into { contracts: { "unit:Contract": { abi,
 * bytecode } }, warnings: [text] }. Throws with every compiler error.
 */
export function compile(sources) {
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length) throw new Error(`solc ${solc.version()}:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  const contracts = {};
  for (const [unit, byName] of Object.entries(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(byName)) {
      contracts[`${unit}:${name}`] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
    }
  }
  const warnings = (output.errors ?? []).filter((e) => e.severity !== "error").map((e) => e.formattedMessage);
  return { contracts, warnings };
}

/** The project's contracts: src/ReputationAirdrop.sol and src/DemoToken.sol, with their imports. */
export function compileProject() {
  const unit = (name) => [`src/${name}`, readFileSync(join(CONTRACTS, "src", name), "utf8")];
  const out = compile(Object.fromEntries([unit("ReputationAirdrop.sol"), unit("DemoToken.sol")])).contracts;
  return {
    ReputationAirdrop: out["src/ReputationAirdrop.sol:ReputationAirdrop"],
    DemoToken: out["src/DemoToken.sol:DemoToken"],
  };
}

/** A verifier contract's source (ours or snarkjs's), compiled; its contract is Groth16Verifier. */
export function compileVerifier(source, unit = "Verifier.sol") {
  return compile({ [unit]: source }).contracts[`${unit}:Groth16Verifier`];
}
