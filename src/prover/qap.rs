//! R1CS to QAP: the coefficients of H from the products `A·z`, `B·z`, `C·z`.
//!
//! The arithmetic is `LibsnarkReduction::witness_map_from_matrices`'s: the three products are
//! evaluations on a domain H (the public inputs occupy the rows after the constraints in A),
//! moved to a coset by an inverse and a forward FFT, combined as `(A·B - C) / Z` there, and
//! brought back to coefficients by an inverse coset FFT. [`Kernel::Wasm29`] does it in 29-bit
//! limbs ([`super::fft`]), [`Kernel::Arkworks`] with arkworks' domain; both give the same
//! coefficients (tested).

use ark_ff::{BigInt, FftField, Field, PrimeField};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::r1cs::SynthesisError;

use super::fft::{self, from29};
use super::msm::field::{Field as _, Fr29};
use super::msm::Kernel;
use crate::error::{Error, Result};
use crate::field::Fr;

/// The coefficients of H as canonical scalars for its MSM, from `[A·z, B·z, C·z]` (one entry
/// per constraint) and the instance assignment `[1, public..]`.
pub fn witness_map(
    products: [Vec<Fr29>; 3],
    public_with_one: &[Fr29],
    kernel: Kernel,
) -> Result<Vec<BigInt<4>>> {
    let num_constraints = products[0].len();
    let domain = GeneralEvaluationDomain::<Fr>::new(num_constraints + public_with_one.len())
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    let n = domain.size();
    let [mut a, mut b, mut c] = products;
    for v in [&mut a, &mut b, &mut c] {
        v.resize(n, Fr29::ZERO);
    }
    a[num_constraints..num_constraints + public_with_one.len()].copy_from_slice(public_with_one);
    match kernel {
        Kernel::Wasm29 => Ok(witness_map29(n, [a, b, c])),
        Kernel::Arkworks | Kernel::Native64 => {
            let ark = |v: Vec<Fr29>| -> Vec<Fr> { v.iter().map(from29).collect() };
            witness_map_arkworks(&domain, ark(a), ark(b), ark(c))
        }
    }
}

fn witness_map29(n: usize, vectors: [Vec<Fr29>; 3]) -> Vec<BigInt<4>> {
    let coset = fft::Coset::of_size(n);
    let [mut a, b, c] = vectors.map(|mut v| {
        coset.evaluations_to_coset(&mut v);
        v
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

#[cfg(test)]
mod tests {
    use ark_ff::UniformRand;
    use rand::SeedableRng;

    use super::*;
    use crate::prover::fft::to29;

    /// Both kernels give the same coefficients of H.
    #[test]
    fn kernels_agree() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let random = |rng: &mut rand_chacha::ChaCha20Rng, n: usize| -> Vec<Fr29> {
            (0..n).map(|_| to29(&Fr::rand(rng))).collect()
        };
        let products = [
            random(&mut rng, 100),
            random(&mut rng, 100),
            random(&mut rng, 100),
        ];
        let public = random(&mut rng, 3);
        let wasm = witness_map(products.clone(), &public, Kernel::Wasm29).unwrap();
        let ark = witness_map(products, &public, Kernel::Arkworks).unwrap();
        assert_eq!(wasm.len(), 128);
        assert_eq!(wasm, ark);
    }
}
