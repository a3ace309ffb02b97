//! The tree file an operator publishes, read back: the attestations, the tree over them, and one
//! identity's attestations with their Merkle paths, as the claim input wants them.
//!
//! The file is what `airprover sample` writes next to a claim (`NAME.tree.json`):
//! `{ depth, root, leaves: [{ index, attester, subject, weight }] }`, leaves in index order from 0.
//! Numbers are read as the claim spec reads them ([`crate::field`]), and an unknown field is an
//! error, as in a claim.

use serde_json::{Map, Value};

use super::{commitment, Attestation, MerkleTree};
use crate::error::{Error, Result};
use crate::field::{json_object, parse_bounded, parse_fr, required, Fr};

/// A published tree, hashed: the published root next to the root its leaves hash to.
#[derive(Debug, Clone)]
pub struct PublishedTree {
    root: Fr,
    leaves: Vec<Attestation>,
    tree: MerkleTree,
}

/// One of an identity's attestations, as the claim input lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldAttestation {
    /// Leaf index.
    pub index: u64,
    /// The attester.
    pub attester: Fr,
    /// The weight.
    pub weight: u32,
    /// D siblings, leaf level first.
    pub siblings: Vec<Fr>,
}

/// An identity's commitment and every attestation of the tree whose subject it is, in leaf order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    /// `Poseidon([secret])`.
    pub commitment: Fr,
    /// Its attestations with their paths.
    pub attestations: Vec<HeldAttestation>,
}

const TREE_FIELDS: [&str; 3] = ["depth", "root", "leaves"];
const LEAF_FIELDS: [&str; 4] = ["index", "attester", "subject", "weight"];

impl PublishedTree {
    /// Reads a tree file's text. Not [`crate::json::parse_strict`]: a tree of 10,000 attestations
    /// is about 2 MB, twice that parser's limit for claims and proofs.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::InvalidJson {
            what: format!("tree: {e}"),
        })?;
        Self::from_value(&value)
    }

    /// Reads a parsed tree file and hashes its tree.
    pub fn from_value(value: &Value) -> Result<Self> {
        let file = object(value, "tree", &TREE_FIELDS)?;
        let depth = parse_bounded(required(file, "depth", "depth")?, "depth", 32)? as u32;
        let root = parse_fr(required(file, "root", "root")?, "root")?;
        let Value::Array(items) = required(file, "leaves", "leaves")? else {
            return Err(Error::input("leaves", "must be an array"));
        };
        let leaves = items
            .iter()
            .enumerate()
            .map(|(i, item)| leaf(item, i))
            .collect::<Result<Vec<_>>>()?;
        let tree = MerkleTree::new(depth, leaves.iter().map(Attestation::leaf).collect())?;
        Ok(PublishedTree { root, leaves, tree })
    }

    /// The tree's depth D.
    pub fn depth(&self) -> u32 {
        self.tree.depth()
    }

    /// Number of attestations.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Whether it has no attestation.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The root the operator published (what claims are made against).
    pub fn root(&self) -> Fr {
        self.root
    }

    /// The root the leaves hash to: equal to [`root`](Self::root) unless the file is corrupt or
    /// stale.
    pub fn computed_root(&self) -> Fr {
        self.tree.root()
    }

    /// The commitment of `secret` and the attestations whose subject it is, each with its path.
    pub fn holdings(&self, secret: Fr) -> Holdings {
        let commitment = commitment(secret);
        let attestations = self
            .leaves
            .iter()
            .enumerate()
            .filter(|(_, a)| a.subject == commitment)
            .map(|(i, a)| HeldAttestation {
                index: i as u64,
                attester: a.attester,
                weight: a.weight,
                siblings: self
                    .tree
                    .path(i as u64)
                    .expect("a published leaf is in the tree"),
            })
            .collect();
        Holdings {
            commitment,
            attestations,
        }
    }
}

/// `leaves[i]`, whose index must be `i` (the tree is over the leaves in published order).
fn leaf(item: &Value, i: usize) -> Result<Attestation> {
    let at = format!("leaves[{i}]");
    let fields = object(item, &at, &LEAF_FIELDS)?;
    let get = |name: &str| {
        let field = format!("{at}.{name}");
        required(fields, name, &field).map(|v| (v, field))
    };
    let (index, field) = get("index")?;
    if parse_bounded(index, &field, 64)? != i as u64 {
        return Err(Error::input(
            field,
            format!("must be {i}: leaves are listed in index order from 0"),
        ));
    }
    let (attester, field) = get("attester")?;
    let attester = parse_fr(attester, &field)?;
    let (subject, field) = get("subject")?;
    let subject = parse_fr(subject, &field)?;
    let (weight, field) = get("weight")?;
    let weight = parse_bounded(weight, &field, 32)? as u32;
    Ok(Attestation {
        attester,
        subject,
        weight,
    })
}

