//! The benchmark circuit `square-chain-{N}`: public `x0` and `y`, N constraints
//! `x_{i+1} = x_i * x_i`, `y = x_N` — exactly this shape, so timings compare across provers.

use ark_ff::Field;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use super::id::CircuitId;
use crate::field::Fr;

/// `square-chain-{n}`, with `x0` when proving.
#[derive(Debug, Clone)]
pub struct SquareChain {
    /// Number of squarings N.
    pub n: u32,
    /// The start value, None for setup.
    pub x0: Option<Fr>,
}

impl SquareChain {
    /// The circuit without values, for setup.
    pub fn blank(n: u32) -> Self {
        SquareChain { n, x0: None }
    }

    /// The circuit proving the chain from `x0`.
    pub fn new(n: u32, x0: Fr) -> Self {
        SquareChain { n, x0: Some(x0) }
    }

    /// `x0^(2^n)`, the public output.
    pub fn output(n: u32, x0: Fr) -> Fr {
        (0..n).fold(x0, |x, _| x.square())
    }

    /// The public inputs `[x0, y]`.
    pub fn public_inputs(&self) -> Option<Vec<Fr>> {
        self.x0.map(|x0| vec![x0, Self::output(self.n, x0)])
    }

    /// The circuit's id.
    pub fn id(&self) -> CircuitId {
        CircuitId::SquareChain { n: self.n }
    }
}

impl ConstraintSynthesizer<Fr> for SquareChain {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let public = self.public_inputs();
        let x0 = FpVar::new_input(cs.clone(), || {
            public
                .as_ref()
                .map(|p| p[0])
                .ok_or(SynthesisError::AssignmentMissing)
        })?;
        let y = FpVar::new_input(cs.clone(), || {
            public
                .as_ref()
                .map(|p| p[1])
                .ok_or(SynthesisError::AssignmentMissing)
        })?;
        let mut x = x0;
        for _ in 1..self.n {
            x = x.square()?;
        }
        // The last squaring lands on the public output: N constraints in all, not N + 1.
        x.mul_equals(&x, &y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::r1cs::ConstraintSystem;

    #[test]
    fn exactly_n_constraints_and_satisfied() {
        for n in [1u32, 2, 5, 64] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            SquareChain::new(n, Fr::from(3u64))
                .generate_constraints(cs.clone())
                .unwrap();
            assert_eq!(cs.num_constraints(), n as usize);
            assert_eq!(cs.num_instance_variables(), 3);
            assert!(cs.is_satisfied().unwrap());
        }
        assert_eq!(SquareChain::output(2, Fr::from(3u64)), Fr::from(81u64));
    }
}
