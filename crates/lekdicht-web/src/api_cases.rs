//! The case registry in the JSON API (`/api/v1/cases/...` and `/api/v1/reports`): list, register,
//! read, replace the facts, move through the lifecycle, link evidence, record that breach
//! messages were sent, download an access's inclusion proof, and the organisation's report.
//!
//! The operations are those of the case pages ([`crate::case_ops`]), with the same permissions,
//! organisation isolation, validation and audit trail. Cases travel in the registry's JSON shape
//! (the `lekdicht-cases` model, codes in English); on the way out the employee appears as a
//! pseudonym and alerts by their handles. A rejected change answers 422 with the messages per
//! field.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use lekdicht_cases::{Case, CaseStatus, Report};
use lekdicht_review::Permission;
use lekdicht_store::{CaseFilter, CaseStore, EvidenceKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::alerts::alert_key;
use crate::api::Created;
use crate::auth::CurrentUser;
use crate::case_ops::{self, Checked, EvidenceRef, Sent};
use crate::cases::{FieldMessage, load_case};
use crate::cases_i18n::case_texts;
use crate::error::AppError;
use crate::view::audit_entry;
use crate::{AppState, St};

/// Filters of the case list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CaseQuery {
    /// A status code: registered, under_investigation, decided, closed.
    pub status: Option<String>,
    /// Year of the signal date.
    pub year: Option<i32>,
}

/// One case in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiCaseSummary {
    pub id: String,
    pub status: String,
    /// `YYYY-MM-DD`.
    pub signal_date: String,
    pub closure_date: Option<String>,
    pub retention_until: Option<String>,
}

/// A case with its history and evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiCase {
    /// The case in the registry's JSON shape; `suspect.employee` is a pseudonym and
    /// `source_alert` an alert handle.
    #[schema(value_type = Object)]
    pub case: Case,
    pub retention_until: Option<String>,
    pub history: Vec<ApiHistory>,
    pub evidence: Vec<ApiEvidence>,
}

/// One lifecycle step.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiHistory {
    pub from: Option<String>,
    pub to: String,
    pub by: String,
    /// RFC 3339.
    pub at: String,
    pub note: String,
}

/// One linked alert or access.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiEvidence {
    /// `alert` or `event`.
    pub kind: String,
    /// The alert's handle, or the access's sequence number (its ledger leaf index).
    pub reference: String,
    pub added_by: String,
    pub added_at: String,
    pub note: String,
}

/// A lifecycle move.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveRequest {
    /// The status to move to.
    pub to: String,
    #[serde(default)]
    pub note: String,
}

/// Evidence to link.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvidenceRequest {
    /// `alert` (with the alert's accesses) or `event`.
    pub kind: String,
    /// The alert's handle, or the access's sequence number.
    pub reference: String,
    #[serde(default)]
    pub note: String,
}

/// How many evidence rows a link added.
#[derive(Debug, Serialize, ToSchema)]
pub struct Linked {
    pub added: u64,
}

/// That a data-breach message was sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SentRequest {
    /// `authority` (the notification to the Autoriteit Persoonsgegevens) or `subjects` (the
    /// letters to the data subjects).
    pub what: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
}

/// Why a change was not stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rejection {
    pub errors: Vec<ApiFieldError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiFieldError {
    pub field: String,
    pub message: String,
}

fn rejection(errors: Vec<FieldMessage>) -> Response {
    let body = Rejection {
        errors: errors
            .into_iter()
            .map(|e| ApiFieldError {
                field: e.field,
                message: e.message,
            })
            .collect(),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

fn one_error(field: &str, message: &str) -> Response {
    rejection(vec![FieldMessage {
        field: field.to_owned(),
        message: message.to_owned(),
    }])
}

fn answer<T>(checked: Checked<T>, done: impl FnOnce(T) -> Response) -> Response {
    match checked {
        Checked::Done(value) => done(value),
        Checked::Rejected(errors) => rejection(errors),
    }
}

#[utoipa::path(get, path = "/api/v1/cases", params(CaseQuery),
    responses((status = 200, description = "The organisation's cases by signal date", body = [ApiCaseSummary])))]
