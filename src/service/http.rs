//! `airprover serve`: the HTTP API (axum) over Redis. It holds no state of its own: any number of
//! nodes behind one load balancer answer for the same tasks, and an SSE client may reconnect to
//! any of them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde_json::{json, Value};

mod auth;
mod events;
mod fanout;
pub mod health;
pub mod metrics;
mod open_streams;
mod ws;

pub use auth::{load_api_keys, new_api_key, ApiKey, Role};
use auth::{Admin, Caller, ClientAddress};
pub use open_streams::{DEFAULT_PER_ADDRESS, DEFAULT_PER_KEY};

use super::now_ms;
use super::redis::seal::InputSealing;
use super::redis::tasks::{self, Created, NewTask, Tasks};
use super::redis::Keys;
use crate::claim::Claim;
use crate::json::parse_strict;
use crate::prover::key_dir::KeyDir;
use crate::relayer::Relayer;
use crate::runtime::queue::Priority;

/// The largest request body: a claim of the largest circuit fits several times.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// What `serve` needs.
pub struct ServeSettings {
    /// The key directory (the circuits it can accept).
    pub keys: std::path::PathBuf,
    /// API keys; none: open (development only).
    pub api_keys: Vec<ApiKey>,
    /// Origins allowed by CORS.
    pub cors_origins: Vec<String>,
    /// How long a request may take (SSE streams excepted).
    pub request_timeout: Duration,
    /// The relayer, when campaigns are configured.
    pub relayer: Option<Relayer>,
    /// Whether a proxy in front sets `X-Forwarded-For` (the client address of the
    /// authentication-failure limit and of the stream caps).
    pub trust_proxy: bool,
    /// Where submitted claims are checked.
    pub validation: ValidationPool,
    /// How long an event stream (SSE, or a WebSocket) stays open without an event.
    pub stream_idle: Duration,
    /// Event streams (SSE streams and WebSocket subscriptions) one API key may hold open on
    /// this node.
    pub max_streams_per_key: usize,
    /// Event streams one client address may hold open on this node.
    pub max_streams_per_address: usize,
    /// How task inputs are stored (`--sealing-key`; unsealed in development only).
    pub sealing: InputSealing,
}

#[derive(Clone)]
struct AppState {
    redis: ConnectionManager,
    tasks: Tasks,
    /// The node's one reader of event streams.
    events: fanout::EventHub,
    /// Open event streams per key and address, with their caps.
    open_streams: open_streams::OpenStreams,
    /// `--stream-idle-secs`.
    stream_idle: Duration,
    keys: Arc<Vec<ApiKey>>,
    /// `--trust-proxy`: the client's address is the last `X-Forwarded-For` entry.
    trust_proxy: bool,
    /// Where claims are checked.
    validation: ValidationPool,
    circuits: Arc<Vec<String>>,
    relayer: Option<Relayer>,
    /// `--cors-origin`: the pages that may call the API, and open a WebSocket.
    origins: Arc<Vec<String>>,
    /// Seals each task's input and keys the dedupe index.
    sealing: InputSealing,
}

/// A refusal: `{ code, message }` with its status.
fn fail(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "code": code, "message": message.into() })),
    )
        .into_response()
}

/// A refusal worth trying again after `seconds`: [`fail`] with `Retry-After`.
fn fail_retry(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    seconds: u64,
) -> Response {
    let mut response = fail(status, code, message);
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from(seconds));
    response
}

fn storage(e: redis::RedisError) -> Response {
    Refusal::storage(e).into_response()
}

/// A refusal as a value, for what answers both over HTTP and on a WebSocket: its status, stable
/// code, message and, where waiting helps, `Retry-After`. Over HTTP it is `{ code, message }`
/// ([`fail`]); on a socket `{ "type": "error", code, message, id }`.
#[derive(Debug)]
pub(super) struct Refusal {
    status: StatusCode,
    code: String,
    message: String,
    retry_after: Option<u64>,
}

impl Refusal {
    pub(super) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// With `Retry-After: seconds`.
    pub(super) fn retry_after(mut self, seconds: u64) -> Refusal {
        self.retry_after = Some(seconds);
        self
    }

