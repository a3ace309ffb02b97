//! Event streams as clients follow them: the SSE answer of `GET /v1/proofs/{id}/events` and
//! `GET /v1/claims/{id}/events`, and what the WebSocket's subscriptions share with it (where a
//! stream resumes, whether it has already ended, the per-caller caps). Entries come from the
//! node's one reader ([`super::fanout`]).
//!
//! - An SSE stream sends a keep-alive comment every [`KEEP_ALIVE`] and ends after its final
//!   event, or after `serve --stream-idle-secs` (300) without an event: a client resumes with
//!   `Last-Event-ID`.
//! - Each open SSE stream and WebSocket subscription holds a slot of its API key's and its
//!   address's caps on this node (`serve --max-streams-per-key`, `--max-streams-per-address`);
//!   over either: `429 TOO_MANY_STREAMS` with `Retry-After`.
//! - When the node drains (SIGTERM), every stream sends a final `reconnect` event (no id,
//!   `retry: 500`, data `{"reason":"shutdown"}`) and ends: the client resumes on another node.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use futures_util::Stream;
use redis::aio::ConnectionManager;

use super::auth::{Caller, ClientAddress};
use super::claims::own_claim;
use super::fanout::{parse_event_id, Ends, EventId, Follower};
use super::health;
use super::metrics::StreamGauge;
use super::open_streams::{Full, StreamSlot};
use super::proofs::may_see_task;
use super::{fail, storage, tasks, AppState, Refusal};
use crate::service::code::Code;

/// How often an idle SSE stream sends a comment (proxies close silent connections).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The `Retry-After` of `429 TOO_MANY_STREAMS`: a guess at when a stream of the caller's ends.
const FULL_RETRY_SECS: u64 = 5;

/// The last event of a task's stream: its final state.
pub(super) fn task_ended(kind: &str) -> bool {
    tasks::FINAL.contains(&kind)
}

/// The last event of a claim's stream.
pub(super) fn claim_ended(kind: &str) -> bool {
    kind == "confirmed" || kind == "failed"
}

/// Where a stream resumes: after `Last-Event-ID` (from the start without one); a value that is
/// not an event id is `400 INVALID_INPUT`, never a stream that reads from an id Redis refuses.
#[allow(clippy::result_large_err)]
fn last_event_id(headers: &HeaderMap) -> Result<EventId, Response> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok((0, 0));
    };
    match value.to_str().ok().and_then(parse_event_id) {
        Some(id) => Ok(id),
        None => Err(fail(
            Code::InvalidInput,
            "Last-Event-ID: not an event id (MS-SEQ, as the stream sent it)",
        )),
    }
}

/// A slot of the caller's caps for one more stream from `address`, or `429 TOO_MANY_STREAMS`.
pub(super) fn open_slot(
    state: &AppState,
    caller: &Caller,
    address: &str,
) -> Result<StreamSlot, Refusal> {
    let key = caller.0.as_ref().map(|k| k.name.as_str());
    state.open_streams.open(key, address).map_err(|full: Full| {
        Refusal::new(Code::TooManyStreams, full.to_string()).retry_after(FULL_RETRY_SECS)
    })
}

/// The newest entry of the stream `key`, if any: its id, and whether it is the final one.
async fn newest(
    redis: &mut ConnectionManager,
    key: &str,
    ends: Ends,
) -> redis::RedisResult<Option<(EventId, bool)>> {
    use redis::AsyncCommands;
    let newest: redis::streams::StreamRangeReply = redis.xrevrange_count(key, "+", "-", 1).await?;
    Ok(newest.ids.first().and_then(|entry| {
        let kind: String = entry.get("type").unwrap_or_default();
        let id = parse_event_id(&entry.id)?;
        Some((id, ends(&kind)))
    }))
}

