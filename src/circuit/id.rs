//! Circuit ids: `threshold-d{D}-k{K}`, `exact-d{D}-k{K}` and `square-chain-{N}`.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Largest tree depth.
pub const MAX_DEPTH: u32 = 32;
/// Largest number of attestation slots.
pub const MAX_SLOTS: u32 = 64;
/// Largest square-chain length (a bench circuit: 2^22 constraints is already more than a browser
/// holds comfortably).
pub const MAX_SQUARES: u32 = 1 << 22;

/// Which rule the claim's score obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScoreRule {
    /// `sum(weights) >= threshold`.
    Threshold,
    /// `sum(weights) == score`.
    Exact,
}

impl ScoreRule {
    /// `threshold` or `exact`: the circuit id's prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            ScoreRule::Threshold => "threshold",
            ScoreRule::Exact => "exact",
        }
    }

    /// Name of the public signal and the claim field: `threshold` or `score`.
    pub fn field(self) -> &'static str {
        match self {
            ScoreRule::Threshold => "threshold",
            ScoreRule::Exact => "score",
        }
    }
}

/// A circuit airprover can set up and prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitId {
    /// The reputation claim over a tree of `depth` with `slots` attestation slots.
    Claim {
        /// Threshold or exact score.
        rule: ScoreRule,
        /// Tree depth D, 1..=32.
        depth: u32,
        /// Attestation slots K, 1..=64.
        slots: u32,
    },
    /// The benchmark circuit: `x_{i+1} = x_i^2`, N times.
    SquareChain {
        /// N, the number of squarings.
        n: u32,
    },
}

impl CircuitId {
    /// A claim circuit id, validated.
    pub fn claim(rule: ScoreRule, depth: u32, slots: u32) -> Result<Self, Error> {
        let id = CircuitId::Claim { rule, depth, slots };
        id.validate()?;
        Ok(id)
    }

    fn validate(&self) -> Result<(), Error> {
        let reason = match *self {
            CircuitId::Claim { depth, .. } if !(1..=MAX_DEPTH).contains(&depth) => {
                format!("depth {depth} is not in 1..={MAX_DEPTH}")
            }
            CircuitId::Claim { slots, .. } if !(1..=MAX_SLOTS).contains(&slots) => {
                format!("K {slots} is not in 1..={MAX_SLOTS}")
            }
            CircuitId::SquareChain { n } if !(1..=MAX_SQUARES).contains(&n) => {
                format!("N {n} is not in 1..={MAX_SQUARES}")
            }
            _ => return Ok(()),
        };
        Err(Error::UnknownCircuit {
            id: self.to_string(),
            reason,
        })
    }

    /// Number of public inputs (not counting the constant one).
    pub fn num_public_inputs(&self) -> usize {
        match self {
            CircuitId::Claim { .. } => 5,
            CircuitId::SquareChain { .. } => 2,
        }
    }
}

impl fmt::Display for CircuitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CircuitId::Claim { rule, depth, slots } => {
                write!(f, "{}-d{depth}-k{slots}", rule.prefix())
            }
            CircuitId::SquareChain { n } => write!(f, "square-chain-{n}"),
        }
    }
}

impl FromStr for CircuitId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let unknown = |reason: &str| Error::UnknownCircuit {
            id: s.into(),
            reason: reason.into(),
        };
        let expected = "expected threshold-d{D}-k{K}, exact-d{D}-k{K} or square-chain-{N}";
        let id = if let Some(n) = s.strip_prefix("square-chain-") {
            CircuitId::SquareChain {
                n: decimal(n).ok_or_else(|| unknown(expected))?,
            }
        } else {
            let (rule, rest) = if let Some(rest) = s.strip_prefix("threshold-d") {
                (ScoreRule::Threshold, rest)
            } else if let Some(rest) = s.strip_prefix("exact-d") {
                (ScoreRule::Exact, rest)
            } else {
                return Err(unknown(expected));
            };
            let (d, k) = rest.split_once("-k").ok_or_else(|| unknown(expected))?;
            CircuitId::Claim {
                rule,
                depth: decimal(d).ok_or_else(|| unknown(expected))?,
                slots: decimal(k).ok_or_else(|| unknown(expected))?,
            }
        };
        id.validate()?;
        // One spelling per circuit: `threshold-d020-k8` is not `threshold-d20-k8`.
        if id.to_string() != s {
            return Err(unknown(expected));
        }
        Ok(id)
    }
}

fn decimal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in [
            "threshold-d20-k8",
            "exact-d1-k1",
            "threshold-d32-k64",
            "square-chain-65536",
        ] {
            assert_eq!(s.parse::<CircuitId>().unwrap().to_string(), s);
        }
        assert_eq!(
            "exact-d3-k2".parse::<CircuitId>().unwrap(),
            CircuitId::Claim {
                rule: ScoreRule::Exact,
                depth: 3,
                slots: 2
            }
        );
    }

    #[test]
    fn rejects_unknown_and_out_of_range() {
        for s in [
            "",
            "threshold",
            "threshold-d0-k8",
            "threshold-d33-k8",
            "threshold-d20-k0",
            "threshold-d20-k65",
            "threshold-d020-k8",
            "threshold-d20-k8 ",
            "threshold-d-k8",
            "threshold-d+1-k8",
            "square-chain-0",
            "square-chain-x",
            "sum-d20-k8",
        ] {
            let err = s.parse::<CircuitId>().unwrap_err();
            assert_eq!(err.code(), "UNKNOWN_CIRCUIT", "{s}");
        }
    }
}
