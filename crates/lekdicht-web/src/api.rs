//! The JSON API under `/api/v1/...` for the same operations as the pages (alerts list and detail,
//! decisions, reveal request and decision, suppression rules, sample draw, judgement and report;
//! the case registry's routes are in [`crate::api_cases`]),
//! and its OpenAPI 3 document at `/api/openapi.json` (generated with utoipa).
//!
//! Requests authenticate with the session cookie (plus `X-CSRF-Token` for changes) or with
//! `Authorization: Bearer <api token>`; the same permission checks and organisation isolation
//! apply as on the pages, through the same functions. Pseudonyms only; no reveal via the API.

use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use lekdicht_review::{Lang, Permission};
use lekdicht_store::ReviewStore;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::alerts::{
    self, AnswerForm, DismissForm, JustificationForm, NoteForm, OrgAlert, QueueQuery, alert_events,
    domain_rules, find_alert, matches_query, org_alerts, suppression_of,
};
use crate::api_cases;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::signal_label;
use crate::reveals::{DecisionForm, RevealForm};
use crate::rules::RuleForm;
use crate::samples::{DrawForm, JudgeForm};
use crate::view::audit_entry;
use crate::{AppState, St};

/// One alert in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiAlert {
    /// The alert's handle (`AL-...`), used in every URL.
    pub key: String,
    /// The employee's pseudonym.
    pub employee: String,
    pub unit: String,
    pub score: f64,
    /// RFC 3339.
    pub from: String,
    pub until: String,
    pub status: String,
    pub signals: Vec<String>,
    pub events: usize,
    /// The suppression rules that hide this alert, if any.
    pub suppressed_by: Option<Vec<String>>,
}

/// A signal of an alert with its plain-language label.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiReason {
    pub code: String,
    pub label: String,
    pub count: u32,
    pub detail: String,
}

/// One access of an alert, pseudonymised, with its explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiEvent {
    /// Sequence number (ledger leaf index).
    pub seq: u64,
    pub time: String,
    pub system: String,
    pub action: String,
    pub subject: Option<String>,
    pub case: Option<String>,
    pub score: f64,
    pub explained_by: Vec<String>,
    pub reasons: Vec<ApiEventReason>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiEventReason {
    pub code: String,
    pub detail: String,
    pub weight: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiDecision {
    pub at: String,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub note: String,
    pub decided_by: String,
}

/// An alert with its reasons, events and decisions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiAlertDetail {
    pub alert: ApiAlert,
    pub reasons: Vec<ApiReason>,
    pub events: Vec<ApiEvent>,
    pub decisions: Vec<ApiDecision>,
    pub case_id: Option<String>,
    /// The justification request as JSON text, if any.
    pub justification: Option<String>,
}

