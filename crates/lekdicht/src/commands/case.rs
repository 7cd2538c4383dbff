//! `lekdicht case`: the integrity-case registry from the command line: bulk import of historic
//! cases from CSV, listing and showing cases, the report, the data-breach texts of a case and the
//! purge of cases past their retention date.
//!
//! Wiring only: the case model, validation, import, report, breach texts and retention rules are in
//! `lekdicht-cases`; storage is `lekdicht-store`'s `CaseStore`. This module converts between the two
//! (a stored row holds the case as JSON; evidence and history have their own rows) and prints.
//! Cases are not edited here; the web application does that.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::terminal::{clean, clean_lines};
use anyhow::{Context as _, Result, bail};
use chrono::{NaiveDate, Utc};
use clap::{Subcommand, ValueEnum};
use lekdicht_cases::{
    Case, CaseStatus, ContactPoint, Lang, Report, RetentionPolicies, SubjectAccess, UnitFigures,
};
use lekdicht_store::{
    CaseFilter, CaseHistoryRow, CaseRow, CaseStore, EvidenceKind, EvidenceRow, NewCaseRow,
    NewEvidence, SqliteStore, Store,
};

/// Exit code of an import that rejected lines.
pub const EXIT_REJECTED: i32 = 3;

/// File in the data directory with the retention policies (TOML), when `--policy` is not given.
pub const POLICY_FILE: &str = "retention.toml";

/// The integrity-case registry.
#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Import historic cases from CSV (layout: one header row naming the columns, lists separated
    /// by `|`; see `lekdicht-cases` docs). Bad lines are reported with file, line and field and
    /// skipped; the rest is imported. Exits with 3 when lines were rejected.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Organisation for lines that name none.
        #[arg(long)]
        org: Option<String>,
        /// Retention policies (TOML); default: retention.toml in the data directory, else the
        /// built-in policy.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// List cases.
    List {
        /// Only cases in this status (registered, under_investigation, decided, closed).
        #[arg(long)]
        status: Option<String>,
        /// Only cases of this organisation.
        #[arg(long)]
        org: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Show one case with its history and evidence.
    Show {
        id: String,
        /// The case as JSON.
        #[arg(long)]
        json: bool,
        #[arg(long, value_enum, default_value_t = LangArg::En)]
        lang: LangArg,
    },
    /// Counts, trends, unfounded shares, vulnerable places and disclosures over the cases.
    Report {
        /// Only cases of this organisation.
        #[arg(long)]
        org: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = LangArg::En)]
        lang: LangArg,
    },
    /// The data-breach notification to the Autoriteit Persoonsgegevens and the letters to the data
    /// subjects, for a case that establishes unlawful access.
    Breach {
        id: String,
        #[arg(long, value_enum, default_value_t = LangArg::Nl)]
        lang: LangArg,
        /// Contact point named in the texts.
        #[arg(long, default_value = "Functionaris gegevensbescherming")]
        contact_name: String,
        #[arg(long, default_value = "")]
        contact_email: String,
        #[arg(long, default_value = "")]
        contact_phone: String,
    },
    /// Delete the cases past their retention date, with their evidence links and history, and
    /// record what was removed in the audit ledger.
    Purge {
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Retention policies (TOML); as for import.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The day to judge expiry by (default: today).
        #[arg(long)]
        today: Option<NaiveDate>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    Nl,
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Nl => Lang::Nl,
            LangArg::En => Lang::En,
        }
    }
}

