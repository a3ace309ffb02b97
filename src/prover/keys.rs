//! Key files: a short header, then the key in arkworks' canonical serialisation (uncompressed)
//! and, in a proving key, the circuit's constraint matrices.
//!
//! ```text
//! offset   size  field
//! 0        8     magic "AIRPKEY\0"
//! 8        2     format version, u16 little-endian (2; version 1 files are still read)
//! 10       1     kind: 1 = proving key, 2 = verifying key
//! 11       1     flags: bit 0 = development key (made from a seed); bit 1 = the key needs
//!                snarkjs's QAP reduction ([`Reduction::Circom`]: a key converted from a `.zkey`);
//!                other bits zero
//! 12       1     n = length of the circuit id (1..=64)
//! 13       n     circuit id, ASCII (`threshold-d20-k8`)
//! 13+n     8     payload length in bytes, u64 little-endian
//! 21+n     32    SHA-256 of the payload
//! 53+n     ...   payload: `ProvingKey` / `VerifyingKey` as `serialize_uncompressed` writes it;
//!                after a proving key (version 2), the constraint matrices as
//!                [`Matrices::to_bytes`] writes them, or nothing
//! ```
//!
//! Version 2 added the matrices: with them, the first proof with a key synthesises the witness
//! only (see [`super::matrices`]). A version 1 proving key still proves; its first proof builds
//! the matrices itself.
//!
//! Reading never trusts the bytes: the header is checked field by field, the payload's length and
//! digest must match, and the payload's own length prefixes are walked before arkworks sees them,
//! so that a corrupt length cannot make arkworks reserve an absurd allocation (a panic, and in
//! wasm a dead worker). Every failure is [`Error::KeyIntegrity`].
//!
//! Deserialisation comes in two modes (see [`Validation`]): the digest already proves the bytes
//! are the ones written, so skipping the curve and subgroup checks is safe for keys from a trusted
//! setup and much faster for large proving keys.

use ark_bn254::{G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use sha2::{Digest, Sha256};

use super::byte_reader::ByteReader;
use super::matrices::Matrices;
use super::msm::Kernel;
use super::prepared::PreparedProvingKey;
use super::qap::Reduction;
use super::{ProvingKey, VerifyingKey};
use crate::circuit::id::CircuitId;
use crate::error::{Error, Result};

/// First eight bytes of every key file.
pub const MAGIC: [u8; 8] = *b"AIRPKEY\0";
/// Version of the layout above; readers reject any other.
pub const FORMAT_VERSION: u16 = 2;
/// The older version this airprover still reads (proving keys without matrices).
const OLDEST_VERSION: u16 = 1;
/// Longest circuit id a header holds.
const MAX_ID_LEN: usize = 64;
const FLAG_DEVELOPMENT: u8 = 1;
const FLAG_CIRCOM_REDUCTION: u8 = 2;

/// Which of the two Groth16 keys a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// The proving key (large: every query of the circuit).
    Proving,
    /// The verifying key (small: five points per public input at most).
    Verifying,
}

impl KeyKind {
    fn byte(self) -> u8 {
        match self {
            KeyKind::Proving => 1,
            KeyKind::Verifying => 2,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(KeyKind::Proving),
            2 => Some(KeyKind::Verifying),
            _ => None,
        }
    }

    /// `proving` or `verifying`.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Proving => "proving",
            KeyKind::Verifying => "verifying",
        }
    }
}

/// How much arkworks checks while deserialising a key's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Every point is checked to be on the curve and in the prime-order subgroup.
    Checked,
    /// Points are taken as they are; the header's SHA-256 still guarantees the bytes are intact.
    Unchecked,
}

impl Validation {
    fn ark(self) -> Validate {
        match self {
            Validation::Checked => Validate::Yes,
            Validation::Unchecked => Validate::No,
        }
    }
}

/// The header of a key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHeader {
    /// Proving or verifying key.
    pub kind: KeyKind,
    /// The circuit the key was made for.
    pub circuit: CircuitId,
    /// Made from a seed by `setup --seed`: anyone who knows the seed can forge proofs.
    pub development: bool,
    /// The witness map the key needs (files without the flag: [`Reduction::Libsnark`]).
    pub reduction: Reduction,
}

