//! Field arithmetic built for wasm32: nine 29-bit limbs, Montgomery form with R = 2^261.
//!
//! wasm has a 64x64->64 multiply but no 64x64->128 one, so arkworks' four 64-bit limbs cost a
//! software 128-bit product each (`__multi3`). Limbs of 29 bits give 58-bit products that a `u64`
//! holds with room to add dozens of them before any carry is needed (the approach of the ZPrize
//! 2022 wasm MSM entries). The products themselves are in [`super::mont`], unrolled by column.
//!
//! # Representation and bounds
//! A value is nine `u32` limbs (half the memory of `u64` limbs: the MSM moves points around a
//! lot). Every operation except the `*_for_mul` ones returns a *reduced* element: each limb below
//! 2^29 and the value below 2p, not necessarily below p ("weakly reduced": a product then needs
//! no final conditional subtraction). Equality and [`Field::is_zero`] compare canonical values.
//!
//! A Montgomery product `(a * b + m * p) / R` with `a < 6p`, `b < 4p` is below
//! `24p^2 / R + p < 1.2p`, because BN254's moduli have 254 bits and R = 2^261. Its columns stay
//! below 2^64 when, with A and B the largest limbs of the two factors, `9AB + 9 * 2^58 + 2^35`
//! does. That allows the two cheaper operands that skip normalisation:
//! - [`Field::add_for_mul`]: limb-wise sum of two reduced values (limbs < 2^30, value < 4p);
//! - [`Field::sub_for_mul`]: `a + 4p - b` with 4p written so that no limb goes negative
//!   (limbs < 3 * 2^29, value < 6p).
//!
//! Either may be one factor of a product, the other factor reduced or an `add_for_mul`
//! (`9 * 3 * 2^29 * 2^30 + 9 * 2^58 + 2^35 < 2^64`); nothing else may take them.
//!
//! [`Field`] is what the curve code needs; [`Fp29`] implements it for BN254's base field (G1) and
//! [`Fp2`] for its quadratic extension (G2).

use core::marker::PhantomData;
use core::ops::{Add, Mul, Neg, Sub};

use super::mont;

/// Limbs per element.
pub const LIMBS: usize = 9;
/// Bits per limb.
pub const BITS: u32 = 29;
/// The low 29 bits.
pub const MASK: u64 = (1 << BITS) - 1;
/// Columns of a product of two elements before its reduction (see [`mont::columns`]).
pub const COLUMNS: usize = 2 * LIMBS - 1;

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
    /// 2p, normalised.
    const P2: [u64; LIMBS] = times(&Self::P, 2);
    /// 4p with limbs 1..8 in `[2^29 - 1, 2^30 - 1)` and limb 0 in `[2^29, 2^30)`, so that
    /// `a + PAD4 - b` has no negative limb for a normalised b.
    const PAD4: [u64; LIMBS] = redundant(&times(&Self::P, 4));
    /// A multiple of p (`p * 2^257`) as product columns, each at least the most that column of a
    /// product of two reduced values can hold: `v0 + PAD_WIDE - v1` has no negative column (see
    /// [`pad_wide`]).
    const PAD_WIDE: [u64; COLUMNS] = pad_wide(&Self::P);
}

/// The largest limb `i` of a reduced value (below 2p): every limb below 2^29, the top one at most
/// that of 2p.
const fn largest_limb(p2: &[u64; LIMBS], i: usize) -> u64 {
    if i == LIMBS - 1 {
        p2[LIMBS - 1]
    } else {
        MASK
    }
}

