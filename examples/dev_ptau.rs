//! A DEVELOPMENT powers of tau for snarkjs, made natively from a fixed seed and already prepared
//! for phase 2: what `snarkjs powersoftau new`, `contribute` and `prepare phase2` make, in seconds
//! instead of hours (`prepare phase2` alone takes about two hours for 2^18 on 2 cores).
//!
//! ```text
//! cargo run --release --example dev_ptau -- --power 16 --out dev16.ptau [--seed 1]
//! snarkjs groth16 setup circuit.r1cs dev16.ptau circuit.zkey
//! ```
//!
//! tau, alpha and beta come from the seed, so anyone who knows the seed can forge proofs for
//! every key made from the file: for benchmarks and tests only.
//!
//! The format is snarkjs 0.7.6's (sources named below), and the phase 2 sections are byte for byte
//! what `snarkjs powersoftau prepare phase2` computes from the file's own powers
//! (`tests/interop/ptau.test.mjs` checks it, then sets up, proves and verifies with snarkjs):
//!
//! - the container (`@iden3/binfileutils`): `"ptau"`, version 1 and the number of sections as
//!   u32 LE, then each section as its id (u32 LE), its byte length (u64 LE) and its bytes;
//! - field elements in Montgomery form (x·2^256 mod q), 32 bytes little-endian; a G1 point is x‖y,
//!   a G2 point x‖y with each Fq2 coordinate c0‖c1; the point at infinity is all zeros
//!   (ffjavascript's `toRprLEM` and `zeroAffine`);
//! - section 1, the header: n8 = 32 (u32), q (32 bytes LE, not Montgomery), the power and the
//!   ceremony power (u32 each) (`writePTauHeader` in `src/powersoftau_utils.js`);
//! - sections 2 to 6: tau^i·G1 for i < 2^(power+1) − 1, tau^i·G2, alpha·tau^i·G1 and
//!   beta·tau^i·G1 for i < 2^power, beta·G2 (`src/powersoftau_new.js`);
//! - section 7, the contributions: their count (u32) and none. `groth16 setup` never reads it;
//!   `powersoftau verify` refuses the file with "This file has no contribution! It cannot be used
//!   in production", which is the truth about it;
//! - sections 12 to 15 (`src/powersoftau_preparephase2.js`): for each p in 0..=power, the Lagrange
//!   basis of the 2^p-th roots of unity at tau, L_i(tau) = ω^i (tau^n − 1) / (n (tau − ω^i)),
//!   times G1, G2, alpha·G1 and beta·G1; section 12 ends with one more block of 2^(power+1),
//!   the inverse FFT of the tau^i·G1 of section 2 with a zero appended (there is no
//!   tau^(2^(power+1)−1)): L_i(tau) − ω^i tau^(n−1) / n. `groth16 setup` takes the odd entries of
//!   the block twice its domain for the H query (`writeHs` in `src/zkey_new.js`).
//!
//! Every point is a fixed-base multiplication of the generator (one table per group, the
//! alpha and beta factors folded into the scalars) and the Lagrange bases are computed in Fr with
//! one batch inversion per domain, not by FFTs over the group.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Instant;

use ark_bn254::{Fq, Fq2, Fr, G1Projective, G2Projective};
use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{batch_inversion, BigInteger, FftField, Field, PrimeField, UniformRand, Zero};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

/// snarkjs's Lagrange sections need a domain of 2^(power+1), and Fr's two-adicity is 28 (above
/// that snarkjs switches to an algorithm this generator does not reproduce).
const MAX_POWER: u32 = 27;
/// Scalars multiplied and written per batch: bounds the memory to a few MiB.
const BATCH: usize = 1 << 16;
/// Scalars per rayon task (and per shared inversion) within a batch.
const TASK: usize = 1 << 10;
const G1_BYTES: u64 = 64;
const G2_BYTES: u64 = 128;

struct Args {
    power: u32,
    out: PathBuf,
    seed: u64,
}

fn usage() -> ! {
    eprintln!("usage: dev_ptau --power P --out FILE [--seed N]   (P in 1..={MAX_POWER}, seed 1)");
    std::process::exit(2);
}

fn args() -> Args {
    let (mut power, mut out, mut seed) = (None, None, 1);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let Some(value) = it.next() else { usage() };
        match flag.as_str() {
            "--power" => power = value.parse().ok(),
            "--out" => out = Some(PathBuf::from(value)),
            "--seed" => seed = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    match (power, out) {
        (Some(power @ 1..=MAX_POWER), Some(out)) => Args { power, out, seed },
        _ => usage(),
    }
}

/// The toxic waste, derived from the seed.
struct Secrets {
    tau: Fr,
    alpha: Fr,
    beta: Fr,
}

impl Secrets {
    fn from_seed(seed: u64, power: u32) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let secrets = Self {
            tau: Fr::rand(&mut rng),
            alpha: Fr::rand(&mut rng),
            beta: Fr::rand(&mut rng),
        };
        // tau must lie outside every domain the Lagrange bases use (1 in 2^226 for a random tau).
        assert!(
            secrets.tau.pow([1u64 << (power + 1)]) != Fr::ONE
                && !secrets.alpha.is_zero()
                && !secrets.beta.is_zero(),
            "seed {seed} gives a degenerate tau, alpha or beta: pick another seed"
        );
        secrets
    }
}