/// The id of something created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiReveal {
    pub id: i64,
    pub alert: String,
    pub target: String,
    pub subject: Option<String>,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decision: Option<String>,
    pub decided_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiRule {
    pub id: String,
    pub signal: String,
    pub unit: Option<String>,
    /// Pseudonym of the employee the rule is scoped to.
    pub employee: Option<String>,
    pub system: Option<String>,
    pub owner: String,
    pub reason: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiInterval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiStratum {
    pub unit: String,
    pub system: String,
    pub period: String,
    pub population: u64,
    pub sampled: u64,
    pub unlawful_share: ApiInterval,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiReport {
    pub sample: i64,
    pub seed: String,
    pub strata: Vec<ApiStratum>,
    pub overall: ApiInterval,
    pub overall_unclear_as_unlawful: ApiInterval,
    pub judged: u64,
    pub sampled: u64,
    pub population: u64,
}

fn interval(i: lekdicht_review::Interval) -> ApiInterval {
    ApiInterval {
        estimate: i.estimate,
        low: i.low,
        high: i.high,
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

fn summary(
    state: &AppState,
    org: &str,
    a: &OrgAlert,
    suppressed_by: Option<Vec<String>>,
) -> ApiAlert {
    ApiAlert {
        key: a.key.clone(),
        employee: state.pseudonyms.employee(org, &a.row.actor),
        unit: a.unit.clone(),
        score: a.row.score,
        from: rfc3339(a.row.from_ms),
        until: rfc3339(a.row.until_ms),
        status: a.row.status.clone(),
        signals: a.signals(),
        events: a.line.events.len(),
        suppressed_by,
    }
}

#[utoipa::path(get, path = "/api/v1/alerts", params(QueueQuery),
    responses((status = 200, description = "The organisation's current alerts, highest score first; suppressed ones only with suppressed=1", body = [ApiAlert])))]
async fn list_alerts(
    State(state): St,
    user: CurrentUser,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Vec<ApiAlert>>, AppError> {
    user.require(Permission::ViewAlerts)?;
    let org = user.organisation.clone();
    let st = state.clone();
    let (alerts, rules) = state
        .pool
        .run(move |s| {
            let alerts = org_alerts(s, &st.directory, &st.pseudonyms, &org)?;
            let rules = domain_rules(&s.rules(&org)?);
            Ok((alerts, rules))
        })
        .await?;
    let now = Utc::now();
    let show_suppressed = q.suppressed.as_deref() == Some("1");
    Ok(Json(
        alerts
            .iter()
            .filter(|a| matches_query(a, &q))
            .filter_map(|a| {
                let by = suppression_of(&rules, a, now);
                (show_suppressed || by.is_none())
                    .then(|| summary(&state, &user.organisation, a, by))
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/alerts/{key}", params(("key" = String, Path, description = "alert handle")),
    responses((status = 200, body = ApiAlertDetail), (status = 404, description = "unknown or another organisation's")))]
async fn get_alert(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(key): Path<String>,
) -> Result<Json<ApiAlertDetail>, AppError> {
    user.require(Permission::ViewAlerts)?;
    let st = state.clone();
    let u = user.clone();
    let (alert, events, decisions, review) = state
        .pool
        .run(move |s| {
            let alert = find_alert(s, &st, &u.organisation, &key)?;
            let events = alert_events(s, &alert)?;
            let decisions = s.alert_decisions(&alert.row.id)?;
            let review = s.alert_review(&alert.row.id)?;
            Ok((alert, events, decisions, review))
        })
        .await?;
    state
        .audit
        .record(audit_entry(
            &user,
            "alert_view",
            &alert.key,
            serde_json::json!({ "via": "api" }),
        ))
        .await?;
    let org = &user.organisation;
    Ok(Json(ApiAlertDetail {
        reasons: alert
            .line
            .reasons
            .iter()
            .map(|r| ApiReason {
                code: r.code.clone(),
                label: signal_label(&r.code, lang),
                count: r.count,
                detail: r.detail.clone(),
            })
            .collect(),
        events: events
            .iter()
            .map(|(e, score)| ApiEvent {
                seq: e.seq,
                time: e.event.time.to_rfc3339(),
                system: e.event.system.clone(),
                action: e.event.action.as_str().to_owned(),
                subject: e
                    .event
                    .subject
                    .as_ref()
                    .map(|s| state.pseudonyms.subject(org, s.as_str())),
                case: e.event.case.as_ref().map(|c| c.as_str().to_owned()),
                score: score.score,
                explained_by: score.explained_by.clone(),
                reasons: score
                    .reasons
                    .iter()
                    .map(|r| ApiEventReason {
                        code: r.code.clone(),
                        detail: r.detail.clone(),
                        weight: r.weight,
                    })
                    .collect(),
            })
            .collect(),
        decisions: decisions
            .into_iter()
            .map(|d| ApiDecision {
                at: d.at,
                kind: d.kind,
                status: d.status,
                reason: d.reason,
                note: d.note,
                decided_by: d.decided_by,
            })
            .collect(),
        case_id: review.as_ref().and_then(|r| r.case_id.clone()),
        justification: review.and_then(|r| r.justification),
        alert: summary(&state, org, &alert, None),
    }))
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

#[utoipa::path(post, path = "/api/v1/alerts/{key}/dismiss", params(("key" = String, Path)), request_body = DismissForm,
    responses((status = 204, description = "dismissed"), (status = 400), (status = 403), (status = 404)))]
async fn dismiss(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Json(form): Json<DismissForm>,
) -> Result<Response, AppError> {
    alerts::dismiss_alert(&state, &user, key, form).await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/api/v1/alerts/{key}/escalate", params(("key" = String, Path)), request_body = NoteForm,
    responses((status = 204, description = "escalated; a case was opened"), (status = 403), (status = 404)))]
async fn escalate(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Json(form): Json<NoteForm>,
) -> Result<Response, AppError> {
    alerts::escalate_alert(&state, &user, key, form).await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/api/v1/alerts/{key}/justification", params(("key" = String, Path)), request_body = JustificationForm,
    responses((status = 204, description = "justification requested"), (status = 400), (status = 403), (status = 404)))]
async fn justification(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Json(form): Json<JustificationForm>,
) -> Result<Response, AppError> {
    alerts::request_justification_alert(&state, &user, key, form).await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/api/v1/alerts/{key}/answer", params(("key" = String, Path)), request_body = AnswerForm,
    responses((status = 204, description = "answer recorded"), (status = 400), (status = 403), (status = 404)))]
async fn answer(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Json(form): Json<AnswerForm>,
) -> Result<Response, AppError> {
    alerts::record_answer_alert(&state, &user, key, form).await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/api/v1/alerts/{key}/reveals", params(("key" = String, Path)), request_body = RevealForm,
    responses((status = 201, body = Created), (status = 400), (status = 403), (status = 404)))]
async fn request_reveal(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Json(form): Json<RevealForm>,
) -> Result<Response, AppError> {
    let id = crate::reveals::request_reveal(&state, &user, key, form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })).into_response())
}