/// [`Modulus::PAD_WIDE`]: with `bound[k]` the most column k of a product of two reduced values
/// can hold, `X = p * 2^257` as columns `bound[k] + d[k]`, d the digits of `X - bound` (the part
/// above the top column folded into it). Since p > 2^253, X exceeds every such product (below
/// `(2p)^2 < 2^510`); since p < 2^254, `a0 b0 + X - a1 b1 < 4p^2 + 2^257 p` stays far below
/// `2^261 p`, so its Montgomery reduction is below 2p. Columns stay below `2 * 9 * 2^58 + 2^48`.
const fn pad_wide(p: &[u64; LIMBS]) -> [u64; COLUMNS] {
    let p2 = times(p, 2);
    let mut bound = [0u64; COLUMNS];
    let mut i = 0;
    while i < LIMBS {
        let mut j = 0;
        while j < LIMBS {
            bound[i + j] += largest_limb(&p2, i) * largest_limb(&p2, j);
            j += 1;
        }
        i += 1;
    }
    // The bound's digits (one more place than the columns for the carry out of the top one).
    let mut digits = [0u64; COLUMNS + 1];
    let mut carry = 0;
    let mut k = 0;
    while k < COLUMNS {
        let v = bound[k] + carry;
        digits[k] = v & MASK;
        carry = v >> BITS;
        k += 1;
    }
    digits[COLUMNS] = carry;
    // X = p * 2^257 = (p * 2^25) shifted by eight places.
    let mut x = [0u64; COLUMNS + 1];
    carry = 0;
    i = 0;
    while i < LIMBS {
        let v = (p[i] << 25) + carry;
        x[8 + i] = v & MASK;
        carry = v >> BITS;
        i += 1;
    }
    x[COLUMNS] += carry;
    // d = X - bound, digit by digit.
    let mut d = [0u64; COLUMNS + 1];
    let mut borrow = 0;
    k = 0;
    while k <= COLUMNS {
        let need = digits[k] + borrow;
        if x[k] >= need {
            d[k] = x[k] - need;
            borrow = 0;
        } else {
            d[k] = x[k] + (1 << BITS) - need;
            borrow = 1;
        }
        k += 1;
    }
    assert!(
        borrow == 0,
        "p * 2^257 must exceed every product of two reduced values"
    );
    let mut pad = [0u64; COLUMNS];
    k = 0;
    while k < COLUMNS {
        pad[k] = bound[k] + d[k];
        k += 1;
    }
    pad[COLUMNS - 1] += d[COLUMNS] << BITS;
    pad
}

/// `k * p`, normalised.
const fn times(p: &[u64; LIMBS], k: u64) -> [u64; LIMBS] {
    let mut out = [0u64; LIMBS];
    let mut carry = 0;
    let mut i = 0;
    while i < LIMBS {
        let v = p[i] * k + carry;
        out[i] = v & MASK;
        carry = v >> BITS;
        i += 1;
    }
    out
}

/// The same value with 2^29 moved into every limb from the one above (see [`Modulus::PAD4`]).
const fn redundant(x: &[u64; LIMBS]) -> [u64; LIMBS] {
    let mut out = [0u64; LIMBS];
    out[0] = x[0] + (1 << BITS);
    let mut i = 1;
    while i < LIMBS - 1 {
        out[i] = x[i] + (1 << BITS) - 1;
        i += 1;
    }
    out[LIMBS - 1] = x[LIMBS - 1] - 1;
    out
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
    /// `self - rhs`, usable only as one factor of a product (see the module docs).
    fn sub_for_mul(&self, rhs: &Self) -> Self;
    /// `self + rhs`, usable only as a factor of a product (see the module docs).
    fn add_for_mul(&self, rhs: &Self) -> Self;
    /// `(a.0 + a.1 u)(b.0 + b.1 u)` with `u^2 = -1`, the product of [`Fp2`] over this field, for
    /// reduced factors: Karatsuba's three products unless the field has a better way.
    #[inline(always)]
    fn mul_fp2(a: (Self, Self), b: (Self, Self)) -> (Self, Self) {
        let v0 = a.0 * b.0;
        let v1 = a.1 * b.1;
        let s = a.0.add_for_mul(&a.1) * b.0.add_for_mul(&b.1);
        (v0 - v1, s - v0 - v1)
    }
    /// `a^2 + b^2` for reduced values (the norm of [`Fp2`]'s `a + bu`), reduced.
    #[inline(always)]
    fn sum_of_squares(a: &Self, b: &Self) -> Self {
        a.square() + b.square()
    }
    /// Replaces every element by its inverse with one inversion (Montgomery's trick: three
    /// products an element), unless one of them is zero: then it returns false and leaves the
    /// values unspecified. `prefix` is scratch space.
    #[inline(always)]
    fn batch_invert_nonzero(values: &mut [Self], prefix: &mut Vec<Self>) -> bool {
        prefix.clear();
        let mut acc = Self::ONE;
        for v in values.iter() {
            prefix.push(acc);
            acc = acc * *v;
        }
        if acc.is_zero() {
            return false;
        }
        let mut inv = acc.inverse();
        for (v, before) in values.iter_mut().zip(prefix.iter()).rev() {
            let next = inv * *v;
            *v = inv * *before;
            inv = next;
        }
        true
    }
}

