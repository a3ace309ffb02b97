//! `airprover worker`: takes proof tasks from Redis (CRITICAL first, FIFO within a priority),
//! proves natively (a claim, or a circom circuit of its key directory: the witness from circom's
//! witness wasm on the native engine, the key converted from the zkey once and cached by the
//! zkey's SHA-256), checks the proof, signs it, stores it and acknowledges the entry; takes over
//! the entries of workers that went silent; retries what may succeed later with backoff; sends
//! what was delivered too often to the dead letters; gives up a prover that stopped making
//! progress. Every write it makes is fenced by its (worker, attempt): a worker whose task was
//! taken over writes nothing more for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use rand::Rng;
use redis::AsyncCommands;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::code::Code;
use super::http::metrics::redis_failed;
use super::now_ms;
use super::redis::seal::InputSealing;
use super::redis::{Entry, Keys, Queue, Started, Tasks};
use super::signature::{sha256_hex, ProofStatement};
use super::task_input::TaskInput;
use crate::api;
use crate::circom::cache::{Origin, ZkeyCache};
use crate::circom::engine::WitnessCalculator;
use crate::prover::key_dir::KeyDir;
use crate::prover::keys::KeyKind;
use crate::prover::msm::Kernel;
use crate::prover::prepared::PreparedProvingKey;
use crate::prover::{export, prove as prover};
use crate::runtime::queue::Priority;
use crate::runtime::retry::{Backoff, Jitter};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Its id (unique across machines: host and process by default).
    pub id: String,
    /// The key directory.
    pub keys: PathBuf,
    /// Where its signing key lives (made on first start, mode 0600).
    pub state: PathBuf,
    /// An entry idle this long (its worker died) is taken over.
    pub lease: Duration,
    /// Deliveries after which a task goes to the dead letters.
    pub max_deliveries: u32,
    /// Retry timing.
    pub backoff: Backoff,
    /// How long a finished task's record is kept.
    pub result_ttl_s: u64,
    /// How long a dead letter keeps its task's input (for `dead-letters requeue`).
    pub dead_letter_ttl_s: u64,
    /// A prover with no progress this long is given up: the task goes back to the queue and the
    /// worker exits (a prover thread cannot be stopped from outside).
    pub task_timeout: Duration,
    /// Proving threads (rayon's pool).
    pub threads: usize,
    /// How task inputs are opened (`--sealing-key`).
    pub sealing: InputSealing,
    /// Where keys converted from circom circuits' zkeys are kept (`--zkey-cache`).
    pub zkey_cache: ZkeyCache,
}

/// The worker's ed25519 key: read from `state/worker.key`, or made there on first start.
///
/// Workers started at once from one directory all end up with the one key: a new key is written
/// in full to a temporary file of its own (mode 0600, synced) and then hard-linked to
/// `worker.key`, which fails when another worker's key got there first; that one is read instead.
/// So a reader never sees a half-written key. A key file that group or others may read is
/// refused (as relayer key files are).
pub fn signing_key(state: &Path) -> std::io::Result<SigningKey> {
    let path = state.join("worker.key");
    if let Some(key) = read_signing_key(&path)? {
        return Ok(key);
    }
    std::fs::create_dir_all(state)?;
    let key = SigningKey::from_bytes(&rand::thread_rng().gen::<[u8; 32]>());
    match super::secret_file::create_private(&path, hex::encode(key.to_bytes()).as_bytes()) {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_signing_key(&path)?
            .ok_or_else(|| std::io::Error::other(format!("{}: vanished", path.display()))),
        Err(e) => Err(e),
    }
}

/// The key in `path`, `None` when there is no such file.
fn read_signing_key(path: &Path) -> std::io::Result<Option<SigningKey>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    crate::relayer::config::private_file(path)?;
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes)
        .map_err(|_| std::io::Error::other(format!("{}: not a worker key", path.display())))?;
    Ok(Some(SigningKey::from_bytes(&bytes)))
}

/// A fault `AIRPROVER_TEST_FAULT` asks for (test builds only, feature `fault-hooks`).
#[cfg(feature = "fault-hooks")]
enum Fault {
    /// The attempt fails with this error.
    Fail(crate::Error),
    /// The prover hangs where no stop flag is looked at.
    Hang,
}

