//! The runtime's and a job's options, read from plain JS objects and validated: an unknown key or
//! a value of the wrong type is an INVALID_INPUT error naming the option, never ignored.

use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::circuit::CircuitId;
use crate::runtime::fallback::{choose_build, Build, PageCapabilities};
use crate::runtime::limits;
use crate::runtime::lru::LruBounds;
use crate::runtime::queue::Priority;
use crate::runtime::quota::QuotaLimits;
use crate::runtime::retry::Backoff;
use crate::runtime::scheduler::Config;
use crate::web::error::bad_argument;

/// `createProver(options)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimeOptions {
    /// URL of the keys' `manifest.json` (as `airprover setup` writes it). Required.
    pub manifest_url: String,
    /// Job workers. Default 1.
    pub workers: Option<usize>,
    /// Threads per worker in the threaded build. Default `navigator.hardwareConcurrency`.
    pub threads: Option<u32>,
    /// `auto` (default), `threaded` or `single`.
    pub build: Option<String>,
    /// Unfinished jobs at most. Default 100.
    pub capacity: Option<usize>,
    /// Idle workers shut down after this long. Default 60000.
    pub idle_timeout_ms: Option<f64>,
    /// Default retries of a job. Default 3.
    pub max_retries: Option<u32>,
    /// Default per-attempt timeout. Default none.
    pub timeout_ms: Option<f64>,
    /// A worker silent this long while running a job is stuck (a retryable TIMEOUT). Default
    /// 120000.
    pub stall_timeout_ms: Option<f64>,
    /// Retry delays.
    pub backoff: Option<BackoffOptions>,
    /// Per-user limits.
    pub quotas: Option<QuotaOptions>,
    /// Durations kept per circuit for percentiles and prediction. Default 100.
    pub history: Option<usize>,
    /// Audit events kept. Default 1000.
    pub audit_log_size: Option<usize>,
    /// Test-only: make workers crash at a prover stage.
    pub fault_injection: Option<FaultInjection>,
    /// What goes into IndexedDB: `false` for nothing, or an object read by
    /// [`StorageSettings::from_value`]. Default: everything, with the default bounds.
    pub storage: Option<Value>,
}

/// What the runtime keeps in IndexedDB (`options.storage`).
#[derive(Debug, Clone, PartialEq)]
pub struct StorageSettings {
    /// The database's name. Default `airprover`.
    pub name: String,
    /// The proof cache's bounds; None: no proof cache. Default 100 entries, 1 MiB.
    pub proof_cache: Option<LruBounds>,
    /// Keep proving (and verifying) keys. Default true.
    pub key_cache: bool,
    /// Store unfinished jobs, claims with their secrets included (sealed), and resume them.
    /// Default false: a claim is stored only when the caller asks for it.
    pub durable_queue: bool,
    /// Audit events kept in IndexedDB; 0 for none. Default 1000.
    pub audit_log_size: usize,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            name: "airprover".into(),
            proof_cache: Some(LruBounds::default()),
            key_cache: true,
            durable_queue: false,
            audit_log_size: 1000,
        }
    }
}

