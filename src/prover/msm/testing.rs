//! Checks of the wasm kernel against arkworks, shared by the native unit tests and the browser
//! tests of both wasm builds (`tests/web_*.rs`): each returns what differs instead of panicking,
//! so a browser test can report it.

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInt, Field as _, PrimeField, UniformRand};
use ark_std::rand::Rng;
use ark_std::Zero;

use super::field::{Field, Fp2, Fp29, Fq29, Fr29, Modulus, BITS, LIMBS, MASK};
use super::fp64::Fp64;
use super::pippenger::Cut;
use super::{glv, Kernel};

type Check = Result<(), String>;

fn same<T: PartialEq + core::fmt::Debug>(what: &str, ours: T, reference: T) -> Check {
    if ours == reference {
        Ok(())
    } else {
        Err(format!(
            "{what}: wasm kernel {ours:?}, arkworks {reference:?}"
        ))
    }
}

/// Field operations on random and edge values against arkworks' Fq and Fr.
pub fn field_matches_arkworks<R: Rng>(rng: &mut R, rounds: usize) -> Check {
    fn one_field<M: Modulus, F: PrimeField<BigInt = BigInt<4>>, R: Rng>(
        name: &str,
        rng: &mut R,
        rounds: usize,
    ) -> Check {
        let ours = |x: &F| Fp29::<M>::from_canonical(&x.into_bigint().0);
        let back = |x: &Fp29<M>| F::from_bigint(BigInt(x.to_canonical())).expect("reduced");
        let mut values: Vec<F> = vec![
            F::zero(),
            F::one(),
            -F::one(),
            F::from(2u64),
            -F::from(2u64),
        ];
        values.extend((0..rounds).map(|_| F::rand(rng)));
        for (i, a) in values.iter().enumerate() {
            let b = &values[(i * 7 + 3) % values.len()];
            let (x, y) = (ours(a), ours(b));
            same(&format!("{name} round trip"), back(&x), *a)?;
            same(&format!("{name} {a} * {b}"), back(&(x * y)), *a * b)?;
            same(&format!("{name} {a} + {b}"), back(&(x + y)), *a + b)?;
            same(&format!("{name} {a} - {b}"), back(&(x - y)), *a - b)?;
            same(&format!("{name} -{a}"), back(&-x), -*a)?;
            same(&format!("{name} {a}^2"), back(&x.square()), a.square())?;
            same(
                &format!("{name} 1/{a}"),
                back(&x.inverse()),
                ark_ff::Field::inverse(a).unwrap_or(F::zero()),
            )?;
            same(&format!("{name} {a} == {b}"), x == y, a == b)?;
            same(&format!("{name} {a} is zero"), x.is_zero(), a.is_zero())?;
        }
        Ok(())
    }
    one_field::<super::field::FqModulus, Fq, R>("Fq", rng, rounds)?;
    one_field::<super::field::FrModulus, Fr, R>("Fr", rng, rounds)?;
    // arkworks' Montgomery form converts directly (what the MSM does with key points).
    for _ in 0..rounds {
        let a = Fq::rand(rng);
        same(
            "Fq from arkworks' Montgomery form",
            Fq29::from_ark_mont(&(a.0).0),
            Fq29::from_canonical(&a.into_bigint().0),
        )?;
    }
    let _ = Fr29::ONE;
    Ok(())
}

/// The representative `x + p` of a reduced `x` (same value, in `[p, 2p)`): every operation must
/// accept it, as weakly reduced results are.
pub(super) fn plus_p<M: Modulus>(x: &Fp29<M>) -> Fp29<M> {
    let mut limbs = [0u64; LIMBS];
    let mut carry = 0;
    let canonical = x.0.map(u64::from);
    // x may itself be in [p, 2p): bring it below p first, so that x + p stays below 2p.
    let mut low = canonical;
    let mut borrow = 0i64;
    let mut d = [0u64; LIMBS];
    for i in 0..LIMBS {
        let v = low[i] as i64 - M::P[i] as i64 + borrow;
        d[i] = (v as u64) & MASK;
        borrow = v >> BITS;
    }
    if borrow >= 0 {
        low = d;
    }
    for i in 0..LIMBS {
        let v = low[i] + M::P[i] + carry;
        limbs[i] = v & MASK;
        carry = v >> BITS;
    }
    Fp29::from_mont_limbs(limbs)
}

