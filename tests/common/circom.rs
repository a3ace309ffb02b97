//! The circom fixtures (tests/interop/circom-fixtures.mjs: circuits compiled with circom2, keys
//! from `snarkjs groth16 setup` on a DEVELOPMENT ptau and one contribution, snarkjs's witness and
//! proof of a sample input), made once per content and shared by every suite.
//!
//! The script runs with this test build's CLI and dev_ptau, at most once per test process; its
//! output directories are written whole, so test binaries running at once do not see half a
//! fixture (`make test` also makes them before the native tests, so this only checks the stamps).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Every circom fixture.
pub const FIXTURES: [&str; 4] = ["arrays", "multi", "assert", "claim-d20-k8"];

/// One fixture's files.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Its directory.
    pub dir: PathBuf,
    /// circom's `.r1cs`.
    pub r1cs: PathBuf,
    /// circom's witness wasm.
    pub wasm: PathBuf,
    /// The Groth16 zkey (setup and one contribution).
    pub zkey: PathBuf,
    /// snarkjs's verification key JSON of that zkey.
    pub vkey: PathBuf,
    /// snarkjs's Solidity verifier of that zkey.
    pub verifier: PathBuf,
    /// A valid input.
    pub input: PathBuf,
    /// snarkjs's witness of `input`.
    pub wtns: PathBuf,
    /// snarkjs's proof of `input`.
    pub proof: PathBuf,
    /// snarkjs's public signals of `input`.
    pub public: PathBuf,
    /// A PLONK zkey (`multi` only).
    pub plonk: Option<PathBuf>,
}

/// Fixture `name`, made if missing.
pub fn fixture(name: &str) -> Fixture {
    assert!(FIXTURES.contains(&name), "no circom fixture {name}");
    let dir = fixtures_dir().join(name);
    let at = |p: &str| dir.join(p);
    let plonk = at("plonk.zkey");
    Fixture {
        r1cs: at("circuit.r1cs"),
        wasm: at("circuit_js/circuit.wasm"),
        zkey: at("circuit.zkey"),
        vkey: at("verification_key.json"),
        verifier: at("verifier.sol"),
        input: at("input.json"),
        wtns: at("witness.wtns"),
        proof: at("proof.json"),
        public: at("public.json"),
        plonk: plonk.exists().then_some(plonk),
        dir,
    }
}

/// The fixtures' directory, every fixture made.
pub fn fixtures_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cli = Path::new(super::bin());
        let dev_ptau = cli
            .parent()
            .expect("the CLI is in a profile directory")
            .join("examples/dev_ptau");
        assert!(
            dev_ptau.exists(),
            "{} is missing: `cargo test` builds the examples (make native-build)",
            dev_ptau.display()
        );
        let interop = root.join("tests/interop");
        if !interop.join("node_modules/circomlib").exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&interop)
                .status()
                .expect("npm runs");
            assert!(status.success(), "npm ci in tests/interop failed");
        }
        let out = Command::new("node")
            .arg(interop.join("circom-fixtures.mjs"))
            .env("AIRPROVER_BIN", cli)
            .env("DEV_PTAU_BIN", &dev_ptau)
            .output()
            .expect("node runs");
        assert!(
            out.status.success(),
            "circom-fixtures.mjs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}
