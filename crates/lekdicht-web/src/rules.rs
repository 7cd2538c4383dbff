//! Suppression rules (`/rules`: list, create, revoke; owner, scope, expiry and reason shown,
//! expired rules marked as such, every change audited) and signal precision (`/precision`: per
//! signal, the share of decided alerts that were confirmed, with a Wilson 95% interval).
//!
//! Rule validation and the precision statistics are `lekdicht_review`'s.

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use lekdicht_review::{
    AlertStatus, Lang, Permission, SuppressionRule, SuppressionScope, is_active, signal_precision,
};
use lekdicht_store::{ReviewStore, RuleRow};
use serde::Deserialize;

use crate::alerts::{Choice, domain_rules, org_alerts};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::{signal_label, texts};
use crate::view::{Page, audit_entry, render};
use crate::{AppState, St};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RuleForm {
    #[serde(default)]
    pub signal: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub employee: String,
    #[serde(default)]
    pub system: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub expires: String,
}

pub struct RuleView {
    pub id: String,
    pub signal: String,
    pub scope: String,
    pub owner: String,
    pub reason: String,
    pub created: String,
    pub expires: String,
    pub state: &'static str,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    page: Page,
    rules: Vec<RuleView>,
    signals: Vec<Choice>,
    units: Vec<Choice>,
    default_expiry: String,
    max_expiry: String,
}

fn short(ts: &str) -> String {
    DateTime::parse_from_rfc3339(ts)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| ts.to_owned())
}

async fn list(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    user.require(Permission::ManageSuppressions)?;
    let t = texts(lang);
    let org = user.organisation.clone();
    let rows = state.pool.run(move |s| Ok(s.rules(&org)?)).await?;
    let now = Utc::now();
    let domain = domain_rules(&rows);
    let rules = rows
        .iter()
        .map(|r| {
            let d = domain.iter().find(|d| d.id == r.id);
            let active = d.is_some_and(|d| is_active(d, now));
            let mut scope = Vec::new();
            if let Some(u) = &r.unit {
                let name = state
                    .directory
                    .units
                    .get(u)
                    .map_or(u.as_str(), |(_, n)| n.as_str());
                scope.push(format!("{}: {name}", t.unit));
            }
            if let Some(a) = &r.actor {
                scope.push(format!(
                    "{}: {}",
                    t.employee,
                    state.pseudonyms.employee(&user.organisation, a)
                ));
            }
            if let Some(s) = &r.system {
                scope.push(format!("{}: {s}", t.system));
            }
            RuleView {
                id: r.id.clone(),
                signal: format!("{} ({})", r.signal, signal_label(&r.signal, lang)),
                scope: scope.join(", "),
                owner: r.owner.clone(),
                reason: r.reason.clone(),
                created: short(&r.created_at),
                expires: short(&r.expires_at),
                state: if r.revoked_at.is_some() {
                    t.revoked
                } else if active {
                    t.active
                } else {
                    t.expired
                },
                active,
            }
        })
        .collect();
    let today = now.date_naive();
    render(&RulesPage {
        page: Page::new(lang, t.rules_title, Some(&user)),
        rules,
        signals: lekdicht_detect::SignalCode::ALL
            .iter()
            .map(|c| Choice {
                value: c.as_str().to_owned(),
                label: format!("{}: {}", c.as_str(), signal_label(c.as_str(), lang)),
                selected: false,
            })
            .collect(),
        units: state
            .directory
            .units_of(&user.organisation)
            .into_iter()
            .map(|(value, label)| Choice {
                value,
                label,
                selected: false,
            })
            .collect(),
        default_expiry: (today + chrono::Duration::days(90)).to_string(),
        max_expiry: (today + chrono::Duration::days(lekdicht_review::MAX_RULE_DAYS)).to_string(),
    })
}

async fn create(
    State(state): St,
    user: CurrentUser,
    Form(form): Form<RuleForm>,
) -> Result<Response, AppError> {
    create_rule(&state, &user, form).await?;
    Ok(Redirect::to("/rules").into_response())
}