/// Operations on weakly reduced inputs (values in `[p, 2p)`), on the largest values the bounds
/// allow, and through the unnormalised `*_for_mul` operands, against arkworks' Fq.
pub fn weak_forms_match_arkworks<R: Rng>(rng: &mut R, rounds: usize) -> Check {
    let ours = |x: &Fq| Fq29::from_canonical(&x.into_bigint().0);
    let back = |x: &Fq29| Fq::from_bigint(BigInt(x.to_canonical())).expect("reduced");
    // p - 1 has the largest canonical value; with p added it is the largest weak one.
    let mut values = vec![-Fq::from(1u64), Fq::zero(), Fq::from(1u64), -Fq::from(2u64)];
    values.extend((0..rounds).map(|_| Fq::rand(rng)));
    for (i, a) in values.iter().enumerate() {
        let b = values[(i * 5 + 1) % values.len()];
        let c = values[(i * 3 + 2) % values.len()];
        for (x, y, z) in [
            (ours(a), ours(&b), ours(&c)),
            (plus_p(&ours(a)), plus_p(&ours(&b)), plus_p(&ours(&c))),
        ] {
            same("weak equality", x == ours(a), true)?;
            same("weak a * b", back(&(x * y)), *a * b)?;
            same("weak a^2", back(&x.square()), a.square())?;
            same("weak a + b", back(&(x + y)), *a + b)?;
            same("weak a - b", back(&(x - y)), *a - b)?;
            same("weak -a", back(&-x), -*a)?;
            same(
                "weak 1/a",
                back(&x.inverse()),
                a.inverse().unwrap_or(Fq::zero()),
            )?;
            same("weak is zero", x.is_zero(), a.is_zero())?;
            let (d, s) = (x.sub_for_mul(&y), z.add_for_mul(&x));
            same("(a - b) * c", back(&(d * z)), (*a - b) * c)?;
            same("c * (a - b)", back(&(z * d)), (*a - b) * c)?;
            same("(a - b) * (c + a)", back(&(d * s)), (*a - b) * (c + a))?;
            same(
                "(c + a) * (a + b)",
                back(&(s * x.add_for_mul(&y))),
                (c + a) * (*a + b),
            )?;
            same("(c + a)^2", back(&s.square()), (c + a).square())?;
            same("(a - b)^2", back(&d.square()), (*a - b).square())?;
        }
    }
    Ok(())
}

/// The native kernel's [`Fp64`] against arkworks' Fq on random and edge values, each also as its
/// weak representative `x + p` (products and sums leave values in `[0, 2p)`), and through the
/// largest factors (p - 1 + p).
pub fn fp64_matches_arkworks<R: Rng>(rng: &mut R, rounds: usize) -> Check {
    let weak = |x: &Fq| {
        let mut limbs = x.0;
        // Montgomery limbs below p plus p: below 2p < 2^256, no carry.
        ark_ff::BigInteger::add_with_carry(&mut limbs, &Fq::MODULUS);
        Fp64::from_mont_limbs(limbs.0)
    };
    let mut values = vec![-Fq::from(1u64), Fq::zero(), Fq::from(1u64), -Fq::from(2u64)];
    values.extend((0..rounds).map(|_| Fq::rand(rng)));
    for (i, a) in values.iter().enumerate() {
        let b = values[(i * 7 + 3) % values.len()];
        for (x, y) in [
            (Fp64::from_ark(a), Fp64::from_ark(&b)),
            (weak(a), weak(&b)),
            (Fp64::from_ark(a), weak(&b)),
        ] {
            same("Fp64 a * b", (x * y).to_ark(), *a * b)?;
            same("Fp64 a^2", x.square().to_ark(), a.square())?;
            same("Fp64 a + b", (x + y).to_ark(), *a + b)?;
            same("Fp64 a - b", (x - y).to_ark(), *a - b)?;
            same("Fp64 -a", (-x).to_ark(), -*a)?;
            same("Fp64 2a", x.double().to_ark(), *a + a)?;
            same(
                "Fp64 1/a",
                x.inverse().to_ark(),
                a.inverse().unwrap_or(Fq::zero()),
            )?;
            same("Fp64 a == b", x == y, *a == b)?;
            same("Fp64 is zero", x.is_zero(), a.is_zero())?;
            // Results stay below 2p, so they can be factors again.
            same(
                "Fp64 (a * b) * (a + b)",
                ((x * y) * (x + y)).to_ark(),
                (*a * b) * (*a + b),
            )?;
        }
    }
    Ok(())
}