/// An element of the prime field of `M` in Montgomery form (see the module docs for its bounds).
#[derive(Clone, Copy)]
pub struct Fp29<M: Modulus>(pub(crate) [u32; LIMBS], PhantomData<M>);

/// BN254's base field, 29-bit limbs.
pub type Fq29 = Fp29<FqModulus>;
/// BN254's scalar field, 29-bit limbs.
pub type Fr29 = Fp29<FrModulus>;

impl<M: Modulus> core::fmt::Debug for Fp29<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fp29({:?})", self.to_canonical())
    }
}

impl<M: Modulus> PartialEq for Fp29<M> {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl<M: Modulus> Eq for Fp29<M> {}

impl<M: Modulus> Fp29<M> {
    /// From normalised limbs already in Montgomery form, below 2p.
    pub(crate) const fn from_mont_limbs(limbs: [u64; LIMBS]) -> Self {
        Fp29(narrow(&limbs), PhantomData)
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
        let mut one = [0u32; LIMBS];
        one[0] = 1;
        let plain = Fp29::<M>(mont::mul::<M>(&self.0, &one), PhantomData);
        pack(&plain.canonical())
    }

    /// The Montgomery limbs of the value below p.
    fn canonical(&self) -> [u64; LIMBS] {
        let t = wide(&self.0);
        let (d, borrow) = sub_limbs(&t, &M::P);
        if borrow {
            t
        } else {
            d
        }
    }

    /// `sum(a_i * b_i)` over reduced factors, with one Montgomery reduction per 32 products
    /// instead of one per product: each product's columns ([`mont::columns`]) are added up, their
    /// carries propagated every 4 products, and reduced once 32 have been added (or at the end).
    ///
    /// Bounds: a product of two reduced values has columns below `9 * 2^58`; after a carry
    /// propagation every column but the top one is below 2^29, so four more stay below 2^64. The
    /// value of 32 products is below `32 * (2p)^2 < 2^261 * p` (p < 2^254), which [`mont::reduce`]
    /// takes to below 2p; the top column holds that value's part above `2^464`, below 2^52.
    pub fn sum_of_products(pairs: impl IntoIterator<Item = (Self, Self)>) -> Self {
        const NORMALISE_EVERY: usize = 4;
        const REDUCE_EVERY: usize = 32;
        let mut sum = Self::ZERO;
        let mut t = [0u64; COLUMNS];
        let mut count = 0;
        for (a, b) in pairs {
            let c = mont::columns(&a.0, &b.0);
            for (t, c) in t.iter_mut().zip(c) {
                *t += c;
            }
            count += 1;
            if count % NORMALISE_EVERY == 0 {
                for k in 0..COLUMNS - 1 {
                    t[k + 1] += t[k] >> BITS;
                    t[k] &= MASK;
                }
            }
            if count == REDUCE_EVERY {
                sum = sum + Fp29(mont::reduce::<M>(&t), PhantomData);
                t = [0; COLUMNS];
                count = 0;
            }
        }
        if count > 0 {
            sum = sum + Fp29(mont::reduce::<M>(&t), PhantomData);
        }
        sum
    }

