//! `make bench-server`: the prover service as it runs (Debian's redis-server, `airprover serve`,
//! `airprover worker` processes on this machine), measured from a client on loopback.
//!
//! For each circuit and for one and two workers: the latency of one task at a time (submit to
//! the final event on a WebSocket), the service's own overhead (that latency minus the worker's
//! proving time), then a burst of tasks submitted at once (proofs per second, latency p50/p95).
//! Then the claim relayer on anvil (from contracts/, deployed by deploy-local.mjs): claims of
//! distinct identities posted at once to `POST /v1/claims`, sent by one and then two `airprover
//! relay` processes from two relayer accounts: claims per second and the latency from the POST
//! to the `confirmed` event (p50/p95).
//! Writes `target/bench/server.json` and prints Markdown tables. DEVELOPMENT keys
//! (`setup --seed 1`), made once under `target/bench/server/keys`; anvil's public accounts.
//!
//! Run as root, each worker is a host of its own (a network namespace of this machine with its
//! own address on a private bridge, tests/common/netns.rs), and so are Redis and serve: two
//! worker hosts against one, over a network rather than loopback. They are still processes of
//! this one machine: Redis, serve, the client and the workers share its cores. Without root,
//! everything runs on loopback.
//!
//! Usage: `cargo run --release --example bench_server [-- --quick] [--relayer]` (`make
//! bench-server`); `--relayer` measures the relayer only.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[path = "../tests/common/netns.rs"]
mod netns;

/// The CLI: `AIRPROVER_BIN`, or the release build `make bench-server` makes.
fn bin() -> String {
    std::env::var("AIRPROVER_BIN").unwrap_or_else(|_| "target/release/airprover".into())
}

/// anvil's public DEVELOPMENT keys: #0 deploys and publishes roots, #2 and #3 relay.
const OPERATOR_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const RELAYER_KEYS: [&str; 2] = [
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];
const RELAY_CIRCUIT: &str = "threshold-d4-k2";

