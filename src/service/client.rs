//! `airprover submit`: sends a claim to a `serve` node, follows the task with a progress line and
//! writes proof.json and public.json when it succeeds.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::prover::export;

fn network(what: impl std::fmt::Display) -> Error {
    Error::Io {
        path: "server".into(),
        what: what.to_string(),
    }
}

/// The server's `{ code, message }` as an error line.
fn refusal(status: reqwest::StatusCode, body: &Value) -> Error {
    let code = body["code"].as_str().unwrap_or("SERVER_ERROR");
    let message = body["message"].as_str().unwrap_or("no message");
    Error::input("server", format!("{status}: {code}: {message}"))
}

/// Submits `claim_json` and waits for its end; writes the files on success. `progress` gets
/// each status line.
pub async fn submit(
    server: &str,
    api_key: Option<&str>,
    claim_json: &str,
    priority: &str,
    proof_out: &Path,
    public_out: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<String> {
    let claim = crate::json::parse_strict(claim_json).map_err(|e| e.into_error("claim"))?;
    crate::claim::Claim::from_value(&claim)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(network)?;
    let with_key = |r: reqwest::RequestBuilder| match api_key {
        Some(k) => r.bearer_auth(k),
        None => r,
    };
    let base = server.trim_end_matches('/');
    let response = with_key(http.post(format!("{base}/v1/proofs")))
        .json(&json!({ "claim": claim, "priority": priority }))
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    let body: Value = response.json().await.map_err(network)?;
    if !status.is_success() {
        return Err(refusal(status, &body));
    }
    let id = body["id"]
        .as_str()
        .ok_or_else(|| network("no task id in the answer"))?
        .to_string();
    progress(&format!("task {id}: queued"));
    loop {
        let response = with_key(http.get(format!("{base}/v1/proofs/{id}")))
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let task: Value = response.json().await.map_err(network)?;
        if !status.is_success() {
            return Err(refusal(status, &task));
        }
        match task["status"].as_str().unwrap_or_default() {
            "succeeded" => {
                let result = &task["result"];
                write(proof_out, &export::to_snarkjs_text(&result["proof"]))?;
                write(
                    public_out,
                    &export::to_snarkjs_text(&result["publicSignals"]),
                )?;
                return Ok(id);
            }
            "failed" | "cancelled" => {
                let code = task["error"]["code"].as_str().unwrap_or("FAILED");
                let message = task["error"]["message"].as_str().unwrap_or_default();
                return Err(Error::ProofFailed {
                    what: format!("task {id}: {code}: {message}"),
                });
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

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Io {
        path: path.display().to_string(),
        what: e.to_string(),
    })
}
