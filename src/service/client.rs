//! `airprover submit`: sends a claim, or a circom circuit's input, to a `serve` node, follows the
//! task with a progress line and writes proof.json and public.json when it succeeds. With a
//! [`Trust`], the result is checked before anything is written: the circuit and the public
//! signals (a claim's own; for a circom circuit, those its witness wasm computes from the input
//! here), the proof against the client's own verifying key, and the worker's signature against
//! the pinned worker keys.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::code::ServiceError;
use super::signature::{sha256_hex, PinnedWorkers, ProofStatement};
use crate::circom::engine::WitnessCalculator;
use crate::circom::input::{CircomInput, MAX_INPUT_BYTES};
use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::json::parse_strict_with_limit;
use crate::prover::export;
use crate::prover::key_dir::KeyDir;
use crate::prover::keys::{read_verifying_key, KeyKind, Validation};
use crate::prover::VerifyingKey;

/// What `submit` sends.
#[derive(Debug, Clone, Copy)]
pub enum Submission<'a> {
    /// A claim: its JSON text.
    Claim(&'a str),
    /// A circom circuit of the server's, and its input signals (JSON text, as snarkjs takes
    /// them).
    Circom {
        /// The circuit's id.
        circuit: &'a str,
        /// The input document.
        input: &'a str,
    },
}

/// What a result must be: its circuit, its public signals, the verifying key its proof verifies
/// with and that key file's SHA-256 (which the worker signs).
#[derive(Debug, Clone)]
pub struct Expected {
    /// The circuit id.
    pub circuit: String,
    /// `public.json`.
    pub public_signals: Value,
    /// The client's verifying key.
    pub verifying_key: VerifyingKey,
    /// SHA-256 (hex) of the verifying key's file: the `.vk`, or a circom circuit's
    /// `verification_key.json`.
    pub vk_sha256: String,
}

/// What a result is checked against before it is written.
#[derive(Debug, Clone)]
pub struct Trust<'a> {
    /// The key directory whose verifying key the proof must verify with (`--keys`).
    pub keys: &'a Path,
    /// The workers whose signature is accepted (`--worker-keys`); `None`: the proof is checked,
    /// not who made it.
    pub workers: Option<&'a PinnedWorkers>,
}

fn network(what: impl std::fmt::Display) -> Error {
    Error::Io {
        path: "server".into(),
        what: what.to_string(),
    }
}

/// The server's `{ code, message }`, its code kept (a 429 stays `RATE_LIMITED` or
/// `QUOTA_EXCEEDED`).
fn refusal(status: reqwest::StatusCode, body: &Value) -> ServiceError {
    let code = body["code"].as_str().unwrap_or("REMOTE_FAILED");
    let message = body["message"].as_str().unwrap_or("no message");
    ServiceError::answered(Some(status.as_u16()), code, message)
}

/// The JSON body of a 2xx answer to `request`, or the server's refusal.
async fn answer(request: reqwest::RequestBuilder) -> std::result::Result<Value, ServiceError> {
    let response = request.send().await.map_err(network)?;
    let status = response.status();
    let body: Value = response.json().await.map_err(network)?;
    if !status.is_success() {
        return Err(refusal(status, &body));
    }
    Ok(body)
}

