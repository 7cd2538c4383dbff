//! The fixed vocabularies of the case model: each an enum with a stable English code (its serde
//! name, `as_str`, `parse`), the list of all values (`ALL`) and a Dutch and English label.
//!
//! Codes never change once released (they are stored and exported); labels may be reworded. This
//! module holds no case logic.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The language of labels and generated texts: the one the review application speaks.
pub use lekdicht_review::Lang;

/// What every fixed vocabulary offers, for code that lists or labels any of them (forms, reports).
pub trait Vocabulary: Copy + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// The stable English code.
    fn code(self) -> &'static str;
    /// The value with this code.
    fn from_code(code: &str) -> Option<Self>;
    /// The label shown to people.
    fn label(self, lang: Lang) -> &'static str;
}

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $nl:literal, $en:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable English code.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The value with this code.
            pub fn parse(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The label shown to people.
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( ($name::$variant, Lang::Nl) => $nl, ($name::$variant, Lang::En) => $en, )+
                }
            }

            /// Position in [`Self::ALL`] (for counting in arrays).
            pub fn index(self) -> usize {
                self as usize
            }

            /// The codes, separated by `", "` (for error messages).
            pub fn codes() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl Vocabulary for $name {
            const ALL: &'static [$name] = $name::ALL;

            fn code(self) -> &'static str {
                self.as_str()
            }

            fn from_code(code: &str) -> Option<$name> {
                $name::parse(code)
            }

            fn label(self, lang: Lang) -> &'static str {
                $name::label(self, lang)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// How the suspicion came to light.
    SignalSource {
        ProactiveLogAnalysis = "proactive_log_analysis", "Proactieve loganalyse", "Proactive log analysis";
        RandomSampleAudit = "random_sample_audit", "Steekproefcontrole", "Random-sample audit";
        Colleague = "colleague", "Melding door collega", "Report by a colleague";
        Manager = "manager", "Melding door leidinggevende", "Report by a manager";
        CitizenComplaint = "citizen_complaint", "Klacht van een burger", "Citizen complaint";
        DataSubject = "data_subject", "Melding door betrokkene", "Report by the data subject";
        OtherAgency = "other_agency", "Andere instantie (Rijksrecherche, inlichtingendienst)", "Other agency (Rijksrecherche, intelligence service)";
        Media = "media", "Media", "Media";
        AnonymousReport = "anonymous_report", "Anonieme melding", "Anonymous report";
    }
}

vocabulary! {
    /// The kind of integrity violation suspected.
    ViolationType {
        UnauthorisedLookup = "unauthorised_lookup", "Onrechtmatig raadplegen zonder verstrekken", "Unauthorised lookup without disclosure";
        Disclosure = "disclosure", "Lekken van vertrouwelijke informatie / schending ambtsgeheim", "Disclosure of confidential information / breach of official secrecy";
        Bribery = "bribery", "Omkoping", "Bribery";
        CriminalContacts = "criminal_contacts", "Ongewenste contacten met criminelen", "Unwanted contacts with criminals";
        SideActivities = "side_activities", "Ongewenste nevenwerkzaamheden", "Unwanted side activities";
        FacilitatingCrime = "facilitating_crime", "Faciliteren van criminaliteit", "Facilitating crime";
    }
}

vocabulary! {
    /// The kind of information involved.
    InformationKind {
        Address = "address", "Adresgegevens", "Address";
        Identity = "identity", "Identiteitsgegevens", "Identity";
        Vehicle = "vehicle", "Voertuiggegevens", "Vehicle";
        CriminalRecord = "criminal_record", "Justitiële en politiegegevens (antecedenten)", "Criminal record";
        Investigation = "investigation", "Opsporingsinformatie", "Investigation information";
        Operational = "operational", "Operationele informatie", "Operational information";
    }
}

impl InformationKind {
    /// Whether this kind is always personal data about an identifiable person.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            InformationKind::Address
                | InformationKind::Identity
                | InformationKind::Vehicle
                | InformationKind::CriminalRecord
        )
    }
}

vocabulary! {
    /// Who received the information.
    Recipient {
        Criminal = "criminal", "Crimineel / criminele omgeving", "Criminal";
        PrivateCircle = "private_circle", "Privékring (familie, vrienden, kennissen)", "Private circle (family, friends, acquaintances)";
        Media = "media", "Media", "Media";
        CommercialParty = "commercial_party", "Commerciële partij", "Commercial party";
        Unknown = "unknown", "Onbekend", "Unknown";
        None = "none", "Niemand (niet verstrekt)", "Nobody (not disclosed)";
    }
}