#[utoipa::path(get, path = "/api/v1/reveals", responses((status = 200, body = [ApiReveal])))]
async fn list_reveals(
    State(state): St,
    user: CurrentUser,
) -> Result<Json<Vec<ApiReveal>>, AppError> {
    let sees_all = user.can(Permission::ViewReveals) || user.can(Permission::ApproveReveal);
    if !sees_all && !user.can(Permission::RequestReveal) {
        return Err(AppError::Forbidden);
    }
    let org = user.organisation.clone();
    let rows = state.pool.run(move |s| Ok(s.reveals(&org)?)).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|r| sees_all || r.requested_by == user.username)
            .map(|r| ApiReveal {
                id: r.id,
                alert: alerts::alert_key(&state.pseudonyms, &user.organisation, &r.alert_id),
                target: r.target,
                subject: r
                    .subject
                    .map(|s| state.pseudonyms.subject(&user.organisation, &s)),
                reason: r.reason,
                requested_by: r.requested_by,
                requested_at: r.requested_at,
                decision: r.decision,
                decided_by: r.decided_by,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/reveals/{id}/approve", params(("id" = i64, Path)), request_body = DecisionForm,
    responses((status = 204), (status = 403, description = "not an approver, or one's own request"), (status = 404)))]
async fn approve_reveal(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(form): Json<DecisionForm>,
) -> Result<Response, AppError> {
    crate::reveals::decide_reveal(&state, user, id, true, form.note).await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/api/v1/reveals/{id}/refuse", params(("id" = i64, Path)), request_body = DecisionForm,
    responses((status = 204), (status = 403), (status = 404)))]
async fn refuse_reveal(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(form): Json<DecisionForm>,
) -> Result<Response, AppError> {
    crate::reveals::decide_reveal(&state, user, id, false, form.note).await?;
    Ok(no_content())
}

#[utoipa::path(get, path = "/api/v1/rules", responses((status = 200, body = [ApiRule])))]
async fn list_rules(State(state): St, user: CurrentUser) -> Result<Json<Vec<ApiRule>>, AppError> {
    user.require(Permission::ManageSuppressions)?;
    let org = user.organisation.clone();
    let rows = state.pool.run(move |s| Ok(s.rules(&org)?)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ApiRule {
                employee: r
                    .actor
                    .map(|a| state.pseudonyms.employee(&user.organisation, &a)),
                id: r.id,
                signal: r.signal,
                unit: r.unit,
                system: r.system,
                owner: r.owner,
                reason: r.reason,
                created_at: r.created_at,
                expires_at: r.expires_at,
                revoked_at: r.revoked_at,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/rules", request_body = RuleForm,
    responses((status = 201, body = Created), (status = 400, description = "invalid rule (reason, signal, scope, expiry at most 180 days)")))]
async fn create_rule(
    State(state): St,
    user: CurrentUser,
    Json(form): Json<RuleForm>,
) -> Result<Response, AppError> {
    let id = crate::rules::create_rule(&state, &user, form).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

#[utoipa::path(post, path = "/api/v1/rules/{id}/revoke", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
async fn revoke_rule(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    crate::rules::revoke_rule(&state, &user, id).await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/api/v1/samples", request_body = DrawForm, responses((status = 201, body = Created), (status = 400), (status = 403)))]
async fn draw_sample(
    State(state): St,
    user: CurrentUser,
    Json(form): Json<DrawForm>,
) -> Result<Response, AppError> {
    let id = crate::samples::draw_sample(&state, user, form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })).into_response())
}

