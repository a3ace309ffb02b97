//! The engine's decisions, event by event: what the page does for each thing that happens.

use std::collections::BTreeMap;

use serde_json::json;

use super::code::ErrorCode;
use super::durable::{DurableJob, MAX_RUNS};
use super::engine::{
    Answer, CircuitKeys, Durability, Effect, Engine, EngineConfig, Event, Lookup, StorageOp,
    StoragePlan, SubscriberId, Ticket, Timer,
};
use super::fallback::Build;
use super::protocol::{
    DownloadFailure, Fault, KeyMessage, PageMessage, StageProgress, ThreadingInfo, WorkerError,
    WorkerMessage,
};
use super::queue::Priority;
use super::retry::Backoff;
use super::scheduler::{Config, JobId, Submission, WorkerId};
use crate::claim::Claim;
use crate::runtime::statement::Statement;
use crate::tree::sample::sample;

const CIRCUIT: &str = "threshold-d4-k2";

fn claim(seed: u64) -> Claim {
    Claim::from_value(&sample(&CIRCUIT.parse().unwrap(), 6, seed).unwrap().claim).unwrap()
}

fn submission(seed: u64) -> Submission {
    Submission {
        statement: Statement::Claim(claim(seed)),
        priority: Priority::Normal,
        user_id: None,
        max_retries: None,
        timeout_ms: None,
        fallback_circuits: Vec::new(),
    }
}

fn key(name: &str) -> KeyMessage {
    KeyMessage {
        url: format!("/keys/{name}"),
        sha256: format!("{name:0>64}"),
        bytes: 100.0,
        development: true,
    }
}

fn config(storage: StoragePlan) -> EngineConfig {
    let mut keys = BTreeMap::new();
    keys.insert(
        CIRCUIT.to_string(),
        CircuitKeys {
            proving: key("pk"),
            verifying: key("vk"),
            witness: None,
        },
    );
    EngineConfig {
        scheduler: Config {
            backoff: Backoff {
                base_ms: 100.0,
                factor: 2.0,
                max_ms: 1000.0,
                jitter: 0.0,
            },
            build: Build::Threaded,
            ..Config::default()
        },
        seed: 1,
        keys,
        threads: 4,
        reason: "cross-origin isolated".into(),
        cross_origin_isolated: true,
        storage,
        fault: None,
    }
}

fn engine() -> Engine {
    Engine::new(config(StoragePlan::default()))
}

fn durable_engine() -> Engine {
    Engine::new(config(StoragePlan {
        proof_cache: false,
        durable_queue: true,
        key_cache: Some("airprover".into()),
        audit_log: false,
    }))
}

/// [`Event::Submit`]: the answer and the other effects.
fn submit_to(
    e: &mut Engine,
    submission: Submission,
    wall_ms: f64,
    now: f64,
) -> (Answer, Vec<Effect>) {
    answered(e.handle(
        Event::Submit {
            submission,
            wall_ms,
        },
        now,
    ))
}

/// [`Event::Resume`]: the answer and the other effects.
fn resume_to(e: &mut Engine, record: DurableJob, now: f64) -> (Answer, Vec<Effect>) {
    answered(e.handle(Event::Resume { record }, now))
}

fn answered(mut fx: Vec<Effect>) -> (Answer, Vec<Effect>) {
    let answer = Effect::take_answer(&mut fx).expect("the answer comes first");
    (answer, fx)
}

fn submit(e: &mut Engine, seed: u64, now: f64) -> (Ticket, Vec<Effect>) {
    let (ticket, fx) = submit_to(e, submission(seed), 1_700_000_000_000.0, now);
    (ticket.expect("accepted"), fx)
}

fn spawned(fx: &[Effect]) -> Vec<(WorkerId, Build, PageMessage)> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Spawn {
                worker,
                build,
                init,
            } => Some((*worker, *build, init.clone())),
            _ => None,
        })
        .collect()
}

fn ready(worker: WorkerId, build: Build, threads: u32) -> Event {
    Event::Worker {
        worker,
        message: WorkerMessage::Ready {
            build,
            info: ThreadingInfo {
                threaded: build == Build::Threaded,
                threads: Some(threads),
            },
            ms: 1.0,
        },
    }
}

