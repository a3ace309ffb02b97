//! A circuit's constraint matrices A, B, C in a compact sparse form, shipped in the proving key.
//!
//! Groth16 proving needs `A·z`, `B·z` and `C·z` for the full assignment z. arkworks gets the
//! matrices by synthesising the circuit with every symbolic linear combination inlined, which in
//! wasm takes seconds and hundreds of megabytes: the first proof of a session would pay for it.
//! `airprover setup` builds them once and the proving key file carries them (see
//! [`super::keys`]), so every proof, the first included, synthesises the witness alone.
//!
//! Each matrix is a list of rows (offsets into one array of entries); an entry is a column (a
//! variable) and the index of its coefficient in one table of distinct coefficients, which is
//! short: ones, the Poseidon MDS entries, powers of two. The products are computed in 29-bit
//! limbs ([`Fr29`]), ready for the FFTs, and a coefficient of one costs no multiplication.
//!
//! Bytes (little-endian; `var` is an unsigned LEB128 varint of at most five bytes), as they
//! follow the arkworks key in a version-2 proving key file:
//! ```text
//! u32  instance variables (the constant one and the public inputs)
//! u32  witness variables
//! u32  constraints
//! u32  distinct coefficients k, then k field elements (32 bytes, canonical, below r)
//! for A, B and C:
//!   u32  entries e
//!   for each constraint: var n (its entries), then n * (var column step, var coefficient index)
//! ```
//! A row's columns are increasing; each is stored as its step from the previous one (the first
//! from zero), so most take one byte: about three bytes an entry instead of eight.
//! Reading checks every count against the bytes left, every offset, column and index: a bad
//! file is [`Error::KeyIntegrity`], never a panic or an absurd allocation.

use std::collections::HashMap;

use ark_ff::{One, Zero};
use ark_relations::r1cs::ConstraintMatrices;

use super::byte_reader::ByteReader;
use super::fft::to29;
use super::msm::field::{Field as _, Fr29};
use crate::error::{Error, Result};
use crate::field::{fr_from_le_bytes, fr_to_le_bytes, Fr};

/// One sparse matrix: row i is `entries[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sparse {
    offsets: Vec<u32>,
    /// (column, coefficient index).
    entries: Vec<(u32, u32)>,
}

/// The constraint matrices of one circuit.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrices {
    /// Instance variables, the constant one included.
    pub num_instance_variables: usize,
    /// Witness variables.
    pub num_witness_variables: usize,
    /// Constraints (rows).
    pub num_constraints: usize,
    coefficients: Vec<Fr>,
    coefficients29: Vec<Fr29>,
    /// The index of the coefficient one, if any entry has it.
    one: Option<u32>,
    rows: [Sparse; 3],
}

impl Matrices {
    /// From arkworks' matrices (as `ConstraintSystem::to_matrices` gives them).
    pub fn from_ark(m: &ConstraintMatrices<Fr>) -> Result<Self> {
        let too_large = || Error::ProofFailed {
            what: "the constraint matrices are too large for 32-bit indices".into(),
        };
        let mut index: HashMap<Fr, u32> = HashMap::new();
        let mut coefficients = Vec::new();
        let mut sparse = |matrix: &Vec<Vec<(Fr, usize)>>| -> Result<Sparse> {
            let mut offsets = Vec::with_capacity(matrix.len() + 1);
            let mut entries = Vec::new();
            offsets.push(0);
            for row in matrix {
                let mut row = row.clone();
                row.sort_unstable_by_key(|&(_, column)| column);
                for (coefficient, column) in &row {
                    let k = *index.entry(*coefficient).or_insert_with(|| {
                        coefficients.push(*coefficient);
                        coefficients.len() as u32 - 1
                    });
                    entries.push((u32::try_from(*column).map_err(|_| too_large())?, k));
                }
                offsets.push(u32::try_from(entries.len()).map_err(|_| too_large())?);
            }
            Ok(Sparse { offsets, entries })
        };
        let rows = [sparse(&m.a)?, sparse(&m.b)?, sparse(&m.c)?];
        if coefficients.len() > u32::MAX as usize {
            return Err(too_large());
        }
        Ok(Self::assemble(
            m.num_instance_variables,
            m.num_witness_variables,
            m.num_constraints,
            coefficients,
            rows,
        ))
    }

