//! Field arithmetic built for wasm32: nine 29-bit limbs held in `u64`s, Montgomery form with
//! R = 2^261.
//!
//! wasm has a 64x64->64 multiply but no 64x64->128 one, so arkworks' four 64-bit limbs cost a
//! software 128-bit product each (`__multi3`). Limbs of 29 bits give 58-bit products that a `u64`
//! holds with room to add 64 of them before any carry is needed: the Montgomery loop below adds
//! products without propagating carries and normalises once at the end (the approach of the
//! ZPrize 2022 wasm MSM entries). BN254's moduli have 254 bits, so 4p < R and a product of two
//! reduced values is below 2p before its one conditional subtraction.
//!
//! [`Field`] is what the curve code needs; [`Fp29`] implements it for BN254's base field (G1) and
//! [`Fp2`] for its quadratic extension (G2).

use core::marker::PhantomData;
use core::ops::{Add, Mul, Neg, Sub};

/// Limbs per element.
pub const LIMBS: usize = 9;
const BITS: u32 = 29;
const MASK: u64 = (1 << BITS) - 1;

/// The constants of one 254-bit prime modulus, in 29-bit limbs (least significant first).
pub trait Modulus: 'static + Copy + Send + Sync + core::fmt::Debug + PartialEq {
    /// The modulus p.
    const P: [u64; LIMBS];
    /// -p^-1 mod 2^29.
    const INV: u64;
    /// R mod p (one in Montgomery form).
    const ONE: [u64; LIMBS];
    /// R^2 mod p: Montgomery-multiplying a plain value by it gives its Montgomery form.
    const R2: [u64; LIMBS];
    /// 2^266 mod p: Montgomery-multiplying arkworks' Montgomery form (R = 2^256) by it gives ours.
    const FROM_ARK: [u64; LIMBS];
}

/// BN254's base field (coordinates of G1 and, over [`Fp2`], of G2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FqModulus;

impl Modulus for FqModulus {
    const P: [u64; LIMBS] = [
        0x187cfd47, 0x10460b6, 0x1c72a34f, 0x2d522d0, 0x1585d978, 0x2db40c0, 0xa6e141, 0xe5c2634,
        0x30644e,
    ];
    const INV: u64 = 0x4866389;
    const ONE: [u64; LIMBS] = [
        0x157ccc21, 0x141c2758, 0x185230d3, 0x14c0419, 0xaa36fb9, 0x1d4240ce, 0x11d54c07,
        0x52ac7a8, 0xdc836,
    ];
    const R2: [u64; LIMBS] = [
        0x59bac10, 0xd1503a3, 0x18016b8, 0x10ab0ca8, 0x2632639, 0x2c0169f, 0x169bfd53, 0x11869d4c,
        0x2a11a6,
    ];
    const FROM_ARK: [u64; LIMBS] = [
        0x13349ca1, 0x1a5d84a8, 0xa3e5cac, 0x100249e0, 0x12b951e8, 0xe92d304, 0x14cb95b3,
        0x41b9d3d, 0x58003,
    ];
}

/// BN254's scalar field (for the FFTs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrModulus;

impl Modulus for FrModulus {
    const P: [u64; LIMBS] = [
        0x10000001, 0x1f0fac9f, 0xe5c2450, 0x7d090f3, 0x1585d283, 0x2db40c0, 0xa6e141, 0xe5c2634,
        0x30644e,
    ];
    const INV: u64 = 0xfffffff;
    const ONE: [u64; LIMBS] = [
        0xfffff57, 0x1ea70ab4, 0x52c068b, 0x17504f49, 0xaa8075b, 0x1d4240ce, 0x11d54c07, 0x52ac7a8,
        0xdc836,
    ];
    const R2: [u64; LIMBS] = [
        0x5b69bd4, 0x6170a5a, 0x20cddce, 0x1db6310b, 0xe54d0ff, 0x1cf855e3, 0x1c15e103, 0x7d09161,
        0xa054a,
    ];
    const FROM_ARK: [u64; LIMBS] = [
        0xfffead7, 0x1d5444f4, 0x4438aa5, 0x3b4d096, 0x134c84da, 0xe92d304, 0x14cb95b3, 0x41b9d3d,
        0x58003,
    ];
}

/// What the curve arithmetic needs of a coordinate field.
pub trait Field:
    Copy
    + Send
    + Sync
    + PartialEq
    + core::fmt::Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Whether this is zero.
    fn is_zero(&self) -> bool;
    /// `self * self`.
    fn square(&self) -> Self;
    /// `self + self`.
    fn double(&self) -> Self;
    /// The inverse; zero for zero.
    fn inverse(&self) -> Self;
}

/// An element of the prime field of `M`, in Montgomery form, always fully reduced (< p) with
/// every limb below 2^29, so that equality is limb equality.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fp29<M: Modulus>(pub(crate) [u64; LIMBS], PhantomData<M>);

/// BN254's base field, 29-bit limbs.
pub type Fq29 = Fp29<FqModulus>;
/// BN254's scalar field, 29-bit limbs.
pub type Fr29 = Fp29<FrModulus>;

