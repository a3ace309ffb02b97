//! Proof tasks in Redis: the only state of the service, so that any `serve` node answers for any
//! task and any worker on any machine takes any task. Key names: [`super::Keys`].
//!
//! - a task's hash: status, priority, attempts, worker, lease, stage, percent, eta, the input
//!   (sealed: [`super::seal`]) while the task is open, then its result or error;
//! - a task's events: a stream of what happened to it, read by SSE (`Last-Event-ID` is an entry
//!   id) and WebSocket clients;
//! - one stream per priority, read by the `provers` consumer group ([`super::Queue`]), CRITICAL
//!   first;
//! - the delayed set: retries waiting for their time;
//! - the dead letters: tasks out of tries, with their last error and input.
//!
//! Every transition is one Lua script (Redis runs it alone) and every key it touches is in its
//! `KEYS[]`. A task is created once per input while it is open, starts only while open and not
//! held by a live owner, and ends exactly once. Writes by a worker are fenced by (worker,
//! attempt): once a task was taken over, the worker that lost it can neither refresh its lease,
//! publish progress, retry, fail nor store a result.
//!
//! Lifetimes: an open task's hash and events expire after [`OPEN_TTL_S`] (a safety net: a task
//! ends long before, or it is dead-lettered); an ended one's after the result TTL; an index
//! (input, idempotency key) expires with its task or sooner.

use std::collections::HashMap;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde_json::{json, Map, Value};

use super::{Keys, Queue};
use crate::runtime::queue::Priority;

/// The consumer group of prover workers.
pub const GROUP: &str = "provers";

/// The statuses a task ends in.
pub const FINAL: [&str; 3] = ["succeeded", "failed", "cancelled"];

/// How long an open task's records live at most (7 days).
pub const OPEN_TTL_S: u64 = 7 * 24 * 3600;

/// How long an idempotency key names its task.
pub const IDEMPOTENCY_TTL_S: u64 = 24 * 3600;

/// The most dead letters kept (the oldest go first).
pub const MAX_DEAD_LETTERS: u64 = 10_000;

/// The proving-time histogram buckets (upper bounds, ms).
pub const BUCKETS_MS: [u64; 10] = [100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000];

const CREATE: &str = r#"
-- KEYS: input index, task, events, stream, active set, idempotency key (a name under the prefix
-- even when there is none, for ACL key patterns: ARGV[12] says), the task the idempotency key
-- named (when ARGV[9] is not ''), submitted counter.
-- ARGV: id, priority, input, fingerprint, now, api key name, circuit, the key's maxActive (0:
-- none), the id the idempotency key named ('' when none), open ttl (s), idempotency ttl (s),
-- '1' when there is an idempotency key.
-- Returns the task's id (a new one: ARGV[1]), 'QUOTA:' .. the key's open tasks when it has
-- maxActive of them, or 'AGAIN' when the idempotency key changed since the caller read it.
if ARGV[12] == '1' then
  local known = redis.call('GET', KEYS[6])
  if (known or '') ~= ARGV[9] then return 'AGAIN' end
  if known and redis.call('EXISTS', KEYS[7]) == 1 then return known end
end
local open = redis.call('GET', KEYS[1])
if open then return open end
local max = tonumber(ARGV[8])
if max > 0 then
  local active = redis.call('SCARD', KEYS[5])
  if active >= max then return 'QUOTA:' .. active end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[10])
if ARGV[12] == '1' then redis.call('SET', KEYS[6], ARGV[1], 'EX', ARGV[11]) end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'status', 'queued', 'priority', ARGV[2], 'claim', ARGV[3],
  'fingerprint', ARGV[4], 'created', ARGV[5], 'attempts', 0, 'apiKey', ARGV[6], 'circuit', ARGV[7])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('EXPIRE', KEYS[5], ARGV[10])
redis.call('XADD', KEYS[3], '*', 'type', 'status', 'data', cjson.encode({status = 'queued', priority = ARGV[2]}))
redis.call('EXPIRE', KEYS[2], ARGV[10])
redis.call('EXPIRE', KEYS[3], ARGV[10])
redis.call('XADD', KEYS[4], '*', 'id', ARGV[1])
redis.call('INCR', KEYS[8])
return ARGV[1]
"#;

