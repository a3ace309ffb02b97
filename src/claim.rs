//! The claim input (JSON) of the spec, parsed into typed values and validated before any proving.
//!
//! Every rule of the spec's "Validation of the claim input" is checked here, and each failure
//! names the field (and the attestation's position). Nothing is reduced, truncated or ignored:
//! unknown fields are errors, so a typo such as `treshold` cannot pass unnoticed.

use serde_json::{json, Map, Value};

use crate::circuit::id::{CircuitId, ScoreRule};
use crate::error::{Error, Result};
use crate::field::{self, Fr};
use crate::tree::{self, Attestation};

/// One of the claimant's attestations, with its Merkle path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedAttestation {
    /// Leaf index in the tree, below 2^D.
    pub index: u64,
    /// The attester.
    pub attester: Fr,
    /// The weight, below 2^32.
    pub weight: u32,
    /// D siblings, leaf level first.
    pub siblings: Vec<Fr>,
}

/// A validated claim: it satisfies its circuit's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The circuit (a threshold or exact claim circuit).
    pub circuit: CircuitId,
    /// Which rule `target` is.
    pub rule: ScoreRule,
    /// Tree depth D.
    pub depth: u32,
    /// Slots K.
    pub slots: u32,
    /// The published root.
    pub root: Fr,
    /// The claimant's secret.
    pub secret: Fr,
    /// The campaign.
    pub campaign_id: Fr,
    /// The receiving address, below 2^160.
    pub claimant: Fr,
    /// The threshold (threshold circuits) or the score (exact circuits), below 2^64.
    pub target: u64,
    /// 1..=K attestations, indices strictly increasing.
    pub attestations: Vec<ClaimedAttestation>,
}

const CLAIM_FIELDS: [&str; 7] = [
    "circuit",
    "root",
    "secret",
    "campaignId",
    "claimant",
    "attestations",
    "threshold|score",
];

