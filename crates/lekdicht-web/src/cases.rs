//! The integrity-case pages: the organisation's case list (`/cases`, filtered by status and year),
//! registering a case (`/cases/new`), the case page (`/cases/{id}`: all facts in plain words, the
//! lifecycle history, the linked alerts and accesses, the data-breach duties) and the two changes
//! on it (`/cases/{id}/edit` for the facts, `/cases/{id}/status` for a lifecycle move).
//!
//! The case model, its validation, the lifecycle and the breach texts are `lekdicht-cases`; this
//! module parses forms, converts stored rows to cases and back, checks permissions and the
//! organisation (another organisation's case is "not found"), writes the audit trail and renders.
//! A rejected change saves nothing and shows the form again with the messages beside the fields.
//! Case ids are the registry's own (`CASE-<year>-<number>`), not personal data, so they address
//! the pages directly. The employee concerned appears only as a pseudonym.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use lekdicht_cases::{
    Case, CaseStatus, ContactPoint, InformationKind, InformationUse, Initiative, InvestigationStep,
    Letter, MeasureKind, Outcome, OutcomeKind, Recipient, RetentionPolicies, SignalSource,
    SubjectAccess, ViolationType, Vocabulary,
};
use lekdicht_review::{Lang, Permission};
use lekdicht_store::{
    CaseFactsRow, CaseHistoryRow, CaseRow, CaseStore, EvidenceKind, EvidenceRow, SqliteStore,
    Store, StoredEvent,
};
use serde::Deserialize;

use crate::alerts::alert_key;
use crate::auth::CurrentUser;
use crate::case_ops::{self, Checked};
use crate::cases_i18n::{CaseTexts, case_texts, validation_message};
use crate::error::AppError;
use crate::view::{Page, audit_entry};
use crate::{AppState, St};

/// Most cases the list shows (the newest matching ones).
pub const MAX_LIST: usize = 500;

/// Most linked accesses looked up for one case page.
const MAX_EVIDENCE_EVENTS: usize = 500;

/// The case of a stored row; its evidence rows give its alerts and events.
pub fn case_of(row: &CaseRow, evidence: &[EvidenceRow]) -> Result<Case, AppError> {
    let mut case: Case = serde_json::from_str(&row.record)
        .map_err(|e| AppError::internal(format!("stored case {}: {e}", row.id)))?;
    case.id.clone_from(&row.id);
    if !evidence.is_empty() {
        case.alerts = evidence
            .iter()
            .filter(|e| e.kind == EvidenceKind::Alert)
            .map(|e| e.reference.clone())
            .collect();
        case.events = evidence.iter().filter_map(|e| e.event_seq).collect();
    }
    Ok(case)
}

/// The record to store for a case: evidence lives in its own rows, not in the record.
pub(crate) fn record_of(case: &Case) -> Result<String, AppError> {
    let mut stored = case.clone();
    stored.alerts.clear();
    stored.events.clear();
    serde_json::to_string(&stored).map_err(|e| AppError::internal(e.to_string()))
}

/// The stored row of an existing case after a change.
pub(crate) fn row_of(
    old: &CaseRow,
    case: &Case,
    policies: &RetentionPolicies,
) -> Result<CaseRow, AppError> {
    Ok(CaseRow {
        status: case.status.as_str().to_owned(),
        signal_date: case.signal_date.to_string(),
        closure_date: case.closure_date.map(|d| d.to_string()),
        retention_until: lekdicht_cases::retention_until(case, policies).map(|d| d.to_string()),
        record: record_of(case)?,
        ..old.clone()
    })
}

