//! What the native integration tests share (`mod common;`): the CLI under test, loopback ports,
//! child processes killed when dropped, private files; hosts made of network namespaces
//! ([`netns`], for tests/multihost.rs); the circom fixtures ([`circom`]).
#![allow(dead_code)]

pub mod circom;
pub mod netns;

use std::net::TcpListener;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// The CLI this test build made.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_airprover")
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (20 s at most) until something listens on the loopback `port`.
pub fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SHA-256 of `text`, hex (what a keys file holds for an API key).
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Writes `text` to `path` with the permissions `mode`.
pub fn write_mode(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Writes a file only its owner may read (as serve wants its keys file).
pub fn write_private(path: &Path, text: &str) {
    write_mode(path, text, 0o600);
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// SIGKILL now: nothing of it runs after this.
    pub fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP client for the whole test binary.
pub fn http() -> &'static reqwest::Client {
    static HTTP: std::sync::LazyLock<reqwest::Client> =
        std::sync::LazyLock::new(reqwest::Client::new);
    &HTTP
}

/// `airprover <args> <out>`, a command that writes `out`; it must succeed.
pub fn make(args: &[&str], out: &Path) {
    let done = std::process::Command::new(bin())
        .args(args)
        .arg(out)
        .output()
        .unwrap();
    assert!(done.status.success(), "{args:?}: {done:?}");
}

/// DEVELOPMENT keys of `circuit` in `dir` (`setup --seed 1`: anyone who knows the seed can
/// forge proofs).
pub fn dev_keys(circuit: &str, dir: &Path) {
    make(
        &["setup", "--circuit", circuit, "--seed", "1", "--out"],
        dir,
    );
}

/// A new sealing key file at `path`.
pub fn sealing_key(path: &Path) {
    make(&["sealing-key", "new", "--out"], path);
}

/// The sample claim of `circuit` (12 attestations, seed 3) at `path`.
pub fn sample_claim(circuit: &str, path: &Path) {
    let args = ["sample", "--circuit", circuit, "--attestations", "12"];
    make(&[&args[..], &["--seed", "3", "--out"]].concat(), path);
}

/// redis-server on the loopback `port`, its files in `dir`, no snapshots, with `extra`
/// arguments (`--appendonly yes`, `--requirepass`); returned once it listens.
pub fn redis_server(port: u16, dir: &Path, extra: &[&str]) -> Proc {
    std::fs::create_dir_all(dir).unwrap();
    let port_text = port.to_string();
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port_text, "--bind", "127.0.0.1", "--save", ""])
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (make tools installs it)");
    wait_port(port);
    Proc(child)
}
