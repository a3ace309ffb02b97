//! Numbers in JSON, exactly as the claim spec reads them, and BN254 `Fr` conversions.
//!
//! A number is a decimal string (digits only), a `0x` hex string, or a JSON number that is a
//! safe integer. Anything else is rejected, and nothing is ever reduced modulo p.

use ark_ff::{BigInteger, PrimeField};
use num_bigint::BigUint;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The BN254 scalar field.
pub use ark_bn254::Fr;

/// Largest integer a JSON number may carry here: 2^53 - 1 (JavaScript's `Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The BN254 scalar field modulus p.
pub fn modulus() -> BigUint {
    BigUint::from_bytes_le(&Fr::MODULUS.to_bytes_le())
}

/// Parses a number as the spec allows: decimal or `0x` hex string, or a safe-integer JSON number.
pub fn parse_uint(value: &Value, field: &str) -> Result<BigUint> {
    match value {
        Value::String(s) => parse_uint_str(s, field),
        Value::Number(n) => match n.as_u64() {
            Some(v) if v <= MAX_SAFE_INTEGER => Ok(BigUint::from(v)),
            Some(_) => Err(Error::input(
                field,
                "JSON number above 2^53 - 1 loses precision: pass it as a string",
            )),
            None if n.is_i64() => Err(Error::input(field, "must not be negative")),
            None => Err(Error::input(field, "must be an integer, not a float")),
        },
        Value::Null => Err(Error::input(field, "is null")),
        other => Err(Error::input(
            field,
            format!("must be a number or a string, not {}", kind(other)),
        )),
    }
}

/// The most digits a number below 2^256 has, leading zeros stripped: decimal and hex. Longer
/// strings are refused before any parsing (decimal parsing is quadratic: a megabyte-long number
/// in an untrusted `proof.json` would cost seconds).
pub const MAX_DECIMAL_DIGITS: usize = 78;
/// See [`MAX_DECIMAL_DIGITS`].
pub const MAX_HEX_DIGITS: usize = 64;
/// Longest string a number may be, leading zeros included: twice the longest number, so that
/// zero-padding stays accepted while a megabyte of zeros does not.
pub const MAX_NUMBER_CHARS: usize = 2 * MAX_DECIMAL_DIGITS + 2;

/// Whether the field holds a secret: its value never appears in an error (the field is named
/// instead).
pub fn is_secret_field(field: &str) -> bool {
    field == "secret" || field.ends_with(".secret")
}

/// The value as an error may show it: never a secret's, and at most 40 characters of others.
fn shown(s: &str, secret: bool) -> String {
    if secret {
        return "the value".to_string();
    }
    match s.char_indices().nth(40) {
        Some((cut, _)) => format!("{:?}... ({} characters)", &s[..cut], s.chars().count()),
        None => format!("{s:?}"),
    }
}

/// Parses a decimal (digits only) or `0x`-prefixed hex string of at most [`MAX_DECIMAL_DIGITS`]
/// (or [`MAX_HEX_DIGITS`]) significant digits.
pub fn parse_uint_str(s: &str, field: &str) -> Result<BigUint> {
    parse_digits(s, field, Spelling::Spec, is_secret_field(field))
}

/// How a number string may be spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// The claim spec's: decimal digits, or `0x` and hex digits.
    Spec,
    /// JavaScript `BigInt`'s (what snarkjs reads a circom input with): also `0X`.
    BigInt,
}