/// A message from a worker.
fn from(worker: WorkerId, message: WorkerMessage) -> Event {
    Event::Worker { worker, message }
}

/// The jobs posted to workers: (worker, job id, attempt, has a fault).
fn posted(fx: &[Effect]) -> Vec<(WorkerId, JobId, u32, bool)> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Post {
                worker,
                message: PageMessage::Job(m),
            } => Some((*worker, m.id, m.attempt, m.fault.is_some())),
            _ => None,
        })
        .collect()
}

fn storage(fx: &[Effect]) -> Vec<&StorageOp> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Storage(op) => Some(op),
            _ => None,
        })
        .collect()
}

fn resolved(fx: &[Effect]) -> Vec<(SubscriberId, serde_json::Value)> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Resolve { subscriber, value } => Some((*subscriber, value.clone())),
            _ => None,
        })
        .collect()
}

fn rejected(fx: &[Effect]) -> Vec<(SubscriberId, ErrorCode, String)> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Reject {
                subscriber,
                failure,
            } => Some((*subscriber, failure.code, failure.message.clone())),
            _ => None,
        })
        .collect()
}

fn last_progress(fx: &[Effect], job: JobId) -> (&'static str, f64, bool, Vec<SubscriberId>) {
    fx.iter()
        .rev()
        .find_map(|f| match f {
            Effect::Progress {
                job: j,
                view,
                subscribers,
            } if *j == job => Some((view.stage, view.percent, view.done, subscribers.clone())),
            _ => None,
        })
        .expect("progress published")
}

fn result(job: JobId) -> WorkerMessage {
    WorkerMessage::JobResult {
        id: job,
        value: json!({ "proof": { "pi_a": ["1", "2", "1"] }, "publicSignals": ["7", "8"] }),
        ms: 10.0,
        memory_bytes: Some(64.0 * 1024.0 * 1024.0),
    }
}

fn job_error(job: JobId, name: &str, code: Option<&str>, message: &str) -> WorkerMessage {
    WorkerMessage::JobError {
        id: job,
        error: WorkerError {
            name: Some(name.into()),
            code: code.map(Into::into),
            message: Some(message.into()),
            ..WorkerError::default()
        },
        memory_bytes: None,
    }
}

/// The worker sends its proof; the page checks it against the manifest's key (`verdict`).
fn prove(
    e: &mut Engine,
    worker: WorkerId,
    job: JobId,
    verdict: Result<(), (ErrorCode, String)>,
    now: f64,
) -> Vec<Effect> {
    let fx = e.handle(
        Event::Worker {
            worker,
            message: result(job),
        },
        now,
    );
    assert!(
        resolved(&fx).is_empty(),
        "nothing resolves before the page's check"
    );
    let Some(Effect::Verify {
        job: checked,
        worker: by,
        verifying_key,
        statement,
        ..
    }) = fx.iter().find(|f| matches!(f, Effect::Verify { .. }))
    else {
        return fx; // a stale result: nothing to check
    };
    assert_eq!((*checked, *by), (job, worker));
    assert_eq!(verifying_key, &key("vk"), "the manifest's verifying key");
    assert_eq!(statement.circuit().to_string(), CIRCUIT);
    e.handle(
        Event::Verified {
            job,
            worker,
            verdict,
        },
        now + 1.0,
    )
}

/// A worker's report that the job failed with `code`.
fn failure(job: JobId, code: &str, message: &str) -> WorkerMessage {
    job_error(job, "AirproverError", Some(code), message)
}

/// Submits one claim that may not be retried and brings its worker up: (ticket, worker).
fn running_once(e: &mut Engine) -> (Ticket, WorkerId) {
    let mut s = submission(1);
    s.max_retries = Some(0);
    let (t, fx) = submit_to(e, s, 0.0, 0.0);
    let w = spawned(&fx)[0].0;
    e.handle(ready(w, Build::Threaded, 4), 1.0);
    (t.expect("accepted"), w)
}

/// Submits one claim and brings its worker up: (ticket, worker, the effects of `ready`).
fn running(e: &mut Engine) -> (Ticket, WorkerId, Vec<Effect>) {
    let (t, fx) = submit(e, 1, 0.0);
    let (w, _, _) = spawned(&fx)[0].clone();
    let fx = e.handle(ready(w, Build::Threaded, 4), 5.0);
    (t, w, fx)
}