/// Fq2 (the coordinates of G2) against arkworks' Fq2.
pub fn fq2_matches_arkworks<R: Rng>(rng: &mut R, rounds: usize) -> Check {
    let ours = |x: &Fq2| Fp2 {
        c0: Fq29::from_canonical(&x.c0.into_bigint().0),
        c1: Fq29::from_canonical(&x.c1.into_bigint().0),
    };
    let back = |x: &Fp2<Fq29>| {
        Fq2::new(
            Fq::from_bigint(BigInt(x.c0.to_canonical())).expect("reduced"),
            Fq::from_bigint(BigInt(x.c1.to_canonical())).expect("reduced"),
        )
    };
    let mut values = vec![
        Fq2::zero(),
        Fq2::from(1u64),
        -Fq2::from(1u64),
        Fq2::new(Fq::zero(), -Fq::from(1u64)),
        -Fq2::new(Fq::from(1u64), Fq::from(1u64)),
        Fq2::new(-Fq::from(1u64), Fq::zero()),
    ];
    values.extend((0..rounds).map(|_| Fq2::rand(rng)));
    for (i, a) in values.iter().enumerate() {
        let b = values[(i * 7 + 3) % values.len()];
        let (x, y) = (ours(a), ours(&b));
        same("Fq2 a * b", back(&(x * y)), *a * b)?;
        same("Fq2 a^2", back(&x.square()), a.square())?;
        same("Fq2 a + b", back(&(x + y)), *a + b)?;
        same("Fq2 a - b", back(&(x - y)), *a - b)?;
        same(
            "Fq2 1/a",
            back(&x.inverse()),
            a.inverse().unwrap_or(Fq2::zero()),
        )?;
        same(
            "Fq2 (a - b) * b",
            back(&(x.sub_for_mul(&y) * y)),
            (*a - b) * b,
        )?;
        let weak = Fp2 {
            c0: plus_p(&x.c0),
            c1: plus_p(&x.c1),
        };
        same("Fq2 weak a * b", back(&(weak * y)), *a * b)?;
        // Both factors at their largest (p - 1 + p in each part for a = -1 - u): the lazy
        // reduction's column bounds and its padding for `a0 b0 - a1 b1`.
        let weak_y = Fp2 {
            c0: plus_p(&y.c0),
            c1: plus_p(&y.c1),
        };
        same("Fq2 weak a * weak b", back(&(weak * weak_y)), *a * b)?;
        same("Fq2 weak b * weak a", back(&(weak_y * weak)), *a * b)?;
        same("Fq2 weak a^2", back(&weak.square()), a.square())?;
        same("Fq2 is zero", x.is_zero(), a.is_zero())?;
    }
    // The batch inversion through the norms: every nonzero value (weak forms among them) against
    // arkworks' inverse, and a batch holding a zero refused.
    let nonzero: Vec<Fq2> = values.iter().filter(|v| !v.is_zero()).copied().collect();
    let mut batch: Vec<Fp2<Fq29>> = nonzero.iter().map(ours).collect();
    for v in batch.iter_mut().step_by(3) {
        *v = Fp2 {
            c0: plus_p(&v.c0),
            c1: plus_p(&v.c1),
        };
    }
    let mut prefix = Vec::new();
    same(
        "Fq2 batch inversion of nonzero values",
        Field::batch_invert_nonzero(&mut batch, &mut prefix),
        true,
    )?;
    for (v, a) in batch.iter().zip(&nonzero) {
        same("Fq2 batch 1/a", back(v), a.inverse().ok_or("nonzero")?)?;
    }
    let mut with_zero: Vec<Fp2<Fq29>> = values.iter().take(8).map(ours).collect();
    same(
        "Fq2 batch inversion with a zero",
        Field::batch_invert_nonzero(&mut with_zero, &mut prefix),
        false,
    )?;
    Ok(())
}

