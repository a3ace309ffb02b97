//! Retry timing: exponential backoff with jitter, capped.

/// Backoff settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the first retry, in ms.
    pub base_ms: f64,
    /// Growth per retry.
    pub factor: f64,
    /// Largest delay, in ms.
    pub max_ms: f64,
    /// Share of the delay that is random, 0.0 (none) to 1.0 (full jitter).
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base_ms: 250.0,
            factor: 2.0,
            max_ms: 10_000.0,
            jitter: 0.5,
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first), given a uniform `random` in
    /// `[0, 1)`: `min(max, base * factor^(retry-1))`, of which the `jitter` share is scaled by
    /// `random`, so that many clients failing together do not retry together.
    pub fn delay_ms(&self, retry: u32, random: f64) -> f64 {
        let exp = self.base_ms * self.factor.powi(retry.saturating_sub(1).min(64) as i32);
        let capped = exp.min(self.max_ms);
        let random = random.clamp(0.0, 1.0);
        capped * (1.0 - self.jitter) + capped * self.jitter * random
    }
}

/// A small deterministic PRNG (SplitMix64) for jitter: the policy stays testable, and the web
/// layer seeds it from `Math.random`.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Jitter(seed)
    }

    /// Next uniform value in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_grows_then_caps() {
        let b = Backoff {
            base_ms: 100.0,
            factor: 2.0,
            max_ms: 1000.0,
            jitter: 0.0,
        };
        let delays: Vec<f64> = (1..=6).map(|r| b.delay_ms(r, 0.7)).collect();
        assert_eq!(delays, [100.0, 200.0, 400.0, 800.0, 1000.0, 1000.0]);
    }

    #[test]
    fn jitter_stays_within_its_share() {
        let b = Backoff {
            base_ms: 100.0,
            factor: 2.0,
            max_ms: 1000.0,
            jitter: 0.5,
        };
        assert_eq!(b.delay_ms(2, 0.0), 100.0);
        assert_eq!(b.delay_ms(2, 0.999_999).round(), 200.0);
        let mut j = Jitter::new(42);
        let samples: Vec<f64> = (0..1000).map(|_| b.delay_ms(3, j.next_f64())).collect();
        assert!(samples.iter().all(|d| (200.0..400.0).contains(d)));
        let distinct = samples
            .iter()
            .map(|d| d.to_bits())
            .collect::<std::collections::HashSet<_>>();
        assert!(distinct.len() > 900, "jitter spreads retries");
    }

    #[test]
    fn huge_retry_numbers_do_not_overflow() {
        let b = Backoff::default();
        assert_eq!(b.delay_ms(u32::MAX, 1.0), b.max_ms);
    }
}
