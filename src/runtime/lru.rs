//! Least-recently-used eviction, bounded by entry count and by bytes.
//!
//! The proof cache lives in IndexedDB, shared by every tab of an origin, so this policy keeps no
//! state of its own between changes: the web layer reads the stored entries' sizes and use ticks
//! inside one transaction, asks [`Lru`] what to evict, and writes the answer in that same
//! transaction. Use ticks come from a logical clock (one more than the largest tick seen), not from
//! wall time, so the order is exact even for entries written in the same millisecond.

use std::collections::HashMap;
use std::hash::Hash;

/// The bounds of a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LruBounds {
    /// Entries at most (at least 1).
    pub max_entries: usize,
    /// Bytes at most, summed over the entries.
    pub max_bytes: u64,
}

impl Default for LruBounds {
    /// 100 entries, 1 MiB: a proof record is about 1.5 KB, so the count bound binds first.
    fn default() -> Self {
        LruBounds {
            max_entries: 100,
            max_bytes: 1 << 20,
        }
    }
}

/// One entry's size and last use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LruEntry {
    /// Its size in bytes.
    pub bytes: u64,
    /// Logical time of its last insert or hit.
    pub tick: u64,
}

/// What an insert decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insertion<K> {
    /// Whether the entry is kept (false when it alone exceeds the byte bound).
    pub stored: bool,
    /// The new entry's use tick.
    pub tick: u64,
    /// Entries to delete, least recently used first.
    pub evicted: Vec<K>,
}

/// A set of cache entries with LRU eviction on insert.
#[derive(Debug, Clone)]
pub struct Lru<K> {
    bounds: LruBounds,
    entries: HashMap<K, LruEntry>,
    bytes: u64,
    clock: u64,
}

impl<K: Clone + Eq + Hash + Ord> Lru<K> {
    /// An empty cache.
    pub fn new(bounds: LruBounds) -> Self {
        Lru {
            bounds: LruBounds {
                max_entries: bounds.max_entries.max(1),
                ..bounds
            },
            entries: HashMap::new(),
            bytes: 0,
            clock: 0,
        }
    }

    /// The cache as stored: `entries` with their sizes and ticks. A key listed twice keeps its
    /// last entry.
    pub fn from_entries(
        bounds: LruBounds,
        entries: impl IntoIterator<Item = (K, LruEntry)>,
    ) -> Self {
        let mut lru = Lru::new(bounds);
        for (key, entry) in entries {
            lru.clock = lru.clock.max(entry.tick);
            if let Some(old) = lru.entries.insert(key, entry) {
                lru.bytes -= old.bytes;
            }
            lru.bytes += entry.bytes;
        }
        lru
    }

    /// Marks `key` as just used; returns its new tick, or None if it is not cached.
    pub fn touch(&mut self, key: &K) -> Option<u64> {
        let tick = self.clock + 1;
        let entry = self.entries.get_mut(key)?;
        entry.tick = tick;
        self.clock = tick;
        Some(tick)
    }

