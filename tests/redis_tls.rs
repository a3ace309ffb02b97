//! Redis across machines (issue 29, item 16): `rediss://` with a private CA and a client
//! certificate, the ACL user that service/redis.conf ships (its rule read from that file), the
//! URL from AIRPROVER_REDIS_URL or a 0600 file, and a password never shown. Certificates are
//! made here with openssl; Redis is Debian's redis-server (built with TLS).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use common::{bin, free_port, sha256_hex, wait_port, write_mode, Proc};

const CIRCUIT: &str = "threshold-d4-k2";
const API_KEY: &str = "tls-test-key-0123456789abcdef";
/// The ACL user's password: never to appear in any output.
const PASSWORD: &str = "Tls-Acl-s3cret-81f2";
const USER: &str = "airprover";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// A CA, a certificate for Redis on 127.0.0.1 (subjectAltName IP:127.0.0.1) and a client
/// certificate, both signed by it, and another CA that signed neither. PEM files in `dir`.
fn certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    for ca in ["ca", "other-ca"] {
        let (key, pem, subject) = (
            format!("{ca}.key"),
            format!("{ca}.pem"),
            format!("/CN=airprover test {ca}"),
        );
        let mut args = vec!["req", "-x509", "-nodes", "-days", "2", "-subj", &subject];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &pem]);
        openssl(dir, &args);
    }
    for (name, ext, serial) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            "1",
        ),
        ("client", "extendedKeyUsage=clientAuth\n", "2"),
    ] {
        let (key, csr, pem, extfile) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        std::fs::write(dir.join(&extfile), ext).unwrap();
        let subject = format!("/CN=airprover test {name}");
        let mut args = vec!["req", "-new", "-nodes", "-subj", &subject];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &csr]);
        openssl(dir, &args);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                serial,
                "-days",
                "2",
                "-extfile",
                &extfile,
                "-out",
                &pem,
            ],
        );
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("client.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

/// The `user` lines of service/redis.conf's "Across machines" block, the password's SHA-256 in
/// place of its placeholder: the ACL file the test's Redis loads.
fn shipped_acl() -> String {
    let conf = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/service/redis.conf"))
        .unwrap();
    let lines: Vec<String> = conf
        .lines()
        .filter_map(|l| l.strip_prefix("# user "))
        .map(|rule| {
            format!(
                "user {}",
                rule.replace(
                    "#<sha256 of the password>",
                    &format!("#{}", sha256_hex(PASSWORD))
                )
            )
        })
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("user default off"))
            && lines
                .iter()
                .any(|l| l.starts_with(&format!("user {USER} on #"))),
        "service/redis.conf ships no ACL for {USER}: {lines:?}"
    );
    lines.join("\n") + "\n"
}

/// A TLS-only Redis (`port 0`) with the shipped ACL; `auth_clients`: no, optional or yes.
struct Redis {
    dir: PathBuf,
    port: u16,
    _proc: Proc,
}