#[utoipa::path(post, path = "/api/v1/samples/{id}/items/{seq}", params(("id" = i64, Path), ("seq" = u64, Path)), request_body = JudgeForm,
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
async fn judge(
    State(state): St,
    user: CurrentUser,
    Path((id, seq)): Path<(i64, u64)>,
    Json(form): Json<JudgeForm>,
) -> Result<Response, AppError> {
    crate::samples::judge_item(&state, user, id, seq, form).await?;
    Ok(no_content())
}

#[utoipa::path(get, path = "/api/v1/samples/{id}/report", params(("id" = i64, Path)), responses((status = 200, body = ApiReport), (status = 404)))]
async fn report(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ApiReport>, AppError> {
    let (sample, rows, est) = crate::samples::load_report(&state, &user, id).await?;
    Ok(Json(ApiReport {
        sample: sample.id,
        seed: sample.seed,
        strata: est
            .per_stratum
            .iter()
            .zip(&rows)
            .map(|((k, i), r)| ApiStratum {
                unit: k.unit.clone(),
                system: k.system.clone(),
                period: k.period.clone(),
                population: r.population,
                sampled: r.sampled,
                unlawful_share: interval(*i),
            })
            .collect(),
        overall: interval(est.overall),
        overall_unclear_as_unlawful: interval(est.overall_unclear_as_unlawful),
        judged: est.judged,
        sampled: est.sampled,
        population: est.population,
    }))
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI document of the JSON API.
#[derive(OpenApi)]
#[openapi(
    info(title = "lekdicht review API", description = "Alerts, decisions, reveals, suppression rules, sample audits, the case registry and its report. Authenticate with `Authorization: Bearer <token>` (`lekdicht token add`) or the session cookie plus `X-CSRF-Token`."),
    paths(list_alerts, get_alert, dismiss, escalate, justification, answer, request_reveal, list_reveals, approve_reveal, refuse_reveal, list_rules, create_rule, revoke_rule, draw_sample, judge, report,
        api_cases::list_cases, api_cases::create_case, api_cases::get_case, api_cases::replace_case, api_cases::move_case, api_cases::link_evidence, api_cases::record_sent, api_cases::evidence_proof, api_cases::report),
    components(schemas(ApiAlert, ApiAlertDetail, ApiReason, ApiEvent, ApiEventReason, ApiDecision, Created, ApiReveal, ApiRule, ApiInterval, ApiStratum, ApiReport,
        DismissForm, NoteForm, JustificationForm, AnswerForm, RevealForm, DecisionForm, RuleForm, DrawForm, JudgeForm,
        api_cases::ApiCaseSummary, api_cases::ApiCase, api_cases::ApiHistory, api_cases::ApiEvidence, api_cases::MoveRequest, api_cases::EvidenceRequest, api_cases::Linked, api_cases::SentRequest, api_cases::Rejection, api_cases::ApiFieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

async fn openapi(_user: CurrentUser) -> Response {
    let json = ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|_| "{}".to_owned());
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{key}", get(get_alert))
        .route("/api/v1/alerts/{key}/dismiss", post(dismiss))
        .route("/api/v1/alerts/{key}/escalate", post(escalate))
        .route("/api/v1/alerts/{key}/justification", post(justification))
        .route("/api/v1/alerts/{key}/answer", post(answer))
        .route("/api/v1/alerts/{key}/reveals", post(request_reveal))
        .route("/api/v1/reveals", get(list_reveals))
        .route("/api/v1/reveals/{id}/approve", post(approve_reveal))
        .route("/api/v1/reveals/{id}/refuse", post(refuse_reveal))
        .route("/api/v1/rules", get(list_rules).post(create_rule))
        .route("/api/v1/rules/{id}/revoke", post(revoke_rule))
        .route("/api/v1/samples", post(draw_sample))
        .route("/api/v1/samples/{id}/items/{seq}", post(judge))
        .route("/api/v1/samples/{id}/report", get(report))
}