    /// `503 STORAGE_UNAVAILABLE`: Redis did not answer (the detail goes to the log).
    pub(super) fn storage(e: redis::RedisError) -> Refusal {
        tracing::warn!("redis: {e}");
        metrics::redis_error("serve");
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORAGE_UNAVAILABLE",
            format!("the task store did not answer ({:?}); try again", e.kind()),
        )
        .retry_after(1)
    }

    /// A relayer's refusal, with its code's status.
    pub(super) fn relay(e: crate::relayer::RelayError) -> Refusal {
        let status =
            StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Refusal::new(status, e.code.as_str(), e.message)
    }

    /// Its code.
    pub(super) fn code(&self) -> &str {
        &self.code
    }

    /// The WebSocket message that says it, about `id` when there is one.
    pub(super) fn to_ws(&self, id: Option<&str>) -> Value {
        let mut e = json!({ "type": "error", "code": self.code, "message": self.message });
        if let Some(id) = id {
            e["id"] = json!(id);
        }
        e
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self.retry_after {
            Some(seconds) => fail_retry(self.status, &self.code, self.message, seconds),
            None => fail(self.status, &self.code, self.message),
        }
    }
}

/// The router of `serve`.
pub fn router(
    settings: ServeSettings,
    redis: ConnectionManager,
    client: redis::Client,
    keys: Keys,
) -> Result<Router, String> {
    let circuits = KeyDir::new(&settings.keys)
        .manifest()
        .map_err(|e| e.to_string())?
        .map(|m| m.circuits.iter().map(|c| c.id.clone()).collect())
        .unwrap_or_default();
    // Everything that can refuse first: the event reader spawns its tasks.
    let cors = cors_layer(&settings.cors_origins)?;
    let state = AppState {
        tasks: Tasks::new(redis.clone(), keys),
        events: fanout::EventHub::new(client, redis.clone()),
        open_streams: open_streams::OpenStreams::new(
            settings.max_streams_per_key,
            settings.max_streams_per_address,
        ),
        stream_idle: settings.stream_idle,
        redis,
        keys: Arc::new(settings.api_keys),
        trust_proxy: settings.trust_proxy,
        validation: settings.validation,
        circuits: Arc::new(circuits),
        relayer: settings.relayer,
        origins: Arc::new(settings.cors_origins.clone()),
        sealing: settings.sealing,
    };
    let timed = Router::new()
        .route("/v1/proofs", post(submit))
        .route("/v1/proofs/{id}", get(status).delete(cancel))
        .route("/v1/queue", get(queue))
        .route("/v1/workers", get(workers))
        .route("/v1/claims", post(submit_claim))
        .route("/v1/claims/{id}", get(claim_status))
        .route("/v1/campaigns", get(campaigns))
        .route("/health", get(health::live))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::metrics))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ));
    let streams = Router::new()
        .route("/v1/proofs/{id}/events", get(proof_events))
        .route("/v1/claims/{id}/events", get(claim_events))
        .route("/v1/ws", get(ws::upgrade));
    Ok(timed
        .merge(streams)
        .fallback(|| async { fail(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(cors)
        .with_state(state))
}

/// The CORS layer of `--cors-origin`: each an exact origin (`scheme://host[:port]`). `*` is
/// refused at start with a message (tower-http would panic on it, and an API key sent from any
/// site's pages is not what an operator means); `Retry-After` is exposed to the pages, so a
/// cross-origin client can honour a 429's or 503's wait.
fn cors_layer(origins: &[String]) -> Result<tower_http::cors::CorsLayer, String> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .map(|o| {
            if o.trim() == "*" {
                return Err(
                    "--cors-origin '*' is refused: name each origin whose pages may call \
                            this service (e.g. --cors-origin https://app.example)"
                        .to_string(),
                );
            }
            let host = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"))
                .unwrap_or_default();
            if host.is_empty() || host.contains(['/', '*', ' ']) {
                return Err(format!(
                    "--cors-origin {o:?} is not an origin (scheme://host[:port], no path)"
                ));
            }
            o.parse()
                .map_err(|_| format!("--cors-origin {o:?} is not a header value"))
        })
        .collect::<Result<_, _>>()?;
    Ok(tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([axum::http::header::RETRY_AFTER]))
}

/// The per-minute quota: 429 with `Retry-After` (the seconds to the next minute) when spent.
#[allow(clippy::result_large_err)]
async fn rate(state: &AppState, key: &ApiKey) -> Result<(), Response> {
    let mut redis = state.redis.clone();
    let now = now_ms();
    let minute = now / 60_000;
    let counter = state.tasks.keys().rate(&key.name, minute);
    let (used,): (u64,) = redis::pipe()
        .incr(&counter, 1)
        .expire(&counter, 120)
        .ignore()
        .query_async(&mut redis)
        .await
        .map_err(storage)?;
    if used > key.per_minute {
        let wait = 60 - (now / 1000) % 60;
        return Err(fail_retry(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!(
                "{} tasks a minute for this key; retry in {wait} s",
                key.per_minute
            ),
            wait,
        ));
    }
    Ok(())
}

/// A JSON body read strictly (duplicate keys, depth, size): the value or the 400/413 to answer.
#[allow(clippy::result_large_err)]
fn body_json(body: Result<Bytes, BytesRejection>) -> Result<Value, Response> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                format!("bodies are limited to {MAX_BODY_BYTES} bytes"),
            )
        } else {
            fail(StatusCode::BAD_REQUEST, "INVALID_INPUT", e.body_text())
        }
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        fail(
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            "the body is not UTF-8",
        )
    })?;
    parse_strict(text).map_err(|e| {
        let e = e.into_error("body");
        fail(StatusCode::BAD_REQUEST, e.code(), e.to_string())
    })
}

