//! `airprover submit`: sends a claim to a `serve` node, follows the task with a progress line and
//! writes proof.json and public.json when it succeeds. With a [`Trust`], the result is checked
//! before anything is written: the claim's circuit and public signals, the proof against the
//! client's own verifying key, and the worker's signature against the pinned worker keys.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::code::ServiceError;
use super::signature::{sha256_hex, PinnedWorkers, ProofStatement};
use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::prover::export;
use crate::prover::key_dir::KeyDir;
use crate::prover::keys::KeyKind;

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

/// Submits `claim_json` and waits for its end; on success checks the result against `trust`
/// (when given) and only then writes the files. `progress` gets each status line. A refusal or
/// a failed task ends it with the server's own code.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    server: &str,
    api_key: Option<&str>,
    claim_json: &str,
    priority: &str,
    proof_out: &Path,
    public_out: &Path,
    trust: Option<&Trust<'_>>,
    progress: &mut dyn FnMut(&str),
) -> std::result::Result<String, ServiceError> {
    let claim = crate::json::parse_strict(claim_json).map_err(|e| e.into_error("claim"))?;
    let parsed = Claim::from_value(&claim)?;
    // Read before the claim leaves: a missing or corrupt key is known before the server works.
    let verifying_key = trust
        .map(|t| KeyDir::new(t.keys).load(&parsed.circuit, KeyKind::Verifying))
        .transpose()?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(network)?;
    let with_key = |r: reqwest::RequestBuilder| match api_key {
        Some(k) => r.bearer_auth(k),
        None => r,
    };
    let base = server.trim_end_matches('/');
    let request = with_key(http.post(format!("{base}/v1/proofs")))
        .json(&json!({ "claim": claim, "priority": priority }));
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
                if let (Some(trust), Some(vk)) = (trust, &verifying_key) {
                    check(result, &id, &parsed, vk, trust.workers)?;
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

/// The server's result for task `id` of `claim`, checked: its circuit and public signals are the
/// claim's; the worker's signature (when `workers` is given) signs exactly the task, the circuit,
/// this client's verifying key, and the proof and public signals as they will be written, with a
/// pinned key (UNKNOWN_WORKER, BAD_SIGNATURE); the proof verifies with `verifying_key`
/// (VERIFY_FAILED). The message is recomputed here: the server's `signed` text is never read.
pub fn check(
    result: &Value,
    id: &str,
    claim: &Claim,
    verifying_key: &[u8],
    workers: Option<&PinnedWorkers>,
) -> Result<()> {
    let refused = |what: String| Error::VerifyFailed {
        what: format!("task {id}: {what}: nothing written"),
    };
    let circuit = claim.circuit.to_string();
    if result["circuit"].as_str() != Some(circuit.as_str()) {
        return Err(refused(format!(
            "the server proved {}, not the claim's {circuit}",
            result["circuit"]
        )));
    }
    let expected = Value::from(export::public_to_json(&claim.public_signals()));
    let (proof, public_signals) = (&result["proof"], &result["publicSignals"]);
    if *public_signals != expected {
        return Err(refused(
            "the server's public signals are not the claim's".into(),
        ));
    }
    if let Some(workers) = workers {
        let vk_sha256 = sha256_hex(verifying_key);
        let statement = ProofStatement {
            task_id: id,
            circuit: &circuit,
            vk_sha256: &vk_sha256,
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
    if !crate::api::verify(
        verifying_key,
        &proof.to_string(),
        &public_signals.to_string(),
    )? {
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
