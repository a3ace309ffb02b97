//! What a claim app needs of a campaign, for JS: the published tree hashed in Rust
//! ([`CampaignTree`], over [`PublishedTree`]), an identity's attestations with their Merkle paths,
//! and the smallest threshold circuit that proves a claim ([`smallest_circuit`]). Thin: parsing
//! the JS values and shaping the results; the tree and the choice are plain Rust in `tree/` and
//! `circuit/choice.rs`.

use js_sys::Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::error::{bad_argument, to_js, JsResult};
use super::hash::to_json_number;
use super::js::{object, to_js_value};
use super::prover::json_text;
use crate::circuit::choice::{self, Weighted};
use crate::field::{fr_to_hex, parse_bounded, parse_fr};
use crate::tree::published::{Holdings, PublishedTree};

#[wasm_bindgen(typescript_custom_section)]
const TS_CAMPAIGN: &str = r#"
/** The tree file an operator publishes (`airprover sample` writes one: NAME.tree.json). */
export interface CampaignTreeFile {
  depth: number;
  root: string;
  /** In index order from 0. */
  leaves: { index: number; attester: string; subject: string; weight: number }[];
}

/** An attestation as the claim input lists it. */
export interface ClaimAttestation {
  index: number;
  attester: string;
  weight: number;
  /** D siblings, leaf level first. */
  siblings: string[];
}

/** An identity in a campaign's tree: its commitment and its attestations, in leaf order. */
export interface CampaignIdentity {
  commitment: string;
  attestations: ClaimAttestation[];
  /** The sum of their weights. */
  score: number;
}

/** A threshold circuit of the tree's depth. */
export interface ThresholdCircuit {
  id: string;
  k: number;
}

/** What `smallestCircuit` reads of an attestation (the objects it returns are the ones given). */
export interface WeightedAttestation {
  index: number | string;
  weight: number | string;
}

/** The circuit a claim is proved with, and what it keeps. */
export interface CircuitChoice extends ThresholdCircuit {
  /** The K heaviest attestations (ties: the lower index), in leaf order: the claim's. */
  attestations: WeightedAttestation[];
  /** The sum of their weights. */
  score: number;
  /** Whether `score` reaches the threshold. */
  reached: boolean;
}
"#;

/// A campaign's published tree, hashed: its root recomputed, and each identity's attestations
/// with their Merkle paths.
#[wasm_bindgen]
pub struct CampaignTree {
    tree: PublishedTree,
}

#[wasm_bindgen]
impl CampaignTree {
    /// Reads and hashes a tree file (its JSON text or the parsed object). A malformed file throws
    /// `INVALID_JSON` or `INVALID_INPUT` naming the field (`leaves[3].weight`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "CampaignTreeFile | string")] tree: JsValue,
    ) -> JsResult<CampaignTree> {
        let text = json_text(tree, "tree")?;
        Ok(CampaignTree {
            tree: PublishedTree::from_json(&text).map_err(to_js)?,
        })
    }

    /// The tree's depth D.
    #[wasm_bindgen(getter)]
    pub fn depth(&self) -> u32 {
        self.tree.depth()
    }

    /// The number of attestations.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> u32 {
        self.tree.len() as u32
    }

    /// The published root, `0x` and 64 hex digits: what claims are made against.
    #[wasm_bindgen(getter)]
    pub fn root(&self) -> String {
        fr_to_hex(&self.tree.root())
    }

    /// The root the leaves hash to, `0x` and 64 hex digits: `root` unless the file is corrupt or
    /// stale.
    #[wasm_bindgen(getter, js_name = computedRoot)]
    pub fn computed_root(&self) -> String {
        fr_to_hex(&self.tree.computed_root())
    }

    /// The identity of `secret` (a field element as the claim spec spells it): its commitment and
    /// every attestation of the tree whose subject it is, with its path, as the claim input wants
    /// them. Throws `INVALID_INPUT` for a bad secret (its value never shows).
    #[wasm_bindgen(js_name = attestationsOf, unchecked_return_type = "CampaignIdentity")]
    pub fn attestations_of(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | number")] secret: JsValue,
    ) -> JsResult<JsValue> {
        let secret = parse_fr(&to_json_number(&secret, "secret")?, "secret").map_err(to_js)?;
        Ok(to_js_value(&IdentityJs::from(self.tree.holdings(secret))))
    }
}

#[derive(Serialize)]
struct IdentityJs {
    commitment: String,
    attestations: Vec<AttestationJs>,
    score: u64,
}

#[derive(Serialize)]
struct AttestationJs {
    index: u64,
    attester: String,
    weight: u32,
    siblings: Vec<String>,
}

impl From<Holdings> for IdentityJs {
    fn from(h: Holdings) -> Self {
        IdentityJs {
            commitment: fr_to_hex(&h.commitment),
            score: h.attestations.iter().map(|a| u64::from(a.weight)).sum(),
            attestations: h
                .attestations
                .into_iter()
                .map(|a| AttestationJs {
                    index: a.index,
                    attester: fr_to_hex(&a.attester),
                    weight: a.weight,
                    siblings: a.siblings.iter().map(fr_to_hex).collect(),
                })
                .collect(),
        }
    }
}

