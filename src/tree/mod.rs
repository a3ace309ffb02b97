//! The attestation tree: attestations, leaf hashing, a depth-D Poseidon Merkle tree over the
//! published leaves, and Merkle paths.
//!
//! Only the occupied part of each level is stored; everything to the right of the last leaf is an
//! empty subtree whose hash is precomputed per level, so a depth-32 tree over a few leaves costs
//! what its leaves cost.

pub mod published;
pub mod sample;

use crate::circuit::id::MAX_DEPTH;
use crate::error::{Error, Result};
use crate::field::Fr;
use crate::poseidon;

/// An attestation: `attester` vouches for `subject` with `weight` (< 2^32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attestation {
    /// Who attests (a field element chosen by the operator, e.g. an attester's id).
    pub attester: Fr,
    /// The identity commitment `Poseidon([secret])` of the attested identity.
    pub subject: Fr,
    /// The weight, below 2^32.
    pub weight: u32,
}

impl Attestation {
    /// The leaf: `Poseidon([attester, subject, weight])`.
    pub fn leaf(&self) -> Fr {
        poseidon::hash(&[self.attester, self.subject, Fr::from(self.weight)])
            .expect("arity 3 is supported")
    }
}

/// The identity commitment `C = Poseidon([secret])`.
pub fn commitment(secret: Fr) -> Fr {
    poseidon::hash(&[secret]).expect("arity 1 is supported")
}

/// The nullifier `Poseidon([secret, campaignId])`: one claim per identity per campaign.
pub fn nullifier(secret: Fr, campaign_id: Fr) -> Fr {
    poseidon::hash2(secret, campaign_id)
}

/// Hashes of empty subtrees: `empty[0] = 0` (an empty leaf), `empty[l+1] = H(empty[l], empty[l])`.
pub fn empty_hashes(depth: u32) -> Vec<Fr> {
    let mut empty = Vec::with_capacity(depth as usize + 1);
    empty.push(Fr::from(0u64));
    for l in 0..depth as usize {
        empty.push(poseidon::hash2(empty[l], empty[l]));
    }
    empty
}

/// A binary Poseidon Merkle tree of fixed depth over leaves in published order.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    depth: u32,
    /// `levels[0]` are the leaves, `levels[l]` the occupied nodes of level `l`.
    levels: Vec<Vec<Fr>>,
    empty: Vec<Fr>,
}

impl MerkleTree {
    /// Builds the tree over `leaves` (index 0, 1, ...); the rest are empty (0).
    pub fn new(depth: u32, leaves: Vec<Fr>) -> Result<Self> {
        if !(1..=MAX_DEPTH).contains(&depth) {
            return Err(Error::input(
                "depth",
                format!("{depth} is not in 1..={MAX_DEPTH}"),
            ));
        }
        if leaves.len() as u128 > 1u128 << depth {
            return Err(Error::input(
                "leaves",
                format!("{} leaves do not fit a tree of depth {depth}", leaves.len()),
            ));
        }
        let empty = empty_hashes(depth);
        let mut levels = vec![leaves];
        for l in 0..depth as usize {
            let below = &levels[l];
            let above = below
                .chunks(2)
                .map(|pair| poseidon::hash2(pair[0], pair.get(1).copied().unwrap_or(empty[l])))
                .collect();
            levels.push(above);
        }
        Ok(MerkleTree {
            depth,
            levels,
            empty,
        })
    }

    /// The tree's depth D.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Number of published leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Whether no leaf is published.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The root.
    pub fn root(&self) -> Fr {
        self.node(self.depth as usize, 0)
    }

    /// The leaf at `index` (0 for an empty one).
    pub fn leaf(&self, index: u64) -> Fr {
        self.node(0, index)
    }

    /// The Merkle path of leaf `index`: `D` siblings, leaf level first.
    pub fn path(&self, index: u64) -> Result<Vec<Fr>> {
        if index >> self.depth != 0 {
            return Err(Error::input(
                "index",
                format!("{index} is outside a tree of depth {}", self.depth),
            ));
        }
        Ok((0..self.depth as usize)
            .map(|l| self.node(l, (index >> l) ^ 1))
            .collect())
    }

    fn node(&self, level: usize, i: u64) -> Fr {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.levels[level].get(i).copied())
            .unwrap_or(self.empty[level])
    }
}

/// The root reached from `leaf` at `index` by `siblings` (leaf level first; bit `l` of the index
/// says whether the node at level `l` is a right child).
pub fn root_from_path(leaf: Fr, index: u64, siblings: &[Fr]) -> Fr {
    siblings
        .iter()
        .enumerate()
        .fold(leaf, |node, (l, sibling)| {
            if (index >> l) & 1 == 1 {
                poseidon::hash2(*sibling, node)
            } else {
                poseidon::hash2(node, *sibling)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::UniformRand;

    fn naive_root(depth: u32, leaves: &[Fr]) -> Fr {
        let mut level: Vec<Fr> = (0..1u64 << depth)
            .map(|i| leaves.get(i as usize).copied().unwrap_or_default())
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|p| poseidon::hash2(p[0], p[1]))
                .collect();
        }
        level[0]
    }

    #[test]
    fn root_matches_full_tree() {
        let mut rng = ark_std::test_rng();
        for (depth, n) in [(1u32, 0usize), (1, 1), (1, 2), (3, 5), (4, 16), (5, 7)] {
            let leaves: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let tree = MerkleTree::new(depth, leaves.clone()).unwrap();
            assert_eq!(
                tree.root(),
                naive_root(depth, &leaves),
                "depth {depth}, {n} leaves"
            );
        }
    }

    #[test]
    fn paths_reach_the_root() {
        let mut rng = ark_std::test_rng();
        let leaves: Vec<Fr> = (0..11).map(|_| Fr::rand(&mut rng)).collect();
        let tree = MerkleTree::new(6, leaves.clone()).unwrap();
        for (i, leaf) in leaves.iter().enumerate() {
            let path = tree.path(i as u64).unwrap();
            assert_eq!(path.len(), 6);
            assert_eq!(root_from_path(*leaf, i as u64, &path), tree.root());
            assert_ne!(root_from_path(*leaf, (i as u64) ^ 1, &path), tree.root());
        }
        assert!(tree.path(64).is_err());
    }

    #[test]
    fn deep_tree_with_few_leaves_is_cheap() {
        let tree = MerkleTree::new(32, vec![Fr::from(7u64)]).unwrap();
        let path = tree.path(0).unwrap();
        assert_eq!(path, empty_hashes(32)[..32].to_vec());
        assert_eq!(root_from_path(Fr::from(7u64), 0, &path), tree.root());
        let far = (1u64 << 32) - 1;
        assert_eq!(
            root_from_path(Fr::from(0u64), far, &tree.path(far).unwrap()),
            tree.root()
        );
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(MerkleTree::new(0, vec![]).is_err());
        assert!(MerkleTree::new(33, vec![]).is_err());
        assert_eq!(
            MerkleTree::new(1, vec![Fr::from(1u64); 3])
                .unwrap_err()
                .code(),
            "INVALID_INPUT"
        );
    }
}
