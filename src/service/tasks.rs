//! Proof tasks in Redis: the only state of the service, so that any `serve` node answers for any
//! task and any worker on any machine takes any task.
//!
//! - `airprover:task:{id}`: a hash (status, priority, attempts, worker, stage, percent, eta, the
//!   claim while the task is open, then its result or error).
//! - `airprover:task:{id}:events`: a stream of what happened to it, read by SSE (`Last-Event-ID`
//!   is an entry id) and WebSocket clients.
//! - `airprover:tasks:{PRIORITY}`: one stream per priority, read by the `provers` consumer group,
//!   CRITICAL first; an entry a dead worker held is taken over after its lease (`XAUTOCLAIM`).
//! - `airprover:delayed`: retries waiting for their time (a sorted set of due times).
//! - `airprover:dead`: tasks delivered too often, with their last error.
//!
//! Every transition is one Lua script (Redis runs it alone): a task is created once per claim
//! while it is open, starts only while open, and ends exactly once (a compare-and-set), however
//! many workers finish it.

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde_json::{json, Map, Value};

use crate::runtime::queue::Priority;

/// The consumer group of prover workers.
pub const GROUP: &str = "provers";
/// Dead letters.
pub const DEAD: &str = "airprover:dead";
/// Retries waiting for their time.
pub const DELAYED: &str = "airprover:delayed";
/// Registered workers.
pub const WORKERS: &str = "airprover:workers";

/// The stream of `priority`.
pub fn stream(priority: Priority) -> String {
    format!("airprover:tasks:{}", priority.as_str())
}

/// A task's hash.
pub fn task_key(id: &str) -> String {
    format!("airprover:task:{id}")
}

/// A task's events.
pub fn events_key(id: &str) -> String {
    format!("airprover:task:{id}:events")
}

/// A registered worker's hash: id, host, threads, circuits, busy task, heartbeat, tasks done and
/// its ed25519 public key, expiring 10 s after its last heartbeat.
pub fn worker_key(id: &str) -> String {
    format!("airprover:worker:{id}")
}

/// The workers alive now (in [`WORKERS`], their hash not expired): `(id, publicKey)` (hex), by
/// id. What `airprover workers export-keys` pins.
pub async fn live_worker_keys(
    redis: &mut ConnectionManager,
) -> redis::RedisResult<Vec<(String, String)>> {
    let ids: Vec<String> = redis.smembers(WORKERS).await?;
    let mut keys = Vec::new();
    for id in ids {
        let key: Option<String> = redis.hget(worker_key(&id), "publicKey").await?;
        if let Some(key) = key.filter(|k| !k.is_empty()) {
            keys.push((id, key));
        }
    }
    keys.sort();
    Ok(keys)
}

fn claim_key(fingerprint: &str) -> String {
    format!("airprover:task-by-claim:{fingerprint}")
}

fn active_key(api_key: &str) -> String {
    format!("airprover:active:{api_key}")
}

/// The statuses a task ends in.
pub const FINAL: [&str; 3] = ["succeeded", "failed", "cancelled"];

const CREATE: &str = r#"
-- KEYS: claim index, task, events, stream, active set, idempotency key (or '').
-- ARGV: id, priority, claim, fingerprint, now, api key name, circuit, the key's maxActive (0: none)
-- Returns the task's id (a new one: ARGV[1]), or 'QUOTA:' .. the key's open tasks when it has
-- maxActive of them: the quota is checked and spent in the one script, so parallel submits
-- cannot all pass it.
if KEYS[6] ~= '' then
  local known = redis.call('GET', KEYS[6])
  if known and redis.call('EXISTS', 'airprover:task:' .. known) == 1 then return known end
end
local open = redis.call('GET', KEYS[1])
if open then
  local status = redis.call('HGET', 'airprover:task:' .. open, 'status')
  if status == 'queued' or status == 'running' then return open end
end
local max = tonumber(ARGV[8])
if max > 0 then
  local active = redis.call('SCARD', KEYS[5])
  if active >= max then return 'QUOTA:' .. active end
