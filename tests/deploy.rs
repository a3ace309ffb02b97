//! What `deploy/` ships cannot rot: each systemd unit passes `systemd-analyze verify` (its
//! ExecStart pointed at this build), and each airprover unit's own command line, run with the
//! environment the unit gives it (the sample EnvironmentFile, its Environment= lines, its
//! credentials where LoadCredential= puts them) and the sample TOML, passes `--check-config`.
//! Paths under /etc/airprover and /usr/local/share/airprover are moved into a temporary
//! directory; nothing else of the files is changed.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, write_private};
use serde_json::json;

const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy");
const BINARY: &str = "/usr/local/bin/airprover";
/// anvil's public development key #2 (public knowledge, never a real account's).
const RELAYER_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

fn units() -> Vec<PathBuf> {
    let mut units: Vec<PathBuf> = std::fs::read_dir(DEPLOY)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "service"))
        .collect();
    units.sort();
    assert!(units.len() >= 4, "{units:?}");
    units
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("deploy-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_unit_passes_systemd_analyze_verify() {
    let dir = scratch("verify");
    let mut copies = Vec::new();
    for unit in units() {
        let text = std::fs::read_to_string(&unit).unwrap();
        if text.contains(BINARY) {
            assert!(text.contains(&format!("ExecStart={BINARY} ")), "{unit:?}");
        }
        let copy = dir.join(unit.file_name().unwrap());
        std::fs::write(&copy, text.replace(BINARY, bin())).unwrap();
        copies.push(copy);
    }
    let out = match Command::new("systemd-analyze")
        .arg("verify")
        .args(&copies)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: systemd-analyze is not installed (apt-get install systemd): the units in deploy/ were not verified");
            return;
        }
        Err(e) => panic!("systemd-analyze: {e}"),
    };
    // verify exits 0 on a key it does not know or a value it cannot parse ("…, ignoring"):
    // anything it says about these units is a failure.
    let said: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap()
        .lines()
        .filter(|l| l.contains("airprover") || l.contains(dir.to_str().unwrap()))
        .collect();
    assert!(
        out.status.success() && said.is_empty(),
        "{said:#?}\n{out:?}"
    );
}

/// A unit's settings, by key, in order (comments and section headers left out).
fn settings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('[') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

/// `KEY=value` lines of an environment file.
fn env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn each_units_command_line_passes_check_config_with_the_samples() {
    let dir = scratch("check");
    let etc = dir.join("etc");
    let share = dir.join("share");
    let moved = |text: &str| {
        text.replace(BINARY, bin())
            .replace("/etc/airprover", etc.to_str().unwrap())
            .replace("/usr/local/share/airprover", share.to_str().unwrap())
    };
    // What an operator puts in place (README, "Running it").
    std::fs::create_dir_all(etc.join("secrets")).unwrap();
    std::fs::create_dir_all(&share).unwrap();
    let out = Command::new(bin())
        .args([
            "setup",
            "--circuit",
            "threshold-d4-k2",
            "--seed",
            "1",
            "--out",
        ])
        .arg(share.join("keys"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let secrets = etc.join("secrets");
    let out = Command::new(bin())
        .args(["sealing-key", "new", "--out"])
        .arg(secrets.join("sealing.key"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    write_private(
        &secrets.join("redis-url"),
        "redis://airprover:pw@127.0.0.1:6379/\n",
    );
    write_private(
        &secrets.join("api-keys.json"),
        &json!({ "keys": [{ "name": "ops", "keySha256": "0".repeat(64), "role": "admin" }] })
            .to_string(),
    );
    write_private(&secrets.join("relayer-1.key"), RELAYER_KEY);
    write_private(
        &secrets.join("campaigns.json"),
        &json!({ "campaigns": [{ "name": "demo", "chainId": 31337,
            "rpcUrl": "http://127.0.0.1:8545",
            "airdrop": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "circuit": "threshold-d4-k2",
            "keys": share.join("keys"), "relayers": [{ "file": "relayer-1.key" }] }] })
        .to_string(),
    );
    for sample in ["airprover.toml", "airprover.env"] {
        let text = std::fs::read_to_string(Path::new(DEPLOY).join(sample)).unwrap();
        std::fs::write(etc.join(sample), moved(&text)).unwrap();
    }

    let mut ran = 0;
    for unit in units() {
        let name = unit.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&unit).unwrap();
        if !text.contains(BINARY) {
            continue;
        }
        // The specifiers these units use: the credentials directory, the instance, the host,
        // the state and cache directories' roots.
        let credentials = dir.join(format!("credentials-{name}"));
        std::fs::create_dir_all(&credentials).unwrap();
        let text = moved(&text)
            .replace("%d", credentials.to_str().unwrap())
            .replace("%i", "1")
            .replace("%H", "testhost")
            .replace("%S", dir.join("state").to_str().unwrap())
            .replace("%C", dir.join("cache").to_str().unwrap());
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        let mut command: Vec<String> = Vec::new();
        let mut files = Vec::new();
        for (key, value) in settings(&text) {
            match key.as_str() {
                "ExecStart" => command = value.split_whitespace().map(String::from).collect(),
                "Environment" => {
                    let (k, v) = value.split_once('=').unwrap();
                    env.insert(k.into(), v.into());
                }
                "EnvironmentFile" => files.push(value.trim_start_matches('-').to_string()),
                "LoadCredential" => {
                    // systemd copies it there, readable by the service's user alone.
                    let (id, source) = value.split_once(':').unwrap();
                    let bytes = std::fs::read(source)
                        .unwrap_or_else(|e| panic!("{name}: LoadCredential {source}: {e}"));
                    write_private(&credentials.join(id), std::str::from_utf8(&bytes).unwrap());
                }
                _ => {}
            }
        }
        // systemd: an EnvironmentFile= wins over Environment= for the same variable.
        for file in files {
            env.extend(env_file(&std::fs::read_to_string(file).unwrap()));
        }
        assert_eq!(command[0], bin(), "{name}");
        let mut run = Command::new(&command[0]);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AIRPROVER_") {
                run.env_remove(key);
            }
        }
        let out = run
            .args(&command[1..])
            .arg("--check-config")
            .envs(&env)
            .current_dir(&dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("configuration OK"),
            "{name}: {command:?} with {env:?}: {out:?}"
        );
        ran += 1;
    }
    assert_eq!(ran, 3, "serve, worker and relay");
}

#[test]
fn every_variable_the_samples_name_is_one_a_command_reads() {
    // The commented-out ones too: uncommented, a misspelt name would be silently ignored.
    let mut named = Vec::new();
    for file in std::fs::read_dir(DEPLOY).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("AIRPROVER_") && !named.contains(&word.to_string()) {
                named.push(word.to_string());
            }
        }
    }
    assert!(!named.is_empty());
    let mut help = String::new();
    for command in ["serve", "worker", "relay"] {
        let out = Command::new(bin())
            .args([command, "--help"])
            .output()
            .unwrap();
        help.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    for name in named {
        assert!(
            help.contains(&format!("[env: {name}")),
            "{name} is read by none of serve, worker and relay"
        );
    }
}
