// The demo campaign's attestation tree, off the page's thread: the package's CampaignTree hashes
// every leaf and inner node (about 20,000 Poseidon hashes for 10,000 attestations) once, here;
// the page then asks for one identity's attestations with their Merkle paths.
//
//   { id, type: 'load', url }          -> { id, value: { depth, root, computedRoot, count, ms } }
//   { id, type: 'identity', secret }   -> { id, value: { commitment, attestations, score } }
//   any failure                        -> { id, error: { code, message } }
import { CampaignTree, init } from 'airprover';

let tree = null; // CampaignTree

async function load(url) {
  const start = performance.now();
  await init();
  const response = await fetch(url);
  if (!response.ok) throw coded('NETWORK', `${url}: HTTP ${response.status}`);
  const loaded = new CampaignTree(await response.text());
  tree?.free();
  tree = loaded;
  const { depth, root, computedRoot, count } = tree;
  return { depth, root, computedRoot, count, ms: performance.now() - start };
}

function identity(secret) {
  if (!tree) throw coded('INTERNAL', 'the campaign is not loaded yet');
  return tree.attestationsOf(secret);
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
