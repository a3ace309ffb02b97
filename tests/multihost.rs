//! The prover service across hosts (issue 28, item 5): each host a Linux network namespace with
//! its own address on a private bridge (tests/common/netns.rs), Redis on host A, `serve` on B and
//! C, workers on D and E, anvil on G and a relay process on R. The test process is the client
//! (host "F"): it reaches the hosts over its own link into the bridge from the root namespace.
//! Hosts are killed (SIGKILL) and cut off (their link taken down) mid-task.
//!
//! Needs root (namespaces); skipped with a message otherwise, failed instead where
//! `AIRPROVER_REQUIRE_NETNS=1` (as `make test` sets). Development keys (setup --seed 1).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use airprover::service::redis::Keys;
use serde_json::{json, Value};

use common::netns::Net;
use common::{bin, http, sha256_hex, write_private, Proc};

/// The smallest circuit there is (1,284 constraints): proving is most of these tests' CPU.
const CIRCUIT: &str = "threshold-d1-k1";
const API_KEY: &str = "multihost-key-0123456789abcdef";
const REDIS_PORT: u16 = 6379;
const SERVE_PORT: u16 = 8080;
const ENDS: [&str; 3] = ["succeeded", "failed", "cancelled"];

/// What every test shares, made once: development keys, the API keys file, a sealing key and
/// a sample claim.
struct Shared {
    dir: PathBuf,
    claim: Value,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("multihost-shared");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        cli(
            &["setup", "--circuit", CIRCUIT, "--seed", "1", "--out"],
            &dir.join("keys"),
        );
        write_private(
            &dir.join("api-keys.json"),
            &json!({ "keys": [{ "name": "tests", "keySha256": sha256_hex(API_KEY),
                "role": "admin", "maxActive": 10000, "perMinute": 1000000 }] })
            .to_string(),
        );
        cli(&["sealing-key", "new", "--out"], &dir.join("sealing.key"));
        let claim = dir.join("claim.json");
        cli(
            &[
                "sample",
                "--circuit",
                CIRCUIT,
                "--attestations",
                "2",
                "--seed",
                "3",
                "--out",
            ],
            &claim,
        );
        let claim = serde_json::from_str(&std::fs::read_to_string(&claim).unwrap()).unwrap();
        Shared { dir, claim }
    })
}

/// Runs the CLI with `args` and then `path`; it must succeed.
fn cli(args: &[&str], path: &Path) {
    let out = Command::new(bin()).args(args).arg(path).output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
}

/// The sample claim for campaign `campaign`: another campaign, another task.
fn claim(campaign: u64) -> Value {
    let mut claim = shared().claim.clone();
    claim["campaignId"] = json!(campaign.to_string());
    claim
}

/// The hosts of one test, and what runs on them.
struct Cluster {
    /// Dropped last (fields drop in order): its drop kills whatever still runs inside.
    dir: PathBuf,
    redis: Option<Proc>,
    net: Net,
}

