//! The runtime's IndexedDB stores, typed: proof records, durable jobs, the persisted audit log and
//! the key cache's sweep. The requests go through `src/js/storage.js` (the schema lives there,
//! shared with the workers); every change that touches several records is one `update`
//! transaction, inside which this file asks the policy of `crate::runtime` what to write (LRU
//! eviction: `lru`; the start-up sweep: `sweep`) and writes it. A key file's load goes through
//! storage.js's `loadKey`, given `answers::load_stored_key` as its rule; what a failed load means
//! is `WorkerError::code`'s, as for a worker's.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::runtime::answers;
use crate::runtime::durable::{self, DurableJob, LockAnswer};
use crate::runtime::lru::{Lru, LruBounds, LruEntry};
use crate::runtime::proof_cache::ProofRecord;
use crate::runtime::protocol::WorkerError;
use crate::runtime::sweep::{self, StoredProof, Swept};
use crate::web::js;

#[wasm_bindgen(module = "/src/js/storage.js")]
extern "C" {
    #[wasm_bindgen(js_name = openStorage, catch)]
    fn js_open(name: &str, on_close: &Function, blocked_ms: u32) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = plainError)]
    fn js_plain_error(e: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = get, catch)]
    fn js_get(db: &JsValue, store: &str, key: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = getAll, catch)]
    fn js_get_all(db: &JsValue, store: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = putJob, catch)]
    fn js_put_job(db: &JsValue, job: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = jobWritten)]
    fn js_job_written(id: &str) -> Promise;
    #[wasm_bindgen(js_name = getJobs, catch)]
    fn js_get_jobs(db: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = del, catch)]
    fn js_del(db: &JsValue, store: &str, key: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = clear, catch)]
    fn js_clear(db: &JsValue, stores: &Array) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = update, catch)]
    fn js_update(
        db: &JsValue,
        stores: &Array,
        reads: &Array,
        decide: &Function,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = appendBounded, catch)]
    fn js_append_bounded(
        db: &JsValue,
        store: &str,
        records: &Array,
        max: f64,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = loadKey, catch)]
    fn js_load_key(
        db: &JsValue,
        key: &JsValue,
        on_progress: &JsValue,
        decide: &JsValue,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = lockJob)]
    fn js_lock_job(scope: &str, id: &str) -> Promise;
    #[wasm_bindgen(js_name = unlockJob)]
    fn js_unlock_job(id: &str);
    #[wasm_bindgen(js_name = cacheKeyHmac, catch)]
    fn js_cache_key_hmac(db: &JsValue, message: &str) -> Result<Promise, JsValue>;
}

/// A failed storage request.
#[derive(Debug, Clone)]
pub struct StorageError {
    /// The quota is exhausted (QuotaExceededError).
    pub full: bool,
    /// In words.
    pub message: String,
}

impl StorageError {
    /// The one reading of a storage failure from JS: storage.js's IO_ERROR, `quota` true when the
    /// origin's quota is exhausted (a request's rejection; a worker's `storeError` arrives typed,
    /// as a [`WorkerError`]).
    pub fn from_js(e: JsValue) -> Self {
        let quota = Reflect::get(&e, &"quota".into())
            .ok()
            .and_then(|q| q.as_bool())
            .unwrap_or(false);
        let message = Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| format!("{e:?}"));
        StorageError {
            full: quota,
            message,
        }
    }
}

impl From<&WorkerError> for StorageError {
    fn from(e: &WorkerError) -> Self {
        StorageError {
            full: e.quota,
            message: e.message.clone().unwrap_or_default(),
        }
    }
}

/// Result of a storage request.
pub type StorageResult<T> = Result<T, StorageError>;

