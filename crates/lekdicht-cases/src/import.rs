//! CSV import and export of cases, for historic registrations.
//!
//! # Column layout
//!
//! One header row naming the columns (any order; unknown columns are an error on line 1 and are
//! ignored), then one case per line. Comma-separated, fields quoted as usual for CSV. List fields
//! separate their items with `|`. Empty means "not registered". Vocabulary fields take the codes of
//! [`crate::vocab`]; dates are `YYYY-MM-DD`; booleans `yes`/`no` (also `ja`/`nee`, `true`/`false`,
//! `1`/`0`).
//!
//! | column | content |
//! |---|---|
//! | `id` | case id; empty: the registry assigns one |
//! | `organisation` | required unless the importer gives a default |
//! | `summary` | free text |
//! | `signal_source` | required; [`crate::SignalSource`] code |
//! | `signal_date` | required |
//! | `start_date`, `closure_date` | dates |
//! | `status` | required; [`crate::CaseStatus`] code |
//! | `violation` | [`crate::ViolationType`] code |
//! | `information` | list of [`crate::InformationKind`] codes |
//! | `systems` | list of system names |
//! | `employee`, `function`, `unit` | the suspect |
//! | `years_of_service` | whole number |
//! | `recipient`, `initiative`, `use` | codes |
//! | `damage_investigation`, `damage_persons` | booleans |
//! | `damage_description` | free text |
//! | `steps` | list of [`crate::InvestigationStep`] codes |
//! | `outcome`, `measure` | [`crate::OutcomeKind`] and [`crate::MeasureKind`] codes |
//! | `established_at` | RFC 3339 time |
//! | `authority_notified_at`, `subjects_informed_at` | RFC 3339 times: when the data-breach notification and the letters were sent |
//! | `alerts` | list of alert ids |
//! | `events` | list of event sequence numbers |
//!
//! A bad line never stops the rest: every problem of a line is a [`LineError`] and the line's case
//! is left out; every other line is imported. The whole case is also checked by
//! [`crate::validate`]. This module reads bytes the caller supplies; it opens no files.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::model::{Case, Outcome};
use crate::validate::validate;
use crate::vocab::{
    CaseStatus, InformationKind, InformationUse, Initiative, InvestigationStep, MeasureKind,
    OutcomeKind, Recipient, SignalSource, ViolationType,
};

/// The columns of the layout, in export order.
pub const COLUMNS: &[&str] = &[
    "id",
    "organisation",
    "summary",
    "signal_source",
    "signal_date",
    "start_date",
    "closure_date",
    "status",
    "violation",
    "information",
    "systems",
    "employee",
    "function",
    "unit",
    "years_of_service",
    "recipient",
    "initiative",
    "use",
    "damage_investigation",
    "damage_persons",
    "damage_description",
    "steps",
    "outcome",
    "measure",
    "established_at",
    "authority_notified_at",
    "subjects_informed_at",
    "alerts",
    "events",
];

/// Separator of list items inside one field.
pub const LIST_SEPARATOR: char = '|';

/// A problem with one line (1-based, the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: u64,
    /// Column name, or `(line)` for the line as a whole.
    pub field: String,
    pub message: String,
}

/// A case read from a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedCase {
    pub line: u64,
    pub case: Case,
}

