//! Quality figures of detection against an answer key: share of legitimate events explained,
//! recall and precision of alerts, alert volume, event-level average precision, recall per
//! violation kind, and fairness across employee groups.
//!
//! The answer key is used here only; the engine never sees it. [`Evaluation`] is fed one score at a
//! time so that a million events need no buffer of scores; [`evaluate`] wraps it for slices.
//! [`ExplainedTally`] gives the headline "share explained" without any answer key.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use lekdicht_model::{EmployeeId, EventId};
use serde::Serialize;

use crate::alert::Alert;
use crate::context::Context;
use crate::score::EventScore;

/// The answer key: which events are violations (with their kind), and each employee's groups.
#[derive(Debug, Clone, Default)]
pub struct GroundTruth {
    pub violations: HashMap<EventId, String>,
    pub groups: HashMap<EmployeeId, BTreeMap<String, String>>,
}

/// Share of events explained, overall and per unit of the actor. Needs no answer key.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExplainedTally {
    pub events: u64,
    pub explained: u64,
    /// Unit id -> (events, explained); actors without a known unit under `"(unknown)"`.
    pub per_unit: BTreeMap<String, (u64, u64)>,
}

impl ExplainedTally {
    /// Counts one scored event.
    pub fn add(&mut self, ctx: &Context, score: &EventScore) {
        self.events += 1;
        let explained = u64::from(score.is_explained());
        self.explained += explained;
        let unit = ctx
            .employee_idx(score.actor.as_str())
            .and_then(|e| ctx.employee_unit(e))
            .map_or("(unknown)", |u| u.as_str());
        let entry = match self.per_unit.get_mut(unit) {
            Some(entry) => entry,
            None => self.per_unit.entry(unit.to_owned()).or_default(),
        };
        entry.0 += 1;
        entry.1 += explained;
    }

    /// Share of all counted events that are explained (1 when none were counted).
    pub fn share(&self) -> f64 {
        share(self.explained, self.events)
    }

    /// Share explained per unit.
    pub fn per_unit_share(&self) -> BTreeMap<String, f64> {
        self.per_unit
            .iter()
            .map(|(u, (n, x))| (u.clone(), share(*x, *n)))
            .collect()
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Accumulates scores one at a time, then compares with the alerts.
pub struct Evaluation<'a> {
    ctx: &'a Context,
    truth: &'a GroundTruth,
    reason_threshold: f64,
    all: ExplainedTally,
    legit: ExplainedTally,
    ranked: Vec<(f32, bool)>,
    /// Innocent events at or above the reason threshold, per actor.
    above_threshold: BTreeSet<EmployeeId>,
    /// Violating actors and their kinds (from the scored events the key names).
    violators: BTreeMap<EmployeeId, BTreeSet<String>>,
}

impl<'a> Evaluation<'a> {
    pub fn new(ctx: &'a Context, truth: &'a GroundTruth, reason_threshold: f64) -> Self {
        Evaluation {
            ctx,
            truth,
            reason_threshold,
            all: ExplainedTally::default(),
            legit: ExplainedTally::default(),
            ranked: Vec::new(),
            above_threshold: BTreeSet::new(),
            violators: BTreeMap::new(),
        }
    }

    /// Counts one scored event.
    pub fn add(&mut self, score: &EventScore) {
        self.all.add(self.ctx, score);
        let violation = self.truth.violations.get(&score.event);
        match violation {
            None => {
                self.legit.add(self.ctx, score);
                if score.score >= self.reason_threshold {
                    self.above_threshold.insert(score.actor.clone());
                }
            }
            Some(kind) => {
                self.violators
                    .entry(score.actor.clone())
                    .or_default()
                    .insert(kind.clone());
            }
        }
        self.ranked.push((score.score as f32, violation.is_some()));
    }

