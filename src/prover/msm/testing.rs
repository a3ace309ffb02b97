//! Checks of the wasm kernel against arkworks, shared by the native unit tests and the browser
//! tests of both wasm builds (`tests/web_*.rs`): each returns what differs instead of panicking,
//! so a browser test can report it.

use ark_bn254::{Fq, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::{BigInt, Field as _, PrimeField, UniformRand};
use ark_std::rand::Rng;
use ark_std::Zero;

use super::field::{Field, Fp29, Fq29, Fr29, Modulus};
use super::Kernel;

type Check = Result<(), String>;

fn same<T: PartialEq + core::fmt::Debug>(what: &str, ours: T, reference: T) -> Check {
    if ours == reference {
        Ok(())
    } else {
        Err(format!(
            "{what}: wasm kernel {ours:?}, arkworks {reference:?}"
        ))
    }
}

/// Field operations on random and edge values against arkworks' Fq and Fr.
pub fn field_matches_arkworks<R: Rng>(rng: &mut R, rounds: usize) -> Check {
    fn one_field<M: Modulus, F: PrimeField<BigInt = BigInt<4>>, R: Rng>(
        name: &str,
        rng: &mut R,
        rounds: usize,
    ) -> Check {
        let ours = |x: &F| Fp29::<M>::from_canonical(&x.into_bigint().0);
        let back = |x: &Fp29<M>| F::from_bigint(BigInt(x.to_canonical())).expect("reduced");
        let mut values: Vec<F> = vec![
            F::zero(),
            F::one(),
            -F::one(),
            F::from(2u64),
            -F::from(2u64),
        ];
        values.extend((0..rounds).map(|_| F::rand(rng)));
        for (i, a) in values.iter().enumerate() {
            let b = &values[(i * 7 + 3) % values.len()];
            let (x, y) = (ours(a), ours(b));
            same(&format!("{name} round trip"), back(&x), *a)?;
            same(&format!("{name} {a} * {b}"), back(&(x * y)), *a * b)?;
            same(&format!("{name} {a} + {b}"), back(&(x + y)), *a + b)?;
            same(&format!("{name} {a} - {b}"), back(&(x - y)), *a - b)?;
            same(&format!("{name} -{a}"), back(&-x), -*a)?;
            same(&format!("{name} {a}^2"), back(&x.square()), a.square())?;
            same(
                &format!("{name} 1/{a}"),
                back(&x.inverse()),
                ark_ff::Field::inverse(a).unwrap_or(F::zero()),
            )?;
            same(&format!("{name} {a} == {b}"), x == y, a == b)?;
            same(&format!("{name} {a} is zero"), x.is_zero(), a.is_zero())?;
        }
        Ok(())
    }
    one_field::<super::field::FqModulus, Fq, R>("Fq", rng, rounds)?;
    one_field::<super::field::FrModulus, Fr, R>("Fr", rng, rounds)?;
    // arkworks' Montgomery form converts directly (what the MSM does with key points).
    for _ in 0..rounds {
        let a = Fq::rand(rng);
        same(
            "Fq from arkworks' Montgomery form",
            Fq29::from_ark_mont(&(a.0).0),
            Fq29::from_canonical(&a.into_bigint().0),
        )?;
    }
    let _ = Fr29::ONE;
    Ok(())
}

/// Scalars for `n` terms: random, with the edge cases mixed in (zero, one, r - 1, small, 2^k).
fn scalars<R: Rng>(rng: &mut R, n: usize) -> Vec<BigInt<4>> {
    (0..n)
        .map(|i| match i % 11 {
            0 => BigInt([0; 4]),
            1 => Fr::from(1u64).into_bigint(),
            2 => (-Fr::from(1u64)).into_bigint(),
            3 => Fr::from(rng.gen_range(0u64..4096)).into_bigint(),
            4 => Fr::from(2u64).pow([rng.gen_range(0u64..254)]).into_bigint(),
            _ => Fr::rand(rng).into_bigint(),
        })
        .collect()
}

/// Bases for `n` terms: random, with the identity, repeats of one point and its negation.
fn bases<G: CurveGroup, R: Rng>(rng: &mut R, n: usize) -> Vec<G::Affine> {
    let p = G::rand(rng);
    let points: Vec<G> = (0..n)
        .map(|i| match i % 13 {
            0 => G::zero(),
            1..=3 => p,
            4 => -p,
            5 => p.double(),
            _ => G::rand(rng),
        })
        .collect();
    G::normalize_batch(&points)
}

/// G1 and G2 MSMs of random and edge-case inputs of each size against arkworks.
pub fn msm_matches_arkworks<R: Rng>(rng: &mut R, sizes: &[usize]) -> Check {
    for &n in sizes {
        let s = scalars(rng, n);
        let b1: Vec<G1Affine> = bases::<G1Projective, R>(rng, n);
        same(
            &format!("G1 MSM of {n}"),
            super::g1(Kernel::Wasm29, &b1, &s).into_affine(),
            super::g1(Kernel::Arkworks, &b1, &s).into_affine(),
        )?;
        let b2: Vec<G2Affine> = bases::<G2Projective, R>(rng, n);
        same(
            &format!("G2 MSM of {n}"),
            super::g2(Kernel::Wasm29, &b2, &s).into_affine(),
            super::g2(Kernel::Arkworks, &b2, &s).into_affine(),
        )?;
    }
    // One point many times with the same scalar: every bucket addition is a doubling, and a
    // point with its negation cancels to the identity.
    let g = G1Projective::generator().into_affine();
    let k = Fr::rand(rng).into_bigint();
    same(
        "G1 MSM of one point 64 times",
        super::g1(Kernel::Wasm29, &[g; 64], &[k; 64]).into_affine(),
        (G1Projective::generator() * Fr::from(64u64) * Fr::from_bigint(k).unwrap()).into_affine(),
    )?;
    same(
        "G1 MSM of P and -P",
        super::g1(Kernel::Wasm29, &[g, -g], &[k, k]).into_affine(),
        G1Projective::zero().into_affine(),
    )?;
    same(
        "G1 MSM of nothing",
        super::g1(Kernel::Wasm29, &[], &[]).into_affine(),
        G1Projective::zero().into_affine(),
    )?;
    Ok(())
}