/// Runs one `case` subcommand; returns the process exit code.
pub fn run(data: &Path, cmd: &CaseCommand) -> Result<i32> {
    let mut store = super::open_store(data)?;
    match cmd {
        CaseCommand::Import { file, org, policy } => {
            let policies = load_policies(data, policy.as_deref())?;
            import(data, &mut store, file, org.as_deref(), &policies)
        }
        CaseCommand::List { status, org, json } => {
            if let Some(s) = status
                && CaseStatus::parse(s).is_none()
            {
                bail!("unknown status {s}; one of {}", CaseStatus::codes());
            }
            let rows = store.cases(&CaseFilter {
                organisation: org.clone(),
                status: status.clone(),
            })?;
            list(&rows, *json)?;
            Ok(0)
        }
        CaseCommand::Show { id, json, lang } => {
            show(&store, id, *json, (*lang).into())?;
            Ok(0)
        }
        CaseCommand::Report {
            org,
            format,
            out,
            lang,
        } => {
            let report = build(&store, org.as_deref())?;
            let bytes = match format {
                ReportFormat::Text => report_text(&report, (*lang).into()).into_bytes(),
                ReportFormat::Csv => report.to_csv()?,
                ReportFormat::Json => serde_json::to_vec_pretty(&report)?,
            };
            match out {
                Some(path) => std::fs::write(path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().lock().write_all(&bytes)?,
            }
            Ok(0)
        }
        CaseCommand::Breach {
            id,
            lang,
            contact_name,
            contact_email,
            contact_phone,
        } => {
            let contact = ContactPoint {
                name: contact_name.clone(),
                email: contact_email.clone(),
                phone: contact_phone.clone(),
            };
            print!("{}", breach(&store, id, &contact, (*lang).into())?);
            Ok(0)
        }
        CaseCommand::Purge {
            dry_run,
            policy,
            today,
        } => {
            let policies = load_policies(data, policy.as_deref())?;
            let today = today.unwrap_or_else(|| Utc::now().date_naive());
            purge(data, &mut store, &policies, today, *dry_run)
        }
    }
}

/// The user named in history rows: `LEKDICHT_USER`, else the operating-system user.
fn current_user() -> String {
    std::env::var("LEKDICHT_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

pub(crate) fn load_policies(data: &Path, path: Option<&Path>) -> Result<RetentionPolicies> {
    let default_path = data.join(POLICY_FILE);
    let path = match path {
        Some(p) => p.to_path_buf(),
        None if default_path.exists() => default_path,
        None => return Ok(RetentionPolicies::default()),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("{} is not a valid retention policy", path.display()))
}

/// The stored row of a case (evidence and history go to their own rows).
pub(crate) fn new_row(
    case: &Case,
    policies: &RetentionPolicies,
    by: &str,
    note: String,
) -> Result<NewCaseRow> {
    let mut evidence: Vec<NewEvidence> = case
        .alerts
        .iter()
        .map(|a| NewEvidence::Alert {
            alert_id: a.clone(),
            note: String::new(),
        })
        .collect();
    evidence.extend(case.events.iter().map(|&seq| NewEvidence::Event {
        seq,
        note: String::new(),
    }));
    Ok(NewCaseRow {
        id: (!case.id.is_empty()).then(|| case.id.clone()),
        organisation: case.organisation.clone(),
        status: case.status.as_str().to_owned(),
        signal_date: case.signal_date.to_string(),
        closure_date: case.closure_date.map(|d| d.to_string()),
        retention_until: lekdicht_cases::retention_until(case, policies).map(|d| d.to_string()),
        source_alert: case.source_alert.clone(),
        record: serde_json::to_string(case)?,
        created_by: by.to_owned(),
        at: Utc::now(),
        note,
        evidence,
    })
}

/// The case of a stored row, with the evidence rows as its alerts and events.
pub(crate) fn case_of(row: &CaseRow, evidence: &[EvidenceRow]) -> Result<Case> {
    let mut case: Case = serde_json::from_str(&row.record)
        .with_context(|| format!("stored case {} is not a valid case record", row.id))?;
    case.id.clone_from(&row.id);
    case.alerts = evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Alert)
        .map(|e| e.reference.clone())
        .collect();
    case.events = evidence.iter().filter_map(|e| e.event_seq).collect();
    Ok(case)
}

/// Every stored case matching the organisation, as cases. Evidence is not loaded (reports do not
/// need it), so `alerts` and `events` are those of the stored record.
fn load_cases(store: &SqliteStore, org: Option<&str>) -> Result<Vec<Case>> {
    let rows = store.cases(&CaseFilter {
        organisation: org.map(str::to_owned),
        status: None,
    })?;
    rows.iter()
        .map(|row| {
            let mut case: Case = serde_json::from_str(&row.record)
                .with_context(|| format!("stored case {} is not a valid case record", row.id))?;
            case.id.clone_from(&row.id);
            Ok(case)
        })
        .collect()
}

fn import(
    data: &Path,
    store: &mut SqliteStore,
    file: &Path,
    org: Option<&str>,
    policies: &RetentionPolicies,
) -> Result<i32> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (cases, mut errors) = lekdicht_cases::parse_cases_csv(&bytes, org);
    let mut known: HashSet<String> = store.case_ids()?.into_iter().collect();
    let by = current_user();
    let name = file.display().to_string();
    let mut rows = Vec::with_capacity(cases.len());
    for imported in &cases {
        let case = &imported.case;
        if !case.id.is_empty() && !known.insert(case.id.clone()) {
            errors.push(lekdicht_cases::LineError {
                line: imported.line,
                field: "id".to_owned(),
                message: format!("case {} is already registered", case.id),
            });
            continue;
        }
        rows.push(new_row(
            case,
            policies,
            &by,
            format!("imported from {name} line {}", imported.line),
        )?);
    }
    let ids = store.insert_cases(&rows)?;
    errors.sort_by_key(|e| e.line);
    let mut err = std::io::stderr().lock();
    for e in &errors {
        writeln!(
            err,
            "{}:{}: {}: {}",
            clean(&name),
            e.line,
            clean(&e.field),
            clean(&e.message)
        )?;
    }
    let rejected: HashSet<u64> = errors.iter().map(|e| e.line).collect();
    println!(
        "imported {} cases from {name}; rejected {} lines ({} errors)",
        ids.len(),
        rejected.len(),
        errors.len()
    );
    if !ids.is_empty() {
        crate::ledger::record_action(
            data,
            store,
            serde_json::json!({
                "action": "case.import",
                "file": name,
                "imported": ids.len(),
                "rejected_lines": rejected.len(),
            }),
        )?;
    }
    Ok(if rejected.is_empty() {
        0
    } else {
        EXIT_REJECTED
    })
}

fn list(rows: &[CaseRow], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        for row in rows {
            let case = case_of(row, &[])?;
            writeln!(out, "{}", serde_json::to_string(&case)?)?;
        }
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(out, "no cases")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<18} {:<20} {:<11} {:<12} {:<20} unit",
        "id", "status", "signal", "closed", "organisation"
    )?;
    for row in rows {
        let case = case_of(row, &[])?;
        writeln!(
            out,
            "{:<18} {:<20} {:<11} {:<12} {:<20} {}",
            clean(&row.id),
            row.status,
            row.signal_date,
            row.closure_date.as_deref().unwrap_or("-"),
            clean(&row.organisation),
            clean(case.suspect.unit.as_deref().unwrap_or("-")),
        )?;
    }
    writeln!(out, "{} cases", rows.len())?;
    Ok(())
}