end
redis.call('SET', KEYS[1], ARGV[1])
if KEYS[6] ~= '' then redis.call('SET', KEYS[6], ARGV[1], 'EX', 86400) end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'status', 'queued', 'priority', ARGV[2], 'claim', ARGV[3],
  'fingerprint', ARGV[4], 'created', ARGV[5], 'attempts', 0, 'apiKey', ARGV[6], 'circuit', ARGV[7])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'type', 'status', 'data', cjson.encode({status = 'queued', priority = ARGV[2]}))
redis.call('XADD', KEYS[4], '*', 'id', ARGV[1])
redis.call('INCR', 'airprover:stats:submitted')
return ARGV[1]
"#;

const START: &str = r#"
-- KEYS: task, events. ARGV: worker, now. Returns the attempt number, or -1 if the task has ended.
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return -1 end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if status == 'running' then redis.call('INCR', 'airprover:stats:reclaimed') end
redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[1], 'started', ARGV[2], 'stage', '', 'percent', 0)
redis.call('XADD', KEYS[2], '*', 'type', 'status',
  'data', cjson.encode({status = 'running', worker = ARGV[1], attempt = attempt}))
return attempt
"#;

const PROGRESS: &str = r#"
-- KEYS: task, events. ARGV: worker, stage, percent, eta (ms).
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
if redis.call('HGET', KEYS[1], 'worker') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'stage', ARGV[2], 'percent', ARGV[3], 'eta', ARGV[4])
redis.call('XADD', KEYS[2], '*', 'type', 'progress',
  'data', cjson.encode({stage = ARGV[2], percent = tonumber(ARGV[3]), etaMs = tonumber(ARGV[4])}))
return 1
"#;