/// x^0, x^1, …, x^(n−1).
fn powers(x: Fr, n: usize) -> Vec<Fr> {
    std::iter::successors(Some(Fr::ONE), |p| Some(*p * x))
        .take(n)
        .collect()
}

/// The Lagrange basis of the 2^log_n-th roots of unity ω^i, evaluated at tau:
/// L_i(tau) = ω^i (tau^n − 1) / (n (tau − ω^i)), the inverse FFT of tau^0..tau^(n−1).
fn lagrange_at(tau: Fr, log_n: u32) -> Vec<Fr> {
    let n = 1usize << log_n;
    let omegas = powers(Fr::get_root_of_unity(n as u64).expect("a 2-adic domain"), n);
    let mut inverses: Vec<Fr> = omegas.iter().map(|w| tau - w).collect();
    batch_inversion(&mut inverses);
    let scale = (tau.pow([n as u64]) - Fr::ONE) / Fr::from(n as u64);
    omegas
        .par_iter()
        .zip(inverses)
        .map(|(w, inv)| scale * w * inv)
        .collect()
}

/// The last block of section 12: the inverse FFT over 2^log_n points of tau^0..tau^(n−2) and a
/// zero, i.e. L_i(tau) − ω^i tau^(n−1) / n.
fn truncated_lagrange_at(tau: Fr, log_n: u32) -> Vec<Fr> {
    let n = 1usize << log_n;
    let omegas = powers(Fr::get_root_of_unity(n as u64).expect("a 2-adic domain"), n);
    let missing = tau.pow([n as u64 - 1]) / Fr::from(n as u64);
    lagrange_at(tau, log_n)
        .into_iter()
        .zip(omegas)
        .map(|(l, w)| l - w * missing)
        .collect()
}

/// 2^256 mod q: ffjavascript stores x as x·2^256 mod q (Montgomery form).
static MONTGOMERY_R: LazyLock<Fq> = LazyLock::new(|| Fq::from(2u64).pow([256]));

/// A coordinate as ffjavascript stores it (`toRprLEM`): Fq in Montgomery form, 32 bytes
/// little-endian; Fq2 as c0‖c1.
trait PtauCoordinate {
    const BYTES: usize;
    fn encode(&self, out: &mut [u8]);
}

impl PtauCoordinate for Fq {
    const BYTES: usize = 32;
    fn encode(&self, out: &mut [u8]) {
        out.copy_from_slice(&(*self * *MONTGOMERY_R).into_bigint().to_bytes_le());
    }
}

impl PtauCoordinate for Fq2 {
    const BYTES: usize = 64;
    fn encode(&self, out: &mut [u8]) {
        self.c0.encode(&mut out[..32]);
        self.c1.encode(&mut out[32..]);
    }
}

/// A point as snarkjs stores it in a .ptau: x‖y, the point at infinity as zeros (`zeroAffine`).
fn encode_point<P: SWCurveConfig>(p: &Affine<P>, out: &mut [u8])
where
    P::BaseField: PtauCoordinate,
{
    if p.infinity {
        return out.fill(0);
    }
    let (x, y) = out.split_at_mut(P::BaseField::BYTES);
    p.x.encode(x);
    p.y.encode(y);
}

/// The bits [from, from + width) of a little-endian integer.
fn window_of(limbs: &[u64], from: usize, width: usize) -> usize {
    let (limb, shift) = (from / 64, from % 64);
    let mut bits = limbs.get(limb).map_or(0, |l| l >> shift);
    if shift + width > 64 {
        bits |= limbs.get(limb + 1).map_or(0, |l| l << (64 - shift));
    }
    (bits & ((1 << width) - 1)) as usize
}

