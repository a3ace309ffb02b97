//! A job on the operator's server through the engine, event by event: when it goes there, what
//! is sent, what each raw report of the page means (statuses, `Retry-After`, events, a lost
//! stream, the answer's checks), and that such a job is in stats, the audit log and quotas like
//! any other.

use super::*;
use crate::runtime::audit::EventKind;
use crate::runtime::engine::RemoteOp;
use crate::runtime::quota::QuotaLimits;
use crate::runtime::remote::{Plan, Report, Signature, When, MAX_SENDS, MAX_STREAM_LOSSES};
use crate::runtime::statement::CircomStatement;

const URL: &str = "https://prover.example.org";

fn remote_engine(when: When) -> Engine {
    let mut config = config(StoragePlan::default());
    config.scheduler.remote = Some(Plan {
        when,
        url: URL.into(),
    });
    config.keys.insert(
        "multi".into(),
        CircuitKeys {
            proving: key("zkey"),
            verifying: key("vkey-json"),
            witness: Some(key("wasm")),
        },
    );
    Engine::new(config)
}

fn remote_ops(fx: &[Effect]) -> Vec<RemoteOp> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Remote(op) => Some(op.clone()),
            _ => None,
        })
        .collect()
}

/// Why the one caller of `fx` was rejected.
fn rejection(fx: &[Effect]) -> crate::runtime::engine::Failure {
    fx.iter()
        .find_map(|f| match f {
            Effect::Reject { failure, .. } => Some(failure.clone()),
            _ => None,
        })
        .expect("a caller rejected")
}

/// The one request of `ops`.
fn one(ops: Vec<RemoteOp>) -> RemoteOp {
    assert_eq!(ops.len(), 1, "{ops:?}");
    ops.into_iter().next().unwrap()
}

fn report(e: &mut Engine, job: JobId, report: Report, now: f64) -> Vec<Effect> {
    e.handle(Event::Remote { job, report }, now)
}

fn answered(status: u16, body: serde_json::Value, retry_after: Option<&str>) -> Report {
    Report::Answered {
        status,
        body,
        retry_after: retry_after.map(Into::into),
    }
}

fn event(id: &str, kind: &str, data: serde_json::Value) -> Report {
    Report::Event {
        id: Some(id.into()),
        kind: kind.into(),
        data: data.to_string(),
    }
}

fn broken() -> Report {
    Report::StreamEnded {
        status: None,
        body: json!(null),
        retry_after: None,
        message: "network error".into(),
    }
}

/// The server's `succeeded` data for a claim (its public signals as the claim has them).
fn succeeded(claim: &Claim) -> serde_json::Value {
    json!({
        "circuit": CIRCUIT,
        "proof": { "pi_a": ["1", "2", "1"], "protocol": "groth16" },
        "publicSignals": crate::prover::export::public_to_json(&claim.public_signals()),
        "worker": "prover-0",
        "publicKey": "ab".repeat(32),
        "signature": "cd".repeat(64),
    })
}

/// Submits claim `seed` with `'always'` and has the server accept it as task `t1`.
fn accepted(e: &mut Engine, seed: u64) -> Ticket {
    let (ticket, fx) = submit(e, seed, 0.0);
    let ops = remote_ops(&fx);
    let [RemoteOp::Send { job, body }] = ops.as_slice() else {
        panic!("sent at once: {ops:?}");
    };
    assert_eq!(*job, ticket.job);
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["claim"], claim(seed).to_canonical_json());
    assert!(
        spawned(&fx).is_empty(),
        "no worker for a job the server proves"
    );
    let fx = report(
        e,
        ticket.job,
        answered(201, json!({ "id": "t1" }), None),
        1.0,
    );
    assert_eq!(
        remote_ops(&fx),
        [RemoteOp::Follow {
            job: ticket.job,
            id: "t1".into(),
            last_event: None
        }]
    );
    ticket
}

fn audit(e: &Engine) -> Vec<(EventKind, Option<String>)> {
    e.scheduler()
        .audit()
        .since(0)
        .map(|a| (a.kind, a.code.clone()))
        .collect()
}

