//! The vocabularies of review decisions, the feedback they give to detection, and the neutral
//! message that asks an employee for the work reason behind accesses.
//!
//! A dismissed alert with its reason and an escalated alert are the ground truth detection learns
//! from: [`signal_precision`] turns them into a precision per signal with a Wilson interval, so
//! that noisy signals are visible. The justification request is written in the spirit of the
//! presumption of innocence: it asks, it does not accuse, and the reviewer can edit it before it
//! is sent. Deliberately absent: sending messages, storing decisions and reading the clock.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::{Interval, Lang, Z95, wilson};

/// Where an alert stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Not decided yet (`open`).
    Open,
    /// Judged not to need follow-up (`dismissed`).
    Dismissed,
    /// Handed on for investigation (`escalated`).
    Escalated,
    /// The employee has been asked for the work reason (`justification_requested`).
    JustificationRequested,
}

impl AlertStatus {
    /// Every status.
    pub const ALL: [AlertStatus; 4] = [
        AlertStatus::Open,
        AlertStatus::Dismissed,
        AlertStatus::Escalated,
        AlertStatus::JustificationRequested,
    ];

    /// The status code, e.g. `justification_requested`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Dismissed => "dismissed",
            AlertStatus::Escalated => "escalated",
            AlertStatus::JustificationRequested => "justification_requested",
        }
    }

    /// Parses a status code; `None` for anything else.
    pub fn parse(s: &str) -> Option<AlertStatus> {
        AlertStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The status's name for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (AlertStatus::Open, _) => "open",
            (AlertStatus::Dismissed, Lang::Nl) => "afgewezen",
            (AlertStatus::Dismissed, Lang::En) => "dismissed",
            (AlertStatus::Escalated, Lang::Nl) => "opgeschaald",
            (AlertStatus::Escalated, Lang::En) => "escalated",
            (AlertStatus::JustificationRequested, Lang::Nl) => "verantwoording gevraagd",
            (AlertStatus::JustificationRequested, Lang::En) => "justification requested",
        }
    }

    /// The review outcome this status stands for, if it is a final decision.
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            AlertStatus::Escalated => Some(Outcome::Confirmed),
            AlertStatus::Dismissed => Some(Outcome::Dismissed),
            AlertStatus::Open | AlertStatus::JustificationRequested => None,
        }
    }
}

/// Why an alert was dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DismissReason {
    /// There was work that the registration does not show (`work_not_recorded`).
    WorkNotRecorded,
    /// A known, legitimate pattern of work (`known_legitimate_pattern`).
    KnownLegitimatePattern,
    /// The data behind the alert is wrong (`data_error`).
    DataError,
    /// The same matter as another alert (`duplicate`).
    Duplicate,
    /// Test or training use (`test_or_training`).
    TestOrTraining,
    /// Something else, explained in the decision's note (`other`).
    Other,
}

impl DismissReason {
    /// Every reason, in the order they are offered.
    pub const ALL: [DismissReason; 6] = [
        DismissReason::WorkNotRecorded,
        DismissReason::KnownLegitimatePattern,
        DismissReason::DataError,
        DismissReason::Duplicate,
        DismissReason::TestOrTraining,
        DismissReason::Other,
    ];

