//! Durations and counts: percentiles per circuit, a duration prediction, success rate.

use std::collections::{HashMap, VecDeque};

/// Nearest-rank percentile (`q` in 0..=100) of `samples`; None when empty.
pub fn percentile(samples: &[f64], q: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q.clamp(0.0, 100.0) / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.saturating_sub(1).min(sorted.len() - 1)])
}

/// p50, p95 and p99 of one circuit's durations, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Number of samples.
    pub count: usize,
}

/// The last `capacity` proving durations of each circuit on this device.
#[derive(Debug, Clone)]
pub struct DurationHistory {
    capacity: usize,
    by_circuit: HashMap<String, VecDeque<f64>>,
}

impl DurationHistory {
    /// Keeps the last `capacity` samples per circuit.
    pub fn new(capacity: usize) -> Self {
        DurationHistory {
            capacity: capacity.max(1),
            by_circuit: HashMap::new(),
        }
    }

    /// Records one proof's duration.
    pub fn record(&mut self, circuit: &str, ms: f64) {
        let samples = self.by_circuit.entry(circuit.to_owned()).or_default();
        if samples.len() == self.capacity {
            samples.pop_front();
        }
        samples.push_back(ms);
    }

    /// The samples of a circuit, oldest first.
    pub fn samples(&self, circuit: &str) -> Vec<f64> {
        self.by_circuit
            .get(circuit)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Percentiles of a circuit, None without samples.
    pub fn percentiles(&self, circuit: &str) -> Option<Percentiles> {
        let s = self.samples(circuit);
        Some(Percentiles {
            p50: percentile(&s, 50.0)?,
            p95: percentile(&s, 95.0)?,
            p99: percentile(&s, 99.0)?,
            count: s.len(),
        })
    }

    /// Every circuit with samples.
    pub fn circuits(&self) -> Vec<String> {
        let mut c: Vec<String> = self.by_circuit.keys().cloned().collect();
        c.sort();
        c
    }

    /// Predicted duration of the next proof of `circuit`: the median of the recent samples (robust
    /// to one slow outlier, e.g. the first proof that also compiled the wasm).
    pub fn predict(&self, circuit: &str) -> Option<f64> {
        let s = self.samples(circuit);
        let recent = &s[s.len().saturating_sub(10)..];
        percentile(recent, 50.0)
    }
}

/// Remaining time of a running proof: from the prediction when there is one, else extrapolated
/// from the progress so far. None when nothing is known yet.
pub fn eta_ms(predicted_ms: Option<f64>, elapsed_ms: f64, fraction: f64) -> Option<f64> {
    let by_progress = (fraction > 0.02).then(|| elapsed_ms * (1.0 - fraction) / fraction);
    match (predicted_ms, by_progress) {
        // Late in a proof, its own pace is the better guide than history.
        (Some(_), Some(b)) if fraction > 0.5 => Some(b),
        (Some(p), _) => Some((p - elapsed_ms).max(0.0)),
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 50.0), Some(50.0));
        assert_eq!(percentile(&s, 95.0), Some(95.0));
        assert_eq!(percentile(&s, 99.0), Some(99.0));
        assert_eq!(percentile(&s, 100.0), Some(100.0));
        assert_eq!(percentile(&s, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), Some(2.0));
    }

    #[test]
    fn history_is_bounded_and_predicts_the_median() {
        let mut h = DurationHistory::new(5);
        for ms in [9000.0, 1000.0, 1100.0, 1050.0, 990.0, 1020.0] {
            h.record("threshold-d20-k8", ms);
        }
        assert_eq!(h.samples("threshold-d20-k8").len(), 5);
        assert_eq!(h.predict("threshold-d20-k8"), Some(1020.0));
        assert_eq!(h.predict("other"), None);
        let p = h.percentiles("threshold-d20-k8").unwrap();
        assert_eq!((p.p50, p.p99, p.count), (1020.0, 1100.0, 5));
    }

    #[test]
    fn eta() {
        assert_eq!(eta_ms(Some(1000.0), 400.0, 0.3), Some(600.0));
        assert_eq!(eta_ms(None, 400.0, 0.5), Some(400.0));
        assert_eq!(eta_ms(None, 10.0, 0.0), None);
        assert_eq!(eta_ms(Some(1000.0), 1500.0, 0.2), Some(0.0));
        // Late in a proof that runs slower than history: the progress-based estimate wins.
        assert_eq!(eta_ms(Some(1000.0), 900.0, 0.6), Some(600.0));
    }
}