fn show(store: &SqliteStore, id: &str, json: bool, lang: Lang) -> Result<()> {
    let Some(row) = store.case(id)? else {
        bail!("no case {id}");
    };
    let evidence = store.case_evidence(id)?;
    let history = store.case_history(id)?;
    let case = case_of(&row, &evidence)?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&case)?)?;
        return Ok(());
    }
    let lines = evidence_lines(store, &evidence)?;
    let text = case_text(&case, &row, &history, &lines, lang);
    writeln!(out, "{}", clean_lines(&text))?;
    Ok(())
}

fn case_text(
    case: &Case,
    row: &CaseRow,
    history: &[CaseHistoryRow],
    evidence: &[String],
    lang: Lang,
) -> String {
    let mut s = String::new();
    let or_dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
    let mut line = |k: &str, v: String| s.push_str(&format!("{k:<20} {v}\n"));
    line("case", case.id.clone());
    line("organisation", case.organisation.clone());
    line("status", case.status.label(lang).to_owned());
    line("summary", case.summary.clone());
    line(
        "signal",
        format!("{} ({})", case.signal_date, case.signal_source.label(lang)),
    );
    line(
        "start",
        or_dash(case.start_date.map(|d| d.to_string()).as_deref()),
    );
    line(
        "closed",
        or_dash(case.closure_date.map(|d| d.to_string()).as_deref()),
    );
    line("violation", or_dash(case.violation.map(|v| v.label(lang))));
    line(
        "information",
        case.information
            .iter()
            .map(|i| i.label(lang))
            .collect::<Vec<_>>()
            .join(", "),
    );
    line("systems", case.systems.join(", "));
    let s_ = &case.suspect;
    line(
        "suspect",
        format!(
            "{} ({}, {}, {} years of service)",
            or_dash(s_.employee.as_deref()),
            or_dash(s_.function.as_deref()),
            or_dash(s_.unit.as_deref()),
            s_.years_of_service
                .map_or("?".to_owned(), |y| y.to_string())
        ),
    );
    line("recipient", or_dash(case.recipient.map(|r| r.label(lang))));
    line(
        "initiative",
        or_dash(case.initiative.map(|r| r.label(lang))),
    );
    line(
        "use",
        or_dash(case.use_of_information.map(|r| r.label(lang))),
    );
    line(
        "damage",
        format!(
            "investigation: {}, persons: {} {}",
            case.damage.investigation, case.damage.persons, case.damage.description
        ),
    );
    line(
        "steps",
        case.steps
            .iter()
            .map(|i| i.label(lang))
            .collect::<Vec<_>>()
            .join(", "),
    );
    line(
        "outcome",
        case.outcome.map_or("-".to_owned(), |o| match o.measure {
            Some(m) => format!("{} ({})", o.kind.label(lang), m.label(lang)),
            None => o.kind.label(lang).to_owned(),
        }),
    );
    if let Some(t) = case.established_at {
        line(
            "established",
            format!(
                "{t} (breach notification due {})",
                lekdicht_cases::deadline(t)
            ),
        );
    }
    if let Some(t) = case.authority_notified_at {
        line("authority notified", t.to_string());
    }
    if let Some(t) = case.subjects_informed_at {
        line("subjects informed", t.to_string());
    }
    line("retention until", or_dash(row.retention_until.as_deref()));
    s.push_str("\nhistory\n");
    for h in history {
        s.push_str(&format!(
            "  {}  {} -> {}  by {}  {}\n",
            h.at,
            h.from_status.as_deref().unwrap_or("-"),
            h.to_status,
            h.by,
            h.note
        ));
    }
    s.push_str("\nevidence\n");
    for line in evidence {
        s.push_str(&format!("  {line}\n"));
    }
    s
}

