//! Pippenger's bucket method with signed digits, batch-affine bucket sums and GLV.
//!
//! Per window of `c` bits, each scalar contributes a signed digit `d` in `[-2^(c-1)+1, 2^(c-1)]`:
//! `±P` goes into bucket `|d|`, so there are only `2^(c-1)` buckets. A window's points are
//! sorted by bucket (a counting sort of their indices), gathered once in that order, and every
//! bucket is summed as a tree: in each round all neighbouring pairs of all buckets are added in
//! affine coordinates, their `x2 - x1` inverted together with one field inversion (Montgomery's
//! trick). An affine addition then costs about six multiplications instead of the eleven of a
//! mixed Jacobian addition.
//!
//! A round takes the fast path (no comparisons at all) when the product of its denominators is
//! not zero, that is when no pair has equal x. Otherwise (a doubling or `P + -P`, which random
//! inputs never give but repeated bases do) the round is redone with per-pair cases, and once a
//! bucket holds the identity the rest of the window takes that careful path.
//!
//! The buckets are combined with running sums, cut into segments that advance in lockstep so that
//! they too add in affine coordinates with shared inversions ([`running_sum`]). Windows are
//! independent: with `parallel`, each runs on a rayon thread. [`msm_glv`] first splits every
//! scalar with the curve's endomorphism ([`super::glv`]): twice the points, half the windows.

use super::curve::{Affine, Jacobian};
use super::field::Field;
use super::glv;
use ark_ff::BigInt;

/// Multiplications per point of a window (an affine addition with its share of the batch
/// inversion, plus the sorting and copying) against per bucket of the running sum (a mixed and a
/// full Jacobian addition, with their additions and subtractions): measured in wasm, they make
/// the window size minimise `windows * (points * POINT_COST + buckets * BUCKET_COST)`. The native
/// kernel uses them too: not yet measured natively (`examples/bench_msm --windows 10,11,12,13,14`
/// sweeps the window size against the model's choice; on the busy 2-core machine of issue 32 the
/// sweep was too noisy to move them).
const POINT_COST: usize = 8;
const BUCKET_COST: usize = 40;

/// The window size for `n` points with scalars below `2^bits`.
pub fn window_bits(n: usize, bits: usize) -> usize {
    (4..=16)
        .min_by_key(|&c| windows(c, bits) * (n * POINT_COST + (1usize << (c - 1)) * BUCKET_COST))
        .unwrap_or(8)
}

/// Windows of `c` bits needed for signed digits of a `bits`-bit scalar: the top window's digit
/// stays below `2^(c-1)` with the carry, so no carry leaves it.
fn windows(c: usize, bits: usize) -> usize {
    bits / c + 1
}

/// The signed digits of every scalar, window-major: `digits[w * n + i]` is scalar i's digit in
/// window w. With `parallel`, blocks of scalars are recoded on rayon's threads, each writing its
/// block's part of every window.
fn signed_digits(scalars: &[[u64; 4]], c: usize, bits: usize) -> Vec<i32> {
    const BLOCK: usize = 4096;
    let n = scalars.len();
    let w_count = windows(c, bits);
    let mut digits = vec![0i32; w_count * n];
    // For each block of scalars, its slice of every window.
    let mut blocks: Vec<Vec<&mut [i32]>> = (0..n.div_ceil(BLOCK)).map(|_| Vec::new()).collect();
    for window in digits.chunks_mut(n.max(1)) {
        for (block, part) in blocks.iter_mut().zip(window.chunks_mut(BLOCK)) {
            block.push(part);
        }
    }
    let recode = |(mut parts, scalars): (Vec<&mut [i32]>, &[[u64; 4]])| {
        let half = 1i64 << (c - 1);
        let full = 1i64 << c;
        for (i, s) in scalars.iter().enumerate() {
            let mut carry = 0i64;
            for (w, part) in parts.iter_mut().enumerate() {
                let raw = bits_at(s, w * c, c) as i64 + carry;
                let d = if raw > half { raw - full } else { raw };
                carry = i64::from(raw > half);
                part[i] = d as i32;
            }
            debug_assert_eq!(carry, 0, "a scalar of more than {bits} bits");
        }
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        blocks
            .into_par_iter()
            .zip(scalars.par_chunks(BLOCK))
            .for_each(recode);
    }
    #[cfg(not(feature = "parallel"))]
    blocks
        .into_iter()
        .zip(scalars.chunks(BLOCK))
        .for_each(recode);
    digits
}

