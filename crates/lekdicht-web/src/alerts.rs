//! The alert queue (`/alerts`), the alert page (`/alerts/{key}`) and the decisions on an alert
//! (dismiss, with an optional suppression rule; escalate to a case; ask for and record a
//! justification).
//!
//! Alerts are addressed by a keyed handle (`AL-...`) derived from the organisation and the alert
//! id, because alert ids contain the employee's id; a handle of another organisation never
//! resolves (404). Employees and subjects appear as pseudonyms unless a reveal was approved.
//! Scoring and the review vocabularies live elsewhere; this module reads, checks and renders.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use lekdicht_review::{
    AlertAction, AlertFacts, AlertStatus, DismissReason, JustificationRequest, Lang, Permission,
    Pseudonymizer, SuppressionRule, SuppressionScope, alert_move, default_due,
    justification_message, suppressed_by,
};
use lekdicht_store::{
    AlertDecision, AlertRow, CaseStore, NewCaseFromAlert, RevealRow, ReviewStore, RuleRow,
    SqliteStore, Store, TimeRange,
};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::chart::{self, ActivityChart};
use crate::directory::Directory;
use crate::error::AppError;
use crate::i18n::{STATUSES, Texts, letter_label, signal_label, status_label, texts};
use crate::view::{Page, audit_entry, render};
use crate::{AppState, St};

/// The alert line of contract section 3, as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct AlertLine {
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub reasons: Vec<AlertReasonLine>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AlertReasonLine {
    pub code: String,
    #[serde(default)]
    pub count: u32,
    #[serde(default)]
    pub detail: String,
}

/// A score line of contract section 3, as stored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScoreLine {
    #[serde(default)]
    pub score: f64,
    #[serde(default)]
    pub explained_by: Vec<String>,
    #[serde(default)]
    pub reasons: Vec<ScoreReason>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScoreReason {
    pub code: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub weight: f64,
}

/// One alert of the user's organisation.
#[derive(Debug, Clone)]
pub struct OrgAlert {
    pub key: String,
    pub row: AlertRow,
    pub line: AlertLine,
    pub unit: String,
}

impl OrgAlert {
    pub fn signals(&self) -> Vec<String> {
        self.line.reasons.iter().map(|r| r.code.clone()).collect()
    }
}

/// The public handle of an alert within an organisation.
pub fn alert_key(pseudonyms: &Pseudonymizer, organisation: &str, alert_id: &str) -> String {
    let p = pseudonyms.subject(organisation, &format!("alert\u{0}{alert_id}"));
    format!("AL-{}", p.trim_start_matches("BT-"))
}

/// The current alerts of one organisation, highest score first.
pub fn org_alerts(
    store: &SqliteStore,
    directory: &Directory,
    pseudonyms: &Pseudonymizer,
    organisation: &str,
) -> Result<Vec<OrgAlert>, AppError> {
    let mut out = Vec::new();
    for row in store.alerts(None)? {
        let Some(info) = directory.employees.get(&row.actor) else {
            continue;
        };
        if info.organisation != organisation {
            continue;
        }
        let line: AlertLine = serde_json::from_str(&row.line)
            .map_err(|e| AppError::internal(format!("alert {}: {e}", row.id)))?;
        out.push(OrgAlert {
            key: alert_key(pseudonyms, organisation, &row.id),
            unit: info.unit.clone(),
            row,
            line,
        });
    }
    Ok(out)
}

/// The stored rules of an organisation in the domain's form.
pub fn domain_rules(rows: &[RuleRow]) -> Vec<SuppressionRule> {
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .ok()
    };
    rows.iter()
        .filter_map(|r| {
            Some(SuppressionRule {
                id: r.id.clone(),
                organisation: r.organisation.clone(),
                signal: r.signal.clone(),
                scope: SuppressionScope {
                    unit: r.unit.clone(),
                    actor: r.actor.clone(),
                    system: r.system.clone(),
                },
                owner: r.owner.clone(),
                reason: r.reason.clone(),
                created_at: parse(&r.created_at)?,
                expires_at: parse(&r.expires_at)?,
                revoked_at: r.revoked_at.as_deref().and_then(parse),
            })
        })
        .collect()
}