/// The GLV constants: beta's endomorphism is multiplication by LAMBDA on both groups, and the
/// split of random and edge-case scalars adds back up with both halves below 2^127.
pub fn glv_matches_arkworks<R: Rng>(rng: &mut R, rounds: usize) -> Check {
    let lambda = Fr::from_bigint(BigInt(glv::LAMBDA)).ok_or("LAMBDA is not below r")?;
    let beta1 = Fq::from_bigint(BigInt(glv::BETA_G1)).ok_or("BETA_G1 is not below q")?;
    let beta2 = Fq::from_bigint(BigInt(glv::BETA_G2)).ok_or("BETA_G2 is not below q")?;
    for _ in 0..4 {
        let p = G1Projective::rand(rng).into_affine();
        same(
            "G1 phi(P) = LAMBDA P",
            G1Affine::new_unchecked(p.x * beta1, p.y),
            (p * lambda).into_affine(),
        )?;
        let q = G2Projective::rand(rng).into_affine();
        let beta = Fq2::new(beta2, Fq::zero());
        same(
            "G2 phi(Q) = LAMBDA Q",
            G2Affine::new_unchecked(q.x * beta, q.y),
            (q * lambda).into_affine(),
        )?;
    }
    same(
        "G1 generator",
        G1Affine::generator().x * beta1 != G1Affine::generator().x,
        true,
    )?;
    let signed = |k: i128| {
        let m = Fr::from(k.unsigned_abs());
        if k < 0 {
            -m
        } else {
            m
        }
    };
    let mut scalars = vec![
        Fr::zero(),
        Fr::from(1u64),
        -Fr::from(1u64),
        lambda,
        -lambda,
        lambda.square(),
    ];
    scalars.extend((0..254).map(|i| Fr::from(2u64).pow([i as u64])));
    scalars.extend((0..254).map(|i| -Fr::from(2u64).pow([i as u64])));
    scalars.extend((0..rounds).map(|_| Fr::rand(rng)));
    for k in scalars {
        let (k1, k2) = glv::decompose(&k.into_bigint().0);
        if k1.unsigned_abs() >> 127 != 0 || k2.unsigned_abs() >> 127 != 0 {
            return Err(format!("GLV split of {k}: {k1}, {k2} not below 2^127"));
        }
        same(
            &format!("GLV split of {k}"),
            signed(k1) + lambda * signed(k2),
            k,
        )?;
    }
    Ok(())
}

/// Scalars for `n` terms: random, with the edge cases mixed in (zero, one, r - 1, small, 2^k).
fn scalars<R: Rng>(rng: &mut R, n: usize) -> Vec<BigInt<4>> {
    (0..n)
        .map(|i| match i % 11 {
            0 => BigInt([0; 4]),
            1 => Fr::from(1u64).into_bigint(),
            2 => (-Fr::from(1u64)).into_bigint(),
            3 => Fr::from(rng.gen_range(0u64..4096)).into_bigint(),
            4 => Fr::from(2u64).pow([rng.gen_range(0u64..254)]).into_bigint(),
            _ => Fr::rand(rng).into_bigint(),
        })
        .collect()
}