#[test]
fn a_job_runs_on_a_worker_it_spawns_and_resolves_with_its_circuit_and_key() {
    let mut e = engine();
    let (t, fx) = submit(&mut e, 1, 0.0);
    assert_eq!(t.durable, Durability::Known(false));
    let spawns = spawned(&fx);
    assert_eq!(spawns.len(), 1);
    let (w, build, init) = spawns[0].clone();
    assert_eq!(build, Build::Threaded);
    assert_eq!(
        init,
        PageMessage::Init {
            threads: 4,
            build: Build::Threaded
        }
    );
    assert_eq!(
        last_progress(&fx, t.job),
        ("queued", 0.0, false, vec![t.subscriber])
    );

    let fx = e.handle(ready(w, Build::Threaded, 4), 5.0);
    assert_eq!(posted(&fx), [(w, t.job, 1, false)]);
    let Some(Effect::Post {
        message: PageMessage::Job(m),
        ..
    }) = fx.iter().find(|f| matches!(f, Effect::Post { .. }))
    else {
        unreachable!()
    };
    assert_eq!(m.key, Some(key("pk")), "the manifest's proving key");
    assert_eq!(m.storage.as_ref().map(|s| s.name.as_str()), None);
    assert_eq!(last_progress(&fx, t.job).0, "loading-keys");

    let fx = e.handle(
        from(
            w,
            WorkerMessage::JobProgress {
                id: t.job,
                progress: StageProgress {
                    stage: "msm-h".into(),
                    fraction: 0.5,
                },
                memory_bytes: None,
            },
        ),
        50.0,
    );
    assert_eq!(last_progress(&fx, t.job).0, "proving");
    assert_eq!(last_progress(&fx, t.job).1, 52.5);

    let fx = prove(&mut e, w, t.job, Ok(()), 100.0);
    let r = resolved(&fx);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, t.subscriber);
    assert_eq!(r[0].1["circuit"], CIRCUIT);
    assert_eq!(r[0].1["verifyingKeySha256"], key("vk").sha256);
    assert_eq!(r[0].1["publicSignals"], json!(["7", "8"]));
    assert_eq!(
        last_progress(&fx, t.job),
        ("done", 100.0, true, vec![t.subscriber])
    );
    // No storage in use: nothing to cache or end.
    assert!(storage(&fx).is_empty());
    let Some(Effect::Publish { stats, .. }) = fx
        .iter()
        .rev()
        .find(|f| matches!(f, Effect::Publish { .. }))
    else {
        panic!("published")
    };
    assert_eq!(stats.threads_in_use, 4);
    assert_eq!(stats.wasm_memory_per_worker, [64.0 * 1024.0 * 1024.0]);
}

#[test]
fn a_claim_without_keys_in_the_manifest_is_refused() {
    let mut e = Engine::new(EngineConfig {
        keys: BTreeMap::new(),
        ..config(StoragePlan::default())
    });
    let (ticket, fx) = submit_to(&mut e, submission(1), 0.0, 0.0);
    assert_eq!(ticket.unwrap_err().code, ErrorCode::KeyNotFound);
    assert!(spawned(&fx).is_empty());
}

