//! The access event: one action of one employee on the record of one data subject in one system.

use serde::{Deserialize, Serialize};

use crate::{CaseId, EmployeeId, EventId, SubjectId, Time};

/// What the employee did (contract section 1, `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Search,
    View,
    Export,
    Print,
    Update,
    Create,
    Delete,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Search,
        Action::View,
        Action::Export,
        Action::Print,
        Action::Update,
        Action::Create,
        Action::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Search => "search",
            Action::View => "view",
            Action::Export => "export",
            Action::Print => "print",
            Action::Update => "update",
            Action::Create => "create",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether the data leaves the system (an export or a print).
    pub fn takes_data_out(self) -> bool {
        matches!(self, Action::Export | Action::Print)
    }
}

/// Whether `subject` names a person or a vehicle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    #[default]
    Person,
    Vehicle,
}

impl SubjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::Person => "person",
            SubjectType::Vehicle => "vehicle",
        }
    }

    fn is_person(&self) -> bool {
        *self == SubjectType::Person
    }
}

/// One access event (contract section 1). Unknown input fields are not modelled; the importer keeps
/// the full record as canonical JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEvent {
    pub id: EventId,
    pub time: Time,
    pub actor: EmployeeId,
    pub system: String,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SubjectId>,
    #[serde(default, skip_serializing_if = "SubjectType::is_person")]
    pub subject_type: SubjectType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workstation: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_example_round_trips() {
        let line = r#"{"id":"bvh-000918273","time":"2025-03-14T09:31:22+01:00","actor":"E10442","system":"BVH","action":"view","subject":"P883311","case":"2025-AMS-00017","purpose":"rva:opsporing"}"#;
        let event: AccessEvent = serde_json::from_str(line).unwrap();
        assert_eq!(event.action, Action::View);
        assert_eq!(event.subject_type, SubjectType::Person);
        assert_eq!(event.time.timestamp(), 1741941082);
        assert_eq!(serde_json::to_string(&event).unwrap(), line);
    }

    #[test]
    fn a_time_without_offset_is_rejected() {
        let line = r#"{"id":"x","time":"2025-03-14T09:31:22","actor":"E1","system":"BVH","action":"view"}"#;
        assert!(serde_json::from_str::<AccessEvent>(line).is_err());
    }
}
