//! Checks shared by the browser tests of both wasm builds (`web_threads.rs`, `web_single.rs`).
#![allow(dead_code)] // each test target uses a subset

use std::cell::RefCell;
use std::rc::Rc;

use airprover::tree::sample::sample;
use airprover::web::hash::poseidon_hash;
use airprover::web::prover::{key_circuit, prove, setup, verify};
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The small claim circuit the browser tests prove.
pub const CIRCUIT: &str = "threshold-d4-k2";

/// The value of `globalThis[name]`.
pub fn global(name: &str) -> JsValue {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Asserts that `err` is a JS `Error` named `AirproverError` with `code`, and returns its message.
pub fn assert_js_error(err: &JsValue, code: &str) -> String {
    let e = err
        .dyn_ref::<js_sys::Error>()
        .unwrap_or_else(|| panic!("not an Error object: {err:?}"));
    assert_eq!(e.name(), "AirproverError");
    assert_eq!(
        Reflect::get(e, &"code".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some(code)
    );
    let message: String = e.message().into();
    assert!(message.starts_with(code), "{message}");
    message
}

/// circomlib's test vector from the claim spec, through the JS-facing export.
pub fn poseidon_matches_circomlib() {
    let inputs = Array::of2(&JsValue::from_f64(1.0), &JsValue::from_str("2"));
    let expected = num_from_hex("115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a");
    assert_eq!(poseidon_hash(inputs).unwrap(), expected);
}

/// Bad input is a thrown `AirproverError` with a code and the field's name, never a panic.
pub fn bad_input_is_a_coded_error() {
    let cases: [(JsValue, &str); 4] = [
        (JsValue::from_f64(1.5), "inputs[0]"),
        (JsValue::from_str("12a"), "inputs[0]"),
        (JsValue::from_f64(-1.0), "inputs[0]"),
        (JsValue::TRUE, "inputs[0]"),
    ];
    for (bad, field) in cases {
        let err = poseidon_hash(Array::of1(&bad)).unwrap_err();
        let message = assert_js_error(&err, "INVALID_INPUT");
        assert!(message.contains(field), "{message}");
    }
    // Above the modulus: rejected, never reduced.
    let p = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    let err = poseidon_hash(Array::of2(&"1".into(), &p.into())).unwrap_err();
    assert!(assert_js_error(&err, "INVALID_INPUT").contains("inputs[1]"));
}

fn num_from_hex(hex: &str) -> String {
    num_bigint::BigUint::parse_bytes(hex.as_bytes(), 16)
        .unwrap()
        .to_str_radix(10)
}

/// `obj[key]`.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A valid claim for [`CIRCUIT`] (the CLI's `sample`, seeded).
pub fn claim_json(seed: u64) -> String {
    sample(&CIRCUIT.parse().unwrap(), 6, seed)
        .unwrap()
        .claim
        .to_string()
}

/// Seeded setup, prove with progress, verify, and a tampered signal that does not verify:
/// the whole JS-facing pipeline. Returns the proving time in ms.
pub fn setup_prove_verify() -> f64 {
    let keys = setup(CIRCUIT, Some(JsValue::from_f64(1.0))).expect("setup");
    let proving_key = get(&keys, "provingKey")
        .unchecked_into::<Uint8Array>()
        .to_vec();
    let verifying_key = get(&keys, "verifyingKey")
        .unchecked_into::<Uint8Array>()
        .to_vec();
    assert!(get(&keys, "constraints").as_f64().unwrap() > 0.0);
    assert_eq!(key_circuit(&proving_key).unwrap(), CIRCUIT);
    // Seeded keys are deterministic.
    let again = setup(CIRCUIT, Some(JsValue::bigint_from_str("1"))).unwrap();
    assert_eq!(
        get(&again, "verifyingKey")
            .unchecked_into::<Uint8Array>()
            .to_vec(),
        verifying_key
    );

    let stages = Rc::new(RefCell::new(Vec::<String>::new()));
    let seen = stages.clone();
    let on_progress = Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
        let fraction = get(&p, "fraction").as_f64().unwrap();
        assert!((0.0..=1.0).contains(&fraction));
        assert!(get(&p, "elapsedMs").as_f64().unwrap() >= 0.0);
        seen.borrow_mut()
            .push(get(&p, "stage").as_string().unwrap());
    });
    let out = prove(
        JsValue::from_str(&claim_json(3)),
        &proving_key,
        Some(
            on_progress
                .as_ref()
                .unchecked_ref::<js_sys::Function>()
                .clone(),
        ),
    )
    .expect("prove");
    let stages = stages.borrow();
    assert_eq!(stages.first().map(String::as_str), Some("synthesis"));
    assert_eq!(stages.last().map(String::as_str), Some("done"));

    let proof = get(&out, "proof");
    assert_eq!(
        get(&proof, "protocol").as_string().as_deref(),
        Some("groth16")
    );
    assert_eq!(get(&proof, "curve").as_string().as_deref(), Some("bn128"));
    let public = get(&out, "publicSignals").unchecked_into::<Array>();
    assert_eq!(public.length(), 5);
    let ms = get(&out, "ms").as_f64().unwrap();
    assert!(ms > 0.0);

    // Objects and JSON text are both accepted.
    assert!(verify(&verifying_key, proof.clone(), public.clone().into()).unwrap());
    let proof_text = js_sys::JSON::stringify(&proof).unwrap();
    assert!(verify(&verifying_key, proof_text.into(), public.clone().into()).unwrap());
    // A different threshold is a different statement.
    let tampered = public.slice(0, 5);
    tampered.set(4, JsValue::from_str("1"));
    assert!(!verify(&verifying_key, proof.clone(), tampered.into()).unwrap());
    // A proving key is not a verifying key.
    let err = verify(&proving_key, proof, public.into()).unwrap_err();
    assert_js_error(&err, "KEY_INTEGRITY");
    ms
}