pub(crate) async fn list_cases(
    State(state): St,
    user: CurrentUser,
    Query(q): Query<CaseQuery>,
) -> Result<Json<Vec<ApiCaseSummary>>, AppError> {
    user.require(Permission::ViewCases)?;
    let org = user.organisation.clone();
    let status = q.status.clone();
    let rows = state
        .pool
        .run(move |s| {
            Ok(s.cases(&CaseFilter {
                organisation: Some(org),
                status,
            })?)
        })
        .await?;
    state
        .audit
        .record(audit_entry(
            &user,
            "case_list",
            "cases",
            serde_json::json!({ "status": q.status, "year": q.year, "api": true }),
        ))
        .await?;
    let year = q.year.map(|y| format!("{y:04}-"));
    Ok(Json(
        rows.into_iter()
            .filter(|r| year.as_deref().is_none_or(|y| r.signal_date.starts_with(y)))
            .map(|r| ApiCaseSummary {
                id: r.id,
                status: r.status,
                signal_date: r.signal_date,
                closure_date: r.closure_date,
                retention_until: r.retention_until,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/cases", request_body(content = Object, description = "A case in the registry's JSON shape; it starts registered, and its status, the times it was established and notified, its evidence and the employee are ignored"),
    responses((status = 201, body = Created), (status = 403), (status = 422, body = Rejection)))]
pub(crate) async fn create_case(
    State(state): St,
    user: CurrentUser,
    Json(case): Json<Case>,
) -> Result<Response, AppError> {
    let checked = case_ops::create_case(&state, &user, case).await?;
    Ok(answer(checked, |id| {
        (StatusCode::CREATED, Json(Created { id })).into_response()
    }))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ApiCase), (status = 404)))]
pub(crate) async fn get_case(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ApiCase>, AppError> {
    user.require(Permission::ViewCases)?;
    let org = user.organisation.clone();
    let data = state.pool.run(move |s| load_case(s, &org, &id)).await?;
    state
        .audit
        .record(audit_entry(
            &user,
            "case_view",
            &format!("case:{}", data.row.id),
            serde_json::json!({ "case": data.row.id, "api": true }),
        ))
        .await?;
    let org = &user.organisation;
    let ps = &state.pseudonyms;
    let mut case = data.case;
    case.suspect.employee = case.suspect.employee.map(|e| ps.employee(org, &e));
    case.source_alert = case.source_alert.map(|a| alert_key(ps, org, &a));
    case.alerts = case.alerts.iter().map(|a| alert_key(ps, org, a)).collect();
    Ok(Json(ApiCase {
        case,
        retention_until: data.row.retention_until,
        history: data
            .history
            .into_iter()
            .map(|h| ApiHistory {
                from: h.from_status,
                to: h.to_status,
                by: h.by,
                at: h.at,
                note: h.note,
            })
            .collect(),
        evidence: data
            .evidence
            .into_iter()
            .map(|e| ApiEvidence {
                kind: e.kind.as_str().to_owned(),
                reference: match e.kind {
                    EvidenceKind::Alert => alert_key(ps, org, &e.reference),
                    EvidenceKind::Event => e.reference,
                },
                added_by: e.added_by,
                added_at: e.added_at,
                note: e.note,
            })
            .collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/cases/{id}", params(("id" = String, Path)),
    request_body(content = Object, description = "The case's new facts in the registry's JSON shape; the lifecycle, evidence and employee are kept"),
    responses((status = 204, description = "saved"), (status = 404), (status = 422, body = Rejection)))]
pub(crate) async fn replace_case(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(case): Json<Case>,
) -> Result<Response, AppError> {
    let checked = case_ops::replace_facts(&state, &user, &id, case).await?;
    Ok(answer(checked, |()| StatusCode::NO_CONTENT.into_response()))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/status", params(("id" = String, Path)), request_body = MoveRequest,
    responses((status = 204, description = "moved"), (status = 404), (status = 422, body = Rejection)))]
pub(crate) async fn move_case(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<MoveRequest>,
) -> Result<Response, AppError> {
    let Some(to) = CaseStatus::parse(&req.to) else {
        user.require(Permission::WorkCases)?;
        return Ok(one_error("to", "unknown status"));
    };
    let checked = case_ops::move_case(&state, &user, &id, to, &req.note).await?;
    Ok(answer(checked, |()| StatusCode::NO_CONTENT.into_response()))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/evidence", params(("id" = String, Path)), request_body = EvidenceRequest,
    responses((status = 200, body = Linked), (status = 404), (status = 422, body = Rejection)))]
pub(crate) async fn link_evidence(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<EvidenceRequest>,
) -> Result<Response, AppError> {
    let what = match req.kind.as_str() {
        "alert" => EvidenceRef::Alert(&req.reference),
        "event" => EvidenceRef::Event(&req.reference),
        _ => {
            user.require(Permission::WorkCases)?;
            return Ok(one_error("kind", "kind must be alert or event"));
        }
    };
    let ct = case_texts(lekdicht_review::Lang::En);
    let checked = case_ops::link_evidence(&state, &user, &id, what, &req.note, ct).await?;
    Ok(answer(checked, |added| {
        Json(Linked { added }).into_response()
    }))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/sent", params(("id" = String, Path)), request_body = SentRequest,
    responses((status = 204, description = "recorded"), (status = 404), (status = 422, body = Rejection)))]
