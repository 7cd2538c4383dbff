//! The integrity case: what is registered about one suspicion, and its status lifecycle.
//!
//! A [`Case`] is plain data with public fields; [`crate::validate`] checks it as a whole and
//! [`Case::transition`] is the only way the lifecycle moves, returning the [`StatusChange`] to keep.
//! Who may move a case, and where the history is stored, is decided elsewhere.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::vocab::{
    CaseStatus, InformationKind, InformationUse, Initiative, InvestigationStep, MeasureKind,
    OutcomeKind, Recipient, SignalSource, ViolationType,
};

/// One integrity case. Optional facts are `None` or empty when not (yet) registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Empty until the registry assigns one.
    #[serde(default)]
    pub id: String,
    pub organisation: String,
    #[serde(default)]
    pub summary: String,
    pub signal_source: SignalSource,
    /// When the signal was received.
    pub signal_date: NaiveDate,
    /// When the investigation started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_date: Option<NaiveDate>,
    pub status: CaseStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<ViolationType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub information: Vec<InformationKind>,
    /// The information systems involved (as the organisation names them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub systems: Vec<String>,
    #[serde(default)]
    pub suspect: Suspect,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Recipient>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiative: Option<Initiative>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "use")]
    pub use_of_information: Option<InformationUse>,
    #[serde(default)]
    pub damage: Damage,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<InvestigationStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// When the violation was established (starts the 72-hour data-breach clock); set by the
    /// transition to `decided` with an established outcome, or registered directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub established_at: Option<DateTime<Utc>>,
    /// When the notification of the data breach to the Autoriteit Persoonsgegevens was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_notified_at: Option<DateTime<Utc>>,
    /// When the letters to the affected data subjects were sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects_informed_at: Option<DateTime<Utc>>,
    /// Linked alerts (ids) as evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<String>,
    /// Linked access events as evidence, by sequence number (= ledger leaf index).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<u64>,
    /// The alert the case was opened from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_alert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<DateTime<Utc>>,
}

/// The employee under suspicion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspect {
    /// Employee id (contract `employees.id`), when known.
    #[serde(default)]
    pub employee: Option<String>,
    /// Function or rank (e.g. "agent", "hoofdagent", "baliemedewerker").
    #[serde(default)]
    pub function: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub years_of_service: Option<u32>,
}

/// Damage done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Damage {
    #[serde(default)]
    pub investigation: bool,
    #[serde(default)]
    pub persons: bool,
    #[serde(default)]
    pub description: String,
}

/// The outcome of a case; `measure` only with a disciplinary measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    #[serde(default)]
    pub measure: Option<MeasureKind>,
}

/// One move in the lifecycle: who moved the case, when, from where to where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// `None` for the registration.
    pub from: Option<CaseStatus>,
    pub to: CaseStatus,
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub note: String,
}

/// Why a lifecycle move was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a case cannot move from {from} to {to}")]
    NotAllowed { from: CaseStatus, to: CaseStatus },
    #[error("a case needs an outcome to become {to}")]
    OutcomeRequired { to: CaseStatus },
    #[error("the person moving the case must be named")]
    NoActor,
}

impl CaseStatus {
    /// Whether the lifecycle allows moving from `self` to `to`: forward one step, registered
    /// straight to closed (no grounds to investigate), and reopening a decided or closed case.
    pub fn can_move_to(self, to: CaseStatus) -> bool {
        use CaseStatus::*;
        matches!(
            (self, to),
            (Registered, UnderInvestigation)
                | (Registered, Closed)
                | (UnderInvestigation, Decided)
                | (Decided, Closed)
                | (Decided, UnderInvestigation)
                | (Closed, UnderInvestigation)
        )
    }
}

impl Case {
    /// A new case in status `registered` with only the required facts.
    pub fn new(organisation: &str, signal_source: SignalSource, signal_date: NaiveDate) -> Case {
        Case {
            id: String::new(),
            organisation: organisation.to_owned(),
            summary: String::new(),
            signal_source,
            signal_date,
            start_date: None,
            closure_date: None,
            status: CaseStatus::Registered,
            violation: None,
            information: Vec::new(),
            systems: Vec::new(),
            suspect: Suspect::default(),
            recipient: None,
            initiative: None,
            use_of_information: None,
            damage: Damage::default(),
            steps: Vec::new(),
            outcome: None,
            established_at: None,
            authority_notified_at: None,
            subjects_informed_at: None,
            alerts: Vec::new(),
            events: Vec::new(),
            source_alert: None,
            opened_by: None,
            opened_at: None,
        }
    }

