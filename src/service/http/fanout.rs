//! One reader of event streams per `serve` node, fanning their entries out to every follower
//! on the node (SSE streams and WebSocket subscriptions).
//!
//! Before, each follower held its own Redis connection for its blocking `XREAD`, and redis-rs
//! applied its default response timeout (500 ms) to it: every idle follower reconnected about
//! twice a second (10 connections in 6 s for one). Now:
//!
//! - **One reader** ([`EventHub`]) holds one dedicated connection, opened when the first stream
//!   is followed, without a response timeout (a blocking read is meant to wait), and runs
//!   `XREAD BLOCK` over every stream followed on the node from the last entry it delivered of
//!   each. Entries go to that stream's followers through a `tokio::sync::broadcast` channel.
//! - **Joining**: a follower subscribes to its stream's channel, then reads its backlog with a
//!   non-blocking `XRANGE` on the shared connection; the first follower of a stream sets where
//!   the reader starts on it (the end of its backlog). A follower whose backlog ended before the
//!   reader's position reads the difference with another `XRANGE`. Anything delivered on the
//!   channel that the follower already has is skipped by id: no gap, no duplicate.
//! - **A new stream** joins the reader's `XREAD` at once: `CLIENT UNBLOCK` (from the shared
//!   connection) wakes a read blocked on the old set, repeated until the reader reads the new
//!   set (an unblock that overtakes the read it is meant for wakes nothing).
//! - **A lagging follower** (its channel overflowed) reads what it missed with `XRANGE`.
//! - **Redis restarts**: the reader reconnects and reads each stream from its last delivered
//!   entry; followers see no gap.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use serde_json::Value;
use tokio::sync::{broadcast, Notify};

/// A stream entry id as numbers (`MS-SEQ`), ordered as Redis orders them.
pub type EventId = (u64, u64);

/// The reader's `XREAD BLOCK`, in milliseconds.
const BLOCK_MS: u64 = 10_000;
/// Entries read per stream per command.
const COUNT: usize = 100;
/// Entries a follower's channel holds before it lags (and catches up from Redis).
const CHANNEL: usize = 256;

/// One entry of an events stream: its id, `type` and `data`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The stream entry id (`MS-SEQ`): the SSE `id`, the WebSocket `eventId`.
    pub id: String,
    /// Its `type` field.
    pub kind: String,
    /// Its `data` field, parsed (`null` when it is not JSON).
    pub data: Value,
}

/// Whether an entry is the last of its stream (the task's or claim's final state).
pub type Ends = fn(&str) -> bool;

/// A stream entry id as the streams write and resume them: `MS-SEQ`, or `MS` (sequence 0).
pub fn parse_event_id(id: &str) -> Option<EventId> {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    Some((number(ms)?, number(seq)?))
}

fn format_id((ms, seq): EventId) -> String {
    format!("{ms}-{seq}")
}

/// The first id after `id` (XRANGE's start is inclusive).
fn next_id((ms, seq): EventId) -> String {
    match seq.checked_add(1) {
        Some(seq) => format_id((ms, seq)),
        None => format_id((ms.saturating_add(1), 0)),
    }
}

fn entry_of(entry: StreamId) -> Option<(EventId, Entry)> {
    let id = parse_event_id(&entry.id)?;
    let kind: String = entry.get("type").unwrap_or_default();
    let data: String = entry.get("data").unwrap_or_default();
    Some((
        id,
        Entry {
            id: entry.id,
            kind,
            data: serde_json::from_str(&data).unwrap_or(Value::Null),
        },
    ))
}

/// The streams followed on this node and the one reader that reads them. Cheap to clone.
#[derive(Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    /// The shared connection: backlogs (`XRANGE`) and `CLIENT UNBLOCK`.
    redis: ConnectionManager,
    streams: Mutex<HashMap<String, Followed>>,
    /// Bumped whenever a stream joins the set the reader must read.
    generation: AtomicU64,
    /// The generation of the set the reader's current read covers.
    reading: AtomicU64,
    /// The reader connection's `CLIENT ID`; 0 while it has none.
    reader_id: AtomicU64,
    /// Wakes a reader with nothing to read.
    changed: Notify,
    /// Wakes the task that unblocks a read of an old set.
    unblock: Notify,
}

/// One followed stream.
struct Followed {
    sender: broadcast::Sender<Arc<Entry>>,
    followers: usize,
    /// The last entry delivered on `sender`, where the reader goes on; `None` until the first
    /// follower has read its backlog (the reader does not read the stream before).
    cursor: Option<EventId>,
}

