//! Keys from a phase-2 ceremony (`airprover import-zkey`): the final `.zkey` of a ceremony run
//! with snarkjs on the `.r1cs` that `export-r1cs` writes, turned into one of our circuits' key
//! files.
//!
//! What a zkey holds is checked against the circuit our setup synthesises: the public inputs
//! (nPublic), the variables (nVars), the constraints (and so the domain), then the A and B
//! coefficients row by row ([`Matrices::ab_difference`]); any difference is
//! [`Error::ZkeyMismatch`]. Every point is checked on its curve and in its subgroup
//! ([`Zkey::convert`]). C is not in a zkey, so a zkey whose C and H queries were made for another
//! C passes these checks: only `snarkjs zkey verify circuit.r1cs pot.ptau final.zkey` checks the
//! whole key, and the README says to run it.
//!
//! The proving key keeps our full matrices (C included, so that every proof's constraint check
//! runs) and records snarkjs's QAP reduction ([`Reduction::Circom`]): the zkey's H query holds
//! the odd-coset evaluation points, not the powers our own keys have.
//!
//! A zkey without phase-2 randomness (delta the generator, as `snarkjs groth16 setup` leaves it
//! before any `zkey contribute`) is refused: anyone can forge proofs with it. Whether the powers
//! of tau under it had real phase-1 contributions is not recorded in a zkey, so nothing here can
//! say; `zkey verify` checks it against the ptau file it is given.

use ark_bn254::G1Affine;
use ark_ec::AffineRepr;

use super::keys::{write_proving_key_for, write_verifying_key};
use super::manifest::Ceremony;
use super::matrices::Matrices;
use super::qap::Reduction;
use super::setup;
use crate::circom::zkey::{self, Contribution, Zkey};
use crate::circuit::id::CircuitId;
use crate::error::{Error, Result};

/// A ceremony's zkey as our key files.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The proving key file (our matrices in it, snarkjs's reduction in its flags).
    pub proving_key: Vec<u8>,
    /// The verifying key file.
    pub verifying_key: Vec<u8>,
    /// The circuit's constraints.
    pub constraints: usize,
    /// The manifest's label: the zkey's SHA-256.
    pub ceremony: Ceremony,
    /// The phase-2 contributions the zkey records, in order.
    pub contributions: Vec<Contribution>,
}

/// Checks that `zkey_bytes` is a Groth16 zkey of `circuit` with phase-2 randomness, and converts
/// it into key files (see the module docs).
pub fn import_zkey(circuit: &CircuitId, zkey_bytes: &[u8]) -> Result<Imported> {
    let ours = setup::matrices(circuit)?;
    let zkey = Zkey::parse(zkey_bytes)?;
    check_counts(circuit, &ours, &zkey.header)?;
    if let Some(difference) = ours.ab_difference(&zkey.matrices()?) {
        return Err(Error::ZkeyMismatch {
            what: format!("{difference} between {circuit} and the zkey: a zkey of another circuit"),
        });
    }
    let contributions = zkey.contributions()?;
    if zkey.header.delta_g1 == G1Affine::generator() {
        return Err(Error::input(
            "--zkey",
            format!(
                "the zkey has no phase-2 randomness (delta is the generator; {} contributions recorded): anyone can forge proofs with it. Import the ceremony's final zkey, after `snarkjs zkey contribute`",
                contributions.len()
            ),
        ));
    }
    let converted = zkey.convert()?;
    let proving_key = write_proving_key_for(
        &converted.proving_key,
        Some(&ours),
        circuit,
        false,
        Reduction::Circom,
    )?;
    let verifying_key = write_verifying_key(&converted.proving_key.vk, circuit, false)?;
    Ok(Imported {
        proving_key,
        verifying_key,
        constraints: ours.num_constraints,
        ceremony: Ceremony {
            zkey_sha256: zkey::sha256_hex(zkey_bytes),
        },
        contributions,
    })
}