/// `count` bits of `s` from bit `start` (zero past the end).
fn bits_at(s: &[u64; 4], start: usize, count: usize) -> u64 {
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

/// `sum(scalars[i] * bases[i])` through the GLV endomorphism `(x, y) -> (beta * x, y)`, which
/// must multiply the bases by [`glv::LAMBDA`] (canonical scalars, below r; bases may repeat).
/// Pairs with a zero scalar or the identity as base give no point ([`split_glv`]).
pub fn msm_glv<F: Field>(bases: &[Affine<F>], scalars: &[BigInt<4>], beta: F) -> Jacobian<F> {
    msm_glv_cut(bases, scalars, beta, Cut::default())
}

/// How an MSM's work is cut, where tests and measurements fix it: each window into `chunks` runs
/// of points (`None`: as many as [`chunks`] chooses for the pool), windows of `window` bits
/// (`None`: as [`window_bits`] chooses).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Cut {
    /// Runs of points per window.
    pub chunks: Option<usize>,
    /// Window size in bits (2 to 24).
    pub window: Option<usize>,
}

/// [`msm_glv`] cut as `cut` says.
#[doc(hidden)]
pub fn msm_glv_cut<F: Field>(
    bases: &[Affine<F>],
    scalars: &[BigInt<4>],
    beta: F,
    cut: Cut,
) -> Jacobian<F> {
    let (points, small) = split_glv(bases, scalars, beta);
    msm_bits(&points, &small, 127, cut)
}

/// Every scalar split into two halves below 2^127 (`k = k1 + k2 * LAMBDA`), each with its point
/// (`P` for k1, `(beta * x, y)` for k2, negated for a negative half). Halves whose scalar is zero
/// are left out, so a zero scalar or the identity as base gives no point and a small scalar (the
/// witness's bits, for one) one point, which lands in one bucket of one window.
pub(super) fn split_glv<F: Field>(
    bases: &[Affine<F>],
    scalars: &[BigInt<4>],
    beta: F,
) -> (Vec<Affine<F>>, Vec<[u64; 4]>) {
    let n = bases.len().min(scalars.len());
    let split = |(p, s): (&Affine<F>, &BigInt<4>)| {
        let (k1, k2) = if p.infinity || s.0 == [0; 4] {
            (0, 0)
        } else {
            glv::decompose(&s.0)
        };
        let p = *p;
        [(k1, false), (k2, true)]
            .into_iter()
            .filter(|&(k, _)| k != 0)
            .map(move |(k, endomorphism)| {
                let q = if endomorphism {
                    Affine { x: p.x * beta, ..p }
                } else {
                    p
                };
                let m = k.unsigned_abs();
                let scalar = [m as u64, (m >> 64) as u64, 0, 0];
                (if k < 0 { q.neg() } else { q }, scalar)
            })
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        bases[..n]
            .par_iter()
            .zip(&scalars[..n])
            .flat_map_iter(split)
            .unzip()
    }
    #[cfg(not(feature = "parallel"))]
    bases[..n].iter().zip(&scalars[..n]).flat_map(split).unzip()
}

/// Points per chunk below which a window is not cut: each chunk pays its own running sum over
/// all the window's buckets.
const MIN_CHUNK: usize = 1 << 14;

/// How many runs of points each window of an MSM of `n` points in `windows` windows is cut into
/// on a pool of `threads`: enough that the MSM alone has a task per thread (the prover runs five
/// at once, so the pool then has several per thread), one when the windows already give that.
fn chunks(n: usize, windows: usize, threads: usize) -> usize {
    threads.div_ceil(windows.max(1)).min(n / MIN_CHUNK).max(1)
}