/// Submits `submission` and waits for its end; on success checks the result against `trust`
/// (when given) and only then writes the files. `progress` gets each status line. A refusal or
/// a failed task ends it with the server's own code.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    server: &str,
    api_key: Option<&str>,
    submission: Submission<'_>,
    priority: &str,
    proof_out: &Path,
    public_out: &Path,
    trust: Option<&Trust<'_>>,
    progress: &mut dyn FnMut(&str),
) -> std::result::Result<String, ServiceError> {
    // Read (and, with a trust, what the result must be worked out) before the input leaves: a
    // bad input, or a missing or corrupt key, is known before the server works.
    let (body, expected) = match submission {
        Submission::Claim(text) => {
            let claim = crate::json::parse_strict(text).map_err(|e| e.into_error("claim"))?;
            let parsed = Claim::from_value(&claim)?;
            let expected = trust.map(|t| expect_claim(t.keys, &parsed)).transpose()?;
            (json!({ "claim": claim, "priority": priority }), expected)
        }
        Submission::Circom { circuit, input } => {
            let value = parse_strict_with_limit(input, MAX_INPUT_BYTES)
                .map_err(|e| e.into_error("circom input"))?;
            let signals = CircomInput::from_value(&value)?;
            let expected = trust
                .map(|t| expect_circom(t.keys, circuit, &signals))
                .transpose()?;
            (
                json!({ "circuit": circuit, "input": value, "priority": priority }),
                expected,
            )
        }
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(network)?;
    let with_key = |r: reqwest::RequestBuilder| match api_key {
        Some(k) => r.bearer_auth(k),
        None => r,
    };
    let base = server.trim_end_matches('/');
    let request = with_key(http.post(format!("{base}/v1/proofs"))).json(&body);
    let body = answer(request).await?;
    let id = body["id"]
        .as_str()
        .ok_or_else(|| network("no task id in the answer"))?
        .to_string();
    progress(&format!("task {id}: queued"));
    loop {
        let task = answer(with_key(http.get(format!("{base}/v1/proofs/{id}")))).await?;
        match task["status"].as_str().unwrap_or_default() {
            "succeeded" => {
                let result = &task["result"];
                if let (Some(trust), Some(expected)) = (trust, &expected) {
                    check(result, &id, expected, trust.workers)?;
                }
                write(proof_out, &export::to_snarkjs_text(&result["proof"]))?;
                write(
                    public_out,
                    &export::to_snarkjs_text(&result["publicSignals"]),
                )?;
                return Ok(id);
            }
            "failed" | "cancelled" => {
                let code = task["error"]["code"].as_str().unwrap_or("REMOTE_FAILED");
                let message = task["error"]["message"].as_str().unwrap_or_default();
                let mut e = ServiceError::answered(None, code, message);
                e.message = format!("task {id}: {}", e.message);
                return Err(e);
            }
            "running" => progress(&format!(
                "task {id}: {:>3}% {} on {}",
                task["percent"].as_u64().unwrap_or(0),
                task["stage"].as_str().unwrap_or_default(),
                task["worker"].as_str().unwrap_or_default()
            )),
            other => progress(&format!("task {id}: {other}")),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the result of `claim` must be, from the key directory `keys`: the claim's circuit and
/// public signals, the circuit's verifying key.
pub fn expect_claim(keys: &Path, claim: &Claim) -> Result<Expected> {
    let bytes = KeyDir::new(keys).load(&claim.circuit, KeyKind::Verifying)?;
    Ok(Expected {
        circuit: claim.circuit.to_string(),
        public_signals: Value::from(export::public_to_json(&claim.public_signals())),
        verifying_key: read_verifying_key(&bytes, &claim.circuit, Validation::Checked)?,
        vk_sha256: sha256_hex(&bytes),
    })
}

/// What the result of the circom circuit `circuit` on `input` must be, from the key directory
/// `keys` (its manifest's circom entry, each file checked against it): the public signals its
/// witness wasm computes from the input, here (a bad input is refused before it leaves, by
/// signal name), and its `verification_key.json`.
pub fn expect_circom(keys: &Path, circuit: &str, input: &CircomInput) -> Result<Expected> {
    let dir = KeyDir::new(keys);
    let entry = dir.circom_entry(circuit)?;
    let vkey = dir.read_listed(&entry.verifying_key)?;
    let verifying_key = std::str::from_utf8(&vkey)
        .map_err(|_| Error::key_integrity(format!("{}: not UTF-8", entry.verifying_key.name)))
        .and_then(export::verifying_key_from_json)?;
    let witness = WitnessCalculator::new(&dir.read_listed(&entry.wasm)?)?.calculate(input)?;
    let public = verifying_key.gamma_abc_g1.len().saturating_sub(1);
    let public_signals = witness.get(1..=public).ok_or_else(|| Error::ZkeyMismatch {
        what: format!(
            "the witness wasm of {circuit} computes {} values, fewer than its verifying key's {public} public signals",
            witness.len()
        ),
    })?;
    Ok(Expected {
        circuit: circuit.to_string(),
        public_signals: Value::from(export::public_to_json(public_signals)),
        verifying_key,
        vk_sha256: sha256_hex(&vkey),
    })
}

/// The server's result for task `id`, checked against what it must be: its circuit and public
/// signals are `expected`'s; the worker's signature (when `workers` is given) signs exactly the
/// task, the circuit, this client's verifying key, and the proof and public signals as they
/// will be written, with a pinned key (UNKNOWN_WORKER, BAD_SIGNATURE); the proof verifies with
/// the client's verifying key (VERIFY_FAILED). The message is recomputed here: the server's
/// `signed` text is never read.
pub fn check(
    result: &Value,
    id: &str,
    expected: &Expected,
    workers: Option<&PinnedWorkers>,
) -> Result<()> {
    let refused = |what: String| Error::VerifyFailed {
        what: format!("task {id}: {what}: nothing written"),
    };
    let circuit = expected.circuit.as_str();
    if result["circuit"].as_str() != Some(circuit) {
        return Err(refused(format!(
            "the server proved {}, not {circuit}",
            result["circuit"]
        )));
    }
    let (proof, public_signals) = (&result["proof"], &result["publicSignals"]);
    if *public_signals != expected.public_signals {
        return Err(refused(
            "the server's public signals are not those of your input".into(),
        ));
    }
    if let Some(workers) = workers {
        let vk_sha256 = expected.vk_sha256.as_str();
        let statement = ProofStatement {
            task_id: id,
            circuit,
            vk_sha256,
            proof,
            public_signals,
        };
        let public_key = result["publicKey"].as_str().unwrap_or_default();
        let signature = result["signature"].as_str().unwrap_or_default();
        workers
            .check(&statement, public_key, signature)
            .map_err(|e| match (e, result["vkSha256"].as_str()) {
                (Error::BadSignature { what }, Some(theirs)) if theirs != vk_sha256 => {
                    Error::BadSignature {
                        what: format!("{what} (the worker names verifying key {theirs:.64}: its keys are not yours)"),
                    }
                }
                (e, _) => e,
            })?;
    }
    let verifies = crate::prover::verify::verify(
        &expected.verifying_key,
        &export::public_from_json(&public_signals.to_string())?,
        &export::proof_from_json(&proof.to_string())?,
    )?;
    if !verifies {
        return Err(refused(format!(
            "the proof does not verify with your verifying key for {circuit}"
        )));
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    })
}
