//! Roles of the review application and the permissions each one grants.
//!
//! The matrix below is the whole access policy; the web layer asks [`allowed`] and never decides
//! on its own. Roles are additive: a user with several roles may do what any of them allows.
//! Deliberately absent: per-organisation overrides and a "superuser" role. Separation of duties is
//! built in: whoever requests that a pseudonym be revealed (investigator) cannot approve it
//! (approver), a reviewer can do neither, and the administrator manages accounts but sees no alerts.
//! Granting the roles on either side of a reveal needs a second person (see `grants.rs`). The
//! `source` role is an application's account: it sends access events (the OTLP intake) and does
//! nothing else.
//!
//! | permission           | reviewer | investigator | approver | privacy_officer | auditor | admin | source |
//! |----------------------|:--------:|:------------:|:--------:|:---------------:|:-------:|:-----:|:------:|
//! | view_alerts          |    x     |      x       |    x     |        x        |    x    |       |        |
//! | decide_alerts        |    x     |      x       |          |                 |         |       |        |
//! | request_reveal       |          |      x       |          |                 |         |       |        |
//! | approve_reveal       |          |              |    x     |                 |         |       |        |
//! | view_reveals         |          |              |          |        x        |    x    |       |        |
//! | manage_suppressions  |    x     |      x       |          |        x        |         |       |        |
//! | view_precision       |    x     |      x       |    x     |        x        |    x    |       |        |
//! | view_audit_trail     |          |              |          |        x        |    x    |   x   |        |
//! | view_ledger          |          |              |          |                 |    x    |       |        |
//! | draw_sample          |          |              |          |        x        |    x    |       |        |
//! | judge_sample         |    x     |      x       |          |                 |         |       |        |
//! | view_sample_report   |    x     |      x       |          |        x        |    x    |       |        |
//! | manage_users         |          |              |          |                 |         |   x   |        |
//! | manage_api_tokens    |          |              |          |                 |         |   x   |        |
//! | confirm_role_grants  |          |              |          |        x        |         |   x   |        |
//! | work_cases           |          |      x       |          |                 |         |       |        |
//! | view_cases           |          |      x       |          |        x        |         |       |        |
//! | view_reports         |          |      x       |          |        x        |    x    |       |        |
//! | submit_events        |          |              |          |                 |         |       |   x    |

use serde::{Deserialize, Serialize};

use crate::Lang;

/// A role a user of the review application can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Judges alerts and sample items (`reviewer`).
    Reviewer,
    /// Integrity investigator: reviews, requests reveals, works cases (`investigator`).
    Investigator,
    /// Approves requests to reveal a pseudonym (`approver`).
    Approver,
    /// Privacy officer: oversight of reveals, suppressions and the sample audit (`privacy_officer`).
    PrivacyOfficer,
    /// Read-only auditor (`auditor`).
    Auditor,
    /// Manages users and API tokens, sees no alerts (`admin`).
    Admin,
    /// An application that sends its access events, nothing else (`source`).
    Source,
}

/// Something a user may do in the review application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ViewAlerts,
    DecideAlerts,
    RequestReveal,
    ApproveReveal,
    ViewReveals,
    ManageSuppressions,
    ViewPrecision,
    ViewAuditTrail,
    ViewLedger,
    DrawSample,
    JudgeSample,
    ViewSampleReport,
    ManageUsers,
    ManageApiTokens,
    ConfirmRoleGrants,
    WorkCases,
    ViewCases,
    ViewReports,
    SubmitEvents,
}

use Permission as P;

