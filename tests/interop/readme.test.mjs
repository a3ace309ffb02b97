// The README's "Your own circuit" shell block, run as a reader pastes it: in an empty directory,
// with `AIRPROVER` a checkout whose release binaries are this run's (links to the tested
// airprover and dev_ptau). npm installs circom2 and snarkjs from its cache when it has them. The
// block must exit 0 with snarkjs's verify saying OK, and the public signals must be the vote
// circuit's: the commitment salt² + vote and the vote.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { REPO, airproverBinary, devPtauBinary, readJson } from "./fixture.mjs";

/** The first fenced block of `lang` in the README section `heading`. */
export function readmeBlock(heading, lang) {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README.md has no section ${heading}`);
  const section = readme.slice(start + 1).split(/\n## /)[0];
  const block = section.match(new RegExp("```" + lang + "\\n([\\s\\S]*?)\\n```"));
  assert.ok(block, `README.md's ${heading} has no ${lang} block`);
  return block[1];
}

test("README's 'Your own circuit' block works when pasted", { timeout: 600_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "airprover-readme-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const checkout = join(dir, "airprover");
  mkdirSync(join(checkout, "target/release/examples"), { recursive: true });
  symlinkSync(airproverBinary(), join(checkout, "target/release/airprover"));
  symlinkSync(devPtauBinary(), join(checkout, "target/release/examples/dev_ptau"));
  const work = join(dir, "work");
  mkdirSync(work);

  const block = readmeBlock("Your own circuit", "sh");
  const run = spawnSync("bash", ["-euo", "pipefail", "-c", block], {
    cwd: work,
    encoding: "utf8",
    env: { ...process.env, AIRPROVER: checkout, npm_config_prefer_offline: "true" },
  });
  const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
  assert.equal(run.status, 0, `the block exited ${run.status}:\n${output}`);
  assert.match(output, /OK!/, "snarkjs groth16 verify did not say OK");
  const p = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
  const commitment = (123456789n * 123456789n + 1n) % p;
  assert.deepEqual(readJson(join(work, "public.json")), [commitment.toString(), "1"]);
});
