//! What a claim's transaction offers per gas: the node's estimate, a replacement's bump, and the
//! campaign's ceiling (`maxFeePerGasWei`). Plain decisions, tested without a chain; the driver
//! ([`super::driver`]) reads the chain and carries them out.

/// EIP-1559 fees, in wei per gas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    /// `maxFeePerGas`.
    pub max_fee: u128,
    /// `maxPriorityFeePerGas`.
    pub tip: u128,
}

impl Fees {
    /// The fees of a replacement: both raised by `percent` (rounded up), and at least `now`.
    pub fn bumped(self, percent: u32, now: Fees) -> Fees {
        let tip = bump(self.tip, percent).max(now.tip);
        Fees {
            max_fee: bump(self.max_fee, percent).max(now.max_fee).max(tip),
            tip,
        }
    }
}

fn bump(v: u128, percent: u32) -> u128 {
    v + (v * u128::from(percent)).div_ceil(100).max(1)
}

/// What the ceiling allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeDecision {
    /// Send with these fees (at most the ceiling).
    Send(Fees),
    /// Send nothing: the transaction would need to offer `needed` per gas, above `ceiling`.
    Wait {
        /// What it would need.
        needed: u128,
        /// The campaign's ceiling.
        ceiling: u128,
    },
}

/// A claim's first transaction (nothing of it in any pool): the node's `estimate`, or, when that
/// is above `ceiling`, the ceiling itself as long as it covers the next block's base fee and the
/// estimate's tip (the estimate doubles the base fee for headroom; the ceiling wins over headroom,
/// not over inclusion). Waits when even that is above the ceiling.
pub fn first(estimate: Fees, next_base_fee: u128, ceiling: Option<u128>) -> FeeDecision {
    let Some(ceiling) = ceiling else {
        return FeeDecision::Send(estimate);
    };
    if estimate.max_fee <= ceiling {
        return FeeDecision::Send(estimate);
    }
    let needed = next_base_fee.saturating_add(estimate.tip);
    if needed <= ceiling {
        FeeDecision::Send(Fees {
            max_fee: ceiling,
            tip: estimate.tip,
        })
    } else {
        FeeDecision::Wait { needed, ceiling }
    }
}

/// A replacement of `old` (same nonce): nodes take it only if both fees rise by `percent`
/// (the floor); it aims at `now` (the node's estimate) where that is higher, cut to the ceiling.
/// Waits when the floor itself is above the ceiling: `old` stays in the pool and may still be
/// mined when the base fee comes down to what it offers.
pub fn replacement(old: Fees, percent: u32, now: Fees, ceiling: Option<u128>) -> FeeDecision {
    let target = old.bumped(percent, now);
    let Some(ceiling) = ceiling else {
        return FeeDecision::Send(target);
    };
    let floor = bump(old.max_fee, percent);
    if floor > ceiling {
        return FeeDecision::Wait {
            needed: floor,
            ceiling,
        };
    }
    let max_fee = target.max_fee.min(ceiling);
    // The tip's floor (bump(old.tip)) is at most the max fee's floor, so this keeps both floors.
    FeeDecision::Send(Fees {
        max_fee,
        tip: target.tip.min(max_fee),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_raise_both_fees() {
        let old = Fees {
            max_fee: 100,
            tip: 10,
        };
        let low = Fees { max_fee: 1, tip: 1 };
        assert_eq!(
            old.bumped(25, low),
            Fees {
                max_fee: 125,
                tip: 13
            }
        );
        let high = Fees {
            max_fee: 1000,
            tip: 50,
        };
        assert_eq!(old.bumped(25, high), high);
        assert_eq!(
            Fees { max_fee: 1, tip: 1 }.bumped(10, low),
            Fees { max_fee: 2, tip: 2 }
        );
    }

    #[test]
    fn a_first_transaction_keeps_under_the_ceiling_or_waits() {
        let estimate = Fees {
            max_fee: 200,
            tip: 2,
        };
        assert_eq!(first(estimate, 99, None), FeeDecision::Send(estimate));
        assert_eq!(first(estimate, 99, Some(200)), FeeDecision::Send(estimate));
        // Over the ceiling, but the next block takes it at the ceiling: sent at the ceiling.
        assert_eq!(
            first(estimate, 99, Some(150)),
            FeeDecision::Send(Fees {
                max_fee: 150,
                tip: 2
            })
        );
        assert_eq!(
            first(estimate, 148, Some(150)),
            FeeDecision::Send(Fees {
                max_fee: 150,
                tip: 2
            })
        );
        // The base fee alone (and the tip) is above it: nothing is sent.
        assert_eq!(
            first(estimate, 149, Some(150)),
            FeeDecision::Wait {
                needed: 151,
                ceiling: 150
            }
        );
        assert_eq!(
            first(estimate, u128::MAX, Some(150)),
            FeeDecision::Wait {
                needed: u128::MAX,
                ceiling: 150
            }
        );
    }

    #[test]
    fn replacements_stop_compounding_at_the_ceiling() {
        let old = Fees {
            max_fee: 100,
            tip: 10,
        };
        let now = Fees {
            max_fee: 300,
            tip: 20,
        };
        // No ceiling: as before, the bump or the estimate, whichever is higher.
        assert_eq!(replacement(old, 25, now, None), FeeDecision::Send(now));
        // The estimate is cut to the ceiling, which still covers the bump nodes require.
        assert_eq!(
            replacement(old, 25, now, Some(200)),
            FeeDecision::Send(Fees {
                max_fee: 200,
                tip: 20
            })
        );
        assert_eq!(
            replacement(old, 25, now, Some(125)),
            FeeDecision::Send(Fees {
                max_fee: 125,
                tip: 20
            })
        );
        // The bump alone is above it: the old transaction is left to be mined, nothing sent.
        assert_eq!(
            replacement(old, 25, now, Some(124)),
            FeeDecision::Wait {
                needed: 125,
                ceiling: 124
            }
        );
        // Fees compounding replacement after replacement end at the ceiling, never above it.
        let mut fees = Fees {
            max_fee: 10,
            tip: 1,
        };
        let mut sent = 0;
        while let FeeDecision::Send(next) = replacement(fees, 10, fees, Some(1_000)) {
            assert!(
                next.max_fee <= 1_000 && next.tip <= next.max_fee,
                "{next:?}"
            );
            assert!(
                next.max_fee > fees.max_fee && next.tip > fees.tip,
                "{next:?}"
            );
            fees = next;
            sent += 1;
        }
        assert!(
            sent > 10 && bump(fees.max_fee, 10) > 1_000,
            "{fees:?} after {sent}"
        );
    }
}