async fn call(p: Result<Promise, JsValue>) -> StorageResult<JsValue> {
    JsFuture::from(p.map_err(StorageError::from_js)?)
        .await
        .map_err(StorageError::from_js)
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

fn array(items: impl IntoIterator<Item = JsValue>) -> Array {
    items.into_iter().collect()
}

fn strs(items: &[&str]) -> Array {
    array(items.iter().map(|s| JsValue::from_str(s)))
}

fn write(op: &str, store: &str, arg: JsValue) -> JsValue {
    array([op.into(), store.into(), arg]).into()
}

fn field_str(v: &JsValue, key: &str) -> Option<String> {
    Reflect::get(v, &key.into()).ok()?.as_string()
}

fn field_f64(v: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(v, &key.into()).ok()?.as_f64()
}

/// The LRU entry of a stored proof record, read without decoding the proof.
fn lru_entry(v: &JsValue) -> Option<(String, LruEntry)> {
    let bytes = field_f64(v, "bytes")?;
    let tick = field_f64(v, "lastUsed")?;
    Some((
        field_str(v, "key")?,
        LruEntry {
            bytes: bytes.max(0.0) as u64,
            tick: tick.max(0.0) as u64,
        },
    ))
}

/// What inserting a proof did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inserted {
    /// Whether it is stored (false: larger than the byte bound).
    pub stored: bool,
    /// Entries the LRU evicted for it.
    pub evicted: usize,
    /// Entries after the change.
    pub entries: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// An open database.
#[derive(Debug, Clone)]
pub struct Storage {
    db: JsValue,
    /// The database's name (also the scope of the job locks).
    pub name: String,
}

impl Storage {
    /// Opens (or creates) the database; `on_close(reason)` runs if another tab or the browser
    /// closes it later.
    pub async fn open(name: &str, on_close: impl FnOnce(String) + 'static) -> StorageResult<Self> {
        let on_close = Closure::once_into_js(move |reason: JsValue| {
            on_close(reason.as_string().unwrap_or_default())
        });
        let db = call(js_open(
            name,
            on_close.unchecked_ref(),
            answers::OPEN_BLOCKED_MS,
        ))
        .await?;
        Ok(Storage {
            db,
            name: name.into(),
        })
    }

    /// One read-decide-write transaction (see `update` in storage.js): `decide` gets the reads'
    /// results and returns the writes.
    async fn update(
        &self,
        stores: &[&str],
        reads: Array,
        decide: impl FnOnce(Array) -> Vec<JsValue> + 'static,
    ) -> StorageResult<()> {
        let mut decide = Some(decide);
        let closure = Closure::<dyn FnMut(Array) -> JsValue>::new(move |results: Array| {
            let writes = decide.take().map(|d| d(results)).unwrap_or_default();
            let out = js_sys::Object::new();
            js::set(&out, "writes", &array(writes));
            out.into()
        });
        let done = call(js_update(
            &self.db,
            &strs(stores),
            &reads,
            closure.as_ref().unchecked_ref(),
        ))
        .await;
        drop(closure);
        done.map(drop)
    }

    /// The proof record under `key`: None if absent, `Err` text if it cannot be read as one.
    pub async fn proof(&self, key: &str) -> StorageResult<Option<Result<ProofRecord, String>>> {
        let v = call(js_get(&self.db, "proofs", &key.into())).await?;
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        Ok(Some(
            serde_wasm_bindgen::from_value(v).map_err(|e| format!("unreadable record: {e}")),
        ))
    }

    /// Stores `record` with LRU eviction under `bounds`, and removes the durable job `job` (its
    /// result is now cached), in one transaction.
    pub async fn insert_proof(
        &self,
        mut record: ProofRecord,
        bounds: LruBounds,
        job: Option<String>,
    ) -> StorageResult<Inserted> {
        if let Some(job) = &job {
            // After the job's own puts: a removal must not land before them.
            let _ = JsFuture::from(js_job_written(job)).await;
        }
        let outcome = Rc::new(RefCell::new(Inserted::default()));
        let out = outcome.clone();
        let reads = array([strs(&["proofs", "getAll"]).into()]);
        self.update(&["proofs", "jobs"], reads, move |results| {
            let stored = Array::from(&results.get(0));
            let mut lru = Lru::from_entries(bounds, stored.iter().filter_map(|v| lru_entry(&v)));
            let ins = lru.insert(record.key.clone(), record.bytes);
            let mut writes: Vec<JsValue> = ins
                .evicted
                .iter()
                .map(|k| write("delete", "proofs", k.into()))
                .collect();
            if ins.stored {
                record.last_used = ins.tick;
                writes.push(write("put", "proofs", to_js(&record)));
            }
            if let Some(job) = job {
                writes.push(write("delete", "jobs", job.into()));
            }
            *out.borrow_mut() = Inserted {
                stored: ins.stored,
                evicted: ins.evicted.len(),
                entries: lru.len(),
                bytes: lru.bytes(),
            };
            writes
        })
        .await?;
        let result = *outcome.borrow();
        Ok(result)
    }

    /// Marks the proof under `key` as just used (an LRU hit).
    pub async fn touch_proof(&self, key: &str, bounds: LruBounds) -> StorageResult<()> {
        let key = key.to_string();
        let reads = array([strs(&["proofs", "getAll"]).into()]);
        self.update(&["proofs"], reads, move |results| {
            let stored = Array::from(&results.get(0));
            let mut lru = Lru::from_entries(bounds, stored.iter().filter_map(|v| lru_entry(&v)));
            let Some(tick) = lru.touch(&key) else {
                return Vec::new();
            };
            stored
                .iter()
                .find(|v| field_str(v, "key").as_deref() == Some(key.as_str()))
                .map(|v| {
                    js::set(&v, "lastUsed", &(tick as f64).into());
                    vec![write("put", "proofs", v)]
                })
                .unwrap_or_default()
        })
        .await
    }

    /// The proof cache key of a circom statement: HMAC-SHA-256 of `message` under the origin's
    /// non-extractable key (made on first use, kept in the `secrets` store), hex.
    pub async fn cache_key_hmac(&self, message: &str) -> StorageResult<String> {
        let mac = call(js_cache_key_hmac(&self.db, message)).await?;
        mac.as_string()
            .ok_or_else(|| StorageError::from_js(JsValue::from_str("no HMAC")))
    }

    /// Deletes the proof under `key`.
    pub async fn delete_proof(&self, key: &str) -> StorageResult<()> {
        call(js_del(&self.db, "proofs", &key.into()))
            .await
            .map(drop)
    }

    /// At start: drops keys whose SHA-256 the manifest no longer lists, and proofs made under a
    /// verifying key it no longer lists (or unreadable), in one transaction.
    pub async fn sweep(
        &self,
        key_hashes: Vec<String>,
        vk_hashes: Vec<String>,
    ) -> StorageResult<Swept> {
        let outcome = Rc::new(RefCell::new(Swept::default()));
        let out = outcome.clone();
        let reads = array([
            strs(&["keys", "getAllKeys"]).into(),
            strs(&["proofs", "getAll"]).into(),
        ]);
        self.update(&["keys", "proofs"], reads, move |results| {
            let listed_keys: HashSet<String> = key_hashes.into_iter().collect();
            let listed_vks: HashSet<String> = vk_hashes.into_iter().collect();
            let keys = Array::from(&results.get(0)).to_vec();
            let proofs = Array::from(&results.get(1)).to_vec();
            let plan = sweep::plan(
                &keys.iter().map(JsValue::as_string).collect::<Vec<_>>(),
                &proofs
                    .iter()
                    .map(|v| StoredProof {
                        vk_sha256: field_str(v, "vkSha256"),
                        entry: lru_entry(v).map(|(_, e)| e),
                    })
                    .collect::<Vec<_>>(),
                &listed_keys,
                &listed_vks,
            );
            let mut writes: Vec<JsValue> = plan
                .keys
                .iter()
                .map(|&i| write("delete", "keys", keys[i].clone()))
                .collect();
            for &i in &plan.proofs {
                // A record with no key at all cannot be deleted by key; it is counted all the same.
                let key = Reflect::get(&proofs[i], &"key".into()).unwrap_or(JsValue::UNDEFINED);
                if !key.is_undefined() {
                    writes.push(write("delete", "proofs", key));
                }
            }
            *out.borrow_mut() = plan.swept;
            writes
        })
        .await?;
        let swept = *outcome.borrow();
        Ok(swept)
    }

    /// Empties the proof and key caches.
    pub async fn clear_caches(&self) -> StorageResult<()> {
        call(js_clear(&self.db, &strs(&["proofs", "keys"])))
            .await
            .map(drop)
    }

    /// Every stored job, its claim unsealed (unreadable ones included, without a claim, to be
    /// dropped by the caller).
    pub async fn jobs(&self) -> StorageResult<Vec<JsValue>> {
        Ok(Array::from(&call(js_get_jobs(&self.db)).await?).to_vec())
    }

    /// Stores (or replaces) a durable job, its claim sealed (AES-GCM, the origin's
    /// non-extractable key).
    pub async fn put_job(&self, job: &DurableJob) -> StorageResult<()> {
        call(js_put_job(&self.db, &to_js(job))).await.map(drop)
    }

    /// Deletes the durable job `id`.
    pub async fn delete_job(&self, id: &str) -> StorageResult<()> {
        let _ = JsFuture::from(js_job_written(id)).await;
        call(js_del(&self.db, "jobs", &id.into())).await.map(drop)
    }

    /// Appends audit events, keeping the newest `max`.
    pub async fn append_audit(&self, records: Array, max: usize) -> StorageResult<()> {
        call(js_append_bounded(&self.db, "audit", &records, max as f64))
            .await
            .map(drop)
    }

    /// The persisted audit log, oldest first.
    pub async fn audit(&self) -> StorageResult<JsValue> {
        call(js_get_all(&self.db, "audit")).await
    }

    /// A key file from the key cache or the network (checked against `key`'s pinned SHA-256 either
    /// way): `{ bytes, source, evicted?, storeError? }`. `db` None: no cache.
    pub async fn load_key(storage: Option<&Storage>, key: &JsValue) -> Result<JsValue, JsValue> {
        let db = storage.map_or(JsValue::NULL, |s| s.db.clone());
        // What to do with a stored copy is the runtime's rule (answers::load_stored_key).
        let decide = Closure::<dyn Fn(String) -> String>::new(|found: String| {
            answers::load_stored_key(answers::StoredKey::parse(&found))
                .as_str()
                .to_string()
        });
        let loading = js_load_key(&db, key, &JsValue::UNDEFINED, decide.as_ref())?;
        let loaded = JsFuture::from(loading).await;
        drop(decide);
        loaded
    }

    /// What a failed [`Storage::load_key`] reported, as a worker would (storage.js's
    /// `plainError`): its code is [`WorkerError::code`]'s decision.
    pub fn reported(e: &JsValue) -> WorkerError {
        serde_wasm_bindgen::from_value(js_plain_error(e)).unwrap_or_else(|_| WorkerError {
            message: Some(format!("{e:?}")),
            ..WorkerError::default()
        })
    }

    /// Asks for the cross-tab lock of durable job `id`: whether this tab may run it is
    /// [`durable::may_run`]'s decision on what the browser answered.
    pub async fn lock_job(&self, id: &str) -> bool {
        let answer = JsFuture::from(js_lock_job(&self.name, id))
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        durable::may_run(LockAnswer::parse(&answer))
    }

    /// Releases the lock of durable job `id`.
    pub fn unlock_job(id: &str) {
        js_unlock_job(id);
    }
}
