//! A circom job through the engine: the same job as a claim's (stages, verification on the page,
//! caches), with the decisions that differ (a keyed cache key, never stored, the zkey and witness
//! wasm sent to the worker).

use super::*;
use crate::runtime::statement::{CacheKey, CircomStatement};

const CIRCOM: &str = "my-circuit";

fn circom_engine(storage: StoragePlan) -> Engine {
    let mut config = config(storage);
    config.keys.insert(
        CIRCOM.into(),
        CircuitKeys {
            proving: key("zkey"),
            verifying: key("vkey-json"),
            witness: Some(key("wasm")),
        },
    );
    Engine::new(config)
}

fn circom_submission(vote: u32) -> Submission {
    let input = json!({ "vote": vote.to_string() });
    Submission {
        statement: Statement::Circom(CircomStatement::new(CIRCOM, &input).unwrap()),
        ..submission(1)
    }
}

#[test]
fn a_circom_job_sends_its_zkey_wasm_and_input_and_shows_circom_stages() {
    let mut e = circom_engine(StoragePlan::default());
    let (ticket, fx) = submit_to(&mut e, circom_submission(1), 0.0, 0.0);
    let ticket = ticket.unwrap();
    assert_eq!(ticket.durable, Durability::Known(false));
    let w = spawned(&fx)[0].0;
    let fx = e.handle(ready(w, Build::Threaded, 4), 1.0);
    let message = fx
        .iter()
        .find_map(|f| match f {
            Effect::Post {
                message: PageMessage::Job(m),
                ..
            } => Some(m.clone()),
            _ => None,
        })
        .expect("the job is posted");
    assert_eq!(message.circuit, CIRCOM);
    assert_eq!(
        message.key,
        Some(key("zkey")),
        "the zkey is the proving key"
    );
    assert!(message.claim.is_empty());
    let work = message.circom.expect("a circom job");
    assert_eq!(work.wasm, key("wasm"));
    assert_eq!(work.input, r#"{"vote":"1"}"#);
    assert_eq!(last_progress(&fx, ticket.job).0, "download");
    for (stage, shown) in [
        ("download", "download"),
        ("convert", "convert"),
        ("witness", "witness"),
        ("msm-h", "proving"),
    ] {
        let progress = WorkerMessage::JobProgress {
            id: ticket.job,
            progress: StageProgress {
                stage: stage.into(),
                fraction: 0.5,
            },
            memory_bytes: None,
        };
        let fx = e.handle(from(w, progress), 2.0);
        assert_eq!(last_progress(&fx, ticket.job).0, shown);
    }
    // Checked on the page against the entry's verifying key, with the worker's public signals.
    let fx = e.handle(from(w, result(ticket.job)), 3.0);
    let Some(Effect::Verify {
        statement,
        verifying_key,
        ..
    }) = fx.iter().find(|f| matches!(f, Effect::Verify { .. }))
    else {
        panic!("{fx:?}")
    };
    assert_eq!(verifying_key, &key("vkey-json"));
    assert!(statement.claim().is_none());
    let fx = e.handle(
        Event::Verified {
            job: ticket.job,
            worker: w,
            verdict: Ok(()),
        },
        4.0,
    );
    let resolved = resolved(&fx);
    assert_eq!(resolved[0].1["publicSignals"], json!(["7", "8"]));
    assert_eq!(resolved[0].1["circuit"], CIRCOM);
}

#[test]
fn a_circom_input_is_cached_under_a_keyed_hash_and_never_stored() {
    let mut e = circom_engine(StoragePlan {
        proof_cache: true,
        durable_queue: true,
        key_cache: Some("airprover".into()),
        audit_log: false,
    });
    let (ticket, fx) = submit_to(&mut e, circom_submission(0), 0.0, 0.0);
    let ticket = ticket.unwrap();
    assert_eq!(ticket.durable, Durability::Known(false), "never at rest");
    let ops = storage(&fx);
    let [StorageOp::Lookup {
        key: CacheKey::Keyed { message },
        statement,
        verifying_key,
        ..
    }] = ops.as_slice()
    else {
        panic!("a keyed lookup, nothing stored: {ops:?}")
    };
    assert_eq!(verifying_key, &key("vkey-json"));
    assert!(message.contains(&key("vkey-json").sha256));
    assert!(statement.claim().is_none());
    let message = message.clone();
    let fx = e.handle(
        Event::CacheAnswer {
            job: ticket.job,
            lookup: Lookup::Miss,
        },
        1.0,
    );
    let w = spawned(&fx)[0].0;
    e.handle(ready(w, Build::Threaded, 4), 2.0);
    e.handle(from(w, result(ticket.job)), 3.0);
    let verified = Event::Verified {
        job: ticket.job,
        worker: w,
        verdict: Ok(()),
    };
    let fx = e.handle(verified, 3.5);
    let ops = storage(&fx);
    let [StorageOp::CacheProof {
        record,
        key,
        durable,
        ..
    }] = ops.as_slice()
    else {
        panic!("{ops:?}")
    };
    assert_eq!(key, &CacheKey::Keyed { message });
    assert_eq!(record.circuit, CIRCOM);
    assert_eq!(*durable, None);
}

#[test]
fn a_circom_input_for_a_claim_circuit_and_a_claim_for_a_circom_one_are_refused() {
    let mut e = circom_engine(StoragePlan::default());
    let mut wrong = circom_submission(1);
    let input = json!({ "vote": "1" });
    wrong.statement = Statement::Circom(CircomStatement::new("other-circuit", &input).unwrap());
    let refusal = submit_to(&mut e, wrong, 0.0, 0.0).0.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::KeyNotFound);
    assert!(!refusal.message.contains("vote"));
}

#[test]
fn a_ready_witness_is_sent_as_bytes_keyed_and_never_stored() {
    let mut e = circom_engine(StoragePlan {
        proof_cache: true,
        durable_queue: true,
        key_cache: Some("airprover".into()),
        audit_log: false,
    });
    let wtns = b"wtns\x02\x00\x00\x00private".to_vec();
    let submission = Submission {
        statement: Statement::Circom(CircomStatement::witness(CIRCOM, wtns.clone()).unwrap()),
        ..submission(1)
    };
    let (ticket, fx) = submit_to(&mut e, submission, 0.0, 0.0);
    let ticket = ticket.unwrap();
    assert_eq!(ticket.durable, Durability::Known(false), "never at rest");
    let ops = storage(&fx);
    let [StorageOp::Lookup {
        key: CacheKey::Keyed { message },
        ..
    }] = ops.as_slice()
    else {
        panic!("a keyed lookup, nothing stored: {ops:?}")
    };
    assert!(
        message.ends_with(&hex::encode(&wtns)),
        "the HMAC covers the bytes"
    );
    let fx = e.handle(
        Event::CacheAnswer {
            job: ticket.job,
            lookup: Lookup::Miss,
        },
        1.0,
    );
    let w = spawned(&fx)[0].0;
    let fx = e.handle(ready(w, Build::Threaded, 4), 2.0);
    let work = fx
        .iter()
        .find_map(|f| match f {
            Effect::Post {
                message: PageMessage::Job(m),
                ..
            } => m.circom.clone(),
            _ => None,
        })
        .expect("a circom job is posted");
    assert_eq!(work.witness.as_deref(), Some(&wtns[..]));
    assert!(work.input.is_empty());
    assert!(!format!("{work:?}").contains("private"));
    // No input field for the worker to mistake it for an input job.
    let json = serde_json::to_value(&work).unwrap();
    assert!(json.get("input").is_none());
    assert_eq!(last_progress(&fx, ticket.job).0, "download");
}