#[test]
fn threads_that_do_not_start_downgrade_the_build_everywhere_and_say_why() {
    let mut e = engine();
    let (t, fx) = submit(&mut e, 1, 0.0);
    let (w, build, init) = spawned(&fx)[0].clone();
    assert_eq!(build, Build::Threaded);
    assert_eq!(
        init,
        PageMessage::Init {
            threads: 4,
            build: Build::Threaded
        },
        "the worker is told its build and its threads"
    );
    let failed = WorkerMessage::ThreadsFailed {
        error: "no SharedArrayBuffer".into(),
    };
    let fx = e.handle(from(w, failed), 5.0);
    let Some(Effect::Publish { stats, status }) = fx
        .iter()
        .rev()
        .find(|f| matches!(f, Effect::Publish { .. }))
    else {
        panic!("published")
    };
    assert_eq!(status.build, Build::Single);
    assert_eq!(status.threads, 1);
    assert_eq!(status.code, Some(ErrorCode::ThreadsUnavailable));
    assert!(
        status.reason.contains("no SharedArrayBuffer"),
        "{}",
        status.reason
    );
    // The scheduler's stats and the status line agree.
    assert_eq!(stats.scheduler.build, "single");
    let json = serde_json::to_value(status).unwrap();
    assert_eq!(json["code"], "THREADS_UNAVAILABLE");
    assert_eq!(json["build"], "single");
    // The worker is replaced by a single-threaded one, and the job runs there.
    assert!(fx.contains(&Effect::Terminate { worker: w }));
    let respawn = spawned(&fx);
    assert_eq!(respawn.len(), 1);
    let (w2, build, init) = respawn[0].clone();
    assert_eq!(build, Build::Single);
    assert_eq!(
        init,
        PageMessage::Init {
            threads: 1,
            build: Build::Single
        }
    );
    let fx = e.handle(ready(w2, Build::Single, 1), 6.0);
    assert_eq!(posted(&fx), [(w2, t.job, 1, false)], "the job runs");
    assert!(!e.status().terminated);
    // The next worker starts single-threaded too.
    let fx = e.handle(
        from(
            w2,
            job_error(
                t.job,
                "RangeError",
                None,
                "WebAssembly.Memory(): could not allocate memory",
            ),
        ),
        10.0,
    );
    assert!(
        fx.contains(&Effect::Terminate { worker: w2 }),
        "out of memory: the worker goes"
    );
    // The retry, after its backoff, gets a new worker: single-threaded from now on.
    let fx = e.handle(Event::Timer(Timer::Wake), 1_000.0);
    let respawn = spawned(&fx);
    assert_eq!(respawn.len(), 1, "an out-of-memory worker is replaced");
    assert_eq!(respawn[0].1, Build::Single);
    assert_eq!(
        respawn[0].2,
        PageMessage::Init {
            threads: 1,
            build: Build::Single
        }
    );
}

#[test]
fn workers_that_cannot_start_end_the_runtime_and_reject_its_jobs() {
    let mut e = engine();
    let (t, fx) = submit(&mut e, 1, 0.0);
    let mut worker = spawned(&fx)[0].0;
    let mut all = Vec::new();
    for i in 0..10 {
        let fx = e.handle(Event::SpawnFailed { worker }, 1.0 + i as f64);
        all.extend(fx.iter().cloned());
        match spawned(&fx).first() {
            Some((w, _, _)) => worker = *w,
            None => break,
        }
    }
    assert!(e.status().terminated);
    assert_eq!(e.status().reason, "workers cannot be started on this page");
    assert_eq!(
        rejected(&all),
        [(
            t.subscriber,
            ErrorCode::Terminated,
            ErrorCode::Terminated.default_message().to_string()
        )]
    );
    assert_eq!(e.worker_count(), 0);
    let (again, _) = submit_to(&mut e, submission(2), 0.0, 20.0);
    assert_eq!(again.unwrap_err().code, ErrorCode::Terminated);
}

#[test]
fn one_caller_cancelling_leaves_the_job_to_the_others_and_the_last_one_stops_it() {
    let mut e = engine();
    let (first, w, _) = running(&mut e);
    let (second, fx) = submit(&mut e, 1, 6.0);
    assert_eq!(second.job, first.job, "identical claims share a job");
    assert!(spawned(&fx).is_empty());

    let fx = e.handle(
        Event::Cancel {
            job: first.job,
            subscriber: first.subscriber,
        },
        7.0,
    );
    assert_eq!(
        rejected(&fx),
        [(
            first.subscriber,
            ErrorCode::Cancelled,
            "cancelled by the caller".into()
        )]
    );
    assert!(!fx.iter().any(|f| matches!(f, Effect::Terminate { .. })));
    // A second cancel of the same caller is nothing.
    assert!(rejected(&e.handle(
        Event::Cancel {
            job: first.job,
            subscriber: first.subscriber,
        },
        8.0,
    ))
    .is_empty());

    let fx = e.handle(
        Event::Cancel {
            job: second.job,
            subscriber: second.subscriber,
        },
        9.0,
    );
    assert_eq!(rejected(&fx)[0].1, ErrorCode::Cancelled);
    assert!(
        fx.contains(&Effect::Terminate { worker: w }),
        "running wasm stops only with its worker"
    );
    assert_eq!(last_progress(&fx, first.job).0, "cancelled");
    // The worker's late result is stale.
    let fx = prove(&mut e, w, first.job, Ok(()), 10.0);
    assert!(resolved(&fx).is_empty());
}

