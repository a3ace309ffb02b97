//! The runtime's persistent side: the proof cache, the key cache's bookkeeping, the durable queue
//! and the persisted audit log, over [`Storage`]. When IndexedDB is unavailable (some private
//! modes), refuses a write (quota) or is closed by another tab, proofs go on uncached and the
//! status says why.
//!
//! This file only makes the requests and reports what they gave; the rules are plain Rust in
//! `crate::runtime`: what a lookup does with what it found ([`proof_cache::read_verdict`],
//! [`proof_cache::checked_verdict`]), what is counted ([`CacheStats`]), when a proved job's
//! durable record goes ([`durable::remove_after_caching`]), and which failure of a verifying key or
//! of a worker's proof is which code ([`verdict`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::options::StorageSettings;
use super::storage::{Storage, StorageError};
use crate::prover::VerifyingKey;
use crate::runtime::durable::{self, ProofCaching};
use crate::runtime::engine::Lookup;
use crate::runtime::proof_cache::{self, CacheStats, CacheVerdict, ProofRecord, Stored};
use crate::runtime::protocol::{KeyEvent, KeyMessage};
use crate::runtime::statement::{CacheKey, Statement};
use crate::runtime::verdict;
use crate::web::js::to_js_value;

/// `status.storage`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageStatus {
    /// Whether IndexedDB is in use.
    pub available: bool,
    /// Why not, or what went wrong last (empty when all is well).
    pub reason: String,
    /// The database's name.
    pub name: String,
    /// Proofs are cached.
    pub proof_cache: bool,
    /// Keys are cached.
    pub key_cache: bool,
    /// Unfinished jobs are stored and resumed.
    pub durable_queue: bool,
    /// A write failed for lack of quota (the cache goes on, uncached where it must).
    pub quota_exceeded: bool,
}

/// Everything the runtime keeps in IndexedDB.
#[derive(Debug)]
pub struct Caches {
    storage: RefCell<Option<Storage>>,
    /// What was asked for.
    pub settings: StorageSettings,
    status: RefCell<StorageStatus>,
    /// Counters and sizes.
    pub stats: RefCell<CacheStats>,
    verifiers: RefCell<HashMap<String, Rc<VerifyingKey>>>,
    changed: Cell<bool>,
}

impl Caches {
    /// Caches over `storage` (None: IndexedDB could not be opened, for `reason`).
    pub fn new(settings: StorageSettings, storage: Option<Storage>, reason: String) -> Self {
        let available = storage.is_some();
        let status = StorageStatus {
            available,
            reason,
            name: settings.name.clone(),
            proof_cache: available && settings.proof_cache.is_some(),
            key_cache: available && settings.key_cache,
            durable_queue: available && settings.durable_queue,
            quota_exceeded: false,
        };
        let bounds = settings.proof_cache.unwrap_or_default();
        let stats = CacheStats {
            enabled: status.proof_cache,
            max_entries: bounds.max_entries,
            max_bytes: bounds.max_bytes,
            keys: crate::runtime::proof_cache::KeyCacheStats {
                enabled: status.key_cache,
                ..Default::default()
            },
            ..Default::default()
        };
        Caches {
            storage: RefCell::new(storage),
            settings,
            status: RefCell::new(status),
            stats: RefCell::new(stats),
            verifiers: RefCell::new(HashMap::new()),
            changed: Cell::new(true),
        }
    }

    /// The open database, if any.
    pub fn storage(&self) -> Option<Storage> {
        self.storage.borrow().clone()
    }

    /// The database the workers' key cache uses, if keys are cached.
    pub fn key_storage(&self) -> Option<Storage> {
        self.storage().filter(|_| self.settings.key_cache)
    }

    /// The proof cache's database, if proofs are cached.
    pub fn proof_storage(&self) -> Option<Storage> {
        self.storage()
            .filter(|_| self.settings.proof_cache.is_some())
    }

    /// The durable queue's database, if jobs are stored.
    pub fn job_storage(&self) -> Option<Storage> {
        self.storage().filter(|_| self.settings.durable_queue)
    }

    /// `status.storage`.
    pub fn status(&self) -> StorageStatus {
        self.status.borrow().clone()
    }

    /// Whether status or stats changed since the last call.
    pub fn take_changed(&self) -> bool {
        self.changed.replace(false)
    }