impl Cluster {
    /// `hosts` on a bridge, Redis on the first one; `None` where namespaces cannot be made.
    fn new(test: &str, hosts: &[&str]) -> Option<Cluster> {
        let net = Net::new(test, hosts)?;
        shared();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("multihost-{test}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("redis")).unwrap();
        let mut cluster = Cluster {
            dir,
            redis: None,
            net,
        };
        cluster.start_redis();
        Some(cluster)
    }

    /// redis-server on host "a", on its append-only file (every write synced): a restart loses
    /// nothing accepted.
    fn start_redis(&mut self) {
        let child = self
            .net
            .command("a", "redis-server")
            .args(["--port", &REDIS_PORT.to_string(), "--bind"])
            .arg(self.net.ip("a").to_string())
            .args(["--protected-mode", "no", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
            .arg(self.dir.join("redis"))
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (make tools installs it)");
        self.redis = Some(Proc(child));
        self.net.wait_port("a", REDIS_PORT);
    }

    fn redis_url(&self) -> String {
        format!("redis://{}:{REDIS_PORT}/", self.net.ip("a"))
    }

    /// `airprover serve` on `host`: its base URL.
    fn serve(&self, host: &str) -> (Proc, String) {
        let keys = &shared().dir;
        let child = self
            .net
            .command(host, bin())
            .args(["serve", "--redis", &self.redis_url(), "--listen"])
            .arg(format!("{}:{SERVE_PORT}", self.net.ip(host)))
            .arg("--keys")
            .arg(keys.join("keys"))
            .arg("--api-keys")
            .arg(keys.join("api-keys.json"))
            .arg("--sealing-key")
            .arg(keys.join("sealing.key"))
            .stderr(self.log(&format!("serve-{host}")))
            .spawn()
            .unwrap();
        let serve = Proc(child);
        self.net.wait_port(host, SERVE_PORT);
        (serve, format!("http://{}:{SERVE_PORT}", self.net.ip(host)))
    }

    /// `airprover worker` on `host`, named for it, with `fault` (AIRPROVER_TEST_FAULT) if any;
    /// its log in `<host>.log`.
    fn worker(&self, host: &str, fault: Option<&str>) -> Proc {
        let keys = &shared().dir;
        let mut command = self.net.command(host, bin());
        if let Some(fault) = fault {
            command.env("AIRPROVER_TEST_FAULT", fault);
        }
        let child = command
            .env("RUST_LOG", "info")
            .args(["worker", "--redis", &self.redis_url(), "--id", host])
            .args(["--threads", "1", "--lease-ms", "1500", "--keys"])
            .arg(keys.join("keys"))
            .arg("--sealing-key")
            .arg(keys.join("sealing.key"))
            .arg("--state")
            .arg(self.dir.join(format!("state-{host}")))
            .stderr(self.log(host))
            .spawn()
            .unwrap();
        Proc(child)
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::File::create(self.dir.join(format!("{name}.log"))).unwrap()
    }

    fn read_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }

    /// `redis-cli` on host A's Redis, from the test process: its raw output.
    fn redis_cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", &self.net.ip("a").to_string()])
            .args(["-p", &REDIS_PORT.to_string(), "--raw"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A task's events straight from Redis: (id, type, data).
    fn events(&self, id: &str) -> Vec<(String, String, Value)> {
        let text = self.redis_cli(&["xrange", &Keys::default().task_events(id), "-", "+"]);
        let lines: Vec<&str> = text.lines().collect();
        lines
            .chunks(5)
            .filter(|c| c.len() == 5)
            .map(|c| {
                let data = serde_json::from_str(c[4]).unwrap_or(Value::Null);
                (c[0].to_string(), c[2].to_string(), data)
            })
            .collect()
    }

    /// A task's events from Redis as an SSE client sees them: (id, type).
    fn event_kinds(&self, id: &str) -> Vec<(String, String)> {
        self.events(id)
            .into_iter()
            .map(|(id, kind, _)| (id, kind))
            .collect()
    }

    /// Field `field` of a task's record (empty if none).
    fn task_field(&self, id: &str, field: &str) -> String {
        self.redis_cli(&["hget", &Keys::default().task(id), field])
    }
}

/// One request; a 503 (the store reconnecting after a Redis restart) is tried again.
async fn call(method: reqwest::Method, url: &str, body: Option<String>) -> (u16, Value) {
    for _ in 0..20 {
        let mut request = http().request(method.clone(), url).bearer_auth(API_KEY);
        if let Some(b) = &body {
            request = request
                .header("content-type", "application/json")
                .body(b.clone());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if status != 503 {
            return (
                status,
                serde_json::from_str(&text).unwrap_or(json!({ "text": text })),
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{url}: 503 twenty times");
}

async fn submit(base: &str, campaign: u64) -> String {
    let body = json!({ "claim": claim(campaign) }).to_string();
    let (status, body) = call(
        reqwest::Method::POST,
        &format!("{base}/v1/proofs"),
        Some(body),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn task(base: &str, id: &str) -> Value {
    let (status, body) = call(
        reqwest::Method::GET,
        &format!("{base}/v1/proofs/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits (`secs` at most) until every task of `ids` has ended: their views. Tasks are looked at
/// in order, one request per round while the first open one runs: polling all of them would
/// take the provers' CPU.
async fn all_ended(base: &str, ids: &[String], secs: u64) -> HashMap<String, Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut ended = HashMap::new();
    for id in ids {
        loop {
            let view = task(base, id).await;
            if ENDS.contains(&view["status"].as_str().unwrap_or("")) {
                ended.insert(id.clone(), view);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {} tasks ended; {id}: {view}",
                ended.len(),
                ids.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    ended
}

/// Every task of `ids` ended once: one final event each, succeeded, with a proof that verifies.
fn assert_each_succeeded_once(cluster: &Cluster, views: &HashMap<String, Value>) {
    let vk = std::fs::read(shared().dir.join("keys").join(format!("{CIRCUIT}.vk"))).unwrap();
    for (id, view) in views {
        assert_eq!(view["status"], "succeeded", "{id}: {view}");
        let ends = cluster
            .events(id)
            .iter()
            .filter(|(_, kind, _)| ENDS.contains(&kind.as_str()))
            .count();
        assert_eq!(ends, 1, "{id}: {ends} final events");
        let result = &view["result"];
        assert!(
            airprover::api::verify(
                &vk,
                &result["proof"].to_string(),
                &result["publicSignals"].to_string()
            )
            .unwrap(),
            "{id}"
        );
    }
}

/// Polls `done` every 50 ms for `secs` at most.
async fn until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "waited {secs} s for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads SSE events (id, type) off `response` until `stop` says so after an event, or the
/// stream ends or breaks (its node killed): the events, and whether `stop` ended it.
async fn read_sse(
    response: &mut reqwest::Response,
    stop: impl Fn(&str) -> bool,
) -> (Vec<(String, String)>, bool) {
    let mut events = Vec::new();
    let mut buffer = String::new();
    loop {
        let chunk = match tokio::time::timeout(Duration::from_secs(30), response.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(_) => return (events, false),
            Err(_) => panic!("no event for 30 s; so far {events:?}"),
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut id, mut kind) = (None, None);
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("event: ") {
                    kind = Some(v.to_string());
                }
            }
            if let (Some(id), Some(kind)) = (id, kind) {
                let stopped = stop(&kind);
                events.push((id, kind));
                if stopped {
                    return (events, true);
                }
            }
        }
    }
}

async fn open_sse(base: &str, id: &str, last_id: Option<&str>) -> reqwest::Response {
    let mut request = http()
        .get(format!("{base}/v1/proofs/{id}/events"))
        .bearer_auth(API_KEY);
    if let Some(last) = last_id {
        request = request.header("last-event-id", last);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response
}

/// Test 1: a client follows a task's SSE stream on node B; B is killed (SIGKILL) mid-task while
/// the task goes on; the client resumes on node C with `Last-Event-ID` and, B's events and C's
/// together, has seen every event of the task once, in order, the ones stored while it had no
/// stream included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_stream_moved_to_another_node_mid_task_misses_no_event() {
    let started = Instant::now();
    let Some(cluster) = Cluster::new("sse", &["a", "b", "c", "d"]) else {
        return;
    };
    let (mut node_b, base_b) = cluster.serve("b");
    let (_node_c, base_c) = cluster.serve("c");
    // Two failed attempts, each retried after a backoff: a task with events spread out in time.
    let _worker = cluster.worker("d", Some("retryable:2"));
    let id = submit(&base_b, 1).await;
    let mut stream = open_sse(&base_b, &id, None).await;
    let (mut seen, stopped) = read_sse(&mut stream, |kind| kind == "retry").await;
    assert!(stopped, "B's stream ended before a retry: {seen:?}");
    node_b.kill9();
    // What B sent before it died (nothing more comes: the stream breaks or ends).
    let (rest, _) = read_sse(&mut stream, |_| false).await;
    seen.extend(rest);
    let last = seen.last().unwrap().0.clone();
    // The task goes on without the client: an event is stored that no stream delivered.
    until("an event stored while no stream is open", 30, || {
        cluster
            .event_kinds(&id)
            .iter()
            .any(|(e, _)| stream_id_lt(&last, e))
    })
    .await;
    let missed: Vec<(String, String)> = cluster
        .event_kinds(&id)
        .into_iter()
        .filter(|(e, _)| stream_id_lt(&last, e))
        .collect();
    let mut resumed = open_sse(&base_c, &id, Some(&last)).await;
    let (from_c, _) = read_sse(&mut resumed, |kind| ENDS.contains(&kind)).await;
    assert_eq!(
        &from_c[..missed.len()],
        &missed[..],
        "C replays what was stored while the client had no stream"
    );
    let from_b = seen.len();
    seen.extend(from_c);
    assert_eq!(seen, cluster.event_kinds(&id), "every event once, in order");
    assert_eq!(seen.last().unwrap().1, "succeeded");
    println!(
        "sse: {} events, {from_b} from B, resumed on C after {last} ({} stored meanwhile); {:.1} s",
        seen.len(),
        missed.len(),
        started.elapsed().as_secs_f64()
    );
}

fn stream_id_lt(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        let (ms, seq) = s.split_once('-').unwrap();
        (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap())
    };
    parse(a) < parse(b)
}

/// Test 2: host D is cut off (its link down) while it proves a task (its prover hangs: mid-proof
/// for as long as the test wants); once D's lease has run out, E takes the task over and stores
/// its result; when D comes back, its next fenced write (its lease refresh, before any result)
/// is refused and changes nothing: one result, E's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_cut_off_mid_proof_is_taken_over_and_fenced_when_it_comes_back() {
    let started = Instant::now();
    let Some(cluster) = Cluster::new("fence", &["a", "b", "d", "e"]) else {
        return;
    };
    let (_serve, base) = cluster.serve("b");
    let _d = cluster.worker("d", Some("hang"));
    let id = submit(&base, 2).await;
    until("D proving the task", 30, || {
        cluster.task_field(&id, "status") == "running" && cluster.task_field(&id, "worker") == "d"
    })
    .await;
    cluster.net.cut("d");
    let _e = cluster.worker("e", None);
    let view = all_ended(&base, std::slice::from_ref(&id), 30).await;
    let view = &view[&id];
    assert_eq!(
        (
            view["status"].as_str(),
            view["result"]["worker"].as_str(),
            view["attempts"].as_u64()
        ),
        (Some("succeeded"), Some("e"), Some(2)),
        "{view}"
    );
    let keys = Keys::default();
    // The record (a hash: its field order may change), its events and the count of results.
    let snapshot = || {
        let record = cluster.redis_cli(&["hgetall", &keys.task(&id)]);
        let lines: Vec<&str> = record.lines().collect();
        let record: std::collections::BTreeMap<String, String> = lines
            .chunks(2)
            .map(|pair| (pair[0].to_string(), pair[1].to_string()))
            .collect();
        (
            record,
            cluster.event_kinds(&id),
            cluster.redis_cli(&["get", &keys.stat("succeeded")]),
        )
    };
    let before = snapshot();
    cluster.net.plug("d");
    until("D told its write was refused", 30, || {
        cluster
            .read_log("d")
            .contains("task lost (taken over or cancelled): nothing written")
    })
    .await;
    assert!(snapshot() == before, "D's refused write changed nothing");
    assert_each_succeeded_once(&cluster, &HashMap::from([(id.clone(), view.clone())]));
    assert_eq!(cluster.redis_cli(&["get", &keys.stat("succeeded")]), "1");
    println!(
        "fence: taken over by E, D refused after its return; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Test 3: Redis on host A is killed (SIGKILL) while workers on D and E prove, and started again
/// on its append-only file (appendfsync always): every task accepted before the kill (and after
/// the restart) ends, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restarted_mid_run_loses_no_accepted_task() {
    let started = Instant::now();
    let Some(mut cluster) = Cluster::new("restart", &["a", "b", "d", "e"]) else {
        return;
    };
    let (_serve, base) = cluster.serve("b");
    let _workers = [cluster.worker("d", None), cluster.worker("e", None)];
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(submit(&base, 300 + n).await);
    }
    let succeeded = Keys::default().stat("succeeded");
    let count = |cluster: &Cluster| {
        cluster
            .redis_cli(&["get", &succeeded])
            .parse::<usize>()
            .unwrap_or(0)
    };
    until("five tasks ended", 60, || count(&cluster) >= 5).await;
    let before_kill = count(&cluster);
    cluster.redis.as_mut().unwrap().kill9();
    cluster.start_redis();
    // Every accepted task is there again, and every result stored before the kill.
    for id in &ids {
        assert_eq!(
            cluster.redis_cli(&["exists", &Keys::default().task(id)]),
            "1",
            "{id}: accepted, then lost by the restart"
        );
    }
    let at_restart = count(&cluster);
    assert!(
        (before_kill..ids.len()).contains(&at_restart),
        "the kill came mid-run and lost no result: {before_kill} ended before it, {at_restart} \
         after the restart, of {}",
        ids.len()
    );
    for n in 0..5 {
        ids.push(submit(&base, 400 + n).await);
    }
    let views = all_ended(&base, &ids, 90).await;
    assert_each_succeeded_once(&cluster, &views);
    assert_eq!(count(&cluster), ids.len(), "succeeded once each");
    println!(
        "restart: {} tasks, {at_restart} ended before Redis was killed; {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Test 4: 200 tasks through nodes B and C end exactly once across workers on D and E, both of
/// which prove some.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_tasks_across_two_worker_hosts_end_exactly_once() {
    let started = Instant::now();
    let Some(cluster) = Cluster::new("many", &["a", "b", "c", "d", "e"]) else {
        return;
    };
    let (_b, base_b) = cluster.serve("b");
    let (_c, base_c) = cluster.serve("c");
    let _workers = [cluster.worker("d", None), cluster.worker("e", None)];
    let mut ids = Vec::new();
    for n in 0..200u64 {
        let base = if n % 2 == 0 { &base_b } else { &base_c };
        ids.push(submit(base, 1000 + n).await);
    }
    let submitted = started.elapsed().as_secs_f64();
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 200, "200 claims, 200 tasks");
    let views = all_ended(&base_c, &ids, 120).await;
    assert_each_succeeded_once(&cluster, &views);
    let mut by_worker: HashMap<&str, usize> = HashMap::new();
    for view in views.values() {
        *by_worker
            .entry(view["result"]["worker"].as_str().unwrap())
            .or_default() += 1;
    }
    assert_eq!(
        by_worker
            .keys()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        ["d", "e"].into(),
        "both hosts proved: {by_worker:?}"
    );
    let succeeded = cluster.redis_cli(&["get", &Keys::default().stat("succeeded")]);
    assert_eq!(succeeded, "200", "each counted once");
    println!(
        "many: 200 tasks (submitted by {submitted:.1} s), {by_worker:?}; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Test 5: the claim relayer across hosts: Redis on A, anvil (the contracts deployed by
/// contracts/scripts/deploy-local.mjs) on G, `airprover relay` on R and S; the test process takes
/// the claim (serve's part). The claim's transaction waits in anvil's pool when G is cut off for
/// longer than three relay leases; once G is back the claim ends confirmed with that one
/// transaction: neither lost nor sent again, by either relay process or either account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_outlives_its_chain_host_cut_off_and_is_sent_once() {
    use airprover::relayer::{config, Phase, RelaySettings, Relayer};
    use alloy::primitives::{Address, U256};
    use alloy::providers::Provider;

    let started = Instant::now();
    let Some(cluster) = Cluster::new("relay", &["a", "g", "r", "s"]) else {
        return;
    };
    let dir = &cluster.dir;
    let claim = chain::claim(dir);
    let chain = chain::deploy(&cluster, dir, &claim);
    let campaigns = dir.join("campaigns.json");
    std::fs::write(
        &campaigns,
        chain::campaigns_json(&chain.rpc, &chain.config, dir),
    )
    .unwrap();
    let relays: Vec<Proc> = ["r", "s"]
        .into_iter()
        .map(|host| {
            let child = cluster
                .net
                .command(host, bin())
                .args(["relay", "--redis", &cluster.redis_url(), "--id", host])
                .args(["--lease-ms", "1500", "--poll-ms", "50", "--campaigns"])
                .arg(&campaigns)
                .env("RELAYER_A", chain::RELAYER_KEYS[0])
                .env("RELAYER_B", chain::RELAYER_KEYS[1])
                .env("RUST_LOG", "info")
                .stdout(Stdio::null())
                .stderr(cluster.log(&format!("relay-{host}")))
                .spawn()
                .unwrap();
            Proc(child)
        })
        .collect();
    let env = |name: &str| match name {
        "RELAYER_A" => Some(chain::RELAYER_KEYS[0].to_string()),
        "RELAYER_B" => Some(chain::RELAYER_KEYS[1].to_string()),
        _ => None,
    };
    let text = chain::campaigns_json(&chain.rpc, &chain.config, dir);
    let configs = config::parse(&text, Path::new("/"), &env).unwrap();
    let settings = RelaySettings {
        poll: Duration::from_millis(50),
        lease: Duration::from_millis(1500),
        ..RelaySettings::default()
    };
    let client = redis::Client::open(cluster.redis_url()).unwrap();
    let api = Relayer::connect(configs, client, settings).await.unwrap();
    let op = chain::operator(&chain.rpc);
    // Blocks are mined only when the test says: the transaction waits in the pool.
    chain::rpc(&op, "evm_setAutomine", json!([false])).await;
    let (id, phase) = api.submit(&chain::body(dir)).await.unwrap();
    assert_eq!(phase, Phase::Verified);
    let status = |api: &Relayer| {
        let api = api.clone();
        let id = id.clone();
        async move { api.status(&id).await.unwrap() }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let sent = loop {
        let now = status(&api).await;
        if now["phase"] == "submitted" {
            break now;
        }
        assert!(Instant::now() < deadline, "{now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let hash = sent["txHash"].clone();
    let pooled = chain::rpc(&op, "eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(pooled["hash"], hash, "the transaction is in anvil's pool");

    cluster.net.cut("g");
    let rpc_addr = std::net::SocketAddr::from((cluster.net.ip("g"), 8545));
    assert!(
        std::net::TcpStream::connect_timeout(&rpc_addr, Duration::from_millis(300)).is_err(),
        "G is cut off"
    );
    let cut_at = started.elapsed().as_secs_f64();
    // The outage is what is tested, not a condition to wait for: three leases long, so that a
    // relay that lost its claim to the other, or gave it up, would show it.
    tokio::time::sleep(Duration::from_millis(3 * 1500)).await;
    let during = status(&api).await;
    assert_eq!(
        (&during["phase"], &during["txHash"]),
        (&json!("submitted"), &hash),
        "{during}"
    );
    cluster.net.plug("g");
    let plugged_at = started.elapsed().as_secs_f64();
    chain::rpc(&op, "evm_mine", json!([])).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let confirmed = loop {
        let now = status(&api).await;
        if now["phase"] == "confirmed" {
            break now;
        }
        assert!(Instant::now() < deadline, "{now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let confirmed_at = started.elapsed().as_secs_f64();
    assert_eq!(confirmed["txHash"], hash, "{confirmed}");
    assert_eq!(
        confirmed["transactions"].as_array().map(Vec::len),
        Some(1),
        "one transaction, never replaced nor sent again: {confirmed}"
    );
    let receipt: alloy::primitives::TxHash = hash.as_str().unwrap().parse().unwrap();
    assert!(op.get_transaction_receipt(receipt).await.unwrap().is_some());
    // One transaction from the two relayer accounts together: nothing sent twice.
    let mut sent_by_both = 0;
    for key in chain::RELAYER_KEYS {
        let signer: alloy::signers::local::PrivateKeySigner = key.parse().unwrap();
        sent_by_both += op.get_transaction_count(signer.address()).await.unwrap();
    }
    assert_eq!(sent_by_both, 1, "{confirmed}");
    let airdrop: Address = chain.config["airdrop"].as_str().unwrap().parse().unwrap();
    let nullifier: U256 = confirmed["nullifier"].as_str().unwrap().parse().unwrap();
    assert!(chain::Operated::new(airdrop, &op)
        .claimed(nullifier)
        .call()
        .await
        .unwrap());
    drop(relays);
    for host in ["r", "s"] {
        let log = cluster.read_log(&format!("relay-{host}"));
        assert!(log.contains("relayer worker started"), "{host}: {log}");
    }
    println!(
        "relay: sent, G cut off at {cut_at:.1} s, back at {plugged_at:.1} s, confirmed at {confirmed_at:.1} s"
    );
}

/// What the relay test needs of a chain (as tests/relayer.rs does it): a claim proved for the
/// campaign of a fresh deploy-local chain, the chain itself on host G, and a campaigns file.
mod chain {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    use alloy::network::EthereumWallet;
    use alloy::providers::{DynProvider, Provider, ProviderBuilder};
    use alloy::signers::local::PrivateKeySigner;
    use serde_json::{json, Value};

    use super::{bin, Cluster, Proc};

    /// As tests/relayer.rs: a claim of this circuit meets THRESHOLD.
    const CIRCUIT: &str = "threshold-d4-k2";
    /// anvil's public development keys: #0 deploys and operates, #2 and #3 relay.
    const OPERATOR_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    pub const RELAYER_KEYS: [&str; 2] = [
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
        "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    ];
    /// The claim proves this threshold; the campaign asks for it.
    const THRESHOLD: u64 = 5;
    const RPC_PORT: u16 = 8545;

    alloy::sol! {
        #[sol(rpc)]
        interface Operated {
            function claimed(uint256 nullifier) external view returns (bool);
        }
    }

    fn airprover(args: &[&str]) -> String {
        let out = Command::new(bin()).args(args).output().unwrap();
        assert!(out.status.success(), "airprover {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// A claim for the campaign deploy-local makes on a fresh anvil, with its proof: the
    /// claim's path (its proof and public signals beside it).
    pub fn claim(dir: &Path) -> PathBuf {
        let keys = dir.join("keys");
        let keys = keys.to_str().unwrap();
        airprover(&["setup", "--circuit", CIRCUIT, "--out", keys, "--seed", "1"]);
        let campaign = airprover(&[
            "campaign-id",
            "--chain-id",
            "31337",
            "--deployer",
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "--nonce",
            "2",
        ]);
        let claim = dir.join("claim.json");
        let path = claim.to_str().unwrap();
        airprover(&[
            "sample",
            "--circuit",
            CIRCUIT,
            "--out",
            path,
            "--attestations",
            "12",
            "--seed",
            "50",
            "--campaign",
            campaign.trim(),
        ]);
        let mut value = read_json(&claim);
        value["threshold"] = json!(THRESHOLD.to_string());
        std::fs::write(&claim, value.to_string()).unwrap();
        let (proof, public) = (dir.join("proof.json"), dir.join("public.json"));
        airprover(&[
            "prove",
            "--keys",
            keys,
            "--input",
            path,
            "--proof",
            proof.to_str().unwrap(),
            "--public",
            public.to_str().unwrap(),
        ]);
        claim
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The proof of [`claim`]'s claim, as the relayer takes it.
    pub fn body(dir: &Path) -> Value {
        json!({ "proof": read_json(&dir.join("proof.json")),
            "publicSignals": read_json(&dir.join("public.json")),
            "circuit": CIRCUIT, "campaign": "local" })
    }

    pub struct Chain {
        _anvil: Proc,
        pub config: Value,
        pub rpc: String,
    }

    /// Deploys the campaign of `claim` on host G. deploy-local starts anvil on G's loopback
    /// only; it is stopped (dumping its state) and started again on G's address from that
    /// state, for the other hosts to reach. The namespace's drop kills it.
    pub fn deploy(cluster: &Cluster, dir: &Path, claim: &Path) -> Chain {
        let out = dir.join("chain.json");
        let state = dir.join("anvil-state.json");
        let status = cluster
            .net
            .command("g", "node")
            .arg(repo().join("contracts/scripts/deploy-local.mjs"))
            .env("AIRPROVER_BIN", bin())
            .arg("--keys")
            .arg(dir.join("keys"))
            .args(["--circuit", CIRCUIT, "--claim"])
            .arg(claim)
            .args(["--port", &RPC_PORT.to_string(), "--detach", "--out"])
            .arg(&out)
            .arg("--dump-state")
            .arg(&state)
            .stdout(Stdio::null())
            .status()
            .expect("node");
        assert!(
            status.success(),
            "deploy-local failed (npm ci in contracts/?)"
        );
        let config = read_json(&out);
        let pid = config["anvilPid"].as_u64().unwrap().to_string();
        assert!(Command::new("kill").arg(&pid).status().unwrap().success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !state.exists()
            || Command::new("kill")
                .args(["-0", &pid])
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success()
        {
            assert!(std::time::Instant::now() < deadline, "anvil did not exit");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let binary = Command::new("node")
            .current_dir(repo().join("contracts"))
            .args([
                "--input-type=module",
                "-e",
                "import { anvilBinary } from './lib/anvil.mjs'; console.log(anvilBinary());",
            ])
            .output()
            .unwrap();
        assert!(binary.status.success(), "{binary:?}");
        let ip = cluster.net.ip("g").to_string();
        let anvil = cluster
            .net
            .command("g", String::from_utf8(binary.stdout).unwrap().trim())
            .args(["--host", &ip, "--port", &RPC_PORT.to_string()])
            .args(["--hardfork", "prague", "--load-state"])
            .arg(&state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        cluster.net.wait_port("g", RPC_PORT);
        Chain {
            _anvil: Proc(anvil),
            config,
            rpc: format!("http://{ip}:{RPC_PORT}"),
        }
    }

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// The campaign "local" of the chain at `rpc`, relayed by anvil's accounts #2 and #3 (their
    /// keys in the environment variables RELAYER_A and RELAYER_B).
    pub fn campaigns_json(rpc: &str, config: &Value, dir: &Path) -> String {
        json!({ "campaigns": [{
            "name": "local",
            "chainId": 31337,
            "rpcUrl": rpc,
            "airdrop": config["airdrop"],
            "circuit": CIRCUIT,
            "keys": dir.join("keys"),
            "relayers": [{ "env": "RELAYER_A" }, { "env": "RELAYER_B" }],
            "replaceAfterBlocks": 3,
        }]})
        .to_string()
    }

    pub fn operator(rpc: &str) -> DynProvider {
        let signer: PrivateKeySigner = OPERATOR_KEY.parse().unwrap();
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(rpc.parse().unwrap())
            .erased()
    }

    pub async fn rpc(op: &DynProvider, method: &'static str, params: Value) -> Value {
        op.raw_request::<_, Value>(method.into(), params)
            .await
            .unwrap()
    }
}