/// Parses a CSV file in the layout above. `default_organisation` fills an empty or absent
/// `organisation`. Returns the valid cases and the problems of the other lines.
pub fn parse_cases_csv(
    input: &[u8],
    default_organisation: Option<&str>,
) -> (Vec<ImportedCase>, Vec<LineError>) {
    let mut errors = Vec::new();
    let mut cases = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => {
            errors.push(whole_line(1, "the file is empty; a header row is required"));
            return (cases, errors);
        }
        Some(Err(e)) => {
            errors.push(whole_line(1, &format!("unreadable header: {e}")));
            return (cases, errors);
        }
        Some(Ok(h)) => h,
    };
    let mut columns: Vec<Option<usize>> = Vec::with_capacity(header.len());
    for raw in header.iter() {
        let name = String::from_utf8_lossy(raw);
        let name = name.trim().trim_start_matches('\u{feff}');
        match COLUMNS.iter().position(|c| *c == name) {
            Some(i) => columns.push(Some(i)),
            None => {
                errors.push(LineError {
                    line: 1,
                    field: name.to_owned(),
                    message: format!("unknown column; the columns are {}", COLUMNS.join(", ")),
                });
                columns.push(None);
            }
        }
    }
    let has = |name: &str| {
        let i = COLUMNS.iter().position(|c| *c == name);
        columns.contains(&i)
    };
    let mut missing: Vec<&str> = ["signal_source", "signal_date", "status"]
        .into_iter()
        .filter(|c| !has(c))
        .collect();
    if default_organisation.is_none() && !has("organisation") {
        missing.push("organisation");
    }
    if !missing.is_empty() {
        for m in missing {
            errors.push(LineError {
                line: 1,
                field: m.to_owned(),
                message: "required column is missing from the header".to_owned(),
            });
        }
        return (cases, errors);
    }
    for (i, record) in records.enumerate() {
        let fallback_line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(fallback_line, |p| p.line());
                errors.push(whole_line(line, &format!("unreadable line: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(fallback_line, |p| p.line());
        if record.len() != columns.len() {
            errors.push(whole_line(
                line,
                &format!(
                    "{} fields where the header has {}",
                    record.len(),
                    columns.len()
                ),
            ));
            continue;
        }
        let mut fields: [&str; COLUMNS.len()] = [""; COLUMNS.len()];
        let mut bad_utf8 = false;
        for (raw, column) in record.iter().zip(&columns) {
            let Some(c) = column else { continue };
            match std::str::from_utf8(raw) {
                Ok(s) => fields[*c] = s.trim(),
                Err(_) => {
                    errors.push(LineError {
                        line,
                        field: COLUMNS[*c].to_owned(),
                        message: "not valid UTF-8".to_owned(),
                    });
                    bad_utf8 = true;
                }
            }
        }
        if bad_utf8 {
            continue;
        }
        let mut row = Row {
            fields: &fields,
            line,
            errors: &mut errors,
        };
        if let Some(case) = row.case(default_organisation) {
            let problems = validate(&case);
            if problems.is_empty() {
                cases.push(ImportedCase { line, case });
            } else {
                errors.extend(problems.into_iter().map(|p| LineError {
                    line,
                    field: p.field.to_owned(),
                    message: p.message,
                }));
            }
        }
    }
    (cases, errors)
}

fn whole_line(line: u64, message: &str) -> LineError {
    LineError {
        line,
        field: "(line)".to_owned(),
        message: message.to_owned(),
    }
}

/// One line's fields by column index, collecting errors.
struct Row<'a> {
    fields: &'a [&'a str; COLUMNS.len()],
    line: u64,
    errors: &'a mut Vec<LineError>,
}

impl<'a> Row<'a> {
    fn get(&self, name: &'static str) -> &'a str {
        COLUMNS
            .iter()
            .position(|c| *c == name)
            .map_or("", |i| self.fields[i])
    }

    fn fail(&mut self, field: &str, message: String) {
        self.errors.push(LineError {
            line: self.line,
            field: field.to_owned(),
            message,
        });
    }

    /// An optional field parsed by `parse`; an error (and `Err`) when present but invalid.
    fn opt<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        expected: impl Fn() -> String,
    ) -> Result<Option<T>, ()> {
        let raw = self.get(name);
        if raw.is_empty() {
            return Ok(None);
        }
        match parse(raw) {
            Some(v) => Ok(Some(v)),
            None => {
                let message = format!("'{raw}' is not {}", expected());
                self.fail(name, message);
                Err(())
            }
        }
    }

    fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        expected: impl Fn() -> String,
    ) -> Result<T, ()> {
        match self.opt(name, parse, expected)? {
            Some(v) => Ok(v),
            None => {
                self.fail(name, "required".to_owned());
                Err(())
            }
        }
    }

    fn list<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        expected: impl Fn() -> String,
    ) -> Result<Vec<T>, ()> {
        let raw = self.get(name);
        let mut out = Vec::new();
        let mut ok = true;
        for item in raw.split(LIST_SEPARATOR).map(str::trim) {
            if item.is_empty() {
                continue;
            }
            match parse(item) {
                Some(v) => out.push(v),
                None => {
                    let message = format!("list item '{item}' is not {}", expected());
                    self.fail(name, message);
                    ok = false;
                }
            }
        }
        if ok { Ok(out) } else { Err(()) }
    }

    fn text(&self, name: &'static str) -> Option<String> {
        let raw = self.get(name);
        (!raw.is_empty()).then(|| raw.to_owned())
    }

    fn case(&mut self, default_organisation: Option<&str>) -> Option<Case> {
        let codes = |all: String| move || format!("one of {all}");
        let date = || "a date (YYYY-MM-DD)".to_owned();
        let parse_date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let organisation = self
            .text("organisation")
            .or_else(|| default_organisation.map(str::to_owned));
        if organisation.is_none() {
            self.fail("organisation", "required".to_owned());
        }
        // Every field is read (so that each bad field is reported), then combined.
        let signal_source = self.required(
            "signal_source",
            SignalSource::parse,
            codes(SignalSource::codes()),
        );
        let signal_date = self.required("signal_date", parse_date, date);
        let start_date = self.opt("start_date", parse_date, date);
        let closure_date = self.opt("closure_date", parse_date, date);
        let status = self.required("status", CaseStatus::parse, codes(CaseStatus::codes()));
        let violation = self.opt(
            "violation",
            ViolationType::parse,
            codes(ViolationType::codes()),
        );
        let information = self.list(
            "information",
            InformationKind::parse,
            codes(InformationKind::codes()),
        );
        let years = self.opt(
            "years_of_service",
            |s| s.parse::<u32>().ok(),
            || "a whole number".to_owned(),
        );
        let recipient = self.opt("recipient", Recipient::parse, codes(Recipient::codes()));
        let initiative = self.opt("initiative", Initiative::parse, codes(Initiative::codes()));
        let use_of_information =
            self.opt("use", InformationUse::parse, codes(InformationUse::codes()));
        let boolean = || "yes or no".to_owned();
        let damage_investigation = self.opt("damage_investigation", parse_bool, boolean);
        let damage_persons = self.opt("damage_persons", parse_bool, boolean);
        let steps = self.list(
            "steps",
            InvestigationStep::parse,
            codes(InvestigationStep::codes()),
        );
        let outcome = self.opt("outcome", OutcomeKind::parse, codes(OutcomeKind::codes()));
        let measure = self.opt("measure", MeasureKind::parse, codes(MeasureKind::codes()));
        let mut time = |column: &'static str| {
            self.opt(
                column,
                |s| {
                    DateTime::parse_from_rfc3339(s)
                        .ok()
                        .map(|t| t.with_timezone(&Utc))
                },
                || "an RFC 3339 time (2016-05-01T12:00:00Z)".to_owned(),
            )
        };
        let established_at = time("established_at");
        let authority_notified_at = time("authority_notified_at");
        let subjects_informed_at = time("subjects_informed_at");
        let events = self.list(
            "events",
            |s| s.parse::<u64>().ok(),
            || "an event sequence number".to_owned(),
        );
        if measure.as_ref().is_ok_and(Option::is_some)
            && outcome.as_ref().is_ok_and(Option::is_none)
        {
            self.fail(
                "measure",
                "a measure needs the outcome disciplinary_measure".to_owned(),
            );
            return None;
        }
        let mut case = Case::new(&organisation?, signal_source.ok()?, signal_date.ok()?);
        case.id = self.text("id").unwrap_or_default();
        case.summary = self.text("summary").unwrap_or_default();
        case.start_date = start_date.ok()?;
        case.closure_date = closure_date.ok()?;
        case.status = status.ok()?;
        case.violation = violation.ok()?;
        case.information = information.ok()?;
        case.systems = self.list_text("systems");
        case.suspect.employee = self.text("employee");
        case.suspect.function = self.text("function");
        case.suspect.unit = self.text("unit");
        case.suspect.years_of_service = years.ok()?;
        case.recipient = recipient.ok()?;
        case.initiative = initiative.ok()?;
        case.use_of_information = use_of_information.ok()?;
        case.damage.investigation = damage_investigation.ok()?.unwrap_or(false);
        case.damage.persons = damage_persons.ok()?.unwrap_or(false);
        case.damage.description = self.text("damage_description").unwrap_or_default();
        case.steps = steps.ok()?;
        case.outcome = outcome.ok()?.map(|kind| Outcome {
            kind,
            measure: None,
        });
        if let Some(o) = case.outcome.as_mut() {
            o.measure = measure.ok()?;
        }
        case.established_at = established_at.ok()?;
        case.authority_notified_at = authority_notified_at.ok()?;
        case.subjects_informed_at = subjects_informed_at.ok()?;
        case.alerts = self.list_text("alerts");
        case.events = events.ok()?;
        Some(case)
    }

    fn list_text(&self, name: &'static str) -> Vec<String> {
        self.get(name)
            .split(LIST_SEPARATOR)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "ja" | "true" | "1" | "y" | "j" => Some(true),
        "no" | "nee" | "false" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot finish the CSV output: {0}")]
    Finish(String),
}