const REVIEWER: &[Permission] = &[
    P::ViewAlerts,
    P::DecideAlerts,
    P::ManageSuppressions,
    P::ViewPrecision,
    P::JudgeSample,
    P::ViewSampleReport,
];
const INVESTIGATOR: &[Permission] = &[
    P::ViewAlerts,
    P::DecideAlerts,
    P::RequestReveal,
    P::ManageSuppressions,
    P::ViewPrecision,
    P::JudgeSample,
    P::ViewSampleReport,
    P::WorkCases,
    P::ViewCases,
    P::ViewReports,
];
const APPROVER: &[Permission] = &[P::ViewAlerts, P::ApproveReveal, P::ViewPrecision];
const PRIVACY_OFFICER: &[Permission] = &[
    P::ViewAlerts,
    P::ViewReveals,
    P::ManageSuppressions,
    P::ViewPrecision,
    P::ViewAuditTrail,
    P::DrawSample,
    P::ViewSampleReport,
    P::ConfirmRoleGrants,
    P::ViewCases,
    P::ViewReports,
];
const AUDITOR: &[Permission] = &[
    P::ViewAlerts,
    P::ViewReveals,
    P::ViewPrecision,
    P::ViewAuditTrail,
    P::ViewLedger,
    P::DrawSample,
    P::ViewSampleReport,
    P::ViewReports,
];
const ADMIN: &[Permission] = &[
    P::ManageUsers,
    P::ManageApiTokens,
    P::ConfirmRoleGrants,
    P::ViewAuditTrail,
];
const SOURCE: &[Permission] = &[P::SubmitEvents];

impl Role {
    /// Every role, in the order of the matrix.
    pub const ALL: [Role; 7] = [
        Role::Reviewer,
        Role::Investigator,
        Role::Approver,
        Role::PrivacyOfficer,
        Role::Auditor,
        Role::Admin,
        Role::Source,
    ];

    /// The role code, e.g. `privacy_officer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Investigator => "investigator",
            Role::Approver => "approver",
            Role::PrivacyOfficer => "privacy_officer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Source => "source",
        }
    }

    /// Parses a role code; `None` for anything else.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == s)
    }

    /// The role's name for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Role::Reviewer, Lang::Nl) => "beoordelaar",
            (Role::Reviewer, Lang::En) => "reviewer",
            (Role::Investigator, Lang::Nl) => "onderzoeker",
            (Role::Investigator, Lang::En) => "investigator",
            (Role::Approver, Lang::Nl) => "fiatteur",
            (Role::Approver, Lang::En) => "approver",
            (Role::PrivacyOfficer, Lang::Nl) => "privacyfunctionaris",
            (Role::PrivacyOfficer, Lang::En) => "privacy officer",
            (Role::Auditor, Lang::Nl) => "auditor",
            (Role::Auditor, Lang::En) => "auditor",
            (Role::Admin, Lang::Nl) => "beheerder",
            (Role::Admin, Lang::En) => "administrator",
            (Role::Source, Lang::Nl) => "bronsysteem",
            (Role::Source, Lang::En) => "source system",
        }
    }

    /// The permissions this role grants (see the matrix in the module documentation).
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Role::Reviewer => REVIEWER,
            Role::Investigator => INVESTIGATOR,
            Role::Approver => APPROVER,
            Role::PrivacyOfficer => PRIVACY_OFFICER,
            Role::Auditor => AUDITOR,
            Role::Admin => ADMIN,
            Role::Source => SOURCE,
        }
    }
}

impl Permission {
    /// Every permission, in the order of the matrix.
    pub const ALL: [Permission; 19] = [
        P::ViewAlerts,
        P::DecideAlerts,
        P::RequestReveal,
        P::ApproveReveal,
        P::ViewReveals,
        P::ManageSuppressions,
        P::ViewPrecision,
        P::ViewAuditTrail,
        P::ViewLedger,
        P::DrawSample,
        P::JudgeSample,
        P::ViewSampleReport,
        P::ManageUsers,
        P::ManageApiTokens,
        P::ConfirmRoleGrants,
        P::WorkCases,
        P::ViewCases,
        P::ViewReports,
        P::SubmitEvents,
    ];