#[test]
fn an_attempt_timer_ends_the_attempt_and_a_stale_one_does_nothing() {
    let mut e = engine();
    let mut s = submission(1);
    s.timeout_ms = Some(2_147_483_648.0); // 2^31 ms: armed as it is, never cast
    let (t, fx) = submit_to(&mut e, s, 0.0, 0.0);
    let t = t.unwrap();
    let w = spawned(&fx)[0].0;
    let fx = e.handle(ready(w, Build::Threaded, 4), 5.0);
    let timer = Timer::Attempt {
        job: t.job,
        attempt: 1,
    };
    assert!(fx.contains(&Effect::Arm {
        timer,
        at_ms: 5.0 + 2_147_483_648.0
    }));
    // Attempt 1 times out: its worker ends, the job waits for its retry.
    let fx = e.handle(Event::Timer(timer), 2_147_483_653.0);
    assert!(fx.contains(&Effect::Terminate { worker: w }));
    assert_eq!(last_progress(&fx, t.job).0, "queued");
    assert!(rejected(&fx).is_empty(), "TIMEOUT is retried");
    // The same timer again (a late callback) changes nothing.
    let fx = e.handle(Event::Timer(timer), 2_147_483_654.0);
    assert!(!fx
        .iter()
        .any(|f| matches!(f, Effect::Terminate { .. } | Effect::Reject { .. })));
}

#[test]
fn the_wake_timer_is_armed_again_only_for_an_earlier_time() {
    let mut e = engine();
    let (t, w, _) = running(&mut e);
    let fx = e.handle(
        from(w, failure(t.job, "NETWORK", "key download failed")),
        10.0,
    );
    let arms: Vec<f64> = fx
        .iter()
        .filter_map(|f| match f {
            Effect::Arm {
                timer: Timer::Wake,
                at_ms,
            } => Some(*at_ms),
            _ => None,
        })
        .collect();
    // The worker idles (a wake-up at its idle timeout), then the retry is due sooner: the timer
    // is armed again, earlier (the web layer keeps one timer per name: the last one).
    assert_eq!(arms, [60_010.0, 110.0]);
    let fx = e.handle(
        Event::Timer(Timer::Attempt {
            job: t.job,
            attempt: 9,
        }),
        50.0,
    );
    assert!(
        !fx.iter().any(|f| matches!(
            f,
            Effect::Arm {
                timer: Timer::Wake,
                ..
            }
        )),
        "no wake-up armed later than the one armed"
    );
    let fx = e.handle(Event::Timer(Timer::Wake), 111.0);
    assert_eq!(posted(&fx), [(w, t.job, 2, false)]);
}

#[test]
fn a_workers_message_keeps_its_words_and_an_unknown_code_is_internal() {
    let mut e = engine();
    let (t, w, _) = running(&mut e);
    let fx = e.handle(
        from(w, failure(t.job, "NO_SUCH_CODE", "a newer worker")),
        10.0,
    );
    assert_eq!(
        rejected(&fx),
        [(t.subscriber, ErrorCode::Internal, "a newer worker".into())]
    );
}

/// A key download that failed reaches the engine as the server's raw status: the engine codes it
/// (404: the key is not there; anything else, or no answer: the network).
#[test]
fn a_failed_key_download_is_coded_from_the_status_the_worker_reports() {
    for (status, code) in [
        (Some(404), ErrorCode::KeyNotFound),
        (Some(503), ErrorCode::Network),
        (None, ErrorCode::Network),
    ] {
        let mut e = engine();
        let (t, w) = running_once(&mut e);
        let message = WorkerMessage::JobError {
            id: t.job,
            error: WorkerError {
                name: Some("Error".into()),
                message: Some("/keys/pk: HTTP 404".into()),
                download: Some(DownloadFailure { status }),
                ..WorkerError::default()
            },
            memory_bytes: None,
        };
        let fx = e.handle(from(w, message), 10.0);
        assert_eq!(
            rejected(&fx),
            [(t.subscriber, code, "/keys/pk: HTTP 404".into())],
            "{status:?}"
        );
    }
}

