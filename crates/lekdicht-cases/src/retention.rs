//! Retention of cases: how long after closure a case (with its evidence and history) is kept, per
//! organisation and per outcome, and which cases have expired.
//!
//! Policies are serde structs (written as TOML by the organisation, see [`EXAMPLE_POLICY`]); this
//! module computes dates only. Deleting is the store's job, and open cases never expire.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::Case;
use crate::vocab::{CaseStatus, OutcomeKind};

/// Years to keep a closed case, per outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Years after closure for outcomes not listed (and for closed cases without an outcome).
    pub default_years: u32,
    /// Years after closure per outcome code.
    #[serde(default)]
    pub years: BTreeMap<OutcomeKind, u32>,
}

/// The retention policies: a default and one per organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicies {
    pub default: RetentionPolicy,
    #[serde(default)]
    pub organisation: BTreeMap<String, RetentionPolicy>,
}

/// An example policy file, in TOML.
pub const EXAMPLE_POLICY: &str = r#"# Retention of integrity cases: years after closure, per outcome.
[default]
default_years = 5
[default.years]
unfounded = 1
not_provable = 2
warning = 5
disciplinary_measure = 5
dismissal = 10
criminal_prosecution = 10
conviction = 10

# An organisation may deviate.
[organisation.gemeente-x]
default_years = 5
[organisation.gemeente-x.years]
unfounded = 1
"#;

impl Default for RetentionPolicies {
    /// The policy of [`EXAMPLE_POLICY`].
    fn default() -> Self {
        let years = [
            (OutcomeKind::Unfounded, 1),
            (OutcomeKind::NotProvable, 2),
            (OutcomeKind::Warning, 5),
            (OutcomeKind::DisciplinaryMeasure, 5),
            (OutcomeKind::Dismissal, 10),
            (OutcomeKind::CriminalProsecution, 10),
            (OutcomeKind::Conviction, 10),
        ];
        RetentionPolicies {
            default: RetentionPolicy {
                default_years: 5,
                years: years.into_iter().collect(),
            },
            organisation: BTreeMap::new(),
        }
    }
}

impl RetentionPolicies {
    /// The policy that applies to an organisation.
    pub fn for_organisation(&self, organisation: &str) -> &RetentionPolicy {
        self.organisation.get(organisation).unwrap_or(&self.default)
    }
}

/// Until when a case is kept: its closure date plus the policy's years for its outcome. `None` for
/// a case that is not closed (kept while open) or has no closure date.
pub fn retention_until(case: &Case, policies: &RetentionPolicies) -> Option<NaiveDate> {
    if case.status != CaseStatus::Closed {
        return None;
    }
    let closed = case.closure_date?;
    let policy = policies.for_organisation(&case.organisation);
    let years = case
        .outcome
        .and_then(|o| policy.years.get(&o.kind).copied())
        .unwrap_or(policy.default_years);
    closed.checked_add_months(Months::new(years.saturating_mul(12)))
}

/// The cases whose retention date lies before `today`.
pub fn expired<'a>(
    cases: &'a [Case],
    today: NaiveDate,
    policies: &RetentionPolicies,
) -> Vec<&'a Case> {
    cases
        .iter()
        .filter(|c| retention_until(c, policies).is_some_and(|until| until < today))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use crate::vocab::SignalSource;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn closed(org: &str, outcome: Option<OutcomeKind>, on: NaiveDate) -> Case {
        let mut c = Case::new(org, SignalSource::Manager, date(2010, 1, 1));
        c.status = CaseStatus::Closed;
        c.closure_date = Some(on);
        c.outcome = outcome.map(|kind| Outcome {
            kind,
            measure: None,
        });
        c
    }

    #[test]
    fn example_policy_parses_and_equals_default_for_the_default_part() {
        let p: RetentionPolicies = toml::from_str(EXAMPLE_POLICY).unwrap();
        assert_eq!(p.default, RetentionPolicies::default().default);
        assert_eq!(p.for_organisation("gemeente-x").years.len(), 1);
        assert!(
            toml::from_str::<RetentionPolicies>("[default]\ndefault_years = 1\nkeep = 2\n")
                .is_err()
        );
    }

    #[test]
    fn retention_table() {
        let p: RetentionPolicies = toml::from_str(EXAMPLE_POLICY).unwrap();
        let on = date(2016, 2, 29);
        // (case, expected retention date)
        let table = [
            (
                closed("politie", Some(OutcomeKind::Unfounded), on),
                Some(date(2017, 2, 28)),
            ),
            (
                closed("politie", Some(OutcomeKind::Dismissal), on),
                Some(date(2026, 2, 28)),
            ),
            (closed("politie", None, on), Some(date(2021, 2, 28))),
            (
                closed("gemeente-x", Some(OutcomeKind::Dismissal), on),
                Some(date(2021, 2, 28)),
            ),
            (
                closed("gemeente-x", Some(OutcomeKind::Unfounded), on),
                Some(date(2017, 2, 28)),
            ),
        ];
        for (case, want) in &table {
            assert_eq!(retention_until(case, &p), *want, "{:?}", case.outcome);
        }
        let mut open = closed("politie", Some(OutcomeKind::Unfounded), on);
        open.status = CaseStatus::Decided;
        assert_eq!(retention_until(&open, &p), None);

        let cases: Vec<Case> = table.into_iter().map(|(c, _)| c).chain([open]).collect();
        let gone = expired(&cases, date(2021, 3, 1), &p);
        assert_eq!(gone.len(), 4);
        assert!(expired(&cases, date(2017, 2, 28), &p).is_empty());
        assert_eq!(expired(&cases, date(2017, 3, 1), &p).len(), 2);
    }
}
