//! The operator's kit as it runs: `serve`, `worker` and `relay` configured by flags, environment
//! variables and a TOML file (`--config`), checked by `--check-config`, logging as JSON or as
//! plain text. Real processes and a real redis-server with a password, which no output may show.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{
    bin, dev_keys, free_port, redis_server, sealing_key, sha256_hex, wait_port, write_mode,
    write_private, Proc,
};

const CIRCUIT: &str = "threshold-d4-k2";
/// Redis's password: in the URL files, the environment and the TOML files; in no output.
const PASSWORD: &str = "op3rator-Secret-pw";
/// anvil's public development key #2 (public knowledge, never a real account's) and its address.
const RELAYER_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const RELAYER_ADDRESS: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/// A directory with what the commands read: development keys, a sealing key, an API keys file, a
/// Redis URL file (with the password, mode 0600), a campaigns file and its relayer key.
fn setup(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("operator-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dev_keys(CIRCUIT, &dir.join("keys"));
    sealing_key(&dir.join("sealing.key"));
    write_private(
        &dir.join("api-keys.json"),
        &json!({ "keys": [{ "name": "ops", "keySha256": sha256_hex("ops-key-0123456789abcdef"),
                            "role": "admin" }] })
        .to_string(),
    );
    redis_url_file(&dir, 6379);
    write_private(&dir.join("relayer-1.key"), RELAYER_KEY);
    std::fs::write(
        dir.join("campaigns.json"),
        json!({ "campaigns": [{ "name": "demo", "chainId": 31337,
            "rpcUrl": "http://127.0.0.1:8545",
            "airdrop": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "circuit": CIRCUIT,
            "keys": dir.join("keys"), "relayers": [{ "file": "relayer-1.key", "address": RELAYER_ADDRESS }] }] })
        .to_string(),
    )
    .unwrap();
    dir
}

/// `dir/redis-url`: the URL of a Redis on `port` with [`PASSWORD`].
fn redis_url_file(dir: &Path, port: u16) {
    write_private(
        &dir.join("redis-url"),
        &format!("redis://:{PASSWORD}@127.0.0.1:{port}/\n"),
    );
}

/// The CLI with none of the caller's AIRPROVER_* variables (nor RUST_LOG), in `dir`.
fn airprover(dir: &Path) -> Command {
    let mut command = Command::new(bin());
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("AIRPROVER_") || text == "RUST_LOG" {
            command.env_remove(&name);
        }
    }
    command
}

/// Runs `airprover ARGS` in `dir` with `env`; asserts that no output shows the password.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = airprover(dir)
        .args(args)
        .envs(env.iter().map(|(k, v)| (OsStr::new(k), OsStr::new(v))))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains(PASSWORD),
        "airprover {args:?} printed the password: {all}"
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one error line of a refused run: exit status 2, stderr starting with `code`.
fn refused(out: &Output, code: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(err.starts_with(code), "expected {code}: {err}");
    err
}