/// One line per piece of evidence; an event with its id and system and the command that proves
/// its inclusion in the ledger.
fn evidence_lines(store: &SqliteStore, evidence: &[EvidenceRow]) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(evidence.len());
    for e in evidence {
        let what = match (e.kind, e.event_seq) {
            (EvidenceKind::Event, Some(seq)) => {
                let mut found = None;
                store.for_each_event_by_seq(seq, seq + 1, &mut |ev| {
                    found = Some(ev);
                    Ok(())
                })?;
                match found {
                    Some(ev) => format!(
                        "event #{seq} {} in {} at {} (proof: lekdicht ledger prove {} --system {})",
                        ev.event.id.as_str(),
                        ev.event.system,
                        ev.event.time,
                        ev.event.id.as_str(),
                        ev.event.system
                    ),
                    None => format!("event #{seq} (not in the store)"),
                }
            }
            _ => format!("alert {}", e.reference),
        };
        out.push(format!("{what}  added by {} at {}", e.added_by, e.added_at));
    }
    Ok(out)
}

/// Employees and alerts per unit, from the context and the latest alerts.
fn unit_figures(store: &SqliteStore) -> Result<Vec<UnitFigures>> {
    let context = store.load_context()?;
    let mut unit_of: HashMap<String, String> = HashMap::new();
    let mut units: BTreeMap<String, UnitFigures> = BTreeMap::new();
    for e in &context.employees {
        let unit = e.unit.as_str().to_owned();
        unit_of.insert(e.id.as_str().to_owned(), unit.clone());
        units
            .entry(unit.clone())
            .or_insert_with(|| UnitFigures {
                unit,
                ..UnitFigures::default()
            })
            .employees += 1;
    }
    for a in store.alerts(None)? {
        let Some(unit) = unit_of.get(&a.actor) else {
            continue;
        };
        let Some(f) = units.get_mut(unit) else {
            continue;
        };
        f.alerts += 1;
        for system in lekdicht_web::reports::alert_systems(store, &a)? {
            *f.alerts_by_system.entry(system).or_default() += 1;
        }
        match a.status.as_str() {
            "dismissed" => {
                f.alerts_decided += 1;
                f.alerts_explained += 1;
            }
            "escalated" => {
                f.alerts_decided += 1;
                f.alerts_escalated += 1;
            }
            _ => {}
        }
    }
    Ok(units.into_values().collect())
}

