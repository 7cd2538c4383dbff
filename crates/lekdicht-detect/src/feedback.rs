//! Learning from reviewers' decisions: how often an alert carrying a signal turned out real, per
//! signal, turned into the multiplier of that signal's surprise for the next run.
//!
//! Every decided alert counts for each signal that carried real weight in it (at least one bit of
//! surprise): an escalated alert as real, a dismissed one as not. A signal's precision is estimated
//! with a prior worth [`PRIOR_DECISIONS`] decisions at the organisation's overall precision, so a
//! handful of decisions moves it a little and many move it a lot; its multiplier is that precision
//! over the overall one, between [`MIN_MULTIPLIER`] and [`MAX_MULTIPLIER`]. Nothing here is hidden
//! or permanent: the table says what was learned from how many decisions, and a run without
//! feedback uses the configured multipliers alone.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::codes::SignalCode;

/// Weight of the prior, in decisions.
pub const PRIOR_DECISIONS: f64 = 4.0;
/// The lowest learned multiplier: a signal is damped, never silenced, by decisions.
pub const MIN_MULTIPLIER: f64 = 0.25;
/// The highest learned multiplier.
pub const MAX_MULTIPLIER: f64 = 2.0;

/// One decided alert: the signals that carried it and whether it was real.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub signals: Vec<SignalCode>,
    pub real: bool,
}

/// What was learned about one signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Learned {
    pub code: SignalCode,
    pub real: u32,
    pub not_real: u32,
    /// Estimated share of alerts carrying the signal that are real.
    pub precision: f64,
    pub multiplier: f64,
}

/// Learns a multiplier per signal from decisions; signals without decisions are left out.
pub fn learn(decisions: &[Decision]) -> Vec<Learned> {
    if decisions.is_empty() {
        return Vec::new();
    }
    let overall = decisions.iter().filter(|d| d.real).count() as f64 / decisions.len() as f64;
    // Kept away from 0 and 1 so that one lopsided month cannot zero or saturate the prior.
    let overall = overall.clamp(0.05, 0.95);
    let mut tally: BTreeMap<SignalCode, (u32, u32)> = BTreeMap::new();
    for d in decisions {
        let mut seen = d.signals.clone();
        seen.sort();
        seen.dedup();
        for code in seen {
            let entry = tally.entry(code).or_default();
            if d.real {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
    }
    tally
        .into_iter()
        .map(|(code, (real, not_real))| {
            let precision = (f64::from(real) + PRIOR_DECISIONS * overall)
                / (f64::from(real + not_real) + PRIOR_DECISIONS);
            Learned {
                code,
                real,
                not_real,
                precision,
                multiplier: (precision / overall).clamp(MIN_MULTIPLIER, MAX_MULTIPLIER),
            }
        })
        .collect()
}

/// Applies learned multipliers on top of configured ones (a configured 0 stays 0).
pub fn apply(configured: &mut BTreeMap<SignalCode, f64>, learned: &[Learned]) {
    for l in learned {
        let entry = configured.entry(l.code).or_insert(1.0);
        *entry = (*entry * l.multiplier).clamp(0.0, 4.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(signals: &[SignalCode], real: bool) -> Decision {
        Decision {
            signals: signals.to_vec(),
            real,
        }
    }

    #[test]
    fn dismissed_signals_are_damped_and_confirmed_ones_raised() {
        use SignalCode::*;
        let mut decisions = Vec::new();
        for _ in 0..8 {
            decisions.push(decision(&[ColleagueRecord], false));
            decisions.push(decision(&[SelfLookup], true));
        }
        decisions.push(decision(&[SelfLookup, ColleagueRecord, SelfLookup], true));
        let learned = learn(&decisions);
        let of = |c| learned.iter().find(|l| l.code == c).unwrap();
        assert!(
            of(ColleagueRecord).multiplier < 0.6,
            "{:?}",
            of(ColleagueRecord)
        );
        assert!(of(SelfLookup).multiplier > 1.4, "{:?}", of(SelfLookup));
        assert_eq!(of(SelfLookup).real, 9, "a signal counts once per decision");
        assert_eq!(of(ColleagueRecord).not_real, 8);
    }

    #[test]
    fn few_decisions_move_little_and_ignored_signals_stay_ignored() {
        use SignalCode::*;
        let learned = learn(&[
            decision(&[FlaggedSubject], false),
            decision(&[SelfLookup], true),
        ]);
        let flagged = learned.iter().find(|l| l.code == FlaggedSubject).unwrap();
        assert!(
            flagged.multiplier > 0.6 && flagged.multiplier < 1.0,
            "{flagged:?}"
        );
        let mut configured = BTreeMap::from([(FlaggedSubject, 0.0)]);
        apply(&mut configured, &learned);
        assert_eq!(configured[&FlaggedSubject], 0.0);
        assert!(configured[&SelfLookup] > 1.0);
        assert!(learn(&[]).is_empty());
    }
}
