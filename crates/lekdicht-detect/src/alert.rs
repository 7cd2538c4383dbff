//! Alerts: one actor's suspicious events grouped over a time window, scored by accumulation so that
//! repeated mild behaviour adds up, and cut to a budget so that investigators are never flooded.
//!
//! The builder only sees events whose score reached the reason threshold. It does not know about
//! review: every alert starts `open`; the store records what investigators decide.

use std::collections::BTreeMap;

use lekdicht_model::{EmployeeId, EventId, Time};
use serde::{Serialize, Serializer};

use crate::codes::SignalCode;
use crate::config::AlertConfig;
use crate::context::Secs;

fn round4<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((x * 10_000.0).round() / 10_000.0)
}

/// One alert (contract section 3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Stable: the actor and the first event's id.
    pub id: String,
    pub actor: EmployeeId,
    /// In [0, 1]: `1 - exp(-accumulated weight)`.
    #[serde(serialize_with = "round4")]
    pub score: f64,
    pub from: Time,
    pub until: Time,
    pub events: Vec<EventId>,
    /// Signal codes with the number of events carrying them, heaviest first.
    pub reasons: Vec<AlertReason>,
    pub status: AlertStatus,
}

/// A signal within an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertReason {
    pub code: SignalCode,
    pub count: u32,
    /// The detail of the heaviest event carrying this code.
    pub detail: String,
}

/// An investigator's verdict on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Open,
    Dismissed,
    Escalated,
}

/// An event whose score reached the reason threshold.
#[derive(Debug, Clone)]
pub(crate) struct SuspiciousEvent {
    pub actor: EmployeeId,
    pub event: EventId,
    pub time: Time,
    pub secs: Secs,
    pub raw: f64,
    /// The subject's index in the context, if known.
    pub subject: Option<u32>,
    pub reasons: Vec<(SignalCode, f64, String)>,
}

/// Collects suspicious events per actor and forms alerts at the end.
#[derive(Debug, Clone)]
pub(crate) struct AlertBuilder {
    config: AlertConfig,
    by_actor: BTreeMap<u32, Vec<SuspiciousEvent>>,
    first: Option<Secs>,
    last: Option<Secs>,
}

impl AlertBuilder {
    pub fn new(config: &AlertConfig) -> AlertBuilder {
        AlertBuilder {
            config: config.clone(),
            by_actor: BTreeMap::new(),
            first: None,
            last: None,
        }
    }

    /// Notes the time span covered by the processed events (for the budget).
    pub fn observe(&mut self, secs: Secs) {
        self.first = Some(self.first.map_or(secs, |f| f.min(secs)));
        self.last = Some(self.last.map_or(secs, |l| l.max(secs)));
    }

    pub fn add(&mut self, actor_slot: u32, event: SuspiciousEvent) {
        self.by_actor.entry(actor_slot).or_default().push(event);
    }

    /// Forms the alerts and keeps the highest-scoring ones within the budget.
    pub fn finish(self, n_employees: usize) -> Vec<Alert> {
        let window = (self.config.window_days * 86_400.0).round() as Secs;
        let mut scored: Vec<(f64, Alert)> = Vec::new();
        for events in self.by_actor.into_values() {
            let mut start = 0;
            while start < events.len() {
                let t0 = events[start].secs;
                let end = start
                    + events[start..]
                        .iter()
                        .take_while(|e| e.secs - t0 < window)
                        .count();
                let group = &events[start..end];
                let (raw, alert) = build(group, self.config.repeat_damping);
                if alert.score >= self.config.alert_threshold {
                    scored.push((raw, alert));
                }
                start = end;
            }
        }
        let days = match (self.first, self.last) {
            (Some(f), Some(l)) => ((l - f) as f64 / 86_400.0).ceil().max(1.0),
            _ => 1.0,
        };
        let budget = (self.config.budget_per_100_per_month * n_employees as f64 / 100.0 * days
            / 30.0)
            .ceil() as usize;
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        scored.truncate(budget);
        let mut alerts: Vec<Alert> = scored.into_iter().map(|(_, a)| a).collect();
        alerts.sort_by(|a, b| a.from.cmp(&b.from).then_with(|| a.id.cmp(&b.id)));
        alerts
    }
}

/// Accumulates one group. Events are ranked per main reason (their heaviest code) by subject: the
/// events on the k-th distinct subject with the same main reason count `1 / k^damping` of their
/// weight. Returning to one subject again and again adds up in full; the same mild reason spread
/// over many unrelated subjects (the pattern of ordinary work) adds up slowly.
fn build(group: &[SuspiciousEvent], damping: f64) -> (f64, Alert) {
    let mut seen: BTreeMap<SignalCode, Vec<Option<u32>>> = BTreeMap::new();
    let mut raw = 0.0;
    let mut reasons: BTreeMap<SignalCode, (u32, f64, f64, String)> = BTreeMap::new();
    for e in group {
        let main = e.reasons.first().map_or(SignalCode::Unexplained, |r| r.0);
        let subjects = seen.entry(main).or_default();
        let k = match subjects.iter().position(|s| s.is_some() && *s == e.subject) {
            Some(i) => i + 1,
            None => {
                subjects.push(e.subject);
                subjects.len()
            }
        };
        raw += e.raw / (k as f64).powf(damping);
        for (code, weight, detail) in &e.reasons {
            let entry = reasons
                .entry(*code)
                .or_insert((0, 0.0, -1.0, String::new()));
            entry.0 += 1;
            entry.1 += weight;
            if *weight > entry.2 {
                entry.2 = *weight;
                entry.3 = detail.clone();
            }
        }
    }
    let first = &group[0];
    let last = &group[group.len() - 1];
    let mut reason_list: Vec<(f64, AlertReason)> = reasons
        .into_iter()
        .map(|(code, (count, total, _, detail))| {
            (
                total,
                AlertReason {
                    code,
                    count,
                    detail,
                },
            )
        })
        .collect();
    reason_list.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.code.cmp(&b.1.code)));
    let score = 1.0 - (-raw).exp();
    let alert = Alert {
        id: format!("{}/{}", first.actor, first.event),
        actor: first.actor.clone(),
        score,
        from: first.time,
        until: last.time,
        events: group.iter().map(|e| e.event.clone()).collect(),
        reasons: reason_list.into_iter().map(|(_, r)| r).collect(),
        status: AlertStatus::Open,
    };
    (raw, alert)
}