/// The fault `AIRPROVER_TEST_FAULT` asks for on this attempt: `retryable:N` fails the first N
/// attempts of every task with PROOF_FAILED, `retryable:always` every attempt, `input` every
/// attempt with INVALID_INPUT, `hang` hangs every attempt's prover.
#[cfg(feature = "fault-hooks")]
fn injected_fault(attempt: u32) -> Option<Fault> {
    let spec = std::env::var("AIRPROVER_TEST_FAULT").ok()?;
    let retryable = || {
        Fault::Fail(crate::Error::ProofFailed {
            what: format!("injected fault (AIRPROVER_TEST_FAULT={spec}), attempt {attempt}"),
        })
    };
    match spec.as_str() {
        "input" => Some(Fault::Fail(crate::Error::input(
            "claim",
            "injected fault (AIRPROVER_TEST_FAULT=input)",
        ))),
        "hang" => Some(Fault::Hang),
        "retryable:always" => Some(retryable()),
        _ => match spec
            .strip_prefix("retryable:")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) if attempt <= n => Some(retryable()),
            Some(_) => None,
            None => {
                tracing::error!("AIRPROVER_TEST_FAULT={spec:?} is none of retryable:N, retryable:always, input, hang: no fault injected");
                None
            }
        },
    }
}

struct Worker {
    settings: WorkerSettings,
    tasks: Tasks,
    /// One queue per priority, highest first.
    queues: Vec<(Priority, Queue)>,
    key: SigningKey,
    /// Per circuit, loaded at its first task.
    keys: HashMap<String, Loaded>,
    circuits: Vec<String>,
    done: u64,
    last_beat: Instant,
}

/// A circuit ready to prove: its proving key, the SHA-256 of its verifying key file (signed with
/// every result: the `.vk` of a built-in circuit, `verification_key.json` of a circom one) and,
/// for a circom circuit, its witness wasm compiled.
#[derive(Clone)]
struct Loaded {
    key: Arc<PreparedProvingKey>,
    vk_sha256: String,
    witness: Option<Arc<WitnessCalculator>>,
}

/// How a proof attempt ended, besides a result or an error.
enum Stopped {
    /// The prover failed (or the task's input did).
    Failed(crate::Error),
    /// The task is not this worker's any more (taken over after its lease ran out, cancelled):
    /// nothing may be written for it.
    Lost,
    /// No progress for `--task-timeout`: the task is given back and the worker exits.
    TimedOut,
}

/// Why a worker stopped on its own.
#[derive(Debug)]
pub enum WorkerExit {
    /// Redis or the key directory could not be used at start.
    Start(String),
    /// A prover made no progress for `--task-timeout`; the task was given back. The prover's
    /// thread cannot be stopped: the process must exit (its supervisor restarts it).
    TaskTimeout {
        /// The task given back.
        task: String,
    },
}

impl std::fmt::Display for WorkerExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkerExit::Start(what) => f.write_str(what),
            WorkerExit::TaskTimeout { task } => write!(
                f,
                "task {task}: no progress for --task-timeout; given back to the queue, exiting"
            ),
        }
    }
}

/// How often a worker beats (its registry entry lives three beats).
const HEARTBEAT: Duration = Duration::from_secs(1);

