//! The event streams open on this node, counted per API key and per client address: an SSE
//! stream or a WebSocket subscription holds a [`StreamSlot`] while it is open, and a caller
//! over either cap is refused (`429 TOO_MANY_STREAMS`) until one of its streams closes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Streams one API key may hold open on one node (`serve --max-streams-per-key`).
pub const DEFAULT_PER_KEY: usize = 64;
/// Streams one client address may hold open on one node (`serve --max-streams-per-address`).
pub const DEFAULT_PER_ADDRESS: usize = 256;

/// The counts and their caps. Cheap to clone.
#[derive(Clone)]
pub struct OpenStreams {
    counts: Arc<Mutex<Counts>>,
    per_key: usize,
    per_address: usize,
}

#[derive(Default)]
struct Counts {
    by_key: HashMap<String, usize>,
    by_address: HashMap<String, usize>,
}

/// Why a stream was refused: the cap that is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The key holds this many streams.
    Key(usize),
    /// The address holds this many streams.
    Address(usize),
}

impl std::fmt::Display for Full {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Full::Key(n) => write!(f, "this API key has {n} event streams open on this server (the most it may); close one"),
            Full::Address(n) => write!(f, "this address has {n} event streams open on this server (the most it may); close one"),
        }
    }
}

/// One open stream, counted until dropped.
pub struct StreamSlot {
    counts: Arc<Mutex<Counts>>,
    key: Option<String>,
    address: String,
}

impl OpenStreams {
    /// Counts with these caps.
    pub fn new(per_key: usize, per_address: usize) -> OpenStreams {
        OpenStreams {
            counts: Arc::default(),
            per_key,
            per_address,
        }
    }

    /// A slot for a stream of the key named `key` (`None` without API keys: only the address
    /// counts) from `address`, or the cap that is full.
    pub fn open(&self, key: Option<&str>, address: &str) -> Result<StreamSlot, Full> {
        let mut counts = self.counts.lock().expect("open streams lock");
        let by_key = key.map_or(0, |k| counts.by_key.get(k).copied().unwrap_or(0));
        if key.is_some() && by_key >= self.per_key {
            return Err(Full::Key(by_key));
        }
        let by_address = counts.by_address.get(address).copied().unwrap_or(0);
        if by_address >= self.per_address {
            return Err(Full::Address(by_address));
        }
        if let Some(k) = key {
            *counts.by_key.entry(k.to_string()).or_default() += 1;
        }
        *counts.by_address.entry(address.to_string()).or_default() += 1;
        Ok(StreamSlot {
            counts: self.counts.clone(),
            key: key.map(str::to_string),
            address: address.to_string(),
        })
    }
}

fn release(map: &mut HashMap<String, usize>, name: &str) {
    if let Some(n) = map.get_mut(name) {
        *n -= 1;
        if *n == 0 {
            map.remove(name);
        }
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().expect("open streams lock");
        if let Some(k) = &self.key {
            release(&mut counts.by_key, k);
        }
        release(&mut counts.by_address, &self.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cap_holds_and_a_closed_stream_frees_its_slot() {
        let open = OpenStreams::new(2, 3);
        let a = open.open(Some("a"), "1.1.1.1").unwrap();
        let a2 = open.open(Some("a"), "1.1.1.1").unwrap();
        assert_eq!(
            open.open(Some("a"), "2.2.2.2").err(),
            Some(Full::Key(2)),
            "the key's cap, from any address"
        );
        let b = open.open(Some("b"), "1.1.1.1").unwrap();
        assert_eq!(
            open.open(Some("c"), "1.1.1.1").err(),
            Some(Full::Address(3))
        );
        // Without keys only the address counts.
        assert_eq!(open.open(None, "1.1.1.1").err(), Some(Full::Address(3)));
        assert!(open.open(None, "2.2.2.2").is_ok());
        drop(a);
        let _a3 = open.open(Some("a"), "1.1.1.1").unwrap();
        drop((a2, b));
        assert_eq!(open.counts.lock().unwrap().by_key.len(), 1);
        assert!(open.open(Some("c"), "1.1.1.1").is_ok());
    }
}
