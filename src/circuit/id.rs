//! Circuit ids: the built-in circuits `threshold-d{D}-k{K}`, `exact-d{D}-k{K}` and
//! `square-chain-{N}`, and circom circuits a key directory or manifest names (`my-circuit`).
//!
//! A circom circuit's id is `[a-z0-9][a-z0-9-]{0,63}` and may not take a built-in id's form: a
//! string that starts with `threshold-`, `exact-` or `square-chain-` is a built-in id or nothing,
//! so a mistyped `threshold-d20-k08` is UNKNOWN_CIRCUIT, never a circom circuit of that name.

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
    /// A circom circuit, proved from a snarkjs `.zkey` and circom's witness wasm.
    Circom(CircomName),
}

/// Prefixes only built-in ids have.
const BUILT_IN_PREFIXES: [&str; 3] = ["threshold-", "exact-", "square-chain-"];

/// A circom circuit's id: `[a-z0-9][a-z0-9-]{0,63}`, not in a built-in id's form. Held inline so
/// that [`CircuitId`] stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CircomName {
    len: u8,
    bytes: [u8; CircomName::MAX_LEN],
}

impl CircomName {
    /// Longest id.
    pub const MAX_LEN: usize = 64;

    /// The name, checked.
    pub fn new(s: &str) -> Result<Self, Error> {
        let unknown = |reason: &str| Error::UnknownCircuit {
            id: s.chars().take(Self::MAX_LEN + 8).collect(),
            reason: reason.into(),
        };
        let b = s.as_bytes();
        let lower = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        if b.is_empty()
            || b.len() > Self::MAX_LEN
            || !lower(&b[0])
            || !b.iter().all(|c| lower(c) || *c == b'-')
        {
            return Err(unknown(
                "a circom circuit's id is 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit",
            ));
        }
        if BUILT_IN_PREFIXES.iter().any(|p| s.starts_with(p)) {
            return Err(unknown("has a built-in circuit's prefix"));
        }
        let mut bytes = [0; Self::MAX_LEN];
        bytes[..b.len()].copy_from_slice(b);
        Ok(CircomName {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("checked ASCII")
    }
}

impl fmt::Debug for CircomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
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

    /// Number of public inputs (not counting the constant one), for a built-in circuit; a
    /// circom circuit's is in its key.
    pub fn num_public_inputs(&self) -> Option<usize> {
        match self {
            CircuitId::Claim { .. } => Some(5),
            CircuitId::SquareChain { .. } => Some(2),
            CircuitId::Circom(_) => None,
        }
    }

    /// Whether this is a circom circuit (its keys come from a `.zkey`).
    pub fn is_circom(&self) -> bool {
        matches!(self, CircuitId::Circom(_))
    }
}

impl fmt::Display for CircuitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CircuitId::Claim { rule, depth, slots } => {
                write!(f, "{}-d{depth}-k{slots}", rule.prefix())
            }
            CircuitId::SquareChain { n } => write!(f, "square-chain-{n}"),
            CircuitId::Circom(name) => f.write_str(name.as_str()),
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
        let expected = "expected threshold-d{D}-k{K}, exact-d{D}-k{K}, square-chain-{N} or a \
                        circom circuit's id ([a-z0-9][a-z0-9-]{0,63})";
        if !BUILT_IN_PREFIXES.iter().any(|p| s.starts_with(p)) {
            return CircomName::new(s)
                .map(CircuitId::Circom)
                .map_err(|_| unknown(expected));
        }
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
    fn any_other_lowercase_name_is_a_circom_circuit() {
        for s in ["semaphore", "sum-d20-k8", "a", "0x-1", &"z".repeat(64)] {
            let id: CircuitId = s.parse().unwrap();
            assert!(id.is_circom(), "{s}");
            assert_eq!(id.to_string(), s);
            assert_eq!(id.num_public_inputs(), None);
        }
        // A built-in id's form is never a circom circuit's name.
        assert!(CircomName::new("threshold-anything").is_err());
        assert!(CircomName::new("square-chain-x").is_err());
        assert!(CircomName::new("exact-").is_err());
    }

    #[test]
    fn rejects_unknown_and_out_of_range() {
        for s in [
            "",
            "threshold-",
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
            "Sum-d20-k8",
            "-circuit",
            "my_circuit",
            &"a".repeat(65),
        ] {
            let err = s.parse::<CircuitId>().unwrap_err();
            assert_eq!(err.code(), "UNKNOWN_CIRCUIT", "{s}");
        }
    }
}
