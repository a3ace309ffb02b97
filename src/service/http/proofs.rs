//! The proof routes: `POST /v1/proofs` (a claim, or a circom circuit's input, checked on the
//! bounded validation pool, sealed and queued), `GET` and `DELETE /v1/proofs/{id}`, and the one rule of who may see a task
//! (its events' route is [`super::events::route`]).

use std::sync::Arc;
#[cfg(feature = "fault-hooks")]
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{rate, Caller};
use super::{body_of, fail, fail_retry, storage, AppState, Refusal};
use crate::claim::Claim;
use crate::runtime::queue::Priority;
use crate::service::code::Code;
use crate::service::now_ms;
use crate::service::redis::tasks::{self, Created, NewTask};
use crate::service::task_input::circom_stored;

/// `POST /v1/proofs`'s body: `{ claim }`, or `{ circuit, input }` for a circom circuit (a claim
/// never has an `input` field, so the two cannot be confused).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SubmitRequest {
    /// The claim, as `airprover prove --input` takes it.
    #[serde(default)]
    claim: Option<Value>,
    /// A circom circuit of the deployment's key directory (with `input`).
    #[serde(default)]
    circuit: Option<Value>,
    /// The circom circuit's input signals, as snarkjs takes them (with `circuit`).
    #[serde(default)]
    input: Option<Value>,
    /// `LOW`, `NORMAL` (the default) or `HIGH`.
    #[serde(default)]
    priority: Option<String>,
    /// The same key from the same API key is the same task (1 to 128 characters).
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// What a submitted body asks to prove.
enum Form {
    Claim(Value),
    Circom { circuit: String, input: Value },
}

impl SubmitRequest {
    /// The claim, or the circom circuit and its input; a body of neither or both forms is
    /// `INVALID_INPUT`, a circuit this deployment has no circom circuit of `UNKNOWN_CIRCUIT`.
    #[allow(clippy::result_large_err)]
    fn form(&mut self, state: &AppState) -> Result<Form, Response> {
        match (self.claim.take(), self.circuit.take(), self.input.take()) {
            (Some(claim), None, None) => Ok(Form::Claim(claim)),
            (None, Some(circuit), Some(input)) => {
                let Some(circuit) = circuit.as_str().map(str::to_string) else {
                    return Err(fail(
                        Code::InvalidInput,
                        "circuit: expected a circom circuit's id (a string)",
                    ));
                };
                if !state.circom.contains(&circuit) {
                    return Err(fail(
                        Code::UnknownCircuit,
                        format!(
                            "this server has no circom circuit {:?}",
                            circuit.chars().take(72).collect::<String>()
                        ),
                    ));
                }
                if !input.is_object() {
                    return Err(fail(
                        Code::InvalidInput,
                        "input: must be an object of the circuit's input signals",
                    ));
                }
                Ok(Form::Circom { circuit, input })
            }
            (None, None, None) => Err(fail(
                Code::InvalidInput,
                "body: give a claim ({ claim }) or a circom circuit's input ({ circuit, input })",
            )),
            (Some(_), _, _) => Err(fail(
                Code::InvalidInput,
                "body: a claim ({ claim }) or a circom circuit's input ({ circuit, input }), \
                 not both",
            )),
            (None, None, Some(_)) => Err(fail(
                Code::InvalidInput,
                "circuit: missing (a circom circuit's input needs its circuit's id)",
            )),
            (None, Some(_), None) => Err(fail(
                Code::InvalidInput,
                "input: missing (the circom circuit's input signals)",
            )),
        }
    }
}

