//! The Poseidon R1CS gadget: the same rounds as [`super::hash`], over `FpVar`s.
//!
//! Cost per hash: 3 constraints per S-box (x^2, x^4, x^5); additions of round constants and the
//! MDS mix are linear and free. Width 3 (two inputs): 8 * 3 * 3 + 57 * 3 - 3 = 240 constraints
//! (the first S-box of the capacity element acts on a constant and costs nothing).

use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::r1cs::SynthesisError;

use super::{params, FULL_ROUNDS};
use crate::field::Fr;

/// In-circuit `Poseidon(inputs)`, equal to [`super::hash`] on the same values.
pub fn hash_var(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let p = params(inputs.len()).map_err(|_| SynthesisError::Unsatisfiable)?;
    let mut state = Vec::with_capacity(p.width);
    state.push(FpVar::Constant(Fr::from(0u64)));
    state.extend(inputs.iter().cloned());
    let half = FULL_ROUNDS / 2;
    for round in 0..FULL_ROUNDS + p.partial_rounds {
        for (i, s) in state.iter_mut().enumerate() {
            *s += p.ark[round * p.width + i];
        }
        let full = round < half || round >= half + p.partial_rounds;
        let sboxed = if full { p.width } else { 1 };
        for s in &mut state[..sboxed] {
            *s = pow5(s)?;
        }
        state = (0..p.width)
            .map(|i| {
                state
                    .iter()
                    .zip(&p.mds[i])
                    .fold(FpVar::zero(), |acc, (s, m)| acc + s * *m)
            })
            .collect();
    }
    Ok(state.swap_remove(0))
}

/// `Poseidon([a, b])` in-circuit.
pub fn hash2_var(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    hash_var(&[a.clone(), b.clone()])
}

fn pow5(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poseidon::hash;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::eq::EqGadget;
    use ark_r1cs_std::R1CSVar;
    use ark_relations::r1cs::ConstraintSystem;
    use ark_std::UniformRand;

    /// The arities the claim circuit uses: commitment (1), Merkle parent and nullifier (2), leaf (3).
    #[test]
    fn gadget_equals_native_on_random_inputs() {
        let mut rng = ark_std::test_rng();
        for arity in [1usize, 2, 3, 4] {
            for _ in 0..3 {
                let cs = ConstraintSystem::<Fr>::new_ref();
                let values: Vec<Fr> = (0..arity).map(|_| Fr::rand(&mut rng)).collect();
                let vars: Vec<FpVar<Fr>> = values
                    .iter()
                    .map(|v| FpVar::new_witness(cs.clone(), || Ok(*v)).unwrap())
                    .collect();
                let expected = hash(&values).unwrap();
                let out = hash_var(&vars).unwrap();
                assert_eq!(out.value().unwrap(), expected, "arity {arity}");
                let public = FpVar::new_input(cs.clone(), || Ok(expected)).unwrap();
                out.enforce_equal(&public).unwrap();
                assert!(cs.is_satisfied().unwrap());
            }
        }
    }

    #[test]
    fn wrong_output_is_unsatisfied() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
        let out = hash2_var(&a, &b).unwrap();
        let wrong = FpVar::new_input(cs.clone(), || Ok(Fr::from(3u64))).unwrap();
        out.enforce_equal(&wrong).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    #[test]
    fn constraint_count_width_3() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
        let _ = hash2_var(&a, &b).unwrap();
        assert_eq!(cs.num_constraints(), 8 * 3 * 3 + 57 * 3 - 3);
    }
}