/// The zkey's counts against the circuit's, each named, before its coefficients are read.
fn check_counts(circuit: &CircuitId, ours: &Matrices, header: &zkey::Groth16Header) -> Result<()> {
    let public = ours.num_instance_variables - 1;
    let counts = [
        ("public signals (nPublic)", header.n_public, public),
        ("signals (nVars)", header.n_vars, ours.num_variables()),
    ];
    for (what, theirs, ours) in counts {
        if theirs != ours {
            return Err(Error::ZkeyMismatch {
                what: format!(
                    "the zkey has {theirs} {what}, {circuit} has {ours}: a zkey of another circuit"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ark_ff::{BigInteger, PrimeField};

    use super::*;
    use crate::circom::binfile::BinWriter;
    use crate::field::Fr;

    /// A Groth16 zkey in snarkjs's layout for `m`'s A and B (the public-input rows appended as
    /// snarkjs appends them), with every query point at infinity and delta `delta`, and
    /// `contributions` empty phase-2 contributions: enough for the checks before the keys.
    fn zkey_of(m: &Matrices, delta: G1Affine, contributions: u32) -> Vec<u8> {
        let n_public = m.num_instance_variables - 1;
        let n_vars = m.num_variables();
        let rows = m.num_constraints + m.num_instance_variables;
        let domain = rows.next_power_of_two();
        let g1 = |p: G1Affine| -> Vec<u8> {
            match p.xy() {
                None => vec![0; 64],
                Some((x, y)) => [x.0.to_bytes_le(), y.0.to_bytes_le()].concat(),
            }
        };
        let g2 = |p: ark_bn254::G2Affine| -> Vec<u8> {
            let (x, y) = p.xy().expect("not infinity");
            [x.c0, x.c1, y.c0, y.c1]
                .iter()
                .flat_map(|c| c.0.to_bytes_le())
                .collect()
        };
        let u32s = |v: usize| (v as u32).to_le_bytes();
        let mut header = Vec::new();
        header.extend_from_slice(&32u32.to_le_bytes());
        header.extend_from_slice(&ark_bn254::Fq::MODULUS.to_bytes_le());
        header.extend_from_slice(&32u32.to_le_bytes());
        header.extend_from_slice(&Fr::MODULUS.to_bytes_le());
        for v in [n_vars, n_public, domain] {
            header.extend_from_slice(&u32s(v));
        }
        let generator2 = ark_bn254::G2Affine::generator();
        header.extend(g1(G1Affine::generator()));
        header.extend(g1(G1Affine::generator()));
        header.extend(g2(generator2));
        header.extend(g2(generator2));
        header.extend(g1(delta));
        header.extend(g2(generator2));
        // A coefficient is stored as x·R² mod r: the Montgomery form of x's Montgomery form.
        let coefficient = |x: Fr| Fr::from_bigint(x.0).unwrap().0.to_bytes_le();
        let mut entries = Vec::new();
        let mut count = 0usize;
        for matrix in 0..2 {
            for row in 0..m.num_constraints {
                for (column, value) in m.row(matrix, row) {
                    entries.extend_from_slice(&u32s(matrix));
                    entries.extend_from_slice(&u32s(row));
                    entries.extend_from_slice(&u32s(column));
                    entries.extend(coefficient(value));
                    count += 1;
                }
            }
        }
        for i in 0..m.num_instance_variables {
            entries.extend_from_slice(&u32s(0));
            entries.extend_from_slice(&u32s(m.num_constraints + i));
            entries.extend_from_slice(&u32s(i));
            entries.extend(coefficient(Fr::from(1u64)));
            count += 1;
        }
        let mut section4 = u32s(count).to_vec();
        section4.extend(entries);
        let mut section10 = vec![0; 64];
        section10.extend_from_slice(&contributions.to_le_bytes());
        for _ in 0..contributions {
            section10.extend(vec![0; 3 * 64 + 128 + 64]);
            section10.extend_from_slice(&0u32.to_le_bytes());
            // A name: "p".
            section10.extend_from_slice(&3u32.to_le_bytes());
            section10.extend_from_slice(&[1, 1, b'p']);
        }
        let zeros = |points: usize, size: usize| vec![0u8; points * size];
        let mut file = BinWriter::new(b"zkey", 1, 10);
        file.section(1, &1u32.to_le_bytes());
        file.section(2, &header);
        file.section(3, &zeros(n_public + 1, 64));
        file.section(4, &section4);
        file.section(5, &zeros(n_vars, 64));
        file.section(6, &zeros(n_vars, 64));
        file.section(7, &zeros(n_vars, 128));
        file.section(8, &zeros(n_vars - n_public - 1, 64));
        file.section(9, &zeros(domain, 64));
        file.section(10, &section10);
        file.finish()
    }

    fn delta() -> G1Affine {
        (G1Affine::generator() * Fr::from(7u64)).into()
    }

    #[test]
    fn a_zkey_of_the_circuit_imports_with_its_contributions_and_the_circom_reduction() {
        let id: CircuitId = "threshold-d1-k1".parse().unwrap();
        let m = setup::matrices(&id).unwrap();
        let bytes = zkey_of(&m, delta(), 2);
        let imported = import_zkey(&id, &bytes).unwrap();
        assert_eq!(imported.constraints, m.num_constraints);
        assert_eq!(imported.ceremony.zkey_sha256, zkey::sha256_hex(&bytes));
        let named = Contribution {
            name: Some("p".into()),
            beacon: false,
        };
        assert_eq!(imported.contributions, [named.clone(), named]);
        let file = crate::prover::keys::KeyFile::parse(&imported.proving_key).unwrap();
        assert_eq!(file.header.reduction, Reduction::Circom);
        assert!(!file.header.development);
        // Our matrices, C included, go into the key.
        assert!(file.matrices().unwrap().unwrap().has_c());
    }

    #[test]
    fn a_zkey_of_another_circuit_is_a_mismatch_naming_what_differs() {
        let id: CircuitId = "threshold-d1-k1".parse().unwrap();
        let m = setup::matrices(&id).unwrap();
        let bytes = zkey_of(&m, delta(), 1);
        let mismatch = |circuit: &str, bytes: &[u8]| {
            let e = import_zkey(&circuit.parse().unwrap(), bytes).unwrap_err();
            assert_eq!(e.code(), "ZKEY_MISMATCH", "{e}");
            e.to_string()
        };
        // Other counts: another depth, another number of slots.
        assert!(mismatch("threshold-d2-k1", &bytes).contains("signals (nVars)"));
        assert!(mismatch("square-chain-3", &bytes).contains("public signals (nPublic)"));

        // The same counts, other coefficients: the exact-score circuit of the same shape, if
        // its counts agree, or one coefficient changed.
        let exact: CircuitId = "exact-d1-k1".parse().unwrap();
        let e = setup::matrices(&exact).unwrap();
        if (e.num_variables(), e.num_constraints) == (m.num_variables(), m.num_constraints) {
            assert!(mismatch("exact-d1-k1", &bytes).contains("differs"));
        }
        // Entry 0 of section 4 (A's first coefficient): its value is the last 32 bytes of the
        // entry that starts after the count.
        let at = coefficients_at(&bytes) + 4 + 12;
        let mut changed = bytes.clone();
        let two = Fr::from_bigint(Fr::from(2u64).0).unwrap().0.to_bytes_le();
        assert_ne!(
            changed[at..at + 32],
            two[..],
            "A's first coefficient is not already 2"
        );
        changed[at..at + 32].copy_from_slice(&two);
        let message = mismatch("threshold-d1-k1", &changed);
        assert!(message.contains("row 0 of A differs"), "{message}");
    }

    #[test]
    fn a_zkey_without_phase_2_randomness_is_refused() {
        let id: CircuitId = "threshold-d1-k1".parse().unwrap();
        let m = setup::matrices(&id).unwrap();
        let e = import_zkey(&id, &zkey_of(&m, G1Affine::generator(), 0)).unwrap_err();
        assert_eq!(e.code(), "INVALID_INPUT");
        assert!(e.to_string().contains("no phase-2 randomness"), "{e}");
    }

    #[test]
    fn a_broken_contributions_section_is_corrupt() {
        let id: CircuitId = "threshold-d1-k1".parse().unwrap();
        let m = setup::matrices(&id).unwrap();
        let mut bytes = zkey_of(&m, delta(), 1);
        // The name's length byte, the last but one byte of the file, past the parameters.
        let n = bytes.len();
        bytes[n - 2] = 9;
        let e = import_zkey(&id, &bytes).unwrap_err();
        assert_eq!(e.code(), "ZKEY_CORRUPT");
        assert!(e.to_string().contains("10 (contributions)"), "{e}");
    }

    /// Where section 4's body starts in a file `zkey_of` wrote (sections 1 to 3 before it).
    fn coefficients_at(bytes: &[u8]) -> usize {
        let mut at = 12;
        loop {
            let id = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            let len = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
            if id == 4 {
                return at + 12;
            }
            at += 12 + len;
        }
    }
}
