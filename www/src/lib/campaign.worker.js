// The demo campaign's attestation tree, off the page's thread: every leaf and inner node is a
// Poseidon hash (about 20,000 for 10,000 attestations), computed here once; the page then asks
// for one identity's attestations with their Merkle paths.
//
//   { id, type: 'load', url }          -> { id, value: { depth, root, computedRoot, count, ms } }
//   { id, type: 'identity', secret }   -> { id, value: { commitment, attestations } }
//   any failure                        -> { id, error: { code, message } }
import { init, poseidonHash } from 'airprover';

let tree = null; // { depth, root, leaves, subjects: bigint[], levels: string[][], zeros: string[] }

async function load(url) {
  const start = performance.now();
  await init();
  const response = await fetch(url);
  if (!response.ok) throw coded('NETWORK', `${url}: HTTP ${response.status}`);
  const { depth, root, leaves } = await response.json();
  // levels[0] are the leaves, levels[depth] the root; past the last leaf of a level the nodes are
  // the empty subtrees zeros[level] (an empty leaf is 0, the spec's rule).
  const levels = [leaves.map((l) => poseidonHash([l.attester, l.subject, l.weight]))];
  const zeros = ['0'];
  for (let level = 0; level < depth; level++) {
    const below = levels[level];
    const above = [];
    for (let i = 0; i < below.length; i += 2) above.push(poseidonHash([below[i], below[i + 1] ?? zeros[level]]));
    levels.push(above);
    zeros.push(poseidonHash([zeros[level], zeros[level]]));
  }
  const computedRoot = levels[depth][0] ?? zeros[depth];
  tree = { depth, root, leaves, subjects: leaves.map((l) => BigInt(l.subject)), levels, zeros };
  return { depth, root, computedRoot: hex(computedRoot), count: leaves.length, ms: performance.now() - start };
}

function identity(secret) {
  if (!tree) throw coded('INTERNAL', 'the campaign is not loaded yet');
  const commitment = poseidonHash([secret]);
  const mine = BigInt(commitment);
  const attestations = [];
  tree.subjects.forEach((subject, i) => {
    if (subject === mine) attestations.push(withPath(tree.leaves[i]));
  });
  return { commitment: hex(commitment), attestations };
}

/** An attestation of the claim input: its leaf index, attester, weight and D siblings. */
function withPath({ index, attester, weight }) {
  const siblings = [];
  let at = index;
  for (let level = 0; level < tree.depth; level++) {
    siblings.push(tree.levels[level][at ^ 1] ?? tree.zeros[level]);
    at >>= 1;
  }
  return { index, attester, weight, siblings };
}

function hex(decimal) {
  return `0x${BigInt(decimal).toString(16).padStart(64, '0')}`;
}

function coded(code, message) {
  return Object.assign(new Error(message), { code });
}

self.addEventListener('message', async ({ data }) => {
  try {
    const value = data.type === 'load' ? await load(data.url) : identity(data.secret);
    postMessage({ id: data.id, value });
  } catch (e) {
    postMessage({ id: data.id, error: { code: e?.code ?? 'INTERNAL', message: String(e?.message ?? e) } });
  }
});