/// scalar·G for each scalar, in affine coordinates, from the fixed-base table of G (entry
/// [w][d] = d·2^(w·c)·G): one table entry added per window of c bits. Each window's additions
/// are done in affine coordinates for all the scalars at once, sharing one inversion (Montgomery's
/// trick): about 6 multiplications an addition instead of the 11 of a mixed addition, and no
/// normalisation at the end.
fn fixed_base_mul<P: SWCurveConfig>(
    table: &BatchMulPreprocessing<Projective<P>>,
    scalars: &[P::ScalarField],
) -> Vec<Affine<P>> {
    let c = table.window;
    let scalars: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
    let entry = |w: usize, s: &<P::ScalarField as PrimeField>::BigInt| {
        &table.table[w][window_of(s.as_ref(), w * c, c)]
    };
    let mut acc: Vec<Affine<P>> = scalars.iter().map(|s| *entry(0, s)).collect();
    let mut dx = vec![P::BaseField::ZERO; scalars.len()];
    for w in 1..table.table.len() {
        // x2 − x1 where the affine formula applies; zero (left alone by the inversion) elsewhere.
        for ((d, a), s) in dx.iter_mut().zip(&acc).zip(&scalars) {
            let q = entry(w, s);
            *d = if a.infinity || q.infinity {
                P::BaseField::ZERO
            } else {
                q.x - a.x
            };
        }
        batch_inversion(&mut dx);
        for ((a, d), s) in acc.iter_mut().zip(&dx).zip(&scalars) {
            let q = entry(w, s);
            if q.infinity {
                continue;
            }
            if a.infinity {
                *a = *q;
            } else if d.is_zero() {
                // a = ±q: a doubling or the point at infinity (never for scalars below r, whose
                // partial sums stay below r).
                *a = (a.into_group() + q).into_affine();
            } else {
                let lambda = (q.y - a.y) * d;
                let x = lambda.square() - a.x - q.x;
                let y = lambda * (a.x - x) - a.y;
                *a = Affine::new_unchecked(x, y);
            }
        }
    }
    acc
}

/// A binfileutils container written front to back: every section's length is known before its
/// bytes, so nothing is patched afterwards.
struct PtauWriter {
    out: BufWriter<File>,
    /// Bytes still owed to the section being written.
    owed: u64,
}

