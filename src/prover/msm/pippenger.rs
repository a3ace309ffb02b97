//! Pippenger's bucket method with signed digits and batch-affine bucket sums.
//!
//! Per window of `c` bits, each scalar contributes a signed digit `d` in `[-2^(c-1)+1, 2^(c-1)]`:
//! `±P` goes into bucket `|d|`, so there are only `2^(c-1)` buckets. The points of a window are
//! sorted by bucket (a counting sort), then every bucket is summed as a tree: in each round all
//! neighbouring pairs of all buckets are added in affine coordinates, their `x2 - x1` inverted
//! together with one field inversion (Montgomery's trick). An affine addition then costs about
//! six multiplications instead of the eleven of a mixed Jacobian addition. Equal x (a doubling,
//! or `P + -P`) and the identity take a slow path. The buckets are combined with the usual
//! running sum, in Jacobian coordinates, and windows are independent: with `parallel`, each
//! window runs on a rayon thread.

use super::curve::{Affine, Jacobian};
use super::field::Field;

/// Bits of a scalar (BN254's Fr has 254).
const SCALAR_BITS: usize = 254;

/// Multiplications per bucket of the running sum (a mixed and a full Jacobian addition) against
/// per point of a window (an affine addition with its share of the batch inversion): the window
/// size minimises `windows * (points * POINT_COST + buckets * BUCKET_COST)`.
const POINT_COST: usize = 7;
const BUCKET_COST: usize = 27;

/// The window size for `n` points.
pub fn window_bits(n: usize) -> usize {
    (4..=16)
        .min_by_key(|&c| windows(c) * (n * POINT_COST + (1usize << (c - 1)) * BUCKET_COST))
        .unwrap_or(8)
}

/// Windows of `c` bits needed for signed digits of a 254-bit scalar: the top window's digit
/// stays below `2^(c-1)` with the carry, so no carry leaves it.
fn windows(c: usize) -> usize {
    SCALAR_BITS / c + 1
}

/// The signed digits of every scalar, window-major: `digits[w * n + i]` is scalar i's digit in
/// window w.
fn signed_digits(scalars: &[[u64; 4]], c: usize) -> Vec<i32> {
    let n = scalars.len();
    let w_count = windows(c);
    let mut digits = vec![0i32; w_count * n];
    let half = 1i64 << (c - 1);
    let full = 1i64 << c;
    for (i, s) in scalars.iter().enumerate() {
        let mut carry = 0i64;
        for w in 0..w_count {
            let raw = bits(s, w * c, c) as i64 + carry;
            let d = if raw > half { raw - full } else { raw };
            carry = i64::from(raw > half);
            digits[w * n + i] = d as i32;
        }
        debug_assert_eq!(carry, 0, "a scalar of more than {SCALAR_BITS} bits");
    }
    digits
}

/// `count` bits of `s` from bit `start` (zero past the end).
fn bits(s: &[u64; 4], start: usize, count: usize) -> u64 {
    let (w, b) = (start / 64, start % 64);
    if w >= 4 {
        return 0;
    }
    let mut v = s[w] >> b;
    if b + count > 64 && w + 1 < 4 {
        v |= s[w + 1] << (64 - b);
    }
    v & ((1u64 << count) - 1)
}

/// `sum(scalars[i] * bases[i])`. Scalars are canonical little-endian words below 2^254; bases
/// may include the identity and repeat.
pub fn msm<F: Field>(bases: &[Affine<F>], scalars: &[[u64; 4]]) -> Jacobian<F> {
    let n = bases.len().min(scalars.len());
    if n == 0 {
        return Jacobian::ZERO;
    }
    let (bases, scalars) = (&bases[..n], &scalars[..n]);
    let c = window_bits(n);
    let digits = signed_digits(scalars, c);
    let window = |w: usize| window_sum(bases, &digits[w * n..(w + 1) * n], c);
    #[cfg(feature = "parallel")]
    let sums: Vec<Jacobian<F>> = {
        use rayon::prelude::*;
        (0..windows(c)).into_par_iter().map(window).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let sums: Vec<Jacobian<F>> = (0..windows(c)).map(window).collect();
    // Horner from the top window: acc = acc * 2^c + sum_w.
    let mut acc = Jacobian::ZERO;
    for sum in sums.iter().rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        acc = acc.add(sum);
    }
    acc
}

