//! Reveals with four-eyes approval: a user with RequestReveal asks to see one alert's employee or
//! one of its subjects with a reason; a different user of the same organisation with
//! ApproveReveal approves or refuses (self-approval is refused here, on the server, and so is an
//! approval by an account that also holds the requesting side or shares its creator with the
//! requester, who would know both initial passwords); an approved
//! reveal shows the real identity to the requester on that alert for 24 hours. Every step is in
//! the audit trail; `/reveals` lists them.

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use lekdicht_review::{Account, Lang, Permission, Role, independent_sides};
use lekdicht_store::{NewReveal, RevealDecision, ReviewStore};
use serde::Deserialize;

use crate::alerts::{alert_events, find_alert};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::texts;
use crate::view::{Page, audit_entry, render};
use crate::{AppState, St};

/// How long an approved reveal shows the identity.
pub const REVEAL_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RevealForm {
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionForm {
    #[serde(default)]
    pub note: String,
}

async fn request(
    State(state): St,
    user: CurrentUser,
    Path(key): Path<String>,
    Form(form): Form<RevealForm>,
) -> Result<Response, AppError> {
    request_reveal(&state, &user, key.clone(), form).await?;
    Ok(Redirect::to(&format!("/alerts/{key}")).into_response())
}

/// Files a reveal request on an alert of the user's organisation; returns its id.
pub async fn request_reveal(
    state: &AppState,
    user: &CurrentUser,
    key: String,
    form: RevealForm,
) -> Result<i64, AppError> {
    user.require(Permission::RequestReveal)?;
    let reason = form.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(AppError::BadRequest("a reveal needs a reason".into()));
    }
    let st = state.clone();
    let u = user.clone();
    state
        .pool
        .run(move |s| {
            let alert = find_alert(s, &st, &u.organisation, &key)?;
            let (target, subject) = if form.target == "employee" {
                ("employee", None)
            } else {
                let pseudonym = form
                    .target
                    .strip_prefix("subject:")
                    .ok_or_else(|| AppError::BadRequest("choose whom to reveal".into()))?;
                let subject = alert_events(s, &alert)?
                    .into_iter()
                    .filter_map(|(e, _)| e.event.subject.map(|s| s.as_str().to_owned()))
                    .find(|id| st.pseudonyms.subject(&u.organisation, id) == pseudonym)
                    .ok_or(AppError::NotFound)?;
                ("subject", Some(subject))
            };
            let audit = audit_entry(
                &u,
                "reveal_request",
                &alert.key,
                serde_json::json!({ "target": target, "reason": reason }),
            );
            s.request_reveal(
                &NewReveal {
                    organisation: u.organisation.clone(),
                    alert_id: alert.row.id.clone(),
                    target: target.to_owned(),
                    subject,
                    reason,
                    requested_by: u.username.clone(),
                    at: Utc::now(),
                },
                &audit,
            )
            .map_err(AppError::from)
        })
        .await
}

/// Whether the approving account is independent of the requesting one (see
/// `lekdicht_review::independent_sides`): not the same account, not holding both sides, and not
/// created by the same person or by one another. A vanished requester account counts as not
/// independent.
fn independent_of_requester(
    s: &mut lekdicht_store::SqliteStore,
    approver: &CurrentUser,
    requested_by: &str,
) -> Result<bool, AppError> {
    let (Some(requester), Some(own)) = (
        s.user_by_username(requested_by)?,
        s.user_by_username(&approver.username)?,
    ) else {
        return Ok(false);
    };
    let requester_roles: Vec<Role> = requester
        .roles
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect();
    let requester = Account {
        username: &requester.username,
        created_by: &requester.created_by,
        roles: &requester_roles,
    };
    let approver = Account {
        username: &approver.username,
        created_by: &own.created_by,
        roles: &approver.roles,
    };
    Ok(independent_sides(requester, approver))
}

