//! The key manifest the runtime proves with: which circuits have keys, and where. A key is the
//! protocol's [`KeyMessage`]: the page hands it to a worker as it is, and loads its own verifying
//! keys from the same.

use std::collections::BTreeMap;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::prover::manifest::KeyManifest as ManifestFile;
use crate::runtime::engine::CircuitKeys;
use crate::runtime::protocol::KeyMessage;
use crate::web::error::to_js;
use crate::Error;

/// The circuits with keys.
#[derive(Debug, Clone)]
pub struct KeyManifest {
    keys: BTreeMap<String, CircuitKeys>,
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

    /// SHA-256 of every key file listed (what the key cache may keep).
    pub fn key_hashes(&self) -> Vec<String> {
        self.keys
            .values()
            .flat_map(|k| [k.proving.sha256.clone(), k.verifying.sha256.clone()])
            .collect()
    }

    /// SHA-256 of every verifying key listed (proofs made under others are stale).
    pub fn verifying_key_hashes(&self) -> Vec<String> {
        self.keys
            .values()
            .map(|k| k.verifying.sha256.clone())
            .collect()
    }

    /// The keys per circuit id, for the engine.
    pub fn into_keys(self) -> BTreeMap<String, CircuitKeys> {
        self.keys
    }
}