/// A decimal or hex string as `spelling` allows, of at most [`MAX_DECIMAL_DIGITS`] (or
/// [`MAX_HEX_DIGITS`]) significant digits; with `secret`, no error quotes it.
pub(crate) fn parse_digits(
    s: &str,
    field: &str,
    spelling: Spelling,
    secret: bool,
) -> Result<BigUint> {
    if s.is_empty() {
        return Err(Error::input(field, "is an empty string"));
    }
    if s.len() > MAX_NUMBER_CHARS {
        return Err(Error::input(
            field,
            format!(
                "is {} characters long: no number below 2^256 needs more than {MAX_NUMBER_CHARS}",
                s.len()
            ),
        ));
    }
    let hex = match spelling {
        Spelling::Spec => s.strip_prefix("0x"),
        Spelling::BigInt => s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")),
    };
    let (digits, radix, max) = match hex {
        Some(hex) => (hex, 16, MAX_HEX_DIGITS),
        None => (s, 10, MAX_DECIMAL_DIGITS),
    };
    let valid = !digits.is_empty()
        && digits.bytes().all(|b| {
            if radix == 16 {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        });
    if !valid {
        let expected = if radix == 16 {
            "hex digits after 0x"
        } else {
            "a decimal or 0x-hex integer"
        };
        return Err(Error::input(
            field,
            format!("{} is not {expected}", shown(s, secret)),
        ));
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > max {
        return Err(Error::input(
            field,
            format!(
                "is not in the field: it has {} significant digits, more than any number below 2^256",
                significant.len()
            ),
        ));
    }
    if significant.is_empty() {
        return Ok(BigUint::from(0u8));
    }
    BigUint::parse_bytes(significant.as_bytes(), radix)
        .ok_or_else(|| Error::input(field, format!("{} is not a number", shown(s, secret))))
}

/// Parses a field element: a number below the BN254 scalar modulus (never reduced).
pub fn parse_fr(value: &Value, field: &str) -> Result<Fr> {
    let n = parse_uint(value, field)?;
    biguint_to_fr(&n)
        .ok_or_else(|| Error::input(field, "is not below the BN254 scalar field modulus"))
}

/// Parses a number that must be below `2^bits`.
pub fn parse_bounded(value: &Value, field: &str, bits: u32) -> Result<u64> {
    let n = parse_uint(value, field)?;
    bounded(&n, field, bits)
}

/// Checks `n < 2^bits` (bits <= 64) and returns it as `u64`.
pub fn bounded(n: &BigUint, field: &str, bits: u32) -> Result<u64> {
    debug_assert!(bits <= 64);
    if n.bits() > u64::from(bits) {
        return Err(Error::input(field, format!("must be below 2^{bits}")));
    }
    Ok(u64::try_from(n).expect("checked above"))
}

/// `n` as a field element if `n < p`.
pub fn biguint_to_fr(n: &BigUint) -> Option<Fr> {
    (n < &modulus()).then(|| Fr::from(n.clone()))
}

/// The canonical integer of a field element.
pub fn fr_to_biguint(f: &Fr) -> BigUint {
    f.into_bigint().into()
}

/// The 32 little-endian bytes of a field element's canonical integer (how key files and the
/// Poseidon parameter file store elements).
pub fn fr_to_le_bytes(f: &Fr) -> [u8; 32] {
    f.into_bigint()
        .to_bytes_le()
        .try_into()
        .expect("Fr's integer is 32 bytes")
}

/// The element whose canonical integer is these 32 little-endian bytes, if it is below p.
pub fn fr_from_le_bytes(bytes: &[u8; 32]) -> Option<Fr> {
    let mut words = [0u64; 4];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    }
    Fr::from_bigint(ark_ff::BigInt(words))
}

/// Decimal string of a field element (the snarkjs spelling).
pub fn fr_to_decimal(f: &Fr) -> String {
    fr_to_biguint(f).to_str_radix(10)
}

/// `0x`-prefixed, 64-digit hex string of a field element.
pub fn fr_to_hex(f: &Fr) -> String {
    format!("0x{:0>64}", fr_to_biguint(f).to_str_radix(16))
}

/// What kind of JSON value `v` is, as an error says it (`a boolean`).
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `value` as a JSON object, or `INVALID_INPUT` naming `what` and the kind it is instead.
pub(crate) fn json_object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Error::input(what, format!("must be an object, not {}", kind(value))))
}

/// `obj[key]`, or `INVALID_INPUT` saying that `field` (the key's full name) is missing.
pub(crate) fn required<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<&'a Value> {
    obj.get(key)
        .ok_or_else(|| Error::input(field, "is missing"))
}

