//! The native CLI's commands (`src/bin/airprover.rs` only parses arguments and prints): files in,
//! files out, through [`crate::api`] and [`crate::prover::key_dir::KeyDir`].
//!
//! Exit codes: 0 success (for `verify`: the proof verifies), [`EXIT_NOT_VALID`] when `verify`
//! finds the proof does not verify, [`EXIT_ERROR`] on any error, which is printed as one line on
//! stderr starting with its code.

pub mod zkey;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::api;
use crate::campaign;
use crate::circuit::id::CircuitId;
use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::field;
use crate::prover::export;
use crate::prover::key_dir::KeyDir;
use crate::prover::keys::KeyKind;
use crate::prover::manifest::CircuitKeys;
use crate::prover::Progress;
use crate::tree::sample::{self, DEFAULT_ATTESTATIONS};

/// Exit code of `verify` when the proof does not verify.
pub const EXIT_NOT_VALID: u8 = 1;
/// Exit code of every error (bad input, missing keys, I/O).
pub const EXIT_ERROR: u8 = 2;

/// `setup`: makes the keys of `circuit` into `out` and merges the manifest.
pub fn setup(circuit: &str, out: &Path, seed: Option<u64>) -> Result<CircuitKeys> {
    let id: CircuitId = circuit.parse()?;
    let keys = api::setup(circuit, seed)?;
    KeyDir::new(out).store(
        &id,
        &keys.proving_key,
        &keys.verifying_key,
        keys.constraints,
    )
}

/// `sample`: writes a valid claim to `out` and the tree's public file next to it
/// ([`tree_file_for`]). Returns the tree file's path. `attestations` defaults to
/// [`DEFAULT_ATTESTATIONS`], or every leaf of a smaller tree; `campaign` (a deployment's id, see
/// [`campaign::campaign_id`]) to a number drawn from the seed.
pub fn sample(
    circuit: &str,
    out: &Path,
    attestations: Option<usize>,
    seed: u64,
    campaign: Option<&str>,
    force: bool,
) -> Result<PathBuf> {
    let campaign = campaign
        .map(|c| field::parse_fr(&Value::from(c), "campaign"))
        .transpose()?;
    let id: CircuitId = circuit.parse()?;
    let attestations = attestations.unwrap_or_else(|| match id {
        CircuitId::Claim { depth, .. } if depth < 64 => {
            DEFAULT_ATTESTATIONS.min(1usize.checked_shl(depth).unwrap_or(usize::MAX))
        }
        _ => DEFAULT_ATTESTATIONS,
    });
    let mut made = sample::sample(&id, attestations, seed)?;
    if let Some(campaign) = campaign {
        made.claim["campaignId"] = Value::from(field::fr_to_decimal(&campaign));
    }
    let tree_path = tree_file_for(out);
    if !force {
        for path in [out, tree_path.as_path()] {
            if path.exists() {
                return Err(Error::input(
                    "arguments",
                    format!("{} exists: pass --force to overwrite it", path.display()),
                ));
            }
        }
    }
    // The claim holds the secret: only its owner may read it.
    write_private(out, &pretty(&made.claim))?;
    write(&tree_path, &pretty(&made.tree))?;
    Ok(tree_path)
}

/// `campaign-id`: the id of the campaign of the airdrop at `address`, or of the airdrop that
/// `deployer` creates with nonce `nonce`, on chain `chain_id` (decimal). Returns the id and the
/// airdrop's address.
pub fn campaign_id(
    chain_id: u64,
    address: Option<&str>,
    deployer: Option<(&str, u64)>,
) -> Result<(String, String)> {
    let airdrop = match (address, deployer) {
        (Some(address), None) => campaign::parse_address(address, "address")?,
        (None, Some((deployer, nonce))) => {
            campaign::create_address(&campaign::parse_address(deployer, "deployer")?, nonce)
        }
        _ => {
            return Err(Error::input(
                "arguments",
                "give --address, or --deployer and --nonce",
            ))
        }
    };
    Ok((
        field::fr_to_decimal(&campaign::campaign_id(chain_id, &airdrop)),
        campaign::address_to_hex(&airdrop),
    ))
}

/// `prove`: proves the claim in `input` with the keys in `keys`, writes snarkjs `proof.json` and
/// `public.json`. The claim is validated before any key is read.
pub fn prove(
    keys: &Path,
    input: &Path,
    proof_out: &Path,
    public_out: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
    distinct(&[
        ("--input", input),
        ("--proof", proof_out),
        ("--public", public_out),
    ])?;
    let claim_json = read(input)?;
    let claim = Claim::from_json(&claim_json)?;
    let proving_key = KeyDir::new(keys).load(&claim.circuit, KeyKind::Proving)?;
    let out = api::prove(&claim_json, &proving_key, progress)?;
    write(proof_out, &export::to_snarkjs_text(&out.proof))?;
    write(
        public_out,
        &export::to_snarkjs_text(&Value::from(out.public_signals)),
    )
}

