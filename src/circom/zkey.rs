//! snarkjs's Groth16 proving key, `.zkey`, read and converted into airprover's proving key.
//!
//! The file is an [`binfile`](super::binfile) container with magic `zkey`, version 1 (the layout
//! snarkjs 0.7 writes; arkworks' MIT/Apache `circom-compat` reads the same). Sections:
//!
//! ```text
//! 1  header          protocol, u32: 1 Groth16 (2 PLONK and 10 FFLONK are not proved here)
//! 2  Groth16 header  n8q (u32), q (n8q bytes), n8r (u32), r (n8r bytes), nVars, nPublic,
//!                    domainSize (u32 each), alpha1, beta1 (G1), beta2, gamma2 (G2), delta1 (G1),
//!                    delta2 (G2)
//! 3  IC              nPublic + 1 G1 points
//! 4  coefficients    count (u32), then per entry: matrix (u32: 0 A, 1 B), constraint (u32),
//!                    signal (u32), value (n8r bytes)
//! 5  A               nVars G1 points            6  B1  nVars G1 points
//! 7  B2              nVars G2 points            8  C   nVars - nPublic - 1 G1 points
//! 9  H               domainSize G1 points      10  contributions (phase 2: names, beacons;
//!                                                   read by import-zkey only)
//! ```
//!
//! Numbers are little-endian. A base-field coordinate is stored in Montgomery form (`x·R mod q`,
//! `R = 2^256`), which is arkworks' own internal form; a coefficient is Montgomery-encoded twice
//! (`x·R² mod r`: checked on real files, whose public-input rows carry the coefficient one). A
//! G2 coordinate is `c0` then `c1`; the point at infinity is all zeros.
//!
//! snarkjs appends to A one row per public input (the constant one included): row
//! `nConstraints + i` holds signal `i` with coefficient one, and B nothing there. Those rows are
//! checked and left out of [`Matrices`] (whose `num_constraints` is the circuit's own), since the
//! QAP reduction adds them itself, as it does for our circuits. C is not in a zkey: the matrices
//! carry A and B, and C's evaluations are A∘B ([`crate::prover::qap::Reduction::Circom`]).
//!
//! Every error is typed: another protocol or curve is [`Error::ZkeyUnsupported`]; a wrong size,
//! a truncated section, a coordinate at or above q, a point off the curve or outside the
//! prime-order subgroup, a coefficient at or above r, an index out of range is
//! [`Error::ZkeyCorrupt`] naming the section. Conversion borrows the file's bytes and builds the
//! proving key section by section (the points checked in parallel with `parallel`): no second
//! copy of the file is made.

use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, BigInteger, PrimeField, Zero};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::r1cs::ConstraintMatrices;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::binfile::BinFile;
use crate::error::{Error, Result};
use crate::field::Fr;
use crate::prover::matrices::Matrices;
use crate::prover::{ProvingKey, VerifyingKey};

const MAGIC: &[u8; 4] = b"zkey";
const VERSION: u32 = 1;
const N8: usize = 32;
const G1_BYTES: usize = 2 * N8;
const G2_BYTES: usize = 4 * N8;
/// Bytes of a section-4 entry: matrix, constraint, signal, value.
const COEFFICIENT_BYTES: usize = 12 + N8;

/// Section ids, as snarkjs numbers them.
pub mod section {
    /// The protocol.
    pub const HEADER: u32 = 1;
    /// The Groth16 header.
    pub const GROTH16: u32 = 2;
    /// The verifying key's IC points.
    pub const IC: u32 = 3;
    /// The A and B coefficients.
    pub const COEFFICIENTS: u32 = 4;
    /// The A query.
    pub const A: u32 = 5;
    /// The B query in G1.
    pub const B1: u32 = 6;
    /// The B query in G2.
    pub const B2: u32 = 7;
    /// The private signals' part of C (arkworks' L query).
    pub const C: u32 = 8;
    /// The H query (on the odd coset of the doubled domain).
    pub const H: u32 = 9;
    /// The ceremony's contributions.
    pub const CONTRIBUTIONS: u32 = 10;
}