    /// Another tab (a newer schema) or the browser closed the database: everything goes on
    /// without it.
    pub fn closed(&self, reason: String) {
        self.storage.replace(None);
        let mut s = self.status.borrow_mut();
        s.available = false;
        s.proof_cache = false;
        s.key_cache = false;
        s.durable_queue = false;
        s.reason = reason;
        self.stats.borrow_mut().enabled = false;
        self.stats.borrow_mut().keys.enabled = false;
        self.changed.set(true);
    }

    /// A storage request failed: note it (a full quota shows in the status) and go on.
    pub fn failed(&self, what: &str, e: &StorageError) {
        web_sys::console::warn_1(&format!("airprover: storage: {what}: {}", e.message).into());
        let mut s = self.status.borrow_mut();
        s.reason = format!("{what}: {}", e.message);
        s.quota_exceeded |= e.full;
        self.changed.set(true);
    }

    /// Counts a proof cache answer ([`CacheStats::count`]).
    pub fn count(&self, lookup: &Lookup) {
        self.stats.borrow_mut().count(lookup);
        self.changed.set(true);
    }

    /// Counts a key load (`{ source, evicted?, storeError? }`: a worker's, or the page's own for
    /// a verifying key) and reports a dropped copy as the runtime words it.
    pub fn key_event(&self, event: &KeyEvent) {
        self.stats.borrow_mut().keys.count(event);
        if let Some(dropped) = &event.evicted {
            let (code, words) = dropped.report();
            web_sys::console::warn_1(&format!("airprover: key cache: {code}: {words}").into());
        }
        if let Some(e) = &event.store_error {
            self.failed("storing a proving key", &StorageError::from(e));
        }
        self.changed.set(true);
    }

    /// The proof cache key itself: a claim's digest, or a circom input's HMAC under the origin's
    /// non-extractable key (see `crate::runtime::statement`). `None`: no proof cache, or WebCrypto
    /// could not sign (the proof is then neither looked up nor cached).
    pub async fn resolve_key(&self, key: &CacheKey) -> Option<String> {
        match key {
            CacheKey::Digest(d) => Some(d.clone()),
            CacheKey::Keyed { message } => {
                let storage = self.proof_storage()?;
                match storage.cache_key_hmac(message).await {
                    Ok(mac) => Some(mac),
                    Err(e) => {
                        self.failed("keying a circom input's cache entry", &e);
                        None
                    }
                }
            }
        }
    }

    /// Looks a statement up: what is stored under its key, judged by the proof cache's rule
    /// ([`proof_cache::read_verdict`], then [`proof_cache::checked_verdict`] against the current
    /// verifying key for a record that reads); a hit is marked as used, a rejected record deleted.
    pub async fn lookup(&self, key: &CacheKey, statement: &Statement, vk: &KeyMessage) -> Lookup {
        let Some(storage) = self.proof_storage() else {
            return Lookup::Miss;
        };
        let Some(key) = self.resolve_key(key).await else {
            return Lookup::Miss;
        };
        let stored = match storage.proof(&key).await {
            Ok(None) => Stored::Nothing,
            Ok(Some(Ok(record))) => Stored::Record(record),
            Ok(Some(Err(why))) => Stored::Unreadable(why),
            Err(e) => {
                self.failed("reading the proof cache", &e);
                Stored::ReadFailed
            }
        };
        let verdict = match proof_cache::read_verdict(stored) {
            Ok(verdict) => verdict,
            Err(record) => {
                let vkey = match self.verifier(&statement.circuit().to_string(), vk).await {
                    Ok(vkey) => Some(vkey),
                    Err((_, e)) => {
                        web_sys::console::warn_1(
                            &format!("airprover: proof cache: verifying key: {e}").into(),
                        );
                        None
                    }
                };
                let current = vkey.as_deref().map(|k| (vk.sha256.as_str(), k));
                proof_cache::checked_verdict(*record, &key, statement, current)
            }
        };
        match &verdict {
            CacheVerdict::Hit(_) => {
                if let Some(bounds) = self.settings.proof_cache {
                    if let Err(e) = storage.touch_proof(&key, bounds).await {
                        self.failed("refreshing a cached proof", &e);
                    }
                }
            }
            CacheVerdict::Evict(_) => {
                if let Err(e) = storage.delete_proof(&key).await {
                    self.failed("evicting a bad cached proof", &e);
                }
            }
            CacheVerdict::Miss => {}
        }
        verdict.lookup()
    }

