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
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const PKG = join(ROOT, 'pkg');
const BUILDS = ['threads', 'single'];

const cargo = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "(.*)"$`, 'm'))[1];

// What the package ships.
// Every module of src/js/ (the build copies them all next to the builds): the entry, the worker
// entry and what they import.
const jsModules = readdirSync(join(ROOT, 'src/js')).filter((f) => f.endsWith('.js')).sort();
const files = [
  ...jsModules,
  'index.d.ts',
  'snarkjs.d.ts',
  ...BUILDS.flatMap((b) => [`${b}/airprover.js`, `${b}/airprover.d.ts`, `${b}/airprover_bg.wasm`, `${b}/airprover_bg.wasm.d.ts`]),
  // JS the Rust side imports (`#[wasm_bindgen(module = ...)]`), copied by wasm-bindgen: in the
  // threaded build at least wasm-bindgen-rayon's worker helper.
  ...BUILDS.filter((b) => b === 'threads' || existsSync(join(PKG, b, 'snippets'))).map((b) => `${b}/snippets/`),
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
    // The drop-in for snarkjs users: `import { groth16 } from 'airprover/snarkjs'`.
    './snarkjs': { types: './snarkjs.d.ts', default: './snarkjs.js' },
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
    './single/snippets/**',
  ],
  keywords: ['groth16', 'zk', 'zero-knowledge', 'bn254', 'arkworks', 'wasm', 'airdrop'],
};

// wasm-bindgen-rayon's no-bundler helper starts each rayon thread from a Blob of its own source
// (`fetch(import.meta.url)`), so that it works when hosted on another origin. A blob: URL is no
// base for absolute imports, and Vite's dev server adds one to every module it serves
// (`import ... from "/@vite/client"`): each thread died at once and the pool waited forever. The
// blob now only imports the helper by its real URL, which keeps the cross-origin property and
// lets the module resolve its imports. Messages wait until the module graph has run, so the init
// message is not lost.
const RAYON_HELPER = /threads\/snippets\/wasm-bindgen-rayon-[0-9a-f]+\/src\/workerHelpers\.no-bundler\.js$/;
const BLOB_OF_SOURCE = 'let scriptBlob = await fetch(import.meta.url).then(r => r.blob());';
const BLOB_OF_IMPORT =
  "let scriptBlob = new Blob([`import ${JSON.stringify(import.meta.url)};`], { type: 'text/javascript' }); // airprover: see scripts/npm-package.mjs";

function patchRayonHelper() {
  const dir = join(PKG, 'threads/snippets');
  if (!existsSync(dir)) return;
  const helpers = readdirSync(dir, { recursive: true })
    .map((f) => join(dir, f))
    .filter((f) => RAYON_HELPER.test(f.replaceAll('\\', '/')));
  for (const file of helpers) {
    const text = readFileSync(file, 'utf8');
    if (text.includes(BLOB_OF_IMPORT)) continue;
    if (!text.includes(BLOB_OF_SOURCE)) {
      throw new Error(`${file}: wasm-bindgen-rayon's helper changed; check the patch in scripts/npm-package.mjs`);
    }
    writeFileSync(file, text.replace(BLOB_OF_SOURCE, BLOB_OF_IMPORT));
  }
}

function write() {
  patchRayonHelper();
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