impl<M: Modulus> core::fmt::Debug for Fp29<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fp29({:?})", self.to_canonical())
    }
}

impl<M: Modulus> Fp29<M> {
    /// From limbs already in Montgomery form and reduced.
    pub(crate) const fn from_mont_limbs(limbs: [u64; LIMBS]) -> Self {
        Fp29(limbs, PhantomData)
    }

    /// From a plain (canonical, < p) value as four little-endian 64-bit words.
    pub fn from_canonical(words: &[u64; 4]) -> Self {
        Self::from_mont_limbs(unpack(words)) * Self::from_mont_limbs(M::R2)
    }

    /// From arkworks' Montgomery representation (R = 2^256) as four 64-bit words.
    pub fn from_ark_mont(words: &[u64; 4]) -> Self {
        Self::from_mont_limbs(unpack(words)) * Self::from_mont_limbs(M::FROM_ARK)
    }

    /// The plain value as four little-endian 64-bit words.
    pub fn to_canonical(&self) -> [u64; 4] {
        let mut one = [0u64; LIMBS];
        one[0] = 1;
        pack(&mont_mul::<M>(&self.0, &one))
    }

    /// `self^e` for an exponent given as little-endian 64-bit words.
    pub fn pow(&self, exp: &[u64]) -> Self {
        let mut acc = Self::from_mont_limbs(M::ONE);
        for word in exp.iter().rev() {
            for bit in (0..64).rev() {
                acc = acc.square();
                if (word >> bit) & 1 == 1 {
                    acc = acc * *self;
                }
            }
        }
        acc
    }
}

/// 256 bits in four words to nine 29-bit limbs (the value must be below 2^261).
fn unpack(words: &[u64; 4]) -> [u64; LIMBS] {
    let mut out = [0u64; LIMBS];
    for (i, limb) in out.iter_mut().enumerate() {
        let bit = i * BITS as usize;
        let (w, s) = (bit / 64, bit % 64);
        let mut v = words[w] >> s;
        if s + BITS as usize > 64 && w + 1 < 4 {
            v |= words[w + 1] << (64 - s);
        }
        *limb = v & MASK;
    }
    out
}

/// Nine normalised 29-bit limbs (value below 2^256) to four words.
fn pack(limbs: &[u64; LIMBS]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, &limb) in limbs.iter().enumerate() {
        let bit = i * BITS as usize;
        let (w, s) = (bit / 64, bit % 64);
        out[w] |= limb << s;
        if s + BITS as usize > 64 && w + 1 < 4 {
            out[w + 1] |= limb >> (64 - s);
        }
    }
    out
}

/// Montgomery product `a * b / 2^261 mod p` of reduced inputs, reduced.
///
/// Each round adds `a_i * b` and `m * p` to the accumulators and shifts them down one limb; an
/// accumulator receives at most 18 products below 2^58 before it is read, so nothing overflows
/// and only the lowest limb's carry is taken per round. `m` needs only the low 29 bits of the
/// lowest accumulator, so its product with INV may wrap.
#[inline(always)]
fn mont_mul<M: Modulus>(a: &[u64; LIMBS], b: &[u64; LIMBS]) -> [u64; LIMBS] {
    let p = &M::P;
    // One round: t = (t + ai * b + m * p) / 2^29, unrolled by hand so that the nine
    // accumulators stay in locals (registers) instead of an array in memory.
    #[inline(always)]
    fn round<M: Modulus>(t: &mut [u64; LIMBS], ai: u64, b: &[u64; LIMBS], p: &[u64; LIMBS]) {
        let t0 = t[0] + ai * b[0];
        let m = (t0.wrapping_mul(M::INV)) & MASK;
        let carry = (t0 + m * p[0]) >> BITS;
        t[0] = t[1] + ai * b[1] + m * p[1] + carry;
        t[1] = t[2] + ai * b[2] + m * p[2];
        t[2] = t[3] + ai * b[3] + m * p[3];
        t[3] = t[4] + ai * b[4] + m * p[4];
        t[4] = t[5] + ai * b[5] + m * p[5];
        t[5] = t[6] + ai * b[6] + m * p[6];
        t[6] = t[7] + ai * b[7] + m * p[7];
        t[7] = t[8] + ai * b[8] + m * p[8];
        t[8] = 0;
    }
    let mut t = [0u64; LIMBS];
    round::<M>(&mut t, a[0], b, p);
    round::<M>(&mut t, a[1], b, p);
    round::<M>(&mut t, a[2], b, p);
    round::<M>(&mut t, a[3], b, p);
    round::<M>(&mut t, a[4], b, p);
    round::<M>(&mut t, a[5], b, p);
    round::<M>(&mut t, a[6], b, p);
    round::<M>(&mut t, a[7], b, p);
    round::<M>(&mut t, a[8], b, p);
    reduce_once::<M>(normalise(t))
}

