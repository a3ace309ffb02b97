//! The scaling signal: how many prover workers keep a task's wait under a target, from what
//! Redis holds (so every `serve` node answers the same): `GET /v1/queue`'s `recommendedWorkers`
//! and the `airprover_recommended_workers` gauge.
//!
//! The decision ([`recommend`]) is a plain function of its inputs:
//!
//! - Little's law: a queue that receives `λ` tasks a second, each taking `S` seconds of one
//!   worker's time, keeps `λ·S` workers busy on average: `ceil(λ·S)` workers keep up;
//! - plus what drains the tasks already waiting within the target wait `T`: `W` waiting tasks
//!   are `W·S` worker-seconds, done in `T` by `ceil(W·S/T)` more workers.
//!
//! The inputs:
//!
//! - `λ`: the service-wide `submitted` counter sampled (with Redis's clock, so the nodes' clocks
//!   do not matter) into a sorted set at most once a second by every worker's heartbeat and every
//!   read of the signal; the rate is the counter's rise over the samples of the last [`WINDOW`];
//! - `S`: the proving time the workers measured (the per-circuit histograms `/metrics` shows),
//!   each circuit's mean weighted by how many of its proofs were made;
//! - `W`: the tasks waiting in every priority's stream.
//!
//! With no proving time measured yet (no proof made), anything to do asks for one worker: it
//! measures the rest.

use std::time::Duration;

use redis::Script;

use super::redis::tasks::Tasks;
use crate::runtime::queue::Priority;

/// The span the arrival rate is measured over.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The wait a task should not exceed (the backlog's share of the recommendation).
pub const TARGET_WAIT: Duration = Duration::from_secs(30);

/// Samples are taken at most this often (however many workers beat).
const SAMPLE_GAP: Duration = Duration::from_secs(1);

/// What the recommendation is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inputs {
    /// Tasks submitted per second (over [`WINDOW`]).
    pub arrivals_per_s: f64,
    /// A task's mean proving time in seconds; `None` before the first proof.
    pub service_s: Option<f64>,
    /// Tasks waiting in the queue (not yet delivered to a worker).
    pub waiting: u64,
    /// The wait a task should not exceed.
    pub target_wait: Duration,
}

/// The workers that keep up with the arrivals and bring the waiting queue under the target
/// wait: `ceil(λ·S) + ceil(W·S/T)` (see the module's docs).
pub fn recommend(inputs: &Inputs) -> u64 {
    let busy = inputs.arrivals_per_s.is_finite() && inputs.arrivals_per_s > 0.0;
    let Some(service) = inputs.service_s.filter(|s| s.is_finite() && *s > 0.0) else {
        return u64::from(busy || inputs.waiting > 0);
    };
    let arrivals = if busy { inputs.arrivals_per_s } else { 0.0 };
    let target = inputs.target_wait.as_secs_f64().max(0.001);
    // A hair below each integer stays below it: 2.0000000001 workers' worth of load is 2.
    let ceil = |x: f64| (x - 1e-9).ceil().max(0.0) as u64;
    ceil(arrivals * service) + ceil(inputs.waiting as f64 * service / target)
}

/// The mean of per-circuit `(proofs, total ms)`, weighted by proofs: seconds, or `None` without
/// a proof.
pub fn mean_service_s(circuits: &[(u64, u64)]) -> Option<f64> {
    let (count, ms) = circuits
        .iter()
        .fold((0u64, 0u64), |(c, m), (count, ms)| (c + count, m + ms));
    (count > 0).then(|| ms as f64 / count as f64 / 1000.0)
}

/// The rate between two samples of a counter `(ms, count)`: per second; 0 when they are less
/// than a second apart (too short to tell).
pub fn rate(oldest: (u64, u64), newest: (u64, u64)) -> f64 {
    let span_ms = newest.0.saturating_sub(oldest.0);
    if span_ms < 1000 {
        return 0.0;
    }
    newest.1.saturating_sub(oldest.1) as f64 * 1000.0 / span_ms as f64
}

/// The signal as read: its inputs and the recommendation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    /// What it was computed from.
    pub inputs: Inputs,
    /// [`recommend`] of them.
    pub recommended: u64,
}

const SAMPLE: &str = r#"
-- KEYS: the submitted counter, the samples (a sorted set of 'ms:count' by ms).
-- ARGV: window (ms), the least gap between samples (ms).
-- Adds a sample of the counter (Redis's clock) unless one is newer than the gap, drops those
-- older than the window, and returns { now (ms), count now, oldest sample's ms, its count }.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if #newest == 0 or now - tonumber(newest[2]) >= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[2], now, now .. ':' .. count)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[1])))
redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[1]))
local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local old_count = tonumber(string.match(oldest[1], ':(%d+)$'))
return { now, count, tonumber(oldest[2]), old_count }
"#;