const START: &str = r#"
-- KEYS: task, events, reclaimed counter. ARGV: worker, now (ms), lease (ms).
-- Returns the attempt number; -1 when the task has ended; -2 when another worker runs it and its
-- lease has not run out.
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return -1 end
local now = tonumber(ARGV[2])
if status == 'running' then
  local until_ms = tonumber(redis.call('HGET', KEYS[1], 'leaseUntil') or '0')
  if until_ms > now and redis.call('HGET', KEYS[1], 'worker') ~= ARGV[1] then return -2 end
  redis.call('INCR', KEYS[3])
end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[1], 'started', ARGV[2], 'stage', '',
  'percent', 0, 'leaseUntil', now + tonumber(ARGV[3]))
redis.call('XADD', KEYS[2], '*', 'type', 'status',
  'data', cjson.encode({status = 'running', worker = ARGV[1], attempt = attempt}))
return attempt
"#;

/// The fence every worker write starts with: the task runs, by this worker, in this attempt.
macro_rules! fenced {
    ($script:literal) => {
        concat!(
            "local function owner(task, worker, attempt)\n",
            "  local f = redis.call('HMGET', task, 'status', 'worker', 'attempts')\n",
            "  return f[1] == 'running' and f[2] == worker and f[3] == attempt\n",
            "end\n",
            $script
        )
    };
}

const REFRESH: &str = fenced!(
    r#"
-- KEYS: task. ARGV: worker, attempt, lease until (ms). 1 while the worker owns the task.
if not owner(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'leaseUntil', ARGV[3])
return 1
"#
);

const PROGRESS: &str = fenced!(
    r#"
-- KEYS: task, events. ARGV: worker, attempt, stage, percent, eta (ms).
if not owner(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'stage', ARGV[3], 'percent', ARGV[4], 'eta', ARGV[5])
redis.call('XADD', KEYS[2], '*', 'type', 'progress',
  'data', cjson.encode({stage = ARGV[3], percent = tonumber(ARGV[4]), etaMs = tonumber(ARGV[5])}))
return 1
"#
);

const SETTLE: &str = fenced!(
    r#"
-- KEYS: task, events, input index, active set, the status's counter, dead letters.
-- ARGV: status, field ('result' or 'error'), payload (JSON), ttl (s), now (ms), worker ('': not
-- fenced: a cancel), attempt, '1' to leave a dead letter, dead letters kept.
-- Ends an open task once: 1 when this call ended it.
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 0 end
if ARGV[6] ~= '' and not owner(KEYS[1], ARGV[6], ARGV[7]) then return 0 end
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[8] == '1' then
  local f = redis.call('HMGET', KEYS[1], 'claim', 'apiKey', 'circuit', 'priority', 'attempts',
    'fingerprint')
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[9], '*', 'id', id, 'error', ARGV[3],
    'claim', f[1] or '', 'apiKey', f[2] or '', 'circuit', f[3] or '', 'priority', f[4] or '',
    'attempts', f[5] or '0', 'fingerprint', f[6] or '')
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], ARGV[2], ARGV[3], 'ended', ARGV[5])
redis.call('HDEL', KEYS[1], 'claim', 'leaseUntil')
if redis.call('GET', KEYS[3]) == id then redis.call('DEL', KEYS[3]) end
redis.call('SREM', KEYS[4], id)
redis.call('XADD', KEYS[2], '*', 'type', ARGV[1], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('INCR', KEYS[5])
return 1
"#
);

const RETRY: &str = fenced!(
    r#"
-- KEYS: task, events, delayed, retries counter. ARGV: worker, attempt, due (ms), member, error
-- (JSON), delay (ms).
if not owner(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'status', 'queued', 'lastError', ARGV[5])
redis.call('HDEL', KEYS[1], 'leaseUntil')
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
redis.call('XADD', KEYS[2], '*', 'type', 'retry', 'data', cjson.encode({error = cjson.decode(ARGV[5]), retryInMs = tonumber(ARGV[6])}))
redis.call('INCR', KEYS[4])
return 1
"#
);