/// The name a section goes by in errors and in [`ZkeyInfo`].
pub fn section_name(id: u32) -> &'static str {
    match id {
        section::HEADER => "header",
        section::GROTH16 => "Groth16 header",
        section::IC => "IC",
        section::COEFFICIENTS => "coefficients",
        section::A => "A",
        section::B1 => "B1",
        section::B2 => "B2",
        section::C => "C",
        section::H => "H",
        section::CONTRIBUTIONS => "contributions",
        _ => "unknown",
    }
}

/// `5 (A)`: how errors name a section.
fn label(id: u32) -> String {
    format!("{id} ({})", section_name(id))
}

fn corrupt(section: &str, what: String) -> Error {
    Error::ZkeyCorrupt {
        section: section.into(),
        what,
    }
}

fn corrupt_in(id: u32, what: impl Into<String>) -> Error {
    corrupt(&label(id), what.into())
}

/// The protocol of section 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Groth16 (1): the only one proved here.
    Groth16,
    /// PLONK (2).
    Plonk,
    /// FFLONK (10).
    Fflonk,
}

impl Protocol {
    /// snarkjs's name: `groth16`, `plonk`, `fflonk`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Groth16 => "groth16",
            Protocol::Plonk => "plonk",
            Protocol::Fflonk => "fflonk",
        }
    }
}

/// Section 2: the sizes and the fixed points of a Groth16 zkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groth16Header {
    /// Signals, the constant one included (the witness's length).
    pub n_vars: usize,
    /// Public signals (outputs, then public inputs), without the constant one.
    pub n_public: usize,
    /// The QAP domain's size (a power of two).
    pub domain_size: usize,
    /// alpha in G1.
    pub alpha_g1: G1Affine,
    /// beta in G1.
    pub beta_g1: G1Affine,
    /// beta in G2.
    pub beta_g2: G2Affine,
    /// gamma in G2.
    pub gamma_g2: G2Affine,
    /// delta in G1.
    pub delta_g1: G1Affine,
    /// delta in G2.
    pub delta_g2: G2Affine,
}

/// One section of a zkey, for [`ZkeyInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionInfo {
    /// Its id.
    pub id: u32,
    /// Its name (`coefficients`).
    pub name: &'static str,
    /// Its length in bytes.
    pub bytes: usize,
}

/// What `airprover zkey-info` prints (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZkeyInfo {
    /// `groth16`.
    pub protocol: &'static str,
    /// `bn128`, snarkjs's name for BN254.
    pub curve: &'static str,
    /// Signals, the constant one included.
    pub n_vars: usize,
    /// Public signals.
    pub n_public: usize,
    /// The circuit's constraints (rows of A and B before the public-input rows snarkjs adds).
    pub n_constraints: usize,
    /// The QAP domain's size.
    pub domain_size: usize,
    /// Entries of section 4 (A and B coefficients, the public-input rows included).
    pub n_coefficients: usize,
    /// SHA-256 of the whole file, hex: the converted key's cache name.
    pub sha256: String,
    /// Every section, in file order.
    pub sections: Vec<SectionInfo>,
}

/// A phase-2 contribution recorded in a zkey (section 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// The name its contributor gave (`--name`), if any.
    pub name: Option<String>,
    /// A random beacon (`zkey beacon`), not a participant.
    pub beacon: bool,
}

/// A zkey's proving key in airprover's layout: arkworks' key and the A and B matrices (C is
/// empty: a zkey has none). Prove with it under [`crate::prover::qap::Reduction::Circom`].
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The proving key; its `h_query` has `domain_size` points (H's evaluations on the odd coset
    /// are its scalars, not coefficients).
    pub proving_key: ProvingKey,
    /// A and B without the public-input rows; C empty.
    pub matrices: Matrices,
}