/// Bases for `n` terms: random, with the identity, repeats of one point and its negation.
fn bases<G: CurveGroup, R: Rng>(rng: &mut R, n: usize) -> Vec<G::Affine> {
    let p = G::rand(rng);
    let points: Vec<G> = (0..n)
        .map(|i| match i % 13 {
            0 => G::zero(),
            1..=3 => p,
            4 => -p,
            5 => p.double(),
            _ => G::rand(rng),
        })
        .collect();
    G::normalize_batch(&points)
}

/// G1 and G2 MSMs of random and edge-case inputs of each size against arkworks.
pub fn msm_matches_arkworks<R: Rng>(kernel: Kernel, rng: &mut R, sizes: &[usize]) -> Check {
    for &n in sizes {
        let s = scalars(rng, n);
        let b1: Vec<G1Affine> = bases::<G1Projective, R>(rng, n);
        same(
            &format!("G1 MSM of {n}"),
            super::g1(kernel, &b1, &s).into_affine(),
            super::g1(Kernel::Arkworks, &b1, &s).into_affine(),
        )?;
        let b2: Vec<G2Affine> = bases::<G2Projective, R>(rng, n);
        same(
            &format!("G2 MSM of {n}"),
            super::g2(kernel, &b2, &s).into_affine(),
            super::g2(Kernel::Arkworks, &b2, &s).into_affine(),
        )?;
    }
    // One point many times with the same scalar: every bucket addition is a doubling, and a
    // point with its negation cancels to the identity.
    let g = G1Projective::generator().into_affine();
    let k = Fr::rand(rng).into_bigint();
    same(
        "G1 MSM of one point 64 times",
        super::g1(kernel, &[g; 64], &[k; 64]).into_affine(),
        (G1Projective::generator() * Fr::from(64u64) * Fr::from_bigint(k).unwrap()).into_affine(),
    )?;
    // One point everywhere with scalars 1..n and 1: bucket and running sums meet as equal or
    // opposite points at every level (doublings and identities in the segmented running sums).
    for n in [300usize, 3000] {
        let scalars: Vec<BigInt<4>> = (0..n)
            .map(|i| Fr::from(if i % 2 == 0 { 1 } else { i as u64 }).into_bigint())
            .collect();
        let total: u64 = (0..n).map(|i| if i % 2 == 0 { 1 } else { i as u64 }).sum();
        same(
            &format!("G1 MSM of one point {n} times"),
            super::g1(kernel, &vec![g; n], &scalars).into_affine(),
            (G1Projective::generator() * Fr::from(total)).into_affine(),
        )?;
        let h = G2Affine::generator();
        same(
            &format!("G2 MSM of one point {n} times"),
            super::g2(kernel, &vec![h; n], &scalars).into_affine(),
            (G2Projective::generator() * Fr::from(total)).into_affine(),
        )?;
    }
    same(
        "G1 MSM of P and -P",
        super::g1(kernel, &[g, -g], &[k, k]).into_affine(),
        G1Projective::zero().into_affine(),
    )?;
    same(
        "G1 MSM of nothing",
        super::g1(kernel, &[], &[]).into_affine(),
        G1Projective::zero().into_affine(),
    )?;
    Ok(())
}

/// `kernel` (Wasm29 or Native64) with every window cut into runs of points (what it does on
/// pools with more threads than windows) gives arkworks' sums, whatever the cut: one point per
/// chunk included.
pub fn chunked_msm_matches_arkworks<R: Rng>(kernel: Kernel, rng: &mut R, sizes: &[usize]) -> Check {
    for &n in sizes {
        let s = scalars(rng, n);
        let b1: Vec<G1Affine> = bases::<G1Projective, R>(rng, n);
        let b2: Vec<G2Affine> = bases::<G2Projective, R>(rng, n);
        let want1 = super::g1(Kernel::Arkworks, &b1, &s).into_affine();
        let want2 = super::g2(Kernel::Arkworks, &b2, &s).into_affine();
        for k in [1, 2, 3, 7, 4 * n] {
            let cut = Cut {
                chunks: Some(k),
                window: None,
            };
            same(
                &format!("G1 MSM of {n} in {k} chunks"),
                g1_cut(kernel, &b1, &s, cut),
                want1,
            )?;
            same(
                &format!("G2 MSM of {n} in {k} chunks"),
                g2_cut(kernel, &b2, &s, cut),
                want2,
            )?;
        }
    }
    Ok(())
}

