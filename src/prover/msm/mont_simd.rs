//! [`super::mont::mul`] two limb products at a time, for wasm's `simd128` (issue 32): the same
//! Montgomery product, operand-scanned instead of column-scanned.
//!
//! Row `i` of the product, `a_i * (b_0 .. b_7)`, is four `u64x2.extmul_{low,high}_u32x4` of
//! `splat(a_i)` by `(b_0..b_3)` and `(b_4..b_7)`: lane pairs that land on columns `(i + 2h, i +
//! 2h + 1)`. Rows with even `i` add into `even[h]` = columns `(2h, 2h + 1)`, odd rows into
//! `odd[h]` = columns `(2h + 1, 2h + 2)`, so no lane ever moves; the `b_8` column is
//! `(a_0..a_3) * splat(b_8)` and `(a_4..a_7) * splat(b_8)` (even pairs) and `a_8 b_8` alone.
//! The reduction is sequential as in `mont`: step k reads column k (one lane of `even`, one of
//! `odd`, the scalar carry), picks `m_k` and adds `m_k * (p_0..p_7)` the same way; the `p_8`
//! products land after step 8 except `m_0 p_8` (column 8, which step 8 reads). Each column holds
//! the same sum as in `mont`, split over two lanes, so the bounds there hold here.
//!
//! 40 + 40 `extmul`s (two products each) and 20 scalar multiplies replace the 171 scalar ones of
//! the product-scanned `mont_scanned::mul` (`mont::mul` takes 144 since its Karatsuba columns).
//! The lanes are [`core::arch::wasm32`]'s with `simd128`, and a plain `[u64; 2]` model elsewhere,
//! so that native tests check the lane arithmetic against `mont::mul`.
//!
//! Measured in Chromium (`benches/simd-mont/run.mjs`; README, "How the browser build is fast"),
//! it was about 1.5 times *slower* than the product-scanned `mont::mul`, and is 1.8 times slower
//! than today's (Karatsuba columns: 97.0 against 53.6 ns), so no build uses it: LLVM turns most
//! `extmul`s whose one operand is a splat into `i64x2.extend` + `i64x2.mul` (a full 64x64 lane
//! product, several SSE/AVX2 instructions; hiding the splat with `black_box` measured slower
//! still), and every reduction step moves its column from the lanes to a scalar and `m_k` back,
//! on the product's critical path. Compiled only for tests and the
//! benchmark, which includes this file by path.

use super::field::{Modulus, BITS, COLUMNS, LIMBS, MASK};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::{
        u32x4, u32x4_splat, u64x2_add, u64x2_extmul_high_u32x4, u64x2_extmul_low_u32x4,
        u64x2_extract_lane, u64x2_splat, v128,
    };

    /// Two u64 lanes.
    pub type W = v128;
    /// Four u32 lanes.
    pub type N = v128;

    #[inline(always)]
    pub fn n4(a: u32, b: u32, c: u32, d: u32) -> N {
        u32x4(a, b, c, d)
    }
    #[inline(always)]
    pub fn splat(a: u32) -> N {
        u32x4_splat(a)
    }
    #[inline(always)]
    pub fn zero() -> W {
        u64x2_splat(0)
    }
    #[inline(always)]
    pub fn lo(a: N, b: N) -> W {
        u64x2_extmul_low_u32x4(a, b)
    }
    #[inline(always)]
    pub fn hi(a: N, b: N) -> W {
        u64x2_extmul_high_u32x4(a, b)
    }
    #[inline(always)]
    pub fn add(a: W, b: W) -> W {
        u64x2_add(a, b)
    }
    #[inline(always)]
    pub fn lane0(a: W) -> u64 {
        u64x2_extract_lane::<0>(a)
    }
    #[inline(always)]
    pub fn lane1(a: W) -> u64 {
        u64x2_extract_lane::<1>(a)
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    //! The lane model: what the wasm instructions compute, lane by lane.

    /// Two u64 lanes.
    pub type W = [u64; 2];
    /// Four u32 lanes.
    pub type N = [u32; 4];

    #[inline(always)]
    pub fn n4(a: u32, b: u32, c: u32, d: u32) -> N {
        [a, b, c, d]
    }
    #[inline(always)]
    pub fn splat(a: u32) -> N {
        [a; 4]
    }
    #[inline(always)]
    pub fn zero() -> W {
        [0; 2]
    }
    #[inline(always)]
    pub fn lo(a: N, b: N) -> W {
        [a[0] as u64 * b[0] as u64, a[1] as u64 * b[1] as u64]
    }
    #[inline(always)]
    pub fn hi(a: N, b: N) -> W {
        [a[2] as u64 * b[2] as u64, a[3] as u64 * b[3] as u64]
    }
    #[inline(always)]
    pub fn add(a: W, b: W) -> W {
        [a[0].wrapping_add(b[0]), a[1].wrapping_add(b[1])]
    }
    #[inline(always)]
    pub fn lane0(a: W) -> u64 {
        a[0]
    }
    #[inline(always)]
    pub fn lane1(a: W) -> u64 {
        a[1]
    }
}

