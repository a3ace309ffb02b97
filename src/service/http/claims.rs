//! The relayer's routes: `POST /v1/claims`, `GET /v1/claims/{id}` and `GET /v1/campaigns` (a
//! claim's events: [`super::events::route`]); a claim belongs to every API key that submitted it.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use redis::AsyncCommands;
use serde_json::{json, Value};

use super::auth::{rate, Caller};
use super::{body_of, storage, AppState, Refusal};
use crate::relayer::relay::ClaimRequest;
use crate::relayer::Relayer;
use crate::service::code::Code;

/// The relayer, or `404 NO_RELAYER`.
fn relayer_of(state: &AppState) -> Result<&Relayer, Refusal> {
    state.relayer.as_ref().ok_or_else(|| {
        Refusal::new(
            Code::NoRelayer,
            "this server relays no claims (start serve with --campaigns)",
        )
    })
}

fn relay_error(e: crate::relayer::RelayError) -> Response {
    Refusal::relay(e).into_response()
}

pub(super) async fn submit_claim(
    State(state): State<AppState>,
    Caller(key): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let relayer = match relayer_of(&state) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let body: ClaimRequest = match body_of(body, state.max_body_bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(key) = &key {
        if let Err(r) = rate(&state, key).await {
            return r;
        }
    }
    match relayer.submit_request(&body).await {
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
pub(super) async fn own_claim(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Value, Refusal> {
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
                Code::UnknownClaim,
                "no such claim",
            )));
        }
    }
    relayer.status(id).await.map_err(Refusal::relay)
}

pub(super) async fn claim_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match own_claim(&state, &caller, &id).await {
        Ok(v) => Json(v).into_response(),
        Err(r) => r.into_response(),
    }
}

pub(super) async fn campaigns(State(state): State<AppState>) -> Response {
    match &state.relayer {
        Some(r) => Json(r.campaigns_view()).into_response(),
        None => Json(json!({ "campaigns": [] })).into_response(),
    }
}
