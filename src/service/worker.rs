//! `airprover worker`: takes proof tasks from Redis (CRITICAL first, FIFO within a priority),
//! proves natively, checks the proof, signs it, stores it and acknowledges the entry; takes over
//! the entries of workers that went silent; retries what may succeed later with backoff; sends
//! what was delivered too often to the dead letters.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use rand::Rng;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::now_ms;
use super::signature::{ProofStatement, VerifyingKeyDigests};
use super::tasks::{self, GROUP};
use crate::api;
use crate::claim::Claim;
use crate::prover::key_dir::KeyDir;
use crate::prover::keys::KeyKind;
use crate::prover::prepared::PreparedProvingKey;
use crate::runtime::code::ErrorCode;
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
    /// Proving threads (rayon's pool).
    pub threads: usize,
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
    let tmp = state.join(format!(
        ".worker.key.{}.{:016x}",
        std::process::id(),
        rand::thread_rng().gen::<u64>()
    ));
    let written = write_private(&tmp, hex::encode(key.to_bytes()).as_bytes())
        .and_then(|()| std::fs::hard_link(&tmp, &path));
    let _ = std::fs::remove_file(&tmp);
    match written {
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

/// Writes `bytes` to a new file at `path` (mode 0600 on unix) and syncs it to disk.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The failure `AIRPROVER_TEST_FAULT` asks for on this attempt (test builds only, feature
/// `fault-hooks`): `retryable:N` fails the first N attempts of every task with PROOF_FAILED,
/// `retryable:always` every attempt, `input` every attempt with INVALID_INPUT.
#[cfg(feature = "fault-hooks")]
fn injected_fault(attempt: u32) -> Option<crate::Error> {
    let spec = std::env::var("AIRPROVER_TEST_FAULT").ok()?;
    let retryable = || crate::Error::ProofFailed {
        what: format!("injected fault (AIRPROVER_TEST_FAULT={spec}), attempt {attempt}"),
    };
    match spec.as_str() {
        "input" => Some(crate::Error::input(
            "claim",
            "injected fault (AIRPROVER_TEST_FAULT=input)",
        )),
        "retryable:always" => Some(retryable()),
        _ => match spec
            .strip_prefix("retryable:")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) if attempt <= n => Some(retryable()),
            Some(_) => None,
            None => {
                tracing::error!("AIRPROVER_TEST_FAULT={spec:?} is none of retryable:N, retryable:always, input: no fault injected");
                None
            }
        },
    }
}

struct Worker {
    settings: WorkerSettings,
    redis: ConnectionManager,
    key: SigningKey,
    keys: HashMap<String, Arc<PreparedProvingKey>>,
    circuits: Vec<String>,
    vk_digests: VerifyingKeyDigests,
    done: u64,
}