    /// Moves the case to `to` and returns the change to record.
    ///
    /// Moving to `under_investigation` sets the start date if none; to `decided` or `closed`
    /// requires an outcome, and `decided` with an established outcome sets `established_at` if
    /// none; `closed` sets the closure date if none; reopening clears the closure date.
    pub fn transition(
        &mut self,
        to: CaseStatus,
        by: &str,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<StatusChange, TransitionError> {
        if by.trim().is_empty() {
            return Err(TransitionError::NoActor);
        }
        let from = self.status;
        if !from.can_move_to(to) {
            return Err(TransitionError::NotAllowed { from, to });
        }
        match to {
            CaseStatus::Decided | CaseStatus::Closed if self.outcome.is_none() => {
                return Err(TransitionError::OutcomeRequired { to });
            }
            CaseStatus::UnderInvestigation => {
                self.start_date.get_or_insert(at.date_naive());
                self.closure_date = None;
            }
            CaseStatus::Decided => {
                if self.outcome.is_some_and(|o| o.kind.is_established()) {
                    self.established_at.get_or_insert(at);
                }
            }
            CaseStatus::Closed => {
                self.closure_date.get_or_insert(at.date_naive());
            }
            CaseStatus::Registered => {}
        }
        self.status = to;
        Ok(StatusChange {
            from: Some(from),
            to,
            by: by.to_owned(),
            at,
            note: note.to_owned(),
        })
    }

    /// The year the signal was received.
    pub fn year(&self) -> i32 {
        chrono::Datelike::year(&self.signal_date)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 4, day, 9, 0, 0).unwrap()
    }

    fn case() -> Case {
        Case::new(
            "politie",
            SignalSource::Colleague,
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        )
    }

    #[test]
    fn lifecycle_table() {
        use CaseStatus::*;
        // (from, to, allowed)
        let table = [
            (Registered, UnderInvestigation, true),
            (Registered, Decided, false),
            (Registered, Closed, true),
            (UnderInvestigation, Decided, true),
            (UnderInvestigation, Closed, false),
            (UnderInvestigation, Registered, false),
            (Decided, Closed, true),
            (Decided, UnderInvestigation, true),
            (Closed, UnderInvestigation, true),
            (Closed, Decided, false),
            (Closed, Registered, false),
        ];
        for (from, to, allowed) in table {
            assert_eq!(from.can_move_to(to), allowed, "{from} -> {to}");
        }
    }

    #[test]
    fn transitions_keep_dates_and_require_outcome() {
        let mut c = case();
        let change = c
            .transition(CaseStatus::UnderInvestigation, "inv", at(2), "")
            .unwrap();
        assert_eq!(change.from, Some(CaseStatus::Registered));
        assert_eq!(c.start_date, NaiveDate::from_ymd_opt(2026, 4, 2));
        assert_eq!(
            c.transition(CaseStatus::Decided, "inv", at(3), ""),
            Err(TransitionError::OutcomeRequired {
                to: CaseStatus::Decided
            })
        );
        assert_eq!(c.status, CaseStatus::UnderInvestigation);
        c.outcome = Some(Outcome {
            kind: OutcomeKind::Warning,
            measure: None,
        });
        c.transition(CaseStatus::Decided, "inv", at(3), "").unwrap();
        assert_eq!(c.established_at, Some(at(3)));
        c.transition(CaseStatus::Closed, "inv", at(4), "").unwrap();
        assert_eq!(c.closure_date, NaiveDate::from_ymd_opt(2026, 4, 4));
        assert_eq!(
            c.transition(CaseStatus::Closed, "inv", at(5), ""),
            Err(TransitionError::NotAllowed {
                from: CaseStatus::Closed,
                to: CaseStatus::Closed
            })
        );
        c.transition(CaseStatus::UnderInvestigation, "inv", at(6), "reopened")
            .unwrap();
        assert_eq!(c.closure_date, None);
        assert_eq!(
            c.transition(CaseStatus::Decided, " ", at(7), ""),
            Err(TransitionError::NoActor)
        );
    }

    #[test]
    fn unfounded_decision_does_not_start_the_breach_clock() {
        let mut c = case();
        c.transition(CaseStatus::UnderInvestigation, "inv", at(2), "")
            .unwrap();
        c.outcome = Some(Outcome {
            kind: OutcomeKind::Unfounded,
            measure: None,
        });
        c.transition(CaseStatus::Decided, "inv", at(3), "").unwrap();
        assert_eq!(c.established_at, None);
    }

    #[test]
    fn minimal_record_of_a_case_opened_from_an_alert_parses() {
        let json = r#"{"id":"CASE-2026-00001","organisation":"politie","summary":"s",
            "signal_source":"proactive_log_analysis","signal_date":"2026-03-05",
            "status":"registered","suspect":{"employee":"E1"},"opened_by":"inv",
            "opened_at":"2026-03-05T10:00:00.000Z","source_alert":"A1"}"#;
        let c: Case = serde_json::from_str(json).unwrap();
        assert_eq!(c.suspect.employee.as_deref(), Some("E1"));
        assert_eq!(c.status, CaseStatus::Registered);
        assert_eq!(c.source_alert.as_deref(), Some("A1"));
    }
}
