use ark_bn254::{Fq, Fr};
use ark_ff::{BigInteger, PrimeField};
use num_bigint::BigUint;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::curve::Affine;
use super::field::{Fq29, FqModulus, FrModulus, Modulus, LIMBS};
use super::{glv, pippenger, testing, Kernel};

/// The kernels that run Pippenger here, checked against arkworks'.
const KERNELS: [Kernel; 2] = [Kernel::Wasm29, Kernel::Native64];

/// The hard-coded constants are what their definitions give for arkworks' moduli.
#[test]
fn constants_match_the_moduli() {
    fn check<M: Modulus>(modulus: BigUint) {
        let limbs = |x: &BigUint| -> [u64; LIMBS] {
            let mask = BigUint::from((1u64 << 29) - 1);
            std::array::from_fn(|i| {
                ((x >> (29 * i)) & &mask)
                    .to_u64_digits()
                    .first()
                    .copied()
                    .unwrap_or(0)
            })
        };
        let pow = |e: u32| BigUint::from(2u32).pow(e) % &modulus;
        assert_eq!(M::P, limbs(&modulus));
        assert_eq!(M::ONE, limbs(&pow(261)));
        assert_eq!(M::R2, limbs(&pow(522)));
        assert_eq!(M::FROM_ARK, limbs(&pow(266)));
        let two29 = BigUint::from(1u64 << 29);
        let p_inv = modulus.modinv(&two29).unwrap();
        assert_eq!(BigUint::from(M::INV), (&two29 - p_inv) % &two29);
        // PAD_WIDE is a multiple of p, and each of its columns holds at least what that column
        // of a product of two reduced values (limbs below 2^29, the top one at most 2p's) can.
        let pad: BigUint = M::PAD_WIDE
            .iter()
            .enumerate()
            .map(|(k, &c)| BigUint::from(c) << (29 * k))
            .sum();
        assert_eq!(&pad % &modulus, BigUint::from(0u32));
        let top = (BigUint::from(2u32) * &modulus) >> (29 * (LIMBS - 1));
        let top = top.to_u64_digits()[0];
        let largest = |i: usize| if i == LIMBS - 1 { top } else { (1 << 29) - 1 };
        for (k, &column) in M::PAD_WIDE.iter().enumerate() {
            let most: u64 = (0..LIMBS)
                .filter(|&i| k >= i && k - i < LIMBS)
                .map(|i| largest(i) * largest(k - i))
                .sum();
            assert!(column >= most, "PAD_WIDE column {k}: {column} < {most}");
        }
    }
    check::<FqModulus>(BigUint::from_bytes_le(&Fq::MODULUS.to_bytes_le()));
    check::<FrModulus>(BigUint::from_bytes_le(&Fr::MODULUS.to_bytes_le()));
}

#[test]
fn field_matches_arkworks() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    testing::field_matches_arkworks(&mut rng, 300).unwrap();
}

#[test]
fn msm_matches_arkworks_on_small_and_edge_inputs() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for kernel in KERNELS {
        testing::msm_matches_arkworks(kernel, &mut rng, &[0, 1, 2, 3, 5, 13, 64, 100]).unwrap();
    }
}

#[test]
fn msm_matches_arkworks_on_larger_inputs() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for kernel in KERNELS {
        testing::msm_matches_arkworks(kernel, &mut rng, &[1000, 5000]).unwrap();
    }
}

#[test]
fn chunked_msm_matches_arkworks() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    for kernel in KERNELS {
        testing::chunked_msm_matches_arkworks(kernel, &mut rng, &[1, 40, 3000]).unwrap();
    }
}

/// Random, all-equal and identity bases, scalars 0, 1 and r - 1, at sizes 1, 2, a 4-bit window's
/// worth of buckets (8) and a bit over: G1 and G2, both kernels.
#[test]
fn msm_edge_cases_match_arkworks() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    for kernel in KERNELS {
        testing::msm_edge_cases_match_arkworks(kernel, &mut rng, &[1, 2, 8, 9, 300]).unwrap();
    }
}