impl Redis {
    fn start(name: &str, auth_clients: &str) -> Redis {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("redis-tls-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("redis")).unwrap();
        certificates(&dir);
        std::fs::write(dir.join("users.acl"), shipped_acl()).unwrap();
        let port = free_port();
        // Absolute paths: redis-server enters --dir before it reads the certificates.
        let at = |name: &str| dir.join(name).display().to_string();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--dir", &at("redis")])
            .args(["--tls-cert-file", &at("server.pem")])
            .args(["--tls-key-file", &at("server.key")])
            .args(["--tls-ca-cert-file", &at("ca.pem")])
            .args(["--tls-auth-clients", auth_clients])
            .args(["--aclfile", &at("users.acl")])
            .stdout(std::fs::File::create(dir.join("redis.log")).unwrap())
            .spawn()
            .expect("redis-server (make tools installs it)");
        let proc = Proc(child);
        wait_port(port);
        Redis {
            dir,
            port,
            _proc: proc,
        }
    }

    fn url(&self, password: &str) -> String {
        format!("rediss://{USER}:{password}@127.0.0.1:{}/", self.port)
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// `airprover ARGS` with `env`, AIRPROVER_REDIS_URL unset unless `env` sets it.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(bin())
            .env_remove("AIRPROVER_REDIS_URL")
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A command that must fail: its output, checked to hold no password.
fn refused(out: Output) -> String {
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(!said.contains(PASSWORD), "the password shown: {said}");
    said
}

fn wait_child(child: &mut Child, seconds: u64) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "still running after {seconds} s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// serve takes the URL from AIRPROVER_REDIS_URL, the worker from a 0600 file, both with the CA;
/// a task is proved end to end as the shipped ACL user (so its rule allows what they send);
/// `workers export-keys` (with a client certificate) and `dead-letters list` work as that user
/// too, and no log holds the password.
#[test]
fn serve_and_a_worker_prove_over_tls_as_the_shipped_acl_user() {
    let redis = Redis::start("prove", "optional");
    let dir = &redis.dir;
    let ca = redis.path("ca.pem");
    let keys = redis.path("keys");
    let out = redis.run(
        &["setup", "--circuit", CIRCUIT, "--seed", "1", "--out", &keys],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = redis.run(
        &[
            "sample",
            "--circuit",
            CIRCUIT,
            "--attestations",
            "12",
            "--seed",
            "3",
            "--out",
            &redis.path("claim.json"),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    write_mode(
        &dir.join("api-keys.json"),
        &json!({ "keys": [{ "name": "tls", "keySha256": sha256_hex(API_KEY), "role": "admin",
            "maxActive": 10, "perMinute": 1000 }] })
        .to_string(),
        0o600,
    );
    write_mode(&dir.join("redis.url"), &redis.url(PASSWORD), 0o600);

    // Task inputs are sealed in Redis (as in production).
    let sealing = redis.path("sealing.key");
    let made = Command::new(bin())
        .args(["sealing-key", "new", "--out", &sealing])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let port = free_port();
    let serve_log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let _serve = Proc(
        Command::new(bin())
            .env("AIRPROVER_REDIS_URL", redis.url(PASSWORD))
            .env("RUST_LOG", "info")
            .args(["serve", "--redis-ca", &ca, "--keys", &redis.path("keys")])
            .args(["--api-keys", &redis.path("api-keys.json")])
            .args(["--sealing-key", &sealing])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stderr(serve_log)
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    let worker_log = std::fs::File::create(dir.join("worker.log")).unwrap();
    let _worker = Proc(
        Command::new(bin())
            .env_remove("AIRPROVER_REDIS_URL")
            .env("RUST_LOG", "info")
            .args(["worker", "--redis-file", &redis.path("redis.url")])
            .args(["--redis-ca", &ca, "--threads", "1", "--id", "tls-worker"])
            .args(["--sealing-key", &sealing])
            .args([
                "--keys",
                &redis.path("keys"),
                "--state",
                &redis.path("worker"),
            ])
            .stderr(worker_log)
            .spawn()
            .unwrap(),
    );

    let mut submit = Command::new(bin())
        .args(["submit", "--server", &format!("http://127.0.0.1:{port}")])
        .args(["--api-key", API_KEY, "--input", &redis.path("claim.json")])
        .args(["--proof", &redis.path("proof.json")])
        .args(["--public", &redis.path("public.json")])
        .args(["--keys", &redis.path("keys")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_child(&mut submit, 180).success(), "submit failed");
    let out = redis.run(
        &[
            "verify",
            "--keys",
            &redis.path("keys"),
            "--circuit",
            CIRCUIT,
            "--proof",
            &redis.path("proof.json"),
            "--public",
            &redis.path("public.json"),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));

    // A client certificate where Redis takes one (optional): offered and accepted.
    let out = redis.run(
        &[
            "workers",
            "export-keys",
            "--redis",
            &redis.url(PASSWORD),
            "--redis-ca",
            &ca,
            "--redis-cert",
            &redis.path("client.pem"),
            "--redis-key",
            &redis.path("client.key"),
            "--out",
            &redis.path("workers.json"),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let workers = std::fs::read_to_string(dir.join("workers.json")).unwrap();
    assert!(workers.contains("tls-worker"), "{workers}");
    let out = redis.run(
        &["dead-letters", "list", "--redis-ca", &ca],
        &[("AIRPROVER_REDIS_URL", &redis.url(PASSWORD))],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");

    for log in ["serve.log", "worker.log"] {
        let said = std::fs::read_to_string(dir.join(log)).unwrap();
        assert!(!said.contains(PASSWORD), "{log} shows the password: {said}");
    }
    let said = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    assert!(
        said.contains(&format!("rediss://{USER}:***@127.0.0.1:{}/", redis.port)),
        "serve names its Redis, password hidden: {said}"
    );
}

/// The wrong CA, no CA (the system's store does not know the test CA), a wrong password, a
/// plain-text client on the TLS port and `#insecure` all fail, each saying why, none showing
/// the password.
#[test]
fn a_wrong_ca_or_password_fails_clearly_without_the_password() {
    let redis = Redis::start("refusals", "no");
    let (ca, other) = (redis.path("ca.pem"), redis.path("other-ca.pem"));
    let list = |url: &str, extra: &[&str]| {
        let mut args = vec!["dead-letters", "list", "--redis", url];
        args.extend(extra);
        redis.run(&args, &[])
    };
    let good = redis.url(PASSWORD);
    let out = list(&good, &["--redis-ca", &ca]);
    assert!(out.status.success(), "{}", text(&out));

    let said = refused(list(&good, &["--redis-ca", &other]));
    assert!(
        said.contains("UnknownIssuer") || said.contains("certificate"),
        "{said}"
    );
    assert!(said.contains(&format!("rediss://{USER}:***@")), "{said}");
    let said = refused(list(&good, &[]));
    assert!(
        said.contains("UnknownIssuer") || said.contains("certificate"),
        "{said}"
    );

    let wrong = "Wrong-s3cret-Pass";
    let said = refused(list(&redis.url(wrong), &["--redis-ca", &ca]));
    assert!(!said.contains(wrong), "{said}");
    assert!(
        said.contains("WRONGPASS") || said.to_lowercase().contains("auth"),
        "{said}"
    );

    let plain = format!("redis://{USER}:{PASSWORD}@127.0.0.1:{}/", redis.port);
    refused(list(&plain, &[]));
    let said = refused(list(&plain, &["--redis-ca", &ca]));
    assert!(said.contains("rediss://"), "{said}");
    let said = refused(list(&format!("{good}#insecure"), &[]));
    assert!(said.contains("--redis-ca"), "{said}");
    let said = refused(list("http://u:Tls-Acl-s3cret-81f2@host/", &[]));
    assert!(said.contains("not a Redis URL"), "{said}");
}

/// With `tls-auth-clients yes` a client without a certificate is turned away, one with the
/// certificate the CA signed gets in; a client key others may read is refused before use.
#[test]
fn a_client_certificate_is_presented_where_redis_requires_one() {
    let redis = Redis::start("client-cert", "yes");
    let (ca, cert, key) = (
        redis.path("ca.pem"),
        redis.path("client.pem"),
        redis.path("client.key"),
    );
    let url = redis.url(PASSWORD);
    let list = |extra: &[&str]| {
        let mut args = vec!["dead-letters", "list", "--redis", &url, "--redis-ca", &ca];
        args.extend(extra);
        redis.run(&args, &[])
    };
    refused(list(&[]));
    let out = list(&["--redis-cert", &cert, "--redis-key", &key]);
    assert!(out.status.success(), "{}", text(&out));
    let said = refused(list(&["--redis-cert", &cert]));
    assert!(said.contains("--redis-key"), "{said}");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let said = refused(list(&["--redis-cert", &cert, "--redis-key", &key]));
    assert!(said.contains("chmod 600"), "{said}");
}

/// The URL file must be private (0600) and hold one URL; the URL comes from one place only;
/// --help shows that AIRPROVER_REDIS_URL is read, never its value.
#[test]
fn the_url_comes_from_the_environment_or_a_private_file() {
    let redis = Redis::start("url-sources", "no");
    let ca = redis.path("ca.pem");
    let file = redis.dir.join("redis.url");
    let file_arg = file.display().to_string();
    let list = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["dead-letters", "list", "--redis-ca", &ca];
        args.extend(extra);
        redis.run(&args, env)
    };

    write_mode(&file, &format!("{}\n", redis.url(PASSWORD)), 0o600);
    let out = list(&["--redis-file", &file_arg], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let env = [("AIRPROVER_REDIS_URL", redis.url(PASSWORD))];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = list(&[], &env);
    assert!(out.status.success(), "{}", text(&out));

    write_mode(&file, &redis.url(PASSWORD), 0o644);
    let said = refused(list(&["--redis-file", &file_arg], &[]));
    assert!(said.contains("chmod 600"), "{said}");
    write_mode(&file, &format!("{0}\n{0}\n", redis.url(PASSWORD)), 0o600);
    let said = refused(list(&["--redis-file", &file_arg], &[]));
    assert!(said.contains("one line"), "{said}");

    let said = refused(list(&[], &[]));
    assert!(said.contains("--redis"), "{said}");
    write_mode(&file, &redis.url(PASSWORD), 0o600);
    refused(list(
        &["--redis", &redis.url(PASSWORD), "--redis-file", &file_arg],
        &[],
    ));

    let out = redis.run(&["worker", "--help"], &env);
    let said = text(&out);
    assert!(said.contains("AIRPROVER_REDIS_URL"), "{said}");
    assert!(
        !said.contains(PASSWORD),
        "--help shows the password: {said}"
    );
}

/// Every command the code sends by name (`redis::cmd("…")`) or from a script
/// (`redis.call('…')`) is in the shipped ACL rule: a command added without it would fail in
/// production with NOPERM (the typed calls are covered by the end-to-end test above).
#[test]
fn the_shipped_acl_rule_names_every_command_the_code_sends() {
    let acl = shipped_acl();
    let rule = acl
        .lines()
        .find(|l| l.starts_with(&format!("user {USER} ")))
        .unwrap()
        .to_lowercase();
    let allowed: Vec<&str> = rule
        .split_whitespace()
        .filter_map(|w| w.strip_prefix('+'))
        .map(|w| w.split('|').next().unwrap())
        .collect();
    let mut sources = Vec::new();
    for dir in ["src/service", "src/relayer"] {
        let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "rs" || e == "lua") {
                sources.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut missing = Vec::new();
    let mut seen = 0;
    for (path, text) in &sources {
        for opening in [
            "redis::cmd(\"",
            "redis.call('",
            "redis.call(\"",
            "redis.pcall('",
            "redis.pcall(\"",
        ] {
            for (at, _) in text.match_indices(opening) {
                let name: String = text[at + opening.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect::<String>()
                    .to_lowercase();
                seen += 1;
                if !allowed.contains(&name.as_str()) {
                    missing.push(format!("{name} ({})", path.display()));
                }
            }
        }
    }
    assert!(seen > 20, "found only {seen} commands: has the code moved?");
    assert!(
        missing.is_empty(),
        "service/redis.conf's ACL rule lacks {missing:?}"
    );
}