/// A key file whose header, length and digest have been checked; the key itself is not yet
/// deserialised.
#[derive(Debug, Clone)]
pub struct KeyFile<'a> {
    /// The header.
    pub header: KeyHeader,
    /// The format version of the file (1 or 2).
    pub version: u16,
    payload: &'a [u8],
}

/// Serialises a proving key with its header and, when given, its circuit's constraint matrices.
pub fn write_proving_key(
    pk: &ProvingKey,
    matrices: Option<&Matrices>,
    circuit: &CircuitId,
    development: bool,
) -> Result<Vec<u8>> {
    write_proving_key_for(pk, matrices, circuit, development, Reduction::Libsnark)
}

/// [`write_proving_key`] for a key that needs `reduction` (recorded in the header's flags).
pub fn write_proving_key_for(
    pk: &ProvingKey,
    matrices: Option<&Matrices>,
    circuit: &CircuitId,
    development: bool,
    reduction: Reduction,
) -> Result<Vec<u8>> {
    let header = KeyHeader {
        kind: KeyKind::Proving,
        circuit: *circuit,
        development,
        reduction,
    };
    let trailer = matrices.map(Matrices::to_bytes).unwrap_or_default();
    write(&header, pk, &trailer)
}

/// Serialises a verifying key with its header.
pub fn write_verifying_key(
    vk: &VerifyingKey,
    circuit: &CircuitId,
    development: bool,
) -> Result<Vec<u8>> {
    let header = KeyHeader {
        kind: KeyKind::Verifying,
        circuit: *circuit,
        development,
        reduction: Reduction::Libsnark,
    };
    write(&header, vk, &[])
}

fn write(header: &KeyHeader, key: &impl CanonicalSerialize, trailer: &[u8]) -> Result<Vec<u8>> {
    let id = header.circuit.to_string();
    let size = key.serialized_size(Compress::No) + trailer.len();
    let mut out = Vec::with_capacity(53 + id.len() + size);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.push(header.kind.byte());
    let mut flags = 0;
    if header.development {
        flags |= FLAG_DEVELOPMENT;
    }
    if header.reduction == Reduction::Circom {
        flags |= FLAG_CIRCOM_REDUCTION;
    }
    out.push(flags);
    out.push(u8::try_from(id.len()).expect("circuit ids are short"));
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&(size as u64).to_le_bytes());
    let digest_at = out.len();
    out.extend_from_slice(&[0; 32]);
    let payload_at = out.len();
    key.serialize_uncompressed(&mut out)
        .map_err(|e| Error::ProofFailed {
            what: format!("serialising the key: {e}"),
        })?;
    out.extend_from_slice(trailer);
    let digest = Sha256::digest(&out[payload_at..]);
    out[digest_at..payload_at].copy_from_slice(&digest);
    Ok(out)
}

/// Reads and checks a proving key made for `circuit`.
pub fn read_proving_key(
    bytes: &[u8],
    circuit: &CircuitId,
    validation: Validation,
) -> Result<ProvingKey> {
    let file = KeyFile::parse(bytes)?;
    file.expect(KeyKind::Proving, circuit)?;
    file.proving_key(validation)
}

/// Reads and checks a verifying key made for `circuit`.
pub fn read_verifying_key(
    bytes: &[u8],
    circuit: &CircuitId,
    validation: Validation,
) -> Result<VerifyingKey> {
    let file = KeyFile::parse(bytes)?;
    file.expect(KeyKind::Verifying, circuit)?;
    file.verifying_key(validation)
}

impl KeyHeader {
    /// Reads just the header (not the payload's digest): cheap, for telling which key a file is.
    pub fn read(bytes: &[u8]) -> Result<Self> {
        Ok(RawHeader::read(bytes)?.header)
    }

