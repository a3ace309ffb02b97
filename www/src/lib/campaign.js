// The demo campaign: the operator's published tree (made by `airprover sample --attestations
// 10000` at build time), the campaign's rule, and how a claim is put together from them. The tree
// and the choice of circuit are the package's (CampaignTree, smallestCircuit): nothing of the
// crate is re-implemented here.

/** The campaign worker (tree hashing off the page's thread), as request -> promise. */
export function campaignWorker() {
  const worker = new Worker(new URL('./campaign.worker.js', import.meta.url), { type: 'module' });
  const pending = new Map();
  let next = 1;
  worker.addEventListener('message', ({ data }) => {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    if (data.error) reject(Object.assign(new Error(data.error.message), { code: data.error.code }));
    else resolve(data.value);
  });
  const ask = (message) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  return {
    load: (url) => ask({ type: 'load', url }),
    identity: (secret) => ask({ type: 'identity', secret }),
  };
}

/** A fresh identity secret: 31 random bytes, always below the field modulus. */
export function randomSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(31));
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The claim input of the claim spec, for `circuit`: a `CircuitChoice` of `smallestCircuit`, whose
 * attestations are the ones the claim keeps.
 */
export function buildClaim({ circuit, root, secret, campaignId, claimant, threshold }) {
  return {
    circuit: circuit.id,
    root,
    secret,
    campaignId: String(campaignId),
    claimant,
    threshold: String(threshold),
    attestations: circuit.attestations,
  };
}