    /// Computes the report for the given alerts over `days` days.
    pub fn finish(mut self, alerts: &[Alert], days: u32) -> QualityReport {
        let truth = self.truth;
        let n_employees = self.ctx.n_employees().max(1);
        let mut alerted: BTreeSet<&EmployeeId> = BTreeSet::new();
        let mut real_alerts = 0usize;
        let mut detected: BTreeSet<(&EmployeeId, &str)> = BTreeSet::new();
        for a in alerts {
            alerted.insert(&a.actor);
            let mut real = false;
            for e in &a.events {
                if let Some(kind) = truth.violations.get(e) {
                    real = true;
                    detected.insert((&a.actor, kind.as_str()));
                }
            }
            real_alerts += usize::from(real && self.violators.contains_key(&a.actor));
        }
        let violators_alerted = self
            .violators
            .keys()
            .filter(|v| alerted.contains(v))
            .count();
        let mut per_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (actor, kinds) in &self.violators {
            for k in kinds {
                let entry = per_kind.entry(k.clone()).or_default();
                entry.1 += 1;
                entry.0 += usize::from(detected.contains(&(actor, k.as_str())));
            }
        }
        let months = f64::from(days.max(1)) / 30.0;
        let alerts_per_100 = alerts.len() as f64 / (n_employees as f64 / 100.0) / months;

        // Fairness among innocent employees, per grouping.
        let mut fairness: BTreeMap<String, Fairness> = BTreeMap::new();
        for id in self.ctx.employee_ids() {
            if self.violators.contains_key(id) {
                continue;
            }
            let Some(groups) = truth.groups.get(id) else {
                continue;
            };
            for (grouping, value) in groups {
                let f = fairness.entry(grouping.clone()).or_default();
                let g = f.groups.entry(value.clone()).or_default();
                g.innocents += 1;
                g.alerted += usize::from(alerted.contains(id));
                g.above_threshold += usize::from(self.above_threshold.contains(id));
            }
        }
        for f in fairness.values_mut() {
            for g in f.groups.values_mut() {
                g.alerted_share = g.alerted as f64 / g.innocents.max(1) as f64;
                g.above_threshold_share = g.above_threshold as f64 / g.innocents.max(1) as f64;
            }
            f.alerted_ratio = ratio(f.groups.values().map(|g| g.alerted_share));
            f.above_threshold_ratio = ratio(f.groups.values().map(|g| g.above_threshold_share));
            f.above_threshold_interval = ratio_interval(f.groups.values());
        }
        for (grouping, f) in &mut fairness {
            f.target = !targets::INFORMATIONAL_GROUPINGS.contains(&grouping.as_str());
        }

        self.ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let pr_auc = average_precision(&self.ranked);
        let recall = share(violators_alerted as u64, self.violators.len() as u64);
        let precision = share(real_alerts as u64, alerts.len() as u64);
        let score_sum: f64 = alerts.iter().map(|a| a.score).sum();
        let mean_alert_score = if alerts.is_empty() {
            0.0
        } else {
            score_sum / alerts.len() as f64
        };
        QualityReport {
            events: self.all.events,
            days,
            employees: self.ctx.n_employees(),
            explained_share: self.all.share(),
            legit_events: self.legit.events,
            legit_explained_share: self.legit.share(),
            legit_explained_per_unit: self.legit.per_unit_share(),
            violating_events: self.ranked.iter().filter(|r| r.1).count() as u64,
            violators: self.violators.len(),
            alerts: alerts.len(),
            real_alerts,
            alerted_actors: alerted.len(),
            violators_alerted,
            recall,
            precision,
            alerts_per_100_per_month: alerts_per_100,
            mean_alert_score,
            score_sum_per_1000: (score_sum / (n_employees as f64 / 1000.0) / months).max(0.0),
            recall_per_kind: per_kind,
            pr_auc,
            fairness,
        }
    }
}

/// Compares given scores and alerts with the answer key, with the default reason threshold.
pub fn evaluate(
    ctx: &Context,
    scores: &[EventScore],
    alerts: &[Alert],
    truth: &GroundTruth,
    days: u32,
) -> QualityReport {
    let threshold = crate::config::AlertConfig::default().reason_threshold;
    evaluate_with_threshold(ctx, scores, alerts, truth, days, threshold)
}

/// Like [`evaluate`], with the reason threshold of the configuration used for scoring.
pub fn evaluate_with_threshold(
    ctx: &Context,
    scores: &[EventScore],
    alerts: &[Alert],
    truth: &GroundTruth,
    days: u32,
    reason_threshold: f64,
) -> QualityReport {
    let mut e = Evaluation::new(ctx, truth, reason_threshold);
    for s in scores {
        e.add(s);
    }
    e.finish(alerts, days)
}

fn ratio(shares: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = shares.collect();
    let max = v.iter().copied().fold(0.0, f64::max);
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    if max == 0.0 {
        return 1.0;
    }
    if min == 0.0 {
        return f64::INFINITY;
    }
    max / min
}

/// The approximate 95% confidence interval of the ratio between the largest and the smallest
/// above-threshold share of a grouping (Katz's log method for a ratio of two proportions, with half
/// a count added to each cell so that an empty group still gives a finite interval). It compares
/// the two extreme groups only, so with more groups it is somewhat optimistic about a difference.
fn ratio_interval<'a>(groups: impl Iterator<Item = &'a GroupFigures>) -> (f64, f64) {
    let groups: Vec<&GroupFigures> = groups.filter(|g| g.innocents > 0).collect();
    let share = |g: &GroupFigures| g.above_threshold_share;
    let (Some(high), Some(low)) = (
        groups.iter().max_by(|a, b| share(a).total_cmp(&share(b))),
        groups.iter().min_by(|a, b| share(a).total_cmp(&share(b))),
    ) else {
        return (1.0, 1.0);
    };
    if high.above_threshold == 0 {
        return (1.0, 1.0);
    }
    let cell = |g: &GroupFigures| (g.above_threshold as f64 + 0.5, g.innocents as f64 + 0.5);
    let (a1, n1) = cell(high);
    let (a2, n2) = cell(low);
    let log_ratio = ((a1 / n1) / (a2 / n2)).ln();
    let se = (1.0 / a1 - 1.0 / n1 + 1.0 / a2 - 1.0 / n2).max(0.0).sqrt();
    const Z95: f64 = 1.96;
    ((log_ratio - Z95 * se).exp(), (log_ratio + Z95 * se).exp())
}

