use std::collections::HashMap;

use ark_bn254::{Bn254, Fq12, G1Projective};
use ark_ec::pairing::Pairing;
use ark_ec::CurveGroup;
use ark_ff::Field;
use ark_groth16::Groth16;
use ark_snark::SNARK;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::prover::keys::tests::{tiny_keys, TinySquares};

const SOURCE: VerifierSource<'static> = VerifierSource {
    circuit: "square-chain-3",
    development: true,
};

fn tiny_proof() -> (VerifyingKey, Proof, Vec<Fr>) {
    let (_, pk, vk) = tiny_keys(3, 21);
    let circuit = TinySquares {
        x0: Fr::from(7u64),
        n: 3,
    };
    let public = vec![circuit.x0, circuit.output()];
    let proof = Groth16::<Bn254>::prove(&pk, circuit, &mut ChaCha20Rng::seed_from_u64(2)).unwrap();
    (vk, proof, public)
}

/// The `uint256 private constant NAME = value;` lines of a contract.
fn constants_of(source: &str) -> HashMap<String, BigUint> {
    source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("uint256 private constant "))
        .map(|l| {
            let (name, value) = l.trim_end_matches(';').split_once(" = ").unwrap();
            (name.to_string(), value.parse().unwrap())
        })
        .collect()
}

fn fq(n: &BigUint) -> Fq {
    assert!(n < &BigUint::from(Fq::MODULUS));
    Fq::from(n.clone())
}

fn g1(k: &HashMap<String, BigUint>, name: &str) -> G1Affine {
    let p = G1Affine::new(fq(&k[&format!("{name}_X")]), fq(&k[&format!("{name}_Y")]));
    assert!(p.is_on_curve());
    p
}

/// A G2 constant read back in EIP-197 order (imaginary part first).
fn g2(k: &HashMap<String, BigUint>, name: &str) -> G2Affine {
    let part = |s: &str| fq(&k[&format!("{name}_{s}")]);
    G2Affine::new(
        Fq2::new(part("X0"), part("X1")),
        Fq2::new(part("Y0"), part("Y1")),
    )
}

/// What the contract computes, from its constants and the calldata words, with arkworks: the
/// pairing product must be one exactly when arkworks' own verifier accepts.
fn contract_accepts(source: &str, call: &Calldata) -> bool {
    let k = constants_of(source);
    let r = &k["R"];
    if call.public.iter().any(|s| s >= r) {
        return false;
    }
    let mut vk_x: G1Projective = g1(&k, "IC0").into();
    for (i, s) in call.public.iter().enumerate() {
        vk_x += g1(&k, &format!("IC{}", i + 1)) * Fr::from(s.clone());
    }
    let a = G1Affine::new(fq(&call.a[0]), fq(&call.a[1]));
    let b = G2Affine::new(
        Fq2::new(fq(&call.b[0][1]), fq(&call.b[0][0])),
        Fq2::new(fq(&call.b[1][1]), fq(&call.b[1][0])),
    );
    let c = G1Affine::new(fq(&call.c[0]), fq(&call.c[1]));
    let product = Bn254::multi_pairing(
        [a, g1(&k, "ALPHA"), vk_x.into_affine(), c],
        [
            b,
            g2(&k, "BETA_NEG"),
            g2(&k, "GAMMA_NEG"),
            g2(&k, "DELTA_NEG"),
        ],
    );
    product.0 == Fq12::ONE
}

#[test]
fn the_contract_constants_verify_exactly_the_valid_proofs() {
    let (vk, proof, public) = tiny_proof();
    let source = verifier_contract(&vk, SOURCE).unwrap();
    let call = Calldata::new(&proof, &public);
    assert!(contract_accepts(&source, &call));

    let mut altered = call.clone();
    altered.public[1] += 1u32;
    assert!(!contract_accepts(&source, &altered));

    // s + r is the same scalar to ecMul: the range check is what refuses it.
    let mut wrapped = call.clone();
    wrapped.public[0] += field::modulus();
    assert!(!contract_accepts(&source, &wrapped));

    let other = Calldata::new(
        &tiny_proof_with_x0(8),
        &[Fr::from(8u64), Fr::from(8u64.pow(8))],
    );
    assert!(contract_accepts(&source, &other));
    let mut mixed = other.clone();
    mixed.c = call.c.clone();
    assert!(!contract_accepts(&source, &mixed));
}