/// `value` as an object with no field outside `known`.
fn object<'a>(value: &'a Value, at: &str, known: &[&str]) -> Result<&'a Map<String, Value>> {
    let fields = json_object(value, at)?;
    if let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Error::input(
            format!("{at}.{unknown}"),
            format!("is not a field (expected {})", known.join(", ")),
        ));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::Claim;
    use crate::tree::sample::sample;
    use serde_json::json;

    #[test]
    fn a_sampled_tree_reads_back_to_its_claim() {
        let s = sample(&"threshold-d6-k3".parse().unwrap(), 20, 4).unwrap();
        let tree = PublishedTree::from_value(&s.tree).unwrap();
        let claim = Claim::from_value(&s.claim).unwrap();
        assert_eq!((tree.depth(), tree.len()), (6, 20));
        assert_eq!(tree.root(), claim.root);
        assert_eq!(tree.computed_root(), claim.root);
        // The claimant's attestations, paths and all, are exactly the sampled claim's.
        let held = tree.holdings(claim.secret);
        assert_eq!(held.commitment, claim.commitment());
        let claimed: Vec<HeldAttestation> = claim
            .attestations
            .iter()
            .map(|a| HeldAttestation {
                index: a.index,
                attester: a.attester,
                weight: a.weight,
                siblings: a.siblings.clone(),
            })
            .collect();
        assert_eq!(held.attestations, claimed);
        // Text reads the same.
        let text = PublishedTree::from_json(&s.tree.to_string()).unwrap();
        assert_eq!(text.computed_root(), claim.root);
    }

    #[test]
    fn a_stranger_holds_nothing() {
        let s = sample(&"threshold-d4-k2".parse().unwrap(), 5, 1).unwrap();
        let tree = PublishedTree::from_value(&s.tree).unwrap();
        let held = tree.holdings(Fr::from(12345u64));
        assert_eq!(held.commitment, commitment(Fr::from(12345u64)));
        assert!(held.attestations.is_empty());
    }

    #[test]
    fn a_wrong_published_root_still_reads() {
        let mut file = sample(&"threshold-d4-k2".parse().unwrap(), 5, 1)
            .unwrap()
            .tree;
        file["root"] = json!("7");
        let tree = PublishedTree::from_value(&file).unwrap();
        assert_eq!(tree.root(), Fr::from(7u64));
        assert_ne!(tree.computed_root(), tree.root());
    }

    /// What is wrong, how to spoil a good file so, and the field the error names.
    type Case = (&'static str, fn(&mut Value), &'static str);

    #[test]
    fn bad_files_name_the_field() {
        let good = sample(&"threshold-d4-k2".parse().unwrap(), 5, 1)
            .unwrap()
            .tree;
        let cases: [Case; 8] = [
            ("depth 0", |t| t["depth"] = json!(0), "depth"),
            ("too many leaves", |t| t["depth"] = json!(2), "leaves"),
            (
                "no root",
                |t| drop(t.as_object_mut().unwrap().remove("root")),
                "root",
            ),
            ("a typo", |t| t["lefs"] = json!([]), "tree.lefs"),
            (
                "a gap",
                |t| t["leaves"][2]["index"] = json!(3),
                "leaves[2].index",
            ),
            (
                "a heavy weight",
                |t| t["leaves"][1]["weight"] = json!(1u64 << 32),
                "leaves[1].weight",
            ),
            (
                "a float",
                |t| t["leaves"][0]["weight"] = json!(1.5),
                "leaves[0].weight",
            ),
            (
                "an unknown leaf field",
                |t| t["leaves"][4]["note"] = json!(""),
                "leaves[4].note",
            ),
        ];
        for (what, spoil, field) in cases {
            let mut file = good.clone();
            spoil(&mut file);
            let e = PublishedTree::from_value(&file).unwrap_err();
            assert_eq!(e.code(), "INVALID_INPUT", "{what}: {e}");
            assert!(e.to_string().contains(field), "{what}: {e}");
        }
        let e = PublishedTree::from_json("{\"depth\": 4,").unwrap_err();
        assert_eq!(e.code(), "INVALID_JSON");
    }
}