use lanes::{add, hi, lane0, lane1, lo, n4, splat, zero, N, W};

/// Pairs of columns: `even[h]` holds columns `(2h, 2h + 1)`, `odd[h]` columns `(2h + 1, 2h + 2)`.
struct Columns {
    even: [W; LIMBS],
    odd: [W; LIMBS],
}

impl Columns {
    /// Adds `x * (y_0..y_7)` to columns `k..k + 8`.
    #[inline(always)]
    fn add_row(&mut self, k: usize, x: u32, y0: N, y1: N) {
        let s = splat(x);
        let h = k / 2;
        let pairs = if k.is_multiple_of(2) {
            &mut self.even
        } else {
            &mut self.odd
        };
        pairs[h] = add(pairs[h], lo(s, y0));
        pairs[h + 1] = add(pairs[h + 1], hi(s, y0));
        pairs[h + 2] = add(pairs[h + 2], lo(s, y1));
        pairs[h + 3] = add(pairs[h + 3], hi(s, y1));
    }

    /// Column k's sum, both lanes that hold part of it.
    #[inline(always)]
    fn column(&self, k: usize) -> u64 {
        let h = k / 2;
        if k.is_multiple_of(2) {
            let e = lane0(self.even[h]);
            if h == 0 {
                e
            } else {
                e + lane1(self.odd[h - 1])
            }
        } else {
            lane1(self.even[h]) + lane0(self.odd[h])
        }
    }
}

/// The product's 81 limb products in lane pairs, and `a_8 b_8` (column 16) apart.
#[inline(always)]
fn product(a: &[u32; LIMBS], b: &[u32; LIMBS]) -> (Columns, u64) {
    let mut t = Columns {
        even: [zero(); LIMBS],
        odd: [zero(); LIMBS],
    };
    let b0 = n4(b[0], b[1], b[2], b[3]);
    let b1 = n4(b[4], b[5], b[6], b[7]);
    for (i, &ai) in a.iter().enumerate() {
        t.add_row(i, ai, b0, b1);
    }
    let b8 = splat(b[8]);
    t.even[4] = add(t.even[4], lo(n4(a[0], a[1], a[2], a[3]), b8));
    t.even[5] = add(t.even[5], hi(n4(a[0], a[1], a[2], a[3]), b8));
    t.even[6] = add(t.even[6], lo(n4(a[4], a[5], a[6], a[7]), b8));
    t.even[7] = add(t.even[7], hi(n4(a[4], a[5], a[6], a[7]), b8));
    (t, a[8] as u64 * b[8] as u64)
}

/// The other split: the limb products in lanes ([`product`]), the reduction scalar
/// ([`super::mont::reduce`]). Equal to [`super::mont::mul`] too.
#[inline(always)]
pub(super) fn mul_then_reduce<M: Modulus>(a: &[u32; LIMBS], b: &[u32; LIMBS]) -> [u32; LIMBS] {
    let (t, top) = product(a, b);
    let mut cols: [u64; COLUMNS] = core::array::from_fn(|k| t.column(k));
    cols[COLUMNS - 1] += top;
    super::mont::reduce::<M>(&cols)
}

/// `a * b / 2^261 mod p`, below 2p: equal to [`super::mont::mul`] for every input.
#[inline(always)]
pub(super) fn mul<M: Modulus>(a: &[u32; LIMBS], b: &[u32; LIMBS]) -> [u32; LIMBS] {
    let p = &M::P;
    let (mut t, top) = product(a, b);

    let p0 = n4(p[0] as u32, p[1] as u32, p[2] as u32, p[3] as u32);
    let p1 = n4(p[4] as u32, p[5] as u32, p[6] as u32, p[7] as u32);
    let mut m = [0u32; LIMBS];
    let mut carry = 0u64;
    for k in 0..LIMBS {
        let mut acc = carry + t.column(k);
        if k == LIMBS - 1 {
            acc += m[0] as u64 * p[8];
        }
        let mk = acc.wrapping_mul(M::INV) & MASK;
        m[k] = mk as u32;
        carry = (acc + mk * p[0]) >> BITS;
        t.add_row(k, mk as u32, p0, p1);
    }
    let p8 = splat(p[8] as u32);
    t.odd[4] = add(t.odd[4], lo(n4(m[1], m[2], m[3], m[4]), p8));
    t.odd[5] = add(t.odd[5], hi(n4(m[1], m[2], m[3], m[4]), p8));
    t.odd[6] = add(t.odd[6], lo(n4(m[5], m[6], m[7], m[8]), p8));
    t.odd[7] = add(t.odd[7], hi(n4(m[5], m[6], m[7], m[8]), p8));

    let mut r = [0u32; LIMBS];
    for (j, rj) in r.iter_mut().enumerate().take(LIMBS - 1) {
        let k = LIMBS + j;
        let mut acc = carry + t.column(k);
        if k == 2 * LIMBS - 2 {
            acc += top;
        }
        *rj = (acc & MASK) as u32;
        carry = acc >> BITS;
    }
    r[LIMBS - 1] = carry as u32;
    r
}
