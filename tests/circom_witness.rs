//! circom's witness wasm on the native engine (src/circom/engine.rs) against snarkjs: for each
//! fixture circuit (compiled with the project's circom2, witness by `snarkjs wtns calculate`) the
//! witness is equal value by value; every bad input is a coded error naming the signal and never
//! showing a value; a failing circom `assert` is WITNESS_FAILED with circom's template and line.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use airprover::circom::engine::{calculate, WitnessCalculator};
use airprover::circom::input::CircomInput;
use airprover::circom::wtns;
use airprover::field::{fr_to_decimal, modulus, Fr};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The shared circom fixture `name` (tests/interop/circom-fixtures.mjs builds what is missing):
/// its directory, with `circuit_js/circuit.wasm`, `input.json` and snarkjs's `witness.wtns`.
fn fixture(name: &str) -> PathBuf {
    let out = Command::new("node")
        .current_dir(ROOT)
        .args(["tests/interop/circom-fixtures.mjs", name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "circom-fixtures.mjs {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join(name);
    assert!(dir.join("witness.wtns").exists(), "{}", dir.display());
    dir
}

/// A circuit of this test's own, compiled by circom2 into `target/circom-witness/<name>/` (once
/// per source and flags): its witness wasm, and where snarkjs's witness of an input goes.
struct Compiled {
    dir: PathBuf,
    wasm: PathBuf,
}

fn node_module(path: &str) -> String {
    let full = Path::new(ROOT)
        .join("tests/interop/node_modules")
        .join(path);
    assert!(
        full.exists(),
        "{} is missing: npm --prefix tests/interop ci",
        full.display()
    );
    full.to_string_lossy().into_owned()
}

/// Compiles `source` as `name` (with `extra` circom flags), unless the same source was compiled.
fn compile(name: &str, source: &str, extra: &[&str]) -> Compiled {
    // circom2 runs in WASI and sees the working directory only: paths relative to the repo root.
    let rel = format!("target/circom-witness/{name}");
    let dir = Path::new(ROOT).join(&rel);
    let wasm = dir.join("circuit_js/circuit.wasm");
    let stamp = format!("{source}{extra:?}");
    if std::fs::read_to_string(dir.join("stamp")).ok().as_deref() != Some(&stamp) || !wasm.exists()
    {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("circuit.circom"), source).unwrap();
        let out = Command::new("node")
            .current_dir(ROOT)
            .arg(node_module("circom2/cli.js"))
            .arg(format!("{rel}/circuit.circom"))
            .args(["--wasm", "-o", &rel])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "circom2 {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(dir.join("stamp"), stamp).unwrap();
    }
    Compiled { dir, wasm }
}

/// snarkjs's witness of `input` (`snarkjs wtns calculate`), read back with `circom::wtns`.
fn snarkjs_witness(circuit: &Compiled, input: &str, name: &str) -> Vec<Fr> {
    let input_path = circuit.dir.join(format!("{name}.json"));
    let wtns_path = circuit.dir.join(format!("{name}.wtns"));
    std::fs::write(&input_path, input).unwrap();
    let out = Command::new("node")
        .arg(node_module("snarkjs/build/cli.cjs"))
        .args(["wtns", "calculate"])
        .args([&circuit.wasm, &input_path, &wtns_path])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "snarkjs wtns calculate: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    wtns::read(&std::fs::read(wtns_path).unwrap()).unwrap()
}

/// `multi`'s statement without circomlib, for the compiles of this test (another prime).
const MULTI: &str = r#"pragma circom 2.0.0;
template Multi() {
    signal input x;
    signal input y;
    signal input z;
    signal input w;
    signal output s;
    signal output p;
    signal output q;
    s <== x + y;
    p <== x * y;
    q <== p * z + w;
}
component main {public [x, z]} = Multi();
"#;

/// A circuit whose witness fails: an `assert` on line 7 and a constraint on line 9, inside a
/// component, so that circom's message names the template and the line.
const ASSERTS: &str = r#"pragma circom 2.0.0;
template Bounded() {
    signal input x;
    signal input y;
    signal output out;
    // Line 7:
    assert(x < 100);
    out <== x * y;
    out === 42;
}
template Main() {
    signal input x;
    signal input y;
    signal output out;
    component b = Bounded();
    b.x <== x;
    b.y <== y;
    out <== b.out;
}
component main = Main();
"#;

fn refused(wasm: &[u8], input: &str, code: &str) -> String {
    let e = calculate(wasm, input).unwrap_err();
    assert_eq!(e.code(), code, "{input}: {e}");
    e.to_string()
}

#[test]
fn the_witness_equals_snarkjs_value_by_value() {
    for name in ["arrays", "multi", "assert", "claim-d20-k8"] {
        let dir = fixture(name);
        let expected = wtns::read(&std::fs::read(dir.join("witness.wtns")).unwrap()).unwrap();
        let wasm = std::fs::read(dir.join("circuit_js/circuit.wasm")).unwrap();
        let input = std::fs::read_to_string(dir.join("input.json")).unwrap();
        let started = Instant::now();
        let calculator = WitnessCalculator::new(&wasm).unwrap();
        let compiled = started.elapsed();
        let got = calculator
            .calculate(&CircomInput::parse(&input).unwrap())
            .unwrap();
        println!(
            "{name}: {} witness values in {:.1} ms ({:.1} ms compiling a {} KB wasm)",
            got.len(),
            started.elapsed().as_secs_f64() * 1e3,
            compiled.as_secs_f64() * 1e3,
            wasm.len() / 1024
        );
        assert_eq!(got.len(), expected.len(), "{name}");
        for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(fr_to_decimal(a), fr_to_decimal(b), "{name}: value {i}");
        }
        // The one-shot form gives the same.
        assert_eq!(calculate(&wasm, &input).unwrap(), got, "{name}");
    }
}

