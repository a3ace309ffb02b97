// (c) A proof made in the browser verifies with the native CLI.
//
// HOOK for the wasm build: point AIRPROVER_BROWSER_PROOF at a directory holding what the browser
// produced and the keys it proved with:
//   proof.json, public.json   the browser's output (snarkjs format)
//   circuit                   one line: the circuit id, e.g. threshold-d5-k3
//   keys/                     the key directory the browser loaded (as `airprover setup` writes it)
// Without it the test is skipped (and says so).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { airprover } from "./fixture.mjs";

const dir = process.env.AIRPROVER_BROWSER_PROOF;

test("a browser proof verifies with the native CLI", { skip: dir ? false : "set AIRPROVER_BROWSER_PROOF (see this file)" }, () => {
  for (const name of ["proof.json", "public.json", "circuit", "keys"]) {
    assert.ok(existsSync(join(dir, name)), `${dir} has no ${name}`);
  }
  const circuit = readFileSync(join(dir, "circuit"), "utf8").trim();
  const args = ["--keys", join(dir, "keys"), "--circuit", circuit, "--proof", join(dir, "proof.json")];
  const run = airprover("verify", ...args, "--public", join(dir, "public.json"));
  assert.equal(run.status, 0, run.stderr);

  // And the native verifier still says no when the browser's public signals are altered.
  const publicSignals = JSON.parse(readFileSync(join(dir, "public.json"), "utf8"));
  publicSignals[0] = (BigInt(publicSignals[0]) + 1n).toString();
  const altered = join(mkdtempSync(join(tmpdir(), "airprover-browser-")), "public.json");
  writeFileSync(altered, JSON.stringify(publicSignals));
  const rejected = airprover("verify", ...args, "--public", altered);
  assert.equal(rejected.status, 1, rejected.stderr);
});