    /// Fails unless this is a `kind` key for `circuit`; the error names both circuits.
    pub fn expect(&self, kind: KeyKind, circuit: &CircuitId) -> Result<()> {
        if self.circuit != *circuit {
            return Err(Error::key_integrity(format!(
                "the {} key is for circuit {}, not for {circuit}",
                self.kind.name(),
                self.circuit
            )));
        }
        if self.kind != kind {
            return Err(Error::key_integrity(format!(
                "expected the {} key of {circuit}, got its {} key",
                kind.name(),
                self.kind.name()
            )));
        }
        Ok(())
    }
}

/// The header and where the payload starts, before the payload is checked.
struct RawHeader {
    header: KeyHeader,
    version: u16,
    payload_len: u64,
    digest: [u8; 32],
    payload_at: usize,
}

impl RawHeader {
    fn read(bytes: &[u8]) -> Result<Self> {
        let mut r = ByteReader::new(bytes, "the key file's header");
        if r.take(8, "magic")? != MAGIC {
            return Err(Error::key_integrity(
                "not an airprover key file (bad magic)",
            ));
        }
        let version = u16::from_le_bytes(r.array("format version")?);
        if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(Error::key_integrity(format!(
                "key file format version {version}, this airprover reads versions {OLDEST_VERSION} to {FORMAT_VERSION}"
            )));
        }
        let [kind] = r.array("kind")?;
        let kind = KeyKind::from_byte(kind)
            .ok_or_else(|| Error::key_integrity(format!("unknown key kind {kind}")))?;
        let [flags] = r.array("flags")?;
        if flags & !(FLAG_DEVELOPMENT | FLAG_CIRCOM_REDUCTION) != 0 {
            return Err(Error::key_integrity(format!(
                "unknown header flags {flags:#04x}"
            )));
        }
        let [id_len] = r.array("circuit id length")?;
        let id_len = usize::from(id_len);
        if id_len == 0 || id_len > MAX_ID_LEN {
            return Err(Error::key_integrity(format!(
                "circuit id length {id_len} is out of range"
            )));
        }
        let id = std::str::from_utf8(r.take(id_len, "circuit id")?)
            .map_err(|_| Error::key_integrity("the circuit id is not text"))?;
        let circuit: CircuitId = id
            .parse()
            .map_err(|e| Error::key_integrity(format!("the header names no circuit: {e}")))?;
        let payload_len = u64::from_le_bytes(r.array("payload length")?);
        let digest: [u8; 32] = r.array("payload digest")?;
        if flags & FLAG_CIRCOM_REDUCTION != 0 && kind != KeyKind::Proving {
            return Err(Error::key_integrity(
                "a verifying key file with the proving key's reduction flag",
            ));
        }
        let header = KeyHeader {
            kind,
            circuit,
            development: flags & FLAG_DEVELOPMENT != 0,
            reduction: if flags & FLAG_CIRCOM_REDUCTION != 0 {
                Reduction::Circom
            } else {
                Reduction::Libsnark
            },
        };
        Ok(RawHeader {
            header,
            version,
            payload_len,
            digest,
            payload_at: r.position(),
        })
    }
}

