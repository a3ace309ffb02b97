//! Radix-2 FFTs over BN254's scalar field in 29-bit limbs ([`Fr29`]), for the QAP stage in wasm.
//!
//! arkworks' FFT multiplies in four 64-bit limbs, which wasm can only do through a software
//! 128-bit product; [`Fr29`]'s products are native 64-bit multiplications (see
//! [`super::msm::field`]). The transforms never permute: [`dif`] takes values in natural order
//! and leaves them bit-reversed, [`dit`] takes them bit-reversed and leaves them natural, so an
//! inverse transform followed by a forward one needs no reordering in between. Each stage's
//! twiddles are contiguous (a table per domain size, made once), and with `parallel` a stage's
//! butterflies are split over rayon's threads, by blocks or, for the wide stages, within one.
//!
//! [`Coset`] strings them together into what the Groth16 witness map needs; tests compare it
//! with arkworks' `GeneralEvaluationDomain`.

use std::sync::{Arc, Mutex};

use ark_ff::{FftField, Field as _, PrimeField};

use super::msm::field::{Field, Fr29};
use crate::field::Fr;

/// The roots of unity of one domain size, per stage.
struct Twiddles {
    log_n: u32,
    /// For each half-width m = 1, 2, 4, ..., n/2 (at offset m - 1): `w_2m^j` for j < m, where
    /// `w_2m` is a primitive 2m-th root of unity.
    forward: Vec<Fr29>,
    /// The same with the inverse roots.
    inverse: Vec<Fr29>,
}

/// Tables of the most recent domain sizes (a worker proves with one or two circuits).
static TABLES: Mutex<Vec<Arc<Twiddles>>> = Mutex::new(Vec::new());

fn twiddles(log_n: u32) -> Arc<Twiddles> {
    let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = tables.iter().find(|t| t.log_n == log_n) {
        return t.clone();
    }
    let n = 1usize << log_n;
    let make = |root: Fr| {
        let mut out = Vec::with_capacity(n.saturating_sub(1));
        let mut m = 1;
        while m < n {
            // root has order n; root^(n / 2m) has order 2m.
            let w = to29(&root.pow([(n / (2 * m)) as u64]));
            let mut x = Fr29::ONE;
            for _ in 0..m {
                out.push(x);
                x = x * w;
            }
            m *= 2;
        }
        out
    };
    let root = Fr::get_root_of_unity(n as u64).expect("BN254's Fr has 2^28-th roots of unity");
    let table = Arc::new(Twiddles {
        log_n,
        forward: make(root),
        inverse: make(root.inverse().expect("a root of unity is not zero")),
    });
    tables.insert(0, table.clone());
    tables.truncate(2);
    table
}

impl Twiddles {
    fn roots(&self, inverse: bool) -> &[Fr29] {
        if inverse {
            &self.inverse
        } else {
            &self.forward
        }
    }
}

/// The twiddles of an FFT over `values`, `None` if it has nothing to do (one point).
fn twiddles_for(values: &[Fr29]) -> Option<Arc<Twiddles>> {
    let n = values.len();
    assert!(n.is_power_of_two(), "FFT size {n} is not a power of two");
    (n >= 2).then(|| twiddles(n.trailing_zeros()))
}

/// An arkworks scalar in 29-bit limbs.
pub fn to29(x: &Fr) -> Fr29 {
    Fr29::from_ark_mont(&(x.0).0)
}

/// Decimation in frequency: natural order in, bit-reversed out. `inverse` uses the inverse
/// roots (without the 1/n).
pub fn dif(values: &mut [Fr29], inverse: bool) {
    let Some(t) = twiddles_for(values) else {
        return;
    };
    let table = t.roots(inverse);
    let n = values.len();
    let mut m = n / 2;
    while m >= 1 {
        stage(values, m, &table[m - 1..2 * m - 1], |u, v, w| {
            let (a, b) = (*u, *v);
            *u = a + b;
            *v = a.sub_for_mul(&b) * *w;
        });
        m /= 2;
    }
}

/// Decimation in time: bit-reversed order in, natural out.
pub fn dit(values: &mut [Fr29], inverse: bool) {
    let Some(t) = twiddles_for(values) else {
        return;
    };
    let table = t.roots(inverse);
    let n = values.len();
    let mut m = 1;
    while m < n {
        stage(values, m, &table[m - 1..2 * m - 1], |u, v, w| {
            let a = *u;
            let b = *v * *w;
            *u = a + b;
            *v = a - b;
        });
        m *= 2;
    }
}