/// A parsed Groth16 zkey: section table, protocol, header and every section's size checked;
/// the points and coefficients of sections 3 to 9 are read by the methods that need them.
#[derive(Debug, Clone)]
pub struct Zkey<'a> {
    file: BinFile<'a>,
    /// Section 2.
    pub header: Groth16Header,
}

/// SHA-256 of a zkey's bytes, hex: the name its converted key is cached under.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The protocol of section 1, without reading anything else (a PLONK zkey has other sections).
pub fn protocol(bytes: &[u8]) -> Result<Protocol> {
    let file = container(bytes)?;
    read_protocol(&file)
}

fn container(bytes: &[u8]) -> Result<BinFile<'_>> {
    let file = BinFile::parse(bytes, MAGIC, corrupt)?;
    if file.version != VERSION {
        return Err(corrupt(
            "header",
            format!(
                "version {}: the zkey layout of version {VERSION} is read",
                file.version
            ),
        ));
    }
    Ok(file)
}

fn read_protocol(file: &BinFile<'_>) -> Result<Protocol> {
    let bytes = file.required(section::HEADER, section_name(section::HEADER))?;
    if bytes.len() != 4 {
        return Err(corrupt_in(
            section::HEADER,
            format!("{} bytes, the protocol takes 4", bytes.len()),
        ));
    }
    match u32_at(bytes, 0) {
        1 => Ok(Protocol::Groth16),
        2 => Ok(Protocol::Plonk),
        10 => Ok(Protocol::Fflonk),
        other => Err(Error::ZkeyUnsupported {
            what: format!("protocol {other} in section 1 (header): not a snarkjs protocol"),
        }),
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

impl<'a> Zkey<'a> {
    /// Reads the container, section 1 (Groth16 only) and section 2 (BN254 only: its points
    /// checked), and checks that sections 3 to 9 have the sizes section 2 gives them.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let file = container(bytes)?;
        let protocol = read_protocol(&file)?;
        if protocol != Protocol::Groth16 {
            return Err(Error::ZkeyUnsupported {
                what: format!(
                    "a {} zkey (section 1 (header)): only Groth16 zkeys are proved here",
                    protocol.name()
                ),
            });
        }
        let header = read_groth16_header(file.required(section::GROTH16, "Groth16 header")?)?;
        let zkey = Zkey { file, header };
        zkey.check_sizes()?;
        Ok(zkey)
    }

    fn check_sizes(&self) -> Result<()> {
        let h = &self.header;
        let private = h.n_vars.checked_sub(h.n_public + 1).ok_or_else(|| {
            corrupt_in(
                section::GROTH16,
                format!("nVars {} is below nPublic {} + 1", h.n_vars, h.n_public),
            )
        })?;
        let expected = [
            (section::IC, (h.n_public + 1) * G1_BYTES),
            (section::A, h.n_vars * G1_BYTES),
            (section::B1, h.n_vars * G1_BYTES),
            (section::B2, h.n_vars * G2_BYTES),
            (section::C, private * G1_BYTES),
            (section::H, h.domain_size * G1_BYTES),
        ];
        for (id, size) in expected {
            let bytes = self.file.required(id, section_name(id))?;
            if bytes.len() != size {
                return Err(corrupt_in(
                    id,
                    format!(
                        "{} bytes; the Groth16 header (nVars {}, nPublic {}, domainSize {}) gives it {size}",
                        bytes.len(),
                        h.n_vars,
                        h.n_public,
                        h.domain_size
                    ),
                ));
            }
        }
        let coefficients = self.file.required(section::COEFFICIENTS, "coefficients")?;
        if coefficients.len() < 4
            || (coefficients.len() - 4) != u32_at(coefficients, 0) as usize * COEFFICIENT_BYTES
        {
            return Err(corrupt_in(
                section::COEFFICIENTS,
                format!(
                    "{} bytes do not hold the count of entries it starts with ({COEFFICIENT_BYTES} bytes each)",
                    coefficients.len()
                ),
            ));
        }
        Ok(())
    }

    /// The facts `zkey-info` prints; `sha256` is the file's ([`sha256_hex`]).
    pub fn info(&self, sha256: String) -> Result<ZkeyInfo> {
        let coefficients = self.file.required(section::COEFFICIENTS, "coefficients")?;
        Ok(ZkeyInfo {
            protocol: Protocol::Groth16.name(),
            curve: crate::prover::export::CURVE,
            n_vars: self.header.n_vars,
            n_public: self.header.n_public,
            n_constraints: self.matrices()?.num_constraints,
            domain_size: self.header.domain_size,
            n_coefficients: u32_at(coefficients, 0) as usize,
            sha256,
            sections: self
                .file
                .sizes()
                .map(|(id, bytes)| SectionInfo {
                    id,
                    name: section_name(id),
                    bytes,
                })
                .collect(),
        })
    }

    /// The verifying key: section 2's points and section 3's IC, every point checked.
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        let h = &self.header;
        Ok(VerifyingKey {
            alpha_g1: h.alpha_g1,
            beta_g2: h.beta_g2,
            gamma_g2: h.gamma_g2,
            delta_g2: h.delta_g2,
            gamma_abc_g1: self.g1_section(section::IC)?,
        })
    }

    /// Section 4 as [`Matrices`]: A and B of the circuit's own constraints (the public-input
    /// rows snarkjs appends are checked, then left out), C empty. Instance variables are
    /// `nPublic + 1`.
    pub fn matrices(&self) -> Result<Matrices> {
        let h = &self.header;
        let bytes = self.file.required(section::COEFFICIENTS, "coefficients")?;
        let count = u32_at(bytes, 0) as usize;
        let bad = |what: String| corrupt_in(section::COEFFICIENTS, what);
        // Every row index is below the domain's size: a row past it could not be on the domain.
        let mut rows: [Vec<Vec<(Fr, usize)>>; 2] = [Vec::new(), Vec::new()];
        for (i, entry) in bytes[4..].chunks_exact(COEFFICIENT_BYTES).enumerate() {
            debug_assert!(i < count);
            let matrix = u32_at(entry, 0) as usize;
            let row = u32_at(entry, 4) as usize;
            let signal = u32_at(entry, 8) as usize;
            if matrix > 1 {
                return Err(bad(format!(
                    "entry {i} is of matrix {matrix}: only A (0) and B (1) are in a zkey"
                )));
            }
            if row >= h.domain_size || signal >= h.n_vars {
                return Err(bad(format!(
                    "entry {i} (row {row}, signal {signal}) is outside domainSize {} or nVars {}",
                    h.domain_size, h.n_vars
                )));
            }
            let value = coefficient(entry[12..].try_into().expect("n8 bytes"))
                .ok_or_else(|| bad(format!("entry {i}'s value is not below r")))?;
            let m = &mut rows[matrix];
            if m.len() <= row {
                m.resize(row + 1, Vec::new());
            }
            m[row].push((value, signal));
        }
        let [mut a, mut b] = rows;
        // The public-input rows: the last nPublic + 1 rows of A, row `first + i` holding signal
        // i with coefficient one, and nothing of B.
        let inputs = h.n_public + 1;
        let first = a.len().checked_sub(inputs).ok_or_else(|| {
            bad(format!(
                "A has {} rows, fewer than the {inputs} public-input rows snarkjs appends",
                a.len()
            ))
        })?;
        for (i, row) in a[first..].iter().enumerate() {
            if row.as_slice() != [(Fr::from(1u64), i)] {
                return Err(bad(format!(
                    "row {} of A is not public-input row {i} (signal {i} with coefficient one)",
                    first + i
                )));
            }
        }
        if b.len() > first {
            return Err(bad(format!(
                "B has entries in row {}, a public-input row",
                b.len() - 1
            )));
        }
        let domain = GeneralEvaluationDomain::<Fr>::new(first + inputs).map(|d| d.size());
        if domain != Some(h.domain_size) {
            return Err(bad(format!(
                "{first} constraints and {inputs} public-input rows need a domain of {domain:?}, the Groth16 header says {}",
                h.domain_size
            )));
        }
        a.truncate(first);
        b.resize(first, Vec::new());
        for m in [&mut a, &mut b] {
            for row in m.iter_mut() {
                merge_columns(row);
            }
        }
        let count_entries = |m: &Vec<Vec<(Fr, usize)>>| m.iter().map(Vec::len).sum();
        let ark = ConstraintMatrices {
            num_instance_variables: inputs,
            num_witness_variables: h.n_vars - inputs,
            num_constraints: first,
            a_num_non_zero: count_entries(&a),
            b_num_non_zero: count_entries(&b),
            c_num_non_zero: 0,
            a,
            b,
            c: vec![Vec::new(); first],
        };
        Matrices::from_ark(&ark)
    }

    /// The whole proving key and the matrices (see [`Converted`]), every point checked on its
    /// curve and in its subgroup.
    pub fn convert(&self) -> Result<Converted> {
        let matrices = self.matrices()?;
        let h = &self.header;
        let proving_key = ProvingKey {
            vk: self.verifying_key()?,
            beta_g1: h.beta_g1,
            delta_g1: h.delta_g1,
            a_query: self.g1_section(section::A)?,
            b_g1_query: self.g1_section(section::B1)?,
            b_g2_query: self.g2_section(section::B2)?,
            h_query: self.g1_section(section::H)?,
            l_query: self.g1_section(section::C)?,
        };
        Ok(Converted {
            proving_key,
            matrices,
        })
    }

    /// Section 10: the phase-2 contributions snarkjs recorded (`zkey contribute`, `zkey
    /// beacon`, ...), in order. A zkey straight from `groth16 setup` has none (and delta is the
    /// generator). The powers of tau's own (phase-1) contributions are not in a zkey.
    pub fn contributions(&self) -> Result<Vec<Contribution>> {
        let id = section::CONTRIBUTIONS;
        let bytes = self.file.required(id, section_name(id))?;
        let bad = |what: String| corrupt_in(id, what);
        let truncated = || bad("truncated".into());
        // The circuit's hash (64 bytes), the count, then each contribution: deltaAfter, the
        // proof of knowledge (two G1 points and one G2), the transcript (64 bytes), its type
        // (u32: 0 a contribution, 1 a beacon) and its parameters (u32 length, then entries).
        const FIXED: usize = 3 * G1_BYTES + G2_BYTES + 64;
        let count_at = 64;
        if bytes.len() < count_at + 4 {
            return Err(truncated());
        }
        let count = u32_at(bytes, count_at) as usize;
        let mut at = count_at + 4;
        let mut out = Vec::new();
        for i in 0..count {
            if bytes.len() < at + FIXED + 8 {
                return Err(truncated());
            }
            at += FIXED;
            let kind = u32_at(bytes, at);
            let length = u32_at(bytes, at + 4) as usize;
            at += 8;
            let params = bytes.get(at..at + length).ok_or_else(truncated)?;
            at += length;
            let mut contribution = Contribution {
                name: None,
                beacon: kind == 1,
            };
            // Entries: type byte (increasing), then 1 name (length byte, UTF-8), 2 the beacon's
            // iterations (one byte), 3 the beacon's hash (length byte, bytes).
            let mut p = 0;
            while p < params.len() {
                let field = params[p];
                let value = match field {
                    1 | 3 => {
                        let n = *params.get(p + 1).ok_or_else(truncated)? as usize;
                        let value = params.get(p + 2..p + 2 + n).ok_or_else(truncated)?;
                        p += 2 + n;
                        value
                    }
                    2 => {
                        let value = params.get(p + 1..p + 2).ok_or_else(truncated)?;
                        p += 2;
                        value
                    }
                    other => {
                        return Err(bad(format!(
                            "contribution {}: parameter {other} is not a name (1), iterations (2) or beacon hash (3)",
                            i + 1
                        )))
                    }
                };
                if field == 1 {
                    contribution.name = Some(String::from_utf8_lossy(value).into_owned());
                }
            }
            out.push(contribution);
        }
        if at != bytes.len() {
            return Err(bad(format!(
                "{} bytes after the {count} contributions it lists",
                bytes.len() - at
            )));
        }
        Ok(out)
    }

    fn g1_section(&self, id: u32) -> Result<Vec<G1Affine>> {
        let bytes = self.file.required(id, section_name(id))?;
        points(bytes, G1_BYTES, |i, chunk| {
            g1(chunk, id, &|| format!("point {i}"))
        })
    }

    fn g2_section(&self, id: u32) -> Result<Vec<G2Affine>> {
        let bytes = self.file.required(id, section_name(id))?;
        points(bytes, G2_BYTES, |i, chunk| {
            g2(chunk, id, &|| format!("point {i}"))
        })
    }
}