/// `sum(scalars[i] * bases[i])` for scalars below `2^bits`. Every window, or every chunk of a
/// window's points (see [`chunks`]), is a task of its own; a window's sum is its chunks' sums
/// added.
fn msm_bits<F: Field>(
    bases: &[Affine<F>],
    scalars: &[[u64; 4]],
    bits: usize,
    cut: Cut,
) -> Jacobian<F> {
    let n = bases.len().min(scalars.len());
    if n == 0 {
        return Jacobian::ZERO;
    }
    let (bases, scalars) = (&bases[..n], &scalars[..n]);
    #[cfg(feature = "parallel")]
    let threads = rayon::current_num_threads();
    #[cfg(not(feature = "parallel"))]
    let threads = 1;
    let k = cut
        .chunks
        .unwrap_or_else(|| chunks(n, windows(window_bits(n, bits), bits), threads))
        .clamp(1, n);
    // The window size that suits a chunk: a chunk's buckets cost what a whole window's do.
    let c = cut
        .window
        .unwrap_or_else(|| window_bits(n.div_ceil(k), bits))
        .clamp(2, 24);
    let w_count = windows(c, bits);
    let digits = signed_digits(scalars, c, bits);
    let size = n.div_ceil(k);
    let task = |t: usize| {
        let (w, j) = (t / k, t % k);
        let range = (j * size).min(n)..((j + 1) * size).min(n);
        let digits = &digits[w * n..(w + 1) * n];
        window_sum(&bases[range.clone()], &digits[range], c)
    };
    #[cfg(feature = "parallel")]
    let parts: Vec<Jacobian<F>> = {
        use rayon::prelude::*;
        (0..w_count * k).into_par_iter().map(task).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let parts: Vec<Jacobian<F>> = (0..w_count * k).map(task).collect();
    let sums: Vec<Jacobian<F>> = parts
        .chunks(k)
        .map(|p| p.iter().fold(Jacobian::ZERO, |acc, s| acc.add(s)))
        .collect();
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
    let (order, start) = sort_by_bucket(bases, digits, buckets);
    let gathered = gather(bases, &order);
    drop(order);
    let mut len: Vec<u32> = start.windows(2).map(|w| w[1] - w[0]).collect();
    let mut points = first_round(&gathered, &start, &len);
    drop(gathered);
    // After the first round bucket b holds ceil(len / 2) points, stored one after another.
    let mut next = 0u32;
    let start: Vec<u32> = len
        .iter_mut()
        .map(|l| {
            *l = l.div_ceil(2);
            next += *l;
            next - *l
        })
        .collect();
    reduce_buckets(&mut points, &start, &mut len);
    running_sum(&points, &start, &len)
}

/// Indices of the points with a non-zero digit (bit 31 set when the digit is negative) in bucket
/// order, and where each bucket starts (one more entry: the end).
fn sort_by_bucket<F: Field>(
    bases: &[Affine<F>],
    digits: &[i32],
    buckets: usize,
) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; buckets + 1];
    for (d, p) in digits.iter().zip(bases) {
        if *d != 0 && !p.infinity {
            start[d.unsigned_abs() as usize] += 1;
        }
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    let mut fill: Vec<u32> = start[..buckets].to_vec();
    let mut order = vec![0u32; start[buckets] as usize];
    for (i, (d, p)) in digits.iter().zip(bases).enumerate() {
        if *d == 0 || p.infinity {
            continue;
        }
        let b = d.unsigned_abs() as usize - 1;
        order[fill[b] as usize] = i as u32 | (u32::from(*d < 0) << 31);
        fill[b] += 1;
    }
    (order, start)
}

/// The points of `order`, negated where it says so: one pass of scattered reads, so that
/// everything after reads in sequence. The negations come after the copy, which keeps the
/// copying loop short enough for the processor to overlap its cache misses.
fn gather<F: Field>(bases: &[Affine<F>], order: &[u32]) -> Vec<Affine<F>> {
    let mut out: Vec<Affine<F>> = order
        .iter()
        .map(|&e| bases[(e & 0x7fff_ffff) as usize])
        .collect();
    for (p, &e) in out.iter_mut().zip(order) {
        if e >> 31 == 1 {
            p.y = -p.y;
        }
    }
    out
}

/// The first round of pairwise sums, from the gathered points into a new array that holds each
/// bucket's `ceil(len / 2)` points one after another.
fn first_round<F: Field>(points: &[Affine<F>], start: &[u32], len: &[u32]) -> Vec<Affine<F>> {
    let pairs = |b: usize| (start[b] as usize, (len[b] / 2) as usize);
    let mut denominators: Vec<F> = Vec::with_capacity(points.len() / 2);
    let mut prefix = Vec::new();
    for b in 0..len.len() {
        let (s, count) = pairs(b);
        for k in 0..count {
            denominators.push(points[s + 2 * k + 1].x.sub_for_mul(&points[s + 2 * k].x));
        }
    }
    let fast = F::batch_invert_nonzero(&mut denominators, &mut prefix);
    if !fast {
        denominators.clear();
        for b in 0..len.len() {
            let (s, count) = pairs(b);
            for k in 0..count {
                denominators.push(denominator(&points[s + 2 * k], &points[s + 2 * k + 1]));
            }
        }
        batch_invert(&mut denominators, &mut prefix);
    }
    let total: usize = len.iter().map(|l| l.div_ceil(2) as usize).sum();
    let mut out = Vec::with_capacity(total);
    if fast {
        sum_pairs(points, start, len, &denominators, &mut out, add_distinct);
    } else {
        sum_pairs(
            points,
            start,
            len,
            &denominators,
            &mut out,
            add_with_inverse,
        );
    }
    out
}