/// Approves or refuses a pending reveal of the user's organisation (never the user's own).
pub async fn decide_reveal(
    state: &AppState,
    user: CurrentUser,
    id: i64,
    approve: bool,
    note: String,
) -> Result<(), AppError> {
    user.require(Permission::ApproveReveal)?;
    let st = state.clone();
    state
        .pool
        .run(move |s| {
            let reveal = s
                .reveal(id)?
                .filter(|r| r.organisation == user.organisation)
                .ok_or(AppError::NotFound)?;
            if reveal.requested_by == user.username {
                return Err(AppError::Forbidden);
            }
            // A confirmation must come from someone other than whoever holds the request.
            if approve && !independent_of_requester(s, &user, &reveal.requested_by)? {
                return Err(AppError::Forbidden);
            }
            let now = Utc::now();
            let decision = if approve { "approved" } else { "refused" };
            let audit = audit_entry(
                &user,
                if approve { "reveal_approve" } else { "reveal_refuse" },
                &format!("reveal:{id}"),
                serde_json::json!({
                    "alert": crate::alerts::alert_key(&st.pseudonyms, &user.organisation, &reveal.alert_id),
                    "requested_by": reveal.requested_by,
                    "note": note,
                }),
            );
            let done = s.decide_reveal(
                &RevealDecision {
                    id,
                    decision: decision.to_owned(),
                    decided_by: user.username.clone(),
                    note,
                    at: now,
                    expires_ms: approve.then(|| now.timestamp_millis() + REVEAL_MS),
                },
                &audit,
            )?;
            if !done {
                return Err(AppError::BadRequest("the request was decided already".into()));
            }
            Ok(())
        })
        .await
}

async fn approve(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, AppError> {
    decide_reveal(&state, user, id, true, form.note).await?;
    Ok(Redirect::to("/reveals").into_response())
}

async fn refuse(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, AppError> {
    decide_reveal(&state, user, id, false, form.note).await?;
    Ok(Redirect::to("/reveals").into_response())
}

pub struct RevealItem {
    pub id: i64,
    pub alert: String,
    pub target: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub state: &'static str,
    pub decided_by: String,
    pub expires: String,
    pub can_decide: bool,
}

#[derive(Template)]
#[template(path = "reveals.html")]
struct RevealsPage {
    page: Page,
    items: Vec<RevealItem>,
}

async fn list(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let sees_all = user.can(Permission::ViewReveals) || user.can(Permission::ApproveReveal);
    if !sees_all && !user.can(Permission::RequestReveal) {
        return Err(AppError::Forbidden);
    }
    let t = texts(lang);
    let org = user.organisation.clone();
    let rows = state.pool.run(move |s| Ok(s.reveals(&org)?)).await?;
    let can_approve = user.can(Permission::ApproveReveal);
    let items = rows
        .into_iter()
        .filter(|r| sees_all || r.requested_by == user.username)
        .map(|r| RevealItem {
            id: r.id,
            alert: crate::alerts::alert_key(&state.pseudonyms, &user.organisation, &r.alert_id),
            target: match &r.subject {
                Some(s) => state.pseudonyms.subject(&user.organisation, s),
                None => t.reveal_employee.to_owned(),
            },
            reason: r.reason.clone(),
            can_decide: can_approve && r.decision.is_none() && r.requested_by != user.username,
            state: match r.decision.as_deref() {
                Some("approved") => t.approved,
                Some("refused") => t.refused,
                _ => t.pending,
            },
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            decided_by: r.decided_by.unwrap_or_default(),
            expires: r
                .expires_ms
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
        })
        .collect();
    render(&RevealsPage {
        page: Page::new(lang, t.reveals_title, Some(&user)),
        items,
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reveals", get(list))
        .route("/alerts/{key}/reveal", post(request))
        .route("/reveals/{id}/approve", post(approve))
        .route("/reveals/{id}/refuse", post(refuse))
}
