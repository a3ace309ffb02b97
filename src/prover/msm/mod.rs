//! Multi-scalar multiplication kernels for the prover's MSM stages.
//!
//! Three kernels compute the same sums (see [`Kernel`]): arkworks' `VariableBaseMSM` (the
//! reference), and one algorithm, [`pippenger`] (signed digits, batch-affine bucket sums, lockstep
//! affine running sums, over the [`glv`] split of every scalar), generic over the coordinate field
//! ([`field::Field`]) and compiled twice:
//! - for wasm32 ([`Kernel::Wasm29`]): [`field`] arithmetic in 29-bit limbs ([`mont`] for the
//!   products), since wasm has no 64x64->128 multiplication. It converts arkworks' points on the
//!   way in (one multiplication per coordinate) and the result back;
//! - natively ([`Kernel::Native64`], the native default): [`fp64`], four 64-bit limbs with u128
//!   products in arkworks' own Montgomery form (conversions are copies).
//!
//! [`BaseField`] is what a field needs beyond its arithmetic: arkworks' coordinates in and
//! back out; [`prepare_g1`], [`g1_cut`] and the rest are written once over it.
//!
//! Both drop the identity and zero scalars. Tests check them against arkworks on random and
//! edge-case inputs (all-equal points, the identity, scalars 0, 1 and r - 1, sizes 1 to 2^16 + 1),
//! natively, and the wasm kernel in both wasm builds.
//!
//! Natively Native64 replaced arkworks' MSM as the default after interleaved measurements on the
//! 2-core development machine (Intel Xeon Processor, 2 cores; README, "Native proving time"):
//! whole proofs of threshold-d20-k8 and square-chain-65536 took less time with it at 1 and 2
//! threads (`examples/bench_native.rs --kernel arkworks|native64`). Single MSMs:
//! `examples/bench_msm.rs`.

pub mod curve;
pub mod field;
pub mod fp64;
pub mod glv;
mod mont;
// The product before Karatsuba: what the tests check `mont` against and `benches/simd-mont` times.
#[cfg(test)]
mod mont_scanned;
// Measured slower than `mont` in Chromium (README, "How the browser build is fast"): kept for the
// record and its benchmark (`benches/simd-mont`), compiled only there and in tests.
#[cfg(test)]
mod mont_simd;
pub mod pippenger;
#[doc(hidden)]
pub mod testing;

use ark_bn254::{Fq, Fq2, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::short_weierstrass::{Affine as SwAffine, SWCurveConfig};
use ark_ec::VariableBaseMSM;
use ark_ff::{BigInt, PrimeField};

use curve::Affine;
use field::{Field, Fp2, Fq29};
use fp64::Fp64;
use pippenger::Cut;

/// Which MSM implementation the prover uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernel {
    /// arkworks' `VariableBaseMSM::msm_bigint`.
    Arkworks,
    /// 29-bit-limb field arithmetic and batch-affine Pippenger: the default in wasm.
    #[cfg_attr(target_arch = "wasm32", default)]
    Wasm29,
    /// The wasm kernel's algorithm over 64-bit limbs ([`fp64`]): the default natively.
    #[cfg_attr(not(target_arch = "wasm32"), default)]
    Native64,
}

impl Kernel {
    /// The name the benchmarks and examples take and print.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Arkworks => "arkworks",
            Kernel::Wasm29 => "wasm29",
            Kernel::Native64 => "native64",
        }
    }
}

impl core::str::FromStr for Kernel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [Kernel::Arkworks, Kernel::Wasm29, Kernel::Native64]
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown kernel {s}: arkworks, wasm29 or native64"))
    }
}

/// `sum(scalars[i] * bases[i])` in G1 (canonical scalars, as `into_bigint` gives them).
pub fn g1(kernel: Kernel, bases: &[G1Affine], scalars: &[BigInt<4>]) -> G1Projective {
    match kernel {
        Kernel::Arkworks => G1Projective::msm_bigint(bases, scalars),
        Kernel::Wasm29 => g1_prepared(&prepare_g1::<Fq29>(bases), scalars),
        Kernel::Native64 => g1_prepared(&prepare_g1::<Fp64>(bases), scalars),
    }
}