/// Appends each bucket's pairwise sums, then its odd point out, given the pairs' inverted
/// denominators in order. One loop per kind of addition, so the fast one stays small.
#[inline(always)]
fn sum_pairs<F: Field>(
    points: &[Affine<F>],
    start: &[u32],
    len: &[u32],
    inverses: &[F],
    out: &mut Vec<Affine<F>>,
    add: impl Fn(&Affine<F>, &Affine<F>, &F) -> Affine<F>,
) {
    let mut next = 0;
    for (b, &l) in len.iter().enumerate() {
        let s = start[b] as usize;
        for k in 0..(l / 2) as usize {
            out.push(add(
                &points[s + 2 * k],
                &points[s + 2 * k + 1],
                &inverses[next],
            ));
            next += 1;
        }
        if l % 2 == 1 {
            out.push(points[s + l as usize - 1]);
        }
    }
}

/// Sums each bucket `points[start[b]..start[b] + len[b]]` in place until its length is at most
/// one: rounds of pairwise affine additions, one batch inversion per round.
fn reduce_buckets<F: Field>(points: &mut [Affine<F>], start: &[u32], len: &mut [u32]) {
    let mut active: Vec<usize> = (0..len.len()).filter(|&b| len[b] > 1).collect();
    let mut denominators: Vec<F> = Vec::new();
    let mut prefix: Vec<F> = Vec::new();
    // The fast path needs finite points; only a careful round can make the identity.
    let mut careful = points.iter().any(|p| p.infinity);
    while !active.is_empty() {
        denominators.clear();
        let mut fast = false;
        if !careful {
            for &b in &active {
                let s = start[b] as usize;
                for k in 0..(len[b] / 2) as usize {
                    let (p, q) = (&points[s + 2 * k], &points[s + 2 * k + 1]);
                    denominators.push(q.x.sub_for_mul(&p.x));
                }
            }
            fast = F::batch_invert_nonzero(&mut denominators, &mut prefix);
        }
        if !fast {
            denominators.clear();
            for &b in &active {
                let s = start[b] as usize;
                for k in 0..(len[b] / 2) as usize {
                    let (p, q) = (&points[s + 2 * k], &points[s + 2 * k + 1]);
                    denominators.push(denominator(p, q));
                }
            }
            batch_invert(&mut denominators, &mut prefix);
        }
        careful |= if fast {
            sum_in_place(points, &active, start, len, &denominators, add_distinct)
        } else {
            sum_in_place(points, &active, start, len, &denominators, add_with_inverse)
        };
        active.retain(|&b| len[b] > 1);
    }
}

/// One round of [`reduce_buckets`] over the active buckets, given the pairs' inverted
/// denominators in order. Whether a sum was the identity.
#[inline(always)]
fn sum_in_place<F: Field>(
    points: &mut [Affine<F>],
    active: &[usize],
    start: &[u32],
    len: &mut [u32],
    inverses: &[F],
    add: impl Fn(&Affine<F>, &Affine<F>, &F) -> Affine<F>,
) -> bool {
    let mut identity = false;
    let mut next = 0;
    for &b in active {
        let s = start[b] as usize;
        let pairs = (len[b] / 2) as usize;
        for k in 0..pairs {
            let sum = add(&points[s + 2 * k], &points[s + 2 * k + 1], &inverses[next]);
            identity |= sum.infinity;
            next += 1;
            points[s + k] = sum;
        }
        if len[b] % 2 == 1 {
            points[s + pairs] = points[s + len[b] as usize - 1];
        }
        len[b] = len[b].div_ceil(2);
    }
    identity
}

