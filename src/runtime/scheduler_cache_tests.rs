//! The scheduler with a proof cache in front: a job waits for the cache's answer before it may
//! take a worker.

use super::audit::EventKind;
use super::queue::Priority;
use super::scheduler::{CacheAnswer, Command, Config, JobState, Scheduler, Submission};
use crate::claim::Claim;
use crate::runtime::statement::Statement;
use crate::tree::sample::sample;

fn submission(seed: u64) -> Submission {
    Submission {
        statement: Statement::Claim(
            Claim::from_value(
                &sample(&"threshold-d4-k2".parse().unwrap(), 6, seed)
                    .unwrap()
                    .claim,
            )
            .unwrap(),
        ),
        priority: Priority::Normal,
        user_id: None,
        max_retries: None,
        timeout_ms: None,
        fallback_circuits: Vec::new(),
    }
}

fn scheduler() -> Scheduler {
    Scheduler::new(
        Config {
            check_cache: true,
            ..Config::default()
        },
        1,
    )
}

fn kinds(s: &Scheduler) -> Vec<EventKind> {
    s.audit().events().map(|e| e.kind).collect()
}

#[test]
fn a_new_job_asks_the_cache_first_and_takes_no_worker_meanwhile() {
    let mut s = scheduler();
    let (job, _) = s.submit(submission(1), 0.0).unwrap();
    assert_eq!(s.job(job).unwrap().state, JobState::CheckingCache);
    assert_eq!(s.take_commands(), [Command::CheckCache { job }]);
    assert_eq!(s.stats().by_priority["NORMAL"].queued, 1);
    assert!(s.eta_ms(job, 0.0).is_none());
}

#[test]
fn a_hit_resolves_without_proving() {
    let mut s = scheduler();
    let (job, _) = s.submit(submission(1), 0.0).unwrap();
    s.take_commands();
    assert!(s.cache_answer(job, CacheAnswer::Hit, 5.0));
    assert_eq!(s.take_commands(), [Command::Resolve { job }]);
    assert_eq!(s.job(job).unwrap().state, JobState::Succeeded);
    assert_eq!(
        kinds(&s),
        [
            EventKind::Submitted,
            EventKind::CacheHit,
            EventKind::Succeeded
        ]
    );
    assert_eq!(s.stats().by_priority["NORMAL"].completed, 1);
    // No proving time is recorded for a hit.
    assert!(s.stats().durations.is_empty());
    // The claim is no longer in flight: the same claim again is a new job.
    s.forget(job);
    let (again, dedup) = s.submit(submission(1), 6.0).unwrap();
    assert!(!dedup && again != job);
}

#[test]
fn a_miss_or_a_rejected_entry_queues_the_job() {
    for answer in [CacheAnswer::Miss, CacheAnswer::Rejected] {
        let mut s = scheduler();
        let (job, _) = s.submit(submission(2), 0.0).unwrap();
        s.take_commands();
        assert!(s.cache_answer(job, answer, 1.0));
        assert_eq!(s.job(job).unwrap().state, JobState::Queued);
        let cmds = s.take_commands();
        assert!(
            matches!(cmds[..], [Command::SpawnWorker { .. }]),
            "{cmds:?}"
        );
        assert_eq!(
            kinds(&s).contains(&EventKind::CacheRejected),
            answer == CacheAnswer::Rejected
        );
    }
}

#[test]
fn identical_claims_share_the_lookup_and_late_answers_are_ignored() {
    let mut s = scheduler();
    let (a, _) = s.submit(submission(3), 0.0).unwrap();
    let (b, dedup) = s.submit(submission(3), 0.0).unwrap();
    assert!(dedup && a == b);
    assert_eq!(s.take_commands(), [Command::CheckCache { job: a }]);
    // Both callers cancel while the lookup runs: the answer comes too late.
    assert!(!s.cancel(a, 1.0));
    assert!(s.cancel(a, 1.0));
    assert_eq!(s.job(a).unwrap().state, JobState::Cancelled);
    s.take_commands();
    assert!(!s.cache_answer(a, CacheAnswer::Hit, 2.0));
    assert!(!s.cache_answer(99, CacheAnswer::Miss, 2.0));
    assert!(s.take_commands().is_empty());
}

#[test]
fn terminate_rejects_a_job_waiting_for_the_cache() {
    let mut s = scheduler();
    let (job, _) = s.submit(submission(4), 0.0).unwrap();
    s.take_commands();
    s.terminate(1.0);
    assert_eq!(s.job(job).unwrap().state, JobState::Failed);
    assert!(!s.cache_answer(job, CacheAnswer::Miss, 2.0));
}

#[test]
fn a_resumed_job_is_logged_as_such() {
    let mut s = scheduler();
    let (job, _) = s.resume(submission(5), 0.0).unwrap();
    assert_eq!(kinds(&s), [EventKind::Resumed]);
    assert_eq!(s.take_commands(), [Command::CheckCache { job }]);
}

#[test]
fn without_a_cache_jobs_queue_at_once() {
    let mut s = Scheduler::new(Config::default(), 1);
    let (job, _) = s.submit(submission(6), 0.0).unwrap();
    assert_eq!(s.job(job).unwrap().state, JobState::Queued);
    assert!(!s
        .take_commands()
        .iter()
        .any(|c| matches!(c, Command::CheckCache { .. })));
}
