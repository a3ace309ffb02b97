//! circomlib's Poseidon over BN254, natively; the R1CS gadget is in [`constraints`].
//!
//! The round constants and MDS matrices are circomlib's, as `light-poseidon` generates them with
//! the reference script (and tests against circomlibjs). They are kept here as data,
//! `circomlib-x5.bin`, which a test checks against `light-poseidon` for every width: its
//! `get_poseidon_parameters` is one 1.5 MB function, 43% of the wasm module's code, and the
//! browser's optimising compiler spent about 130 MiB of the renderer compiling it at a page's
//! first proof. The permutation is written here once over cached parameters so that hashing does
//! not rebuild them per call, and so the gadget runs exactly the same rounds.

pub mod constraints;

use std::sync::OnceLock;

use ark_ff::Field;

use crate::error::{Error, Result};
use crate::field::{fr_from_le_bytes, Fr};

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
    let all = CACHE.get_or_init(|| decode(CIRCOMLIB_X5).expect("circomlib-x5.bin is well formed"));
    Ok(&all[arity - 1])
}

/// circomlib's parameters for widths `2..=MAX_ARITY + 1`, in order. Per width: the width and the
/// number of partial rounds (a byte each), then the round constants and the MDS matrix row by
/// row, each element 32 bytes little-endian and canonical.
const CIRCOMLIB_X5: &[u8] = include_bytes!("circomlib-x5.bin");

/// The parameter file's shape is checked, not assumed: `None` if it is not what
/// [`encode`] writes.
fn decode(bytes: &[u8]) -> Option<Vec<Params>> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let mut all = Vec::with_capacity(MAX_ARITY);
    for width in 2..=MAX_ARITY + 1 {
        let [w, partial_rounds] = take(2)?.try_into().ok()?;
        if usize::from(w) != width {
            return None;
        }
        let partial_rounds = usize::from(partial_rounds);
        let mut element = || fr_from_le_bytes(take(32)?.try_into().ok()?);
        let ark = (0..width * (FULL_ROUNDS + partial_rounds))
            .map(|_| element())
            .collect::<Option<Vec<_>>>()?;
        let mds = (0..width)
            .map(|_| (0..width).map(|_| element()).collect::<Option<Vec<_>>>())
            .collect::<Option<Vec<_>>>()?;
        all.push(Params {
            width,
            partial_rounds,
            ark,
            mds,
        });
    }
    rest.is_empty().then_some(all)
}

/// The bytes [`decode`] reads (how `circomlib-x5.bin` is written).
#[cfg(test)]
fn encode(all: &[Params]) -> Vec<u8> {
    use crate::field::fr_to_le_bytes;
    let mut out = Vec::new();
    for p in all {
        out.push(u8::try_from(p.width).expect("width fits a byte"));
        out.push(u8::try_from(p.partial_rounds).expect("partial rounds fit a byte"));
        for x in p.ark.iter().chain(p.mds.iter().flatten()) {
            out.extend_from_slice(&fr_to_le_bytes(x));
        }
    }
    out
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

    /// The parameter file holds light-poseidon's circomlib parameters, every width. With
    /// `AIRPROVER_WRITE_POSEIDON=1` it (re)writes the file instead.
    #[test]
    fn parameter_file_is_light_poseidons() {
        let reference: Vec<Params> = (1..=MAX_ARITY)
            .map(|n| {
                let p = light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<Fr>(
                    (n + 1) as u8,
                )
                .unwrap();
                Params {
                    width: p.width,
                    partial_rounds: p.partial_rounds,
                    ark: p.ark,
                    mds: p.mds,
                }
            })
            .collect();
        let bytes = encode(&reference);
        if std::env::var_os("AIRPROVER_WRITE_POSEIDON").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/poseidon/circomlib-x5.bin");
            std::fs::write(path, &bytes).unwrap();
        }
        assert!(
            bytes == CIRCOMLIB_X5,
            "circomlib-x5.bin differs from light-poseidon's parameters: \
             AIRPROVER_WRITE_POSEIDON=1 cargo test --lib poseidon rewrites it (then run the \
             test again: the file is compiled in)"
        );
        let decoded = decode(CIRCOMLIB_X5).unwrap();
        assert_eq!(decoded.len(), reference.len());
        for (ours, theirs) in decoded.iter().zip(&reference) {
            assert_eq!(
                (ours.width, ours.partial_rounds, &ours.ark, &ours.mds),
                (
                    theirs.width,
                    theirs.partial_rounds,
                    &theirs.ark,
                    &theirs.mds
                )
            );
        }
    }

    #[test]
    fn malformed_parameter_files_are_refused() {
        assert!(decode(&CIRCOMLIB_X5[..CIRCOMLIB_X5.len() - 1]).is_none());
        let mut longer = CIRCOMLIB_X5.to_vec();
        longer.push(0);
        assert!(decode(&longer).is_none());
        let mut wrong_width = CIRCOMLIB_X5.to_vec();
        wrong_width[0] = 3;
        assert!(decode(&wrong_width).is_none());
        // An element not below the modulus.
        let mut too_big = CIRCOMLIB_X5.to_vec();
        too_big[2..34].fill(0xff);
        assert!(decode(&too_big).is_none());
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
