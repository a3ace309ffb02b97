//! `make bench-server`: the prover service as it runs (Debian's redis-server, `airprover serve`,
//! `airprover worker` processes on this machine), measured from a client on loopback.
//!
//! For each circuit and for one and two workers: the latency of one task at a time (submit to
//! the final event on a WebSocket), the service's own overhead (that latency minus the worker's
//! proving time), then a burst of tasks submitted at once (proofs per second, latency p50/p95).
//! Writes `target/bench/server.json` and prints a Markdown table. DEVELOPMENT keys
//! (`setup --seed 1`), made once under `target/bench/server/keys`.
//!
//! Usage: `cargo run --release --example bench_server [-- --quick]` (`make bench-server`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const BIN: &str = "target/release/airprover";

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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

/// Redis, one `serve` and `workers` workers of `threads` threads each, in a fresh directory.
struct Service {
    _procs: Vec<Proc>,
    base: String,
}

impl Service {
    fn start(dir: &Path, keys: &Path, workers: usize, threads: usize) -> Service {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
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
        let serve = Proc(
            Command::new(BIN)
                .args(["serve", "--redis", &url, "--listen"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("--keys")
                .arg(keys)
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_port(port);
        let mut procs = vec![redis, serve];
        for w in 0..workers {
            procs.push(Proc(
                Command::new(BIN)
                    .args(["worker", "--redis", &url, "--threads"])
                    .arg(threads.to_string())
                    .args(["--id", &format!("bench-{w}"), "--keys"])
                    .arg(keys)
                    .arg("--state")
                    .arg(dir.join(format!("worker-{w}")))
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            ));
        }
        Service {
            _procs: procs,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
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
        run(Command::new(BIN)
            .args(["sample", "--circuit", circuit, "--attestations", "12"])
            .args(["--seed", "3", "--force", "--out"])
            .arg(&path));
    }
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    c["campaignId"] = json!(campaign.to_string());
    c
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let root = PathBuf::from("target/bench/server");
    let keys = root.join("keys");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // (circuit, tasks one at a time, tasks in the burst)
    let plan: &[(&str, usize, usize)] = if quick {
        &[("threshold-d4-k2", 5, 10), ("threshold-d20-k8", 1, 2)]
    } else {
        &[("threshold-d4-k2", 30, 60), ("threshold-d20-k8", 5, 10)]
    };
    for (circuit, _, _) in plan {
        if !keys.join(format!("{circuit}.pk")).exists() {
            println!("setup {circuit} (DEVELOPMENT keys, --seed 1) ...");
            run(Command::new(BIN)
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
                "threadsPerWorker": threads,
                "serial": { "latencyMs": summary(&latency), "overheadMs": summary(&overhead) },
                "burst": { "tasks": burst, "seconds": wall, "proofsPerSecond": burst as f64 / wall,
                           "latencyMs": summary(&burst_latency) },
            });
            println!("{row}");
            rows.push(row);
        }
    }
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
        "keys": "DEVELOPMENT (setup --seed 1)",
        "quick": quick,
        "rows": rows,
    });
    std::fs::create_dir_all("target/bench").unwrap();
    std::fs::write(
        "target/bench/server.json",
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    println!(
        "\n{cores} cores ({cpu}); workers share them (threads per worker = cores / workers)\n"
    );
    println!("| circuit | workers | proofs/s (burst) | burst latency p50 / p95 | one at a time p50 | service overhead p50 / p95 |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} × {} threads | {:.2} | {:.0} / {:.0} ms | {:.0} ms | {:.1} / {:.1} ms |",
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
    println!("\nwrote target/bench/server.json");
}
