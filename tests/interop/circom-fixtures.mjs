#!/usr/bin/env node
// The circom fixtures every suite that proves a circom circuit shares (Rust tests through
// tests/common/circom.rs, the interop, contract and browser tests): circuits compiled here with the
// circom compiler from npm (`circom2`, the compiler as wasm), a DEVELOPMENT powers of tau from
// examples/dev_ptau.rs, `snarkjs groth16 setup` and one contribution, and what snarkjs makes from
// each circuit's sample input (its witness and proof), for the tests to compare with.
//
//   node tests/interop/circom-fixtures.mjs        builds what is missing, prints the directory
//
// Into $AIRPROVER_CIRCOM_FIXTURES, else target/circom-fixtures/. Each circuit's directory is
// made once per content (its sources, the tools' versions, dev_ptau's source: a `stamp` file) and
// moved into place whole, so concurrent runs (several test binaries at once) never see half a
// fixture. Per circuit NAME, in NAME/:
//
//   circuit.r1cs  circuit_js/circuit.wasm  circuit.sym   circom's output
//   circuit.zkey                   groth16 setup on ptau/dev<power>.ptau, then one contribution
//   verification_key.json  verifier.sol                  snarkjs's exports of that zkey
//   input.json  witness.wtns  proof.json  public.json    a valid input, snarkjs's witness and proof
//   info.json                      { constraints, publicSignals, power }
//
// and multi/plonk.zkey, a PLONK key of `multi` (for the refusal of another protocol).
//
// The circuits: `arrays` (nested array inputs), `multi` (several public outputs and inputs),
// `assert` (a circom assert, for WITNESS_FAILED), and `claim-d20-k8`, the bench's circom claim
// circuit (benches/browser/circuits/claim.circom: the statement of threshold-d20-k8, about 2^16
// constraints) with a claim the airprover CLI samples. The zkeys are DEVELOPMENT keys: the ptau's
// seed is public, so anyone can forge proofs with them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { circomClaimInput } from '../../benches/browser/circuits/claim-input.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const OUT = resolve(process.env.AIRPROVER_CIRCOM_FIXTURES ?? join(ROOT, 'target/circom-fixtures'));
const MODULES = join(HERE, 'node_modules');
const SNARKJS = join(MODULES, 'snarkjs/build/cli.cjs');
const CIRCOM = join(MODULES, 'circom2/cli.js');
const CIRCOMLIB = join(MODULES, 'circomlib/circuits');
const BENCH_CIRCUITS = join(ROOT, 'benches/browser/circuits');
const OWN_CIRCUITS = join(HERE, 'circuits');

