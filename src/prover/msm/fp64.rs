//! BN254's base field in four 64-bit limbs with u128 products, weakly reduced (below 2p): a
//! Montgomery product (CIOS) of factors below 2p is below `4p^2 / 2^256 + p < 2p` because
//! 4p < 2^256, so it needs no final conditional subtraction, which arkworks' `Fq` does on every
//! product. Same Montgomery form as arkworks' (R = 2^256): an element below p is arkworks' own
//! limbs, so conversions are copies and the inversion is arkworks' (binary Euclid).

use core::ops::{Add, Mul, Neg, Sub};

use ark_bn254::{Fq, FqConfig};
use ark_ff::{BigInt, Field as _, MontConfig, PrimeField};

use super::field::Field;

const P: [u64; 4] = Fq::MODULUS.0;
const P2: [u64; 4] = {
    let mut out = [0u64; 4];
    let mut carry = 0;
    let mut i = 0;
    while i < 4 {
        out[i] = (P[i] << 1) | carry;
        carry = P[i] >> 63;
        i += 1;
    }
    out
};
const INV: u64 = <FqConfig as MontConfig<4>>::INV;

/// An element of Fq in Montgomery form, below 2p.
#[derive(Clone, Copy, Debug)]
pub struct Fp64(pub(crate) [u64; 4]);

impl Fp64 {
    /// From Montgomery limbs below 2p.
    pub fn from_mont_limbs(limbs: [u64; 4]) -> Self {
        debug_assert!(sub4(&limbs, &P2).1, "limbs of 2p or more");
        Fp64(limbs)
    }

    /// From arkworks' element (a copy).
    #[inline(always)]
    pub fn from_ark(x: &Fq) -> Self {
        Fp64((x.0).0)
    }

    /// arkworks' element of the same value.
    #[inline(always)]
    pub fn to_ark(&self) -> Fq {
        Fq::new_unchecked(BigInt(self.canonical()))
    }

    #[inline(always)]
    fn canonical(&self) -> [u64; 4] {
        let (d, borrow) = sub4(&self.0, &P);
        if borrow {
            self.0
        } else {
            d
        }
    }
}

#[inline(always)]
fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = acc as u128 + (a as u128) * (b as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

#[inline(always)]
fn sub4(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        out[i] = d;
        borrow = b1 | b2;
    }
    (out, borrow)
}

#[inline(always)]
fn add4(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s, c1) = a[i].overflowing_add(b[i]);
        let (s, c2) = s.overflowing_add(u64::from(carry));
        out[i] = s;
        carry = c1 | c2;
    }
    out
}

/// CIOS: after step i, `t < a + p < 3p`, so t fits four words and its fifth (`top`) holds only
/// what a step adds before the shift.
#[inline(always)]
fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut t = [0u64; 4];
    for &bi in b {
        let mut carry = 0;
        for j in 0..4 {
            (t[j], carry) = mac(t[j], a[j], bi, carry);
        }
        let top = carry;
        let m = t[0].wrapping_mul(INV);
        let (_, mut carry) = mac(t[0], m, P[0], 0);
        for j in 1..4 {
            (t[j - 1], carry) = mac(t[j], m, P[j], carry);
        }
        t[3] = top.wrapping_add(carry);
    }
    t
}

impl PartialEq for Fp64 {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl Add for Fp64 {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        let s = add4(&self.0, &rhs.0);
        let (d, borrow) = sub4(&s, &P2);
        Fp64(if borrow { s } else { d })
    }
}

impl Sub for Fp64 {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        let (d, borrow) = sub4(&self.0, &rhs.0);
        Fp64(if borrow { add4(&d, &P2) } else { d })
    }
}

impl Neg for Fp64 {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self::ZERO - self
    }
}

impl Mul for Fp64 {
    type Output = Self;
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        Fp64(mont_mul(&self.0, &rhs.0))
    }
}

impl Field for Fp64 {
    const ZERO: Self = Fp64([0; 4]);
    const ONE: Self = Fp64(<FqConfig as MontConfig<4>>::R.0);

    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.0 == [0; 4] || self.0 == P
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
        Fp64::from_ark(&self.to_ark().inverse().unwrap_or(Fq::from(0u64)))
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
