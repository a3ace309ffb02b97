//! The page–worker protocol: every message between the runtime (`src/web/runtime/`) and its
//! prover workers (`src/js/prover-worker.js`, `src/js/worker-jobs.js`; their JSDoc typedefs in
//! `src/js/protocol.d.ts` mirror these types), tagged by `type`.
//!
//! Every tag starts with `airprover:` so it never clashes with the messages of wasm-bindgen-rayon's
//! own workers. Plain data only: the runtime turns these into and out of JS values with serde.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::answers;
use super::code::ErrorCode;
use super::fallback::Build;

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PageMessage {
    /// Load the wasm module: `build` as asked, `threads` for the threaded build's pool.
    #[serde(rename = "airprover:init")]
    Init {
        /// Threads for the pool (the threaded build).
        threads: u32,
        /// The build the runtime asks for.
        build: Build,
    },
    /// Prove a claim.
    #[serde(rename = "airprover:job")]
    Job(Box<JobMessage>),
}

/// One attempt of a job, for a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    /// The job.
    pub id: u64,
    /// The attempt (1 for the first).
    pub attempt: u32,
    /// The circuit to prove with.
    pub circuit: String,
    /// The claim, canonical JSON (empty for a circom job).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub claim: String,
    /// A circom job: its input and witness wasm (`key` is then the circuit's snarkjs `.zkey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circom: Option<CircomWork>,
    /// The proving key (`None`: the manifest has none for the circuit; the worker fails the job).
    pub key: Option<KeyMessage>,
    /// The IndexedDB database whose `keys` store caches proving keys; `None` for no key cache.
    pub storage: Option<StorageName>,
    /// Test-only fault injection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
}

/// What a worker needs for a circom job beside the zkey: an input and the witness wasm that
/// computes its witness, or a ready witness (then the wasm is not loaded).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CircomWork {
    /// The input object, JSON (never logged, never in an error); empty for a ready witness.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub input: String,
    /// A ready witness, the bytes of a snarkjs `.wtns` (a `Uint8Array` in JS), read and checked
    /// by the worker; `None` for an input.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    pub witness: Option<Vec<u8>>,
    /// circom's witness wasm, pinned like a key (and cached with the keys).
    pub wasm: KeyMessage,
}

impl std::fmt::Debug for CircomWork {
    /// Never the input nor the witness: private signals.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircomWork")
            .field("input", &self.input.len())
            .field("witness", &self.witness.as_ref().map(Vec::len))
            .field("wasm", &self.wasm)
            .finish()
    }
}

/// A key file as the manifest pins it: the proving key a job's worker loads, and the verifying key
/// the page checks cached proofs with (both through storage.js's `loadKey`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyMessage {
    /// Where to download it.
    pub url: String,
    /// Its SHA-256 (hex), checked before it is used.
    pub sha256: String,
    /// Its size.
    pub bytes: f64,
    /// Made from a fixed seed: a development key.
    pub development: bool,
}

/// The key cache's database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageName {
    /// Its name.
    pub name: String,
    /// How long its open may stay blocked by another tab ([`answers::OPEN_BLOCKED_MS`]).
    pub blocked_ms: u32,
}

