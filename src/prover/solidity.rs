//! Solidity for the EVM: a Groth16 verifier contract for a verifying key, and a proof's calldata
//! in the layout of `snarkjs zkey export soliditycalldata`.
//!
//! The contract has snarkjs's interface (`verifyProof(uint[2] _pA, uint[2][2] _pB, uint[2] _pC,
//! uint[N] _pubSignals) view returns (bool)`), so either verifier takes the same calldata, but its
//! body is written from the math and EIP-196/197 (the BN254 precompiles):
//!
//! ```text
//! e(A, B) * e(alpha, -beta) * e(vk_x, -gamma) * e(C, -delta) == 1,   vk_x = IC_0 + sum s_i IC_i
//! ```
//!
//! beta, gamma and delta are negated here, when the contract is written, so that A, B and C go
//! from calldata to the pairing precompile untouched: nothing is negated at run time, and a
//! coordinate that is not below q reaches the precompile as is and makes it fail (snarkjs's
//! verifier computes `q - A.y mod q`, which lets a non-canonical `A.y` pass).
//!
//! G2 coordinates are in EIP-197 order, the imaginary part first: `(x.c1, x.c0, y.c1, y.c0)`,
//! as snarkjs's calldata swaps them (its JSON files keep `c0` first; see [`super::export`]).

use std::fmt::Write;

use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::PrimeField;
use num_bigint::BigUint;
use serde_json::{json, Value};

use super::{Proof, VerifyingKey};
use crate::error::{Error, Result};
use crate::field::{self, Fr};

/// A proof and its public signals as `verifyProof`'s arguments: 32-byte words, G2 points in
/// EIP-197 order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calldata {
    /// `_pA`: `[x, y]`.
    pub a: [BigUint; 2],
    /// `_pB`: `[[x.c1, x.c0], [y.c1, y.c0]]`.
    pub b: [[BigUint; 2]; 2],
    /// `_pC`: `[x, y]`.
    pub c: [BigUint; 2],
    /// `_pubSignals`, in the circuit's order.
    pub public: Vec<BigUint>,
}

impl Calldata {
    /// The calldata of `proof` with `public`. The point at infinity is `(0, 0)`, as the
    /// precompiles encode it (snarkjs would print its JSON `(0, 1)`; no valid proof has one in
    /// practice).
    pub fn new(proof: &Proof, public: &[Fr]) -> Self {
        Calldata {
            a: g1_words(&proof.a),
            b: g2_words(&proof.b),
            c: g1_words(&proof.c),
            public: public.iter().map(field::fr_to_biguint).collect(),
        }
    }

    /// The text `snarkjs zkey export soliditycalldata` prints (without its final newline):
    /// `["0x..", "0x.."],[["0x..", "0x.."],["0x..", "0x.."]],["0x..", "0x.."],["0x..",...]`.
    /// Wrapped in `[` and `]` it is a JSON array of the four arguments.
    pub fn to_snarkjs_text(&self) -> String {
        let pair = |p: &[BigUint; 2]| format!("[{}, {}]", word(&p[0]), word(&p[1]));
        let public: Vec<String> = self.public.iter().map(word).collect();
        format!(
            "{},[{},{}],{},[{}]",
            pair(&self.a),
            pair(&self.b[0]),
            pair(&self.b[1]),
            pair(&self.c),
            public.join(",")
        )
    }

    /// The four arguments by name, as `0x` hex strings of 64 digits:
    /// `{ pA, pB, pC, pubSignals }` (`BigInt(s)` of each is what viem expects; ethers takes the
    /// strings as they are).
    pub fn to_json(&self) -> Value {
        let hex = |p: &[BigUint; 2]| json!([hex_word(&p[0]), hex_word(&p[1])]);
        json!({
            "pA": hex(&self.a),
            "pB": [hex(&self.b[0]), hex(&self.b[1])],
            "pC": hex(&self.c),
            "pubSignals": self.public.iter().map(hex_word).collect::<Vec<_>>(),
        })
    }
}

/// Where a verifier contract comes from, for its header comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifierSource<'a> {
    /// The circuit id.
    pub circuit: &'a str,
    /// Development keys (`setup --seed`): the contract then says, in capitals, not to deploy it
    /// where anything is at stake.
    pub development: bool,
}

/// The name of the contract [`verifier_contract`] writes: snarkjs's, so that it is a drop-in
/// replacement.
pub const VERIFIER_CONTRACT: &str = "Groth16Verifier";