    fn assemble(
        num_instance_variables: usize,
        num_witness_variables: usize,
        num_constraints: usize,
        coefficients: Vec<Fr>,
        rows: [Sparse; 3],
    ) -> Self {
        let coefficients29 = coefficients.iter().map(to29).collect();
        let one = coefficients
            .iter()
            .position(|c| c.is_one())
            .map(|i| i as u32);
        Matrices {
            num_instance_variables,
            num_witness_variables,
            num_constraints,
            coefficients,
            coefficients29,
            one,
            rows,
        }
    }

    /// Variables: instance and witness.
    pub fn num_variables(&self) -> usize {
        self.num_instance_variables + self.num_witness_variables
    }

    /// Non-zero entries of A, B and C together.
    pub fn num_entries(&self) -> usize {
        self.rows.iter().map(|m| m.entries.len()).sum()
    }

    /// `[A·z, B·z, C·z]` for the full assignment `z = [1, public.., witness..]`, one entry per
    /// constraint. `z` must have [`Self::num_variables`] entries.
    pub fn products(&self, z: &[Fr29]) -> [Vec<Fr29>; 3] {
        assert_eq!(
            z.len(),
            self.num_variables(),
            "assignment of the wrong length"
        );
        self.rows.each_ref().map(|m| self.product(m, z))
    }

    /// Whether C has any entry: not for matrices read from a zkey, which carries none.
    pub fn has_c(&self) -> bool {
        !self.rows[2].entries.is_empty()
    }

    /// `[A·z, B·z]` only: for keys from a zkey, whose C is not known (it is empty here).
    pub fn products_ab(&self, z: &[Fr29]) -> [Vec<Fr29>; 2] {
        assert_eq!(
            z.len(),
            self.num_variables(),
            "assignment of the wrong length"
        );
        [
            self.product(&self.rows[0], z),
            self.product(&self.rows[1], z),
        ]
    }