/// Where a worker fails on purpose (the runtime's `faultInjection`, tests only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// Crash (a wasm trap) when this stage starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_at_stage: Option<String>,
    /// Go silent (no progress) at this stage for `stall_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_at_stage: Option<String>,
    /// Throw a RangeError (out of memory) at this stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_at_stage: Option<String>,
    /// How long a stall lasts.
    pub stall_ms: f64,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum WorkerMessage {
    /// The module is loaded.
    #[serde(rename = "airprover:ready")]
    Ready {
        /// The build that runs: the one the init message asked for.
        build: Build,
        /// The module's threading info.
        info: ThreadingInfo,
        /// How long loading took.
        #[serde(default)]
        ms: f64,
    },
    /// The threaded build was asked for and did not start in this worker (no shared memory, or
    /// the thread pool failed). The worker loads nothing else: the runtime decides the fallback.
    #[serde(rename = "airprover:threads-failed")]
    ThreadsFailed {
        /// Why, as the browser said it.
        error: String,
    },
    /// The module did not load at all.
    #[serde(rename = "airprover:error")]
    Error {
        /// What failed.
        error: WorkerError,
    },
    /// A job's progress (zero or more per attempt).
    #[serde(rename = "airprover:job-progress")]
    JobProgress {
        /// The job.
        id: u64,
        /// Stage and fraction of it.
        progress: StageProgress,
        /// The worker's wasm memory.
        #[serde(
            default,
            rename = "memoryBytes",
            skip_serializing_if = "Option::is_none"
        )]
        memory_bytes: Option<f64>,
    },
    /// A proving key was loaded for a job (from the cache or the network).
    #[serde(rename = "airprover:key-event")]
    KeyEvent {
        /// The job.
        id: u64,
        /// What happened.
        event: KeyEvent,
    },
    /// A job proved.
    #[serde(rename = "airprover:job-result")]
    JobResult {
        /// The job.
        id: u64,
        /// `{ proof, publicSignals }`, snarkjs's JSON.
        value: Value,
        /// How long it took in the worker.
        #[serde(default)]
        ms: f64,
        /// The worker's wasm memory.
        #[serde(
            default,
            rename = "memoryBytes",
            skip_serializing_if = "Option::is_none"
        )]
        memory_bytes: Option<f64>,
    },
    /// A job failed.
    #[serde(rename = "airprover:job-error")]
    JobError {
        /// The job.
        id: u64,
        /// What failed.
        error: WorkerError,
        /// The worker's wasm memory.
        #[serde(
            default,
            rename = "memoryBytes",
            skip_serializing_if = "Option::is_none"
        )]
        memory_bytes: Option<f64>,
    },
}

impl WorkerMessage {
    /// The worker's wasm memory, where the message says it.
    pub fn memory_bytes(&self) -> Option<f64> {
        match self {
            WorkerMessage::JobProgress { memory_bytes, .. }
            | WorkerMessage::JobResult { memory_bytes, .. }
            | WorkerMessage::JobError { memory_bytes, .. } => *memory_bytes,
            _ => None,
        }
    }
}

/// `threadingInfo()` of the loaded module.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ThreadingInfo {
    /// Whether rayon runs over a pool of workers.
    #[serde(default)]
    pub threaded: bool,
    /// The pool's size.
    #[serde(default)]
    pub threads: Option<u32>,
}

/// A stage and how far into it (0 to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageProgress {
    /// The prover's stage.
    pub stage: String,
    /// How far into it.
    #[serde(default)]
    pub fraction: f64,
}

/// How a job's proving key was loaded.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyEvent {
    /// `cache` or `network`.
    #[serde(default)]
    pub source: Option<String>,
    /// A stored copy that did not match its pin was dropped ([`answers::load_stored_key`]): how
    /// the runtime reports it is [`answers::dropped_key`]'s decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evicted: Option<DroppedKey>,
    /// Storing the downloaded key failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_error: Option<WorkerError>,
}

/// A stored key copy a worker (or the page) dropped, as storage.js reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DroppedKey {
    /// The key file's URL.
    pub url: String,
    /// The dropped copy's size.
    #[serde(default)]
    pub bytes: u64,
}

impl DroppedKey {
    /// Its code and words ([`answers::dropped_key`]).
    pub fn report(&self) -> (ErrorCode, String) {
        answers::dropped_key(&self.url, self.bytes)
    }
}

/// An error as a worker reports it (storage.js's `plainError`): the runtime decides the code
/// (`ErrorCode::of_worker_failure`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WorkerError {
    /// The JS error's `name` (`RangeError`, `AirproverError`, ...).
    #[serde(default)]
    pub name: Option<String>,
    /// An airprover error's code.
    #[serde(default)]
    pub code: Option<String>,
    /// In words.
    #[serde(default)]
    pub message: Option<String>,
    /// A wasm trap (`WebAssembly.RuntimeError`).
    #[serde(default)]
    pub trap: bool,
    /// The origin's storage quota is exhausted.
    #[serde(default)]
    pub quota: bool,
    /// A key download that did not give the file: what the server answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<DownloadFailure>,
    /// A key download gave a whole file whose size or SHA-256 is not the manifest's pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<PinMismatch>,
    /// The job message named no key file (the manifest has none for its circuit).
    #[serde(default, rename = "noKey", skip_serializing_if = "std::ops::Not::not")]
    pub no_key: bool,
    /// After a failure [`answers::checks_key_after`] names: how checking the proving key's points
    /// failed (None: the key is sound, or it was not checked).
    #[serde(default, rename = "keyCheck", skip_serializing_if = "Option::is_none")]
    pub key_check: Option<Box<WorkerError>>,
}