/// Decodes every `size`-byte point of `bytes` (in parallel with `parallel`); the first error in
/// file order wins.
fn points<P: Send>(
    bytes: &[u8],
    size: usize,
    decode: impl Fn(usize, &[u8]) -> Result<P> + Sync + Send,
) -> Result<Vec<P>> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        bytes
            .par_chunks_exact(size)
            .enumerate()
            .map(|(i, chunk)| decode(i, chunk))
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    bytes
        .chunks_exact(size)
        .enumerate()
        .map(|(i, chunk)| decode(i, chunk))
        .collect()
}

/// Sorts a row by column and adds up entries of one column (a row is a linear combination).
fn merge_columns(row: &mut Vec<(Fr, usize)>) {
    row.sort_unstable_by_key(|&(_, column)| column);
    row.dedup_by(|later, kept| {
        if later.1 == kept.1 {
            kept.0 += later.0;
            true
        } else {
            false
        }
    });
    row.retain(|(value, _)| !value.is_zero());
}

fn read_groth16_header(bytes: &[u8]) -> Result<Groth16Header> {
    let id = section::GROTH16;
    // n8q, q, n8r, r, nVars, nPublic, domainSize, then 3 G1 and 3 G2 points.
    let size = 4 + N8 + 4 + N8 + 12 + 3 * G1_BYTES + 3 * G2_BYTES;
    let n8q = (bytes.len() >= 4).then(|| u32_at(bytes, 0) as usize);
    if n8q != Some(N8) {
        return Err(Error::ZkeyUnsupported {
            what: format!(
                "section {}: base field elements of {} bytes: only BN254 (32) is proved here",
                label(id),
                n8q.map_or("?".into(), |n| n.to_string())
            ),
        });
    }
    let another_curve = || {
        Error::ZkeyUnsupported {
        what: format!(
            "section {}: its primes are not BN254's (a zkey of another curve): only BN254 is proved here",
            label(id)
        ),
    }
    };
    if bytes.len() < 4 + N8 + 4 + N8 {
        return Err(corrupt_in(
            id,
            format!("{} bytes, it takes {size}", bytes.len()),
        ));
    }
    if bytes[4..4 + N8] != Fq::MODULUS.to_bytes_le()[..] {
        return Err(another_curve());
    }
    let at = 4 + N8;
    if u32_at(bytes, at) as usize != N8
        || bytes[at + 4..at + 4 + N8] != Fr::MODULUS.to_bytes_le()[..]
    {
        return Err(another_curve());
    }
    if bytes.len() != size {
        return Err(corrupt_in(
            id,
            format!("{} bytes, it takes {size}", bytes.len()),
        ));
    }
    let at = at + 4 + N8;
    let n_vars = u32_at(bytes, at) as usize;
    let n_public = u32_at(bytes, at + 4) as usize;
    let domain_size = u32_at(bytes, at + 8) as usize;
    if !domain_size.is_power_of_two() || domain_size > 1 << 28 {
        return Err(corrupt_in(
            id,
            format!("domainSize {domain_size} is not a power of two up to 2^28"),
        ));
    }
    // alpha1, beta1, beta2, gamma2, delta1, delta2.
    let at = at + 12;
    let g1_at = |at: usize, name: &str| g1(&bytes[at..at + G1_BYTES], id, &|| name.to_string());
    let g2_at = |at: usize, name: &str| g2(&bytes[at..at + G2_BYTES], id, &|| name.to_string());
    let alpha_g1 = g1_at(at, "alpha1")?;
    let beta_g1 = g1_at(at + G1_BYTES, "beta1")?;
    let beta_g2 = g2_at(at + 2 * G1_BYTES, "beta2")?;
    let gamma_g2 = g2_at(at + 2 * G1_BYTES + G2_BYTES, "gamma2")?;
    let delta_g1 = g1_at(at + 2 * G1_BYTES + 2 * G2_BYTES, "delta1")?;
    let delta_g2 = g2_at(at + 3 * G1_BYTES + 2 * G2_BYTES, "delta2")?;
    Ok(Groth16Header {
        n_vars,
        n_public,
        domain_size,
        alpha_g1,
        beta_g1,
        beta_g2,
        gamma_g2,
        delta_g1,
        delta_g2,
    })
}

