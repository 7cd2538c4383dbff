//! The case report of an organisation (`/reports`): counts by year, unit, function, kind of
//! violation, recipient, outcome and signal source; the trend per year; the share of unfounded
//! cases per unit and per function with their counts (the fairness view); vulnerable places; the
//! disclosure sentence; alert figures per unit; two bar charts drawn as SVG on the server with the
//! same figures in tables beside them. The same report downloads as CSV (`/reports.csv`) and as
//! a plain PDF of text lines (`/reports.pdf`).
//!
//! The figures come from `lekdicht_cases::build_report` over the report facts the store keeps
//! beside each case (no whole case is read); this module loads them, renders and lays out text. It draws no conclusions and computes no figures of its own
//! besides the per-unit alert counts it hands to the report.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use lekdicht_cases::{
    CaseFacts, Count, FactCodes, OutcomeKind, Recipient, Report, SignalSource, UNREGISTERED,
    UnfoundedShare, UnitFigures, ViolationType, Vocabulary,
};
use lekdicht_review::{Lang, Permission};
use lekdicht_store::{CaseStore, SqliteStore, Store};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::auth::CurrentUser;
use crate::cases_i18n::{CaseTexts, case_texts};
use crate::directory::Directory;
use crate::error::AppError;
use crate::view::{Page, audit_entry, render};
use crate::{AppState, St};

/// Most rows of one table on the page and in the PDF (the CSV has them all).
pub const MAX_ROWS: usize = 50;

/// The report facts of the cases of `organisation` (all organisations when `None`), from the columns
/// the store keeps beside each case record. A row with an unknown code is skipped and logged.
pub fn case_facts(
    store: &SqliteStore,
    organisation: Option<&str>,
) -> Result<Vec<CaseFacts>, lekdicht_store::StoreError> {
    let rows = store.case_facts(organisation)?;
    let mut facts = Vec::with_capacity(rows.len());
    for row in &rows {
        let codes = FactCodes {
            signal_date: &row.signal_date,
            organisation: &row.organisation,
            signal_source: row.signal_source.as_deref(),
            violation: row.violation.as_deref(),
            recipient: row.recipient.as_deref(),
            outcome: row.outcome.as_deref(),
            unit: row.unit.as_deref(),
            function: row.function.as_deref(),
            systems: row.systems.as_deref(),
        };
        match CaseFacts::from_codes(codes) {
            Ok(f) => facts.push(f),
            Err(error) => tracing::warn!(case = %row.id, %error, "case left out of the report"),
        }
    }
    Ok(facts)
}

/// The systems of an alert's accesses (those of its actor among the events it names).
pub fn alert_systems(
    store: &SqliteStore,
    alert: &lekdicht_store::AlertRow,
) -> Result<std::collections::BTreeSet<String>, lekdicht_store::StoreError> {
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(default)]
        events: Vec<String>,
    }
    let mut systems = std::collections::BTreeSet::new();
    let Ok(line) = serde_json::from_str::<Line>(&alert.line) else {
        // The alert's id holds the employee's id: the log names neither.
        tracing::warn!(
            from_ms = alert.from_ms,
            "an alert's stored line is unreadable"
        );
        return Ok(systems);
    };
    for id in &line.events {
        for e in store.find_events(id, None)? {
            if e.event.actor.as_str() == alert.actor {
                systems.insert(e.event.system);
            }
        }
    }
    Ok(systems)
}