    /// The reason code, e.g. `work_not_recorded`.
    pub fn as_str(self) -> &'static str {
        match self {
            DismissReason::WorkNotRecorded => "work_not_recorded",
            DismissReason::KnownLegitimatePattern => "known_legitimate_pattern",
            DismissReason::DataError => "data_error",
            DismissReason::Duplicate => "duplicate",
            DismissReason::TestOrTraining => "test_or_training",
            DismissReason::Other => "other",
        }
    }

    /// Parses a reason code; `None` for anything else.
    pub fn parse(s: &str) -> Option<DismissReason> {
        DismissReason::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The reason in words.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (DismissReason::WorkNotRecorded, Lang::Nl) => "werkzaamheden niet in de registratie",
            (DismissReason::WorkNotRecorded, Lang::En) => "work not in the records",
            (DismissReason::KnownLegitimatePattern, Lang::Nl) => "bekend legitiem patroon",
            (DismissReason::KnownLegitimatePattern, Lang::En) => "known legitimate pattern",
            (DismissReason::DataError, Lang::Nl) => "fout in de gegevens",
            (DismissReason::DataError, Lang::En) => "error in the data",
            (DismissReason::Duplicate, Lang::Nl) => "dubbel signaal",
            (DismissReason::Duplicate, Lang::En) => "duplicate alert",
            (DismissReason::TestOrTraining, Lang::Nl) => "test of opleiding",
            (DismissReason::TestOrTraining, Lang::En) => "test or training",
            (DismissReason::Other, Lang::Nl) => "anders",
            (DismissReason::Other, Lang::En) => "other",
        }
    }
}

/// The final outcome of a decided alert, as feedback to detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Escalated: the reviewer found it worth investigating (`confirmed`).
    Confirmed,
    /// Dismissed (`dismissed`).
    Dismissed,
}

/// How often alerts carrying one signal were confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalPrecision {
    /// The detection signal code.
    pub signal: String,
    pub confirmed: u64,
    pub dismissed: u64,
    /// confirmed / (confirmed + dismissed) with its Wilson 95% interval; `None` without decisions.
    pub precision: Option<Interval>,
}

/// Precision per signal from decided alerts: each item is the signal codes an alert carried and
/// its outcome (escalated = confirmed, dismissed = dismissed). A signal listed twice on one alert
/// counts once. Precision = confirmed / (confirmed + dismissed) with a Wilson 95% interval.
/// Sorted by signal code.
pub fn signal_precision<'a>(
    decided: impl IntoIterator<Item = (&'a [String], Outcome)>,
) -> Vec<SignalPrecision> {
    let mut counts: BTreeMap<&'a str, (u64, u64)> = BTreeMap::new();
    let mut seen: Vec<&'a str> = Vec::new();
    for (signals, outcome) in decided {
        seen.clear();
        for signal in signals {
            if seen.contains(&signal.as_str()) {
                continue;
            }
            seen.push(signal);
            let entry = counts.entry(signal).or_default();
            match outcome {
                Outcome::Confirmed => entry.0 += 1,
                Outcome::Dismissed => entry.1 += 1,
            }
        }
    }
    counts
        .into_iter()
        .map(|(signal, (confirmed, dismissed))| {
            let n = confirmed + dismissed;
            SignalPrecision {
                signal: signal.to_owned(),
                confirmed,
                dismissed,
                precision: (n > 0).then(|| wilson(confirmed, n, Z95)),
            }
        })
        .collect()
}

/// What a justification request is about.
#[derive(Debug, Clone, Copy)]
pub struct JustificationRequest<'a> {
    /// Whom the message is addressed to (the employee or their manager).
    pub recipient: &'a str,
    /// The employee whose accesses are concerned.
    pub employee: &'a str,
    pub period_from: NaiveDate,
    pub period_until: NaiveDate,
    /// The accesses, described in plain language.
    pub reasons: &'a [String],
    /// The date by which an answer is asked.
    pub due: NaiveDate,
    /// Who signs the message.
    pub sender: &'a str,
}

const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date written out for people: `17 maart 2026` or `17 March 2026`.
pub fn format_date(date: NaiveDate, lang: Lang) -> String {
    let months = match lang {
        Lang::Nl => &MONTHS_NL,
        Lang::En => &MONTHS_EN,
    };
    // month0() is always in 0..12.
    let month = months[date.month0() as usize];
    format!("{} {} {}", date.day(), month, date.year())
}