/// The cases as CSV in the layout above (header included); `parse_cases_csv` reads it back.
pub fn cases_to_csv(cases: &[Case]) -> Result<Vec<u8>, ExportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for c in cases {
        w.write_record(case_fields(c))?;
    }
    w.into_inner()
        .map_err(|e| ExportError::Finish(e.to_string()))
}

fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items
        .iter()
        .map(f)
        .collect::<Vec<_>>()
        .join(&LIST_SEPARATOR.to_string())
}

fn case_fields(c: &Case) -> Vec<String> {
    let opt = |v: Option<&'static str>| v.unwrap_or("").to_owned();
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    vec![
        c.id.clone(),
        c.organisation.clone(),
        c.summary.clone(),
        c.signal_source.as_str().to_owned(),
        c.signal_date.to_string(),
        date(c.start_date),
        date(c.closure_date),
        c.status.as_str().to_owned(),
        opt(c.violation.map(|v| v.as_str())),
        join(&c.information, |i| i.as_str().to_owned()),
        join(&c.systems, String::clone),
        c.suspect.employee.clone().unwrap_or_default(),
        c.suspect.function.clone().unwrap_or_default(),
        c.suspect.unit.clone().unwrap_or_default(),
        c.suspect
            .years_of_service
            .map(|y| y.to_string())
            .unwrap_or_default(),
        opt(c.recipient.map(|v| v.as_str())),
        opt(c.initiative.map(|v| v.as_str())),
        opt(c.use_of_information.map(|v| v.as_str())),
        yes(c.damage.investigation),
        yes(c.damage.persons),
        c.damage.description.clone(),
        join(&c.steps, |s| s.as_str().to_owned()),
        opt(c.outcome.map(|o| o.kind.as_str())),
        opt(c.outcome.and_then(|o| o.measure).map(|m| m.as_str())),
        time(c.established_at),
        time(c.authority_notified_at),
        time(c.subjects_informed_at),
        join(&c.alerts, String::clone),
        join(&c.events, u64::to_string),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "organisation,signal_source,signal_date,status,violation,recipient,outcome,measure,information,years_of_service,damage_persons,events,established_at,closure_date";

    fn parse(lines: &[&str]) -> (Vec<ImportedCase>, Vec<LineError>) {
        let mut text = String::from(HEADER);
        for l in lines {
            text.push('\n');
            text.push_str(l);
        }
        parse_cases_csv(text.as_bytes(), None)
    }

    /// One data line; checks (line, field) of the errors.
    fn check(line: &str, expect: &[(u64, &str)]) {
        let (cases, errors) = parse(&[line]);
        let got: Vec<_> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, expect, "{line}: {errors:?}");
        assert_eq!(cases.len(), usize::from(expect.is_empty()));
    }

    const GOOD: &str = "politie,colleague,2016-02-01,closed,disclosure,criminal,dismissal,,address|identity,12,yes,4|5,2016-03-01T10:00:00Z,2016-04-01";

    #[test]
    fn each_kind_of_bad_field_is_reported() {
        check(GOOD, &[]);
        check(
            ",colleague,2016-02-01,registered,,,,,,,,,,",
            &[(2, "organisation")],
        );
        check(
            "politie,gossip,2016-02-01,registered,,,,,,,,,,",
            &[(2, "signal_source")],
        );
        check(
            "politie,colleague,2016-02-30,registered,,,,,,,,,,",
            &[(2, "signal_date")],
        );
        check(
            "politie,colleague,,registered,,,,,,,,,,",
            &[(2, "signal_date")],
        );
        check(
            "politie,colleague,2016-02-01,open,,,,,,,,,,",
            &[(2, "status")],
        );
        check(
            "politie,colleague,2016-02-01,registered,leak,,,,,,,,,",
            &[(2, "violation")],
        );
        check(
            "politie,colleague,2016-02-01,registered,disclosure,friend,,,,,,,,",
            &[(2, "recipient")],
        );
        check(
            "politie,colleague,2016-02-01,decided,,,fired,,,,,,,",
            &[(2, "outcome")],
        );
        check(
            "politie,colleague,2016-02-01,decided,,,disciplinary_measure,slap,,,,,,",
            &[(2, "measure")],
        );
        check(
            "politie,colleague,2016-02-01,registered,,,,,address|dna,,,,,",
            &[(2, "information")],
        );
        check(
            "politie,colleague,2016-02-01,registered,,,,,,twelve,,,,",
            &[(2, "years_of_service")],
        );
        check(
            "politie,colleague,2016-02-01,registered,,,,,,,maybe,,,",
            &[(2, "damage_persons")],
        );
        check(
            "politie,colleague,2016-02-01,registered,,,,,,,,4|x,,",
            &[(2, "events")],
        );
        check(
            "politie,colleague,2016-02-01,registered,,,,,,,,,yesterday,",
            &[(2, "established_at")],
        );
        check("politie,colleague,2016-02-01,registered,,,,,,,,,,", &[]);
        check("politie,colleague", &[(2, "(line)")]);
        // Rules over the whole case come from validation.
        check(
            "politie,colleague,2016-02-01,registered,disclosure,,,,,,,,,",
            &[(2, "recipient")],
        );
        check(
            "politie,colleague,2016-02-01,closed,,,,,,,,,,2016-03-01",
            &[(2, "outcome")],
        );
        check(
            "politie,colleague,2016-02-01,registered,,,,fine,,,,,,",
            &[(2, "measure")],
        );
        // Several bad fields on one line are all reported.
        check(
            "politie,gossip,2016-02-30,open,,,,,,,,,,",
            &[(2, "signal_source"), (2, "signal_date"), (2, "status")],
        );
    }

    #[test]
    fn bad_lines_do_not_stop_the_rest_and_keep_their_line_numbers() {
        let (cases, errors) = parse(&[GOOD, "politie,gossip,2016-02-01,closed,,,,,,,,,,", GOOD]);
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].line, 2);
        assert_eq!(cases[1].line, 4);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        let c = &cases[0].case;
        assert_eq!(c.recipient, Some(Recipient::Criminal));
        assert_eq!(c.events, [4, 5]);
        assert_eq!(
            c.information,
            [InformationKind::Address, InformationKind::Identity]
        );
    }

    #[test]
    fn header_problems() {
        let (cases, errors) = parse_cases_csv(b"", None);
        assert!(cases.is_empty());
        assert_eq!(errors[0].line, 1);
        let (_, errors) = parse_cases_csv(b"signal_source,signal_date\n", None);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status", "organisation"]);
        let (cases, errors) = parse_cases_csv(
            b"signal_source,signal_date,status,colour\ncolleague,2016-01-01,registered,red\n",
            Some("gemeente-x"),
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "colour");
        assert_eq!(cases[0].case.organisation, "gemeente-x");
    }

    #[test]
    fn export_round_trips() {
        let (cases, errors) = parse(&[GOOD]);
        assert!(errors.is_empty());
        let mut case = cases[0].case.clone();
        case.systems = vec!["BVH".into(), "BRP".into()];
        case.summary = "a, \"quoted\" summary".into();
        let at = |h| chrono::TimeZone::with_ymd_and_hms(&Utc, 2016, 5, 2, h, 0, 0).unwrap();
        case.authority_notified_at = Some(at(9));
        case.subjects_informed_at = Some(at(15));
        let bytes = cases_to_csv(std::slice::from_ref(&case)).unwrap();
        let (back, errors) = parse_cases_csv(&bytes, None);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(back[0].case, case);
    }
}