/// A key download's raw answer, as storage.js reports it: the code is
/// [`answers::download_failed`]'s decision.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DownloadFailure {
    /// The HTTP status; None where `fetch` itself failed.
    #[serde(default)]
    pub status: Option<u16>,
}

/// A downloaded key file that is not the pinned one, as storage.js reports it: its code is
/// [`answers::key_failed`]'s decision.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PinMismatch {
    /// The bytes that came.
    #[serde(default)]
    pub received: u64,
}

impl WorkerError {
    /// Why the job had no pinned key file, where the worker reported one of the raw answers: no
    /// key named, a file that is not the pin, or a download that gave none.
    pub fn key_failure(&self) -> Option<answers::KeyFailure> {
        use answers::KeyFailure;
        if self.no_key {
            Some(KeyFailure::NotNamed)
        } else if self.mismatch.is_some() {
            Some(KeyFailure::NotThePin)
        } else {
            self.download
                .map(|d| d.status.map_or(KeyFailure::NoAnswer, KeyFailure::Status))
        }
    }

    /// The failure to report: a proof that failed its self-check (VERIFY_FAILED) on a key whose
    /// point check then failed KEY_INTEGRITY is the key's failure (the key is bad, not the
    /// proof: retrying with it cannot help); anything else is itself.
    pub fn settled(self) -> WorkerError {
        let bad_key = self.code() == ErrorCode::VerifyFailed
            && self
                .key_check
                .as_ref()
                .is_some_and(|k| k.code() == ErrorCode::KeyIntegrity);
        match self.key_check {
            Some(check) if bad_key => *check,
            _ => self,
        }
    }

