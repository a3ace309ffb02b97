//! One consumer-group queue on a Redis stream, the same for prover workers and relay workers.
//!
//! - New entries are read with `XREADGROUP`; an entry stays pending, owned by the consumer that
//!   read it, until it is acknowledged.
//! - An owner keeps its entries by refreshing them ([`Queue::refresh`]); the refresh is a script
//!   that first checks the entry is still its own, so a worker whose entry was taken over never
//!   takes it back.
//! - An entry idle for a lease (its owner died, hung or was cut off) is taken over with
//!   `XAUTOCLAIM`, whose cursor is followed from call to call: an abandoned entry behind any
//!   number of busy ones is reached.
//! - An acknowledged entry is deleted at once (`XACK` and `XDEL` in one script, only by its
//!   owner: `XACK` alone takes any consumer's entry, so a worker whose entry was taken over would
//!   delete its new owner's): the stream holds only the work not yet done, and never grows with
//!   the work done.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::Script;

/// A queue entry: its stream id and the id of the work it names (its `id` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stream entry id.
    pub entry: String,
    /// The task or claim id.
    pub id: String,
}

/// One consumer of one stream's group.
#[derive(Debug, Clone)]
pub struct Queue {
    stream: String,
    group: String,
    consumer: String,
    lease: Duration,
    /// Where the next `XAUTOCLAIM` goes on from (`0-0`: the start of the pending list).
    cursor: String,
}

const REFRESH: &str = r#"
-- KEYS: stream. ARGV: group, consumer, entry. 1 when the entry is still the consumer's (and its
-- idle time is back to 0), 0 when another consumer took it over or it was acknowledged.
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"#;

const ACK: &str = r#"
-- KEYS: stream. ARGV: group, consumer, entry. Acknowledges and deletes the entry if it is still
-- the consumer's: 1, else 0 and nothing changed.
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
return 1
"#;

/// The idle time a handed-back entry is given: 30 days, past any consumer's lease.
pub const HAND_BACK_IDLE_MS: u64 = 30 * 24 * 3600 * 1000;

const HAND_BACK: &str = r#"
-- KEYS: stream. ARGV: group, consumer, entry, idle (ms). Marks the entry idle for `idle` if it
-- is still the consumer's (any consumer's next XAUTOCLAIM takes it): 1, else 0.
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'JUSTID')
return 1
"#;

impl Queue {
    /// `consumer` of `group` on `stream`; entries idle longer than `lease` are taken over.
    pub fn new(stream: String, group: &str, consumer: &str, lease: Duration) -> Queue {
        Queue {
            stream,
            group: group.to_string(),
            consumer: consumer.to_string(),
            lease,
            cursor: "0-0".into(),
        }
    }

