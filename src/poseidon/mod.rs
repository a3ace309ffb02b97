//! circomlib's Poseidon over BN254, natively; the R1CS gadget is in [`constraints`].
//!
//! The round constants and MDS matrices are circomlib's, taken from `light-poseidon` (which
//! generates them with the reference script and tests against circomlibjs). The permutation is
//! written here once over cached parameters so that hashing does not rebuild them per call, and
//! so the gadget runs exactly the same rounds.

pub mod constraints;

use std::sync::OnceLock;

use ark_ff::Field;
use light_poseidon::parameters::bn254_x5::get_poseidon_parameters;

use crate::error::{Error, Result};
use crate::field::Fr;

/// Largest number of inputs supported (circomlib goes to 16; the circuits use 1, 2 and 3).
pub const MAX_ARITY: usize = 12;

/// Full rounds, for every width.
pub const FULL_ROUNDS: usize = 8;

/// Round constants and MDS matrix of one width `t = arity + 1`.
#[derive(Debug)]
pub struct Params {
    /// State width.
    pub width: usize,
    /// Number of partial rounds.
    pub partial_rounds: usize,
    /// Round constants, `width` per round.
    pub ark: Vec<Fr>,
    /// MDS matrix, `mds[i][j]`.
    pub mds: Vec<Vec<Fr>>,
}

/// The parameters for `arity` inputs, built once per process.
pub fn params(arity: usize) -> Result<&'static Params> {
    static CACHE: OnceLock<Vec<Params>> = OnceLock::new();
    if arity == 0 || arity > MAX_ARITY {
        return Err(Error::input(
            "poseidon",
            format!("arity {arity} is not in 1..={MAX_ARITY}"),
        ));
    }
    let all = CACHE.get_or_init(|| {
        (1..=MAX_ARITY)
            .map(|n| {
                let p = get_poseidon_parameters::<Fr>((n + 1) as u8)
                    .expect("light-poseidon has circomlib parameters for widths 2..=13");
                Params {
                    width: p.width,
                    partial_rounds: p.partial_rounds,
                    ark: p.ark,
                    mds: p.mds,
                }
            })
            .collect()
    });
    Ok(&all[arity - 1])
}

/// `Poseidon(inputs)` as circomlib computes it: state `[0, in_1, .., in_n]`, output `state[0]`.
pub fn hash(inputs: &[Fr]) -> Result<Fr> {
    let p = params(inputs.len())?;
    let mut state = Vec::with_capacity(p.width);
    state.push(Fr::from(0u64));
    state.extend_from_slice(inputs);
    let half = FULL_ROUNDS / 2;
    for round in 0..FULL_ROUNDS + p.partial_rounds {
        for (i, s) in state.iter_mut().enumerate() {
            *s += p.ark[round * p.width + i];
        }
        let full = round < half || round >= half + p.partial_rounds;
        let sboxed = if full { p.width } else { 1 };
        for s in &mut state[..sboxed] {
            *s = pow5(*s);
        }
        state = (0..p.width)
            .map(|i| state.iter().zip(&p.mds[i]).map(|(s, m)| *s * m).sum())
            .collect();
    }
    Ok(state[0])
}

/// Poseidon of two inputs: the Merkle parent and the nullifier.
pub fn hash2(a: Fr, b: Fr) -> Fr {
    hash(&[a, b]).expect("arity 2 is supported")
}

fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::fr_to_hex;
    use ark_std::UniformRand;
    use light_poseidon::{Poseidon, PoseidonHasher};

    #[test]
    fn spec_test_vector() {
        let h = hash(&[Fr::from(1u64), Fr::from(2u64)]).unwrap();
        assert_eq!(
            fr_to_hex(&h),
            "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"
        );
    }

    #[test]
    fn agrees_with_light_poseidon_for_every_arity() {
        let mut rng = ark_std::test_rng();
        for n in 1..=MAX_ARITY {
            let inputs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let mut reference = Poseidon::<Fr>::new_circom(n).unwrap();
            assert_eq!(
                hash(&inputs).unwrap(),
                reference.hash(&inputs).unwrap(),
                "arity {n}"
            );
        }
    }

    #[test]
    fn rejects_unsupported_arity() {
        assert_eq!(hash(&[]).unwrap_err().code(), "INVALID_INPUT");
        assert!(hash(&vec![Fr::from(1u64); MAX_ARITY + 1]).is_err());
    }
}
