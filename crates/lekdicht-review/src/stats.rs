//! The Wilson score interval for a proportion.
//!
//! Used for precision per detection signal and for the sample audit's estimate of the share of
//! unlawful accesses. Wilson rather than the normal ("Wald") interval because it stays inside
//! [0, 1] and behaves well for small counts and for proportions near 0, which is exactly where
//! these figures live. Deliberately absent: other interval methods and hypothesis tests.

use serde::{Deserialize, Serialize};

/// A point estimate with its confidence interval, all in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The observed proportion.
    pub estimate: f64,
    /// Lower bound of the interval.
    pub low: f64,
    /// Upper bound of the interval.
    pub high: f64,
}

impl Interval {
    /// The interval of a proportion about which nothing is known: estimate 0, bounds 0 and 1.
    pub const UNKNOWN: Interval = Interval {
        estimate: 0.0,
        low: 0.0,
        high: 1.0,
    };
}

/// The standard normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.959963984540054;

/// Wilson score interval for `successes` out of `n` (n = 0 gives estimate 0, low 0, high 1).
/// `successes` larger than `n` are counted as `n`.
pub fn wilson(successes: u64, n: u64, z: f64) -> Interval {
    let successes = successes.min(n);
    wilson_fractional(successes as f64, n as f64, z)
}

/// Wilson score interval for a possibly fractional count `x` out of an effective sample size `n`,
/// as used for the stratified estimate with a Kish effective sample size. `n` that is not a
/// positive finite number gives [`Interval::UNKNOWN`]; `x` is clamped to [0, n].
pub fn wilson_fractional(x: f64, n: f64, z: f64) -> Interval {
    if !(n.is_finite() && n > 0.0) || x.is_nan() {
        return Interval::UNKNOWN;
    }
    let x = x.clamp(0.0, n);
    let p = x / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At the edges the bound is exactly 0 or 1; rounding must not move it.
    let low = if x == 0.0 { 0.0 } else { centre - half };
    let high = if x == n { 1.0 } else { centre + half };
    Interval {
        estimate: p,
        low: low.clamp(0.0, 1.0),
        high: high.clamp(0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(successes: u64, n: u64, expect: (f64, f64, f64)) {
        let got = wilson(successes, n, Z95);
        let (estimate, low, high) = expect;
        assert!(
            (got.estimate - estimate).abs() < 5e-5,
            "{successes}/{n}: {got:?}"
        );
        assert!((got.low - low).abs() < 5e-5, "{successes}/{n}: {got:?}");
        assert!((got.high - high).abs() < 5e-5, "{successes}/{n}: {got:?}");
    }

    #[test]
    fn known_answers() {
        check(0, 0, (0.0, 0.0, 1.0));
        check(0, 10, (0.0, 0.0, 0.2775));
        check(5, 10, (0.5, 0.2366, 0.7634));
        check(10, 10, (1.0, 0.7225, 1.0));
        // 81/263: p = 0.30798; centre = (p + z²/526) / (1 + z²/263) = 0.31075,
        // half-width = z / (1 + z²/263) * sqrt(p(1-p)/263 + z²/(4*263²)) = 0.05546.
        check(81, 263, (0.307985, 0.2553, 0.3662));
        check(1, 1000, (0.001, 0.000177, 0.005643));
    }

    #[test]
    fn edges_are_exact_and_inputs_do_not_escape() {
        let zero = wilson(0, 7, Z95);
        assert_eq!(zero.low, 0.0);
        let all = wilson(7, 7, Z95);
        assert_eq!(all.high, 1.0);
        assert_eq!(wilson(9, 7, Z95), all);
        assert_eq!(wilson_fractional(1.0, f64::NAN, Z95), Interval::UNKNOWN);
        assert_eq!(wilson_fractional(1.0, -3.0, Z95), Interval::UNKNOWN);
        assert_eq!(wilson_fractional(3.5, 7.0, Z95).estimate, 0.5);
    }

    #[test]
    fn fractional_equals_integer_for_whole_counts() {
        assert_eq!(wilson(81, 263, Z95), wilson_fractional(81.0, 263.0, Z95));
    }
}