/// `sum(scalars[i] * bases[i])` in G2.
pub fn g2(kernel: Kernel, bases: &[G2Affine], scalars: &[BigInt<4>]) -> G2Projective {
    match kernel {
        Kernel::Arkworks => G2Projective::msm_bigint(bases, scalars),
        Kernel::Wasm29 => g2_prepared(&prepare_g2::<Fq29>(bases), scalars),
        Kernel::Native64 => g2_prepared(&prepare_g2::<Fp64>(bases), scalars),
    }
}

/// A coordinate field a [`pippenger`] kernel runs over: arkworks' base-field elements in its
/// form and back.
pub trait BaseField: Field {
    /// arkworks' element in this field's form.
    fn from_fq(x: &Fq) -> Self;
    /// arkworks' element of the same value.
    fn to_fq(&self) -> Fq;
}

/// The wasm kernel's field: one multiplication per conversion.
impl BaseField for Fq29 {
    fn from_fq(x: &Fq) -> Self {
        Fq29::from_ark_mont(&(x.0).0)
    }

    fn to_fq(&self) -> Fq {
        Fq::from_bigint(BigInt(self.to_canonical())).expect("a reduced element is below q")
    }
}

/// The native kernel's field: arkworks' own Montgomery form, so conversions are copies.
impl BaseField for Fp64 {
    fn from_fq(x: &Fq) -> Self {
        Fp64::from_ark(x)
    }

    fn to_fq(&self) -> Fq {
        self.to_ark()
    }
}

/// G1 points in a kernel's form, in order.
pub fn prepare_g1<F: BaseField>(points: &[G1Affine]) -> Vec<Affine<F>> {
    prepare(points, F::from_fq)
}

/// G2 points in a kernel's form, in order.
pub fn prepare_g2<F: BaseField>(points: &[G2Affine]) -> Vec<Affine<Fp2<F>>> {
    prepare(points, |x: &Fq2| Fp2 {
        c0: F::from_fq(&x.c0),
        c1: F::from_fq(&x.c1),
    })
}

/// arkworks' points with `coordinate` applied to x and y, in order.
fn prepare<C: SWCurveConfig, F: Send>(
    points: &[SwAffine<C>],
    coordinate: impl Fn(&C::BaseField) -> F + Sync + Send,
) -> Vec<Affine<F>> {
    let f = |p: &SwAffine<C>| Affine {
        x: coordinate(&p.x),
        y: coordinate(&p.y),
        infinity: p.infinity,
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        points.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    points.iter().map(f).collect()
}

/// A kernel's G1 MSM over points [`prepare_g1`] made.
pub fn g1_prepared<F: BaseField>(bases: &[Affine<F>], scalars: &[BigInt<4>]) -> G1Projective {
    g1_cut(bases, scalars, Cut::default())
}

/// A kernel's G2 MSM over points [`prepare_g2`] made.
pub fn g2_prepared<F: BaseField>(bases: &[Affine<Fp2<F>>], scalars: &[BigInt<4>]) -> G2Projective {
    g2_cut(bases, scalars, Cut::default())
}

/// [`g1_prepared`] cut as `cut` says; tests compare every cut with arkworks.
#[doc(hidden)]
pub fn g1_cut<F: BaseField>(bases: &[Affine<F>], scalars: &[BigInt<4>], cut: Cut) -> G1Projective {
    let beta = F::from_fq(&Fq::from_bigint(BigInt(glv::BETA_G1)).expect("beta is below q"));
    let r = pippenger::msm_glv_cut(bases, scalars, beta, cut);
    G1Projective::new_unchecked(r.x.to_fq(), r.y.to_fq(), r.z.to_fq())
}

/// [`g2_prepared`] cut as `cut` says.
#[doc(hidden)]
pub fn g2_cut<F: BaseField>(
    bases: &[Affine<Fp2<F>>],
    scalars: &[BigInt<4>],
    cut: Cut,
) -> G2Projective {
    let beta = Fp2 {
        c0: F::from_fq(&Fq::from_bigint(BigInt(glv::BETA_G2)).expect("beta is below q")),
        c1: F::ZERO,
    };
    let r = pippenger::msm_glv_cut(bases, scalars, beta, cut);
    let back = |x: &Fp2<F>| Fq2::new(x.c0.to_fq(), x.c1.to_fq());
    G2Projective::new_unchecked(back(&r.x), back(&r.y), back(&r.z))
}

#[cfg(test)]
mod tests;
