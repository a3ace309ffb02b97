//! The durable queue's records and rules: which jobs are stored, when a stored job is resumed, and
//! when its record goes.
//!
//! A job is stored when it is accepted and removed when it ends for good: when it succeeded (in
//! the same transaction that caches its proof), failed finally, or was cancelled. A job that was
//! only cut short by the page closing, or by `terminate()`, keeps its record and is resumed by the
//! next runtime on the origin. A record holds the claim (with its secret): that is the price of
//! resuming, and the reason durability is off unless the caller turns it on. In IndexedDB the
//! claim is sealed with AES-GCM under a non-extractable WebCrypto key of the origin
//! (`src/js/storage.js`); the README says what that does and does not protect against.
//!
//! A job that brings the page down every time it runs (it exhausts the tab's memory, say) must
//! not do so forever: each run is counted (once per runtime, when a worker starts it), and after
//! [`MAX_RUNS`] runs that did not finish the record is dropped. Page loads that only resume a job
//! and never start it count nothing, and a stored job a runtime refuses at start (its queue full,
//! a quota, a key briefly missing from the manifest) keeps its record and is tried again later.

use serde::{Deserialize, Serialize};

use super::code::ErrorCode;
use super::queue::Priority;
use super::scheduler::{JobState, Submission};
use super::statement::Statement;
use crate::claim::Claim;

/// Version of the record layout; other versions are dropped at start. 2: the claim is sealed in
/// IndexedDB (format 1 stored it in plain text: such records are deleted unread).
pub const DURABLE_FORMAT: u32 = 2;
/// Runs (one per runtime that started it) a stored job gets before it is given up.
pub const MAX_RUNS: u32 = 3;

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DurableJob {
    /// [`DURABLE_FORMAT`].
    pub format: u32,
    /// The claim's proof cache key: identical claims share one record.
    pub id: String,
    /// The claim as canonical JSON, secret included (sealed when stored).
    pub claim: String,
    /// `LOW` .. `CRITICAL`.
    pub priority: String,
    /// Quota owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The job's own retry limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// The job's own per-attempt timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<f64>,
    /// The circuits it may fall back to ([`Submission::fallback_circuits`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_circuits: Vec<String>,
    /// Wall-clock submission time (ms since the Unix epoch).
    pub submitted_at: f64,
    /// How many runtimes started running it (see [`MAX_RUNS`]).
    pub runs: u32,
}

impl DurableJob {
    /// The record of an accepted submission; `None` for a circom input, which is never stored
    /// (see [`crate::runtime::statement`]).
    pub fn new(id: String, s: &Submission, submitted_at: f64) -> Option<Self> {
        let claim = s.statement.claim()?;
        Some(DurableJob {
            format: DURABLE_FORMAT,
            id,
            claim: claim.to_canonical_json().to_string(),
            priority: s.priority.to_string(),
            user_id: s.user_id.clone(),
            max_retries: s.max_retries,
            timeout_ms: s.timeout_ms,
            fallback_circuits: s.fallback_circuits.iter().map(|c| c.to_string()).collect(),
            submitted_at,
            runs: 0,
        })
    }

    /// The submission to run again at a start, or why the record is dropped instead.
    pub fn resume(&mut self) -> Result<Submission, String> {
        if self.format != DURABLE_FORMAT {
            return Err(format!("stored by record format {}", self.format));
        }
        if self.runs >= MAX_RUNS {
            return Err(format!(
                "ran {} times without finishing: given up",
                self.runs
            ));
        }
        let claim = Claim::from_json(&self.claim).map_err(|e| e.to_string())?;
        let priority: Priority = self.priority.parse()?;
        let fallback_circuits = self
            .fallback_circuits
            .iter()
            .map(|c| c.parse().map_err(|e: crate::Error| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok(Submission {
            statement: Statement::Claim(claim),
            priority,
            user_id: self.user_id.clone(),
            max_retries: self.max_retries,
            timeout_ms: self.timeout_ms,
            fallback_circuits,
        })
    }
}

impl DurableJob {
    /// Counts a run: a runtime's worker starts the job (the caller stores the record back).
    pub fn count_run(&mut self) {
        self.runs = self.runs.saturating_add(1);
    }
}

/// Whether a job that reached `state` (final), with `code` when it failed, leaves the durable
/// queue. Only the runtime's own end (TERMINATED) keeps it: the job did not fail, it was cut
/// short, like a closed page.
pub fn leaves_queue(state: JobState, code: Option<ErrorCode>) -> bool {
    match state {
        JobState::Succeeded | JobState::Cancelled => true,
        JobState::Failed => code != Some(ErrorCode::Terminated),
        _ => false,
    }
}

/// How a proved job's proof went into the proof cache, for its durable record: the cache write
/// removes the record in the same transaction, so that a reload never finds the job without its
/// proof or the proof without the job's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofCaching {
    /// The write committed: the record went with it.
    Written,
    /// No proof cache (off, closed, no key for a circom input): nothing was written.
    Off,
    /// The write failed (a full quota, a closed database).
    Failed,
}

/// Whether a proved job's durable record must still be removed on its own after its proof's
/// cache write. A job that proved has ended ([`leaves_queue`]) whether its proof was cached or
/// not: a record left behind would be resumed and proved again at the next start.
pub fn remove_after_caching(caching: ProofCaching) -> bool {
    leaves_queue(JobState::Succeeded, None) && caching != ProofCaching::Written
}

/// What the browser answered when asked for a durable job's cross-tab lock (Web Locks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockAnswer {
    /// This tab holds it now (taken, or already held).
    Taken,
    /// Another tab of the origin holds it: that tab runs the job.
    HeldElsewhere,
    /// The browser has no Web Locks.
    Unsupported,
    /// The request failed.
    Failed,
}