impl EventHub {
    /// The hub of a node: spawns its reader (which connects when a stream is first followed).
    pub fn new(client: redis::Client, redis: ConnectionManager) -> EventHub {
        let inner = Arc::new(Inner {
            client,
            redis,
            streams: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            reading: AtomicU64::new(0),
            reader_id: AtomicU64::new(0),
            changed: Notify::new(),
            unblock: Notify::new(),
        });
        tokio::spawn(read(inner.clone()));
        tokio::spawn(unblock(inner.clone()));
        EventHub { inner }
    }

    /// Follows the stream `key` from after `after` to the entry for which `ends` is true: its
    /// backlog first (read now: an error is Redis's), then live entries.
    pub async fn follow(
        &self,
        key: String,
        after: EventId,
        ends: Ends,
    ) -> redis::RedisResult<Follower> {
        let rx = {
            let mut streams = self.inner.streams.lock().expect("streams lock");
            let followed = streams.entry(key.clone()).or_insert_with(|| Followed {
                sender: broadcast::channel(CHANNEL).0,
                followers: 0,
                cursor: None,
            });
            followed.followers += 1;
            followed.sender.subscribe()
        };
        // From here on, dropping the follower unregisters it.
        let mut follower = Follower {
            inner: self.inner.clone(),
            key,
            rx,
            seen: after,
            pending: VecDeque::new(),
            ends,
            done: false,
        };
        follower.catch_up().await?;
        let behind = {
            let mut streams = self.inner.streams.lock().expect("streams lock");
            let followed = streams
                .get_mut(&follower.key)
                .expect("a stream with a follower is registered");
            match followed.cursor {
                None => {
                    followed.cursor = Some(follower.seen);
                    self.inner.generation.fetch_add(1, Ordering::SeqCst);
                    self.inner.changed.notify_one();
                    self.inner.unblock.notify_one();
                    false
                }
                // Another follower's backlog went further than this one's: what lies between
                // was never delivered on the channel.
                Some(cursor) => cursor > follower.seen,
            }
        };
        if behind {
            follower.catch_up().await?;
        }
        Ok(follower)
    }
}

/// One follower of one stream: [`Follower::next`] gives its entries in order, each once.
pub struct Follower {
    inner: Arc<Inner>,
    key: String,
    rx: broadcast::Receiver<Arc<Entry>>,
    /// The newest entry queued (or given): anything at or before it is skipped.
    seen: EventId,
    pending: VecDeque<Arc<Entry>>,
    ends: Ends,
    done: bool,
}

