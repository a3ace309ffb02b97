//! Native proving time and how it scales with threads, for the circuits other provers are
//! compared on: `square-chain-65536`, `threshold-d20-k8` and `threshold-d20-k32`, with the three MSM
//! kernels (`native64`, the native default; arkworks'; and the 29-bit one the wasm builds use,
//! compiled natively).
//!
//! `cargo bench --bench prove` measures with criterion (flat sampling, ten samples: a proof takes
//! seconds, so criterion's linear sampling would run dozens) on pools of 1, 2, 4, 8 and 16
//! threads, as many of them as the machine has cores (it says which it left out), prints a table
//! with the speed-up over one thread and the parallel efficiency (speed-up / threads) of the whole
//! proof and of its two parts (the witness: synthesis and the constraint check, serial; the QAP
//! and the MSMs, which run at once), and writes it to `target/bench/native.json`.
//! `AIRPROVER_BENCH_CIRCUITS=square-chain-65536,threshold-d20-k8` picks the circuits,
//! `AIRPROVER_BENCH_KERNELS=arkworks` the kernels, `AIRPROVER_BENCH_THREADS=1,2` the pools.
//! Under `cargo test --benches` each benchmark runs once on small circuits, as a smoke test.
//!
//! Keys come from a seeded setup (development keys): setup is not what is measured.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use airprover::circuit::id::CircuitId;
use airprover::claim::Claim;
use airprover::field::Fr;
use airprover::prover::msm::Kernel;
use airprover::prover::prepared::PreparedProvingKey;
use airprover::prover::{prove, setup, Progress, Stage};
use airprover::tree::sample::{sample, DEFAULT_ATTESTATIONS};
use criterion::{Criterion, SamplingMode};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::json;

const BENCH_CIRCUITS: &str = "square-chain-65536,threshold-d20-k8,threshold-d20-k32";
const SMOKE_CIRCUITS: &str = "square-chain-64,threshold-d4-k2";
const THREADS: &str = "1,2,4,8,16";

/// A circuit ready to prove with one kernel: its key and its witness input.
struct Prepared {
    id: CircuitId,
    constraints: usize,
    pk: PreparedProvingKey,
    claim: Option<Claim>,
}

impl Prepared {
    /// The circuit's key (a seeded setup) prepared for each kernel, and its input.
    fn new(id: CircuitId, kernels: &[Kernel]) -> Vec<Self> {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let keys = setup::setup(&id, &mut rng).expect("setup");
        let claim = match id {
            CircuitId::Claim { depth, .. } => {
                let leaves = DEFAULT_ATTESTATIONS.min(1 << depth.min(20));
                let s = sample(&id, leaves, 1).expect("sample");
                Some(Claim::from_value(&s.claim).expect("a sampled claim is valid"))
            }
            CircuitId::SquareChain { .. } => None,
            CircuitId::Circom(_) => unreachable!("the bench's circuits are built-in ones"),
        };
        kernels
            .iter()
            .map(|&kernel| Prepared {
                id,
                constraints: keys.constraints,
                pk: PreparedProvingKey::new(
                    keys.proving_key.clone(),
                    Some(keys.matrices.clone()),
                    kernel,
                )
                .expect("a key just made"),
                claim: claim.clone(),
            })
            .collect()
    }

    /// One proof; returns when the witness part ended (the QAP's start), from `start`.
    fn prove(&self, seed: u64, start: Instant) -> Duration {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut witness = Duration::ZERO;
        let mut marks = |p: &Progress| {
            if p.stage == Stage::Qap {
                witness = start.elapsed();
            }
        };
        match (&self.id, &self.claim) {
            (CircuitId::SquareChain { n }, _) => {
                prove::prove_square_chain(*n, Fr::from(3u64), &self.pk, &mut rng, &mut marks)
                    .expect("prove")
                    .0
            }
            (_, Some(claim)) => {
                prove::prove_claim(claim, &self.pk, &mut rng, &mut marks).expect("prove")
            }
            (_, None) => unreachable!("claim circuits are prepared with a claim"),
        };
        witness
    }
}

/// One measured configuration: medians over the samples.
struct Row {
    circuit: String,
    constraints: usize,
    kernel: &'static str,
    threads: usize,
    /// The whole proof, seconds.
    seconds: f64,
    /// Synthesis and the constraint check, seconds.
    witness: f64,
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(f64::NAN, Duration::as_secs_f64)
}