/// `thresholdCircuits(circuitIds, depth)`: the `threshold-d{depth}-k{K}` circuits among
/// `circuitIds` (a key manifest's, say), smallest K first. Other circuits are left out; an id
/// that names no circuit throws `UNKNOWN_CIRCUIT`.
#[wasm_bindgen(js_name = thresholdCircuits, unchecked_return_type = "ThresholdCircuit[]")]
pub fn threshold_circuits(
    #[wasm_bindgen(js_name = circuitIds, unchecked_param_type = "string[]")] circuit_ids: JsValue,
    depth: f64,
) -> JsResult<JsValue> {
    let ids = circuit_id_list(&circuit_ids)?;
    let circuits = choice::threshold_circuits(&ids, tree_depth(depth)?).map_err(to_js)?;
    Ok(circuits
        .iter()
        .map(|c| object(&[("id", c.id.to_string().into()), ("k", c.slots.into())]))
        .collect::<Array>()
        .into())
}

/// `smallestCircuit(circuitIds, attestations, threshold, depth)`: the smallest threshold circuit
/// of `depth` among `circuitIds` whose K heaviest `attestations` reach `threshold` (the fastest
/// proof), or the largest when none does (proving it then fails with `SCORE_NOT_MET`, as it
/// should); `null` when there is no threshold circuit of that depth. The choice's `attestations`
/// are the ones given (the same objects), the K heaviest in leaf order: the claim's.
#[wasm_bindgen(js_name = smallestCircuit, unchecked_return_type = "CircuitChoice | null")]
pub fn smallest_circuit(
    #[wasm_bindgen(js_name = circuitIds, unchecked_param_type = "string[]")] circuit_ids: JsValue,
    #[wasm_bindgen(unchecked_param_type = "WeightedAttestation[]")] attestations: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | string")] threshold: JsValue,
    depth: f64,
) -> JsResult<JsValue> {
    let ids = circuit_id_list(&circuit_ids)?;
    let given = array(&attestations, "attestations")?;
    let weights = given
        .iter()
        .enumerate()
        .map(|(i, a)| weighted(&a, i))
        .collect::<JsResult<Vec<_>>>()?;
    let threshold =
        parse_bounded(&to_json_number(&threshold, "threshold")?, "threshold", 64).map_err(to_js)?;
    let Some(chosen) =
        choice::smallest_circuit(&ids, &weights, threshold, tree_depth(depth)?).map_err(to_js)?
    else {
        return Ok(JsValue::NULL);
    };
    let kept: Array = chosen.chosen.iter().map(|&p| given.get(p as u32)).collect();
    Ok(object(&[
        ("id", chosen.circuit.to_string().into()),
        ("k", chosen.slots.into()),
        ("attestations", kept.into()),
        // A sum of at most 64 weights below 2^32: well inside a safe integer.
        ("score", (chosen.score as f64).into()),
        ("reached", chosen.reaches.into()),
    ]))
}

fn array(value: &JsValue, argument: &str) -> JsResult<Array> {
    if Array::is_array(value) {
        Ok(Array::from(value))
    } else {
        Err(bad_argument(argument, "must be an array"))
    }
}

fn circuit_id_list(value: &JsValue) -> JsResult<Vec<String>> {
    array(value, "circuitIds")?
        .iter()
        .enumerate()
        .map(|(i, id)| {
            id.as_string()
                .ok_or_else(|| bad_argument(&format!("circuitIds[{i}]"), "must be a string"))
        })
        .collect()
}

/// `attestations[i]`'s index and weight, read as the claim spec reads them.
fn weighted(value: &JsValue, i: usize) -> JsResult<Weighted> {
    let field = |name: &str| -> JsResult<serde_json::Value> {
        let at = format!("attestations[{i}].{name}");
        let v = js_sys::Reflect::get(value, &name.into())
            .map_err(|_| bad_argument(&format!("attestations[{i}]"), "must be an object"))?;
        if v.is_undefined() {
            return Err(bad_argument(&at, "is missing"));
        }
        to_json_number(&v, &at)
    };
    let index = parse_bounded(&field("index")?, &format!("attestations[{i}].index"), 64);
    let weight = parse_bounded(&field("weight")?, &format!("attestations[{i}].weight"), 32);
    Ok(Weighted {
        index: index.map_err(to_js)?,
        weight: weight.map_err(to_js)? as u32,
    })
}

/// A depth from JS: a whole number (its range is the plain Rust's to check).
fn tree_depth(depth: f64) -> JsResult<u32> {
    if depth.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&depth) {
        Ok(depth as u32)
    } else {
        Err(bad_argument("depth", "must be a whole number"))
    }
}