impl Follower {
    /// The next entry; `None` after the last one.
    pub async fn next(&mut self) -> Option<Arc<Entry>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(entry) = self.pending.pop_front() {
                if (self.ends)(&entry.kind) {
                    self.done = true;
                    self.pending.clear();
                }
                return Some(entry);
            }
            match self.rx.recv().await {
                Ok(entry) => self.queue(entry),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    while let Err(e) = self.catch_up().await {
                        tracing::warn!("events {}: {e}", self.key);
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
                // The sender lives while this follower is registered.
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    fn queue(&mut self, entry: Arc<Entry>) {
        if let Some(id) = parse_event_id(&entry.id).filter(|id| *id > self.seen) {
            self.seen = id;
            self.pending.push_back(entry);
        }
    }

    /// Queues every entry after `seen` that is in Redis now (`XRANGE`, non-blocking).
    async fn catch_up(&mut self) -> redis::RedisResult<()> {
        let mut redis = self.inner.redis.clone();
        loop {
            let page: StreamRangeReply = redis::cmd("XRANGE")
                .arg(&self.key)
                .arg(next_id(self.seen))
                .arg("+")
                .arg("COUNT")
                .arg(COUNT)
                .query_async(&mut redis)
                .await?;
            let full = page.ids.len() >= COUNT;
            for (_, entry) in page.ids.into_iter().filter_map(entry_of) {
                self.queue(Arc::new(entry));
            }
            if !full {
                return Ok(());
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let mut streams = self.inner.streams.lock().expect("streams lock");
        if let Some(followed) = streams.get_mut(&self.key) {
            followed.followers -= 1;
            if followed.followers == 0 {
                // The reader drops it from its next read; what it reads of it meanwhile is
                // dropped in `deliver`.
                streams.remove(&self.key);
            }
        }
    }
}

impl Inner {
    /// The streams to read and from where, with the generation of that set.
    fn snapshot(&self) -> (u64, Vec<(String, EventId)>) {
        let streams = self.streams.lock().expect("streams lock");
        let generation = self.generation.load(Ordering::SeqCst);
        let keys = streams
            .iter()
            .filter_map(|(key, f)| Some((key.clone(), f.cursor?)))
            .collect();
        (generation, keys)
    }

    /// Sends what one read returned to each stream's followers, unless the stream was
    /// dropped, or dropped and followed again, since the read began (its cursor moved).
    fn deliver(&self, read: &[(String, EventId)], reply: StreamReadReply) {
        let mut streams = self.streams.lock().expect("streams lock");
        for stream in reply.keys {
            let Some(from) = read.iter().find(|(k, _)| *k == stream.key).map(|r| r.1) else {
                continue;
            };
            let Some(followed) = streams.get_mut(&stream.key) else {
                continue;
            };
            if followed.cursor != Some(from) {
                continue;
            }
            for (id, entry) in stream.ids.into_iter().filter_map(entry_of) {
                if Some(id) > followed.cursor {
                    followed.cursor = Some(id);
                    // No receiver: the last follower just left; nothing to do.
                    let _ = followed.sender.send(Arc::new(entry));
                }
            }
        }
    }
}

/// The reader's connection: its own, since a blocking read holds up every command behind it
/// on a multiplexed one, and without redis-rs's default 500 ms response timeout, which cut
/// every `XREAD BLOCK` short and dropped the connection. A dead connection is found by the
/// timeout around each read instead.
async fn connect(client: &redis::Client) -> redis::RedisResult<(MultiplexedConnection, u64)> {
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("airprover-events")
        .query_async(&mut conn)
        .await?;
    let id: u64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut conn)
        .await?;
    Ok((conn, id))
}

/// The reader: `XREAD BLOCK` over every followed stream, forever.
async fn read(inner: Arc<Inner>) {
    let mut conn: Option<MultiplexedConnection> = None;
    loop {
        let (generation, keys) = inner.snapshot();
        inner.reading.store(generation, Ordering::SeqCst);
        if keys.is_empty() {
            inner.changed.notified().await;
            continue;
        }
        if conn.is_none() {
            match connect(&inner.client).await {
                Ok((c, id)) => {
                    inner.reader_id.store(id, Ordering::SeqCst);
                    conn = Some(c);
                }
                Err(e) => {
                    tracing::warn!("events reader: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connected above");
        let mut xread = redis::cmd("XREAD");
        xread
            .arg("COUNT")
            .arg(COUNT)
            .arg("BLOCK")
            .arg(BLOCK_MS)
            .arg("STREAMS");
        for (key, _) in &keys {
            xread.arg(key);
        }
        for (_, cursor) in &keys {
            xread.arg(format_id(*cursor));
        }
        let limit = Duration::from_millis(BLOCK_MS) + Duration::from_secs(5);
        let reply: Result<redis::RedisResult<Option<StreamReadReply>>, _> =
            tokio::time::timeout(limit, xread.query_async(c)).await;
        match reply {
            Ok(Ok(Some(reply))) => inner.deliver(&keys, reply),
            // Timed out, or woken by CLIENT UNBLOCK: read the new set.
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::warn!("events reader: {e}");
                inner.reader_id.store(0, Ordering::SeqCst);
                conn = None;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(_) => {
                tracing::warn!("events reader: no answer in {limit:?}; reconnecting");
                inner.reader_id.store(0, Ordering::SeqCst);
                conn = None;
            }
        }
    }
}

/// Wakes a read blocked on an old set of streams, until the reader reads the new one (a
/// `CLIENT UNBLOCK` that reaches Redis before the read it is meant for wakes nothing).
async fn unblock(inner: Arc<Inner>) {
    let mut redis = inner.redis.clone();
    loop {
        inner.unblock.notified().await;
        for _ in 0..200 {
            if inner.reading.load(Ordering::SeqCst) >= inner.generation.load(Ordering::SeqCst) {
                break;
            }
            let id = inner.reader_id.load(Ordering::SeqCst);
            if id != 0 {
                let _: redis::RedisResult<i64> = redis::cmd("CLIENT")
                    .arg("UNBLOCK")
                    .arg(id)
                    .query_async(&mut redis)
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_order_and_step() {
        assert_eq!(parse_event_id("5-3"), Some((5, 3)));
        assert_eq!(parse_event_id("5"), Some((5, 0)));
        for bad in ["-", "abc", "1-2-3", "-1", "1-", "99999999999999999999999"] {
            assert_eq!(parse_event_id(bad), None, "{bad:?}");
        }
        assert!(parse_event_id("10-0") > parse_event_id("9-99"));
        assert_eq!(next_id((5, 3)), "5-4");
        assert_eq!(next_id((5, u64::MAX)), "6-0");
    }
}
