//! Data-breach duties of a case that establishes unlawful access to personal data: the data
//! subjects affected, the 72-hour deadline for notifying the Autoriteit Persoonsgegevens (GDPR
//! article 33), the content of that notification and the texts to send (the notification and one
//! letter per data subject, article 34), in Dutch or English.
//!
//! The caller supplies the accesses behind the case's evidence (subject, system, time) and the
//! organisation's contact point; this module looks nothing up and sends nothing. Whether the
//! organisation must also write to the data subjects (a high risk to them) stays a human decision:
//! the letters are drafts.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::model::Case;
use crate::vocab::{InformationKind, Lang, Recipient, ViolationType};

/// Hours between establishing a breach and the notification deadline.
pub const NOTIFICATION_HOURS: i64 = 72;

/// When the notification to the authority is due.
pub fn deadline(established_at: DateTime<Utc>) -> DateTime<Utc> {
    established_at + Duration::hours(NOTIFICATION_HOURS)
}

/// Whether the deadline passed at `now` without a notification (`notified_at`) before it.
pub fn is_overdue(
    established_at: DateTime<Utc>,
    notified_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let due = deadline(established_at);
    match notified_at {
        Some(t) => t > due,
        None => now > due,
    }
}

/// Whether the case establishes unlawful access to personal data: an outcome other than unfounded
/// or not provable, a violation that involves information (not side activities alone), and
/// personal data involved (a personal information kind, or accessed data subjects).
pub fn establishes_unlawful_access(case: &Case, accesses: &[SubjectAccess]) -> bool {
    let established = case.outcome.is_some_and(|o| o.kind.is_established());
    let involves_information = matches!(
        case.violation,
        Some(
            ViolationType::UnauthorisedLookup
                | ViolationType::Disclosure
                | ViolationType::Bribery
                | ViolationType::FacilitatingCrime
                | ViolationType::CriminalContacts
        )
    );
    let personal = case.information.iter().any(|i| i.is_personal()) || !accesses.is_empty();
    established && involves_information && personal
}

/// One access behind the case's evidence: whose record, in which system, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectAccess {
    /// Subject id (contract `subjects.id`, or a vehicle's holder).
    pub subject: String,
    /// Name and postal address for the letter, when the organisation has them.
    pub name: Option<String>,
    pub address: Option<String>,
    pub system: String,
    pub at: DateTime<Utc>,
    /// Event sequence number (ledger leaf index).
    pub event_seq: u64,
}

/// A data subject affected, with their accesses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedSubject {
    pub subject: String,
    pub name: Option<String>,
    pub address: Option<String>,
    pub accesses: u64,
    pub systems: Vec<String>,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// The organisation's contact point for the authority and data subjects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ContactPoint {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// What a notification to the Autoriteit Persoonsgegevens needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreachNotification {
    pub organisation: String,
    pub case_id: String,
    pub established_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// When the accesses took place.
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub violation: Option<ViolationType>,
    pub recipient: Option<Recipient>,
    /// Kinds of personal data concerned.
    pub data_categories: Vec<InformationKind>,
    pub systems: Vec<String>,
    /// Approximate number of data subjects and of records.
    pub subjects: u64,
    pub records: u64,
    pub subject_list: Vec<AffectedSubject>,
    pub measures_taken: String,
    pub contact: ContactPoint,
}

/// Why no notification can be drawn up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreachError {
    #[error("case {0} does not establish unlawful access to personal data")]
    NotEstablished(String),
    #[error("case {0} has no time at which the violation was established")]
    NoEstablishedAt(String),
}

/// Groups the accesses by data subject (subjects in id order).
pub fn affected_subjects(accesses: &[SubjectAccess]) -> Vec<AffectedSubject> {
    let mut by_subject: BTreeMap<&str, AffectedSubject> = BTreeMap::new();
    for a in accesses {
        let s = by_subject
            .entry(a.subject.as_str())
            .or_insert_with(|| AffectedSubject {
                subject: a.subject.clone(),
                name: None,
                address: None,
                accesses: 0,
                systems: Vec::new(),
                first: a.at,
                last: a.at,
            });
        s.accesses += 1;
        s.first = s.first.min(a.at);
        s.last = s.last.max(a.at);
        if s.name.is_none() {
            s.name.clone_from(&a.name);
        }
        if s.address.is_none() {
            s.address.clone_from(&a.address);
        }
        if !s.systems.contains(&a.system) {
            s.systems.push(a.system.clone());
        }
    }
    by_subject.into_values().collect()
}

