//! The scheduler's decisions, event by event.

use super::audit::EventKind;
use super::code::ErrorCode;
use super::fallback::Build;
use super::queue::Priority;
use super::quota::QuotaLimits;
use super::retry::Backoff;
use super::scheduler::{
    Command, Config, JobId, JobState, Scheduler, Submission, WorkerId, MAX_SPAWN_FAILURES,
};
use crate::claim::Claim;
use crate::runtime::statement::Statement;
use crate::tree::sample::sample;

fn claim(seed: u64) -> Claim {
    Claim::from_value(
        &sample(&"threshold-d4-k2".parse().unwrap(), 6, seed)
            .unwrap()
            .claim,
    )
    .unwrap()
}

fn submission(seed: u64, priority: Priority) -> Submission {
    Submission {
        statement: Statement::Claim(claim(seed)),
        priority,
        user_id: None,
        max_retries: None,
        timeout_ms: None,
        fallback_circuits: Vec::new(),
    }
}

fn config() -> Config {
    Config {
        backoff: Backoff {
            base_ms: 100.0,
            factor: 2.0,
            max_ms: 1000.0,
            jitter: 0.0,
        },
        ..Config::default()
    }
}

/// The worker the scheduler asks to spawn (its pending commands are taken).
fn spawned_worker(s: &mut Scheduler) -> WorkerId {
    s.take_commands()
        .into_iter()
        .find_map(|c| match c {
            Command::SpawnWorker { worker, .. } => Some(worker),
            _ => None,
        })
        .expect("a worker is spawned")
}

/// Starts the worker the scheduler asks for; returns its id.
fn ready_worker(s: &mut Scheduler, now: f64) -> WorkerId {
    let w = spawned_worker(s);
    s.worker_ready(w, now);
    w
}