/// The butterfly whose twiddle is one, the same in both directions: `(a + b, a - b)`.
fn untwiddled(u: &mut Fr29, v: &mut Fr29) {
    let (a, b) = (*u, *v);
    *u = a + b;
    *v = a - b;
}

/// One stage: every block of 2m values gets the butterfly on `(j, j + m)` with twiddle `w[j]`,
/// except `j = 0`, whose twiddle is one: [`untwiddled`] does it without the product (an eighth of
/// an FFT's products; all of the `m = 1` stage's).
fn stage<B>(values: &mut [Fr29], m: usize, w: &[Fr29], butterfly: B)
where
    B: Fn(&mut Fr29, &mut Fr29, &Fr29) + Sync,
{
    let block = |chunk: &mut [Fr29]| {
        let (lo, hi) = chunk.split_at_mut(m);
        untwiddled(&mut lo[0], &mut hi[0]);
        for ((u, v), w) in lo[1..].iter_mut().zip(hi[1..].iter_mut()).zip(&w[1..]) {
            butterfly(u, v, w);
        }
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        let blocks = values.len() / (2 * m);
        if blocks >= 4 * rayon::current_num_threads() {
            values.par_chunks_mut(2 * m).for_each(block);
        } else {
            // Few wide blocks: split each one's butterflies.
            const GRAIN: usize = 1024;
            for chunk in values.chunks_mut(2 * m) {
                let (lo, hi) = chunk.split_at_mut(m);
                untwiddled(&mut lo[0], &mut hi[0]);
                lo[1..]
                    .par_chunks_mut(GRAIN)
                    .zip(hi[1..].par_chunks_mut(GRAIN))
                    .zip(w[1..].par_chunks(GRAIN))
                    .for_each(|((lo, hi), w)| {
                        for ((u, v), w) in lo.iter_mut().zip(hi.iter_mut()).zip(w) {
                            butterfly(u, v, w);
                        }
                    });
            }
        }
    }
    #[cfg(not(feature = "parallel"))]
    values.chunks_mut(2 * m).for_each(block);
}