impl<'a> KeyFile<'a> {
    /// Checks the header, the payload length and its SHA-256.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        Self::read(bytes, true)
    }

    /// [`Self::parse`] without recomputing the payload's SHA-256: for bytes whose SHA-256 the
    /// caller has just checked against a pinned manifest (the browser runtime does, with
    /// WebCrypto, before it loads a key). Hashing 20-odd megabytes again in wasm costs a second
    /// on a key's first load. Everything else is still checked.
    pub fn parse_verified(bytes: &'a [u8]) -> Result<Self> {
        Self::read(bytes, false)
    }

    fn read(bytes: &'a [u8], check_digest: bool) -> Result<Self> {
        let raw = RawHeader::read(bytes)?;
        let payload = &bytes[raw.payload_at..];
        let KeyHeader { kind, circuit, .. } = raw.header;
        if payload.len() as u64 != raw.payload_len {
            return Err(Error::key_integrity(format!(
                "{} key for {circuit}: {} payload bytes, the header says {} (truncated?)",
                kind.name(),
                payload.len(),
                raw.payload_len
            )));
        }
        if check_digest && Sha256::digest(payload).as_slice() != raw.digest {
            return Err(Error::key_integrity(format!(
                "{} key for {circuit}: the payload does not match its SHA-256 (corrupt)",
                kind.name()
            )));
        }
        Ok(KeyFile {
            header: raw.header,
            version: raw.version,
            payload,
        })
    }

    /// Fails unless this is a `kind` key for `circuit`; the error names both circuits.
    pub fn expect(&self, kind: KeyKind, circuit: &CircuitId) -> Result<()> {
        self.header.expect(kind, circuit)
    }

    /// The serialised key, as arkworks reads it.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Deserialises the proving key.
    pub fn proving_key(&self, validation: Validation) -> Result<ProvingKey> {
        let (key, _) = self.proving_parts()?;
        let pk = ProvingKey::deserialize_with_mode(key, Compress::No, validation.ark())?;
        self.check_public_inputs(&pk.vk)?;
        Ok(pk)
    }

    /// The constraint matrices a version 2 proving key carries; `None` for a version 1 file or a
    /// key written without them.
    pub fn matrices(&self) -> Result<Option<Matrices>> {
        let (_, trailer) = self.proving_parts()?;
        if trailer.is_empty() {
            return Ok(None);
        }
        let m = Matrices::from_bytes(trailer)?;
        // A circom circuit's count is its key's own (checked where the key is prepared).
        let Some(instance) = self.header.circuit.num_public_inputs().map(|n| n + 1) else {
            return Ok(Some(m));
        };
        if m.num_instance_variables != instance {
            return Err(Error::key_integrity(format!(
                "the constraint matrices have {} instance variables, circuit {} has {instance}",
                m.num_instance_variables, self.header.circuit
            )));
        }
        Ok(Some(m))
    }

    /// The proving key and the matrices, ready to prove with (the queries in the form `kernel`
    /// uses).
    pub fn prepared_proving_key(
        &self,
        validation: Validation,
        kernel: Kernel,
    ) -> Result<PreparedProvingKey> {
        let pk = self.proving_key(validation)?;
        Ok(PreparedProvingKey::new(pk, self.matrices()?, kernel)?
            .with_reduction(self.header.reduction))
    }

    /// The arkworks key's bytes and what follows them (the matrices of a version 2 file).
    fn proving_parts(&self) -> Result<(&'a [u8], &'a [u8])> {
        self.expect(KeyKind::Proving, &self.header.circuit)?;
        let mut walk = LayoutWalk::new(self.payload);
        walk.proving_key()?;
        if self.version < 2 {
            walk.finish()?;
        }
        Ok(self.payload.split_at(walk.r.position()))
    }

    /// Deserialises the verifying key.
    pub fn verifying_key(&self, validation: Validation) -> Result<VerifyingKey> {
        self.expect(KeyKind::Verifying, &self.header.circuit)?;
        let mut walk = LayoutWalk::new(self.payload);
        walk.verifying_key()?;
        walk.finish()?;
        let vk = VerifyingKey::deserialize_with_mode(self.payload, Compress::No, validation.ark())?;
        self.check_public_inputs(&vk)?;
        Ok(vk)
    }

    fn check_public_inputs(&self, vk: &VerifyingKey) -> Result<()> {
        let Some(public) = self.header.circuit.num_public_inputs() else {
            // A circom circuit's count is the key's own.
            return Ok(());
        };
        let expected = public + 1;
        if vk.gamma_abc_g1.len() != expected {
            return Err(Error::key_integrity(format!(
                "the key has {} IC points, circuit {} needs {expected}",
                vk.gamma_abc_g1.len(),
                self.header.circuit
            )));
        }
        Ok(())
    }
}

/// Walks the payload's layout (points and length-prefixed vectors) without decoding points, so
/// that every length prefix is checked against the bytes that are really there.
struct LayoutWalk<'a> {
    r: ByteReader<'a>,
    g1: usize,
    g2: usize,
}

impl<'a> LayoutWalk<'a> {
    fn new(payload: &'a [u8]) -> Self {
        LayoutWalk {
            r: ByteReader::new(payload, "the key"),
            g1: G1Affine::generator().serialized_size(Compress::No),
            g2: G2Affine::generator().serialized_size(Compress::No),
        }
    }

