//! The job queue: four priorities, FIFO within each, highest priority first.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

/// A job's priority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Background work.
    Low = 0,
    /// The default.
    #[default]
    Normal = 1,
    /// User-visible work.
    High = 2,
    /// Runs next, ahead of everything queued.
    Critical = 3,
}

impl Priority {
    /// Every priority, highest first (the order jobs are taken in).
    pub const HIGHEST_FIRST: [Priority; 4] = [
        Priority::Critical,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    /// `LOW`, `NORMAL`, `HIGH` or `CRITICAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "LOW",
            Priority::Normal => "NORMAL",
            Priority::High => "HIGH",
            Priority::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "LOW" => Ok(Priority::Low),
            "NORMAL" => Ok(Priority::Normal),
            "HIGH" => Ok(Priority::High),
            "CRITICAL" => Ok(Priority::Critical),
            other => Err(format!("{other:?} is not LOW, NORMAL, HIGH or CRITICAL")),
        }
    }
}

/// Job ids waiting to run, by priority.
#[derive(Debug, Default, Clone)]
pub struct JobQueue {
    lanes: [VecDeque<u64>; 4],
}

impl JobQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `job` at the back of its priority's lane.
    pub fn push(&mut self, job: u64, priority: Priority) {
        self.lanes[priority as usize].push_back(job);
    }

    /// Puts `job` at the front of its lane (a job whose worker died goes first).
    pub fn push_front(&mut self, job: u64, priority: Priority) {
        self.lanes[priority as usize].push_front(job);
    }

    /// Takes the next job: the oldest of the highest non-empty priority.
    pub fn pop(&mut self) -> Option<u64> {
        Priority::HIGHEST_FIRST
            .iter()
            .find_map(|p| self.lanes[*p as usize].pop_front())
    }

    /// Removes `job` wherever it waits. Returns whether it was queued.
    pub fn remove(&mut self, job: u64) -> bool {
        for lane in &mut self.lanes {
            if let Some(at) = lane.iter().position(|j| *j == job) {
                lane.remove(at);
                return true;
            }
        }
        false
    }

    /// Moves a queued `job` to another priority (at the back of that lane).
    pub fn reprioritize(&mut self, job: u64, priority: Priority) {
        if self.remove(job) {
            self.push(job, priority);
        }
    }

    /// Number of queued jobs.
    pub fn len(&self) -> usize {
        self.lanes.iter().map(VecDeque::len).sum()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of queued jobs of one priority.
    pub fn len_of(&self, priority: Priority) -> usize {
        self.lanes[priority as usize].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_priority_first_fifo_within() {
        let mut q = JobQueue::new();
        q.push(1, Priority::Low);
        q.push(2, Priority::Normal);
        q.push(3, Priority::Low);
        q.push(4, Priority::Critical);
        q.push(5, Priority::High);
        q.push(6, Priority::Critical);
        let order: Vec<u64> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, [4, 6, 5, 2, 1, 3]);
    }

    #[test]
    fn remove_front_and_reprioritize() {
        let mut q = JobQueue::new();
        q.push(1, Priority::Normal);
        q.push(2, Priority::Normal);
        q.push_front(3, Priority::Normal);
        assert!(q.remove(2));
        assert!(!q.remove(2));
        q.reprioritize(1, Priority::High);
        assert_eq!(q.len_of(Priority::High), 1);
        assert_eq!(q.pop(), Some(1));
        assert_eq!(q.pop(), Some(3));
        assert!(q.is_empty());
    }

    #[test]
    fn parses_priorities() {
        assert_eq!("CRITICAL".parse::<Priority>().unwrap(), Priority::Critical);
        assert!("urgent".parse::<Priority>().is_err());
        assert!(Priority::Critical > Priority::Low);
    }
}
