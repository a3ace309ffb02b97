//! The CLI's snarkjs-compatible commands: `prove --zkey`, `verify --vkey`, `zkey-info`, and
//! `import-zkey` (a ceremony's zkey of one of our circuits, see [`crate::prover::ceremony`]).
//!
//! `prove --zkey circuit.zkey --wtns witness.wtns` is snarkjs's `groth16 prove`; `--wasm
//! circuit.wasm --input input.json` (snarkjs's `groth16 fullprove`) computes the witness with
//! circom's witness wasm first ([`WitnessSource`]). The zkey is converted into airprover's key
//! every time it is read, every point checked (see [`crate::circom::zkey`]).

use std::fs;
use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use serde_json::Value;

use super::{distinct, read, write};
use crate::circom::{wtns, zkey};
use crate::circuit::id::CircuitId;
use crate::error::{Error, Result};
use crate::prover::ceremony;
use crate::prover::key_dir::KeyDir;
use crate::prover::manifest::CircuitKeys;
use crate::prover::msm::Kernel;
use crate::prover::prepared::PreparedProvingKey;
use crate::prover::qap::Reduction;
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
/// written.
pub fn prove(
    zkey_path: &Path,
    witness: &WitnessSource,
    proof_out: &Path,
    public_out: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
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
        WitnessSource::Wasm { .. } => {
            return Err(Error::input(
                "--wasm",
                "computing the witness with circom's witness wasm is not in this build: pass --wtns (snarkjs wtns calculate)",
            ))
        }
    };
    let key = load(zkey_path)?;
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
    )
}

/// The zkey at `path`, converted (every point checked) and prepared for this machine's kernel.
pub fn load(path: &Path) -> Result<PreparedProvingKey> {
    let bytes = read_binary(path)?;
    let converted = zkey::Zkey::parse(&bytes)?.convert()?;
    drop(bytes);
    Ok(PreparedProvingKey::new(
        converted.proving_key,
        Some(converted.matrices),
        Kernel::default(),
    )?
    .with_reduction(Reduction::Circom))
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
