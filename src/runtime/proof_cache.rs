//! The proof cache's records and the checks a record must pass before it answers a claim.
//!
//! A record holds what a caller gets back (the snarkjs proof and the public signals) and what is
//! needed to tell it is the right one (its cache key, circuit and verifying-key hash), plus its
//! size and last use for [`super::lru`]. Never the secret or the attestations: the cache key is a
//! hash ([`super::cache_key`]).
//!
//! IndexedDB is writable by any script of the origin, so a record is checked before use: its
//! digest (catches corruption and careless edits), its key, circuit and verifying key (catches a
//! record filed under the wrong key, or one from older keys), its public signals against the
//! claim's own, and a Groth16 verification with the current verifying key against the claim's
//! public signals. The last one is what makes a hit trustworthy even against a deliberate edit
//! that recomputes the digest: a record that passes proves exactly this claim's statement.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::engine::Lookup;
use super::protocol::KeyEvent;
use super::statement::Statement;
use crate::claim::Claim;
use crate::prover::{export, verify, VerifyingKey};

/// Version of the record layout; a record of another version is treated as stale.
pub const RECORD_FORMAT: u32 = 1;

/// A cached proof, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProofRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// The cache key (hex SHA-256).
    pub key: String,
    /// The circuit id.
    pub circuit: String,
    /// SHA-256 of the verifying key file the proof was checked against (hex).
    pub vk_sha256: String,
    /// snarkjs `proof.json`.
    pub proof: Value,
    /// snarkjs `public.json`.
    pub public_signals: Vec<String>,
    /// Size of the record's content in bytes (what the byte bound counts).
    pub bytes: u64,
    /// Logical time of the last insert or hit (see [`super::lru`]).
    pub last_used: u64,
    /// SHA-256 over the fields above except `bytes` and `last_used` (hex).
    pub digest: String,
}

/// Why a stored record was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Written by another layout version, or under other keys: no longer answers anything.
    Stale(String),
    /// Its content was changed or damaged.
    Tampered(String),
}

impl Rejection {
    /// In words.
    pub fn message(&self) -> &str {
        match self {
            Rejection::Stale(m) | Rejection::Tampered(m) => m,
        }
    }
}

impl ProofRecord {
    /// A record for a proof just made and verified.
    pub fn new(
        key: String,
        circuit: String,
        vk_sha256: String,
        proof: Value,
        public_signals: Vec<String>,
    ) -> Self {
        let mut r = ProofRecord {
            format: RECORD_FORMAT,
            key,
            circuit,
            vk_sha256: vk_sha256.to_ascii_lowercase(),
            proof,
            public_signals,
            bytes: 0,
            last_used: 0,
            digest: String::new(),
        };
        r.digest = r.compute_digest();
        r.bytes = r.content_bytes();
        r
    }

    /// The record filed under `key` instead (its digest recomputed): a circom input's key is
    /// the web layer's keyed hash, made after the engine built the record.
    pub fn refile(mut self, key: String) -> Self {
        self.key = key;
        self.digest = self.compute_digest();
        self.bytes = self.content_bytes();
        self
    }

    /// The digest the record's content should have.
    pub fn compute_digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            &self.format.to_string(),
            &self.key,
            &self.circuit,
            &self.vk_sha256,
            &self.proof.to_string(),
            &self.public_signals.join(","),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    /// Bytes of the content: the proof and signals as JSON plus the key fields.
    fn content_bytes(&self) -> u64 {
        (self.key.len()
            + self.circuit.len()
            + self.vk_sha256.len()
            + self.digest.len()
            + self.proof.to_string().len()
            + serde_json::to_string(&self.public_signals)
                .map(|s| s.len())
                .unwrap_or(0)) as u64
    }

    /// Checks the record before it answers `claim` under cache key `key` and the current
    /// verifying key (`vk`, whose file has SHA-256 `vk_sha256`). `Ok` means the proof verifies
    /// for exactly this claim's public signals.
    pub fn check(
        &self,
        key: &str,
        claim: &Claim,
        vk_sha256: &str,
        vk: &VerifyingKey,
    ) -> Result<(), Rejection> {
        self.check_statement(key, &Statement::Claim(claim.clone()), vk_sha256, vk)
    }