/// Bad arguments to setup, prove and verify are coded errors, never panics.
pub fn prover_rejects_bad_input() {
    assert_js_error(
        &setup("threshold-d0-k2", None).unwrap_err(),
        "UNKNOWN_CIRCUIT",
    );
    for bad_seed in [JsValue::from_f64(-1.0), JsValue::from_f64(0.5), "7".into()] {
        let err = setup(CIRCUIT, Some(bad_seed)).unwrap_err();
        assert!(assert_js_error(&err, "INVALID_INPUT").contains("seed"));
    }
    assert_js_error(&prove("{".into(), &[], None).unwrap_err(), "INVALID_JSON");
    assert_js_error(
        &prove(JsValue::NULL, &[], None).unwrap_err(),
        "INVALID_INPUT",
    );
    // A valid claim with bytes that are not a key.
    let err = prove(claim_json(3).into(), &[1, 2, 3], None).unwrap_err();
    assert_js_error(&err, "KEY_INTEGRITY");
    // A claim that breaks a spec rule names the field.
    let mut claim: serde_json::Value = serde_json::from_str(&claim_json(3)).unwrap();
    claim["treshold"] = claim["threshold"].take();
    let err = prove(claim.to_string().into(), &[], None).unwrap_err();
    assert!(assert_js_error(&err, "INVALID_INPUT").contains("treshold"));
    let err = verify(&[], "{}".into(), "[]".into()).unwrap_err();
    assert_js_error(&err, "KEY_INTEGRITY");
    // A malformed secret is named, never shown: not in the message, not in any part.
    for bad in ["1234567890123 ", "0x12ab34cd!!", "-98765432109"] {
        let mut claim: serde_json::Value = serde_json::from_str(&claim_json(3)).unwrap();
        claim["secret"] = serde_json::json!(bad);
        let err = prove(claim.to_string().into(), &[], None).unwrap_err();
        let message = assert_js_error(&err, "INVALID_INPUT");
        assert!(message.contains("secret"), "{message}");
        let digits = bad.trim_start_matches("0x").trim_start_matches('-');
        for part in digits.as_bytes().windows(4) {
            let part = std::str::from_utf8(part).unwrap();
            assert!(
                !message.contains(part),
                "{message:?} shows part of the secret"
            );
        }
    }
    // Duplicate keys, named.
    let claim = claim_json(3).replacen('{', r#"{"root": "1","#, 1);
    let err = prove(claim.into(), &[], None).unwrap_err();
    assert!(assert_js_error(&err, "INVALID_INPUT").contains("\"root\" twice"));
}

/// The wasm kernels (29-bit limbs: batch-affine Pippenger with GLV, FFTs) against arkworks in
/// this build: field operations (Fq, Fr, weakly reduced and unnormalised operands, Fq2), the GLV
/// constants and split, the FFTs and the coset quotient of the witness map, then G1 and G2 MSMs
/// of random and edge-case inputs (zero scalars, repeated points, a point and its negation, the
/// identity).
pub fn msm_kernel_matches_arkworks() {
    use airprover::prover::msm::{testing, Kernel};
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
    testing::field_matches_arkworks(&mut rng, 100).unwrap();
    testing::weak_forms_match_arkworks(&mut rng, 100).unwrap();
    testing::fq2_matches_arkworks(&mut rng, 50).unwrap();
    testing::glv_matches_arkworks(&mut rng, 500).unwrap();
    testing::fft_matches_arkworks(&mut rng, &[0, 1, 3, 8]).unwrap();
    testing::msm_matches_arkworks(Kernel::Wasm29, &mut rng, &[0, 1, 2, 3, 13, 100, 1000]).unwrap();
    testing::chunked_msm_matches_arkworks(Kernel::Wasm29, &mut rng, &[1, 40, 300]).unwrap();
}

/// A circom fixture's file (tests/interop/circom-fixtures.mjs; scripts/test-wasm.sh builds
/// `multi` and `assert` and sets AIRPROVER_CIRCOM_FIXTURES before compiling these tests).
macro_rules! circom_fixture {
    ($path:literal) => {
        include_bytes!(concat!(env!("AIRPROVER_CIRCOM_FIXTURES"), "/", $path))
    };
}

fn circom_module(wasm: &[u8]) -> js_sys::WebAssembly::Module {
    js_sys::WebAssembly::Module::new(&Uint8Array::from(wasm).into())
        .expect("circom's wasm compiles")
}

/// circom's witness wasm on the browser's WebAssembly, through the export the worker calls: the
/// witness of `multi` (circomlib's Poseidon, several public outputs and inputs) equals snarkjs's
/// `wtns calculate`, which the native tests (tests/circom_witness.rs) hold the native engine to,
/// value by value; the input as JSON text and as an object with a bigint give the same.
pub fn circom_witness_matches_snarkjs() {
    use airprover::circom::wtns;
    use airprover::web::circom_witness::circom_witness;

    let module = circom_module(circom_fixture!("multi/circuit_js/circuit.wasm"));
    let expected = wtns::read(circom_fixture!("multi/witness.wtns")).unwrap();
    let input = std::str::from_utf8(circom_fixture!("multi/input.json")).unwrap();
    let started = airprover::web::clock::now_ms();
    let got = circom_witness(&module, input.into()).expect("witness");
    let ms = airprover::web::clock::now_ms() - started;
    let got = wtns::read(&got.to_vec()).unwrap();
    assert_eq!(got.len(), expected.len());
    for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(a, b, "value {i}");
    }
    web_sys::console::log_1(
        &format!(
            "circom witness of multi: {} values in {ms:.1} ms",
            got.len()
        )
        .into(),
    );
    // An object, with a bigint where the JSON has a string.
    let object = js_sys::JSON::parse(input).unwrap();
    let secret = get(&object, "secret").unchecked_into::<Array>();
    secret.set(0, JsValue::bigint_from_str("12345678901234567890"));
    let again = circom_witness(&module, object).expect("witness from an object");
    assert_eq!(wtns::read(&again.to_vec()).unwrap(), expected);
}