/// Average precision of a ranking sorted by score (descending); tied scores count as one step.
fn average_precision(ranked: &[(f32, bool)]) -> f64 {
    let positives = ranked.iter().filter(|r| r.1).count();
    if positives == 0 {
        return 0.0;
    }
    let (mut tp, mut seen, mut ap) = (0usize, 0usize, 0.0);
    let mut i = 0;
    while i < ranked.len() {
        let score = ranked[i].0;
        let mut j = i;
        let mut tp_here = 0;
        while j < ranked.len() && ranked[j].0 == score {
            tp_here += usize::from(ranked[j].1);
            j += 1;
        }
        tp += tp_here;
        seen += j - i;
        ap += tp_here as f64 * (tp as f64 / seen as f64);
        i = j;
    }
    ap / positives as f64
}

/// Alerted shares of innocent employees per group within one grouping.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fairness {
    /// Whether the grouping is a personal attribute that fairness is judged over; groupings in
    /// [`targets::INFORMATIONAL_GROUPINGS`] are reported for information only.
    pub target: bool,
    pub groups: BTreeMap<String, GroupFigures>,
    /// Largest over smallest alerted share (1 when nobody innocent is alerted; infinite when one
    /// group has none and another has some).
    pub alerted_ratio: f64,
    /// The same for the share with at least one event above the reason threshold.
    pub above_threshold_ratio: f64,
    /// Approximate 95% confidence interval of `above_threshold_ratio` (see
    /// [`Fairness::above_threshold_ok`]).
    pub above_threshold_interval: (f64, f64),
}