#[test]
fn a_compiled_calculator_runs_many_inputs() {
    let circuit = compile("multi", MULTI, &[]);
    let calculator = WitnessCalculator::new(&std::fs::read(&circuit.wasm).unwrap()).unwrap();
    for x in 0..5u64 {
        let input =
            CircomInput::parse(&format!(r#"{{"x": {x}, "y": 2, "z": 3, "w": 4}}"#)).unwrap();
        let w = calculator.calculate(&input).unwrap();
        // [1, s, p, q, x, z, y, w]: outputs, then public inputs, then private ones.
        assert_eq!(w[..4], [1, x + 2, 2 * x, 6 * x + 4].map(Fr::from));
    }
    // A run that stopped leaves the next one unharmed (each run has a fresh instance).
    let bad = CircomInput::parse(r#"{"x": 1, "y": [2, 3], "z": 3, "w": 4}"#).unwrap();
    assert!(calculator.calculate(&bad).is_err());
    let good = CircomInput::parse(r#"{"x": 1, "y": 2, "z": 3, "w": 4}"#).unwrap();
    assert_eq!(calculator.calculate(&good).unwrap()[3], Fr::from(10u64));
}

#[test]
fn bad_inputs_name_the_signal_and_never_show_a_value() {
    // `arrays`: m[2][3], v[3].
    let wasm = std::fs::read(fixture("arrays").join("circuit_js/circuit.wasm")).unwrap();
    let m = r#"[[1, 2, 3], [4, 5, 6]]"#;
    let p = modulus().to_str_radix(10);
    for (input, code, starts) in [
        // A signal the circuit does not have (a typo), by name.
        (
            format!(r#"{{"m": {m}, "v": [7, 8, 9], "vv": 123456789}}"#),
            "INVALID_INPUT",
            "INVALID_INPUT: vv: is not an input signal of the circuit",
        ),
        // Too few and too many values of an array signal.
        (
            r#"{"m": [[1, 2, 3]], "v": [7, 8, 9]}"#.into(),
            "INVALID_INPUT",
            "INVALID_INPUT: m: has 3 values: the circuit's signal has 6",
        ),
        (
            format!(r#"{{"m": {m}, "v": [7, 8, 9, 123456789]}}"#),
            "INVALID_INPUT",
            "INVALID_INPUT: v: has 4 values: the circuit's signal has 3",
        ),
        // A missing signal: counted (the wasm has no names).
        (
            format!(r#"{{"m": {m}}}"#),
            "INVALID_INPUT",
            "INVALID_INPUT: circom input: sets 6 of the circuit's 9 input values",
        ),
        // Outside the field: refused (snarkjs would reduce it), named, not shown.
        (
            format!(r#"{{"m": {m}, "v": [7, "{p}", 9]}}"#),
            "INVALID_INPUT",
            "INVALID_INPUT: v[1]: is not in the field",
        ),
        (
            r#"{"m": [[1, 2, 3], [4, 5, "0x123456789g"]], "v": [7, 8, 9]}"#.into(),
            "INVALID_INPUT",
            "INVALID_INPUT: m[1][2]: the value is not hex digits after 0x",
        ),
        (
            r#"{"m": [[1, 2, 3], [4, 5, 6, 123456789]], "v": [7, 8, 9]}"#.into(),
            "INVALID_INPUT",
            "INVALID_INPUT: m[1]: is an array of 4 where m[0] is an array of 3",
        ),
        (
            r#"{"v": 1, "v": 2}"#.into(),
            "INVALID_INPUT",
            "INVALID_INPUT: circom input: has the key \"v\" twice",
        ),
        (
            "{\"v\": 123456789".into(),
            "INVALID_JSON",
            "INVALID_JSON: circom input",
        ),
    ] {
        let e = refused(&wasm, &input, code);
        assert!(e.starts_with(starts), "{input}: {e}");
        assert!(
            !e.contains("12345") && !e.contains(&p[..12]),
            "{e} shows a value"
        );
    }
}

#[test]
fn a_failing_assert_is_witness_failed_with_circoms_template_and_line() {
    // The fixture `assert`: `assert(x != 0)` on line 8 of template NonZero, main itself.
    let wasm = std::fs::read(fixture("assert").join("circuit_js/circuit.wasm")).unwrap();
    assert_eq!(
        refused(&wasm, r#"{"x": 0}"#, "WITNESS_FAILED"),
        "WITNESS_FAILED: circom's witness calculation failed: Assert Failed. Error in template \
         NonZero_0 line: 8"
    );
    // A circuit of components: the failing assert (line 7) or constraint (line 9) inside one.
    let circuit = compile("asserts", ASSERTS, &[]);
    let wasm = std::fs::read(&circuit.wasm).unwrap();
    // snarkjs agrees on the good input.
    let good = r#"{"x": 6, "y": 7}"#;
    let expected = snarkjs_witness(&circuit, good, "good");
    assert_eq!(calculate(&wasm, good).unwrap(), expected);
    // circom names the template and line of the failing statement, then each component above
    // it (here main's line 17, `b.y <== y`: setting the last input ran the component).
    for (input, line) in [(r#"{"x": 101, "y": 1}"#, 7), (r#"{"x": 6, "y": 8}"#, 9)] {
        let e = refused(&wasm, input, "WITNESS_FAILED");
        assert_eq!(
            e,
            format!(
                "WITNESS_FAILED: circom's witness calculation failed: Assert Failed. Error in \
                 template Bounded_0 line: {line}; Error in template Main_1 line: 17"
            )
        );
    }
}

#[test]
fn a_witness_wasm_of_another_prime_is_zkey_unsupported() {
    let circuit = compile("multi-bls12381", MULTI, &["--prime", "bls12381"]);
    let wasm = std::fs::read(&circuit.wasm).unwrap();
    let e = refused(
        &wasm,
        r#"{"x": 1, "y": 2, "z": 3, "w": 4}"#,
        "ZKEY_UNSUPPORTED",
    );
    assert!(e.contains("not BN254's scalar field"), "{e}");
    assert!(e.contains("--prime bn128"), "{e}");
}

#[test]
fn what_is_not_a_circom_witness_wasm_is_refused_clearly() {
    let input = r#"{"x": 1}"#;
    let not_wasm = refused(b"not wasm at all", input, "INVALID_INPUT");
    assert_eq!(
        not_wasm,
        "INVALID_INPUT: witness wasm: is not a WebAssembly module"
    );
    let mut truncated = std::fs::read(compile("multi", MULTI, &[]).wasm).unwrap();
    truncated.truncate(truncated.len() / 2);
    assert!(refused(&truncated, input, "INVALID_INPUT").contains("does not validate"));
    // The empty module: valid wasm, none of circom's exports.
    let empty = b"\0asm\x01\0\0\0";
    assert_eq!(
        refused(empty, input, "INVALID_INPUT"),
        "INVALID_INPUT: witness wasm: is not a circom 2 witness wasm: it has no export getVersion"
    );
    // A module importing what circom's does not: env.f, a function of no parameters.
    let imports_env = [
        &b"\0asm\x01\0\0\0"[..],
        // type section: one type, () -> ()
        &[0x01, 0x04, 0x01, 0x60, 0x00, 0x00],
        // import section: one import "env"."f", function of type 0
        &[
            0x02, 0x09, 0x01, 0x03, b'e', b'n', b'v', 0x01, b'f', 0x00, 0x00,
        ],
    ]
    .concat();
    assert_eq!(
        refused(&imports_env, input, "INVALID_INPUT"),
        "INVALID_INPUT: witness wasm: is not a circom 2 witness wasm: it imports env.f, which \
         circom's witness wasm does not"
    );
}
