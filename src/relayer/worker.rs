//! The worker loop: claims taken from the queue's consumer group (up to a concurrency), kept
//! leased while they are followed, taken over from a worker gone silent, and handed back on
//! SIGTERM.

use std::time::Duration;

use tokio::sync::watch;

use super::claims::{Phase, GROUP};
use super::error::RelayResult;
use super::relay::Relayer;
use crate::runtime::retry::Backoff;
use crate::service::http::metrics::redis_failed;
use crate::service::redis::Keys;
use crate::service::redis::{Entry, Queue};

/// How the relayer waits and keeps records.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Between two looks at the chain while a transaction is pending.
    pub poll: Duration,
    /// A claim's record is kept this long after it ends.
    pub result_ttl_s: u64,
    /// A queue entry idle this long (its worker died) is taken over by another worker.
    pub lease: Duration,
    /// Claims one worker follows at once.
    pub concurrency: usize,
    /// Waiting after an RPC or Redis failure.
    pub backoff: Backoff,
    /// The Redis key names (`--redis-prefix`).
    pub keys: Keys,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            poll: Duration::from_millis(250),
            result_ttl_s: 3600,
            lease: Duration::from_secs(10),
            concurrency: 16,
            backoff: Backoff {
                base_ms: 200.0,
                factor: 2.0,
                max_ms: 5_000.0,
                jitter: 0.5,
            },
            keys: Keys::default(),
        }
    }
}

impl Relayer {
    /// A claim's campaign and circuit, for the log ("?" where its record cannot be read).
    async fn describe(&self, id: &str) -> (String, String) {
        let Ok(record) = self.load(id).await else {
            return ("?".into(), "?".into());
        };
        let circuit = self
            .campaign(&record.campaign)
            .map_or_else(|_| "?".into(), |c| c.config.circuit.to_string());
        (record.campaign, circuit)
    }

    /// The claims queue as `consumer` sees it.
    fn queue(&self, consumer: &str) -> Queue {
        Queue::new(self.claims.queue(), GROUP, consumer, self.settings.lease)
    }

    /// Keeps the queue entry `entry` owned by `consumer` (its idle time back to zero), if
    /// `consumer` still owns it: false when another worker has taken it over (or it is acknowledged).
    pub(super) async fn touch(&self, entry: &str, consumer: &str) -> RelayResult<bool> {
        Ok(self
            .queue(consumer)
            .refresh(&mut self.claims.redis(), entry)
            .await?)
    }

    /// A relayer worker: follows queued claims (up to `concurrency` at once), takes over those
    /// whose worker went silent for a lease, and acknowledges (and deletes) each claim's entry
    /// once it has ended. When `shutdown` turns true it takes nothing more, lets each claim it
    /// follows finish the step it is in (a send in progress completes: signed, recorded,
    /// broadcast), at most [`HAND_BACK_BOUND`], and hands the unfinished ones back: their entries
    /// are marked idle past any lease, so another worker takes them over at once.
    pub async fn run_worker(
        &self,
        consumer: &str,
        mut shutdown: watch::Receiver<bool>,
    ) -> RelayResult<()> {
        let mut running: tokio::task::JoinSet<(String, RelayResult<Phase>)> =
            tokio::task::JoinSet::new();
        let mut following: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut queue = self.queue(consumer);
        // A connection of its own (a blocking XREADGROUP would hold up every other command on a
        // shared one), reconnecting after a Redis restart.
        let mut redis = crate::service::redis::connect::manager(self.redis.clone()).await?;
        loop {
            if *shutdown.borrow() {
                self.stop.send_replace(true);
                let bound = tokio::time::sleep(HAND_BACK_BOUND);
                tokio::pin!(bound);
                let mut handed_back = 0;
                loop {
                    let done = tokio::select! {
                        done = running.join_next() => done,
                        _ = &mut bound => {
                            tracing::warn!("claims still in a step after {} s: stopping them there", HAND_BACK_BOUND.as_secs());
                            running.abort_all();
                            None
                        }
                    };
                    let Some(done) = done else { break };
                    let Ok((entry, result)) = done else { continue };
                    following.remove(&entry);
                    let outcome = match result {
                        Ok(_) => queue.ack(&mut redis, &entry).await,
                        Err(_) => {
                            handed_back += 1;
                            queue.hand_back(&mut redis, &entry).await
                        }
                    };
                    if let Err(e) = outcome {
                        redis_failed("relay", &e, "the entry is taken over after its lease");
                    }
                }
                // Aborted ones (and any not joined) are handed back too.
                for entry in following.drain() {
                    handed_back += 1;
                    let _ = queue.hand_back(&mut redis, &entry).await;
                }
                tracing::info!(handed_back, "relay worker stopped");
                return Ok(());
            }
            while let Some(done) = running.try_join_next() {
                if let Ok((entry, result)) = done {
                    following.remove(&entry);
                    if result.is_ok() {
                        if let Err(e) = queue.ack(&mut redis, &entry).await {
                            redis_failed(
                                "relay",
                                &e,
                                "the ended claim's entry is taken over and acknowledged later",
                            );
                        }
                    }
                }
            }
            let room = self.settings.concurrency.saturating_sub(running.len());
            // Each with whether it was taken over from a silent worker.
            let mut entries: Vec<(Entry, bool)> = Vec::new();
            if room > 0 {
                // Entries whose worker died first, then new ones.
                match queue.take_over(&mut redis, room).await {
                    Ok(taken) => entries.extend(taken.into_iter().map(|e| (e, true))),
                    Err(e) => {
                        redis_failed("relay", &e, "retrying");
                    }
                }
                let block = Some(Duration::from_millis(200));
                match queue.read_new(&mut redis, room, block).await {
                    Ok(fresh) => entries.extend(fresh.into_iter().map(|e| (e, false))),
                    Err(e) => {
                        redis_failed("relay", &e, "retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
            for (Entry { entry, id }, taken_over) in entries {
                if !following.insert(entry.clone()) {
                    continue;
                }
                let relayer = self.clone();
                let consumer = consumer.to_string();
                running.spawn(async move {
                    let started = std::time::Instant::now();
                    let (campaign, circuit) = relayer.describe(&id).await;
                    tracing::info!(claim = id, campaign, circuit, taken_over, "claim followed");
                    let result = relayer.drive(&id, None, Some((&entry, &consumer))).await;
                    let ms = started.elapsed().as_millis() as u64;
                    match &result {
                        Ok(phase) => tracing::info!(
                            claim = id,
                            campaign,
                            circuit,
                            taken_over,
                            ms,
                            phase = phase.as_str(),
                            "claim ended"
                        ),
                        Err(e) => tracing::info!(
                            claim = id,
                            campaign,
                            circuit,
                            taken_over,
                            ms,
                            code = e.code.as_str(),
                            "claim left to another worker"
                        ),
                    }
                    (entry, result)
                });
            }
        }
    }
}

/// How long a stopping relay worker waits for its claims to finish the step they are in.
pub const HAND_BACK_BOUND: Duration = Duration::from_secs(20);