    fn skip(&mut self, n: usize, what: &str) -> Result<()> {
        self.r.take(n, what).map(drop)
    }

    fn vec(&mut self, point_size: usize, what: &str) -> Result<()> {
        let len = u64::from_le_bytes(self.r.array(&format!("the length of {what}"))?);
        let bytes = usize::try_from(len)
            .ok()
            .and_then(|n| n.checked_mul(point_size))
            .ok_or_else(|| Error::key_integrity(format!("{what} has an impossible length")))?;
        self.skip(bytes, what)
    }

    fn verifying_key(&mut self) -> Result<()> {
        self.skip(self.g1, "alpha_g1")?;
        self.skip(self.g2 * 3, "beta_g2, gamma_g2, delta_g2")?;
        self.vec(self.g1, "gamma_abc_g1")
    }

    fn proving_key(&mut self) -> Result<()> {
        self.verifying_key()?;
        self.skip(self.g1 * 2, "beta_g1, delta_g1")?;
        self.vec(self.g1, "a_query")?;
        self.vec(self.g1, "b_g1_query")?;
        self.vec(self.g2, "b_g2_query")?;
        self.vec(self.g1, "h_query")?;
        self.vec(self.g1, "l_query")
    }

    fn finish(&self) -> Result<()> {
        self.r.finish()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use ark_groth16::Groth16;
    use ark_relations::lc;
    use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
    use ark_snark::SNARK;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::field::Fr;

    /// `x0^(2^n) = y` with public `[x0, y]`: a tiny stand-in circuit for format tests.
    #[derive(Clone)]
    pub(crate) struct TinySquares {
        pub x0: Fr,
        pub n: usize,
    }

    impl TinySquares {
        pub fn output(&self) -> Fr {
            (0..self.n).fold(self.x0, |x, _| x * x)
        }
    }

    impl ConstraintSynthesizer<Fr> for TinySquares {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            let y = self.output();
            let x0 = cs.new_input_variable(|| Ok(self.x0))?;
            let y_var = cs.new_input_variable(|| Ok(y))?;
            let (mut x, mut value) = (x0, self.x0);
            for _ in 0..self.n {
                let next = value * value;
                let v = cs.new_witness_variable(|| Ok(next))?;
                cs.enforce_constraint(lc!() + x, lc!() + x, lc!() + v)?;
                (x, value) = (v, next);
            }
            cs.enforce_constraint(
                lc!() + x,
                lc!() + ark_relations::r1cs::Variable::One,
                lc!() + y_var,
            )
        }
    }