/// A polite, neutral, editable message asking for the work reason behind the listed accesses
/// (presumption of innocence; no accusation), in Dutch or English; mentions the due date.
pub fn justification_message(req: &JustificationRequest, lang: Lang) -> String {
    let from = format_date(req.period_from, lang);
    let until = format_date(req.period_until, lang);
    let due = format_date(req.due, lang);
    let self_addressed = req.recipient == req.employee;
    let mut text = String::new();
    match lang {
        Lang::Nl => {
            let whose = if self_addressed {
                "u".to_owned()
            } else {
                req.employee.to_owned()
            };
            text.push_str(&format!("Beste {},\n\n", req.recipient));
            text.push_str(&format!(
                "Wij controleren regelmatig of raadplegingen van persoonsgegevens een werkreden \
                 hebben. Bij {whose} zijn in de periode van {from} tot en met {until} \
                 raadplegingen gezien waarvan wij de werkreden niet uit onze registratie kunnen \
                 halen:\n\n"
            ));
            push_reasons(&mut text, req.reasons);
            text.push_str(
                "\nDit is geen beschuldiging. Vaak is er een goede reden die alleen niet is \
                 vastgelegd, bijvoorbeeld werk dat niet in een zaak, melding of rooster staat. \
                 Wij horen die reden graag, zodat wij de registratie of onze controle kunnen \
                 verbeteren.\n\n",
            );
            text.push_str(&format!(
                "Wilt u vóór {due} laten weten met welk doel deze gegevens zijn geraadpleegd? \
                 Een korte toelichting is genoeg. Hebt u vragen, neem dan gerust contact met mij \
                 op.\n\n"
            ));
            text.push_str(&format!("Met vriendelijke groet,\n\n{}\n", req.sender));
        }
        Lang::En => {
            let whose = if self_addressed {
                "your account".to_owned()
            } else {
                req.employee.to_owned()
            };
            text.push_str(&format!("Dear {},\n\n", req.recipient));
            text.push_str(&format!(
                "We regularly check that lookups of personal data have a work reason. For \
                 {whose}, between {from} and {until} inclusive, we saw lookups whose work reason \
                 we could not find in our records:\n\n"
            ));
            push_reasons(&mut text, req.reasons);
            text.push_str(
                "\nThis is not an accusation. Often there is a good reason that simply was not \
                 recorded, for example work that is not in a case, incident or roster. We would \
                 like to hear it, so that we can improve the records or our checks.\n\n",
            );
            text.push_str(&format!(
                "Could you let us know by {due} for what purpose this data was looked up? A \
                 short explanation is enough. If you have any questions, please feel free to \
                 contact me.\n\n"
            ));
            text.push_str(&format!("Kind regards,\n\n{}\n", req.sender));
        }
    }
    text
}

fn push_reasons(text: &mut String, reasons: &[String]) {
    for reason in reasons {
        text.push_str("- ");
        text.push_str(reason.trim());
        text.push('\n');
    }
}

/// Default due date: 10 working days (Monday to Friday) after `today`. Public holidays are not
/// known here; the reviewer can change the date. Near the end of the calendar the last
/// representable date is returned.
pub fn default_due(today: NaiveDate) -> NaiveDate {
    let mut date = today;
    let mut working_days = 0;
    while working_days < 10 {
        let Some(next) = date.succ_opt() else {
            return date;
        };
        date = next;
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            working_days += 1;
        }
    }
    date
}

/// A decision a reviewer takes on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    Dismiss,
    Escalate,
    RequestJustification,
    RecordAnswer,
}

impl AlertAction {
    /// Parses a decision kind (`dismiss`, `escalate`, `request_justification`, `record_answer`).
    pub fn parse(kind: &str) -> Option<AlertAction> {
        match kind {
            "dismiss" => Some(AlertAction::Dismiss),
            "escalate" => Some(AlertAction::Escalate),
            "request_justification" => Some(AlertAction::RequestJustification),
            "record_answer" => Some(AlertAction::RecordAnswer),
            _ => None,
        }
    }
}

