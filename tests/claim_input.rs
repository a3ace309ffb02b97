//! Every rule of the spec's "Validation of the claim input": each bad claim is rejected before
//! proving with a stable code and a message that names the field.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::{json, Value};

use airprover::circuit::CircuitId;
use airprover::claim::Claim;
use airprover::field::modulus;
use airprover::tree::sample;

fn valid(id: &str) -> Value {
    sample::sample(&id.parse::<CircuitId>().unwrap(), 10, 11)
        .unwrap()
        .claim
}

/// Applies `edit` to a valid claim and asserts the error's code and that its text names `field`.
fn rejects(id: &str, edit: impl FnOnce(&mut Value), code: &str, field: &str) {
    let mut claim = valid(id);
    edit(&mut claim);
    let err = Claim::from_value(&claim).expect_err(field);
    assert_eq!(err.code(), code, "{err}");
    assert!(
        err.to_string().contains(field),
        "{err} does not name {field}"
    );
}

#[test]
fn valid_claims_parse_in_every_spelling() {
    let claim = valid("threshold-d5-k3");
    let parsed = Claim::from_value(&claim).unwrap();
    // Decimal instead of hex, numbers as strings, keys reordered: the same claim.
    let canonical = parsed.to_canonical_json();
    let reparsed = Claim::from_value(&canonical).unwrap();
    assert_eq!(parsed, reparsed);
    let mut text = serde_json::to_string(&claim).unwrap();
    text = text.replace("\"index\":", "\"index\" :");
    assert_eq!(Claim::from_json(&text).unwrap(), parsed);
    let mut as_strings = claim.clone();
    as_strings["attestations"][0]["weight"] = json!(claim["attestations"][0]["weight"].to_string());
    assert_eq!(Claim::from_value(&as_strings).unwrap(), parsed);
}

#[test]
fn malformed_json() {
    for text in ["", "{", "[1,2]", "null", "{\"circuit\": }"] {
        let err = Claim::from_json(text).unwrap_err();
        assert!(
            ["INVALID_JSON", "INVALID_INPUT"].contains(&err.code().as_str()),
            "{text}: {err}"
        );
    }
}

#[test]
fn missing_and_unknown_fields() {
    for field in [
        "root",
        "secret",
        "campaignId",
        "claimant",
        "threshold",
        "attestations",
    ] {
        rejects(
            "threshold-d4-k2",
            |c| drop(c.as_object_mut().unwrap().remove(field)),
            "INVALID_INPUT",
            field,
        );
    }
    rejects(
        "threshold-d4-k2",
        |c| c["treshold"] = json!("1"),
        "INVALID_INPUT",
        "treshold",
    );
    // A threshold claim has no score, an exact claim no threshold.
    rejects(
        "threshold-d4-k2",
        |c| c["score"] = json!("1"),
        "INVALID_INPUT",
        "score",
    );
    rejects(
        "exact-d4-k2",
        |c| c["threshold"] = json!("1"),
        "INVALID_INPUT",
        "threshold",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["attestations"][0]["extra"] = json!(1),
        "INVALID_INPUT",
        "attestations[0].extra",
    );
    rejects(
        "threshold-d4-k2",
        |c| {
            drop(
                c["attestations"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("attester"),
            )
        },
        "INVALID_INPUT",
        "attestations[1].attester",
    );
}

#[test]
fn numbers() {
    let p = modulus().to_str_radix(10);
    rejects(
        "threshold-d4-k2",
        |c| c["root"] = json!(p),
        "INVALID_INPUT",
        "root",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["secret"] = json!("-5"),
        "INVALID_INPUT",
        "secret",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["campaignId"] = json!("0X1"),
        "INVALID_INPUT",
        "campaignId",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["campaignId"] = json!(1.5),
        "INVALID_INPUT",
        "campaignId",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["campaignId"] = json!(9007199254740992u64),
        "INVALID_INPUT",
        "campaignId",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["attestations"][0]["siblings"][2] = json!(""),
        "INVALID_INPUT",
        "attestations[0].siblings[2]",
    );
}

#[test]
fn ranges() {
    rejects(
        "threshold-d4-k2",
        |c| c["attestations"][1]["weight"] = json!(4294967296u64),
        "INVALID_INPUT",
        "attestations[1].weight",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["threshold"] = json!("18446744073709551616"),
        "INVALID_INPUT",
        "threshold",
    );
    rejects(
        "exact-d4-k2",
        |c| c["score"] = json!("0x10000000000000000"),
        "INVALID_INPUT",
        "score",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["claimant"] = json!(format!("0x1{}", "0".repeat(40))),
        "INVALID_INPUT",
        "claimant",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["attestations"][0]["index"] = json!(16),
        "INVALID_INPUT",
        "attestations[0].index",
    );
}

#[test]
fn circuit_ids() {
    for id in [
        "threshold-d0-k2",
        "threshold-d4-k65",
        "square-chain-8",
        "nope",
    ] {
        rejects(
            "threshold-d4-k2",
            |c| c["circuit"] = json!(id),
            "UNKNOWN_CIRCUIT",
            id,
        );
    }
    rejects(
        "threshold-d4-k2",
        |c| c["circuit"] = json!(5),
        "INVALID_INPUT",
        "circuit",
    );
}

#[test]
fn shape() {
    rejects(
        "threshold-d4-k2",
        |c| {
            c["attestations"][0]["siblings"]
                .as_array_mut()
                .unwrap()
                .pop()
                .map(drop)
                .unwrap()
        },
        "INVALID_INPUT",
        "attestations[0].siblings",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["attestations"] = json!([]),
        "INVALID_INPUT",
        "attestations",
    );
    rejects(
        "threshold-d4-k2",
        |c| {
            let extra = c["attestations"][0].clone();
            c["attestations"].as_array_mut().unwrap().push(extra);
        },
        "INVALID_INPUT",
        "attestations",
    );
    rejects(
        "threshold-d4-k2",
        |c| {
            let a = c["attestations"].as_array_mut().unwrap();
            a.swap(0, 1);
        },
        "INVALID_INPUT",
        "attestations[1].index",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["attestations"] = json!({}),
        "INVALID_INPUT",
        "attestations",
    );
}

#[test]
fn statement() {
    // A stale path: the error names the attestation whose path does not reach the root.
    rejects(
        "threshold-d4-k2",
        |c| c["attestations"][1]["siblings"][0] = json!("7"),
        "PATH_MISMATCH",
        "attestations[1]",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["root"] = json!("7"),
        "PATH_MISMATCH",
        "attestations[0]",
    );
    rejects(
        "threshold-d4-k2",
        |c| c["threshold"] = json!("1000000"),
        "SCORE_NOT_MET",
        "threshold",
    );
    rejects(
        "exact-d4-k2",
        |c| c["score"] = json!("1"),
        "SCORE_NOT_MET",
        "score",
    );
    // A weight changed in the claim no longer matches its leaf.
    rejects(
        "threshold-d4-k2",
        |c| c["attestations"][0]["weight"] = json!(1),
        "PATH_MISMATCH",
        "attestations[0]",
    );
}