    /// Development keys of [`TinySquares`] for the id `square-chain-{n}`.
    pub(crate) fn tiny_keys(n: usize, seed: u64) -> (CircuitId, ProvingKey, VerifyingKey) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let circuit = TinySquares {
            x0: Fr::from(3u64),
            n,
        };
        let (pk, vk) =
            Groth16::<ark_bn254::Bn254>::circuit_specific_setup(circuit, &mut rng).unwrap();
        (CircuitId::SquareChain { n: n as u32 }, pk, vk)
    }

    #[test]
    fn round_trips_in_both_modes() {
        let (id, pk, vk) = tiny_keys(4, 1);
        let pk_bytes = write_proving_key(&pk, None, &id, true).unwrap();
        let vk_bytes = write_verifying_key(&vk, &id, false).unwrap();
        for mode in [Validation::Checked, Validation::Unchecked] {
            assert_eq!(read_proving_key(&pk_bytes, &id, mode).unwrap(), pk);
            assert_eq!(read_verifying_key(&vk_bytes, &id, mode).unwrap(), vk);
        }
        let file = KeyFile::parse(&pk_bytes).unwrap();
        assert_eq!(
            file.header,
            KeyHeader {
                kind: KeyKind::Proving,
                circuit: id,
                development: true,
                reduction: Reduction::Libsnark,
            }
        );
        assert!(!KeyFile::parse(&vk_bytes).unwrap().header.development);
        assert_eq!(&pk_bytes[..8], b"AIRPKEY\0");
    }

    #[test]
    fn rejects_keys_of_another_circuit_or_kind() {
        let (id, pk, vk) = tiny_keys(3, 1);
        let other = CircuitId::SquareChain { n: 7 };
        let pk_bytes = write_proving_key(&pk, None, &id, false).unwrap();
        let err = read_proving_key(&pk_bytes, &other, Validation::Checked).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        let text = err.to_string();
        assert!(
            text.contains("square-chain-3") && text.contains("square-chain-7"),
            "{text}"
        );

        let vk_bytes = write_verifying_key(&vk, &id, false).unwrap();
        let err = read_proving_key(&vk_bytes, &id, Validation::Checked).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        assert!(err.to_string().contains("verifying key"), "{err}");
    }

    #[test]
    fn a_header_that_lies_about_the_circuit_is_caught_by_the_ic_count() {
        // A two-input key relabelled as a five-input claim circuit (digest recomputed).
        let (_, _, vk) = tiny_keys(2, 1);
        let claim: CircuitId = "threshold-d4-k2".parse().unwrap();
        let bytes = write_verifying_key(&vk, &claim, false).unwrap();
        let err = read_verifying_key(&bytes, &claim, Validation::Unchecked).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        assert!(err.to_string().contains("IC points"), "{err}");
    }

    #[test]
    fn truncations_are_key_integrity_errors() {
        let (id, pk, _) = tiny_keys(3, 2);
        let bytes = write_proving_key(&pk, None, &id, false).unwrap();
        let mut cuts: Vec<usize> = (0..80).collect();
        cuts.extend((80..bytes.len()).step_by(37));
        cuts.push(bytes.len() - 1);
        for cut in cuts {
            let err = read_proving_key(&bytes[..cut], &id, Validation::Unchecked).unwrap_err();
            assert_eq!(err.code(), "KEY_INTEGRITY", "cut at {cut}: {err}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(KeyFile::parse(&longer).unwrap_err().code(), "KEY_INTEGRITY");
    }

    #[test]
    fn bit_flips_are_key_integrity_errors() {
        let (id, pk, vk) = tiny_keys(3, 3);
        for bytes in [
            write_proving_key(&pk, None, &id, false).unwrap(),
            write_verifying_key(&vk, &id, false).unwrap(),
        ] {
            let mut rng = ChaCha20Rng::seed_from_u64(9);
            // Every header byte, then a sample of payload bytes.
            let mut positions: Vec<usize> = (0..53 + id.to_string().len()).collect();
            positions.extend((0..64).map(|_| rand::Rng::gen_range(&mut rng, 0..bytes.len())));
            for pos in positions {
                for bit in [0, 7] {
                    let mut flipped = bytes.clone();
                    flipped[pos] ^= 1 << bit;
                    let kind = KeyFile::parse(&bytes).unwrap().header.kind;
                    let read = match kind {
                        KeyKind::Proving => {
                            read_proving_key(&flipped, &id, Validation::Checked).map(drop)
                        }
                        KeyKind::Verifying => {
                            read_verifying_key(&flipped, &id, Validation::Checked).map(drop)
                        }
                    };
                    // The development flag bit is the one header bit whose flip is still a valid
                    // key file (a development key is not an integrity error).
                    if pos == 11 && bit == 0 {
                        assert!(read.is_ok());
                        continue;
                    }
                    let err = read.unwrap_err();
                    assert_eq!(err.code(), "KEY_INTEGRITY", "byte {pos} bit {bit}: {err}");
                }
            }
        }
    }

    #[test]
    fn absurd_lengths_with_a_valid_digest_do_not_allocate() {
        let (id, _, vk) = tiny_keys(2, 4);
        let mut payload = Vec::new();
        vk.serialize_uncompressed(&mut payload).unwrap();
        // gamma_abc_g1's length prefix sits after one G1 and three G2 points.
        let at = 64 + 3 * 128;
        payload[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut bytes = write_verifying_key(&vk, &id, false).unwrap();
        let payload_at = bytes.len() - payload.len();
        bytes[payload_at..].copy_from_slice(&payload);
        let digest = Sha256::digest(&payload);
        bytes[payload_at - 32..payload_at].copy_from_slice(&digest);
        let err = read_verifying_key(&bytes, &id, Validation::Unchecked).unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        assert!(err.to_string().contains("gamma_abc_g1"), "{err}");
    }

    /// A version 2 proving key carries the matrices; a version 1 file (no trailer) still reads,
    /// without them; damage to the matrices or a trailer where none belongs is refused.
    #[test]
    fn matrices_ride_in_version_2_proving_keys() {
        use crate::prover::setup;
        let id: CircuitId = "square-chain-8".parse().unwrap();
        let made = setup::setup(&id, &mut ChaCha20Rng::seed_from_u64(2)).unwrap();
        let bytes = write_proving_key(&made.proving_key, Some(&made.matrices), &id, true).unwrap();
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 2);
        let file = KeyFile::parse(&bytes).unwrap();
        assert_eq!(file.matrices().unwrap(), Some(made.matrices.clone()));
        assert_eq!(
            file.proving_key(Validation::Checked).unwrap(),
            made.proving_key
        );
        let prepared = file
            .prepared_proving_key(Validation::Unchecked, Kernel::Wasm29)
            .unwrap();
        assert!(prepared.matrices().is_some());

        // Version 1: the same key without matrices, the version field rewritten.
        let mut v1 = write_proving_key(&made.proving_key, None, &id, true).unwrap();
        v1[8..10].copy_from_slice(&1u16.to_le_bytes());
        let file = KeyFile::parse(&v1).unwrap();
        assert_eq!(file.matrices().unwrap(), None);
        assert_eq!(
            file.proving_key(Validation::Checked).unwrap(),
            made.proving_key
        );
        // A version 1 file has nothing after the key.
        let mut v1_trailer = bytes.clone();
        v1_trailer[8..10].copy_from_slice(&1u16.to_le_bytes());
        let err = KeyFile::parse(&v1_trailer)
            .unwrap()
            .proving_key(Validation::Unchecked)
            .unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        // A wrong digest: parse refuses it, parse_verified (for bytes hashed by the caller) does
        // not look; the rest is still checked.
        let mut wrong_digest = bytes.clone();
        let digest_at = RawHeader::read(&bytes).unwrap().payload_at - 32;
        wrong_digest[digest_at] ^= 1;
        assert_eq!(
            KeyFile::parse(&wrong_digest).unwrap_err().code(),
            "KEY_INTEGRITY"
        );
        let file = KeyFile::parse_verified(&wrong_digest).unwrap();
        assert_eq!(file.matrices().unwrap(), Some(made.matrices.clone()));
        let truncated = &wrong_digest[..wrong_digest.len() - 1];
        assert_eq!(
            KeyFile::parse_verified(truncated).unwrap_err().code(),
            "KEY_INTEGRITY"
        );
        // Version 3 is not read.
        let mut v3 = bytes.clone();
        v3[8..10].copy_from_slice(&3u16.to_le_bytes());
        assert_eq!(KeyFile::parse(&v3).unwrap_err().code(), "KEY_INTEGRITY");

        // Damaged matrices (digest recomputed, as a careless tool might): refused.
        let payload_at = RawHeader::read(&bytes).unwrap().payload_at;
        let mut damaged = bytes.clone();
        let last = damaged.len() - 8;
        damaged[last..last + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let digest = Sha256::digest(&damaged[payload_at..]);
        damaged[payload_at - 32..payload_at].copy_from_slice(&digest);
        let err = KeyFile::parse(&damaged).unwrap().matrices().unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");

        // The matrices of a circuit with other public inputs: refused.
        let other: CircuitId = "threshold-d2-k1".parse().unwrap();
        let wrong = setup::matrices(&other).unwrap();
        let mixed = write_proving_key(&made.proving_key, Some(&wrong), &id, true).unwrap();
        let err = KeyFile::parse(&mixed).unwrap().matrices().unwrap_err();
        assert_eq!(err.code(), "KEY_INTEGRITY");
        assert!(err.to_string().contains("instance variables"), "{err}");
    }
}
