//! The answer key: which generated events are planted violations, and of what kind; plus the
//! groups each employee belongs to, for measuring whether detection treats groups alike.
//!
//! Only evaluation reads these. Nothing here is part of the data contract, and detection must never
//! see it.

use std::collections::BTreeMap;
use std::fmt;

use lekdicht_model::{EmployeeId, EventId};
use serde::{Deserialize, Serialize};

/// The kinds of misuse the generator plants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// The employee's own record.
    SelfLookup,
    /// A partner or family member (declared, or living at the same address).
    Family,
    /// A declared ex-partner.
    ExPartner,
    /// Someone with the same 6-character postcode.
    Neighbour,
    /// A colleague's own record.
    Colleague,
    /// A VIP or protected person, without a reason.
    VipCuriosity,
    /// A person in the news, looked up out of curiosity.
    InTheNews,
    /// A suspect, vehicle or co-subject of a restricted investigation, by someone outside the team.
    RestrictedLeak,
    /// A real case number given for a subject the case does not name, or by a non-member.
    CaseCover,
    /// Outside any shift, at night or in the weekend.
    OffDuty,
    /// During leave or sickness.
    OnLeave,
    /// Name searches without a case, then views of unrelated records.
    NameBrowsing,
    /// An employee about to leave, exporting or printing many records.
    BulkExportLeaver,
}

impl ViolationKind {
    pub const ALL: [ViolationKind; 13] = [
        ViolationKind::SelfLookup,
        ViolationKind::Family,
        ViolationKind::ExPartner,
        ViolationKind::Neighbour,
        ViolationKind::Colleague,
        ViolationKind::VipCuriosity,
        ViolationKind::InTheNews,
        ViolationKind::RestrictedLeak,
        ViolationKind::CaseCover,
        ViolationKind::OffDuty,
        ViolationKind::OnLeave,
        ViolationKind::NameBrowsing,
        ViolationKind::BulkExportLeaver,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::SelfLookup => "self_lookup",
            ViolationKind::Family => "family",
            ViolationKind::ExPartner => "ex_partner",
            ViolationKind::Neighbour => "neighbour",
            ViolationKind::Colleague => "colleague",
            ViolationKind::VipCuriosity => "vip_curiosity",
            ViolationKind::InTheNews => "in_the_news",
            ViolationKind::RestrictedLeak => "restricted_leak",
            ViolationKind::CaseCover => "case_cover",
            ViolationKind::OffDuty => "off_duty",
            ViolationKind::OnLeave => "on_leave",
            ViolationKind::NameBrowsing => "name_browsing",
            ViolationKind::BulkExportLeaver => "bulk_export_leaver",
        }
    }

    pub fn parse(s: &str) -> Option<ViolationKind> {
        ViolationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One violating event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub event: EventId,
    pub actor: EmployeeId,
    pub kind: ViolationKind,
}

/// Every planted violation, in event order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerKey {
    pub violations: Vec<Violation>,
}

impl AnswerKey {
    /// The distinct employees with at least one violation.
    pub fn violators(&self) -> std::collections::BTreeSet<&EmployeeId> {
        self.violations.iter().map(|v| &v.actor).collect()
    }

    /// Number of violating events per kind.
    pub fn counts(&self) -> BTreeMap<ViolationKind, usize> {
        let mut counts = BTreeMap::new();
        for v in &self.violations {
            *counts.entry(v.kind).or_insert(0) += 1;
        }
        counts
    }
}

/// The groups one employee belongs to (`surname`: `common`|`rare`; `age`: `under-35`|`35-49`|
/// `50-plus`; `gender`: `female`|`male`, drawn independently of everything else; `unit_kind`:
/// `neighbourhood`|`detective`|`national`|`traffic`|`front-office`). The first three are personal
/// attributes that fairness is measured over; the unit kind describes the work (detectives
/// legitimately work differently from front-office staff) and is for information only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmployeeGroups {
    pub employee: EmployeeId,
    pub groups: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in ViolationKind::ALL {
            assert_eq!(ViolationKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