/// A proof that failed its self-check on a key whose point check failed is the key's failure:
/// KEY_INTEGRITY, with the check's words, not retried; a key check that could not run leaves it.
#[test]
fn a_failed_self_check_on_a_key_with_a_bad_point_rejects_as_key_integrity() {
    let check = |code: &str, message: &str| WorkerError {
        code: Some(code.into()),
        message: Some(message.into()),
        ..WorkerError::default()
    };
    for (key_check, code, message) in [
        (
            Some(check("KEY_INTEGRITY", "KEY_INTEGRITY: invalid point")),
            ErrorCode::KeyIntegrity,
            "invalid point",
        ),
        (
            Some(check("NETWORK", "NETWORK: offline")),
            ErrorCode::VerifyFailed,
            "the proof does not verify",
        ),
        (None, ErrorCode::VerifyFailed, "the proof does not verify"),
    ] {
        let mut e = engine();
        let (t, w) = running_once(&mut e);
        let mut error = failure(
            t.job,
            "VERIFY_FAILED",
            "VERIFY_FAILED: the proof does not verify",
        );
        if let WorkerMessage::JobError { error, .. } = &mut error {
            error.key_check = key_check.map(Box::new);
        }
        let fx = e.handle(from(w, error), 10.0);
        assert_eq!(rejected(&fx), [(t.subscriber, code, message.into())]);
    }
}

/// A worker's error is its Display text, which starts with its code: the job's message has it
/// once (the boundary writes it in front), and a message that only mentions a code keeps it.
#[test]
fn a_workers_message_loses_the_code_it_starts_with() {
    for (code, sent, kept) in [
        (
            "ZKEY_CORRUPT",
            "ZKEY_CORRUPT: section 5 (A): point 0 is not on the curve (G1)",
            "section 5 (A): point 0 is not on the curve (G1)",
        ),
        (
            "KEY_INTEGRITY",
            "KEY_INTEGRITY: ZKEY_CORRUPT: another code's spelling stays",
            "ZKEY_CORRUPT: another code's spelling stays",
        ),
        (
            "ZKEY_CORRUPT",
            "ZKEY_CORRUPTION is not the code",
            "ZKEY_CORRUPTION is not the code",
        ),
    ] {
        let mut e = engine();
        let (t, w) = running_once(&mut e);
        let fx = e.handle(from(w, failure(t.job, code, sent)), 10.0);
        assert_eq!(
            rejected(&fx),
            [(t.subscriber, code.parse().unwrap(), kept.into())]
        );
    }
}

#[test]
fn a_cache_hit_resolves_without_a_worker_and_a_rejected_entry_is_proved() {
    let mut e = Engine::new(config(StoragePlan {
        proof_cache: true,
        ..StoragePlan::default()
    }));
    let (t, fx) = submit(&mut e, 1, 0.0);
    assert!(spawned(&fx).is_empty(), "the cache is asked first");
    let ops = storage(&fx);
    let [StorageOp::Lookup {
        job, verifying_key, ..
    }] = ops.as_slice()
    else {
        panic!("{ops:?}")
    };
    assert_eq!((*job, verifying_key), (t.job, &key("vk")));
    let fx = e.handle(
        Event::CacheAnswer {
            job: t.job,
            lookup: Lookup::Hit(json!({ "proof": {}, "publicSignals": [] })),
        },
        1.0,
    );
    assert_eq!(resolved(&fx)[0].1["circuit"], CIRCUIT);
    assert!(spawned(&fx).is_empty());
    assert!(
        storage(&fx).is_empty(),
        "a cached proof is not cached again"
    );

    let (t, _) = submit(&mut e, 2, 2.0);
    let fx = e.handle(
        Event::CacheAnswer {
            job: t.job,
            lookup: Lookup::Rejected("digest mismatch".into()),
        },
        3.0,
    );
    assert!(fx.contains(&Effect::Warn(
        "a cached proof was evicted: digest mismatch".into()
    )));
    let w = spawned(&fx)[0].0;
    e.handle(ready(w, Build::Threaded, 4), 4.0);
    let fx = prove(&mut e, w, t.job, Ok(()), 5.0);
    let ops = storage(&fx);
    let [StorageOp::CacheProof {
        record, durable, ..
    }] = ops.as_slice()
    else {
        panic!("{ops:?}")
    };
    assert_eq!(record.circuit, CIRCUIT);
    assert_eq!(record.public_signals, ["7", "8"]);
    assert_eq!(*durable, None);
}