/// `verify`: whether the proof verifies against the verifying key of `circuit` in `keys`.
pub fn verify(keys: &Path, circuit: &str, proof: &Path, public: &Path) -> Result<bool> {
    let id: CircuitId = circuit.parse()?;
    let proof_json = read(proof)?;
    let public_json = read(public)?;
    let verifying_key = KeyDir::new(keys).load(&id, KeyKind::Verifying)?;
    api::verify(&verifying_key, &proof_json, &public_json)
}

/// `export-vk --format snarkjs`: writes `verification_key.json` for `circuit`.
pub fn export_verification_key(keys: &Path, circuit: &str, out: &Path) -> Result<()> {
    let id: CircuitId = circuit.parse()?;
    let verifying_key = KeyDir::new(keys).load(&id, KeyKind::Verifying)?;
    write(
        out,
        &export::to_snarkjs_text(&api::verification_key_json(&verifying_key)?),
    )
}

/// `export-verifier`: writes the Solidity verifier of `circuit`'s verifying key in `keys` to
/// `out`. Returns whether the key is a development key.
pub fn export_verifier(keys: &Path, circuit: &str, out: &Path) -> Result<bool> {
    let id: CircuitId = circuit.parse()?;
    let verifying_key = KeyDir::new(keys).load(&id, KeyKind::Verifying)?;
    write(out, &api::solidity_verifier(&verifying_key)?)?;
    Ok(crate::prover::keys::KeyHeader::read(&verifying_key)?.development)
}

/// `calldata`: the `verifyProof` arguments of a proof, as `snarkjs zkey export soliditycalldata`
/// prints them.
pub fn calldata(proof: &Path, public: &Path) -> Result<String> {
    let call = api::solidity_calldata(&read(proof)?, &read(public)?)?;
    Ok(call.to_snarkjs_text())
}

/// Where `sample` writes the tree next to the claim: `claim.json` -> `claim.tree.json`.
pub fn tree_file_for(claim: &Path) -> PathBuf {
    let name = claim
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    claim.with_file_name(format!("{stem}.tree.json"))
}

/// The one stderr line of an error: the error's own text (which starts with its code), with any
/// line breaks folded so that it stays one line.
pub fn error_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn pretty(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(v).expect("a JSON value always serialises");
    text.push('\n');
    text
}

/// Reads a JSON document, refusing one over [`crate::json::MAX_DOCUMENT_BYTES`] before reading
/// it.
pub fn read(path: &Path) -> Result<String> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    };
    let len = fs::metadata(path).map_err(io)?.len();
    if len > crate::json::MAX_DOCUMENT_BYTES as u64 {
        return Err(Error::input(
            path.display().to_string(),
            format!(
                "is {len} bytes: documents are limited to {} bytes",
                crate::json::MAX_DOCUMENT_BYTES
            ),
        ));
    }
    fs::read_to_string(path).map_err(io)
}

/// Refuses two arguments naming the same file (a typo would overwrite the claim with the proof).
fn distinct(paths: &[(&str, &Path)]) -> Result<()> {
    let resolved: Vec<PathBuf> = paths.iter().map(|(_, p)| resolve(p)).collect();
    for i in 0..paths.len() {
        for j in i + 1..paths.len() {
            if resolved[i] == resolved[j] {
                return Err(Error::input(
                    "arguments",
                    format!("{} and {} name the same file", paths[i].0, paths[j].0),
                ));
            }
        }
    }
    Ok(())
}

/// A path made absolute, with its existing part resolved (links, `..`).
fn resolve(path: &Path) -> PathBuf {
    if let Ok(real) = fs::canonicalize(path) {
        return real;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(absolute),
        _ => absolute,
    }
}

/// Writes a file only its owner can read (mode 0600 on Unix), replacing one that exists.
fn write_private(path: &Path, contents: &str) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An existing file keeps its mode through open(): narrow it first.
        if path.exists() {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    use std::io::Write;
    options
        .open(path)
        .and_then(|mut f| f.write_all(contents.as_bytes()))
        .map_err(io)
}

fn write(path: &Path, contents: &str) -> Result<()> {
    fs::write(path, contents).map_err(|e| Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_file_sits_next_to_the_claim() {
        assert_eq!(
            tree_file_for(Path::new("out/claim.json")),
            Path::new("out/claim.tree.json")
        );
        assert_eq!(
            tree_file_for(Path::new("claim")),
            Path::new("claim.tree.json")
        );
    }

    #[test]
    fn error_lines_are_one_line() {
        let e = Error::InvalidJson {
            what: "claim: expected value\nat line 2".into(),
        };
        assert_eq!(
            error_line(&e),
            "INVALID_JSON: claim: expected value at line 2"
        );
    }
}
