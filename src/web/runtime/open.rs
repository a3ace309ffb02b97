//! A runtime's start: the manifest, what the page offers, IndexedDB (swept of what the manifest
//! no longer lists), the engine, and the stored jobs an earlier runtime left.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use super::caching::Caches;
use super::edge::Inner;
use super::manifest::KeyManifest;
use super::options::{RuntimeOptions, StorageSettings};
use super::remote::RemoteLink;
use super::storage::Storage;
use crate::runtime::durable::DurableJob;
use crate::runtime::engine::{Engine, EngineConfig, Event, StoragePlan};
use crate::runtime::fallback::PageCapabilities;
use crate::runtime::protocol::Fault;
use crate::runtime::remote::Plan;
use crate::web::error::bad_argument;

/// Opens a runtime: see [`super::Runtime::create`].
pub(super) async fn runtime(
    options: RuntimeOptions,
    settings: Option<StorageSettings>,
    spawn: js_sys::Function,
    remote: Option<RemoteLink>,
) -> Result<Rc<RefCell<Inner>>, JsValue> {
    let manifest = KeyManifest::fetch(&options.manifest_url).await?;
    let page = page_capabilities();
    let (build, threads, reason) = options.build_choice(page);
    let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
    // Filled once the runtime exists: another tab may close the database at any time.
    let slot: Rc<RefCell<Weak<RefCell<Inner>>>> = Rc::default();
    let (caches, stored) = open_caches(settings, &manifest, slot.clone()).await;
    let audit_log = caches.settings.audit_log_size > 0;
    let mut scheduler = options.config(build);
    if let Some(link) = &remote {
        let when = link.when().and_then(|w| w.parse().ok()).ok_or_else(|| {
            bad_argument("options.remote.when", "must be one of fallback, always")
        })?;
        let url = link
            .url()
            .ok_or_else(|| bad_argument("options.remote.url", "must be the server URL"))?;
        scheduler.remote = Some(Plan { when, url });
    }
    let config = EngineConfig {
        scheduler,
        seed,
        keys: manifest.into_keys(),
        threads,
        reason,
        cross_origin_isolated: page.cross_origin_isolated,
        storage: StoragePlan {
            proof_cache: caches.proof_storage().is_some(),
            durable_queue: caches.job_storage().is_some(),
            key_cache: caches.key_storage().map(|s| s.name.clone()),
            audit_log: audit_log && caches.storage().is_some(),
        },
        fault: options.fault_injection.map(|f| {
            let fault = Fault {
                crash_at_stage: f.crash_at_stage,
                stall_at_stage: f.stall_at_stage,
                oom_at_stage: f.oom_at_stage,
                stall_ms: f.stall_ms.unwrap_or(60_000.0),
            };
            (fault, f.times.unwrap_or(1))
        }),
    };
    let mut engine = Engine::new(config);
    let first = engine.start();
    let session = format!("{:012x}", seed & 0xffff_ffff_ffff);
    let inner = Rc::new_cyclic(|me| {
        RefCell::new(Inner::new(
            me.clone(),
            engine,
            spawn,
            caches,
            session,
            remote,
        ))
    });
    *slot.borrow_mut() = Rc::downgrade(&inner);
    Inner::carry_out_now(&inner, first);
    Inner::resume(&inner, stored).await;
    Ok(inner)
}

/// What the page offers: isolation, shared memory, cores.
fn page_capabilities() -> PageCapabilities {
    let global = js_sys::global();
    let get = |k: &str| Reflect::get(&global, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let navigator = get("navigator");
    PageCapabilities {
        cross_origin_isolated: get("crossOriginIsolated").as_bool().unwrap_or(false),
        shared_array_buffer: get("SharedArrayBuffer").is_function(),
        hardware_concurrency: Reflect::get(&navigator, &"hardwareConcurrency".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(1.0) as u32,
    }
}

/// Opens IndexedDB as `settings` ask, sweeps what the current manifest no longer lists, and reads
/// the stored jobs (an unreadable one is deleted). Never fails: without storage the runtime works
/// uncached, and says why.
async fn open_caches(
    settings: Option<StorageSettings>,
    manifest: &KeyManifest,
    runtime: Rc<RefCell<Weak<RefCell<Inner>>>>,
) -> (Rc<Caches>, Vec<DurableJob>) {
    let Some(settings) = settings else {
        let off = StorageSettings {
            proof_cache: None,
            key_cache: false,
            durable_queue: false,
            audit_log_size: 0,
            ..StorageSettings::default()
        };
        let reason = "turned off by options.storage".into();
        return (Rc::new(Caches::new(off, None, reason)), Vec::new());
    };
    let on_close = move |reason: String| {
        if let Some(inner) = runtime.borrow().upgrade() {
            let caches = inner.borrow().caches.clone();
            caches.closed(reason);
            Inner::dispatch(&inner, Event::StorageClosed);
        }
    };
    let storage = match Storage::open(&settings.name, on_close).await {
        Ok(s) => s,
        Err(e) => {
            web_sys::console::warn_1(
                &format!(
                    "airprover: no IndexedDB, proofs are not cached: {}",
                    e.message
                )
                .into(),
            );
            return (Rc::new(Caches::new(settings, None, e.message)), Vec::new());
        }
    };
    let caches = Rc::new(Caches::new(settings, Some(storage.clone()), String::new()));
    match storage
        .sweep(manifest.key_hashes(), manifest.verifying_key_hashes())
        .await
    {
        Ok(swept) => {
            let mut s = caches.stats.borrow_mut();
            s.entries = swept.entries;
            s.bytes = swept.bytes;
            s.keys.evicted = swept.keys as u64;
            s.rejected += swept.proofs as u64;
        }
        Err(e) => caches.failed("sweeping the caches", &e),
    }
    let Some(jobs) = caches.job_storage() else {
        return (caches, Vec::new());
    };
    let values = jobs.jobs().await.unwrap_or_else(|e| {
        caches.failed("reading stored jobs", &e);
        Vec::new()
    });
    let mut records = Vec::new();
    for value in values {
        match serde_wasm_bindgen::from_value::<DurableJob>(value.clone()) {
            Ok(record) => records.push(record),
            Err(e) => {
                web_sys::console::warn_1(
                    &format!("airprover: dropped an unreadable stored job: {e}").into(),
                );
                let id = Reflect::get(&value, &"id".into()).unwrap_or(JsValue::UNDEFINED);
                if let Some(id) = id.as_string() {
                    let _ = jobs.delete_job(&id).await;
                }
            }
        }
    }
    (caches, records)
}