/// The one state machine of an alert and its case: the status `action` leads to from `from`, or
/// `None` when the move is not allowed. An escalated alert belongs to its case: once the case is
/// decided (or closed) nothing moves the alert; before that it can still be dismissed (escalated
/// by mistake) or receive the employee's answer. A dismissed alert can be escalated when new facts
/// appear, and nothing else.
pub fn alert_move(
    from: AlertStatus,
    action: AlertAction,
    case_decided: bool,
) -> Option<AlertStatus> {
    use AlertAction as A;
    use AlertStatus as S;
    match (from, action) {
        (S::Escalated, _) if case_decided => None,
        (S::Open | S::JustificationRequested | S::Escalated, A::Dismiss) => Some(S::Dismissed),
        (S::Open | S::JustificationRequested | S::Dismissed, A::Escalate) => Some(S::Escalated),
        (S::Open | S::JustificationRequested, A::RequestJustification) => {
            Some(S::JustificationRequested)
        }
        (S::JustificationRequested | S::Escalated, A::RecordAnswer) => Some(from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every status × action × case state, with the expected outcome.
    #[test]
    fn alert_state_machine_per_transition() {
        use AlertAction as A;
        use AlertStatus as S;
        let o = Some;
        let expected: [(S, A, Option<S>, Option<S>); 16] = [
            // (from, action, with the case open or no case, with the case decided)
            (S::Open, A::Dismiss, o(S::Dismissed), o(S::Dismissed)),
            (S::Open, A::Escalate, o(S::Escalated), o(S::Escalated)),
            (
                S::Open,
                A::RequestJustification,
                o(S::JustificationRequested),
                o(S::JustificationRequested),
            ),
            (S::Open, A::RecordAnswer, None, None),
            (
                S::JustificationRequested,
                A::Dismiss,
                o(S::Dismissed),
                o(S::Dismissed),
            ),
            (
                S::JustificationRequested,
                A::Escalate,
                o(S::Escalated),
                o(S::Escalated),
            ),
            (
                S::JustificationRequested,
                A::RequestJustification,
                o(S::JustificationRequested),
                o(S::JustificationRequested),
            ),
            (
                S::JustificationRequested,
                A::RecordAnswer,
                o(S::JustificationRequested),
                o(S::JustificationRequested),
            ),
            (S::Dismissed, A::Dismiss, None, None),
            (S::Dismissed, A::Escalate, o(S::Escalated), o(S::Escalated)),
            (S::Dismissed, A::RequestJustification, None, None),
            (S::Dismissed, A::RecordAnswer, None, None),
            (S::Escalated, A::Dismiss, o(S::Dismissed), None),
            (S::Escalated, A::Escalate, None, None),
            (S::Escalated, A::RequestJustification, None, None),
            (S::Escalated, A::RecordAnswer, o(S::Escalated), None),
        ];
        for (from, action, open, decided) in expected {
            assert_eq!(alert_move(from, action, false), open, "{from:?} {action:?}");
            assert_eq!(
                alert_move(from, action, true),
                decided,
                "{from:?} {action:?} decided"
            );
        }
        assert_eq!(AlertAction::parse("dismiss"), Some(A::Dismiss));
        assert_eq!(AlertAction::parse("reopen"), None);
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn codes_round_trip_and_labels() {
        for status in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        for reason in DismissReason::ALL {
            assert_eq!(DismissReason::parse(reason.as_str()), Some(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
            assert!(!reason.label(Lang::Nl).is_empty());
        }
        assert_eq!(
            AlertStatus::JustificationRequested.label(Lang::Nl),
            "verantwoording gevraagd"
        );
        assert_eq!(AlertStatus::Dismissed.label(Lang::Nl), "afgewezen");
        assert_eq!(
            DismissReason::WorkNotRecorded.label(Lang::Nl),
            "werkzaamheden niet in de registratie"
        );
        assert_eq!(AlertStatus::Escalated.outcome(), Some(Outcome::Confirmed));
        assert_eq!(AlertStatus::Open.outcome(), None);
        assert_eq!(
            serde_json::to_string(&Outcome::Confirmed).unwrap(),
            "\"confirmed\""
        );
    }

    #[test]
    fn precision_per_signal() {
        let a = vec!["same_address".to_owned(), "off_duty".to_owned()];
        let b = vec!["off_duty".to_owned(), "off_duty".to_owned()];
        let c = vec!["self_lookup".to_owned()];
        let decided = vec![
            (a.as_slice(), Outcome::Confirmed),
            (b.as_slice(), Outcome::Dismissed),
            (b.as_slice(), Outcome::Dismissed),
            (c.as_slice(), Outcome::Confirmed),
        ];
        let result = signal_precision(decided);
        let names: Vec<&str> = result.iter().map(|s| s.signal.as_str()).collect();
        assert_eq!(names, ["off_duty", "same_address", "self_lookup"]);
        assert_eq!((result[0].confirmed, result[0].dismissed), (1, 2));
        assert_eq!(result[0].precision, Some(wilson(1, 3, Z95)));
        assert_eq!((result[1].confirmed, result[1].dismissed), (1, 0));
        assert_eq!(result[1].precision.map(|p| p.estimate), Some(1.0));
        assert!(signal_precision(Vec::<(&[String], Outcome)>::new()).is_empty());
    }

    fn request<'a>(reasons: &'a [String], recipient: &'a str) -> JustificationRequest<'a> {
        JustificationRequest {
            recipient,
            employee: "J. de Vries",
            period_from: d("2026-03-01"),
            period_until: d("2026-03-31"),
            reasons,
            due: d("2026-04-17"),
            sender: "Team Integriteit",
        }
    }

    #[test]
    fn messages_name_everything_and_accuse_nobody() {
        let reasons = vec![
            "3 raadplegingen van een persoon op uw eigen adres".to_owned(),
            "een kenteken opgevraagd buiten dienst".to_owned(),
        ];
        let cases = [
            (
                Lang::Nl,
                "17 april 2026",
                "1 maart 2026",
                "geen beschuldiging",
            ),
            (
                Lang::En,
                "17 April 2026",
                "1 March 2026",
                "not an accusation",
            ),
        ];
        for (lang, due, from, neutral) in cases {
            let text = justification_message(&request(&reasons, "A. Jansen"), lang);
            for needle in [
                due,
                from,
                neutral,
                "A. Jansen",
                "J. de Vries",
                "Team Integriteit",
            ] {
                assert!(text.contains(needle), "{lang:?} lacks {needle}: {text}");
            }
            for reason in &reasons {
                assert!(text.contains(reason.as_str()), "{lang:?} lacks {reason}");
            }
            let lower = text.to_lowercase();
            for word in [
                "verdacht",
                "schending",
                "suspect",
                "violation",
                "misconduct",
            ] {
                assert!(!lower.contains(word), "{lang:?} contains {word}");
            }
        }
        // Addressed to the employee: spoken to directly.
        let text = justification_message(&request(&reasons, "J. de Vries"), Lang::Nl);
        assert!(text.contains("Bij u zijn"), "{text}");
    }

    #[test]
    fn due_date_counts_working_days() {
        // Friday 20 Nov 2026 -> two full weeks later, Friday 4 Dec.
        assert_eq!(default_due(d("2026-11-20")), d("2026-12-04"));
        // Saturday and Sunday start counting on Monday: due the Friday of the following week.
        assert_eq!(default_due(d("2026-11-21")), d("2026-12-04"));
        assert_eq!(default_due(d("2026-11-22")), d("2026-12-04"));
        // Wednesday 25 Nov -> Wednesday 9 Dec.
        assert_eq!(default_due(d("2026-11-25")), d("2026-12-09"));
        assert_eq!(default_due(NaiveDate::MAX), NaiveDate::MAX);
    }
}
