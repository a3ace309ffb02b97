//! circom's constraint file, `.r1cs`, written for airprover's own circuits so that the ceremony
//! tools (`snarkjs r1cs info`, `groth16 setup`, `zkey verify`, p0tion) take them unchanged. The
//! [`binfile`](super::binfile) container with magic `r1cs`, version 1:
//!
//! ```text
//! section 1 (header)       n8 (u32: 32), the prime (n8 bytes, little-endian), nWires (u32),
//!                          nPubOut (u32), nPubIn (u32), nPrvIn (u32), nLabels (u64),
//!                          mConstraints (u32)
//! section 2 (constraints)  for each constraint, A, B and C in turn: the number of terms (u32),
//!                          then each term's wire (u32) and coefficient (n8 bytes, little-endian,
//!                          canonical: not Montgomery), the product A·B = C
//! section 3 (wire map)     each wire's label id (u64)
//! ```
//!
//! **Wires are our variables, in our order**: wire 0 is the constant one, wires 1..=n our n
//! public inputs, then the witness variables. circom puts public outputs before public inputs;
//! our circuits declare none (`nPubOut` 0, `nPubIn` n), so snarkjs's public signals (wires
//! 1..=nPubOut + nPubIn) are our public inputs in our order, and a zkey made from the file has
//! our variable layout (nVars, nPublic, the IC points in our order). Our witness variables are
//! internal signals, not circuit inputs: `nPrvIn` is 0. arkworks keeps no signal names, so each
//! wire is its own label (`nLabels` = `nWires`, wire i has label i).

use ark_ff::{BigInteger, PrimeField};
use ark_relations::r1cs::ConstraintMatrices;

use super::binfile::BinWriter;
use crate::field::{fr_to_le_bytes, Fr};

const MAGIC: &[u8; 4] = b"r1cs";
const VERSION: u32 = 1;
const N8: usize = 32;

/// A circuit's `.r1cs` bytes from its constraint matrices (as arkworks' setup-mode synthesis
/// gives them: columns are `[1, public inputs.., witness..]`).
pub fn write(m: &ConstraintMatrices<Fr>) -> Vec<u8> {
    let wires = m.num_instance_variables + m.num_witness_variables;
    let mut header = Vec::with_capacity(4 + N8 + 4 * 5 + 8);
    header.extend_from_slice(&(N8 as u32).to_le_bytes());
    header.extend_from_slice(&Fr::MODULUS.to_bytes_le());
    header.extend_from_slice(&u32_of(wires).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&u32_of(m.num_instance_variables - 1).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&(wires as u64).to_le_bytes());
    header.extend_from_slice(&u32_of(m.num_constraints).to_le_bytes());

    let terms = m.a_num_non_zero + m.b_num_non_zero + m.c_num_non_zero;
    let mut constraints = Vec::with_capacity(m.num_constraints * 12 + terms * (4 + N8));
    for row in 0..m.num_constraints {
        for matrix in [&m.a, &m.b, &m.c] {
            let lc = &matrix[row];
            constraints.extend_from_slice(&u32_of(lc.len()).to_le_bytes());
            for (coefficient, wire) in lc {
                constraints.extend_from_slice(&u32_of(*wire).to_le_bytes());
                constraints.extend_from_slice(&fr_to_le_bytes(coefficient));
            }
        }
    }

    let map: Vec<u8> = (0..wires as u64).flat_map(u64::to_le_bytes).collect();

    let mut file = BinWriter::new(MAGIC, VERSION, 3);
    file.section(1, &header);
    file.section(2, &constraints);
    file.section(3, &map);
    file.finish()
}

/// The format's counts are u32: a circuit of ours never comes near (2^22 squares at most).
fn u32_of(n: usize) -> u32 {
    u32::try_from(n).expect("circuit sizes fit the .r1cs format's u32 counts")
}

#[cfg(test)]
mod tests {
    use ark_ff::One;

    use super::*;
    use crate::circom::binfile::BinFile;
    use crate::circuit::CircuitId;
    use crate::error::Error;
    use crate::field::fr_from_le_bytes;
    use crate::prover::setup::ark_matrices;

