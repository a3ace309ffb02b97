//! snarkjs-compatible JSON: `proof.json`, `public.json` and `verification_key.json`, written
//! exactly as snarkjs 0.7 writes them and read back with every value checked.
//!
//! snarkjs (through ffjavascript) writes a point as its projective coordinates in decimal: G1 as
//! `[x, y, "1"]`, G2 as `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]` (c0 first, unlike the
//! Solidity calldata, which swaps them), and the point at infinity as `["0", "1", "0"]`. An Fq12
//! is `[c0, c1]` of Fq6 `[c0, c1, c2]` of Fq2 `[c0, c1]`: the same tower as arkworks'.
//! References: snarkjs `src/groth16_prove.js`, `src/zkey_export_verificationkey.js`, and
//! ffjavascript `src/wasm_curve.js` (`toObject` / `fromObject`).
//!
//! Reading accepts what ffjavascript's `fromObject` accepts: two or three coordinates, `z = 1`
//! (affine), `z = 0` (infinity), or any other `z` (Jacobian: `x / z^2`, `y / z^3`); numbers as
//! decimal or `0x` strings. Every coordinate must be below the base field modulus and every point
//! on the curve and in the prime-order subgroup; anything else is [`Error::InvalidProof`] naming
//! the field, e.g. `pi_b[1][0]`.

use ark_bn254::{Bn254, Fq, Fq12, Fq2, Fq6, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ec::AffineRepr;
use ark_ff::{Field, One, PrimeField, Zero};
use num_bigint::BigUint;
use serde_json::{json, Value};

use super::{Proof, VerifyingKey};
use crate::error::{Error, Result};
use crate::field::{self, Fr};

/// `protocol` in snarkjs files.
pub const PROTOCOL: &str = "groth16";
/// `curve` in snarkjs files: snarkjs's name for BN254.
pub const CURVE: &str = "bn128";

/// `proof.json`: `{ pi_a, pi_b, pi_c, protocol, curve }`.
pub fn proof_to_json(proof: &Proof) -> Value {
    json!({
        "pi_a": g1_to_json(&proof.a),
        "pi_b": g2_to_json(&proof.b),
        "pi_c": g1_to_json(&proof.c),
        "protocol": PROTOCOL,
        "curve": CURVE,
    })
}

/// `public.json`: the public signals as decimal strings.
pub fn public_to_json(public: &[Fr]) -> Vec<String> {
    public.iter().map(field::fr_to_decimal).collect()
}

/// `verification_key.json`, as `snarkjs zkey export verificationkey` writes it.
pub fn verifying_key_to_json(vk: &VerifyingKey) -> Value {
    let alphabeta = Bn254::pairing(vk.alpha_g1, vk.beta_g2).0;
    json!({
        "protocol": PROTOCOL,
        "curve": CURVE,
        "nPublic": vk.gamma_abc_g1.len().saturating_sub(1),
        "vk_alpha_1": g1_to_json(&vk.alpha_g1),
        "vk_beta_2": g2_to_json(&vk.beta_g2),
        "vk_gamma_2": g2_to_json(&vk.gamma_g2),
        "vk_delta_2": g2_to_json(&vk.delta_g2),
        "vk_alphabeta_12": fq12_to_json(&alphabeta),
        "IC": vk.gamma_abc_g1.iter().map(g1_to_json).collect::<Vec<_>>(),
    })
}

/// A JSON value as snarkjs writes its files: indented by one space, with a final newline.
pub fn to_snarkjs_text(value: &Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b" "),
    );
    value
        .serialize(&mut ser)
        .expect("a JSON value always serialises");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Reads `proof.json`.
pub fn proof_from_json(text: &str) -> Result<Proof> {
    proof_from_value(&document(text, "proof")?)
}

/// Reads a parsed `proof.json`.
pub fn proof_from_value(value: &Value) -> Result<Proof> {
    let obj = object(value, "proof")?;
    tag(obj, "protocol", false, |s| s == PROTOCOL)?;
    tag(obj, "curve", false, is_bn254_name)?;
    Ok(Proof {
        a: g1_from_json(member(obj, "pi_a")?, "pi_a")?,
        b: g2_from_json(member(obj, "pi_b")?, "pi_b")?,
        c: g1_from_json(member(obj, "pi_c")?, "pi_c")?,
    })
}

