//! Range checks by bit decomposition: `value < 2^bits`, enforced in-circuit.

use ark_ff::PrimeField;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::R1CSVar;
use ark_relations::r1cs::{ConstraintSystemRef, SynthesisError};

use crate::field::Fr;

/// Allocates `bits` witness booleans, little-endian, for the value `value` (None in setup).
pub fn alloc_bits(
    cs: &ConstraintSystemRef<Fr>,
    value: Option<Fr>,
    bits: usize,
) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    let le = value.map(|v| v.into_bigint());
    (0..bits)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                le.map(|b| ark_ff::BigInteger::get_bit(&b, i))
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        })
        .collect()
}

/// The number `sum(bits[i] * 2^i)` as a linear combination (free).
pub fn from_bits(bits: &[Boolean<Fr>]) -> FpVar<Fr> {
    Boolean::le_bits_to_fp(bits).expect("linear combination of booleans never fails")
}

/// Enforces `value < 2^bits`: `bits` + 1 constraints.
pub fn enforce_below_pow2(
    cs: &ConstraintSystemRef<Fr>,
    value: &FpVar<Fr>,
    bits: usize,
) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    debug_assert!(bits < Fr::MODULUS_BIT_SIZE as usize);
    let decomposed = alloc_bits(cs, value.value().ok(), bits)?;
    from_bits(&decomposed).enforce_equal(value)?;
    Ok(decomposed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::r1cs::ConstraintSystem;

    fn check(v: Fr, bits: usize) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let var = FpVar::new_witness(cs.clone(), || Ok(v)).unwrap();
        enforce_below_pow2(&cs, &var, bits).unwrap();
        cs.is_satisfied().unwrap()
    }

    #[test]
    fn accepts_in_range_rejects_out_of_range() {
        assert!(check(Fr::from(0u64), 8));
        assert!(check(Fr::from(255u64), 8));
        assert!(!check(Fr::from(256u64), 8));
        assert!(check(Fr::from(u64::MAX), 64));
        assert!(!check(Fr::from(u64::MAX) + Fr::from(1u64), 64));
        // Wrap-around: -1 is p - 1, far above any small bound.
        assert!(!check(-Fr::from(1u64), 64));
    }
}
