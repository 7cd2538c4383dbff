//! What the pages need to know about the context, loaded once when the server starts: which
//! organisation and unit each employee belongs to, unit names, subjects' flags and the cases that
//! name a subject. Looking these up per request from the store would mean a query per row.
//!
//! It does not follow context updates made while the server runs (restart to refresh).

use std::collections::HashMap;

use lekdicht_model::ContextRecords;

/// An employee as the review pages see it.
#[derive(Debug, Clone)]
pub struct EmployeeInfo {
    pub organisation: String,
    pub unit: String,
    pub name: String,
}

/// A case that names a subject.
#[derive(Debug, Clone)]
pub struct CaseInfo {
    pub id: String,
    pub kind: String,
    pub restricted: bool,
}

/// The context lookups of the review pages.
#[derive(Debug, Default)]
pub struct Directory {
    pub employees: HashMap<String, EmployeeInfo>,
    /// Unit id to (organisation, name).
    pub units: HashMap<String, (String, String)>,
    pub subject_flags: HashMap<String, Vec<String>>,
    pub subject_cases: HashMap<String, Vec<CaseInfo>>,
}

impl Directory {
    /// Builds the lookups from the context records.
    pub fn new(records: &ContextRecords) -> Directory {
        let mut dir = Directory::default();
        for unit in &records.units {
            dir.units.insert(
                unit.id.as_str().to_owned(),
                (
                    unit.organization.clone().unwrap_or_default(),
                    unit.name
                        .clone()
                        .unwrap_or_else(|| unit.id.as_str().to_owned()),
                ),
            );
        }
        for e in &records.employees {
            let unit = e.unit.as_str().to_owned();
            let organisation = e
                .organization
                .clone()
                .or_else(|| dir.units.get(&unit).map(|(org, _)| org.clone()))
                .unwrap_or_default();
            let name = [e.given_names.as_deref(), e.family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            dir.employees.insert(
                e.id.as_str().to_owned(),
                EmployeeInfo {
                    organisation,
                    unit,
                    name,
                },
            );
        }
        for s in &records.subjects {
            if !s.flags.is_empty() {
                dir.subject_flags.insert(
                    s.id.as_str().to_owned(),
                    s.flags.iter().map(|f| f.as_str().to_owned()).collect(),
                );
            }
        }
        for c in &records.cases {
            for s in &c.subjects {
                dir.subject_cases
                    .entry(s.subject.as_str().to_owned())
                    .or_default()
                    .push(CaseInfo {
                        id: c.id.as_str().to_owned(),
                        kind: c.kind.clone().unwrap_or_default(),
                        restricted: c.restricted,
                    });
            }
        }
        dir
    }

    /// The organisation of an employee (`None` when unknown).
    pub fn organisation_of(&self, employee: &str) -> Option<&str> {
        self.employees
            .get(employee)
            .map(|e| e.organisation.as_str())
            .filter(|o| !o.is_empty())
    }

    /// The units of one organisation, sorted by name: `(id, name)`.
    pub fn units_of(&self, organisation: &str) -> Vec<(String, String)> {
        let mut units: Vec<_> = self
            .units
            .iter()
            .filter(|(_, (org, _))| org == organisation)
            .map(|(id, (_, name))| (id.clone(), name.clone()))
            .collect();
        units.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        units
    }
}
