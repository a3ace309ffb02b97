//! Native proving time, one thread against every thread, for the circuits other provers are
//! compared on: `square-chain-65536`, `threshold-d20-k8` and `threshold-d20-k32`.
//!
//! `cargo bench --bench prove` measures with criterion (flat sampling, ten samples: a proof takes
//! seconds, so criterion's linear sampling would run dozens), prints a table with the speed-up of
//! all threads over one, and writes it to `target/bench/native.json`.
//! `AIRPROVER_BENCH_CIRCUITS=square-chain-65536,threshold-d20-k8` picks the circuits.
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
use airprover::prover::{prove, setup};
use airprover::tree::sample::{sample, DEFAULT_ATTESTATIONS};
use criterion::{Criterion, SamplingMode};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::json;

const BENCH_CIRCUITS: &str = "square-chain-65536,threshold-d20-k8,threshold-d20-k32";
const SMOKE_CIRCUITS: &str = "square-chain-64,threshold-d4-k2";

/// A circuit ready to prove: its key and its witness input.
struct Prepared {
    id: CircuitId,
    constraints: usize,
    pk: PreparedProvingKey,
    claim: Option<Claim>,
}

impl Prepared {
    fn new(id: CircuitId) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let keys = setup::setup(&id, &mut rng).expect("setup");
        let claim = match id {
            CircuitId::Claim { depth, .. } => {
                let leaves = DEFAULT_ATTESTATIONS.min(1 << depth.min(20));
                let s = sample(&id, leaves, 1).expect("sample");
                Some(Claim::from_value(&s.claim).expect("a sampled claim is valid"))
            }
            CircuitId::SquareChain { .. } => None,
        };
        Prepared {
            id,
            constraints: keys.constraints,
            pk: PreparedProvingKey::new(keys.proving_key, Some(keys.matrices), Kernel::Arkworks)
                .expect("a key just made"),
            claim,
        }
    }

    fn prove(&self, seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        match (&self.id, &self.claim) {
            (CircuitId::SquareChain { n }, _) => {
                prove::prove_square_chain(*n, Fr::from(3u64), &self.pk, &mut rng, &mut |_| {})
                    .expect("prove")
                    .0
            }
            (_, Some(claim)) => {
                prove::prove_claim(claim, &self.pk, &mut rng, &mut |_| {}).expect("prove")
            }
            (_, None) => unreachable!("claim circuits are prepared with a claim"),
        };
    }
}

/// One row of the table.
struct Row {
    circuit: String,
    constraints: usize,
    /// Median seconds per proof, per pool.
    seconds: Vec<(usize, f64)>,
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

    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, all]
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
        let prepared = Prepared::new(id);
        let mut group = criterion.benchmark_group(id.to_string());
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
        let mut seconds = Vec::new();
        for (threads, pool) in &pools {
            let times = RefCell::new(Vec::new());
            group.bench_function(format!("{threads}-threads"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for i in 0..iters {
                        let start = Instant::now();
                        pool.install(|| prepared.prove(i));
                        let took = start.elapsed();
                        times.borrow_mut().push(took);
                        total += took;
                    }
                    total
                })
            });
            seconds.push((*threads, median(times.into_inner())));
        }
        group.finish();
        rows.push(Row {
            circuit: id.to_string(),
            constraints: prepared.constraints,
            seconds,
        });
    }
    criterion.final_summary();
    report(&rows, all, benchmarking);
}

fn report(rows: &[Row], threads: usize, benchmarking: bool) {
    let mut table = format!(
        "\n{:<22} {:>11} {:>12} {:>14} {:>7}\n",
        "circuit",
        "constraints",
        "1 thread",
        format!("{threads} threads"),
        "ratio"
    );
    for row in rows {
        let one = row.seconds.first().map_or(f64::NAN, |s| s.1);
        let many = row.seconds.last().map_or(f64::NAN, |s| s.1);
        let _ = writeln!(
            table,
            "{:<22} {:>11} {:>10.3} s {:>12.3} s {:>6.2}x",
            row.circuit,
            row.constraints,
            one,
            many,
            one / many
        );
    }
    println!("{table}");
    if !benchmarking {
        return;
    }
    let results: Vec<_> = rows
        .iter()
        .map(|row| {
            let one = row.seconds.first().map_or(f64::NAN, |s| s.1);
            let many = row.seconds.last().map_or(f64::NAN, |s| s.1);
            json!({
                "circuit": row.circuit,
                "constraints": row.constraints,
                "oneThreadSeconds": one,
                "allThreadsSeconds": many,
                "threads": threads,
                "speedup": one / many,
            })
        })
        .collect();
    let doc = json!({ "prover": "airprover native (arkworks)", "statistic": "median", "results": results });
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
