//! The stable codes of lekdicht's detection: explanations (legitimate reasons for an access) and
//! suspicion signals (reasons to look twice), each with a one-line meaning.
//!
//! Users write rules, reports and dashboards against these strings, so a code never changes its
//! spelling or meaning; new codes may be added. This module holds only the vocabulary: which
//! conditions make a code fire is decided in the engine.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal, $meaning:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $(#[doc = $meaning] $variant,)*
        }

        impl $name {
            /// Every code, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable SCREAMING_SNAKE_CASE spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The documented one-line meaning.
            pub fn description(self) -> &'static str {
                match self {
                    $($name::$variant => $meaning,)*
                }
            }

            /// Parses the stable spelling.
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|c| c.as_str() == s)
            }

            /// Position in [`Self::ALL`], for compact per-code tables.
            pub fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum!(
    /// A legitimate reason for an access, found in the context.
    ExplanationCode {
        CaseMember => "CASE_MEMBER",
            "the actor is a member of an open case that names the subject (or its vehicle or holder)";
        IncidentHandler => "INCIDENT_HANDLER",
            "the actor handled an incident involving the subject around the time of the access";
        UnitCase => "UNIT_CASE",
            "the actor's own unit owns an open case that names the subject";
        FollowUp => "FOLLOW_UP",
            "the actor recently accessed this subject before, explained by a case, incident or unit case";
        AreaPatrol => "AREA_PATROL",
            "the actor was on duty in an operational system, with the location or the subject's address in the unit's area (or a vehicle check or a search without a record)";
        TeamCollaboration => "TEAM_COLLABORATION",
            "a colleague in the same unit accessed the subject shortly before, explained by a case, incident or unit case";
    }
);

code_enum!(
    /// A reason to look twice at an access.
    SignalCode {
        Unexplained => "UNEXPLAINED",
            "no case, incident, area or colleague in the context explains the access";
        SelfLookup => "SELF_LOOKUP",
            "the subject is the actor's own record (or a vehicle the actor holds)";
        DeclaredRelation => "DECLARED_RELATION",
            "the actor declared a relation with the subject (partner, family, ex-partner, ...)";
        SameAddress => "SAME_ADDRESS",
            "the subject lives at the actor's home address (a housemate)";
        SamePostcode => "SAME_POSTCODE",
            "the subject lives in the actor's 6-character postcode (a neighbour)";
        SameFamilyName => "SAME_FAMILY_NAME",
            "the subject shares the actor's family name, weighted by how rare the name is";
        ColleagueRecord => "COLLEAGUE_RECORD",
            "the subject is a colleague's own record";
        FlaggedSubject => "FLAGGED_SUBJECT",
            "the subject's record is flagged vip, protected or informant";
        RestrictedCaseNotMember => "RESTRICTED_CASE_NOT_MEMBER",
            "the subject (or its vehicle or holder) is in a restricted case of which the actor is no member";
        CaseNotNamingSubject => "CASE_NOT_NAMING_SUBJECT",
            "the case number given as reason does not name the subject";
        CaseNotMember => "CASE_NOT_MEMBER",
            "the actor is no member of the case given as reason (another unit's case keeps its full weight: the role's rate does not damp it)";
        CaseUnknown => "CASE_UNKNOWN",
            "the case number given as reason is not known (or not yet opened)";
        OffDuty => "OFF_DUTY",
            "the actor has roster data around the time but no shift covering it";
        OnLeave => "ON_LEAVE",
            "the actor was on leave at the time";
        Sick => "SICK",
            "the actor was reported sick at the time";
        AfterLastDay => "AFTER_LAST_DAY",
            "the access happened after the actor's last working day";
        LeavingSoon => "LEAVING_SOON",
            "an export or print in the last weeks before the actor's last working day";
        VolumeUnusual => "VOLUME_UNUSUAL",
            "the actor's accesses today far exceed their own daily history";
        VolumeUnusualPeers => "VOLUME_UNUSUAL_PEERS",
            "the actor's accesses today far exceed those of peers with the same role and unit";
        UnexplainedShareUnusual => "UNEXPLAINED_SHARE_UNUSUAL",
            "the share of the actor's unexplained accesses far exceeds that of peers with the same role";
        NameSearchNoCase => "NAME_SEARCH_NO_CASE",
            "a search on a name without a case number and without another explanation";
        Browsing => "BROWSING",
            "many distinct unexplained subjects accessed in a short time";
        ExportUnexplained => "EXPORT_UNEXPLAINED",
            "an export or print of a record without any explanation";
        BulkExport => "BULK_EXPORT",
            "many exports or prints in a short time";
        UnusualSystem => "UNUSUAL_SYSTEM",
            "the actor's first use of a system that is rarely used by their role";
        InTheNews => "IN_THE_NEWS",
            "the subject is suddenly accessed by many employees of several units, most without a case linking them to it, and no case, incident, follow-up or colleague links this access to it (an area does not)";
        SigmaRule => "SIGMA_RULE",
            "a custom Sigma rule (detection or correlation) matched; the detail holds the rule's title";
    }
);

/// One row of the code table: kind (`explanation` or `signal`), code and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeRow {
    pub kind: &'static str,
    pub code: &'static str,
    pub description: &'static str,
}

/// Every stable code with its meaning: explanations first, then signals.
pub fn table() -> Vec<CodeRow> {
    let explanations = ExplanationCode::ALL.iter().map(|c| CodeRow {
        kind: "explanation",
        code: c.as_str(),
        description: c.description(),
    });
    let signals = SignalCode::ALL.iter().map(|c| CodeRow {
        kind: "signal",
        code: c.as_str(),
        description: c.description(),
    });
    explanations.chain(signals).collect()
}

/// The code table as Markdown, for documentation and `lekdicht codes`-style output.
pub fn markdown_table() -> String {
    let mut out = String::from("| kind | code | meaning |\n|---|---|---|\n");
    for row in table() {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            row.kind, row.code, row.description
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_documented() {
        for code in SignalCode::ALL {
            assert_eq!(SignalCode::parse(code.as_str()), Some(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(!code.description().is_empty());
            assert_eq!(SignalCode::ALL[code.index()], *code);
        }
        for code in ExplanationCode::ALL {
            assert_eq!(ExplanationCode::parse(code.as_str()), Some(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        let table = markdown_table();
        assert_eq!(
            table.lines().count(),
            2 + ExplanationCode::ALL.len() + SignalCode::ALL.len()
        );
        assert!(table.contains("| signal | `RESTRICTED_CASE_NOT_MEMBER` |"));
    }
}
