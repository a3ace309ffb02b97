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

    /// Admits a submission by `user` at `now_ms`, or says which limit it breaks. Users whose
    /// submissions all left the window are forgotten here, so the maps hold only the users of the
    /// last minute and those with unfinished jobs, however many user ids a page goes through.
    pub fn admit(&mut self, user: &str, now_ms: f64) -> Result<(), String> {
        self.recent.retain(|_, times| {
            while times.front().is_some_and(|t| now_ms - t >= WINDOW_MS) {
                times.pop_front();
            }
            !times.is_empty()
        });
        let recent_count = self.recent.get(user).map_or(0, VecDeque::len);
        let active = self.active.get(user).copied().unwrap_or(0);
        if let Some(max) = self.limits.max_active {
            if active >= max {
                return Err(format!(
                    "user {user:?} already has {active} unfinished jobs (limit {max})"
                ));
            }
        }
        if let Some(max) = self.limits.max_per_minute {
            if recent_count >= max {
                return Err(format!(
                    "user {user:?} submitted {max} jobs in the last minute (limit {max})"
                ));
            }
        }
        if self.limits.max_per_minute.is_some() {
            self.recent
                .entry(user.to_owned())
                .or_default()
                .push_back(now_ms);
        }
        *self.active.entry(user.to_owned()).or_default() += 1;
        Ok(())
    }

    /// A job of `user` reached a final state. A user with none left is forgotten.
    pub fn release(&mut self, user: &str) {
        if let Some(n) = self.active.get_mut(user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.active.remove(user);
            }
        }
    }

    /// How many users the maps hold (for tests and stats).
    pub fn tracked_users(&self) -> usize {
        let mut users: std::collections::HashSet<&String> = self.active.keys().collect();
        users.extend(self.recent.keys());
        users.len()
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
    fn users_are_forgotten_when_nothing_of_theirs_is_left() {
        let mut q = Quotas::new(QuotaLimits {
            max_active: Some(5),
            max_per_minute: Some(5),
        });
        for i in 0..2_000 {
            let user = format!("user-{i}");
            q.admit(&user, f64::from(i)).unwrap();
            q.release(&user);
        }
        // Every one of them is still within the minute.
        assert_eq!(q.tracked_users(), 2_000);
        // A minute later one submission prunes them all.
        q.admit("late", 2_000.0 + WINDOW_MS).unwrap();
        assert_eq!(q.tracked_users(), 1);
        q.release("late");
        q.admit("later", 20_000.0 + 2.0 * WINDOW_MS).unwrap();
        assert_eq!(q.tracked_users(), 1);
    }

    #[test]
    fn without_a_minute_limit_nothing_is_kept_per_submission() {
        let mut q = Quotas::new(QuotaLimits {
            max_active: Some(1),
            max_per_minute: None,
        });
        for i in 0..1_000 {
            let user = format!("user-{i}");
            q.admit(&user, 0.0).unwrap();
            q.release(&user);
        }
        assert_eq!(q.tracked_users(), 0);
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