fn build(store: &SqliteStore, org: Option<&str>) -> Result<Report> {
    let cases = lekdicht_web::reports::case_facts(store, org)?;
    let units = unit_figures(store)?;
    Ok(lekdicht_cases::build_report(&cases, &units))
}

fn report_text(r: &Report, lang: Lang) -> String {
    let mut s = String::new();
    let label = |section: &str, key: &str| -> String {
        let l = match section {
            "violation" => lekdicht_cases::ViolationType::parse(key).map(|v| v.label(lang)),
            "recipient" => lekdicht_cases::Recipient::parse(key).map(|v| v.label(lang)),
            "outcome" => lekdicht_cases::OutcomeKind::parse(key).map(|v| v.label(lang)),
            "signal source" => lekdicht_cases::SignalSource::parse(key).map(|v| v.label(lang)),
            _ => None,
        };
        l.map_or_else(|| key.to_owned(), str::to_owned)
    };
    s.push_str(&format!("cases: {}\n", r.total));
    s.push_str(&format!("{}\n", r.disclosure.sentence(lang)));
    let share = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0));
    s.push_str(&format!(
        "unfounded: {} of {} decided ({})\n",
        r.unfounded.unfounded,
        r.unfounded.decided,
        share(r.unfounded.share_unfounded)
    ));
    for (section, counts) in [
        ("year", &r.by_year),
        ("organisation", &r.by_organisation),
        ("unit", &r.by_unit),
        ("function", &r.by_function),
        ("violation", &r.by_violation),
        ("recipient", &r.by_recipient),
        ("outcome", &r.by_outcome),
        ("signal source", &r.by_signal_source),
    ] {
        s.push_str(&format!("\nby {section}\n"));
        for c in counts.iter().take(25) {
            s.push_str(&format!("  {:>8}  {}\n", c.count, label(section, &c.key)));
        }
    }
    for (title, list) in [
        ("unfounded by unit", &r.unfounded_by_unit),
        ("unfounded by function", &r.unfounded_by_function),
    ] {
        s.push_str(&format!("\n{title} (unfounded / decided, of cases)\n"));
        for u in list.iter().take(25) {
            s.push_str(&format!(
                "  {:>6} / {:<6} {:>7}  of {:>6}  {}\n",
                u.unfounded,
                u.decided,
                share(u.share_unfounded),
                u.cases,
                u.group
            ));
        }
    }
    s.push_str("\nvulnerable places (unit x system)\n");
    for p in r.vulnerable_places.iter().take(15) {
        s.push_str(&format!(
            "  {:>8} cases {:>6} alerts  {} x {}\n",
            p.cases, p.alerts, p.unit, p.system
        ));
    }
    if !r.unit_rates.is_empty() {
        s.push_str("\nalerts per employee, explained share and precision per unit\n");
        for u in r.unit_rates.iter().take(25) {
            s.push_str(&format!(
                "  {:<24} {:>5} employees {:>6} alerts {:>6} per employee  explained {:>7}  precision {:>7}  cases {}\n",
                u.unit,
                u.employees,
                u.alerts,
                u.alerts_per_employee.map_or("-".to_owned(), |v| format!("{v:.2}")),
                share(u.explained_share),
                share(u.precision),
                u.cases
            ));
        }
    }
    s
}