/// The browser engine's refusals are the native engine's, as `AirproverError`s: a circom assert
/// with its template and line, signals by name and never a value, a module that is not circom's.
pub fn circom_witness_refusals_are_coded() {
    use airprover::web::circom_witness::circom_witness;

    let module = circom_module(circom_fixture!("assert/circuit_js/circuit.wasm"));
    let err = circom_witness(&module, r#"{"x": 0}"#.into()).unwrap_err();
    assert_eq!(
        assert_js_error(&err, "WITNESS_FAILED"),
        "WITNESS_FAILED: circom's witness calculation failed: Assert Failed. Error in template \
         NonZero_0 line: 8"
    );
    // Still usable after a stop: every call has a fresh instance.
    assert!(circom_witness(&module, r#"{"x": 5}"#.into()).is_ok());
    let multi = circom_module(circom_fixture!("multi/circuit_js/circuit.wasm"));
    for (input, starts) in [
        (
            r#"{"offset": 1, "scale": 3, "secret": [1, 2], "sceret": 123456789}"#,
            "INVALID_INPUT: sceret: is not an input signal",
        ),
        (
            r#"{"offset": 1, "scale": 3, "secret": [123456789]}"#,
            "INVALID_INPUT: secret: has 1 values: the circuit's signal has 2",
        ),
        (
            r#"{"offset": 1, "scale": 3}"#,
            "INVALID_INPUT: circom input: sets 2 of the circuit's 4 input values",
        ),
        (
            r#"{"offset": 1, "scale": 3, "secret": [1, "0x123456789z"]}"#,
            "INVALID_INPUT: secret[1]: the value is not hex digits after 0x",
        ),
        (
            r#"{"offset": 1, "scale": 3, "secret": [1, 2], "scale": 4}"#,
            "INVALID_INPUT: circom input: has the key \"scale\" twice",
        ),
    ] {
        let message = assert_js_error(
            &circom_witness(&multi, input.into()).unwrap_err(),
            "INVALID_INPUT",
        );
        assert!(message.starts_with(starts), "{input}: {message}");
        assert!(!message.contains("12345"), "{message} shows a value");
    }
    let err = circom_witness(&multi, JsValue::from_f64(1.0)).unwrap_err();
    assert!(assert_js_error(&err, "INVALID_INPUT").contains("input"));
    // A valid module that is not circom's (the empty one).
    let empty = circom_module(b"\0asm\x01\0\0\0");
    let err = circom_witness(&empty, "{}".into()).unwrap_err();
    assert_eq!(
        assert_js_error(&err, "INVALID_INPUT"),
        "INVALID_INPUT: witness wasm: is not a circom 2 witness wasm: it has no export getVersion"
    );
}