    /// [`ProofRecord::check`] for any statement. A circom circuit's public signals are known only
    /// from its witness: its record's own are checked by the proof's verification, and the cache
    /// key (a keyed hash of the input, see [`super::statement`]) binds the record to the input.
    pub fn check_statement(
        &self,
        key: &str,
        statement: &Statement,
        vk_sha256: &str,
        vk: &VerifyingKey,
    ) -> Result<(), Rejection> {
        if self.format != RECORD_FORMAT {
            return Err(Rejection::Stale(format!(
                "record format {}, this airprover writes {RECORD_FORMAT}",
                self.format
            )));
        }
        if self.digest != self.compute_digest() {
            return Err(Rejection::Tampered(
                "the record does not match its digest".into(),
            ));
        }
        if self.key != key {
            return Err(Rejection::Tampered(
                "the record is filed under another cache key".into(),
            ));
        }
        let circuit = statement.circuit().to_string();
        if self.circuit != circuit {
            return Err(Rejection::Tampered(format!(
                "the record is for {}, the statement for {circuit}",
                self.circuit
            )));
        }
        if !self.vk_sha256.eq_ignore_ascii_case(vk_sha256) {
            return Err(Rejection::Stale(
                "the record was made with other keys".into(),
            ));
        }
        let public = match statement.claim() {
            Some(claim) => {
                let public = claim.public_signals();
                if self.public_signals != export::public_to_json(&public) {
                    return Err(Rejection::Tampered(
                        "its public signals are not the claim's".into(),
                    ));
                }
                public
            }
            None => export::public_from_value(&Value::from(self.public_signals.clone()))
                .map_err(|e| Rejection::Tampered(format!("its public signals: {e}")))?,
        };
        let proof = export::proof_from_value(&self.proof)
            .map_err(|e| Rejection::Tampered(format!("its proof is malformed: {e}")))?;
        match verify::verify(vk, &public, &proof) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Rejection::Tampered(
                "its proof does not verify against the current verifying key".into(),
            )),
            Err(e) => Err(Rejection::Tampered(format!(
                "its proof does not verify: {e}"
            ))),
        }
    }
}

impl ProofRecord {
    /// What a hit answers the job with: snarkjs's `{ proof, publicSignals }`.
    pub fn result(&self) -> Value {
        serde_json::json!({ "proof": self.proof, "publicSignals": self.public_signals })
    }
}

/// What the proof cache holds under a lookup's key, as the storage read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// No record.
    Nothing,
    /// The store could not be read (the web layer notes why in the status).
    ReadFailed,
    /// A record that does not read as a [`ProofRecord`] (why, in words).
    Unreadable(String),
    /// A record.
    Record(ProofRecord),
}

/// What a lookup does with what it found.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheVerdict {
    /// Prove; the stored entry, if any, stays.
    Miss,
    /// Answer with the record, marked as just used (an LRU hit).
    Hit(ProofRecord),
    /// Delete the stored entry, which failed a check, and prove.
    Evict(Rejection),
}

impl CacheVerdict {
    /// The engine's answer for it.
    pub fn lookup(&self) -> Lookup {
        match self {
            CacheVerdict::Miss => Lookup::Miss,
            CacheVerdict::Hit(record) => Lookup::Hit(record.result()),
            CacheVerdict::Evict(why) => Lookup::Rejected(why.message().to_string()),
        }
    }
}

/// The proof cache's rule, first step: what a lookup does with what the store gave, before any
/// verifying key is loaded. Nothing there, or a store that cannot be read, is a miss; a record
/// that does not read as one is evicted as tampered (no key needed to tell); a record that reads
/// is `Err(record)`, for [`checked_verdict`].
pub fn read_verdict(stored: Stored) -> Result<CacheVerdict, Box<ProofRecord>> {
    match stored {
        Stored::Nothing | Stored::ReadFailed => Ok(CacheVerdict::Miss),
        Stored::Unreadable(why) => Ok(CacheVerdict::Evict(Rejection::Tampered(why))),
        Stored::Record(record) => Err(Box::new(record)),
    }
}

