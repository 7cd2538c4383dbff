//! The kinds of record the contract defines, and how a file name announces its kind.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One kind of contract record. Events are high-volume facts; all others are context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Events,
    Employees,
    Units,
    Subjects,
    Vehicles,
    Relations,
    Cases,
    Shifts,
}

impl RecordKind {
    pub const ALL: [RecordKind; 8] = [
        RecordKind::Units,
        RecordKind::Employees,
        RecordKind::Subjects,
        RecordKind::Vehicles,
        RecordKind::Relations,
        RecordKind::Cases,
        RecordKind::Shifts,
        RecordKind::Events,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Events => "events",
            RecordKind::Employees => "employees",
            RecordKind::Units => "units",
            RecordKind::Subjects => "subjects",
            RecordKind::Vehicles => "vehicles",
            RecordKind::Relations => "relations",
            RecordKind::Cases => "cases",
            RecordKind::Shifts => "shifts",
        }
    }

    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether CSV is accepted for this kind (the contract allows it for the flat kinds only).
    pub fn allows_csv(self) -> bool {
        self != RecordKind::Cases
    }

    /// Guesses the kind from a file name such as `events.ndjson`, `2025-03-events.csv.gz` or
    /// `employees.jsonl`: the first kind whose name appears as a word in the stem.
    pub fn from_file_name(name: &str) -> Option<RecordKind> {
        let lower = name.to_ascii_lowercase();
        let stem = lower.split('.').next().unwrap_or("");
        stem.split(|c: char| !c.is_ascii_alphanumeric())
            .find_map(|word| {
                RecordKind::parse(word).or_else(|| {
                    // Singular forms (`event.ndjson`, `case.jsonl`) are common too.
                    RecordKind::ALL
                        .into_iter()
                        .find(|k| k.as_str().strip_suffix('s') == Some(word))
                })
            })
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_file_names() {
        let check = |name: &str, expect: Option<RecordKind>| {
            assert_eq!(RecordKind::from_file_name(name), expect, "{name}");
        };
        check("events.ndjson", Some(RecordKind::Events));
        check("2025-03-events.csv.gz", Some(RecordKind::Events));
        check("Employees.jsonl", Some(RecordKind::Employees));
        check("case.ndjson", Some(RecordKind::Cases));
        check("bvh_export_shifts.csv", Some(RecordKind::Shifts));
        check("readme.md", None);
    }
}
