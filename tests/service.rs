//! The prover service as it runs: Debian's redis-server, `airprover serve` nodes and `airprover
//! worker` processes, killed and restarted mid-run. Development keys (setup --seed 1).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use airprover::runtime::queue::Priority;
use airprover::service::redis::{Keys, Started, Tasks};
use serde_json::{json, Value};

use common::{
    bin, dev_keys, free_port, http, redis_server, sample_claim, sha256_hex, wait_port,
    write_private, Proc,
};

const CIRCUIT: &str = "threshold-d4-k2";
const API_KEY: &str = "test-key-0123456789abcdef";
const SMALL_KEY: &str = "small-key-0123456789abcdef";
const QUOTA_KEY: &str = "quota-key-0123456789abcdef";

/// One HTTP client for the whole test binary: a new one per request reads the system's
/// certificates again each time.
struct Env {
    dir: PathBuf,
    redis_port: u16,
    redis: Option<Proc>,
    /// The sealing key file serve and the workers get; `None`: `serve --dev-unsealed`.
    sealing_key: Option<PathBuf>,
}

impl Env {
    fn new(name: &str) -> Env {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("service-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("redis")).unwrap();
        dev_keys(CIRCUIT, &dir.join("keys"));
        write_private(
            &dir.join("api-keys.json"),
            &json!({ "keys": [
                { "name": "tests", "keySha256": sha256_hex(API_KEY), "role": "admin",
                  "maxActive": 1000, "perMinute": 100000 },
                { "name": "small", "keySha256": sha256_hex(SMALL_KEY), "maxActive": 2, "perMinute": 3 },
                { "name": "quota", "keySha256": sha256_hex(QUOTA_KEY), "maxActive": 3, "perMinute": 100000 },
            ]})
            .to_string(),
        );
        let sealing_key = dir.join("sealing.key");
        common::sealing_key(&sealing_key);
        let mut env = Env {
            dir,
            redis_port: free_port(),
            redis: None,
            sealing_key: Some(sealing_key),
        };
        env.start_redis();
        env
    }

    /// redis-server on its append-only file (every write synced): a restart loses nothing
    /// accepted.
    fn start_redis(&mut self) {
        let durable = ["--appendonly", "yes", "--appendfsync", "always"];
        let redis = redis_server(self.redis_port, &self.dir.join("redis"), &durable);
        self.redis = Some(redis);
    }

    fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.redis_port)
    }

    /// How serve stores inputs: `--sealing-key FILE`, or `--dev-unsealed`.
    fn serve_sealing(&self) -> Vec<std::ffi::OsString> {
        match &self.sealing_key {
            Some(path) => vec!["--sealing-key".into(), path.into()],
            None => vec!["--dev-unsealed".into()],
        }
    }

    /// A worker's (and `dead-letters requeue`'s) `--sealing-key FILE`, if any.
    fn worker_sealing(&self) -> Vec<std::ffi::OsString> {
        match &self.sealing_key {
            Some(path) => vec!["--sealing-key".into(), path.into()],
            None => vec![],
        }
    }

    fn serve(&self) -> (Proc, String) {
        self.serve_with(&[])
    }

    fn serve_with(&self, extra: &[&str]) -> (Proc, String) {
        let port = free_port();
        let child = Command::new(bin())
            .args([
                "serve",
                "--redis",
                &self.redis_url(),
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--keys",
            ])
            .arg(self.dir.join("keys"))
            .arg("--api-keys")
            .arg(self.dir.join("api-keys.json"))
            .args(self.serve_sealing())
            .args(extra)
            .stderr(self.log(&format!("serve-{port}")))
            .spawn()
            .unwrap();
        wait_port(port);
        (Proc(child), format!("http://127.0.0.1:{port}"))
    }

    fn worker(&self, name: &str) -> Proc {
        self.worker_with(name, &[])
    }

    /// A worker with extra environment variables (AIRPROVER_TEST_FAULT, say).
    fn worker_with(&self, name: &str, env: &[(&str, &str)]) -> Proc {
        self.worker_with_args(name, env, &[])
    }

    /// A worker with extra environment variables and arguments.
    fn worker_with_args(&self, name: &str, env: &[(&str, &str)], args: &[&str]) -> Proc {
        Proc(
            Command::new(bin())
                .envs(env.iter().copied())
                .args([
                    "worker",
                    "--redis",
                    &self.redis_url(),
                    "--threads",
                    "1",
                    "--lease-ms",
                    "1500",
                    "--id",
                    name,
                    "--keys",
                ])
                .arg(self.dir.join("keys"))
                .arg("--state")
                .arg(self.dir.join(name))
                .args(self.worker_sealing())
                .arg("--zkey-cache")
                .arg(self.dir.join("zkey-cache"))
                .args(args)
                .stderr(self.log(name))
                .spawn()
                .unwrap(),
        )
    }

    /// A process's stderr: appended to `{name}.log` in the test's directory (what the tests
    /// search for secrets).
    fn log(&self, name: &str) -> Stdio {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{name}.log")))
            .unwrap()
            .into()
    }

    /// Every log this test's processes wrote, concatenated.
    fn logs(&self) -> String {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Lists the circom fixtures `names` in the key directory (`add-circom`, under the fixture's
    /// name), before `serve` starts; their converted keys not cached, so the first worker
    /// converts them.
    fn add_circom(&self, names: &[&str]) {
        for name in names {
            let f = common::circom::fixture(name);
            let done = Command::new(bin())
                .args(["add-circom", "--no-zkey-cache", "--circuit", name, "--keys"])
                .arg(self.dir.join("keys"))
                .arg("--zkey")
                .arg(&f.zkey)
                .arg("--wasm")
                .arg(&f.wasm)
                .arg("--vkey")
                .arg(&f.vkey)
                .output()
                .unwrap();
            assert!(done.status.success(), "add-circom {name}: {done:?}");
        }
    }

    fn claim(&self, campaign: u64) -> Value {
        let path = self.dir.join("claim.json");
        if !path.exists() {
            sample_claim(CIRCUIT, &path);
        }
        let mut claim: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // Another campaign: another claim, another task.
        claim["campaignId"] = json!(campaign.to_string());
        claim
    }
}

/// One request; a 503 (the store reconnecting after a Redis restart) is tried again, as its
/// Retry-After says.
async fn call(
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    body: Option<String>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    for _ in 0..5 {
        let got = call_once(method.clone(), url, key, body.clone()).await;
        if got.0 != 503 {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    call_once(method, url, key, body).await
}

async fn call_once(
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    body: Option<String>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = http().request(method, url);
    if let Some(k) = key {
        request = request.bearer_auth(k);
    }
    if let Some(b) = body {
        request = request.header("content-type", "application/json").body(b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(json!({ "text": text })),
        headers,
    )
}

async fn submit(base: &str, claim: &Value, priority: &str) -> String {
    let (status, body, _) = call(
        reqwest::Method::POST,
        &format!("{base}/v1/proofs"),
        Some(API_KEY),
        Some(json!({ "claim": claim, "priority": priority }).to_string()),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// Submits a circom task (`{ circuit, input }`) and returns its id.
async fn submit_circom(base: &str, circuit: &str, input: &Value) -> String {
    let (status, body) = post_circom(base, circuit, input).await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn post_circom(base: &str, circuit: &str, input: &Value) -> (u16, Value) {
    let body = json!({ "circuit": circuit, "input": input }).to_string();
    let url = format!("{base}/v1/proofs");
    let (status, body, _) = call(reqwest::Method::POST, &url, Some(API_KEY), Some(body)).await;
    (status, body)
}

async fn task(base: &str, id: &str) -> Value {
    let (status, body) = on_task(base, reqwest::Method::GET, API_KEY, id).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `method` on `/v1/proofs/{id}` with `key`: (status, body).
async fn on_task(base: &str, method: reqwest::Method, key: &str, id: &str) -> (u16, Value) {
    let (status, body, _) = call(method, &format!("{base}/v1/proofs/{id}"), Some(key), None).await;
    (status, body)
}

fn task_keys(env: &Env) -> usize {
    let out = Command::new("redis-cli")
        .args([
            "-p",
            &env.redis_port.to_string(),
            "--raw",
            "keys",
            "airprover:task:*",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_bad_input_with_its_code_and_stores_nothing() {
    let env = Env::new("refusals");
    let (_serve, base) = env.serve();
    let post = |key: Option<&'static str>, body: String| {
        let url = format!("{base}/v1/proofs");
        async move { call(reqwest::Method::POST, &url, key, Some(body)).await }
    };
    let claim = env.claim(1);
    let good = json!({ "claim": claim }).to_string();
    let mut unknown_circuit = claim.clone();
    unknown_circuit["circuit"] = json!("threshold-d4-k3");
    let mut too_high = claim.clone();
    too_high["threshold"] = json!("999999");
    let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
        ("no API key", None, good.clone(), 401, "UNAUTHORIZED"),
        (
            "a wrong API key",
            Some("wrong-key-0123456789abcdef"),
            good.clone(),
            401,
            "UNAUTHORIZED",
        ),
        (
            "malformed JSON",
            Some(API_KEY),
            "{\"claim\": ".into(),
            400,
            "INVALID_JSON",
        ),
        (
            "a body over the limit",
            Some(API_KEY),
            format!("{{\"claim\": \"{}\"}}", "1".repeat(600_000)),
            413,
            "BODY_TOO_LARGE",
        ),
        (
            "an unknown field",
            Some(API_KEY),
            json!({ "claim": claim, "secretary": 1 }).to_string(),
            400,
            "INVALID_INPUT",
        ),
        (
            "a duplicate key",
            Some(API_KEY),
            good.replacen('{', "{\"priority\": \"LOW\",", 1).replacen(
                "}",
                ", \"priority\": \"HIGH\"}",
                0,
            ),
            202,
            "",
        ),
        (
            "a bad priority",
            Some(API_KEY),
            json!({ "claim": claim, "priority": "URGENT" }).to_string(),
            400,
            "INVALID_INPUT",
        ),
        (
            "an unknown circuit",
            Some(API_KEY),
            json!({ "claim": unknown_circuit }).to_string(),
            400,
            "UNKNOWN_CIRCUIT",
        ),
        (
            "a claim that fails validation",
            Some(API_KEY),
            json!({ "claim": too_high }).to_string(),
            400,
            "SCORE_NOT_MET",
        ),
        (
            "not an object",
            Some(API_KEY),
            "[1]".into(),
            400,
            "INVALID_INPUT",
        ),
    ];
    for (what, key, body, status, code) in cases {
        if code.is_empty() {
            continue;
        }
        let (got, body, _) = post(key, body).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["code"], code, "{what}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {body}"
        );
    }
    let dup = format!("{{\"claim\": {claim}, \"priority\": \"LOW\", \"priority\": \"HIGH\"}}");
    let (got, body, _) = post(Some(API_KEY), dup).await;
    assert_eq!(
        (got, body["code"].as_str()),
        (400, Some("INVALID_INPUT")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("\"priority\" twice"),
        "{body}"
    );
    assert_eq!(task_keys(&env), 0, "nothing stored for a refusal");

    // Unknown ids, and ids that are not ids.
    for id in ["0123456789abcdef", "..%2F..%2Fetc", "x"] {
        let (got, body) = on_task(&base, reqwest::Method::GET, API_KEY, id).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (404, Some("UNKNOWN_TASK")),
            "{id}: {body}"
        );
        let (got, _) = on_task(&base, reqwest::Method::DELETE, API_KEY, id).await;
        assert_eq!(got, 404);
        let (got, _, _) = call(
            reqwest::Method::GET,
            &format!("{base}/v1/proofs/{id}/events"),
            Some(API_KEY),
            None,
        )
        .await;
        assert_eq!(got, 404);
    }
    let (got, body, _) = call(reqwest::Method::GET, &format!("{base}/v1/nope"), None, None).await;
    assert_eq!((got, body["code"].as_str()), (404, Some("NOT_FOUND")));

    // Quotas: two active tasks for the small key, then 429 with Retry-After; three a minute.
    let minute = || airprover::service::now_ms() / 60_000;
    let first_minute = minute();
    for campaign in [10, 11] {
        let body = json!({ "claim": env.claim(campaign) }).to_string();
        let (got, b, _) = post(Some(SMALL_KEY), body).await;
        assert_eq!(got, 202, "{b}");
    }
    let (got, body, headers) = post(
        Some(SMALL_KEY),
        json!({ "claim": env.claim(12) }).to_string(),
    )
    .await;
    assert_eq!(
        (got, body["code"].as_str()),
        (429, Some("QUOTA_EXCEEDED")),
        "{body}"
    );
    assert!(headers.get("retry-after").is_some());
    // A fourth submit in the minute is over the key's three a minute (spent before the quota
    // and the claim's checks), whatever its claim.
    let (got, body, headers) = post(
        Some(SMALL_KEY),
        json!({ "claim": env.claim(13) }).to_string(),
    )
    .await;
    if minute() == first_minute {
        assert_eq!(
            (got, body["code"].as_str()),
            (429, Some("RATE_LIMITED")),
            "{body}"
        );
        let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }
    // The same claim again is the same task, not a new one.
    let first = submit(&base, &env.claim(20), "LOW").await;
    assert_eq!(submit(&base, &env.claim(20), "HIGH").await, first);
    // Cancelled while queued (no worker runs): it ends once, and a second cancel is a conflict.
    let (got, body) = on_task(&base, reqwest::Method::DELETE, API_KEY, &first).await;
    assert_eq!(
        (got, body["status"].as_str()),
        (200, Some("cancelled")),
        "{body}"
    );
    let (got, body) = on_task(&base, reqwest::Method::DELETE, API_KEY, &first).await;
    assert_eq!(
        (got, body["code"].as_str()),
        (409, Some("ALREADY_ENDED")),
        "{body}"
    );
    assert_eq!(task(&base, &first).await["error"]["code"], "CANCELLED");
    let (got, body, _) = call(reqwest::Method::GET, &format!("{base}/health"), None, None).await;
    assert_eq!((got, body["status"].as_str()), (200, Some("ok")));
}

/// The events of a task's SSE stream from `last_id`: (id, type).
async fn sse(base: &str, id: &str, last_id: Option<&str>) -> Vec<(String, String)> {
    let mut request = http()
        .get(format!("{base}/v1/proofs/{id}/events"))
        .bearer_auth(API_KEY);
    if let Some(l) = last_id {
        request = request.header("last-event-id", l);
    }
    let text = tokio::time::timeout(Duration::from_secs(60), async {
        request.send().await.unwrap().text().await.unwrap()
    })
    .await
    .expect("the stream ends after the final event");
    let mut out = Vec::new();
    let (mut ev_id, mut kind) = (String::new(), String::new());
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("id: ") {
            ev_id = v.to_string();
        } else if let Some(v) = line.strip_prefix("event: ") {
            kind = v.to_string();
        } else if line.is_empty() && !ev_id.is_empty() {
            out.push((std::mem::take(&mut ev_id), std::mem::take(&mut kind)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_task_ends_once_while_workers_and_redis_are_killed() {
    let mut env = Env::new("faults");
    let (_a, base_a) = env.serve();
    let (_b, base_b) = env.serve();
    let bases = [base_a.clone(), base_b.clone()];

    // Priority: LOW tasks queued with no worker, then a CRITICAL one; the first worker takes it first.
    let mut ids: Vec<String> = Vec::new();
    for n in 0..4 {
        ids.push(submit(&bases[n % 2], &env.claim(100 + n as u64), "LOW").await);
    }
    let critical = submit(&base_b, &env.claim(99), "CRITICAL").await;
    ids.push(critical.clone());
    let (_, queue, _) = call(
        reqwest::Method::GET,
        &format!("{base_a}/v1/queue"),
        Some(API_KEY),
        None,
    )
    .await;
    assert_eq!(queue["priorities"]["LOW"]["waiting"], 4, "{queue}");
    let mut workers: Vec<Proc> = vec![env.worker("w1")];
    let deadline = Instant::now() + Duration::from_secs(60);
    while task(&base_a, &critical).await["status"] != "succeeded" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = |events: &[(String, String, Value)]| {
        events
            .iter()
            .find(|(_, kind, data)| kind == "status" && data["status"] == "running")
            .map(|(id, _, _)| id.clone())
    };
    let critical_start = started(&read_events(&env, &critical)).unwrap();
    for low in &ids[..4] {
        if let Some(low_start) = started(&read_events(&env, low)) {
            assert!(
                stream_id_lt(&critical_start, &low_start),
                "CRITICAL started before LOW {low}"
            );
        }
    }

    // Many tasks of mixed priorities through both nodes and three workers.
    workers.push(env.worker("w2"));
    workers.push(env.worker("w3"));
    let priorities = ["LOW", "NORMAL", "HIGH", "CRITICAL"];
    for n in 0..115u64 {
        ids.push(
            submit(
                &bases[n as usize % 2],
                &env.claim(1000 + n),
                priorities[n as usize % 4],
            )
            .await,
        );
    }
    // Cancel some: queued or running, whichever they are.
    let cancelled: Vec<String> = ids.iter().skip(10).step_by(5).take(20).cloned().collect();
    assert_eq!((ids.len(), cancelled.len()), (120, 20));
    // 200: cancelled by this call; 409: it had ended already.
    let mut cancel_answers: HashMap<String, u16> = HashMap::new();
    for id in &cancelled {
        let (got, _, _) = call(
            reqwest::Method::DELETE,
            &format!("{base_a}/v1/proofs/{id}"),
            Some(API_KEY),
            None,
        )
        .await;
        assert!(got == 200 || got == 409, "{got}");
        cancel_answers.insert(id.clone(), got);
    }
    // A WebSocket client follows a few tasks through everything below.
    let followed: Vec<String> = ids.iter().rev().step_by(40).cloned().collect();
    let follower = tokio::spawn(ws_follow(base_a.clone(), followed.clone()));
    // Kill a worker mid-run, twice, and restart it; kill Redis and restart it on its AOF.
    tokio::time::sleep(Duration::from_millis(800)).await;
    workers[1].kill9();
    workers[1] = env.worker("w2b");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    workers[1].kill9();
    workers[1] = env.worker("w2c");
    tokio::time::sleep(Duration::from_millis(800)).await;
    env.redis.as_mut().unwrap().kill9();
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.start_redis();
    tokio::time::sleep(Duration::from_millis(800)).await;
    workers[0].kill9();
    workers[0] = env.worker("w1b");

    let deadline = Instant::now() + Duration::from_secs(240);
    let mut finals = HashMap::new();
    let finals = loop {
        // Only those not seen ended yet: an ended task stays ended.
        let open: Vec<&String> = ids.iter().filter(|id| !finals.contains_key(*id)).collect();
        for id in open {
            let (status, body, _) = call(
                reqwest::Method::GET,
                &format!("{base_b}/v1/proofs/{id}"),
                Some(API_KEY),
                None,
            )
            .await;
            if status == 200
                && ["succeeded", "failed", "cancelled"]
                    .contains(&body["status"].as_str().unwrap_or(""))
            {
                finals.insert(id.clone(), body);
            }
        }
        if finals.len() == ids.len() {
            break std::mem::take(&mut finals);
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} tasks ended",
            finals.len(),
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let vk = std::fs::read(env.dir.join("keys").join(format!("{CIRCUIT}.vk"))).unwrap();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (id, body) in &finals {
        let status = body["status"].as_str().unwrap();
        *counts.entry(status).or_default() += 1;
        // Exactly one final event: one stored result or error.
        let events = read_events(&env, id);
        let ends = events
            .iter()
            .filter(|(_, kind, _)| ["succeeded", "failed", "cancelled"].contains(&kind.as_str()))
            .count();
        assert_eq!(ends, 1, "{id}: {ends} final events");
        match status {
            "succeeded" => {
                let r = &body["result"];
                assert!(
                    airprover::api::verify(
                        &vk,
                        &r["proof"].to_string(),
                        &r["publicSignals"].to_string()
                    )
                    .unwrap(),
                    "{id}"
                );
                // A cancel that answered 200 ended the task: no result stored after it.
                assert_ne!(
                    cancel_answers.get(id),
                    Some(&200),
                    "{id}: cancelled, then succeeded"
                );
            }
            "cancelled" => {
                assert!(cancelled.contains(id), "{id} cancelled by nobody");
                assert_eq!(
                    cancel_answers[id], 200,
                    "{id}: cancelled, though its cancel said it had ended"
                );
                assert!(body.get("result").is_none(), "{id}: {body}");
                if events
                    .iter()
                    .any(|(_, kind, data)| kind == "status" && data["status"] == "running")
                {
                    *counts.entry("cancelled while running").or_default() += 1;
                }
            }
            other => panic!("{id}: {other}: {body}"),
        }
    }
    println!("{} tasks: {counts:?}", ids.len());
    // The WebSocket saw each followed task's events in order, without a gap, to its final state.
    let seen = follower.await.unwrap();
    for id in &followed {
        let stored: Vec<(String, String)> = read_events(&env, id)
            .into_iter()
            .map(|(e, kind, _)| (e, kind))
            .collect();
        assert_eq!(seen[id], stored, "{id}");
    }
    let (_, workers_view, _) = call(
        reqwest::Method::GET,
        &format!("{base_a}/v1/workers"),
        Some(API_KEY),
        None,
    )
    .await;
    assert!(
        workers_view["workers"]
            .as_array()
            .is_some_and(|w| w.len() >= 3),
        "{workers_view}"
    );
    let (_, metrics_text, _) = call(
        reqwest::Method::GET,
        &format!("{base_a}/metrics"),
        Some(API_KEY),
        None,
    )
    .await;
    let text = metrics_text["text"].as_str().unwrap();
    assert!(
        text.contains("airprover_tasks_succeeded_total")
            && text.contains("airprover_proving_seconds_bucket"),
        "{text}"
    );

    // SSE: the whole stream of a finished task, then resumed from its second event: no gap.
    let some = finals
        .iter()
        .find(|(_, b)| b["status"] == "succeeded")
        .unwrap()
        .0;
    let all = sse(&base_a, some, None).await;
    assert!(
        all.len() >= 4 && all.last().unwrap().1 == "succeeded",
        "{all:?}"
    );
    let resumed = sse(&base_b, some, Some(&all[1].0)).await;
    assert_eq!(resumed, all[2..].to_vec());
}

/// Follows `ids` on one WebSocket (authenticating with a message, as a browser must) until each
/// has its final event: per id, its (event id, event) in the order received.
async fn ws_follow(base: String, ids: Vec<String>) -> HashMap<String, Vec<(String, String)>> {
    // Nothing before authenticating; a wrong key is refused, and the socket takes no second
    // auth message after it.
    let mut wrong = Ws::open(&base).await;
    wrong
        .send(json!({ "type": "subscribe", "id": ids[0] }))
        .await;
    assert_eq!(wrong.recv().await["code"], "UNAUTHORIZED");
    wrong
        .send(json!({ "type": "auth", "apiKey": "wrong" }))
        .await;
    assert_eq!(wrong.recv().await["code"], "UNAUTHORIZED");
    wrong
        .send(json!({ "type": "auth", "apiKey": API_KEY }))
        .await;
    assert_eq!(wrong.recv().await["code"], "INVALID_INPUT");
    let mut ws = Ws::open(&base).await;
    ws.send(json!({ "type": "auth", "apiKey": API_KEY })).await;
    assert_eq!(ws.recv().await["type"], "authenticated");
    ws.send(json!({ "type": "auth", "apiKey": API_KEY })).await;
    assert_eq!(ws.recv().await["code"], "INVALID_INPUT", "one auth message");
    ws.send_text("{\"type\": \"subscribe\", \"id\": 1, \"id\": 2}")
        .await;
    assert_eq!(ws.recv().await["code"], "INVALID_JSON");
    ws.send(json!({ "type": "subscribe", "id": "ffff" })).await;
    let unknown = ws.recv().await;
    assert_eq!(
        (unknown["code"].as_str(), unknown["id"].as_str()),
        (Some("UNKNOWN_TASK"), Some("ffff"))
    );
    for id in &ids {
        ws.send(json!({ "type": "subscribe", "id": id })).await;
    }
    let mut events: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut ended = 0;
    let mut subscribed = 0;
    while ended < ids.len() {
        let m = tokio::time::timeout(Duration::from_secs(240), ws.recv())
            .await
            .expect("every followed task ends");
        match m["type"].as_str() {
            Some("subscribed") => subscribed += 1,
            Some("event") => {
                let kind = m["event"].as_str().unwrap().to_string();
                if ["succeeded", "failed", "cancelled"].contains(&kind.as_str()) {
                    ended += 1;
                }
                events
                    .entry(m["id"].as_str().unwrap().to_string())
                    .or_default()
                    .push((m["eventId"].as_str().unwrap().to_string(), kind));
            }
            _ => panic!("unexpected {m}"),
        }
    }
    assert_eq!(subscribed, ids.len());
    events
}

/// A client of `/v1/ws`: JSON in text frames each way.
struct Ws(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl Ws {
    async fn open(base: &str) -> Ws {
        let url = format!("{}/v1/ws", base.replace("http://", "ws://"));
        Ws(tokio_tungstenite::connect_async(&url).await.unwrap().0)
    }

    async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        let frame = tokio_tungstenite::tungstenite::Message::Text(text.to_string().into());
        self.0.send(frame).await.unwrap();
    }

    /// The next text frame, as JSON.
    async fn recv(&mut self) -> Value {
        use futures_util::StreamExt;
        loop {
            if let tokio_tungstenite::tungstenite::Message::Text(t) =
                self.0.next().await.unwrap().unwrap()
            {
                return serde_json::from_str(&t).unwrap();
            }
        }
    }
}

fn stream_id_lt(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        let (ms, seq) = s.split_once('-').unwrap();
        (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap())
    };
    parse(a) < parse(b)
}

/// A task's events straight from Redis: (id, type, data).
fn read_events(env: &Env, id: &str) -> Vec<(String, String, Value)> {
    let out = Command::new("redis-cli")
        .args([
            "-p",
            &env.redis_port.to_string(),
            "--raw",
            "xrange",
            &format!("airprover:task:{id}:events"),
            "-",
            "+",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(5)
        .filter(|c| c.len() == 5)
        .map(|c| {
            (
                c[0].to_string(),
                c[2].to_string(),
                serde_json::from_str(c[4]).unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// A task belongs to the key that submitted it (issue 29, item 1): another key's GET, DELETE,
/// SSE stream and WebSocket subscription get `404 UNKNOWN_TASK`, the answer for a task that does
/// not exist, and an identical claim from another key is a task of its own, not a handle on the
/// first. The owner still sees, follows and cancels its task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_seen_only_by_the_key_that_submitted_it() {
    let env = Env::new("tenants");
    let (_serve, base) = env.serve();
    // No worker: the task stays queued.
    let claim = env.claim(7);
    let id = submit(&base, &claim, "NORMAL").await;
    let url = format!("{base}/v1/proofs/{id}");
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let (status, body, _) = call(method.clone(), &url, Some(SMALL_KEY), None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("UNKNOWN_TASK")),
            "{method} {body}"
        );
        let (status, none, _) = call(
            method.clone(),
            &format!("{base}/v1/proofs/{}", "ab".repeat(16)),
            Some(SMALL_KEY),
            None,
        )
        .await;
        assert_eq!(
            (status, &none),
            (404, &body),
            "{method}: the same answer as for no task"
        );
    }
    let (status, body, _) = call(
        reqwest::Method::GET,
        &format!("{url}/events"),
        Some(SMALL_KEY),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("UNKNOWN_TASK")),
        "SSE: {body}"
    );

    let mut ws = Ws::open(&base).await;
    ws.send(json!({ "type": "auth", "apiKey": SMALL_KEY }))
        .await;
    assert_eq!(ws.recv().await["type"], "authenticated");
    ws.send(json!({ "type": "subscribe", "id": id })).await;
    let refused = ws.recv().await;
    assert_eq!(
        (refused["code"].as_str(), refused["id"].as_str()),
        (Some("UNKNOWN_TASK"), Some(id.as_str()))
    );

    // The same claim from the other key: its own task.
    let (status, body, _) = call(
        reqwest::Method::POST,
        &format!("{base}/v1/proofs"),
        Some(SMALL_KEY),
        Some(json!({ "claim": claim }).to_string()),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let theirs = body["id"].as_str().unwrap().to_string();
    assert_ne!(theirs, id, "another key's identical claim is another task");
    // The same key's identical claim is still the same task.
    assert_eq!(submit(&base, &claim, "NORMAL").await, id);
    ws.send(json!({ "type": "subscribe", "id": theirs })).await;
    assert_eq!(
        ws.recv().await["type"],
        "subscribed",
        "a key follows its own task"
    );

    // The owner: sees it, cancels it; the other key's task is untouched.
    assert_eq!(task(&base, &id).await["status"], "queued");
    let (status, body, _) = call(reqwest::Method::DELETE, &url, Some(API_KEY), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("cancelled")),
        "{body}"
    );
    let (status, body) = on_task(&base, reqwest::Method::GET, SMALL_KEY, &theirs).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("queued")),
        "{body}"
    );
    // An admin key sees every task; a tenant sees its own counts, never the workers or metrics.
    let (status, body) = on_task(&base, reqwest::Method::GET, API_KEY, &theirs).await;
    assert_eq!(
        (status, body["id"].as_str()),
        (200, Some(theirs.as_str())),
        "{body}"
    );
    let (status, body, _) = call(
        reqwest::Method::GET,
        &format!("{base}/v1/queue"),
        Some(SMALL_KEY),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "key": "small", "active": 1, "maxActive": 2, "perMinute": 3 })
    );
    for path in ["/v1/workers", "/metrics"] {
        let (status, body, _) = call(
            reqwest::Method::GET,
            &format!("{base}{path}"),
            Some(SMALL_KEY),
            None,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{path}: {body}"
        );
        let (status, _, _) = call(
            reqwest::Method::GET,
            &format!("{base}{path}"),
            Some(API_KEY),
            None,
        )
        .await;
        assert_eq!(status, 200, "{path} for an admin");
    }
}

/// Claims are checked on a bounded pool (issue 29, item 14): with one checker and none waiting,
/// a submit that arrives while another claim is being checked answers `503 SERVER_BUSY` with
/// `Retry-After` (the check slowed by the test-only hook), and stores nothing; the first is
/// accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "fault-hooks"),
    ignore = "needs serve's slow-validation hook: cargo test --features fault-hooks"
)]
async fn a_full_validation_pool_answers_503() {
    let env = Env::new("validation-pool");
    let port = free_port();
    let _serve = Proc(
        Command::new(bin())
            .args(["serve", "--redis", &env.redis_url(), "--keys"])
            .arg(env.dir.join("keys"))
            .arg("--api-keys")
            .arg(env.dir.join("api-keys.json"))
            .args(env.serve_sealing())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--validation-threads", "1", "--validation-queue", "0"])
            .env("AIRPROVER_TEST_SLOW_VALIDATION_MS", "1500")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    let base = format!("http://127.0.0.1:{port}");
    let post = |campaign: u64| {
        let (url, body) = (
            format!("{base}/v1/proofs"),
            json!({ "claim": env.claim(campaign) }).to_string(),
        );
        async move { call_once(reqwest::Method::POST, &url, Some(API_KEY), Some(body)).await }
    };
    let first = tokio::spawn(post(71));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body, headers) = post(72).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("SERVER_BUSY")),
        "{body}"
    );
    assert_eq!(headers.get("retry-after").unwrap(), "1");
    let (status, body, _) = first.await.unwrap();
    assert_eq!(status, 202, "{body}");
    assert_eq!(task_keys(&env), 2, "one task: its hash and its events");
}

/// The keys file and authentication (issue 29, item 2): the file holds hashes, never keys (a
/// plain `key` is refused with a message naming `airprover api-key new`), and is refused when
/// others may read it; a key made by `api-key new` works; more than 10 failed authentications
/// from one address in a minute answer 429 (even a valid key from that address, until the
/// minute is over); with --trust-proxy the address is the last X-Forwarded-For entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_stored_hashed_and_failed_authentications_are_limited() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new("keys-file");
    let start = |keys: &std::path::Path| {
        Command::new(bin())
            .args([
                "serve",
                "--redis",
                &env.redis_url(),
                "--listen",
                "127.0.0.1:1",
                "--keys",
            ])
            .arg(env.dir.join("keys"))
            .arg("--api-keys")
            .arg(keys)
            .output()
            .unwrap()
    };
    let plain = env.dir.join("plain.json");
    write_private(
        &plain,
        &json!({ "keys": [{ "name": "old", "key": API_KEY }] }).to_string(),
    );
    let out = start(&plain);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("airprover api-key new"),
        "{out:?}"
    );
    let new = Command::new(bin())
        .args(["api-key", "new", "--name", "ci", "--role", "admin"])
        .output()
        .unwrap();
    assert!(new.status.success(), "{new:?}");
    let stdout = String::from_utf8(new.stdout).unwrap();
    let (key, entry) = stdout.trim().split_once('\n').unwrap();
    assert!(
        !entry.contains(key),
        "the entry holds the hash, not the key"
    );
    let entry: Value = serde_json::from_str(entry).unwrap();
    assert_eq!(entry["keySha256"], json!(sha256_hex(key)));
    let file = env.dir.join("new.json");
    std::fs::write(&file, json!({ "keys": [entry] }).to_string()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = start(&file);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("readable by group or others"),
        "{out:?}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let port = free_port();
    let _serve = Proc(
        Command::new(bin())
            .args([
                "serve",
                "--redis",
                &env.redis_url(),
                "--trust-proxy",
                "--keys",
            ])
            .arg(env.dir.join("keys"))
            .arg("--api-keys")
            .arg(&file)
            .args(env.serve_sealing())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    let base = format!("http://127.0.0.1:{port}");
    let queue = |key: &str, from: &str| {
        let (url, key, from) = (
            format!("{base}/v1/queue"),
            key.to_string(),
            from.to_string(),
        );
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .bearer_auth(key)
                .header("x-forwarded-for", format!("203.0.113.9, {from}"))
                .send()
                .await
                .unwrap();
            let retry = response.headers().get("retry-after").is_some();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body, retry)
        }
    };
    let (status, body, _) = queue(key, "10.0.0.1").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["priorities"].is_object(),
        "an admin sees the queue: {body}"
    );
    // Ten failures and the eleventh fall in one minute.
    let second = airprover::service::now_ms() / 1000 % 60;
    if second > 50 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    for attempt in 1..=10 {
        let (status, body, _) = queue("not-a-key-0123456789", "10.0.0.1").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{attempt}"
        );
    }
    let (status, body, retry) = queue("not-a-key-0123456789", "10.0.0.1").await;
    assert_eq!(
        (status, body["code"].as_str(), retry),
        (429, Some("RATE_LIMITED"), true)
    );
    let (status, body, _) = queue(key, "10.0.0.1").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );
    let (status, body, _) = queue(key, "10.0.0.2").await;
    assert_eq!(status, 200, "another address is not limited: {body}");
}

/// `maxActive` holds under parallel submits (issue 29, item 14: 8 at once with a quota of 3 left
/// 4 open when the count was read before the task was created in another round trip): exactly
/// 3 tasks are created, the other 5 answer `429 QUOTA_EXCEEDED` with `Retry-After`, and the
/// key's open set holds 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_active_quota_holds_under_parallel_submits() {
    let env = Env::new("quota-race");
    let (_serve, base) = env.serve();
    for round in 0..3u64 {
        let submits: Vec<_> = (0..8u64)
            .map(|i| {
                let body = json!({ "claim": env.claim(1000 * (round + 1) + i) }).to_string();
                let url = format!("{base}/v1/proofs");
                tokio::spawn(async move {
                    call(reqwest::Method::POST, &url, Some(QUOTA_KEY), Some(body)).await
                })
            })
            .collect();
        let mut accepted = Vec::new();
        let mut refused = 0;
        for s in submits {
            let (status, body, headers) = s.await.unwrap();
            match status {
                202 => accepted.push(body["id"].as_str().unwrap().to_string()),
                429 => {
                    assert_eq!(body["code"], "QUOTA_EXCEEDED", "{body}");
                    assert!(headers.get("retry-after").is_some());
                    refused += 1;
                }
                _ => panic!("round {round}: {status} {body}"),
            }
        }
        assert_eq!(
            (accepted.len(), refused),
            (3, 5),
            "round {round}: {accepted:?}"
        );
        let out = Command::new("redis-cli")
            .args([
                "-p",
                &env.redis_port.to_string(),
                "scard",
                "airprover:active:quota",
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "3",
            "round {round}"
        );
        // Cancelled, they free the quota for the next round.
        for id in accepted {
            let (status, body) = on_task(&base, reqwest::Method::DELETE, QUOTA_KEY, &id).await;
            assert_eq!(status, 200, "{body}");
        }
    }
}

/// `Last-Event-ID` is an event id or `400 INVALID_INPUT` (issue 29, item 12: `-` was taken and
/// read as an id Redis refuses, over and over), and a stream resumed after its final event ends
/// at once instead of waiting forever for an event that will never come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_resume_points_are_strict_and_a_stream_resumed_after_its_end_ends() {
    let env = Env::new("sse-resume");
    let (_serve, base) = env.serve();
    let id = submit(&base, &env.claim(5), "NORMAL").await;
    let (status, _) = on_task(&base, reqwest::Method::DELETE, API_KEY, &id).await;
    assert_eq!(status, 200);
    let events = sse(&base, &id, None).await;
    assert_eq!(
        events.last().map(|e| e.1.as_str()),
        Some("cancelled"),
        "{events:?}"
    );
    let url = format!("{base}/v1/proofs/{id}/events");
    for bad in ["-", "abc", "1-2-3", "-1", "1-", "99999999999999999999999"] {
        let response = reqwest::Client::new()
            .get(&url)
            .bearer_auth(API_KEY)
            .header("last-event-id", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{bad:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "INVALID_INPUT", "{bad:?}: {body}");
    }
    // Resumed after the final event, or after an id past it: an empty stream that ends.
    let final_id = events.last().unwrap().0.clone();
    let (ms, _) = final_id.split_once('-').unwrap();
    let later = format!("{}-0", ms.parse::<u64>().unwrap() + 1);
    for after in [final_id.as_str(), later.as_str()] {
        let text = tokio::time::timeout(Duration::from_secs(10), async {
            reqwest::Client::new()
                .get(&url)
                .bearer_auth(API_KEY)
                .header("last-event-id", after)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
        .await
        .unwrap_or_else(|_| panic!("resumed after {after}: the stream did not end"));
        assert!(!text.contains("event:"), "{after}: {text}");
    }
    // Resumed before it: the events after that point, ending with the final one.
    let first = events[0].0.clone();
    let rest = sse(&base, &id, Some(&first)).await;
    assert_eq!(rest, events[1..].to_vec());
}

/// The task's view once it has ended (status succeeded, failed or cancelled).
async fn ended(base: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = task(base, id).await;
        if ["succeeded", "failed", "cancelled"].contains(&view["status"].as_str().unwrap()) {
            return view;
        }
        assert!(Instant::now() < deadline, "{id} did not end: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The dead letters: (task id, error).
fn dead_letters(env: &Env) -> Vec<(String, Value)> {
    let out = Command::new("redis-cli")
        .args([
            "-p",
            &env.redis_port.to_string(),
            "--raw",
            "xrange",
            "airprover:dead",
            "-",
            "+",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut letters = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if *line == "id" {
            let error = lines.iter().skip(i).position(|l| *l == "error").unwrap() + i;
            letters.push((
                lines[i + 1].to_string(),
                serde_json::from_str(lines[error + 1]).unwrap(),
            ));
        }
    }
    letters
}

/// The retry and dead-letter paths, driven by the worker's test-only fault hook (issue 29, item
/// 9): a task that fails retryably twice then succeeds (3 attempts, two `retry` events, one
/// result), one that always fails (out of tries after --max-deliveries attempts: failed, and one
/// dead letter with its last error), and an input error (failed at once, never retried, no dead
/// letter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "fault-hooks"),
    ignore = "needs the worker's fault hook: cargo test --features fault-hooks (make test sets it)"
)]
async fn failed_attempts_retry_with_backoff_then_succeed_or_go_to_the_dead_letters() {
    let env = Env::new("retries");
    let (_serve, base) = env.serve();

    let worker = env.worker_with("flaky", &[("AIRPROVER_TEST_FAULT", "retryable:2")]);
    let id = submit(&base, &env.claim(31), "NORMAL").await;
    let view = ended(&base, &id).await;
    assert_eq!(
        (view["status"].as_str(), view["attempts"].as_u64()),
        (Some("succeeded"), Some(3)),
        "{view}"
    );
    assert!(view["result"]["proof"].is_object(), "{view}");
    let events = sse(&base, &id, None).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "retry").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "succeeded").count(),
        1,
        "{kinds:?}"
    );
    drop(worker);

    let worker = env.worker_with("broken", &[("AIRPROVER_TEST_FAULT", "retryable:always")]);
    let id = submit(&base, &env.claim(32), "NORMAL").await;
    let view = ended(&base, &id).await;
    assert_eq!(
        (view["status"].as_str(), view["attempts"].as_u64()),
        (Some("failed"), Some(5)),
        "{view}"
    );
    assert_eq!(view["error"]["code"], "PROOF_FAILED", "{view}");
    let letters = dead_letters(&env);
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].0, id);
    assert_eq!(letters[0].1["code"], "PROOF_FAILED");
    assert!(
        letters[0].1["message"]
            .as_str()
            .unwrap()
            .contains("attempt 5"),
        "the last error: {letters:?}"
    );
    drop(worker);

    let _worker = env.worker_with("refusing", &[("AIRPROVER_TEST_FAULT", "input")]);
    let id = submit(&base, &env.claim(33), "NORMAL").await;
    let view = ended(&base, &id).await;
    assert_eq!(
        (view["status"].as_str(), view["attempts"].as_u64()),
        (Some("failed"), Some(1)),
        "{view}"
    );
    assert_eq!(view["error"]["code"], "INVALID_INPUT", "{view}");
    let kinds: Vec<String> = sse(&base, &id, None)
        .await
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert!(!kinds.iter().any(|k| k == "retry"), "{kinds:?}");
    assert_eq!(
        dead_letters(&env).len(),
        1,
        "an input error is no dead letter"
    );
    drop(_worker);

    // The operator's side (issue 29, item 13): list the letter (never its input), requeue it
    // as a new task, which a healthy worker proves; the letter is gone.
    let listed = cli_lines(&["dead-letters", "list", "--redis", &env.redis_url()]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["task"], json!(letters[0].0), "{listed:?}");
    assert_eq!(listed[0]["requeueable"], true, "{listed:?}");
    assert_eq!(listed[0]["error"]["code"], "PROOF_FAILED", "{listed:?}");
    assert!(listed[0].get("claim").is_none(), "{listed:?}");
    let letter = listed[0]["letter"].as_str().unwrap();
    let out = Command::new(bin())
        .args([
            "dead-letters",
            "requeue",
            "--redis",
            &env.redis_url(),
            letter,
        ])
        .args(env.worker_sealing())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let requeued = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_ne!(requeued, letters[0].0);
    let _worker = env.worker("healthy");
    let view = ended(&base, &requeued).await;
    assert_eq!(
        (view["status"].as_str(), view["attempts"].as_u64()),
        (Some("succeeded"), Some(1)),
        "{view}"
    );
    assert!(dead_letters(&env).is_empty(), "the requeued letter is gone");
    let again = Command::new(bin())
        .args([
            "dead-letters",
            "requeue",
            "--redis",
            &env.redis_url(),
            letter,
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("no dead letter"),
        "{again:?}"
    );
    let typo = Command::new(bin())
        .args([
            "dead-letters",
            "requeue",
            "--redis",
            &env.redis_url(),
            "latest",
        ])
        .output()
        .unwrap();
    assert_eq!(typo.status.code(), Some(2), "{typo:?}");
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("not a dead letter id"),
        "a typed input error, not Redis's: {typo:?}"
    );
}

