//! The native kernel ([`super::Kernel::Native64`]): [`super::pippenger`] over arkworks' own
//! coordinate fields, `Fq` and `Fq2`.
//!
//! Natively a 64x64->128 product is one instruction, so four 64-bit limbs beat the wasm kernel's
//! nine 29-bit ones, and arkworks' Montgomery multiplication is already what a 64-bit kernel
//! would write: CIOS without carries (BN254's modulus leaves the top bit free), unrolled, and
//! with the `asm` feature its mulx/adcx/adox assembly. Its `Fq2` product is two sums of products
//! reduced once each, its inversion a binary extended Euclid (far cheaper than the wasm kernel's
//! Fermat power, which matters to the batch inversions). Using them as they are also means the
//! points need no conversion: arkworks' affine coordinates are copied as they are, and the
//! Jacobian result is arkworks' projective point.
//!
//! [`ArkField`] wraps an arkworks element as a [`Field`]; arkworks' elements are always fully
//! reduced, so the weak `*_for_mul` operands are plain sums and differences.

use core::ops::{Add, Mul, Neg, Sub};

use ark_bn254::{Fq, Fq2, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ff::{AdditiveGroup, BigInt, PrimeField};

use super::curve::Affine;
use super::field::Field;
use super::glv;
use super::pippenger::{self, Cut};

/// An arkworks field element as a [`Field`] for the kernel: a wrapper rather than an impl on
/// arkworks' types, so that code with both traits in scope never has to say which `square` it
/// means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArkField<T>(pub T);

/// BN254's base field, arkworks' 64-bit limbs.
pub type Fq64 = ArkField<Fq>;
/// Its quadratic extension (G2's coordinates).
pub type Fq2x64 = ArkField<Fq2>;

impl<T: ark_ff::Field> Add for ArkField<T> {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        ArkField(self.0 + rhs.0)
    }
}

impl<T: ark_ff::Field> Sub for ArkField<T> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        ArkField(self.0 - rhs.0)
    }
}

impl<T: ark_ff::Field> Mul for ArkField<T> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        ArkField(self.0 * rhs.0)
    }
}

impl<T: ark_ff::Field> Neg for ArkField<T> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        ArkField(-self.0)
    }
}

impl<T: ark_ff::Field> Field for ArkField<T> {
    const ZERO: Self = ArkField(T::ZERO);
    const ONE: Self = ArkField(T::ONE);

    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.0 == T::ZERO
    }

    #[inline(always)]
    fn square(&self) -> Self {
        ArkField(self.0.square())
    }

    #[inline(always)]
    fn double(&self) -> Self {
        ArkField(self.0.double())
    }

    fn inverse(&self) -> Self {
        ArkField(self.0.inverse().unwrap_or(T::ZERO))
    }

    #[inline(always)]
    fn sub_for_mul(&self, rhs: &Self) -> Self {
        *self - *rhs
    }

    #[inline(always)]
    fn add_for_mul(&self, rhs: &Self) -> Self {
        *self + *rhs
    }
}

/// G1 points in the native kernel's form (a copy), in order.
pub fn prepare_g1(points: &[G1Affine]) -> Vec<Affine<Fq64>> {
    super::prepare(points, |x| ArkField(*x))
}

/// G2 points in the native kernel's form (a copy), in order.
pub fn prepare_g2(points: &[G2Affine]) -> Vec<Affine<Fq2x64>> {
    super::prepare(points, |x| ArkField(*x))
}

/// The native kernel's G1 MSM over points [`prepare_g1`] made.
pub fn g1(bases: &[Affine<Fq64>], scalars: &[BigInt<4>]) -> G1Projective {
    g1_cut(bases, scalars, Cut::default())
}

/// The native kernel's G2 MSM over points [`prepare_g2`] made.
pub fn g2(bases: &[Affine<Fq2x64>], scalars: &[BigInt<4>]) -> G2Projective {
    g2_cut(bases, scalars, Cut::default())
}

/// [`g1`] cut as `cut` says (tests, measurements).
#[doc(hidden)]
pub fn g1_cut(bases: &[Affine<Fq64>], scalars: &[BigInt<4>], cut: Cut) -> G1Projective {
    let beta = Fq::from_bigint(BigInt(glv::BETA_G1)).expect("beta is below q");
    let r = pippenger::msm_glv_cut(bases, scalars, ArkField(beta), cut);
    G1Projective::new_unchecked(r.x.0, r.y.0, r.z.0)
}

/// [`g2`] cut as `cut` says.
#[doc(hidden)]
pub fn g2_cut(bases: &[Affine<Fq2x64>], scalars: &[BigInt<4>], cut: Cut) -> G2Projective {
    let beta = Fq::from_bigint(BigInt(glv::BETA_G2)).expect("beta is below q");
    let beta = ArkField(Fq2::new(beta, Fq::ZERO));
    let r = pippenger::msm_glv_cut(bases, scalars, beta, cut);
    G2Projective::new_unchecked(r.x.0, r.y.0, r.z.0)
}
