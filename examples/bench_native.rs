//! The native side of `make bench-browser`: proves one circuit several times with a given number
//! of threads, from the same key files and inputs the browser side uses, and prints one JSON
//! object (per-stage times, key bytes and load time, peak RSS).
//!
//! ```text
//! cargo run --release --example bench_native -- --key K.pk --input IN.json --threads 1 --runs 5
//! ```
//!
//! `--kernel wasm29` proves with the 29-bit kernels the wasm builds use (compiled natively),
//! `--kernel native64` or `arkworks` with one of the native MSM kernels (default: the crate's
//! default kernel), `--schedule sequential` runs the QAP and the MSMs one after another
//! instead of at once (to measure what the concurrent schedule gains).
//!
//! One process per configuration, so that the peak RSS (`VmHWM`) is that configuration's. The
//! first proof is the cold run; the statistics are over the `--runs` after it. Each proof is what
//! a browser worker does with a loaded key: prove, then self-verify
//! ([`airprover::api::prove_with_key`]).

use std::time::Instant;

use airprover::api;
use airprover::circuit::id::CircuitId;
use airprover::circuit::{ClaimCircuit, SquareChain};
use airprover::claim::Claim;
use airprover::field::Fr;
use airprover::prover::keys::{KeyFile, KeyKind, Validation};
use airprover::prover::msm::Kernel;
use airprover::prover::Progress;
use ark_ff::{One, Zero};
use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystem, SynthesisMode};
use serde_json::{json, Value};

struct Args {
    key: String,
    input: String,
    threads: usize,
    runs: usize,
    kernel: Kernel,
    sequential: bool,
}

fn args() -> Args {
    let mut args = Args {
        key: String::new(),
        input: String::new(),
        threads: 1,
        runs: 3,
        kernel: Kernel::default(),
        sequential: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--key" => args.key = value,
            "--input" => args.input = value,
            "--threads" => args.threads = value.parse().expect("--threads N"),
            "--runs" => args.runs = value.parse().expect("--runs N"),
            "--kernel" => args.kernel = value.parse().unwrap_or_else(|e| panic!("--kernel: {e}")),
            "--schedule" => {
                args.sequential = match value.as_str() {
                    "concurrent" => false,
                    "sequential" => true,
                    _ => panic!("--schedule concurrent|sequential"),
                }
            }
            _ => panic!("unknown flag {flag}"),
        }
    }
    assert!(
        !args.key.is_empty() && !args.input.is_empty(),
        "--key and --input are required"
    );
    args
}

/// Peak and current resident set size of this process, from `/proc/self/status` (Linux).
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// How many of the circuit's witness values (the A, B1 and B2 MSMs' scalars; L takes the private
/// ones) are 0 or 1: the MSM kernels leave zeros out and put each one in a window's first bucket.
fn witness_values(circuit: impl ConstraintSynthesizer<Fr>) -> Value {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
    });
    circuit
        .generate_constraints(cs.clone())
        .expect("the circuit synthesizes");
    let cs = cs.borrow().expect("the constraint system");
    let count = |values: &[Fr]| {
        let zero = values.iter().filter(|v| v.is_zero()).count();
        let one = values.iter().filter(|v| v.is_one()).count();
        json!({ "values": values.len(), "zero": zero, "one": one })
    };
    json!({
        "instance": count(&cs.instance_assignment),
        "private": count(&cs.witness_assignment),
    })
}

fn main() {
    let args = args();
    let bytes = std::fs::read(&args.key).expect("read the key");
    let input = std::fs::read_to_string(&args.input).expect("read the input");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .expect("a thread pool");

    let load_start = Instant::now();
    let file = KeyFile::parse(&bytes).expect("a key file");
    let circuit = file.header.circuit;
    file.expect(KeyKind::Proving, &circuit)
        .expect("a proving key");
    let pk = pool.install(|| {
        file.prepared_proving_key(Validation::Unchecked, args.kernel)
            .expect("the key")
    });
    let load_ms = load_start.elapsed().as_secs_f64() * 1e3;
    airprover::prover::prove::set_sequential_msms(args.sequential);

    let claim = match circuit {
        CircuitId::Claim { .. } => Some(Claim::from_json(&input).expect("a claim")),
        CircuitId::SquareChain { .. } => None,
        CircuitId::Circom(_) => {
            eprintln!("bench_native: {circuit} is not a built-in circuit");
            std::process::exit(2);
        }
    };
    let mut runs = Vec::new();
    let mut public = Value::Null;
    for _ in 0..=args.runs {
        let start = Instant::now();
        let mut stages: Vec<(String, f64)> = Vec::new();
        let mut report = |p: &Progress| {
            stages.push((p.stage.name().into(), start.elapsed().as_secs_f64() * 1e3));
        };
        let out = pool.install(|| match &claim {
            Some(claim) => api::prove_with_key(claim, &pk, &mut report),
            None => {
                let (n, x0) = api::square_chain_input(&input).expect("a square-chain input");
                api::prove_square_chain_with_key(n, x0, &pk, &mut report)
            }
        });
        let total = start.elapsed().as_secs_f64() * 1e3;
        let out = out.expect("prove");
        public = json!(out.public_signals);
        runs.push(json!({
            "totalMs": total,
            "stages": stages.iter().map(|(s, at)| json!([s, at])).collect::<Vec<_>>(),
        }));
    }
    let (peak, current) = rss();
    // After the peak was read: the synthesis below is not part of a proof.
    let witness = match &claim {
        Some(claim) => witness_values(ClaimCircuit::new(claim)),
        None => {
            let (n, x0) = api::square_chain_input(&input).expect("a square-chain input");
            witness_values(SquareChain::new(n, x0))
        }
    };
    let doc = json!({
        "circuit": circuit.to_string(),
        "threads": args.threads,
        "kernel": args.kernel.name(),
        "schedule": if args.sequential { "sequential" } else { "concurrent" },
        "keyBytes": bytes.len(),
        "keyLoadMs": load_ms,
        "runs": runs,
        "publicSignals": public,
        "peakRssBytes": peak,
        "rssBytes": current,
        "witness": witness,
    });
    println!("{doc}");
}
