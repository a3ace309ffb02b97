// viem clients for a node, and the two things every script does with them: deploy a contract and
// send a transaction, each awaited to its receipt.
import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";

/** Public and wallet clients of the node at `url`, sending from `privateKey`'s account. */
export function connect(url, privateKey) {
  const account = privateKeyToAccount(privateKey);
  const chain = { ...foundry, rpcUrls: { default: { http: [url] } } };
  // anvil mines each transaction at once: poll for receipts often, not every 4 s.
  const transport = http(url);
  const pollingInterval = 50;
  return {
    account,
    publicClient: createPublicClient({ chain, transport, pollingInterval }),
    walletClient: createWalletClient({ account, chain, transport, pollingInterval }),
  };
}

/** Deploys `artifact` ({ abi, bytecode }) with `args`; resolves to { address, gasUsed }. */
export async function deploy({ publicClient, walletClient }, artifact, args = []) {
  const hash = await walletClient.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`deployment reverted: ${hash}`);
  return { address: receipt.contractAddress, gasUsed: receipt.gasUsed };
}

/**
 * Calls `functionName` in a transaction, after a simulation that throws viem's error with the
 * contract's custom error decoded when it would revert. Resolves to the receipt.
 */
export async function send({ publicClient, walletClient, account }, { address, abi }, functionName, args = []) {
  const { request } = await publicClient.simulateContract({ account, address, abi, functionName, args });
  const hash = await walletClient.writeContract(request);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${functionName} reverted: ${hash}`);
  return receipt;
}

/** The custom error `{ errorName, args }` a contract reverted with, from viem's error, or null. */
export function customError(err) {
  const revert = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
  return revert?.data ?? null;
}
