//! Context records (contract section 2): who the employees are, which cases they work on, who the
//! data subjects are and when people are on duty.
//!
//! Optional fields are `Option`s; list fields default to empty. The types say nothing about how the
//! records are stored or how a new version of a record replaces an old one.

use serde::{Deserialize, Serialize};

use crate::{CaseId, Date, EmployeeId, SubjectId, Time, UnitId};

/// An employee whose accesses are recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Employee {
    pub id: EmployeeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    pub unit: UnitId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    /// Home postcode, 6 characters (`1012AB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<String>,
    /// The employee's own record as a data subject, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_from: Option<Date>,
    /// Last working day, if leaving or left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_until: Option<Date>,
}

/// An organisational unit and the area it serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 4-digit postcodes the unit serves; empty for national units.
    #[serde(default)]
    pub area: Vec<String>,
}

/// Markers on a person's record that make a lookup sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectFlag {
    Vip,
    Protected,
    Minor,
    Deceased,
    Informant,
    Employee,
}

impl SubjectFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectFlag::Vip => "vip",
            SubjectFlag::Protected => "protected",
            SubjectFlag::Minor => "minor",
            SubjectFlag::Deceased => "deceased",
            SubjectFlag::Informant => "informant",
            SubjectFlag::Employee => "employee",
        }
    }
}

/// A person as a data subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub id: SubjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<String>,
    #[serde(default)]
    pub flags: Vec<SubjectFlag>,
}

/// A vehicle and its registered holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub id: SubjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<SubjectId>,
}

/// How an employee is related to a data subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    Partner,
    ExPartner,
    Family,
    Housemate,
    Neighbour,
    Acquaintance,
}

impl RelationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Partner => "partner",
            RelationKind::ExPartner => "ex-partner",
            RelationKind::Family => "family",
            RelationKind::Housemate => "housemate",
            RelationKind::Neighbour => "neighbour",
            RelationKind::Acquaintance => "acquaintance",
        }
    }
}

/// A relation declared by an employee or known from HR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub employee: EmployeeId,
    pub subject: SubjectId,
    pub kind: RelationKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_on: Option<Date>,
}

/// A member of a case, possibly for part of its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseMember {
    pub employee: EmployeeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Time>,
}

/// A subject (person or vehicle) named in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSubject {
    pub subject: SubjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Time>,
}

/// An investigation, incident, permit or service request: a reason to look at a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    /// `investigation`, `incident`, `traffic`, `permit`, `service` or free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A sensitive investigation: team-only access.
    #[serde(default)]
    pub restricted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened: Option<Time>,
    #[serde(default)]
    pub closed: Option<Time>,
    #[serde(default)]
    pub members: Vec<CaseMember>,
    #[serde(default)]
    pub subjects: Vec<CaseSubject>,
}

/// What a shift says about the employee's availability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShiftKind {
    #[default]
    Duty,
    Standby,
    Leave,
    Sick,
}

impl ShiftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftKind::Duty => "duty",
            ShiftKind::Standby => "standby",
            ShiftKind::Leave => "leave",
            ShiftKind::Sick => "sick",
        }
    }
}

/// A period on duty, on standby, on leave or sick. Missing shift data means "unknown".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    pub employee: EmployeeId,
    pub start: Time,
    pub end: Time,
    #[serde(default)]
    pub kind: ShiftKind,
}

/// Every context record of one organisation, as a set: what detection indexes and what the store
/// returns as the current context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContextRecords {
    pub units: Vec<Unit>,
    pub employees: Vec<Employee>,
    pub subjects: Vec<Subject>,
    pub vehicles: Vec<Vehicle>,
    pub relations: Vec<Relation>,
    pub cases: Vec<Case>,
    pub shifts: Vec<Shift>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_case_example_parses() {
        let line = r#"{"id":"2025-AMS-00017","organization":"politie","unit":"AMS-RECH-2","kind":"investigation","restricted":true,
 "opened":"2025-02-01T08:00:00+01:00","closed":null,
 "members":[{"employee":"E10442"},{"employee":"E20987","from":"2025-03-01T00:00:00+01:00"}],
 "subjects":[{"subject":"P883311","role":"suspect"},{"subject":"12-ABC-3"}]}"#;
        let case: Case = serde_json::from_str(line).unwrap();
        assert!(case.restricted);
        assert_eq!(case.members.len(), 2);
        assert!(case.members[1].from.is_some());
        assert_eq!(case.subjects[0].role.as_deref(), Some("suspect"));
        assert!(case.closed.is_none());
    }

    #[test]
    fn relation_kinds_use_contract_spelling() {
        let r: Relation = serde_json::from_str(
            r#"{"employee":"E1","subject":"P1","kind":"ex-partner","declared_on":"2021-05-01"}"#,
        )
        .unwrap();
        assert_eq!(r.kind, RelationKind::ExPartner);
        assert_eq!(r.kind.as_str(), "ex-partner");
    }

    #[test]
    fn shift_kind_defaults_to_duty() {
        let s: Shift = serde_json::from_str(
            r#"{"employee":"E1","start":"2025-03-14T07:00:00+01:00","end":"2025-03-14T15:00:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(s.kind, ShiftKind::Duty);
    }
}