async fn submit(
    State(state): State<AppState>,
    Caller(key): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body_json(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(obj) = body.as_object() else {
        return fail(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            "body: must be an object { claim, priority?, idempotencyKey? }",
        );
    };
    if let Some(unknown) = obj
        .keys()
        .find(|k| !["claim", "priority", "idempotencyKey"].contains(&k.as_str()))
    {
        return fail(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            format!("{unknown}: unknown field"),
        );
    }
    let priority = match obj.get("priority") {
        None => Priority::Normal,
        Some(Value::String(p)) => match p.parse() {
            Ok(p) => p,
            Err(e) => {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "INVALID_INPUT",
                    format!("priority: {e}"),
                )
            }
        },
        Some(_) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                "priority: must be a string",
            )
        }
    };
    let idempotency = match obj.get("idempotencyKey") {
        None => None,
        Some(Value::String(k)) if !k.is_empty() && k.len() <= 128 => Some(k.as_str()),
        Some(_) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                "idempotencyKey: a string of 1 to 128 characters",
            )
        }
    };
    let Some(claim_value) = obj.get("claim") else {
        return fail(StatusCode::BAD_REQUEST, "INVALID_INPUT", "claim: missing");
    };
    // The per-minute rate is spent before the claim is validated (up to ~2,100 Poseidon hashes),
    // so a flood of invalid claims is limited like any other.
    if let Some(key) = &key {
        if let Err(r) = rate(&state, key).await {
            return r;
        }
    }
    // The CLI's rules and codes: a claim that fails them is never stored. Checking one costs up
    // to ~2,100 Poseidon hashes: it runs on the bounded validation pool.
    let claim = match validate(&state, claim_value.clone()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return fail(StatusCode::BAD_REQUEST, e.code(), e.to_string()),
        Err(busy) => return busy,
    };
    let circuit = claim.circuit.to_string();
    if !state.circuits.contains(&circuit) {
        return fail(
            StatusCode::BAD_REQUEST,
            "UNKNOWN_CIRCUIT",
            format!("this server has no keys for {circuit}"),
        );
    }
    let api_key = key.as_ref().map_or("open".to_string(), |k| k.name.clone());
    let canonical = claim.to_canonical_json().to_string();
    // "The same claim is the same task" holds per key: another tenant's identical claim is a task
    // of its own, never a handle on the first tenant's. The index is keyed and the input sealed
    // for this task: the claim's secret never reaches Redis (its append-only file) in clear.
    let fingerprint = state.sealing.fingerprint(&api_key, &canonical);
    let id = hex::encode(rand::thread_rng().gen::<[u8; 16]>());
    let sealed = state.sealing.seal(&id, &canonical);
    let task = NewTask {
        id: &id,
        priority,
        input: &sealed,
        fingerprint: &fingerprint,
        circuit: &circuit,
        api_key: &api_key,
        max_active: key.as_ref().map_or(0, |k| k.max_active),
        idempotency,
    };
    match state.tasks.create(&task, now_ms()).await {
        Ok(Created::New(id)) => (
            StatusCode::ACCEPTED,
            Json(json!({ "id": id, "status": "queued" })),
        )
            .into_response(),
        Ok(Created::Existing(id)) => {
            let status = state
                .tasks
                .load(&id)
                .await
                .ok()
                .flatten()
                .map(|t| tasks::view(&t)["status"].clone());
            (
                StatusCode::ACCEPTED,
                Json(json!({ "id": id, "status": status.unwrap_or(json!("queued")) })),
            )
                .into_response()
        }
        Ok(Created::OverQuota(active)) => fail_retry(
            StatusCode::TOO_MANY_REQUESTS,
            "QUOTA_EXCEEDED",
            format!(
                "{active} tasks of this key are queued or running (the limit is {})",
                key.as_ref().map_or(0, |k| k.max_active)
            ),
            5,
        ),
        Err(e) => storage(e),
    }
}