/// Employees and current alerts per unit of the organisation (units by name).
pub fn unit_figures(
    store: &SqliteStore,
    directory: &Directory,
    organisation: &str,
) -> Result<Vec<UnitFigures>, AppError> {
    let unit_name = |unit: &str| {
        directory
            .units
            .get(unit)
            .map_or_else(|| unit.to_owned(), |(_, name)| name.clone())
    };
    let mut units: BTreeMap<String, UnitFigures> = BTreeMap::new();
    for e in directory
        .employees
        .values()
        .filter(|e| e.organisation == organisation)
    {
        let name = unit_name(&e.unit);
        units
            .entry(name.clone())
            .or_insert_with(|| UnitFigures {
                unit: name,
                ..UnitFigures::default()
            })
            .employees += 1;
    }
    for a in store.alerts(None)? {
        let Some(info) = directory.employees.get(&a.actor) else {
            continue;
        };
        if info.organisation != organisation {
            continue;
        }
        let Some(f) = units.get_mut(&unit_name(&info.unit)) else {
            continue;
        };
        f.alerts += 1;
        for system in alert_systems(store, &a)? {
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

pub(crate) async fn load(state: &AppState, user: &CurrentUser) -> Result<Report, AppError> {
    user.require(Permission::ViewReports)?;
    let org = user.organisation.clone();
    let directory = state.directory.clone();
    state
        .pool
        .run(move |s| {
            let cases = case_facts(s, Some(&org))?;
            let units = unit_figures(s, &directory, &org)?;
            Ok(lekdicht_cases::build_report(&cases, &units))
        })
        .await
}

/// The plain-language label of a report key in a section.
fn label(section: Section, key: &str, ct: &CaseTexts, lang: Lang) -> String {
    if key == UNREGISTERED {
        return ct.unregistered.to_owned();
    }
    fn of<T: Vocabulary>(key: &str, lang: Lang) -> Option<&'static str> {
        T::from_code(key).map(|v| v.label(lang))
    }
    let found = match section {
        Section::Violation => of::<ViolationType>(key, lang),
        Section::Recipient => of::<Recipient>(key, lang),
        Section::Outcome => of::<OutcomeKind>(key, lang),
        Section::SignalSource => of::<SignalSource>(key, lang),
        Section::Plain => None,
    };
    found.map_or_else(|| key.to_owned(), str::to_owned)
}

#[derive(Clone, Copy)]
enum Section {
    Plain,
    Violation,
    Recipient,
    Outcome,
    SignalSource,
}

pub struct CountRow {
    pub label: String,
    pub count: u64,
}

pub struct CountTable {
    pub id: &'static str,
    pub title: &'static str,
    pub rows: Vec<CountRow>,
    pub more: usize,
}

fn table(
    id: &'static str,
    title: &'static str,
    counts: &[Count],
    section: Section,
    ct: &CaseTexts,
    lang: Lang,
) -> CountTable {
    CountTable {
        id,
        title,
        rows: counts
            .iter()
            .take(MAX_ROWS)
            .map(|c| CountRow {
                label: label(section, &c.key, ct, lang),
                count: c.count,
            })
            .collect(),
        more: counts.len().saturating_sub(MAX_ROWS),
    }
}

pub struct ShareRow {
    pub group: String,
    pub cases: u64,
    pub decided: u64,
    pub unfounded: u64,
    pub not_provable: u64,
    pub share: String,
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn shares(list: &[UnfoundedShare], ct: &CaseTexts) -> Vec<ShareRow> {
    list.iter()
        .take(MAX_ROWS)
        .map(|u| ShareRow {
            group: if u.group == UNREGISTERED {
                ct.unregistered.to_owned()
            } else {
                u.group.clone()
            },
            cases: u.cases,
            decided: u.decided,
            unfounded: u.unfounded,
            not_provable: u.not_provable,
            share: share(u.share_unfounded),
        })
        .collect()
}

pub struct ShareTable {
    pub title: &'static str,
    pub id: &'static str,
    pub rows: Vec<ShareRow>,
}

pub struct PlaceRow {
    pub unit: String,
    pub system: String,
    pub cases: u64,
    pub alerts: u64,
    pub per_employee: String,
}

pub struct RateRow {
    pub unit: String,
    pub employees: u64,
    pub alerts: u64,
    pub cases: u64,
    pub per_employee: String,
    pub explained: String,
    pub precision: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart as SVG: one bar per row, its label on the left and its count at the
/// bar's end, so that nothing depends on colour. `id` names the description element.
pub fn bar_chart(id: &str, title: &str, description: &str, rows: &[CountRow]) -> String {
    let rows = &rows[..rows.len().min(20)];
    let max = rows.iter().map(|r| r.count).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h, top) = (220u64, 300u64, 22u64, 8u64);
    let width = label_w + bar_w + 70;
    let height = top * 2 + row_h * rows.len().max(1) as u64;
    let title = escape(title);
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{title}" aria-describedby="{id}-desc" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title><desc id="{id}-desc">{}</desc>"#,
        escape(description)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as u64 * row_h;
        let w = (bar_w * r.count / max).max(1);
        let mut text: String = r.label.chars().take(34).collect();
        if r.label.chars().count() > 34 {
            text.push('…');
        }
        svg.push_str(&format!(
            r##"<text x="0" y="{}" font-size="11" fill="#1a1a1a">{}</text><rect x="{label_w}" y="{}" width="{w}" height="{}" fill="#0b4f8a" stroke="#1a1a1a"/><text x="{}" y="{}" font-size="11" fill="#1a1a1a">{}</text>"##,
            y + 15,
            escape(&text),
            y + 3,
            row_h - 6,
            label_w + w + 6,
            y + 15,
            r.count
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportPage {
    page: Page,
    ct: &'static CaseTexts,
    total: u64,
    disclosure: String,
    years_chart: String,
    violations_chart: String,
    years: CountTable,
    violations: CountTable,
    tables: Vec<CountTable>,
    trend: Vec<lekdicht_cases::YearTrend>,
    overall: ShareRow,
    share_tables: Vec<ShareTable>,
    places: Vec<PlaceRow>,
    rates: Vec<RateRow>,
}

async fn report_page(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let report = load(&state, &user).await?;
    state
        .audit
        .record(audit_entry(
            &user,
            "report_view",
            "report:cases",
            serde_json::json!({ "cases": report.total }),
        ))
        .await?;
    let ct = case_texts(lang);
    let years = table(
        "by-year",
        ct.by_year,
        &report.by_year,
        Section::Plain,
        ct,
        lang,
    );
    let violations = table(
        "by-violation",
        ct.by_violation,
        &report.by_violation,
        Section::Violation,
        ct,
        lang,
    );
    let tables = vec![
        table(
            "by-unit",
            ct.by_unit,
            &report.by_unit,
            Section::Plain,
            ct,
            lang,
        ),
        table(
            "by-function",
            ct.by_function,
            &report.by_function,
            Section::Plain,
            ct,
            lang,
        ),
        table(
            "by-recipient",
            ct.by_recipient,
            &report.by_recipient,
            Section::Recipient,
            ct,
            lang,
        ),
        table(
            "by-outcome",
            ct.by_outcome,
            &report.by_outcome,
            Section::Outcome,
            ct,
            lang,
        ),
        table(
            "by-signal-source",
            ct.by_signal_source,
            &report.by_signal_source,
            Section::SignalSource,
            ct,
            lang,
        ),
    ];
    let overall = shares(std::slice::from_ref(&report.unfounded), ct)
        .pop()
        .map(|mut r| {
            r.group = ct.unfounded_overall.to_owned();
            r
        })
        .ok_or_else(|| AppError::internal("empty share list"))?;
    render(&ReportPage {
        page: Page::new(lang, ct.reports_title, Some(&user)),
        ct,
        total: report.total,
        disclosure: report.disclosure.sentence(lang),
        years_chart: bar_chart(
            "chart-years",
            ct.chart_years,
            ct.chart_years_desc,
            &years.rows,
        ),
        violations_chart: bar_chart(
            "chart-violations",
            ct.chart_violations,
            ct.chart_violations_desc,
            &violations.rows,
        ),
        years,
        violations,
        tables,
        trend: report.trend.clone(),
        overall,
        share_tables: vec![
            ShareTable {
                title: ct.unfounded_by_unit,
                id: "report-unfounded-unit",
                rows: shares(&report.unfounded_by_unit, ct),
            },
            ShareTable {
                title: ct.unfounded_by_function,
                id: "report-unfounded-function",
                rows: shares(&report.unfounded_by_function, ct),
            },
        ],
        places: report
            .vulnerable_places
            .iter()
            .take(MAX_ROWS)
            .map(|p| PlaceRow {
                unit: p.unit.clone(),
                system: p.system.clone(),
                cases: p.cases,
                alerts: p.alerts,
                per_employee: p
                    .alerts_per_employee
                    .map_or_else(|| "–".to_owned(), |v| format!("{v:.2}")),
            })
            .collect(),
        rates: report
            .unit_rates
            .iter()
            .take(MAX_ROWS)
            .map(|u| RateRow {
                unit: u.unit.clone(),
                employees: u.employees,
                alerts: u.alerts,
                cases: u.cases,
                per_employee: u
                    .alerts_per_employee
                    .map_or_else(|| "–".to_owned(), |v| format!("{v:.2}")),
                explained: share(u.explained_share),
                precision: share(u.precision),
            })
            .collect(),
    })
}

async fn report_csv(State(state): St, user: CurrentUser) -> Result<Response, AppError> {
    let report = load(&state, &user).await?;
    let bytes = report
        .to_csv()
        .map_err(|e| AppError::internal(e.to_string()))?;
    state
        .audit
        .record(audit_entry(
            &user,
            "report_csv",
            "report:cases",
            serde_json::json!({ "cases": report.total }),
        ))
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lekdicht-case-report.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn report_pdf(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let report = load(&state, &user).await?;
    state
        .audit
        .record(audit_entry(
            &user,
            "report_pdf",
            "report:cases",
            serde_json::json!({ "cases": report.total }),
        ))
        .await?;
    let bytes = pdf(&report, &user.organisation, lang);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lekdicht-case-report.pdf\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The report as lines of text: (text, is a heading).
pub fn report_lines(report: &Report, organisation: &str, lang: Lang) -> Vec<(String, bool)> {
    let ct = case_texts(lang);
    let mut lines = vec![
        (format!("{} – {organisation}", ct.reports_title), true),
        (
            format!(
                "{} {}",
                ct.generated,
                Utc::now().format("%Y-%m-%d %H:%M UTC")
            ),
            false,
        ),
        (String::new(), false),
        (format!("{}: {}", ct.total_cases, report.total), false),
        (report.disclosure.sentence(lang), false),
        (
            format!(
                "{}: {} / {} {} ({})",
                ct.unfounded_overall,
                report.unfounded.unfounded,
                report.unfounded.decided,
                ct.decided.to_lowercase(),
                share(report.unfounded.share_unfounded)
            ),
            false,
        ),
    ];
    for (title, counts, section) in [
        (ct.by_year, &report.by_year, Section::Plain),
        (ct.by_unit, &report.by_unit, Section::Plain),
        (ct.by_function, &report.by_function, Section::Plain),
        (ct.by_violation, &report.by_violation, Section::Violation),
        (ct.by_recipient, &report.by_recipient, Section::Recipient),
        (ct.by_outcome, &report.by_outcome, Section::Outcome),
        (
            ct.by_signal_source,
            &report.by_signal_source,
            Section::SignalSource,
        ),
    ] {
        lines.push((String::new(), false));
        lines.push((title.to_owned(), true));
        for c in counts.iter().take(MAX_ROWS) {
            lines.push((
                format!("{:>8}   {}", c.count, label(section, &c.key, ct, lang)),
                false,
            ));
        }
        if counts.len() > MAX_ROWS {
            lines.push((
                format!("({} {})", counts.len() - MAX_ROWS, ct.more_rows),
                false,
            ));
        }
    }
    for (title, list) in [
        (ct.unfounded_by_unit, &report.unfounded_by_unit),
        (ct.unfounded_by_function, &report.unfounded_by_function),
    ] {
        lines.push((String::new(), false));
        lines.push((title.to_owned(), true));
        for u in shares(list, ct) {
            lines.push((
                format!(
                    "{:>8} / {:<8} {:>7}   {} {}   {}",
                    u.unfounded,
                    u.decided,
                    u.share,
                    u.cases,
                    ct.cases.to_lowercase(),
                    u.group
                ),
                false,
            ));
        }
    }
    lines.push((String::new(), false));
    lines.push((ct.vulnerable_places.to_owned(), true));
    for p in report.vulnerable_places.iter().take(MAX_ROWS) {
        lines.push((
            format!(
                "{:>8} {} {:>6} {}   {} × {}",
                p.cases, ct.cases, p.alerts, ct.alerts, p.unit, p.system
            ),
            false,
        ));
    }
    lines
}

/// Text in the WinAnsi encoding of the standard fonts (characters it lacks become `?`).
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '–' => 0x96,
            '—' => 0x97,
            '…' => 0x85,
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            _ => b'?',
        })
        .collect()
}

/// The report as a PDF: A4 pages of text lines in Helvetica, uncompressed.
pub fn pdf(report: &Report, organisation: &str, lang: Lang) -> Vec<u8> {
    let lines = report_lines(report, organisation, lang);
    const PER_PAGE: usize = 60;
    let pages: Vec<&[(String, bool)]> = lines.chunks(PER_PAGE).collect();
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let font_id = Ref::new(3);
    let bold_id = Ref::new(4);
    let info_id = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first + 2 * i as i32))
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    pdf.type1_font(font_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info_id)
        .title(TextStr(case_texts(lang).reports_title));
    for (i, chunk) in pages.iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
        page.parent(tree_id);
        page.contents(content_id);
        {
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(Name(b"F1"), font_id);
            fonts.pair(Name(b"F2"), bold_id);
        }
        page.finish();
        let mut content = Content::new();
        for (n, (text, heading)) in chunk.iter().enumerate() {
            if text.is_empty() {
                continue;
            }
            let y = 800.0 - 12.5 * n as f32;
            content.begin_text();
            content.set_font(
                if *heading { Name(b"F2") } else { Name(b"F1") },
                if *heading { 11.0 } else { 9.5 },
            );
            content.next_line(40.0, y);
            content.show(Str(&win_ansi(text)));
            content.end_text();
        }
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(report_page))
        .route("/reports.csv", get(report_csv))
        .route("/reports.pdf", get(report_pdf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_holds_the_disclosure_sentence_as_text() {
        let cases = lekdicht_cases::generate::historic_cases(300, 7);
        let report = lekdicht_cases::report_of_cases(&cases, &[]);
        let bytes = pdf(&report, "politie", Lang::En);
        assert!(bytes.starts_with(b"%PDF"));
        let sentence = report.disclosure.sentence(lekdicht_cases::Lang::En);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(&sentence), "{sentence}");
    }

    #[test]
    fn win_ansi_maps_dutch_and_typographic_characters() {
        assert_eq!(win_ansi("é – ×"), vec![0xe9, b' ', 0x96, b' ', 0xd7]);
        assert_eq!(win_ansi("Ω"), b"?");
    }

    #[test]
    fn bar_chart_is_labelled_and_escaped() {
        let svg = bar_chart(
            "c",
            "A & B",
            "desc",
            &[
                CountRow {
                    label: "<x>".into(),
                    count: 3,
                },
                CountRow {
                    label: "y".into(),
                    count: 0,
                },
            ],
        );
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title>A &amp; B</title>"));
        assert!(svg.contains("&lt;x&gt;"));
        assert_eq!(svg.matches("<rect").count(), 2);
    }
}