/// Reads `public.json`: an array of numbers below the scalar field modulus.
pub fn public_from_json(text: &str) -> Result<Vec<Fr>> {
    public_from_value(&document(text, "public")?)
}

/// Reads a parsed `public.json`.
pub fn public_from_value(value: &Value) -> Result<Vec<Fr>> {
    array(value, "public")?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let name = format!("public[{i}]");
            let n = field::parse_uint(v, &name).map_err(as_proof_error)?;
            field::biguint_to_fr(&n)
                .ok_or_else(|| Error::proof(name, "is not below the BN254 scalar field modulus"))
        })
        .collect()
}

/// Reads `verification_key.json`. `vk_alphabeta_12`, when present, must be `e(alpha, beta)`.
pub fn verifying_key_from_json(text: &str) -> Result<VerifyingKey> {
    verifying_key_from_value(&document(text, "verification_key")?)
}

/// Reads a parsed `verification_key.json`.
pub fn verifying_key_from_value(value: &Value) -> Result<VerifyingKey> {
    let obj = object(value, "verification_key")?;
    tag(obj, "protocol", true, |s| s == PROTOCOL)?;
    tag(obj, "curve", true, is_bn254_name)?;
    let ic = array(member(obj, "IC")?, "IC")?;
    let vk = VerifyingKey {
        alpha_g1: g1_from_json(member(obj, "vk_alpha_1")?, "vk_alpha_1")?,
        beta_g2: g2_from_json(member(obj, "vk_beta_2")?, "vk_beta_2")?,
        gamma_g2: g2_from_json(member(obj, "vk_gamma_2")?, "vk_gamma_2")?,
        delta_g2: g2_from_json(member(obj, "vk_delta_2")?, "vk_delta_2")?,
        gamma_abc_g1: ic
            .iter()
            .enumerate()
            .map(|(i, p)| g1_from_json(p, &format!("IC[{i}]")))
            .collect::<Result<_>>()?,
    };
    let n_public = member(obj, "nPublic")?;
    if n_public.as_u64() != ic.len().checked_sub(1).map(|n| n as u64) {
        return Err(Error::proof(
            "nPublic",
            format!(
                "is {n_public}, but IC has {} points (nPublic + 1 expected)",
                ic.len()
            ),
        ));
    }
    if let Some(alphabeta) = obj.get("vk_alphabeta_12") {
        let given = fq12_from_json(alphabeta, "vk_alphabeta_12")?;
        if given != Bn254::pairing(vk.alpha_g1, vk.beta_g2).0 {
            return Err(Error::proof(
                "vk_alphabeta_12",
                "is not e(vk_alpha_1, vk_beta_2)",
            ));
        }
    }
    Ok(vk)
}

fn fq_to_decimal(f: &Fq) -> String {
    BigUint::from(f.into_bigint()).to_str_radix(10)
}

fn fq2_to_json(f: &Fq2) -> Value {
    json!([fq_to_decimal(&f.c0), fq_to_decimal(&f.c1)])
}

fn g1_to_json(p: &G1Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([fq_to_decimal(&x), fq_to_decimal(&y), "1"]),
        None => json!(["0", "1", "0"]),
    }
}

fn g2_to_json(p: &G2Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([fq2_to_json(&x), fq2_to_json(&y), ["1", "0"]]),
        None => json!([["0", "0"], ["1", "0"], ["0", "0"]]),
    }
}

fn fq12_to_json(f: &Fq12) -> Value {
    let fq6 = |g: &Fq6| json!([fq2_to_json(&g.c0), fq2_to_json(&g.c1), fq2_to_json(&g.c2)]);
    json!([fq6(&f.c0), fq6(&f.c1)])
}

