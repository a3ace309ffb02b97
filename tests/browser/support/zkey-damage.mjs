// Damaged snarkjs Groth16 zkeys, made from a good one as tests/zkey.rs makes them natively
// (`every_damaged_zkey_is_its_code`): a flipped byte in each section, truncations, a point off the
// curve, each with the code and the words airprover's reader must answer with. The browser suites
// hold the wasm reader to the same table.

/** Where each section's bytes start and how long they are: [{ id, start, length }]. */
export function sections(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  let at = 12;
  for (let n = view.getUint32(8, true); n > 0; n--) {
    const id = view.getUint32(at, true);
    const length = Number(view.getBigUint64(at + 4, true));
    out.push({ id, start: at + 12, length });
    at += 12 + length;
  }
  return out;
}

// BN254's base field, and 1 in Montgomery form (2^256 mod q), as a zkey stores a coordinate.
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const ONE_MONT = (1n << 256n) % Q;

function littleEndian32(n) {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/**
 * Each damage of the Groth16 zkey `good` (a Uint8Array): [{ name, bytes, code, says }], `says`
 * a RegExp the error's message must match. `name` is fit for a circom circuit id's tail.
 */
export function damagedZkeys(good) {
  const table = sections(good);
  const start = (id) => table.find((s) => s.id === id).start;
  const flipped = (at, mask) => {
    const bad = good.slice();
    bad[at] ^= mask;
    return bad;
  };
  const out = [
    // Protocol 3 is no protocol snarkjs has.
    { name: 's1-protocol', bytes: flipped(start(1), 2), code: 'ZKEY_UNSUPPORTED', says: /protocol 3 in section 1/ },
    // The Groth16 header: its prime is another curve's; nVars disagrees with the sections; alpha1
    // off the curve.
    { name: 's2-prime', bytes: flipped(start(2) + 4, 1), code: 'ZKEY_UNSUPPORTED', says: /primes are not BN254's/ },
    { name: 's2-nvars', bytes: flipped(start(2) + 4 + 32 + 4 + 32, 1), code: 'ZKEY_CORRUPT', says: /the Groth16 header/ },
    { name: 's2-alpha1', bytes: flipped(start(2) + 84 + 5, 1), code: 'ZKEY_CORRUPT', says: /alpha1/ },
    // The coefficients' count.
    { name: 's4-count', bytes: flipped(start(4), 0x40), code: 'ZKEY_CORRUPT', says: /4 \(coefficients\)/ },
  ];
  // A byte of each point section's first coordinate: off the curve (or above q).
  for (const id of [3, 5, 6, 7, 8, 9]) {
    out.push({ name: `s${id}-point`, bytes: flipped(start(id) + 3, 0x10), code: 'ZKEY_CORRUPT', says: new RegExp(`section ${id} \\(`) });
  }
  out.push(
    { name: 'truncated-half', bytes: good.slice(0, good.length >> 1), code: 'ZKEY_CORRUPT', says: /truncated/ },
    { name: 'truncated-1', bytes: good.slice(0, good.length - 1), code: 'ZKEY_CORRUPT', says: /section 10: .*truncated/ },
    { name: 'truncated-header', bytes: good.slice(0, 11), code: 'ZKEY_CORRUPT', says: /too short for a file/ },
  );
  // A point off the curve: A[1] = (1, 1).
  const offCurve = good.slice();
  const a1 = start(5) + 64;
  offCurve.set(littleEndian32(ONE_MONT), a1);
  offCurve.set(littleEndian32(ONE_MONT), a1 + 32);
  out.push({ name: 'off-curve', bytes: offCurve, code: 'ZKEY_CORRUPT', says: /section 5 \(A\): point 1 is not on the curve/ });
  return out;
}

/** `good` with a byte of section 10 (the contributions, which a prover does not read) flipped: still a zkey. */
export function contributionFlipped(good) {
  const bad = good.slice();
  bad[sections(good).find((s) => s.id === 10).start + 7] ^= 1;
  return bad;
}
