//! The native CLI on good and bad input: exit codes, and every error as ONE stderr line that
//! starts with its code.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

const CIRCUIT: &str = "threshold-d4-k2";
const OTHER: &str = "threshold-d4-k1";
/// BN254 scalar field modulus p.
const P: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn airprover(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_airprover"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Keys for CIRCUIT and OTHER, a sampled claim, and a proof of it; made once per test run.
struct Fixture {
    dir: PathBuf,
    keys: PathBuf,
    other_keys: PathBuf,
    claim: Value,
    proof: PathBuf,
    public: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let keys = dir.join("keys");
        let other_keys = dir.join("other-keys");
        for (circuit, out) in [(CIRCUIT, &keys), (OTHER, &other_keys)] {
            let run = airprover(&[
                "setup",
                "--circuit",
                circuit,
                "--out",
                path(out),
                "--seed",
                "1",
            ]);
            assert_eq!(run.code, 0, "{}", run.stderr);
        }
        let claim_path = dir.join("claim.json");
        let run = airprover(&[
            "sample",
            "--circuit",
            CIRCUIT,
            "--out",
            path(&claim_path),
            "--attestations",
            "12",
            "--seed",
            "3",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let claim: Value = serde_json::from_str(&fs::read_to_string(&claim_path).unwrap()).unwrap();
        let (proof, public) = (dir.join("proof.json"), dir.join("public.json"));
        let run = airprover(&[
            "prove",
            "--keys",
            path(&keys),
            "--input",
            path(&claim_path),
            "--proof",
            path(&proof),
            "--public",
            path(&public),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        Fixture {
            dir,
            keys,
            other_keys,
            claim,
            proof,
            public,
        }
    })
}

/// Asserts exit code `exit` and a single stderr line starting with `code`, returns that line.
fn assert_error(run: &Run, exit: i32, code: &str) -> String {
    assert_eq!(run.code, exit, "stderr: {}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr is not one line: {:?}", run.stderr);
    assert!(
        lines[0].starts_with(&format!("{code}: ")),
        "expected {code}: {}",
        lines[0]
    );
    lines[0].to_string()
}

/// Proves `claim` (written to a fresh file) with `keys`.
fn prove(name: &str, claim: &str, keys: &Path) -> Run {
    let f = fixture();
    let input = f.dir.join(format!("{name}.claim.json"));
    fs::write(&input, claim).unwrap();
    airprover(&[
        "prove",
        "--keys",
        path(keys),
        "--input",
        path(&input),
        "--proof",
        path(&f.dir.join(format!("{name}.proof.json"))),
        "--public",
        path(&f.dir.join(format!("{name}.public.json"))),
    ])
}

/// Proves a modified copy of the sampled claim and expects the error `code` whose line contains
/// `needle`.
fn rejects(name: &str, code: &str, needle: &str, edit: impl FnOnce(&mut Value)) {
    let mut claim = fixture().claim.clone();
    edit(&mut claim);
    let line = assert_error(&prove(name, &claim.to_string(), &fixture().keys), 2, code);
    assert!(line.contains(needle), "{line} does not mention {needle}");
}

#[test]
fn a_sampled_claim_proves_and_verifies() {
    let f = fixture();
    let run = airprover(&[
        "verify",
        "--keys",
        path(&f.keys),
        "--circuit",
        CIRCUIT,
        "--proof",
        path(&f.proof),
        "--public",
        path(&f.public),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("OK"));
    let proof: Value = serde_json::from_str(&fs::read_to_string(&f.proof).unwrap()).unwrap();
    assert_eq!(proof["protocol"], "groth16");
    assert_eq!(proof["curve"], "bn128");
    let public: Vec<String> =
        serde_json::from_str(&fs::read_to_string(&f.public).unwrap()).unwrap();
    assert_eq!(public.len(), 5);
    assert!(f.dir.join("claim.tree.json").exists());
}

#[test]
fn an_altered_public_signal_does_not_verify() {
    let f = fixture();
    let mut public: Vec<String> =
        serde_json::from_str(&fs::read_to_string(&f.public).unwrap()).unwrap();
    public[4] = "1".into();
    let altered = f.dir.join("altered.public.json");
    fs::write(&altered, json!(public).to_string()).unwrap();
    let run = airprover(&[
        "verify",
        "--keys",
        path(&f.keys),
        "--circuit",
        CIRCUIT,
        "--proof",
        path(&f.proof),
        "--public",
        path(&altered),
    ]);
    assert_error(&run, 1, "VERIFY_FAILED");
}

#[test]
fn malformed_proofs_are_bad_input() {
    let f = fixture();
    let good: Value = serde_json::from_str(&fs::read_to_string(&f.proof).unwrap()).unwrap();
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("pi_a");
    let mut off_curve = good.clone();
    off_curve["pi_a"][0] = json!("1");
    for (name, text, needle) in [
        ("not-json", "{".to_string(), "proof"),
        ("missing", missing.to_string(), "pi_a"),
        ("off-curve", off_curve.to_string(), "pi_a"),
    ] {
        let proof = f.dir.join(format!("{name}.proof.json"));
        fs::write(&proof, text).unwrap();
        let run = airprover(&[
            "verify",
            "--keys",
            path(&f.keys),
            "--circuit",
            CIRCUIT,
            "--proof",
            path(&proof),
            "--public",
            path(&f.public),
        ]);
        let line = assert_error(&run, 2, "INVALID_PROOF");
        assert!(line.contains(needle), "{line}");
    }
}

#[test]
fn malformed_json_claim() {
    let run = prove("malformed", "{\"circuit\": ", &fixture().keys);
    assert_error(&run, 2, "INVALID_JSON");
}

#[test]
fn missing_field() {
    rejects("missing", "INVALID_INPUT", "root", |c| {
        c.as_object_mut().unwrap().remove("root");
    });
}

#[test]
fn unknown_field() {
    rejects("unknown", "INVALID_INPUT", "treshold", |c| {
        c["treshold"] = json!("1")
    });
}

#[test]
fn field_element_not_below_p() {
    rejects("secret-p", "INVALID_INPUT", "secret", |c| {
        c["secret"] = json!(P)
    });
}

#[test]
fn weight_not_below_2_32() {
    rejects("weight", "INVALID_INPUT", "attestations[0].weight", |c| {
        c["attestations"][0]["weight"] = json!(4_294_967_296u64)
    });
}

#[test]
fn wrong_sibling_count() {
    rejects(
        "siblings",
        "INVALID_INPUT",
        "attestations[1].siblings",
        |c| {
            c["attestations"][1]["siblings"]
                .as_array_mut()
                .unwrap()
                .pop();
        },
    );
}

#[test]
fn non_increasing_indices() {
    rejects("order", "INVALID_INPUT", "index", |c| {
        c["attestations"].as_array_mut().unwrap().swap(0, 1);
    });
}

#[test]
fn more_attestations_than_k() {
    rejects("too-many", "INVALID_INPUT", "attestations", |c| {
        let extra = c["attestations"][1].clone();
        c["attestations"].as_array_mut().unwrap().push(extra);
    });
}

#[test]
fn threshold_not_reached() {
    rejects("threshold", "SCORE_NOT_MET", "", |c| {
        c["threshold"] = json!("1000000")
    });
}

#[test]
fn path_not_reaching_the_root() {
    rejects("path", "PATH_MISMATCH", "attestations[1]", |c| {
        c["attestations"][1]["siblings"][2] = json!("12345")
    });
}

#[test]
fn unknown_circuit() {
    rejects("circuit", "UNKNOWN_CIRCUIT", "threshold-d4-k99", |c| {
        c["circuit"] = json!("threshold-d4-k99")
    });
    let out = fixture().dir.join("nope");
    let run = airprover(&["setup", "--circuit", "threshold-d0-k1", "--out", path(&out)]);
    assert_error(&run, 2, "UNKNOWN_CIRCUIT");
    assert!(!out.exists());
}

/// A copy of a key directory, to break.
fn copy_keys(from: &Path, name: &str) -> PathBuf {
    let to = fixture().dir.join(name);
    let _ = fs::remove_dir_all(&to);
    fs::create_dir_all(&to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

#[test]
fn keys_for_another_circuit() {
    let f = fixture();
    let keys = copy_keys(&f.other_keys, "swapped-keys");
    fs::rename(
        keys.join(format!("{OTHER}.pk")),
        keys.join(format!("{CIRCUIT}.pk")),
    )
    .unwrap();
    let line = assert_error(
        &prove("swapped", &f.claim.to_string(), &keys),
        2,
        "KEY_INTEGRITY",
    );
    assert!(line.contains(OTHER) && line.contains(CIRCUIT), "{line}");
}

#[test]
fn truncated_key_file() {
    let f = fixture();
    for (name, keep_manifest) in [("truncated-keys", true), ("truncated-keys-bare", false)] {
        let keys = copy_keys(&f.keys, name);
        if !keep_manifest {
            fs::remove_file(keys.join("manifest.json")).unwrap();
        }
        let pk = keys.join(format!("{CIRCUIT}.pk"));
        let bytes = fs::read(&pk).unwrap();
        fs::write(&pk, &bytes[..bytes.len() / 2]).unwrap();
        assert_error(
            &prove(name, &f.claim.to_string(), &keys),
            2,
            "KEY_INTEGRITY",
        );
    }
}

#[test]
fn missing_keys() {
    let f = fixture();
    let run = prove("no-keys", &f.claim.to_string(), &f.dir.join("no-such-dir"));
    assert_error(&run, 2, "KEY_NOT_FOUND");
}

#[test]
fn bad_arguments_are_one_line_too() {
    let run = airprover(&["prove", "--keys"]);
    assert_error(&run, 2, "INVALID_INPUT");
    let run = airprover(&[
        "export-vk",
        "--keys",
        "k",
        "--circuit",
        CIRCUIT,
        "--format",
        "pdf",
        "--out",
        "x",
    ]);
    assert_error(&run, 2, "INVALID_INPUT");
}

#[test]
fn seeded_setup_is_byte_identical_and_merges_the_manifest() {
    let f = fixture();
    let again = f.dir.join("again");
    let run = airprover(&[
        "setup",
        "--circuit",
        OTHER,
        "--out",
        path(&again),
        "--seed",
        "1",
    ]);
    assert!(run.stderr.contains("development keys"), "{}", run.stderr);
    for name in [format!("{OTHER}.pk"), format!("{OTHER}.vk")] {
        assert_eq!(
            fs::read(f.other_keys.join(&name)).unwrap(),
            fs::read(again.join(&name)).unwrap()
        );
    }
    let run = airprover(&[
        "setup",
        "--circuit",
        "square-chain-4",
        "--out",
        path(&again),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(again.join("manifest.json")).unwrap()).unwrap();
    let ids: Vec<&str> = manifest["circuits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["square-chain-4", OTHER]);
    assert_eq!(manifest["circuits"][1]["development"], true);
    assert!(manifest["circuits"][1]["warning"].is_string());
    assert_eq!(manifest["circuits"][0]["development"], false);
    assert_eq!(manifest["circuits"][1]["publicInputs"], 5);
}

#[test]
fn exports_the_verification_key() {
    let f = fixture();
    let out = f.dir.join("verification_key.json");
    let run = airprover(&[
        "export-vk",
        "--keys",
        path(&f.keys),
        "--circuit",
        CIRCUIT,
        "--format",
        "snarkjs",
        "--out",
        path(&out),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let vk: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(vk["nPublic"], 5);
    assert_eq!(vk["IC"].as_array().unwrap().len(), 6);
    let run = airprover(&[
        "export-vk",
        "--keys",
        path(&f.keys),
        "--circuit",
        OTHER,
        "--format",
        "snarkjs",
        "--out",
        path(&out),
    ]);
    assert_error(&run, 2, "KEY_NOT_FOUND");
}

#[test]
fn arguments_are_checked_before_any_warning() {
    let out = fixture().dir.join("never");
    let run = airprover(&[
        "setup",
        "--seed",
        "1",
        "--circuit",
        "bogus",
        "--out",
        path(&out),
    ]);
    let line = assert_error(&run, 2, "UNKNOWN_CIRCUIT");
    assert!(!line.contains("warning"), "{line}");
    assert!(!out.exists());
}

#[test]
fn prove_refuses_one_file_for_two_arguments() {
    let f = fixture();
    let input = f.dir.join("clobber.claim.json");
    fs::write(&input, f.claim.to_string()).unwrap();
    let before = fs::read(&input).unwrap();
    let proof = f.dir.join("clobber.proof.json");
    // The same file, spelled another way.
    let same = f.dir.join(".").join("clobber.claim.json");
    for (proof_arg, public_arg) in [
        (path(&same), path(&proof)),
        (path(&proof), path(&input)),
        (path(&proof), path(&proof)),
    ] {
        let run = airprover(&[
            "prove",
            "--keys",
            path(&f.keys),
            "--input",
            path(&input),
            "--proof",
            proof_arg,
            "--public",
            public_arg,
        ]);
        let line = assert_error(&run, 2, "INVALID_INPUT");
        assert!(line.contains("same file"), "{line}");
    }
    assert_eq!(fs::read(&input).unwrap(), before, "the claim is untouched");
}

#[cfg(unix)]
#[test]
fn sample_keeps_the_secret_private_and_overwrites_only_with_force() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fixture().dir.join("sample-force");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let claim = dir.join("claim.json");
    let args = [
        "sample",
        "--circuit",
        CIRCUIT,
        "--out",
        path(&claim),
        "--seed",
        "4",
    ];
    assert_eq!(airprover(&args).code, 0);
    let mode = fs::metadata(&claim).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the claim holds the secret: {mode:o}");
    let first = fs::read(&claim).unwrap();
    let other_seed = [
        "sample",
        "--circuit",
        CIRCUIT,
        "--out",
        path(&claim),
        "--seed",
        "5",
    ];
    let line = assert_error(&airprover(&other_seed), 2, "INVALID_INPUT");
    assert!(line.contains("--force"), "{line}");
    assert_eq!(fs::read(&claim).unwrap(), first, "nothing overwritten");
    // The tree alone existing is refused too.
    fs::remove_file(&claim).unwrap();
    assert_error(&airprover(&args), 2, "INVALID_INPUT");
    assert!(!claim.exists());
    let run = airprover(&[&args[..], &["--force"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A claim file that existed world-readable is narrowed too.
    fs::set_permissions(&claim, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(airprover(&[&args[..], &["--force"]].concat()).code, 0);
    assert_eq!(
        fs::metadata(&claim).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn a_megabyte_long_coordinate_is_refused_at_once() {
    let f = fixture();
    let mut proof: Value = serde_json::from_str(&fs::read_to_string(&f.proof).unwrap()).unwrap();
    proof["pi_a"][0] = json!("9".repeat(900_000));
    let huge = f.dir.join("huge.proof.json");
    fs::write(&huge, proof.to_string()).unwrap();
    let started = std::time::Instant::now();
    let run = airprover(&[
        "verify",
        "--keys",
        path(&f.keys),
        "--circuit",
        CIRCUIT,
        "--proof",
        path(&huge),
        "--public",
        path(&f.public),
    ]);
    let took = started.elapsed();
    println!(
        "verify refused a 900 KB coordinate in {:.1} ms",
        took.as_secs_f64() * 1e3
    );
    let line = assert_error(&run, 2, "INVALID_PROOF");
    assert!(line.contains("pi_a") && line.len() < 300, "{line}");
    assert!(took.as_secs() < 5, "{took:?}");
    // Over the document limit (2 MB): refused before it is read.
    proof["pi_a"][0] = json!("9".repeat(2 << 20));
    fs::write(&huge, proof.to_string()).unwrap();
    let run = airprover(&[
        "verify",
        "--keys",
        path(&f.keys),
        "--circuit",
        CIRCUIT,
        "--proof",
        path(&huge),
        "--public",
        path(&f.public),
    ]);
    let line = assert_error(&run, 2, "INVALID_INPUT");
    assert!(line.contains("limited to"), "{line}");
}

#[test]
fn duplicate_keys_are_refused_by_name() {
    let f = fixture();
    let text = f.claim.to_string();
    let twice = text.replacen("{", r#"{"threshold": "1","#, 1);
    let line = assert_error(&prove("dup-claim", &twice, &f.keys), 2, "INVALID_INPUT");
    assert!(line.contains("\"threshold\" twice"), "{line}");
    let public = fs::read_to_string(&f.public).unwrap();
    let proof = fs::read_to_string(&f.proof).unwrap();
    let dup_proof = f.dir.join("dup.proof.json");
    fs::write(
        &dup_proof,
        proof.replacen("{", r#"{"protocol": "groth16","#, 1),
    )
    .unwrap();
    let run = airprover(&[
        "verify",
        "--keys",
        path(&f.keys),
        "--circuit",
        CIRCUIT,
        "--proof",
        path(&dup_proof),
        "--public",
        path(&f.public),
    ]);
    let line = assert_error(&run, 2, "INVALID_INPUT");
    assert!(line.contains("\"protocol\" twice"), "{line}");
    assert!(public.starts_with('['));
}

#[test]
fn a_malformed_secret_never_appears_in_the_error() {
    let f = fixture();
    for (i, secret) in [
        "1234567890123 ",
        "0x12ab34cd!!",
        "-98765432109",
        "12345e678",
        "0x",
        "９８７６５４",
    ]
    .into_iter()
    .enumerate()
    {
        let mut claim = f.claim.clone();
        claim["secret"] = json!(secret);
        let run = prove(&format!("secret-{i}"), &claim.to_string(), &f.keys);
        let line = assert_error(&run, 2, "INVALID_INPUT");
        assert!(line.contains("secret"), "{line}");
        let trimmed = secret.trim_start_matches("0x").trim_start_matches('-');
        for part in trimmed.as_bytes().windows(4) {
            let part = String::from_utf8_lossy(part);
            assert!(
                !line.contains(part.as_ref()),
                "{line:?} echoes part of {secret:?}"
            );
        }
    }
}

#[test]
fn a_key_swapped_for_another_valid_one_is_caught_by_the_manifest() {
    let f = fixture();
    let keys = copy_keys(&f.keys, "pinned-keys");
    let other = f.dir.join("other-seed-keys");
    let _ = fs::remove_dir_all(&other);
    let run = airprover(&[
        "setup",
        "--circuit",
        CIRCUIT,
        "--out",
        path(&other),
        "--seed",
        "2",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let vk = format!("{CIRCUIT}.vk");
    assert_eq!(
        fs::metadata(keys.join(&vk)).unwrap().len(),
        fs::metadata(other.join(&vk)).unwrap().len()
    );
    fs::copy(other.join(&vk), keys.join(&vk)).unwrap();
    let run = airprover(&[
        "verify",
        "--keys",
        path(&keys),
        "--circuit",
        CIRCUIT,
        "--proof",
        path(&f.proof),
        "--public",
        path(&f.public),
    ]);
    let line = assert_error(&run, 2, "KEY_INTEGRITY");
    assert!(line.contains("SHA-256"), "{line}");
}