/// `kernel`'s G1 MSM cut as `cut` says, in affine form.
fn g1_cut(kernel: Kernel, bases: &[G1Affine], scalars: &[BigInt<4>], cut: Cut) -> G1Affine {
    match kernel {
        Kernel::Arkworks => super::g1(kernel, bases, scalars),
        Kernel::Wasm29 => super::g1_cut(&super::prepare_g1::<Fq29>(bases), scalars, cut),
        Kernel::Native64 => super::g1_cut(&super::prepare_g1::<Fp64>(bases), scalars, cut),
    }
    .into_affine()
}

/// `kernel`'s G2 MSM cut as `cut` says, in affine form.
fn g2_cut(kernel: Kernel, bases: &[G2Affine], scalars: &[BigInt<4>], cut: Cut) -> G2Affine {
    match kernel {
        Kernel::Arkworks => super::g2(kernel, bases, scalars),
        Kernel::Wasm29 => super::g2_cut(&super::prepare_g2::<Fq29>(bases), scalars, cut),
        Kernel::Native64 => super::g2_cut(&super::prepare_g2::<Fp64>(bases), scalars, cut),
    }
    .into_affine()
}

/// `n` distinct points `(a + i b) G` for random a and b, made with one addition each (random
/// points cost a scalar multiplication each, too slow for 2^16 of them in G2).
pub fn walk<G: CurveGroup, R: Rng>(rng: &mut R, n: usize) -> Vec<G::Affine> {
    let step = G::rand(rng);
    let mut p = G::rand(rng);
    let points: Vec<G> = (0..n)
        .map(|_| {
            p += step;
            p
        })
        .collect();
    G::normalize_batch(&points)
}

/// One group's edge cases of size `n` against arkworks: random bases and scalars; one point `n`
/// times with one scalar (every bucket addition is a doubling); the identity everywhere; all
/// scalars 0, 1 and r - 1 (the largest); and, on a fixed window, the same with each window's
/// every bucket in use.
fn edge_cases<G: CurveGroup<ScalarField = Fr> + VariableBaseMSM, R: Rng>(
    what: &str,
    msm: impl Fn(&[G::Affine], &[BigInt<4>], Cut) -> G::Affine,
    rng: &mut R,
    n: usize,
) -> Check {
    let reference = |b: &[G::Affine], s: &[BigInt<4>]| G::msm_bigint(b, s).into_affine();
    let random: Vec<BigInt<4>> = (0..n).map(|_| Fr::rand(rng).into_bigint()).collect();
    let bases = walk::<G, R>(rng, n);
    let equal = vec![bases[0]; n];
    let identity = vec![G::Affine::zero(); n];
    let constant = |x: Fr| vec![x.into_bigint(); n];
    let one_scalar = constant(Fr::rand(rng));
    let cases = [
        ("random", bases.as_slice(), random.clone()),
        ("one point, one scalar", &equal, one_scalar),
        ("one point, random scalars", &equal, random.clone()),
        ("the identity", &identity, random),
        ("scalars 0", &bases, constant(Fr::zero())),
        ("scalars 1", &bases, constant(Fr::from(1u64))),
        ("scalars r - 1", &bases, constant(-Fr::from(1u64))),
    ];
    for (case, b, s) in &cases {
        let want = reference(b, s);
        same(
            &format!("{what} MSM of {n}: {case}"),
            msm(b, s, Cut::default()),
            want,
        )?;
        // 4-bit windows: a window's 8 buckets all in use from 8 points on.
        let cut = Cut {
            chunks: Some(1),
            window: Some(4),
        };
        same(
            &format!("{what} MSM of {n} in 4-bit windows: {case}"),
            msm(b, s, cut),
            want,
        )?;
    }
    Ok(())
}