/// Runs a worker until `shutdown` turns true; the task in hand is finished first (SIGTERM).
pub async fn run(
    settings: WorkerSettings,
    client: redis::Client,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    let redis = ConnectionManager::new(client)
        .await
        .map_err(|e| format!("redis: {e}"))?;
    let key = signing_key(&settings.state).map_err(|e| format!("worker key: {e}"))?;
    let circuits = KeyDir::new(&settings.keys)
        .manifest()
        .map_err(|e| e.to_string())?
        .map(|m| m.circuits.iter().map(|c| c.id.clone()).collect())
        .unwrap_or_default();
    let vk_digests = VerifyingKeyDigests::new(&settings.keys);
    let mut worker = Worker {
        settings,
        redis,
        key,
        keys: HashMap::new(),
        circuits,
        vk_digests,
        done: 0,
    };
    tasks::ensure_groups(&mut worker.redis)
        .await
        .map_err(|e| format!("redis: {e}"))?;
    tracing::info!(
        worker = worker.settings.id,
        "worker started, public key {}",
        hex::encode(worker.key.verifying_key().to_bytes())
    );
    let mut last_beat = Instant::now() - Duration::from_secs(60);
    loop {
        if *shutdown.borrow() {
            let _: redis::RedisResult<()> =
                worker.redis.srem(tasks::WORKERS, &worker.settings.id).await;
            let _: redis::RedisResult<()> = worker
                .redis
                .del(format!("airprover:worker:{}", worker.settings.id))
                .await;
            return Ok(());
        }
        if last_beat.elapsed() > Duration::from_secs(1) {
            worker.heartbeat("").await;
            last_beat = Instant::now();
        }
        match worker.next().await {
            Ok(Some((priority, entry, id))) => {
                if let Err(e) = worker.process(priority, &entry, &id).await {
                    tracing::warn!(
                        task = id,
                        "redis: {e}; the entry stays pending and is taken over later"
                    );
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                last_beat = Instant::now() - Duration::from_secs(60);
            }
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::warn!("redis: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

impl Worker {
    async fn heartbeat(&mut self, busy: &str) {
        let key = format!("airprover:worker:{}", self.settings.id);
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
        let beat: redis::RedisResult<()> = async {
            let _: () = self.redis.hset_multiple(&key, &fields).await?;
            let _: () = self.redis.expire(&key, 10).await?;
            let _: () = self.redis.sadd(tasks::WORKERS, &self.settings.id).await?;
            Ok(())
        }
        .await;
        if let Err(e) = beat {
            tracing::warn!("heartbeat: {e}");
        }
    }

    /// The next entry: retries now due go back first; then, priority by priority, an entry a
    /// silent worker held, or a new one.
    async fn next(&mut self) -> redis::RedisResult<Option<(Priority, String, String)>> {
        tasks::release_due(&mut self.redis, now_ms()).await?;
        for priority in Priority::HIGHEST_FIRST {
            let stream = tasks::stream(priority);
            let (_, reclaimed, _): (String, redis::streams::StreamRangeReply, Vec<String>) =
                redis::cmd("XAUTOCLAIM")
                    .arg(&stream)
                    .arg(GROUP)
                    .arg(&self.settings.id)
                    .arg(self.settings.lease.as_millis() as u64)
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(1)
                    .query_async(&mut self.redis)
                    .await?;
            if let Some(e) = reclaimed.ids.into_iter().next() {
                let id: String = e.get("id").unwrap_or_default();
                return Ok(Some((priority, e.id, id)));
            }
            let fresh: Option<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(GROUP)
                .arg(&self.settings.id)
                .arg("COUNT")
                .arg(1)
                .arg("STREAMS")
                .arg(&stream)
                .arg(">")
                .query_async(&mut self.redis)
                .await?;
            if let Some(e) = fresh
                .and_then(|r| r.keys.into_iter().next())
                .and_then(|k| k.ids.into_iter().next())
            {
                let id: String = e.get("id").unwrap_or_default();
                return Ok(Some((priority, e.id, id)));
            }
        }
        Ok(None)
    }

    /// Ends the task `failed` with `error` and, if this call ended it, leaves a dead letter with
    /// that error for the operator.
    async fn dead_letter(&mut self, id: &str, error: &Value) -> redis::RedisResult<()> {
        let ttl = self.settings.result_ttl_s;
        if tasks::settle(&mut self.redis, id, "failed", error, ttl, now_ms()).await? {
            let _: String = self
                .redis
                .xadd(
                    tasks::DEAD,
                    "*",
                    &[("id", id.to_string()), ("error", error.to_string())],
                )
                .await?;
        }
        Ok(())
    }

    async fn ack(&mut self, priority: Priority, entry: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("XACK")
            .arg(tasks::stream(priority))
            .arg(GROUP)
            .arg(entry)
            .query_async(&mut self.redis)
            .await?;
        Ok(())
    }

    async fn process(
        &mut self,
        priority: Priority,
        entry: &str,
        id: &str,
    ) -> redis::RedisResult<()> {
        let ttl = self.settings.result_ttl_s;
        let Some(attempt) = tasks::start(&mut self.redis, id, &self.settings.id, now_ms()).await?
        else {
            // Ended meanwhile (cancelled, or finished by the worker this entry was taken from).
            return self.ack(priority, entry).await;
        };
        let task = tasks::load(&mut self.redis, id).await?.unwrap_or_default();
        if attempt > self.settings.max_deliveries {
            let last = task
                .get("lastError")
                .and_then(Value::as_str)
                .and_then(|t| serde_json::from_str(t).ok());
            let error = json!({ "code": "INTERNAL", "message": format!("delivered {} times without ending; last error: {}", attempt - 1, last.clone().unwrap_or(Value::Null)) });
            self.dead_letter(id, &error).await?;
            return self.ack(priority, entry).await;
        }
        let claim_text = task
            .get("claim")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.heartbeat(id).await;
        let outcome = self.prove(id, entry, priority, &claim_text, attempt).await;
        // The verifying key's digest is signed too: a worker that cannot read it fails the attempt.
        let outcome = outcome.and_then(|(proof, public_signals, circuit, ms)| {
            let vk_sha256 = self.vk_digests.get(&circuit)?;
            Ok((proof, public_signals, circuit, ms, vk_sha256))
        });
        match outcome {
            Ok((proof, public_signals, circuit, ms, vk_sha256)) => {
                let statement = ProofStatement {
                    task_id: id,
                    circuit: &circuit,
                    vk_sha256: &vk_sha256,
                    proof: &proof,
                    public_signals: &public_signals,
                };
                let result = json!({
                    "proof": proof,
                    "publicSignals": public_signals,
                    "circuit": circuit,
                    "vkSha256": vk_sha256,
                    "worker": self.settings.id,
                    "publicKey": hex::encode(self.key.verifying_key().to_bytes()),
                    "signature": statement.sign(&self.key),
                    "signed": statement.message(),
                    "provingMs": ms,
                });
                if tasks::settle(&mut self.redis, id, "succeeded", &result, ttl, now_ms()).await? {
                    self.done += 1;
                    let bucket = histogram_bucket(ms);
                    let _: () = self
                        .redis
                        .hincr(format!("airprover:durations:{circuit}"), bucket, 1)
                        .await?;
                    let _: () = self
                        .redis
                        .hincr(format!("airprover:durations:{circuit}"), "sum_ms", ms)
                        .await?;
                    let _: () = self.redis.sadd(DURATION_CIRCUITS, &circuit).await?;
                }
            }
            Err(e) => {
                let code = ErrorCode::of(&e);
                let error = json!({ "code": e.code(), "message": e.to_string() });
                let retryable = code.retryable_natively();
                if retryable && attempt < self.settings.max_deliveries {
                    let random = Jitter::new(rand::thread_rng().gen()).next_f64();
                    let delay = self.settings.backoff.delay_ms(attempt, random) as u64;
                    tasks::retry_later(&mut self.redis, id, priority, &error, delay, now_ms())
                        .await?;
                } else if retryable {
                    // Out of tries on a failure that might pass another day.
                    self.dead_letter(id, &error).await?;
                } else {
                    tasks::settle(&mut self.redis, id, "failed", &error, ttl, now_ms()).await?;
                }
            }
        }
        self.ack(priority, entry).await
    }

    /// Proves on a blocking thread, publishing progress and keeping the entry's lease alive.
    async fn prove(
        &mut self,
        id: &str,
        entry: &str,
        priority: Priority,
        claim_text: &str,
        attempt: u32,
    ) -> Result<(Value, Value, String, u64), crate::Error> {
        #[cfg(feature = "fault-hooks")]
        if let Some(fault) = injected_fault(attempt) {
            return Err(fault);
        }
        #[cfg(not(feature = "fault-hooks"))]
        let _ = attempt;
        let claim = Claim::from_json(claim_text)?;
        let circuit = claim.circuit.to_string();
        let key = match self.keys.get(&circuit) {
            Some(k) => k.clone(),
            None => {
                let bytes =
                    KeyDir::new(&self.settings.keys).load(&claim.circuit, KeyKind::Proving)?;
                let key = Arc::new(
                    api::read_prepared_key(&bytes, &claim.circuit)
                        .map_err(|e| api::classify_failure(e, &bytes))?,
                );
                self.keys.insert(circuit.clone(), key.clone());
                key
            }
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, f64)>();
        let started = Instant::now();
        // A task cancelled while it runs stops at the prover's next stage boundary.
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let job = tokio::task::spawn_blocking(move || {
            api::prove_with_key_until(
                &claim,
                &key,
                &mut |p| {
                    let _ = tx.send((p.stage.to_string(), p.fraction));
                },
                &|| stopped.load(Ordering::Relaxed),
            )
        });
        tokio::pin!(job);
        let mut touch = tokio::time::interval(self.settings.lease / 3);
        let mut poll = tokio::time::interval(CANCEL_POLL);
        let out = loop {
            tokio::select! {
                done = &mut job => break done,
                _ = poll.tick() => {
                    let status: redis::RedisResult<Option<String>> = self.redis.hget(tasks::task_key(id), "status").await;
                    if matches!(status, Ok(Some(s)) if s == "cancelled") {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                Some((stage, fraction)) = rx.recv() => {
                    let elapsed = started.elapsed().as_millis() as f64;
                    let eta = if fraction > 0.01 { (elapsed / fraction * (1.0 - fraction)) as u64 } else { 0 };
                    let _ = tasks::progress(&mut self.redis, id, &self.settings.id, &stage, (fraction * 100.0) as u32, eta).await;
                }
                _ = touch.tick() => {
                    let _: redis::RedisResult<redis::Value> = redis::cmd("XCLAIM").arg(tasks::stream(priority)).arg(GROUP)
                        .arg(&self.settings.id).arg(0).arg(entry).arg("JUSTID").query_async(&mut self.redis).await;
                }
            }
        };
        let ms = started.elapsed().as_millis() as u64;
        let out = out.map_err(|e| crate::Error::ProofFailed {
            what: format!("the prover thread failed: {e}"),
        })??;
        Ok((out.proof, Value::from(out.public_signals), circuit, ms))
    }
}

/// How often a worker looks whether the task it proves was cancelled.
const CANCEL_POLL: Duration = Duration::from_millis(250);

/// The set of circuits that have proving-time histograms (`airprover:durations:{circuit}`).
pub const DURATION_CIRCUITS: &str = "airprover:durations";

/// The Prometheus histogram bucket (upper bound, ms) of a duration.
pub const BUCKETS_MS: [u64; 10] = [100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000];

fn histogram_bucket(ms: u64) -> String {
    BUCKETS_MS
        .iter()
        .find(|&&b| ms <= b)
        .map_or("inf".to_string(), |b| b.to_string())
}

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