/// The proof cache's rule, second step: a record that reads, looked up under `key` for
/// `statement`, with the current verifying key (`vk`: its file's SHA-256 and the key; None when
/// it could not be loaded). A record that passes [`ProofRecord::check_statement`] is a hit; one
/// that does not is evicted. Without the verifying key nothing can be trusted, yet nothing is
/// known against the record either: a miss that keeps it (the key may load next time).
pub fn checked_verdict(
    record: ProofRecord,
    key: &str,
    statement: &Statement,
    vk: Option<(&str, &VerifyingKey)>,
) -> CacheVerdict {
    let Some((vk_sha256, vk)) = vk else {
        return CacheVerdict::Miss;
    };
    match record.check_statement(key, statement, vk_sha256, vk) {
        Ok(()) => CacheVerdict::Hit(record),
        Err(why) => CacheVerdict::Evict(why),
    }
}

/// Cache counters for UIs: what is stored and how it is used. Entries and bytes are what the
/// store held after this runtime's last change (other tabs may have changed it since); the
/// counters are this runtime's.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheStats {
    /// Whether the proof cache is in use.
    pub enabled: bool,
    /// Cached proofs.
    pub entries: usize,
    /// Their bytes.
    pub bytes: u64,
    /// The count bound.
    pub max_entries: usize,
    /// The byte bound.
    pub max_bytes: u64,
    /// Claims answered from the cache.
    pub hits: u64,
    /// Claims that had to be proved.
    pub misses: u64,
    /// hits / (hits + misses); None before any lookup.
    pub hit_rate: Option<f64>,
    /// Entries evicted by the LRU bounds.
    pub evictions: u64,
    /// Entries found tampered or stale, dropped and recomputed.
    pub rejected: u64,
    /// The proving-key cache.
    pub keys: KeyCacheStats,
}

/// Proving-key cache counters (this runtime's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCacheStats {
    /// Whether keys are kept in IndexedDB.
    pub enabled: bool,
    /// Keys read from IndexedDB (and found intact).
    pub hits: u64,
    /// Keys downloaded.
    pub downloads: u64,
    /// Stored keys whose bytes did not match the manifest: dropped and downloaded again.
    pub integrity_failures: u64,
    /// Keys of older manifests evicted at start.
    pub evicted: u64,
}

impl CacheStats {
    /// Recomputes the hit rate.
    pub fn update_rate(&mut self) {
        let n = self.hits + self.misses;
        self.hit_rate = (n > 0).then(|| self.hits as f64 / n as f64);
    }

    /// Counts a lookup's answer: a rejected record is a miss too, and no longer stored.
    pub fn count(&mut self, lookup: &Lookup) {
        match lookup {
            Lookup::Hit(_) => self.hits += 1,
            Lookup::Miss => self.misses += 1,
            Lookup::Rejected(_) => {
                self.misses += 1;
                self.rejected += 1;
                self.entries = self.entries.saturating_sub(1);
            }
        }
        self.update_rate();
    }

    /// Counts a committed insert: what the store holds after it, and the entries the LRU bounds
    /// evicted for it.
    pub fn inserted(&mut self, entries: usize, bytes: u64, evicted: usize) {
        self.entries = entries;
        self.bytes = bytes;
        self.evictions += evicted as u64;
    }
}

impl KeyCacheStats {
    /// Counts a key load (a worker's, or the page's verifying key): read from the cache, or
    /// downloaded; a stored copy dropped for not matching its pin is an integrity failure.
    pub fn count(&mut self, event: &KeyEvent) {
        match event.source.as_deref() {
            Some("cache") => self.hits += 1,
            Some("network") => self.downloads += 1,
            _ => {}
        }
        if event.evicted.is_some() {
            self.integrity_failures += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::prover::keys::{read_verifying_key, Validation};
    use crate::runtime::cache_key::proof_cache_key;
    use crate::runtime::test_proof::{claim, proved, CIRCUIT};

    struct Fixture {
        vk: VerifyingKey,
        vk_sha: String,
        claim: Claim,
        other: Claim,
        record: ProofRecord,
    }

    fn fixture() -> &'static Fixture {
        static F: OnceLock<Fixture> = OnceLock::new();
        F.get_or_init(|| {
            let (keys, out) = proved();
            let vk_sha = hex::encode(Sha256::digest(&keys.verifying_key));
            let vk = read_verifying_key(
                &keys.verifying_key,
                &CIRCUIT.parse().unwrap(),
                Validation::Checked,
            )
            .unwrap();
            let claim = claim(1);
            let record = ProofRecord::new(
                proof_cache_key(&claim, &vk_sha),
                CIRCUIT.into(),
                vk_sha.clone(),
                out.proof.clone(),
                out.public_signals.clone(),
            );
            Fixture {
                vk,
                vk_sha,
                claim,
                other: self::claim(2),
                record,
            }
        })
    }

    fn check(r: &ProofRecord, claim: &Claim) -> Result<(), Rejection> {
        let f = fixture();
        r.check(&proof_cache_key(claim, &f.vk_sha), claim, &f.vk_sha, &f.vk)
    }

    #[test]
    fn a_fresh_record_passes_and_holds_no_secret() {
        let f = fixture();
        check(&f.record, &f.claim).unwrap();
        let json = serde_json::to_string(&f.record).unwrap();
        let secret = crate::field::fr_to_decimal(&f.claim.secret);
        assert!(!json.contains(&secret), "the secret is not stored");
        for a in &f.claim.attestations {
            assert!(!json.contains(&crate::field::fr_to_decimal(&a.attester)));
        }
        assert!(json.contains("\"publicSignals\"") && json.contains("\"vkSha256\""));
        assert!(
            f.record.bytes > 500 && f.record.bytes < 4000,
            "{}",
            f.record.bytes
        );
        let back: ProofRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, &f.record);
    }