fn runs(cmds: &[Command]) -> Vec<JobId> {
    cmds.iter()
        .filter_map(|c| {
            if let Command::Run { job, .. } = c {
                Some(*job)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn critical_job_runs_next_behind_low_ones() {
    let mut s = Scheduler::new(config(), 1);
    let first = s.submit(submission(1, Priority::Low), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 1.0);
    assert_eq!(runs(&s.take_commands()), [first]);
    let lows: Vec<JobId> = (2..6)
        .map(|i| s.submit(submission(i, Priority::Low), 2.0).unwrap().0)
        .collect();
    let normal = s.submit(submission(10, Priority::Normal), 3.0).unwrap().0;
    let critical = s.submit(submission(11, Priority::Critical), 4.0).unwrap().0;
    let mut order = Vec::new();
    let mut running = first;
    for t in 0..6 {
        assert!(s.succeeded(running, w, 10.0 + t as f64));
        let cmds = s.take_commands();
        assert!(cmds.contains(&Command::Resolve { job: running }));
        running = runs(&cmds)[0];
        order.push(running);
    }
    assert_eq!(order[0], critical);
    assert_eq!(order[1], normal);
    assert_eq!(order[2..], lows[..4], "FIFO within a priority");
}

#[test]
fn capacity_and_quotas() {
    let mut s = Scheduler::new(
        Config {
            capacity: 3,
            ..config()
        },
        1,
    );
    for i in 0..3 {
        s.submit(submission(i, Priority::Normal), 0.0).unwrap();
    }
    assert_eq!(
        s.submit(submission(9, Priority::Normal), 0.0)
            .unwrap_err()
            .code,
        ErrorCode::QueueFull
    );

    let quotas = QuotaLimits {
        max_active: Some(1),
        max_per_minute: None,
    };
    let mut s = Scheduler::new(Config { quotas, ..config() }, 1);
    let mut with_user = submission(1, Priority::Normal);
    with_user.user_id = Some("alice".into());
    s.submit(with_user.clone(), 0.0).unwrap();
    with_user.statement = Statement::Claim(claim(2));
    assert_eq!(
        s.submit(with_user.clone(), 0.0).unwrap_err().code,
        ErrorCode::RateLimited
    );
    with_user.user_id = Some("bob".into());
    assert!(s.submit(with_user, 0.0).is_ok());
}

#[test]
fn identical_claims_share_one_job() {
    let mut s = Scheduler::new(config(), 1);
    let (a, dedup_a) = s.submit(submission(1, Priority::Low), 0.0).unwrap();
    let (b, dedup_b) = s.submit(submission(1, Priority::High), 0.0).unwrap();
    assert_eq!((a, dedup_a, dedup_b), (b, false, true));
    assert_eq!(
        s.job(a).unwrap().priority,
        Priority::High,
        "raised to the highest subscriber"
    );
    // One caller cancels: the job goes on for the other.
    assert!(!s.cancel(a, 1.0));
    assert_eq!(s.job(a).unwrap().state, JobState::Queued);
    assert!(s.cancel(a, 2.0));
    assert_eq!(s.job(a).unwrap().state, JobState::Cancelled);
    // After it ended, the same claim is a new job.
    assert_ne!(s.submit(submission(1, Priority::Low), 3.0).unwrap().0, a);
}

#[test]
fn lifecycle_and_state_transitions() {
    let mut s = Scheduler::new(config(), 1);
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    assert_eq!(s.job(job).unwrap().state, JobState::Queued);
    let w = ready_worker(&mut s, 5.0);
    assert_eq!(
        s.job(job).unwrap().state,
        JobState::Running {
            worker: w,
            since_ms: 5.0
        }
    );
    assert_eq!(s.job(job).unwrap().attempts, 1);
    s.progress(job, w, 0.5, 0.0);
    assert_eq!(s.eta_ms(job, 105.0), Some(100.0));
    assert!(
        !s.succeeded(job, w + 1, 6.0),
        "a report from another worker is stale"
    );
    assert!(s.succeeded(job, w, 205.0));
    assert_eq!(s.job(job).unwrap().state, JobState::Succeeded);
    assert!(!s.cancel(job, 300.0), "a finished job cannot be cancelled");
    assert_eq!(s.predict("threshold-d4-k2"), Some(200.0));
    let kinds: Vec<_> = s
        .audit()
        .events()
        .map(|e| format!("{:?}", e.kind))
        .collect();
    assert_eq!(kinds, ["Submitted", "Started", "Succeeded"]);
}

#[test]
fn retryable_failures_back_off_then_give_up() {
    let mut s = Scheduler::new(config(), 1);
    let mut sub = submission(1, Priority::Normal);
    sub.max_retries = Some(2);
    let job = s.submit(sub, 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    s.take_commands();
    // Attempt 1 fails: wait 100 ms (base), attempt 2 fails: wait 200 ms, attempt 3 fails: final.
    let mut now = 10.0;
    for expected_wait in [100.0, 200.0] {
        s.failed(job, w, ErrorCode::ProofFailed, now);
        assert_eq!(
            s.job(job).unwrap().state,
            JobState::RetryWait {
                until_ms: now + expected_wait
            }
        );
        assert!(s.take_commands().contains(&Command::WakeAt {
            at_ms: now + expected_wait
        }));
        s.tick(now + expected_wait - 1.0);
        assert!(runs(&s.take_commands()).is_empty(), "not before its time");
        now += expected_wait;
        s.tick(now);
        assert_eq!(runs(&s.take_commands()), [job]);
    }
    s.failed(job, w, ErrorCode::ProofFailed, now + 1.0);
    assert_eq!(s.job(job).unwrap().state, JobState::Failed);
    assert!(s.take_commands().contains(&Command::Reject {
        job,
        code: ErrorCode::ProofFailed
    }));
    assert_eq!(s.job(job).unwrap().history.len(), 3);
}

#[test]
fn input_errors_never_retry() {
    let mut s = Scheduler::new(config(), 1);
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    s.failed(job, w, ErrorCode::InvalidInput, 1.0);
    assert_eq!(s.job(job).unwrap().state, JobState::Failed);
    assert_eq!(s.job(job).unwrap().attempts, 1);
}

#[test]
fn crashed_worker_is_replaced_and_its_job_runs_again() {
    let mut s = Scheduler::new(config(), 1);
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let other = s.submit(submission(2, Priority::Critical), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    let started = runs(&s.take_commands());
    assert_eq!(started, [other]);
    s.worker_died(w, 5.0);
    let cmds = s.take_commands();
    assert!(cmds.contains(&Command::TerminateWorker { worker: w }));
    let w2 = match cmds
        .iter()
        .find(|c| matches!(c, Command::SpawnWorker { .. }))
    {
        Some(Command::SpawnWorker { worker, .. }) => *worker,
        _ => panic!("no replacement worker: {cmds:?}"),
    };
    assert_ne!(w2, w);
    s.worker_ready(w2, 6.0);
    assert_eq!(
        runs(&s.take_commands()),
        [other],
        "the crashed job goes first"
    );
    assert_eq!(s.job(other).unwrap().history[0].code, "WORKER_CRASHED");
    assert!(s.succeeded(other, w2, 7.0));
    assert_eq!(runs(&s.take_commands()), [job]);
    // A late message from the dead worker changes nothing.
    assert!(!s.succeeded(other, w, 8.0));
}

#[test]
fn cancelling_a_running_job_terminates_its_worker() {
    let mut s = Scheduler::new(config(), 1);
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let next = s.submit(submission(2, Priority::Normal), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    s.take_commands();
    assert!(s.cancel(job, 1.0));
    let cmds = s.take_commands();
    assert!(cmds.contains(&Command::TerminateWorker { worker: w }));
    assert!(cmds.contains(&Command::Reject {
        job,
        code: ErrorCode::Cancelled
    }));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::SpawnWorker { .. })),
        "the pool goes on"
    );
    let w2 = match cmds
        .iter()
        .find(|c| matches!(c, Command::SpawnWorker { .. }))
    {
        Some(Command::SpawnWorker { worker, .. }) => *worker,
        _ => unreachable!(),
    };
    s.worker_ready(w2, 2.0);
    assert_eq!(runs(&s.take_commands()), [next]);
}

#[test]
fn timeout_is_retryable_and_stale_timers_are_ignored() {
    let mut s = Scheduler::new(config(), 1);
    let mut sub = submission(1, Priority::Normal);
    sub.timeout_ms = Some(50.0);
    let job = s.submit(sub, 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    let cmds = s.take_commands();
    assert!(cmds.contains(&Command::Run {
        job,
        worker: w,
        attempt: 1,
        timeout_ms: Some(50.0)
    }));
    s.timed_out(job, 1, 50.0);
    assert!(matches!(
        s.job(job).unwrap().state,
        JobState::RetryWait { .. }
    ));
    assert!(s
        .take_commands()
        .contains(&Command::TerminateWorker { worker: w }));
    s.tick(1000.0);
    let w2 = ready_worker(&mut s, 1000.0);
    assert_eq!(s.job(job).unwrap().attempts, 2);
    s.timed_out(job, 1, 1001.0);
    assert!(
        matches!(s.job(job).unwrap().state, JobState::Running { .. }),
        "timer of attempt 1 is stale"
    );
    assert!(s.succeeded(job, w2, 1020.0));
}

/// A scheduler whose manifest has three circuits of one family, and a claim of the largest that
/// a smaller one can prove, submitted accepting `fallbacks`; its worker ran out of memory.
fn out_of_memory_with(fallbacks: &[&str]) -> (Scheduler, JobId) {
    let big: Claim = Claim::from_value(
        &sample(&"threshold-d6-k8".parse().unwrap(), 30, 4)
            .unwrap()
            .claim,
    )
    .unwrap();
    let circuits = ["threshold-d6-k8", "threshold-d6-k6", "threshold-d6-k2"]
        .map(|c| c.parse().unwrap())
        .to_vec();
    let mut s = Scheduler::new(
        Config {
            circuits,
            ..config()
        },
        1,
    );
    let sub = Submission {
        statement: Statement::Claim(big),
        priority: Priority::Normal,
        user_id: None,
        max_retries: None,
        timeout_ms: None,
        fallback_circuits: fallbacks.iter().map(|c| c.parse().unwrap()).collect(),
    };
    let job = s.submit(sub, 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    s.failed(job, w, ErrorCode::OutOfMemory, 1.0);
    (s, job)
}

#[test]
fn out_of_memory_falls_back_to_a_smaller_circuit_the_caller_accepts() {
    let (s, job) = out_of_memory_with(&["threshold-d6-k6", "threshold-d6-k2"]);
    let j = s.job(job).unwrap();
    assert_eq!(j.state, JobState::Queued);
    assert_ne!(j.circuit(), "threshold-d6-k8");
    let claim = j.statement.claim().unwrap();
    assert!(claim.sum() >= claim.target);
}

#[test]
fn out_of_memory_stays_on_the_named_circuit_unless_the_caller_accepts_another() {
    // By default none: the job retries its own circuit, whose proof the caller's contract checks.
    for accepted in [&[][..], &["threshold-d6-k4"][..], &["exact-d6-k2"][..]] {
        let (s, job) = out_of_memory_with(accepted);
        let j = s.job(job).unwrap();
        assert!(
            matches!(j.state, JobState::RetryWait { .. }),
            "{accepted:?}"
        );
        assert_eq!(j.circuit(), "threshold-d6-k8", "{accepted:?}");
    }
}

#[test]
fn identical_claims_accepting_other_circuits_do_not_share_a_job() {
    let mut s = Scheduler::new(config(), 1);
    let a = submission(1, Priority::Normal);
    let mut b = submission(1, Priority::Normal);
    b.fallback_circuits = vec!["threshold-d4-k1".parse().unwrap()];
    let (ja, _) = s.submit(a, 0.0).unwrap();
    let (jb, dedup) = s.submit(b, 0.0).unwrap();
    assert!(!dedup);
    assert_ne!(ja, jb);
}

#[test]
fn threads_unavailable_switches_to_the_single_build() {
    let mut s = Scheduler::new(config(), 1);
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    s.failed(job, w, ErrorCode::ThreadsUnavailable, 1.0);
    let cmds = s.take_commands();
    assert!(cmds.iter().any(|c| matches!(
        c,
        Command::SpawnWorker {
            build: Build::Single,
            ..
        }
    )));
    assert_eq!(s.stats().build, "single");
}

#[test]
fn idle_workers_shut_down() {
    let mut s = Scheduler::new(
        Config {
            idle_timeout_ms: 100.0,
            ..config()
        },
        1,
    );
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    s.succeeded(job, w, 10.0);
    s.take_commands();
    s.tick(50.0);
    assert!(s.take_commands().is_empty());
    s.tick(110.0);
    assert_eq!(s.take_commands(), [Command::TerminateWorker { worker: w }]);
    assert!(s.workers().is_empty());
}

#[test]
fn terminate_rejects_everything_and_ends_every_worker() {
    let mut s = Scheduler::new(
        Config {
            workers: 2,
            ..config()
        },
        1,
    );
    let jobs: Vec<JobId> = (0..4)
        .map(|i| s.submit(submission(i, Priority::Normal), 0.0).unwrap().0)
        .collect();
    ready_worker(&mut s, 0.0);
    s.take_commands();
    s.terminate(1.0);
    let cmds = s.take_commands();
    for job in &jobs {
        assert!(cmds.contains(&Command::Reject {
            job: *job,
            code: ErrorCode::Terminated
        }));
    }
    assert_eq!(
        cmds.iter()
            .filter(|c| matches!(c, Command::TerminateWorker { .. }))
            .count(),
        2
    );
    assert!(s.workers().is_empty());
    assert_eq!(
        s.submit(submission(9, Priority::Normal), 2.0)
            .unwrap_err()
            .code,
        ErrorCode::Terminated
    );
}

#[test]
fn stats_count_per_priority() {
    let mut s = Scheduler::new(config(), 1);
    let a = s.submit(submission(1, Priority::High), 0.0).unwrap().0;
    let b = s.submit(submission(2, Priority::Low), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    s.succeeded(a, w, 100.0);
    s.failed(b, w, ErrorCode::InvalidInput, 150.0);
    let st = s.stats();
    assert_eq!(st.by_priority["HIGH"].completed, 1);
    assert_eq!(st.by_priority["LOW"].failed, 1);
    assert_eq!(st.success_rate, Some(0.5));
    // Counts survive forgetting the settled jobs (the web layer forgets them at once).
    s.forget(a);
    s.forget(b);
    assert_eq!(s.stats().by_priority["HIGH"].completed, 1);
    assert_eq!(s.stats().success_rate, Some(0.5));
    assert_eq!(st.durations["threshold-d4-k2"].p50, 100.0);
    let json = serde_json::to_value(&st).unwrap();
    assert_eq!(json["successRate"], 0.5);
}

/// Many jobs, random cancels and crashes: every job ends in exactly one final state.
#[test]
fn no_job_is_lost_under_churn() {
    let mut s = Scheduler::new(
        Config {
            workers: 3,
            capacity: 500,
            ..config()
        },
        7,
    );
    let mut rng = super::retry::Jitter::new(99);
    let priorities = Priority::HIGHEST_FIRST;
    let claims: Vec<Claim> = (0..8).map(claim).collect();
    let mut ids = Vec::new();
    let mut now = 0.0;
    for i in 0..200usize {
        let mut c = claims[i % 8].clone();
        c.campaign_id += crate::field::Fr::from(i as u64); // distinct jobs
        let p = priorities[(rng.next_f64() * 4.0) as usize];
        ids.push(
            s.submit(
                Submission {
                    statement: Statement::Claim(c),
                    priority: p,
                    user_id: None,
                    max_retries: None,
                    timeout_ms: None,
                    fallback_circuits: Vec::new(),
                },
                now,
            )
            .unwrap()
            .0,
        );
    }
    let mut settled = std::collections::HashMap::new();
    for _ in 0..5000 {
        now += 10.0;
        for cmd in s.take_commands() {
            match cmd {
                Command::SpawnWorker { worker, .. } => s.worker_ready(worker, now),
                Command::Run { job, worker, .. } => {
                    let r = rng.next_f64();
                    if r < 0.05 {
                        s.worker_died(worker, now);
                    } else if r < 0.10 {
                        s.cancel(job, now);
                    } else {
                        s.succeeded(job, worker, now);
                    }
                }
                Command::Resolve { job } => {
                    assert!(settled.insert(job, "ok").is_none(), "settled twice")
                }
                Command::Reject { job, code } => assert!(
                    settled.insert(job, code.as_str()).is_none(),
                    "settled twice"
                ),
                _ => {}
            }
        }
        s.tick(now);
        if settled.len() == ids.len() {
            break;
        }
    }
    assert_eq!(settled.len(), 200, "every job settled exactly once");
    for id in ids {
        assert!(s.job(id).unwrap().state.is_final());
    }
}

#[test]
fn threads_that_fail_to_start_replace_the_worker_and_make_every_later_worker_single() {
    let mut s = Scheduler::new(config(), 2);
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let spawned = spawns(s.take_commands());
    assert!(!spawned.is_empty());
    assert!(spawned.iter().all(|(_, b)| *b == Build::Threaded));
    let (w, _) = spawned[0];
    assert_eq!(
        s.threads_failed(w, 1.0),
        Some(ErrorCode::ThreadsUnavailable)
    );
    assert_eq!(s.stats().build, "single");
    // That worker is ended and a single-threaded one takes its place; no spawn failure counts.
    let commands = s.take_commands();
    assert!(commands.contains(&Command::TerminateWorker { worker: w }));
    let respawned = spawns(commands);
    assert_eq!(respawned.len(), 1);
    let (w2, build) = respawned[0];
    assert_eq!(build, Build::Single);
    s.worker_ready(w2, 2.0);
    // The job runs on it.
    assert!(matches!(
        s.job(job).unwrap().state,
        JobState::Running { worker, .. } if worker == w2
    ));
    // A stale report, or one once single, says nothing new.
    assert_eq!(s.threads_failed(w, 3.0), None);
    assert_eq!(s.threads_failed(w2, 3.0), None);
    // A crashed worker is replaced single-threaded.
    s.failed(job, w2, ErrorCode::WorkerCrashed, 4.0);
    let (_, build) = spawns(s.take_commands())[0];
    assert_eq!(build, Build::Single);
}

#[test]
fn threads_that_fail_to_start_are_no_failed_spawn() {
    // One threads failure and then MAX_SPAWN_FAILURES - 1 workers that do not load: still
    // short of giving up, so the job is not terminated.
    let mut s = Scheduler::new(config(), 1);
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let mut w = spawned_worker(&mut s);
    s.threads_failed(w, 1.0);
    for _ in 1..MAX_SPAWN_FAILURES {
        w = spawned_worker(&mut s);
        assert!(!s.worker_failed_to_start(w, 2.0));
    }
    w = spawned_worker(&mut s);
    s.worker_ready(w, 3.0);
    assert!(matches!(
        s.job(job).unwrap().state,
        JobState::Running { .. }
    ));
}

#[test]
fn a_threaded_worker_as_asked_reports_nothing() {
    let mut s = Scheduler::new(config(), 1);
    s.submit(submission(1, Priority::Normal), 0.0).unwrap();
    let w = spawned_worker(&mut s);
    s.worker_ready(w, 1.0);
    assert_eq!(s.stats().build, "threaded");
}

/// The workers a batch of commands spawns, with their builds.
fn spawns(commands: Vec<Command>) -> Vec<(WorkerId, Build)> {
    commands
        .into_iter()
        .filter_map(|c| match c {
            Command::SpawnWorker { worker, build } => Some((worker, build)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_silent_worker_is_ended_and_its_attempt_is_a_retryable_timeout() {
    let mut s = Scheduler::new(
        Config {
            stall_timeout_ms: Some(1_000.0),
            ..config()
        },
        1,
    );
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 0.0);
    assert!(s
        .take_commands()
        .iter()
        .any(|c| matches!(c, Command::WakeAt { at_ms } if *at_ms == 1_000.0)));
    // Word from the worker keeps it alive past the first deadline.
    s.progress(job, w, 0.3, 900.0);
    s.tick(1_000.0);
    assert!(matches!(
        s.job(job).unwrap().state,
        JobState::Running { .. }
    ));
    assert!(s
        .take_commands()
        .iter()
        .any(|c| matches!(c, Command::WakeAt { at_ms } if *at_ms == 1_900.0)));
    // Then silence.
    s.tick(1_900.0);
    let j = s.job(job).unwrap();
    assert!(
        matches!(j.state, JobState::RetryWait { .. }),
        "{:?}",
        j.state
    );
    assert_eq!(j.history.last().unwrap().code, "TIMEOUT");
    let cmds = s.take_commands();
    assert!(cmds
        .iter()
        .any(|c| matches!(c, Command::TerminateWorker { worker } if *worker == w)));
    assert!(s.audit().since(0).any(|e| e.kind == EventKind::Stalled));
}

#[test]
fn no_stall_timeout_means_a_silent_worker_is_left_alone() {
    let mut s = Scheduler::new(
        Config {
            stall_timeout_ms: None,
            ..config()
        },
        1,
    );
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    ready_worker(&mut s, 0.0);
    s.tick(1e9);
    assert!(matches!(
        s.job(job).unwrap().state,
        JobState::Running { .. }
    ));
}

#[test]
fn a_broken_invariant_is_an_internal_event_and_the_scheduler_goes_on() {
    let mut s = Scheduler::new(config(), 1);
    let running = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    let queued = s.submit(submission(2, Priority::Normal), 0.0).unwrap().0;
    let next = s.submit(submission(3, Priority::Normal), 0.0).unwrap().0;
    let w = ready_worker(&mut s, 1.0);
    assert_eq!(runs(&s.take_commands()), [running]);
    // A queued job and the running one vanish from the table; both stay listed elsewhere.
    s.lose_job(queued);
    s.lose_job(running);
    let internal = |s: &Scheduler| {
        s.audit()
            .since(0)
            .filter(|e| e.kind == EventKind::Internal)
            .map(|e| (e.job, e.code.clone()))
            .collect::<Vec<_>>()
    };
    // The running job's report is stale (nothing to settle); the worker is still busy with it.
    assert!(!s.succeeded(running, w, 2.0));
    s.failed(running, w, ErrorCode::Internal, 2.0);
    // Its worker dies: the lost job cannot go back to the queue; the next one runs on a new worker.
    s.worker_died(w, 3.0);
    let w2 = ready_worker(&mut s, 4.0);
    assert_eq!(
        runs(&s.take_commands()),
        [next],
        "the lost queued job is skipped"
    );
    assert_eq!(
        internal(&s),
        [
            (running, Some("INTERNAL".to_string())),
            (queued, Some("INTERNAL".to_string()))
        ],
        "one event for the running job its dead worker held, one for the queued job popped"
    );
    assert!(s.succeeded(next, w2, 5.0));
    assert_eq!(s.job(next).unwrap().state, JobState::Succeeded);
    // The same claim as a lost in-flight job is a new job, not joined to a ghost; the worker
    // left busy with the lost job is ended at the next tick and the new job runs on another.
    let lost = s.submit(submission(7, Priority::Normal), 6.0).unwrap().0;
    assert_eq!(runs(&s.take_commands()), [lost]);
    s.lose_job(lost);
    let (again, joined) = s.submit(submission(7, Priority::Normal), 7.0).unwrap();
    assert!(!joined);
    assert_ne!(again, lost);
    s.tick(8.0);
    let cmds = s.take_commands();
    assert!(cmds.contains(&Command::TerminateWorker { worker: w2 }));
    let w3 = cmds
        .iter()
        .find_map(|c| match c {
            Command::SpawnWorker { worker, .. } => Some(*worker),
            _ => None,
        })
        .expect("a worker in its place");
    s.worker_ready(w3, 9.0);
    assert_eq!(runs(&s.take_commands()), [again]);
    assert_eq!(
        internal(&s).iter().map(|e| e.0).collect::<Vec<_>>(),
        [running, queued, lost, lost],
        "the lost in-flight entry, then the worker busy with it"
    );
}

#[test]
fn workers_that_never_start_end_the_runtime_after_the_budget() {
    use super::scheduler::MAX_SPAWN_FAILURES;
    let mut s = Scheduler::new(config(), 1);
    let job = s.submit(submission(1, Priority::Normal), 0.0).unwrap().0;
    // Two failures, then a worker that starts: the count starts again.
    for t in 1..MAX_SPAWN_FAILURES {
        let w = spawned_worker(&mut s);
        assert!(
            !s.worker_failed_to_start(w, t as f64),
            "failure {t} is replaced"
        );
    }
    let w = ready_worker(&mut s, 5.0);
    assert_eq!(runs(&s.take_commands()), [job]);
    assert!(s.succeeded(job, w, 6.0));
    s.take_commands();
    // The budget in a row: every unfinished job is rejected, nothing waits forever.
    let waiting = s.submit(submission(2, Priority::Normal), 7.0).unwrap().0;
    s.worker_died(w, 7.5);
    for t in 1..=MAX_SPAWN_FAILURES {
        let w = spawned_worker(&mut s);
        let gave_up = s.worker_failed_to_start(w, 8.0 + t as f64);
        assert_eq!(gave_up, t == MAX_SPAWN_FAILURES, "failure {t}");
    }
    let cmds = s.take_commands();
    assert!(cmds.contains(&Command::Reject {
        job: waiting,
        code: ErrorCode::Terminated
    }));
    assert_eq!(s.job(waiting).unwrap().state, JobState::Failed);
}