impl StorageSettings {
    /// Reads `options.storage`: absent for the defaults, `false` for no storage at all (None).
    pub fn from_value(value: Option<&Value>) -> Result<Option<Self>, JsValue> {
        let mut s = StorageSettings::default();
        let obj = match value {
            None | Some(Value::Null) | Some(Value::Bool(true)) => return Ok(Some(s)),
            Some(Value::Bool(false)) => return Ok(None),
            Some(Value::Object(obj)) => obj,
            Some(_) => {
                return Err(bad_argument(
                    "options.storage",
                    "must be false or an object",
                ))
            }
        };
        const KEYS: [&str; 5] = [
            "name",
            "proofCache",
            "keyCache",
            "durableQueue",
            "auditLogSize",
        ];
        for key in obj.keys() {
            if !KEYS.contains(&key.as_str()) {
                return Err(bad_argument(
                    &format!("options.storage.{key}"),
                    format!("unknown option (known: {})", KEYS.join(", ")),
                ));
            }
        }
        let flag = |key: &str, default: bool| match obj.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad_argument(
                &format!("options.storage.{key}"),
                "must be true or false",
            )),
        };
        let count = |v: Option<&Value>, name: &str, min: u64| match v {
            None | Some(Value::Null) => Ok(None),
            // Numbers from JS arrive as f64: an integral one is an integer.
            Some(v) => v
                .as_u64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| {
                            f.fract() == 0.0 && (0.0..=9.007_199_254_740_991e15).contains(f)
                        })
                        .map(|f| f as u64)
                })
                .filter(|n| *n >= min)
                .map(Some)
                .ok_or_else(|| bad_argument(name, format!("must be an integer, at least {min}"))),
        };
        if let Some(name) = obj.get("name") {
            s.name = name
                .as_str()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| bad_argument("options.storage.name", "must be a non-empty string"))?
                .into();
        }
        s.key_cache = flag("keyCache", true)?;
        s.durable_queue = flag("durableQueue", false)?;
        if let Some(n) = count(obj.get("auditLogSize"), "options.storage.auditLogSize", 0)? {
            s.audit_log_size = n as usize;
        }
        match obj.get("proofCache") {
            None | Some(Value::Null) | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => s.proof_cache = None,
            Some(Value::Object(pc)) => {
                for key in pc.keys() {
                    if key != "maxEntries" && key != "maxBytes" {
                        return Err(bad_argument(
                            &format!("options.storage.proofCache.{key}"),
                            "unknown option (known: maxEntries, maxBytes)",
                        ));
                    }
                }
                let d = LruBounds::default();
                s.proof_cache = Some(LruBounds {
                    max_entries: count(
                        pc.get("maxEntries"),
                        "options.storage.proofCache.maxEntries",
                        1,
                    )?
                    .map_or(d.max_entries, |n| n as usize),
                    max_bytes: count(pc.get("maxBytes"), "options.storage.proofCache.maxBytes", 1)?
                        .unwrap_or(d.max_bytes),
                });
            }
            Some(_) => {
                return Err(bad_argument(
                    "options.storage.proofCache",
                    "must be false or { maxEntries, maxBytes }",
                ))
            }
        }
        Ok(Some(s))
    }
}

/// Retry delays: `min(maxMs, baseMs * factor^(n-1))`, of which `jitter` is random.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackoffOptions {
    /// Default 250.
    pub base_ms: Option<f64>,
    /// Default 2.
    pub factor: Option<f64>,
    /// Default 10000.
    pub max_ms: Option<f64>,
    /// 0..=1, default 0.5.
    pub jitter: Option<f64>,
}

/// Per-user limits.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuotaOptions {
    /// Unfinished jobs per user.
    pub max_active: Option<usize>,
    /// Submissions per user per minute.
    pub max_per_minute: Option<usize>,
}

/// Test-only fault switches, applied to the first `times` job attempts: the worker crashes (an
/// uncaught error, seen by the page as the Worker's `error` event) when the prover reaches
/// `crashAtStage`, blocks for `stallMs` at `stallAtStage` (to exercise timeouts and
/// cancellation of a running job), or runs out of memory at `oomAtStage`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultInjection {
    /// A prover stage name, e.g. `msm-h`.
    pub crash_at_stage: Option<String>,
    /// A prover stage name.
    pub stall_at_stage: Option<String>,
    /// A prover stage name: the worker fails there as one out of memory does (a `RangeError`).
    pub oom_at_stage: Option<String>,
    /// How long to block, default 60000.
    pub stall_ms: Option<f64>,
    /// How many attempts get the fault. Default 1.
    pub times: Option<u32>,
}

