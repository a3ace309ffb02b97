//! Who is calling: API keys, their roles, and the [`Caller`] and [`Admin`] extractors every route
//! takes instead of checking a header itself.
//!
//! - The keys file holds no key, only its SHA-256 (`keySha256`): `airprover api-key new` makes a
//!   key and prints the entry to add. A plain `key` field is refused; so is a file that group or
//!   others may read.
//! - A key given is hashed and compared with every entry's hash in constant time.
//! - More than [`MAX_AUTH_FAILURES`] failed authentications from one client address in a minute
//!   answer `429 RATE_LIMITED` until the minute is over (counted in Redis: every node sees
//!   them). The address is the peer's, or with `--trust-proxy` the last `X-Forwarded-For` entry
//!   (the one the operator's proxy added).
//! - Roles: a `tenant` sees its own tasks and claims and its own counts; an `admin` sees every
//!   task, the workers and the metrics. Without `--api-keys` (development) everything is open.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use redis::AsyncCommands;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{fail, fail_retry, storage, AppState, Refusal};
use crate::json::parse_strict;
use crate::service::code::Code;
use crate::service::now_ms;

/// Failed authentications from one address in one minute before it gets 429.
pub const MAX_AUTH_FAILURES: u64 = 10;

/// What a key may see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Its own tasks and claims, its own counts.
    #[default]
    Tenant,
    /// Everything: every task, the workers, the metrics.
    Admin,
}

/// An API key's entry and quotas (from the keys file: the key itself is never stored, logged or
/// returned).
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// A name for logs, metrics and quotas.
    pub name: String,
    /// SHA-256 of the key.
    pub sha256: [u8; 32],
    /// What it may see.
    pub role: Role,
    /// Tasks queued or running at once.
    pub max_active: u64,
    /// Tasks submitted per minute.
    pub per_minute: u64,
}

impl ApiKey {
    /// Whether it sees everything.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Entry {
    name: String,
    key_sha256: Option<String>,
    /// Refused with a message: keys are not stored in the file.
    key: Option<serde_json::Value>,
    #[serde(default)]
    role: Role,
    #[serde(default = "default_active")]
    max_active: u64,
    #[serde(default = "default_per_minute")]
    per_minute: u64,
}

fn default_active() -> u64 {
    100
}

fn default_per_minute() -> u64 {
    600
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    keys: Vec<Entry>,
}

/// Reads the API keys file: `{ "keys": [{ "name", "keySha256", "role"?, "maxActive"?,
/// "perMinute"? }] }`, mode 0600 (or stricter).
pub fn load_api_keys(path: &std::path::Path) -> Result<Vec<ApiKey>, String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    crate::relayer::config::private_file(path).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(path).map_err(|e| at(&e))?;
    let value = parse_strict(&text).map_err(|e| at(&e))?;
    let file: KeysFile = serde_json::from_value(value).map_err(|e| at(&e))?;
    let mut keys: Vec<ApiKey> = Vec::new();
    for entry in file.keys {
        let name = &entry.name;
        if entry.key.is_some() {
            return Err(at(&format!(
                "{name}: a plain \"key\" is not kept in the keys file; run `airprover api-key new --name {name}` and put the \"keySha256\" it prints here (give the key itself to the client)"
            )));
        }
        let Some(hash) = entry.key_sha256.as_deref() else {
            return Err(at(&format!("{name}: keySha256 missing")));
        };
        let mut sha256 = [0u8; 32];
        if hex::decode_to_slice(hash, &mut sha256).is_err() {
            return Err(at(&format!("{name}: keySha256 is 64 hex digits")));
        }
        if name.is_empty() || name.len() > 64 || name.contains([':', ' ']) {
            return Err(at(&format!(
                "{name:?}: a name is 1 to 64 characters, no ':' or space"
            )));
        }
        if entry.max_active == 0 || entry.per_minute == 0 {
            return Err(at(&format!(
                "{name}: maxActive and perMinute are at least 1"
            )));
        }
        if keys.iter().any(|k| k.name == *name || k.sha256 == sha256) {
            return Err(at(&format!("{name}: a name or key given twice")));
        }
        keys.push(ApiKey {
            name: entry.name,
            sha256,
            role: entry.role,
            max_active: entry.max_active,
            per_minute: entry.per_minute,
        });
    }
    Ok(keys)
}

/// A new API key (32 random bytes, `apk_` and hex) and its keys-file entry.
pub fn new_api_key(name: &str, role: Role) -> (String, serde_json::Value) {
    let key = format!("apk_{}", hex::encode(rand::thread_rng().gen::<[u8; 32]>()));
    let entry = serde_json::json!({
        "name": name,
        "keySha256": hex::encode(Sha256::digest(key.as_bytes())),
        "role": match role { Role::Tenant => "tenant", Role::Admin => "admin" },
    });
    (key, entry)
}

/// The entry whose hash is the given key's, every entry compared in constant time.
pub fn find_key<'k>(keys: &'k [ApiKey], given: &str) -> Option<&'k ApiKey> {
    let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    let mut found = None;
    for key in keys {
        if bool::from(key.sha256.ct_eq(&digest)) {
            found = Some(key);
        }
    }
    found
}

/// The calling key (`None`: no keys configured, development) of a request that authenticated.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<ApiKey>);