/// The rules that suppress an alert, if every signal it carries is covered.
pub fn suppression_of(
    rules: &[SuppressionRule],
    alert: &OrgAlert,
    now: DateTime<Utc>,
) -> Option<Vec<String>> {
    let signals = alert.signals();
    suppressed_by(
        rules,
        &AlertFacts {
            unit: Some(&alert.unit),
            actor: &alert.row.actor,
            systems: &[],
            signals: &signals,
        },
        now,
    )
}

pub fn fmt_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub fn parse_date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

fn date_ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Queue

/// Whether an alert passes the queue's filters (unit, signal, status, overlapping period).
pub fn matches_query(a: &OrgAlert, q: &QueueQuery) -> bool {
    let set = |v: &Option<String>| v.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
    let from = parse_date(&q.from).map(date_ms);
    let until = parse_date(&q.until).map(|d| date_ms(d) + 86_400_000);
    !(set(&q.unit).is_some_and(|u| u != a.unit)
        || set(&q.status).is_some_and(|s| s != a.row.status)
        || set(&q.reason).is_some_and(|r| !a.line.reasons.iter().any(|x| x.code == r))
        || from.is_some_and(|f| a.row.until_ms < f)
        || until.is_some_and(|u| a.row.from_ms >= u))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    pub unit: Option<String>,
    pub reason: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub suppressed: Option<String>,
}

pub struct QueueRow {
    pub key: String,
    pub employee: String,
    pub unit: String,
    pub score: String,
    pub period: String,
    pub events: usize,
    pub reasons: Vec<String>,
    pub status: String,
    pub status_label: &'static str,
    pub suppressed_by: Option<String>,
    /// A justification was asked and its due date passed without an answer.
    pub overdue: bool,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct QueuePage {
    page: Page,
    results: QueueResults,
    units: Vec<Choice>,
    reasons: Vec<Choice>,
    statuses: Vec<Choice>,
    from: String,
    until: String,
    show_suppressed: bool,
}

#[derive(Template)]
#[template(path = "alerts_results.html")]
struct QueueResults {
    t: &'static Texts,
    rows: Vec<QueueRow>,
    suppressed: usize,
    show_suppressed: bool,
    toggle_url: String,
}

fn choices(items: Vec<(String, String)>, selected: &Option<String>) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: selected.as_deref() == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

fn query_string(q: &QueueQuery, suppressed: bool) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("unit", &q.unit),
        ("reason", &q.reason),
        ("status", &q.status),
        ("from", &q.from),
        ("until", &q.until),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            let v: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            parts.push(format!("{k}={v}"));
        }
    }
    if suppressed {
        parts.push("suppressed=1".to_owned());
    }
    format!("/alerts?{}", parts.join("&"))
}