/// The edge cases at 2^16 + 1 points: past the sizes where a window is cut into chunks and the
/// running sums into segments. The native kernel only (the wasm kernel runs the same code).
#[test]
fn msm_edge_cases_match_arkworks_at_2_16_plus_1() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    testing::msm_edge_cases_match_arkworks(Kernel::Native64, &mut rng, &[(1 << 16) + 1]).unwrap();
}

/// Whole proofs with the Pippenger kernels verify (the wasm one natively here; the browser tests
/// prove with it too): with keys prepared for them, with and without the matrices from setup.
#[test]
fn proofs_made_with_the_pippenger_kernels_verify() {
    for kernel in KERNELS {
        proofs_verify(kernel);
    }
}

fn proofs_verify(kernel: Kernel) {
    use crate::circuit::{ClaimCircuit, SquareChain};
    use crate::claim::Claim;
    use crate::prover::prepared::PreparedProvingKey;
    use crate::prover::{prove::prove_circuit, setup, verify::verify};
    use crate::tree::sample::sample;

    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let id = "square-chain-64".parse().unwrap();
    let keys = setup::setup(&id, &mut rng).unwrap();
    let key = PreparedProvingKey::new(keys.proving_key.clone(), None, kernel).unwrap();
    let (proof, public) = prove_circuit(
        SquareChain::new(64, Fr::from(3u64)),
        &key,
        &mut rng,
        &mut |_| {},
    )
    .unwrap();
    assert!(verify(&keys.verifying_key, &public, &proof).unwrap());

    let id = "threshold-d4-k2".parse().unwrap();
    let keys = setup::setup(&id, &mut rng).unwrap();
    let claim = Claim::from_value(&sample(&id, 10, 5).unwrap().claim).unwrap();
    for matrices in [None, Some(keys.matrices.clone())] {
        let key = PreparedProvingKey::new(keys.proving_key.clone(), matrices, kernel).unwrap();
        // Twice: the second proof uses the matrices the first one kept, when it had to build them.
        for _ in 0..2 {
            let (proof, public) =
                prove_circuit(ClaimCircuit::new(&claim), &key, &mut rng, &mut |_| {}).unwrap();
            assert_eq!(public, claim.public_signals());
            assert!(verify(&keys.verifying_key, &public, &proof).unwrap());
        }
        assert!(key.matrices().is_some());
    }
}

#[test]
fn weak_forms_match_arkworks() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    testing::weak_forms_match_arkworks(&mut rng, 500).unwrap();
}

#[test]
fn fp64_matches_arkworks() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    testing::fp64_matches_arkworks(&mut rng, 500).unwrap();
}

#[test]
fn fq2_matches_arkworks() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    testing::fq2_matches_arkworks(&mut rng, 300).unwrap();
}

#[test]
fn glv_matches_arkworks() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    testing::glv_matches_arkworks(&mut rng, 20_000).unwrap();
}

/// A small scalar keeps one point after the GLV split (its second half is zero), a zero scalar or
/// the identity none, a random scalar two; the halves add back up to the scalar.
#[test]
fn glv_split_keeps_only_nonzero_halves() {
    use ark_ff::{BigInt, UniformRand};
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let beta = Fq29::from_canonical(&glv::BETA_G1);
    let g =
        super::prepare_g1::<Fq29>(&[<ark_bn254::G1Affine as ark_ec::AffineRepr>::generator()])[0];
    let random = Fr::rand(&mut rng).into_bigint();
    let one = Fr::from(1u64).into_bigint();
    let bit_sized = Fr::from(12_345u64).into_bigint();
    let cases: [(Affine<Fq29>, BigInt<4>, usize); 5] = [
        (g, one, 1),
        (g, bit_sized, 1),
        (g, BigInt([0; 4]), 0),
        (Affine::INFINITY, random, 0),
        (g, random, 2),
    ];
    for (base, scalar, points) in cases {
        let (bases, halves) = pippenger::split_glv(&[base], &[scalar], beta);
        assert_eq!(bases.len(), points, "points for scalar {scalar}");
        assert_eq!(halves.len(), points);
        assert!(halves.iter().all(|h| *h != [0; 4]), "a zero half was kept");
    }
}

