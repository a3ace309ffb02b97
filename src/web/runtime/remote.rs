//! The engine's requests to the operator's server ([`RemoteOp`]), carried out through the page's
//! [`RemoteLink`] (`src/js/remote.js`, which speaks HTTP and SSE): what the browser saw comes back
//! raw, as [`Event::Remote`] reports. What each answer means is `runtime::remote`'s.

use std::cell::RefCell;
use std::rc::Weak;

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::caching::Caches;
use super::edge::Inner;
use crate::runtime::engine::{Event, RemoteOp};
use crate::runtime::remote::{Report, Signature};
use crate::web::js;

#[wasm_bindgen]
extern "C" {
    /// `RemoteLink` of `src/js/remote.js`.
    #[wasm_bindgen(typescript_type = "object")]
    #[derive(Clone, Debug)]
    pub type RemoteLink;

    /// `remote.when`: `fallback` or `always`.
    #[wasm_bindgen(method, getter)]
    pub fn when(this: &RemoteLink) -> Option<String>;

    /// The server's URL.
    #[wasm_bindgen(method, getter)]
    pub fn url(this: &RemoteLink) -> Option<String>;

    #[wasm_bindgen(method)]
    fn send(this: &RemoteLink, job: f64, body: &str) -> js_sys::Promise;

    #[wasm_bindgen(method)]
    fn follow(
        this: &RemoteLink,
        job: f64,
        id: &str,
        last_event: Option<String>,
        on_event: &js_sys::Function,
    ) -> js_sys::Promise;

    #[wasm_bindgen(method)]
    fn end(this: &RemoteLink, job: f64, task: Option<String>);

    #[wasm_bindgen(method, js_name = checkSignature)]
    fn check_signature(this: &RemoteLink, statement: &JsValue, data: &str) -> js_sys::Promise;
}

/// Carries out one request; its outcome comes back to the runtime at `weak` as reports.
pub(super) fn carry_out(
    link: &RemoteLink,
    op: RemoteOp,
    caches: std::rc::Rc<Caches>,
    weak: Weak<RefCell<Inner>>,
) {
    let report = move |weak: &Weak<RefCell<Inner>>, job, report| {
        Inner::dispatch_weak(weak, Event::Remote { job, report });
    };
    match op {
        RemoteOp::Send { job, body } => {
            let promise = link.send(job as f64, &body);
            wasm_bindgen_futures::spawn_local(async move {
                let r = match JsFuture::from(promise).await {
                    Ok(answer) => Report::Answered {
                        status: status(&answer).unwrap_or(0),
                        body: body_of(&answer),
                        retry_after: js::get(&answer, "retryAfter").as_string(),
                    },
                    Err(e) => Report::Unreachable { message: words(&e) },
                };
                report(&weak, job, r);
            });
        }
        RemoteOp::Follow {
            job,
            id,
            last_event,
        } => {
            let on_event = {
                let weak = weak.clone();
                Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                    let r = Report::Event {
                        id: js::get(&event, "id").as_string(),
                        kind: js::get(&event, "event")
                            .as_string()
                            .unwrap_or_else(|| "message".into()),
                        data: js::get(&event, "data").as_string().unwrap_or_default(),
                    };
                    report(&weak, job, r);
                })
            };
            let promise = link.follow(
                job as f64,
                &id,
                last_event,
                on_event.as_ref().unchecked_ref(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let ended = JsFuture::from(promise).await;
                // Every event was delivered before the stream's end.
                drop(on_event);
                let r = match ended {
                    Ok(answer) => Report::StreamEnded {
                        status: status(&answer),
                        body: body_of(&answer),
                        retry_after: js::get(&answer, "retryAfter").as_string(),
                        message: String::new(),
                    },
                    Err(e) => Report::StreamEnded {
                        status: None,
                        body: Value::Null,
                        retry_after: None,
                        message: words(&e),
                    },
                };
                report(&weak, job, r);
            });
        }
        RemoteOp::End { job, cancel_task } => link.end(job as f64, cancel_task),
        RemoteOp::Check {
            job,
            id,
            statement,
            verifying_key,
            data,
            value,
        } => {
            let signed = js::object(&[
                ("taskId", id.as_str().into()),
                ("circuit", statement.circuit().to_string().into()),
                ("vkSha256", verifying_key.sha256.as_str().into()),
            ]);
            let promise = link.check_signature(&signed, &data);
            wasm_bindgen_futures::spawn_local(async move {
                let signature = match JsFuture::from(promise).await {
                    Ok(answer) => signature(&answer),
                    Err(e) => Signature::Unavailable { message: words(&e) },
                };
                let proof = match signature {
                    Signature::NotPinned | Signature::Valid { .. } => {
                        caches.check_proof(&statement, &verifying_key, &value).await
                    }
                    // Refused on who made it: what it proves is not asked.
                    _ => Ok(()),
                };
                report(&weak, job, Report::Checked { signature, proof });
            });
        }
    }
}

fn status(answer: &JsValue) -> Option<u16> {
    js::get(answer, "status").as_f64().map(|s| s as u16)
}

fn body_of(answer: &JsValue) -> Value {
    serde_wasm_bindgen::from_value(js::get(answer, "body")).unwrap_or(Value::Null)
}

fn words(e: &JsValue) -> String {
    js::get(e, "message")
        .as_string()
        .unwrap_or_else(|| format!("{e:?}"))
}

fn signature(answer: &JsValue) -> Signature {
    let worker = js::get(answer, "worker").as_string().unwrap_or_default();
    match js::get(answer, "verdict").as_string().as_deref() {
        Some("not-pinned") => Signature::NotPinned,
        Some("valid") => Signature::Valid { worker },
        Some("invalid") => Signature::Invalid { worker },
        _ => Signature::UnknownKey,
    }
}
