//! The key manifest the runtime proves with: which circuits have keys, and where. A key is the
//! protocol's [`KeyMessage`]: the page hands it to a worker as it is, and loads its own verifying
//! keys from the same.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::circuit::CircuitId;
use crate::prover::manifest::KeyManifest as ManifestFile;
use crate::runtime::protocol::KeyMessage;
use crate::web::error::to_js;
use crate::Error;

/// A circuit's two keys.
#[derive(Debug, Clone)]
pub struct CircuitKeys {
    /// The proving key (what workers prove with).
    pub proving: KeyMessage,
    /// The verifying key (what cached proofs are checked against; its hash is in the cache key).
    pub verifying: KeyMessage,
}

/// The circuits with keys.
#[derive(Debug, Clone)]
pub struct KeyManifest {
    keys: Vec<(String, CircuitKeys)>,
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
                let key = |file: &crate::prover::manifest::FileDigest| KeyMessage {
                    url: web_sys::Url::new_with_base(&file.name, &base)
                        .map(|u| u.href())
                        .unwrap_or_else(|_| file.name.clone()),
                    sha256: file.sha256.to_ascii_lowercase(),
                    bytes: file.bytes as f64,
                    development: c.development,
                };
                let refs = CircuitKeys {
                    proving: key(&c.files.proving_key),
                    verifying: key(&c.files.verifying_key),
                };
                (c.id.clone(), refs)
            })
            .collect();
        Ok(KeyManifest { keys })
    }

    /// Whether `circuit` has a proving key.
    pub fn has(&self, circuit: &str) -> bool {
        self.keys.iter().any(|(id, _)| id == circuit)
    }

    /// The proving key of `circuit`.
    pub fn proving_key(&self, circuit: &str) -> Option<&KeyMessage> {
        self.keys(circuit).map(|k| &k.proving)
    }

    /// The verifying key of `circuit`.
    pub fn verifying_key(&self, circuit: &str) -> Option<&KeyMessage> {
        self.keys(circuit).map(|k| &k.verifying)
    }

    fn keys(&self, circuit: &str) -> Option<&CircuitKeys> {
        self.keys
            .iter()
            .find(|(id, _)| id == circuit)
            .map(|(_, k)| k)
    }

    /// SHA-256 of every key file listed (what the key cache may keep).
    pub fn key_hashes(&self) -> Vec<String> {
        self.keys
            .iter()
            .flat_map(|(_, k)| [k.proving.sha256.clone(), k.verifying.sha256.clone()])
            .collect()
    }

    /// SHA-256 of every verifying key listed (proofs made under others are stale).
    pub fn verifying_key_hashes(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|(_, k)| k.verifying.sha256.clone())
            .collect()
    }

    /// Every circuit with keys (for the smaller-circuit fallback).
    pub fn circuits(&self) -> Vec<CircuitId> {
        self.keys
            .iter()
            .filter_map(|(id, _)| id.parse().ok())
            .collect()
    }
}
