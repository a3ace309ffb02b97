//! Fallbacks: which wasm build a page can run, and the smallest circuit that still proves a claim
//! when a large one runs out of memory.

use serde::{Deserialize, Serialize};

use crate::circuit::choice::{heaviest, Weighted};
use crate::circuit::{CircuitId, ScoreRule};
use crate::claim::Claim;

/// A wasm build: `threaded` or `single`, in every message and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Build {
    /// Rayon over Web Workers and SharedArrayBuffer.
    Threaded,
    /// One thread: runs on any page.
    Single,
}

impl Build {
    /// `threaded` or `single`.
    pub fn as_str(self) -> &'static str {
        match self {
            Build::Threaded => "threaded",
            Build::Single => "single",
        }
    }
}

/// What the page offers, as the web layer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCapabilities {
    /// `globalThis.crossOriginIsolated` (COOP `same-origin` and COEP `require-corp`).
    pub cross_origin_isolated: bool,
    /// `typeof SharedArrayBuffer !== 'undefined'`.
    pub shared_array_buffer: bool,
    /// `navigator.hardwareConcurrency`.
    pub hardware_concurrency: u32,
}

/// The build to run, the number of threads, and why, in words for the status line. `requested`
/// is the options' `build` (None: auto). Single asked for is single. Threaded asked for where the
/// page cannot give threads is still threaded (at least 2 threads): its worker then reports
/// THREADS_UNAVAILABLE and the runtime falls back, and the reason says so now.
pub fn choose_build(
    page: PageCapabilities,
    requested_threads: Option<u32>,
    requested: Option<Build>,
) -> (Build, u32, String) {
    let (build, threads, why) = offered_build(page, requested_threads);
    match requested {
        Some(Build::Single) => (
            Build::Single,
            1,
            "single-threaded: requested by the options".into(),
        ),
        Some(Build::Threaded) if build == Build::Single => (
            Build::Threaded,
            threads.max(2),
            format!("threaded requested, but {why}"),
        ),
        _ => (build, threads, why),
    }
}

/// The build the page offers, its threads and why.
fn offered_build(page: PageCapabilities, requested_threads: Option<u32>) -> (Build, u32, String) {
    let threads = requested_threads
        .unwrap_or(page.hardware_concurrency)
        .max(1);
    if !page.cross_origin_isolated {
        return (
            Build::Single,
            1,
            "single-threaded: the page is not cross-origin isolated (it needs the headers \
             Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)"
                .into(),
        );
    }
    if !page.shared_array_buffer {
        return (
            Build::Single,
            1,
            "single-threaded: this browser has no SharedArrayBuffer".into(),
        );
    }
    if threads < 2 {
        return (
            Build::Single,
            1,
            "single-threaded: one thread requested or available".into(),
        );
    }
    (
        Build::Threaded,
        threads,
        format!("threaded: {threads} threads (cross-origin isolated)"),
    )
}