    #[test]
    fn an_edited_proof_is_caught_by_the_digest() {
        let f = fixture();
        let mut r = f.record.clone();
        r.proof["pi_a"][0] = Value::String("1".into());
        assert!(matches!(check(&r, &f.claim), Err(Rejection::Tampered(m)) if m.contains("digest")));
    }

    #[test]
    fn an_edit_with_a_recomputed_digest_is_caught_by_groth16() {
        let f = fixture();
        let mut r = f.record.clone();
        // Swap A and C: still points on the curve, still a well-formed proof.
        let a = r.proof["pi_a"].clone();
        r.proof["pi_a"] = r.proof["pi_c"].clone();
        r.proof["pi_c"] = a;
        r.digest = r.compute_digest();
        let err = check(&r, &f.claim).unwrap_err();
        assert!(err.message().contains("does not verify"), "{err:?}");
    }

    #[test]
    fn a_record_moved_to_another_claim_is_caught() {
        let f = fixture();
        // Filed under the other claim's key, digest recomputed: the key no longer matches.
        let mut r = f.record.clone();
        r.key = proof_cache_key(&f.other, &f.vk_sha);
        r.digest = r.compute_digest();
        let err = check(&r, &f.other).unwrap_err();
        assert!(err.message().contains("public signals"), "{err:?}");
        // Under its own key but looked up for another claim.
        let err = f
            .record
            .check(&f.record.key, &f.other, &f.vk_sha, &f.vk)
            .unwrap_err();
        assert!(err.message().contains("public signals"), "{err:?}");
        // Its key changed but not its digest.
        let mut r = f.record.clone();
        r.key = "00".repeat(32);
        assert!(check(&r, &f.claim).is_err());
    }

    #[test]
    fn a_record_of_older_keys_or_format_is_stale() {
        let f = fixture();
        let other_vk = "ab".repeat(32);
        let err = f
            .record
            .check(&f.record.key, &f.claim, &other_vk, &f.vk)
            .unwrap_err();
        assert!(matches!(err, Rejection::Stale(_)), "{err:?}");
        let mut r = f.record.clone();
        r.format = 0;
        assert!(matches!(check(&r, &f.claim), Err(Rejection::Stale(_))));
    }

    #[test]
    fn malformed_records_are_rejected_not_panicked_on() {
        let f = fixture();
        let mut r = f.record.clone();
        r.proof = Value::String("nonsense".into());
        r.digest = r.compute_digest();
        assert!(check(&r, &f.claim).is_err());
        let mut r = f.record.clone();
        r.public_signals.pop();
        r.digest = r.compute_digest();
        assert!(check(&r, &f.claim).is_err());
    }

    fn statement(claim: &Claim) -> Statement {
        Statement::Claim(claim.clone())
    }