    /// The permission code, e.g. `approve_reveal`.
    pub fn as_str(self) -> &'static str {
        match self {
            P::ViewAlerts => "view_alerts",
            P::DecideAlerts => "decide_alerts",
            P::RequestReveal => "request_reveal",
            P::ApproveReveal => "approve_reveal",
            P::ViewReveals => "view_reveals",
            P::ManageSuppressions => "manage_suppressions",
            P::ViewPrecision => "view_precision",
            P::ViewAuditTrail => "view_audit_trail",
            P::ViewLedger => "view_ledger",
            P::DrawSample => "draw_sample",
            P::JudgeSample => "judge_sample",
            P::ViewSampleReport => "view_sample_report",
            P::ManageUsers => "manage_users",
            P::ManageApiTokens => "manage_api_tokens",
            P::ConfirmRoleGrants => "confirm_role_grants",
            P::WorkCases => "work_cases",
            P::ViewCases => "view_cases",
            P::ViewReports => "view_reports",
            P::SubmitEvents => "submit_events",
        }
    }

    /// Parses a permission code; `None` for anything else.
    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// True when any of the roles grants the permission.
pub fn allowed(roles: &[Role], permission: Permission) -> bool {
    roles
        .iter()
        .any(|role| role.permissions().contains(&permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix of the module documentation, one row per permission, columns in `Role::ALL`
    /// order (reviewer, investigator, approver, privacy_officer, auditor, admin).
    const EXPECTED: [(Permission, [bool; 7]); 19] = {
        const X: bool = true;
        const O: bool = false;
        [
            (P::ViewAlerts, [X, X, X, X, X, O, O]),
            (P::DecideAlerts, [X, X, O, O, O, O, O]),
            (P::RequestReveal, [O, X, O, O, O, O, O]),
            (P::ApproveReveal, [O, O, X, O, O, O, O]),
            (P::ViewReveals, [O, O, O, X, X, O, O]),
            (P::ManageSuppressions, [X, X, O, X, O, O, O]),
            (P::ViewPrecision, [X, X, X, X, X, O, O]),
            (P::ViewAuditTrail, [O, O, O, X, X, X, O]),
            (P::ViewLedger, [O, O, O, O, X, O, O]),
            (P::DrawSample, [O, O, O, X, X, O, O]),
            (P::JudgeSample, [X, X, O, O, O, O, O]),
            (P::ViewSampleReport, [X, X, O, X, X, O, O]),
            (P::ManageUsers, [O, O, O, O, O, X, O]),
            (P::ManageApiTokens, [O, O, O, O, O, X, O]),
            (P::ConfirmRoleGrants, [O, O, O, X, O, X, O]),
            (P::WorkCases, [O, X, O, O, O, O, O]),
            (P::ViewCases, [O, X, O, X, O, O, O]),
            (P::ViewReports, [O, X, O, X, X, O, O]),
            (P::SubmitEvents, [O, O, O, O, O, O, X]),
        ]
    };

    #[test]
    fn matrix_matches_table() {
        // Every permission appears exactly once in the table.
        let listed: Vec<Permission> = EXPECTED.iter().map(|(p, _)| *p).collect();
        assert_eq!(listed, Permission::ALL.to_vec());
        for (permission, row) in EXPECTED {
            for (role, expected) in Role::ALL.into_iter().zip(row) {
                assert_eq!(
                    allowed(&[role], permission),
                    expected,
                    "{} / {}",
                    role.as_str(),
                    permission.as_str()
                );
            }
        }
    }

    #[test]
    fn roles_are_additive_and_empty_grants_nothing() {
        for permission in Permission::ALL {
            assert!(!allowed(&[], permission));
        }
        assert!(!allowed(&[Role::Reviewer], P::RequestReveal));
        assert!(!allowed(&[Role::Reviewer], P::ApproveReveal));
        assert!(allowed(&[Role::Reviewer, Role::Approver], P::ApproveReveal));
        assert!(allowed(&[Role::Admin, Role::Auditor], P::ViewLedger));
    }

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        for permission in Permission::ALL {
            assert_eq!(Permission::parse(permission.as_str()), Some(permission));
            let json = serde_json::to_string(&permission).unwrap();
            assert_eq!(json, format!("\"{}\"", permission.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::PrivacyOfficer.label(Lang::Nl), "privacyfunctionaris");
        assert_eq!(Role::Approver.label(Lang::Nl), "fiatteur");
    }
}