/// The simd128 products' lane arithmetic (both splits) (run here on its `[u64; 2]` model; in Chromium by
/// `benches/simd-mont`) and the product-scanned `mont_scanned::mul` equal `mont::mul` (Karatsuba
/// columns, then the reduction) on every kind of factor the field allows: reduced values (0, 1,
/// p - 1, p + (p - 1), random), `add_for_mul` and `sub_for_mul` results; `mont::sqr` (Karatsuba
/// squaring) equals the product-scanned square (`mont_scanned::sqr`) and the product on every reduced value.
#[test]
fn simd_product_matches_the_scalar_one() {
    fn one_field<M: Modulus, F: PrimeField<BigInt = ark_ff::BigInt<4>>>(rng: &mut ChaCha20Rng) {
        use super::field::{Field, Fp29};
        let ours = |x: &F| Fp29::<M>::from_canonical(&x.into_bigint().0);
        let mut values: Vec<F> = vec![F::zero(), F::one(), -F::one(), -F::from(2u64)];
        values.extend((0..60).map(|_| F::rand(rng)));
        let mut reduced: Vec<Fp29<M>> = values.iter().map(ours).collect();
        reduced.extend(values.iter().map(|x| testing::plus_p(&ours(x))));
        // The plain limbs 0 and 1 (not Montgomery forms of anything in particular).
        let mut one = [0u32; LIMBS];
        one[0] = 1;
        for (a, b) in [([0; LIMBS], [0; LIMBS]), (one, one), (one, reduced[3].0)] {
            assert_eq!(
                super::mont_simd::mul::<M>(&a, &b),
                super::mont::mul::<M>(&a, &b)
            );
            assert_eq!(
                super::mont_scanned::mul::<M>(&a, &b),
                super::mont::mul::<M>(&a, &b)
            );
        }
        let n = reduced.len();
        let mut checked = 0;
        for x in &reduced {
            let square = super::mont::sqr::<M>(&x.0);
            assert_eq!(square, super::mont_scanned::sqr::<M>(&x.0), "{x:?}^2");
            assert_eq!(
                square,
                super::mont::mul::<M>(&x.0, &x.0),
                "{x:?}^2 as a product"
            );
        }
        for (i, x) in reduced.iter().enumerate() {
            let (y, z) = (reduced[(i * 7 + 3) % n], reduced[(i * 5 + 1) % n]);
            let pairs = [
                (*x, y),
                (y, *x),
                (x.sub_for_mul(&y), z),
                (z, x.sub_for_mul(&y)),
                (x.add_for_mul(&y), z),
                (x.sub_for_mul(&y), z.add_for_mul(x)),
                (z.add_for_mul(x), x.sub_for_mul(&y)),
            ];
            for (a, b) in pairs {
                let scalar = super::mont::mul::<M>(&a.0, &b.0);
                assert_eq!(
                    super::mont_simd::mul::<M>(&a.0, &b.0),
                    scalar,
                    "{a:?} * {b:?}"
                );
                let split = super::mont_simd::mul_then_reduce::<M>(&a.0, &b.0);
                assert_eq!(split, scalar, "{a:?} * {b:?}, split");
                let scanned = super::mont_scanned::mul::<M>(&a.0, &b.0);
                assert_eq!(scanned, scalar, "{a:?} * {b:?}, product-scanned");
                checked += 1;
            }
        }
        assert_eq!(checked, 7 * n);
    }
    let mut rng = ChaCha20Rng::seed_from_u64(32);
    one_field::<FqModulus, Fq>(&mut rng);
    one_field::<FrModulus, Fr>(&mut rng);
}

