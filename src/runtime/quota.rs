//! Per-user quotas: jobs queued at once, and jobs submitted per minute.

use std::collections::{HashMap, VecDeque};

/// Quota limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaLimits {
    /// Unfinished jobs one user may have at once.
    pub max_active: Option<usize>,
    /// Jobs one user may submit within any 60 s.
    pub max_per_minute: Option<usize>,
}

/// Tracks each user's submissions.
#[derive(Debug, Clone, Default)]
pub struct Quotas {
    limits: QuotaLimits,
    active: HashMap<String, usize>,
    recent: HashMap<String, VecDeque<f64>>,
}

const WINDOW_MS: f64 = 60_000.0;

impl Quotas {
    /// Quotas with these limits.
    pub fn new(limits: QuotaLimits) -> Self {
        Quotas {
            limits,
            ..Default::default()
        }
    }

    /// Admits a submission by `user` at `now_ms`, or says which limit it breaks.
    pub fn admit(&mut self, user: &str, now_ms: f64) -> Result<(), String> {
        let recent = self.recent.entry(user.to_owned()).or_default();
        while recent.front().is_some_and(|t| now_ms - t >= WINDOW_MS) {
            recent.pop_front();
        }
        let active = self.active.get(user).copied().unwrap_or(0);
        if let Some(max) = self.limits.max_active {
            if active >= max {
                return Err(format!(
                    "user {user:?} already has {active} unfinished jobs (limit {max})"
                ));
            }
        }
        if let Some(max) = self.limits.max_per_minute {
            if recent.len() >= max {
                return Err(format!(
                    "user {user:?} submitted {max} jobs in the last minute (limit {max})"
                ));
            }
        }
        recent.push_back(now_ms);
        *self.active.entry(user.to_owned()).or_default() += 1;
        Ok(())
    }

    /// A job of `user` reached a final state.
    pub fn release(&mut self, user: &str) {
        if let Some(n) = self.active.get_mut(user) {
            *n = n.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_limit() {
        let mut q = Quotas::new(QuotaLimits {
            max_active: Some(2),
            max_per_minute: None,
        });
        assert!(q.admit("a", 0.0).is_ok());
        assert!(q.admit("a", 1.0).is_ok());
        assert!(q.admit("a", 2.0).is_err());
        assert!(q.admit("b", 2.0).is_ok(), "per user");
        q.release("a");
        assert!(q.admit("a", 3.0).is_ok());
    }

    #[test]
    fn sliding_minute() {
        let mut q = Quotas::new(QuotaLimits {
            max_active: None,
            max_per_minute: Some(3),
        });
        for t in [0.0, 10_000.0, 20_000.0] {
            assert!(q.admit("a", t).is_ok());
        }
        assert!(q.admit("a", 59_999.0).is_err());
        assert!(
            q.admit("a", 60_000.0).is_ok(),
            "the first submission left the window"
        );
    }
}
