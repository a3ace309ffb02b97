// The demo campaign: the operator's published tree (made by `airprover sample --attestations
// 10000` at build time), the campaign's rule, and how a claim is put together from them.

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

const CIRCUIT = /^threshold-d(\d+)-k(\d+)$/;

/** The threshold circuits with keys for a tree of `depth`, smallest K first. */
export function thresholdCircuits(ids, depth) {
  return ids
    .map((id) => ({ id, m: CIRCUIT.exec(id) }))
    .filter(({ m }) => m && Number(m[1]) === depth)
    .map(({ id, m }) => ({ id, k: Number(m[2]) }))
    .sort((a, b) => a.k - b.k);
}

/** The K heaviest attestations, in leaf order (the circuit wants indices increasing). */
export function heaviest(attestations, k) {
  return [...attestations]
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .slice(0, k)
    .sort((a, b) => a.index - b.index);
}

export function score(attestations) {
  return attestations.reduce((sum, a) => sum + Number(a.weight), 0);
}

/**
 * The smallest circuit whose K heaviest attestations reach the threshold (the fastest proof), or
 * the largest circuit when none does (proving it then fails with SCORE_NOT_MET, as it should).
 */
export function autoCircuit(circuits, attestations, threshold) {
  return circuits.find((c) => score(heaviest(attestations, c.k)) >= threshold) ?? circuits.at(-1) ?? null;
}

/** The claim input of the claim spec. */
export function buildClaim({ circuit, root, secret, campaignId, claimant, threshold, attestations }) {
  return {
    circuit: circuit.id,
    root,
    secret,
    campaignId: String(campaignId),
    claimant,
    threshold: String(threshold),
    attestations: heaviest(attestations, circuit.k),
  };
}