pub(crate) async fn record_sent(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<SentRequest>,
) -> Result<Response, AppError> {
    let Some(what) = Sent::parse(&req.what) else {
        user.require(Permission::WorkCases)?;
        return Ok(one_error("what", "what must be authority or subjects"));
    };
    let ct = case_texts(lekdicht_review::Lang::En);
    let checked = case_ops::record_sent(&state, &user, &id, what, req.at, ct).await?;
    Ok(answer(checked, |()| StatusCode::NO_CONTENT.into_response()))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/evidence/{seq}/proof", params(("id" = String, Path), ("seq" = u64, Path)),
    responses((status = 200, description = "The access's inclusion proof against the latest signed checkpoint", content_type = "application/json"), (status = 400, description = "no checkpoint covers the access yet"), (status = 404)))]
pub(crate) async fn evidence_proof(
    State(state): St,
    user: CurrentUser,
    Path((id, seq)): Path<(String, u64)>,
) -> Result<Response, AppError> {
    let proof = case_ops::evidence_proof(&state, &user, &id, seq).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], proof).into_response())
}

#[utoipa::path(get, path = "/api/v1/reports",
    responses((status = 200, description = "The organisation's case report (codes, counts and shares)", content_type = "application/json")))]
pub(crate) async fn report(State(state): St, user: CurrentUser) -> Result<Json<Report>, AppError> {
    let report = crate::reports::load(&state, &user).await?;
    state
        .audit
        .record(audit_entry(
            &user,
            "report_view",
            "reports",
            serde_json::json!({ "api": true }),
        ))
        .await?;
    Ok(Json(report))
}

/// The case routes of the JSON API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", get(list_cases).post(create_case))
        .route("/api/v1/cases/{id}", get(get_case).put(replace_case))
        .route("/api/v1/cases/{id}/status", post(move_case))
        .route("/api/v1/cases/{id}/evidence", post(link_evidence))
        .route(
            "/api/v1/cases/{id}/evidence/{seq}/proof",
            get(evidence_proof),
        )
        .route("/api/v1/cases/{id}/sent", post(record_sent))
        .route("/api/v1/reports", get(report))
}