impl Caller {
    /// Whether it sees everything (an admin, or no keys configured).
    pub fn is_admin(&self) -> bool {
        self.0.as_ref().is_none_or(ApiKey::is_admin)
    }

    /// Its key when it is a tenant's (sees only what it owns); `None` for an admin, or without
    /// keys.
    pub fn tenant(&self) -> Option<&ApiKey> {
        self.0.as_ref().filter(|k| !k.is_admin())
    }

    /// Whether it may see what `owner` (a key's name) owns.
    pub fn may_see(&self, owner: Option<&str>) -> bool {
        match &self.0 {
            None => true,
            Some(key) => key.is_admin() || owner == Some(key.name.as_str()),
        }
    }
}

/// A caller whose key is an admin's (or no keys configured).
#[derive(Debug, Clone)]
pub struct Admin;

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Response> {
        if state.keys.is_empty() {
            return Ok(Caller(None));
        }
        let given = bearer(&parts.headers).flatten();
        check_key(state, &client_address(parts, state.trust_proxy), given)
            .await
            .map_err(IntoResponse::into_response)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, Response> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.is_admin() {
            return Err(fail(Code::Forbidden, "this endpoint is for admin keys"));
        }
        Ok(Admin)
    }
}

/// The client's address (see [`client_address`]).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClientAddress, Self::Rejection> {
        Ok(ClientAddress(client_address(parts, state.trust_proxy)))
    }
}

/// The key of an `Authorization` header: `None` without the header, `Some(None)` when it is not
/// `Bearer <key>`.
pub fn bearer(headers: &HeaderMap) -> Option<Option<&str>> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")))
}

/// The client's address: the peer's, or with `--trust-proxy` the last `X-Forwarded-For` entry
/// (of the last such header: the one the operator's proxy added; a client's own come first).
pub fn client_address(parts: &Parts, trust_proxy: bool) -> String {
    let forwarded = trust_proxy
        .then(|| parts.headers.get_all("x-forwarded-for").iter().next_back())
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|a| a.trim().parse::<IpAddr>().ok());
    forwarded
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}

/// The entry of a given key (`None` when no keys are configured), or the answer: `401
/// UNAUTHORIZED`, or `429 RATE_LIMITED` once `address` failed too often this minute.
pub async fn check_key(
    state: &AppState,
    address: &str,
    given: Option<&str>,
) -> Result<Caller, Refusal> {
    if state.keys.is_empty() {
        return Ok(Caller(None));
    }
    let now = crate::service::now_ms();
    let counter = state.tasks.keys().auth_failures(address, now / 60_000);
    let mut redis = state.redis.clone();
    let failures: Option<u64> = redis.get(&counter).await.map_err(Refusal::storage)?;
    let limited = |now: u64| {
        let wait = 60 - (now / 1000) % 60;
        Refusal::new(Code::RateLimited,
            format!("more than {MAX_AUTH_FAILURES} failed authentications from this address this minute; retry in {wait} s"),
        )
        .retry_after(wait)
    };
    if failures.unwrap_or(0) >= MAX_AUTH_FAILURES {
        return Err(limited(now));
    }
    if let Some(key) = given.and_then(|g| find_key(&state.keys, g)) {
        return Ok(Caller(Some(key.clone())));
    }
    let (failures, _): (u64, i64) = redis::pipe()
        .incr(&counter, 1)
        .expire(&counter, 120)
        .query_async(&mut redis)
        .await
        .map_err(Refusal::storage)?;
    tracing::info!(address, failures, "authentication failed");
    if failures > MAX_AUTH_FAILURES {
        return Err(limited(now));
    }
    Err(Refusal::new(
        Code::Unauthorized,
        if given.is_some() {
            "the API key is not valid"
        } else {
            "send an API key: Authorization: Bearer <key>"
        },
    ))
}

/// The per-minute quota: 429 with `Retry-After` (the seconds to the next minute) when spent.
#[allow(clippy::result_large_err)]
pub(super) async fn rate(state: &AppState, key: &ApiKey) -> Result<(), Response> {
    let mut redis = state.redis.clone();
    let now = now_ms();
    let minute = now / 60_000;
    let counter = state.tasks.keys().rate(&key.name, minute);
    let (used,): (u64,) = redis::pipe()
        .incr(&counter, 1)
        .expire(&counter, 120)
        .ignore()
        .query_async(&mut redis)
        .await
        .map_err(storage)?;
    if used > key.per_minute {
        let wait = 60 - (now / 1000) % 60;
        return Err(fail_retry(
            Code::RateLimited,
            format!(
                "{} tasks a minute for this key; retry in {wait} s",
                key.per_minute
            ),
            wait,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_found_by_its_hash_and_no_other_is() {
        let (key, entry) = new_api_key("ci", Role::Admin);
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(entry["keySha256"].as_str().unwrap(), &mut sha256).unwrap();
        let keys = vec![ApiKey {
            name: "ci".into(),
            sha256,
            role: Role::Admin,
            max_active: 1,
            per_minute: 1,
        }];
        assert_eq!(find_key(&keys, &key).map(|k| k.name.as_str()), Some("ci"));
        assert!(find_key(&keys, &format!("{key}x")).is_none());
        assert!(find_key(&keys, "").is_none());
        assert_eq!(entry["role"], "admin");
    }
}
