//! The key manifest the runtime proves with: which circuits have keys, and where. A key is the
//! protocol's [`KeyMessage`](crate::runtime::protocol::KeyMessage): the page hands it to a
//! worker as it is, and loads its own verifying keys from the same. Fetching and the browser's
//! URL resolution are here; reading is [`ManifestKeys::read`], tested natively.

use std::collections::BTreeMap;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::runtime::engine::CircuitKeys;
use crate::runtime::manifest::{CircomFiles, ManifestKeys};
use crate::web::error::to_js;
use crate::Error;

/// The circuits with keys.
#[derive(Debug, Clone)]
pub struct KeyManifest {
    keys: ManifestKeys,
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
        let resolve = |name: &str| {
            web_sys::Url::new_with_base(name, &base)
                .map(|u| u.href())
                .unwrap_or_else(|_| name.to_string())
        };
        let keys = ManifestKeys::read(&text, resolve).map_err(|e| {
            to_js(Error::KeyIntegrity {
                what: format!("manifest {url}: {e}"),
            })
        })?;
        Ok(KeyManifest { keys })
    }

    /// SHA-256 of every file listed (what the key cache may keep).
    pub fn key_hashes(&self) -> Vec<String> {
        self.keys.key_hashes()
    }

    /// SHA-256 of every verifying key listed (proofs made under others are stale).
    pub fn verifying_key_hashes(&self) -> Vec<String> {
        self.keys.verifying_key_hashes()
    }

    /// The circom circuits' files per circuit id.
    pub fn circom(&self) -> &BTreeMap<String, CircomFiles> {
        &self.keys.circom
    }

    /// Every circuit's keys per circuit id, for the engine (circom circuits with their witness
    /// wasm).
    pub fn into_keys(self) -> BTreeMap<String, CircuitKeys> {
        self.keys.into_engine_keys()
    }
}
