//! The runtime's persistent side: the proof cache, the key cache's bookkeeping, the durable queue
//! and the persisted audit log, over [`Storage`]. When IndexedDB is unavailable (some private
//! modes), refuses a write (quota) or is closed by another tab, proofs go on uncached and the
//! status says why.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::options::StorageSettings;
use super::storage::{Storage, StorageError};
use crate::prover::keys::{read_verifying_key, Validation};
use crate::prover::{export, verify, VerifyingKey};
use crate::runtime::code::ErrorCode;
use crate::runtime::engine::Lookup;
use crate::runtime::proof_cache::{CacheStats, ProofRecord, Rejection};
use crate::runtime::protocol::{KeyEvent, KeyMessage};
use crate::runtime::statement::{CacheKey, Statement};
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

    /// Counts a proof cache answer.
    pub fn count(&self, lookup: &Lookup) {
        let mut s = self.stats.borrow_mut();
        match lookup {
            Lookup::Hit(_) => s.hits += 1,
            Lookup::Miss => s.misses += 1,
            Lookup::Rejected(_) => {
                s.misses += 1;
                s.rejected += 1;
                s.entries = s.entries.saturating_sub(1);
            }
        }
        s.update_rate();
        self.changed.set(true);
    }

    /// Counts a worker's key load (`{ source, evicted?, storeError? }`).
    pub fn key_event(&self, event: &KeyEvent) {
        {
            let mut s = self.stats.borrow_mut();
            match event.source.as_deref() {
                Some("cache") => s.keys.hits += 1,
                Some("network") => s.keys.downloads += 1,
                _ => {}
            }
            if let Some(dropped) = &event.evicted {
                s.keys.integrity_failures += 1;
                let (code, words) = dropped.report();
                web_sys::console::warn_1(&format!("airprover: key cache: {code}: {words}").into());
            }
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

    /// Looks a statement up: a stored record must pass [`ProofRecord::check_statement`] against
    /// the current verifying key; one that does not is evicted.
    pub async fn lookup(&self, key: &CacheKey, statement: &Statement, vk: &KeyMessage) -> Lookup {
        let Some(storage) = self.proof_storage() else {
            return Lookup::Miss;
        };
        let Some(key) = self.resolve_key(key).await else {
            return Lookup::Miss;
        };
        let key = key.as_str();
        let record = match storage.proof(key).await {
            Ok(None) => return Lookup::Miss,
            Ok(Some(r)) => r,
            Err(e) => {
                self.failed("reading the proof cache", &e);
                return Lookup::Miss;
            }
        };
        let checked = match &record {
            Err(text) => Err(Rejection::Tampered(text.clone())),
            Ok(record) => match self.verifier(&statement.circuit().to_string(), vk).await {
                // Without the verifying key nothing can be trusted: prove instead, keep the entry.
                Err((_, e)) => {
                    web_sys::console::warn_1(
                        &format!("airprover: proof cache: verifying key: {e}").into(),
                    );
                    return Lookup::Miss;
                }
                Ok(vkey) => record.check_statement(key, statement, &vk.sha256, &vkey),
            },
        };
        match (checked, record) {
            (Ok(()), Ok(record)) => {
                if let Some(bounds) = self.settings.proof_cache {
                    if let Err(e) = storage.touch_proof(key, bounds).await {
                        self.failed("refreshing a cached proof", &e);
                    }
                }
                Lookup::Hit(serde_json::json!({
                    "proof": record.proof,
                    "publicSignals": record.public_signals,
                }))
            }
            (Err(why), _) => {
                if let Err(e) = storage.delete_proof(key).await {
                    self.failed("evicting a bad cached proof", &e);
                }
                Lookup::Rejected(why.message().to_string())
            }
            (Ok(()), Err(_)) => unreachable!("an unreadable record never passes"),
        }
    }

    /// Caches a proof just made and verified (and ends its durable job), in one transaction.
    pub async fn insert(&self, record: ProofRecord, job: Option<String>) {
        let (Some(storage), Some(bounds)) = (self.proof_storage(), self.settings.proof_cache)
        else {
            if let (Some(storage), Some(job)) = (self.job_storage(), job) {
                self.end_job(&storage, &job).await;
            }
            return;
        };
        match storage.insert_proof(record, bounds, job.clone()).await {
            Ok(ins) => {
                let mut s = self.stats.borrow_mut();
                s.entries = ins.entries;
                s.bytes = ins.bytes;
                s.evictions += ins.evicted as u64;
                self.changed.set(true);
            }
            Err(e) => {
                self.failed("caching a proof", &e);
                // The job ended all the same: it must not be resumed.
                if let Some(job) = &job {
                    self.end_job(&storage, job).await;
                }
            }
        }
        if let Some(job) = job {
            Storage::unlock_job(&job);
        }
    }

    /// Checks a worker's proof of `statement` on the page against the manifest's verifying key
    /// `key` (the worker's own check used the key inside its proving key). A claim's public
    /// signals are the claim's; a circom circuit's, the worker's (only its witness knows them).
    /// `Err`: KEY_INTEGRITY when it does not verify, or the code of the verifying key's load.
    pub async fn check_proof(
        &self,
        statement: &Statement,
        key: &KeyMessage,
        value: &serde_json::Value,
    ) -> Result<(), (ErrorCode, String)> {
        let integrity = |why: String| {
            (
                ErrorCode::KeyIntegrity,
                format!("the proof does not verify against the manifest's verifying key: {why}"),
            )
        };
        let vk = self.verifier(&statement.circuit().to_string(), key).await?;
        let proof = value
            .get("proof")
            .ok_or_else(|| integrity("the result has no proof".into()))?;
        let proof = export::proof_from_value(proof).map_err(|e| integrity(e.to_string()))?;
        let public = match statement.claim() {
            Some(claim) => claim.public_signals(),
            None => value
                .get("publicSignals")
                .ok_or_else(|| integrity("the result has no public signals".into()))
                .and_then(|p| export::public_from_value(p).map_err(|e| integrity(e.to_string())))?,
        };
        match verify::verify(&vk, &public, &proof) {
            Ok(true) => Ok(()),
            Ok(false) => Err(integrity("the pairing check fails".into())),
            Err(e) => Err(integrity(e.to_string())),
        }
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
    /// code is the load's (NETWORK, KEY_NOT_FOUND, KEY_INTEGRITY, ...).
    async fn verifier(
        &self,
        circuit: &str,
        key: &KeyMessage,
    ) -> Result<Rc<VerifyingKey>, (ErrorCode, String)> {
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
        let integrity = |why: String| (ErrorCode::KeyIntegrity, why);
        let bytes = js_sys::Reflect::get(&loaded, &"bytes".into())
            .map(|b| js_sys::Uint8Array::new(&b).to_vec())
            .map_err(|_| integrity("the verifying key's load gave no bytes".into()))?;
        let id: crate::circuit::CircuitId = circuit
            .parse()
            .map_err(|e: crate::Error| (e.code(), e.to_string()))?;
        let vk = if id.is_circom() {
            // snarkjs's verification_key.json (its points checked on their curves).
            let text = String::from_utf8(bytes)
                .map_err(|_| integrity("the verifying key is not JSON text".into()))?;
            export::verifying_key_from_json(&text)
        } else {
            read_verifying_key(&bytes, &id, Validation::Checked)
        }
        .map_err(|e| (e.code(), e.to_string()))?;
        let vk = Rc::new(vk);
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