async fn queue(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Result<Response, AppError> {
    user.require(Permission::ViewAlerts)?;
    let t = texts(lang);
    let org = user.organisation.clone();
    let st = state.clone();
    let (alerts, rules, justifications) = state
        .pool
        .run(move |s| {
            let alerts = org_alerts(s, &st.directory, &st.pseudonyms, &org)?;
            let rules = domain_rules(&s.rules(&org)?);
            let justifications: HashMap<String, Justification> = s
                .justifications(&org)?
                .into_iter()
                .filter_map(|(id, j)| serde_json::from_str(&j).ok().map(|j| (id, j)))
                .collect();
            Ok((alerts, rules, justifications))
        })
        .await?;
    let now = Utc::now();
    let today = now.date_naive();
    let show_suppressed = q.suppressed.as_deref() == Some("1");
    let filter = |v: &Option<String>| v.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
    let (unit_f, reason_f, status_f) = (filter(&q.unit), filter(&q.reason), filter(&q.status));
    let mut rows = Vec::new();
    let mut suppressed = 0;
    for a in alerts.iter().filter(|a| matches_query(a, &q)) {
        let by = suppression_of(&rules, a, now);
        if by.is_some() {
            suppressed += 1;
            if !show_suppressed {
                continue;
            }
        }
        rows.push(QueueRow {
            key: a.key.clone(),
            employee: state.pseudonyms.employee(&user.organisation, &a.row.actor),
            unit: state
                .directory
                .units
                .get(&a.unit)
                .map_or_else(|| a.unit.clone(), |(_, n)| n.clone()),
            score: format!("{:.2}", a.row.score),
            period: format!("{} – {}", fmt_ms(a.row.from_ms), fmt_ms(a.row.until_ms)),
            events: a.line.events.len(),
            reasons: a
                .line
                .reasons
                .iter()
                .map(|r| format!("{} ({}×)", signal_label(&r.code, lang), r.count))
                .collect(),
            status_label: status_label(&a.row.status, lang),
            status: a.row.status.clone(),
            suppressed_by: by.map(|ids| ids.join(", ")),
            overdue: a.row.status == "justification_requested"
                && justifications
                    .get(&a.row.id)
                    .is_some_and(|j| j.answer.is_none() && today > j.due),
        });
    }
    let results = QueueResults {
        t,
        rows,
        suppressed,
        show_suppressed,
        toggle_url: query_string(&q, !show_suppressed),
    };
    if headers.get("hx-request").is_some() && headers.get("hx-history-restore-request").is_none() {
        return render(&results);
    }
    let mut signals: BTreeSet<String> = BTreeSet::new();
    for a in &alerts {
        signals.extend(a.signals());
    }
    render(&QueuePage {
        page: Page::new(lang, t.alerts_title, Some(&user)),
        units: choices(state.directory.units_of(&user.organisation), &unit_f),
        reasons: choices(
            signals
                .into_iter()
                .map(|s| {
                    let label = format!("{s}: {}", signal_label(&s, lang));
                    (s, label)
                })
                .collect(),
            &reason_f,
        ),
        statuses: choices(
            STATUSES
                .iter()
                .map(|s| ((*s).to_owned(), status_label(s, lang).to_owned()))
                .collect(),
            &status_f,
        ),
        from: q.from.clone().unwrap_or_default(),
        until: q.until.clone().unwrap_or_default(),
        show_suppressed,
        results,
    })
}

// ---------------------------------------------------------------------------------------------
// Alert page

pub struct ReasonView {
    pub code: String,
    pub label: String,
    pub count: u32,
    pub detail: String,
    pub contribution: String,
}

pub struct EventView {
    pub time: String,
    pub system: String,
    pub action: String,
    pub subject: String,
    pub case: String,
    pub score: String,
    pub explained_by: String,
    pub reasons: Vec<String>,
}

pub struct SubjectView {
    pub pseudonym: String,
    pub revealed: Option<String>,
    pub flags: String,
    pub cases: String,
}

pub struct DecisionView {
    pub at: String,
    pub kind: String,
    pub status_label: &'static str,
    pub reason: String,
    pub note: String,
    pub by: String,
}

pub struct RevealView {
    pub id: i64,
    pub target: String,
    pub requested_by: String,
    pub requested_at: String,
    pub state: &'static str,
}

/// The justification request stored with an alert (JSON).
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Justification {
    pub recipient: String,
    pub due: NaiveDate,
    pub message: String,
    pub requested_by: String,
    pub requested_at: String,
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub answered_at: Option<String>,
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    page: Page,
    key: String,
    employee: String,
    revealed_employee: Option<String>,
    unit: String,
    score: String,
    period: String,
    status: String,
    status_label: &'static str,
    reasons: Vec<ReasonView>,
    events: Vec<EventView>,
    chart: ActivityChart,
    subjects: Vec<SubjectView>,
    decisions: Vec<DecisionView>,
    case_id: Option<String>,
    justification: Option<Justification>,
    overdue: bool,
    reveals: Vec<RevealView>,
    can_decide: bool,
    can_reveal: bool,
    dismiss_reasons: Vec<Choice>,
    default_expiry: String,
    max_expiry: String,
    default_due: String,
    justification_text: String,
}

/// Everything the alert page reads from the store, in one blocking call.
struct AlertData {
    alert: OrgAlert,
    events: Vec<(lekdicht_store::StoredEvent, ScoreLine)>,
    timeline: Vec<lekdicht_store::StoredEvent>,
    decisions: Vec<lekdicht_store::DecisionRow>,
    review: Option<lekdicht_store::AlertReviewRow>,
    reveals: Vec<RevealRow>,
}

/// Finds one alert of the organisation by its handle.
pub fn find_alert(
    store: &SqliteStore,
    state: &AppState,
    organisation: &str,
    key: &str,
) -> Result<OrgAlert, AppError> {
    org_alerts(store, &state.directory, &state.pseudonyms, organisation)?
        .into_iter()
        .find(|a| a.key == key)
        .ok_or(AppError::NotFound)
}

/// The alert's events (those of its actor), with their score lines.
pub fn alert_events(
    store: &SqliteStore,
    alert: &OrgAlert,
) -> Result<Vec<(lekdicht_store::StoredEvent, ScoreLine)>, AppError> {
    let mut events = Vec::new();
    for id in &alert.line.events {
        for e in store.find_events(id, None)? {
            if e.event.actor.as_str() == alert.row.actor {
                events.push(e);
            }
        }
    }
    events.sort_by_key(|e| (e.event.time, e.seq));
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    let scores: HashMap<u64, ScoreLine> = store
        .scores_of(&seqs)?
        .into_iter()
        .filter_map(|(seq, line)| serde_json::from_str(&line).ok().map(|l| (seq, l)))
        .collect();
    Ok(events
        .into_iter()
        .map(|e| {
            let score = scores.get(&e.seq).cloned().unwrap_or_default();
            (e, score)
        })
        .collect())
}

/// The approved, unexpired reveals of an alert for one requester.
pub fn active_reveals<'a>(
    reveals: &'a [RevealRow],
    username: &str,
    now_ms: i64,
) -> Vec<&'a RevealRow> {
    reveals
        .iter()
        .filter(|r| {
            r.requested_by == username
                && r.decision.as_deref() == Some("approved")
                && r.expires_ms.is_some_and(|e| e > now_ms)
        })
        .collect()
}