    /// Creates the group (and the stream) if missing, reading from the stream's start.
    pub async fn ensure_group(&self, redis: &mut impl ConnectionLike) -> redis::RedisResult<()> {
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(redis)
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => Err(e),
            _ => Ok(()),
        }
    }

    /// Up to `count` entries idle for a lease, now this consumer's. One `XAUTOCLAIM`, which looks
    /// at ten pending entries per entry asked for, from where the last call stopped: successive
    /// calls walk the whole pending list (wrapping to its start), so an abandoned entry behind
    /// any number of live ones is reached.
    pub async fn take_over(
        &mut self,
        redis: &mut impl ConnectionLike,
        count: usize,
    ) -> redis::RedisResult<Vec<Entry>> {
        let (next, reply, _deleted): (String, redis::streams::StreamRangeReply, Vec<String>) =
            redis::cmd("XAUTOCLAIM")
                .arg(&self.stream)
                .arg(&self.group)
                .arg(&self.consumer)
                .arg(self.lease.as_millis() as u64)
                .arg(&self.cursor)
                .arg("COUNT")
                .arg(count)
                .query_async(redis)
                .await?;
        self.cursor = next;
        Ok(reply.ids.into_iter().map(entry).collect())
    }

    /// Up to `count` entries never delivered, waiting up to `block` for one (none: no wait).
    pub async fn read_new(
        &self,
        redis: &mut impl ConnectionLike,
        count: usize,
        block: Option<Duration>,
    ) -> redis::RedisResult<Vec<Entry>> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&self.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(count);
        if let Some(block) = block {
            cmd.arg("BLOCK").arg(block.as_millis() as u64);
        }
        let reply: Option<redis::streams::StreamReadReply> = cmd
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(">")
            .query_async(redis)
            .await?;
        Ok(reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .map(entry)
            .collect())
    }

    /// Keeps `entry` this consumer's (its idle time back to 0): false when it is not its own any
    /// more (taken over, or acknowledged), and then nothing changed.
    pub async fn refresh(
        &self,
        redis: &mut impl ConnectionLike,
        entry: &str,
    ) -> redis::RedisResult<bool> {
        self.if_owned(REFRESH, redis, entry, None).await
    }

    /// Hands the entry back (a stopping worker): marked idle for [`HAND_BACK_IDLE_MS`], longer
    /// than any consumer's lease, if it is still this consumer's, so that the next take-over by
    /// any consumer gets it. False when it was not this consumer's.
    pub async fn hand_back(
        &self,
        redis: &mut impl ConnectionLike,
        entry: &str,
    ) -> redis::RedisResult<bool> {
        self.if_owned(HAND_BACK, redis, entry, Some(HAND_BACK_IDLE_MS))
            .await
    }

    /// Acknowledges and deletes `entry` if it is still this consumer's: false when another
    /// consumer took it over (it is theirs to end), and then nothing changed.
    pub async fn ack(
        &self,
        redis: &mut impl ConnectionLike,
        entry: &str,
    ) -> redis::RedisResult<bool> {
        self.if_owned(ACK, redis, entry, None).await
    }

    /// Runs one of the owner-checked scripts (KEYS: the stream; ARGV: group, consumer, entry,
    /// then `extra`): whether `entry` was this consumer's, and so changed.
    async fn if_owned(
        &self,
        script: &str,
        redis: &mut impl ConnectionLike,
        entry: &str,
        extra: Option<u64>,
    ) -> redis::RedisResult<bool> {
        let script = Script::new(script);
        let mut call = script.prepare_invoke();
        call.key(&self.stream)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(entry);
        if let Some(extra) = extra {
            call.arg(extra);
        }
        let done: i64 = call.invoke_async(redis).await?;
        Ok(done == 1)
    }

    /// `(waiting, in flight)`: entries not yet delivered to the group and delivered but not
    /// acknowledged. An acknowledged entry is deleted, so the stream holds exactly these two:
    /// waiting is its length less the pending ones (the group's `lag` is no help: Redis cannot
    /// tell it once entries were deleted, and says nil).
    pub async fn counts(&self, redis: &mut impl ConnectionLike) -> redis::RedisResult<(u64, u64)> {
        let exists: bool = redis::cmd("EXISTS")
            .arg(&self.stream)
            .query_async(redis)
            .await?;
        if !exists {
            return Ok((0, 0));
        }
        let (length, groups): (u64, Vec<HashMap<String, redis::Value>>) = redis::pipe()
            .cmd("XLEN")
            .arg(&self.stream)
            .cmd("XINFO")
            .arg("GROUPS")
            .arg(&self.stream)
            .query_async(redis)
            .await?;
        let pending = groups
            .iter()
            .find(|g| {
                matches!(g.get("name"), Some(redis::Value::BulkString(n)) if n == self.group.as_bytes())
            })
            .and_then(|g| match g.get("pending") {
                Some(redis::Value::Int(n)) => Some(*n as u64),
                _ => None,
            })
            .ok_or_else(|| {
                redis::RedisError::from((
                    redis::ErrorKind::UnexpectedReturnType,
                    "XINFO GROUPS: no pending count for the group",
                ))
            })?;
        Ok((length.saturating_sub(pending), pending))
    }
}

fn entry(e: redis::streams::StreamId) -> Entry {
    Entry {
        id: e.get("id").unwrap_or_default(),
        entry: e.id,
    }
}
