//! The start-up sweep of the browser's caches: which stored keys and proofs a new manifest makes
//! stale. The web layer reads the stores, asks [`plan`], and deletes what it names in the same
//! transaction.

use std::collections::HashSet;

use super::lru::LruEntry;

/// A stored proof record as the sweep sees it (read without decoding the proof).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredProof {
    /// The SHA-256 of the verifying key it was made under, if the record has one.
    pub vk_sha256: Option<String>,
    /// Its size and last use; `None` when the record lacks them (unreadable).
    pub entry: Option<LruEntry>,
}

/// What the start-up sweep removed and found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Keys of earlier manifests.
    pub keys: usize,
    /// Proofs made under verifying keys no longer listed, or unreadable.
    pub proofs: usize,
    /// Proof entries left.
    pub entries: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// The sweep's decision: positions (in the lists given to [`plan`]) to delete, and the counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepPlan {
    /// Stored keys to delete.
    pub keys: Vec<usize>,
    /// Stored proofs to delete.
    pub proofs: Vec<usize>,
    /// The counts the runtime reports.
    pub swept: Swept,
}

/// Drops a stored key whose name (its SHA-256) the manifest no longer lists, or that is no
/// string; drops a proof made under a verifying key the manifest no longer lists, or unreadable;
/// counts the proofs that stay.
pub fn plan(
    keys: &[Option<String>],
    proofs: &[StoredProof],
    listed_keys: &HashSet<String>,
    listed_vks: &HashSet<String>,
) -> SweepPlan {
    let mut out = SweepPlan::default();
    for (i, k) in keys.iter().enumerate() {
        if !k.as_ref().is_some_and(|k| listed_keys.contains(k)) {
            out.keys.push(i);
            out.swept.keys += 1;
        }
    }
    for (i, p) in proofs.iter().enumerate() {
        let current = p.vk_sha256.as_ref().is_some_and(|h| listed_vks.contains(h));
        match p.entry {
            Some(e) if current => {
                out.swept.entries += 1;
                out.swept.bytes += e.bytes;
            }
            _ => {
                out.proofs.push(i);
                out.swept.proofs += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn proof(vk: Option<&str>, bytes: Option<u64>) -> StoredProof {
        StoredProof {
            vk_sha256: vk.map(str::to_string),
            entry: bytes.map(|bytes| LruEntry { bytes, tick: 1 }),
        }
    }

    #[test]
    fn keys_of_earlier_manifests_and_unnamed_keys_go() {
        let keys = [
            Some("aa".into()),
            Some("bb".into()),
            None,
            Some("cc".into()),
        ];
        let p = plan(&keys, &[], &set(&["aa", "cc"]), &set(&[]));
        assert_eq!(p.keys, [1, 2]);
        assert_eq!(p.swept.keys, 2);
        assert!(p.proofs.is_empty());
    }

    #[test]
    fn proofs_under_unlisted_or_missing_vks_and_unreadable_ones_go_the_rest_are_counted() {
        let proofs = [
            proof(Some("v1"), Some(100)),
            proof(Some("old"), Some(50)),
            proof(None, Some(7)),
            proof(Some("v1"), None),
            proof(Some("v2"), Some(20)),
        ];
        let p = plan(&[], &proofs, &set(&[]), &set(&["v1", "v2"]));
        assert_eq!(p.proofs, [1, 2, 3]);
        assert_eq!(
            p.swept,
            Swept {
                keys: 0,
                proofs: 3,
                entries: 2,
                bytes: 120
            }
        );
    }

    #[test]
    fn an_empty_store_sweeps_nothing() {
        assert_eq!(
            plan(&[], &[], &set(&["a"]), &set(&["b"])),
            SweepPlan::default()
        );
    }
}