/// The Solidity source of a Groth16 verifier for `vk`. A key without public inputs is refused
/// (Solidity has no `uint[0]`).
pub fn verifier_contract(vk: &VerifyingKey, source: VerifierSource<'_>) -> Result<String> {
    let n = vk.gamma_abc_g1.len().saturating_sub(1);
    if n == 0 {
        return Err(Error::proof(
            "IC",
            "has no point for a public signal: a Solidity verifier needs at least one",
        ));
    }
    let mut s = String::new();
    header(&mut s, source, n);
    constants(&mut s, vk);
    verify_function(&mut s, n);
    s.push_str("}\n");
    Ok(s)
}

fn header(s: &mut String, source: VerifierSource<'_>, n: usize) {
    let circuit = source.circuit;
    let version = env!("CARGO_PKG_VERSION");
    s.push_str("// SPDX-License-Identifier: MIT OR Apache-2.0\n");
    let _ = writeln!(
        s,
        "// Written by airprover {version} (`airprover export-verifier`) from the verifying key of\n\
         // `{circuit}`. Do not edit: export it again from the key."
    );
    if source.development {
        s.push_str(
            "//\n\
             // DEVELOPMENT KEY (made by `setup --seed`): anyone who knows the seed can forge proofs\n\
             // that this contract accepts. Never deploy it where anything is at stake; use keys from\n\
             // a phase-2 ceremony instead.\n",
        );
    }
    let _ = write!(
        s,
        "pragma solidity >=0.8.13 <0.9.0;\n\
         \n\
         /// @title Groth16 verifier (BN254) for the airprover circuit `{circuit}`\n\
         /// @notice `verifyProof` takes the calldata of `airprover calldata` (the layout of\n\
         /// `snarkjs zkey export soliditycalldata`) and returns whether the proof verifies for the\n\
         /// {n} public signals. It returns false, never reverts, on a proof that does not verify.\n\
         contract {VERIFIER_CONTRACT} {{\n"
    );
}

fn constants(s: &mut String, vk: &VerifyingKey) {
    let r = field::modulus();
    let _ = write!(
        s,
        "    // Public signals must be below the scalar field modulus r: ecMul reduces its scalar\n\
         \x20   // modulo r, so s and s + r would both verify, as two different signals (a second\n\
         \x20   // nullifier for one proof).\n\
         \x20   uint256 private constant R = {r};\n\
         \n\
         \x20   // The verifying key. G2 points in EIP-197 order (x imaginary, x real, y imaginary,\n\
         \x20   // y real). beta, gamma and delta are negated, so that the check\n\
         \x20   //   e(A, B) * e(alpha, -beta) * e(vk_x, -gamma) * e(C, -delta) == 1\n\
         \x20   // takes A, B and C from calldata as they are.\n"
    );
    g1_constants(s, "ALPHA", &vk.alpha_g1);
    g2_constants(s, "BETA_NEG", &-vk.beta_g2);
    g2_constants(s, "GAMMA_NEG", &-vk.gamma_g2);
    g2_constants(s, "DELTA_NEG", &-vk.delta_g2);
    for (i, p) in vk.gamma_abc_g1.iter().enumerate() {
        g1_constants(s, &format!("IC{i}"), p);
    }
    s.push('\n');
}

fn g1_constants(s: &mut String, name: &str, p: &G1Affine) {
    let [x, y] = g1_words(p);
    let _ = writeln!(s, "    uint256 private constant {name}_X = {x};");
    let _ = writeln!(s, "    uint256 private constant {name}_Y = {y};");
}

fn g2_constants(s: &mut String, name: &str, p: &G2Affine) {
    let [[x1, x0], [y1, y0]] = g2_words(p);
    let _ = writeln!(s, "    uint256 private constant {name}_X1 = {x1};");
    let _ = writeln!(s, "    uint256 private constant {name}_X0 = {x0};");
    let _ = writeln!(s, "    uint256 private constant {name}_Y1 = {y1};");
    let _ = writeln!(s, "    uint256 private constant {name}_Y0 = {y0};");
}