/// Propagates carries so every limb is below 2^29 (the value must fit in 261 bits).
#[inline(always)]
fn normalise(mut t: [u64; LIMBS]) -> [u64; LIMBS] {
    let mut carry = 0u64;
    for limb in t.iter_mut() {
        let v = *limb + carry;
        *limb = v & MASK;
        carry = v >> BITS;
    }
    t
}

/// `t - p` if `t >= p`, else `t` (normalised input below 2p).
#[inline(always)]
fn reduce_once<M: Modulus>(t: [u64; LIMBS]) -> [u64; LIMBS] {
    let mut d = [0u64; LIMBS];
    let mut borrow = 0i64;
    for i in 0..LIMBS {
        let v = t[i] as i64 - M::P[i] as i64 + borrow;
        d[i] = (v as u64) & MASK;
        borrow = v >> BITS;
    }
    if borrow < 0 {
        t
    } else {
        d
    }
}

impl<M: Modulus> Add for Fp29<M> {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        let mut t = [0u64; LIMBS];
        for (i, limb) in t.iter_mut().enumerate() {
            *limb = self.0[i] + rhs.0[i];
        }
        Self::from_mont_limbs(reduce_once::<M>(normalise(t)))
    }
}

impl<M: Modulus> Sub for Fp29<M> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        let mut d = [0u64; LIMBS];
        let mut borrow = 0i64;
        for (i, limb) in d.iter_mut().enumerate() {
            let v = self.0[i] as i64 - rhs.0[i] as i64 + borrow;
            *limb = (v as u64) & MASK;
            borrow = v >> BITS;
        }
        if borrow < 0 {
            // Went below zero: add p back.
            let mut carry = 0u64;
            for (i, limb) in d.iter_mut().enumerate() {
                let v = *limb + M::P[i] + carry;
                *limb = v & MASK;
                carry = v >> BITS;
            }
        }
        Self::from_mont_limbs(d)
    }
}

impl<M: Modulus> Neg for Fp29<M> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self::ZERO - self
    }
}

impl<M: Modulus> Mul for Fp29<M> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        Self::from_mont_limbs(mont_mul::<M>(&self.0, &rhs.0))
    }
}

impl<M: Modulus> Field for Fp29<M> {
    const ZERO: Self = Fp29([0; LIMBS], PhantomData);
    const ONE: Self = Fp29(M::ONE, PhantomData);

    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }

    #[inline(always)]
    fn square(&self) -> Self {
        *self * *self
    }

    #[inline(always)]
    fn double(&self) -> Self {
        *self + *self
    }

    fn inverse(&self) -> Self {
        // Fermat: a^(p-2).
        let p = pack(&M::P);
        let mut e = p;
        e[0] -= 2; // p is odd and far above 2: no borrow
        self.pow(&e)
    }
}

/// `c0 + c1 * u` with `u^2 = -1`: BN254's Fq2, over which G2 is defined.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fp2<F> {
    /// The real part.
    pub c0: F,
    /// The coefficient of u.
    pub c1: F,
}

impl<F: Field> Add for Fp2<F> {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        Fp2 {
            c0: self.c0 + rhs.c0,
            c1: self.c1 + rhs.c1,
        }
    }
}

impl<F: Field> Sub for Fp2<F> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        Fp2 {
            c0: self.c0 - rhs.c0,
            c1: self.c1 - rhs.c1,
        }
    }
}

impl<F: Field> Neg for Fp2<F> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Fp2 {
            c0: -self.c0,
            c1: -self.c1,
        }
    }
}

impl<F: Field> Mul for Fp2<F> {
    type Output = Self;
    /// Karatsuba: three base-field products.
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        let v0 = self.c0 * rhs.c0;
        let v1 = self.c1 * rhs.c1;
        let s = (self.c0 + self.c1) * (rhs.c0 + rhs.c1);
        Fp2 {
            c0: v0 - v1,
            c1: s - v0 - v1,
        }
    }
}

impl<F: Field> Field for Fp2<F> {
    const ZERO: Self = Fp2 {
        c0: F::ZERO,
        c1: F::ZERO,
    };
    const ONE: Self = Fp2 {
        c0: F::ONE,
        c1: F::ZERO,
    };

    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.c0.is_zero() && self.c1.is_zero()
    }

    /// (a + bu)^2 = (a + b)(a - b) + 2ab u: two base-field products.
    #[inline(always)]
    fn square(&self) -> Self {
        let ab = self.c0 * self.c1;
        Fp2 {
            c0: (self.c0 + self.c1) * (self.c0 - self.c1),
            c1: ab.double(),
        }
    }

    #[inline(always)]
    fn double(&self) -> Self {
        Fp2 {
            c0: self.c0.double(),
            c1: self.c1.double(),
        }
    }

    /// 1 / (a + bu) = (a - bu) / (a^2 + b^2).
    fn inverse(&self) -> Self {
        let norm_inv = (self.c0.square() + self.c1.square()).inverse();
        Fp2 {
            c0: self.c0 * norm_inv,
            c1: -(self.c1 * norm_inv),
        }
    }
}
