//! The key manifest the runtime proves with: which circuits have keys, and where.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::circuit::CircuitId;
use crate::prover::manifest::KeyManifest as ManifestFile;
use crate::web::error::to_js;
use crate::Error;

/// A proving key's location and pinned hash.
#[derive(Debug, Clone)]
pub struct KeyRef {
    /// Absolute URL.
    pub url: String,
    /// Pinned SHA-256 (hex).
    pub sha256: String,
    /// Size in bytes.
    pub bytes: f64,
    /// Made from a seed: development keys, never for production.
    pub development: bool,
}

impl KeyRef {
    /// `{ url, sha256, bytes }` for the worker.
    pub fn to_js(&self) -> JsValue {
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"url".into(), &self.url.as_str().into());
        let _ = js_sys::Reflect::set(&o, &"sha256".into(), &self.sha256.as_str().into());
        let _ = js_sys::Reflect::set(&o, &"bytes".into(), &self.bytes.into());
        let _ = js_sys::Reflect::set(&o, &"development".into(), &self.development.into());
        o.into()
    }
}

/// The circuits with keys.
#[derive(Debug, Clone)]
pub struct KeyManifest {
    keys: Vec<(String, KeyRef)>,
}

impl KeyManifest {
    /// Fetches and reads the manifest at `url`.
    pub async fn fetch(url: &str) -> Result<Self, JsValue> {
        let global = js_sys::global();
        let fetch: js_sys::Function = js_sys::Reflect::get(&global, &"fetch".into())?.dyn_into()?;
        let not_found = |what: String| to_js(Error::KeyNotFound { what });
        let response: web_sys::Response =
            JsFuture::from(js_sys::Promise::from(fetch.call1(&global, &url.into())?))
                .await
                .map_err(|e| {
                    not_found(format!(
                        "manifest {url}: {}",
                        js_sys::Error::from(e).message()
                    ))
                })?
                .dyn_into()?;
        if !response.ok() {
            return Err(not_found(format!(
                "manifest {url}: HTTP {}",
                response.status()
            )));
        }
        let base = response.url();
        let text = JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let parsed = ManifestFile::from_json(&text).map_err(|e| {
            to_js(Error::KeyIntegrity {
                what: format!("manifest {url}: {e}"),
            })
        })?;
        let keys = parsed
            .circuits
            .iter()
            .map(|c| {
                let pk = &c.files.proving_key;
                let url = web_sys::Url::new_with_base(&pk.name, &base)
                    .map(|u| u.href())
                    .unwrap_or_else(|_| pk.name.clone());
                let key = KeyRef {
                    url,
                    sha256: pk.sha256.clone(),
                    bytes: pk.bytes as f64,
                    development: c.development,
                };
                (c.id.clone(), key)
            })
            .collect();
        Ok(KeyManifest { keys })
    }

    /// Whether `circuit` has a proving key.
    pub fn has(&self, circuit: &str) -> bool {
        self.keys.iter().any(|(id, _)| id == circuit)
    }

    /// The proving key of `circuit`.
    pub fn proving_key(&self, circuit: &str) -> Option<&KeyRef> {
        self.keys
            .iter()
            .find(|(id, _)| id == circuit)
            .map(|(_, k)| k)
    }

    /// Every circuit with keys (for the smaller-circuit fallback).
    pub fn circuits(&self) -> Vec<CircuitId> {
        self.keys
            .iter()
            .filter_map(|(id, _)| id.parse().ok())
            .collect()
    }
}