    /// Row `row` of matrix `matrix` (0 A, 1 B, 2 C): its (column, coefficient) entries, columns
    /// increasing. Panics if either is out of range.
    pub fn row(&self, matrix: usize, row: usize) -> impl Iterator<Item = (usize, Fr)> + '_ {
        let m = &self.rows[matrix];
        m.entries[m.offsets[row] as usize..m.offsets[row + 1] as usize]
            .iter()
            .map(|&(column, k)| (column as usize, self.coefficients[k as usize]))
    }

    /// The first difference between the A and B of `self` and of `other` (counts, then row by
    /// row, entries with a zero coefficient ignored), `None` if they are equal: how
    /// `import-zkey` checks that a ceremony's zkey is of our circuit.
    pub fn ab_difference(&self, other: &Matrices) -> Option<String> {
        let counts = |m: &Matrices| {
            (
                m.num_instance_variables,
                m.num_witness_variables,
                m.num_constraints,
            )
        };
        if counts(self) != counts(other) {
            return Some(format!(
                "(instance variables, witness variables, constraints) {:?} against {:?}",
                counts(self),
                counts(other)
            ));
        }
        for (matrix, name) in [(0, "A"), (1, "B")] {
            for i in 0..self.num_constraints {
                let nonzero = |m: &Matrices| -> Vec<(usize, Fr)> {
                    m.row(matrix, i).filter(|(_, c)| !c.is_zero()).collect()
                };
                if nonzero(self) != nonzero(other) {
                    return Some(format!("row {i} of {name} differs"));
                }
            }
        }
        None
    }

    fn product(&self, m: &Sparse, z: &[Fr29]) -> Vec<Fr29> {
        let one = self.one.unwrap_or(u32::MAX);
        let row = |i: usize| {
            let terms = &m.entries[m.offsets[i] as usize..m.offsets[i + 1] as usize];
            let ones = terms
                .iter()
                .filter(|&&(_, k)| k == one)
                .fold(Fr29::ZERO, |acc, &(column, _)| acc + z[column as usize]);
            // The other terms reduced once per 32 products (Fr29::sum_of_products).
            let scaled = terms
                .iter()
                .filter(|&&(_, k)| k != one)
                .map(|&(column, k)| (z[column as usize], self.coefficients29[k as usize]));
            ones + Fr29::sum_of_products(scaled)
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            (0..self.num_constraints).into_par_iter().map(row).collect()
        }
        #[cfg(not(feature = "parallel"))]
        (0..self.num_constraints).map(row).collect()
    }

    /// The bytes described in the module docs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let u32s = |out: &mut Vec<u8>, v: usize| {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        };
        u32s(&mut out, self.num_instance_variables);
        u32s(&mut out, self.num_witness_variables);
        u32s(&mut out, self.num_constraints);
        u32s(&mut out, self.coefficients.len());
        for c in &self.coefficients {
            out.extend_from_slice(&fr_to_le_bytes(c));
        }
        for m in &self.rows {
            u32s(&mut out, m.entries.len());
            for row in m.offsets.windows(2) {
                let terms = &m.entries[row[0] as usize..row[1] as usize];
                varint(&mut out, terms.len() as u32);
                let mut previous = 0;
                for &(column, k) in terms {
                    varint(&mut out, column - previous);
                    varint(&mut out, k);
                    previous = column;
                }
            }
        }
        out
    }

    /// Reads [`Self::to_bytes`]'s format, checking everything (see the module docs). All of
    /// `bytes` must be used.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = ByteReader::new(bytes, "the constraint matrices");
        let num_instance_variables = r.u32("the instance variable count")? as usize;
        let num_witness_variables = r.u32("the witness variable count")? as usize;
        let num_constraints = r.u32("the constraint count")? as usize;
        let variables = num_instance_variables
            .checked_add(num_witness_variables)
            .ok_or_else(|| Error::key_integrity("the constraint matrices: impossible counts"))?;
        let count = r.u32("the coefficient count")? as usize;
        r.fits(count, 32, "the coefficients")?;
        let mut coefficients = Vec::with_capacity(count);
        for i in 0..count {
            coefficients.push(fr_from_le_bytes(&r.array("a coefficient")?).ok_or_else(|| {
                Error::key_integrity(format!(
                    "the constraint matrices: coefficient {i} is not below the field modulus"
                ))
            })?);
        }
        let mut sparse = |name: &str| -> Result<Sparse> {
            let entries_len = r.u32(name)? as usize;
            // Every row takes a byte at least, every entry two.
            r.fits(num_constraints, 1, name)?;
            r.fits(entries_len, 2, name)?;
            let mut offsets = Vec::with_capacity(num_constraints + 1);
            let mut entries = Vec::with_capacity(entries_len);
            offsets.push(0);
            let out_of_range = || {
                Error::key_integrity(format!(
                    "the constraint matrices: an entry of {name} is out of range"
                ))
            };
            for _ in 0..num_constraints {
                let n = r.varint(name)? as usize;
                if entries.len() + n > entries_len {
                    return Err(Error::key_integrity(format!(
                        "the constraint matrices: {name} has more entries than it says"
                    )));
                }
                let mut column = 0u32;
                for _ in 0..n {
                    column = column
                        .checked_add(r.varint(name)?)
                        .ok_or_else(out_of_range)?;
                    let k = r.varint(name)?;
                    if column as usize >= variables || k as usize >= count {
                        return Err(out_of_range());
                    }
                    entries.push((column, k));
                }
                offsets.push(entries.len() as u32);
            }
            if entries.len() != entries_len {
                return Err(Error::key_integrity(format!(
                    "the constraint matrices: {name} has fewer entries than it says"
                )));
            }
            Ok(Sparse { offsets, entries })
        };
        let rows = [sparse("A")?, sparse("B")?, sparse("C")?];
        r.finish()?;
        Ok(Self::assemble(
            num_instance_variables,
            num_witness_variables,
            num_constraints,
            coefficients,
            rows,
        ))
    }
}