/// [`edge_cases`] for G1 and G2 at each size, with `kernel` (Wasm29 or Native64).
pub fn msm_edge_cases_match_arkworks<R: Rng>(
    kernel: Kernel,
    rng: &mut R,
    sizes: &[usize],
) -> Check {
    for &n in sizes {
        edge_cases::<G1Projective, R>("G1", |b, s, cut| g1_cut(kernel, b, s, cut), rng, n)?;
        edge_cases::<G2Projective, R>("G2", |b, s, cut| g2_cut(kernel, b, s, cut), rng, n)?;
    }
    Ok(())
}

/// The 29-bit FFTs ([`crate::prover::fft`]) against arkworks' radix-2 domain: forward DIF and
/// inverse DIT on random vectors of each size `2^log_n`, then the whole coset quotient of the
/// witness map (as `LibsnarkReduction` computes it) on three random vectors.
pub fn fft_matches_arkworks<R: Rng>(rng: &mut R, log_sizes: &[u32]) -> Check {
    use crate::prover::fft::{bit_reverse, dif, dit, from29, to29, Coset};
    use ark_ff::FftField;
    use ark_poly::{EvaluationDomain, GeneralEvaluationDomain, Radix2EvaluationDomain};
    for &log_n in log_sizes {
        let n = 1usize << log_n;
        let random = |rng: &mut R| -> Vec<Fr> { (0..n).map(|_| Fr::rand(rng)).collect() };
        let values = random(rng);
        let domain = Radix2EvaluationDomain::<Fr>::new(n).ok_or("no domain")?;
        let mut ours: Vec<Fr29> = values.iter().map(to29).collect();
        dif(&mut ours, false);
        let natural: Vec<Fr> = (0..n)
            .map(|i| from29(&ours[bit_reverse(i, log_n)]))
            .collect();
        same(&format!("forward DIF of {n}"), natural, domain.fft(&values))?;

        let mut ours: Vec<Fr29> = (0..n)
            .map(|i| to29(&values[bit_reverse(i, log_n)]))
            .collect();
        dit(&mut ours, true);
        let scaled: Vec<Fr> = ours.iter().map(|x| from29(x) * domain.size_inv).collect();
        same(&format!("inverse DIT of {n}"), scaled, domain.ifft(&values))?;

        if n < 2 {
            continue;
        }
        let (a, b, c) = (random(rng), random(rng), random(rng));
        let domain = GeneralEvaluationDomain::<Fr>::new(n).ok_or("no domain")?;
        let coset = domain.get_coset(Fr::GENERATOR).ok_or("no coset")?;
        let mut reference = [a.clone(), b.clone(), c.clone()];
        for v in reference.iter_mut() {
            domain.ifft_in_place(v);
            coset.fft_in_place(v);
        }
        let z_inv = domain
            .evaluate_vanishing_polynomial(Fr::GENERATOR)
            .inverse()
            .ok_or("Z is zero on the coset")?;
        let mut h: Vec<Fr> = (0..n)
            .map(|i| (reference[0][i] * reference[1][i] - reference[2][i]) * z_inv)
            .collect();
        coset.ifft_in_place(&mut h);

        let ours = Coset::new(n);
        let mut v: Vec<Vec<Fr29>> = [a, b, c]
            .iter()
            .map(|x| x.iter().map(to29).collect())
            .collect();
        for x in v.iter_mut() {
            ours.evaluations_to_coset(x);
        }
        let (first, rest) = v.split_at_mut(1);
        ours.quotient(&mut first[0], &rest[0], &rest[1]);
        let coefficients = ours.coefficients_from_coset(&mut first[0]);
        let expected: Vec<[u64; 4]> = h.iter().map(|x| x.into_bigint().0).collect();
        same(&format!("coset quotient of {n}"), coefficients, expected)?;
    }
    Ok(())
}
