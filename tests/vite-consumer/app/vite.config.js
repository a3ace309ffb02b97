// What a Vite app needs for airprover (the package README says why):
import { defineConfig } from 'vite';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Pre-bundling would move the package's files and break its `new URL(..., import.meta.url)`.
  optimizeDeps: { exclude: ['airprover'] },
  // The prover worker imports ES modules (and the wasm glue) dynamically.
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation },
});