/// The smallest circuit among `available` that still proves `claim`, with the claim rewritten for
/// it; None when no smaller circuit fits.
///
/// A threshold claim needs only enough of its heaviest attestations to reach the threshold; an
/// exact claim needs all of them (the score is their sum). The depth and rule never change.
pub fn smaller_circuit(claim: &Claim, available: &[CircuitId]) -> Option<Claim> {
    let needed = match claim.rule {
        ScoreRule::Exact => claim.attestations.len(),
        ScoreRule::Threshold => {
            let mut weights: Vec<u64> =
                claim.attestations.iter().map(|a| a.weight.into()).collect();
            weights.sort_unstable_by(|a, b| b.cmp(a));
            let mut sum = 0;
            weights
                .iter()
                .take_while(|w| {
                    let short = sum < claim.target;
                    sum += **w;
                    short
                })
                .count()
                .max(1)
        }
    };
    let slots = available
        .iter()
        .filter_map(|id| match *id {
            CircuitId::Claim { rule, depth, slots }
                if rule == claim.rule
                    && depth == claim.depth
                    && slots < claim.slots
                    && slots as usize >= needed =>
            {
                Some(slots)
            }
            _ => None,
        })
        .min()?;
    // Keep the heaviest, in index order (all of them when they fit).
    let weights: Vec<Weighted> = claim
        .attestations
        .iter()
        .map(|a| Weighted {
            index: a.index,
            weight: a.weight,
        })
        .collect();
    let kept = heaviest(&weights, slots as usize)
        .into_iter()
        .map(|p| claim.attestations[p].clone())
        .collect();
    Some(Claim {
        circuit: CircuitId::Claim {
            rule: claim.rule,
            depth: claim.depth,
            slots,
        },
        slots,
        attestations: kept,
        ..claim.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::sample::sample;

    fn page(coi: bool, sab: bool, cores: u32) -> PageCapabilities {
        PageCapabilities {
            cross_origin_isolated: coi,
            shared_array_buffer: sab,
            hardware_concurrency: cores,
        }
    }

    #[test]
    fn build_choice() {
        assert_eq!(
            choose_build(page(true, true, 8), None, None).0,
            Build::Threaded
        );
        assert_eq!(choose_build(page(true, true, 8), None, None).1, 8);
        assert_eq!(choose_build(page(true, true, 8), Some(2), None).1, 2);
        let (b, t, why) = choose_build(page(false, false, 8), None, None);
        assert_eq!((b, t), (Build::Single, 1));
        assert!(why.contains("Cross-Origin-Opener-Policy"));
        assert_eq!(
            choose_build(page(true, false, 8), None, None).0,
            Build::Single
        );
        assert_eq!(
            choose_build(page(true, true, 1), None, None).0,
            Build::Single
        );
    }

    #[test]
    fn the_options_build_is_decided_here_too() {
        let single = Some(Build::Single);
        let threaded = Some(Build::Threaded);
        // Single asked for is single, even on a page that offers threads.
        let (b, t, why) = choose_build(page(true, true, 8), None, single);
        assert_eq!((b, t), (Build::Single, 1));
        assert!(why.contains("requested by the options"), "{why}");
        // Threaded asked for where it cannot run: tried anyway (the worker reports
        // THREADS_UNAVAILABLE), with 2 threads (the page offered none) and the page's reason.
        let (b, t, why) = choose_build(page(false, false, 8), None, threaded);
        assert_eq!((b, t), (Build::Threaded, 2));
        assert!(why.starts_with("threaded requested, but single-threaded: the page is not"));
        let (b, t, _) = choose_build(page(true, true, 1), None, threaded);
        assert_eq!((b, t), (Build::Threaded, 2));
        // Threaded asked for where it runs, and auto: the page's choice.
        assert_eq!(
            choose_build(page(true, true, 4), Some(3), threaded),
            choose_build(page(true, true, 4), Some(3), None)
        );
    }

    fn claim(id: &str) -> Claim {
        Claim::from_value(&sample(&id.parse().unwrap(), 40, 5).unwrap().claim).unwrap()
    }

    #[test]
    fn threshold_claim_falls_back_to_the_heaviest_subset() {
        let c = claim("threshold-d8-k8");
        let ids: Vec<CircuitId> = [
            "threshold-d8-k2",
            "threshold-d8-k4",
            "threshold-d8-k6",
            "threshold-d8-k8",
            "threshold-d9-k1",
            "exact-d8-k1",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let smaller = smaller_circuit(&c, &ids).expect("a smaller circuit fits");
        let CircuitId::Claim { slots, .. } = smaller.circuit else {
            panic!()
        };
        assert!(slots < 8);
        // It is still a valid claim: the subset reaches the threshold and the paths still hold.
        let reparsed = Claim::from_value(&smaller.to_canonical_json()).unwrap();
        assert_eq!(reparsed, smaller);
        assert!(smaller.sum() >= c.target);
        // The smallest that fits: one fewer slot would not reach the threshold.
        let mut weights: Vec<u64> = c.attestations.iter().map(|a| a.weight.into()).collect();
        weights.sort_unstable_by(|a, b| b.cmp(a));
        let needed = (1..=8)
            .find(|m| weights[..*m].iter().sum::<u64>() >= c.target)
            .unwrap();
        let expected = [2u32, 4, 6]
            .into_iter()
            .find(|k| *k as usize >= needed)
            .unwrap();
        assert_eq!(slots, expected);
    }

    #[test]
    fn exact_claim_needs_all_attestations() {
        let c = claim("exact-d8-k8");
        let ids: Vec<CircuitId> = ["exact-d8-k4", "exact-d8-k2"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(
            smaller_circuit(&c, &ids).is_none(),
            "8 attestations do not fit 4 slots"
        );
    }

    #[test]
    fn nothing_smaller_available() {
        let c = claim("threshold-d8-k4");
        assert!(smaller_circuit(&c, &["threshold-d8-k4".parse().unwrap()]).is_none());
    }
}
