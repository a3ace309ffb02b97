//! Every Redis key name of the service and the relayer, under one prefix (`airprover` unless an
//! operator gives another, so that two deployments can share one Redis). Nothing outside this
//! file spells a key; a script touches only the keys it is given in `KEYS[]`.

use std::sync::Arc;

use crate::runtime::queue::Priority;

/// The prefix when none is given.
pub const DEFAULT_PREFIX: &str = "airprover";

/// The key names of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: Arc<str>,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            prefix: DEFAULT_PREFIX.into(),
        }
    }
}

impl Keys {
    /// Keys under `prefix`: letters, digits, `-`, `_` and `.` only (a `:` or a space would make
    /// one deployment's names another's).
    pub fn new(prefix: &str) -> Result<Keys, String> {
        let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if prefix.is_empty() || prefix.len() > 64 || !prefix.chars().all(fine) {
            return Err(format!(
                "Redis key prefix {prefix:?}: 1 to 64 letters, digits, '-', '_' or '.'"
            ));
        }
        Ok(Keys {
            prefix: prefix.into(),
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn name(&self, rest: std::fmt::Arguments) -> String {
        format!("{}:{rest}", self.prefix)
    }

    // Proof tasks.

    /// The stream of proof tasks of `priority` (read by the prover workers' consumer group).
    pub fn tasks(&self, priority: Priority) -> String {
        self.name(format_args!("tasks:{}", priority.as_str()))
    }

    /// A task's hash.
    pub fn task(&self, id: &str) -> String {
        self.name(format_args!("task:{id}"))
    }

    /// A task's events (a stream: SSE and WebSocket followers read it).
    pub fn task_events(&self, id: &str) -> String {
        self.name(format_args!("task:{id}:events"))
    }

    /// The open task of a key's input (its keyed fingerprint).
    pub fn task_by_input(&self, fingerprint: &str) -> String {
        self.name(format_args!("task-by-claim:{fingerprint}"))
    }

    /// The open tasks of an API key (its `maxActive` quota).
    pub fn active(&self, api_key: &str) -> String {
        self.name(format_args!("active:{api_key}"))
    }

    /// The task of an idempotency key.
    pub fn idempotency(&self, api_key: &str, key: &str) -> String {
        self.name(format_args!("idem:{api_key}:{key}"))
    }

    /// An API key's submissions in one minute (`perMinute`).
    pub fn rate(&self, api_key: &str, minute: u64) -> String {
        self.name(format_args!("rate:{api_key}:{minute}"))
    }

    /// Failed authentications from a client address in one minute.
    pub fn auth_failures(&self, address: &str, minute: u64) -> String {
        self.name(format_args!("auth-failures:{address}:{minute}"))
    }

    /// The API keys that submitted a relayed claim (they, and admins, may follow it).
    pub fn claim_owners(&self, id: &str) -> String {
        self.name(format_args!("claim:{id}:owners"))
    }

    /// Retries waiting for their time: a sorted set of `{id}|{priority}` by due time.
    pub fn delayed(&self) -> String {
        self.name(format_args!("delayed"))
    }

    /// Dead letters: tasks out of tries, with their last error.
    pub fn dead(&self) -> String {
        self.name(format_args!("dead"))
    }

    /// A service-wide counter (`submitted`, `succeeded`, `retries`, ...).
    pub fn stat(&self, name: &str) -> String {
        self.name(format_args!("stats:{name}"))
    }

    /// The proving-time histogram of a circuit.
    pub fn durations(&self, circuit: &str) -> String {
        self.name(format_args!("durations:{circuit}"))
    }

    /// The circuits that have a histogram.
    pub fn duration_circuits(&self) -> String {
        self.name(format_args!("durations"))
    }

    /// Samples of the `submitted` counter by time (a sorted set of `ms:count`, kept for twice
    /// the scaling window): the arrival rate of the scaling signal.
    pub fn arrival_samples(&self) -> String {
        self.name(format_args!("scaling:arrivals"))
    }

    /// The ids of live prover workers.
    pub fn workers(&self) -> String {
        self.name(format_args!("workers"))
    }

    /// A prover worker's heartbeat hash (expires when it stops beating).
    pub fn worker(&self, id: &str) -> String {
        self.name(format_args!("worker:{id}"))
    }

    // Relayed claims.

    /// The stream of claims to relay (read by the relay workers' consumer group).
    pub fn claims(&self) -> String {
        self.name(format_args!("claims"))
    }

    /// A relayed claim's record.
    pub fn claim(&self, id: &str) -> String {
        self.name(format_args!("claim:{id}"))
    }

    /// A relayed claim's events.
    pub fn claim_events(&self, id: &str) -> String {
        self.name(format_args!("claim:{id}:events"))
    }

    /// The claim that holds a campaign's nullifier.
    pub fn nullifier(&self, campaign: &str, nullifier: &str) -> String {
        self.name(format_args!("nullifier:{campaign}:{nullifier}"))
    }

    /// The next nonce of a relayer account.
    pub fn nonce(&self, chain_id: u64, account: &str) -> String {
        self.name(format_args!("relayer:{chain_id}:{account}:nonce"))
    }

    /// The round-robin counter over a campaign's relayer accounts.
    pub fn relayer_turn(&self, campaign: &str) -> String {
        self.name(format_args!("relayer:{campaign}:turn"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_under_the_prefix_and_bad_prefixes_are_refused() {
        let keys = Keys::default();
        assert_eq!(keys.task("t1"), "airprover:task:t1");
        assert_eq!(keys.tasks(Priority::Critical), "airprover:tasks:CRITICAL");
        let other = Keys::new("staging-2").unwrap();
        assert_eq!(other.task_events("t1"), "staging-2:task:t1:events");
        assert_eq!(other.claims(), "staging-2:claims");
        for bad in ["", "a:b", "a b", "ä", &"x".repeat(65)] {
            assert!(Keys::new(bad).is_err(), "{bad:?}");
        }
    }
}