fn document(text: &str, what: &str) -> Result<Value> {
    crate::json::parse_strict(text).map_err(|e| match e {
        crate::json::JsonError::Syntax(e) => Error::proof(what, format!("is not valid JSON: {e}")),
        other => other.into_error(what),
    })
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a serde_json::Map<String, Value>> {
    value.as_object().ok_or_else(|| {
        Error::proof(
            field,
            format!("must be an object, not {}", field::kind_of(value)),
        )
    })
}

fn array<'a>(value: &'a Value, field: &str) -> Result<&'a Vec<Value>> {
    value.as_array().ok_or_else(|| {
        Error::proof(
            field,
            format!("must be an array, not {}", field::kind_of(value)),
        )
    })
}

fn member<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Result<&'a Value> {
    obj.get(key).ok_or_else(|| Error::proof(key, "is missing"))
}

/// Checks a string member such as `protocol`; `required` says whether it may be absent.
fn tag(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    required: bool,
    accept: impl Fn(&str) -> bool,
) -> Result<()> {
    match obj.get(key) {
        None if !required => Ok(()),
        None => Err(Error::proof(key, "is missing")),
        Some(Value::String(s)) if accept(s) => Ok(()),
        Some(other) => Err(Error::proof(key, format!("{other} is not supported here"))),
    }
}

/// ffjavascript's `getCurveFromName`: `bn128`, `bn254` or `altbn128`, any case and punctuation.
fn is_bn254_name(name: &str) -> bool {
    let norm: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    matches!(norm.as_str(), "BN128" | "BN254" | "ALTBN128")
}

/// The spec's number parser reports `INVALID_INPUT`; in a proof or key it is `INVALID_PROOF`.
fn as_proof_error(e: Error) -> Error {
    match e {
        Error::InvalidInput { field, reason } => Error::InvalidProof { field, reason },
        other => other,
    }
}

fn fq_from_json(value: &Value, field: &str) -> Result<Fq> {
    let n = field::parse_uint(value, field).map_err(as_proof_error)?;
    let q = BigUint::from(Fq::MODULUS);
    if n >= q {
        return Err(Error::proof(
            field,
            "is not below the BN254 base field modulus",
        ));
    }
    Ok(Fq::from(n))
}

fn fq2_from_json(value: &Value, field: &str) -> Result<Fq2> {
    let [c0, c1] = fixed::<2>(value, field)?;
    Ok(Fq2::new(
        fq_from_json(c0, &format!("{field}[0]"))?,
        fq_from_json(c1, &format!("{field}[1]"))?,
    ))
}

fn fq6_from_json(value: &Value, field: &str) -> Result<Fq6> {
    let [c0, c1, c2] = fixed::<3>(value, field)?;
    Ok(Fq6::new(
        fq2_from_json(c0, &format!("{field}[0]"))?,
        fq2_from_json(c1, &format!("{field}[1]"))?,
        fq2_from_json(c2, &format!("{field}[2]"))?,
    ))
}

fn fq12_from_json(value: &Value, field: &str) -> Result<Fq12> {
    let [c0, c1] = fixed::<2>(value, field)?;
    Ok(Fq12::new(
        fq6_from_json(c0, &format!("{field}[0]"))?,
        fq6_from_json(c1, &format!("{field}[1]"))?,
    ))
}

fn fixed<'a, const N: usize>(value: &'a Value, field: &str) -> Result<[&'a Value; N]> {
    let items = array(value, field)?;
    let refs: Vec<&Value> = items.iter().collect();
    refs.try_into().map_err(|_| {
        Error::proof(
            field,
            format!("must have {N} elements, not {}", items.len()),
        )
    })
}

fn g1_from_json(value: &Value, field: &str) -> Result<G1Affine> {
    point(value, field, fq_from_json)
}

fn g2_from_json(value: &Value, field: &str) -> Result<G2Affine> {
    point(value, field, fq2_from_json)
}