/// `i` with its lowest `bits` bits reversed.
pub(crate) fn bit_reverse(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

/// The coset `g * H` of the domain H of size n, with g arkworks' multiplicative generator of Fr
/// (what `GeneralEvaluationDomain::get_coset(Fr::GENERATOR)` uses), or, for snarkjs's keys
/// ([`Coset::odd_of_size`]), with g a primitive 2n-th root of unity: the odd powers of the doubled
/// domain's generator.
pub struct Coset {
    log_n: u32,
    odd: bool,
    /// `g^i / n` at position `bitrev(i)`: scales the coefficients an inverse DIF leaves
    /// bit-reversed, so that a forward DIT gives the values on the coset.
    to_coset: Vec<Fr29>,
    /// `g^-i` at position `bitrev(i)`: back from the coset to coefficients.
    from_coset: Vec<Fr29>,
    /// `1 / (g^n - 1)`: the vanishing polynomial of H is the constant `g^n - 1` on the coset.
    z_inv: Fr29,
}

/// Cosets of the most recent domain sizes.
static COSETS: Mutex<Vec<Arc<Coset>>> = Mutex::new(Vec::new());

impl Coset {
    /// The coset of the domain of size `n` (a power of two), its tables made once and kept.
    pub fn of_size(n: usize) -> Arc<Coset> {
        Self::cached(n, false)
    }

    /// The odd coset of the domain of size `n`: `w·H` with `w` a primitive 2n-th root of unity,
    /// where snarkjs's keys take H's evaluations ([`super::qap::Reduction::Circom`]).
    pub fn odd_of_size(n: usize) -> Arc<Coset> {
        Self::cached(n, true)
    }

    fn cached(n: usize, odd: bool) -> Arc<Coset> {
        let mut cosets = COSETS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cosets
            .iter()
            .find(|c| 1usize << c.log_n == n && c.odd == odd)
        {
            return c.clone();
        }
        let coset = Arc::new(Coset::with_shift(n, odd));
        cosets.insert(0, coset.clone());
        cosets.truncate(2);
        coset
    }

    /// For the domain of size `n` (a power of two).
    pub fn new(n: usize) -> Self {
        Self::with_shift(n, false)
    }

    fn with_shift(n: usize, odd: bool) -> Self {
        assert!(n.is_power_of_two(), "domain size {n} is not a power of two");
        let log_n = n.trailing_zeros();
        let g = if odd {
            Fr::get_root_of_unity(2 * n as u64).expect("BN254's Fr has 2^28-th roots of unity")
        } else {
            Fr::GENERATOR
        };
        let powers = |base: Fr, scale: Fr| {
            let mut table = vec![Fr29::ZERO; n];
            let mut x = scale;
            for i in 0..n {
                table[bit_reverse(i, log_n)] = to29(&x);
                x *= base;
            }
            table
        };
        let n_inv = Fr::from(n as u64).inverse().expect("n is not zero mod r");
        let g_inv = g.inverse().expect("the generator is not zero");
        let z = g.pow([n as u64]) - Fr::from(1u64);
        Coset {
            log_n,
            odd,
            to_coset: powers(g, n_inv),
            from_coset: powers(g_inv, Fr::from(1u64)),
            z_inv: to29(&z.inverse().expect("g^n is not 1: g is not in H")),
        }
    }

    /// Values on H (natural order) to values on the coset (natural order).
    pub fn evaluations_to_coset(&self, values: &mut [Fr29]) {
        assert_eq!(
            values.len(),
            1 << self.log_n,
            "vector size differs from the domain"
        );
        dif(values, true);
        scale(values, &self.to_coset);
        dit(values, false);
    }

    /// `(a * b - c) / Z` on the coset, into `a`.
    pub fn quotient(&self, a: &mut [Fr29], b: &[Fr29], c: &[Fr29]) {
        let z_inv = self.z_inv;
        let combine = |((a, b), c): ((&mut Fr29, &Fr29), &Fr29)| {
            *a = (*a * *b - *c) * z_inv;
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            a.par_iter_mut().zip(b).zip(c).for_each(combine);
        }
        #[cfg(not(feature = "parallel"))]
        a.iter_mut().zip(b).zip(c).for_each(combine);
    }

    /// `a * b - c` on the coset, into `a`: H's evaluations for snarkjs's keys, whose H query
    /// takes them as they are (the vanishing polynomial is folded into the query's points).
    pub fn difference(&self, a: &mut [Fr29], b: &[Fr29], c: &[Fr29]) {
        let combine = |((a, b), c): ((&mut Fr29, &Fr29), &Fr29)| {
            *a = *a * *b - *c;
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            a.par_iter_mut().zip(b).zip(c).for_each(combine);
        }
        #[cfg(not(feature = "parallel"))]
        a.iter_mut().zip(b).zip(c).for_each(combine);
    }

    /// Values on the coset (natural order) to the coefficients of the polynomial, in natural
    /// order, as canonical little-endian words (what the MSM takes).
    pub fn coefficients_from_coset(&self, values: &mut [Fr29]) -> Vec<[u64; 4]> {
        assert_eq!(
            values.len(),
            1 << self.log_n,
            "vector size differs from the domain"
        );
        dif(values, true);
        // The inverse DIF left n * coefficient i at bitrev(i), before the 1/g^i.
        let n_inv = to29(
            &Fr::from(values.len() as u64)
                .inverse()
                .expect("n is not zero"),
        );
        let log_n = self.log_n;
        let out = |i: usize| {
            let j = bit_reverse(i, log_n);
            (values[j] * self.from_coset[j] * n_inv).to_canonical()
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            (0..values.len()).into_par_iter().map(out).collect()
        }
        #[cfg(not(feature = "parallel"))]
        (0..values.len()).map(out).collect()
    }
}

/// Values as canonical little-endian words (what the MSM takes), in their order.
pub fn canonical(values: &[Fr29]) -> Vec<[u64; 4]> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        values.par_iter().map(Fr29::to_canonical).collect()
    }
    #[cfg(not(feature = "parallel"))]
    values.iter().map(Fr29::to_canonical).collect()
}

/// `values[i] *= factors[i]`.
fn scale(values: &mut [Fr29], factors: &[Fr29]) {
    let product = |(v, f): (&mut Fr29, &Fr29)| *v = *v * *f;
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        values.par_iter_mut().zip(factors).for_each(product);
    }
    #[cfg(not(feature = "parallel"))]
    values.iter_mut().zip(factors).for_each(product);
}

/// An arkworks scalar from 29-bit limbs.
pub fn from29(x: &Fr29) -> Fr {
    Fr::from_bigint(ark_ff::BigInt(x.to_canonical())).expect("a reduced element is below r")
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::super::msm::testing;

    #[test]
    fn transforms_and_coset_quotient_match_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        testing::fft_matches_arkworks(&mut rng, &[0, 1, 2, 3, 5, 10, 12]).unwrap();
    }
}
