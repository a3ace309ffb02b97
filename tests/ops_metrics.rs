//! The operator's kit as it runs: Debian's redis-server, `airprover serve` and `airprover worker`
//! processes. Metrics (per process, by matched route; the cluster's from Redis, a Redis outage an
//! error and never a 0), liveness and readiness of serve and a worker (`--health-listen`), the
//! scaling signal under a synthetic load, and SIGTERM (streams told to reconnect, exit 0 within
//! the drain bound). Development keys (setup --seed 1).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use airprover::service::scaling::{recommend, Inputs};
use serde_json::{json, Value};

use common::{
    bin, dev_keys, free_port, http, redis_server, sample_claim, sealing_key, sha256_hex, wait_port,
    write_private, Proc,
};

const CIRCUIT: &str = "threshold-d4-k2";
const ADMIN: &str = "ops-admin-0123456789abcdef";
const TENANT: &str = "ops-tenant-0123456789abcdef";

struct Env {
    dir: PathBuf,
    redis_port: u16,
    redis: Option<Proc>,
}

impl Env {
    fn new(name: &str) -> Env {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ops-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("redis")).unwrap();
        dev_keys(CIRCUIT, &dir.join("keys"));
        write_private(
            &dir.join("api-keys.json"),
            &json!({ "keys": [
                { "name": "admin", "keySha256": sha256_hex(ADMIN), "role": "admin",
                  "maxActive": 1000, "perMinute": 100000 },
                { "name": "tenant", "keySha256": sha256_hex(TENANT),
                  "maxActive": 1000, "perMinute": 100000 },
            ]})
            .to_string(),
        );
        sealing_key(&dir.join("sealing.key"));
        sample_claim(CIRCUIT, &dir.join("claim.json"));
        let mut env = Env {
            dir,
            redis_port: free_port(),
            redis: None,
        };
        env.start_redis();
        env
    }

    fn start_redis(&mut self) {
        let redis = redis_server(self.redis_port, &self.dir.join("redis"), &[]);
        self.redis = Some(redis);
    }

    fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.redis_port)
    }

    fn serve(&self) -> (Proc, String) {
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
            .arg("--sealing-key")
            .arg(self.dir.join("sealing.key"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_port(port);
        (Proc(child), format!("http://127.0.0.1:{port}"))
    }

    /// A worker (one proving thread) with its probes on a port of its own.
    fn worker(&self, name: &str) -> (Proc, String) {
        let port = free_port();
        let child = Command::new(bin())
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
                "--health-listen",
                &format!("127.0.0.1:{port}"),
                "--keys",
            ])
            .arg(self.dir.join("keys"))
            .arg("--state")
            .arg(self.dir.join(name))
            .arg("--sealing-key")
            .arg(self.dir.join("sealing.key"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_port(port);
        (Proc(child), format!("http://127.0.0.1:{port}"))
    }

    /// The sample claim for campaign `n`: another campaign, another task.
    fn claim(&self, n: u64) -> Value {
        let text = std::fs::read_to_string(self.dir.join("claim.json")).unwrap();
        let mut claim: Value = serde_json::from_str(&text).unwrap();
        claim["campaignId"] = json!(n.to_string());
        claim
    }
}

/// `GET url` with `key`: status and body (JSON, or `{ text }`).
async fn get(url: &str, key: Option<&str>) -> (u16, Value) {
    let mut request = http().get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(json!({ "text": text })),
    )
}