/// `verifyProof`: the pairing input is built in free memory, four pairs of 0xc0 bytes:
/// `(A, B)` at 0x000, `(alpha, -beta)` at 0x0c0, `(vk_x, -gamma)` at 0x180, `(C, -delta)` at
/// 0x240. `vk_x` is accumulated in place, with the ecMul scratch where `-gamma` goes afterwards.
fn verify_function(s: &mut String, n: usize) {
    let _ = write!(
        s,
        "    function verifyProof(\n\
         \x20       uint256[2] calldata _pA,\n\
         \x20       uint256[2][2] calldata _pB,\n\
         \x20       uint256[2] calldata _pC,\n\
         \x20       uint256[{n}] calldata _pubSignals\n\
         \x20   ) public view returns (bool ok) {{\n\
         \x20       assembly (\"memory-safe\") {{\n\
         \x20           // acc += s * (x, y) by ecMul (0x07) then ecAdd (0x06), with the product in\n\
         \x20           // the 0x60 bytes after acc. A zero signal adds nothing: no call at all.\n\
         \x20           function accumulate(acc, x, y, s) -> success {{\n\
         \x20               success := 1\n\
         \x20               if s {{\n\
         \x20                   let t := add(acc, 0x40)\n\
         \x20                   mstore(t, x)\n\
         \x20                   mstore(add(t, 0x20), y)\n\
         \x20                   mstore(add(t, 0x40), s)\n\
         \x20                   success := staticcall(gas(), 0x07, t, 0x60, t, 0x40)\n\
         \x20                   success := and(success, staticcall(gas(), 0x06, acc, 0x80, acc, 0x40))\n\
         \x20               }}\n\
         \x20           }}\n\
         \n\
         \x20           // Scratch memory past the free memory pointer, which stays where it is.\n\
         \x20           let p := mload(0x40)\n\
         \x20           let valid := 1\n"
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "            valid := and(valid, lt(calldataload(add(_pubSignals, {})), R))",
            i * 32
        );
    }
    let _ = write!(
        s,
        "            if valid {{\n\
         \x20               // vk_x = IC0 + sum s_i * IC_i, as the G1 point of the third pair.\n\
         \x20               let acc := add(p, 0x180)\n\
         \x20               mstore(acc, IC0_X)\n\
         \x20               mstore(add(acc, 0x20), IC0_Y)\n"
    );
    for i in 1..=n {
        let _ = writeln!(
            s,
            "                valid := and(valid, accumulate(acc, IC{i}_X, IC{i}_Y, calldataload(add(_pubSignals, {}))))",
            (i - 1) * 32
        );
    }
    let pair_constants = |s: &mut String, at: u32, g2: &str| {
        for (k, part) in ["X1", "X0", "Y1", "Y0"].iter().enumerate() {
            let _ = writeln!(
                s,
                "                mstore(add(p, {:#05x}), {g2}_{part})",
                at + 0x40 + 0x20 * k as u32
            );
        }
    };
    s.push_str(
        "                // (A, B): _pA and _pB are the first 0xc0 bytes of a pair, as they are.\n\
         \x20               calldatacopy(p, _pA, 0x40)\n\
         \x20               calldatacopy(add(p, 0x40), _pB, 0x80)\n\
         \x20               mstore(add(p, 0x0c0), ALPHA_X)\n\
         \x20               mstore(add(p, 0x0e0), ALPHA_Y)\n",
    );
    pair_constants(s, 0x0c0, "BETA_NEG");
    pair_constants(s, 0x180, "GAMMA_NEG");
    s.push_str("                calldatacopy(add(p, 0x240), _pC, 0x40)\n");
    pair_constants(s, 0x240, "DELTA_NEG");
    s.push_str(
        "                // ecPairing (0x08) writes 1 when the product is the identity. It fails on a\n\
         \x20               // coordinate not below q, a point off the curve or outside G2's subgroup.\n\
         \x20               valid := and(valid, staticcall(gas(), 0x08, p, 0x300, p, 0x20))\n\
         \x20               ok := and(valid, mload(p))\n\
         \x20           }\n\
         \x20       }\n\
         \x20   }\n",
    );
}

fn fq_word(f: &Fq) -> BigUint {
    f.into_bigint().into()
}

fn g1_words(p: &G1Affine) -> [BigUint; 2] {
    match p.xy() {
        Some((x, y)) => [fq_word(&x), fq_word(&y)],
        None => Default::default(),
    }
}

/// EIP-197 order: the imaginary part (`c1`) first.
fn g2_words(p: &G2Affine) -> [[BigUint; 2]; 2] {
    let swap = |f: &Fq2| [fq_word(&f.c1), fq_word(&f.c0)];
    match p.xy() {
        Some((x, y)) => [swap(&x), swap(&y)],
        None => Default::default(),
    }
}

/// A word as snarkjs's calldata prints it: quoted, `0x`, 64 hex digits.
fn word(n: &BigUint) -> String {
    format!("\"{}\"", hex_word(n))
}

fn hex_word(n: &BigUint) -> String {
    format!("0x{n:064x}")
}

#[cfg(test)]
mod tests;
