//! Browser tests of the single-threaded wasm build (no atomics, no rayon), in a dedicated worker.
//! Run by `make test`: `wasm-pack test --headless --chrome` with `--no-default-features`.
#![cfg(all(target_arch = "wasm32", not(feature = "parallel")))]

mod web_common;

use airprover::web::threads::ThreadingInfo;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
fn reports_the_single_threaded_build() {
    assert_eq!(
        ThreadingInfo::current(),
        ThreadingInfo {
            threaded: false,
            threads: 1
        }
    );
}

#[wasm_bindgen_test]
fn poseidon_matches_circomlib() {
    web_common::poseidon_matches_circomlib();
}

#[wasm_bindgen_test]
fn bad_input_is_a_coded_error() {
    web_common::bad_input_is_a_coded_error();
}

#[wasm_bindgen_test]
fn setup_prove_verify() {
    let ms = web_common::setup_prove_verify();
    web_sys::console::log_1(
        &format!(
            "single-threaded: {} proved in {ms:.0} ms",
            web_common::CIRCUIT
        )
        .into(),
    );
}

#[wasm_bindgen_test]
fn prover_rejects_bad_input() {
    web_common::prover_rejects_bad_input();
}

#[wasm_bindgen_test]
fn msm_kernel_matches_arkworks() {
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