const RELEASE: &str = r#"
-- KEYS: delayed, dead letters, then one stream per priority. ARGV: now (ms), how many at most,
-- the oldest dead letter kept (an entry id), then the priorities' names in the order of their
-- streams.
-- Moves retries whose time has come back to their stream: taking a member out of the delayed
-- set and queueing it are one step, so no crash leaves a task queued in neither. And drops the
-- dead letters older than their TTL (workers run this every tick: a quiet service keeps none
-- longer than that).
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[3])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], 0, ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local id, priority = string.match(member, '^(.*)|([A-Z]+)$')
  local stream = KEYS[3]
  for i = 4, #ARGV do
    if ARGV[i] == priority then stream = KEYS[i - 1] end
  end
  if id then redis.call('XADD', stream, '*', 'id', id) end
end
return #due
"#;

const REQUEUE: &str = r#"
-- KEYS: dead letters, input index, task, events, stream, active set. ARGV: dead letter id, the
-- task's id, now (ms), open ttl (s), fingerprint, the kept input sealed for the new task.
-- Opens a dead-lettered task again with its kept input (attempts from 0) and removes the letter;
-- 'GONE' when the letter is gone, 'OPEN' when the same input has an open task.
local letter = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #letter == 0 then return 'GONE' end
local f = {}
local fields = letter[1][2]
for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
if (f['claim'] or '') == '' then return 'GONE' end
local open = redis.call('GET', KEYS[2])
if open then return 'OPEN:' .. open end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('HSET', KEYS[3], 'id', ARGV[2], 'status', 'queued', 'priority', f['priority'], 'claim',
  ARGV[6], 'fingerprint', ARGV[5], 'created', ARGV[3], 'attempts', 0, 'apiKey', f['apiKey'],
  'circuit', f['circuit'])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
redis.call('SADD', KEYS[6], ARGV[2])
redis.call('XADD', KEYS[4], '*', 'type', 'status', 'data', cjson.encode({status = 'queued', priority = f['priority'], requeued = true}))
redis.call('EXPIRE', KEYS[3], ARGV[4])
redis.call('EXPIRE', KEYS[4], ARGV[4])
redis.call('XADD', KEYS[5], '*', 'id', ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[1])
return 'OK'
"#;

/// What `create` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new task.
    New(String),
    /// The same input (or idempotency key) is already queued or running: that task.
    Existing(String),
    /// The key already has its `maxActive` tasks queued or running (this many): none created.
    OverQuota(u64),
}

/// What `start` came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The task is this worker's, in this attempt.
    Attempt(u32),
    /// The task has ended.
    Ended,
    /// Another worker runs it and its lease has not run out (this entry is a stale copy).
    Held,
}

/// A new task's input and who asked for it.
#[derive(Debug, Clone)]
pub struct NewTask<'a> {
    /// Its id (fresh).
    pub id: &'a str,
    /// Its priority.
    pub priority: Priority,
    /// The input as stored: the claim (JSON) sealed for this task ([`super::seal`]).
    pub input: &'a str,
    /// The input's fingerprint, unique per API key (keyed: [`super::seal`]).
    pub fingerprint: &'a str,
    /// Its circuit.
    pub circuit: &'a str,
    /// The API key's name.
    pub api_key: &'a str,
    /// The key's `maxActive` (0: none).
    pub max_active: u64,
    /// The idempotency key given, if any.
    pub idempotency: Option<&'a str>,
}

/// A dead letter: a task out of tries, its last error and (while kept) its input.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The letter's entry id (what `requeue` takes).
    pub letter: String,
    /// The task's id.
    pub id: String,
    /// Its last error.
    pub error: Value,
    /// Its circuit.
    pub circuit: String,
    /// Its API key's name.
    pub api_key: String,
    /// Its attempts.
    pub attempts: u64,
    /// Whether its input is kept (it can be requeued).
    pub requeueable: bool,
}

/// The task store: proof tasks, their queue and the worker registry, over one connection.
#[derive(Clone)]
pub struct Tasks {
    redis: ConnectionManager,
    keys: Keys,
}

impl Tasks {
    /// The store on `redis`, its keys named by `keys`.
    pub fn new(redis: ConnectionManager, keys: Keys) -> Tasks {
        Tasks { redis, keys }
    }

    /// The key names.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The connection (for reads that are not transitions).
    pub fn redis(&self) -> ConnectionManager {
        self.redis.clone()
    }