/// Samples the arrivals counter (at most once per second across all processes): the rate over
/// [`WINDOW`] (tasks per second).
pub async fn sample_arrivals(tasks: &Tasks) -> redis::RedisResult<f64> {
    let (now, count, oldest_ms, oldest_count): (u64, u64, u64, u64) = Script::new(SAMPLE)
        .key(tasks.keys().stat("submitted"))
        .key(tasks.keys().arrival_samples())
        .arg(WINDOW.as_millis() as u64)
        .arg(SAMPLE_GAP.as_millis() as u64)
        .invoke_async(&mut tasks.redis())
        .await?;
    Ok(rate((oldest_ms, oldest_count), (now, count)))
}

/// Reads the signal's inputs from Redis (sampling the arrivals) and computes it.
pub async fn read(tasks: &Tasks) -> redis::RedisResult<Signal> {
    let arrivals_per_s = sample_arrivals(tasks).await?;
    let circuits: Vec<(u64, u64)> = tasks
        .histograms()
        .await?
        .into_iter()
        .map(|(_, h)| {
            let count = h
                .iter()
                .filter(|(k, _)| k.as_str() != "sum_ms")
                .map(|(_, n)| n)
                .sum();
            (count, h.get("sum_ms").copied().unwrap_or(0))
        })
        .collect();
    let mut waiting = 0;
    for priority in Priority::HIGHEST_FIRST {
        waiting += tasks.counts(priority).await?.0;
    }
    let inputs = Inputs {
        arrivals_per_s,
        service_s: mean_service_s(&circuits),
        waiting,
        target_wait: TARGET_WAIT,
    };
    Ok(Signal {
        inputs,
        recommended: recommend(&inputs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(arrivals_per_s: f64, service_s: Option<f64>, waiting: u64) -> Inputs {
        Inputs {
            arrivals_per_s,
            service_s,
            waiting,
            target_wait: Duration::from_secs(30),
        }
    }

    #[test]
    fn littles_law_keeps_up_with_the_arrivals() {
        // 10 a second, 0.5 s each: 5 workers busy.
        assert_eq!(recommend(&inputs(10.0, Some(0.5), 0)), 5);
        // 5.1 workers' worth needs 6; exactly 2 needs 2, not 3.
        assert_eq!(recommend(&inputs(10.2, Some(0.5), 0)), 6);
        assert_eq!(recommend(&inputs(4.0, Some(0.5), 0)), 2);
        // Any load at all needs a worker.
        assert_eq!(recommend(&inputs(0.01, Some(0.5), 0)), 1);
    }

    #[test]
    fn the_backlog_is_drained_within_the_target_wait() {
        // 120 waiting × 0.5 s = 60 worker-seconds: 2 more workers finish them in 30 s.
        assert_eq!(recommend(&inputs(0.0, Some(0.5), 120)), 2);
        assert_eq!(recommend(&inputs(10.0, Some(0.5), 120)), 5 + 2);
        // One waiting task still needs a worker.
        assert_eq!(recommend(&inputs(0.0, Some(0.5), 1)), 1);
        // A longer target wait needs fewer.
        let patient = Inputs {
            target_wait: Duration::from_secs(60),
            ..inputs(0.0, Some(0.5), 120)
        };
        assert_eq!(recommend(&patient), 1);
    }

    #[test]
    fn more_load_or_slower_proofs_never_ask_for_fewer_workers() {
        let mut last = 0;
        for arrivals in [0.0, 0.5, 1.0, 3.0, 7.5, 20.0] {
            let n = recommend(&inputs(arrivals, Some(1.2), 10));
            assert!(n >= last, "{arrivals}: {n} < {last}");
            last = n;
        }
        assert!(recommend(&inputs(2.0, Some(3.0), 0)) > recommend(&inputs(2.0, Some(1.0), 0)));
    }

    #[test]
    fn idle_is_zero_and_unmeasured_work_asks_for_one() {
        assert_eq!(recommend(&inputs(0.0, Some(0.5), 0)), 0);
        assert_eq!(recommend(&inputs(0.0, None, 0)), 0);
        assert_eq!(recommend(&inputs(5.0, None, 0)), 1);
        assert_eq!(recommend(&inputs(0.0, None, 40)), 1);
        // Nonsense measurements do not make nonsense answers.
        assert_eq!(recommend(&inputs(f64::NAN, Some(0.5), 0)), 0);
        assert_eq!(recommend(&inputs(-3.0, Some(0.5), 0)), 0);
        assert_eq!(recommend(&inputs(1.0, Some(f64::INFINITY), 0)), 1);
    }

    #[test]
    fn service_time_is_the_mean_over_proofs() {
        assert_eq!(mean_service_s(&[]), None);
        assert_eq!(mean_service_s(&[(0, 0)]), None);
        // 3 proofs of 1 s and 1 of 5 s: 2 s each on average.
        assert_eq!(mean_service_s(&[(3, 3000), (1, 5000)]), Some(2.0));
    }

    #[test]
    fn arrivals_are_the_counters_rise_per_second() {
        assert_eq!(rate((0, 10), (10_000, 60)), 5.0);
        assert_eq!(
            rate((1000, 10), (1500, 60)),
            0.0,
            "half a second tells nothing"
        );
        assert_eq!(
            rate((0, 60), (10_000, 10)),
            0.0,
            "a reset counter is no negative load"
        );
    }
}
