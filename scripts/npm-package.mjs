#!/usr/bin/env node
// Turns pkg/ (the two wasm-pack outputs and src/js/) into the npm package `airprover`:
// package.json, the TypeScript declarations and the README. Run by scripts/build-wasm.sh after
// each flavour; `--check` also fails when a file the package lists is missing (`make pack`).
//
//   node scripts/npm-package.mjs [--check]
//
// wasm-pack writes a package.json (with `sideEffects` that would let a bundler drop init code)
// and a `.gitignore` of `*` into pkg/threads and pkg/single. Both go: the nested package.json
// would make Vite and Rollup treat each build directory as a package root of its own, and npm
// would read the `.gitignore` as a list of files to leave out of the tarball.
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const PKG = join(ROOT, 'pkg');
const BUILDS = ['threads', 'single'];

const cargo = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "(.*)"$`, 'm'))[1];

// What the package ships. The threaded build's snippets/ holds wasm-bindgen-rayon's worker
// script, which its glue imports and which starts each rayon thread.
const files = [
  'index.js',
  'index.d.ts',
  'prover-worker.js',
  'worker-jobs.js',
  ...BUILDS.flatMap((b) => [`${b}/airprover.js`, `${b}/airprover.d.ts`, `${b}/airprover_bg.wasm`, `${b}/airprover_bg.wasm.d.ts`]),
  'threads/snippets/',
];

const manifest = {
  name: 'airprover',
  version: field('version'),
  description: field('description'),
  license: field('license'),
  type: 'module',
  // ESM only: one entry, its declarations first (TypeScript reads the first matching condition).
  exports: {
    '.': { types: './index.d.ts', default: './index.js' },
    './package.json': './package.json',
  },
  main: './index.js',
  types: './index.d.ts',
  files,
  // Modules whose evaluation does something a bundler must keep even when nothing imports a
  // name from them: the worker entries (their top level installs the message handlers) and the
  // wasm-bindgen init glue of both builds. index.js itself is free of side effects.
  sideEffects: [
    './prover-worker.js',
    './worker-jobs.js',
    './threads/airprover.js',
    './single/airprover.js',
    './threads/snippets/**',
  ],
  keywords: ['groth16', 'zk', 'zero-knowledge', 'bn254', 'arkworks', 'wasm', 'airdrop'],
};

function write() {
  for (const b of BUILDS) {
    rmSync(join(PKG, b, 'package.json'), { force: true });
    rmSync(join(PKG, b, '.gitignore'), { force: true });
  }
  rmSync(join(PKG, '.gitignore'), { force: true });
  copyFileSync(join(ROOT, 'src/js/index.d.ts'), join(PKG, 'index.d.ts'));
  copyFileSync(join(ROOT, 'README.md'), join(PKG, 'README.md'));
  writeFileSync(join(PKG, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

function check() {
  const missing = files.filter((f) => !existsSync(join(PKG, f)));
  if (missing.length) {
    console.error(`npm-package: pkg/ lacks ${missing.join(', ')}: run \`make build\``);
    process.exit(1);
  }
}

write();
if (process.argv.includes('--check')) check();