/// `sum(digit_i * bases[i])` over one window.
fn window_sum<F: Field>(bases: &[Affine<F>], digits: &[i32], c: usize) -> Jacobian<F> {
    let buckets = 1usize << (c - 1);
    // Counting sort by bucket (index |d| - 1); the identity and zero digits drop out.
    let mut start = vec![0u32; buckets + 1];
    for (d, p) in digits.iter().zip(bases) {
        if *d != 0 && !p.infinity {
            start[d.unsigned_abs() as usize] += 1;
        }
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    // start[b] is now the end of bucket b - 1 = the start of bucket b (buckets 0-based).
    let total = start[buckets] as usize;
    let mut fill: Vec<u32> = start[..buckets].to_vec();
    let mut points = vec![Affine::<F>::INFINITY; total];
    for (d, p) in digits.iter().zip(bases) {
        if *d == 0 || p.infinity {
            continue;
        }
        let b = d.unsigned_abs() as usize - 1;
        points[fill[b] as usize] = if *d < 0 { p.neg() } else { *p };
        fill[b] += 1;
    }
    drop(fill);
    let mut len: Vec<u32> = (0..buckets).map(|b| start[b + 1] - start[b]).collect();
    reduce_buckets(&mut points, &start[..buckets], &mut len);

    // Running sum from the top bucket: sum_b (b + 1) * B_b.
    let mut running = Jacobian::ZERO;
    let mut acc = Jacobian::ZERO;
    for b in (0..buckets).rev() {
        if len[b] == 1 {
            running = running.add_affine(&points[start[b] as usize]);
        }
        acc = acc.add(&running);
    }
    acc
}

/// Sums each bucket `points[start[b]..start[b] + len[b]]` in place until its length is at most
/// one: rounds of pairwise affine additions, one batch inversion per round.
fn reduce_buckets<F: Field>(points: &mut [Affine<F>], start: &[u32], len: &mut [u32]) {
    let mut active: Vec<usize> = (0..len.len()).filter(|&b| len[b] > 1).collect();
    let mut denominators: Vec<F> = Vec::new();
    let mut prefix: Vec<F> = Vec::new();
    while !active.is_empty() {
        // Denominators of every pair of this round, in bucket order.
        denominators.clear();
        for &b in &active {
            let s = start[b] as usize;
            for k in 0..(len[b] / 2) as usize {
                let (p, q) = (&points[s + 2 * k], &points[s + 2 * k + 1]);
                denominators.push(denominator(p, q));
            }
        }
        batch_invert(&mut denominators, &mut prefix);
        let mut next = 0;
        for &b in &active {
            let s = start[b] as usize;
            let pairs = (len[b] / 2) as usize;
            for k in 0..pairs {
                let sum = add_with_inverse(
                    &points[s + 2 * k],
                    &points[s + 2 * k + 1],
                    &denominators[next],
                );
                next += 1;
                points[s + k] = sum;
            }
            if len[b] % 2 == 1 {
                points[s + pairs] = points[s + len[b] as usize - 1];
            }
            len[b] = len[b].div_ceil(2);
        }
        active.retain(|&b| len[b] > 1);
    }
}

/// What `p + q` divides by: `x2 - x1`, `2 y` for a doubling, one when no division is needed.
#[inline(always)]
fn denominator<F: Field>(p: &Affine<F>, q: &Affine<F>) -> F {
    if p.infinity || q.infinity {
        return F::ONE;
    }
    let dx = q.x - p.x;
    if !dx.is_zero() {
        dx
    } else if p.y == q.y && !p.y.is_zero() {
        p.y.double()
    } else {
        F::ONE // P + -P: the identity
    }
}

/// `p + q` given the inverse of [`denominator`]`(p, q)`.
#[inline(always)]
fn add_with_inverse<F: Field>(p: &Affine<F>, q: &Affine<F>, inv: &F) -> Affine<F> {
    if p.infinity {
        return *q;
    }
    if q.infinity {
        return *p;
    }
    let lambda = if p.x != q.x {
        (q.y - p.y) * *inv
    } else if p.y == q.y && !p.y.is_zero() {
        let xx = p.x.square();
        (xx.double() + xx) * *inv
    } else {
        return Affine::INFINITY;
    };
    let x3 = lambda.square() - p.x - q.x;
    let y3 = lambda * (p.x - x3) - p.y;
    Affine {
        x: x3,
        y: y3,
        infinity: false,
    }
}

/// Replaces every element by its inverse (none may be zero), with one field inversion.
pub fn batch_invert<F: Field>(values: &mut [F], prefix: &mut Vec<F>) {
    prefix.clear();
    let mut acc = F::ONE;
    for v in values.iter() {
        prefix.push(acc);
        acc = acc * *v;
    }
    let mut inv = acc.inverse();
    for (v, before) in values.iter_mut().zip(prefix.iter()).rev() {
        let next = inv * *v;
        *v = inv * *before;
        inv = next;
    }
}