/// Draws up the notification for a case that establishes unlawful access.
pub fn notification(
    case: &Case,
    accesses: &[SubjectAccess],
    contact: &ContactPoint,
) -> Result<BreachNotification, BreachError> {
    if !establishes_unlawful_access(case, accesses) {
        return Err(BreachError::NotEstablished(case.id.clone()));
    }
    let established_at = case
        .established_at
        .ok_or_else(|| BreachError::NoEstablishedAt(case.id.clone()))?;
    let subject_list = affected_subjects(accesses);
    let period = accesses.iter().map(|a| a.at.date_naive()).fold(
        None,
        |acc: Option<(NaiveDate, NaiveDate)>, d| {
            Some(acc.map_or((d, d), |(lo, hi)| (lo.min(d), hi.max(d))))
        },
    );
    let mut systems = case.systems.clone();
    for a in accesses {
        if !systems.contains(&a.system) {
            systems.push(a.system.clone());
        }
    }
    let mut measures = Vec::new();
    if let Some(o) = case.outcome {
        measures.push(o.kind.label(Lang::En).to_owned());
        if let Some(m) = o.measure {
            measures.push(m.label(Lang::En).to_owned());
        }
    }
    Ok(BreachNotification {
        organisation: case.organisation.clone(),
        case_id: case.id.clone(),
        established_at,
        deadline: deadline(established_at),
        period,
        violation: case.violation,
        recipient: case.recipient,
        data_categories: case.information.clone(),
        systems,
        subjects: subject_list.len() as u64,
        records: accesses.len() as u64,
        subject_list,
        measures_taken: measures.join("; "),
        contact: contact.clone(),
    })
}

/// One letter to a data subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Letter {
    pub subject: String,
    pub text: String,
}