/// Validates and stores a suppression rule of the user's organisation; returns its id.
pub async fn create_rule(
    state: &AppState,
    user: &CurrentUser,
    form: RuleForm,
) -> Result<String, AppError> {
    user.require(Permission::ManageSuppressions)?;
    let now = Utc::now();
    let expires_at = NaiveDate::parse_from_str(form.expires.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc())
        .ok_or_else(|| AppError::BadRequest("a rule needs an expiry date".into()))?;
    let (unit, actor) = if form.scope == "unit" {
        let unit = form.unit.trim().to_owned();
        if !state
            .directory
            .units_of(&user.organisation)
            .iter()
            .any(|(id, _)| *id == unit)
        {
            return Err(AppError::BadRequest(
                "choose a unit of your organisation".into(),
            ));
        }
        (Some(unit), None)
    } else {
        let pseudonym = form.employee.trim();
        let actor = state
            .directory
            .employees
            .iter()
            .filter(|(_, e)| e.organisation == user.organisation)
            .map(|(id, _)| id)
            .find(|id| state.pseudonyms.employee(&user.organisation, id) == pseudonym)
            .cloned()
            .ok_or_else(|| AppError::BadRequest("no employee with that pseudonym".into()))?;
        (None, Some(actor))
    };
    let system = Some(form.system.trim().to_owned()).filter(|s| !s.is_empty());
    let rule = SuppressionRule {
        id: format!("R-{}", now.timestamp_millis()),
        organisation: user.organisation.clone(),
        signal: form.signal.trim().to_owned(),
        scope: SuppressionScope {
            unit,
            actor,
            system,
        },
        owner: user.username.clone(),
        reason: form.reason.trim().to_owned(),
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    let known: Vec<&str> = lekdicht_detect::SignalCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    lekdicht_review::validate(&rule, &known, now)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let row = RuleRow {
        id: rule.id.clone(),
        organisation: rule.organisation.clone(),
        signal: rule.signal.clone(),
        unit: rule.scope.unit.clone(),
        actor: rule.scope.actor.clone(),
        system: rule.scope.system.clone(),
        owner: rule.owner.clone(),
        reason: rule.reason.clone(),
        created_at: now.to_rfc3339(),
        expires_at: expires_at.to_rfc3339(),
        revoked_at: None,
    };
    let audit = audit_entry(
        user,
        "rule_create",
        &format!("rule:{}", row.id),
        serde_json::json!({
            "signal": row.signal,
            "unit": row.unit,
            // The employee by pseudonym: the audit trail is read before any reveal.
            "employee": row.actor.as_ref().map(|a| state.pseudonyms.employee(&row.organisation, a)),
            "system": row.system,
            "reason": row.reason,
            "expires_at": row.expires_at,
        }),
    );
    let id = row.id.clone();
    state
        .pool
        .run(move |s| Ok(s.create_rule(&row, &audit)?))
        .await?;
    Ok(id)
}

async fn revoke(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    revoke_rule(&state, &user, id).await?;
    Ok(Redirect::to("/rules").into_response())
}

/// Revokes an active rule of the user's organisation (`NotFound` otherwise).
pub async fn revoke_rule(state: &AppState, user: &CurrentUser, id: String) -> Result<(), AppError> {
    user.require(Permission::ManageSuppressions)?;
    let audit = audit_entry(
        user,
        "rule_revoke",
        &format!("rule:{id}"),
        serde_json::json!({}),
    );
    let org = user.organisation.clone();
    let done = state
        .pool
        .run(move |s| Ok(s.revoke_rule(&id, &org, Utc::now(), &audit)?))
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(())
}

pub struct PrecisionView {
    pub signal: String,
    pub label: String,
    pub confirmed: u64,
    pub dismissed: u64,
    pub precision: String,
    pub interval: String,
}

#[derive(Template)]
#[template(path = "precision.html")]
struct PrecisionPage {
    page: Page,
    rows: Vec<PrecisionView>,
}

async fn precision(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    user.require(Permission::ViewPrecision)?;
    let org = user.organisation.clone();
    let st = state.clone();
    let alerts = state
        .pool
        .run(move |s| org_alerts(s, &st.directory, &st.pseudonyms, &org))
        .await?;
    let decided: Vec<(Vec<String>, lekdicht_review::Outcome)> = alerts
        .iter()
        .filter_map(|a| {
            AlertStatus::parse(&a.row.status)
                .and_then(|s| s.outcome())
                .map(|o| (a.signals(), o))
        })
        .collect();
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let rows = signal_precision(decided.iter().map(|(s, o)| (s.as_slice(), *o)))
        .into_iter()
        .map(|p| PrecisionView {
            label: signal_label(&p.signal, lang),
            signal: p.signal,
            confirmed: p.confirmed,
            dismissed: p.dismissed,
            precision: p.precision.map(|i| pct(i.estimate)).unwrap_or_default(),
            interval: p
                .precision
                .map(|i| format!("{} – {}", pct(i.low), pct(i.high)))
                .unwrap_or_default(),
        })
        .collect();
    render(&PrecisionPage {
        page: Page::new(lang, texts(lang).precision_title, Some(&user)),
        rows,
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(list).post(create))
        .route("/rules/{id}/revoke", post(revoke))
        .route("/precision", get(precision))
}