/// Runs a worker until `shutdown` turns true; the task in hand is finished first (SIGTERM).
pub async fn run(
    settings: WorkerSettings,
    client: redis::Client,
    keys: Keys,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), WorkerExit> {
    let redis = crate::service::redis::connect::manager(client)
        .await
        .map_err(|e| WorkerExit::Start(format!("redis: {e}")))?;
    let key =
        signing_key(&settings.state).map_err(|e| WorkerExit::Start(format!("worker key: {e}")))?;
    let circuits = KeyDir::new(&settings.keys)
        .manifest()
        .map_err(|e| WorkerExit::Start(e.to_string()))?
        .map(|m| m.ids())
        .unwrap_or_default();
    let tasks = Tasks::new(redis, keys);
    let queues = Priority::HIGHEST_FIRST
        .into_iter()
        .map(|p| (p, tasks.queue(p, &settings.id, settings.lease)))
        .collect();
    let mut worker = Worker {
        settings,
        tasks,
        queues,
        key,
        keys: HashMap::new(),
        circuits,
        done: 0,
        last_beat: Instant::now() - HEARTBEAT,
    };
    worker
        .tasks
        .ensure_groups()
        .await
        .map_err(|e| WorkerExit::Start(format!("redis: {e}")))?;
    tracing::info!(
        worker = worker.settings.id,
        "worker started, public key {}",
        hex::encode(worker.key.verifying_key().to_bytes())
    );
    loop {
        if *shutdown.borrow() {
            let _ = worker.tasks.unregister(&worker.settings.id).await;
            return Ok(());
        }
        worker.beat("").await;
        match worker.next().await {
            Ok(Some((priority, entry))) => match worker.process(priority, &entry).await {
                Ok(()) => {}
                Err(ProcessError::Exit(exit)) => {
                    let _ = worker.tasks.unregister(&worker.settings.id).await;
                    return Err(exit);
                }
                Err(ProcessError::Redis(e)) => {
                    super::http::metrics::redis_error("worker");
                    tracing::warn!(
                        task = entry.id,
                        "redis: {e}; the entry stays pending and is taken over later"
                    );
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            },
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                redis_failed("worker", &e, "retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

enum ProcessError {
    Redis(redis::RedisError),
    Exit(WorkerExit),
}

impl From<redis::RedisError> for ProcessError {
    fn from(e: redis::RedisError) -> ProcessError {
        ProcessError::Redis(e)
    }
}

impl Worker {
    /// Beats at most once per [`HEARTBEAT`], saying which task it proves (`busy`).
    async fn beat(&mut self, busy: &str) {
        if self.last_beat.elapsed() < HEARTBEAT {
            return;
        }
        self.last_beat = Instant::now();
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        let fields = [
            ("id", self.settings.id.clone()),
            ("host", host),
            ("threads", self.settings.threads.to_string()),
            ("circuits", self.circuits.join(",")),
            ("busy", busy.to_string()),
            ("heartbeat", now_ms().to_string()),
            ("done", self.done.to_string()),
            (
                "publicKey",
                hex::encode(self.key.verifying_key().to_bytes()),
            ),
        ];
        let ttl = 3 * HEARTBEAT.as_secs().max(1) + self.settings.lease.as_secs();
        if let Err(e) = self.tasks.heartbeat(&self.settings.id, &fields, ttl).await {
            redis_failed("worker", &e, "the heartbeat is sent again at the next beat");
        }
        // The scaling signal's arrival rate is sampled by every beat (at most once a second
        // across the workers), so it is measured while no one reads it.
        if let Err(e) = super::scaling::sample_arrivals(&self.tasks).await {
            redis_failed("worker", &e, "the arrival sample is taken at the next beat");
        }
    }

    /// The next entry: retries now due go back first; then, priority by priority, an entry a
    /// silent worker held, or a new one.
    async fn next(&mut self) -> redis::RedisResult<Option<(Priority, Entry)>> {
        self.tasks
            .release_due(now_ms(), self.settings.dead_letter_ttl_s)
            .await?;
        let mut redis = self.tasks.redis();
        for (priority, queue) in &mut self.queues {
            if let Some(e) = queue.take_over(&mut redis, 1).await?.pop() {
                return Ok(Some((*priority, e)));
            }
            if let Some(e) = queue.read_new(&mut redis, 1, None).await?.pop() {
                return Ok(Some((*priority, e)));
            }
        }
        Ok(None)
    }

    fn queue(&self, priority: Priority) -> &Queue {
        &self
            .queues
            .iter()
            .find(|(p, _)| *p == priority)
            .expect("a queue per priority")
            .1
    }

    /// Acknowledges (and deletes) the entry, if it is still this worker's: one taken over is its
    /// new owner's to end.
    async fn ack(&self, priority: Priority, entry: &Entry) -> redis::RedisResult<()> {
        self.queue(priority)
            .ack(&mut self.tasks.redis(), &entry.entry)
            .await
            .map(|_| ())
    }

    /// Ends the task `failed` (fenced by this worker's attempt), with a dead letter when asked.
    async fn fail(
        &self,
        id: &str,
        attempt: u32,
        error: &Value,
        dead_letter: bool,
    ) -> redis::RedisResult<bool> {
        let owner = Some((self.settings.id.as_str(), attempt));
        self.tasks
            .settle(
                id,
                "failed",
                error,
                owner,
                dead_letter,
                self.settings.result_ttl_s,
                now_ms(),
            )
            .await
    }

    async fn process(&mut self, priority: Priority, entry: &Entry) -> Result<(), ProcessError> {
        let id = entry.id.as_str();
        let lease = self.settings.lease.as_millis() as u64;
        let attempt = match self
            .tasks
            .start(id, &self.settings.id, now_ms(), lease)
            .await?
        {
            Started::Attempt(n) => n,
            // Ended meanwhile (cancelled, or finished by the worker this entry was taken from).
            Started::Ended => return Ok(self.ack(priority, entry).await?),
            // Another worker's lease on the task lives (by its clock): this entry stays pending,
            // taken over again after a lease, and ends as `Ended` or starts once that lease ran
            // out. Acknowledging it could leave the task running with no entry at all.
            Started::Held => return Ok(()),
        };
        let task = self.tasks.load(id).await?.unwrap_or_default();
        let circuit = task
            .get("circuit")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        tracing::info!(task = id, circuit, attempt, "task running");
        if attempt > self.settings.max_deliveries {
            let last = task
                .get("lastError")
                .and_then(Value::as_str)
                .and_then(|t| serde_json::from_str(t).ok());
            let error = json!({ "code": Code::Internal, "message": format!("delivered {} times without ending; last error: {}", attempt - 1, last.clone().unwrap_or(Value::Null)) });
            self.fail(id, attempt, &error, true).await?;
            tracing::warn!(task = id, circuit, attempt, "task dead-lettered");
            return Ok(self.ack(priority, entry).await?);
        }
        let stored = task
            .get("claim")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let input_text = match self.settings.sealing.open(id, stored) {
            Ok(text) => text,
            Err(e) => {
                // Never retried: another attempt reads the same value. A key this worker lacks
                // (or a plain input) leaves a dead letter, to requeue once that is fixed. The
                // value itself is never logged nor stored in the error.
                let error = json!({ "code": e.code(), "message": e.to_string() });
                self.fail(id, attempt, &error, e.requeueable()).await?;
                tracing::warn!(
                    task = id,
                    circuit,
                    attempt,
                    code = %e.code(),
                    "task failed: {e}"
                );
                return Ok(self.ack(priority, entry).await?);
            }
        };
        self.last_beat = Instant::now() - HEARTBEAT;
        self.beat(id).await;
        let started = Instant::now();
        let outcome = self.prove(priority, entry, &input_text, attempt).await;
        let ms = started.elapsed().as_millis() as u64;
        let owner = (self.settings.id.as_str(), attempt);
        match outcome {
            Ok((proof, public_signals, circuit, ms, vk_sha256)) => {
                let (signed, signature) = ProofStatement {
                    task_id: id,
                    circuit: &circuit,
                    vk_sha256: &vk_sha256,
                    proof: &proof,
                    public_signals: &public_signals,
                }
                .signed(&self.key);
                let result = json!({
                    "proof": proof,
                    "publicSignals": public_signals,
                    "circuit": circuit,
                    "vkSha256": vk_sha256,
                    "worker": self.settings.id,
                    "publicKey": hex::encode(self.key.verifying_key().to_bytes()),
                    "signature": signature,
                    "signed": signed,
                    "provingMs": ms,
                });
                let ttl = self.settings.result_ttl_s;
                let stored = self
                    .tasks
                    .settle(id, "succeeded", &result, Some(owner), false, ttl, now_ms())
                    .await?;
                if stored {
                    self.done += 1;
                    metrics::counter!("airprover_worker_proofs_total", "circuit" => circuit.clone())
                        .increment(1);
                    self.tasks.record_duration(&circuit, ms).await?;
                    tracing::info!(task = id, circuit, attempt, ms, "task succeeded");
                } else {
                    tracing::warn!(
                        task = id,
                        circuit,
                        attempt,
                        ms,
                        "result refused: the task is not this worker's any more"
                    );
                }
            }
            Err(Stopped::Lost) => {
                // Taken over (the entry is its new owner's: the acknowledgement below leaves it
                // alone), or cancelled (the cancel ended it: the entry goes).
                tracing::warn!(
                    task = id,
                    circuit,
                    attempt,
                    ms,
                    "task lost (taken over or cancelled): nothing written"
                );
            }
            Err(Stopped::TimedOut) => {
                let error = json!({ "code": Code::Timeout, "message": format!("worker {} made no progress for {} s", self.settings.id, self.settings.task_timeout.as_secs()) });
                self.tasks
                    .retry_later(id, owner, priority, &error, 0, now_ms())
                    .await?;
                self.ack(priority, entry).await?;
                tracing::error!(
                    task = id,
                    circuit,
                    attempt,
                    ms,
                    "no progress for --task-timeout: task given back, worker exiting"
                );
                return Err(ProcessError::Exit(WorkerExit::TaskTimeout {
                    task: id.to_string(),
                }));
            }
            Err(Stopped::Failed(e)) => {
                let code = e.code();
                let error = json!({ "code": e.code(), "message": e.to_string() });
                let retryable = code.retryable_natively();
                if retryable && attempt < self.settings.max_deliveries {
                    let random = Jitter::new(rand::thread_rng().gen()).next_f64();
                    let delay = self.settings.backoff.delay_ms(attempt, random) as u64;
                    self.tasks
                        .retry_later(id, owner, priority, &error, delay, now_ms())
                        .await?;
                    tracing::info!(
                        task = id,
                        circuit,
                        attempt,
                        ms,
                        code = %e.code(),
                        delay_ms = delay,
                        "task failed, retried later"
                    );
                } else {
                    // Out of tries on a failure that might pass another day: a dead letter.
                    self.fail(id, attempt, &error, retryable).await?;
                    tracing::info!(
                        task = id,
                        circuit,
                        attempt,
                        ms,
                        code = %e.code(),
                        "task failed"
                    );
                }
            }
        }
        Ok(self.ack(priority, entry).await?)
    }

    /// Proves on a blocking thread (reading the circuit's keys first, on its first task),
    /// publishing progress, keeping its lease (the entry's and the task's, only while both are
    /// still its own) and its heartbeat, and watching for a cancel and for a prover that stopped
    /// making progress.
    async fn prove(
        &mut self,
        priority: Priority,
        entry: &Entry,
        input_text: &str,
        attempt: u32,
    ) -> Result<(Value, Value, String, u64, String), Stopped> {
        let id = entry.id.as_str();
        #[cfg(feature = "fault-hooks")]
        let fault = injected_fault(attempt);
        #[cfg(feature = "fault-hooks")]
        if let Some(Fault::Fail(e)) = fault {
            return Err(Stopped::Failed(e));
        }
        let input = TaskInput::from_stored(input_text).map_err(Stopped::Failed)?;
        let circuit = input.circuit();
        // The keys (and the verifying key's digest, signed with every result) are read once per
        // circuit and before proving: a worker without its `.vk` fails at once, not after each
        // proof. Reading them runs on the prover's thread, under the lease: converting a large
        // zkey the first time takes longer than a lease.
        let loaded = self.keys.get(&circuit).cloned();
        let dir = KeyDir::new(&self.settings.keys);
        let cache = self.settings.zkey_cache.clone();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, f64)>();
        let started = Instant::now();
        // A task cancelled while it runs stops at the prover's next stage boundary.
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        #[cfg(feature = "fault-hooks")]
        let hang = matches!(fault, Some(Fault::Hang));
        #[cfg(not(feature = "fault-hooks"))]
        let hang = false;
        let task = id.to_string();
        let proving = tokio::task::spawn_blocking(move || {
            if hang {
                // A prover stuck where no stop flag is looked at (test builds only).
                std::thread::sleep(Duration::from_secs(3600));
            }
            let report = |stage: &str| {
                let _ = tx.send((stage.to_string(), 0.0));
            };
            let (loaded, fresh) = match loaded {
                Some(loaded) => (loaded, false),
                None => match load(&dir, &cache, &input, &task, &report) {
                    Ok(loaded) => (loaded, true),
                    Err(e) => return (None, Err(e)),
                },
            };
            let proved = prove_with(
                &input,
                &loaded,
                &report,
                &mut |p| {
                    let _ = tx.send((p.stage.to_string(), p.fraction));
                },
                &|| stopped.load(Ordering::Relaxed),
            );
            (
                fresh.then_some(loaded.clone()),
                proved.map(|out| (out, loaded.vk_sha256)),
            )
        });
        tokio::pin!(proving);
        let lease = self.settings.lease;
        let mut touch = tokio::time::interval(lease / 3);
        let mut poll = tokio::time::interval(CANCEL_POLL);
        let mut last_progress = Instant::now();
        let owner = (self.settings.id.clone(), attempt);
        let out = loop {
            tokio::select! {
                done = &mut proving => break done,
                _ = poll.tick() => {
                    let status: redis::RedisResult<Option<String>> = self.tasks.redis().hget(self.tasks.keys().task(id), "status").await;
                    if matches!(status, Ok(Some(s)) if s == "cancelled") {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if last_progress.elapsed() > self.settings.task_timeout {
                        stop.store(true, Ordering::Relaxed);
                        return Err(Stopped::TimedOut);
                    }
                    self.beat(id).await;
                }
                Some((stage, fraction)) = rx.recv() => {
                    last_progress = Instant::now();
                    let elapsed = started.elapsed().as_millis() as f64;
                    let eta = if fraction > 0.01 { (elapsed / fraction * (1.0 - fraction)) as u64 } else { 0 };
                    let _ = self.tasks.progress(id, (&owner.0, owner.1), &stage, (fraction * 100.0) as u32, eta).await;
                }
                _ = touch.tick() => {
                    let mut redis = self.tasks.redis();
                    let until = now_ms() + lease.as_millis() as u64;
                    let kept = match self.queue(priority).refresh(&mut redis, &entry.entry).await {
                        Ok(true) => self.tasks.refresh(id, &owner.0, owner.1, until).await,
                        other => other,
                    };
                    if let Ok(false) = kept {
                        // Taken over after the lease ran out, or ended: stop, write nothing.
                        stop.store(true, Ordering::Relaxed);
                        return Err(Stopped::Lost);
                    }
                }
            }
        };
        let ms = started.elapsed().as_millis() as u64;
        let ((proof, public_signals), vk_sha256) = match out {
            Ok((fresh, proved)) => {
                if let Some(loaded) = fresh {
                    self.keys.insert(circuit.clone(), loaded);
                }
                proved.map_err(Stopped::Failed)?
            }
            Err(e) => {
                return Err(Stopped::Failed(crate::Error::ProofFailed {
                    what: format!("the prover thread failed: {e}"),
                }))
            }
        };
        Ok((proof, public_signals, circuit, ms, vk_sha256))
    }
}

/// Reads the keys of `input`'s circuit from `dir` (blocking): a built-in circuit's proving key and
/// verifying key's digest; a circom circuit's manifest entry, each of its files checked against
/// the manifest's SHA-256, its witness wasm compiled, its zkey's converted key from `cache` (or
/// converted, every point checked, and cached: stage `convert`), the zkey's verifying key
/// compared with `verification_key.json` (`ZKEY_MISMATCH`).
fn load(
    dir: &KeyDir,
    cache: &ZkeyCache,
    input: &TaskInput,
    task: &str,
    report: &dyn Fn(&str),
) -> crate::Result<Loaded> {
    let circuit = match input {
        TaskInput::Claim(claim) => {
            let bytes = dir.load(&claim.circuit, KeyKind::Proving)?;
            let vk_sha256 = dir.sha256(&claim.circuit, KeyKind::Verifying)?;
            let key = api::read_prepared_key(&bytes, &claim.circuit)
                .map_err(|e| api::classify_failure(e, &bytes))?;
            return Ok(Loaded {
                key: Arc::new(key),
                vk_sha256,
                witness: None,
            });
        }
        TaskInput::Circom { circuit, .. } => circuit,
    };
    let entry = dir.circom_entry(circuit)?;
    let vkey = dir.read_listed(&entry.verifying_key)?;
    let vk = std::str::from_utf8(&vkey)
        .map_err(|_| {
            crate::Error::key_integrity(format!("{}: not UTF-8", entry.verifying_key.name))
        })
        .and_then(export::verifying_key_from_json)?;
    let witness = WitnessCalculator::new(&dir.read_listed(&entry.wasm)?)?;
    report("convert");
    let zkey = dir.circom_zkey(&entry)?;
    let (key, origin) = cache.load(zkey, Kernel::default())?;
    match &origin {
        Origin::Cached => tracing::info!(task, circuit, "converted key read from the cache"),
        Origin::Converted { stored, replaced } => {
            if let Some(why) = replaced {
                tracing::warn!(
                    task,
                    circuit,
                    "a bad converted-key cache entry was replaced: {why}"
                );
            }
            match stored {
                Some(Ok(path)) => tracing::info!(
                    task,
                    circuit,
                    "zkey converted (every point checked), cached in {}",
                    path.display()
                ),
                Some(Err(why)) => tracing::warn!(
                    task,
                    circuit,
                    "zkey converted (every point checked), not cached: {why}"
                ),
                None => tracing::info!(
                    task,
                    circuit,
                    "zkey converted (every point checked); no cache"
                ),
            }
        }
    }
    if *key.verifying_key() != vk {
        return Err(crate::Error::ZkeyMismatch {
            what: format!(
                "{} is not the verifying key of {}: the key directory's files are of different circuits",
                entry.verifying_key.name, entry.zkey.name
            ),
        });
    }
    Ok(Loaded {
        key: Arc::new(key),
        vk_sha256: sha256_hex(&vkey),
        witness: Some(Arc::new(witness)),
    })
}

/// Proves `input` with `loaded` (blocking): a claim through its circuit's gadgets; a circom
/// input through its witness wasm (stage `witness`: a signal the circuit lacks or of the wrong
/// size is `INVALID_INPUT`, a failed `assert` `WITNESS_FAILED` with circom's message), then from
/// the full witness. Returns `proof.json` and `public.json`.
fn prove_with(
    input: &TaskInput,
    loaded: &Loaded,
    report: &dyn Fn(&str),
    progress: &mut dyn FnMut(&crate::prover::Progress),
    stop: &dyn Fn() -> bool,
) -> crate::Result<(Value, Value)> {
    match (input, &loaded.witness) {
        (TaskInput::Claim(claim), None) => {
            let out = api::prove_with_key_until(claim, &loaded.key, progress, stop)?;
            Ok((out.proof, Value::from(out.public_signals)))
        }
        (TaskInput::Circom { input, .. }, Some(calculator)) => {
            report("witness");
            let witness = calculator.calculate(input)?;
            let (proof, public) = prover::prove_witness_until(
                &witness,
                &loaded.key,
                &mut rand::rngs::OsRng,
                progress,
                stop,
            )?;
            Ok((
                export::proof_to_json(&proof),
                Value::from(export::public_to_json(&public)),
            ))
        }
        // Built-in and circom ids never meet (a circom id never takes a built-in id's form).
        _ => Err(crate::Error::input(
            "circuit",
            "names a circuit of the other kind (a claim's or a circom circuit's)",
        )),
    }
}

/// How often a worker looks whether the task it proves was cancelled or stopped progressing.
const CANCEL_POLL: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;

    /// Many workers starting at once in one fresh state directory all get the same, complete key
    /// (with the key written in place, a worker that read it before it was whole died with "not a
    /// worker key"), and no temporary file is left behind.
    #[test]
    fn workers_started_at_once_share_one_key() {
        for round in 0..20 {
            let dir = std::env::temp_dir().join(format!(
                "airprover-worker-key-{}-{round}-{:x}",
                std::process::id(),
                rand::thread_rng().gen::<u64>()
            ));
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let keys: Vec<[u8; 32]> = (0..8)
                .map(|_| {
                    let (dir, barrier) = (dir.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        signing_key(&dir).map(|k| k.to_bytes())
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().unwrap().expect("every start gets the key"))
                .collect();
            assert!(keys.iter().all(|k| *k == keys[0]), "round {round}: one key");
            let names: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            assert_eq!(names, ["worker.key"], "round {round}: nothing else left");
            assert_eq!(signing_key(&dir).unwrap().to_bytes(), keys[0], "read back");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_key_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!(
            "airprover-worker-key-mode-{}-{:x}",
            std::process::id(),
            rand::thread_rng().gen::<u64>()
        ));
        let key = signing_key(&dir).unwrap();
        let path = dir.join("worker.key");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = signing_key(&dir).unwrap_err().to_string();
        assert!(err.contains("readable by group or others"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(signing_key(&dir).unwrap().to_bytes(), key.to_bytes());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