    fn corrupt(section: &str, what: String) -> Error {
        Error::input(format!("r1cs section {section}"), what)
    }

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    /// Reads the constraints back: one (A, B, C) of (wire, coefficient) lists per constraint.
    #[allow(clippy::type_complexity)]
    fn constraints(section: &[u8], count: usize) -> Vec<[Vec<(usize, Fr)>; 3]> {
        let mut at = 0;
        let mut lc = || {
            let n = u32_at(section, at) as usize;
            at += 4;
            (0..n)
                .map(|_| {
                    let wire = u32_at(section, at) as usize;
                    let value = fr_from_le_bytes(section[at + 4..at + 4 + N8].try_into().unwrap())
                        .expect("canonical");
                    at += 4 + N8;
                    (wire, value)
                })
                .collect::<Vec<_>>()
        };
        let rows = (0..count).map(|_| [lc(), lc(), lc()]).collect();
        assert_eq!(at, section.len(), "every byte of the constraints read");
        rows
    }

    #[test]
    fn the_claim_circuit_reads_back_as_its_matrices() {
        let id: CircuitId = "threshold-d4-k2".parse().unwrap();
        let m = ark_matrices(&id).unwrap();
        let bytes = write(&m);
        let file = BinFile::parse(&bytes, MAGIC, corrupt).unwrap();
        assert_eq!(file.version, 1);
        assert_eq!(file.ids().collect::<Vec<_>>(), [1, 2, 3]);

        let header = file.section(1).unwrap();
        assert_eq!(header.len(), 4 + N8 + 16 + 8 + 4);
        assert_eq!(u32_at(header, 0), 32);
        assert_eq!(header[4..36], Fr::MODULUS.to_bytes_le()[..]);
        let wires = m.num_instance_variables + m.num_witness_variables;
        assert_eq!(u32_at(header, 36) as usize, wires, "nWires");
        assert_eq!(u32_at(header, 40), 0, "nPubOut");
        assert_eq!(
            Some(u32_at(header, 44) as usize),
            id.num_public_inputs(),
            "nPubIn"
        );
        assert_eq!(u32_at(header, 48), 0, "nPrvIn");
        assert_eq!(
            u64::from_le_bytes(header[52..60].try_into().unwrap()) as usize,
            wires,
            "nLabels"
        );
        assert_eq!(u32_at(header, 60) as usize, m.num_constraints);

        let rows = constraints(file.section(2).unwrap(), m.num_constraints);
        for (i, row) in rows.iter().enumerate() {
            for (matrix, lc) in [&m.a, &m.b, &m.c].into_iter().zip(row) {
                let expected: Vec<(usize, Fr)> = matrix[i].iter().map(|&(c, w)| (w, c)).collect();
                assert_eq!(lc, &expected, "constraint {i}");
            }
        }
        let map = file.section(3).unwrap();
        assert_eq!(map.len(), 8 * wires);
        assert_eq!(u64::from_le_bytes(map[8 * 7..8 * 8].try_into().unwrap()), 7);
    }

    #[test]
    fn coefficients_are_canonical_little_endian() {
        // One constraint, -1·w1 · 1·w0 = 2·w2: the coefficients as circom writes them.
        let m = ConstraintMatrices {
            num_instance_variables: 2,
            num_witness_variables: 1,
            num_constraints: 1,
            a_num_non_zero: 1,
            b_num_non_zero: 1,
            c_num_non_zero: 1,
            a: vec![vec![(-Fr::one(), 1)]],
            b: vec![vec![(Fr::one(), 0)]],
            c: vec![vec![(Fr::from(2u64), 2)]],
        };
        let bytes = write(&m);
        let file = BinFile::parse(&bytes, MAGIC, corrupt).unwrap();
        let section = file.section(2).unwrap();
        let mut minus_one = Fr::MODULUS.to_bytes_le();
        minus_one[0] -= 1;
        assert_eq!(section[..8], [1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(section[8..40], minus_one[..]);
        // Each term: count (4), wire (4), coefficient (32); B's coefficient at 48, C's at 88.
        assert_eq!(section[40..48], [1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(section[48], 1);
        assert_eq!(section[80..88], [1, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(section[88], 2);
        assert!(section[89..].iter().all(|b| *b == 0));
        assert_eq!(section.len(), 120);
    }
}