/// Figures for one group of innocent employees.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupFigures {
    pub innocents: usize,
    pub alerted: usize,
    pub alerted_share: f64,
    pub above_threshold: usize,
    pub above_threshold_share: f64,
}

/// Quality figures, printable with pass/fail marks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QualityReport {
    pub events: u64,
    pub days: u32,
    pub employees: usize,
    pub explained_share: f64,
    pub legit_events: u64,
    pub legit_explained_share: f64,
    pub legit_explained_per_unit: BTreeMap<String, f64>,
    pub violating_events: u64,
    pub violators: usize,
    pub alerts: usize,
    pub real_alerts: usize,
    pub alerted_actors: usize,
    pub violators_alerted: usize,
    pub recall: f64,
    pub precision: f64,
    pub alerts_per_100_per_month: f64,
    /// Mean score (calibrated probability) of the alerts: should be close to `precision`.
    pub mean_alert_score: f64,
    /// The alerts' scores summed, per 1,000 employees per month: the number of real alerts the
    /// detector itself expects.
    pub score_sum_per_1000: f64,
    /// Kind -> (violators with that kind alerted on an event of that kind, violators with it).
    pub recall_per_kind: BTreeMap<String, (usize, usize)>,
    pub pr_auc: f64,
    pub fairness: BTreeMap<String, Fairness>,
}

/// The targets the report marks.
pub mod targets {
    pub const LEGIT_EXPLAINED: f64 = 0.95;
    pub const RECALL: f64 = 0.90;
    pub const PRECISION: f64 = 0.80;
    pub const ALERTS_PER_100_PER_MONTH: f64 = 2.0;
    /// The mean alert score may differ this much from the share of alerts that are real.
    pub const CALIBRATION: f64 = 0.15;
    /// In a world without violations, the alerts' scores may sum to at most this per 1,000
    /// employees per month.
    pub const NULL_SCORE_SUM_PER_1000: f64 = 2.0;
    pub const FAIRNESS_RATIO: f64 = 1.25;
    /// Below this many alerted innocents in a grouping, the alerted-share ratio is not judged:
    /// with a handful of alerts one more or less swings it from 1 to infinity.
    pub const MIN_ALERTED_FOR_RATIO: usize = 10;
    /// Groupings that describe the work rather than the person (detectives legitimately work
    /// differently from front-office staff): reported for information, never a fairness target.
    pub const INFORMATIONAL_GROUPINGS: &[&str] = &["unit_kind"];
}

impl Fairness {
    /// Innocent employees alerted in this grouping, all groups together.
    pub fn alerted_total(&self) -> usize {
        self.groups.values().map(|g| g.alerted).sum()
    }

    /// Whether the alerted-share ratio meets the target; `None` when too few innocents were
    /// alerted to judge.
    pub fn alerted_ratio_ok(&self) -> Option<bool> {
        if self.alerted_total() < targets::MIN_ALERTED_FOR_RATIO {
            return None;
        }
        Some(self.alerted_ratio <= targets::FAIRNESS_RATIO)
    }

    /// Whether the above-threshold ratio meets the target, judged against its 95% confidence
    /// interval: `Some(true)` when the whole interval lies within the target, `Some(false)` when
    /// it lies wholly above it, `None` when the counts are too small to tell either way.
    pub fn above_threshold_ok(&self) -> Option<bool> {
        let (low, high) = self.above_threshold_interval;
        if high <= targets::FAIRNESS_RATIO {
            return Some(true);
        }
        if low > targets::FAIRNESS_RATIO {
            return Some(false);
        }
        None
    }
}