/// The validation pool: at most `threads` claims checked at once on blocking threads, and at
/// most `waiting` more waiting for one; beyond that `503 SERVER_BUSY` with `Retry-After`, so a
/// flood of submits can neither starve the async workers nor queue without bound.
#[derive(Clone)]
pub struct ValidationPool {
    running: Arc<tokio::sync::Semaphore>,
    admitted: Arc<tokio::sync::Semaphore>,
}

impl ValidationPool {
    /// `threads` at once (at least 1), `waiting` more queued.
    pub fn new(threads: usize, waiting: usize) -> ValidationPool {
        let threads = threads.max(1);
        ValidationPool {
            running: Arc::new(tokio::sync::Semaphore::new(threads)),
            admitted: Arc::new(tokio::sync::Semaphore::new(threads + waiting)),
        }
    }
}

impl Default for ValidationPool {
    /// One thread per core, four times as many waiting.
    fn default() -> ValidationPool {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ValidationPool::new(cores, 4 * cores)
    }
}

/// Checks a claim on the validation pool: the claim or its error, or the 503 to answer.
#[allow(clippy::result_large_err)]
async fn validate(state: &AppState, value: Value) -> Result<crate::Result<Claim>, Response> {
    let busy = || {
        fail_retry(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_BUSY",
            "every claim checker is busy; try again",
            1,
        )
    };
    let Ok(_admitted) = state.validation.admitted.clone().try_acquire_owned() else {
        return Err(busy());
    };
    let Ok(_running) = state.validation.running.clone().acquire_owned().await else {
        return Err(busy());
    };
    tokio::task::spawn_blocking(move || {
        #[cfg(feature = "fault-hooks")]
        if let Ok(ms) = std::env::var("AIRPROVER_TEST_SLOW_VALIDATION_MS") {
            std::thread::sleep(Duration::from_millis(ms.parse().unwrap_or(0)));
        }
        Claim::from_value(&value)
    })
    .await
    .map_err(|_| busy())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn unknown_task() -> Refusal {
    Refusal::new(StatusCode::NOT_FOUND, "UNKNOWN_TASK", "no such task")
}

/// The task `id` if it exists and the caller may see it (the key that submitted it, an admin;
/// without API keys, development, anyone); another tenant's task is `404 UNKNOWN_TASK`, as for
/// none, so that no answer tells the two apart. The one ownership rule of the HTTP routes and
/// the WebSocket; [`may_see_task`] reads only the owner.
async fn own_task(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<serde_json::Map<String, Value>, Refusal> {
    if !valid_id(id) {
        return Err(unknown_task());
    }
    state
        .tasks
        .load(id)
        .await
        .map_err(Refusal::storage)?
        .filter(|task| caller.may_see(task.get("apiKey").and_then(Value::as_str)))
        .ok_or_else(unknown_task)
}

/// [`own_task`]'s rule, reading the task's owner only (not its record: its sealed input, its
/// proof).
async fn may_see_task(state: &AppState, caller: &Caller, id: &str) -> Result<(), Refusal> {
    if !valid_id(id) {
        return Err(unknown_task());
    }
    match state.tasks.owner(id).await.map_err(Refusal::storage)? {
        Some(owner) if caller.may_see(Some(&owner)) => Ok(()),
        _ => Err(unknown_task()),
    }
}

async fn status(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    match own_task(&state, &caller, &id).await {
        Ok(task) => Json(tasks::view(&task)).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn cancel(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    if let Err(r) = may_see_task(&state, &caller, &id).await {
        return r.into_response();
    }
    let error = json!({ "code": "CANCELLED", "message": "cancelled by the client" });
    let settled = state
        .tasks
        .settle(&id, "cancelled", &error, None, false, 3600, now_ms())
        .await;
    match settled {
        Ok(true) => Json(json!({ "id": id, "status": "cancelled" })).into_response(),
        Ok(false) => match state.tasks.load(&id).await {
            Ok(Some(task)) => fail(
                StatusCode::CONFLICT,
                "ALREADY_ENDED",
                format!(
                    "the task has ended: {}",
                    tasks::view(&task)["status"].as_str().unwrap_or_default()
                ),
            ),
            Ok(None) => fail(StatusCode::NOT_FOUND, "UNKNOWN_TASK", "no such task"),
            Err(e) => storage(e),
        },
        Err(e) => storage(e),
    }
}

async fn proof_events(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    events::follow(
        &state,
        &caller,
        &address,
        &headers,
        events::Kind::Proof,
        &id,
    )
    .await
}

/// `GET /v1/queue`: an admin (or anyone, without keys) sees the whole queue; a tenant its own
/// open tasks and quotas.
async fn queue(State(state): State<AppState>, caller: Caller) -> Response {
    if let Some(key) = caller.tenant() {
        return match state.tasks.active(&key.name).await {
            Ok(active) => Json(json!({
                "key": key.name,
                "active": active,
                "maxActive": key.max_active,
                "perMinute": key.per_minute,
            }))
            .into_response(),
            Err(e) => storage(e),
        };
    }
    let mut out = serde_json::Map::new();
    for priority in Priority::HIGHEST_FIRST {
        let (waiting, in_flight) = match state.tasks.counts(priority).await {
            Ok(c) => c,
            Err(e) => return storage(e),
        };
        out.insert(
            priority.as_str().into(),
            json!({ "waiting": waiting, "inFlight": in_flight }),
        );
    }
    let (delayed, dead) = match state.tasks.waiting_and_dead().await {
        Ok(c) => c,
        Err(e) => return storage(e),
    };
    let scaling = match metrics::scaling_view(&state.tasks).await {
        Ok(v) => v,
        Err(e) => return storage(e),
    };
    Json(
        json!({ "priorities": out, "retryWaiting": delayed, "deadLetters": dead,
        "recommendedWorkers": scaling["recommendedWorkers"], "scaling": scaling }),
    )
    .into_response()
}

async fn workers(State(state): State<AppState>, _: Admin) -> Response {
    let entries = match state.tasks.workers().await {
        Ok(entries) => entries,
        Err(e) => return storage(e),
    };
    let mut list: Vec<Value> = entries
        .into_iter()
        .map(|fields| {
            let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
            json!({
                "id": get("id"),
                "host": get("host"),
                "threads": get("threads").parse::<u64>().unwrap_or(0),
                "circuits": get("circuits").split(',').filter(|c| !c.is_empty()).collect::<Vec<_>>(),
                "busy": Some(get("busy")).filter(|b| !b.is_empty()),
                "lastHeartbeatMs": get("heartbeat").parse::<u64>().unwrap_or(0),
                "tasksDone": get("done").parse::<u64>().unwrap_or(0),
                "publicKey": get("publicKey"),
            })
        })
        .collect();
    list.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Json(json!({ "workers": list })).into_response()
}

/// The relayer, or `404 NO_RELAYER`.
fn relayer_of(state: &AppState) -> Result<&Relayer, Refusal> {
    state.relayer.as_ref().ok_or_else(|| {
        Refusal::new(
            StatusCode::NOT_FOUND,
            "NO_RELAYER",
            "this server relays no claims (start serve with --campaigns)",
        )
    })
}

fn relay_error(e: crate::relayer::RelayError) -> Response {
    Refusal::relay(e).into_response()
}

async fn submit_claim(
    State(state): State<AppState>,
    Caller(key): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let relayer = match relayer_of(&state) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let body = match body_json(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(key) = &key {
        if let Err(r) = rate(&state, key).await {
            return r;
        }
    }
    match relayer.submit(&body).await {
        Ok((id, phase)) => {
            if let Some(key) = &key {
                // A claim belongs to every key that submitted it (its proof is what they hold).
                let owners = state.tasks.keys().claim_owners(&id);
                let owned: redis::RedisResult<()> = redis::pipe()
                    .sadd(&owners, &key.name)
                    .ignore()
                    .expire(&owners, CLAIM_OWNERS_TTL_S as i64)
                    .ignore()
                    .query_async(&mut state.redis.clone())
                    .await;
                if let Err(e) = owned {
                    return storage(e);
                }
            }
            (
                StatusCode::ACCEPTED,
                Json(json!({ "id": id, "status": phase.as_str() })),
            )
                .into_response()
        }
        Err(e) => relay_error(e),
    }
}

/// How long the keys that submitted a claim are remembered (30 days: longer than a claim
/// record lives).
const CLAIM_OWNERS_TTL_S: u64 = 30 * 24 * 3600;

/// The relayed claim `id`'s view if `caller` may see it: an admin, anyone without keys, or a
/// key that submitted it; another tenant's claim is `404 UNKNOWN_CLAIM`, as for none.
async fn own_claim(state: &AppState, caller: &Caller, id: &str) -> Result<Value, Refusal> {
    let relayer = relayer_of(state)?;
    if let Some(key) = caller.tenant() {
        let owner: bool = state
            .redis
            .clone()
            .sismember(state.tasks.keys().claim_owners(id), &key.name)
            .await
            .map_err(Refusal::storage)?;
        if !owner {
            return Err(Refusal::relay(crate::relayer::RelayError::new(
                crate::relayer::RelayCode::UnknownClaim,
                "no such claim",
            )));
        }
    }
    relayer.status(id).await.map_err(Refusal::relay)
}

async fn claim_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match own_claim(&state, &caller, &id).await {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn claim_events(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    events::follow(
        &state,
        &caller,
        &address,
        &headers,
        events::Kind::Claim,
        &id,
    )
    .await
}

async fn campaigns(State(state): State<AppState>) -> Response {
    match &state.relayer {
        Some(r) => Json(r.campaigns_view()).into_response(),
        None => Json(json!({ "campaigns": [] })).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--cors-origin '*'` made tower-http panic at start; now it is a message, as is anything
    /// that is not an origin.
    #[test]
    fn cors_origins_are_exact_origins() {
        for bad in [
            "*",
            " * ",
            "app.example",
            "https://",
            "https://app.example/path",
            "ftp://x",
        ] {
            let err = cors_layer(&[bad.to_string()])
                .err()
                .unwrap_or_else(|| panic!("{bad:?}"));
            assert!(err.starts_with("--cors-origin"), "{bad:?}: {err}");
        }
        assert!(cors_layer(&["*".into()])
            .unwrap_err()
            .contains("is refused"));
        assert!(
            cors_layer(&["https://app.example".into(), "http://127.0.0.1:8080".into()]).is_ok()
        );
        assert!(cors_layer(&[]).is_ok());
    }
}
