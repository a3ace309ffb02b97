// airprover/snarkjs: snarkjs's `groth16` API over airprover's runtime. Changing one import line
// is the whole migration:
//
//   import { groth16 } from 'airprover/snarkjs';   // was: import { groth16 } from 'snarkjs';
//   const { proof, publicSignals } = await groth16.fullProve(input, wasmUrl, zkeyUrl);
//   const same = await groth16.prove(zkeyUrl, wtnsUrl);   // a ready witness (snarkjs's .wtns)
//   const ok = await groth16.verify(vkey, publicSignals, proof);
//
// Files are given as snarkjs takes them: a URL string, or bytes (Uint8Array, ArrayBuffer). Each
// circuit gets an internal id from its zkey's SHA-256 and a manifest of blob: URLs (the runtime
// pins every file by its SHA-256 as for any manifest); its prover is made on first use, kept for
// later calls and ended by `terminate()`. Proving runs in the runtime's workers, never here.
import { createProver, init, solidityCalldata, verifySnarkjs, zkeyVerificationKey } from './index.js';
import { downloadError } from './single/airprover.js';

const provers = new Map(); // `${zkey sha256}/${wasm sha256 | 'none'}` -> Promise<Prover>
const urls = []; // blob: URLs made here, revoked by terminate()

async function bytesOf(file, what) {
  if (file instanceof Uint8Array) return file;
  if (file instanceof ArrayBuffer) return new Uint8Array(file);
  if (ArrayBuffer.isView(file)) return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  if (typeof file === 'string' || file instanceof URL) {
    // A file that does not come is reported raw; its code is the runtime's (downloadError).
    let response;
    try {
      response = await fetch(file);
    } catch (e) {
      await init();
      throw downloadError(`${what} ${file}: ${e?.message ?? e}`, null);
    }
    if (!response.ok) {
      await init();
      throw downloadError(`${what} ${file}: HTTP ${response.status}`, response.status);
    }
    return new Uint8Array(await response.arrayBuffer());
  }
  throw coded('INVALID_INPUT', `${what}: a URL string, a Uint8Array or an ArrayBuffer`);
}

function coded(code, message) {
  return Object.assign(new Error(message), { name: 'AirproverError', code });
}

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function blobUrl(bytes, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  urls.push(url);
  return url;
}

// `prove(zkey, wtns)` has no witness wasm: its manifest names this empty module in its place
// (a manifest's circom entry pins one), which a witness job never loads.
const NO_WITNESS_WASM = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/**
 * The circuit's id and its prover, made once per zkey and witness wasm (`null` for
 * `prove(zkey, wtns)`, which needs none).
 */
async function circuitFor(wasmBytes, zkeyBytes) {
  const zkeySha = await sha256Hex(zkeyBytes);
  const id = `z${zkeySha.slice(0, 40)}`;
  const made = `${zkeySha}/${wasmBytes ? await sha256Hex(wasmBytes) : 'none'}`;
  let prover = provers.get(made);
  if (!prover) {
    prover = (async () => {
      await init();
      const vkey = new TextEncoder().encode(JSON.stringify(zkeyVerificationKey(zkeyBytes)));
      const file = async (bytes, type) => ({ name: blobUrl(bytes, type), bytes: bytes.length, sha256: await sha256Hex(bytes) });
      const manifest = {
        format: 2,
        circuits: [
          {
            id,
            kind: 'circom',
            zkey: await file(zkeyBytes, 'application/octet-stream'),
            wasm: await file(wasmBytes ?? NO_WITNESS_WASM, 'application/wasm'),
            verifyingKey: await file(vkey, 'application/json'),
          },
        ],
      };
      const manifestUrl = blobUrl(new TextEncoder().encode(JSON.stringify(manifest)), 'application/json');
      return createProver({ manifestUrl });
    })();
    provers.set(made, prover);
    prover.catch(() => provers.delete(made));
  }
  return { id, prover: await prover };
}

export const groth16 = {
  /** snarkjs's `groth16.fullProve(input, wasm, zkey)`: `{ proof, publicSignals }`. */
  async fullProve(input, wasmFile, zkeyFile) {
    const [wasm, zkey] = await Promise.all([bytesOf(wasmFile, 'wasm'), bytesOf(zkeyFile, 'zkey')]);
    const { id, prover } = await circuitFor(wasm, zkey);
    const { proof, publicSignals } = await prover.submit({ circuit: id, input }).result;
    return { proof, publicSignals };
  },

  /**
   * snarkjs's `groth16.prove(zkey, wtns)`: a ready witness (snarkjs's `.wtns`) proved in the
   * runtime's workers, `{ proof, publicSignals }`. The worker reads the witness: ZKEY_MISMATCH
   * for another circuit's, INVALID_INPUT for a damaged one.
   */
  async prove(zkeyFile, wtnsFile) {
    const [zkey, wtns] = await Promise.all([bytesOf(zkeyFile, 'zkey'), bytesOf(wtnsFile, 'wtns')]);
    const { id, prover } = await circuitFor(null, zkey);
    const { proof, publicSignals } = await prover.submit({ circuit: id, wtns }).result;
    return { proof, publicSignals };
  },

  /** snarkjs's `groth16.verify(vkey, publicSignals, proof)`: whether the proof verifies. */
  async verify(vkey, publicSignals, proof) {
    await init();
    return verifySnarkjs(vkey, publicSignals, proof);
  },

  /** snarkjs's `groth16.exportSolidityCallData(proof, publicSignals)`: its exact string. */
  async exportSolidityCallData(proof, publicSignals) {
    await init();
    return solidityCalldata(proof, publicSignals).text;
  },
};

/** Ends every prover made here (their workers) and frees their files. */
export async function terminate() {
  const made = [...provers.values()];
  provers.clear();
  for (const p of made) (await p.catch(() => null))?.terminate();
  for (const url of urls.splice(0)) URL.revokeObjectURL(url);
}