/// Appends `v` as an unsigned LEB128 varint.
fn varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The first constraint `a * b = c` breaks, if any.
pub fn first_unsatisfied(products: &[Vec<Fr29>; 3]) -> Option<usize> {
    let [a, b, c] = products;
    let broken = |i: &usize| a[*i] * b[*i] != c[*i];
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..a.len()).into_par_iter().find_first(broken)
    }
    #[cfg(not(feature = "parallel"))]
    (0..a.len()).find(broken)
}

#[cfg(test)]
mod tests {
    use ark_relations::r1cs::{
        ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
    };

    use super::*;
    use crate::circuit::{Circuit, CircuitId};

    fn ark_matrices(id: &str) -> ConstraintMatrices<Fr> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        let id: CircuitId = id.parse().unwrap();
        Circuit::blank(&id)
            .unwrap()
            .generate_constraints(cs.clone())
            .unwrap();
        cs.finalize();
        cs.to_matrices().unwrap()
    }

    #[test]
    fn round_trips_and_keeps_every_entry() {
        let ark = ark_matrices("threshold-d4-k2");
        let m = Matrices::from_ark(&ark).unwrap();
        assert_eq!(m.num_constraints, ark.num_constraints);
        assert_eq!(
            m.num_entries(),
            ark.a_num_non_zero + ark.b_num_non_zero + ark.c_num_non_zero
        );
        assert!(
            m.coefficients.len() < m.num_entries() / 4,
            "coefficients are shared"
        );
        let bytes = m.to_bytes();
        assert_eq!(Matrices::from_bytes(&bytes).unwrap(), m);
    }

    #[test]
    fn products_match_arkworks_arithmetic() {
        use ark_ff::UniformRand;
        use rand::SeedableRng;
        let ark = ark_matrices("threshold-d4-k2");
        let m = Matrices::from_ark(&ark).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let z: Vec<Fr> = (0..m.num_variables()).map(|_| Fr::rand(&mut rng)).collect();
        let z29: Vec<Fr29> = z.iter().map(to29).collect();
        let ours = m.products(&z29);
        for (matrix, product) in [&ark.a, &ark.b, &ark.c].into_iter().zip(&ours) {
            for (row, value) in matrix.iter().zip(product) {
                let expected: Fr = row.iter().map(|(c, i)| *c * z[*i]).sum();
                assert_eq!(super::super::fft::from29(value), expected);
            }
        }
        // Random z satisfies nothing; the first constraint is reported.
        assert_eq!(first_unsatisfied(&ours), Some(0));
    }

    #[test]
    fn damaged_bytes_are_key_integrity_errors() {
        let m = Matrices::from_ark(&ark_matrices("threshold-d4-k2")).unwrap();
        let bytes = m.to_bytes();
        let code = |b: &[u8]| Matrices::from_bytes(b).unwrap_err().code();
        for cut in [0, 3, 16, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(code(&bytes[..cut]), "KEY_INTEGRITY", "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(code(&longer), "KEY_INTEGRITY");
        // An absurd coefficient count: refused before any allocation.
        let mut absurd = bytes.clone();
        absurd[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(code(&absurd), "KEY_INTEGRITY");
        // The last entry's coefficient index (its last byte) past the table.
        let mut index = bytes.clone();
        let last = index.len() - 1;
        index[last] = 0x7f;
        assert_eq!(code(&index), "KEY_INTEGRITY");
        // A varint that never ends.
        let mut endless = bytes.clone();
        endless[last] = 0xff;
        assert_eq!(code(&endless), "KEY_INTEGRITY");
        // A coefficient at or above r.
        let mut big = bytes;
        big[16..48].copy_from_slice(&[0xff; 32]);
        assert_eq!(code(&big), "KEY_INTEGRITY");
    }
}