const SETTLE: &str = r#"
-- KEYS: task, events. ARGV: status, field ('result' or 'error'), payload (JSON), ttl (s), now.
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], ARGV[2], ARGV[3], 'ended', ARGV[5])
redis.call('HDEL', KEYS[1], 'claim')
local fp = redis.call('HGET', KEYS[1], 'fingerprint')
local id = redis.call('HGET', KEYS[1], 'id')
local index = 'airprover:task-by-claim:' .. fp
if redis.call('GET', index) == id then redis.call('DEL', index) end
local key = redis.call('HGET', KEYS[1], 'apiKey')
redis.call('SREM', 'airprover:active:' .. key, id)
redis.call('XADD', KEYS[2], '*', 'type', ARGV[1], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('INCR', 'airprover:stats:' .. ARGV[1])
return 1
"#;

const RETRY: &str = r#"
-- KEYS: task, events, delayed. ARGV: due (ms), member, error (JSON), delay (ms).
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'queued', 'lastError', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', 'type', 'retry', 'data', cjson.encode({error = cjson.decode(ARGV[3]), retryInMs = tonumber(ARGV[4])}))
redis.call('INCR', 'airprover:stats:retries')
return 1
"#;

/// Creates the consumer group of every priority's stream (and the stream) if missing: the
/// queue counts (the group's lag) are right from the first task.
pub async fn ensure_groups(redis: &mut ConnectionManager) -> redis::RedisResult<()> {
    for priority in Priority::HIGHEST_FIRST {
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream(priority))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(redis)
            .await;
        if let Err(e) = created {
            if e.code() != Some("BUSYGROUP") {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// What `create` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new task.
    New(String),
    /// The same claim (or idempotency key) is already queued or running: that task.
    Existing(String),
    /// The key already has its `maxActive` tasks queued or running (this many): none created.
    OverQuota(u64),
}

/// Creates a task for a validated claim, unless the same claim is open (or the idempotency key
/// was used): then that task's id; or none when the key has `max_active` (0: no limit) tasks
/// open.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    redis: &mut ConnectionManager,
    id: &str,
    priority: Priority,
    claim: &str,
    fingerprint: &str,
    circuit: &str,
    api_key: &str,
    max_active: u64,
    idempotency: Option<&str>,
    now_ms: u64,
) -> redis::RedisResult<Created> {
    let idem = idempotency
        .map(|k| format!("airprover:idem:{api_key}:{k}"))
        .unwrap_or_default();
    let got: String = Script::new(CREATE)
        .key(claim_key(fingerprint))
        .key(task_key(id))
        .key(events_key(id))
        .key(stream(priority))
        .key(active_key(api_key))
        .key(idem)
        .arg(id)
        .arg(priority.as_str())
        .arg(claim)
        .arg(fingerprint)
        .arg(now_ms)
        .arg(api_key)
        .arg(circuit)
        .arg(max_active)
        .invoke_async(redis)
        .await?;
    Ok(if got == id {
        Created::New(got)
    } else if let Some(active) = got.strip_prefix("QUOTA:") {
        Created::OverQuota(active.parse().unwrap_or(max_active))
    } else {
        Created::Existing(got)
    })
}

/// Marks the task running for `worker`: its attempt number, or None if it has ended.
pub async fn start(
    redis: &mut ConnectionManager,
    id: &str,
    worker: &str,
    now_ms: u64,
) -> redis::RedisResult<Option<u32>> {
    let attempt: i64 = Script::new(START)
        .key(task_key(id))
        .key(events_key(id))
        .arg(worker)
        .arg(now_ms)
        .invoke_async(redis)
        .await?;
    Ok(u32::try_from(attempt).ok())
}

/// Publishes progress (only while `worker` runs the task).
pub async fn progress(
    redis: &mut ConnectionManager,
    id: &str,
    worker: &str,
    stage: &str,
    percent: u32,
    eta_ms: u64,
) -> redis::RedisResult<()> {
    let _: i64 = Script::new(PROGRESS)
        .key(task_key(id))
        .key(events_key(id))
        .arg(worker)
        .arg(stage)
        .arg(percent)
        .arg(eta_ms)
        .invoke_async(redis)
        .await?;
    Ok(())
}

/// Ends the task `succeeded` (with `result`), `failed` or `cancelled` (with `error`), unless it
/// has ended already. True when this call ended it.
pub async fn settle(
    redis: &mut ConnectionManager,
    id: &str,
    status: &str,
    payload: &Value,
    ttl_s: u64,
    now_ms: u64,
) -> redis::RedisResult<bool> {
    let field = if status == "succeeded" {
        "result"
    } else {
        "error"
    };
    let done: i64 = Script::new(SETTLE)
        .key(task_key(id))
        .key(events_key(id))
        .arg(status)
        .arg(field)
        .arg(payload.to_string())
        .arg(ttl_s)
        .arg(now_ms)
        .invoke_async(redis)
        .await?;
    Ok(done == 1)
}

/// Puts a running task back as queued, due again after `delay_ms` (the worker then acknowledges
/// its entry: the delayed set holds the task).
pub async fn retry_later(
    redis: &mut ConnectionManager,
    id: &str,
    priority: Priority,
    error: &Value,
    delay_ms: u64,
    now_ms: u64,
) -> redis::RedisResult<bool> {
    let done: i64 = Script::new(RETRY)
        .key(task_key(id))
        .key(events_key(id))
        .key(DELAYED)
        .arg(now_ms + delay_ms)
        .arg(format!("{id}|{}", priority.as_str()))
        .arg(error.to_string())
        .arg(delay_ms)
        .invoke_async(redis)
        .await?;
    Ok(done == 1)
}

/// Moves retries whose time has come back to their priority's stream.
pub async fn release_due(redis: &mut ConnectionManager, now_ms: u64) -> redis::RedisResult<()> {
    let due: Vec<String> = redis.zrangebyscore_limit(DELAYED, 0, now_ms, 0, 32).await?;
    for member in due {
        // Whoever removes it re-queues it: once.
        let removed: i64 = redis.zrem(DELAYED, &member).await?;
        if removed == 1 {
            if let Some((id, priority)) = member.split_once('|') {
                let priority: Priority = priority.parse().unwrap_or_default();
                let _: String = redis.xadd(stream(priority), "*", &[("id", id)]).await?;
            }
        }
    }
    Ok(())
}

/// The task's hash as a map, if it exists.
pub async fn load(
    redis: &mut ConnectionManager,
    id: &str,
) -> redis::RedisResult<Option<Map<String, Value>>> {
    let fields: std::collections::HashMap<String, String> = redis.hgetall(task_key(id)).await?;
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

/// What `GET /v1/proofs/{id}` shows: never the claim.
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