impl LockAnswer {
    /// The answer storage.js reports; anything else is a failed request.
    pub fn parse(answer: &str) -> LockAnswer {
        match answer {
            "taken" => LockAnswer::Taken,
            "held" => LockAnswer::HeldElsewhere,
            "unsupported" => LockAnswer::Unsupported,
            _ => LockAnswer::Failed,
        }
    }
}

/// Whether this tab may run (resume or store) a durable job after asking for its lock. Only a
/// lock another tab holds keeps it out: without Web Locks, or when the request fails, this tab
/// cannot tell whether another runs the job, and a job run twice is proved twice (the same
/// proof), while a job nobody runs is lost.
pub fn may_run(answer: LockAnswer) -> bool {
    answer != LockAnswer::HeldElsewhere
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::sample::sample;

    fn submission() -> Submission {
        let claim = Claim::from_value(
            &sample(&"threshold-d4-k2".parse().unwrap(), 6, 5)
                .unwrap()
                .claim,
        )
        .unwrap();
        Submission {
            statement: Statement::Claim(claim),
            priority: Priority::High,
            user_id: Some("u1".into()),
            max_retries: Some(1),
            timeout_ms: None,
            fallback_circuits: vec!["threshold-d4-k1".parse().unwrap()],
        }
    }

    #[test]
    fn round_trips_a_submission_through_storage() {
        let s = submission();
        let record = DurableJob::new("k".into(), &s, 1.5e12).unwrap();
        let text = serde_json::to_string(&record).unwrap();
        assert!(!text.contains("timeoutMs"), "{text}");
        let mut back: DurableJob = serde_json::from_str(&text).unwrap();
        let again = back.resume().unwrap();
        assert_eq!(again.statement, s.statement);
        assert_eq!(again.priority, Priority::High);
        assert_eq!(again.user_id.as_deref(), Some("u1"));
        assert_eq!(again.max_retries, Some(1));
        assert_eq!(back.runs, 0, "resuming is not running");
    }

    #[test]
    fn a_circom_input_is_never_stored() {
        let input = serde_json::json!({ "vote": 1 });
        let circom = crate::runtime::statement::CircomStatement::new("my-circuit", &input);
        let s = Submission {
            statement: Statement::Circom(circom.unwrap()),
            ..submission()
        };
        assert_eq!(DurableJob::new("k".into(), &s, 0.0), None);
    }

    #[test]
    fn page_loads_that_never_run_the_job_count_nothing() {
        let mut record = DurableJob::new("k".into(), &submission(), 0.0).unwrap();
        for _ in 0..10 * MAX_RUNS {
            record.resume().unwrap();
        }
        assert_eq!(record.runs, 0);
    }

    #[test]
    fn gives_up_after_max_runs() {
        let mut record = DurableJob::new("k".into(), &submission(), 0.0).unwrap();
        for _ in 0..MAX_RUNS {
            record.resume().unwrap();
            record.count_run();
        }
        assert!(record.resume().unwrap_err().contains("ran 3 times"));
    }

    #[test]
    fn drops_unreadable_records() {
        let mut record = DurableJob::new("k".into(), &submission(), 0.0).unwrap();
        record.claim = "{\"circuit\":\"threshold-d4-k2\"}".into();
        assert!(record.resume().is_err());
        let mut record = DurableJob::new("k".into(), &submission(), 0.0).unwrap();
        record.priority = "URGENT".into();
        assert!(record.resume().is_err());
        let mut record = DurableJob::new("k".into(), &submission(), 0.0).unwrap();
        record.format = 9;
        assert!(record.resume().is_err());
    }

    #[test]
    fn leaves_the_queue_only_when_the_job_ended_for_good() {
        assert!(leaves_queue(JobState::Succeeded, None));
        assert!(leaves_queue(
            JobState::Cancelled,
            Some(ErrorCode::Cancelled)
        ));
        assert!(leaves_queue(JobState::Failed, Some(ErrorCode::ScoreNotMet)));
        assert!(leaves_queue(JobState::Failed, Some(ErrorCode::Timeout)));
        assert!(!leaves_queue(JobState::Failed, Some(ErrorCode::Terminated)));
        assert!(!leaves_queue(JobState::Queued, None));
        assert!(!leaves_queue(JobState::CheckingCache, None));
    }

    #[test]
    fn a_proved_job_ends_whether_its_proof_was_cached_or_not() {
        assert!(
            !remove_after_caching(ProofCaching::Written),
            "the write removed it"
        );
        assert!(remove_after_caching(ProofCaching::Off));
        assert!(remove_after_caching(ProofCaching::Failed));
    }

    #[test]
    fn only_a_lock_another_tab_holds_keeps_a_job_out() {
        for (answer, parsed, runs) in [
            ("taken", LockAnswer::Taken, true),
            ("held", LockAnswer::HeldElsewhere, false),
            ("unsupported", LockAnswer::Unsupported, true),
            ("failed", LockAnswer::Failed, true),
            ("", LockAnswer::Failed, true),
        ] {
            assert_eq!(LockAnswer::parse(answer), parsed, "{answer:?}");
            assert_eq!(may_run(parsed), runs, "{answer:?}");
        }
    }
}
