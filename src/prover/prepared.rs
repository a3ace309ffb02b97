//! A proving key prepared for proving: its queries in the form the MSM kernel takes, and the
//! circuit's constraint matrices.
//!
//! For the wasm kernel ([`Kernel::Wasm29`]) the query points are converted to 29-bit limbs once,
//! when the key is loaded, and arkworks' copies are dropped: a proof then converts nothing and
//! the key takes about the memory it did. The native kernel ([`Kernel::Native64`]) shares
//! arkworks' Montgomery form: its points are copies, made once. The matrices come from the key file (version 2) or,
//! for a key without them, from the first proof, which builds them and keeps them here.

use std::sync::{Arc, Mutex};

use ark_bn254::{G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ff::BigInt;

use super::matrices::Matrices;
use super::msm::curve::Affine;
use super::msm::field::{Fp2, Fq29};
use super::msm::fp64::Fp64;
use super::msm::{self, Kernel};
use super::qap::Reduction;
use super::{ProvingKey, VerifyingKey};
use crate::error::{Error, Result};

/// The G1 queries of a proving key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G1Query {
    /// A(tau) of every variable.
    A,
    /// B(tau) of every variable, in G1.
    B,
    /// The powers for H.
    H,
    /// The witness part of C.
    L,
}

enum Queries {
    Arkworks {
        g1: [Vec<G1Affine>; 4],
        b_g2: Vec<G2Affine>,
    },
    Wasm29 {
        g1: [Vec<Affine<Fq29>>; 4],
        b_g2: Vec<Affine<Fp2<Fq29>>>,
    },
    Native64 {
        g1: [Vec<Affine<Fp64>>; 4],
        b_g2: Vec<Affine<Fp2<Fp64>>>,
    },
}

/// A proving key ready to prove with (see the module docs).
pub struct PreparedProvingKey {
    vk: VerifyingKey,
    beta_g1: G1Affine,
    delta_g1: G1Affine,
    /// The first entry of A, B1 and B2: the constant variable's, added outside the MSMs.
    first: (G1Affine, G1Affine, G2Affine),
    /// Lengths of the A, B, H and L queries and of B2.
    lengths: [usize; 5],
    queries: Queries,
    matrices: Mutex<Option<Arc<Matrices>>>,
    reduction: Reduction,
}

impl PreparedProvingKey {
    /// Prepares `pk` for `kernel`, with its circuit's matrices when known.
    pub fn new(pk: ProvingKey, matrices: Option<Matrices>, kernel: Kernel) -> Result<Self> {
        let ProvingKey {
            vk,
            beta_g1,
            delta_g1,
            a_query,
            b_g1_query,
            b_g2_query,
            h_query,
            l_query,
        } = pk;
        let (Some(a0), Some(b0), Some(b20)) =
            (a_query.first(), b_g1_query.first(), b_g2_query.first())
        else {
            return Err(Error::key_integrity(
                "the proving key has empty A or B queries",
            ));
        };
        let first = (*a0, *b0, *b20);
        let lengths = [
            a_query.len(),
            b_g1_query.len(),
            h_query.len(),
            l_query.len(),
            b_g2_query.len(),
        ];
        let g1 = [a_query, b_g1_query, h_query, l_query];
        let queries = match kernel {
            Kernel::Arkworks => Queries::Arkworks {
                g1,
                b_g2: b_g2_query,
            },
            Kernel::Wasm29 => Queries::Wasm29 {
                g1: g1.map(|q| msm::prepare_g1(&q)),
                b_g2: msm::prepare_g2(&b_g2_query),
            },
            Kernel::Native64 => Queries::Native64 {
                g1: g1.map(|q| msm::native::prepare_g1(&q)),
                b_g2: msm::native::prepare_g2(&b_g2_query),
            },
        };
        Ok(PreparedProvingKey {
            vk,
            beta_g1,
            delta_g1,
            first,
            lengths,
            queries,
            matrices: Mutex::new(matrices.map(Arc::new)),
            reduction: Reduction::Libsnark,
        })
    }

    /// The key made for `reduction` (a key from a zkey: [`Reduction::Circom`]); keys are
    /// [`Reduction::Libsnark`]'s unless said.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The witness map the key needs.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The verifying key inside.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.vk
    }

    /// The MSM kernel the queries are prepared for.
    pub fn kernel(&self) -> Kernel {
        match self.queries {
            Queries::Arkworks { .. } => Kernel::Arkworks,
            Queries::Wasm29 { .. } => Kernel::Wasm29,
            Queries::Native64 { .. } => Kernel::Native64,
        }
    }

    /// `beta` in G1.
    pub fn beta_g1(&self) -> G1Affine {
        self.beta_g1
    }

    /// `delta` in G1.
    pub fn delta_g1(&self) -> G1Affine {
        self.delta_g1
    }

    /// The constant variable's entries of A, B1 and B2.
    pub fn first(&self) -> (G1Affine, G1Affine, G2Affine) {
        self.first
    }

    /// Length of a G1 query.
    pub fn len(&self, q: G1Query) -> usize {
        self.lengths[q as usize]
    }

    /// Length of the B2 query.
    pub fn len_b_g2(&self) -> usize {
        self.lengths[4]
    }

    /// The matrices, if the key file carried them or a proof built them.
    pub fn matrices(&self) -> Option<Arc<Matrices>> {
        self.matrices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Keeps matrices a proof built, for the next proofs.
    pub fn keep_matrices(&self, m: Arc<Matrices>) {
        *self.matrices.lock().unwrap_or_else(|e| e.into_inner()) = Some(m);
    }

    /// `sum(scalars[i] * q[skip + i])`.
    pub fn msm_g1(&self, q: G1Query, skip: usize, scalars: &[BigInt<4>]) -> G1Projective {
        match &self.queries {
            Queries::Arkworks { g1, .. } => {
                msm::g1(Kernel::Arkworks, &g1[q as usize][skip..], scalars)
            }
            Queries::Wasm29 { g1, .. } => msm::g1_prepared(&g1[q as usize][skip..], scalars),
            Queries::Native64 { g1, .. } => msm::native::g1(&g1[q as usize][skip..], scalars),
        }
    }

    /// `sum(scalars[i] * b_g2[skip + i])`.
    pub fn msm_b_g2(&self, skip: usize, scalars: &[BigInt<4>]) -> G2Projective {
        match &self.queries {
            Queries::Arkworks { b_g2, .. } => msm::g2(Kernel::Arkworks, &b_g2[skip..], scalars),
            Queries::Wasm29 { b_g2, .. } => msm::g2_prepared(&b_g2[skip..], scalars),
            Queries::Native64 { b_g2, .. } => msm::native::g2(&b_g2[skip..], scalars),
        }
    }
}

impl core::fmt::Debug for PreparedProvingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreparedProvingKey")
            .field("kernel", &self.kernel())
            .field("lengths", &self.lengths)
            .field("matrices", &self.matrices().is_some())
            .field("reduction", &self.reduction)
            .finish_non_exhaustive()
    }
}