impl RuntimeOptions {
    /// Reads and checks the options object.
    pub fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        // serde-wasm-bindgen reads only the fields it knows: unknown keys are checked here.
        check_keys(value, "options", RUNTIME_KEYS)?;
        for (key, known) in NESTED_KEYS {
            let nested = js_sys::Reflect::get(value, &(*key).into()).unwrap_or(JsValue::UNDEFINED);
            check_keys(&nested, &format!("options.{key}"), known)?;
        }
        let options: RuntimeOptions = serde_wasm_bindgen::from_value(value.clone())
            .map_err(|e| bad_argument("options", e.to_string()))?;
        let duration = |name: &str, v: Option<f64>| match v {
            Some(x) => limits::timer_ms(x)
                .map(drop)
                .map_err(|e| bad_argument(name, e)),
            None => Ok(()),
        };
        duration("options.idleTimeoutMs", options.idle_timeout_ms)?;
        duration("options.timeoutMs", options.timeout_ms)?;
        duration("options.stallTimeoutMs", options.stall_timeout_ms)?;
        if options.workers == Some(0) || options.workers.is_some_and(|w| w > 16) {
            return Err(bad_argument("options.workers", "must be 1 to 16"));
        }
        if options.threads == Some(0) || options.threads.is_some_and(|t| t > 64) {
            return Err(bad_argument("options.threads", "must be 1 to 64"));
        }
        if options.capacity == Some(0) {
            return Err(bad_argument("options.capacity", "must be at least 1"));
        }
        if let Some(b) = options.backoff {
            duration("options.backoff.baseMs", b.base_ms)?;
            duration("options.backoff.maxMs", b.max_ms)?;
            if b.factor.is_some_and(|f| !(f.is_finite() && f >= 1.0)) {
                return Err(bad_argument("options.backoff.factor", "must be at least 1"));
            }
            if b.jitter.is_some_and(|j| !(0.0..=1.0).contains(&j)) {
                return Err(bad_argument(
                    "options.backoff.jitter",
                    "must be between 0 and 1",
                ));
            }
        }
        StorageSettings::from_value(options.storage.as_ref())?;
        match options.build.as_deref() {
            None | Some("auto" | "threaded" | "single") => {}
            Some(other) => {
                return Err(bad_argument(
                    "options.build",
                    format!("{other:?} is not auto, threaded or single"),
                ))
            }
        }
        Ok(options)
    }

    /// The build, threads and the reason, given what the page offers.
    pub fn build_choice(&self, page: PageCapabilities) -> (Build, u32, String) {
        let requested = match self.build.as_deref() {
            Some("single") => Some(Build::Single),
            Some("threaded") => Some(Build::Threaded),
            _ => None,
        };
        choose_build(page, self.threads, requested)
    }

    /// The scheduler's config.
    pub fn config(&self, build: Build) -> Config {
        let d = Config::default();
        let b = self.backoff;
        Config {
            capacity: self.capacity.unwrap_or(d.capacity),
            workers: self.workers.unwrap_or(d.workers),
            idle_timeout_ms: self.idle_timeout_ms.unwrap_or(d.idle_timeout_ms),
            max_retries: self.max_retries.unwrap_or(d.max_retries),
            timeout_ms: self.timeout_ms,
            stall_timeout_ms: self.stall_timeout_ms.or(d.stall_timeout_ms),
            backoff: Backoff {
                base_ms: b.and_then(|b| b.base_ms).unwrap_or(d.backoff.base_ms),
                factor: b.and_then(|b| b.factor).unwrap_or(d.backoff.factor),
                max_ms: b.and_then(|b| b.max_ms).unwrap_or(d.backoff.max_ms),
                jitter: b.and_then(|b| b.jitter).unwrap_or(d.backoff.jitter),
            },
            quotas: QuotaLimits {
                max_active: self.quotas.and_then(|q| q.max_active),
                max_per_minute: self.quotas.and_then(|q| q.max_per_minute),
            },
            circuits: Vec::new(),
            build,
            history: self.history.unwrap_or(d.history),
            audit_capacity: self.audit_log_size.unwrap_or(d.audit_capacity),
            check_cache: false,
            remote: None,
        }
    }
}

const RUNTIME_KEYS: &[&str] = &[
    "manifestUrl",
    "workers",
    "threads",
    "build",
    "capacity",
    "idleTimeoutMs",
    "maxRetries",
    "timeoutMs",
    "stallTimeoutMs",
    "backoff",
    "quotas",
    "history",
    "auditLogSize",
    "faultInjection",
    "storage",
];

const NESTED_KEYS: &[(&str, &[&str])] = &[
    ("backoff", &["baseMs", "factor", "maxMs", "jitter"]),
    ("quotas", &["maxActive", "maxPerMinute"]),
    (
        "faultInjection",
        &[
            "crashAtStage",
            "stallAtStage",
            "oomAtStage",
            "stallMs",
            "times",
        ],
    ),
];