/// A base-field element from its Montgomery form, if below q.
fn fq(bytes: &[u8]) -> Option<Fq> {
    let limbs = limbs(bytes);
    (limbs < Fq::MODULUS).then(|| Fq::new_unchecked(limbs))
}

/// A coefficient from its doubly Montgomery form `x·R² mod r`, if below r.
fn coefficient(bytes: &[u8; N8]) -> Option<Fr> {
    let limbs = limbs(bytes);
    // new_unchecked(s) is s·R⁻¹ = x·R as an element; its canonical integer x·R is x's
    // Montgomery form.
    (limbs < Fr::MODULUS).then(|| Fr::new_unchecked(Fr::new_unchecked(limbs).into_bigint()))
}

fn limbs(bytes: &[u8]) -> BigInt<4> {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    }
    BigInt(limbs)
}

/// A G1 point; `name` names it in an error (`point 17`, `alpha1`).
fn g1(bytes: &[u8], id: u32, name: &dyn Fn() -> String) -> Result<G1Affine> {
    let coordinate = |at: usize| {
        fq(&bytes[at..at + N8])
            .ok_or_else(|| corrupt_in(id, format!("{}: a coordinate is not below q", name())))
    };
    let (x, y) = (coordinate(0)?, coordinate(N8)?);
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::zero());
    }
    let p = G1Affine::new_unchecked(x, y);
    if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(corrupt_in(
            id,
            format!("{} is not on the curve (G1)", name()),
        ));
    }
    Ok(p)
}

/// A G2 point (see [`g1`]).
fn g2(bytes: &[u8], id: u32, name: &dyn Fn() -> String) -> Result<G2Affine> {
    let coordinate = |at: usize| {
        fq(&bytes[at..at + N8])
            .ok_or_else(|| corrupt_in(id, format!("{}: a coordinate is not below q", name())))
    };
    let x = Fq2::new(coordinate(0)?, coordinate(N8)?);
    let y = Fq2::new(coordinate(2 * N8)?, coordinate(3 * N8)?);
    if x.is_zero() && y.is_zero() {
        return Ok(G2Affine::zero());
    }
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err(corrupt_in(
            id,
            format!("{} is not on the curve (G2)", name()),
        ));
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(corrupt_in(
            id,
            format!("{} is not in G2's prime-order subgroup", name()),
        ));
    }
    Ok(p)
}