/// A follower of the stream `key` from after `after`; `None` when the stream ended there (a
/// client that resumes after the end gets a stream that ends at once, not one that waits
/// forever). A resume point past the newest entry is taken as the newest entry: the node's
/// reader starts a stream where its first follower starts, and must never wait beyond entries
/// to come (every follower of that stream would miss them).
pub(super) async fn start(
    state: &AppState,
    key: String,
    after: EventId,
    ends: Ends,
) -> redis::RedisResult<Option<Follower>> {
    let mut redis = state.redis.clone();
    let after = match newest(&mut redis, &key, ends).await? {
        Some((id, true)) if id <= after => return Ok(None),
        Some((id, _)) => after.min(id),
        None => (0, 0),
    };
    state.events.follow(key, after, ends).await.map(Some)
}

/// What a stream follows: a proof task, or a relayed claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Proof,
    Claim,
}

impl Kind {
    /// `proof` or `claim`, as a WebSocket subscription names it.
    pub(super) fn parse(text: &str) -> Option<Kind> {
        match text {
            "proof" => Some(Kind::Proof),
            "claim" => Some(Kind::Claim),
            _ => None,
        }
    }
}

/// The events stream of the task or claim `id` and its last event, if `caller` may see it: the
/// one rule of the SSE routes and the WebSocket (another tenant's is as unknown as none).
pub(super) async fn stream_of(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    id: &str,
) -> Result<(String, Ends), Refusal> {
    match kind {
        Kind::Proof => {
            may_see_task(state, caller, id).await?;
            Ok((state.tasks.keys().task_events(id), task_ended))
        }
        Kind::Claim => {
            own_claim(state, caller, id).await?;
            Ok((state.tasks.keys().claim_events(id), claim_ended))
        }
    }
}

/// The route of `GET /v1/proofs/{id}/events` (`Kind::Proof`) or `GET /v1/claims/{id}/events`
/// (`Kind::Claim`): [`follow`].
pub(super) fn route(kind: Kind) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>,
              caller: Caller,
              ClientAddress(address): ClientAddress,
              headers: HeaderMap,
              Path(id): Path<String>| async move {
            follow(&state, &caller, &address, &headers, kind, &id).await
        },
    )
}

/// The SSE answer for the events of the task or claim `id` from `Last-Event-ID` on.
pub(super) async fn follow(
    state: &AppState,
    caller: &Caller,
    address: &str,
    headers: &HeaderMap,
    kind: Kind,
    id: &str,
) -> Response {
    let after = match last_event_id(headers) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (key, ends) = match stream_of(state, caller, kind, id).await {
        Ok(stream) => stream,
        Err(r) => return r.into_response(),
    };
    let slot = match open_slot(state, caller, address) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match start(state, key, after, ends).await {
        Ok(Some(follower)) => sse_of(follower, slot, state.stream_idle).into_response(),
        Ok(None) => {
            Sse::new(futures_util::stream::empty::<Result<Event, Infallible>>()).into_response()
        }
        Err(e) => storage(e),
    }
}

/// Server-Sent Events of a follower, holding its slot; the stream ends after the final event,
/// after `idle` without one, or, when the node drains (SIGTERM), after a `reconnect` event.
fn sse_of(
    follower: Follower,
    slot: StreamSlot,
    idle: Duration,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let open = (follower, slot, health::draining(), StreamGauge::open("sse"));
    let events = futures_util::stream::unfold(Some(open), move |open| async move {
        let (mut follower, slot, mut drain, gauge) = open?;
        let next = tokio::select! {
            entry = tokio::time::timeout(idle, follower.next()) => Some(entry.ok().flatten()),
            () = health::drained(&mut drain) => None,
        };
        let Some(entry) = next else {
            return Some((Ok(reconnect()), None));
        };
        let entry = entry?;
        let event = Event::default()
            .id(&entry.id)
            .event(&entry.kind)
            .data(entry.data.to_string());
        Some((Ok(event), Some((follower, slot, drain, gauge))))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// The last event of a stream on a draining node: no id (the client resumes from its last real
/// event with `Last-Event-ID`, on another node), a `retry` of [`RECONNECT_AFTER`].
fn reconnect() -> Event {
    Event::default()
        .event("reconnect")
        .retry(RECONNECT_AFTER)
        .data(r#"{"reason":"shutdown"}"#)
}

/// How long a client waits before it reconnects after a `reconnect` event.
pub(super) const RECONNECT_AFTER: Duration = Duration::from_millis(500);