/// Fails on a key of the object `value` that is not in `known` (a typo must not pass unnoticed).
/// `undefined` and `null` pass: the option is absent.
fn check_keys(value: &JsValue, path: &str, known: &[&str]) -> Result<(), JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(());
    }
    let obj: &js_sys::Object = value
        .dyn_ref()
        .ok_or_else(|| bad_argument(path, "must be an object"))?;
    for key in js_sys::Object::keys(obj).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(bad_argument(
                &format!("{path}.{key}"),
                format!("unknown option (known: {})", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// `prover.submit(claim, options)`'s options.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    /// Default NORMAL.
    pub priority: Priority,
    /// Cancels the job when aborted.
    pub signal: Option<web_sys::AbortSignal>,
    /// Per-attempt timeout.
    pub timeout_ms: Option<f64>,
    /// Retries.
    pub max_retries: Option<u32>,
    /// Quota owner.
    pub user_id: Option<String>,
    /// Called with every progress value.
    pub on_progress: Option<js_sys::Function>,
    /// Smaller circuits whose proof the caller accepts after OUT_OF_MEMORY. Default none.
    pub fallback_circuits: Vec<CircuitId>,
}

const SUBMIT_KEYS: [&str; 7] = [
    "fallbackCircuits",
    "priority",
    "signal",
    "timeoutMs",
    "maxRetries",
    "userId",
    "onProgress",
];

impl SubmitOptions {
    /// Reads and checks a submit options object (`undefined` for the defaults).
    pub fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        let mut o = SubmitOptions::default();
        if value.is_undefined() || value.is_null() {
            return Ok(o);
        }
        check_keys(value, "options", &SUBMIT_KEYS)?;
        let obj: &js_sys::Object = value.unchecked_ref();
        let get = |k: &str| js_sys::Reflect::get(obj, &k.into()).unwrap_or(JsValue::UNDEFINED);
        let present = |v: &JsValue| !v.is_undefined() && !v.is_null();
        let v = get("priority");
        if present(&v) {
            let s = v
                .as_string()
                .ok_or_else(|| bad_argument("options.priority", "must be a string"))?;
            o.priority = s
                .parse()
                .map_err(|e: String| bad_argument("options.priority", e))?;
        }
        let v = get("signal");
        if present(&v) {
            o.signal = Some(
                v.dyn_into()
                    .map_err(|_| bad_argument("options.signal", "must be an AbortSignal"))?,
            );
        }
        let v = get("timeoutMs");
        if present(&v) {
            let ms = limits::timer_ms(v.as_f64().unwrap_or(f64::NAN))
                .map_err(|e| bad_argument("options.timeoutMs", e))?;
            o.timeout_ms = Some(ms);
        }
        let v = get("maxRetries");
        if present(&v) {
            let n = v
                .as_f64()
                .filter(|x| x.fract() == 0.0 && (0.0..=100.0).contains(x));
            o.max_retries =
                Some(n.ok_or_else(|| {
                    bad_argument("options.maxRetries", "must be an integer 0 to 100")
                })? as u32);
        }
        let v = get("userId");
        if present(&v) {
            o.user_id = Some(
                v.as_string()
                    .ok_or_else(|| bad_argument("options.userId", "must be a string"))?,
            );
        }
        let v = get("fallbackCircuits");
        if present(&v) {
            let bad = || {
                bad_argument(
                    "options.fallbackCircuits",
                    "must be an array of circuit ids (e.g. ['threshold-d20-k4'])",
                )
            };
            if !js_sys::Array::is_array(&v) {
                return Err(bad());
            }
            for item in js_sys::Array::from(&v).iter() {
                let text = item.as_string().ok_or_else(bad)?;
                let id: CircuitId = text.parse().map_err(crate::web::error::to_js)?;
                // A claim falls back to a smaller claim circuit, never to a circom circuit.
                if id.is_circom() {
                    return Err(crate::web::error::to_js(crate::Error::UnknownCircuit {
                        id: text,
                        reason: "a fallback circuit is a built-in claim circuit".into(),
                    }));
                }
                o.fallback_circuits.push(id);
            }
        }
        let v = get("onProgress");
        if present(&v) {
            o.on_progress = Some(
                v.dyn_into()
                    .map_err(|_| bad_argument("options.onProgress", "must be a function"))?,
            );
        }
        Ok(o)
    }
}
