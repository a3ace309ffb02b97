//! The native kernel ([`super::Kernel::Native64`]): [`super::pippenger`] over [`Fp64`], BN254's
//! base field in four 64-bit limbs (G1), and [`Fp2`] over it (G2).
//!
//! Natively a 64x64->128 product is one instruction, so four 64-bit limbs beat the wasm kernel's
//! nine 29-bit ones. [`Fp64`] shares arkworks' Montgomery form, so the points convert by copying
//! their limbs and the results come back the same way. Measured against arkworks' own `Fq` and
//! `Fq2` as the kernel's fields (the same Pippenger over each, interleaved, 1 thread, 2^16
//! points; issue 32): with [`Fp64`], whose products skip the final subtraction, the G1 MSM took
//! 0.69x the time and the G2 one 0.85x, so the kernel uses it.

use ark_bn254::{Fq, Fq2, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ff::{BigInt, PrimeField};

use super::curve::Affine;
use super::field::{Field, Fp2};
use super::fp64::Fp64;
use super::glv;
use super::pippenger::{self, Cut};

/// G1 points in the native kernel's form (a copy), in order.
pub fn prepare_g1(points: &[G1Affine]) -> Vec<Affine<Fp64>> {
    super::prepare(points, Fp64::from_ark)
}

/// G2 points in the native kernel's form (a copy), in order.
pub fn prepare_g2(points: &[G2Affine]) -> Vec<Affine<Fp2<Fp64>>> {
    super::prepare(points, fq2)
}

fn fq2(x: &Fq2) -> Fp2<Fp64> {
    Fp2 {
        c0: Fp64::from_ark(&x.c0),
        c1: Fp64::from_ark(&x.c1),
    }
}

fn fq2_back(x: &Fp2<Fp64>) -> Fq2 {
    Fq2::new(x.c0.to_ark(), x.c1.to_ark())
}

/// The native kernel's G1 MSM over points [`prepare_g1`] made.
pub fn g1(bases: &[Affine<Fp64>], scalars: &[BigInt<4>]) -> G1Projective {
    g1_cut(bases, scalars, Cut::default())
}

/// The native kernel's G2 MSM over points [`prepare_g2`] made.
pub fn g2(bases: &[Affine<Fp2<Fp64>>], scalars: &[BigInt<4>]) -> G2Projective {
    g2_cut(bases, scalars, Cut::default())
}

/// [`g1`] cut as `cut` says (tests, measurements).
#[doc(hidden)]
pub fn g1_cut(bases: &[Affine<Fp64>], scalars: &[BigInt<4>], cut: Cut) -> G1Projective {
    let beta = Fq::from_bigint(BigInt(glv::BETA_G1)).expect("beta is below q");
    let r = pippenger::msm_glv_cut(bases, scalars, Fp64::from_ark(&beta), cut);
    G1Projective::new_unchecked(r.x.to_ark(), r.y.to_ark(), r.z.to_ark())
}

/// [`g2`] cut as `cut` says.
#[doc(hidden)]
pub fn g2_cut(bases: &[Affine<Fp2<Fp64>>], scalars: &[BigInt<4>], cut: Cut) -> G2Projective {
    let beta = Fq::from_bigint(BigInt(glv::BETA_G2)).expect("beta is below q");
    let beta = Fp2 {
        c0: Fp64::from_ark(&beta),
        c1: Fp64::ZERO,
    };
    let r = pippenger::msm_glv_cut(bases, scalars, beta, cut);
    G2Projective::new_unchecked(fq2_back(&r.x), fq2_back(&r.y), fq2_back(&r.z))
}