/// A point from `[x, y]` or `[x, y, z]`, read as ffjavascript's `fromObject` reads it.
fn point<P: SWCurveConfig>(
    value: &Value,
    field: &str,
    coordinate: impl Fn(&Value, &str) -> Result<P::BaseField>,
) -> Result<Affine<P>> {
    let items = array(value, field)?;
    if !(2..=3).contains(&items.len()) {
        return Err(Error::proof(
            field,
            format!("must have 2 or 3 coordinates, not {}", items.len()),
        ));
    }
    let x = coordinate(&items[0], &format!("{field}[0]"))?;
    let y = coordinate(&items[1], &format!("{field}[1]"))?;
    let z = match items.get(2) {
        Some(z) => coordinate(z, &format!("{field}[2]"))?,
        None => P::BaseField::ONE,
    };
    let p = if z.is_zero() {
        Affine::identity()
    } else if z.is_one() {
        Affine::new_unchecked(x, y)
    } else {
        let z_inv = z.inverse().expect("z is not zero");
        let z_inv2 = z_inv.square();
        Affine::new_unchecked(x * z_inv2, y * z_inv2 * z_inv)
    };
    if !p.is_on_curve() {
        return Err(Error::proof(field, "is not a point on the BN254 curve"));
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(Error::proof(field, "is not in the prime-order subgroup"));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_groth16::Groth16;
    use ark_snark::SNARK;
    use ark_std::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::prover::keys::tests::{tiny_keys, TinySquares};

    fn tiny_proof() -> (VerifyingKey, Proof, Vec<Fr>) {
        let (_, pk, vk) = tiny_keys(3, 11);
        let circuit = TinySquares {
            x0: Fr::from(5u64),
            n: 3,
        };
        let public = vec![circuit.x0, circuit.output()];
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let proof = Groth16::<Bn254>::prove(&pk, circuit, &mut rng).unwrap();
        assert!(Groth16::<Bn254>::verify(&vk, &public, &proof).unwrap());
        (vk, proof, public)
    }

    #[test]
    fn proof_round_trips_in_snarkjs_shape() {
        let (_, proof, public) = tiny_proof();
        let json = proof_to_json(&proof);
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["pi_a", "pi_b", "pi_c", "protocol", "curve"]);
        assert_eq!(json["pi_a"][2], "1");
        assert_eq!(json["pi_b"][2], json!(["1", "0"]));
        // c0 first.
        assert_eq!(
            json["pi_b"][0][0],
            json!(fq_to_decimal(&proof.b.x().unwrap().c0))
        );
        let text = to_snarkjs_text(&json);
        assert!(text.starts_with("{\n \"pi_a\": [\n  \""), "{text}");
        assert_eq!(proof_from_json(&text).unwrap(), proof);

        let public_text = to_snarkjs_text(&json!(public_to_json(&public)));
        assert_eq!(public_from_json(&public_text).unwrap(), public);
    }

    #[test]
    fn verifying_key_round_trips_and_checks_alphabeta() {
        let (vk, _, _) = tiny_proof();
        let json = verifying_key_to_json(&vk);
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "protocol",
                "curve",
                "nPublic",
                "vk_alpha_1",
                "vk_beta_2",
                "vk_gamma_2",
                "vk_delta_2",
                "vk_alphabeta_12",
                "IC"
            ]
        );
        assert_eq!(json["nPublic"], 2);
        assert_eq!(json["IC"].as_array().unwrap().len(), 3);
        assert_eq!(verifying_key_from_json(&json.to_string()).unwrap(), vk);

        let mut bad = json.clone();
        bad["vk_alphabeta_12"][0][0][0] = json!("1");
        let err = verifying_key_from_value(&bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "INVALID_PROOF: vk_alphabeta_12: is not e(vk_alpha_1, vk_beta_2)"
        );

        let mut bad = json.clone();
        bad["nPublic"] = json!(3);
        assert!(verifying_key_from_value(&bad)
            .unwrap_err()
            .to_string()
            .contains("nPublic"));
    }

    #[test]
    fn reads_jacobian_and_infinity_as_ffjavascript_does() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let p = G1Affine::rand(&mut rng);
        let z = Fq::from(7u64);
        let (x, y) = p.xy().unwrap();
        let jacobian = json!([
            fq_to_decimal(&(x * z.square())),
            fq_to_decimal(&(y * z.square() * z)),
            fq_to_decimal(&z)
        ]);
        assert_eq!(g1_from_json(&jacobian, "p").unwrap(), p);
        let two = json!([fq_to_decimal(&x), fq_to_decimal(&y)]);
        assert_eq!(g1_from_json(&two, "p").unwrap(), p);
        assert!(g1_from_json(&json!(["0", "1", "0"]), "p")
            .unwrap()
            .is_zero());
        assert_eq!(g1_to_json(&G1Affine::identity()), json!(["0", "1", "0"]));
        let inf2 = g2_to_json(&G2Affine::identity());
        assert!(g2_from_json(&inf2, "p").unwrap().is_zero());
        let q = G2Affine::rand(&mut rng);
        assert_eq!(g2_from_json(&g2_to_json(&q), "q").unwrap(), q);
        assert_eq!((q.into_group() + q).into_affine(), (q + q).into_affine());
    }

    fn proof_error(json: &Value) -> String {
        let err = proof_from_value(json).unwrap_err();
        assert_eq!(err.code(), "INVALID_PROOF", "{err}");
        err.to_string()
    }

    #[test]
    fn rejects_malformed_proofs_naming_the_field() {
        let (_, proof, _) = tiny_proof();
        let good = proof_to_json(&proof);

        assert!(proof_from_json("{")
            .unwrap_err()
            .to_string()
            .starts_with("INVALID_PROOF: proof: is not valid JSON"));
        assert!(proof_error(&json!([])).contains("proof: must be an object"));

        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("pi_c");
        assert!(proof_error(&missing).contains("pi_c: is missing"));

        let q = BigUint::from(Fq::MODULUS);
        let mut too_big = good.clone();
        too_big["pi_a"][1] = json!(q.to_str_radix(10));
        assert!(
            proof_error(&too_big).contains("pi_a[1]: is not below the BN254 base field modulus")
        );

        let mut off_curve = good.clone();
        off_curve["pi_a"][0] = json!("1");
        assert!(proof_error(&off_curve).contains("pi_a: is not a point on the BN254 curve"));

        let mut off_curve2 = good.clone();
        off_curve2["pi_b"][1][0] = json!("5");
        assert!(proof_error(&off_curve2).contains("pi_b: is not a point on the BN254 curve"));

        let mut wrong_shape = good.clone();
        wrong_shape["pi_b"][0] = json!(["1"]);
        assert!(proof_error(&wrong_shape).contains("pi_b[0]: must have 2 elements"));

        let mut bad_number = good.clone();
        bad_number["pi_c"][0] = json!("-3");
        assert!(proof_error(&bad_number).contains("pi_c[0]:"));

        let mut wrong_curve = good.clone();
        wrong_curve["curve"] = json!("bls12381");
        assert!(proof_error(&wrong_curve).contains("curve:"));
    }

    #[test]
    fn rejects_points_outside_the_g2_subgroup() {
        // A point on the twist that is not in the r-torsion: BN254's G2 cofactor is not 1.
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let outside = loop {
            let x = Fq2::rand(&mut rng);
            if let Some(p) = G2Affine::get_point_from_x_unchecked(x, false) {
                if !p.is_in_correct_subgroup_assuming_on_curve() {
                    break p;
                }
            }
        };
        let err = g2_from_json(&g2_to_json(&outside), "pi_b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "INVALID_PROOF: pi_b: is not in the prime-order subgroup"
        );
    }

    #[test]
    fn rejects_bad_public_signals() {
        let r = field::modulus();
        for (text, needle) in [
            ("{}", "public: must be an array"),
            ("[\"1\", \"x\"]", "public[1]"),
            (
                &format!("[\"{r}\"]"),
                "public[0]: is not below the BN254 scalar field modulus",
            ),
            ("[1.5]", "public[0]"),
        ] {
            let err = public_from_json(text).unwrap_err();
            assert_eq!(err.code(), "INVALID_PROOF");
            assert!(err.to_string().contains(needle), "{err}");
        }
        assert_eq!(
            public_from_json("[\"0x10\", 3]").unwrap(),
            vec![Fr::from(16u64), Fr::from(3u64)]
        );
    }
}