    /// Inserts (or replaces) `key` of `bytes`, then evicts least-recently-used entries until both
    /// bounds hold. The new entry itself is never evicted to make room: if it alone is larger than
    /// the byte bound it is not stored at all (and nothing else is evicted for it).
    pub fn insert(&mut self, key: K, bytes: u64) -> Insertion<K> {
        let tick = self.clock + 1;
        if bytes > self.bounds.max_bytes {
            return Insertion {
                stored: false,
                tick,
                evicted: Vec::new(),
            };
        }
        self.clock = tick;
        if let Some(old) = self.entries.insert(key.clone(), LruEntry { bytes, tick }) {
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
        let mut evicted = Vec::new();
        if self.over_bounds() {
            // Oldest first; ties (possible only in stored data) broken by key, so every tab
            // evicts the same entries.
            let mut order: Vec<(u64, K)> = self
                .entries
                .iter()
                .filter(|(k, _)| **k != key)
                .map(|(k, e)| (e.tick, k.clone()))
                .collect();
            order.sort();
            for (_, k) in order {
                if !self.over_bounds() {
                    break;
                }
                self.remove(&k);
                evicted.push(k);
            }
        }
        Insertion {
            stored: true,
            tick,
            evicted,
        }
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&mut self, key: &K) -> bool {
        match self.entries.remove(key) {
            Some(e) => {
                self.bytes -= e.bytes;
                true
            }
            None => false,
        }
    }

    /// Whether `key` is cached.
    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of all entries.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The bounds.
    pub fn bounds(&self) -> LruBounds {
        self.bounds
    }

    /// Keys from least to most recently used.
    pub fn keys_by_age(&self) -> Vec<K> {
        let mut order: Vec<(u64, K)> = self
            .entries
            .iter()
            .map(|(k, e)| (e.tick, k.clone()))
            .collect();
        order.sort();
        order.into_iter().map(|(_, k)| k).collect()
    }

    fn over_bounds(&self) -> bool {
        self.entries.len() > self.bounds.max_entries || self.bytes > self.bounds.max_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lru(max_entries: usize, max_bytes: u64) -> Lru<&'static str> {
        Lru::new(LruBounds {
            max_entries,
            max_bytes,
        })
    }

    #[test]
    fn evicts_the_least_recently_inserted_past_the_count_bound() {
        let mut c = lru(3, 1000);
        for k in ["a", "b", "c"] {
            assert!(c.insert(k, 10).evicted.is_empty());
        }
        let ins = c.insert("d", 10);
        assert!(ins.stored);
        assert_eq!(ins.evicted, ["a"]);
        assert_eq!(c.keys_by_age(), ["b", "c", "d"]);
        assert_eq!((c.len(), c.bytes()), (3, 30));
    }

    #[test]
    fn a_hit_refreshes_an_entry() {
        let mut c = lru(3, 1000);
        for k in ["a", "b", "c"] {
            c.insert(k, 10);
        }
        assert!(c.touch(&"a").is_some());
        assert_eq!(c.touch(&"zz"), None);
        assert_eq!(c.insert("d", 10).evicted, ["b"]);
        assert_eq!(c.insert("e", 10).evicted, ["c"]);
        assert_eq!(c.keys_by_age(), ["a", "d", "e"]);
    }

    #[test]
    fn the_byte_bound_evicts_as_many_old_entries_as_needed() {
        let mut c = lru(100, 100);
        c.insert("a", 30);
        c.insert("b", 30);
        c.insert("c", 30);
        c.touch(&"a");
        // 90 + 50 > 100: b (oldest), then c, go; a was refreshed and stays.
        let ins = c.insert("d", 50);
        assert_eq!(ins.evicted, ["b", "c"]);
        assert_eq!(c.keys_by_age(), ["a", "d"]);
        assert_eq!(c.bytes(), 80);
    }

    #[test]
    fn an_entry_larger_than_the_byte_bound_is_not_stored_and_evicts_nothing() {
        let mut c = lru(10, 100);
        c.insert("a", 60);
        let ins = c.insert("huge", 101);
        assert!(!ins.stored);
        assert!(ins.evicted.is_empty());
        assert!(c.contains(&"a") && !c.contains(&"huge"));
        // Exactly the bound fits, and pushes out everything else.
        let ins = c.insert("full", 100);
        assert!(ins.stored);
        assert_eq!(ins.evicted, ["a"]);
    }

    #[test]
    fn replacing_an_entry_updates_its_size_and_age() {
        let mut c = lru(2, 100);
        c.insert("a", 10);
        c.insert("b", 10);
        let ins = c.insert("a", 40);
        assert!(ins.evicted.is_empty());
        assert_eq!(c.bytes(), 50);
        assert_eq!(c.keys_by_age(), ["b", "a"]);
        assert!(c.remove(&"b"));
        assert!(!c.remove(&"b"));
        assert_eq!((c.len(), c.bytes()), (1, 40));
    }

    #[test]
    fn stored_entries_continue_their_clock_and_break_ties_by_key() {
        // As read back from IndexedDB, possibly written by two tabs with equal ticks.
        let stored = [
            ("x", LruEntry { bytes: 10, tick: 7 }),
            ("b", LruEntry { bytes: 10, tick: 5 }),
            ("a", LruEntry { bytes: 10, tick: 5 }),
        ];
        let mut c = Lru::from_entries(
            LruBounds {
                max_entries: 2,
                max_bytes: 1000,
            },
            stored,
        );
        assert_eq!((c.len(), c.bytes()), (3, 30));
        let ins = c.insert("new", 10);
        assert_eq!(ins.tick, 8, "one past the largest stored tick");
        assert_eq!(ins.evicted, ["a", "b"]);
        assert_eq!(c.keys_by_age(), ["x", "new"]);
    }

    #[test]
    fn zero_entries_is_treated_as_one() {
        let mut c = lru(0, 100);
        c.insert("a", 1);
        assert_eq!(c.insert("b", 1).evicted, ["a"]);
        assert_eq!(c.bounds().max_entries, 1);
    }
}
