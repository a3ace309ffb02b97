//! Liveness, readiness and draining, for `serve` and (with `--health-listen`) for `worker` and
//! `relay`.
//!
//! - `GET /health`: live: the process is up and answers. It reads nothing: a Redis outage must
//!   not make an orchestrator restart every node (restarting fixes nothing there).
//! - `GET /ready`: whether this process can do its work now: `{ status, parts: { NAME: { status,
//!   required, ... } } }`, `200` when every required part is `ok`, else `503` with code
//!   `NOT_READY`. A part that is not required is reported but decides only its own routes: for
//!   `serve` a campaign's RPC down makes the claim routes not ready (`routes.claims`), never the
//!   proving routes. A draining process (after SIGTERM) is not ready: a load balancer stops
//!   sending it requests while its streams close.
//!
//! Draining: [`begin_drain`] is called once on SIGTERM; every SSE stream and WebSocket of the
//! node then sends a final `reconnect` event and ends ([`draining`]), and `serve` waits (at most
//! [`DRAIN_BOUND`]) for [`open_streams`] to reach 0.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use redis::aio::ConnectionManager;
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use super::AppState;
use crate::service::code::Code;

/// How long `serve` waits, after SIGTERM, for its connections and streams to end before it
/// exits anyway (0, like a clean stop: what was not acknowledged is in Redis).
pub const DRAIN_BOUND: Duration = Duration::from_secs(10);

/// How long one readiness check may take before its part is `down`.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

static DRAIN: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);
static OPEN_STREAMS: AtomicUsize = AtomicUsize::new(0);

/// Starts draining this process (SIGTERM): streams send `reconnect` and end, `/ready` says 503.
pub fn begin_drain() {
    DRAIN.send_replace(true);
}

/// Turns true when the process drains: what a stream selects on.
pub fn draining() -> watch::Receiver<bool> {
    DRAIN.subscribe()
}

/// Returns once the process drains (at once if it already does).
pub async fn drained(drain: &mut watch::Receiver<bool>) {
    let _ = drain.wait_for(|d| *d).await;
}

/// Event streams (SSE, WebSocket sockets) open in this process now.
pub fn open_streams() -> usize {
    OPEN_STREAMS.load(Ordering::SeqCst)
}

pub(super) fn stream_opened() {
    OPEN_STREAMS.fetch_add(1, Ordering::SeqCst);
}

pub(super) fn stream_closed() {
    OPEN_STREAMS.fetch_sub(1, Ordering::SeqCst);
}