vocabulary! {
    /// Who took the initiative for the disclosure.
    Initiative {
        Recipient = "recipient", "Ontvanger", "Recipient";
        Employee = "employee", "Medewerker", "Employee";
        Unknown = "unknown", "Onbekend", "Unknown";
    }
}

vocabulary! {
    /// What the information was used for.
    InformationUse {
        OwnUse = "own_use", "Eigen gebruik", "Own use";
        SharedWithThirdParty = "shared_with_third_party", "Gedeeld met derden", "Shared with a third party";
    }
}

vocabulary! {
    /// An investigation step taken.
    InvestigationStep {
        LogAnalysis = "log_analysis", "Loganalyse", "Log analysis";
        Interviews = "interviews", "Verhoren en gesprekken", "Interviews";
        PhoneData = "phone_data", "Telefoongegevens", "Phone data";
        FinancialInquiry = "financial_inquiry", "Financieel onderzoek", "Financial inquiry";
        HouseSearch = "house_search", "Doorzoeking", "House search";
        Tap = "tap", "Tap", "Wiretap";
        Other = "other", "Anders", "Other";
    }
}

vocabulary! {
    /// The outcome of a case.
    OutcomeKind {
        Unfounded = "unfounded", "Ongegrond", "Unfounded";
        NotProvable = "not_provable", "Niet bewijsbaar", "Not provable";
        Warning = "warning", "Waarschuwing", "Warning";
        DisciplinaryMeasure = "disciplinary_measure", "Disciplinaire maatregel", "Disciplinary measure";
        Dismissal = "dismissal", "Ontslag", "Dismissal";
        CriminalProsecution = "criminal_prosecution", "Strafrechtelijke vervolging", "Criminal prosecution";
        Conviction = "conviction", "Veroordeling", "Conviction";
    }
}

impl OutcomeKind {
    /// Whether the suspicion was established (not unfounded or unprovable).
    pub fn is_established(self) -> bool {
        !matches!(self, OutcomeKind::Unfounded | OutcomeKind::NotProvable)
    }
}

vocabulary! {
    /// The kind of a disciplinary measure.
    MeasureKind {
        Reprimand = "reprimand", "Schriftelijke berisping", "Reprimand";
        Fine = "fine", "Geldboete", "Fine";
        Suspension = "suspension", "Schorsing", "Suspension";
        Demotion = "demotion", "Demotie", "Demotion";
        Transfer = "transfer", "Overplaatsing", "Transfer";
        ConditionalDismissal = "conditional_dismissal", "Voorwaardelijk ontslag", "Conditional dismissal";
    }
}

vocabulary! {
    /// Where a case is in its lifecycle.
    CaseStatus {
        Registered = "registered", "Geregistreerd", "Registered";
        UnderInvestigation = "under_investigation", "In onderzoek", "Under investigation";
        Decided = "decided", "Besloten", "Decided";
        Closed = "closed", "Afgesloten", "Closed";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + Serialize + for<'de> Deserialize<'de>,
    {
        for &v in all {
            let code = as_str(v);
            assert_eq!(parse(code), Some(v), "{code}");
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{code}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code} is not snake_case"
            );
        }
        assert_eq!(parse("no_such_code"), None);
    }

    #[test]
    fn codes_round_trip_through_parse_and_serde() {
        check(SignalSource::ALL, SignalSource::as_str, SignalSource::parse);
        check(
            ViolationType::ALL,
            ViolationType::as_str,
            ViolationType::parse,
        );
        check(
            InformationKind::ALL,
            InformationKind::as_str,
            InformationKind::parse,
        );
        check(Recipient::ALL, Recipient::as_str, Recipient::parse);
        check(Initiative::ALL, Initiative::as_str, Initiative::parse);
        check(
            InformationUse::ALL,
            InformationUse::as_str,
            InformationUse::parse,
        );
        check(
            InvestigationStep::ALL,
            InvestigationStep::as_str,
            InvestigationStep::parse,
        );
        check(OutcomeKind::ALL, OutcomeKind::as_str, OutcomeKind::parse);
        check(MeasureKind::ALL, MeasureKind::as_str, MeasureKind::parse);
        check(CaseStatus::ALL, CaseStatus::as_str, CaseStatus::parse);
    }

    #[test]
    fn labels_exist_in_both_languages_and_index_matches_all() {
        for (i, v) in SignalSource::ALL.iter().enumerate() {
            assert_eq!(v.index(), i);
            assert!(!v.label(Lang::Nl).is_empty());
            assert!(!v.label(Lang::En).is_empty());
        }
        assert_eq!(
            Recipient::Criminal.label(Lang::Nl),
            "Crimineel / criminele omgeving"
        );
        assert_eq!(OutcomeKind::Unfounded.label(Lang::En), "Unfounded");
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
    }
}
