//! Alerts: one actor's period in which what they did was more than chance explains, with a
//! calibrated probability that it is real, a rank, and the reasons in plain sentences.
//!
//! The assessment itself lives in [`crate::evidence`]; this module turns its findings into the
//! contract's alert lines and applies the budget. Every finding is kept: the best-ranked ones that
//! reach the minimum probability, up to the budget, go to the review queue (`queued`); the others
//! stay with their rank for anyone who wants to look further. Every alert starts `open`; the store
//! records what investigators decide.

use lekdicht_model::{EmployeeId, EventId, Time};
use serde::{Serialize, Serializer};

use crate::codes::SignalCode;
use crate::config::AlertConfig;
use crate::evidence::{AccessPath, Finding};

fn round4<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((x * 10_000.0).round() / 10_000.0)
}

fn round2<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((x * 100.0).round() / 100.0)
}

/// One alert (contract section 3, with added fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Stable: the actor and the first event's id.
    pub id: String,
    pub actor: EmployeeId,
    /// In [0, 1]: the calibrated probability that the alert is real (of alerts scored about 0.8,
    /// about 8 in 10 are).
    #[serde(serialize_with = "round4")]
    pub score: f64,
    pub from: Time,
    pub until: Time,
    pub events: Vec<EventId>,
    /// Signals with the number of distinct records carrying them, most surprising first.
    pub reasons: Vec<AlertReason>,
    pub status: AlertStatus,
    /// Position among all findings of the run, 1 = most surprising.
    pub rank: u32,
    /// Total surprise against chance, in bits: an open scale for ranking.
    #[serde(serialize_with = "round2")]
    pub bits: f64,
    /// The chance of at least this much surprise for this actor by chance alone (a p-value).
    pub chance: f64,
    /// Whether the alert is in the review queue (within the budget and the minimum probability);
    /// the others are kept with their rank.
    pub queued: bool,
}

/// A signal within an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertReason {
    pub code: SignalCode,
    /// Distinct records carrying the signal.
    pub count: u32,
    /// The sentence: what was observed, what chance would give, for whom.
    pub detail: String,
    /// How the records were reached.
    pub path: AccessPath,
    /// The number chance would give.
    #[serde(serialize_with = "round4")]
    pub expected: f64,
    /// Distinct records the actor reached on this path in the period.
    pub exposure: u32,
    /// Surprise of the count, in bits.
    #[serde(serialize_with = "round2")]
    pub bits: f64,
}

/// An investigator's verdict on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Open,
    Dismissed,
    Escalated,
}

/// The run's findings as alerts, ranked; `queued` marks those in the review queue.
pub(crate) fn alerts_from(
    findings: Vec<Finding>,
    config: &AlertConfig,
    n_employees: usize,
    days: f64,
) -> Vec<Alert> {
    let budget = (config.budget_per_100_per_month * n_employees as f64 / 100.0 * days.max(1.0)
        / 30.0)
        .ceil() as usize;
    // The queue: the longest run of best-ranked findings whose mean probability (the share of
    // them expected to be real) stays at or above the target precision, each at least at the
    // minimum probability, within the budget.
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        findings[b]
            .probability
            .total_cmp(&findings[a].probability)
            .then(findings[a].rank.cmp(&findings[b].rank))
    });
    let mut queue = vec![false; findings.len()];
    let mut sum = 0.0;
    for (taken, &i) in order.iter().enumerate() {
        let p = findings[i].probability;
        let mean = (sum + p) / (taken + 1) as f64;
        if taken >= budget || p < config.min_probability || mean < config.target_precision {
            break;
        }
        sum += p;
        queue[i] = true;
    }
    findings
        .into_iter()
        .zip(queue)
        .map(|(f, queue)| Alert {
            id: f.id,
            actor: f.actor,
            score: f.probability,
            from: f.from,
            until: f.until,
            events: f.events,
            reasons: f
                .reasons
                .into_iter()
                .map(|r| AlertReason {
                    code: r.code,
                    count: r.count,
                    detail: r.detail,
                    path: r.path,
                    expected: r.expected,
                    exposure: r.exposure,
                    bits: r.bits,
                })
                .collect(),
            status: AlertStatus::Open,
            rank: f.rank,
            bits: f.bits,
            chance: f.p_value,
            queued: queue,
        })
        .collect()
}