/// `POST /v1/proofs`: a claim checked with the CLI's rules, or a circom circuit's input checked
/// as far as the circuit is not needed (its signals are the worker's to check), sealed and
/// queued.
pub(super) async fn submit(
    State(state): State<AppState>,
    Caller(key): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut body: SubmitRequest = match body_of(body, state.max_body_bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let form = match body.form(&state) {
        Ok(form) => form,
        Err(r) => return r,
    };
    let priority = match body.priority.as_deref().map(str::parse).transpose() {
        Ok(p) => p.unwrap_or(Priority::Normal),
        Err(e) => return fail(Code::InvalidInput, format!("priority: {e}")),
    };
    let idempotency = match body.idempotency_key.as_deref() {
        Some(k) if k.is_empty() || k.len() > 128 => {
            return fail(
                Code::InvalidInput,
                "idempotencyKey: a string of 1 to 128 characters",
            )
        }
        k => k,
    };
    // The per-minute rate is spent before the claim is validated (up to ~2,100 Poseidon hashes),
    // so a flood of invalid claims is limited like any other.
    if let Some(key) = &key {
        if let Err(r) = rate(&state, key).await {
            return r;
        }
    }
    // The CLI's rules and codes: a claim that fails them is never stored. Checking one costs up
    // to ~2,100 Poseidon hashes, reading a circom input up to megabytes of numbers: both run on
    // the bounded validation pool.
    let (circuit, canonical, known) = match validate(&state, form).await {
        Ok(Ok(checked)) => checked,
        Ok(Err(e)) => return fail(e.code().into(), e.to_string()),
        Err(busy) => return busy,
    };
    if !known.contains(&circuit) {
        return fail(
            Code::UnknownCircuit,
            format!("this server has no keys for {circuit}"),
        );
    }
    let api_key = key.as_ref().map_or("open".to_string(), |k| k.name.clone());
    // "The same input is the same task" holds per key: another tenant's identical input is a
    // task of its own, never a handle on the first tenant's. The index is keyed and the input
    // sealed for this task: a claim's secret, a circom circuit's private inputs (a vote, 0 or 1,
    // which a plain digest would give away to a guess) never reach Redis (its append-only file)
    // in clear.
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
            Code::QuotaExceeded,
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

/// Checks a submitted input on the validation pool: its circuit, the stored form
/// ([`crate::service::task_input`]) and the circuits of its kind this node has, or its error,
/// or the 503 to answer.
#[allow(clippy::result_large_err)]
async fn validate(
    state: &AppState,
    form: Form,
) -> Result<crate::Result<(String, String, Arc<Vec<String>>)>, Response> {
    let busy = || {
        fail_retry(
            Code::ServerBusy,
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
    let (claims, circom) = (state.circuits.clone(), state.circom.clone());
    tokio::task::spawn_blocking(move || {
        #[cfg(feature = "fault-hooks")]
        if let Ok(ms) = std::env::var("AIRPROVER_TEST_SLOW_VALIDATION_MS") {
            std::thread::sleep(Duration::from_millis(ms.parse().unwrap_or(0)));
        }
        match form {
            Form::Claim(value) => Claim::from_value(&value).map(|claim| {
                let canonical = claim.to_canonical_json().to_string();
                (claim.circuit.to_string(), canonical, claims)
            }),
            Form::Circom { circuit, input } => {
                circom_stored(&circuit, &input).map(|stored| (circuit, stored, circom))
            }
        }
    })
    .await
    .map_err(|_| busy())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn unknown_task() -> Refusal {
    Refusal::new(Code::UnknownTask, "no such task")
}

/// The task `id` if it exists and the caller may see it (the key that submitted it, an admin;
/// without API keys, development, anyone); another tenant's task is `404 UNKNOWN_TASK`, as for
/// none, so that no answer tells the two apart. The one ownership rule of the HTTP routes and
/// the WebSocket; [`may_see_task`] reads only the owner.
pub(super) async fn own_task(
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
pub(super) async fn may_see_task(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(), Refusal> {
    if !valid_id(id) {
        return Err(unknown_task());
    }
    match state.tasks.owner(id).await.map_err(Refusal::storage)? {
        Some(owner) if caller.may_see(Some(&owner)) => Ok(()),
        _ => Err(unknown_task()),
    }
}

pub(super) async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match own_task(&state, &caller, &id).await {
        Ok(task) => Json(tasks::view(&task)).into_response(),
        Err(r) => r.into_response(),
    }
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = may_see_task(&state, &caller, &id).await {
        return r.into_response();
    }
    let error = json!({ "code": Code::Cancelled, "message": "cancelled by the client" });
    let settled = state
        .tasks
        .settle(&id, "cancelled", &error, None, false, 3600, now_ms())
        .await;
    match settled {
        Ok(true) => Json(json!({ "id": id, "status": "cancelled" })).into_response(),
        Ok(false) => match state.tasks.load(&id).await {
            Ok(Some(task)) => fail(
                Code::AlreadyEnded,
                format!(
                    "the task has ended: {}",
                    tasks::view(&task)["status"].as_str().unwrap_or_default()
                ),
            ),
            Ok(None) => fail(Code::UnknownTask, "no such task"),
            Err(e) => storage(e),
        },
        Err(e) => storage(e),
    }
}
