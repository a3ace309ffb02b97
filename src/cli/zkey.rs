//! The CLI's snarkjs-compatible commands: `prove --zkey`, `verify --vkey`, `zkey-info`,
//! `add-circom` (a circom circuit into a key directory, for the service and the browser) and
//! `import-zkey` (a ceremony's zkey of one of our circuits, see [`crate::prover::ceremony`]).
//!
//! `prove --zkey circuit.zkey --wtns witness.wtns` is snarkjs's `groth16 prove`; `--wasm
//! circuit.wasm --input input.json` (snarkjs's `groth16 fullprove`) computes the witness with
//! circom's witness wasm first, on the native engine ([`crate::circom::engine`]), before the key
//! is read: a bad input is said at once. The zkey is converted into airprover's key once, every
//! point checked, and kept in the converted-key cache under its SHA-256
//! ([`crate::circom::cache`]); later runs read it from there.

use std::fs;
use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use serde_json::Value;

use super::{distinct, read, write};
use crate::circom::cache::{Origin, ZkeyBytes, ZkeyCache};
use crate::circom::input::MAX_INPUT_BYTES;
use crate::circom::{engine, wtns, zkey};
use crate::circuit::id::CircuitId;
use crate::error::{Error, Result};
use crate::prover::ceremony;
use crate::prover::key_dir::KeyDir;
use crate::prover::manifest::{CircomCircuit, CircuitKeys};
use crate::prover::msm::Kernel;
use crate::prover::prepared::PreparedProvingKey;
use crate::prover::{export, prove, Progress};

/// Where `prove --zkey` gets the witness `[1, public.., private..]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessSource {
    /// A `.wtns` file, as `snarkjs wtns calculate` writes it.
    Wtns(PathBuf),
    /// circom's witness wasm (`circuit_js/circuit.wasm`) run on the input JSON.
    Wasm {
        /// The witness wasm.
        wasm: PathBuf,
        /// The input signals (JSON, as snarkjs takes them).
        input: PathBuf,
    },
}

/// `prove --zkey`: proves with a snarkjs Groth16 zkey, writes snarkjs's `proof.json` and
/// `public.json`. The proof is verified with the zkey's own verifying key before anything is
/// written. A witness of another circuit (its length is not the zkey's nVars) is
/// `ZKEY_MISMATCH`. Returns where the key came from (the cache, or a conversion).
pub fn prove(
    zkey_path: &Path,
    witness: &WitnessSource,
    proof_out: &Path,
    public_out: &Path,
    cache: &ZkeyCache,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Origin> {
    let mut paths = vec![
        ("--zkey", zkey_path),
        ("--proof", proof_out),
        ("--public", public_out),
    ];
    match witness {
        WitnessSource::Wtns(wtns) => paths.push(("--wtns", wtns)),
        WitnessSource::Wasm { wasm, input } => {
            paths.push(("--wasm", wasm));
            paths.push(("--input", input));
        }
    }
    distinct(&paths)?;
    let witness = match witness {
        WitnessSource::Wtns(path) => wtns::read(&read_binary(path)?)?,
        WitnessSource::Wasm { wasm, input } => {
            let input = read_input(input)?;
            engine::calculate(&read_binary(wasm)?, &input)?
        }
    };
    let (key, origin) = load(zkey_path, cache)?;
    let (proof, public) =
        prove::prove_witness_until(&witness, &key, &mut OsRng, progress, &|| false)?;
    drop(key);
    write(
        proof_out,
        &export::to_snarkjs_text(&export::proof_to_json(&proof)),
    )?;
    write(
        public_out,
        &export::to_snarkjs_text(&Value::from(export::public_to_json(&public))),
    )?;
    Ok(origin)
}

/// The zkey at `path` as a key prepared for this machine's kernel: from `cache` when it holds
/// the zkey's converted key, else converted (every point checked) and stored there.
pub fn load(path: &Path, cache: &ZkeyCache) -> Result<(PreparedProvingKey, Origin)> {
    cache.load(ZkeyBytes::read(path)?, Kernel::default())
}

/// An input document (`--input` of `prove --zkey --wasm`, of `submit --circuit`), up to circom
/// inputs' own limit ([`MAX_INPUT_BYTES`]: more than the claims' 1 MiB).
pub fn read_input(path: &Path) -> Result<String> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    };
    let len = fs::metadata(path).map_err(io)?.len();
    if len > MAX_INPUT_BYTES as u64 {
        return Err(Error::input(
            path.display().to_string(),
            format!("is {len} bytes: circom inputs are limited to {MAX_INPUT_BYTES} bytes"),
        ));
    }
    fs::read_to_string(path).map_err(io)
}