    #[test]
    fn a_lookup_reads_nothing_or_a_failed_store_as_a_miss_and_an_unreadable_record_as_tampered() {
        assert_eq!(read_verdict(Stored::Nothing), Ok(CacheVerdict::Miss));
        assert_eq!(read_verdict(Stored::ReadFailed), Ok(CacheVerdict::Miss));
        let evicted = read_verdict(Stored::Unreadable("unreadable record: x".into())).unwrap();
        assert_eq!(
            evicted,
            CacheVerdict::Evict(Rejection::Tampered("unreadable record: x".into()))
        );
        assert_eq!(
            evicted.lookup(),
            Lookup::Rejected("unreadable record: x".into())
        );
        let f = fixture();
        assert_eq!(
            read_verdict(Stored::Record(f.record.clone())),
            Err(Box::new(f.record.clone())),
            "a record that reads is checked against the verifying key"
        );
    }

    #[test]
    fn a_record_that_passes_is_a_hit_with_its_proof() {
        let f = fixture();
        let verdict = checked_verdict(
            f.record.clone(),
            &f.record.key,
            &statement(&f.claim),
            Some((&f.vk_sha, &f.vk)),
        );
        assert_eq!(verdict, CacheVerdict::Hit(f.record.clone()));
        let Lookup::Hit(value) = verdict.lookup() else {
            panic!("{verdict:?}")
        };
        assert_eq!(value["proof"], f.record.proof);
        assert_eq!(
            value["publicSignals"],
            serde_json::json!(f.record.public_signals)
        );
    }

    #[test]
    fn a_record_that_fails_a_check_is_evicted() {
        let f = fixture();
        let mut edited = f.record.clone();
        edited.proof["pi_a"][0] = Value::String("1".into());
        let verdict = checked_verdict(
            edited,
            &f.record.key,
            &statement(&f.claim),
            Some((&f.vk_sha, &f.vk)),
        );
        assert!(
            matches!(&verdict, CacheVerdict::Evict(Rejection::Tampered(m)) if m.contains("digest")),
            "{verdict:?}"
        );
        // Another claim's lookup: evicted too (filed under a key it does not answer).
        let other = checked_verdict(
            f.record.clone(),
            &f.record.key,
            &statement(&f.other),
            Some((&f.vk_sha, &f.vk)),
        );
        assert!(matches!(other, CacheVerdict::Evict(_)), "{other:?}");
    }

    #[test]
    fn without_the_verifying_key_a_record_is_a_miss_and_kept() {
        let f = fixture();
        let mut edited = f.record.clone();
        edited.proof["pi_a"][0] = Value::String("1".into());
        for record in [f.record.clone(), edited] {
            let verdict = checked_verdict(record, &f.record.key, &statement(&f.claim), None);
            assert_eq!(
                verdict,
                CacheVerdict::Miss,
                "never evicted nor used unchecked"
            );
        }
    }

    #[test]
    fn lookups_are_counted_a_rejection_as_a_miss_that_leaves_the_store() {
        let mut s = CacheStats {
            entries: 2,
            ..CacheStats::default()
        };
        s.count(&Lookup::Hit(Value::Null));
        s.count(&Lookup::Miss);
        s.count(&Lookup::Rejected("tampered".into()));
        assert_eq!((s.hits, s.misses, s.rejected, s.entries), (1, 2, 1, 1));
        assert_eq!(s.hit_rate, Some(1.0 / 3.0));
        s.inserted(5, 900, 2);
        s.inserted(4, 800, 1);
        assert_eq!((s.entries, s.bytes, s.evictions), (4, 800, 3));
    }

    #[test]
    fn key_loads_are_counted_a_dropped_copy_as_an_integrity_failure() {
        use crate::runtime::protocol::DroppedKey;
        let mut k = KeyCacheStats::default();
        let event = |source: &str, evicted: bool| KeyEvent {
            source: Some(source.into()),
            evicted: evicted.then(|| DroppedKey {
                url: "/k.pk".into(),
                bytes: 3,
            }),
            store_error: None,
        };
        k.count(&event("cache", false));
        k.count(&event("network", false));
        k.count(&event("network", true));
        k.count(&KeyEvent::default());
        assert_eq!((k.hits, k.downloads, k.integrity_failures), (1, 2, 1));
    }

    #[test]
    fn hit_rate() {
        let mut s = CacheStats::default();
        s.update_rate();
        assert_eq!(s.hit_rate, None);
        s.hits = 3;
        s.misses = 1;
        s.update_rate();
        assert_eq!(s.hit_rate, Some(0.75));
    }
}
