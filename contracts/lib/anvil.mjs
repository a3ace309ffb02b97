// A real local Ethereum node: anvil from npm, on 127.0.0.1 and a port the OS picks, stopped by
// whoever started it. The binary comes in the platform package (@foundry-rs/anvil-linux-amd64)
// and is spawned directly: @foundry-rs/anvil's postinstall (npm 11 skips it unless approved) and
// its bin wrapper are not needed.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

// Pinned, so that gas figures do not move with anvil's default: BN254 precompile prices are the
// same from Istanbul (EIP-1108) to Prague.
export const HARDFORK = "prague";

/** Path of the anvil binary of the platform package @foundry-rs/anvil installed. */
export function anvilBinary() {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch] ?? process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`)), "bin", "anvil");
  } catch {
    throw new Error(`no anvil for ${process.platform}/${process.arch}: ${pkg} is not installed (npm ci in contracts/)`);
  }
}

const running = new Set();
// A node process that exits without calling stop() (an uncaught error) still takes anvil along.
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts anvil on `host` (127.0.0.1 only, by default) and `port` (0: the OS picks a free one).
 * Resolves once it listens, to { url, host, port, pid, devKeys, stop() }: `devKeys` are the private
 * keys of its funded DEVELOPMENT accounts, as it prints them (public knowledge: never use them
 * on a real chain); `stop()` ends that process only and resolves when it has exited. `detached` leaves it running after this process exits.
 * `args` go to anvil after these (e.g. `["--dump-state", file]`).
 */
export function startAnvil({ host = "127.0.0.1", port = 0, detached = false, timeoutMs = 30_000, args: extra = [] } = {}) {
  const args = ["--host", host, "--port", `${port}`, "--hardfork", HARDFORK, ...extra];
  const child = spawn(anvilBinary(), args, {
    stdio: ["ignore", "pipe", "pipe"],
    detached,
  });
  if (!detached) running.add(child);
  const exited = new Promise((done) => child.once("exit", done));
  return new Promise((resolveStart, rejectStart) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`anvil did not listen within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      running.delete(child);
      rejectStart(err);
    };
    const onData = (chunk) => {
      output += chunk;
      const m = /Listening on ([0-9.]+):(\d+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      // Keep draining, or anvil blocks on a full pipe; a detached node must not hold us open.
      child.stdout.resume();
      child.stderr.resume();
      if (detached) {
        child.stdout.destroy();
        child.stderr.destroy();
        child.unref();
      }
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
        running.delete(child);
      };
      const keysSection = output.split("Private Keys")[1] ?? "";
      const devKeys = [...keysSection.matchAll(/^\(\d+\) (0x[0-9a-fA-F]{64})$/gm)].map((k) => k[1]);
      resolveStart({ url: `http://${m[1]}:${m[2]}`, host: m[1], port: Number(m[2]), pid: child.pid, devKeys, stop });
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.once("error", fail);
    child.once("exit", (code, signal) => fail(new Error(`anvil exited (${code ?? signal}) before listening:\n${output}`)));
  });
}
