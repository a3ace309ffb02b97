//! One MSM at a time, per kernel: G1 and G2 on distinct points with random scalars, the kernels
//! interleaved run by run, median milliseconds printed one line per configuration.
//!
//! ```text
//! cargo run --release --example bench_msm -- --n 65536 --threads 1 --runs 5
//! cargo run --release --example bench_msm -- --n 65536 --kernels native64 --windows 8,9,10,11
//! ```
//!
//! `--kernels arkworks,native64,wasm29` picks the kernels (default: arkworks and native64);
//! `--windows` fixes the window size of the Pippenger kernels, one configuration per size, with
//! each window uncut: how the cost model's constants in `pippenger.rs` were measured (the window
//! the sweep finds fastest, against the one the model picks for n).

use std::time::Instant;

use airprover::prover::msm::pippenger::{window_bits, Cut};
use airprover::prover::msm::testing::walk;
use airprover::prover::msm::{self, native, Kernel};
use ark_bn254::{Fr, G1Projective, G2Projective};
use ark_ec::CurveGroup;
use ark_ff::{BigInt, PrimeField, UniformRand};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (mut n, mut threads, mut runs) = (1usize << 16, 1usize, 5usize);
    let mut kernels: Vec<Kernel> = vec![Kernel::Arkworks, Kernel::Native64];
    let mut windows: Vec<Option<usize>> = vec![None];
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let list = || value.split(',').map(str::trim).map(String::from);
        match flag.as_str() {
            "--n" => n = value.parse().expect("--n N"),
            "--threads" => threads = value.parse().expect("--threads N"),
            "--runs" => runs = value.parse().expect("--runs N"),
            "--kernels" => {
                kernels = list()
                    .map(|k| k.parse().unwrap_or_else(|e| panic!("{e}")))
                    .collect()
            }
            "--windows" => windows = list().map(|w| Some(w.parse().expect("a size"))).collect(),
            _ => panic!("unknown flag {flag}"),
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let scalars: Vec<BigInt<4>> = (0..n).map(|_| Fr::rand(&mut rng).into_bigint()).collect();
    let (g1, g2) = (
        walk::<G1Projective, _>(&mut rng, n),
        walk::<G2Projective, _>(&mut rng, n),
    );
    let (n1, n2) = (native::prepare_g1(&g1), native::prepare_g2(&g2));
    let (w1, w2) = (msm::prepare_g1(&g1), msm::prepare_g2(&g2));
    let mut configs = Vec::new();
    for &kernel in &kernels {
        match kernel {
            Kernel::Arkworks => configs.push((kernel, None)),
            _ => configs.extend(windows.iter().map(|&w| (kernel, w))),
        }
    }
    let mut times = vec![(Vec::new(), Vec::new()); configs.len()];
    let mut check = (None, None);
    for _ in 0..=runs {
        for (i, &(kernel, window)) in configs.iter().enumerate() {
            let cut = Cut {
                chunks: window.map(|_| 1),
                window,
            };
            let start = Instant::now();
            let a = pool.install(|| match kernel {
                Kernel::Arkworks => msm::g1(kernel, &g1, &scalars),
                Kernel::Native64 => native::g1_cut(&n1, &scalars, cut),
                Kernel::Wasm29 => msm::g1_cut(&w1, &scalars, cut),
            });
            let t1 = start.elapsed().as_secs_f64() * 1e3;
            let start = Instant::now();
            let b = pool.install(|| match kernel {
                Kernel::Arkworks => msm::g2(kernel, &g2, &scalars),
                Kernel::Native64 => native::g2_cut(&n2, &scalars, cut),
                Kernel::Wasm29 => msm::g2_cut(&w2, &scalars, cut),
            });
            let t2 = start.elapsed().as_secs_f64() * 1e3;
            let (a, b) = (a.into_affine(), b.into_affine());
            assert_eq!(*check.0.get_or_insert(a), a, "{kernel:?} G1 differs");
            assert_eq!(*check.1.get_or_insert(b), b, "{kernel:?} G2 differs");
            times[i].0.push(t1);
            times[i].1.push(t2);
        }
    }
    println!(
        "n = {n}, {threads} threads, median of {runs} runs after a cold one; the cost model's window: {}",
        window_bits(2 * n, 127)
    );
    for ((kernel, window), (t1, t2)) in configs.iter().zip(times) {
        let window = window.map_or("model".into(), |w| w.to_string());
        println!(
            "{:>9} window {window:>5}: G1 {:8.1} ms  G2 {:8.1} ms",
            kernel.name(),
            median(t1[1..].to_vec()),
            median(t2[1..].to_vec())
        );
    }
}
