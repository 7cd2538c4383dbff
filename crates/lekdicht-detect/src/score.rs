//! What scoring one access event produces: the score, the explanations that apply, the reasons
//! with their contribution, and (on request) a trace of every check.
//!
//! Serialisation follows the data contract, section 3: `explained_by` is a list of code strings,
//! `reasons` a list of objects with `code`, `detail` and `weight`. Explanation details and the
//! checks that did not fire live in the [`Trace`], which `explain` shows. No computation here.

use lekdicht_model::{EmployeeId, EventId, Time};
use serde::{Serialize, Serializer};

use crate::codes::{ExplanationCode, SignalCode};

/// Rounds for output: four decimals are plenty for a score and keep lines short.
fn round4<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((x * 10_000.0).round() / 10_000.0)
}

/// The outcome of scoring one access event (one line of `scores`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventScore {
    pub event: EventId,
    pub actor: EmployeeId,
    pub time: Time,
    /// In [0, 1]; higher is more suspicious. `1 - exp(-sum of reason weights)`.
    #[serde(serialize_with = "round4")]
    pub score: f64,
    /// The legitimate reasons found, strongest first; serialised as code strings.
    pub explained_by: Vec<Explanation>,
    /// The suspicion signals that contribute to the score, heaviest first.
    pub reasons: Vec<Reason>,
}

impl EventScore {
    /// Whether any explanation applies.
    pub fn is_explained(&self) -> bool {
        !self.explained_by.is_empty()
    }

    /// The sum of the reasons' weights (the score before squashing).
    pub fn raw(&self) -> f64 {
        self.reasons.iter().map(|r| r.weight).sum()
    }
}

/// A legitimate reason for the access.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub code: ExplanationCode,
    /// The facts: which case, which incident, which colleague. Filled by
    /// [`Engine::process_traced`](crate::Engine::process_traced) (for `explain`); left empty by
    /// [`Engine::process`](crate::Engine::process), whose output lists the codes only.
    pub detail: String,
}

impl Serialize for Explanation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.code.serialize(s)
    }
}

/// A suspicion signal with its contribution to the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub code: SignalCode,
    /// A human sentence naming the facts.
    pub detail: String,
    /// Contribution to the score's sum, after explanations offset it.
    #[serde(serialize_with = "round4")]
    pub weight: f64,
}

/// Every explanation and signal the engine checked for one event.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Trace {
    pub checks: Vec<Check>,
}

/// Whether a check is an explanation or a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    Explanation,
    Signal,
}

/// One check: fired (with the facts and its weight) or not (with why not).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub kind: CheckKind,
    /// The code's stable spelling.
    pub code: &'static str,
    pub fired: bool,
    /// The facts when fired; why not otherwise.
    pub detail: String,
    /// For a fired signal: the configured weight before offsets.
    #[serde(serialize_with = "round4")]
    pub base_weight: f64,
    /// For a fired signal: the contribution after explanations offset it.
    #[serde(serialize_with = "round4")]
    pub weight: f64,
}