/// `mont::columns` (Karatsuba, wrapping on the way) is the schoolbook column sum exactly, computed
/// here in u128, for limbs up to the largest any factor may have (`sub_for_mul`'s `3 * 2^29`
/// times `add_for_mul`'s `2^30`, and two `add_for_mul`s as in Fq2, where the sums' products
/// pass 2^64), random limbs and zeros.
#[test]
fn karatsuba_columns_are_the_schoolbook_columns() {
    use rand::Rng;
    let mut rng = ChaCha20Rng::seed_from_u64(33);
    let max_a = [3 * (1u32 << 29) - 1; LIMBS];
    let max_b = [(1u32 << 30) - 1; LIMBS];
    let mut cases = vec![
        (max_a, max_b),
        (max_b, max_a),
        (max_b, max_b),
        ([0; LIMBS], max_b),
    ];
    for _ in 0..500 {
        let a: [u32; LIMBS] = core::array::from_fn(|_| rng.gen_range(0..3 * (1u32 << 29)));
        let b: [u32; LIMBS] = core::array::from_fn(|_| rng.gen_range(0..1u32 << 30));
        cases.push((a, b));
    }
    for (a, b) in cases {
        let mut school = [0u128; super::field::COLUMNS];
        for i in 0..LIMBS {
            for j in 0..LIMBS {
                school[i + j] += u128::from(a[i]) * u128::from(b[j]);
            }
        }
        let ours = super::mont::columns(&a, &b);
        for (k, (o, s)) in ours.iter().zip(school).enumerate() {
            assert_eq!(u128::from(*o), s, "column {k} of {a:?} * {b:?}");
        }
    }
}

/// `Fp29::sum_of_products` (one reduction per 32 products) equals the sum of the products in
/// arkworks for every length around its carry and reduction steps, with the largest reduced
/// values (`2p - 1` in every factor, each product's columns at their largest) and random ones.
#[test]
fn sum_of_products_matches_arkworks() {
    fn one_field<M: Modulus, F: PrimeField<BigInt = ark_ff::BigInt<4>>>(rng: &mut ChaCha20Rng) {
        use super::field::Fp29;
        let ours = |x: &F| Fp29::<M>::from_canonical(&x.into_bigint().0);
        let back = |x: &Fp29<M>| F::from_bigint(ark_ff::BigInt(x.to_canonical())).unwrap();
        let largest = testing::plus_p(&ours(&-F::one()));
        assert_eq!(back(&largest), -F::one());
        for n in [0, 1, 3, 4, 5, 31, 32, 33, 64, 65, 200] {
            let worst: Vec<_> = (0..n).map(|_| (largest, largest)).collect();
            let random: Vec<(F, F)> = (0..n).map(|_| (F::rand(rng), F::rand(rng))).collect();
            let mixed: Vec<_> = random
                .iter()
                .enumerate()
                .map(|(i, (a, b))| {
                    let a = if i % 3 == 0 {
                        testing::plus_p(&ours(a))
                    } else {
                        ours(a)
                    };
                    (a, ours(b))
                })
                .collect();
            let expect_worst = F::from(n as u64);
            let expect: F = random.iter().map(|(a, b)| *a * b).sum();
            assert_eq!(
                back(&Fp29::sum_of_products(worst)),
                expect_worst,
                "{n} x (2p - 1)^2"
            );
            assert_eq!(
                back(&Fp29::sum_of_products(mixed)),
                expect,
                "{n} random products"
            );
        }
    }
    let mut rng = ChaCha20Rng::seed_from_u64(34);
    one_field::<FqModulus, Fq>(&mut rng);
    one_field::<FrModulus, Fr>(&mut rng);
}