impl PtauWriter {
    fn create(path: &Path, sections: u32) -> std::io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 22, File::create(path)?);
        out.write_all(b"ptau")?;
        out.write_all(&1u32.to_le_bytes())?;
        out.write_all(&sections.to_le_bytes())?;
        Ok(Self { out, owed: 0 })
    }

    fn section(&mut self, id: u32, len: u64) -> std::io::Result<()> {
        assert_eq!(self.owed, 0, "the previous section is incomplete");
        self.out.write_all(&id.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.owed = len;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.owed = self
            .owed
            .checked_sub(bytes.len() as u64)
            .expect("more bytes than the section's length");
        self.out.write_all(bytes)
    }

    /// scalar·G for each scalar, from the fixed-base table of G.
    fn points<P>(
        &mut self,
        table: &BatchMulPreprocessing<Projective<P>>,
        scalars: &[Fr],
    ) -> std::io::Result<()>
    where
        P: SWCurveConfig<ScalarField = Fr>,
        P::BaseField: PtauCoordinate,
    {
        let size = 2 * P::BaseField::BYTES;
        let mut bytes = vec![0u8; BATCH.min(scalars.len()) * size];
        for chunk in scalars.chunks(BATCH) {
            let bytes = &mut bytes[..chunk.len() * size];
            bytes
                .par_chunks_mut(TASK * size)
                .zip(chunk.par_chunks(TASK))
                .for_each(|(out, scalars)| {
                    let points = fixed_base_mul(table, scalars);
                    for (out, p) in out.chunks_mut(size).zip(&points) {
                        encode_point(p, out);
                    }
                });
            self.write(bytes)?;
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        assert_eq!(self.owed, 0, "the last section is incomplete");
        self.out.flush()?;
        self.out.get_ref().sync_all()
    }
}

fn scaled(factor: Fr, scalars: &[Fr]) -> Vec<Fr> {
    scalars.par_iter().map(|s| factor * s).collect()
}

fn write_ptau(path: &Path, power: u32, s: &Secrets) -> std::io::Result<()> {
    let n = 1usize << power;
    let tau_powers = powers(s.tau, 2 * n - 1);
    // Sections 12 to 15 hold the bases of 1, 2, 4, …, 2^power points, one after the other.
    let lagrange: Vec<Fr> = (0..=power).flat_map(|p| lagrange_at(s.tau, p)).collect();
    let last_block = truncated_lagrange_at(s.tau, power + 1);
    let (g1_count, g2_count) = (
        tau_powers.len() + 2 * n + 3 * lagrange.len() + last_block.len(),
        n + 1 + lagrange.len(),
    );
    let g1 = BatchMulPreprocessing::new(G1Projective::generator(), g1_count);
    let g2 = BatchMulPreprocessing::new(G2Projective::generator(), g2_count);
    let (n, l) = (n as u64, lagrange.len() as u64);

    let mut file = PtauWriter::create(path, 11)?;
    file.section(1, 4 + 32 + 4 + 4)?;
    file.write(&32u32.to_le_bytes())?;
    file.write(&Fq::MODULUS.to_bytes_le())?;
    file.write(&power.to_le_bytes())?;
    file.write(&power.to_le_bytes())?; // ceremony power
    file.section(2, (2 * n - 1) * G1_BYTES)?;
    file.points(&g1, &tau_powers)?;
    file.section(3, n * G2_BYTES)?;
    file.points(&g2, &tau_powers[..n as usize])?;
    file.section(4, n * G1_BYTES)?;
    file.points(&g1, &scaled(s.alpha, &tau_powers[..n as usize]))?;
    file.section(5, n * G1_BYTES)?;
    file.points(&g1, &scaled(s.beta, &tau_powers[..n as usize]))?;
    file.section(6, G2_BYTES)?;
    file.points(&g2, &[s.beta])?;
    file.section(7, 4)?;
    file.write(&0u32.to_le_bytes())?; // no contributions
    file.section(12, (l + 2 * n) * G1_BYTES)?;
    file.points(&g1, &lagrange)?;
    file.points(&g1, &last_block)?;
    file.section(13, l * G2_BYTES)?;
    file.points(&g2, &lagrange)?;
    file.section(14, l * G1_BYTES)?;
    file.points(&g1, &scaled(s.alpha, &lagrange))?;
    file.section(15, l * G1_BYTES)?;
    file.points(&g1, &scaled(s.beta, &lagrange))?;
    file.finish()
}

fn main() {
    let Args { power, out, seed } = args();
    eprintln!(
        "dev_ptau: a DEVELOPMENT powers of tau (2^{power}) from the fixed seed {seed}: anyone who \
         knows the seed can forge proofs for every key made from it. For benchmarks and tests only."
    );
    let start = Instant::now();
    // Written next to the target and renamed: an interrupted run never leaves a short file under
    // the final name (make bench-browser caches the file by name).
    let mut partial = out.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if let Err(e) = write_ptau(&partial, power, &Secrets::from_seed(seed, power))
        .and_then(|()| std::fs::rename(&partial, &out))
    {
        eprintln!("dev_ptau: writing {}: {e}", out.display());
        std::process::exit(1);
    }
    let bytes = std::fs::metadata(&out).map_or(0, |m| m.len());
    eprintln!(
        "dev_ptau: wrote {} ({:.1} MiB) in {:.1} s",
        out.display(),
        bytes as f64 / (1 << 20) as f64,
        start.elapsed().as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
    use ark_std::test_rng;

    #[test]
    fn lagrange_bases_are_the_inverse_fft_of_the_powers_of_tau() {
        let tau = Fr::rand(&mut test_rng());
        for log_n in 0..6 {
            let n = 1 << log_n;
            let domain = Radix2EvaluationDomain::<Fr>::new(n).unwrap();
            let mut tau_powers = powers(tau, n);
            assert_eq!(
                lagrange_at(tau, log_n),
                domain.ifft(&tau_powers),
                "2^{log_n}"
            );
            tau_powers[n - 1] = Fr::ZERO;
            assert_eq!(
                truncated_lagrange_at(tau, log_n),
                domain.ifft(&tau_powers),
                "2^{log_n}"
            );
        }
    }

    fn check_fixed_base<P: SWCurveConfig<ScalarField = Fr>>() {
        let rng = &mut test_rng();
        let mut scalars: Vec<Fr> = (0..300).map(|_| Fr::rand(rng)).collect();
        scalars.extend([
            Fr::ZERO,
            Fr::ONE,
            -Fr::ONE,
            Fr::from(u64::MAX),
            -Fr::from(1u64 << 40),
        ]);
        let g = Projective::<P>::generator();
        let table = BatchMulPreprocessing::new(g, scalars.len());
        let expected: Vec<Affine<P>> = scalars.iter().map(|s| (g * s).into_affine()).collect();
        assert_eq!(fixed_base_mul(&table, &scalars), expected);
    }

    #[test]
    fn fixed_base_mul_matches_scalar_mul_in_g1_and_g2() {
        check_fixed_base::<ark_bn254::g1::Config>();
        check_fixed_base::<ark_bn254::g2::Config>();
    }

    #[test]
    fn points_are_encoded_as_ffjavascript_does() {
        let mut out = [0u8; 64];
        encode_point(&G1Projective::generator().into_affine(), &mut out);
        // The generator (1, 2) in Montgomery form: 2^256 mod q and 2^257 mod q.
        let r = Fq::from(2u64).pow([256]).into_bigint().to_bytes_le();
        let r2 = Fq::from(2u64).pow([257]).into_bigint().to_bytes_le();
        assert_eq!((&out[..32], &out[32..]), (&r[..], &r2[..]));
        encode_point(&ark_bn254::G1Affine::identity(), &mut out);
        assert_eq!(out, [0; 64]);
        assert_eq!(window_of(&[u64::MAX << 60, 0b101], 60, 7), 0b101_1111);
    }
}