    /// `self^e` for an exponent given as little-endian 64-bit words.
    pub fn pow(&self, exp: &[u64]) -> Self {
        let mut acc = Self::ONE;
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

const fn wide(x: &[u32; LIMBS]) -> [u64; LIMBS] {
    let mut out = [0u64; LIMBS];
    let mut i = 0;
    while i < LIMBS {
        out[i] = x[i] as u64;
        i += 1;
    }
    out
}

/// Limbs known to fit 32 bits.
const fn narrow(x: &[u64; LIMBS]) -> [u32; LIMBS] {
    let mut out = [0u32; LIMBS];
    let mut i = 0;
    while i < LIMBS {
        out[i] = x[i] as u32;
        i += 1;
    }
    out
}

/// 256 bits in four words to nine 29-bit limbs.
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

/// `t - q` with normalised limbs, and whether it went below zero (the limbs are then the
/// two's complement mod 2^261).
#[inline(always)]
fn sub_limbs(t: &[u64; LIMBS], q: &[u64; LIMBS]) -> ([u64; LIMBS], bool) {
    let mut d = [0u64; LIMBS];
    let mut borrow = 0i64;
    for i in 0..LIMBS {
        let v = t[i] as i64 - q[i] as i64 + borrow;
        d[i] = (v as u64) & MASK;
        borrow = v >> BITS;
    }
    (d, borrow < 0)
}

impl<M: Modulus> Add for Fp29<M> {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        let mut t = [0u64; LIMBS];
        let mut carry = 0;
        for (i, limb) in t.iter_mut().enumerate() {
            let v = self.0[i] as u64 + rhs.0[i] as u64 + carry;
            *limb = v & MASK;
            carry = v >> BITS;
        }
        // Below 4p: take 2p off unless that goes negative.
        let (d, borrow) = sub_limbs(&t, &M::P2);
        Fp29(narrow(if borrow { &t } else { &d }), PhantomData)
    }
}

impl<M: Modulus> Sub for Fp29<M> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        let (mut d, borrow) = sub_limbs(&wide(&self.0), &wide(&rhs.0));
        if borrow {
            // Above -2p: adding 2p (and dropping the carry out of the top limb) lands in [0, 2p).
            let mut carry = 0u64;
            for (limb, p2) in d.iter_mut().zip(M::P2) {
                let v = *limb + p2 + carry;
                *limb = v & MASK;
                carry = v >> BITS;
            }
        }
        Fp29(narrow(&d), PhantomData)
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
        Fp29(mont::mul::<M>(&self.0, &rhs.0), PhantomData)
    }
}

impl<M: Modulus> Field for Fp29<M> {
    const ZERO: Self = Fp29([0; LIMBS], PhantomData);
    const ONE: Self = Fp29(narrow(&M::ONE), PhantomData);

    #[inline(always)]
    fn is_zero(&self) -> bool {
        // Reduced, so zero is either 0 or p.
        self.0 == [0; LIMBS] || self.0 == narrow(&M::P)
    }

    #[inline(always)]
    fn square(&self) -> Self {
        Fp29(mont::sqr::<M>(&self.0), PhantomData)
    }

    #[inline(always)]
    fn double(&self) -> Self {
        *self + *self
    }

    fn inverse(&self) -> Self {
        // Fermat: a^(p-2).
        let mut e = pack(&M::P);
        e[0] -= 2; // p is odd and far above 2: no borrow
        self.pow(&e)
    }

    #[inline(always)]
    fn sub_for_mul(&self, rhs: &Self) -> Self {
        let mut t = [0u32; LIMBS];
        for (i, limb) in t.iter_mut().enumerate() {
            *limb = (self.0[i] as u64 + M::PAD4[i] - rhs.0[i] as u64) as u32;
        }
        Fp29(t, PhantomData)
    }

    #[inline(always)]
    fn add_for_mul(&self, rhs: &Self) -> Self {
        let mut t = [0u32; LIMBS];
        for (i, limb) in t.iter_mut().enumerate() {
            *limb = self.0[i] + rhs.0[i];
        }
        Fp29(t, PhantomData)
    }

    /// Both squares as columns, added, one reduction (`2 * (2p)^2` is far below `2^261 * p`).
    #[inline(always)]
    fn sum_of_squares(a: &Self, b: &Self) -> Self {
        let (x, y) = (mont::square_columns(&a.0), mont::square_columns(&b.0));
        let mut t = [0u64; COLUMNS];
        for k in 0..COLUMNS {
            t[k] = x[k] + y[k];
        }
        Fp29(mont::reduce::<M>(&t), PhantomData)
    }