/// One case of the user's organisation, or `NotFound`.
pub(crate) fn org_case(
    store: &SqliteStore,
    organisation: &str,
    id: &str,
) -> Result<CaseRow, AppError> {
    store
        .case(id)?
        .filter(|row| row.organisation == organisation)
        .ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Forms

/// A urlencoded body as its pairs, repeated keys kept (checkbox groups).
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`, trimmed (empty when absent).
    pub fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Every non-empty value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
}

/// The values of the case form as typed, for showing it again.
#[derive(Debug, Clone, Default)]
pub struct CaseForm {
    pub summary: String,
    pub signal_source: String,
    pub signal_date: String,
    pub start_date: String,
    pub closure_date: String,
    pub violation: String,
    pub information: Vec<String>,
    pub systems: String,
    pub suspect_function: String,
    pub suspect_unit: String,
    pub years_of_service: String,
    pub recipient: String,
    pub initiative: String,
    pub use_of_information: String,
    pub damage_investigation: bool,
    pub damage_persons: bool,
    pub damage_description: String,
    pub steps: Vec<String>,
    pub outcome: String,
    pub measure: String,
}

impl CaseForm {
    pub fn from_data(d: &FormData) -> CaseForm {
        CaseForm {
            summary: d.get("summary"),
            signal_source: d.get("signal_source"),
            signal_date: d.get("signal_date"),
            start_date: d.get("start_date"),
            closure_date: d.get("closure_date"),
            violation: d.get("violation"),
            information: d.all("information"),
            systems: d.get("systems"),
            suspect_function: d.get("suspect_function"),
            suspect_unit: d.get("suspect_unit"),
            years_of_service: d.get("years_of_service"),
            recipient: d.get("recipient"),
            initiative: d.get("initiative"),
            use_of_information: d.get("use"),
            damage_investigation: !d.get("damage_investigation").is_empty(),
            damage_persons: !d.get("damage_persons").is_empty(),
            damage_description: d.get("damage_description"),
            steps: d.all("steps"),
            outcome: d.get("outcome"),
            measure: d.get("measure"),
        }
    }

    pub fn from_case(c: &Case) -> CaseForm {
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        CaseForm {
            summary: c.summary.clone(),
            signal_source: c.signal_source.as_str().to_owned(),
            signal_date: c.signal_date.to_string(),
            start_date: date(c.start_date),
            closure_date: date(c.closure_date),
            violation: c
                .violation
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default(),
            information: c
                .information
                .iter()
                .map(|i| i.as_str().to_owned())
                .collect(),
            systems: c.systems.join(", "),
            suspect_function: c.suspect.function.clone().unwrap_or_default(),
            suspect_unit: c.suspect.unit.clone().unwrap_or_default(),
            years_of_service: c
                .suspect
                .years_of_service
                .map(|y| y.to_string())
                .unwrap_or_default(),
            recipient: c
                .recipient
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default(),
            initiative: c
                .initiative
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default(),
            use_of_information: c
                .use_of_information
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default(),
            damage_investigation: c.damage.investigation,
            damage_persons: c.damage.persons,
            damage_description: c.damage.description.clone(),
            steps: c.steps.iter().map(|s| s.as_str().to_owned()).collect(),
            outcome: c
                .outcome
                .map(|o| o.kind.as_str().to_owned())
                .unwrap_or_default(),
            measure: c
                .outcome
                .and_then(|o| o.measure)
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    /// Writes the form's values into `case`; returns the values that could not be read.
    pub(crate) fn apply(&self, case: &mut Case, t: &CaseTexts) -> Vec<FieldMessage> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: &str| {
            errors.push(FieldMessage {
                field: field.to_owned(),
                message: message.to_owned(),
            });
        };
        let date = |field: &str, value: &str, fail: &mut dyn FnMut(&str, &str)| {
            if value.is_empty() {
                return None;
            }
            let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
            if parsed.is_none() {
                fail(field, t.bad_date);
            }
            parsed
        };
        match SignalSource::parse(&self.signal_source) {
            Some(s) => case.signal_source = s,
            None => fail("signal_source", t.required),
        }
        if self.signal_date.is_empty() {
            fail("signal_date", t.required);
        } else if let Some(d) = date("signal_date", &self.signal_date, &mut fail) {
            case.signal_date = d;
        }
        case.start_date = date("start_date", &self.start_date, &mut fail);
        case.closure_date = date("closure_date", &self.closure_date, &mut fail);
        case.summary = self.summary.clone();
        case.violation = choice(
            "violation",
            &self.violation,
            ViolationType::parse,
            &mut fail,
            t,
        );
        case.information = self
            .information
            .iter()
            .filter_map(|v| {
                let parsed = InformationKind::parse(v);
                if parsed.is_none() {
                    fail("information", t.bad_choice);
                }
                parsed
            })
            .collect();
        case.systems = if self.systems.is_empty() {
            Vec::new()
        } else {
            self.systems
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect()
        };
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        case.suspect.function = text(&self.suspect_function);
        case.suspect.unit = text(&self.suspect_unit);
        case.suspect.years_of_service = if self.years_of_service.is_empty() {
            None
        } else {
            let parsed = self.years_of_service.parse::<u32>().ok();
            if parsed.is_none() {
                fail("years_of_service", t.bad_number);
            }
            parsed
        };
        case.recipient = choice("recipient", &self.recipient, Recipient::parse, &mut fail, t);
        case.initiative = choice(
            "initiative",
            &self.initiative,
            Initiative::parse,
            &mut fail,
            t,
        );
        case.use_of_information = choice(
            "use",
            &self.use_of_information,
            InformationUse::parse,
            &mut fail,
            t,
        );
        case.damage.investigation = self.damage_investigation;
        case.damage.persons = self.damage_persons;
        case.damage.description = self.damage_description.clone();
        case.steps = self
            .steps
            .iter()
            .filter_map(|v| {
                let parsed = InvestigationStep::parse(v);
                if parsed.is_none() {
                    fail("steps", t.bad_choice);
                }
                parsed
            })
            .collect();
        let kind = choice("outcome", &self.outcome, OutcomeKind::parse, &mut fail, t);
        let measure = choice(
            "outcome.measure",
            &self.measure,
            MeasureKind::parse,
            &mut fail,
            t,
        );
        case.outcome = kind.map(|kind| Outcome { kind, measure });
        if kind.is_none() && measure.is_some() {
            fail("outcome.measure", t.bad_choice);
        }
        errors
    }
}

fn choice<T>(
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    fail: &mut dyn FnMut(&str, &str),
    t: &CaseTexts,
) -> Option<T> {
    if value.is_empty() {
        return None;
    }
    let parsed = parse(value);
    if parsed.is_none() {
        fail(field, t.bad_choice);
    }
    parsed
}

/// A message shown beside a form field.
#[derive(Debug, Clone)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

/// One option of a select or checkbox group.
pub struct Opt {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn opts<T: Vocabulary>(lang: Lang, chosen: &[String]) -> Vec<Opt> {
    T::ALL
        .iter()
        .map(|&v| Opt {
            value: v.code(),
            label: v.label(lang),
            selected: chosen.iter().any(|c| c == v.code()),
        })
        .collect()
}

/// The case form as the template shows it.
pub struct FormView {
    pub action: String,
    pub button: &'static str,
    pub values: CaseForm,
    pub signal_sources: Vec<Opt>,
    pub violations: Vec<Opt>,
    pub information: Vec<Opt>,
    pub recipients: Vec<Opt>,
    pub initiatives: Vec<Opt>,
    pub uses: Vec<Opt>,
    pub steps: Vec<Opt>,
    pub outcomes: Vec<Opt>,
    pub measures: Vec<Opt>,
    pub errors: Vec<FieldMessage>,
}

impl FormView {
    pub fn new(
        lang: Lang,
        action: String,
        button: &'static str,
        values: CaseForm,
        errors: Vec<FieldMessage>,
    ) -> FormView {
        let l = lang;
        let one = |v: &str| vec![v.to_owned()];
        FormView {
            action,
            button,
            signal_sources: opts::<SignalSource>(l, &one(&values.signal_source)),
            violations: opts::<ViolationType>(l, &one(&values.violation)),
            information: opts::<InformationKind>(l, &values.information),
            recipients: opts::<Recipient>(l, &one(&values.recipient)),
            initiatives: opts::<Initiative>(l, &one(&values.initiative)),
            uses: opts::<InformationUse>(l, &one(&values.use_of_information)),
            steps: opts::<InvestigationStep>(l, &values.steps),
            outcomes: opts::<OutcomeKind>(l, &one(&values.outcome)),
            measures: opts::<MeasureKind>(l, &one(&values.measure)),
            values,
            errors: errors
                .into_iter()
                .map(|e| FieldMessage {
                    message: validation_message(&e.message, lang),
                    field: e.field,
                })
                .collect(),
        }
    }

    /// The messages of `field`, joined (empty when none).
    pub fn error(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub(crate) fn validation(case: &Case) -> Vec<FieldMessage> {
    lekdicht_cases::validate(case)
        .into_iter()
        .map(|e| FieldMessage {
            field: e.field.to_owned(),
            message: e.message,
        })
        .collect()
}

/// Top-level record fields that differ between two versions of a case (for the audit trail).
pub(crate) fn changed_fields(before: &Case, after: &Case) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// List

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub year: Option<String>,
}

pub struct ListRow {
    pub id: String,
    pub status: String,
    pub status_label: &'static str,
    pub signal_date: String,
    pub violation: String,
    pub unit: String,
    pub outcome: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    page: Page,
    ct: &'static CaseTexts,
    rows: Vec<ListRow>,
    matching: usize,
    statuses: Vec<Choice>,
    years: Vec<Choice>,
    can_work: bool,
}

async fn list(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    user.require(Permission::ViewCases)?;
    let ct = case_texts(lang);
    let l = lang;
    let status = q
        .status
        .as_deref()
        .and_then(CaseStatus::parse)
        .map(|s| s.as_str().to_owned());
    let year: Option<i32> = q.year.as_deref().and_then(|y| y.parse().ok());
    let org = user.organisation.clone();
    // The list shows stored columns and report facts only: no whole record is read.
    let mut rows = state
        .pool
        .run(move |s| Ok(s.case_facts(Some(&org))?))
        .await?;
    rows.sort_unstable_by(|a, b| (&a.signal_date, &a.id).cmp(&(&b.signal_date, &b.id)));
    state
        .audit
        .record(audit_entry(
            &user,
            "case_list",
            "cases",
            serde_json::json!({ "status": status, "year": year }),
        ))
        .await?;
    let year_of = |row: &CaseFactsRow| row.signal_date.get(..4).and_then(|y| y.parse::<i32>().ok());
    let years: BTreeSet<i32> = rows.iter().filter_map(year_of).collect();
    let matching_rows: Vec<&CaseFactsRow> = rows
        .iter()
        .filter(|row| {
            status.as_deref().is_none_or(|s| s == row.status)
                && year.is_none_or(|y| year_of(row) == Some(y))
        })
        .collect();
    let matching = matching_rows.len();
    let mut out = Vec::new();
    // Newest first.
    for row in matching_rows.into_iter().rev().take(MAX_LIST) {
        fn label<T: Vocabulary>(code: &Option<String>, lang: Lang) -> String {
            code.as_deref().map_or("–".to_owned(), |c| {
                T::from_code(c).map_or(c, |v| v.label(lang)).to_owned()
            })
        }
        out.push(ListRow {
            id: row.id.clone(),
            status: row.status.clone(),
            status_label: CaseStatus::parse(&row.status).map_or("–", |s| s.label(l)),
            signal_date: row.signal_date.clone(),
            violation: label::<ViolationType>(&row.violation, l),
            unit: row.unit.clone().unwrap_or_else(|| "–".to_owned()),
            outcome: label::<OutcomeKind>(&row.outcome, l),
        });
    }
    crate::view::render(&ListPage {
        page: Page::new(lang, ct.cases_title, Some(&user)),
        ct,
        rows: out,
        matching,
        statuses: CaseStatus::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: s.label(l).to_owned(),
                selected: status.as_deref() == Some(s.as_str()),
            })
            .collect(),
        years: years
            .into_iter()
            .rev()
            .map(|y| Choice {
                value: y.to_string(),
                label: y.to_string(),
                selected: year == Some(y),
            })
            .collect(),
        can_work: user.can(Permission::WorkCases),
    })
}

// ---------------------------------------------------------------------------------------------
// New case

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewPage {
    page: Page,
    ct: &'static CaseTexts,
    form: FormView,
}

fn render_status(status: StatusCode, template: &impl Template) -> Result<Response, AppError> {
    Ok((status, Html(template.render()?)).into_response())
}

async fn new_form(
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    user.require(Permission::WorkCases)?;
    let ct = case_texts(lang);
    let values = CaseForm {
        signal_date: Utc::now().date_naive().to_string(),
        ..CaseForm::default()
    };
    crate::view::render(&NewPage {
        page: Page::new(lang, ct.new_case, Some(&user)),
        ct,
        form: FormView::new(
            lang,
            "/cases/new".into(),
            ct.create_button,
            values,
            Vec::new(),
        ),
    })
}

async fn create(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    body: Bytes,
) -> Result<Response, AppError> {
    user.require(Permission::WorkCases)?;
    let ct = case_texts(lang);
    let form = CaseForm::from_data(&FormData::parse(&body));
    let mut case = Case::new(
        &user.organisation,
        SignalSource::Colleague,
        Utc::now().date_naive(),
    );
    let mut errors = form.apply(&mut case, ct);
    if errors.is_empty() {
        match case_ops::create_case(&state, &user, case).await? {
            Checked::Done(id) => return Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
            Checked::Rejected(rejected) => errors = rejected,
        }
    } else {
        errors.extend(validation(&case));
    }
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &NewPage {
            page: Page::new(lang, ct.new_case, Some(&user)),
            ct,
            form: FormView::new(lang, "/cases/new".into(), ct.create_button, form, errors),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Case page

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

pub struct HistoryView {
    pub at: String,
    pub from: String,
    pub to: String,
    pub by: String,
    pub note: String,
}

pub struct AlertEvidence {
    pub key: String,
    pub added_by: String,
    pub added_at: String,
}

pub struct EventEvidence {
    pub seq: u64,
    pub event_id: String,
    pub time: String,
    pub system: String,
    pub subject: String,
    pub added_by: String,
    pub added_at: String,
}

pub struct SubjectRow {
    pub pseudonym: String,
    pub accesses: u64,
    pub systems: String,
    pub first: String,
    pub last: String,
}

pub struct BreachView {
    pub established_at: String,
    pub deadline: String,
    pub overdue: bool,
    /// When the notification to the authority was sent, and whether in time.
    pub authority_sent: Option<String>,
    /// When the letters to the data subjects were sent.
    pub subjects_sent: Option<String>,
    /// Now, as the default of the "sent at" fields (`YYYY-MM-DDTHH:MM`, UTC).
    pub now_input: String,
    pub subjects: Vec<SubjectRow>,
    pub notification: String,
    pub letters: Vec<Letter>,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    page: Page,
    ct: &'static CaseTexts,
    id: String,
    status: String,
    status_label: &'static str,
    summary: String,
    facts: Vec<Fact>,
    history: Vec<HistoryView>,
    alerts: Vec<AlertEvidence>,
    events: Vec<EventEvidence>,
    breach: Option<BreachView>,
    breach_pending: bool,
    can_work: bool,
    /// Whether linked accesses have downloadable inclusion proofs.
    proofs: bool,
    evidence_errors: Vec<String>,
    sent_errors: Vec<String>,
    form: FormView,
    moves: Vec<Opt>,
    status_errors: Vec<String>,
}

pub(crate) struct CaseData {
    pub row: CaseRow,
    pub case: Case,
    pub history: Vec<CaseHistoryRow>,
    pub evidence: Vec<EvidenceRow>,
    pub events: HashMap<u64, StoredEvent>,
}

pub(crate) fn load_case(
    store: &SqliteStore,
    organisation: &str,
    id: &str,
) -> Result<CaseData, AppError> {
    let row = org_case(store, organisation, id)?;
    let evidence = store.case_evidence(id)?;
    let history = store.case_history(id)?;
    let case = case_of(&row, &evidence)?;
    let mut events = HashMap::new();
    for seq in evidence
        .iter()
        .filter_map(|e| e.event_seq)
        .take(MAX_EVIDENCE_EVENTS)
    {
        store.for_each_event_by_seq(seq, seq + 1, &mut |e| {
            events.insert(seq, e);
            Ok(())
        })?;
    }
    Ok(CaseData {
        row,
        case,
        history,
        evidence,
        events,
    })
}

/// What to show again after a rejected change.
#[derive(Default)]
struct Rejected {
    form: Option<(CaseForm, Vec<FieldMessage>)>,
    status_errors: Vec<String>,
    evidence_errors: Vec<String>,
    sent_errors: Vec<String>,
}

/// Where the messages of a rejected change show on the case page.
#[derive(Debug, Clone, Copy)]
enum Section {
    Status,
    Evidence,
    Sent,
}

impl Rejected {
    fn in_section(section: Section, errors: Vec<String>) -> Rejected {
        let mut rejected = Rejected::default();
        match section {
            Section::Status => rejected.status_errors = errors,
            Section::Evidence => rejected.evidence_errors = errors,
            Section::Sent => rejected.sent_errors = errors,
        }
        rejected
    }

    fn is_empty(&self) -> bool {
        self.form.is_none()
            && self.status_errors.is_empty()
            && self.evidence_errors.is_empty()
            && self.sent_errors.is_empty()
    }
}

fn stamp(s: &str) -> String {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| s.to_owned())
}

async fn case_page(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    show_case(&state, lang, &user, id, Rejected::default()).await
}

async fn show_case(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    id: String,
    rejected: Rejected,
) -> Result<Response, AppError> {
    user.require(Permission::ViewCases)?;
    let ct = case_texts(lang);
    let l = lang;
    let org = user.organisation.clone();
    let data = state.pool.run(move |s| load_case(s, &org, &id)).await?;
    state
        .audit
        .record(audit_entry(
            user,
            "case_view",
            &format!("case:{}", data.row.id),
            serde_json::json!({ "case": data.row.id }),
        ))
        .await?;
    let c = &data.case;
    let ps = &state.pseudonyms;
    let org = &user.organisation;
    let none = || ct.not_registered.to_owned();
    let list = |items: Vec<&str>| {
        if items.is_empty() {
            none()
        } else {
            items.join(", ")
        }
    };
    let date = |d: Option<NaiveDate>| d.map_or_else(none, |d| d.to_string());
    let yes_no = |b: bool| if b { ct.yes } else { ct.no };
    let facts = vec![
        Fact {
            label: ct.signal_source,
            value: c.signal_source.label(l).to_owned(),
        },
        Fact {
            label: ct.signal_date,
            value: c.signal_date.to_string(),
        },
        Fact {
            label: ct.start_date,
            value: date(c.start_date),
        },
        Fact {
            label: ct.closure_date,
            value: date(c.closure_date),
        },
        Fact {
            label: ct.violation,
            value: c.violation.map_or_else(none, |v| v.label(l).to_owned()),
        },
        Fact {
            label: ct.information,
            value: list(c.information.iter().map(|i| i.label(l)).collect()),
        },
        Fact {
            label: ct.systems,
            value: list(c.systems.iter().map(String::as_str).collect()),
        },
        Fact {
            label: ct.employee,
            value: c
                .suspect
                .employee
                .as_deref()
                .map_or_else(none, |e| ps.employee(org, e)),
        },
        Fact {
            label: ct.function,
            value: c.suspect.function.clone().unwrap_or_else(none),
        },
        Fact {
            label: ct.unit,
            value: c.suspect.unit.clone().unwrap_or_else(none),
        },
        Fact {
            label: ct.years_of_service,
            value: c
                .suspect
                .years_of_service
                .map_or_else(none, |y| y.to_string()),
        },
        Fact {
            label: ct.recipient,
            value: c.recipient.map_or_else(none, |v| v.label(l).to_owned()),
        },
        Fact {
            label: ct.initiative,
            value: c.initiative.map_or_else(none, |v| v.label(l).to_owned()),
        },
        Fact {
            label: ct.use_of_information,
            value: c
                .use_of_information
                .map_or_else(none, |v| v.label(l).to_owned()),
        },
        Fact {
            label: ct.damage,
            value: format!(
                "{}: {}; {}: {}{}",
                ct.damage_investigation,
                yes_no(c.damage.investigation),
                ct.damage_persons,
                yes_no(c.damage.persons),
                if c.damage.description.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", c.damage.description)
                }
            ),
        },
        Fact {
            label: ct.steps,
            value: list(c.steps.iter().map(|s| s.label(l)).collect()),
        },
        Fact {
            label: ct.outcome,
            value: c.outcome.map_or_else(none, |o| match o.measure {
                Some(m) => format!("{} ({})", o.kind.label(l), m.label(l)),
                None => o.kind.label(l).to_owned(),
            }),
        },
        Fact {
            label: ct.established_at,
            value: c
                .established_at
                .map_or_else(none, |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        },
        Fact {
            label: ct.retention_until,
            value: data.row.retention_until.clone().unwrap_or_else(none),
        },
        Fact {
            label: ct.opened_by,
            value: c.opened_by.clone().unwrap_or_else(none),
        },
        Fact {
            label: ct.source_alert,
            value: c
                .source_alert
                .as_deref()
                .map_or_else(none, |a| alert_key(ps, org, a)),
        },
    ];
    let status_label = |code: &str| {
        CaseStatus::parse(code).map_or_else(|| code.to_owned(), |s| s.label(l).to_owned())
    };
    // Alert ids contain the employee's id: notes name alerts by their handle instead.
    let alert_ids: BTreeSet<&str> = data
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Alert)
        .map(|e| e.reference.as_str())
        .chain(c.source_alert.as_deref())
        .collect();
    let history = data
        .history
        .iter()
        .map(|h| HistoryView {
            at: stamp(&h.at),
            from: h
                .from_status
                .as_deref()
                .map_or_else(String::new, status_label),
            to: status_label(&h.to_status),
            by: h.by.clone(),
            note: alert_ids.iter().fold(h.note.clone(), |note, a| {
                note.replace(a, &alert_key(ps, org, a))
            }),
        })
        .collect();
    let alerts = data
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Alert)
        .map(|e| AlertEvidence {
            key: alert_key(ps, org, &e.reference),
            added_by: e.added_by.clone(),
            added_at: stamp(&e.added_at),
        })
        .collect();
    let mut events = Vec::new();
    let mut accesses = Vec::new();
    for e in data
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Event)
    {
        let Some(seq) = e.event_seq else { continue };
        let stored = data.events.get(&seq);
        let subject = stored
            .and_then(|s| s.event.subject.as_ref())
            .map(|s| ps.subject(org, s.as_str()));
        if let (Some(stored), Some(subject)) = (stored, &subject) {
            accesses.push(SubjectAccess {
                subject: subject.clone(),
                name: None,
                address: None,
                system: stored.event.system.clone(),
                at: stored.event.time.with_timezone(&Utc),
                event_seq: seq,
            });
        }
        events.push(EventEvidence {
            seq,
            event_id: stored.map_or_else(
                || ct.not_in_store.to_owned(),
                |s| s.event.id.as_str().to_owned(),
            ),
            time: stored.map_or_else(String::new, |s| {
                s.event.time.format("%Y-%m-%d %H:%M:%S").to_string()
            }),
            system: stored.map_or_else(String::new, |s| s.event.system.clone()),
            subject: subject.unwrap_or_else(|| "–".to_owned()),
            added_by: e.added_by.clone(),
            added_at: stamp(&e.added_at),
        });
    }
    let (breach, breach_pending) = breach_view(c, &data.history, &accesses, ct, lang);
    let status = if rejected.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (values, errors) = rejected
        .form
        .unwrap_or_else(|| (CaseForm::from_case(c), Vec::new()));
    let html = CasePage {
        page: Page::new(lang, &format!("{} {}", ct.case, data.row.id), Some(user)),
        ct,
        id: data.row.id.clone(),
        status: c.status.as_str().to_owned(),
        status_label: c.status.label(l),
        summary: c.summary.clone(),
        facts,
        history,
        alerts,
        events,
        breach,
        breach_pending,
        can_work: user.can(Permission::WorkCases),
        proofs: state.proofs.is_some(),
        evidence_errors: rejected.evidence_errors.clone(),
        sent_errors: rejected.sent_errors.clone(),
        form: FormView::new(
            lang,
            format!("/cases/{}/edit", data.row.id),
            ct.save_button,
            values,
            errors,
        ),
        moves: CaseStatus::ALL
            .iter()
            .filter(|s| c.status.can_move_to(**s))
            .map(|s| Opt {
                value: s.as_str(),
                label: s.label(l),
                selected: false,
            })
            .collect(),
        status_errors: rejected
            .status_errors
            .iter()
            .map(|m| validation_message(m, lang))
            .collect(),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// The data-breach section, when the case establishes unlawful access; the flag says the case
/// does but the moment it was established is unknown.
fn breach_view(
    case: &Case,
    history: &[CaseHistoryRow],
    accesses: &[SubjectAccess],
    ct: &CaseTexts,
    lang: Lang,
) -> (Option<BreachView>, bool) {
    if !lekdicht_cases::establishes_unlawful_access(case, accesses) {
        return (None, false);
    }
    let mut case = case.clone();
    if case.established_at.is_none() {
        case.established_at = history
            .iter()
            .rev()
            .find(|h| h.to_status == CaseStatus::Decided.as_str())
            .and_then(|h| DateTime::parse_from_rfc3339(&h.at).ok())
            .map(|t| t.with_timezone(&Utc));
    }
    let contact = ContactPoint {
        name: ct.contact_name.to_owned(),
        ..ContactPoint::default()
    };
    let Ok(n) = lekdicht_cases::notification(&case, accesses, &contact) else {
        return (None, true);
    };
    let l = lang;
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let view = BreachView {
        established_at: time(n.established_at),
        deadline: time(n.deadline),
        overdue: lekdicht_cases::is_overdue(
            n.established_at,
            case.authority_notified_at,
            Utc::now(),
        ),
        authority_sent: case.authority_notified_at.map(|t| {
            let within = t <= n.deadline;
            format!(
                "{} ({})",
                time(t),
                if within {
                    ct.sent_on_time
                } else {
                    ct.sent_late
                }
            )
        }),
        subjects_sent: case.subjects_informed_at.map(time),
        now_input: Utc::now().format("%Y-%m-%dT%H:%M").to_string(),
        subjects: n
            .subject_list
            .iter()
            .map(|s| SubjectRow {
                pseudonym: s.subject.clone(),
                accesses: s.accesses,
                systems: s.systems.join(", "),
                first: time(s.first),
                last: time(s.last),
            })
            .collect(),
        notification: n.text(l),
        letters: n.letters(l),
    };
    (Some(view), false)
}

// ---------------------------------------------------------------------------------------------
// Changes

async fn edit(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    user.require(Permission::WorkCases)?;
    let ct = case_texts(lang);
    let form = CaseForm::from_data(&FormData::parse(&body));
    let applied = form.clone();
    match case_ops::change_facts(&state, &user, &id, move |case| applied.apply(case, ct)).await? {
        Checked::Done(()) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Checked::Rejected(errors) => {
            let rejected = Rejected {
                form: Some((form, errors)),
                ..Rejected::default()
            };
            show_case(&state, lang, &user, id, rejected).await
        }
    }
}

/// Goes back to the case page (at `anchor`) after a change, or shows it again with the messages.
async fn after_change<T>(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    id: String,
    (section, anchor): (Section, &str),
    checked: Checked<T>,
) -> Result<Response, AppError> {
    match checked {
        Checked::Done(_) => Ok(Redirect::to(&format!("/cases/{id}{anchor}")).into_response()),
        Checked::Rejected(errors) => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            show_case(
                state,
                lang,
                user,
                id,
                Rejected::in_section(section, messages),
            )
            .await
        }
    }
}

async fn change_status(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    user.require(Permission::WorkCases)?;
    let ct = case_texts(lang);
    let data = FormData::parse(&body);
    let Some(to) = CaseStatus::parse(&data.get("to")) else {
        let errors = vec![format!("{}: {}", ct.new_status, ct.bad_choice)];
        let rejected = Rejected::in_section(Section::Status, errors);
        return show_case(&state, lang, &user, id, rejected).await;
    };
    let checked = case_ops::move_case(&state, &user, &id, to, &data.get("note")).await?;
    after_change(&state, lang, &user, id, (Section::Status, ""), checked).await
}

async fn link_evidence(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    user.require(Permission::WorkCases)?;
    let ct = case_texts(lang);
    let data = FormData::parse(&body);
    let reference = data.get("reference");
    let what = match data.get("kind").as_str() {
        "alert" => case_ops::EvidenceRef::Alert(&reference),
        "event" => case_ops::EvidenceRef::Event(&reference),
        _ => {
            let errors = vec![ct.evidence_bad_kind.to_owned()];
            let rejected = Rejected::in_section(Section::Evidence, errors);
            return show_case(&state, lang, &user, id, rejected).await;
        }
    };
    let checked = case_ops::link_evidence(&state, &user, &id, what, &data.get("note"), ct).await?;
    let place = (Section::Evidence, "#case-evidence");
    after_change(&state, lang, &user, id, place, checked).await
}

/// The value of a `datetime-local` field (`YYYY-MM-DDTHH:MM`, seconds optional), read as UTC.
fn parse_utc_minute(text: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
}

async fn record_sent(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    user.require(Permission::WorkCases)?;
    let ct = case_texts(lang);
    let data = FormData::parse(&body);
    let what = case_ops::Sent::parse(&data.get("what"));
    let at = parse_utc_minute(&data.get("at"));
    let (Some(what), Some(at)) = (what, at) else {
        let message = if what.is_none() {
            ct.bad_choice
        } else {
            ct.sent_bad_time
        };
        let rejected = Rejected::in_section(Section::Sent, vec![message.to_owned()]);
        return show_case(&state, lang, &user, id, rejected).await;
    };
    let checked = case_ops::record_sent(&state, &user, &id, what, at, ct).await?;
    after_change(
        &state,
        lang,
        &user,
        id,
        (Section::Sent, "#case-breach"),
        checked,
    )
    .await
}

async fn evidence_proof(
    State(state): St,
    user: CurrentUser,
    Path((id, seq)): Path<(String, u64)>,
) -> Result<Response, AppError> {
    let proof = case_ops::evidence_proof(&state, &user, &id, seq).await?;
    let file = format!("attachment; filename=\"{id}-access-{seq}-proof.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        proof,
    )
        .into_response())
}

/// The routes of the case pages and of the reports.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/new", get(new_form).post(create))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/edit", post(edit))
        .route("/cases/{id}/status", post(change_status))
        .route("/cases/{id}/evidence", post(link_evidence))
        .route("/cases/{id}/evidence/{seq}/proof", get(evidence_proof))
        .route("/cases/{id}/sent", post(record_sent))
        .merge(crate::reports::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_data_keeps_repeated_keys_and_decodes() {
        let d = FormData::parse(b"information=address&information=vehicle&summary=a+b%21&x=%zz");
        assert_eq!(d.all("information"), ["address", "vehicle"]);
        assert_eq!(d.get("summary"), "a b!");
        assert_eq!(d.get("x"), "%zz");
        assert_eq!(d.get("missing"), "");
    }

    #[test]
    fn form_round_trips_a_case_and_reports_unreadable_values() {
        let ct = case_texts(Lang::En);
        let mut case = Case::new(
            "politie",
            SignalSource::Manager,
            NaiveDate::from_ymd_opt(2025, 1, 2).unwrap_or_default(),
        );
        case.violation = Some(ViolationType::Disclosure);
        case.recipient = Some(Recipient::Criminal);
        case.information = vec![InformationKind::Address];
        case.systems = vec!["BVH".into(), "BRP".into()];
        case.suspect.years_of_service = Some(7);
        let form = CaseForm::from_case(&case);
        let mut copy = Case::new("politie", SignalSource::Colleague, NaiveDate::MIN);
        assert!(form.apply(&mut copy, ct).is_empty());
        assert_eq!(copy, case);

        let bad = CaseForm {
            signal_date: "2025-13-01".into(),
            years_of_service: "many".into(),
            outcome: "vanished".into(),
            ..form
        };
        let fields: Vec<String> = bad
            .apply(&mut copy, ct)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["signal_date", "years_of_service", "outcome"]);
    }
}
