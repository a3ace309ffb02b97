//! The circuit's constraint matrices, kept between proofs, and the QAP witness map over them.
//!
//! The matrices depend on the circuit only, never on the witness. Building them is most of
//! arkworks' synthesis time (every symbolic linear combination is inlined), so the first proof
//! with a proving key builds them and keeps them; later proofs with that key synthesise the
//! witness alone (`SynthesisMode::Prove { construct_matrices: false }`), check it against the
//! kept matrices, and reduce to the QAP from the same products `A·z`, `B·z`, `C·z` the check
//! computed. The arithmetic is `LibsnarkReduction::witness_map_from_matrices`'s.

use std::sync::{Arc, Mutex};

use ark_bn254::G1Affine;
use ark_ff::{BigInt, FftField, Field, One, PrimeField, Zero};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::r1cs::{ConstraintMatrices, SynthesisError};

use super::fft;
use super::msm::field::Fr29;
use super::msm::Kernel;
use super::ProvingKey;
use crate::error::{Error, Result};
use crate::field::Fr;

/// What identifies a proving key cheaply: its query lengths and two of its random points.
#[derive(Debug, Clone, PartialEq)]
struct KeyId {
    lengths: [usize; 4],
    delta_g1: G1Affine,
    alpha_g1: G1Affine,
}

impl KeyId {
    fn of(pk: &ProvingKey) -> Self {
        KeyId {
            lengths: [
                pk.a_query.len(),
                pk.b_g2_query.len(),
                pk.h_query.len(),
                pk.l_query.len(),
            ],
            delta_g1: pk.delta_g1,
            alpha_g1: pk.vk.alpha_g1,
        }
    }
}

/// Matrices kept for the most recently used keys (a worker proves with one or two keys).
const KEPT: usize = 2;

static CACHE: Mutex<Vec<(KeyId, Arc<ConstraintMatrices<Fr>>)>> = Mutex::new(Vec::new());

/// The matrices of the circuit `pk` was made for, if a proof with `pk` built them already.
pub fn cached_matrices(pk: &ProvingKey) -> Option<Arc<ConstraintMatrices<Fr>>> {
    let id = KeyId::of(pk);
    let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.iter().find(|(k, _)| *k == id).map(|(_, m)| m.clone())
}

/// Keeps the matrices of `pk`'s circuit for the next proofs.
pub fn keep_matrices(pk: &ProvingKey, matrices: Arc<ConstraintMatrices<Fr>>) {
    let id = KeyId::of(pk);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|(k, _)| *k != id);
    cache.insert(0, (id, matrices));
    cache.truncate(KEPT);
}

/// `A·z`, `B·z` and `C·z`, one entry per constraint.
pub struct Products {
    a: Vec<Fr>,
    b: Vec<Fr>,
    c: Vec<Fr>,
}

fn row(terms: &[(Fr, usize)], z: &[Fr]) -> Fr {
    terms.iter().fold(Fr::zero(), |acc, (coeff, i)| {
        if coeff.is_one() {
            acc + z[*i]
        } else {
            acc + *coeff * z[*i]
        }
    })
}

/// The products of the matrices with the full assignment `z = [1, public.., witness..]`.
pub fn products(m: &ConstraintMatrices<Fr>, z: &[Fr]) -> Products {
    let rows = |matrix: &Vec<Vec<(Fr, usize)>>| -> Vec<Fr> {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            matrix.par_iter().map(|terms| row(terms, z)).collect()
        }
        #[cfg(not(feature = "parallel"))]
        {
            matrix.iter().map(|terms| row(terms, z)).collect()
        }
    };
    Products {
        a: rows(&m.a),
        b: rows(&m.b),
        c: rows(&m.c),
    }
}

impl Products {
    /// The first constraint the assignment breaks, if any.
    pub fn first_unsatisfied(&self) -> Option<usize> {
        (0..self.a.len()).find(|&i| self.a[i] * self.b[i] != self.c[i])
    }

    /// The coefficients of H, `(A·B - C) / Z` on a coset (libsnark's reduction), as canonical
    /// scalars for the MSM: the public inputs occupy the rows after the constraints in A. The
    /// [`Kernel::Wasm29`] kernel runs the FFTs in 29-bit limbs ([`super::fft`]), the other with
    /// arkworks' domain; both give the same coefficients (tested).
    pub fn witness_map(self, public_with_one: &[Fr], kernel: Kernel) -> Result<Vec<BigInt<4>>> {
        let Products {
            mut a,
            mut b,
            mut c,
        } = self;
        let num_constraints = a.len();
        let domain = GeneralEvaluationDomain::<Fr>::new(num_constraints + public_with_one.len())
            .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let n = domain.size();
        a.resize(n, Fr::zero());
        b.resize(n, Fr::zero());
        c.resize(n, Fr::zero());
        a[num_constraints..num_constraints + public_with_one.len()]
            .copy_from_slice(public_with_one);
        match kernel {
            Kernel::Wasm29 => Ok(witness_map29(n, [a, b, c])),
            Kernel::Arkworks => witness_map_arkworks(&domain, a, b, c),
        }
    }
}

fn witness_map29(n: usize, vectors: [Vec<Fr>; 3]) -> Vec<BigInt<4>> {
    let coset = fft::Coset::of_size(n);
    let [mut a, b, c] = vectors.map(|v| {
        let convert = |x: &Fr| fft::to29(x);
        #[cfg(feature = "parallel")]
        let mut out: Vec<Fr29> = {
            use rayon::prelude::*;
            v.par_iter().map(convert).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let mut out: Vec<Fr29> = v.iter().map(convert).collect();
        drop(v);
        coset.evaluations_to_coset(&mut out);
        out
    });
    coset.quotient(&mut a, &b, &c);
    drop((b, c));
    coset
        .coefficients_from_coset(&mut a)
        .into_iter()
        .map(BigInt)
        .collect()
}

fn witness_map_arkworks(
    domain: &GeneralEvaluationDomain<Fr>,
    mut a: Vec<Fr>,
    mut b: Vec<Fr>,
    mut c: Vec<Fr>,
) -> Result<Vec<BigInt<4>>> {
    let coset = domain
        .get_coset(Fr::GENERATOR)
        .ok_or_else(|| Error::ProofFailed {
            what: "no coset of the evaluation domain".into(),
        })?;
    for v in [&mut a, &mut b, &mut c] {
        domain.ifft_in_place(v);
        coset.fft_in_place(v);
    }
    let z_inv = domain
        .evaluate_vanishing_polynomial(Fr::GENERATOR)
        .inverse()
        .ok_or_else(|| Error::ProofFailed {
            what: "the vanishing polynomial is zero on the coset".into(),
        })?;
    let combine = |((ab, b), c): ((&mut Fr, &Fr), &Fr)| {
        *ab = (*ab * b - c) * z_inv;
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        a.par_iter_mut().zip(&b).zip(&c).for_each(combine);
    }
    #[cfg(not(feature = "parallel"))]
    a.iter_mut().zip(&b).zip(&c).for_each(combine);
    drop((b, c));
    coset.ifft_in_place(&mut a);
    Ok(a.iter().map(|x| x.into_bigint()).collect())
}