/// Waits until every event stream of the process has ended, or `bound`: whether they all did.
pub async fn streams_closed(bound: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + bound;
    while open_streams() > 0 {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// What one part's check came to: `Ok(details)` or `Err((code, message))`.
pub type CheckResult = Result<Value, (Code, String)>;

type CheckFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = CheckResult> + Send>> + Send + Sync>;

/// One thing readiness depends on.
#[derive(Clone)]
pub struct Part {
    name: String,
    /// Whether the process is not ready without it (else it decides only its own routes).
    required: bool,
    check: CheckFn,
}

impl Part {
    /// A part named `name` whose state `check` finds (at most [`CHECK_TIMEOUT`]).
    pub fn new<F, Fut>(name: impl Into<String>, required: bool, check: F) -> Part
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        Part {
            name: name.into(),
            required,
            check: Arc::new(move || Box::pin(check())),
        }
    }

    /// Redis answers `PING` (a failure counted as a Redis error of `process`).
    pub fn redis(redis: ConnectionManager, process: &'static str) -> Part {
        Part::new("redis", true, move || {
            let mut redis = redis.clone();
            async move {
                match redis::cmd("PING").query_async::<String>(&mut redis).await {
                    Ok(_) => Ok(json!({})),
                    Err(e) => {
                        super::metrics::redis_error(process);
                        Err((
                            Code::StorageUnavailable,
                            format!("Redis did not answer ({:?})", e.kind()),
                        ))
                    }
                }
            }
        })
    }

    /// A fixed state, found at start (the API keys loaded, the circuits of a key directory).
    pub fn fixed(name: &str, state: CheckResult) -> Part {
        Part::new(name, true, move || {
            let state = state.clone();
            async move { state }
        })
    }
}

/// The parts of a process's readiness.
#[derive(Clone, Default)]
pub struct Readiness {
    parts: Vec<Part>,
}

impl Readiness {
    /// With `part`.
    pub fn with(mut self, part: Part) -> Readiness {
        self.parts.push(part);
        self
    }

    /// Checks every part at once: whether the process is ready, and the JSON that says why.
    pub async fn check(&self) -> (bool, Value) {
        let results = futures_util::future::join_all(self.parts.iter().map(|part| async move {
            let state = tokio::time::timeout(CHECK_TIMEOUT, (part.check)())
                .await
                .unwrap_or_else(|_| {
                    Err((
                        Code::Timeout,
                        format!("no answer within {} s", CHECK_TIMEOUT.as_secs()),
                    ))
                });
            (part, state)
        }))
        .await;
        let mut parts = Map::new();
        let mut ready = !*DRAIN.borrow();
        for (part, state) in results {
            let mut view = match state {
                Ok(Value::Object(details)) => Value::Object(details),
                Ok(other) => json!({ "detail": other }),
                Err((code, message)) => {
                    ready &= !part.required;
                    json!({ "status": "down", "code": code, "message": message })
                }
            };
            if view.get("status").is_none() {
                view["status"] = json!("ok");
            }
            view["required"] = json!(part.required);
            parts.insert(part.name.clone(), view);
        }
        let mut out = json!({
            "status": if ready { "ready" } else { "not_ready" },
            "parts": parts,
        });
        if *DRAIN.borrow() {
            out["draining"] = json!(true);
        }
        (ready, out)
    }

    /// The `/ready` answer.
    pub async fn answer(&self) -> Response {
        let (ready, body) = self.check().await;
        answer(ready, body)
    }
}

/// `200` with `body`, or `503 NOT_READY` with it.
fn answer(ready: bool, mut body: Value) -> Response {
    if ready {
        return Json(body).into_response();
    }
    let code = Code::NotReady;
    body["code"] = json!(code);
    body["message"] = json!("a part this process needs is down (see parts), or it drains");
    let status =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, Json(body)).into_response()
}

/// `GET /health`: the process is up.
pub async fn live() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /ready` of `serve`: Redis, the API keys, and each campaign's RPC (which decides only
/// the claim routes: `routes.claims`).
pub(super) async fn ready(State(state): State<AppState>) -> Response {
    let (ready, mut body) = serve_readiness(&state).check().await;
    let claims_ready = ready
        && body["parts"]
            .as_object()
            .is_some_and(|parts| parts.iter().all(|(_, p)| p["status"] == "ok"));
    body["routes"] = json!({
        "proofs": if ready { "ready" } else { "not_ready" },
        "claims": match (&state.relayer, claims_ready) {
            (None, _) => "none",
            (Some(_), true) => "ready",
            (Some(_), false) => "not_ready",
        },
    });
    answer(ready, body)
}

fn serve_readiness(state: &AppState) -> Readiness {
    let keys = if state.keys.is_empty() {
        Ok(json!({ "keys": 0, "open": true }))
    } else {
        Ok(json!({ "keys": state.keys.len() }))
    };
    let mut readiness = Readiness::default()
        .with(Part::redis(state.redis.clone(), "serve"))
        .with(Part::fixed("apiKeys", keys));
    if let Some(relayer) = &state.relayer {
        for part in crate::relayer::metrics::rpc_parts(relayer, false) {
            readiness = readiness.with(part);
        }
    }
    readiness
}

/// The probe server of a worker or relay worker (`--health-listen ADDR`): `/health`, `/ready`
/// (from `readiness`) and `/metrics` (this process's numbers), until `shutdown` turns true.
/// Binding is done before it returns, so a bad address is said at start.
pub async fn serve_probes(
    listen: &str,
    readiness: Readiness,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    super::metrics::recorder();
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(
        "health, readiness and metrics on http://{}",
        listener.local_addr()?
    );
    let router = Router::new()
        .route("/health", get(live))
        .route("/ready", get(probe_ready))
        .route("/metrics", get(|| async { super::metrics::process_text() }))
        .with_state(Arc::new(readiness));
    Ok(tokio::spawn(async move {
        let stopped = async move {
            let _ = shutdown.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::warn!("health listener: {e}");
        }
    }))
}

async fn probe_ready(State(readiness): State<Arc<Readiness>>) -> Response {
    readiness.answer().await
}