#[test]
fn always_sends_first_follows_the_events_and_resolves_after_the_pages_check() {
    let mut e = remote_engine(When::Always);
    let ticket = accepted(&mut e, 1);
    assert_eq!(e.scheduler().stats().by_priority["NORMAL"].remote, 1);
    let fx = report(
        &mut e,
        ticket.job,
        event("1", "status", json!({ "status": "running" })),
        2.0,
    );
    assert_eq!(last_progress(&fx, ticket.job).0, "proving");
    let fx = report(
        &mut e,
        ticket.job,
        event("2", "progress", json!({ "percent": 40, "etaMs": 5000 })),
        3.0,
    );
    let view = fx
        .iter()
        .find_map(|f| match f {
            Effect::Progress { view, .. } => Some(view.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (view.stage, view.percent, view.eta_ms, view.remote),
        ("proving", 40.0, Some(5000.0), true)
    );
    let data = succeeded(&claim(1));
    let fx = report(
        &mut e,
        ticket.job,
        event("3", "succeeded", data.clone()),
        4.0,
    );
    assert!(
        resolved(&fx).is_empty(),
        "nothing resolves before the page's check"
    );
    let RemoteOp::Check {
        id,
        verifying_key,
        data: sent,
        ..
    } = one(remote_ops(&fx))
    else {
        panic!("the answer is checked on the page");
    };
    assert_eq!((id.as_str(), verifying_key), ("t1", key("vk")));
    assert_eq!(
        sent,
        data.to_string(),
        "the data as the server sent it (the signature covers it)"
    );
    let fx = report(
        &mut e,
        ticket.job,
        Report::Checked {
            signature: Signature::Valid {
                worker: "prover-0".into(),
            },
            proof: Ok(()),
        },
        5.0,
    );
    let [(subscriber, value)] = resolved(&fx).try_into().unwrap();
    assert_eq!(subscriber, ticket.subscriber);
    assert_eq!(value["remote"]["url"], URL);
    assert_eq!(value["remote"]["id"], "t1");
    assert_eq!(value["remote"]["worker"], "prover-0");
    assert_eq!(value["circuit"], CIRCUIT);
    assert_eq!(value["verifyingKeySha256"], key("vk").sha256);
    assert_eq!(value["publicSignals"], data["publicSignals"]);
    assert!(remote_ops(&fx).contains(&RemoteOp::End {
        job: ticket.job,
        cancel_task: None
    }));
    let stats = e.scheduler().stats();
    assert_eq!(
        (
            stats.by_priority["NORMAL"].remote,
            stats.by_priority["NORMAL"].completed
        ),
        (0, 1)
    );
    assert_eq!(
        audit(&e),
        [
            (EventKind::Submitted, None),
            (EventKind::SentToServer, None),
            (EventKind::Succeeded, None),
        ]
    );
    // A late report of the ended job changes nothing.
    assert!(remote_ops(&report(&mut e, ticket.job, broken(), 6.0)).is_empty());
}

#[test]
fn fallback_moves_a_job_the_device_cannot_prove_and_keeps_its_local_code() {
    let mut e = remote_engine(When::Fallback);
    let (ticket, fx) = submit_to(
        &mut e,
        Submission {
            max_retries: Some(0),
            ..submission(2)
        },
        0.0,
        0.0,
    );
    let ticket = ticket.unwrap();
    assert!(remote_ops(&fx).is_empty(), "proved on the device first");
    let w = spawned(&fx)[0].0;
    e.handle(ready(w, Build::Threaded, 4), 1.0);
    let fx = e.handle(
        from(
            w,
            job_error(ticket.job, "RangeError", None, "Out of memory"),
        ),
        2.0,
    );
    assert!(
        rejected(&fx).is_empty(),
        "the device's failure is not the end"
    );
    assert!(
        fx.iter()
            .all(|f| !matches!(f, Effect::Progress { view, .. } if view.stage == "failed")),
        "nor shown as one"
    );
    assert!(matches!(
        remote_ops(&fx).as_slice(),
        [RemoteOp::Send { .. }]
    ));
    assert_eq!(last_progress(&fx, ticket.job).0, "queued");
    report(
        &mut e,
        ticket.job,
        answered(202, json!({ "id": "t9" }), None),
        3.0,
    );
    let fx = report(
        &mut e,
        ticket.job,
        event(
            "1",
            "failed",
            json!({ "code": "SCORE_NOT_MET", "message": "score 3 < 5" }),
        ),
        4.0,
    );
    let failure = rejection(&fx);
    assert_eq!(failure.code, ErrorCode::ScoreNotMet);
    assert_eq!(failure.message, "on the prover server: score 3 < 5");
    assert_eq!(failure.local_error, Some(ErrorCode::OutOfMemory));
    let codes: Vec<&str> = failure.attempts.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes, ["OUT_OF_MEMORY", "SCORE_NOT_MET"]);
    assert_eq!(
        audit(&e),
        [
            (EventKind::Submitted, None),
            (EventKind::Started, None),
            (EventKind::SentToServer, Some("OUT_OF_MEMORY".into())),
            (EventKind::Failed, Some("SCORE_NOT_MET".into())),
        ]
    );
}

#[test]
fn a_refusal_is_remote_failed_with_what_the_server_answered() {
    let mut e = remote_engine(When::Always);
    let (ticket, _) = submit(&mut e, 3, 0.0);
    let fx = report(
        &mut e,
        ticket.job,
        answered(
            401,
            json!({ "code": "UNAUTHORIZED", "message": "no such key" }),
            None,
        ),
        1.0,
    );
    let failure = rejection(&fx);
    assert_eq!(failure.code, ErrorCode::RemoteFailed);
    assert_eq!(
        failure.message,
        "the prover server answered 401 UNAUTHORIZED: no such key"
    );
    let server = failure.server.unwrap();
    assert_eq!(
        (server.code.as_deref(), server.status, server.retry_after_ms),
        (Some("UNAUTHORIZED"), 401, None)
    );
    assert_eq!(failure.local_error, None);
}

#[test]
fn come_back_later_waits_its_retry_after_and_an_unreachable_server_is_network_after_the_last_try() {
    let mut e = remote_engine(When::Always);
    let (ticket, _) = submit(&mut e, 4, 0.0);
    let job = ticket.job;
    let fx = report(
        &mut e,
        job,
        answered(429, json!({ "code": "RATE_LIMITED" }), Some("2")),
        10.0,
    );
    assert!(
        fx.contains(&Effect::Arm {
            timer: Timer::Remote { job },
            at_ms: 2010.0
        }),
        "{fx:?}"
    );
    let fx = e.handle(Event::Timer(Timer::Remote { job }), 2010.0);
    assert!(
        matches!(remote_ops(&fx).as_slice(), [RemoteOp::Send { .. }]),
        "sent again"
    );
    // Unreachable: the runtime's backoff (100 ms doubling here, no jitter), then NETWORK.
    let mut now = 3000.0;
    let mut waits = Vec::new();
    for _ in 2..MAX_SENDS {
        let fx = report(
            &mut e,
            job,
            Report::Unreachable {
                message: "Failed to fetch".into(),
            },
            now,
        );
        let at = fx
            .iter()
            .find_map(|f| match f {
                Effect::Arm {
                    timer: Timer::Remote { .. },
                    at_ms,
                } => Some(*at_ms),
                _ => None,
            })
            .expect("tried again later");
        waits.push(at - now);
        now = at;
        e.handle(Event::Timer(Timer::Remote { job }), now);
    }
    assert_eq!(waits, [200.0, 400.0, 800.0]);
    let fx = report(
        &mut e,
        job,
        Report::Unreachable {
            message: "Failed to fetch".into(),
        },
        now,
    );
    let [(_, code, message)] = rejected(&fx).try_into().unwrap();
    assert_eq!(code, ErrorCode::Network);
    assert!(
        message.contains(URL) && message.contains("Failed to fetch"),
        "{message}"
    );
    // A Retry-After past the longest wait ends the job at once, with it.
    let (ticket, _) = submit(&mut e, 5, 0.0);
    let fx = report(
        &mut e,
        ticket.job,
        answered(503, json!({}), Some("3600")),
        1.0,
    );
    let failure = rejection(&fx);
    assert_eq!(failure.code, ErrorCode::RemoteFailed);
    assert_eq!(failure.server.unwrap().retry_after_ms, Some(3_600_000.0));
}

#[test]
fn a_lost_stream_is_read_again_after_the_last_event_until_too_many_losses_in_a_row() {
    let mut e = remote_engine(When::Always);
    let ticket = accepted(&mut e, 6);
    let job = ticket.job;
    report(
        &mut e,
        job,
        event("7", "status", json!({ "status": "queued" })),
        2.0,
    );
    let mut now = 10.0;
    for loss in 1..=MAX_STREAM_LOSSES {
        let fx = report(&mut e, job, broken(), now);
        assert!(rejected(&fx).is_empty(), "loss {loss} is not the end");
        now += 5000.0;
        let fx = e.handle(Event::Timer(Timer::Remote { job }), now);
        assert_eq!(
            remote_ops(&fx),
            [RemoteOp::Follow {
                job,
                id: "t1".into(),
                last_event: Some("7".into())
            }],
            "from after the last event seen"
        );
    }
    let fx = report(&mut e, job, broken(), now);
    let [(_, code, message)] = rejected(&fx).try_into().unwrap();
    assert_eq!(code, ErrorCode::Network);
    assert_eq!(
        message,
        "lost the prover server's event stream: network error"
    );
    // An event between losses starts the count again; a refusal of the stream (not a "come back
    // later") ends the job with what the server said.
    let ticket = accepted(&mut e, 7);
    for _ in 0..3 {
        report(&mut e, ticket.job, broken(), now);
        report(
            &mut e,
            ticket.job,
            event("1", "status", json!({ "status": "running" })),
            now,
        );
    }
    let fx = report(
        &mut e,
        ticket.job,
        Report::StreamEnded {
            status: Some(404),
            body: json!({ "code": "NOT_FOUND", "message": "no task t1" }),
            retry_after: None,
            message: String::new(),
        },
        now,
    );
    let [(_, code, _)] = rejected(&fx).try_into().unwrap();
    assert_eq!(code, ErrorCode::RemoteFailed);
}

/// What is done to the server's answer, the page's check (None: refused before it), the code and
/// words the job rejects with.
type Case = (
    &'static str,
    Box<dyn Fn(&mut serde_json::Value)>,
    Option<Report>,
    ErrorCode,
    &'static str,
);

#[test]
fn an_answer_that_is_not_the_jobs_or_not_the_pinned_workers_is_refused() {
    let cases: Vec<Case> = vec![
        (
            "another circuit",
            Box::new(|d| d["circuit"] = json!("threshold-d4-k3")),
            None,
            ErrorCode::VerifyFailed,
            "the server proved threshold-d4-k3",
        ),
        (
            "other signals",
            Box::new(|d| d["publicSignals"][0] = json!("1")),
            None,
            ErrorCode::VerifyFailed,
            "not the claim's",
        ),
        (
            "unknown key",
            Box::new(|_| {}),
            Some(Report::Checked {
                signature: Signature::UnknownKey,
                proof: Ok(()),
            }),
            ErrorCode::UnknownWorker,
            "not in workerKeys",
        ),
        (
            "bad signature",
            Box::new(|_| {}),
            Some(Report::Checked {
                signature: Signature::Invalid {
                    worker: "prover-0".into(),
                },
                proof: Ok(()),
            }),
            ErrorCode::BadSignature,
            "worker prover-0's signature does not sign task t1",
        ),
        (
            "a proof the manifest's key refuses",
            Box::new(|_| {}),
            Some(Report::Checked {
                signature: Signature::NotPinned,
                proof: Err((ErrorCode::KeyIntegrity, "the pairing check fails".into())),
            }),
            ErrorCode::VerifyFailed,
            "does not verify with the manifest's verifying key",
        ),
        (
            "the verifying key cannot be loaded",
            Box::new(|_| {}),
            Some(Report::Checked {
                signature: Signature::NotPinned,
                proof: Err((ErrorCode::Network, "vk: HTTP 502".into())),
            }),
            ErrorCode::Network,
            "vk: HTTP 502",
        ),
    ];
    for (seed, (what, alter, check, code, words)) in (10..).zip(cases) {
        let mut e = remote_engine(When::Always);
        let ticket = accepted(&mut e, seed);
        let mut data = succeeded(&claim(seed));
        alter(&mut data);
        let mut fx = report(&mut e, ticket.job, event("1", "succeeded", data), 2.0);
        if let Some(check) = check {
            assert!(
                matches!(remote_ops(&fx).as_slice(), [RemoteOp::Check { .. }]),
                "{what}"
            );
            fx = report(&mut e, ticket.job, check, 3.0);
        }
        let [(_, got, message)] = rejected(&fx)
            .try_into()
            .unwrap_or_else(|_| panic!("{what}: {fx:?}"));
        assert_eq!(got, code, "{what}");
        assert!(message.contains(words), "{what}: {message}");
        assert!(resolved(&fx).is_empty(), "{what}");
    }
}

#[test]
fn cancel_and_terminate_cancel_the_task_on_the_server() {
    let mut e = remote_engine(When::Always);
    let ticket = accepted(&mut e, 20);
    let fx = e.handle(
        Event::Cancel {
            job: ticket.job,
            subscriber: ticket.subscriber,
        },
        2.0,
    );
    assert_eq!(rejected(&fx)[0].1, ErrorCode::Cancelled);
    assert!(remote_ops(&fx).contains(&RemoteOp::End {
        job: ticket.job,
        cancel_task: Some("t1".into())
    }));
    assert!(fx.contains(&Effect::Disarm {
        timer: Timer::Remote { job: ticket.job }
    }));
    assert_eq!(last_progress(&fx, ticket.job).0, "cancelled");
    let ticket = accepted(&mut e, 21);
    let fx = e.handle(Event::Terminate, 3.0);
    assert_eq!(rejected(&fx)[0].1, ErrorCode::Terminated);
    assert!(remote_ops(&fx).contains(&RemoteOp::End {
        job: ticket.job,
        cancel_task: Some("t1".into())
    }));
    // Cancelled before the server answered: nothing to cancel there yet.
    let mut e = remote_engine(When::Always);
    let (ticket, _) = submit(&mut e, 22, 0.0);
    let fx = e.handle(
        Event::Cancel {
            job: ticket.job,
            subscriber: ticket.subscriber,
        },
        1.0,
    );
    assert!(remote_ops(&fx).contains(&RemoteOp::End {
        job: ticket.job,
        cancel_task: None
    }));
    // Its late acceptance is stale.
    assert!(remote_ops(&report(
        &mut e,
        ticket.job,
        answered(201, json!({ "id": "t2" }), None),
        2.0
    ))
    .is_empty());
}

#[test]
fn remote_jobs_count_against_quotas_and_a_ready_witness_never_goes() {
    let mut config = config(StoragePlan::default());
    config.scheduler.remote = Some(Plan {
        when: When::Always,
        url: URL.into(),
    });
    config.scheduler.quotas = QuotaLimits {
        max_active: Some(1),
        max_per_minute: None,
    };
    config.keys.insert(
        "multi".into(),
        CircuitKeys {
            proving: key("zkey"),
            verifying: key("vkey-json"),
            witness: Some(key("wasm")),
        },
    );
    let mut e = Engine::new(config);
    let user = |seed| Submission {
        user_id: Some("alice".into()),
        ..submission(seed)
    };
    submit_to(&mut e, user(30), 0.0, 0.0)
        .0
        .expect("the first is sent");
    let refusal = submit_to(&mut e, user(31), 0.0, 1.0).0.unwrap_err();
    assert_eq!(
        refusal.code,
        ErrorCode::RateLimited,
        "the job on the server holds the quota"
    );
    let wtns = Submission {
        statement: Statement::Circom(CircomStatement::witness("multi", vec![1, 2, 3]).unwrap()),
        ..submission(32)
    };
    let refusal = submit_to(&mut e, wtns.clone(), 0.0, 2.0).0.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::InvalidInput);
    assert!(
        refusal.message.contains("never sent"),
        "{}",
        refusal.message
    );
    // With 'fallback' it is the device's alone: proved there, and its failure stays its own.
    let mut e = remote_engine(When::Fallback);
    let (ticket, fx) = submit_to(
        &mut e,
        Submission {
            max_retries: Some(0),
            ..wtns
        },
        0.0,
        0.0,
    );
    let job = ticket.unwrap().job;
    let w = spawned(&fx)[0].0;
    e.handle(ready(w, Build::Threaded, 4), 1.0);
    let fx = e.handle(
        from(w, job_error(job, "RangeError", None, "Out of memory")),
        2.0,
    );
    assert!(remote_ops(&fx).is_empty());
    assert_eq!(rejected(&fx)[0].1, ErrorCode::OutOfMemory);
}

#[test]
fn a_circom_input_is_sent_as_circuit_and_input_and_its_signals_are_the_proofs_own() {
    let mut e = remote_engine(When::Always);
    let input = json!({ "a": "3", "b": ["1", "2"] });
    let (ticket, fx) = submit_to(
        &mut e,
        Submission {
            statement: Statement::Circom(CircomStatement::new("multi", &input).unwrap()),
            ..submission(40)
        },
        0.0,
        0.0,
    );
    let job = ticket.unwrap().job;
    let RemoteOp::Send { body, .. } = one(remote_ops(&fx)) else {
        panic!("sent");
    };
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({ "circuit": "multi", "input": input })
    );
    report(&mut e, job, answered(201, json!({ "id": "c1" }), None), 1.0);
    let data = json!({ "circuit": "multi", "proof": {}, "publicSignals": ["33"] });
    let fx = report(&mut e, job, event("1", "succeeded", data), 2.0);
    let RemoteOp::Check { verifying_key, .. } = one(remote_ops(&fx)) else {
        panic!("checked with the entry's verification_key.json");
    };
    assert_eq!(verifying_key, key("vkey-json"));
}
