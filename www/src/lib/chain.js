// The demo's local chain (anvil, started by `make demo` with contracts/scripts/deploy-local.mjs,
// which writes /chain.json): the verified proof goes to ReputationAirdrop.claim, sent from
// anvil's public DEVELOPMENT account #1, a relayer: the tokens go to the claimant bound in the
// proof, whoever sends it.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeAbiParameters,
  formatUnits,
  getAddress,
  http,
  keccak256,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { solidityCalldata } from 'airprover';

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
 * viem clients for chain.json's node and its development claimer account, with the campaign id
 * derived from the chain and the airdrop's address (claims are proved for it); a chain.json whose
 * campaignId is not its airdrop's is refused.
 */
export function connectChain(config) {
  const campaignId = campaignIdOf(config.chainId, config.airdrop);
  if (BigInt(config.campaignId) !== campaignId) {
    throw new Error(`chain.json names campaign ${config.campaignId}, but its airdrop accepts only ${campaignId}`);
  }
  const chain = defineChain({
    id: config.chainId,
    name: 'anvil (local, development)',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const transport = http(config.rpcUrl);
  const account = privateKeyToAccount(config.claimer.privateKey);
  return {
    config,
    campaignId: `${campaignId}`,
    account,
    publicClient: createPublicClient({ chain, transport, pollingInterval: 100 }),
    walletClient: createWalletClient({ account, chain, transport, pollingInterval: 100 }),
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
 * Sends the claim (after a simulation, which reports the contract's custom error when it would
 * revert). Resolves to { txHash, gasUsed, claimant, balance }; rejects with a ChainRefusal.
 */
export async function claimOnChain(conn, result) {
  const { publicClient, walletClient, account, config } = conn;
  const airdrop = { address: config.airdrop, abi: config.abi.airdrop };
  try {
    const { request } = await publicClient.simulateContract({
      ...airdrop,
      account,
      functionName: 'claim',
      // The package's calldata: the proof's points checked, G2 in EIP-197 order, bigints for viem.
      args: solidityCalldata(result.proof, result.publicSignals).args,
    });
    const txHash = await walletClient.writeContract(request);
    const receipt = await publicClient.waitForTransactionReceipt({ hash: txHash });
    if (receipt.status !== 'success') throw new ChainRefusal('Reverted', `transaction ${txHash} reverted`);
    const claimant = claimantOf(result.publicSignals);
    return { txHash, gasUsed: receipt.gasUsed, claimant, balance: await tokenBalance(conn, claimant) };
  } catch (e) {
    throw e instanceof ChainRefusal ? e : refusal(e);
  }
}

/** A refused or failed transaction: `reason` is the contract's custom error name when it gave one. */
export class ChainRefusal extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'ChainRefusal';
    this.reason = reason;
  }
}

function refusal(e) {
  const revert = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
  if (revert?.data?.errorName) {
    return new ChainRefusal(revert.data.errorName, `the contract refused the claim: ${revert.data.errorName}`);
  }
  return new ChainRefusal('Error', e?.shortMessage ?? String(e?.message ?? e));
}
