//! `airprover serve`: the HTTP API (axum) over Redis. It holds no state of its own: any number of
//! nodes behind one load balancer answer for the same tasks, and an SSE client may reconnect to
//! any of them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use redis::aio::ConnectionManager;
use serde_json::{json, Value};

mod admin;
mod auth;
mod claims;
mod events;
mod fanout;
pub mod health;
pub mod metrics;
mod open_streams;
mod proofs;
mod ws;

pub use auth::{load_api_keys, new_api_key, ApiKey, Role};
pub use open_streams::{DEFAULT_PER_ADDRESS, DEFAULT_PER_KEY};
pub use proofs::ValidationPool;

use super::code::Code;
use super::redis::seal::InputSealing;
use super::redis::tasks::{self, Tasks};
use super::redis::Keys;
use crate::json::parse_strict_with_limit;
use crate::prover::key_dir::KeyDir;
use crate::relayer::Relayer;

/// The largest request body by default (`--max-body-bytes`): a claim of the largest circuit fits
/// several times; a circom input may need more (zkEmail's run to megabytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 512 * 1024;

/// The range `--max-body-bytes` may take: from 1 KiB to 64 MiB (a circom input is at most
/// [`crate::circom::input::MAX_INPUT_BYTES`], 16 MiB; the rest is headroom for its JSON's
/// spelling, never a reason to hold more).
pub const MAX_BODY_BYTES_RANGE: std::ops::RangeInclusive<usize> = 1024..=64 << 20;

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
    /// The largest request body (`--max-body-bytes`), within [`MAX_BODY_BYTES_RANGE`].
    pub max_body_bytes: usize,
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
    /// The built-in circuits a claim may name.
    circuits: Arc<Vec<String>>,
    /// The circom circuits a `{ circuit, input }` task may name.
    circom: Arc<Vec<String>>,
    relayer: Option<Relayer>,
    /// `--cors-origin`: the pages that may call the API, and open a WebSocket.
    origins: Arc<Vec<String>>,
    /// Seals each task's input and keys the dedupe index.
    sealing: InputSealing,
    /// `--max-body-bytes`.
    max_body_bytes: usize,
}

/// A refusal: `{ code, message }` with its code's status.
fn fail(code: Code, message: impl Into<String>) -> Response {
    Refusal::new(code, message).into_response()
}

/// A refusal worth trying again after `seconds`: [`fail`] with `Retry-After`.
fn fail_retry(code: Code, message: impl Into<String>, seconds: u64) -> Response {
    Refusal::new(code, message)
        .retry_after(seconds)
        .into_response()
}

fn storage(e: redis::RedisError) -> Response {
    Refusal::storage(e).into_response()
}

/// A refusal as a value, for what answers both over HTTP and on a WebSocket: its stable code
/// (which gives the status), message and, where waiting helps, `Retry-After`. Over HTTP it is
/// `{ code, message }`; on a socket `{ "type": "error", code, message, id }`.
#[derive(Debug)]
pub(super) struct Refusal {
    code: Code,
    message: String,
    retry_after: Option<u64>,
}

impl Refusal {
    pub(super) fn new(code: Code, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
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
        metrics::redis_failed("serve", &e, "answered STORAGE_UNAVAILABLE");
        Refusal::new(
            Code::StorageUnavailable,
            format!("the task store did not answer ({:?}); try again", e.kind()),
        )
        .retry_after(1)
    }

    /// A relayer's refusal.
    pub(super) fn relay(e: crate::relayer::RelayError) -> Refusal {
        Refusal::new(e.code, e.message)
    }

    /// Its code.
    pub(super) fn code(&self) -> Code {
        self.code
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
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = Json(json!({ "code": self.code, "message": self.message }));
        let mut response = (status, body).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
        }
        response
    }
}

/// The router of `serve`.
pub fn router(
    settings: ServeSettings,
    redis: ConnectionManager,
    client: redis::Client,
    keys: Keys,
) -> Result<Router, String> {
    if !MAX_BODY_BYTES_RANGE.contains(&settings.max_body_bytes) {
        return Err(format!(
            "--max-body-bytes {} is out of range ({} to {})",
            settings.max_body_bytes,
            MAX_BODY_BYTES_RANGE.start(),
            MAX_BODY_BYTES_RANGE.end()
        ));
    }
    let manifest = KeyDir::new(&settings.keys)
        .manifest()
        .map_err(|e| e.to_string())?
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
        circuits: Arc::new(manifest.builtin_ids()),
        circom: Arc::new(manifest.circom_ids()),
        relayer: settings.relayer,
        origins: Arc::new(settings.cors_origins.clone()),
        sealing: settings.sealing,
        max_body_bytes: settings.max_body_bytes,
    };
    let timed = Router::new()
        .route("/v1/proofs", post(proofs::submit))
        .route(
            "/v1/proofs/{id}",
            get(proofs::status).delete(proofs::cancel),
        )
        .route("/v1/queue", get(admin::queue))
        .route("/v1/workers", get(admin::workers))
        .route("/v1/claims", post(claims::submit_claim))
        .route("/v1/claims/{id}", get(claims::claim_status))
        .route("/v1/campaigns", get(claims::campaigns))
        .route("/health", get(health::live))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::metrics))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ));
    let streams = Router::new()
        .route("/v1/proofs/{id}/events", events::route(events::Kind::Proof))
        .route("/v1/claims/{id}/events", events::route(events::Kind::Claim))
        .route("/v1/ws", get(ws::upgrade));
    Ok(timed
        .merge(streams)
        .fallback(|| async { fail(Code::NotFound, "no such endpoint") })
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(cors)
        .layer(super::request_log::layer())
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

/// A body read strictly ([`body_json`]) into `T`, a serde type that denies unknown fields: the
/// value or the 400/413 to answer.
#[allow(clippy::result_large_err)]
fn body_of<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<T, Response> {
    serde_json::from_value(body_json(body, limit)?)
        .map_err(|e| fail(Code::InvalidInput, format!("body: {e}")))
}

/// A JSON body of at most `limit` bytes (`--max-body-bytes`) read strictly (duplicate keys,
/// depth, size): the value or the 400/413 to answer.
#[allow(clippy::result_large_err)]
fn body_json(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Value, Response> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            fail(
                Code::BodyTooLarge,
                format!("bodies are limited to {limit} bytes (--max-body-bytes)"),
            )
        } else {
            fail(Code::InvalidInput, e.body_text())
        }
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| fail(Code::InvalidJson, "the body is not UTF-8"))?;
    parse_strict_with_limit(text, limit).map_err(|e| {
        let e = e.into_error("body");
        fail(e.code().into(), e.to_string())
    })
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
