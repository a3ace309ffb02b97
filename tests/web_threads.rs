//! Browser tests of the threaded wasm build, in a dedicated worker of a cross-origin isolated
//! page (wasm-bindgen-test-runner sends COOP/COEP by default). Run by `make test`:
//! `wasm-pack test --headless --chrome` with the threaded build's flags (see the Makefile).
#![cfg(all(target_arch = "wasm32", feature = "threads"))]

mod web_common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use airprover::web::threads::ThreadingInfo;
use rayon::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const POOL_THREADS: usize = 2;

/// Starts the rayon pool once for all tests (the global pool can be built only once per module).
async fn pool() {
    thread_local!(static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if STARTED.get() {
        return;
    }
    assert_eq!(
        web_common::global("crossOriginIsolated").as_bool(),
        Some(true),
        "shared memory needs a cross-origin isolated page"
    );
    JsFuture::from(airprover::web::init_thread_pool(POOL_THREADS))
        .await
        .expect("initThreadPool");
    STARTED.set(true);
}

#[wasm_bindgen_test]
async fn page_is_cross_origin_isolated() {
    assert_eq!(
        web_common::global("crossOriginIsolated").as_bool(),
        Some(true)
    );
    assert!(web_common::global("SharedArrayBuffer").is_function());
}

#[wasm_bindgen_test]
async fn pool_has_two_working_threads() {
    pool().await;
    let info = ThreadingInfo::current();
    assert!(info.threaded);
    assert_eq!(info.threads, POOL_THREADS);
    assert_eq!(rayon::current_num_threads(), POOL_THREADS);

    // Every pool thread runs the broadcast closure: two distinct indices prove two live workers.
    let ran_on: BTreeSet<usize> = rayon::broadcast(|ctx| ctx.index()).into_iter().collect();
    assert_eq!(ran_on, (0..POOL_THREADS).collect());

    // Ordinary parallel work runs on pool threads and adds up.
    let seen = Mutex::new(BTreeSet::new());
    let sum: u64 = (0..4096u32)
        .into_par_iter()
        .with_max_len(64)
        .map(|i| {
            seen.lock().unwrap().insert(rayon::current_thread_index());
            spin(i)
        })
        .sum();
    let expected: u64 = (0..4096u32).map(spin).sum();
    assert_eq!(sum, expected);
    let seen = seen.into_inner().unwrap();
    assert!(
        seen.iter().all(Option::is_some),
        "work ran outside the pool: {seen:?}"
    );

    // And it is spread over the threads at the same time: each item waits until every item has
    // started, which only happens when the other pool threads steal theirs. (How short work is
    // shared depends on timing; this does not: a pool that does not share work fails it.)
    let started = AtomicUsize::new(0);
    let ran_on: BTreeSet<Option<usize>> = (0..POOL_THREADS)
        .into_par_iter()
        .with_max_len(1)
        .map(|_| {
            started.fetch_add(1, Ordering::SeqCst);
            let deadline = js_sys::Date::now() + 60_000.0;
            while started.load(Ordering::SeqCst) < POOL_THREADS && js_sys::Date::now() < deadline {
                std::hint::spin_loop();
            }
            rayon::current_thread_index()
        })
        .collect();
    assert_eq!(
        started.load(Ordering::SeqCst),
        POOL_THREADS,
        "the items did not all start"
    );
    assert_eq!(
        ran_on,
        (0..POOL_THREADS).map(Some).collect(),
        "the items did not run on every pool thread at once"
    );
}

/// A little work per item, enough that both pool threads take a share.
fn spin(i: u32) -> u64 {
    let mixed = (0..2000u64).fold(u64::from(i), |acc, k| acc.wrapping_mul(31).wrapping_add(k));
    mixed % 7 + u64::from(i)
}

#[wasm_bindgen_test]
async fn poseidon_matches_circomlib() {
    pool().await;
    web_common::poseidon_matches_circomlib();
}

#[wasm_bindgen_test]
async fn bad_input_is_a_coded_error() {
    pool().await;
    web_common::bad_input_is_a_coded_error();
}

#[wasm_bindgen_test]
async fn setup_prove_verify_on_the_pool() {
    pool().await;
    let ms = web_common::setup_prove_verify();
    web_sys::console::log_1(
        &format!(
            "threaded ({POOL_THREADS} threads): {} proved in {ms:.0} ms",
            web_common::CIRCUIT
        )
        .into(),
    );
}

#[wasm_bindgen_test]
async fn prover_rejects_bad_input() {
    pool().await;
    web_common::prover_rejects_bad_input();
}

#[wasm_bindgen_test]
async fn msm_kernel_matches_arkworks_on_the_pool() {
    pool().await;
    web_common::msm_kernel_matches_arkworks();
}

#[wasm_bindgen_test]
fn circom_witness_matches_snarkjs() {
    web_common::circom_witness_matches_snarkjs();
}

#[wasm_bindgen_test]
fn circom_witness_refusals_are_coded() {
    web_common::circom_witness_refusals_are_coded();
}