impl QualityReport {
    /// Whether the mean alert score is within [`targets::CALIBRATION`] of the share of alerts that
    /// are real (trivially so without alerts).
    pub fn calibration_ok(&self) -> bool {
        self.alerts == 0 || (self.mean_alert_score - self.precision).abs() <= targets::CALIBRATION
    }

    /// Whether every target is met.
    pub fn all_pass(&self) -> bool {
        let detection = if self.violators == 0 {
            self.score_sum_per_1000 <= targets::NULL_SCORE_SUM_PER_1000
        } else {
            self.recall >= targets::RECALL
                && self.precision >= targets::PRECISION
                && self.calibration_ok()
        };
        detection
            && self.legit_explained_share >= targets::LEGIT_EXPLAINED
            && self.alerts_per_100_per_month <= targets::ALERTS_PER_100_PER_MONTH
            && self.fairness.values().filter(|f| f.target).all(|f| {
                f.alerted_ratio_ok() != Some(false) && f.above_threshold_ok() != Some(false)
            })
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use targets::*;
        writeln!(
            f,
            "events {} over {} days, {} employees; {} violating events by {} violators",
            self.events, self.days, self.employees, self.violating_events, self.violators
        )?;
        writeln!(
            f,
            "explained, all events:        {}",
            pct(self.explained_share)
        )?;
        writeln!(
            f,
            "[{}] legitimate explained:   {} (target >= {})",
            mark(self.legit_explained_share >= LEGIT_EXPLAINED),
            pct(self.legit_explained_share),
            pct(LEGIT_EXPLAINED)
        )?;
        let worst = self
            .legit_explained_per_unit
            .iter()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(u, s)| format!("{u} {}", pct(*s)))
            .unwrap_or_default();
        writeln!(f, "       lowest unit:            {worst}")?;
        writeln!(
            f,
            "[{}] recall (violators alerted): {} ({}/{}) (target >= {})",
            mark(self.recall >= RECALL),
            pct(self.recall),
            self.violators_alerted,
            self.violators,
            pct(RECALL)
        )?;
        writeln!(
            f,
            "[{}] precision (real alerts):  {} ({}/{}) (target >= {})",
            mark(self.precision >= PRECISION),
            pct(self.precision),
            self.real_alerts,
            self.alerts,
            pct(PRECISION)
        )?;
        writeln!(
            f,
            "[{}] alerts per 100 employees per month: {:.2} (target <= {ALERTS_PER_100_PER_MONTH})",
            mark(self.alerts_per_100_per_month <= ALERTS_PER_100_PER_MONTH),
            self.alerts_per_100_per_month
        )?;
        if self.violators > 0 {
            writeln!(
                f,
                "[{}] calibration: mean alert score {:.2} against {:.2} real (target within {CALIBRATION})",
                mark(self.calibration_ok()),
                self.mean_alert_score,
                self.precision
            )?;
        } else {
            writeln!(
                f,
                "[{}] without violators, alert scores sum to {:.2} per 1,000 employees per month (target <= {NULL_SCORE_SUM_PER_1000})",
                mark(self.score_sum_per_1000 <= NULL_SCORE_SUM_PER_1000),
                self.score_sum_per_1000
            )?;
        }
        writeln!(f, "       event-level PR-AUC:     {:.3}", self.pr_auc)?;
        writeln!(f, "       recall per kind:")?;
        for (kind, (hit, total)) in &self.recall_per_kind {
            writeln!(f, "         {kind:<20} {hit}/{total}")?;
        }
        for (grouping, fair) in &self.fairness {
            if !fair.target {
                writeln!(
                    f,
                    "[info] by {grouping} (describes the work, not the person: no fairness target): alerted ratio {:.2}, above-threshold ratio {:.2}",
                    fair.alerted_ratio, fair.above_threshold_ratio
                )?;
            } else {
                let alerted_mark = match fair.alerted_ratio_ok() {
                    Some(ok) => mark(ok),
                    None => "n/a ",
                };
                let alerted_note = match fair.alerted_ratio_ok() {
                    Some(_) => format!("{:.2}", fair.alerted_ratio),
                    None => format!(
                        "{:.2}, not judged: {} innocents alerted in all (< {MIN_ALERTED_FOR_RATIO})",
                        fair.alerted_ratio,
                        fair.alerted_total()
                    ),
                };
                writeln!(
                    f,
                    "[{alerted_mark}] fairness by {grouping}, innocents alerted: max/min share ratio {alerted_note} (target <= {FAIRNESS_RATIO})"
                )?;
                let (low, high) = fair.above_threshold_interval;
                let (above_mark, above_note) = match fair.above_threshold_ok() {
                    Some(ok) => (mark(ok), ""),
                    None => (
                        "n/a ",
                        ", not judged: too few employees above the threshold to tell",
                    ),
                };
                writeln!(
                    f,
                    "[{above_mark}] fairness by {grouping}, innocents above the reason threshold: ratio {:.2}, 95% interval {low:.2}-{high:.2}{above_note} (target <= {FAIRNESS_RATIO})",
                    fair.above_threshold_ratio
                )?;
            }
            for (value, g) in &fair.groups {
                writeln!(
                    f,
                    "         {value:<14} innocents {:>5}  alerted {:>3} ({})  above threshold {:>4} ({})",
                    g.innocents,
                    g.alerted,
                    pct(g.alerted_share),
                    g.above_threshold,
                    pct(g.above_threshold_share)
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fairness(groups: &[(usize, usize)]) -> Fairness {
        let mut f = Fairness {
            target: true,
            ..Fairness::default()
        };
        for (i, &(innocents, above)) in groups.iter().enumerate() {
            f.groups.insert(
                format!("g{i}"),
                GroupFigures {
                    innocents,
                    above_threshold: above,
                    above_threshold_share: above as f64 / innocents as f64,
                    ..GroupFigures::default()
                },
            );
        }
        f.above_threshold_ratio = ratio(f.groups.values().map(|g| g.above_threshold_share));
        f.above_threshold_interval = ratio_interval(f.groups.values());
        f
    }

    fn check(groups: &[(usize, usize)], expect: Option<bool>) {
        let f = fairness(groups);
        assert_eq!(
            f.above_threshold_ok(),
            expect,
            "{groups:?}: ratio {:.2}, interval {:?}",
            f.above_threshold_ratio,
            f.above_threshold_interval
        );
    }

    #[test]
    fn above_threshold_fairness_is_judged_only_when_the_counts_tell() {
        // A handful per group: even a ratio of 2 is not evidence either way.
        check(&[(600, 10), (600, 5)], None);
        check(&[(600, 6), (600, 5)], None);
        // Large counts close together: within the target.
        check(&[(20_000, 2_000), (20_000, 2_050)], Some(true));
        // Large counts far apart: beyond the target.
        check(&[(20_000, 2_000), (20_000, 1_000)], Some(false));
        // Nobody above the threshold anywhere: nothing to tell apart.
        check(&[(600, 0), (600, 0)], Some(true));
    }

    #[test]
    fn work_groupings_are_reported_but_not_targets() {
        assert!(targets::INFORMATIONAL_GROUPINGS.contains(&"unit_kind"));
        let clear_failure = fairness(&[(20_000, 2_000), (20_000, 1_000)]);
        let report = |target: bool| QualityReport {
            legit_explained_share: 1.0,
            recall: 1.0,
            precision: 1.0,
            fairness: BTreeMap::from([(
                "grouping".to_string(),
                Fairness {
                    target,
                    ..clear_failure.clone()
                },
            )]),
            ..QualityReport::default()
        };
        assert!(!report(true).all_pass());
        assert!(report(false).all_pass());
        assert!(report(false).to_string().contains("[info] by grouping"));
    }
}