/// Runs the CLI and reads its standard output as one JSON value a line.
fn cli_lines(args: &[&str]) -> Vec<Value> {
    let out = Command::new(bin()).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `redis-cli` on the test's Redis: its raw output.
fn redis_cli(env: &Env, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &env.redis_port.to_string(), "--raw"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn store(env: &Env) -> Tasks {
    let client = redis::Client::open(env.redis_url()).unwrap();
    let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    Tasks::new(manager, Keys::default())
}

/// Every write of a worker is fenced by (worker, attempt) (issue 29, item 7), on a crafted
/// Redis state: a task that worker A started (attempt 1) and whose lease ran out is started by
/// B (attempt 2); from then on A can neither refresh its lease, publish progress, retry, fail
/// nor store a result, and a third worker cannot start the task while B's lease lives. (Before:
/// `SETTLE` looked only at the status, so A's late result was stored while B ran, and `START`
/// took a running task from a live owner.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_lost_its_task_writes_nothing_for_it() {
    let env = Env::new("fencing");
    let (_serve, base) = env.serve();
    let tasks = store(&env).await;
    let id = submit(&base, &env.claim(41), "NORMAL").await;
    let now = airprover::service::now_ms();
    assert_eq!(
        tasks.start(&id, "A", now, 1000).await.unwrap(),
        Started::Attempt(1)
    );
    assert_eq!(
        tasks.start(&id, "B", now + 10, 1000).await.unwrap(),
        Started::Held,
        "A's lease lives"
    );
    // A went silent: its lease ran out.
    assert_eq!(
        tasks.start(&id, "B", now + 2000, 60_000).await.unwrap(),
        Started::Attempt(2)
    );
    assert_eq!(
        tasks.start(&id, "C", now + 2100, 1000).await.unwrap(),
        Started::Held,
        "B's lease lives"
    );
    let a = ("A", 1);
    let late = json!({ "proof": "A's", "publicSignals": [] });
    // Everything a refused write could touch, before: it must all be the same after.
    let keys = Keys::default();
    let snapshot = || {
        [
            redis_cli(&env, &["hgetall", &keys.task(&id)]),
            redis_cli(&env, &["xlen", &keys.task_events(&id)]),
            redis_cli(&env, &["zcard", &keys.delayed()]),
            redis_cli(&env, &["xlen", &keys.dead()]),
            redis_cli(
                &env,
                &[
                    "mget",
                    &keys.stat("failed"),
                    &keys.stat("succeeded"),
                    &keys.stat("retries"),
                ],
            ),
        ]
    };
    let before = snapshot();
    assert!(!tasks.refresh(&id, "A", 1, now + 99_000).await.unwrap());
    assert!(!tasks.progress(&id, a, "msm", 50, 10).await.unwrap());
    assert!(!tasks
        .retry_later(
            &id,
            a,
            Priority::Normal,
            &json!({"code": "PROOF_FAILED"}),
            0,
            now
        )
        .await
        .unwrap());
    let error = json!({"code": "PROOF_FAILED"});
    assert!(!tasks
        .settle(&id, "failed", &error, Some(a), true, 60, now)
        .await
        .unwrap());
    assert!(!tasks
        .settle(&id, "succeeded", &late, Some(a), false, 60, now)
        .await
        .unwrap());
    // A stale attempt of the right worker is refused too.
    assert!(!tasks
        .settle(&id, "succeeded", &late, Some(("B", 1)), false, 60, now)
        .await
        .unwrap());
    assert_eq!(snapshot(), before, "a refused write changed nothing");
    let view = task(&base, &id).await;
    assert_eq!(
        (
            view["status"].as_str(),
            view["worker"].as_str(),
            view["attempts"].as_u64()
        ),
        (Some("running"), Some("B"), Some(2)),
        "{view}"
    );
    assert!(dead_letters(&env).is_empty());
    let b = ("B", 2);
    assert!(tasks.refresh(&id, "B", 2, now + 99_000).await.unwrap());
    assert!(tasks.progress(&id, b, "msm", 50, 10).await.unwrap());
    let result = json!({ "proof": "B's", "publicSignals": [] });
    assert!(tasks
        .settle(&id, "succeeded", &result, Some(b), false, 60, now)
        .await
        .unwrap());
    let view = task(&base, &id).await;
    assert_eq!(view["result"]["proof"], "B's", "{view}");
    assert_eq!(
        tasks.start(&id, "C", now + 200_000, 1000).await.unwrap(),
        Started::Ended
    );
    // The queue entry: A read it, B took it over; A's acknowledgement (what a worker whose
    // write was refused sends) leaves it to B, and only B's deletes it.
    let mut redis = tasks.redis();
    let lease = Duration::ZERO;
    let queue_a = tasks.queue(Priority::Normal, "A", lease);
    let mut queue_b = tasks.queue(Priority::Normal, "B", lease);
    let entry = queue_a
        .read_new(&mut redis, 1, None)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(entry.id, id);
    let taken = queue_b.take_over(&mut redis, 1).await.unwrap();
    assert_eq!(taken, std::slice::from_ref(&entry));
    assert!(!queue_a.ack(&mut redis, &entry.entry).await.unwrap());
    assert!(!queue_a.refresh(&mut redis, &entry.entry).await.unwrap());
    let stream = Keys::default().tasks(Priority::Normal);
    assert_eq!(redis_cli(&env, &["xlen", &stream]), "1", "still B's");
    assert!(queue_b.ack(&mut redis, &entry.entry).await.unwrap());
    assert_eq!(
        redis_cli(&env, &["xlen", &stream]),
        "0",
        "acknowledged and deleted"
    );
}

/// An entry abandoned behind busy ones is taken over (issue 29, item 7): `XAUTOCLAIM` looks at
/// ten pending entries per entry asked for, so a worker that restarted it at `0-0` each time
/// never got past ten live entries to the dead one behind them; it now follows the cursor. Here
/// a consumer "ghost" holds eleven entries, keeps the first ten alive and abandons the last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_abandoned_behind_ten_live_ones_is_taken_over() {
    let env = Env::new("cursor");
    let (_serve, base) = env.serve();
    let mut ids = Vec::new();
    for campaign in 0..11 {
        ids.push(submit(&base, &env.claim(100 + campaign), "NORMAL").await);
    }
    let normal = || async {
        let (status, body, _) = call(
            reqwest::Method::GET,
            &format!("{base}/v1/queue"),
            Some(API_KEY),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["priorities"]["NORMAL"].clone()
    };
    assert_eq!(normal().await, json!({ "waiting": 11, "inFlight": 0 }));
    let stream = Keys::default().tasks(Priority::Normal);
    let read = redis_cli(
        &env,
        &[
            "xreadgroup",
            "group",
            "provers",
            "ghost",
            "count",
            "11",
            "streams",
            &stream,
            ">",
        ],
    );
    let entries: Vec<String> = read
        .lines()
        .filter(|l| l.contains('-') && l.chars().all(|c| c.is_ascii_digit() || c == '-'))
        .map(String::from)
        .collect();
    assert_eq!(entries.len(), 11, "{read}");
    assert_eq!(normal().await, json!({ "waiting": 0, "inFlight": 11 }));
    let (live, abandoned) = entries.split_at(10);
    let keep_alive = {
        let (port, stream, live) = (env.redis_port, stream.clone(), live.to_vec());
        tokio::spawn(async move {
            loop {
                let mut cmd = Command::new("redis-cli");
                cmd.args([
                    "-p",
                    &port.to_string(),
                    "xclaim",
                    &stream,
                    "provers",
                    "ghost",
                    "0",
                ]);
                cmd.args(&live).args(["justid"]).output().unwrap();
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _worker = env.worker("taker");
    let view = ended(&base, &ids[10]).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["worker"], "taker", "{view}");
    assert!(!abandoned.is_empty());
    for id in &ids[..10] {
        assert_eq!(
            task(&base, id).await["status"],
            "queued",
            "a live entry stays its owner's"
        );
    }
    keep_alive.abort();
}

/// A retry due is moved back to its queue in one step (issue 29, item 6): taking it out of the
/// delayed set and queueing it were two round trips, and a worker that died between them left
/// the task `queued` in neither, forever. Crafted state: what a retry leaves (the task queued,
/// its member due in the delayed set, its entry acknowledged); one `release_due` moves it and
/// a worker proves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_retry_is_requeued_in_one_step() {
    let env = Env::new("release");
    let (_serve, base) = env.serve();
    let tasks = store(&env).await;
    let id = submit(&base, &env.claim(51), "HIGH").await;
    let keys = Keys::default();
    let stream = keys.tasks(Priority::High);
    // The retry's state: no entry in the stream, the member due.
    redis_cli(&env, &["del", &stream]);
    redis_cli(
        &env,
        &["xgroup", "create", &stream, "provers", "0", "mkstream"],
    );
    redis_cli(&env, &["zadd", &keys.delayed(), "1", &format!("{id}|HIGH")]);
    // A dead letter from 1970 and one from now: the release drops the one past its TTL.
    redis_cli(&env, &["xadd", &keys.dead(), "1-0", "id", "old"]);
    redis_cli(&env, &["xadd", &keys.dead(), "*", "id", "new"]);
    assert_eq!(
        tasks
            .release_due(airprover::service::now_ms(), 3600)
            .await
            .unwrap(),
        1
    );
    assert_eq!(redis_cli(&env, &["zcard", &keys.delayed()]), "0");
    assert_eq!(
        redis_cli(&env, &["xlen", &keys.dead()]),
        "1",
        "a dead letter older than its TTL is dropped, a newer one kept"
    );
    assert_eq!(
        redis_cli(&env, &["xlen", &stream]),
        "1",
        "queued in the same step"
    );
    assert_eq!(
        tasks
            .release_due(airprover::service::now_ms(), 3600)
            .await
            .unwrap(),
        0
    );
    let _worker = env.worker("releaser");
    let view = ended(&base, &id).await;
    assert_eq!(
        (view["status"].as_str(), view["attempts"].as_u64()),
        (Some("succeeded"), Some(1)),
        "{view}"
    );
    assert_eq!(
        redis_cli(&env, &["xlen", &stream]),
        "0",
        "an acknowledged entry is deleted"
    );
}

/// A prover that stops making progress (issue 29, item 7): the worker keeps beating while it
/// proves (listed as busy with the task past its registry entry's 4 s life), and after
/// `--task-timeout` without progress gives the task back and exits with status 3; another
/// worker proves it (attempt 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "fault-hooks"),
    ignore = "needs the worker's fault hook: cargo test --features fault-hooks (make test sets it)"
)]
async fn a_hung_prover_gives_its_task_back_and_its_worker_exits() {
    let env = Env::new("hung");
    let (_serve, base) = env.serve();
    let mut hung = env.worker_with_args(
        "hung",
        &[("AIRPROVER_TEST_FAULT", "hang")],
        &["--task-timeout", "8"],
    );
    let id = submit(&base, &env.claim(61), "NORMAL").await;
    let started = Instant::now();
    while task(&base, &id).await["status"] != "running" {
        assert!(started.elapsed() < Duration::from_secs(20), "never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past the registry entry's life (3 beats of 1 s and a 1.5 s lease: 4 s) since the beat
    // before proving: still listed only if it beats while the prover hangs.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let (status, workers, _) = call(
        reqwest::Method::GET,
        &format!("{base}/v1/workers"),
        Some(API_KEY),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(workers["workers"][0]["id"], "hung", "{workers}");
    assert_eq!(workers["workers"][0]["busy"], json!(id), "{workers}");
    let exit = loop {
        if let Some(status) = hung.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "the hung worker did not exit"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(exit.code(), Some(3), "{exit:?}");
    let view = task(&base, &id).await;
    assert_eq!(view["status"], "queued", "{view}");
    let _worker = env.worker("healthy");
    let view = ended(&base, &id).await;
    assert_eq!(
        (
            view["status"].as_str(),
            view["attempts"].as_u64(),
            view["worker"].as_str()
        ),
        (Some("succeeded"), Some(2), Some("healthy")),
        "{view}"
    );
    let kinds: Vec<String> = sse(&base, &id, None)
        .await
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "retry").count(),
        1,
        "{kinds:?}"
    );
}

/// The WebSocket upgrade checks `Origin` against `--cors-origin` (issue 29, item 3): CORS does
/// not apply to WebSockets, so without this any site's page could open one. A listed origin
/// and a client that sends none (not a browser) are let in; any other origin gets `403
/// ORIGIN_NOT_ALLOWED`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_origins_are_checked_against_the_cors_list() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Error;
    let env = Env::new("ws-origin");
    let (_serve, base) = env.serve_with(&["--cors-origin", "https://app.example"]);
    let url = format!("{}/v1/ws", base.replace("http://", "ws://"));
    let open = |origin: Option<&'static str>| {
        let mut request = url.as_str().into_client_request().unwrap();
        if let Some(o) = origin {
            request.headers_mut().insert("origin", o.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    assert!(open(None).await.is_ok(), "no Origin: not a browser");
    assert!(
        open(Some("https://app.example")).await.is_ok(),
        "a listed origin"
    );
    for origin in ["https://evil.example", "http://app.example", "null"] {
        match open(Some(origin)).await {
            Err(Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 403, "{origin}");
                let body: Value =
                    serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
                assert_eq!(body["code"], "ORIGIN_NOT_ALLOWED", "{origin}");
            }
            other => panic!("{origin}: {other:?}"),
        }
    }
}

/// Runs the CLI (without blocking the runtime that serves the fake server below): (exit code,
/// stdout, stderr).
async fn cli(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = tokio::process::Command::new(bin())
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The signed message, written here from the README's format rather than taken from the crate,
/// so that a change of format fails this test.
fn signed_bytes(id: &str, circuit: &str, vk_sha256: &str, proof: &Value, public: &Value) -> String {
    use sha2::Digest;
    let sha = |v: &Value| hex::encode(sha2::Sha256::digest(v.to_string().as_bytes()));
    format!(
        "airprover-proof-v1\n{id}\n{circuit}\n{vk_sha256}\n{}\n{}",
        sha(proof),
        sha(public)
    )
}

/// Issue 29, item 17: `workers export-keys` pins the live workers' keys and `submit --keys
/// --worker-keys` accepts a result only when a pinned key signed exactly the task, the circuit,
/// the client's own verifying key, the proof and the public signals, and the proof verifies:
/// checked before anything is written. The forged answers come from a stand-in for a compromised
/// server (or Redis): it hands the CLI a genuine result of the real service, altered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_writes_only_results_signed_by_a_pinned_worker() {
    use ed25519_dalek::{Signer, SigningKey};
    use std::ffi::OsStr;
    use std::sync::{Arc, Mutex};

    let env = Env::new("signatures");
    let (_serve, base) = env.serve();
    let _worker = env.worker("signer");
    let dir = env.dir.clone();
    let keys = dir.join("keys");
    let workers_json = dir.join("workers.json");

    // Pin the worker once it has registered.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, out, err) = cli(&[
            OsStr::new("workers"),
            OsStr::new("export-keys"),
            OsStr::new("--redis"),
            OsStr::new(&env.redis_url()),
            OsStr::new("--out"),
            workers_json.as_os_str(),
        ])
        .await;
        if code == 0 {
            assert!(out.contains("1 worker key(s)"), "{out}");
            break;
        }
        assert!(
            err.starts_with("INVALID_INPUT: redis: no worker is alive"),
            "{err}"
        );
        assert!(Instant::now() < deadline, "the worker never registered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut seed = [0u8; 32];
    hex::decode_to_slice(
        std::fs::read_to_string(dir.join("signer/worker.key"))
            .unwrap()
            .trim(),
        &mut seed,
    )
    .unwrap();
    let signer = SigningKey::from_bytes(&seed);
    let public_key = hex::encode(signer.verifying_key().to_bytes());
    let pinned: Value =
        serde_json::from_str(&std::fs::read_to_string(&workers_json).unwrap()).unwrap();
    assert_eq!(
        pinned,
        json!({ "workers": [{ "id": "signer", "publicKey": public_key }] })
    );

    // The real service, end to end: proved, signed, checked, written.
    let write_claim = |n: u64| {
        let path = dir.join(format!("claim-{n}.json"));
        std::fs::write(&path, env.claim(n).to_string()).unwrap();
        path
    };
    let (proof_out, public_out) = (dir.join("proof.json"), dir.join("public.json"));
    let submit_args = |server: &str, claim: &PathBuf, worker_keys: &PathBuf, keys: &PathBuf| {
        [
            "submit",
            "--server",
            server,
            "--api-key",
            API_KEY,
            "--input",
            claim.to_str().unwrap(),
            "--proof",
            proof_out.to_str().unwrap(),
            "--public",
            public_out.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
            "--worker-keys",
            worker_keys.to_str().unwrap(),
        ]
        .map(String::from)
    };
    let run = |args: [String; 15]| async move {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        cli(&args).await
    };
    let claim_42 = write_claim(42);
    let (code, out, err) = run(submit_args(&base, &claim_42, &workers_json, &keys)).await;
    assert_eq!(code, 0, "{out}{err}");
    for path in [&proof_out, &public_out] {
        std::fs::remove_file(path).unwrap();
    }

    // A genuine result, and what the worker signed: the documented bytes.
    let claim_41 = write_claim(41);
    let id = submit(&base, &env.claim(41), "NORMAL").await;
    let view = ended(&base, &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let genuine = view["result"].clone();
    let vk_sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(
            std::fs::read(keys.join(format!("{CIRCUIT}.vk"))).unwrap(),
        ))
    };
    assert_eq!(genuine["vkSha256"], json!(vk_sha256));
    let message = signed_bytes(
        &id,
        CIRCUIT,
        &vk_sha256,
        &genuine["proof"],
        &genuine["publicSignals"],
    );
    assert_eq!(genuine["signed"], json!(message));
    assert_eq!(
        genuine["signature"],
        json!(hex::encode(signer.sign(message.as_bytes()).to_bytes()))
    );

    // The stand-in server: every claim is task `id`, already succeeded with `answer`.
    let answer = Arc::new(Mutex::new(Value::Null));
    let app = {
        use axum::routing::{get, post};
        let (answer, id) = (answer.clone(), id.clone());
        axum::Router::new()
            .route(
                "/v1/proofs",
                post(move || {
                    let id = id.clone();
                    async move {
                        (
                            axum::http::StatusCode::ACCEPTED,
                            axum::Json(json!({ "id": id, "status": "queued" })),
                        )
                    }
                }),
            )
            .route(
                "/v1/proofs/{id}",
                get(move || {
                    let result = answer.lock().unwrap().clone();
                    async move { axum::Json(json!({ "status": "succeeded", "result": result })) }
                }),
            )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let forger = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let sign = |text: &str| hex::encode(signer.sign(text.as_bytes()).to_bytes());
    let mut other_circuit_signed = genuine.clone();
    other_circuit_signed["signature"] = json!(sign(&signed_bytes(
        &id,
        "threshold-d4-k3",
        &vk_sha256,
        &genuine["proof"],
        &genuine["publicSignals"],
    )));
    let mut other_circuit_named = genuine.clone();
    other_circuit_named["circuit"] = json!("threshold-d4-k3");
    let mut altered_proof = genuine.clone();
    altered_proof["proof"]["pi_a"] = genuine["proof"]["pi_c"].clone();
    altered_proof["proof"]["pi_c"] = genuine["proof"]["pi_a"].clone();
    // A pinned worker that signs a proof that does not verify: the signature alone is not enough.
    let mut bad_proof_signed = altered_proof.clone();
    bad_proof_signed["signature"] = json!(sign(&signed_bytes(
        &id,
        CIRCUIT,
        &vk_sha256,
        &altered_proof["proof"],
        &genuine["publicSignals"],
    )));
    let mut server_says_signed = genuine.clone();
    server_says_signed["signed"] = json!("anything at all");

    // workers.json from another key (the same worker id).
    let stranger = dir.join("stranger-workers.json");
    let stranger_key = SigningKey::from_bytes(&[7u8; 32]);
    std::fs::write(
        &stranger,
        json!({ "workers": [{ "id": "signer", "publicKey": hex::encode(stranger_key.verifying_key().to_bytes()) }] })
            .to_string(),
    )
    .unwrap();
    // The client's keys from another setup of the same circuit: another verifying key.
    let other_keys = dir.join("other-keys");
    let (code, _, err) = cli(&[
        OsStr::new("setup"),
        OsStr::new("--circuit"),
        OsStr::new(CIRCUIT),
        OsStr::new("--seed"),
        OsStr::new("2"),
        OsStr::new("--out"),
        other_keys.as_os_str(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");

    let cases: Vec<(&str, &Value, &PathBuf, &PathBuf, Option<&str>)> = vec![
        (
            "genuine, from any server",
            &genuine,
            &workers_json,
            &keys,
            None,
        ),
        (
            "the server's signed text is not read",
            &server_says_signed,
            &workers_json,
            &keys,
            None,
        ),
        (
            "workers.json from another key",
            &genuine,
            &stranger,
            &keys,
            Some("UNKNOWN_WORKER"),
        ),
        (
            "signed for another circuit",
            &other_circuit_signed,
            &workers_json,
            &keys,
            Some("BAD_SIGNATURE"),
        ),
        (
            "named another circuit",
            &other_circuit_named,
            &workers_json,
            &keys,
            Some("VERIFY_FAILED"),
        ),
        (
            "altered proof",
            &altered_proof,
            &workers_json,
            &keys,
            Some("BAD_SIGNATURE"),
        ),
        (
            "a bad proof, signed",
            &bad_proof_signed,
            &workers_json,
            &keys,
            Some("VERIFY_FAILED"),
        ),
        (
            "another verifying key",
            &genuine,
            &workers_json,
            &other_keys,
            Some("BAD_SIGNATURE"),
        ),
    ];
    for (what, result, worker_keys, client_keys, refusal) in cases {
        *answer.lock().unwrap() = result.clone();
        let (code, out, err) = run(submit_args(&forger, &claim_41, worker_keys, client_keys)).await;
        match refusal {
            None => {
                assert_eq!(code, 0, "{what}: {out}{err}");
                let written: Value =
                    serde_json::from_str(&std::fs::read_to_string(&proof_out).unwrap()).unwrap();
                assert_eq!(written, genuine["proof"], "{what}");
                for path in [&proof_out, &public_out] {
                    std::fs::remove_file(path).unwrap();
                }
            }
            Some(expected) => {
                assert_eq!(code, 2, "{what}: {out}{err}");
                assert!(err.starts_with(&format!("{expected}: ")), "{what}: {err}");
                assert!(
                    !proof_out.exists() && !public_out.exists(),
                    "{what}: nothing written"
                );
            }
        }
    }
}

/// Connections open on the test's Redis (redis-cli's own included: the same in every count).
fn redis_connections(env: &Env) -> usize {
    redis_cli(env, &["client", "list"]).lines().count()
}

/// An SSE stream of a task held open (its body unread): the response, or the refusal's status,
/// code and Retry-After.
async fn open_sse(
    base: &str,
    key: &str,
    id: &str,
) -> Result<reqwest::Response, (u16, Value, String)> {
    let response = reqwest::Client::new()
        .get(format!("{base}/v1/proofs/{id}/events"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    Err((status, response.json().await.unwrap_or(Value::Null), retry))
}

/// A follower whose `Last-Event-ID` lies past the stream's newest entry cannot hold back the
/// others: the node's reader starts a stream where its first follower starts, and once started
/// from that made-up id, every later follower of the task on the node (its owner's other tabs,
/// an admin) got its backlog and then nothing until the idle limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resume_point_past_the_newest_event_holds_no_follower_back() {
    let env = Env::new("sse-future-id");
    let (_serve, base) = env.serve();
    let id = submit(&base, &env.claim(8), "NORMAL").await;
    let ahead = open_sse_from(&base, &id, "99999999999999-0").await;
    let everyone = {
        let (base, id) = (base.clone(), id.clone());
        tokio::spawn(async move { sse(&base, &id, None).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _worker = env.worker("w1");
    let events = tokio::time::timeout(Duration::from_secs(30), everyone)
        .await
        .expect("the second follower gets the task's live events")
        .unwrap();
    let stored: Vec<(String, String)> = read_events(&env, &id)
        .into_iter()
        .map(|(id, kind, _)| (id, kind))
        .collect();
    assert_eq!(events, stored);
    assert_eq!(events.last().unwrap().1, "succeeded");
    drop(ahead);
}

/// An SSE stream of `id` resumed from `last_id`, held open (its body unread).
async fn open_sse_from(base: &str, id: &str, last_id: &str) -> reqwest::Response {
    let response = reqwest::Client::new()
        .get(format!("{base}/v1/proofs/{id}/events"))
        .bearer_auth(API_KEY)
        .header("last-event-id", last_id)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

/// One reader per node (issue 29, item 12): 20 SSE followers of one task open no Redis
/// connection of their own (before, each held one, and redis-rs's 500 ms response timeout on
/// its `XREAD BLOCK` made it reconnect twice a second), and each gets every event of the task
/// in order, once; one that joins the live stream from the middle (`Last-Event-ID`) gets
/// exactly the rest, and so does one resumed from the middle after the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reader_per_node_fans_events_out_to_every_follower() {
    let env = Env::new("sse-fanout");
    let (_serve, base) = env.serve();
    let id = submit(&base, &env.claim(7), "NORMAL").await;
    let before = redis_connections(&env);
    let followers: Vec<_> = (0..20)
        .map(|_| {
            let (base, id) = (base.clone(), id.clone());
            tokio::spawn(async move { sse(&base, &id, None).await })
        })
        .collect();
    // Idle followers, sampled for 3 s: at most the node's one reader more.
    let mut most = 0;
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        most = most.max(redis_connections(&env));
    }
    eprintln!("redis connections: {before} before, at most {most} with 20 followers");
    assert!(
        most <= before + 2,
        "20 idle followers: {before} connections before, {most} with them"
    );
    // One more joins the live stream after the first event.
    let first = read_events(&env, &id)[0].0.clone();
    let late = {
        let (base, id, first) = (base.clone(), id.clone(), first.clone());
        tokio::spawn(async move { sse(&base, &id, Some(&first)).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _worker = env.worker("w1");
    assert_eq!(ended(&base, &id).await["status"], "succeeded");
    let stored: Vec<(String, String)> = read_events(&env, &id)
        .into_iter()
        .map(|(event_id, kind, _)| (event_id, kind))
        .collect();
    assert!(stored.len() >= 3, "{stored:?}");
    for follower in followers {
        assert_eq!(follower.await.unwrap(), stored);
    }
    assert_eq!(late.await.unwrap(), stored[1..].to_vec());
    let middle = stored.len() / 2;
    assert_eq!(
        sse(&base, &id, Some(&stored[middle].0)).await,
        stored[middle + 1..].to_vec()
    );
}

/// An event stream with no event for `--stream-idle-secs` is closed: an SSE stream ends (the
/// client resumes with Last-Event-ID), a WebSocket says IDLE and closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_is_closed() {
    let env = Env::new("sse-idle");
    let (_serve, base) = env.serve_with(&["--stream-idle-secs", "2"]);
    // No worker: the task stays queued, its stream silent after the first event.
    let id = submit(&base, &env.claim(8), "NORMAL").await;
    let started = Instant::now();
    let events = sse(&base, &id, None).await;
    let took = started.elapsed();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );

    let mut ws = Ws::open(&base).await;
    ws.send(json!({ "type": "auth", "apiKey": API_KEY })).await;
    assert_eq!(ws.recv().await["type"], "authenticated");
    ws.send(json!({ "type": "subscribe", "id": id })).await;
    let started = Instant::now();
    let mut last = json!(null);
    while last["code"] != "IDLE" {
        last = tokio::time::timeout(Duration::from_secs(10), ws.recv())
            .await
            .expect("an idle socket is told");
    }
    assert!(started.elapsed() >= Duration::from_secs(2));
    use futures_util::StreamExt;
    let close = tokio::time::timeout(Duration::from_secs(5), ws.0.next())
        .await
        .expect("then closed");
    assert!(
        matches!(
            close,
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) | None
        ),
        "{close:?}"
    );
}

/// A key holds at most `--max-streams-per-key` streams open on a node, SSE streams and
/// WebSocket subscriptions together: the next is `429 TOO_MANY_STREAMS` with Retry-After (on a
/// WebSocket, an error message), and a stream closed frees its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_are_capped_per_key() {
    let env = Env::new("sse-caps");
    let (_serve, base) = env.serve_with(&["--max-streams-per-key", "3"]);
    let id = submit(&base, &env.claim(9), "NORMAL").await;
    let mut open = Vec::new();
    for _ in 0..2 {
        open.push(open_sse(&base, API_KEY, &id).await.unwrap());
    }
    let mut ws = Ws::open(&base).await;
    ws.send(json!({ "type": "auth", "apiKey": API_KEY })).await;
    assert_eq!(ws.recv().await["type"], "authenticated");
    ws.send(json!({ "type": "subscribe", "id": id })).await;
    let mut subscribed = false;
    while !subscribed {
        subscribed = ws.recv().await["type"] == "subscribed";
    }
    let (status, body, retry) = open_sse(&base, API_KEY, &id).await.unwrap_err();
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("TOO_MANY_STREAMS")),
        "{body}"
    );
    assert!(retry.parse::<u64>().unwrap() > 0);
    // Another task's subscription on the socket: refused too.
    let other = submit(&base, &env.claim(10), "NORMAL").await;
    ws.send(json!({ "type": "subscribe", "id": other })).await;
    let mut refused = json!(null);
    while refused["type"] != "error" {
        refused = ws.recv().await;
    }
    assert_eq!(refused["code"], "TOO_MANY_STREAMS", "{refused}");
    // Closing an SSE stream frees its slot.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match open_sse(&base, API_KEY, &id).await {
            Ok(r) => {
                open.push(r);
                break;
            }
            Err((429, _, _)) => {}
            Err(e) => panic!("{e:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream's slot was not freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Unsubscribing frees one at once.
    ws.send(json!({ "type": "unsubscribe", "id": id })).await;
    let mut unsubscribed = json!(null);
    while unsubscribed["type"] != "unsubscribed" {
        unsubscribed = ws.recv().await;
    }
    ws.send(json!({ "type": "subscribe", "id": other })).await;
    let mut subscribed = json!(null);
    while subscribed["type"] != "subscribed" && subscribed["type"] != "error" {
        subscribed = ws.recv().await;
    }
    assert_eq!(subscribed["type"], "subscribed", "{subscribed}");
}

/// Every spelling of a claim's secret a file might hold: decimal (as in the canonical claim that
/// serve stores), hex with and without `0x` (as `sample` writes it; lower and upper case,
/// shortest and 64 digits) and the 32 bytes big- and little-endian.
fn secret_spellings(claim: &Value) -> Vec<(String, Vec<u8>)> {
    let given = claim["secret"].as_str().unwrap();
    let n = match given.strip_prefix("0x") {
        Some(hex) => num_bigint::BigUint::parse_bytes(hex.as_bytes(), 16).unwrap(),
        None => given.parse().unwrap(),
    };
    let decimal = n.to_str_radix(10);
    let short = n.to_str_radix(16);
    let long = format!("{short:0>64}");
    let mut be = n.to_bytes_be();
    while be.len() < 32 {
        be.insert(0, 0);
    }
    let mut le = be.clone();
    le.reverse();
    let mut out = vec![(format!("decimal {decimal}"), decimal.into_bytes())];
    for hex in [short, long] {
        for text in [hex.clone(), hex.to_uppercase()] {
            out.push((format!("hex {text}"), text.clone().into_bytes()));
            out.push((format!("0x{text}"), format!("0x{text}").into_bytes()));
        }
    }
    out.push(("32 bytes big-endian".into(), be));
    out.push(("32 bytes little-endian".into(), le));
    out
}

/// The files under Redis's directory (the append-only files in appendonlydir/, dump.rdb) that
/// hold any spelling of any of `claims`' secrets: `(file, spelling)`.
fn files_with_secrets(env: &Env, claims: &[&Value]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![env.dir.join("redis")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut found = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for claim in claims {
            for (spelling, needle) in secret_spellings(claim) {
                if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                    let name = file.strip_prefix(env.dir.join("redis")).unwrap();
                    found.push((name.display().to_string(), spelling));
                }
            }
        }
    }
    found
}

/// Issue 29, item 15: a claim's secret reaches none of Redis's files. A claim is proved, another
/// waits in the queue, Redis writes a snapshot; neither secret is in the append-only files or
/// the snapshot in any spelling, the stored input is a sealed `v1.` value and the dedupe index
/// is not the plain SHA-256 of the claim. A worker with another key fails the task
/// SEALING_KEY_UNKNOWN, leaving a dead letter that `dead-letters requeue --sealing-key` seals
/// again for a new task, which a worker with the key proves. The same look with
/// `serve --dev-unsealed` finds both secrets (in the AOF, the waiting one in the snapshot): the
/// search would see them. And serve refuses --api-keys without a sealing key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claims_secret_reaches_neither_the_append_only_file_nor_a_snapshot() {
    for sealed in [true, false] {
        let mut env = Env::new(if sealed { "sealed" } else { "unsealed" });
        if !sealed {
            env.sealing_key = None;
        }
        // Uncompressed, so that a secret stored in clear is found by a byte search (LZF could
        // hide it from the search, not from a reader of the file).
        redis_cli(&env, &["config", "set", "rdbcompression", "no"]);
        let (_serve, base) = env.serve();
        let proved = env.claim(151);
        let waiting = env.claim(152);
        let worker = env.worker("sealer");
        let id = submit(&base, &proved, "NORMAL").await;
        let view = ended(&base, &id).await;
        assert_eq!(view["status"], "succeeded", "{view}");
        drop(worker);
        let queued = submit(&base, &waiting, "NORMAL").await;
        let stored = redis_cli(
            &env,
            &["hget", &format!("airprover:task:{queued}"), "claim"],
        );
        let canonical = airprover::claim::Claim::from_value(&waiting)
            .unwrap()
            .to_canonical_json()
            .to_string();
        let plain_index = format!(
            "airprover:task-by-claim:{}",
            sha256_hex(&format!("tests\n{canonical}"))
        );
        let index = redis_cli(&env, &["keys", "airprover:task-by-claim:*"]);
        redis_cli(&env, &["save"]);
        let found = files_with_secrets(&env, &[&proved, &waiting]);
        if sealed {
            assert!(stored.starts_with("v1."), "{stored}");
            assert!(
                !index.is_empty() && !index.contains(&plain_index),
                "{index}"
            );
            assert!(found.is_empty(), "the secret in Redis's files: {found:?}");
        } else {
            assert_eq!(stored, canonical);
            assert_eq!(index, plain_index);
            let aof = |name: &str, spelling: &str| {
                found.iter().any(|(f, s)| {
                    f.starts_with("appendonlydir") && f.contains(name) && s == spelling
                })
            };
            let decimal = |claim: &Value| secret_spellings(claim)[0].0.clone();
            for claim in [&proved, &waiting] {
                let decimal = decimal(claim);
                assert!(aof(".aof", &decimal), "{decimal} not found: {found:?}");
            }
            let decimal = decimal(&waiting);
            assert!(
                found.iter().any(|(f, s)| f == "dump.rdb" && *s == decimal),
                "the waiting claim's secret not found in the snapshot: {found:?}"
            );
            continue;
        }

        // A worker holding another key: the task fails, not retried, its input never shown; a
        // dead letter keeps it for a requeue.
        let other = env.dir.join("other.key");
        let out = Command::new(bin())
            .args(["sealing-key", "new", "--out"])
            .arg(&other)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let ours = env.sealing_key.replace(other);
        let stranger = env.worker("stranger");
        env.sealing_key = ours;
        let view = ended(&base, &queued).await;
        drop(stranger);
        assert_eq!(
            (view["status"].as_str(), view["attempts"].as_u64()),
            (Some("failed"), Some(1)),
            "{view}"
        );
        assert_eq!(view["error"]["code"], "SEALING_KEY_UNKNOWN", "{view}");
        assert!(!view.to_string().contains(&stored[..20]), "{view}");
        let letters = cli_lines(&["dead-letters", "list", "--redis", &env.redis_url()]);
        assert_eq!(letters.len(), 1, "{letters:?}");
        let letter = letters[0]["letter"].as_str().unwrap();
        let requeue = |args: Vec<std::ffi::OsString>| {
            Command::new(bin())
                .args([
                    "dead-letters",
                    "requeue",
                    "--redis",
                    &env.redis_url(),
                    letter,
                ])
                .args(args)
                .output()
                .unwrap()
        };
        let out = requeue(vec![]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no --sealing-key"),
            "{out:?}"
        );
        let out = requeue(env.worker_sealing());
        assert!(out.status.success(), "{out:?}");
        let requeued = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let _worker = env.worker("sealer-2");
        let view = ended(&base, &requeued).await;
        assert_eq!(view["status"], "succeeded", "{view}");
        let found = files_with_secrets(&env, &[&proved, &waiting]);
        assert!(found.is_empty(), "the secret in Redis's files: {found:?}");

        // A real server (with API keys) seals, unless told it is a development one.
        let out = Command::new(bin())
            .args([
                "serve",
                "--redis",
                &env.redis_url(),
                "--listen",
                "127.0.0.1:1",
            ])
            .arg("--keys")
            .arg(env.dir.join("keys"))
            .arg("--api-keys")
            .arg(env.dir.join("api-keys.json"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("airprover sealing-key new"),
            "{out:?}"
        );
    }
}

/// Two deployments on one Redis, each under its own `--redis-prefix`: every key either writes is
/// under its prefix, a task of one is unknown to the other's serve, and only its own worker
/// proves it (issue 28, item 1).
#[tokio::test]
async fn deployments_under_two_prefixes_share_a_redis_and_see_nothing_of_each_other() {
    let env = Env::new("prefixes");
    let (_serve_a, base_a) = env.serve_with(&["--redis-prefix", "tenant-a"]);
    let (_serve_b, base_b) = env.serve_with(&["--redis-prefix", "tenant-b"]);
    let _worker_b = env.worker_with_args("worker-b", &[], &["--redis-prefix", "tenant-b"]);
    let id = submit(&base_a, &env.claim(7), "NORMAL").await;
    let (status, body) = on_task(&base_b, reqwest::Method::GET, API_KEY, &id).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("UNKNOWN_TASK")));
    // tenant-b's worker runs, yet tenant-a's task waits: nobody of its own has taken it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(task(&base_a, &id).await["status"], "queued");
    let _worker_a = env.worker_with_args("worker-a", &[], &["--redis-prefix", "tenant-a"]);
    assert_eq!(ended(&base_a, &id).await["status"], "succeeded");
    let keys = redis_cli(&env, &["--scan"]);
    assert!(keys.lines().count() > 3, "{keys}");
    for key in keys.lines() {
        assert!(
            key.starts_with("tenant-a:") || key.starts_with("tenant-b:"),
            "a key outside both prefixes: {key}"
        );
    }
    // A prefix that would split key names is refused at start, naming the flag.
    let out = Command::new(bin())
        .args(["workers", "export-keys", "--redis", &env.redis_url()])
        .args(["--redis-prefix", "a:b", "--out"])
        .arg(env.dir.join("w.json"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("INVALID_INPUT: redis-prefix"), "{err}");
}

/// A value that must never leave the task's input: not in an error, not in a log line.
const SECRET: &str = "987654321987654321987";

/// The stages of a task's progress events, in order.
fn progress_stages(env: &Env, id: &str) -> Vec<String> {
    read_events(env, id)
        .into_iter()
        .filter(|(_, kind, _)| kind == "progress")
        .map(|(_, _, data)| data["stage"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The public key (hex) a live worker registered with.
async fn worker_public_key(base: &str, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = format!("{base}/v1/workers");
        let (_, view, _) = call(reqwest::Method::GET, &url, Some(API_KEY), None).await;
        let found = view["workers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|w| w["id"] == id)
            .map(|w| w["publicKey"].as_str().unwrap().to_string());
        if let Some(key) = found {
            return key;
        }
        assert!(Instant::now() < deadline, "worker {id} never registered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// snarkjs's public signals of a fixture's input.
fn snarkjs_public(name: &str) -> Value {
    let f = common::circom::fixture(name);
    serde_json::from_str(&std::fs::read_to_string(&f.public).unwrap()).unwrap()
}

/// A succeeded circom task's result, checked: the fixture's circuit, the public signals
/// `public`, a proof that verifies with snarkjs's verifying key, and a signature by `public_key`
/// over the task, the circuit, `verification_key.json`'s SHA-256, the proof and the signals.
fn check_circom_result(view: &Value, id: &str, name: &str, public_key: &str, public: &Value) {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    let f = common::circom::fixture(name);
    assert_eq!(view["status"], "succeeded", "{name}: {view}");
    let r = &view["result"];
    assert_eq!(r["circuit"], name);
    assert_eq!(r["publicSignals"], *public, "{name}: the public signals");
    let vkey = std::fs::read(&f.vkey).unwrap();
    let vk =
        airprover::prover::export::verifying_key_from_json(std::str::from_utf8(&vkey).unwrap())
            .unwrap();
    let proof = airprover::prover::export::proof_from_json(&r["proof"].to_string()).unwrap();
    let signals =
        airprover::prover::export::public_from_json(&r["publicSignals"].to_string()).unwrap();
    assert!(
        airprover::prover::verify::verify(&vk, &signals, &proof).unwrap(),
        "{name}: the proof verifies with snarkjs's verification_key.json"
    );
    let vk_sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&vkey))
    };
    assert_eq!(r["vkSha256"], vk_sha256.as_str());
    let message = signed_bytes(id, name, &vk_sha256, &r["proof"], &r["publicSignals"]);
    assert_eq!(r["signed"], message.as_str());
    let mut key = [0u8; 32];
    hex::decode_to_slice(public_key, &mut key).unwrap();
    let mut signature = [0u8; 64];
    hex::decode_to_slice(r["signature"].as_str().unwrap(), &mut signature).unwrap();
    VerifyingKey::from_bytes(&key)
        .unwrap()
        .verify(message.as_bytes(), &Signature::from_bytes(&signature))
        .expect("signed by the worker");
}

/// Issue 30, item 7: workers prove the circom circuits their key directory lists (the witness
/// from circom's witness wasm, natively; the zkey converted once and cached), `POST /v1/proofs
/// { circuit, input }` beside the claim form, the same codes and events, the result signed; a
/// bad input fails by its signal's name (never its value, in the task, the logs or the answers),
/// a failed circom `assert` with circom's message; `submit --circuit` checks what it writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circom_tasks_are_proved_signed_and_refused_by_signal_name() {
    use std::ffi::OsStr;
    let env = Env::new("circom");
    env.add_circom(&["multi", "arrays", "assert"]);
    let (_serve, base) = env.serve();
    let _worker = env.worker("c1");
    let public_key = worker_public_key(&base, "c1").await;
    let (_, workers, _) = call(
        reqwest::Method::GET,
        &format!("{base}/v1/workers"),
        Some(API_KEY),
        None,
    )
    .await;
    assert_eq!(
        workers["workers"][0]["circuits"],
        json!(["arrays", "assert", "multi", CIRCUIT]),
        "{workers}"
    );

    let read_input = |name: &str| -> Value {
        let f = common::circom::fixture(name);
        serde_json::from_str(&std::fs::read_to_string(f.input).unwrap()).unwrap()
    };
    for name in ["multi", "arrays"] {
        let id = submit_circom(&base, name, &read_input(name)).await;
        let view = ended(&base, &id).await;
        check_circom_result(&view, &id, name, &public_key, &snarkjs_public(name));
        // The first task of a circuit converted its zkey (the stages after it pass too quickly
        // on these small circuits to be published: the test below sees them).
        let stages = progress_stages(&env, &id);
        assert_eq!(
            stages.first().map(String::as_str),
            Some("convert"),
            "{stages:?}"
        );
    }
    // Once ended, the same input again is a new task, proved with the key the worker keeps.
    let again = submit_circom(&base, "multi", &read_input("multi")).await;
    let view = ended(&base, &again).await;
    check_circom_result(
        &view,
        &again,
        "multi",
        &public_key,
        &snarkjs_public("multi"),
    );
    assert!(env
        .logs()
        .contains("zkey converted (every point checked), cached in"));

    // Refused at once, by the field at fault, nothing stored.
    let mut over_p = read_input("multi");
    over_p["secret"][1] =
        json!("21888242871839275222246405745257275088548364400416034343698204186575808495617");
    over_p["offset"] = json!(SECRET);
    let keys_before = task_keys(&env);
    for (body, code, names) in [
        (
            json!({ "circuit": "multi", "input": over_p }),
            "INVALID_INPUT",
            "secret[1]",
        ),
        (
            json!({ "circuit": "nosuch", "input": {} }),
            "UNKNOWN_CIRCUIT",
            "nosuch",
        ),
        (
            json!({ "circuit": CIRCUIT, "input": {} }),
            "UNKNOWN_CIRCUIT",
            CIRCUIT,
        ),
        (
            json!({ "circuit": "multi", "input": [SECRET] }),
            "INVALID_INPUT",
            "input",
        ),
        (json!({ "circuit": "multi" }), "INVALID_INPUT", "input"),
        (
            json!({ "input": { "x": SECRET } }),
            "INVALID_INPUT",
            "circuit",
        ),
        (
            json!({ "claim": env.claim(1), "circuit": "multi", "input": {} }),
            "INVALID_INPUT",
            "not both",
        ),
        (
            json!({ "circuit": 7, "input": {} }),
            "INVALID_INPUT",
            "circuit",
        ),
    ] {
        let url = format!("{base}/v1/proofs");
        let (status, answer, _) = call(
            reqwest::Method::POST,
            &url,
            Some(API_KEY),
            Some(body.to_string()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["code"], code, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(names), "{body}: {message}");
        assert!(!message.contains(SECRET), "{body}: {message}");
    }
    assert_eq!(task_keys(&env), keys_before, "nothing stored");

    // Failed on the worker (the circuit's signals are its witness wasm's to check), by name.
    let mut unknown = read_input("multi");
    unknown["nosuch"] = json!(SECRET);
    let mut short = read_input("multi");
    short["secret"] = json!([SECRET]);
    let mut missing = read_input("multi");
    missing.as_object_mut().unwrap().remove("secret");
    missing["offset"] = json!(SECRET);
    for (input, names) in [
        (unknown, "nosuch"),
        (short, "secret"),
        (missing, "input value"),
    ] {
        let id = submit_circom(&base, "multi", &input).await;
        let view = ended(&base, &id).await;
        assert_eq!(view["status"], "failed", "{view}");
        assert_eq!(view["error"]["code"], "INVALID_INPUT", "{view}");
        let message = view["error"]["message"].as_str().unwrap();
        assert!(message.contains(names), "{message}");
        assert_eq!(
            view["attempts"], 1,
            "an input error is never retried: {view}"
        );
        assert!(!view.to_string().contains(SECRET), "{view}");
    }
    // circom's assert: WITNESS_FAILED with circom's own message (template and line).
    let id = submit_circom(&base, "assert", &json!({ "x": 0 })).await;
    let view = ended(&base, &id).await;
    assert_eq!(view["error"]["code"], "WITNESS_FAILED", "{view}");
    let message = view["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Assert Failed") && message.contains("line"),
        "{message}"
    );

    // `submit --circuit`: the result checked against the public signals the witness wasm gives
    // here, snarkjs's verifying key in the key directory and the pinned worker, then written.
    let dir = env.dir.clone();
    let workers_json = dir.join("workers.json");
    std::fs::write(
        &workers_json,
        json!({ "workers": [{ "id": "c1", "publicKey": public_key }] }).to_string(),
    )
    .unwrap();
    let f = common::circom::fixture("arrays");
    let (proof_out, public_out) = (dir.join("c-proof.json"), dir.join("c-public.json"));
    let (code, out, err) = cli(&[
        OsStr::new("submit"),
        OsStr::new("--server"),
        OsStr::new(&base),
        OsStr::new("--api-key"),
        OsStr::new(API_KEY),
        OsStr::new("--circuit"),
        OsStr::new("arrays"),
        OsStr::new("--input"),
        f.input.as_os_str(),
        OsStr::new("--proof"),
        proof_out.as_os_str(),
        OsStr::new("--public"),
        public_out.as_os_str(),
        OsStr::new("--keys"),
        dir.join("keys").as_os_str(),
        OsStr::new("--worker-keys"),
        workers_json.as_os_str(),
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&public_out).unwrap()).unwrap();
    let snarkjs: Value =
        serde_json::from_str(&std::fs::read_to_string(&f.public).unwrap()).unwrap();
    assert_eq!(written, snarkjs);
    let (code, _, _) = cli(&[
        OsStr::new("verify"),
        OsStr::new("--vkey"),
        f.vkey.as_os_str(),
        OsStr::new("--proof"),
        proof_out.as_os_str(),
        OsStr::new("--public"),
        public_out.as_os_str(),
    ])
    .await;
    assert_eq!(code, 0);
    // A bad input is refused by submit itself, before anything leaves.
    let bad = dir.join("bad-input.json");
    std::fs::write(&bad, json!({ "a": [SECRET, "-"] }).to_string()).unwrap();
    let (code, _, err) = cli(&[
        OsStr::new("submit"),
        OsStr::new("--server"),
        OsStr::new(&base),
        OsStr::new("--api-key"),
        OsStr::new(API_KEY),
        OsStr::new("--circuit"),
        OsStr::new("arrays"),
        OsStr::new("--input"),
        bad.as_os_str(),
        OsStr::new("--proof"),
        proof_out.as_os_str(),
        OsStr::new("--public"),
        public_out.as_os_str(),
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("INVALID_INPUT: a[1]"), "{err}");

    // No log line of serve or the worker holds a secret input.
    let logs = env.logs();
    assert!(logs.contains("task failed"), "the worker's log is read");
    assert!(!logs.contains(SECRET), "a secret input in the logs");
}

/// `--max-body-bytes` (issue 30, item 7): a body over the node's limit is `413 BODY_TOO_LARGE`
/// naming the limit; a node with a larger limit takes it (a circom input of 600 KiB, over the
/// default 512 KiB, is proved); the limit is range-checked at start and read from the config
/// file too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_body_limit_is_a_flag() {
    let env = Env::new("body-limit");
    env.add_circom(&["multi"]);
    let (_small, small) = env.serve_with(&["--max-body-bytes", "2048"]);
    let (_default, default) = env.serve();
    let (_large, large) = env.serve_with(&["--max-body-bytes", "1048576"]);
    let f = common::circom::fixture("multi");
    let input: Value = serde_json::from_str(&std::fs::read_to_string(&f.input).unwrap()).unwrap();
    // Valid JSON of 600 KiB: the input, spaced out.
    let padded = format!(
        "{{ \"circuit\": \"multi\",{} \"input\": {input} }}",
        " ".repeat(600 << 10)
    );
    let medium = format!(
        "{{ \"circuit\": \"multi\",{} \"input\": {input} }}",
        " ".repeat(3000)
    );
    for (base, body, limit) in [(&small, &medium, 2048), (&default, &padded, 512 << 10)] {
        let url = format!("{base}/v1/proofs");
        let (status, answer, _) = call(
            reqwest::Method::POST,
            &url,
            Some(API_KEY),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 413, "{answer}");
        assert_eq!(answer["code"], "BODY_TOO_LARGE");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains(&limit.to_string()),
            "{answer}"
        );
    }
    let url = format!("{large}/v1/proofs");
    let (status, answer, _) = call(
        reqwest::Method::POST,
        &url,
        Some(API_KEY),
        Some(padded.clone()),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["id"].as_str().unwrap().to_string();
    let _worker = env.worker("b1");
    let public_key = worker_public_key(&large, "b1").await;
    let view = ended(&large, &id).await;
    check_circom_result(&view, &id, "multi", &public_key, &snarkjs_public("multi"));

    // Out of range: refused at start, naming the flag; the config file's key is read.
    let serve = |extra: &[&str]| {
        Command::new(bin())
            .args([
                "serve",
                "--check-config",
                "--dev-unsealed",
                "--redis",
                &env.redis_url(),
            ])
            .arg("--keys")
            .arg(env.dir.join("keys"))
            .args(extra)
            .output()
            .unwrap()
    };
    for bad in ["100", "999999999"] {
        let out = serve(&["--max-body-bytes", bad]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("INVALID_INPUT: max-body-bytes"), "{err}");
    }
    let config = env.dir.join("airprover.toml");
    std::fs::write(&config, "[serve]\nmax-body-bytes = 4096\n").unwrap();
    let out = serve(&["--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("max body bytes: 4096"),
        "{out:?}"
    );
}

/// A worker SIGKILLed while it proves a circom task (the bench's circom claim circuit, ~2^16
/// constraints, on one thread): its tasks are taken over by another worker once its lease
/// lapses, and each ends exactly once, succeeded, with a proof that verifies. The killed worker
/// converted the zkey and cached its key; the next one reads it from the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_circom_task_leaves_each_task_ending_once() {
    let env = Env::new("circom-kill");
    env.add_circom(&["claim-d20-k8"]);
    let (_serve, base) = env.serve();
    let f = common::circom::fixture("claim-d20-k8");
    let input: Value = serde_json::from_str(&std::fs::read_to_string(&f.input).unwrap()).unwrap();
    // Three claimants (any 160-bit number): three inputs, three tasks; the claimant is the
    // third public signal.
    let mut ids = Vec::new();
    let mut publics = HashMap::new();
    for (claimant, priority) in [(11u64, "HIGH"), (12, "NORMAL"), (13, "LOW")] {
        let mut input = input.clone();
        input["claimant"] = json!(claimant.to_string());
        let mut public = snarkjs_public("claim-d20-k8");
        public[2] = json!(claimant.to_string());
        let body = json!({ "circuit": "claim-d20-k8", "input": input, "priority": priority });
        let url = format!("{base}/v1/proofs");
        let (status, answer, _) = call(
            reqwest::Method::POST,
            &url,
            Some(API_KEY),
            Some(body.to_string()),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        let id = answer["id"].as_str().unwrap().to_string();
        publics.insert(id.clone(), public);
        ids.push(id);
    }
    let mut first = env.worker("k1");
    // Killed once a task is in its MSMs: well inside the proof.
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed_in = 'found: loop {
        for id in &ids {
            let view = task(&base, id).await;
            if view["status"] == "running"
                && view["stage"].as_str().is_some_and(|s| s.starts_with("msm"))
            {
                break 'found id.clone();
            }
            assert_ne!(
                view["status"], "succeeded",
                "{id} ended before the kill: {view}"
            );
        }
        assert!(Instant::now() < deadline, "no task reached its MSMs");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    first.kill9();
    let _second = env.worker("k2");
    let public_key = worker_public_key(&base, "k2").await;
    for id in &ids {
        let view = ended(&base, id).await;
        check_circom_result(&view, id, "claim-d20-k8", &public_key, &publics[id]);
        assert_eq!(view["worker"], "k2", "{view}");
        let events = read_events(&env, id);
        let ends = events
            .iter()
            .filter(|(_, kind, _)| ["succeeded", "failed", "cancelled"].contains(&kind.as_str()))
            .count();
        assert_eq!(ends, 1, "{id}: {ends} final events");
        if *id == killed_in {
            assert_eq!(view["attempts"], 2, "taken over: {view}");
        }
        // The witness, then the prover's stages, as for a claim.
        let stages = progress_stages(&env, id);
        let witness = stages.iter().position(|s| s == "witness");
        let msm = stages.iter().position(|s| s.starts_with("msm"));
        assert!(
            witness.is_some() && msm.is_some() && witness < msm,
            "{id}: {stages:?}"
        );
    }
    let k2 = std::fs::read_to_string(env.dir.join("k2.log")).unwrap();
    assert!(k2.contains("converted key read from the cache"), "{k2}");
}