alloy::sol! {
    #[sol(rpc)]
    interface Operated {
        function setRoot(uint256 root, bool live) external;
    }
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process this one did not start (anvil, detached by deploy-local), stopped when dropped.
struct Pid(u64);

impl Drop for Pid {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether hosts can be made here (tried once: a failure is said once).
static HOSTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Where the service's processes run: hosts of their own ("redis", "serve", "w0", "w1"), or all
/// on loopback.
struct Place(Option<netns::Net>);

impl Place {
    fn new() -> Place {
        if HOSTS.get() == Some(&false) {
            return Place(None);
        }
        let made = netns::Net::new("bench", &["redis", "serve", "w0", "w1"]);
        let _ = HOSTS.set(made.is_some());
        Place(made)
    }

    fn hosts(&self) -> bool {
        self.0.is_some()
    }

    /// `program`, to run on `host`.
    fn command(&self, host: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        match &self.0 {
            Some(net) => net.command(host, program),
            None => Command::new(program),
        }
    }

    /// The address and a port for a server on `host`.
    fn address(&self, host: &str, port: u16) -> (String, u16) {
        match &self.0 {
            Some(net) => (net.ip(host).to_string(), port),
            None => ("127.0.0.1".into(), free_port()),
        }
    }

    fn wait_port(&self, host: &str, port: u16) {
        match &self.0 {
            Some(net) => net.wait_port(host, port),
            None => wait_port(port),
        }
    }
}

/// Redis, one `serve` and `workers` workers of `threads` threads each, in a fresh directory,
/// task inputs sealed (as in production: the overhead measured includes sealing and opening).
struct Service {
    _procs: Vec<Proc>,
    base: String,
    redis_url: String,
    redis_host: String,
    redis_port: u16,
    /// Dropped last: it kills what still runs on its hosts.
    place: Place,
}

impl Service {
    fn start(dir: &Path, keys: &Path, workers: usize, threads: usize) -> Service {
        Service::start_with(dir, keys, workers, threads, &[])
    }

    /// [`Service::start`] with extra worker arguments.
    fn start_with(
        dir: &Path,
        keys: &Path,
        workers: usize,
        threads: usize,
        worker_args: &[&str],
    ) -> Service {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        let place = Place::new();
        let (redis_host, redis_port) = place.address("redis", 6379);
        let redis = Proc(
            place
                .command("redis", "redis-server")
                .args(["--port", &redis_port.to_string(), "--bind", &redis_host])
                .args(["--protected-mode", "no"])
                .args([
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                ])
                .arg("--dir")
                .arg(dir)
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server (make tools installs it)"),
        );
        place.wait_port("redis", redis_port);
        let url = format!("redis://{redis_host}:{redis_port}/");
        let sealing_key = dir.join("sealing.key");
        let made = Command::new(bin())
            .args(["sealing-key", "new", "--out"])
            .arg(&sealing_key)
            .output()
            .unwrap();
        assert!(made.status.success(), "{made:?}");
        let (serve_host, port) = place.address("serve", 8080);
        let serve = Proc(
            place
                .command("serve", bin())
                .args(["serve", "--redis", &url, "--listen"])
                .arg(format!("{serve_host}:{port}"))
                .arg("--keys")
                .arg(keys)
                .arg("--sealing-key")
                .arg(&sealing_key)
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        place.wait_port("serve", port);
        let procs = vec![redis, serve];
        let mut service = Service {
            _procs: procs,
            base: format!("http://{serve_host}:{port}"),
            redis_url: url,
            redis_host,
            redis_port,
            place,
        };
        for w in 0..workers {
            service.add_worker(dir, keys, w, threads, worker_args);
        }
        service
    }

    /// Starts worker `w` (on host `w<w>`).
    fn add_worker(&mut self, dir: &Path, keys: &Path, w: usize, threads: usize, args: &[&str]) {
        self._procs.push(Proc(
            self.place
                .command(&format!("w{w}"), bin())
                .args(["worker", "--redis", &self.redis_url, "--threads"])
                .arg(threads.to_string())
                .args(["--id", &format!("bench-{w}"), "--keys"])
                .arg(keys)
                .arg("--state")
                .arg(dir.join(format!("worker-{w}")))
                .arg("--sealing-key")
                .arg(dir.join("sealing.key"))
                .args(args)
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        ));
    }

    /// `redis-cli` on its Redis: one number from its answer (`INFO memory`'s `used_memory`,
    /// `DBSIZE`).
    fn redis_number(&self, args: &[&str], field: Option<&str>) -> u64 {
        let out = Command::new("redis-cli")
            .args(["-h", &self.redis_host, "-p", &self.redis_port.to_string()])
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let line = match field {
            Some(f) => text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{f}:")))
                .unwrap_or("0")
                .to_string(),
            None => text.trim().to_string(),
        };
        line.trim().parse().unwrap_or(0)
    }

    fn used_memory(&self) -> u64 {
        self.redis_number(&["info", "memory"], Some("used_memory"))
    }

    fn keys(&self) -> u64 {
        self.redis_number(&["dbsize"], None)
    }
}

/// Redis memory per 1,000 tasks (issue 29, item 13): `tasks` d4-k2 tasks submitted with no
/// worker running (all open at once: their records, inputs, events and queue entries), then
/// proved by one worker whose records expire 3 s after they end; Redis's memory before, with
/// every task open, and once every record's TTL has passed (flat: what is left is the counters,
/// the empty streams and the histogram).
async fn bench_memory(root: &Path, keys: &Path, tasks: usize, campaign: &mut u64) -> Value {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = root.join("run-memory");
    let ttl = ["--result-ttl", "3"];
    let mut service = Service::start_with(&dir, keys, 1, cores, &ttl);
    let mut client = Client::connect(&service.base).await;
    let warm = client
        .submit(&claim(root, "threshold-d4-k2", *campaign))
        .await;
    *campaign += 1;
    client.finish(&[warm], &[Instant::now()]).await;
    // The warm-up worker goes; its records expire.
    service._procs.pop();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (before, keys_before) = (service.used_memory(), service.keys());
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for _ in 0..tasks {
        *campaign += 1;
        let answer: Value = http
            .post(format!("{}/v1/proofs", service.base))
            .json(&json!({ "claim": claim(root, "threshold-d4-k2", *campaign) }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(answer["id"].as_str().expect("a task id").to_string());
    }
    let (open, keys_open) = (service.used_memory(), service.keys());
    service.add_worker(&dir, keys, 1, cores, &ttl);
    let mut ended = 0;
    for id in &ids {
        loop {
            let view: Value = http
                .get(format!("{}/v1/proofs/{id}", service.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            // Gone (expired) or ended.
            if view["status"] != "queued" && view["status"] != "running" {
                ended += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Expired keys go at Redis's next active-expiry cycles: wait until none is left over.
    let deadline = Instant::now() + Duration::from_secs(30);
    while service.keys() > keys_before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (flat, keys_flat) = (service.used_memory(), service.keys());
    let row = json!({
        "tasks": ended,
        "usedMemoryBefore": before,
        "usedMemoryAllOpen": open,
        "usedMemoryAfterTtl": flat,
        "bytesPer1000OpenTasks": (open.saturating_sub(before)) as f64 * 1000.0 / tasks as f64,
        "bytesLeftAfterTtl": flat as i64 - before as i64,
        "keys": { "before": keys_before, "allOpen": keys_open, "afterTtl": keys_flat },
    });
    println!("{row}");
    row
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One client: HTTP for submissions, one WebSocket for the final events.
struct Client {
    http: reqwest::Client,
    base: String,
    socket: Socket,
}

/// A task seen to its end: its latency and the worker's proving time.
struct Done {
    latency_ms: f64,
    proving_ms: f64,
}

impl Client {
    async fn connect(base: &str) -> Client {
        let url = format!("{}/v1/ws", base.replace("http://", "ws://"));
        let (socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("the WebSocket opens");
        Client {
            http: reqwest::Client::new(),
            base: base.to_string(),
            socket,
        }
    }

    async fn submit(&mut self, claim: &Value) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/v1/proofs", self.base))
            .json(&json!({ "claim": claim, "priority": "NORMAL" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = answer["id"].as_str().expect("a task id").to_string();
        let subscribe = json!({ "type": "subscribe", "id": id }).to_string();
        self.socket
            .send(Message::Text(subscribe.into()))
            .await
            .unwrap();
        id
    }

    /// Posts a proof to the relayer and follows the claim on the WebSocket.
    async fn relay(&mut self, body: &Value) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/v1/claims", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = answer["id"].as_str().unwrap_or_else(|| panic!("{answer}"));
        let subscribe = json!({ "type": "subscribe", "id": id, "kind": "claim" }).to_string();
        self.socket
            .send(Message::Text(subscribe.into()))
            .await
            .unwrap();
        id.to_string()
    }

    /// Waits for the `confirmed` events of the claims `ids` (posted at `started`): latencies in ms.
    async fn confirmed(&mut self, ids: &[String], started: &[Instant]) -> Vec<f64> {
        let mut out: Vec<Option<f64>> = vec![None; ids.len()];
        while out.iter().any(Option::is_none) {
            let Some(Ok(Message::Text(text))) = self.socket.next().await else {
                continue;
            };
            let m: Value = serde_json::from_str(&text).unwrap();
            assert_ne!(m["type"], "error", "{m}");
            if m["type"] != "event" {
                continue;
            }
            let i = ids.iter().position(|id| m["id"] == **id).unwrap();
            match m["event"].as_str() {
                Some("confirmed") if out[i].is_none() => {
                    out[i] = Some(started[i].elapsed().as_secs_f64() * 1e3)
                }
                Some("failed") => panic!("{m}"),
                _ => {}
            }
        }
        out.into_iter().map(Option::unwrap).collect()
    }

    /// Waits for the final events of `ids` (submitted at `started`).
    async fn finish(&mut self, ids: &[String], started: &[Instant]) -> Vec<Done> {
        let mut out: Vec<Option<Done>> = ids.iter().map(|_| None).collect();
        while out.iter().any(Option::is_none) {
            let Some(Ok(Message::Text(text))) = self.socket.next().await else {
                continue;
            };
            let m: Value = serde_json::from_str(&text).unwrap();
            if m["type"] != "event" {
                assert_ne!(m["type"], "error", "{m}");
                continue;
            }
            let i = ids.iter().position(|id| m["id"] == **id).unwrap();
            match m["event"].as_str() {
                Some("succeeded") => {
                    out[i] = Some(Done {
                        latency_ms: started[i].elapsed().as_secs_f64() * 1e3,
                        proving_ms: m["data"]["provingMs"].as_f64().unwrap_or(0.0),
                    })
                }
                Some("failed" | "cancelled") => panic!("{m}"),
                _ => {}
            }
        }
        out.into_iter().map(Option::unwrap).collect()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(values: &[f64]) -> Value {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    json!({ "p50": percentile(&v, 50.0), "p95": percentile(&v, 95.0), "n": v.len() })
}

/// A claim of `circuit`; each `campaign` makes another claim (another task, another proof).
fn claim(dir: &Path, circuit: &str, campaign: u64) -> Value {
    let path = dir.join(format!("{circuit}.claim.json"));
    if !path.exists() {
        run(Command::new(bin())
            .args(["sample", "--circuit", circuit, "--attestations", "12"])
            .args(["--seed", "3", "--force", "--out"])
            .arg(&path));
    }
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    c["campaignId"] = json!(campaign.to_string());
    c
}

/// `n` proofs of distinct identities for the campaign deploy-local puts on a fresh anvil (its id
/// depends only on the chain and the deployer's nonce), proving the threshold 5, made once.
fn relay_proofs(root: &Path, keys: &Path, n: usize) -> Vec<(PathBuf, Value)> {
    let dir = root.join("relay-claims");
    std::fs::create_dir_all(&dir).unwrap();
    let campaign = Command::new(bin())
        .args(["campaign-id", "--chain-id", "31337", "--nonce", "2"])
        .args(["--deployer", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"])
        .output()
        .unwrap();
    let campaign = String::from_utf8(campaign.stdout)
        .unwrap()
        .trim()
        .to_string();
    (0..n)
        .map(|i| {
            let claim = dir.join(format!("claim-{i}.json"));
            let proof = dir.join(format!("claim-{i}.proof.json"));
            let public = dir.join(format!("claim-{i}.public.json"));
            if !public.exists() {
                run(Command::new(bin())
                    .args(["sample", "--circuit", RELAY_CIRCUIT, "--attestations", "12"])
                    .args(["--seed", &(1000 + i).to_string(), "--force"])
                    .args(["--campaign", &campaign, "--out"])
                    .arg(&claim));
                let mut c: Value =
                    serde_json::from_str(&std::fs::read_to_string(&claim).unwrap()).unwrap();
                c["threshold"] = json!("5");
                std::fs::write(&claim, c.to_string()).unwrap();
                run(Command::new(bin())
                    .args(["prove", "--keys"])
                    .arg(keys)
                    .arg("--input")
                    .arg(&claim)
                    .arg("--proof")
                    .arg(&proof)
                    .arg("--public")
                    .arg(&public));
            }
            let read = |p: &Path| -> Value {
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
            };
            let body = json!({ "proof": read(&proof), "publicSignals": read(&public),
                               "circuit": RELAY_CIRCUIT, "campaign": "bench" });
            (claim, body)
        })
        .collect()
}

/// A fresh anvil with the campaign deployed and every claim's root published; Redis, `serve
/// --campaigns` and `workers` relay processes. Returns the processes and the server's URL.
async fn start_relayer(
    dir: &Path,
    keys: &Path,
    claims: &[(PathBuf, Value)],
    workers: usize,
) -> (Vec<Proc>, Pid, String) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let chain_file = dir.join("chain.json");
    run(Command::new("node")
        .arg("contracts/scripts/deploy-local.mjs")
        .arg("--keys")
        .arg(keys)
        .args([
            "--circuit",
            RELAY_CIRCUIT,
            "--port",
            "0",
            "--detach",
            "--claim",
        ])
        .arg(&claims[0].0)
        .arg("--out")
        .arg(&chain_file));
    let chain: Value =
        serde_json::from_str(&std::fs::read_to_string(&chain_file).unwrap()).unwrap();
    let anvil = Pid(chain["anvilPid"].as_u64().expect("anvilPid"));
    let rpc = chain["rpcUrl"].as_str().unwrap().to_string();
    let airdrop: Address = chain["airdrop"].as_str().unwrap().parse().unwrap();
    let signer: PrivateKeySigner = OPERATOR_KEY.parse().unwrap();
    let operator = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(rpc.parse().unwrap());
    let operated = Operated::new(airdrop, &operator);
    for (_, body) in &claims[1..] {
        let root: U256 = body["publicSignals"][0].as_str().unwrap().parse().unwrap();
        operated
            .setRoot(root, true)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }
    let campaigns = dir.join("campaigns.json");
    let config = json!({ "campaigns": [{
        "name": "bench", "chainId": 31337, "rpcUrl": rpc, "airdrop": chain["airdrop"],
        "circuit": RELAY_CIRCUIT, "keys": std::fs::canonicalize(keys).unwrap(),
        "relayers": [{ "env": "RELAYER_A" }, { "env": "RELAYER_B" }],
    }]});
    std::fs::write(&campaigns, config.to_string()).unwrap();
    let redis_port = free_port();
    let redis = Proc(
        Command::new("redis-server")
            .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (make tools installs it)"),
    );
    wait_port(redis_port);
    let url = format!("redis://127.0.0.1:{redis_port}/");
    let port = free_port();
    let with_keys = |cmd: &mut Command| {
        cmd.env("RELAYER_A", RELAYER_KEYS[0])
            .env("RELAYER_B", RELAYER_KEYS[1])
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let serve = Proc(with_keys(
        Command::new(bin())
            .args(["serve", "--redis", &url, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--keys")
            .arg(keys)
            .arg("--campaigns")
            .arg(&campaigns),
    ));
    wait_port(port);
    let mut procs = vec![redis, serve];
    for w in 0..workers {
        procs.push(Proc(with_keys(
            Command::new(bin())
                .args(["relay", "--redis", &url, "--id", &format!("relay-{w}")])
                .arg("--campaigns")
                .arg(&campaigns),
        )));
    }
    (procs, anvil, format!("http://127.0.0.1:{port}"))
}

/// The relayer's rows: for one and two relay processes, a few claims one at a time, then the
/// rest posted at once.
async fn bench_relayer(root: &Path, keys: &Path, quick: bool) -> Vec<Value> {
    let (serial, burst) = if quick { (3, 10) } else { (5, 40) };
    println!("relayer: proving {} claims (made once) ...", serial + burst);
    let claims = relay_proofs(root, keys, serial + burst);
    let mut rows = Vec::new();
    for workers in [1usize, 2] {
        let (_procs, _anvil, base) =
            start_relayer(&root.join("relay-run"), keys, &claims, workers).await;
        let mut client = Client::connect(&base).await;
        let mut one = Vec::new();
        for (_, body) in &claims[..serial] {
            let t = Instant::now();
            let id = client.relay(body).await;
            one.extend(client.confirmed(&[id], &[t]).await);
        }
        let t0 = Instant::now();
        let mut ids = Vec::new();
        let mut started = Vec::new();
        for (_, body) in &claims[serial..] {
            started.push(Instant::now());
            ids.push(client.relay(body).await);
        }
        let latency = client.confirmed(&ids, &started).await;
        let wall = t0.elapsed().as_secs_f64();
        let row = json!({
            "relayWorkers": workers,
            "accounts": RELAYER_KEYS.len(),
            "serial": { "latencyMs": summary(&one) },
            "burst": { "claims": burst, "seconds": wall, "claimsPerSecond": burst as f64 / wall,
                       "latencyMs": summary(&latency) },
        });
        println!("{row}");
        rows.push(row);
    }
    rows
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let only_relayer = std::env::args().any(|a| a == "--relayer");
    // Only the Redis memory rows (and their keys).
    let only_memory = std::env::args().any(|a| a == "--memory");
    let root = PathBuf::from("target/bench/server");
    let keys = root.join("keys");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // (circuit, tasks one at a time, tasks in the burst)
    let plan: &[(&str, usize, usize)] = if quick {
        &[("threshold-d4-k2", 5, 10), ("threshold-d20-k8", 1, 2)]
    } else {
        &[("threshold-d4-k2", 30, 60), ("threshold-d20-k8", 5, 10)]
    };
    let plan = if only_relayer || only_memory {
        &plan[..0]
    } else {
        plan
    };
    if only_memory && !keys.join("threshold-d4-k2.pk").exists() {
        run(Command::new(bin())
            .args([
                "setup",
                "--circuit",
                "threshold-d4-k2",
                "--seed",
                "1",
                "--out",
            ])
            .arg(&keys));
    }
    for (circuit, _, _) in plan {
        if !keys.join(format!("{circuit}.pk")).exists() {
            println!("setup {circuit} (DEVELOPMENT keys, --seed 1) ...");
            run(Command::new(bin())
                .args(["setup", "--circuit", circuit, "--seed", "1", "--out"])
                .arg(&keys));
        }
    }
    let mut rows = Vec::new();
    let mut campaign = 1_000_000u64;
    for &(circuit, serial, burst) in plan {
        for workers in [1usize, 2] {
            let threads = (cores / workers).max(1);
            let service = Service::start(&root.join("run"), &keys, workers, threads);
            let mut client = Client::connect(&service.base).await;
            // Warm-up: every worker loads the key once.
            let warm: Vec<String> = {
                let mut ids = Vec::new();
                for _ in 0..workers * 2 {
                    campaign += 1;
                    ids.push(client.submit(&claim(&root, circuit, campaign)).await);
                }
                ids
            };
            let now = vec![Instant::now(); warm.len()];
            client.finish(&warm, &now).await;

            // One at a time: latency and the service's overhead.
            let mut latency = Vec::new();
            let mut overhead = Vec::new();
            for _ in 0..serial {
                campaign += 1;
                let c = claim(&root, circuit, campaign);
                let t = Instant::now();
                let id = client.submit(&c).await;
                let d = client.finish(&[id], &[t]).await.remove(0);
                overhead.push(d.latency_ms - d.proving_ms);
                latency.push(d.latency_ms);
            }

            // A burst: everything submitted at once.
            let claims: Vec<Value> = (0..burst)
                .map(|_| {
                    campaign += 1;
                    claim(&root, circuit, campaign)
                })
                .collect();
            let t0 = Instant::now();
            let mut ids = Vec::new();
            let mut started = Vec::new();
            for c in &claims {
                started.push(Instant::now());
                ids.push(client.submit(c).await);
            }
            let done = client.finish(&ids, &started).await;
            let wall = t0.elapsed().as_secs_f64();
            let burst_latency: Vec<f64> = done.iter().map(|d| d.latency_ms).collect();
            let row = json!({
                "circuit": circuit,
                "workers": workers,
                "workerHosts": if service.place.hosts() { workers } else { 1 },
                "threadsPerWorker": threads,
                "serial": { "latencyMs": summary(&latency), "overheadMs": summary(&overhead) },
                "burst": { "tasks": burst, "seconds": wall, "proofsPerSecond": burst as f64 / wall,
                           "latencyMs": summary(&burst_latency) },
            });
            println!("{row}");
            rows.push(row);
        }
    }
    if !only_memory && !keys.join(format!("{RELAY_CIRCUIT}.pk")).exists() {
        run(Command::new(bin())
            .args(["setup", "--circuit", RELAY_CIRCUIT, "--seed", "1", "--out"])
            .arg(&keys));
    }
    let memory = if only_relayer {
        Value::Null
    } else {
        bench_memory(&root, &keys, if quick { 100 } else { 1000 }, &mut campaign).await
    };
    let relay_rows = if only_memory {
        Vec::new()
    } else {
        bench_relayer(&root, &keys, quick).await
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let report = json!({
        "machine": { "cores": cores, "cpu": cpu },
        "workersOnHostsOfTheirOwn": HOSTS.get() == Some(&true),
        "keys": "DEVELOPMENT (setup --seed 1)",
        "quick": quick,
        "rows": rows,
        "redisMemory": memory,
        "relayer": { "chain": "anvil (automine), contracts from deploy-local.mjs",
                     "circuit": RELAY_CIRCUIT, "rows": relay_rows },
    });
    std::fs::create_dir_all("target/bench").unwrap();
    std::fs::write(
        "target/bench/server.json",
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    let hosts = HOSTS.get() == Some(&true);
    if hosts {
        println!(
            "\nEach worker on a host of its own, Redis and serve on two more: network namespaces of \
             this machine, so Redis, serve, the client and the workers share its {cores} cores \
             ({cpu}); threads per worker = cores / workers\n"
        );
    } else {
        println!(
            "\nEverything on loopback (hosts need root): Redis, serve, the client and the workers \
             share this machine's {cores} cores ({cpu}); threads per worker = cores / workers\n"
        );
    }
    println!("| circuit | workers | proofs/s (burst) | burst latency p50 / p95 | one at a time p50 | service overhead p50 / p95 |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        let on = if r["workerHosts"].as_u64() == Some(1) {
            "one host"
        } else {
            "a host each"
        };
        println!(
            "| {} | {} × {} threads, {on} | {:.2} | {:.0} / {:.0} ms | {:.0} ms | {:.1} / {:.1} ms |",
            r["circuit"].as_str().unwrap(),
            r["workers"],
            r["threadsPerWorker"],
            r["burst"]["proofsPerSecond"].as_f64().unwrap(),
            r["burst"]["latencyMs"]["p50"].as_f64().unwrap(),
            r["burst"]["latencyMs"]["p95"].as_f64().unwrap(),
            r["serial"]["latencyMs"]["p50"].as_f64().unwrap(),
            r["serial"]["overheadMs"]["p50"].as_f64().unwrap(),
            r["serial"]["overheadMs"]["p95"].as_f64().unwrap(),
        );
    }
    if !memory.is_null() {
        println!(
            "\nRedis memory: {} tasks: +{:.0} KiB per 1,000 open tasks ({} keys); {} keys and {:+} bytes against before once they ended and their TTL (3 s here, --result-ttl) passed\n",
            memory["tasks"],
            memory["bytesPer1000OpenTasks"].as_f64().unwrap() / 1024.0,
            memory["keys"]["allOpen"],
            memory["keys"]["afterTtl"],
            memory["bytesLeftAfterTtl"],
        );
    }
    println!("\nThe relayer on anvil (automine), two relayer accounts, {RELAY_CIRCUIT} claims\n");
    println!("| relay workers | claims/s (burst) | POST → confirmed p50 / p95 (burst) | one at a time p50 |");
    println!("|---|---|---|---|");
    for r in &relay_rows {
        println!(
            "| {} | {:.2} | {:.0} / {:.0} ms | {:.0} ms |",
            r["relayWorkers"],
            r["burst"]["claimsPerSecond"].as_f64().unwrap(),
            r["burst"]["latencyMs"]["p50"].as_f64().unwrap(),
            r["burst"]["latencyMs"]["p95"].as_f64().unwrap(),
            r["serial"]["latencyMs"]["p50"].as_f64().unwrap(),
        );
    }
    println!("\nwrote target/bench/server.json");
}