/// The value `--check-config` printed for `name`.
fn checked(out: &Output, name: &str) -> String {
    assert!(out.status.success(), "{out:?}");
    let text = stdout(out);
    assert!(text.contains("configuration OK"), "{text}");
    let prefix = format!("  {name}: ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .to_string()
}

#[test]
fn a_flag_beats_its_environment_variable_which_beats_the_file() {
    let dir = setup("precedence");
    std::fs::write(
        dir.join("airprover.toml"),
        "redis-file = \"redis-url\"\nkeys = \"no-such-keys\"\n\n\
         [serve]\nkeys = \"keys\"\nlisten = \"127.0.0.1:1001\"\ncors-origin = [\"https://a.example\", \"https://b.example\"]\n\n\
         [worker]\nthreads = 3\n",
    )
    .unwrap();
    let serve = |env: &[(&str, &str)], more: &[&str]| {
        let mut args = vec!["serve", "--config", "airprover.toml", "--check-config"];
        args.extend_from_slice(more);
        run(&dir, &args, env)
    };
    assert_eq!(checked(&serve(&[], &[]), "listen"), "127.0.0.1:1001");
    let env = [("AIRPROVER_LISTEN", "127.0.0.1:1002")];
    assert_eq!(checked(&serve(&env, &[]), "listen"), "127.0.0.1:1002");
    let flag = ["--listen", "127.0.0.1:1003"];
    assert_eq!(checked(&serve(&env, &flag), "listen"), "127.0.0.1:1003");
    // No file: the built-in default.
    let out = run(
        &dir,
        &[
            "serve",
            "--check-config",
            "--redis-file",
            "redis-url",
            "--keys",
            "keys",
        ],
        &[],
    );
    assert_eq!(checked(&out, "listen"), "127.0.0.1:8787");
    // The file as AIRPROVER_CONFIG.
    let out = run(
        &dir,
        &["serve", "--check-config"],
        &[("AIRPROVER_CONFIG", "airprover.toml")],
    );
    assert_eq!(checked(&out, "listen"), "127.0.0.1:1001");

    // A repeatable flag: the file's array, or the variable's comma-separated list over it.
    let out = serve(&[], &[]);
    assert_eq!(
        checked(&out, "cors origins"),
        "https://a.example, https://b.example"
    );
    let env = [(
        "AIRPROVER_CORS_ORIGIN",
        "https://c.example,https://d.example",
    )];
    assert_eq!(
        checked(&serve(&env, &[]), "cors origins"),
        "https://c.example, https://d.example"
    );

    // [serve]'s keys over the top level's: serve has its circuits, a worker the top level's
    // missing directory (until its environment says otherwise).
    assert_eq!(
        checked(&serve(&[], &[]), "keys"),
        format!("keys ({CIRCUIT})")
    );
    let worker = |env: &[(&str, &str)]| {
        run(
            &dir,
            &["worker", "--config", "airprover.toml", "--check-config"],
            env,
        )
    };
    let err = refused(&worker(&[]), "KEY_NOT_FOUND");
    assert!(err.contains("no-such-keys"), "{err}");
    let out = worker(&[("AIRPROVER_KEYS", "keys")]);
    assert_eq!(checked(&out, "threads"), "3");
    assert_eq!(
        checked(
            &worker(&[("AIRPROVER_KEYS", "keys"), ("AIRPROVER_THREADS", "2")]),
            "threads"
        ),
        "2"
    );

    // Redis given two ways: the environment's URL wins over the file's --redis-file (no
    // conflict), and it shows with its password hidden.
    let url = format!("redis://:{PASSWORD}@redis.internal:6380/");
    let out = serve(&[("AIRPROVER_REDIS_URL", &url)], &[]);
    assert_eq!(checked(&out, "redis"), "redis://:***@redis.internal:6380/");
    assert_eq!(
        checked(&serve(&[], &[]), "redis"),
        "redis://:***@127.0.0.1:6379/"
    );
    // A switch from the environment: false is off, not "given".
    let out = serve(
        &[
            ("AIRPROVER_DEV_UNSEALED", "false"),
            ("AIRPROVER_SEALING_KEY", "sealing.key"),
        ],
        &[],
    );
    assert!(checked(&out, "sealing key").starts_with("current "));
}

#[test]
fn check_config_accepts_a_good_configuration_and_refuses_a_bad_one_with_its_code() {
    let dir = setup("check");
    std::fs::write(
        dir.join("good.toml"),
        "redis-file = \"redis-url\"\nkeys = \"keys\"\nsealing-key = \"sealing.key\"\n\
         [serve]\napi-keys = \"api-keys.json\"\ncampaigns = \"campaigns.json\"\n\
         [relay]\ncampaigns = \"campaigns.json\"\n",
    )
    .unwrap();
    let check = |command: &str, toml: &str, env: &[(&str, &str)]| {
        run(&dir, &[command, "--config", toml, "--check-config"], env)
    };
    let out = check("serve", "good.toml", &[]);
    assert_eq!(checked(&out, "api keys"), "api-keys.json (1 keys)");
    assert!(checked(&out, "campaigns").contains("demo (chain 31337"));
    let out = check("worker", "good.toml", &[]);
    assert!(checked(&out, "signing key").contains("made on first start"));
    assert!(
        !dir.join(".airprover-worker").exists(),
        "a check makes nothing"
    );
    let out = check("relay", "good.toml", &[]);
    assert!(checked(&out, "campaigns").contains("demo (chain 31337, 1 accounts)"));

    // Each fault alone, on top of the good file: `line` at the top level, or in `[section]`.
    let bad = |name: &str, section: &str, line: &str| {
        let good = std::fs::read_to_string(dir.join("good.toml")).unwrap();
        let header = format!("[{section}]\n");
        let text = if section.is_empty() {
            format!("{line}\n{good}")
        } else if good.contains(&header) {
            good.replace(&header, &format!("{header}{line}\n"))
        } else {
            format!("{good}\n{header}{line}\n")
        };
        std::fs::write(dir.join(name), text).unwrap();
        name.to_string()
    };
    // A typo in [worker] stops serve too.
    let file = bad("typo.toml", "worker", "threds = 2");
    let err = refused(&check("serve", &file, &[]), "INVALID_INPUT");
    assert!(err.contains("[worker] threds"), "{err}");
    let file = bad("unknown.toml", "", "colour = \"blue\"");
    refused(&check("worker", &file, &[]), "INVALID_INPUT");
    let file = bad("type.toml", "serve", "trust-proxy = \"yes\"");
    let err = refused(&check("serve", &file, &[]), "INVALID_INPUT");
    assert!(err.contains("trust-proxy must be true or false"), "{err}");
    let file = bad("number.toml", "worker", "lease-ms = \"soon\"");
    refused(&check("worker", &file, &[]), "INVALID_INPUT");
    // Both ways of giving Redis in the file; neither anywhere.
    let url = format!("redis://:{PASSWORD}@127.0.0.1:6379/");
    let file = bad("both.toml", "", &format!("redis = \"{url}\""));
    let err = refused(&check("serve", &file, &[]), "INVALID_INPUT");
    assert!(err.contains("redis and redis-file together"), "{err}");
    std::fs::write(dir.join("none.toml"), "keys = \"keys\"\n").unwrap();
    refused(&check("worker", "none.toml", &[]), "INVALID_INPUT");
    // Not TOML, on the line holding the password: said by line and column.
    std::fs::write(
        dir.join("syntax.toml"),
        format!("redis = \"{url}\nkeys = 1\n"),
    )
    .unwrap();
    let err = refused(&check("serve", "syntax.toml", &[]), "INVALID_INPUT");
    assert!(err.contains("not TOML at line 1"), "{err}");
    // A wrong password in a URL that does not parse: said without it.
    let file = bad("url.toml", "serve", "redis-file = \"bad-url\"");
    write_private(&dir.join("bad-url"), &format!("http://:{PASSWORD}@x/\n"));
    refused(&check("serve", &file, &[]), "INVALID_INPUT");
    // Files.
    write_mode(
        &dir.join("open-url"),
        &format!("redis://:{PASSWORD}@x:1/\n"),
        0o644,
    );
    let env = [("AIRPROVER_REDIS_FILE", "open-url")];
    let err = refused(&check("serve", "good.toml", &env), "INVALID_INPUT");
    assert!(err.contains("chmod 600"), "{err}");
    write_private(&dir.join("bad.key"), "{ \"keys\": [] }");
    let env = [("AIRPROVER_SEALING_KEY", "bad.key")];
    let err = refused(&check("worker", "good.toml", &env), "INVALID_INPUT");
    assert!(err.contains("sealing-key"), "{err}");
    std::fs::create_dir_all(dir.join("empty-keys")).unwrap();
    let env = [("AIRPROVER_KEYS", "empty-keys")];
    refused(&check("serve", "good.toml", &env), "KEY_NOT_FOUND");
    let env = [("AIRPROVER_API_KEYS", "missing.json")];
    refused(&check("serve", "good.toml", &env), "INVALID_INPUT");
    // API keys without a sealing key: claimants' secrets in plain text.
    let out = run(
        &dir,
        &[
            "serve",
            "--check-config",
            "--redis-file",
            "redis-url",
            "--keys",
            "keys",
            "--api-keys",
            "api-keys.json",
        ],
        &[],
    );
    refused(&out, "INVALID_INPUT: sealing-key");
    // The relayer's key named by a variable that is not set.
    std::fs::write(
        dir.join("env-campaigns.json"),
        std::fs::read_to_string(dir.join("campaigns.json"))
            .unwrap()
            .replace(
                "\"file\":\"relayer-1.key\"",
                "\"env\":\"AIRPROVER_TEST_UNSET_KEY\"",
            ),
    )
    .unwrap();
    let env = [("AIRPROVER_CAMPAIGNS", "env-campaigns.json")];
    let err = refused(
        &check("relay", "good.toml", &env),
        "INVALID_INPUT: campaigns",
    );
    assert!(err.contains("AIRPROVER_TEST_UNSET_KEY"), "{err}");
}

#[test]
fn no_help_or_check_shows_the_redis_password() {
    let dir = setup("secret");
    let url = format!("redis://ops:{PASSWORD}@redis.internal:6380/");
    std::fs::write(
        dir.join("secret.toml"),
        format!("redis = \"{url}\"\nkeys = \"keys\"\n"),
    )
    .unwrap();
    // `run` fails the test on any output holding the password.
    for command in ["serve", "worker", "relay"] {
        run(&dir, &[command, "--config", "secret.toml", "--help"], &[]);
        run(&dir, &[command, "--help"], &[("AIRPROVER_REDIS_URL", &url)]);
    }
    let out = run(
        &dir,
        &["serve", "--config", "secret.toml", "--check-config"],
        &[],
    );
    assert_eq!(
        checked(&out, "redis"),
        "redis://ops:***@redis.internal:6380/"
    );
    let out = run(
        &dir,
        &["worker", "--check-config", "--keys", "keys"],
        &[("AIRPROVER_REDIS_URL", &url)],
    );
    assert_eq!(
        checked(&out, "redis"),
        "redis://ops:***@redis.internal:6380/"
    );
    // TLS files with a plain redis:// URL: refused, naming the URL without its password.
    let out = run(
        &dir,
        &[
            "serve",
            "--config",
            "secret.toml",
            "--check-config",
            "--redis-ca",
            "keys/manifest.json",
        ],
        &[],
    );
    let err = refused(&out, "INVALID_INPUT");
    assert!(err.contains("redis://ops:***@"), "{err}");
}

/// A redis-server with [`PASSWORD`] on a free port, its files in `dir/redis`.
fn redis(dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let redis = redis_server(port, &dir.join("redis"), &["--requirepass", PASSWORD]);
    redis_url_file(dir, port);
    (redis, port)
}

/// `serve` and one worker with their stderr in `dir/serve.log` and `dir/worker.log`, logging as
/// `format`; one claim proved through them with `submit`. Returns both logs once the worker
/// has logged the task's success.
fn prove_one(dir: &Path, format: &str) -> (String, String) {
    let (_redis, _) = redis(dir);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let log = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    let _serve = Proc(
        airprover(dir)
            .args(["serve", "--redis-file", "redis-url", "--keys", "keys"])
            .args(["--sealing-key", "sealing.key", "--listen", &listen])
            .env("AIRPROVER_LOG_FORMAT", format)
            .stderr(log("serve.log"))
            .spawn()
            .unwrap(),
    );
    let _worker = Proc(
        airprover(dir)
            .args(["worker", "--redis-file", "redis-url", "--keys", "keys"])
            .args([
                "--sealing-key",
                "sealing.key",
                "--threads",
                "1",
                "--state",
                "worker",
            ])
            .args(["--log-format", format])
            .stderr(log("worker.log"))
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    let out = airprover(dir)
        .args([
            "sample",
            "--circuit",
            CIRCUIT,
            "--out",
            "claim.json",
            "--attestations",
            "8",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = airprover(dir)
        .args([
            "submit",
            "--server",
            &format!("http://{listen}"),
            "--input",
            "claim.json",
        ])
        .args(["--proof", "proof.json", "--public", "public.json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let worker = std::fs::read_to_string(dir.join("worker.log")).unwrap();
        let serve = std::fs::read_to_string(dir.join("serve.log")).unwrap();
        if worker.contains("task succeeded") && serve.contains("/v1/proofs") {
            for text in [&serve, &worker] {
                assert!(!text.contains(PASSWORD), "a log shows the password: {text}");
            }
            return (serve, worker);
        }
        assert!(
            Instant::now() < deadline,
            "serve: {serve}\nworker: {worker}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn json_logs_are_one_object_a_line_with_requests_and_task_changes() {
    let dir = setup("json");
    let (serve, worker) = prove_one(&dir, "json");
    let parse = |text: &str| -> Vec<Value> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    };
    let serve = parse(&serve);
    let worker = parse(&worker);
    // Redis named with its password hidden.
    assert!(serve.iter().any(|l| l["message"]
        .as_str()
        .is_some_and(|m| m.contains("Redis redis://:***@127.0.0.1:"))));
    // The request log: the submit, with its status and latency, under the request's span.
    let submitted = serve
        .iter()
        .find(|l| l["span"]["path"] == "/v1/proofs" && l["span"]["method"] == "POST")
        .unwrap_or_else(|| panic!("no request line: {serve:?}"));
    assert_eq!(submitted["status"], 202, "{submitted}");
    assert!(
        submitted["latency"].as_str().unwrap().ends_with(" ms"),
        "{submitted}"
    );
    // The worker: the task's state changes with task, circuit, attempt and duration.
    let running = worker
        .iter()
        .find(|l| l["message"] == "task running")
        .unwrap_or_else(|| panic!("{worker:?}"));
    let task = running["task"].as_str().unwrap();
    assert_eq!(running["circuit"], CIRCUIT);
    assert_eq!(running["attempt"], 1);
    let done = worker
        .iter()
        .find(|l| l["message"] == "task succeeded")
        .unwrap();
    assert_eq!(done["task"], task);
    assert_eq!(done["circuit"], CIRCUIT);
    assert_eq!(done["attempt"], 1);
    assert!(done["ms"].as_u64().is_some(), "{done}");
}

#[test]
fn text_logs_written_to_a_file_have_no_colour_codes() {
    let dir = setup("text");
    let (serve, worker) = prove_one(&dir, "text");
    for text in [&serve, &worker] {
        assert!(
            !text.contains('\u{1b}'),
            "an escape code in a log file: {text:?}"
        );
    }
    let request = serve
        .lines()
        .find(|l| l.contains("path=\"/v1/proofs\"") && l.contains("method=POST"))
        .unwrap_or_else(|| panic!("{serve}"));
    assert!(
        request.contains("status=202") && request.contains("latency="),
        "{request}"
    );
    let done = worker
        .lines()
        .find(|l| l.contains("task succeeded"))
        .unwrap();
    for field in [
        "task=",
        &format!("circuit=\"{CIRCUIT}\""),
        "attempt=1",
        "ms=",
    ] {
        assert!(done.contains(field), "{field} in {done}");
    }
}