/// `sum_b (b + 1) * B_b` for the bucket sums (`len[b]` is 0 or 1).
///
/// The running sum from the top bucket, `R += B_b; T += R`, is sequential, so in Jacobian
/// coordinates it costs a mixed and a full addition per bucket. Cut into `k` segments of `l`
/// buckets instead, the segments' running sums are independent: they advance in lockstep, one
/// bucket per step, and each step's additions over all segments share one inversion, in affine
/// coordinates. With `R_j` and `T_j` of segment j (buckets `j*l..(j+1)*l`, weights counted from
/// the segment's start), the sum is `sum_j T_j + l * sum_j j * R_j`; the second term is a short
/// running sum over the segments.
fn running_sum<F: Field>(points: &[Affine<F>], start: &[u32], len: &[u32]) -> Jacobian<F> {
    let m = len.len();
    let bucket = |b: usize| {
        if len[b] == 1 {
            points[start[b] as usize]
        } else {
            Affine::INFINITY
        }
    };
    let k = segments(m);
    if k == 1 {
        let mut running = Jacobian::ZERO;
        let mut acc = Jacobian::ZERO;
        for b in (0..m).rev() {
            running = running.add_affine(&bucket(b));
            acc = acc.add(&running);
        }
        return acc;
    }
    let l = m / k;
    let mut running = vec![Affine::INFINITY; k];
    let mut total = vec![Affine::INFINITY; k];
    let mut lanes = Lanes::default();
    for t in (0..l).rev() {
        lanes.add(&mut running, |j| bucket(j * l + t));
        let current = running.clone();
        lanes.add(&mut total, |j| current[j]);
    }
    let mut acc = Jacobian::ZERO;
    let mut run = Jacobian::ZERO;
    let mut weighted = Jacobian::ZERO;
    for j in (0..k).rev() {
        acc = acc.add_affine(&total[j]);
        if j > 0 {
            run = run.add_affine(&running[j]);
            weighted = weighted.add(&run);
        }
    }
    for _ in 0..l.trailing_zeros() {
        weighted = weighted.double();
    }
    acc.add(&weighted)
}

/// How many segments [`running_sum`] cuts `m` buckets into (a power of two dividing m): enough
/// that one inversion per step is shared by many additions, few enough that the final
/// combination (three Jacobian additions per segment) stays small. One below 64 buckets.
fn segments(m: usize) -> usize {
    if m < 64 {
        1
    } else {
        (m / 32).clamp(8, 128)
    }
}

/// Scratch space for adding one point to each of many accumulators at once.
struct Lanes<F> {
    which: Vec<usize>,
    denominators: Vec<F>,
    prefix: Vec<F>,
}

impl<F> Default for Lanes<F> {
    fn default() -> Self {
        Lanes {
            which: Vec::new(),
            denominators: Vec::new(),
            prefix: Vec::new(),
        }
    }
}

impl<F: Field> Lanes<F> {
    /// `acc[j] += other(j)` for every j, in affine coordinates with one shared inversion.
    fn add(&mut self, acc: &mut [Affine<F>], other: impl Fn(usize) -> Affine<F>) {
        self.which.clear();
        self.denominators.clear();
        for (j, a) in acc.iter_mut().enumerate() {
            let o = other(j);
            if o.infinity {
                continue;
            }
            if a.infinity {
                *a = o;
                continue;
            }
            self.which.push(j);
            self.denominators.push(o.x.sub_for_mul(&a.x));
        }
        if F::batch_invert_nonzero(&mut self.denominators, &mut self.prefix) {
            for (&j, inv) in self.which.iter().zip(&self.denominators) {
                acc[j] = add_distinct(&acc[j], &other(j), inv);
            }
        } else {
            self.denominators.clear();
            for &j in &self.which {
                self.denominators.push(denominator(&acc[j], &other(j)));
            }
            batch_invert(&mut self.denominators, &mut self.prefix);
            for (&j, inv) in self.which.iter().zip(&self.denominators) {
                acc[j] = add_with_inverse(&acc[j], &other(j), inv);
            }
        }
    }
}

/// `p + q` for finite points with different x, given `1 / (q.x - p.x)`.
#[inline(always)]
fn add_distinct<F: Field>(p: &Affine<F>, q: &Affine<F>, inv: &F) -> Affine<F> {
    let lambda = q.y.sub_for_mul(&p.y) * *inv;
    let x3 = lambda.square() - p.x - q.x;
    let y3 = lambda * p.x.sub_for_mul(&x3) - p.y;
    Affine {
        x: x3,
        y: y3,
        infinity: false,
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

/// `p + q` in every case, given the inverse of [`denominator`]`(p, q)`.
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
    if !F::batch_invert_nonzero(values, prefix) {
        debug_assert!(false, "batch_invert of a zero");
    }
}