#[test]
fn a_durable_job_is_stored_once_its_runs_counted_once_and_its_record_ends_with_it() {
    let mut e = durable_engine();
    let (t, fx) = submit(&mut e, 1, 0.0);
    assert_eq!(t.durable, Durability::Storing);
    let ops = storage(&fx);
    let [StorageOp::StoreJob { job, record }] = ops.as_slice() else {
        panic!("{ops:?}")
    };
    assert_eq!((*job, record.runs), (t.job, 0));
    let id = record.id.clone();
    let first_worker = spawned(&fx)[0].0;
    // An identical submission joins it: nothing stored twice.
    let (joined, fx) = submit(&mut e, 1, 1.0);
    assert_eq!(joined.durable, Durability::Known(true));
    assert!(storage(&fx).is_empty());

    let w = first_worker;
    let fx = e.handle(ready(w, Build::Threaded, 4), 2.0);
    let ops = storage(&fx);
    let [StorageOp::PutJob { record }] = ops.as_slice() else {
        panic!("{ops:?}")
    };
    assert_eq!(record.runs, 1, "the run is counted when a worker starts it");
    // A retry on another worker is the same run of this runtime.
    let fx = e.handle(Event::WorkerDied { worker: w }, 3.0);
    let w = spawned(&fx)[0].0;
    let fx: Vec<Effect> = e
        .handle(ready(w, Build::Threaded, 4), 4.0)
        .into_iter()
        .chain(e.handle(Event::Timer(Timer::Wake), 500.0))
        .collect();
    assert_eq!(posted(&fx).len(), 1);
    assert!(storage(&fx).is_empty(), "counted once per runtime");
    // Terminated: the job did not fail, its record stays (unlocked) for the next runtime.
    let fx = e.handle(Event::Terminate, 600.0);
    assert_eq!(rejected(&fx).len(), 2, "both callers hear TERMINATED");
    assert!(rejected(&fx).iter().all(|r| r.1 == ErrorCode::Terminated));
    let ops = storage(&fx);
    let [StorageOp::EndJob { id: ended, leaves }] = ops.as_slice() else {
        panic!("{ops:?}")
    };
    assert_eq!((ended, *leaves), (&id, false));
}

#[test]
fn a_failed_durable_job_leaves_the_queue() {
    let mut e = durable_engine();
    let (t, w) = running_once(&mut e);
    let fx = e.handle(from(w, failure(t.job, "SCORE_NOT_MET", "bad")), 2.0);
    assert_eq!(rejected(&fx)[0].1, ErrorCode::ScoreNotMet);
    assert!(matches!(
        storage(&fx).as_slice(),
        [StorageOp::EndJob { leaves: true, .. }]
    ));
}

fn stored(seed: u64, runs: u32) -> DurableJob {
    let mut record = DurableJob::new(format!("job-{seed}"), &submission(seed), 0.0).unwrap();
    record.runs = runs;
    record
}

#[test]
fn a_refused_stored_job_is_kept_unlocked_and_resumed_when_a_job_ends() {
    let mut e = Engine::new(EngineConfig {
        scheduler: Config {
            capacity: 1,
            ..config(StoragePlan::default()).scheduler
        },
        ..config(StoragePlan {
            durable_queue: true,
            ..StoragePlan::default()
        })
    });
    let (first, fx) = resume_to(&mut e, stored(1, 0), 0.0);
    let first = first.unwrap();
    assert_eq!(first.durable, Durability::Known(true));
    let w = spawned(&fx)[0].0;
    let (second, fx) = resume_to(&mut e, stored(2, 0), 1.0);
    assert_eq!(second.unwrap_err().code, ErrorCode::QueueFull);
    assert!(storage(&fx).contains(&&StorageOp::Unlock { id: "job-2".into() }));
    e.handle(ready(w, Build::Threaded, 4), 2.0);
    let fx = prove(&mut e, w, first.job, Ok(()), 3.0);
    let resumes: Vec<&StorageOp> = storage(&fx)
        .into_iter()
        .filter(|op| matches!(op, StorageOp::Resume { .. }))
        .collect();
    let [StorageOp::Resume { records }] = resumes.as_slice() else {
        panic!("{resumes:?}")
    };
    assert_eq!(records, &[stored(2, 0)]);
    let (again, _) = resume_to(&mut e, records[0].clone(), 4.0);
    assert!(again.is_ok(), "room now");
}

