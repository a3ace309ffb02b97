//! The audit log: job events with times and codes, bounded. Never secrets or attestations: an
//! event holds ids, the circuit, the priority and codes only.

use std::collections::VecDeque;

use serde::Serialize;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// Accepted into the queue.
    Submitted,
    /// Stored by an earlier runtime on this origin (the durable queue) and accepted again.
    Resumed,
    /// Answered from the proof cache, without proving.
    CacheHit,
    /// A cached proof failed its checks (tampered or stale): evicted, the claim is proved.
    CacheRejected,
    /// Joined an identical job already in flight.
    Deduplicated,
    /// Refused at submission (queue full, rate limited, bad options).
    Rejected,
    /// An attempt started on a worker.
    Started,
    /// An attempt failed and the job will run again.
    Retried,
    /// The job moved to a smaller circuit or another build.
    FellBack,
    /// The job went to the operator's server (`remote`): first (`when: 'always'`), or with the
    /// code it failed with on the device.
    SentToServer,
    /// A worker died under the job.
    WorkerCrashed,
    /// The job's worker sent nothing for `stallTimeoutMs`: ended, the attempt is a TIMEOUT.
    Stalled,
    /// Final: proved.
    Succeeded,
    /// Final: failed.
    Failed,
    /// Final: cancelled.
    Cancelled,
    /// The scheduler found one of its own invariants broken (a job it lists but no longer
    /// holds): it skipped that step and went on, code INTERNAL. A bug, reported, never a panic.
    Internal,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Milliseconds since the runtime's time origin.
    pub at_ms: f64,
    /// The job.
    pub job: u64,
    /// What happened.
    pub kind: EventKind,
    /// The circuit id.
    pub circuit: String,
    /// The job's priority.
    pub priority: String,
    /// The attempt number (1 for the first).
    pub attempt: u32,
    /// The error code, for failures and retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A bounded log, oldest events dropped first.
#[derive(Debug, Clone)]
pub struct AuditLog {
    capacity: usize,
    events: VecDeque<AuditEvent>,
    pushed: u64,
}

impl AuditLog {
    /// Keeps at most `capacity` events.
    pub fn new(capacity: usize) -> Self {
        AuditLog {
            capacity: capacity.max(1),
            events: VecDeque::new(),
            pushed: 0,
        }
    }

    /// Appends an event.
    pub fn push(&mut self, event: AuditEvent) {
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
        self.pushed += 1;
    }

    /// Events pushed since the log was made (kept or not): a cursor for copying new events
    /// elsewhere (the persisted log).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// The events pushed after the first `since` (as far as they are still kept), oldest first.
    pub fn since(&self, since: u64) -> impl Iterator<Item = &AuditEvent> {
        let new = self
            .pushed
            .saturating_sub(since)
            .min(self.events.len() as u64) as usize;
        self.events.iter().skip(self.events.len() - new)
    }

    /// The events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &AuditEvent> {
        self.events.iter()
    }

    /// The log as a JSON array.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.events).expect("events serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(job: u64) -> AuditEvent {
        AuditEvent {
            at_ms: job as f64,
            job,
            kind: EventKind::Submitted,
            circuit: "threshold-d4-k2".into(),
            priority: "LOW".into(),
            attempt: 1,
            code: None,
        }
    }

    #[test]
    fn bounded_and_json() {
        let mut log = AuditLog::new(3);
        (1..=5).for_each(|j| log.push(event(j)));
        let jobs: Vec<u64> = log.events().map(|e| e.job).collect();
        assert_eq!(jobs, [3, 4, 5]);
        assert_eq!(log.pushed(), 5);
        let new: Vec<u64> = log.since(3).map(|e| e.job).collect();
        assert_eq!(new, [4, 5]);
        assert_eq!(log.since(0).count(), 3, "only what is kept");
        assert_eq!(log.since(5).count(), 0);
        let json = log.to_json();
        assert_eq!(json[0]["kind"], "submitted");
        assert_eq!(json[0]["atMs"], 3.0);
        assert!(json[0].get("code").is_none());
    }
}