    /// Karatsuba with lazy reduction: the three products as columns (no reduction), then
    /// `c1 = s - v0 - v1` and `c0 = v0 + PAD_WIDE - v1` column by column, and two reductions
    /// instead of three (3 * 81 limb products and 2 * 81 for the reductions, against 6 * 81).
    /// `s - v0 - v1` is exact in every column (it is `sum a0_i b1_j + a1_i b0_j`, the sums
    /// `a0 + a1` being limb-wise), so it needs no padding; its columns stay below `18 * 2^58`, the
    /// sums' products below `9 * 2^60`.
    #[inline(always)]
    fn mul_fp2(a: (Self, Self), b: (Self, Self)) -> (Self, Self) {
        let sa = a.0.add_for_mul(&a.1);
        let sb = b.0.add_for_mul(&b.1);
        let v0 = mont::columns(&a.0 .0, &b.0 .0);
        let v1 = mont::columns(&a.1 .0, &b.1 .0);
        let s = mont::columns(&sa.0, &sb.0);
        let mut t0 = [0u64; COLUMNS];
        let mut t1 = [0u64; COLUMNS];
        for k in 0..COLUMNS {
            t0[k] = v0[k] + M::PAD_WIDE[k] - v1[k];
            t1[k] = s[k] - v0[k] - v1[k];
        }
        (
            Fp29(mont::reduce::<M>(&t0), PhantomData),
            Fp29(mont::reduce::<M>(&t1), PhantomData),
        )
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
    /// Karatsuba ([`Field::mul_fp2`]; for [`Fp29`] with two reductions instead of three).
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        let (c0, c1) = F::mul_fp2((self.c0, self.c1), (rhs.c0, rhs.c1));
        Fp2 { c0, c1 }
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

    /// (a + bu)^2 = (a + b)(a - b) + (2a)b u: two base-field products.
    #[inline(always)]
    fn square(&self) -> Self {
        Fp2 {
            c0: self.c0.add_for_mul(&self.c1) * (self.c0 - self.c1),
            c1: self.c0.add_for_mul(&self.c0) * self.c1,
        }
    }

    #[inline(always)]
    fn double(&self) -> Self {
        Fp2 {
            c0: self.c0.double(),
            c1: self.c1.double(),
        }
    }

    /// Through the norms, in the base field: `1 / (a + bu) = (a - bu) / (a^2 + b^2)` with the
    /// norms inverted together (Montgomery's trick over the base field), about 6 base-field
    /// products an element against the 9 of Montgomery's trick over Fp2 (three Fp2 products).
    /// An element is zero exactly when its norm is (-1 is not a square in BN254's Fq), so a zero
    /// still answers false. The norms and the prefix products ride in `prefix`'s two halves.
    #[inline(always)]
    fn batch_invert_nonzero(values: &mut [Self], prefix: &mut Vec<Self>) -> bool {
        prefix.clear();
        let mut acc = F::ONE;
        for v in values.iter() {
            let norm = F::sum_of_squares(&v.c0, &v.c1);
            prefix.push(Fp2 { c0: norm, c1: acc });
            acc = acc * norm;
        }
        if acc.is_zero() {
            return false;
        }
        let mut inv = acc.inverse();
        for (v, p) in values.iter_mut().zip(prefix.iter()).rev() {
            let norm_inv = inv * p.c1;
            inv = inv * p.c0;
            *v = Fp2 {
                c0: v.c0 * norm_inv,
                c1: -(v.c1 * norm_inv),
            };
        }
        true
    }

    /// 1 / (a + bu) = (a - bu) / (a^2 + b^2).
    fn inverse(&self) -> Self {
        let norm_inv = F::sum_of_squares(&self.c0, &self.c1).inverse();
        Fp2 {
            c0: self.c0 * norm_inv,
            c1: -(self.c1 * norm_inv),
        }
    }

    /// Reduced: the Karatsuba sums inside a product would otherwise add unnormalised values.
    #[inline(always)]
    fn sub_for_mul(&self, rhs: &Self) -> Self {
        *self - *rhs
    }

    #[inline(always)]
    fn add_for_mul(&self, rhs: &Self) -> Self {
        *self + *rhs
    }
}
