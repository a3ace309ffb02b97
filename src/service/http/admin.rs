//! The operator's routes: `GET /v1/queue` (the whole queue for an admin, a tenant's own quotas
//! for a tenant) and `GET /v1/workers` (admin only).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::auth::{Admin, Caller};
use super::{storage, AppState};
use crate::runtime::queue::Priority;

/// `GET /v1/queue`: an admin (or anyone, without keys) sees the whole queue; a tenant its own
/// open tasks and quotas.
pub(super) async fn queue(State(state): State<AppState>, caller: Caller) -> Response {
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
    let scaling = match super::metrics::scaling_view(&state.tasks).await {
        Ok(v) => v,
        Err(e) => return storage(e),
    };
    Json(json!({
        "priorities": out,
        "retryWaiting": delayed,
        "deadLetters": dead,
        "recommendedWorkers": scaling["recommendedWorkers"],
        "scaling": scaling,
    }))
    .into_response()
}

pub(super) async fn workers(State(state): State<AppState>, _: Admin) -> Response {
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