impl Claim {
    /// Parses and validates a claim from its JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        let value = crate::json::parse_strict(text).map_err(|e| e.into_error("claim"))?;
        Self::from_value(&value)
    }

    /// Parses and validates a claim from a JSON value.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = field::json_object(value, "claim")?;
        let circuit_text = obj
            .get("circuit")
            .ok_or_else(|| Error::input("circuit", "is missing"))?
            .as_str()
            .ok_or_else(|| Error::input("circuit", "must be a string"))?;
        let circuit: CircuitId = circuit_text.parse()?;
        let CircuitId::Claim { rule, depth, slots } = circuit else {
            return Err(Error::UnknownCircuit {
                id: circuit_text.into(),
                reason: "not a claim circuit (threshold-d{D}-k{K} or exact-d{D}-k{K})".into(),
            });
        };
        let target_field = rule.field();
        for key in obj.keys() {
            let known = CLAIM_FIELDS[..6].contains(&key.as_str()) || key == target_field;
            if !known {
                return Err(Error::input(
                    key.as_str(),
                    format!(
                        "unknown field (a {} claim has: {})",
                        rule.prefix(),
                        field_list(rule)
                    ),
                ));
            }
        }
        let attestations = field::required(obj, "attestations", "attestations")?
            .as_array()
            .ok_or_else(|| Error::input("attestations", "must be an array"))?
            .iter()
            .enumerate()
            .map(|(i, a)| parse_attestation(a, i, depth))
            .collect::<Result<Vec<_>>>()?;
        let claim = Claim {
            circuit,
            rule,
            depth,
            slots,
            root: field::parse_fr(field::required(obj, "root", "root")?, "root")?,
            secret: field::parse_fr(field::required(obj, "secret", "secret")?, "secret")?,
            campaign_id: field::parse_fr(
                field::required(obj, "campaignId", "campaignId")?,
                "campaignId",
            )?,
            claimant: parse_claimant(field::required(obj, "claimant", "claimant")?)?,
            target: field::parse_bounded(
                field::required(obj, target_field, target_field)?,
                target_field,
                64,
            )?,
            attestations,
        };
        claim.check_statement()?;
        Ok(claim)
    }

    /// Checks the rules that span fields: slot count, index order, every path reaching the root,
    /// and the score rule.
    fn check_statement(&self) -> Result<()> {
        let m = self.attestations.len();
        if m == 0 || m > self.slots as usize {
            return Err(Error::input(
                "attestations",
                format!(
                    "has {m} entries; {} takes 1 to {}",
                    self.circuit, self.slots
                ),
            ));
        }
        for (i, pair) in self.attestations.windows(2).enumerate() {
            if pair[1].index <= pair[0].index {
                return Err(Error::input(
                    format!("attestations[{}].index", i + 1),
                    format!(
                        "indices must be strictly increasing: {} follows {}",
                        pair[1].index, pair[0].index
                    ),
                ));
            }
        }
        let subject = self.commitment();
        for (position, a) in self.attestations.iter().enumerate() {
            let leaf = Attestation {
                attester: a.attester,
                subject,
                weight: a.weight,
            }
            .leaf();
            if tree::root_from_path(leaf, a.index, &a.siblings) != self.root {
                return Err(Error::PathMismatch {
                    position,
                    index: a.index,
                });
            }
        }
        let sum = self.sum();
        let holds = match self.rule {
            ScoreRule::Threshold => sum >= self.target,
            ScoreRule::Exact => sum == self.target,
        };
        if !holds {
            let rule = match self.rule {
                ScoreRule::Threshold => "reach the threshold",
                ScoreRule::Exact => "equal the score",
            };
            return Err(Error::ScoreNotMet {
                sum,
                rule,
                target: self.target,
            });
        }
        Ok(())
    }

    /// Sum of the weights (at most 64 * (2^32 - 1): no overflow).
    pub fn sum(&self) -> u64 {
        self.attestations.iter().map(|a| u64::from(a.weight)).sum()
    }

    /// The identity commitment `Poseidon([secret])`.
    pub fn commitment(&self) -> Fr {
        tree::commitment(self.secret)
    }

    /// The nullifier `Poseidon([secret, campaignId])`.
    pub fn nullifier(&self) -> Fr {
        tree::nullifier(self.secret, self.campaign_id)
    }

    /// The public signals, in the spec's order: root, campaignId, claimant, nullifier, threshold
    /// (or score).
    pub fn public_signals(&self) -> Vec<Fr> {
        vec![
            self.root,
            self.campaign_id,
            self.claimant,
            self.nullifier(),
            Fr::from(self.target),
        ]
    }

    /// The claim as canonical JSON: fixed key order, field elements in decimal. Two inputs that
    /// spell the same claim differently (hex vs decimal, key order) give the same text.
    pub fn to_canonical_json(&self) -> Value {
        let dec = field::fr_to_decimal;
        let attestations: Vec<Value> = self
            .attestations
            .iter()
            .map(|a| {
                json!({
                    "index": a.index,
                    "attester": dec(&a.attester),
                    "weight": a.weight,
                    "siblings": a.siblings.iter().map(dec).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut obj = Map::new();
        obj.insert("circuit".into(), json!(self.circuit.to_string()));
        obj.insert("root".into(), json!(dec(&self.root)));
        obj.insert("secret".into(), json!(dec(&self.secret)));
        obj.insert("campaignId".into(), json!(dec(&self.campaign_id)));
        obj.insert("claimant".into(), json!(dec(&self.claimant)));
        obj.insert(self.rule.field().into(), json!(self.target.to_string()));
        obj.insert("attestations".into(), Value::Array(attestations));
        Value::Object(obj)
    }
}

fn field_list(rule: ScoreRule) -> String {
    let mut names: Vec<&str> = CLAIM_FIELDS[..6].to_vec();
    names.push(rule.field());
    names.join(", ")
}

fn parse_claimant(value: &Value) -> Result<Fr> {
    let n = field::parse_uint(value, "claimant")?;
    if n.bits() > 160 {
        return Err(Error::input("claimant", "must be an address: below 2^160"));
    }
    Ok(Fr::from(n))
}

fn parse_attestation(value: &Value, i: usize, depth: u32) -> Result<ClaimedAttestation> {
    let at = |key: &str| format!("attestations[{i}].{key}");
    let obj = field::json_object(value, &format!("attestations[{i}]"))?;
    for key in obj.keys() {
        if !["index", "attester", "weight", "siblings"].contains(&key.as_str()) {
            return Err(Error::input(
                at(key),
                "unknown field (an attestation has: index, attester, weight, siblings)",
            ));
        }
    }
    let get = |key: &str| {
        obj.get(key)
            .ok_or_else(|| Error::input(at(key), "is missing"))
    };
    let index = field::parse_uint(get("index")?, &at("index"))?;
    if index.bits() > u64::from(depth) {
        return Err(Error::input(
            at("index"),
            format!("must be below 2^{depth} (the tree's depth)"),
        ));
    }
    let siblings_value = get("siblings")?;
    let siblings = siblings_value
        .as_array()
        .ok_or_else(|| Error::input(at("siblings"), "must be an array"))?;
    if siblings.len() != depth as usize {
        return Err(Error::input(
            at("siblings"),
            format!(
                "has {} entries; the tree's depth is {depth}",
                siblings.len()
            ),
        ));
    }
    Ok(ClaimedAttestation {
        index: u64::try_from(&index).expect("below 2^32"),
        attester: field::parse_fr(get("attester")?, &at("attester"))?,
        weight: field::parse_bounded(get("weight")?, &at("weight"), 32)? as u32,
        siblings: siblings
            .iter()
            .enumerate()
            .map(|(l, s)| field::parse_fr(s, &format!("{}[{l}]", at("siblings"))))
            .collect::<Result<_>>()?,
    })
}