/** The native binaries: $DEV_PTAU_BIN / $AIRPROVER_BIN, else the testing build's. */
function binary(env, path) {
  const bin = process.env[env] ?? join(ROOT, 'target/testing', path);
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: build it (make native-build) or set ${env}`);
  }
  return bin;
}

const log = (line) => process.stderr.write(`[circom-fixtures] ${line}\n`);

function run(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

const snarkjs = (...args) => run('node', [SNARKJS, ...args]);
const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
// What a ptau depends on: dev_ptau's source (its output is a function of it, the power and the
// seed; the binary's bytes change with every relink).
const DEV_PTAU_SOURCE = sha256(readFileSync(join(ROOT, 'examples/dev_ptau.rs')));

const version = (pkg) => JSON.parse(readFileSync(join(MODULES, pkg, 'package.json'), 'utf8')).version;

/** Writes `make(tmp)`'s output as `dir`, whole, unless `dir` already holds `stamp`. */
async function once(dir, stamp, make) {
  const stampFile = join(dir, 'stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await make(tmp);
  writeFileSync(join(tmp, 'stamp'), stamp);
  // Another run may have finished the same fixture meanwhile: either copy is the same.
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    rmSync(tmp, { recursive: true, force: true });
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/** A DEVELOPMENT powers of tau of 2^power, prepared for phase 2 (seed 1). */
async function ptau(power) {
  const devPtau = binary('DEV_PTAU_BIN', 'examples/dev_ptau');
  const dir = join(OUT, 'ptau', `dev${power}`);
  await once(dir, `dev_ptau power ${power} seed 1 ${DEV_PTAU_SOURCE}`, (tmp) => {
    log(`powers of tau 2^${power} (DEVELOPMENT, seed 1)`);
    run(devPtau, ['--power', String(power), '--out', join(tmp, 'pot.ptau'), '--seed', '1']);
  });
  return join(dir, 'pot.ptau');
}

/** The main component's source and its input maker, per fixture. */
const CIRCUITS = {
  arrays: { source: () => readFileSync(join(OWN_CIRCUITS, 'arrays.circom')), input: ownInput('arrays') },
  multi: { source: () => readFileSync(join(OWN_CIRCUITS, 'multi.circom')), input: ownInput('multi'), plonk: true },
  assert: { source: () => readFileSync(join(OWN_CIRCUITS, 'assert.circom')), input: ownInput('assert') },
  'claim-d20-k8': {
    source: () =>
      'pragma circom 2.0.0;\ninclude "claim.circom";\n' +
      'component main {public [root, campaignId, claimant, nullifier, threshold]} = ThresholdClaim(20, 8);\n',
    extra: () => Buffer.concat([readFileSync(join(BENCH_CIRCUITS, 'claim.circom')), readFileSync(join(BENCH_CIRCUITS, 'claim-input.mjs'))]),
    input: claimInput,
  },
};

function ownInput(name) {
  return () => JSON.parse(readFileSync(join(OWN_CIRCUITS, `${name}.input.json`), 'utf8'));
}

/**
 * A threshold-d20-k8 claim sampled by the CLI (seed 7), as the circom claim circuit's input: the
 * slots padded to K, the nullifier Poseidon([secret, campaignId]) (CLAIM-SPEC.md) by circomlibjs.
 */
async function claimInput(tmp) {
  const cli = binary('AIRPROVER_BIN', 'airprover');
  const file = join(tmp, 'claim.json');
  run(cli, ['sample', '--circuit', 'threshold-d20-k8', '--out', file, '--attestations', '64', '--seed', '7']);
  const claim = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file);
  rmSync(file.replace(/\.json$/, '.tree.json'), { force: true });
  const { buildPoseidon } = await import('circomlibjs');
  const poseidon = await buildPoseidon();
  const nullifier = poseidon.F.toString(poseidon([BigInt(claim.secret), BigInt(claim.campaignId)]));
  return circomClaimInput(claim, nullifier, 20, 8);
}

async function fixture(name) {
  const spec = CIRCUITS[name];
  const source = spec.source();
  const stamp = sha256(
    source,
    spec.extra ? spec.extra() : '',
    JSON.stringify(spec.input === claimInput ? 'claim' : spec.input()),
    readFileSync(fileURLToPath(import.meta.url)),
    `circom2 ${version('circom2')} snarkjs ${version('snarkjs')} circomlib ${version('circomlib')}`,
    DEV_PTAU_SOURCE,
  );
  const dir = join(OUT, name);
  const started = Date.now();
  let built = false;
  await once(dir, stamp, async (tmp) => {
    built = true;
    writeFileSync(join(tmp, 'circuit.circom'), source);
    // circom2 runs in WASI and sees the working directory only: paths relative to the repo.
    const rel = (p) => relative(ROOT, p);
    log(`${name}: circom2 --O2`);
    run(
      'node',
      [CIRCOM, rel(join(tmp, 'circuit.circom')), '--O2', '--r1cs', '--wasm', '--sym', '-o', rel(tmp),
        '-l', rel(BENCH_CIRCUITS), '-l', rel(CIRCOMLIB)],
      { cwd: ROOT },
    );
    const r1cs = join(tmp, 'circuit.r1cs');
    const info = snarkjs('r1cs', 'info', r1cs);
    const count = (what) => Number(new RegExp(`# of ${what}: (\\d+)`).exec(info)?.[1]);
    const constraints = count('Constraints');
    const publicSignals = count('Public Inputs') + count('Outputs');
    // snarkjs's Groth16 domain: the next power of two above constraints + public signals + 1.
    const power = Math.max(Math.ceil(Math.log2(constraints + publicSignals + 1)), 3);
    const pot = await ptau(power);
    log(`${name}: ${constraints} constraints, groth16 setup on 2^${power} and one contribution`);
    const zkey0 = join(tmp, 'circuit_0000.zkey');
    const zkey = join(tmp, 'circuit.zkey');
    snarkjs('groth16', 'setup', r1cs, pot, zkey0);
    snarkjs('zkey', 'contribute', zkey0, zkey, '--name=fixture', '-e=airprover circom fixture');
    rmSync(zkey0);
    snarkjs('zkey', 'export', 'verificationkey', zkey, join(tmp, 'verification_key.json'));
    snarkjs('zkey', 'export', 'solidityverifier', zkey, join(tmp, 'verifier.sol'));
    const input = await spec.input(tmp);
    writeFileSync(join(tmp, 'input.json'), `${JSON.stringify(input, null, 1)}\n`);
    const wasm = join(tmp, 'circuit_js/circuit.wasm');
    snarkjs('wtns', 'calculate', wasm, join(tmp, 'input.json'), join(tmp, 'witness.wtns'));
    snarkjs('groth16', 'prove', zkey, join(tmp, 'witness.wtns'), join(tmp, 'proof.json'), join(tmp, 'public.json'));
    // PLONK counts additions as gates too: 2^12 holds `multi`'s.
    if (spec.plonk) snarkjs('plonk', 'setup', r1cs, await ptau(12), join(tmp, 'plonk.zkey'));
    writeFileSync(join(tmp, 'info.json'), `${JSON.stringify({ constraints, publicSignals, power })}\n`);
  });
  if (built) log(`${name}: made in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

/** Every fixture (or those named), built where missing; resolves to the fixtures' directory. */
export async function circomFixtures(names = Object.keys(CIRCUITS)) {
  mkdirSync(OUT, { recursive: true });
  for (const name of names) {
    if (!CIRCUITS[name]) throw new Error(`no circom fixture ${name}: ${Object.keys(CIRCUITS).join(', ')}`);
    await fixture(name);
  }
  return OUT;
}

/** The files of fixture `name` (built if missing). */
export async function circomFixture(name) {
  const dir = join(await circomFixtures([name]), name);
  const at = (p) => join(dir, p);
  return {
    dir,
    r1cs: at('circuit.r1cs'),
    wasm: at('circuit_js/circuit.wasm'),
    zkey: at('circuit.zkey'),
    vkey: at('verification_key.json'),
    verifier: at('verifier.sol'),
    input: at('input.json'),
    wtns: at('witness.wtns'),
    proof: at('proof.json'),
    public: at('public.json'),
    info: JSON.parse(readFileSync(at('info.json'), 'utf8')),
    plonk: existsSync(at('plonk.zkey')) ? at('plonk.zkey') : undefined,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  process.stdout.write(`${await circomFixtures(names.length ? names : undefined)}\n`);
}
