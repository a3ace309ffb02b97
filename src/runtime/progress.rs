//! What a job's progress looks like to the caller: the prover's many stages folded into a few
//! (`loading-keys`, `witness`, `proving`, `verifying`; a circom job's `download` and `convert`
//! where it would show `loading-keys`) and one overall percent.

use super::scheduler::JobState;

/// Maps a worker's stage and fraction of it to the caller's stage and an overall percent: keys
/// 0-10%, witness and proving 10-95% (by the prover's own fraction), verifying 95-100%. An unknown
/// stage counts as proving; a fraction outside 0..=1 is clamped.
pub fn overall(stage: &str, fraction: f64) -> (&'static str, f64) {
    let f = if fraction.is_nan() {
        0.0
    } else {
        fraction.clamp(0.0, 1.0)
    };
    match stage {
        "loading-keys" => ("loading-keys", 10.0 * f),
        // A circom job: its zkey and witness wasm downloaded (or read from the key cache), the
        // zkey converted once into our key layout, then circom's witness wasm run.
        "download" => ("download", 5.0 * f),
        "convert" => ("convert", 5.0 + 5.0 * f),
        "witness" => ("witness", 10.0),
        "synthesis" | "constraint-check" => ("witness", 10.0 + 85.0 * f),
        "qap" | "msm-h" | "msm-l" | "msm-a" | "msm-b1" | "msm-b2" => ("proving", 10.0 + 85.0 * f),
        "done" | "verifying" => ("verifying", 95.0),
        _ => ("proving", 10.0 + 85.0 * f),
    }
}

/// What a job in `state` shows, given the stage and percent its worker last reported: while it
/// waits (checking the cache, queued, or backing off before a retry) `queued` at 0%, whatever an
/// earlier attempt reached; otherwise what was reported.
pub fn shown(state: Option<JobState>, reported: (&'static str, f64)) -> (&'static str, f64) {
    match state {
        Some(JobState::CheckingCache | JobState::Queued | JobState::RetryWait { .. }) => {
            ("queued", 0.0)
        }
        _ => reported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_fold_into_bands_in_order() {
        assert_eq!(overall("loading-keys", 0.0), ("loading-keys", 0.0));
        assert_eq!(overall("loading-keys", 1.0), ("loading-keys", 10.0));
        assert_eq!(overall("synthesis", 0.0), ("witness", 10.0));
        assert_eq!(overall("msm-b2", 1.0), ("proving", 95.0));
        assert_eq!(overall("verifying", 0.3), ("verifying", 95.0));
        assert_eq!(overall("download", 1.0), ("download", 5.0));
        assert_eq!(overall("convert", 1.0), ("convert", 10.0));
        assert_eq!(overall("witness", 0.7), ("witness", 10.0));
        // A proof's stages in the prover's order never move the percent backwards.
        let mut last = 0.0;
        // A circom job's: download, convert, witness, then the prover's.
        for (stage, fraction) in [
            ("download", 0.5),
            ("download", 1.0),
            ("convert", 0.5),
            ("convert", 1.0),
            ("witness", 0.0),
            ("synthesis", 0.0),
            ("msm-h", 0.6),
            ("done", 1.0),
        ] {
            let (_, percent) = overall(stage, fraction);
            assert!(percent >= last, "{stage} {fraction}: {percent} < {last}");
            last = percent;
        }
        last = 0.0;
        for (stage, fraction) in [
            ("loading-keys", 0.5),
            ("loading-keys", 1.0),
            ("synthesis", 0.1),
            ("qap", 0.4),
            ("msm-h", 0.6),
            ("msm-b2", 0.9),
            ("done", 1.0),
        ] {
            let (_, percent) = overall(stage, fraction);
            assert!(percent >= last, "{stage} {fraction}: {percent} < {last}");
            last = percent;
        }
    }

    #[test]
    fn a_waiting_job_shows_queued_whatever_it_reached_before() {
        let reached = overall("msm-h", 0.5);
        for waiting in [
            JobState::CheckingCache,
            JobState::Queued,
            JobState::RetryWait { until_ms: 10.0 },
        ] {
            assert_eq!(shown(Some(waiting), reached), ("queued", 0.0));
        }
        let running = JobState::Running {
            worker: 1,
            since_ms: 0.0,
        };
        assert_eq!(shown(Some(running), reached), reached);
        assert_eq!(shown(Some(JobState::Succeeded), reached), reached);
        assert_eq!(shown(None, reached), reached);
    }

    #[test]
    fn odd_reports_stay_in_range() {
        assert_eq!(overall("msm-a", -3.0), ("proving", 10.0));
        assert_eq!(overall("msm-a", 7.0), ("proving", 95.0));
        assert_eq!(overall("msm-a", f64::NAN), ("proving", 10.0));
        assert_eq!(
            overall("a stage from a newer prover", 0.5),
            ("proving", 52.5)
        );
    }
}
