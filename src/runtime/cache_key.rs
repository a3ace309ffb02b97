//! The proof cache's key: which stored proof answers a claim.
//!
//! `SHA-256("airprover-proof-cache-v1" 0x00 circuit-id 0x00 vk-sha256 0x00 canonical-claim)`, in
//! lowercase hex. The canonical claim ([`Claim::to_canonical_json`]) spells every number in decimal
//! with a fixed key order, so two spellings of one claim (hex or decimal, any key order, a number
//! as a JSON number or a string) share a key, while any change that changes the statement (secret,
//! root, attestations, campaign, claimant, threshold) or the keys (a new verifying key) gives a new
//! one. The key is a hash: the secret it covers is not recoverable from it (the secret is a random
//! field element, far too many to try).

use sha2::{Digest, Sha256};

use crate::claim::Claim;

/// Bumped when the key's recipe changes, so old entries are simply never found again.
const DOMAIN: &[u8] = b"airprover-proof-cache-v1";

/// The cache key of `claim` proved under the verifying key whose file has SHA-256 `vk_sha256`
/// (hex, as the key manifest lists it; case does not matter).
pub fn proof_cache_key(claim: &Claim, vk_sha256: &str) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update([0]);
    h.update(claim.circuit.to_string().as_bytes());
    h.update([0]);
    h.update(vk_sha256.to_ascii_lowercase().as_bytes());
    h.update([0]);
    h.update(claim.to_canonical_json().to_string().as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;
    use crate::field::{fr_to_decimal, parse_fr};
    use crate::tree::sample::sample;

    const VK: &str = "3b0c5f1d6b0f4b5e9c1f0f0a7d3e2c1b0a9f8e7d6c5b4a392817161514131211";

    fn sample_value(circuit: &str, seed: u64) -> Value {
        sample(&circuit.parse().unwrap(), 6, seed).unwrap().claim
    }

    fn key_of(value: &Value) -> String {
        proof_cache_key(&Claim::from_value(value).unwrap(), VK)
    }

    /// Every hex field element of a JSON value respelled in decimal.
    fn to_decimal(v: &Value) -> Value {
        match v {
            Value::String(s) if s.starts_with("0x") => {
                Value::String(fr_to_decimal(&parse_fr(v, "x").unwrap()))
            }
            Value::Array(a) => Value::Array(a.iter().map(to_decimal).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), to_decimal(v))).collect())
            }
            other => other.clone(),
        }
    }

    /// The same object with its keys in reverse order, recursively.
    fn reversed(v: &Value) -> Value {
        match v {
            Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
            Value::Object(o) => {
                let mut m = Map::new();
                for (k, v) in o.iter().rev() {
                    m.insert(k.clone(), reversed(v));
                }
                Value::Object(m)
            }
            other => other.clone(),
        }
    }

    #[test]
    fn is_stable() {
        let v = sample_value("threshold-d4-k2", 1);
        let key = key_of(&v);
        assert_eq!(key.len(), 64);
        assert!(key
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(key, key_of(&v));
        // A fixed vector: a change of this value breaks every stored cache; do it on purpose
        // only, with a new DOMAIN.
        assert_eq!(
            key, "62d99162a8af1f431b7dd837d961b8e39669790f25adf6241cd35debb798d609",
            "the recipe of the cache key changed"
        );
    }

    #[test]
    fn ignores_spelling_and_key_order() {
        let v = sample_value("threshold-d4-k2", 2);
        let key = key_of(&v);
        assert!(v["root"].as_str().unwrap().starts_with("0x"));
        assert_eq!(key_of(&to_decimal(&v)), key, "decimal vs hex");
        assert_eq!(key_of(&reversed(&v)), key, "key order");
        let mut upper = v.clone();
        upper["root"] = Value::String(format!(
            "0x{}",
            v["root"].as_str().unwrap()[2..].to_ascii_uppercase()
        ));
        assert_eq!(key_of(&upper), key, "hex digits in either case");
        let campaign = to_decimal(&v["campaignId"]);
        let campaign = campaign.as_str().unwrap();
        let mut leading = v.clone();
        leading["campaignId"] = Value::String(format!("000{campaign}"));
        // The sample's campaign id is small enough for a JSON number.
        let mut number = v.clone();
        number["campaignId"] = Value::from(campaign.parse::<u64>().unwrap());
        assert_eq!(key_of(&leading), key, "leading zeros");
        assert_eq!(key_of(&number), key, "a JSON number");
        // The verifying key hash in either case.
        let claim = Claim::from_value(&v).unwrap();
        assert_eq!(proof_cache_key(&claim, &VK.to_ascii_uppercase()), key);
    }

    #[test]
    fn changes_with_anything_that_changes_the_proof() {
        let v = sample_value("threshold-d4-k2", 3);
        let claim = Claim::from_value(&v).unwrap();
        let key = key_of(&v);
        let mut seen = vec![key.clone()];
        let mut differs = |what: &str, other: String| {
            assert!(!seen.contains(&other), "{what} must change the key");
            seen.push(other);
        };
        let mut w = v.clone();
        w["campaignId"] = Value::String("123456".into());
        differs("campaignId", key_of(&w));
        let mut w = v.clone();
        w["claimant"] = Value::String("0xbeef".into());
        differs("claimant", key_of(&w));
        let mut w = v.clone();
        w["threshold"] = Value::String("1".into());
        differs("threshold", key_of(&w));
        // One attestation fewer (still over the lowered threshold).
        w["attestations"].as_array_mut().unwrap().pop();
        differs("attestations", key_of(&w));
        // Another secret, tree and root.
        differs(
            "secret and tree",
            key_of(&sample_value("threshold-d4-k2", 4)),
        );
        // Another circuit, of the same depth.
        differs("circuit", key_of(&sample_value("threshold-d4-k3", 3)));
        differs("exact rule", key_of(&sample_value("exact-d4-k2", 3)));
        // New keys for the same circuit.
        differs(
            "verifying key",
            proof_cache_key(&claim, &VK.replace('3', "4")),
        );
    }
}
