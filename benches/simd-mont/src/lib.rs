//! Raw wasm exports (no wasm-bindgen) around the wasm kernel's field product: `check` compares
//! `mont_simd::mul` and the product-scanned `mont_scanned::mul` (the product before Karatsuba)
//! with `mont::mul`, `bench_*` time them. See run.mjs.
#![allow(dead_code)]
// Closures, not the functions themselves: `run` then gets each product inlined into its own copy
// (passing `mont_simd::mul::<FqModulus>` as a pointer measured it 1.6 times slower again).
#![allow(clippy::redundant_closure)]

#[path = "../../../src/prover/msm/field.rs"]
mod field;
#[path = "../../../src/prover/msm/mont.rs"]
mod mont;
#[path = "../../../src/prover/msm/mont_scanned.rs"]
mod mont_scanned;
#[path = "../../../src/prover/msm/mont_simd.rs"]
mod mont_simd;

use field::{Field, Fq29, FqModulus, LIMBS};

/// xorshift64*: deterministic operands.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A random element: four words below p (the top word below p's).
    fn element(&mut self) -> Fq29 {
        let words = [
            self.next(),
            self.next(),
            self.next(),
            self.next() & 0x2fff_ffff_ffff_ffff,
        ];
        Fq29::from_canonical(&words)
    }
}

fn operands(n: usize, seed: u64) -> Vec<[u32; LIMBS]> {
    let mut rng = Rng(seed);
    (0..n).map(|_| rng.element().0).collect()
}

/// Whether `simd128` is compiled in (1) or the lanes are the scalar model (0).
#[no_mangle]
pub extern "C" fn simd128() -> u32 {
    u32::from(cfg!(target_feature = "simd128"))
}

/// Mismatches between the two products over edge values (0, 1, p - 1, p - 2), `add_for_mul` and
/// `sub_for_mul` operands and `n` random pairs; 0 when they agree everywhere.
#[no_mangle]
pub extern "C" fn check(n: u32) -> u32 {
    let mut rng = Rng(0x5eed);
    let one = Fq29::ONE;
    let mut values = vec![Fq29::ZERO, one, -one, -(one + one)];
    values.extend((0..n).map(|_| rng.element()));
    let len = values.len();
    let mut bad = 0;
    for (i, x) in values.iter().enumerate() {
        let (y, z) = (values[(i * 7 + 3) % len], values[(i * 5 + 1) % len]);
        for (a, b) in [
            (*x, y),
            (x.sub_for_mul(&y), z),
            (z, x.sub_for_mul(&y)),
            (x.add_for_mul(&y), z),
            (x.sub_for_mul(&y), z.add_for_mul(x)),
        ] {
            let s = mont::mul::<FqModulus>(&a.0, &b.0);
            let v = mont_simd::mul::<FqModulus>(&a.0, &b.0);
            let w = mont_simd::mul_then_reduce::<FqModulus>(&a.0, &b.0);
            let scanned = mont_scanned::mul::<FqModulus>(&a.0, &b.0);
            bad += u32::from(mont::sqr::<FqModulus>(&x.0) != mont_scanned::sqr::<FqModulus>(&x.0));
            bad += u32::from(s != v) + u32::from(s != w) + u32::from(s != scanned);
        }
    }
    bad
}

/// `rounds` passes over 64 elements, each `x[i] = x[i] * x[i + 1]` (independent enough for the
/// CPU to overlap products, as the batch-affine bucket additions do): `64 * rounds` products.
/// Returns a limb of the result so that nothing is optimised away.
fn run(rounds: u32, mul: fn(&[u32; LIMBS], &[u32; LIMBS]) -> [u32; LIMBS]) -> u32 {
    let mut x = operands(65, 1);
    for _ in 0..rounds {
        for i in 0..64 {
            x[i] = mul(&x[i], &x[i + 1]);
        }
        x[64] = x[0];
    }
    core::hint::black_box(&x)[7][3]
}

#[no_mangle]
pub extern "C" fn bench_scalar(rounds: u32) -> u32 {
    run(rounds, |a, b| mont::mul::<FqModulus>(a, b))
}

#[no_mangle]
pub extern "C" fn bench_scanned(rounds: u32) -> u32 {
    run(rounds, |a, b| mont_scanned::mul::<FqModulus>(a, b))
}

#[no_mangle]
pub extern "C" fn bench_sqr(rounds: u32) -> u32 {
    run(rounds, |a, _| mont::sqr::<FqModulus>(a))
}

#[no_mangle]
pub extern "C" fn bench_sqr_scanned(rounds: u32) -> u32 {
    run(rounds, |a, _| mont_scanned::sqr::<FqModulus>(a))
}

#[no_mangle]
pub extern "C" fn bench_simd(rounds: u32) -> u32 {
    run(rounds, |a, b| mont_simd::mul::<FqModulus>(a, b))
}

#[no_mangle]
pub extern "C" fn bench_simd_then_reduce(rounds: u32) -> u32 {
    run(rounds, |a, b| mont_simd::mul_then_reduce::<FqModulus>(a, b))
}