async fn alert_page(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    user.require(Permission::ViewAlerts)?;
    let t = texts(lang);
    let org = user.organisation.clone();
    let st = state.clone();
    let audit_user = user.clone();
    let data = state
        .pool
        .run(move |s| {
            let alert = find_alert(s, &st, &org, &key)?;
            let events = alert_events(s, &alert)?;
            let range = TimeRange {
                from_ms: Some(alert.row.from_ms - 7 * 86_400_000),
                until_ms: Some(alert.row.until_ms + 7 * 86_400_000),
            };
            let timeline = s.timeline(&alert.row.actor, &range)?;
            let decisions = s.alert_decisions(&alert.row.id)?;
            let review = s.alert_review(&alert.row.id)?;
            let reveals = s.reveals_of_alert(&alert.row.id)?;
            Ok(AlertData {
                alert,
                events,
                timeline,
                decisions,
                review,
                reveals,
            })
        })
        .await?;
    state
        .audit
        .record(audit_entry(
            &audit_user,
            "alert_view",
            &data.alert.key,
            serde_json::json!({}),
        ))
        .await?;
    let now = Utc::now();
    let a = &data.alert;
    let ps = &state.pseudonyms;
    let active = active_reveals(&data.reveals, &user.username, now.timestamp_millis());
    let revealed_employee = active.iter().any(|r| r.target == "employee").then(|| {
        let name = state
            .directory
            .employees
            .get(&a.row.actor)
            .map(|e| e.name.clone())
            .unwrap_or_default();
        format!("{} {}", a.row.actor, name).trim().to_owned()
    });
    let revealed_subjects: BTreeSet<&str> = active
        .iter()
        .filter(|r| r.target == "subject")
        .filter_map(|r| r.subject.as_deref())
        .collect();
    let mut contributions: BTreeMap<String, f64> = BTreeMap::new();
    for (_, score) in &data.events {
        for r in &score.reasons {
            *contributions.entry(r.code.clone()).or_default() += r.weight;
        }
    }
    let reasons = a
        .line
        .reasons
        .iter()
        .map(|r| ReasonView {
            code: r.code.clone(),
            label: signal_label(&r.code, lang),
            count: r.count,
            detail: r.detail.clone(),
            contribution: format!("{:.2}", contributions.get(&r.code).copied().unwrap_or(0.0)),
        })
        .collect();
    let subject_name = |id: &str| {
        let p = ps.subject(&user.organisation, id);
        if revealed_subjects.contains(id) {
            format!("{p} ({id})")
        } else {
            p
        }
    };
    let events = data
        .events
        .iter()
        .map(|(e, score)| EventView {
            time: e.event.time.format("%Y-%m-%d %H:%M:%S").to_string(),
            system: e.event.system.clone(),
            action: e.event.action.as_str().to_owned(),
            subject: e
                .event
                .subject
                .as_ref()
                .map_or_else(|| "–".to_owned(), |s| subject_name(s.as_str())),
            case: e
                .event
                .case
                .as_ref()
                .map_or_else(|| "–".to_owned(), |c| c.as_str().to_owned()),
            score: format!("{:.2}", score.score),
            explained_by: if score.explained_by.is_empty() {
                t.none.to_owned()
            } else {
                score.explained_by.join(", ")
            },
            reasons: score
                .reasons
                .iter()
                .map(|r| {
                    format!(
                        "{} (+{:.2}): {} — {}",
                        r.code,
                        r.weight,
                        signal_label(&r.code, lang),
                        r.detail
                    )
                })
                .collect(),
        })
        .collect();
    let mut subject_ids: BTreeSet<String> = BTreeSet::new();
    for (e, _) in &data.events {
        if let Some(s) = &e.event.subject {
            subject_ids.insert(s.as_str().to_owned());
        }
    }
    let subjects = subject_ids
        .iter()
        .map(|id| SubjectView {
            pseudonym: ps.subject(&user.organisation, id),
            revealed: revealed_subjects.contains(id.as_str()).then(|| id.clone()),
            flags: state
                .directory
                .subject_flags
                .get(id)
                .map_or_else(|| t.none.to_owned(), |f| f.join(", ")),
            cases: state.directory.subject_cases.get(id).map_or_else(
                || t.none.to_owned(),
                |cs| {
                    cs.iter()
                        .map(|c| {
                            format!(
                                "{} ({}{})",
                                c.id,
                                c.kind,
                                if c.restricted { ", restricted" } else { "" }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            ),
        })
        .collect();
    let decisions = data
        .decisions
        .iter()
        .map(|d| DecisionView {
            at: d.at.clone(),
            kind: d.kind.clone(),
            status_label: status_label(&d.status, lang),
            reason: d
                .reason
                .as_deref()
                .and_then(DismissReason::parse)
                .map(|r| r.label(lang).to_owned())
                .or_else(|| d.reason.clone())
                .unwrap_or_default(),
            note: d.note.clone(),
            by: d.decided_by.clone(),
        })
        .collect();
    let justification: Option<Justification> = data
        .review
        .as_ref()
        .and_then(|r| r.justification.as_deref())
        .and_then(|j| serde_json::from_str(j).ok());
    let today = now.date_naive();
    let overdue = justification
        .as_ref()
        .is_some_and(|j| j.answer.is_none() && today > j.due);
    let reveals = data
        .reveals
        .iter()
        .map(|r| RevealView {
            id: r.id,
            target: match &r.subject {
                Some(s) => ps.subject(&user.organisation, s),
                None => t.reveal_employee.to_owned(),
            },
            requested_by: r.requested_by.clone(),
            requested_at: r.requested_at.clone(),
            state: match r.decision.as_deref() {
                Some("approved") => t.approved,
                Some("refused") => t.refused,
                _ => t.pending,
            },
        })
        .collect();
    let employee = ps.employee(&user.organisation, &a.row.actor);
    // After a reveal the letter addresses the employee by name, before it by pseudonym.
    let addressee = revealed_employee
        .clone()
        .unwrap_or_else(|| employee.clone());
    let due = default_due(today);
    let mut plain_reasons: Vec<String> = Vec::new();
    for r in &a.line.reasons {
        let label = letter_label(&r.code, lang);
        if !plain_reasons.contains(&label) {
            plain_reasons.push(label);
        }
    }
    let period_from =
        DateTime::from_timestamp_millis(a.row.from_ms).map_or(today, |d| d.date_naive());
    let period_until =
        DateTime::from_timestamp_millis(a.row.until_ms).map_or(today, |d| d.date_naive());
    let justification_text = justification_message(
        &JustificationRequest {
            recipient: &addressee,
            employee: &addressee,
            period_from,
            period_until,
            reasons: &plain_reasons,
            due,
            sender: &user.display_name,
        },
        lang,
    );
    let alert_seqs: BTreeSet<u64> = data.events.iter().map(|(e, _)| e.seq).collect();
    let chart = chart::activity(
        t,
        &data.timeline,
        &alert_seqs,
        a.row.from_ms - 7 * 86_400_000,
        a.row.until_ms + 7 * 86_400_000,
    );
    render(&AlertPage {
        page: Page::new(lang, &format!("{} {}", t.alert_title, a.key), Some(&user)),
        key: a.key.clone(),
        employee,
        revealed_employee,
        unit: state
            .directory
            .units
            .get(&a.unit)
            .map_or_else(|| a.unit.clone(), |(_, n)| n.clone()),
        score: format!("{:.2}", a.row.score),
        period: format!("{} – {}", fmt_ms(a.row.from_ms), fmt_ms(a.row.until_ms)),
        status: a.row.status.clone(),
        status_label: status_label(&a.row.status, lang),
        reasons,
        events,
        chart,
        subjects,
        decisions,
        case_id: data.review.as_ref().and_then(|r| r.case_id.clone()),
        justification,
        overdue,
        reveals,
        can_decide: user.can(Permission::DecideAlerts),
        can_reveal: user.can(Permission::RequestReveal),
        dismiss_reasons: DismissReason::ALL
            .iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                label: r.label(lang).to_owned(),
                selected: false,
            })
            .collect(),
        default_expiry: (today + Duration::days(90)).to_string(),
        max_expiry: (today + Duration::days(lekdicht_review::MAX_RULE_DAYS)).to_string(),
        default_due: due.to_string(),
        justification_text,
    })
}

// ---------------------------------------------------------------------------------------------
// Decisions

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DismissForm {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub note: String,
    pub make_rule: Option<String>,
    pub rule_scope: Option<String>,
    pub rule_expires: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NoteForm {
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct JustificationForm {
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub due: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AnswerForm {
    #[serde(default)]
    pub answer: String,
}

fn decision(
    alert: &OrgAlert,
    user: &CurrentUser,
    kind: &str,
    status: &str,
    note: &str,
) -> AlertDecision {
    AlertDecision {
        alert_id: alert.row.id.clone(),
        organisation: user.organisation.clone(),
        kind: kind.to_owned(),
        status: status.to_owned(),
        reason: None,
        note: note.to_owned(),
        decided_by: user.username.clone(),
        at: Utc::now(),
        case_id: None,
        justification: None,
        rules: Vec::new(),
    }
}

/// End of a date (23:59:59 UTC) as the expiry of a rule.
fn end_of_day(d: NaiveDate) -> Option<DateTime<Utc>> {
    d.and_hms_opt(23, 59, 59).map(|t| t.and_utc())
}

/// Builds (and validates) the suppression rules of a dismissal: one per signal of the alert.
pub fn rules_for_dismissal(
    alert: &OrgAlert,
    user: &CurrentUser,
    scope: &str,
    expires: Option<NaiveDate>,
    reason: &str,
) -> Result<Vec<RuleRow>, AppError> {
    let now = Utc::now();
    let expires_at = expires
        .and_then(end_of_day)
        .ok_or_else(|| AppError::BadRequest("a rule needs an expiry date".into()))?;
    let (unit, actor) = match scope {
        "unit" => (Some(alert.unit.clone()), None),
        _ => (None, Some(alert.row.actor.clone())),
    };
    let known: Vec<&str> = lekdicht_detect::SignalCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    let mut rows = Vec::new();
    for (i, signal) in alert.signals().into_iter().enumerate() {
        let rule = SuppressionRule {
            id: format!("R-{}-{i}", now.timestamp_millis()),
            organisation: user.organisation.clone(),
            signal: signal.clone(),
            scope: SuppressionScope {
                unit: unit.clone(),
                actor: actor.clone(),
                system: None,
            },
            owner: user.username.clone(),
            reason: reason.to_owned(),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        lekdicht_review::validate(&rule, &known, now)
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        rows.push(RuleRow {
            id: rule.id,
            organisation: rule.organisation,
            signal,
            unit: rule.scope.unit,
            actor: rule.scope.actor,
            system: None,
            owner: rule.owner,
            reason: rule.reason,
            created_at: now.to_rfc3339(),
            expires_at: expires_at.to_rfc3339(),
            revoked_at: None,
        });
    }
    Ok(rows)
}

/// Refuses a decision the state machine of alerts and cases does not allow
/// (`lekdicht_review::alert_move`), e.g. dismissing an escalated alert whose case was decided.
fn check_move(s: &SqliteStore, alert: &OrgAlert, d: &AlertDecision) -> Result<(), AppError> {
    let from = AlertStatus::parse(&alert.row.status).unwrap_or(AlertStatus::Open);
    let action = AlertAction::parse(&d.kind)
        .ok_or_else(|| AppError::internal(format!("unknown decision {}", d.kind)))?;
    let case = s.alert_review(&alert.row.id)?.and_then(|r| r.case_id);
    let case_decided = match case {
        Some(id) => s
            .case(&id)?
            .is_some_and(|c| matches!(c.status.as_str(), "decided" | "closed")),
        None => false,
    };
    match alert_move(from, action, case_decided) {
        Some(to) if to.as_str() == d.status => Ok(()),
        _ => Err(AppError::BadRequest(format!(
            "an alert that is {} cannot take the decision {}{}",
            from.as_str(),
            d.kind,
            if case_decided {
                " (its case was decided)"
            } else {
                ""
            }
        ))),
    }
}

async fn decide(
    state: &AppState,
    user: &CurrentUser,
    key: String,
    build: impl FnOnce(&mut SqliteStore, &OrgAlert) -> Result<AlertDecision, AppError> + Send + 'static,
) -> Result<(), AppError> {
    user.require(Permission::DecideAlerts)?;
    let st = state.clone();
    let u = user.clone();
    state
        .pool
        .run(move |s| {
            let alert = find_alert(s, &st, &u.organisation, &key)?;
            let decision = build(s, &alert)?;
            check_move(s, &alert, &decision)?;
            let audit = audit_entry(
                &u,
                &format!("alert_{}", decision.kind),
                &alert.key,
                serde_json::json!({
                    "status": decision.status,
                    "reason": decision.reason,
                    "note": decision.note,
                    "case": decision.case_id,
                    "rules": decision.rules.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
                }),
            );
            if !s.decide_alert(&decision, &audit)? {
                return Err(AppError::NotFound);
            }
            Ok(())
        })
        .await
}

async fn dismiss(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Form(form): Form<DismissForm>,
) -> Result<Response, AppError> {
    dismiss_alert(&state, &user, key.clone(), form).await?;
    Ok(Redirect::to(&format!("/alerts/{key}")).into_response())
}

/// The decision `dismiss` on an alert of the user's organisation.
pub async fn dismiss_alert(
    state: &AppState,
    user: &CurrentUser,
    key: String,
    form: DismissForm,
) -> Result<(), AppError> {
    let reason = DismissReason::parse(&form.reason)
        .ok_or_else(|| AppError::BadRequest("choose a reason for the dismissal".into()))?;
    let u = user.clone();
    decide(state, user, key, move |_, alert| {
        let mut d = decision(alert, &u, "dismiss", "dismissed", form.note.trim());
        d.reason = Some(reason.as_str().to_owned());
        if form.make_rule.is_some() {
            let text = if form.note.trim().is_empty() {
                reason.as_str().to_owned()
            } else {
                form.note.trim().to_owned()
            };
            d.rules = rules_for_dismissal(
                alert,
                &u,
                form.rule_scope.as_deref().unwrap_or("employee"),
                parse_date(&form.rule_expires),
                &text,
            )?;
        }
        Ok(d)
    })
    .await
}

async fn escalate(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, AppError> {
    escalate_alert(&state, &user, key.clone(), form).await?;
    Ok(Redirect::to(&format!("/alerts/{key}")).into_response())
}

/// The decision `escalate` on an alert of the user's organisation.
pub async fn escalate_alert(
    state: &AppState,
    user: &CurrentUser,
    key: String,
    form: NoteForm,
) -> Result<(), AppError> {
    let u = user.clone();
    decide(state, user, key, move |s, alert| {
        if alert.row.status == "escalated" {
            return Err(AppError::BadRequest(
                "the alert was escalated already".into(),
            ));
        }
        let seqs = alert_events(s, alert)?.iter().map(|(e, _)| e.seq).collect();
        let case_id = s.open_case_from_alert(&NewCaseFromAlert {
            organisation: u.organisation.clone(),
            alert_id: alert.row.id.clone(),
            employee: alert.row.actor.clone(),
            opened_by: u.username.clone(),
            summary: form.note.trim().to_owned(),
            event_seqs: seqs,
            at: Utc::now(),
        })?;
        let mut d = decision(alert, &u, "escalate", "escalated", form.note.trim());
        d.case_id = Some(case_id);
        Ok(d)
    })
    .await
}

async fn request_justification(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Form(form): Form<JustificationForm>,
) -> Result<Response, AppError> {
    request_justification_alert(&state, &user, key.clone(), form).await?;
    Ok(Redirect::to(&format!("/alerts/{key}")).into_response())
}

/// The decision `request_justification` on an alert of the user's organisation.
pub async fn request_justification_alert(
    state: &AppState,
    user: &CurrentUser,
    key: String,
    form: JustificationForm,
) -> Result<(), AppError> {
    let due = parse_date(&Some(form.due.clone()))
        .ok_or_else(|| AppError::BadRequest("give a due date".into()))?;
    if form.message.trim().is_empty() {
        return Err(AppError::BadRequest("the message is empty".into()));
    }
    let recipient = if form.recipient == "manager" {
        "manager"
    } else {
        "employee"
    };
    let u = user.clone();
    decide(state, user, key, move |_, alert| {
        let j = Justification {
            recipient: recipient.to_owned(),
            due,
            message: form.message.trim().to_owned(),
            requested_by: u.username.clone(),
            requested_at: Utc::now().to_rfc3339(),
            answer: None,
            answered_at: None,
        };
        let mut d = decision(
            alert,
            &u,
            "request_justification",
            "justification_requested",
            "",
        );
        d.justification =
            Some(serde_json::to_string(&j).map_err(|e| AppError::internal(e.to_string()))?);
        Ok(d)
    })
    .await
}

async fn record_answer(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, AppError> {
    record_answer_alert(&state, &user, key.clone(), form).await?;
    Ok(Redirect::to(&format!("/alerts/{key}")).into_response())
}

/// The decision `record_answer` on an alert of the user's organisation.
pub async fn record_answer_alert(
    state: &AppState,
    user: &CurrentUser,
    key: String,
    form: AnswerForm,
) -> Result<(), AppError> {
    if form.answer.trim().is_empty() {
        return Err(AppError::BadRequest("the answer is empty".into()));
    }
    let u = user.clone();
    decide(state, user, key, move |s, alert| {
        let mut j: Justification = s
            .alert_review(&alert.row.id)?
            .and_then(|r| r.justification)
            .and_then(|j| serde_json::from_str(&j).ok())
            .ok_or_else(|| AppError::BadRequest("no justification was asked".into()))?;
        j.answer = Some(form.answer.trim().to_owned());
        j.answered_at = Some(Utc::now().to_rfc3339());
        let mut d = decision(alert, &u, "record_answer", &alert.row.status, "");
        d.justification =
            Some(serde_json::to_string(&j).map_err(|e| AppError::internal(e.to_string()))?);
        Ok(d)
    })
    .await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(queue))
        .route("/alerts/{key}", get(alert_page))
        .route("/alerts/{key}/dismiss", post(dismiss))
        .route("/alerts/{key}/escalate", post(escalate))
        .route("/alerts/{key}/justification", post(request_justification))
        .route("/alerts/{key}/answer", post(record_answer))
}
