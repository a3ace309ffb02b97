//! `GET /v1/ws`: one WebSocket on which a client follows several tasks (or relayed claims).
//!
//! Client to server, one JSON object per text frame:
//! - `{ "type": "auth", "apiKey": K }`: first, when keys are configured and the upgrade request
//!   had no `Authorization` header (a browser cannot set one on a WebSocket); once: a second one
//!   is refused. Failures count towards the address's authentication-failure limit.
//! - `{ "type": "subscribe", "id": ID, "kind"?: "proof" | "claim", "lastEventId"?: E }`: the
//!   task's events (the SSE stream's, from after `lastEventId`), ending with its final state.
//!   Subscribing again to the same id replaces the subscription.
//! - `{ "type": "unsubscribe", "id": ID }`.
//!
//! Server to client: `{ "type": "subscribed" | "unsubscribed", "id" }`, `{ "type": "event", "id",
//! "kind", "eventId", "event", "data" }` and `{ "type": "error", "code", "message", "id"? }`. A
//! refused message ends nothing but itself; the socket stays open.
//!
//! Each subscription holds a slot of the key's and the address's stream caps (see
//! [`super::events`]); over one, `subscribe` answers `TOO_MANY_STREAMS`. A socket with no event
//! sent and no message received for `serve --stream-idle-secs` gets `{ "type": "error", "code":
//! "IDLE", "message" }` and a close frame. When the node drains (SIGTERM), every socket gets
//! `{ "type": "reconnect", "reason": "shutdown", "retryMs" }` and a close frame (1012, service
//! restart): the client opens another socket (on another node) and subscribes again with each
//! task's last `eventId`.

use std::collections::HashMap;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::auth::{bearer, check_key, Caller, ClientAddress};
use super::events::{open_slot, start, stream_of, Kind};
use super::fanout::parse_event_id;
use super::{AppState, Refusal};
use crate::json::parse_strict;
use crate::service::code::Code;

/// Subscriptions one socket may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 64;
/// The largest message a client may send.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;

pub(super) async fn upgrade(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // CORS does not cover WebSockets: a page of any site may open one. A browser always sends
    // its page's Origin, so one not in --cors-origin is refused (other clients send none).
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        if !state
            .origins
            .iter()
            .any(|o| o.as_bytes() == origin.as_bytes())
        {
            return super::fail(Code::OriginNotAllowed,
                "pages of this origin may not open a WebSocket here (serve --cors-origin lists those that may)",
            );
        }
    }
    // A key in the header is checked before the upgrade, like every other endpoint's.
    let auth = match bearer(&headers) {
        Some(given) => match check_key(&state, &address, given).await {
            Ok(caller) => Auth::As(caller),
            Err(r) => return r.into_response(),
        },
        None if state.keys.is_empty() => Auth::As(Caller(None)),
        None => Auth::Waiting,
    };
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| session(state, socket, address, auth))
}

fn error(code: Code, message: &str, id: Option<&str>) -> Value {
    Refusal::new(code, message).to_ws(id)
}

/// Where a socket stands: it takes one `auth` message, and only subscribes once authenticated.
enum Auth {
    /// No key yet: the next message must be `auth`.
    Waiting,
    /// Its one `auth` message was refused: open another socket.
    Refused,
    /// Authenticated as this caller.
    As(Caller),
}

struct Session {
    state: AppState,
    /// The client's address (for the authentication-failure limit).
    address: String,
    auth: Auth,
    subscriptions: HashMap<String, JoinHandle<()>>,
    out: mpsc::Sender<Value>,
}