/// `add-circom`: a circom circuit's zkey, witness wasm and snarkjs verifying key, checked, copied
/// into the key directory `keys` under the id `id`, and listed in its manifest (a format 2
/// `circom` entry) for `serve`, the workers and the browser runtime. The zkey is converted
/// (every point checked; kept in `cache`), its verifying key must be the one the JSON holds
/// (`ZKEY_MISMATCH` otherwise) and the wasm must be a circom 2 witness wasm. Whether the wasm is
/// the zkey's circuit's shows at the first proof (`ZKEY_MISMATCH`: a witness of another length).
pub fn add_circom(
    keys: &Path,
    id: &str,
    zkey_path: &Path,
    wasm_path: &Path,
    vkey_path: &Path,
    cache: &ZkeyCache,
) -> Result<(CircomCircuit, Origin)> {
    let circuit: CircuitId = id.parse()?;
    if !circuit.is_circom() {
        return Err(Error::UnknownCircuit {
            id: id.into(),
            reason: "is a built-in circuit's id: give the circom circuit a name of its own \
                     ([a-z0-9][a-z0-9-]{0,63})"
                .into(),
        });
    }
    let vkey_text = read(vkey_path)?;
    let vk = export::verifying_key_from_json(&vkey_text)?;
    let wasm = read_binary(wasm_path)?;
    engine::WitnessCalculator::new(&wasm)?;
    let zkey = ZkeyBytes::read(zkey_path)?;
    let zkey_bytes = zkey.bytes().to_vec();
    let (key, origin) = cache.load(zkey, Kernel::default())?;
    if *key.verifying_key() != vk {
        return Err(Error::ZkeyMismatch {
            what: format!(
                "{} is not the verifying key of {} (snarkjs zkey export verificationkey gives it)",
                vkey_path.display(),
                zkey_path.display()
            ),
        });
    }
    drop(key);
    let entry = KeyDir::new(keys).store_circom(id, &zkey_bytes, &wasm, vkey_text.as_bytes())?;
    Ok((entry, origin))
}

/// `verify --vkey`: whether the proof verifies under snarkjs's `verification_key.json`.
pub fn verify(vkey: &Path, proof: &Path, public: &Path) -> Result<bool> {
    let vk = export::verifying_key_from_json(&read(vkey)?)?;
    let proof = export::proof_from_json(&read(proof)?)?;
    let public = export::public_from_json(&read(public)?)?;
    crate::prover::verify::verify(&vk, &public, &proof)
}

/// `zkey-info`: the zkey's facts as JSON (see [`zkey::ZkeyInfo`]).
pub fn info(path: &Path) -> Result<String> {
    let bytes = read_binary(path)?;
    let info = zkey::Zkey::parse(&bytes)?.info(zkey::sha256_hex(&bytes))?;
    let mut text = serde_json::to_string_pretty(&info).expect("the info serialises");
    text.push('\n');
    Ok(text)
}

/// What `import-zkey` stored.
#[derive(Debug, Clone)]
pub struct ImportedKeys {
    /// The circuit's manifest entry (labelled a ceremony key, with the zkey's SHA-256).
    pub entry: CircuitKeys,
    /// SHA-256 of the zkey, hex.
    pub zkey_sha256: String,
    /// The phase-2 contributions the zkey records, as one line: `#1 first, #2 final beacon
    /// (beacon)`; names are the contributors' own, control characters shown as `?`.
    pub contributions: String,
}

/// `import-zkey`: checks that the zkey at `zkey_path` is a ceremony's key of `circuit` and
/// stores it in the key directory `out` (key files and manifest entry).
pub fn import(circuit: &str, zkey_path: &Path, out: &Path) -> Result<ImportedKeys> {
    let id: CircuitId = circuit.parse()?;
    let bytes = read_binary(zkey_path)?;
    let imported = ceremony::import_zkey(&id, &bytes)?;
    drop(bytes);
    let zkey_sha256 = imported.ceremony.zkey_sha256.clone();
    let entry = KeyDir::new(out).store(
        &id,
        &imported.proving_key,
        &imported.verifying_key,
        imported.constraints,
        Some(imported.ceremony),
    )?;
    let contributions = imported
        .contributions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name: String = c
                .name
                .as_deref()
                .unwrap_or("(no name)")
                .chars()
                .map(|ch| if ch.is_control() { '?' } else { ch })
                .collect();
            let beacon = if c.beacon { " (beacon)" } else { "" };
            format!("#{} {name}{beacon}", i + 1)
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(ImportedKeys {
        entry,
        zkey_sha256,
        contributions,
    })
}

fn read_binary(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    })
}
