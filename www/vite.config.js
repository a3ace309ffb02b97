// The claim app: Svelte built with Vite, using airprover from its npm package (../pkg).
//
// The two settings every Vite app that uses airprover needs (see the README, "Using it in a web
// app"): the package is left out of dependency pre-bundling, so that its `new URL(...,
// import.meta.url)` references to workers and .wasm files keep pointing at real files, and
// workers are built as ES modules, because the prover worker imports the wasm glue dynamically.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Cross-origin isolation: without it there is no SharedArrayBuffer, so no threaded build.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [svelte()],
  optimizeDeps: { exclude: ['airprover'] },
  worker: { format: 'es' },
  // `airprover` is a link to ../pkg (a `file:` dependency): let the dev server read it.
  server: { host: '127.0.0.1', headers: isolation, fs: { allow: ['..'] } },
  preview: { host: '127.0.0.1', headers: isolation },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
});
