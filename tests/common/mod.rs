//! What the native integration tests share (`mod common;`): the CLI under test, loopback ports,
//! child processes killed when dropped, private files; hosts made of network namespaces
//! ([`netns`], for tests/multihost.rs).
#![allow(dead_code)]

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
