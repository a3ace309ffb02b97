//! The ranges of the runtime's numeric options, checked where the options come in (the browser
//! edge reads them from JS objects; the checks and their words live here, tested natively).

/// The longest delay a browser timer keeps: `setTimeout` stores it as a signed 32-bit number of
/// milliseconds, and anything longer fires at once (about 24.8 days).
pub const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// A duration in milliseconds that a timer can wait for: more than 0 and at most
/// [`MAX_TIMER_MS`]. The error says what is allowed, not what was given.
pub fn timer_ms(ms: f64) -> Result<f64, String> {
    if ms.is_finite() && ms > 0.0 && ms <= MAX_TIMER_MS {
        Ok(ms)
    } else {
        Err(format!(
            "must be a number of milliseconds above 0 and at most {MAX_TIMER_MS} (about 24.8 days)"
        ))
    }
}

/// `ms` as the `u32` a timer takes, within [`MAX_TIMER_MS`] whatever it is (negative and NaN: 0).
pub fn timer_delay(ms: f64) -> u32 {
    if ms.is_nan() {
        return 0;
    }
    ms.clamp(0.0, MAX_TIMER_MS) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_takes_what_set_timeout_keeps_and_nothing_else() {
        assert_eq!(timer_ms(1.0), Ok(1.0));
        assert_eq!(timer_ms(MAX_TIMER_MS), Ok(MAX_TIMER_MS));
        // 2^31 ms would be cast to a negative i32 by the browser and fire at once.
        for bad in [2f64.powi(31), 0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(timer_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timer_delays_stay_in_range() {
        assert_eq!(timer_delay(2f64.powi(40)), MAX_TIMER_MS as u32);
        assert_eq!(timer_delay(-5.0), 0);
        assert_eq!(timer_delay(f64::NAN), 0);
        assert_eq!(timer_delay(1500.4), 1500);
        assert!(timer_delay(f64::INFINITY) <= i32::MAX as u32);
    }
}
