//! The operator's server as one more place a job runs (`createProver({ remote })`, README
//! "Server"): which jobs go there and when ([`Plan`]), what is sent ([`request`]), what each
//! answer of the server means, how long to wait before asking again, and whether its proof is
//! the job's ([`Flow`]). The engine feeds a job's flow what the page reported ([`Report`]: raw
//! HTTP statuses, bodies and event-stream events, the raw verdict of a signature check) and
//! carries out the [`Step`] it answers; `src/js/remote.js` only speaks HTTP and SSE.
//!
//! THE CLAIM, ITS SECRET INCLUDED, LEAVES THE DEVICE for that server (a circom job's input
//! likewise); a ready witness never does ([`Statement::may_go_remote`]).

use serde_json::{json, Value};

use super::code::ErrorCode;
use super::scheduler::Refusal;
use super::statement::Statement;
use crate::error::Error;
use crate::prover::export;

/// `remote.when`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A job goes to the server only when the device cannot prove it
    /// ([`ErrorCode::moves_to_server`]).
    Fallback,
    /// Every job that may leave the device goes there first.
    Always,
}

impl std::str::FromStr for When {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "fallback" => Ok(When::Fallback),
            "always" => Ok(When::Always),
            _ => Err(()),
        }
    }
}

/// A runtime's server, as `createProver({ remote })` configured it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// When jobs go there.
    pub when: When,
    /// The server's URL (for the result's `remote.url` and messages).
    pub url: String,
}

impl Plan {
    /// Whether a new job of `statement` goes straight to the server.
    pub fn first(&self, statement: &Statement) -> bool {
        self.when == When::Always && statement.may_go_remote()
    }

    /// Whether a job that failed on the device with `code` (for good: retries and the
    /// smaller-circuit fallback spent) goes to the server now.
    pub fn moves(&self, code: ErrorCode, statement: &Statement) -> bool {
        code.moves_to_server() && statement.may_go_remote()
    }

    /// Why a submission is refused at once: a ready witness holds every private signal and is
    /// never sent, so `'always'` cannot be honoured for it (with `'fallback'` it is proved on the
    /// device only).
    pub fn refusal(&self, statement: &Statement) -> Option<Refusal> {
        (self.when == When::Always && !statement.may_go_remote()).then(|| Refusal {
            code: ErrorCode::InvalidInput,
            message: "remote: a ready witness (wtns) holds every private signal and is never sent \
                      to the prover server: prove it on the device (remote.when 'fallback' or no \
                      remote)"
                .into(),
        })
    }
}

/// The body of `POST /v1/proofs` for `statement`: `{ claim }` or `{ circuit, input }`. None for a
/// ready witness, which is never sent.
pub fn request(statement: &Statement) -> Result<Option<String>, Error> {
    if !statement.may_go_remote() {
        return Ok(None);
    }
    let body = match statement {
        Statement::Claim(c) => json!({ "claim": c.to_canonical_json() }),
        Statement::Circom(c) => {
            let input: Value = serde_json::from_str(c.input().unwrap_or("{}"))
                .map_err(|e| Error::input("input", e.to_string()))?;
            json!({ "circuit": c.circuit.to_string(), "input": input })
        }
    };
    Ok(Some(body.to_string()))
}

/// Tries of `POST /v1/proofs` while the server cannot be reached or asks to come back later.
pub const MAX_SENDS: u32 = 5;
/// Event streams lost in a row (no event between them) before the job ends with NETWORK.
pub const MAX_STREAM_LOSSES: u32 = 5;
/// The longest `Retry-After` waited for; a server that asks for more ends the job (REMOTE_FAILED,
/// with its `retryAfterMs`, for the caller to decide).
pub const MAX_RETRY_AFTER_MS: f64 = 60_000.0;

/// What the page reported about a job's request to the server: raw facts, never a code.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// `POST /v1/proofs` was answered.
    Answered {
        /// The HTTP status.
        status: u16,
        /// Its JSON body (Null when it had none).
        body: Value,
        /// The raw `Retry-After` header.
        retry_after: Option<String>,
    },
    /// A request could not be made at all (the browser's network error).
    Unreachable {
        /// The browser's words.
        message: String,
    },
    /// One event of the task's stream.
    Event {
        /// Its `id:` (the stream resumes after it).
        id: Option<String>,
        /// Its `event:`.
        kind: String,
        /// Its `data:`, as sent.
        data: String,
    },
    /// The task's event stream ended before its final event: refused (a status that is not
    /// 2xx), closed, or broken (no status).
    StreamEnded {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// The refusal's JSON body (Null otherwise).
        body: Value,
        /// The raw `Retry-After` header.
        retry_after: Option<String>,
        /// The browser's words, when the stream broke.
        message: String,
    },
    /// The page checked the server's answer ([`Step::Check`]).
    Checked {
        /// The worker signature, against the pinned worker keys.
        signature: Signature,
        /// The proof against the manifest's verifying key: `Err` says why not (KEY_INTEGRITY), or
        /// why the check could not run (the verifying key's load).
        proof: Result<(), (ErrorCode, String)>,
    },
}

