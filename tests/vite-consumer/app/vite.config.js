// What a Vite app needs for airprover (the package README says why):
import { defineConfig } from 'vite';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Pre-bundling would move the package's files and break its `new URL(..., import.meta.url)`.
  optimizeDeps: { exclude: ['airprover', 'airprover/snarkjs'] },
  // The prover worker imports ES modules (and the wasm glue) dynamically.
  worker: { format: 'es' },
  // Two pages: the claim app (index.html) and the snarkjs drop-in (snarkjs.html).
  build: { rollupOptions: { input: ['index.html', 'snarkjs.html'] } },
  server: { headers: isolation },
  preview: { headers: isolation },
});