fn main() {
    let benchmarking =
        std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--test");
    let default = if benchmarking {
        BENCH_CIRCUITS
    } else {
        SMOKE_CIRCUITS
    };
    let list = std::env::var("AIRPROVER_BENCH_CIRCUITS").unwrap_or_else(|_| default.into());
    let circuits: Vec<CircuitId> = list
        .split(',')
        .map(|s| s.trim().parse().expect("a circuit id"))
        .collect();
    let kernels: Vec<Kernel> = std::env::var("AIRPROVER_BENCH_KERNELS")
        .unwrap_or_else(|_| "native64,arkworks,wasm29".into())
        .split(',')
        .map(|k| k.trim().parse().unwrap_or_else(|e| panic!("{e}")))
        .collect();

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wanted: Vec<usize> = std::env::var("AIRPROVER_BENCH_THREADS")
        .unwrap_or_else(|_| THREADS.into())
        .split(',')
        .map(|t| t.trim().parse().expect("a thread count"))
        .collect();
    let (counts, left_out): (Vec<usize>, Vec<usize>) =
        wanted.into_iter().partition(|&t| t <= cores);
    if !left_out.is_empty() {
        println!(
            "this machine has {cores} cores: {left_out:?} threads not measured (more threads than cores measure the scheduler, not the prover)"
        );
    }
    let pools: Vec<(usize, rayon::ThreadPool)> = counts
        .into_iter()
        .map(|n| {
            (
                n,
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .expect("a thread pool"),
            )
        })
        .collect();

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1))
        .without_plots()
        .configure_from_args();

    let mut rows = Vec::new();
    for id in circuits {
        eprintln!("setting up {id} ...");
        let prepared = Prepared::new(id, &kernels);
        let mut group = criterion.benchmark_group(id.to_string());
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
        for p in &prepared {
            let kernel = p.pk.kernel().name();
            for (threads, pool) in &pools {
                let times = RefCell::new(Vec::new());
                let witness = RefCell::new(Vec::new());
                group.bench_function(format!("{kernel}/{threads}-threads"), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for i in 0..iters {
                            let start = Instant::now();
                            let w = pool.install(|| p.prove(i, start));
                            let took = start.elapsed();
                            times.borrow_mut().push(took);
                            witness.borrow_mut().push(w);
                            total += took;
                        }
                        total
                    })
                });
                rows.push(Row {
                    circuit: id.to_string(),
                    constraints: p.constraints,
                    kernel,
                    threads: *threads,
                    seconds: median(times.into_inner()),
                    witness: median(witness.into_inner()),
                });
            }
        }
        group.finish();
    }
    criterion.final_summary();
    report(&rows, cores, benchmarking);
}

fn report(rows: &[Row], cores: usize, benchmarking: bool) {
    // Speed-ups are over the same circuit and kernel on one thread.
    let one = |row: &Row| {
        rows.iter()
            .find(|r| r.circuit == row.circuit && r.kernel == row.kernel && r.threads == 1)
    };
    let speedup = |row: &Row, f: fn(&Row) -> f64| one(row).map_or(f64::NAN, |o| f(o) / f(row));
    let whole = |r: &Row| r.seconds;
    let witness = |r: &Row| r.witness;
    let rest = |r: &Row| r.seconds - r.witness;
    let mut table = format!(
        "\n{:<20} {:>11} {:>9} {:>7} {:>10} {:>8} {:>10} {:>10} {:>10}\n",
        "circuit",
        "constraints",
        "kernel",
        "threads",
        "seconds",
        "speed-up",
        "efficiency",
        "witness eff",
        "qap+msm eff",
    );
    for row in rows {
        let t = row.threads as f64;
        let _ = writeln!(
            table,
            "{:<20} {:>11} {:>9} {:>7} {:>8.3} s {:>7.2}x {:>9.0}% {:>10.0}% {:>10.0}%",
            row.circuit,
            row.constraints,
            row.kernel,
            row.threads,
            row.seconds,
            speedup(row, whole),
            100.0 * speedup(row, whole) / t,
            100.0 * speedup(row, witness) / t,
            100.0 * speedup(row, rest) / t,
        );
    }
    println!("{table}");
    if !benchmarking {
        return;
    }
    let results: Vec<_> = rows
        .iter()
        .map(|row| {
            json!({
                "circuit": row.circuit,
                "constraints": row.constraints,
                "kernel": row.kernel,
                "threads": row.threads,
                "seconds": row.seconds,
                "witnessSeconds": row.witness,
                "speedup": speedup(row, whole),
                "efficiency": speedup(row, whole) / row.threads as f64,
                "witnessEfficiency": speedup(row, witness) / row.threads as f64,
                "qapMsmEfficiency": speedup(row, rest) / row.threads as f64,
            })
        })
        .collect();
    let doc = json!({
        "prover": "airprover native",
        "statistic": "median",
        "cores": cores,
        "cpu": cpu_model(),
        "results": results,
    });
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let path = dir.join("native.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&doc).expect("json") + "\n",
    )
    .expect("write");
    println!("written to {}", path.display());
}

/// The processor's model name (Linux), for the table's caption.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or_else(|| "unknown".into(), |m| m.trim().to_string())
}