/// What a signature check found (WebCrypto's Ed25519 on the page).
#[derive(Debug, Clone, PartialEq)]
pub enum Signature {
    /// The page pins no worker keys: not checked.
    NotPinned,
    /// Signed by this pinned worker over exactly the recomputed bytes.
    Valid {
        /// The pinned worker's id.
        worker: String,
    },
    /// Signed with a key the page does not pin.
    UnknownKey,
    /// A pinned worker's key, but the signature does not sign the recomputed bytes.
    Invalid {
        /// The pinned worker's id.
        worker: String,
    },
    /// The check could not run (the browser's WebCrypto refused).
    Unavailable {
        /// The browser's words.
        message: String,
    },
}

/// What to do next for a job on the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `POST /v1/proofs` the job's body.
    Send,
    /// Read the task's event stream (from after `last_event`).
    Follow {
        /// The server's task id.
        id: String,
        /// The last event seen.
        last_event: Option<String>,
    },
    /// Ask again at `at_ms` ([`Flow::resume`] says what).
    Wait {
        /// When, on the runtime's clock.
        at_ms: f64,
    },
    /// The job's progress changed.
    Show {
        /// `queued` or `proving`.
        stage: &'static str,
        /// 0..=100, None: as it was.
        percent: Option<f64>,
        /// The server's estimate of the time left.
        eta_ms: Option<f64>,
    },
    /// Check the answer on the page: the worker's signature over the bytes recomputed there,
    /// then the proof against the manifest's verifying key.
    Check {
        /// The server's task id.
        id: String,
        /// The `succeeded` event's data, as sent (the signature covers its proof's JSON).
        data: String,
        /// It, parsed.
        value: Value,
    },
    /// The job's result.
    Proved {
        /// `{ proof, publicSignals, remote: { url, id, worker, publicKey, signature } }`.
        value: Value,
    },
    /// The job ends here.
    Failed(RemoteFailure),
    /// Nothing to do (a stale or unknown report).
    Nothing,
}

/// Why a job on the server ended without a proof.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteFailure {
    /// The code.
    pub code: ErrorCode,
    /// In words.
    pub message: String,
    /// REMOTE_FAILED: what the server answered.
    pub server: Option<ServerAnswer>,
}

/// A refusal as the server gave it (the error's `serverCode`, `status`, `retryAfterMs`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerAnswer {
    /// The server's own code (e.g. `QUOTA_EXCEEDED`).
    pub code: Option<String>,
    /// The HTTP status.
    pub status: u16,
    /// Its `Retry-After`, in ms.
    pub retry_after_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Sending {
        tries: u32,
    },
    Following {
        id: String,
        last_event: Option<String>,
        losses: u32,
    },
    Checking {
        id: String,
        value: Value,
    },
    Ended,
}

/// One job's way through the server: sent, followed, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    phase: Phase,
    url: String,
    /// A claim's public signals: what the server's proof must prove (a circom input's are the
    /// proof's own).
    expected: Option<Vec<String>>,
    circuit: String,
}

impl Flow {
    /// A job of `statement` about to be sent to the server at `url` ([`Step::Send`] first).
    pub fn new(statement: &Statement, url: &str) -> Self {
        Flow {
            phase: Phase::Sending { tries: 0 },
            url: url.to_string(),
            expected: statement
                .claim()
                .map(|c| export::public_to_json(&c.public_signals())),
            circuit: statement.circuit().to_string(),
        }
    }

