// The demo's local chain (anvil, started by `make demo` with contracts/scripts/deploy-local.mjs,
// which writes /chain.json) and its claim relayer (`airprover serve --campaigns` and `airprover
// relay`, chain.json's `relayer`): the page posts the verified proof (never the claim or its
// secret) to the relayer, which sends ReputationAirdrop.claim from its own funded account and
// reports each phase. The page holds no private key; it reads the chain only.
import { createPublicClient, defineChain, encodeAbiParameters, formatUnits, getAddress, http, keccak256 } from 'viem';

/** chain.json, or null when the app is served without a chain. */
export async function loadChain(url = '/chain.json') {
  const response = await fetch(url);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/**
 * keccak256(abi.encode(chainId, airdrop)) mod r: the only campaign id the airdrop at `airdrop`
 * accepts (ReputationAirdrop.campaignIdOf; `airprover campaign-id` derives it the same way).
 */
export function campaignIdOf(chainId, airdrop) {
  const encoded = encodeAbiParameters([{ type: 'uint256' }, { type: 'address' }], [BigInt(chainId), airdrop]);
  return BigInt(keccak256(encoded)) % FIELD_MODULUS;
}

/**
 * A read-only viem client for chain.json's node, with the campaign id derived from the chain and
 * the airdrop's address (claims are proved for it); a chain.json whose campaignId is not its
 * airdrop's is refused.
 */
export function connectChain(config) {
  const campaignId = campaignIdOf(config.chainId, config.airdrop);
  if (BigInt(config.campaignId) !== campaignId) {
    throw new Error(`chain.json names campaign ${config.campaignId}, but its airdrop accepts only ${campaignId}`);
  }
  if (!config.relayer?.url) throw new Error('chain.json names no relayer (make demo starts one)');
  const chain = defineChain({
    id: config.chainId,
    name: 'anvil (local, development)',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  return {
    config,
    campaignId: `${campaignId}`,
    relayer: config.relayer,
    publicClient: createPublicClient({ chain, transport: http(config.rpcUrl), pollingInterval: 100 }),
  };
}

/** The address a proof pays: public signal 2, the claimant bound in the proof. */
export function claimantOf(publicSignals) {
  return getAddress(`0x${BigInt(publicSignals[2]).toString(16).padStart(40, '0')}`);
}

/** The demo token's balance of `address`, formatted. */
export async function tokenBalance({ publicClient, config }, address) {
  const token = { address: config.token, abi: config.abi.token };
  const [raw, symbol, decimals] = await Promise.all([
    publicClient.readContract({ ...token, functionName: 'balanceOf', args: [address] }),
    publicClient.readContract({ ...token, functionName: 'symbol' }),
    publicClient.readContract({ ...token, functionName: 'decimals' }),
  ]);
  return { raw, text: `${formatUnits(raw, decimals)} ${symbol}` };
}

/**
 * The relayer's phases, in their usual order. `waiting_for_fees` ({ neededFeePerGasWei,
 * maxFeePerGasWei }, decimal strings) comes only when sending would offer more per gas than the
 * campaign's ceiling; `submitted` comes again for each replacement.
 */
export const PHASES = ['received', 'verified', 'waiting_for_fees', 'submitted', 'confirmed'];

/**
 * Posts the proof to the relayer and follows its phases (Server-Sent Events, which the browser
 * resumes after a dropped connection): `onPhase(phase, data)` for `received`, `verified`,
 * `waiting_for_fees` ({ neededFeePerGasWei, maxFeePerGasWei }), `submitted` ({ txHash, account,
 * nonce }) and `confirmed` ({ txHash, block, gasUsed, and sentBy when the claim's calldata was
 * mined from another sender's transaction }). Resolves
 * to { id, txHash, block, gasUsed, account, claimant, balance }; rejects with a ChainRefusal whose
 * reason is the relayer's code (NULLIFIER_USED, ...) or the contract's error.
 */
export async function relayClaim(conn, result, onPhase = () => {}) {
  const { url, campaign } = conn.relayer;
  let response;
  try {
    response = await fetch(`${url}/v1/claims`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ proof: result.proof, publicSignals: result.publicSignals, circuit: conn.config.circuit, campaign }),
    });
  } catch (e) {
    throw new ChainRefusal('RELAYER_UNREACHABLE', `the relayer at ${url} cannot be reached: ${e?.message ?? e}`);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ChainRefusal(body.code ?? `HTTP_${response.status}`, body.message ?? `the relayer answered ${response.status}`);
  let account = null;
  const confirmed = await new Promise((resolve, reject) => {
    const events = new EventSource(`${url}/v1/claims/${body.id}/events`);
    for (const phase of [...PHASES, 'failed']) {
      events.addEventListener(phase, (event) => {
        const data = JSON.parse(event.data || '{}');
        if (phase === 'submitted') account = data.account;
        onPhase(phase, data);
        if (phase === 'confirmed') {
          events.close();
          resolve(data);
        } else if (phase === 'failed') {
          events.close();
          reject(new ChainRefusal(data.code ?? 'FAILED', data.message ?? 'the relayer could not put the claim on-chain'));
        }
      });
    }
  });
  const claimant = claimantOf(result.publicSignals);
  return { id: body.id, ...confirmed, account, claimant, balance: await tokenBalance(conn, claimant) };
}

/** A refused or failed transaction: `reason` is the contract's custom error name when it gave one. */
export class ChainRefusal extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'ChainRefusal';
    this.reason = reason;
  }
}