async fn submit(base: &str, claim: &Value) -> String {
    let response = http()
        .post(format!("{base}/v1/proofs"))
        .bearer_auth(ADMIN)
        .json(&json!({ "claim": claim }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn wait_status(base: &str, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, task) = get(&format!("{base}/v1/proofs/{id}"), Some(ADMIN)).await;
        if task["status"] == want {
            return;
        }
        assert!(Instant::now() < deadline, "{id}: {task}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the series `line` (name and labels, exactly as rendered) in Prometheus text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

async fn scrape(base: &str) -> String {
    let response = http()
        .get(format!("{base}/metrics"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.unwrap()
}

/// An open SSE stream's response, read chunk by chunk until `want` (an `event:` type) arrives:
/// the text read.
async fn read_until(response: &mut reqwest::Response, want: &str) -> String {
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !text.contains(&format!("event: {want}\n")) {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {want} event in {text:?}"))
            .unwrap();
        match chunk {
            Some(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            None => panic!("the stream ended without a {want} event: {text:?}"),
        }
    }
    text
}

async fn open_sse(base: &str, id: &str) -> reqwest::Response {
    let response = http()
        .get(format!("{base}/v1/proofs/{id}/events"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response
}

/// Requests are counted by their matched route (never the task id), with a latency histogram;
/// open streams are a gauge; the build is a line; a worker's `--health-listen` answers its own
/// numbers. Liveness stays up while Redis is down; readiness and the cluster's numbers say 503
/// (never a 0), and the Redis errors are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_readiness_of_serve_and_a_worker() {
    let mut env = Env::new("metrics");
    let (_serve, base) = env.serve();

    let (status, body) = get(&format!("{base}/health"), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("ok")),
        "{body}"
    );
    let (status, ready) = get(&format!("{base}/ready"), None).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["parts"]["redis"]["status"], "ok");
    assert_eq!(ready["parts"]["apiKeys"]["keys"], 2);
    assert_eq!(ready["routes"]["proofs"], "ready");
    assert_eq!(
        ready["routes"]["claims"], "none",
        "no campaigns: no claim routes"
    );

    // /metrics is the admins'.
    let (status, body) = get(&format!("{base}/metrics"), Some(TENANT)).await;
    assert_eq!(status, 403, "{body}");

    // A queued task's stream stays open (no worker yet): one open SSE stream.
    let id = submit(&base, &env.claim(1)).await;
    let mut stream = open_sse(&base, &id).await;
    read_until(&mut stream, "status").await;
    let text = scrape(&base).await;
    assert_eq!(
        sample(&text, "airprover_open_streams{kind=\"sse\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "airprover_build_info{version=\"0.1.0\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "airprover_redis_errors_total{process=\"serve\"}"),
        Some(0.0)
    );

    let (_worker, probes) = env.worker("w1");
    let (status, ready) = get(&format!("{probes}/ready"), None).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["parts"]["redis"]["status"], "ok");
    assert_eq!(ready["parts"]["keys"]["circuits"], json!([CIRCUIT]));
    read_until(&mut stream, "succeeded").await;
    drop(stream);
    for _ in 0..3 {
        let (status, _) = get(&format!("{base}/v1/proofs/{id}"), Some(ADMIN)).await;
        assert_eq!(status, 200);
    }
    let (status, _) = get(&format!("{base}/no/such/path/{id}"), None).await;
    assert_eq!(status, 404);
    // The stream's end reaches the gauge once its response is dropped on the server's side.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = scrape(&base).await;
        if sample(&text, "airprover_open_streams{kind=\"sse\"}") == Some(0.0) {
            break text;
        }
        assert!(Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let polls = sample(
        &text,
        "airprover_http_requests_total{route=\"/v1/proofs/{id}\",method=\"GET\",status=\"200\"}",
    )
    .unwrap_or_else(|| panic!("{text}"));
    assert!(polls >= 3.0, "{polls}");
    assert!(
        sample(
            &text,
            "airprover_http_request_duration_seconds_count{route=\"/v1/proofs/{id}\",method=\"GET\"}"
        )
        .is_some_and(|n| n >= polls),
        "{text}"
    );
    assert!(
        text.contains("airprover_http_request_duration_seconds_bucket{route=\"/v1/proofs/{id}\",method=\"GET\",le=\"0.005\"}"),
        "a histogram, not a summary: {text}"
    );
    assert_eq!(
        sample(
            &text,
            "airprover_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains(&id), "a task id in a label: {text}");
    // The cluster's numbers from Redis, beside the node's.
    assert_eq!(sample(&text, "airprover_tasks_succeeded_total"), Some(1.0));
    assert!(text.contains("airprover_recommended_workers "), "{text}");

    // The worker counts a proof once its result is stored, after the task's end is visible to
    // serve: read until it has (or 10 s).
    let proofs = format!("airprover_worker_proofs_total{{circuit=\"{CIRCUIT}\"}}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let worker_text = loop {
        let (status, answer) = get(&format!("{probes}/metrics"), None).await;
        assert_eq!(status, 200);
        let text = answer["text"].as_str().unwrap().to_string();
        if sample(&text, &proofs).is_some() || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        sample(
            &worker_text,
            &format!("airprover_worker_proofs_total{{circuit=\"{CIRCUIT}\"}}")
        ),
        Some(1.0),
        "{worker_text}"
    );
    assert_eq!(
        sample(&worker_text, "airprover_build_info{version=\"0.1.0\"}"),
        Some(1.0)
    );

    // Redis down: live yes, ready no, and no made-up numbers.
    env.redis.take();
    let (status, body) = get(&format!("{base}/health"), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, ready) = get(&format!("{base}/ready"), None).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["code"], "NOT_READY");
    assert_eq!(ready["parts"]["redis"]["status"], "down");
    assert_eq!(ready["parts"]["redis"]["code"], "STORAGE_UNAVAILABLE");
    assert_eq!(ready["parts"]["apiKeys"]["status"], "ok");
    let (status, body) = get(&format!("{base}/metrics"), Some(ADMIN)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("STORAGE_UNAVAILABLE")),
        "{body}"
    );
    let (status, ready) = get(&format!("{probes}/ready"), None).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["parts"]["redis"]["status"], "down");
    let (status, _) = get(&format!("{probes}/health"), None).await;
    assert_eq!(status, 200);

    // Back: ready again, and the errors were counted.
    env.start_redis();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, ready) = get(&format!("{base}/ready"), None).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "{ready}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let text = scrape(&base).await;
    assert!(
        sample(&text, "airprover_redis_errors_total{process=\"serve\"}").is_some_and(|n| n >= 2.0),
        "{text}"
    );
}

/// `recommendedWorkers` under a synthetic load against one real worker: 0 while idle; under a
/// load above what one worker proves, at least Little's law's share of the known rate, and what
/// the pure function makes of the inputs reported beside it; once the backlog is proved, the
/// backlog's share is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scaling_signal_follows_a_synthetic_load() {
    let env = Env::new("scaling");
    let (_serve, base) = env.serve();
    let queue = || async {
        let (status, body) = get(&format!("{base}/v1/queue"), Some(ADMIN)).await;
        assert_eq!(status, 200, "{body}");
        body
    };
    let idle_at = Instant::now();
    let idle = queue().await;
    assert_eq!(idle["recommendedWorkers"], 0, "{idle}");
    let (_worker, _) = env.worker("w1");

    // A first proof measures the proving time.
    let first = submit(&base, &env.claim(1000)).await;
    wait_status(&base, &first, "succeeded").await;

    // RATE tasks a second for SECONDS seconds.
    const RATE: u64 = 6;
    const SECONDS: u64 = 4;
    let started = Instant::now();
    let mut ids = Vec::new();
    for n in 0..RATE * SECONDS {
        let due = Duration::from_millis(n * 1000 / RATE);
        tokio::time::sleep(due.saturating_sub(started.elapsed())).await;
        ids.push(submit(&base, &env.claim(n)).await);
    }
    let loaded = queue().await;
    let signal = &loaded["scaling"];
    let inputs = Inputs {
        arrivals_per_s: signal["arrivalsPerSecond"].as_f64().unwrap(),
        service_s: signal["provingSeconds"].as_f64(),
        waiting: signal["waiting"].as_u64().unwrap(),
        target_wait: Duration::from_secs_f64(signal["targetWaitSeconds"].as_f64().unwrap()),
    };
    let service = inputs
        .service_s
        .expect("a proving time once a proof was made");
    assert!(service > 0.0 && service < 30.0, "{loaded}");
    // The rate is measured over the samples since the idle read (the first one): the tasks
    // submitted since, over at least that span and at most the load's.
    let submitted = (RATE * SECONDS + 1) as f64;
    let slowest = submitted / idle_at.elapsed().as_secs_f64();
    let fastest = submitted / (SECONDS - 1) as f64;
    assert!(
        inputs.arrivals_per_s >= slowest * 0.9 && inputs.arrivals_per_s <= fastest,
        "{loaded}: between {slowest} and {fastest}"
    );
    let peak = loaded["recommendedWorkers"].as_u64().unwrap();
    assert_eq!(peak, recommend(&inputs), "{loaded}");
    let littles_law = ((slowest * 0.9 * service).ceil() as u64).max(1);
    assert!(peak >= littles_law, "{loaded}");
    // The gauge says the same as the route.
    let text = scrape(&base).await;
    let gauge = sample(&text, "airprover_recommended_workers").unwrap();
    assert!(gauge >= littles_law as f64, "{text}");

    // Once the backlog is proved only the arrivals' share is left (and it falls with the rate).
    for id in &ids {
        wait_status(&base, id, "succeeded").await;
    }
    let drained = queue().await;
    assert_eq!(drained["scaling"]["waiting"], 0, "{drained}");
    let after = drained["recommendedWorkers"].as_u64().unwrap();
    let arrivals = drained["scaling"]["arrivalsPerSecond"].as_f64().unwrap();
    let service = drained["scaling"]["provingSeconds"].as_f64().unwrap();
    assert_eq!(
        after,
        (arrivals * service - 1e-9).ceil().max(0.0) as u64,
        "{drained}"
    );
    assert!(arrivals < inputs.arrivals_per_s, "{drained} after {loaded}");
    assert!(after <= peak, "{drained} after {loaded}");
}

/// SIGTERM to serve: an SSE stream and a WebSocket get a final `reconnect`, and the process exits
/// 0 well within the drain bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_tells_streams_to_reconnect_and_serve_exits_zero() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let env = Env::new("sigterm");
    let (mut serve, base) = env.serve();
    let id = submit(&base, &env.claim(7)).await;
    let mut stream = open_sse(&base, &id).await;
    read_until(&mut stream, "status").await;

    let url = format!("{}/v1/ws", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(json!({ "type": "auth", "apiKey": ADMIN })))
        .await
        .unwrap();
    ws.send(send(json!({ "type": "subscribe", "id": id })))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while !seen.iter().any(|m: &Value| m["type"] == "event") {
        if let Some(Ok(Message::Text(t))) = ws.next().await {
            seen.push(serde_json::from_str(&t).unwrap());
        }
    }

    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &serve.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let text = read_until(&mut stream, "reconnect").await;
    assert!(text.contains("retry: 500"), "{text}");
    assert!(text.contains(r#"data: {"reason":"shutdown"}"#), "{text}");
    let reconnect = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("the socket said nothing")
        {
            Some(Ok(Message::Text(t))) => {
                let m: Value = serde_json::from_str(&t).unwrap();
                if m["type"] == "reconnect" {
                    break m;
                }
            }
            other => panic!("no reconnect message: {other:?}"),
        }
    };
    assert_eq!(reconnect["reason"], "shutdown");
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1012),
        other => panic!("no close frame: {other:?}"),
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = serve.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve still runs 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0));
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "{:?}",
        signalled.elapsed()
    );
}