async fn session(state: AppState, socket: WebSocket, address: String, auth: Auth) {
    let _gauge = super::metrics::StreamGauge::open("ws");
    let mut drain = super::health::draining();
    let (mut sink, mut incoming) = socket.split();
    let (out, mut events) = mpsc::channel::<Value>(256);
    let idle = state.stream_idle;
    let mut idle_at = tokio::time::Instant::now() + idle;
    let mut session = Session {
        state,
        address,
        auth,
        subscriptions: HashMap::new(),
        out,
    };
    loop {
        let reply = tokio::select! {
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    idle_at = tokio::time::Instant::now() + idle;
                    session.handle(text.as_str()).await
                }
                Some(Ok(Message::Binary(_))) => {
                    error(Code::InvalidJson, "send JSON in text frames", None)
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            Some(event) = events.recv() => {
                idle_at = tokio::time::Instant::now() + idle;
                event
            }
            () = super::health::drained(&mut drain) => {
                let reconnect = json!({ "type": "reconnect", "reason": "shutdown",
                    "retryMs": super::events::RECONNECT_AFTER.as_millis() as u64 });
                let restart = axum::extract::ws::close_code::RESTART;
                close(&mut sink, &reconnect, restart, "shutdown").await;
                break;
            }
            () = tokio::time::sleep_until(idle_at) => {
                let message = format!("no event for {} s: closing", idle.as_secs());
                let last = error(Code::Idle, &message, None);
                close(&mut sink, &last, axum::extract::ws::close_code::NORMAL, "idle").await;
                break;
            }
        };
        if sink
            .send(Message::Text(reply.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    for (_, task) in session.subscriptions {
        task.abort();
    }
}

/// Says `last`, then closes the socket with `code` and `reason` (a socket already gone is left
/// as it is).
async fn close(
    sink: &mut (impl futures_util::Sink<Message> + Unpin),
    last: &Value,
    code: u16,
    reason: &'static str,
) {
    let _ = sink.send(Message::Text(last.to_string().into())).await;
    let frame = axum::extract::ws::CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}

impl Session {
    async fn handle(&mut self, text: &str) -> Value {
        let message = match parse_strict(text) {
            Ok(v) => v,
            Err(e) => return error(Code::InvalidJson, &e.to_string(), None),
        };
        let id = message.get("id").and_then(Value::as_str);
        let kind = message.get("type").and_then(Value::as_str);
        let caller = match (&self.auth, kind) {
            (Auth::Waiting, Some("auth")) => {
                let key = message.get("apiKey").and_then(Value::as_str);
                return match check_key(&self.state, &self.address, key).await {
                    Ok(caller) => {
                        self.auth = Auth::As(caller);
                        json!({ "type": "authenticated" })
                    }
                    // Redis did not answer: nothing was decided, the client may send it again.
                    Err(r) if r.code() == Code::StorageUnavailable => r.to_ws(None),
                    Err(r) => {
                        self.auth = Auth::Refused;
                        r.to_ws(None)
                    }
                };
            }
            (_, Some("auth")) => {
                return error(
                    Code::InvalidInput,
                    "a socket takes one auth message; open another socket for another key",
                    None,
                )
            }
            (Auth::As(caller), _) => caller.clone(),
            _ => {
                return error(
                    Code::Unauthorized,
                    "send { \"type\": \"auth\", \"apiKey\": ... } first",
                    None,
                )
            }
        };
        match kind {
            Some("subscribe") => match id {
                Some(id) => self.subscribe(&caller, id, &message).await,
                None => error(Code::InvalidInput, "subscribe needs an \"id\"", None),
            },
            Some("unsubscribe") => match id.and_then(|id| self.subscriptions.remove(id)) {
                Some(task) => {
                    task.abort();
                    let _ = task.await;
                    json!({ "type": "unsubscribed", "id": id })
                }
                None => error(Code::UnknownTask, "not subscribed to that id", id),
            },
            _ => error(
                Code::InvalidInput,
                "\"type\" is one of auth, subscribe, unsubscribe",
                id,
            ),
        }
    }

    async fn subscribe(&mut self, caller: &Caller, id: &str, message: &Value) -> Value {
        self.subscriptions.retain(|_, task| !task.is_finished());
        if !self.subscriptions.contains_key(id) && self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return error(
                Code::TooManySubscriptions,
                &format!("at most {MAX_SUBSCRIPTIONS} at once on one socket"),
                Some(id),
            );
        }
        let after = match message
            .get("lastEventId")
            .map(|e| e.as_str().and_then(parse_event_id))
        {
            None => (0, 0),
            Some(Some(after)) => after,
            Some(None) => {
                return error(
                    Code::InvalidInput,
                    "\"lastEventId\" is an event id",
                    Some(id),
                )
            }
        };
        let kind = message
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("proof");
        let Some(which) = Kind::parse(kind) else {
            return error(Code::InvalidInput, "\"kind\" is proof or claim", Some(id));
        };
        let (key, last) = match stream_of(&self.state, caller, which, id).await {
            Ok(stream) => stream,
            Err(r) => return r.to_ws(Some(id)),
        };
        // A subscription replaced gives its slot back first (an aborted task has dropped
        // everything it held once awaited).
        if let Some(old) = self.subscriptions.remove(id) {
            old.abort();
            let _ = old.await;
        }
        let slot = match open_slot(&self.state, caller, &self.address) {
            Ok(slot) => slot,
            Err(r) => return r.to_ws(Some(id)),
        };
        let follower = match start(&self.state, key, after, last).await {
            Ok(f) => f,
            Err(e) => return Refusal::storage(e).to_ws(Some(id)),
        };
        let out = self.out.clone();
        let (task_id, kind) = (id.to_string(), kind.to_string());
        let task = tokio::spawn(async move {
            let _slot = slot;
            let Some(mut follower) = follower else {
                return;
            };
            while let Some(entry) = follower.next().await {
                let message = json!({ "type": "event", "id": task_id, "kind": kind,
                    "eventId": entry.id, "event": entry.kind, "data": entry.data });
                if out.send(message).await.is_err() {
                    break;
                }
            }
        });
        self.subscriptions.insert(id.to_string(), task);
        json!({ "type": "subscribed", "id": id })
    }
}
