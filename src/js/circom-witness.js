// circom's witness wasm in the proving worker: instantiation and the imports of its ABI, nothing
// more. The ABI itself (versions, prime, signal hashes, input sizes, messages, errors) is Rust's,
// src/circom/witness.rs, driven from src/web/circom_witness.rs; wasm-bindgen copies this file into
// the build's snippets/, so it must stay self-contained.

/**
 * Instantiates a compiled circom witness wasm with the four imports of module `runtime` that
 * circom 2.0-2.2 compile into it. Each import reports to `onImport(index, arg)` (the index in
 * Rust's `Import::ALL`; `arg` is exceptionHandler's code, else 0), which reads the message it
 * announces through the instance's own exports; where it answers `true` (exceptionHandler) the
 * import throws, the only way to stop the wasm. Returns the instance's exports.
 *
 * @param {WebAssembly.Module} module
 * @param {(index: number, arg: number) => boolean} onImport
 * @returns {WebAssembly.Exports}
 */
export function instantiateCircomWitness(module, onImport) {
  const report = (index, arg) => {
    if (onImport(index, arg)) throw new CircomStop();
  };
  const runtime = {
    exceptionHandler: (code) => report(0, code),
    printErrorMessage: () => report(1, 0),
    writeBufferMessage: () => report(2, 0),
    showSharedRWMemory: () => report(3, 0),
  };
  // Synchronous: allowed for a module of any size off the main thread, and proving runs in a worker.
  return new WebAssembly.Instance(module, { runtime }).exports;
}

/** What stops the wasm; never seen outside Rust, which makes the crate's error of it. */
class CircomStop extends Error {}

/**
 * An input object as JSON text; bigints (which snarkjs takes) become decimal strings.
 *
 * @param {unknown} value
 * @returns {string | undefined}
 */
export function circomInputJson(value) {
  return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}