    /// The queue of `priority` as `consumer` sees it.
    pub fn queue(&self, priority: Priority, consumer: &str, lease: std::time::Duration) -> Queue {
        Queue::new(self.keys.tasks(priority), GROUP, consumer, lease)
    }

    /// Creates the consumer group of every priority's stream (and the stream) if missing: the
    /// queue counts (the group's lag) are right from the first task.
    pub async fn ensure_groups(&self) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        for priority in Priority::HIGHEST_FIRST {
            self.queue(priority, "-", std::time::Duration::ZERO)
                .ensure_group(&mut redis)
                .await?;
        }
        Ok(())
    }

    /// Creates a task for a validated input, unless the same input is open for the key (or the
    /// idempotency key was used): then that task's id; or none when the key has `max_active` (0:
    /// no limit) tasks open.
    pub async fn create(&self, task: &NewTask<'_>, now_ms: u64) -> redis::RedisResult<Created> {
        let mut redis = self.redis.clone();
        // Without an idempotency key the script is still given a name under the prefix (an
        // empty one would fail an ACL's key pattern), one it never touches.
        let idem = self
            .keys
            .idempotency(task.api_key, task.idempotency.unwrap_or_default());
        loop {
            let known: Option<String> = match task.idempotency {
                Some(_) => redis.get(&idem).await?,
                None => None,
            };
            let known = known.unwrap_or_default();
            let got: String = Script::new(CREATE)
                .key(self.keys.task_by_input(task.fingerprint))
                .key(self.keys.task(task.id))
                .key(self.keys.task_events(task.id))
                .key(self.keys.tasks(task.priority))
                .key(self.keys.active(task.api_key))
                .key(&idem)
                .key(
                    self.keys
                        .task(if known.is_empty() { task.id } else { &known }),
                )
                .key(self.keys.stat("submitted"))
                .arg(task.id)
                .arg(task.priority.as_str())
                .arg(task.input)
                .arg(task.fingerprint)
                .arg(now_ms)
                .arg(task.api_key)
                .arg(task.circuit)
                .arg(task.max_active)
                .arg(&known)
                .arg(OPEN_TTL_S)
                .arg(IDEMPOTENCY_TTL_S)
                .arg(if task.idempotency.is_some() { "1" } else { "0" })
                .invoke_async(&mut redis)
                .await?;
            if got == "AGAIN" {
                continue;
            }
            return Ok(if got == task.id {
                Created::New(got)
            } else if let Some(active) = got.strip_prefix("QUOTA:") {
                Created::OverQuota(active.parse().unwrap_or(task.max_active))
            } else {
                Created::Existing(got)
            });
        }
    }

    /// Marks the task running for `worker`, its lease `lease_ms` from `now_ms`.
    pub async fn start(
        &self,
        id: &str,
        worker: &str,
        now_ms: u64,
        lease_ms: u64,
    ) -> redis::RedisResult<Started> {
        let attempt: i64 = Script::new(START)
            .key(self.keys.task(id))
            .key(self.keys.task_events(id))
            .key(self.keys.stat("reclaimed"))
            .arg(worker)
            .arg(now_ms)
            .arg(lease_ms)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(match attempt {
            -2 => Started::Held,
            n => u32::try_from(n).map_or(Started::Ended, Started::Attempt),
        })
    }

    /// Extends `worker`'s lease on the task to `until_ms`: false when the task is not its own in
    /// `attempt` any more (taken over, cancelled, ended), and then nothing changed.
    pub async fn refresh(
        &self,
        id: &str,
        worker: &str,
        attempt: u32,
        until_ms: u64,
    ) -> redis::RedisResult<bool> {
        let owned: i64 = Script::new(REFRESH)
            .key(self.keys.task(id))
            .arg(worker)
            .arg(attempt)
            .arg(until_ms)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(owned == 1)
    }

    /// Publishes progress (only while `worker` owns the task in `attempt`).
    pub async fn progress(
        &self,
        id: &str,
        (worker, attempt): (&str, u32),
        stage: &str,
        percent: u32,
        eta_ms: u64,
    ) -> redis::RedisResult<bool> {
        let done: i64 = Script::new(PROGRESS)
            .key(self.keys.task(id))
            .key(self.keys.task_events(id))
            .arg(worker)
            .arg(attempt)
            .arg(stage)
            .arg(percent)
            .arg(eta_ms)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(done == 1)
    }

    /// Ends the task `succeeded` (with `result`), `failed` or `cancelled` (with `error`), unless
    /// it has ended already or, with `owner`, the task is not that worker's in that attempt. With
    /// `dead_letter`, a failure also leaves a dead letter with the task's input (kept for the
    /// workers' `--dead-letter-ttl`, see [`Self::release_due`]). True when this call ended it.
    #[allow(clippy::too_many_arguments)]
    pub async fn settle(
        &self,
        id: &str,
        status: &str,
        payload: &Value,
        owner: Option<(&str, u32)>,
        dead_letter: bool,
        ttl_s: u64,
        now_ms: u64,
    ) -> redis::RedisResult<bool> {
        let mut redis = self.redis.clone();
        let (fingerprint, api_key): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.keys.task(id))
            .arg("fingerprint")
            .arg("apiKey")
            .query_async(&mut redis)
            .await?;
        let (Some(fingerprint), Some(api_key)) = (fingerprint, api_key) else {
            return Ok(false);
        };
        let field = if status == "succeeded" {
            "result"
        } else {
            "error"
        };
        let (worker, attempt) = owner.unwrap_or(("", 0));
        let done: i64 = Script::new(SETTLE)
            .key(self.keys.task(id))
            .key(self.keys.task_events(id))
            .key(self.keys.task_by_input(&fingerprint))
            .key(self.keys.active(&api_key))
            .key(self.keys.stat(status))
            .key(self.keys.dead())
            .arg(status)
            .arg(field)
            .arg(payload.to_string())
            .arg(ttl_s)
            .arg(now_ms)
            .arg(worker)
            .arg(attempt)
            .arg(if dead_letter { "1" } else { "0" })
            .arg(MAX_DEAD_LETTERS)
            .invoke_async(&mut redis)
            .await?;
        Ok(done == 1)
    }

    /// Puts the task `worker` runs in `attempt` back as queued, due again after `delay_ms` (the
    /// worker then acknowledges its entry: the delayed set holds the task). False when the task
    /// is not its own any more.
    pub async fn retry_later(
        &self,
        id: &str,
        (worker, attempt): (&str, u32),
        priority: Priority,
        error: &Value,
        delay_ms: u64,
        now_ms: u64,
    ) -> redis::RedisResult<bool> {
        let done: i64 = Script::new(RETRY)
            .key(self.keys.task(id))
            .key(self.keys.task_events(id))
            .key(self.keys.delayed())
            .key(self.keys.stat("retries"))
            .arg(worker)
            .arg(attempt)
            .arg(now_ms + delay_ms)
            .arg(format!("{id}|{}", priority.as_str()))
            .arg(error.to_string())
            .arg(delay_ms)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(done == 1)
    }

    /// Moves retries whose time has come back to their priority's stream, in one script, and
    /// drops dead letters older than `dead_letter_ttl_s`: how many retries moved.
    pub async fn release_due(
        &self,
        now_ms: u64,
        dead_letter_ttl_s: u64,
    ) -> redis::RedisResult<u64> {
        let oldest = now_ms.saturating_sub(dead_letter_ttl_s.saturating_mul(1000));
        let release = Script::new(RELEASE);
        let mut script = release.prepare_invoke();
        script.key(self.keys.delayed()).key(self.keys.dead());
        for priority in Priority::HIGHEST_FIRST {
            script.key(self.keys.tasks(priority));
        }
        script.arg(now_ms).arg(32).arg(format!("{oldest}-0"));
        for priority in Priority::HIGHEST_FIRST {
            script.arg(priority.as_str());
        }
        script.invoke_async(&mut self.redis.clone()).await
    }

    /// The task's hash as a map, if it exists.
    pub async fn load(&self, id: &str) -> redis::RedisResult<Option<Map<String, Value>>> {
        let fields: HashMap<String, String> =
            self.redis.clone().hgetall(self.keys.task(id)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            fields
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ))
    }

    /// The name of the API key that submitted the task, if the task exists.
    pub async fn owner(&self, id: &str) -> redis::RedisResult<Option<String>> {
        self.redis.clone().hget(self.keys.task(id), "apiKey").await
    }

    /// Adds a proof's duration to its circuit's histogram.
    pub async fn record_duration(&self, circuit: &str, ms: u64) -> redis::RedisResult<()> {
        let bucket = BUCKETS_MS
            .iter()
            .find(|&&b| ms <= b)
            .map_or("inf".to_string(), |b| b.to_string());
        let histogram = self.keys.durations(circuit);
        redis::pipe()
            .hincr(&histogram, bucket, 1)
            .hincr(&histogram, "sum_ms", ms)
            .sadd(self.keys.duration_circuits(), circuit)
            .query_async(&mut self.redis.clone())
            .await
    }

    /// The dead letters, oldest first (at most `count`).
    pub async fn dead_letters(&self, count: usize) -> redis::RedisResult<Vec<DeadLetter>> {
        let reply: redis::streams::StreamRangeReply = self
            .redis
            .clone()
            .xrange_count(self.keys.dead(), "-", "+", count)
            .await?;
        Ok(reply
            .ids
            .into_iter()
            .map(|e| {
                let text = |k: &str| e.get::<String>(k).unwrap_or_default();
                DeadLetter {
                    id: text("id"),
                    error: serde_json::from_str(&text("error")).unwrap_or(Value::Null),
                    circuit: text("circuit"),
                    api_key: text("apiKey"),
                    attempts: text("attempts").parse().unwrap_or(0),
                    requeueable: !text("claim").is_empty(),
                    letter: e.id,
                }
            })
            .collect())
    }

    /// Queues a dead-lettered task again, as a new task `new_id` with the letter's input (a
    /// sealed input opens only in its own task: `sealing` seals it again for the new one): the
    /// new id, or why not.
    pub async fn requeue(
        &self,
        letter: &str,
        new_id: &str,
        now_ms: u64,
        sealing: &super::seal::InputSealing,
    ) -> redis::RedisResult<Result<String, String>> {
        let mut redis = self.redis.clone();
        let reply: redis::streams::StreamRangeReply =
            redis.xrange(self.keys.dead(), letter, letter).await?;
        let Some(entry) = reply.ids.first() else {
            return Ok(Err(format!("no dead letter {letter}")));
        };
        let text = |k: &str| entry.get::<String>(k).unwrap_or_default();
        let (old, api_key) = (text("id"), text("apiKey"));
        let kept = text("claim");
        let input = if kept.is_empty() {
            // The script answers GONE.
            String::new()
        } else {
            match sealing.reseal(&old, new_id, &kept) {
                Ok(input) => input,
                Err(e) => return Ok(Err(format!("dead letter {letter}: {e}"))),
            }
        };
        let priority: Priority = text("priority").parse().unwrap_or_default();
        // The input's index stays what it was: the fingerprint the letter kept.
        let fingerprint = Some(text("fingerprint"))
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| format!("requeued:{new_id}"));
        let got: String = Script::new(REQUEUE)
            .key(self.keys.dead())
            .key(self.keys.task_by_input(&fingerprint))
            .key(self.keys.task(new_id))
            .key(self.keys.task_events(new_id))
            .key(self.keys.tasks(priority))
            .key(self.keys.active(&api_key))
            .arg(letter)
            .arg(new_id)
            .arg(now_ms)
            .arg(OPEN_TTL_S)
            .arg(&fingerprint)
            .arg(&input)
            .invoke_async(&mut redis)
            .await?;
        Ok(match got.as_str() {
            "OK" => Ok(new_id.to_string()),
            "GONE" => Err(format!(
                "dead letter {letter} has no input any more (kept for --dead-letter-ttl)"
            )),
            other => Err(format!(
                "the same input has an open task: {}",
                other.trim_start_matches("OPEN:")
            )),
        })
    }

    /// `(waiting, in flight)` of a priority's queue.
    pub async fn counts(&self, priority: Priority) -> redis::RedisResult<(u64, u64)> {
        self.queue(priority, "-", std::time::Duration::ZERO)
            .counts(&mut self.redis.clone())
            .await
    }

    /// How many tasks of an API key are open.
    pub async fn active(&self, api_key: &str) -> redis::RedisResult<u64> {
        self.redis.clone().scard(self.keys.active(api_key)).await
    }

    /// `(retries waiting, dead letters)`.
    pub async fn waiting_and_dead(&self) -> redis::RedisResult<(u64, u64)> {
        redis::pipe()
            .zcard(self.keys.delayed())
            .xlen(self.keys.dead())
            .query_async(&mut self.redis.clone())
            .await
    }

    /// A service-wide counter.
    pub async fn stat(&self, name: &str) -> redis::RedisResult<u64> {
        let n: Option<u64> = self.redis.clone().get(self.keys.stat(name)).await?;
        Ok(n.unwrap_or(0))
    }

    /// Every circuit's proving-time histogram: bucket (or `inf`, `sum_ms`) to count.
    pub async fn histograms(&self) -> redis::RedisResult<Vec<(String, HashMap<String, u64>)>> {
        let mut redis = self.redis.clone();
        // The circuits with timings are a set the workers add to: no KEYS scan on a scrape.
        let circuits: Vec<String> = redis.smembers(self.keys.duration_circuits()).await?;
        let mut out = Vec::new();
        for circuit in circuits {
            let h: HashMap<String, u64> = redis.hgetall(self.keys.durations(&circuit)).await?;
            out.push((circuit, h));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// A worker's heartbeat: its registry entry (expiring after `ttl_s`) with `fields`.
    pub async fn heartbeat(
        &self,
        worker: &str,
        fields: &[(&str, String)],
        ttl_s: u64,
    ) -> redis::RedisResult<()> {
        let key = self.keys.worker(worker);
        redis::pipe()
            .hset_multiple(&key, fields)
            .ignore()
            .expire(&key, ttl_s as i64)
            .ignore()
            .sadd(self.keys.workers(), worker)
            .ignore()
            .query_async(&mut self.redis.clone())
            .await
    }

    /// The workers alive now (registered, their heartbeat not expired): `(id, publicKey)` (hex),
    /// by id. What `airprover workers export-keys` pins.
    pub async fn live_worker_keys(&self) -> redis::RedisResult<Vec<(String, String)>> {
        let mut keys: Vec<(String, String)> = self
            .workers()
            .await?
            .into_iter()
            .filter_map(|mut w| Some((w.remove("id")?, w.remove("publicKey")?)))
            .filter(|(_, key)| !key.is_empty())
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// Takes a stopping worker out of the registry.
    pub async fn unregister(&self, worker: &str) -> redis::RedisResult<()> {
        redis::pipe()
            .srem(self.keys.workers(), worker)
            .ignore()
            .del(self.keys.worker(worker))
            .ignore()
            .query_async(&mut self.redis.clone())
            .await
    }

    /// The live workers' registry entries (those whose heartbeat expired are dropped).
    pub async fn workers(&self) -> redis::RedisResult<Vec<HashMap<String, String>>> {
        let mut redis = self.redis.clone();
        let ids: Vec<String> = redis.smembers(self.keys.workers()).await?;
        let mut list = Vec::new();
        for id in ids {
            let fields: HashMap<String, String> = redis.hgetall(self.keys.worker(&id)).await?;
            if fields.is_empty() {
                let _: () = redis.srem(self.keys.workers(), &id).await?;
            } else {
                list.push(fields);
            }
        }
        Ok(list)
    }
}

/// What `GET /v1/proofs/{id}` shows: never the input.
pub fn view(task: &Map<String, Value>) -> Value {
    let text = |k: &str| task.get(k).and_then(Value::as_str).unwrap_or_default();
    let number = |k: &str| text(k).parse::<u64>().ok();
    let mut out = json!({
        "id": text("id"),
        "status": text("status"),
        "priority": text("priority"),
        "circuit": text("circuit"),
        "attempts": number("attempts").unwrap_or(0),
    });
    if !text("worker").is_empty() {
        out["worker"] = json!(text("worker"));
    }
    if text("status") == "running" {
        out["stage"] = json!(text("stage"));
        out["percent"] = json!(number("percent").unwrap_or(0));
        if let Some(eta) = number("eta") {
            out["etaMs"] = json!(eta);
        }
    }
    for (field, name) in [("result", "result"), ("error", "error")] {
        if let Ok(v) = serde_json::from_str::<Value>(text(field)) {
            out[name] = v;
        }
    }
    out
}