#[test]
fn a_stored_job_that_ran_too_often_is_dropped() {
    let mut e = durable_engine();
    let (t, fx) = resume_to(&mut e, stored(1, MAX_RUNS), 0.0);
    assert!(t.is_err());
    assert!(spawned(&fx).is_empty());
    assert!(storage(&fx).contains(&&StorageOp::EndJob {
        id: "job-1".into(),
        leaves: true
    }));
}

#[test]
fn test_faults_go_to_the_first_attempts_only() {
    let mut e = Engine::new(EngineConfig {
        fault: Some((
            Fault {
                crash_at_stage: Some("msm-h".into()),
                stall_ms: 60_000.0,
                ..Fault::default()
            },
            1,
        )),
        ..config(StoragePlan::default())
    });
    let (t, w, fx) = running(&mut e);
    assert_eq!(posted(&fx), [(w, t.job, 1, true)]);
    let fx = e.handle(Event::WorkerDied { worker: w }, 10.0);
    let w = spawned(&fx)[0].0;
    let fx: Vec<Effect> = e
        .handle(ready(w, Build::Threaded, 4), 11.0)
        .into_iter()
        .chain(e.handle(Event::Timer(Timer::Wake), 1_000.0))
        .collect();
    assert_eq!(posted(&fx), [(w, t.job, 2, false)]);
}

#[test]
fn progress_of_a_worker_that_no_longer_runs_the_job_is_ignored() {
    let mut e = engine();
    let (t, w, _) = running(&mut e);
    e.handle(Event::WorkerDied { worker: w }, 10.0);
    let fx = e.handle(
        from(
            w,
            WorkerMessage::JobProgress {
                id: t.job,
                progress: StageProgress {
                    stage: "msm-b2".into(),
                    fraction: 1.0,
                },
                memory_bytes: None,
            },
        ),
        11.0,
    );
    assert!(!fx.iter().any(|f| matches!(f, Effect::Progress { .. })));
}

#[test]
fn audit_events_are_copied_once_and_only_when_kept() {
    let mut kept = Engine::new(config(StoragePlan {
        audit_log: true,
        ..StoragePlan::default()
    }));
    let (_, fx) = submit(&mut kept, 1, 0.0);
    let copied: usize = storage(&fx)
        .iter()
        .map(|op| match op {
            StorageOp::AppendAudit { events } => events.len(),
            _ => 0,
        })
        .sum();
    assert!(copied > 0);
    let fx = kept.handle(Event::StorageChanged, 1.0);
    assert!(storage(&fx).is_empty(), "nothing new: nothing copied");

    let mut e = engine();
    let (_, fx) = submit(&mut e, 1, 0.0);
    assert!(storage(&fx).is_empty());
}

#[test]
fn a_proof_that_fails_the_manifests_verifying_key_is_key_integrity_not_a_result() {
    let mut e = engine();
    let (t, w) = running_once(&mut e);
    let why = "the proof does not verify against the manifest's verifying key";
    let fx = prove(
        &mut e,
        w,
        t.job,
        Err((ErrorCode::KeyIntegrity, why.into())),
        2.0,
    );
    assert!(resolved(&fx).is_empty());
    let r = rejected(&fx);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].1, ErrorCode::KeyIntegrity);
    assert_eq!(r[0].2, why);
    assert_eq!(last_progress(&fx, t.job).0, "failed");
}

#[test]
fn a_verdict_for_a_job_cancelled_meanwhile_changes_nothing() {
    let mut e = engine();
    let (t, w, _) = running(&mut e);
    e.handle(from(w, result(t.job)), 10.0);
    e.handle(
        Event::Cancel {
            job: t.job,
            subscriber: t.subscriber,
        },
        11.0,
    );
    let fx = e.handle(
        Event::Verified {
            job: t.job,
            worker: w,
            verdict: Ok(()),
        },
        12.0,
    );
    assert!(resolved(&fx).is_empty());
    assert!(rejected(&fx).is_empty());
}

#[path = "engine_circom_tests.rs"]
mod circom;
#[path = "engine_remote_tests.rs"]
mod remote;