/// The accesses behind a case's event evidence, with the data subject's name and address from
/// the context (a vehicle counts as its holder).
fn accesses(store: &SqliteStore, evidence: &[EvidenceRow]) -> Result<Vec<SubjectAccess>> {
    let context = store.load_context()?;
    let holders: HashMap<&str, &str> = context
        .vehicles
        .iter()
        .filter_map(|v| Some((v.id.as_str(), v.holder.as_ref()?.as_str())))
        .collect();
    let subjects: HashMap<&str, &lekdicht_model::Subject> = context
        .subjects
        .iter()
        .map(|s| (s.id.as_str(), s))
        .collect();
    let mut out = Vec::new();
    for seq in evidence.iter().filter_map(|e| e.event_seq) {
        let mut found = None;
        store.for_each_event_by_seq(seq, seq + 1, &mut |e| {
            found = Some(e);
            Ok(())
        })?;
        let Some(stored) = found else {
            bail!("evidence event #{seq} is not in the store");
        };
        let event = stored.event;
        let Some(subject) = event.subject.as_ref().map(|s| s.as_str()) else {
            continue;
        };
        let subject = holders.get(subject).copied().unwrap_or(subject);
        let record = subjects.get(subject);
        let name = record.and_then(|r| {
            let parts: Vec<&str> = [r.given_names.as_deref(), r.family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        let address = record.and_then(|r| {
            let parts: Vec<&str> = [r.postcode.as_deref(), r.house_number.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        out.push(SubjectAccess {
            subject: subject.to_owned(),
            name,
            address,
            system: event.system.clone(),
            at: event.time.with_timezone(&Utc),
            event_seq: seq,
        });
    }
    Ok(out)
}

fn breach(store: &SqliteStore, id: &str, contact: &ContactPoint, lang: Lang) -> Result<String> {
    let Some(row) = store.case(id)? else {
        bail!("no case {id}");
    };
    let evidence = store.case_evidence(id)?;
    let mut case = case_of(&row, &evidence)?;
    if case.established_at.is_none() {
        // The moment the case was decided, when the record does not say.
        let history = store.case_history(id)?;
        case.established_at = history
            .iter()
            .rev()
            .find(|h| h.to_status == CaseStatus::Decided.as_str())
            .and_then(|h| chrono::DateTime::parse_from_rfc3339(&h.at).ok())
            .map(|t| t.with_timezone(&Utc));
    }
    let accesses = accesses(store, &evidence)?;
    let notification = lekdicht_cases::notification(&case, &accesses, contact)?;
    let now = Utc::now();
    let mut s = String::new();
    let state = match case.authority_notified_at {
        Some(t) if t <= notification.deadline => {
            format!("notified {}, in time", t.format("%Y-%m-%d %H:%M UTC"))
        }
        Some(t) => format!("notified {}, late", t.format("%Y-%m-%d %H:%M UTC")),
        None if lekdicht_cases::is_overdue(notification.established_at, None, now) => {
            "passed".to_owned()
        }
        None => "open".to_owned(),
    };
    s.push_str(&format!(
        "# deadline {} ({state})\n",
        notification.deadline.format("%Y-%m-%d %H:%M UTC"),
    ));
    if let Some(t) = case.subjects_informed_at {
        s.push_str(&format!(
            "# letters to data subjects sent {}\n",
            t.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    s.push('\n');
    s.push_str(&notification.text(lang));
    for letter in notification.letters(lang) {
        s.push_str(&format!(
            "\n# letter to data subject {}\n\n",
            letter.subject
        ));
        s.push_str(&letter.text);
    }
    Ok(s)
}

fn purge(
    data: &Path,
    store: &mut SqliteStore,
    policies: &RetentionPolicies,
    today: NaiveDate,
    dry_run: bool,
) -> Result<i32> {
    let cases = load_cases(store, None)?;
    let expired = lekdicht_cases::expired(&cases, today, policies);
    let ids: Vec<String> = expired.iter().map(|c| c.id.clone()).collect();
    if dry_run {
        for c in &expired {
            println!(
                "{}  closed {}  kept until {}",
                c.id,
                c.closure_date.map(|d| d.to_string()).unwrap_or_default(),
                lekdicht_cases::retention_until(c, policies)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            );
        }
        println!("{} cases would be removed (dry run)", ids.len());
        return Ok(0);
    }
    if ids.is_empty() {
        println!("no cases past their retention date");
        return Ok(0);
    }
    let counts = store.purge_cases(&ids)?;
    crate::ledger::record_action(
        data,
        store as &mut dyn Store,
        serde_json::json!({
            "action": "case.purge",
            "reason": "retention period expired",
            "today": today.to_string(),
            "cases": counts.cases,
            "counts": {
                "cases": counts.cases.len(),
                "history_rows": counts.history_rows,
                "evidence_rows": counts.evidence_rows,
            },
            "policy": policies,
        }),
    )?;
    println!(
        "removed {} cases ({} history rows, {} evidence links); recorded in the audit ledger",
        counts.cases.len(),
        counts.history_rows,
        counts.evidence_rows
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use lekdicht_store::NewCaseFromAlert;

    use super::*;

    fn write_csv(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("cases.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn case_opened_from_an_alert_reads_as_a_case() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let id = store
            .open_case_from_alert(&NewCaseFromAlert {
                organisation: "politie".into(),
                alert_id: "A1".into(),
                employee: "E1".into(),
                opened_by: "inv".into(),
                summary: "neighbour".into(),
                event_seqs: vec![3, 5],
                at: Utc.with_ymd_and_hms(2026, 3, 5, 10, 0, 0).unwrap(),
            })
            .unwrap();
        let row = store.case(&id).unwrap().unwrap();
        let case = case_of(&row, &store.case_evidence(&id).unwrap()).unwrap();
        assert_eq!(case.id, id);
        assert_eq!(case.status, CaseStatus::Registered);
        assert_eq!(case.suspect.employee.as_deref(), Some("E1"));
        assert_eq!(case.alerts, ["A1"]);
        assert_eq!(case.events, [3, 5]);
        assert!(lekdicht_cases::validate(&case).is_empty());
    }

    #[test]
    fn import_report_and_purge_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut text = String::from(
            "id,organisation,signal_source,signal_date,status,violation,recipient,outcome,closure_date,unit,systems\n",
        );
        // 219 disclosures (40 to criminals), lookups that must not count, one bad line.
        for i in 0..219 {
            let recipient = if i < 40 { "criminal" } else { "private_circle" };
            text.push_str(&format!(
                "D{i},politie,colleague,2015-03-01,closed,disclosure,{recipient},warning,2015-06-01,team-a,BVH|BRP\n"
            ));
        }
        for i in 0..50 {
            text.push_str(&format!(
                "L{i},politie,proactive_log_analysis,2016-03-01,closed,unauthorised_lookup,none,unfounded,2016-04-01,team-b,BRP\n"
            ));
        }
        text.push_str("X1,politie,gossip,2016-03-01,closed,,,unfounded,2016-04-01,team-b,\n");
        let file = write_csv(dir.path(), &text);
        let cmd = CaseCommand::Import {
            file: file.clone(),
            org: None,
            policy: None,
        };
        assert_eq!(run(&data, &cmd).unwrap(), EXIT_REJECTED);
        // Importing again rejects every line as already registered.
        assert_eq!(run(&data, &cmd).unwrap(), EXIT_REJECTED);

        let store = SqliteStore::open(&data).unwrap();
        assert_eq!(store.case_ids().unwrap().len(), 269);
        let report = build(&store, Some("politie")).unwrap();
        assert_eq!(report.disclosure.suspicions, 219);
        assert_eq!(report.disclosure.to_criminals, 40);
        assert_eq!(report.disclosure.to_others, 179);
        assert_eq!(report.vulnerable_places[0].cases, 219);
        let history = store.case_history("D0").unwrap();
        assert_eq!(history.len(), 1);
        assert!(history[0].note.contains("line 2"), "{}", history[0].note);
        drop(store);

        // Unfounded cases closed 2016-04-01 are kept one year; the disclosures five.
        let purge_at = |day: &str, dry_run: bool| {
            run(
                &data,
                &CaseCommand::Purge {
                    dry_run,
                    policy: None,
                    today: Some(day.parse().unwrap()),
                },
            )
            .unwrap()
        };
        assert_eq!(purge_at("2017-04-02", true), 0);
        assert_eq!(
            SqliteStore::open(&data).unwrap().case_ids().unwrap().len(),
            269
        );
        assert_eq!(purge_at("2017-04-02", false), 0);
        let store = SqliteStore::open(&data).unwrap();
        assert_eq!(store.case_ids().unwrap().len(), 219);
        assert!(store.case("L0").unwrap().is_none());
        assert!(store.case_history("L0").unwrap().is_empty());
        let audit = std::fs::read_to_string(data.join("ledger/audit/records.jsonl")).unwrap();
        let purge_line = audit.lines().find(|l| l.contains("case.purge")).unwrap();
        let entry: serde_json::Value = serde_json::from_str(purge_line).unwrap();
        assert_eq!(entry["counts"]["cases"], 50);
        assert_eq!(entry["cases"][0], "L0");
    }

    #[test]
    fn import_of_ten_thousand_generated_lines_skips_only_the_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let generated = lekdicht_cases::generate::historic_csv(10_000, 5, 997).unwrap();
        let file = dir.path().join("historic.csv");
        std::fs::write(&file, &generated.csv).unwrap();
        let cmd = CaseCommand::Import {
            file,
            org: None,
            policy: None,
        };
        assert_eq!(run(&data, &cmd).unwrap(), EXIT_REJECTED);
        let store = SqliteStore::open(&data).unwrap();
        let ids = store.case_ids().unwrap();
        assert_eq!(ids.len(), 10_000 - generated.bad_lines.len());
        // The bad lines are those of the generator; their cases (ids by position) are absent.
        let all = lekdicht_cases::generate::historic_cases(10_000, 5);
        for (line, _) in &generated.bad_lines {
            let id = &all[*line as usize - 2].id;
            assert!(store.case(id).unwrap().is_none(), "{id}");
        }
        let first = &all[0];
        let row = store.case(&first.id).unwrap().unwrap();
        assert_eq!(case_of(&row, &[]).unwrap().suspect, first.suspect);
    }

    #[test]
    fn show_text_lists_history_and_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let id = store
            .open_case_from_alert(&NewCaseFromAlert {
                organisation: "politie".into(),
                alert_id: "A7".into(),
                employee: "E1".into(),
                opened_by: "inv".into(),
                summary: "s".into(),
                event_seqs: vec![42],
                at: Utc.with_ymd_and_hms(2026, 3, 5, 10, 0, 0).unwrap(),
            })
            .unwrap();
        let row = store.case(&id).unwrap().unwrap();
        let evidence = store.case_evidence(&id).unwrap();
        let case = case_of(&row, &evidence).unwrap();
        let lines = evidence_lines(&store, &evidence).unwrap();
        let text = case_text(
            &case,
            &row,
            &store.case_history(&id).unwrap(),
            &lines,
            Lang::En,
        );
        assert!(text.contains("status               Registered"), "{text}");
        assert!(
            text.contains("-> registered  by inv  opened from an escalated alert"),
            "{text}"
        );
        assert!(text.contains("alert A7  added by inv"), "{text}");
        assert!(text.contains("event #42 (not in the store)"), "{text}");
    }

    #[test]
    fn breach_texts_name_the_data_subjects_deadline_and_contact() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let text = "id,organisation,signal_source,signal_date,status,violation,recipient,outcome,closure_date,information,established_at,authority_notified_at,subjects_informed_at\n\
                    B1,politie,colleague,2016-03-01,closed,unauthorised_lookup,none,warning,2016-04-01,address,2016-03-20T09:00:00Z,,\n\
                    B2,politie,colleague,2016-03-01,closed,unauthorised_lookup,none,unfounded,2016-04-01,address,,,\n\
                    B4,politie,colleague,2016-03-01,closed,unauthorised_lookup,none,warning,2016-04-01,address,2016-03-20T09:00:00Z,2016-03-22T16:30:00Z,2016-03-25T10:00:00Z\n";
        let file = write_csv(dir.path(), text);
        assert_eq!(
            run(
                &data,
                &CaseCommand::Import {
                    file,
                    org: None,
                    policy: None
                }
            )
            .unwrap(),
            0
        );
        let store = SqliteStore::open(&data).unwrap();
        let contact = ContactPoint {
            name: "FG".into(),
            email: "fg@example.nl".into(),
            phone: "".into(),
        };
        let out = breach(&store, "B1", &contact, Lang::Nl).unwrap();
        assert!(
            out.contains("# deadline 2016-03-23 09:00 UTC (passed)"),
            "{out}"
        );
        assert!(out.contains("Contactpunt: FG, fg@example.nl"), "{out}");
        let out = breach(&store, "B4", &contact, Lang::Nl).unwrap();
        assert!(
            out.contains(
                "# deadline 2016-03-23 09:00 UTC (notified 2016-03-22 16:30 UTC, in time)"
            ),
            "{out}"
        );
        assert!(
            out.contains("# letters to data subjects sent 2016-03-25 10:00 UTC"),
            "{out}"
        );
        assert!(breach(&store, "B2", &contact, Lang::Nl).is_err());
        assert!(breach(&store, "B3", &contact, Lang::Nl).is_err());
    }
}
