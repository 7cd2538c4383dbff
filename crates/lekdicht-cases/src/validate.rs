//! Validation of a case as a whole: the rules that relate fields to each other (dates in order, an
//! outcome before closing, a recipient for a disclosure, ...), each broken rule reported as a
//! [`FieldError`] naming the field, so that a form or an import can show it beside that field.
//!
//! Single values are already typed (vocabularies, dates); this module does not parse input and does
//! not check whether ids exist elsewhere.

use serde::Serialize;

use crate::model::Case;
use crate::vocab::{CaseStatus, OutcomeKind, Recipient, ViolationType};

/// Most years of service that are plausible.
pub const MAX_YEARS_OF_SERVICE: u32 = 60;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as in the JSON and CSV layout (e.g. `closure_date`, `outcome.measure`).
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// Every broken rule of `case`; empty when the case is valid.
pub fn validate(case: &Case) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |field, message: &str| errors.push(FieldError::new(field, message));
    if case.organisation.trim().is_empty() {
        fail("organisation", "the organisation is required");
    }
    if let Some(start) = case.start_date
        && start < case.signal_date
    {
        fail(
            "start_date",
            "the investigation cannot start before the signal",
        );
    }
    if let Some(closure) = case.closure_date {
        if closure < case.signal_date {
            fail("closure_date", "the case cannot close before the signal");
        } else if case.start_date.is_some_and(|s| closure < s) {
            fail(
                "closure_date",
                "the case cannot close before its investigation started",
            );
        }
    }
    match case.status {
        CaseStatus::Decided | CaseStatus::Closed if case.outcome.is_none() => {
            fail("outcome", "a decided or closed case needs an outcome");
        }
        _ => {}
    }
    if case.status == CaseStatus::Closed && case.closure_date.is_none() {
        fail("closure_date", "a closed case needs a closure date");
    }
    if case.status != CaseStatus::Closed && case.closure_date.is_some() {
        fail("closure_date", "only a closed case has a closure date");
    }
    if let Some(outcome) = case.outcome {
        match (outcome.kind, outcome.measure) {
            (OutcomeKind::DisciplinaryMeasure, None) => fail(
                "outcome.measure",
                "a disciplinary measure needs its kind (reprimand, fine, ...)",
            ),
            (kind, Some(_)) if kind != OutcomeKind::DisciplinaryMeasure => fail(
                "outcome.measure",
                "a measure kind belongs only with the outcome disciplinary_measure",
            ),
            _ => {}
        }
    }
    match (case.violation, case.recipient) {
        (Some(ViolationType::Disclosure), None) => fail(
            "recipient",
            "a disclosure needs its recipient (criminal, private circle, ..., or unknown)",
        ),
        (Some(ViolationType::Disclosure), Some(Recipient::None)) => fail(
            "recipient",
            "a disclosure has a recipient; use 'unknown' when it is not known",
        ),
        (Some(ViolationType::UnauthorisedLookup), Some(r))
            if !matches!(r, Recipient::None | Recipient::Unknown) =>
        {
            fail(
                "recipient",
                "a lookup without disclosure has no recipient; register a disclosure instead",
            )
        }
        _ => {}
    }
    if case.initiative.is_some()
        && matches!(case.recipient, None | Some(Recipient::None))
        && case.violation != Some(ViolationType::Bribery)
    {
        fail("initiative", "an initiative needs a recipient");
    }
    if case
        .suspect
        .years_of_service
        .is_some_and(|y| y > MAX_YEARS_OF_SERVICE)
    {
        fail(
            "years_of_service",
            &format!("at most {MAX_YEARS_OF_SERVICE} years of service"),
        );
    }
    if case.damage.description.len() > 4000 {
        fail("damage_description", "at most 4000 bytes");
    }
    if case.systems.iter().any(|s| s.trim().is_empty()) {
        fail("systems", "a system name cannot be empty");
    }
    errors
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::model::Outcome;
    use crate::vocab::{Initiative, MeasureKind, SignalSource};

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2016, m, d).unwrap()
    }

    fn base() -> Case {
        Case::new("politie", SignalSource::Manager, date(3, 1))
    }

    fn outcome(kind: OutcomeKind, measure: Option<MeasureKind>) -> Option<Outcome> {
        Some(Outcome { kind, measure })
    }

    /// Applies `edit` to a valid case and checks the fields of the errors.
    fn check(edit: fn(&mut Case), expect: &[&str]) {
        let mut case = base();
        edit(&mut case);
        let fields: Vec<_> = validate(&case).iter().map(|e| e.field).collect();
        assert_eq!(fields, expect);
    }

    #[test]
    fn validation_table() {
        check(|_| {}, &[]);
        check(|c| c.organisation = " ".into(), &["organisation"]);
        check(|c| c.start_date = Some(date(2, 1)), &["start_date"]);
        check(
            |c| {
                c.status = CaseStatus::Closed;
                c.outcome = outcome(OutcomeKind::Warning, None);
                c.closure_date = Some(date(2, 1));
            },
            &["closure_date"],
        );
        check(
            |c| {
                c.status = CaseStatus::Closed;
                c.outcome = outcome(OutcomeKind::Warning, None);
                c.start_date = Some(date(4, 1));
                c.closure_date = Some(date(3, 15));
            },
            &["closure_date"],
        );
        check(
            |c| {
                c.status = CaseStatus::Closed;
                c.closure_date = Some(date(5, 1));
            },
            &["outcome"],
        );
        check(
            |c| {
                c.status = CaseStatus::Closed;
                c.outcome = outcome(OutcomeKind::Unfounded, None);
            },
            &["closure_date"],
        );
        check(|c| c.closure_date = Some(date(5, 1)), &["closure_date"]);
        check(
            |c| c.outcome = outcome(OutcomeKind::DisciplinaryMeasure, None),
            &["outcome.measure"],
        );
        check(
            |c| c.outcome = outcome(OutcomeKind::Dismissal, Some(MeasureKind::Fine)),
            &["outcome.measure"],
        );
        check(
            |c| c.outcome = outcome(OutcomeKind::DisciplinaryMeasure, Some(MeasureKind::Fine)),
            &[],
        );
        check(
            |c| c.violation = Some(ViolationType::Disclosure),
            &["recipient"],
        );
        check(
            |c| {
                c.violation = Some(ViolationType::Disclosure);
                c.recipient = Some(Recipient::None);
            },
            &["recipient"],
        );
        check(
            |c| {
                c.violation = Some(ViolationType::Disclosure);
                c.recipient = Some(Recipient::Criminal);
                c.initiative = Some(Initiative::Recipient);
            },
            &[],
        );
        check(
            |c| {
                c.violation = Some(ViolationType::UnauthorisedLookup);
                c.recipient = Some(Recipient::Media);
            },
            &["recipient"],
        );
        check(
            |c| c.initiative = Some(Initiative::Employee),
            &["initiative"],
        );
        check(
            |c| c.suspect.years_of_service = Some(61),
            &["years_of_service"],
        );
        check(|c| c.systems = vec![String::new()], &["systems"]);
    }
}