fn tiny_proof_with_x0(x0: u64) -> Proof {
    let (_, pk, _) = tiny_keys(3, 21);
    let circuit = TinySquares {
        x0: Fr::from(x0),
        n: 3,
    };
    Groth16::<Bn254>::prove(&pk, circuit, &mut ChaCha20Rng::seed_from_u64(3)).unwrap()
}

#[test]
fn the_contract_has_snarkjs_interface_and_one_range_check_per_signal() {
    let (vk, _, _) = tiny_proof();
    let source = verifier_contract(&vk, SOURCE).unwrap();
    assert!(source.starts_with("// SPDX-License-Identifier: MIT OR Apache-2.0\n"));
    assert!(source.contains("contract Groth16Verifier {"));
    assert!(source.contains("uint256[2] calldata _pA,"));
    assert!(source.contains("uint256[2][2] calldata _pB,"));
    assert!(source.contains("uint256[2] calldata _pC,"));
    assert!(source.contains("uint256[2] calldata _pubSignals"));
    assert!(source.contains(") public view returns (bool ok) {"));
    assert_eq!(source.matches(", R))").count(), 2);
    assert_eq!(source.matches("accumulate(acc, IC").count(), 2);
    assert!(source.contains("IC2_Y = "));
    assert!(!source.contains("IC3_X"));
    assert!(source.contains("DEVELOPMENT KEY"));
    assert!(source.contains("`square-chain-3`"));
    // The pairing input: four pairs, 0x300 bytes, each offset written once.
    assert!(source.contains("staticcall(gas(), 0x08, p, 0x300, p, 0x20)"));
    for at in (0x0c0..0x300).step_by(0x20) {
        if (0x180..0x1c0).contains(&at) || (0x240..0x280).contains(&at) {
            continue;
        }
        assert_eq!(
            source
                .matches(&format!("mstore(add(p, {at:#05x}),"))
                .count(),
            1,
            "{at:#05x}"
        );
    }

    let production = verifier_contract(
        &vk,
        VerifierSource {
            development: false,
            ..SOURCE
        },
    )
    .unwrap();
    assert!(!production.contains("DEVELOPMENT"));
}

#[test]
fn refuses_a_key_without_public_signals() {
    let (mut vk, _, _) = tiny_proof();
    vk.gamma_abc_g1.truncate(1);
    let err = verifier_contract(&vk, SOURCE).unwrap_err();
    assert_eq!(err.code(), "INVALID_PROOF");
    assert!(err.to_string().contains("IC:"), "{err}");
}

#[test]
fn calldata_has_snarkjs_layout() {
    let (_, proof, public) = tiny_proof();
    let call = Calldata::new(&proof, &public);
    let (bx, by) = proof.b.xy().unwrap();
    assert_eq!(call.b[0], [fq_word(&bx.c1), fq_word(&bx.c0)]);
    assert_eq!(call.b[1], [fq_word(&by.c1), fq_word(&by.c0)]);
    assert_eq!(call.public[1], field::fr_to_biguint(&public[1]));

    let text = call.to_snarkjs_text();
    let words: Vec<&str> = text.split('"').skip(1).step_by(2).collect();
    assert_eq!(words.len(), 10);
    for w in &words {
        assert!(w.len() == 66 && w.starts_with("0x"), "{w}");
    }
    assert_eq!(words[2], hex_word(&call.b[0][0]));
    assert_eq!(words[9], format!("0x{:064x}", 7u64.pow(8)));
    let separators: String = text.split('"').step_by(2).collect();
    assert_eq!(separators, "[, ],[[, ],[, ]],[, ],[,]");

    let parsed: Value = serde_json::from_str(&format!("[{text}]")).unwrap();
    let named = call.to_json();
    assert_eq!(parsed[0], named["pA"]);
    assert_eq!(parsed[1], named["pB"]);
    assert_eq!(parsed[2], named["pC"]);
    assert_eq!(parsed[3], named["pubSignals"]);
}

#[test]
fn the_point_at_infinity_is_zero_words() {
    assert_eq!(
        g1_words(&G1Affine::identity()),
        [BigUint::default(), BigUint::default()]
    );
    assert_eq!(hex_word(&BigUint::from(1u8)).len(), 66);
}
