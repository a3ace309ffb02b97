//! R1CS to QAP: H's scalars from the products `A·z`, `B·z`, `C·z`, in one of two reductions
//! ([`Reduction`]), each in both kernels.
//!
//! [`Reduction::Libsnark`] (our own keys): the arithmetic is `LibsnarkReduction::witness_map_from_matrices`'s: the three products are
//! evaluations on a domain H (the public inputs occupy the rows after the constraints in A),
//! moved to a coset by an inverse and a forward FFT, combined as `(A·B - C) / Z` there, and
//! brought back to coefficients by an inverse coset FFT. [`Kernel::Wasm29`] does it in 29-bit
//! limbs ([`super::fft`]), [`Kernel::Arkworks`] with arkworks' domain; both give the same
//! coefficients (tested).
//!
//! [`Reduction::Circom`] (keys from a snarkjs `.zkey`, [`crate::circom::zkey`]): the arithmetic of
//! circom-compat's `CircomReduction` (MIT/Apache). snarkjs's H query holds, for each point of the
//! odd coset `w·H` (`w` a primitive 2n-th root of unity), the Lagrange-like point that makes H's
//! *evaluations* there its scalars, the division by the vanishing polynomial (the constant -2 on
//! that coset) folded in. So: `A·z` and `B·z` on H (the public-input rows in A, as above), C's
//! evaluations are their product `A∘B` on the constraint rows (a zkey has no C), each moved to the
//! odd coset, and H's scalars are `A·B - C` there: no division, no way back to coefficients.

use ark_ff::{BigInt, FftField, Field, PrimeField};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::r1cs::SynthesisError;

use super::fft::{self, from29};
use super::msm::field::{Field as _, Fr29};
use super::msm::Kernel;
use crate::error::{Error, Result};
use crate::field::Fr;

/// Which witness map a proving key was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Reduction {
    /// arkworks' `LibsnarkReduction`: keys made by airprover's `setup`. H's query has
    /// `domain - 1` points, its scalars are H's coefficients.
    #[default]
    Libsnark,
    /// circom-compat's `CircomReduction`: keys from snarkjs (`.zkey`). H's query has `domain`
    /// points, its scalars are H's evaluations on the odd coset.
    Circom,
}

impl Reduction {
    /// The H query's length for a domain of `domain` points.
    pub fn h_query_len(self, domain: usize) -> usize {
        match self {
            Reduction::Libsnark => domain.saturating_sub(1),
            Reduction::Circom => domain,
        }
    }
}

/// H's scalars for the [`Reduction::Circom`] keys, from `[A·z, B·z]` (one entry per constraint)
/// and the instance assignment `[1, public..]`.
pub fn witness_map_circom(
    products: [Vec<Fr29>; 2],
    public_with_one: &[Fr29],
    kernel: Kernel,
) -> Result<Vec<BigInt<4>>> {
    let num_constraints = products[0].len();
    let domain = GeneralEvaluationDomain::<Fr>::new(num_constraints + public_with_one.len())
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    let n = domain.size();
    let [mut a, mut b] = products;
    for v in [&mut a, &mut b] {
        v.resize(n, Fr29::ZERO);
    }
    // C's evaluations: A∘B on the constraint rows (zero on the public-input rows, where B is).
    let mut c: Vec<Fr29> = a.iter().zip(&b).map(|(a, b)| *a * *b).collect();
    c.resize(n, Fr29::ZERO);
    a[num_constraints..num_constraints + public_with_one.len()].copy_from_slice(public_with_one);
    match kernel {
        Kernel::Wasm29 => {
            let coset = fft::Coset::odd_of_size(n);
            let [mut a, b, c] = [a, b, c].map(|mut v| {
                coset.evaluations_to_coset(&mut v);
                v
            });
            coset.difference(&mut a, &b, &c);
            Ok(fft::canonical(&a).into_iter().map(BigInt).collect())
        }
        Kernel::Arkworks | Kernel::Native64 => {
            let ark = |v: Vec<Fr29>| -> Vec<Fr> { v.iter().map(from29).collect() };
            let (mut a, mut b, mut c) = (ark(a), ark(b), ark(c));
            let shift = GeneralEvaluationDomain::<Fr>::new(2 * n)
                .ok_or(SynthesisError::PolynomialDegreeTooLarge)?
                .element(1);
            let coset = domain.get_coset(shift).ok_or_else(|| Error::ProofFailed {
                what: "no odd coset of the evaluation domain".into(),
            })?;
            for v in [&mut a, &mut b, &mut c] {
                domain.ifft_in_place(v);
                coset.fft_in_place(v);
            }
            let combine = |((ab, b), c): ((&mut Fr, &Fr), &Fr)| {
                *ab = *ab * b - c;
            };
            #[cfg(feature = "parallel")]
            {
                use rayon::prelude::*;
                a.par_iter_mut().zip(&b).zip(&c).for_each(combine);
            }
            #[cfg(not(feature = "parallel"))]
            a.iter_mut().zip(&b).zip(&c).for_each(combine);
            Ok(a.iter().map(|x| x.into_bigint()).collect())
        }
    }
}

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

    /// Both kernels give the same evaluations for snarkjs's keys, and they are `A·B - C` on the
    /// odd coset: checked against polynomials interpolated by arkworks and evaluated there.
    #[test]
    fn circom_kernels_agree_and_evaluate_on_the_odd_coset() {
        use ark_poly::{DenseUVPolynomial, Polynomial};
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(10);
        let random = |rng: &mut rand_chacha::ChaCha20Rng, n: usize| -> Vec<Fr29> {
            (0..n).map(|_| to29(&Fr::rand(rng))).collect()
        };
        let products = [random(&mut rng, 100), random(&mut rng, 100)];
        let public = random(&mut rng, 3);
        let wasm = witness_map_circom(products.clone(), &public, Kernel::Wasm29).unwrap();
        let ark = witness_map_circom(products.clone(), &public, Kernel::Arkworks).unwrap();
        assert_eq!(wasm.len(), 128);
        assert_eq!(wasm, ark);

        let domain = GeneralEvaluationDomain::<Fr>::new(128).unwrap();
        let values = |v: &[Fr29], public: Option<&[Fr29]>| {
            let mut out: Vec<Fr> = v.iter().map(from29).collect();
            out.resize(128, Fr::from(0u64));
            if let Some(p) = public {
                for (slot, x) in out[100..103].iter_mut().zip(p) {
                    *slot = from29(x);
                }
            }
            ark_poly::univariate::DensePolynomial::from_coefficients_vec(domain.ifft(&out))
        };
        let c: Vec<Fr29> = products[0]
            .iter()
            .zip(&products[1])
            .map(|(a, b)| *a * *b)
            .collect();
        let (pa, pb, pc) = (
            values(&products[0], Some(&public)),
            values(&products[1], None),
            values(&c, None),
        );
        let w = Fr::get_root_of_unity(256).unwrap();
        for i in [0usize, 1, 77, 127] {
            let x = w * domain.element(i);
            let expected = pa.evaluate(&x) * pb.evaluate(&x) - pc.evaluate(&x);
            assert_eq!(wasm[i], expected.into_bigint(), "point {i}");
        }
    }
}