fn list<T: Copy>(items: &[T], label: impl Fn(T) -> &'static str, none: &str) -> String {
    if items.is_empty() {
        return none.to_owned();
    }
    items
        .iter()
        .map(|&i| label(i).to_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl BreachNotification {
    fn consequences(&self, lang: Lang) -> &'static str {
        let to_criminal = self.recipient == Some(Recipient::Criminal);
        match (lang, to_criminal) {
            (Lang::Nl, true) => {
                "De gegevens zijn bij criminelen terechtgekomen: risico op bedreiging, intimidatie, afpersing of fysiek gevaar voor de betrokkenen."
            }
            (Lang::Nl, false) => {
                "Inbreuk op de persoonlijke levenssfeer van de betrokkenen; afhankelijk van de ontvanger risico op misbruik van de gegevens."
            }
            (Lang::En, true) => {
                "The data reached criminals: risk of threats, intimidation, extortion or physical danger to the data subjects."
            }
            (Lang::En, false) => {
                "Invasion of the data subjects' privacy; depending on the recipient, a risk that the data is misused."
            }
        }
    }

    /// The text of the notification to the Autoriteit Persoonsgegevens.
    pub fn text(&self, lang: Lang) -> String {
        let period = self
            .period
            .map_or_else(String::new, |(a, b)| format!("{a} – {b}"));
        let categories = list(&self.data_categories, |c| c.label(lang), "-");
        let violation = self.violation.map_or("-", |v| v.label(lang));
        let recipient = self.recipient.map_or("-", |r| r.label(lang));
        let c = &self.contact;
        match lang {
            Lang::Nl => format!(
                "Melding datalek aan de Autoriteit Persoonsgegevens\n\n\
                 Organisatie: {org}\nZaak: {case}\n\
                 Vastgesteld op: {est}\nUiterste meldtermijn (72 uur): {due}\n\n\
                 Aard van de inbreuk: onrechtmatige toegang tot persoonsgegevens door een medewerker ({violation}); ontvanger: {recipient}.\n\
                 Periode van de raadplegingen: {period}\n\
                 Systemen: {systems}\n\
                 Categorieën persoonsgegevens: {categories}\n\
                 Categorieën betrokkenen: burgers wier gegevens zijn geraadpleegd\n\
                 Aantal betrokkenen (bij benadering): {subjects}\n\
                 Aantal gegevensregistraties (bij benadering): {records}\n\n\
                 Waarschijnlijke gevolgen: {consequences}\n\
                 Genomen maatregelen: {measures}\n\n\
                 Contactpunt: {cname}, {cmail}, {cphone}\n",
                org = self.organisation,
                case = self.case_id,
                est = time(self.established_at),
                due = time(self.deadline),
                systems = self.systems.join(", "),
                subjects = self.subjects,
                records = self.records,
                consequences = self.consequences(lang),
                measures = self.measures_taken,
                cname = c.name,
                cmail = c.email,
                cphone = c.phone,
            ),
            Lang::En => format!(
                "Personal data breach notification to the Autoriteit Persoonsgegevens\n\n\
                 Organisation: {org}\nCase: {case}\n\
                 Established at: {est}\nNotification deadline (72 hours): {due}\n\n\
                 Nature of the breach: unlawful access to personal data by an employee ({violation}); recipient: {recipient}.\n\
                 Period of the lookups: {period}\n\
                 Systems: {systems}\n\
                 Categories of personal data: {categories}\n\
                 Categories of data subjects: citizens whose records were looked up\n\
                 Approximate number of data subjects: {subjects}\n\
                 Approximate number of records: {records}\n\n\
                 Likely consequences: {consequences}\n\
                 Measures taken: {measures}\n\n\
                 Contact point: {cname}, {cmail}, {cphone}\n",
                org = self.organisation,
                case = self.case_id,
                est = time(self.established_at),
                due = time(self.deadline),
                systems = self.systems.join(", "),
                subjects = self.subjects,
                records = self.records,
                consequences = self.consequences(lang),
                measures = self.measures_taken,
                cname = c.name,
                cmail = c.email,
                cphone = c.phone,
            ),
        }
    }

    /// One letter per affected data subject.
    pub fn letters(&self, lang: Lang) -> Vec<Letter> {
        let categories = list(&self.data_categories, |c| c.label(lang), "-");
        let c = &self.contact;
        self.subject_list
            .iter()
            .map(|s| {
                let name = s.name.clone().unwrap_or_else(|| match lang {
                    Lang::Nl => "heer/mevrouw".to_owned(),
                    Lang::En => "Sir or Madam".to_owned(),
                });
                let address = s.address.clone().unwrap_or_default();
                let from = s.first.date_naive();
                let until = s.last.date_naive();
                let systems = s.systems.join(", ");
                let text = match lang {
                    Lang::Nl => format!(
                        "{address}\n\nBetreft: onrechtmatige inzage in uw gegevens (zaak {case})\n\n\
                         Geachte {name},\n\n\
                         Met deze brief laat {org} u weten dat een medewerker tussen {from} en {until} zonder geldige reden \
                         uw gegevens heeft geraadpleegd in {systems} ({n} keer). Het ging om: {categories}.\n\n\
                         {consequences}\n\n\
                         Wij hebben de volgende maatregelen genomen: {measures}. Wij hebben de inbreuk gemeld bij de \
                         Autoriteit Persoonsgegevens.\n\n\
                         Heeft u vragen, of wilt u weten welke gegevens het betrof, neem dan contact op met {cname} \
                         ({cmail}, {cphone}).\n\nMet vriendelijke groet,\n\n{org}\n",
                        case = self.case_id,
                        org = self.organisation,
                        n = s.accesses,
                        consequences = self.consequences(lang),
                        measures = self.measures_taken,
                        cname = c.name,
                        cmail = c.email,
                        cphone = c.phone,
                    ),
                    Lang::En => format!(
                        "{address}\n\nRe: unlawful access to your personal data (case {case})\n\n\
                         Dear {name},\n\n\
                         {org} informs you that between {from} and {until} an employee looked up your data \
                         in {systems} without a valid reason ({n} times). It concerned: {categories}.\n\n\
                         {consequences}\n\n\
                         We have taken the following measures: {measures}. We have notified the Autoriteit \
                         Persoonsgegevens of the breach.\n\n\
                         If you have questions, or want to know which data was concerned, please contact {cname} \
                         ({cmail}, {cphone}).\n\nYours faithfully,\n\n{org}\n",
                        case = self.case_id,
                        org = self.organisation,
                        n = s.accesses,
                        consequences = self.consequences(lang),
                        measures = self.measures_taken,
                        cname = c.name,
                        cmail = c.email,
                        cphone = c.phone,
                    ),
                };
                Letter {
                    subject: s.subject.clone(),
                    text,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::Outcome;
    use crate::vocab::{OutcomeKind, SignalSource};

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, day, hour, 0, 0).unwrap()
    }

    fn access(subject: &str, day: u32) -> SubjectAccess {
        SubjectAccess {
            subject: subject.into(),
            name: Some(format!("Name of {subject}")),
            address: None,
            system: "BRP".into(),
            at: t(day, 8),
            event_seq: u64::from(day),
        }
    }

    fn case(outcome: OutcomeKind) -> Case {
        let mut c = Case::new(
            "gemeente-x",
            SignalSource::ProactiveLogAnalysis,
            NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        );
        c.id = "CASE-2026-00007".into();
        c.violation = Some(ViolationType::UnauthorisedLookup);
        c.information = vec![InformationKind::Address];
        c.outcome = Some(Outcome {
            kind: outcome,
            measure: None,
        });
        c.established_at = Some(t(10, 12));
        c
    }

    #[test]
    fn deadline_table() {
        // (established, notified, now, overdue)
        let table = [
            (t(10, 12), None, t(13, 11), false),
            (t(10, 12), None, t(13, 12), false),
            (t(10, 12), None, t(13, 13), true),
            (t(10, 12), Some(t(12, 0)), t(20, 0), false),
            (t(10, 12), Some(t(14, 0)), t(20, 0), true),
        ];
        for (est, notified, now, overdue) in table {
            assert_eq!(is_overdue(est, notified, now), overdue, "{now}");
        }
        assert_eq!(deadline(t(10, 12)), t(13, 12));
    }

    #[test]
    fn which_cases_establish_unlawful_access() {
        let accesses = [access("P1", 2)];
        assert!(establishes_unlawful_access(
            &case(OutcomeKind::Warning),
            &accesses
        ));
        assert!(!establishes_unlawful_access(
            &case(OutcomeKind::Unfounded),
            &accesses
        ));
        assert!(!establishes_unlawful_access(
            &case(OutcomeKind::NotProvable),
            &accesses
        ));
        let mut side = case(OutcomeKind::Warning);
        side.violation = Some(ViolationType::SideActivities);
        assert!(!establishes_unlawful_access(&side, &accesses));
        let mut no_personal = case(OutcomeKind::Warning);
        no_personal.information = vec![InformationKind::Operational];
        assert!(!establishes_unlawful_access(&no_personal, &[]));
        assert!(establishes_unlawful_access(&no_personal, &accesses));
    }

    #[test]
    fn notification_and_letters() {
        let accesses = [access("P2", 3), access("P1", 2), access("P1", 4)];
        let contact = ContactPoint {
            name: "FG".into(),
            email: "fg@example.nl".into(),
            phone: "010".into(),
        };
        let n = notification(&case(OutcomeKind::Dismissal), &accesses, &contact).unwrap();
        assert_eq!(n.subjects, 2);
        assert_eq!(n.records, 3);
        assert_eq!(n.deadline, t(13, 12));
        assert_eq!(n.subject_list[0].subject, "P1");
        assert_eq!(n.subject_list[0].accesses, 2);
        assert_eq!(
            n.period,
            Some((
                NaiveDate::from_ymd_opt(2026, 5, 2).unwrap(),
                NaiveDate::from_ymd_opt(2026, 5, 4).unwrap()
            ))
        );
        let nl = n.text(Lang::Nl);
        assert!(
            nl.contains("Aantal betrokkenen (bij benadering): 2"),
            "{nl}"
        );
        assert!(nl.contains("2026-05-13 12:00 UTC"));
        let en = n.text(Lang::En);
        assert!(en.contains("Approximate number of records: 3"));
        let letters = n.letters(Lang::Nl);
        assert_eq!(letters.len(), 2);
        assert!(letters[0].text.contains("Geachte Name of P1"));
        assert!(letters[0].text.contains("(2 keer)"));
        assert!(n.letters(Lang::En)[1].text.contains("Dear Name of P2"));

        assert_eq!(
            notification(&case(OutcomeKind::Unfounded), &accesses, &contact),
            Err(BreachError::NotEstablished("CASE-2026-00007".into()))
        );
        let mut no_time = case(OutcomeKind::Warning);
        no_time.established_at = None;
        assert_eq!(
            notification(&no_time, &accesses, &contact),
            Err(BreachError::NoEstablishedAt("CASE-2026-00007".into()))
        );
    }
}
