//! The Poseidon R1CS gadget: the same rounds as [`super::hash`], over `FpVar`s.
//!
//! Cost per hash: 3 constraints per S-box (x^2, x^4, x^5); additions of round constants and the
//! MDS mix are linear and free. Width 3 (two inputs): 8 * 3 * 3 + 57 * 3 - 3 = 240 constraints
//! (the first S-box of the capacity element acts on a constant and costs nothing).

use ark_ff::Zero;
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::R1CSVar;
use ark_relations::r1cs::{ConstraintSystemRef, LinearCombination, SynthesisError, Variable};

use super::{params, FULL_ROUNDS};
use crate::field::Fr;

/// In-circuit `Poseidon(inputs)`, equal to [`super::hash`] on the same values.
///
/// Each round's mix is one linear combination per state element ([`mix`]), with the round
/// constants of the elements that skip the S-box folded in: the same constraints and the same
/// matrices as adding them with `FpVar`'s operators, but 3 symbolic linear combinations a round
/// instead of about 20, which is most of what synthesising a proof's witness costs.
pub fn hash_var(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let p = params(inputs.len()).map_err(|_| SynthesisError::Unsatisfiable)?;
    let cs = inputs.cs();
    let mut state = Vec::with_capacity(p.width);
    state.push(FpVar::Constant(Fr::from(0u64)));
    state.extend(inputs.iter().cloned());
    let half = FULL_ROUNDS / 2;
    for round in 0..FULL_ROUNDS + p.partial_rounds {
        let ark = &p.ark[round * p.width..(round + 1) * p.width];
        let full = round < half || round >= half + p.partial_rounds;
        let sboxed = if full { p.width } else { 1 };
        for (s, c) in state[..sboxed].iter_mut().zip(ark) {
            *s = pow5(&(&*s + *c))?;
        }
        state = p
            .mds
            .iter()
            .map(|row| mix(&cs, &state, row, ark, sboxed))
            .collect::<Result<_, _>>()?;
    }
    Ok(state.swap_remove(0))
}

/// `sum_j row[j] * x_j` as one symbolic linear combination (a constant when no `x_j` is a
/// variable), where `x_j` is `state[j]` for the first `sboxed` elements (their round constants
/// are already in) and `state[j] + ark[j]` for the others.
fn mix(
    cs: &ConstraintSystemRef<Fr>,
    state: &[FpVar<Fr>],
    row: &[Fr],
    ark: &[Fr],
    sboxed: usize,
) -> Result<FpVar<Fr>, SynthesisError> {
    let mut constant = Fr::zero();
    let mut lc = LinearCombination::zero();
    let mut value = Some(Fr::zero());
    for (j, (s, m)) in state.iter().zip(row).enumerate() {
        if j >= sboxed {
            constant += *m * ark[j];
        }
        match s {
            FpVar::Constant(c) => constant += *m * c,
            FpVar::Var(v) => {
                lc += (*m, v.variable);
                value = value.zip(v.value().ok()).map(|(sum, x)| sum + *m * x);
            }
        }
    }
    if lc.is_empty() {
        return Ok(FpVar::Constant(constant));
    }
    if !constant.is_zero() {
        lc += (constant, Variable::One);
    }
    let variable = cs.new_lc(lc)?;
    Ok(FpVar::Var(AllocatedFp::new(
        value.map(|sum| sum + constant),
        variable,
        cs.clone(),
    )))
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
    use ark_relations::r1cs::{ConstraintSystem, OptimizationGoal};
    use ark_std::UniformRand;

    /// The rounds written with `FpVar`'s operators (the gadget before [`mix`]): the reference
    /// its matrices and witness must equal.
    fn hash_var_by_operators(inputs: &[FpVar<Fr>]) -> FpVar<Fr> {
        let p = params(inputs.len()).unwrap();
        let mut state = vec![FpVar::Constant(Fr::from(0u64))];
        state.extend(inputs.iter().cloned());
        let half = FULL_ROUNDS / 2;
        for round in 0..FULL_ROUNDS + p.partial_rounds {
            for (i, s) in state.iter_mut().enumerate() {
                *s += p.ark[round * p.width + i];
            }
            let full = round < half || round >= half + p.partial_rounds;
            for s in &mut state[..if full { p.width } else { 1 }] {
                *s = pow5(s).unwrap();
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
        state.swap_remove(0)
    }

    /// One linear combination per mixed element gives the very matrices (after arkworks inlines
    /// the linear combinations) and witness of the operators' version, for every arity, with
    /// constant inputs among the variables, and all-constant inputs give a constant.
    #[test]
    fn mix_keeps_the_matrices_and_the_witness() {
        let mut rng = ark_std::test_rng();
        type Build = fn(&[FpVar<Fr>]) -> FpVar<Fr>;
        let gadget: Build = |v| hash_var(v).unwrap();
        for arity in [1usize, 2, 3, 4] {
            let values: Vec<Fr> = (0..arity).map(|_| Fr::rand(&mut rng)).collect();
            let run = |build: Build| {
                let cs = ConstraintSystem::<Fr>::new_ref();
                cs.set_optimization_goal(OptimizationGoal::Constraints);
                let vars: Vec<FpVar<Fr>> = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        if i == 1 {
                            FpVar::Constant(*v)
                        } else {
                            FpVar::new_witness(cs.clone(), || Ok(*v)).unwrap()
                        }
                    })
                    .collect();
                let out = build(&vars);
                cs.finalize();
                let m = cs.to_matrices().unwrap();
                let cs = cs.borrow().unwrap();
                (
                    out.value().unwrap(),
                    m.a,
                    m.b,
                    m.c,
                    cs.witness_assignment.clone(),
                )
            };
            assert_eq!(run(gadget), run(hash_var_by_operators), "arity {arity}");
            let constants: Vec<FpVar<Fr>> = values.iter().map(|v| FpVar::Constant(*v)).collect();
            let out = hash_var(&constants).unwrap();
            assert!(out.is_constant(), "arity {arity}");
            assert_eq!(out.value().unwrap(), hash(&values).unwrap());
        }
    }

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