    /// The server's task id, once it accepted the job.
    pub fn task(&self) -> Option<&str> {
        match &self.phase {
            Phase::Following { id, .. } | Phase::Checking { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Whether the flow ended (its job is settled or settling).
    pub fn ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// What to do after a [`Step::Wait`]: send again, or read the stream again.
    pub fn resume(&self) -> Step {
        match &self.phase {
            Phase::Sending { .. } => Step::Send,
            Phase::Following { id, last_event, .. } => Step::Follow {
                id: id.clone(),
                last_event: last_event.clone(),
            },
            _ => Step::Nothing,
        }
    }

    /// One report; `delay(n)` is the wait before the `n`-th try again (the runtime's backoff).
    pub fn on(&mut self, report: Report, now_ms: f64, delay: &mut dyn FnMut(u32) -> f64) -> Step {
        let step = match (&mut self.phase, report) {
            (Phase::Sending { tries }, Report::Unreachable { message }) => {
                *tries += 1;
                if *tries >= MAX_SENDS {
                    fail(
                        ErrorCode::Network,
                        format!(
                            "the prover server at {} cannot be reached: {message}",
                            self.url
                        ),
                    )
                } else {
                    Step::Wait {
                        at_ms: now_ms + delay(*tries),
                    }
                }
            }
            (
                Phase::Sending { tries },
                Report::Answered {
                    status,
                    body,
                    retry_after,
                },
            ) => {
                *tries += 1;
                let retry_after_ms = retry_after_ms(retry_after.as_deref());
                match body.get("id").and_then(Value::as_str) {
                    Some(id) if (200..300).contains(&status) => {
                        let id = id.to_string();
                        self.phase = Phase::Following {
                            id: id.clone(),
                            last_event: None,
                            losses: 0,
                        };
                        Step::Follow {
                            id,
                            last_event: None,
                        }
                    }
                    _ if comes_back(status, retry_after_ms) && *tries < MAX_SENDS => Step::Wait {
                        at_ms: now_ms + retry_after_ms.unwrap_or(0.0).max(delay(*tries)),
                    },
                    _ => refused(status, &body, retry_after_ms),
                }
            }
            (Phase::Following { last_event, .. }, Report::Event { id, kind, data }) => {
                if id.is_some() {
                    *last_event = id;
                }
                if let Phase::Following { losses, .. } = &mut self.phase {
                    *losses = 0;
                }
                self.event(&kind, data)
            }
            (Phase::Following { losses, .. }, Report::Unreachable { message }) => {
                *losses += 1;
                lost(*losses, &message, None, now_ms, delay)
            }
            (
                Phase::Following { losses, .. },
                Report::StreamEnded {
                    status,
                    body,
                    retry_after,
                    message,
                },
            ) => {
                let retry_after_ms = retry_after_ms(retry_after.as_deref());
                match status {
                    // Refused, and not a "come back later": the task is not there for us.
                    Some(s) if !(200..300).contains(&s) && !comes_back(s, retry_after_ms) => {
                        refused(s, &body, retry_after_ms)
                    }
                    _ => {
                        *losses += 1;
                        let why = match status {
                            Some(s) if !(200..300).contains(&s) => format!("HTTP {s}"),
                            Some(_) => "it ended before the task did".to_string(),
                            None => message,
                        };
                        lost(*losses, &why, retry_after_ms, now_ms, delay)
                    }
                }
            }
            (Phase::Checking { id, value }, Report::Checked { signature, proof }) => {
                let (id, value) = (id.clone(), std::mem::take(value));
                self.checked(&id, value, signature, proof)
            }
            _ => Step::Nothing,
        };
        if matches!(step, Step::Failed(_) | Step::Proved { .. }) {
            self.phase = Phase::Ended;
        }
        step
    }

    /// One event of the stream: progress, or the task's end.
    fn event(&mut self, kind: &str, data: String) -> Step {
        let value: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
        match kind {
            "status" => Step::Show {
                stage: if value.get("status").and_then(Value::as_str) == Some("running") {
                    "proving"
                } else {
                    "queued"
                },
                percent: None,
                eta_ms: None,
            },
            "progress" => Step::Show {
                stage: "proving",
                percent: value
                    .get("percent")
                    .and_then(Value::as_f64)
                    .map(|p| p.clamp(0.0, 100.0)),
                eta_ms: value.get("etaMs").and_then(Value::as_f64),
            },
            "succeeded" => {
                let Some(id) = self.task().map(str::to_string) else {
                    return Step::Nothing;
                };
                if let Err(why) = self.answers_the_job(&value) {
                    return fail(ErrorCode::VerifyFailed, why);
                }
                self.phase = Phase::Checking {
                    id: id.clone(),
                    value: value.clone(),
                };
                Step::Check { id, data, value }
            }
            "failed" => {
                let message = value.get("message").and_then(Value::as_str).unwrap_or("");
                // The server's code when the runtime has it; its own codes are REMOTE_FAILED.
                let code = value
                    .get("code")
                    .and_then(Value::as_str)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(ErrorCode::RemoteFailed);
                fail(code, format!("on the prover server: {message}"))
            }
            "cancelled" => fail(
                ErrorCode::Cancelled,
                "the task was cancelled on the prover server".into(),
            ),
            _ => Step::Nothing,
        }
    }

    /// Whether the server's answer is for this job: its circuit, and a claim's public signals.
    fn answers_the_job(&self, value: &Value) -> Result<(), String> {
        let circuit = value.get("circuit").and_then(Value::as_str);
        if circuit != Some(self.circuit.as_str()) {
            return Err(format!(
                "the server proved {}, not {}: not returned",
                circuit.unwrap_or("no circuit"),
                self.circuit
            ));
        }
        let signals: Option<Vec<String>> = value
            .get("publicSignals")
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        match (signals, &self.expected) {
            (Some(s), Some(expected)) if &s == expected => Ok(()),
            (Some(_), None) => Ok(()),
            _ => Err("the server's public signals are not the claim's: not returned".into()),
        }
    }

    /// The page's checks: who made it, then what it proves.
    fn checked(
        &self,
        id: &str,
        value: Value,
        signature: Signature,
        proof: Result<(), (ErrorCode, String)>,
    ) -> Step {
        let public_key = value
            .get("publicKey")
            .and_then(Value::as_str)
            .unwrap_or("none");
        match &signature {
            Signature::UnknownKey => {
                let key: String = public_key.chars().take(64).collect();
                return fail(
                    ErrorCode::UnknownWorker,
                    format!("the result is signed with key {key}, which is not in workerKeys: not returned"),
                );
            }
            Signature::Invalid { worker } => {
                return fail(
                    ErrorCode::BadSignature,
                    format!(
                        "worker {worker}'s signature does not sign task {id}, circuit {}, the \
                         verifying key and this proof and public signals: not returned",
                        self.circuit
                    ),
                );
            }
            Signature::Unavailable { message } => {
                return fail(
                    ErrorCode::InvalidInput,
                    format!("options.remote.workerKeys: this browser cannot check Ed25519 signatures (WebCrypto): {message}"),
                );
            }
            Signature::NotPinned | Signature::Valid { .. } => {}
        }
        match proof {
            Ok(()) => {}
            Err((ErrorCode::KeyIntegrity, why)) => {
                // The page's verdict says the same first words (`verdict::worker_proof`).
                let why = why.rsplit(": ").next().unwrap_or_default();
                return fail(
                    ErrorCode::VerifyFailed,
                    format!(
                        "the server's proof does not verify with the manifest's verifying key \
                         ({why}): not returned"
                    ),
                );
            }
            Err((code, why)) => return fail(code, why),
        }
        let field = |k: &str| value.get(k).cloned().unwrap_or(Value::Null);
        Step::Proved {
            value: json!({
                "proof": field("proof"),
                "publicSignals": field("publicSignals"),
                "remote": {
                    "url": self.url,
                    "id": id,
                    "worker": field("worker"),
                    "publicKey": field("publicKey"),
                    "signature": field("signature"),
                },
            }),
        }
    }
}

fn fail(code: ErrorCode, message: String) -> Step {
    Step::Failed(RemoteFailure {
        code,
        message,
        server: None,
    })
}

/// A refusal of the server: REMOTE_FAILED with what it answered.
fn refused(status: u16, body: &Value, retry_after_ms: Option<f64>) -> Step {
    let code = body.get("code").and_then(Value::as_str).map(str::to_string);
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    Step::Failed(RemoteFailure {
        code: ErrorCode::RemoteFailed,
        message: format!(
            "the prover server answered {status} {}: {message}",
            code.as_deref().unwrap_or("")
        ),
        server: Some(ServerAnswer {
            code,
            status,
            retry_after_ms,
        }),
    })
}

/// The event stream was lost for the `losses`-th time in a row: read it again later, or give up.
fn lost(
    losses: u32,
    why: &str,
    retry_after_ms: Option<f64>,
    now_ms: f64,
    delay: &mut dyn FnMut(u32) -> f64,
) -> Step {
    if losses > MAX_STREAM_LOSSES {
        return fail(
            ErrorCode::Network,
            format!("lost the prover server's event stream: {why}"),
        );
    }
    Step::Wait {
        at_ms: now_ms + retry_after_ms.unwrap_or(0.0).max(delay(losses)),
    }
}

/// Whether a status asks to come back later (429, 503) within [`MAX_RETRY_AFTER_MS`].
fn comes_back(status: u16, retry_after_ms: Option<f64>) -> bool {
    matches!(status, 429 | 503) && retry_after_ms.is_none_or(|ms| ms <= MAX_RETRY_AFTER_MS)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by `airprover serve`: ignored).
fn retry_after_ms(header: Option<&str>) -> Option<f64> {
    let seconds: f64 = header?.trim().parse().ok()?;
    (seconds.is_finite() && seconds > 0.0).then_some(seconds * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::statement::CircomStatement;

    #[test]
    fn when_is_fallback_or_always() {
        assert_eq!("fallback".parse(), Ok(When::Fallback));
        assert_eq!("always".parse(), Ok(When::Always));
        assert_eq!("sometimes".parse::<When>(), Err(()));
    }

    #[test]
    fn retry_after_is_whole_or_fractional_seconds_and_nothing_else() {
        assert_eq!(retry_after_ms(Some("2")), Some(2000.0));
        assert_eq!(retry_after_ms(Some(" 0.5 ")), Some(500.0));
        for bad in [
            "0",
            "-1",
            "soon",
            "Wed, 21 Oct 2026 07:28:00 GMT",
            "NaN",
            "inf",
        ] {
            assert_eq!(retry_after_ms(Some(bad)), None, "{bad}");
        }
        assert_eq!(retry_after_ms(None), None);
    }

    #[test]
    fn only_429_and_503_within_the_longest_wait_come_back() {
        assert!(comes_back(429, None));
        assert!(comes_back(503, Some(MAX_RETRY_AFTER_MS)));
        assert!(!comes_back(503, Some(MAX_RETRY_AFTER_MS + 1.0)));
        for status in [400, 401, 403, 404, 413, 500, 502] {
            assert!(!comes_back(status, None), "{status}");
        }
    }

    #[test]
    fn a_ready_witness_has_no_request_and_an_input_is_sent_as_given() {
        let wtns = Statement::Circom(CircomStatement::witness("multi", vec![0; 8]).unwrap());
        assert_eq!(request(&wtns).unwrap(), None);
        let plan = Plan {
            when: When::Fallback,
            url: "https://x".into(),
        };
        assert!(!plan.first(&wtns));
        assert!(!plan.moves(ErrorCode::OutOfMemory, &wtns));
        assert!(
            plan.refusal(&wtns).is_none(),
            "'fallback': proved on the device"
        );
        let always = Plan {
            when: When::Always,
            ..plan
        };
        assert_eq!(
            always.refusal(&wtns).map(|r| r.code),
            Some(ErrorCode::InvalidInput)
        );
        let input = serde_json::json!({ "a": ["1", "2"] });
        let circom = Statement::Circom(CircomStatement::new("multi", &input).unwrap());
        let body: Value = serde_json::from_str(&request(&circom).unwrap().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "circuit": "multi", "input": input })
        );
        assert!(always.first(&circom));
        assert!(always.moves(ErrorCode::WorkerCrashed, &circom));
        assert!(!always.moves(ErrorCode::InvalidInput, &circom));
    }

    #[test]
    fn a_failed_event_keeps_a_known_code_and_names_an_unknown_one_remote_failed() {
        let input = serde_json::json!({ "a": "1" });
        let circom = Statement::Circom(CircomStatement::new("multi", &input).unwrap());
        let mut flow = Flow::new(&circom, "https://x");
        let b = &mut |retry: u32| 100.0 * f64::from(retry);
        let ok = Report::Answered {
            status: 201,
            body: serde_json::json!({ "id": "t" }),
            retry_after: None,
        };
        flow.on(ok, 0.0, b);
        let failed = |code: &str| Report::Event {
            id: None,
            kind: "failed".into(),
            data: serde_json::json!({ "code": code, "message": "m" }).to_string(),
        };
        let mut other = flow.clone();
        let Step::Failed(f) = flow.on(failed("WITNESS_FAILED"), 1.0, b) else {
            panic!()
        };
        assert_eq!(f.code, ErrorCode::WitnessFailed);
        let Step::Failed(f) = other.on(failed("QUOTA_EXCEEDED"), 1.0, b) else {
            panic!()
        };
        assert_eq!(f.code, ErrorCode::RemoteFailed);
        assert!(flow.ended() && other.ended());
        // Unknown events and data that is not JSON change nothing.
        let mut flow = Flow::new(&circom, "https://x");
        let ok = Report::Answered {
            status: 201,
            body: serde_json::json!({ "id": "t" }),
            retry_after: None,
        };
        flow.on(ok, 0.0, b);
        let odd = Report::Event {
            id: None,
            kind: "heartbeat".into(),
            data: "{".into(),
        };
        assert_eq!(flow.on(odd, 1.0, b), Step::Nothing);
        assert_eq!(flow.task(), Some("t"));
    }
}