/// Name of a JSON value's kind, for error messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    kind(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_the_spelling_the_spec_allows() {
        assert_eq!(
            parse_uint(&json!("123"), "x").unwrap(),
            BigUint::from(123u32)
        );
        assert_eq!(
            parse_uint(&json!("000123"), "x").unwrap(),
            BigUint::from(123u32)
        );
        assert_eq!(
            parse_uint(&json!("0xfF"), "x").unwrap(),
            BigUint::from(255u32)
        );
        assert_eq!(
            parse_uint(&json!("0x00ff"), "x").unwrap(),
            BigUint::from(255u32)
        );
        assert_eq!(parse_uint(&json!(42), "x").unwrap(), BigUint::from(42u32));
        assert_eq!(
            parse_uint(&json!(MAX_SAFE_INTEGER), "x").unwrap(),
            BigUint::from(MAX_SAFE_INTEGER)
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            json!(""),
            json!("0x"),
            json!("0X10"),
            json!("-1"),
            json!("+1"),
            json!(" 1"),
            json!("1 "),
            json!("1.0"),
            json!("1e3"),
            json!("0xg"),
            json!(-1),
            json!(1.5),
            json!(MAX_SAFE_INTEGER + 1),
            json!(true),
            json!(null),
            json!([1]),
        ] {
            let err = parse_uint(&bad, "root").unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT", "{bad}");
            assert!(err.to_string().contains("root"), "{err}");
        }
    }

    #[test]
    fn numbers_longer_than_256_bits_can_be_are_refused_before_parsing() {
        let max = BigUint::from(1u8) << 256u32;
        let max = max - 1u8;
        assert_eq!(parse_uint_str(&max.to_str_radix(10), "x").unwrap(), max);
        assert_eq!(
            parse_uint_str(&format!("0x{}", max.to_str_radix(16)), "x").unwrap(),
            max
        );
        // Leading zeros are not digits that count.
        let padded = format!("{}{}", "0".repeat(70), max.to_str_radix(10));
        assert_eq!(parse_uint_str(&padded, "x").unwrap(), max);
        assert_eq!(
            parse_uint_str(&"0".repeat(100), "x").unwrap(),
            BigUint::from(0u8)
        );
        for bad in [
            "1".repeat(79),
            format!("0x{}", "f".repeat(65)),
            "0".repeat(MAX_NUMBER_CHARS + 1),
        ] {
            let err = parse_uint_str(&bad, "pi_a[0]").unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT");
            assert!(
                err.to_string().len() < 200,
                "the error does not echo the number: {err}"
            );
        }
        // Two megabytes: refused at once, not parsed.
        let huge = "7".repeat(2 << 20);
        let started = std::time::Instant::now();
        let err = parse_uint_str(&huge, "pi_a[0]").unwrap_err();
        let took = started.elapsed();
        println!(
            "a 2 MB decimal refused in {:.3} ms",
            took.as_secs_f64() * 1e3
        );
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(took.as_millis() < 500, "{took:?}");
    }

    #[test]
    fn a_secret_is_never_echoed() {
        for bad in [
            "12345 ",
            "0x12g4",
            "-987654321",
            "1.5e9",
            &"9".repeat(200),
            "0x",
        ] {
            let err = parse_uint(&json!(bad), "secret").unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("INVALID_INPUT: secret"), "{text}");
            let digits: String = bad.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            for window in digits.as_bytes().windows(4) {
                let part = std::str::from_utf8(window).unwrap();
                assert!(
                    !text.contains(part),
                    "{text:?} shows part of the secret {bad:?}"
                );
            }
        }
        // Other fields show (a bounded part of) what was wrong.
        assert!(parse_uint(&json!("12x"), "root")
            .unwrap_err()
            .to_string()
            .contains("\"12x\""));
    }

    #[test]
    fn field_elements_are_never_reduced() {
        let p = modulus();
        assert!(parse_fr(&json!(p.to_str_radix(10)), "x").is_err());
        let p_minus_1 = (&p - 1u32).to_str_radix(10);
        let f = parse_fr(&json!(p_minus_1), "x").unwrap();
        assert_eq!(f, -Fr::from(1u64));
        assert_eq!(fr_to_decimal(&f), p_minus_1);
    }

    #[test]
    fn bounds() {
        assert_eq!(
            parse_bounded(&json!("0xffffffff"), "w", 32).unwrap(),
            u32::MAX as u64
        );
        assert!(parse_bounded(&json!("4294967296"), "w", 32).is_err());
        assert_eq!(
            parse_bounded(&json!("18446744073709551615"), "t", 64).unwrap(),
            u64::MAX
        );
        assert!(parse_bounded(&json!("18446744073709551616"), "t", 64).is_err());
    }

    #[test]
    fn hex_round_trip() {
        let f = Fr::from(255u64);
        assert_eq!(fr_to_hex(&f), format!("0x{:0>64}", "ff"));
        assert_eq!(parse_fr(&json!(fr_to_hex(&f)), "x").unwrap(), f);
    }
}