    /// Its code: [`ErrorCode::of_worker_failure`], where a key file that did not come is coded
    /// from the raw answer ([`WorkerError::key_failure`], [`answers::key_failed`]).
    pub fn code(&self) -> ErrorCode {
        let key = self.key_failure().map(|f| answers::key_failed(f).as_str());
        ErrorCode::of_worker_failure(
            self.name.as_deref().unwrap_or_default(),
            self.code.as_deref().or(key),
            self.message.as_deref().unwrap_or_default(),
            self.trap,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_messages_have_the_workers_shape() {
        let init = PageMessage::Init {
            threads: 4,
            build: Build::Threaded,
        };
        assert_eq!(
            serde_json::to_value(&init).unwrap(),
            json!({ "type": "airprover:init", "threads": 4, "build": "threaded" })
        );
        let job = PageMessage::Job(Box::new(JobMessage {
            id: 7,
            attempt: 2,
            circuit: "threshold-d4-k2".into(),
            claim: "{}".into(),
            circom: None,
            key: Some(KeyMessage {
                url: "/keys/a.pk".into(),
                sha256: "ab".into(),
                bytes: 10.0,
                development: true,
            }),
            storage: None,
            fault: Some(Fault {
                oom_at_stage: Some("msm".into()),
                stall_ms: 60_000.0,
                ..Fault::default()
            }),
        }));
        let value = serde_json::to_value(&job).unwrap();
        assert_eq!(
            value,
            json!({ "type": "airprover:job", "id": 7, "attempt": 2, "circuit": "threshold-d4-k2",
                "claim": "{}", "key": { "url": "/keys/a.pk", "sha256": "ab", "bytes": 10.0,
                "development": true }, "storage": null,
                "fault": { "oomAtStage": "msm", "stallMs": 60000.0 } })
        );
        assert_eq!(serde_json::from_value::<PageMessage>(value).unwrap(), job);
    }

    #[test]
    fn worker_messages_read_as_the_worker_writes_them() {
        // As prover-worker.js and worker-jobs.js post them.
        let ready: WorkerMessage = serde_json::from_value(json!({ "type": "airprover:ready",
            "build": "single", "info": { "threaded": false, "threads": 1 }, "ms": 12.5 }))
        .unwrap();
        assert_eq!(
            ready,
            WorkerMessage::Ready {
                build: Build::Single,
                info: ThreadingInfo {
                    threaded: false,
                    threads: Some(1)
                },
                ms: 12.5,
            }
        );
        let failed: WorkerMessage = serde_json::from_value(json!({
            "type": "airprover:threads-failed", "error": "no SharedArrayBuffer" }))
        .unwrap();
        assert_eq!(
            failed,
            WorkerMessage::ThreadsFailed {
                error: "no SharedArrayBuffer".into()
            }
        );
        let progress: WorkerMessage = serde_json::from_value(json!({
            "type": "airprover:job-progress", "id": 3, "progress": { "stage": "msm", "fraction": 0.5 },
            "memoryBytes": 1048576 }))
        .unwrap();
        assert_eq!(progress.memory_bytes(), Some(1_048_576.0));
        let failed: WorkerMessage = serde_json::from_value(json!({ "type": "airprover:job-error",
            "id": 3, "error": { "name": "RuntimeError", "message": "unreachable", "trap": true } }))
        .unwrap();
        let WorkerMessage::JobError { id: 3, error, .. } = failed else {
            panic!("{failed:?}")
        };
        assert!(error.trap && error.code.is_none() && !error.quota);
        let key: WorkerMessage = serde_json::from_value(json!({ "type": "airprover:key-event",
            "id": 3, "event": { "source": "network", "storeError": { "name": "AirproverError",
            "code": "IO_ERROR", "message": "full", "quota": true } } }))
        .unwrap();
        let WorkerMessage::KeyEvent { event, .. } = key else {
            panic!()
        };
        assert!(event.store_error.is_some_and(|e| e.quota));
        let result: WorkerMessage = serde_json::from_value(json!({ "type": "airprover:job-result",
            "id": 3, "value": { "proof": {}, "publicSignals": ["1"] }, "ms": 5 }))
        .unwrap();
        assert!(matches!(result, WorkerMessage::JobResult { id: 3, .. }));
    }

    #[test]
    fn a_failed_download_is_coded_from_its_raw_status() {
        let reported = |error| serde_json::from_value::<WorkerError>(error).unwrap().code();
        // As storage.js's plainError reports a download that failed: no code, the raw answer.
        let missing = json!({ "name": "Error", "code": null, "message": "/k.pk: HTTP 404",
            "trap": false, "quota": false, "download": { "status": 404 } });
        assert_eq!(reported(missing), ErrorCode::KeyNotFound);
        let down = json!({ "name": "Error", "message": "/k.pk: HTTP 503",
            "download": { "status": 503 } });
        assert_eq!(reported(down), ErrorCode::Network);
        let offline = json!({ "name": "TypeError", "message": "/k.pk: Failed to fetch",
            "download": { "status": null } });
        assert_eq!(reported(offline), ErrorCode::Network);
        // Not a download: the error's own code, else INTERNAL; a trap is still a crash.
        assert_eq!(
            reported(json!({ "code": "KEY_INTEGRITY", "message": "x" })),
            ErrorCode::KeyIntegrity
        );
        assert_eq!(reported(json!({ "message": "x" })), ErrorCode::Internal);
        let trapped =
            json!({ "trap": true, "message": "unreachable", "download": { "status": 404 } });
        assert_eq!(reported(trapped), ErrorCode::WorkerCrashed);
    }

    #[test]
    fn a_failed_self_check_on_a_key_with_a_bad_point_is_the_keys_failure() {
        let read = |error| {
            serde_json::from_value::<WorkerError>(error)
                .unwrap()
                .settled()
        };
        // As worker-jobs.js reports it: the proof's VERIFY_FAILED, the key check's KEY_INTEGRITY.
        let bad = read(json!({ "name": "AirproverError", "code": "VERIFY_FAILED",
            "message": "VERIFY_FAILED: the proof does not verify", "keyCheck": { "name":
            "AirproverError", "code": "KEY_INTEGRITY", "message": "KEY_INTEGRITY: invalid point" } }));
        assert_eq!(bad.code(), ErrorCode::KeyIntegrity);
        assert_eq!(bad.message.as_deref(), Some("KEY_INTEGRITY: invalid point"));
        // The key could not be read again (offline): the proof's failure stands.
        let offline = read(json!({ "code": "VERIFY_FAILED", "message": "m",
            "keyCheck": { "message": "/k.pk: Failed to fetch", "download": { "status": null } } }));
        assert_eq!(offline.code(), ErrorCode::VerifyFailed);
        assert_eq!(offline.message.as_deref(), Some("m"));
        // A sound key (no keyCheck), or a key check attached to another failure: unchanged.
        assert_eq!(
            read(json!({ "code": "VERIFY_FAILED" })).code(),
            ErrorCode::VerifyFailed
        );
        let other = read(json!({ "code": "NETWORK", "keyCheck": { "code": "KEY_INTEGRITY" } }));
        assert_eq!(other.code(), ErrorCode::Network);
    }

    #[test]
    fn a_key_file_that_is_not_the_pin_or_not_named_is_coded_from_the_raw_answer() {
        let reported = |error| serde_json::from_value::<WorkerError>(error).unwrap().code();
        // As storage.js's plainError reports a download whose bytes are not the pinned file.
        let swapped = json!({ "name": "Error", "code": null, "message": "/k.pk: 10 bytes whose size or SHA-256 does not match the manifest",
            "trap": false, "quota": false, "mismatch": { "received": 10 } });
        assert_eq!(reported(swapped), ErrorCode::KeyIntegrity);
        // As worker-jobs.js reports a job message without a key.
        let unnamed = json!({ "name": "Error", "message": "no proving key for c", "noKey": true });
        assert_eq!(reported(unnamed), ErrorCode::KeyNotFound);
        // A point check that downloaded another file settles a failed self-check as the key's.
        let bad = serde_json::from_value::<WorkerError>(json!({ "code": "VERIFY_FAILED",
            "keyCheck": { "message": "m", "mismatch": { "received": 3 } } }))
        .unwrap()
        .settled();
        assert_eq!(bad.code(), ErrorCode::KeyIntegrity);
        // Only a reported fact counts: an error without one keeps its own code, else INTERNAL.
        assert_eq!(
            reported(json!({ "message": "x", "noKey": false })),
            ErrorCode::Internal
        );
    }

    #[test]
    fn a_dropped_key_copy_is_reported_by_the_runtime() {
        let key: WorkerMessage = serde_json::from_value(json!({ "type": "airprover:key-event",
            "id": 3, "event": { "source": "network", "evicted": { "url": "/k.pk", "bytes": 7 } } }))
        .unwrap();
        let WorkerMessage::KeyEvent { event, .. } = key else {
            panic!()
        };
        let (code, words) = event.evicted.unwrap().report();
        assert_eq!(code, ErrorCode::KeyIntegrity);
        assert!(words.contains("/k.pk (7 bytes)"), "{words}");
    }

    #[test]
    fn a_job_names_its_storage_and_how_long_its_open_may_block() {
        let storage = StorageName {
            name: "airprover".into(),
            blocked_ms: answers::OPEN_BLOCKED_MS,
        };
        assert_eq!(
            serde_json::to_value(&storage).unwrap(),
            json!({ "name": "airprover", "blockedMs": 3000 })
        );
    }

    #[test]
    fn messages_of_others_are_not_ours() {
        for other in [
            json!({ "type": "wasm_bindgen_worker_init" }),
            json!({ "type": "airprover:job-result" }),
            json!({ "type": "airprover:unknown", "id": 1 }),
            json!({ "id": 1 }),
            json!("airprover:ready"),
        ] {
            assert!(
                serde_json::from_value::<WorkerMessage>(other.clone()).is_err(),
                "{other}"
            );
        }
    }
}