    /// Caches a proof just made and verified and, in the same transaction, ends its durable job;
    /// where nothing was written, the job ends on its own when
    /// [`durable::remove_after_caching`] says so.
    pub async fn insert(&self, record: ProofRecord, job: Option<String>) {
        let caching = match (self.proof_storage(), self.settings.proof_cache) {
            (Some(storage), Some(bounds)) => {
                match storage.insert_proof(record, bounds, job.clone()).await {
                    Ok(ins) => {
                        self.stats
                            .borrow_mut()
                            .inserted(ins.entries, ins.bytes, ins.evicted);
                        self.changed.set(true);
                        ProofCaching::Written
                    }
                    Err(e) => {
                        self.failed("caching a proof", &e);
                        ProofCaching::Failed
                    }
                }
            }
            _ => ProofCaching::Off,
        };
        let Some(job) = job else {
            return;
        };
        match self.job_storage() {
            Some(storage) if durable::remove_after_caching(caching) => {
                self.end_job(&storage, &job).await
            }
            _ => Storage::unlock_job(&job),
        }
    }

    /// Checks a worker's proof of `statement` on the page against the manifest's verifying key
    /// `key` ([`verdict::worker_proof`]). `Err`: KEY_INTEGRITY when it does not verify, or the
    /// code of the verifying key's load.
    pub async fn check_proof(
        &self,
        statement: &Statement,
        key: &KeyMessage,
        value: &serde_json::Value,
    ) -> Result<(), verdict::Failure> {
        let vk = self.verifier(&statement.circuit().to_string(), key).await?;
        verdict::worker_proof(statement, &vk, value)
    }

    /// Loads the verifying key a cached proof of `circuit` will be checked with, so that it is in
    /// the key cache before a reload needs it.
    pub async fn prepare_verifier(&self, circuit: &str, key: &KeyMessage) {
        if self.proof_storage().is_some() {
            if let Err((_, e)) = self.verifier(circuit, key).await {
                web_sys::console::warn_1(&format!("airprover: verifying key: {e}").into());
            }
        }
    }

    /// Removes a durable job (it ended for good) and releases its lock.
    pub async fn end_job(&self, storage: &Storage, id: &str) {
        if let Err(e) = storage.delete_job(id).await {
            self.failed("removing a finished job", &e);
        }
        Storage::unlock_job(id);
    }

    /// The parsed verifying key of `circuit`, loaded once (through the key cache); the error's
    /// code is the load's (NETWORK, KEY_NOT_FOUND, KEY_INTEGRITY, ..., the worker's rule:
    /// `WorkerError::code`) or the file's ([`verdict::verifying_key`]).
    async fn verifier(
        &self,
        circuit: &str,
        key: &KeyMessage,
    ) -> Result<Rc<VerifyingKey>, verdict::Failure> {
        if let Some(vk) = self.verifiers.borrow().get(circuit) {
            return Ok(vk.clone());
        }
        let loaded = Storage::load_key(self.key_storage().as_ref(), &to_js_value(key))
            .await
            .map_err(|e| {
                let reported = Storage::reported(&e);
                (reported.code(), reported.message.unwrap_or_default())
            })?;
        if let Ok(event) = serde_wasm_bindgen::from_value::<KeyEvent>(loaded.clone()) {
            self.key_event(&event);
        }
        let bytes = js_sys::Reflect::get(&loaded, &"bytes".into())
            .ok()
            .map(|b| js_sys::Uint8Array::new(&b).to_vec());
        let vk = Rc::new(verdict::verifying_key(circuit, bytes)?);
        self.verifiers
            .borrow_mut()
            .insert(circuit.to_string(), vk.clone());
        Ok(vk)
    }

    /// Empties the proof and key caches.
    pub async fn clear(&self) -> Result<(), JsValue> {
        let Some(storage) = self.storage() else {
            return Ok(());
        };
        storage.clear_caches().await.map_err(|e| {
            self.failed("clearing the caches", &e);
            JsValue::from(js_sys::Error::new(&e.message))
        })?;
        let mut s = self.stats.borrow_mut();
        s.entries = 0;
        s.bytes = 0;
        self.changed.set(true);
        Ok(())
    }
}
