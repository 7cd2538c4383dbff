//! The page frame shared by every page ([`Page`]: language, navigation by permission, CSRF token),
//! rendering helpers, and the login, logout and home routes.

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lekdicht_review::{Lang, Permission};
use lekdicht_store::{NewAudit, ReviewStore};

use crate::auth::{self, CurrentUser, LoginOutcome};
use crate::error::AppError;
use crate::i18n::{Texts, texts};
use crate::{AppState, St};

/// Navigation entries the user may see.
pub struct Nav {
    pub name: String,
    pub organisation: String,
    pub alerts: bool,
    pub reveals: bool,
    pub audit: bool,
    pub rules: bool,
    pub precision: bool,
    pub samples: bool,
    pub cases: bool,
    pub reports: bool,
    pub users: bool,
    pub tokens: bool,
    pub grants: bool,
}

/// What the page frame needs.
pub struct Page {
    pub t: &'static Texts,
    pub lang: Lang,
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
}

impl Page {
    pub fn new(lang: Lang, title: &str, user: Option<&CurrentUser>) -> Page {
        Page {
            t: texts(lang),
            lang,
            title: title.to_owned(),
            nav: user.map(|u| Nav {
                name: u.display_name.clone(),
                organisation: u.organisation.clone(),
                alerts: u.can(Permission::ViewAlerts),
                reveals: u.can(Permission::ViewReveals)
                    || u.can(Permission::ApproveReveal)
                    || u.can(Permission::RequestReveal),
                audit: u.can(Permission::ViewAuditTrail),
                rules: u.can(Permission::ManageSuppressions),
                precision: u.can(Permission::ViewPrecision),
                samples: u.can(Permission::DrawSample)
                    || u.can(Permission::JudgeSample)
                    || u.can(Permission::ViewSampleReport),
                cases: u.can(Permission::ViewCases),
                reports: u.can(Permission::ViewReports),
                users: u.can(Permission::ManageUsers),
                tokens: true,
                grants: u.can(Permission::ConfirmRoleGrants),
            }),
            csrf: user.map(|u| u.csrf.clone()).unwrap_or_default(),
        }
    }

    /// The `hx-headers` attribute value carrying the CSRF token for htmx requests.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ "X-CSRF-Token": self.csrf }).to_string()
    }
}

/// Renders a template into an HTML response.
pub fn render(template: &impl Template) -> Result<Response, AppError> {
    Ok(Html(template.render()?).into_response())
}

/// An audit entry by the current user.
pub fn audit_entry(
    user: &CurrentUser,
    action: &str,
    object: &str,
    details: serde_json::Value,
) -> NewAudit {
    NewAudit {
        organisation: user.organisation.clone(),
        actor: user.username.clone(),
        action: action.to_owned(),
        object: object.to_owned(),
        details,
        at: chrono::Utc::now(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    page: Page,
    /// The request came over plain HTTP to a host other than this computer, where a browser drops
    /// the Secure session cookie.
    plain_http: bool,
    error: Option<&'static str>,
    username: String,
    /// The name of the organisation's OpenID provider, when single sign-on is configured.
    sso: Option<String>,
}

impl LoginPage {
    pub(crate) fn new(
        lang: Lang,
        headers: &HeaderMap,
        error: Option<&'static str>,
        sso: Option<&str>,
    ) -> LoginPage {
        LoginPage {
            page: Page::new(lang, texts(lang).login_title, None),
            plain_http: plain_http(headers),
            error,
            username: String::new(),
            sso: sso.map(str::to_owned),
        }
    }
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// The second factor's code, for accounts that have one.
    #[serde(default)]
    pub code: String,
}

/// Whether a browser would drop the Secure session cookie of this request: no proxy said the
/// original request was HTTPS, and the host is not this computer (where browsers accept Secure
/// cookies over HTTP).
fn plain_http(headers: &HeaderMap) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let https = header("x-forwarded-proto").eq_ignore_ascii_case("https")
        || header("forwarded")
            .to_ascii_lowercase()
            .contains("proto=https");
    let host = header("host");
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "");
    !https && !local
}

async fn login_page(
    State(state): St,
    Extension(lang): Extension<Lang>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let sso = state.sso.as_ref().map(|s| s.label());
    render(&LoginPage::new(lang, &headers, None, sso))
}

async fn login_submit(
    State(state): St,
    Extension(lang): Extension<Lang>,
    headers: HeaderMap,
    req_parts: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let ip = auth::client_ip(&req_parts, &headers, &state.trusted_proxies);
    let username = form.username.trim().to_owned();
    let name = username.clone();
    let outcome = state
        .pool
        .run(move |s| auth::login(s, &name, &form.password, &form.code, &ip))
        .await?;
    let t = texts(lang);
    let retry_after = match outcome {
        LoginOutcome::Throttled { retry_after_s } => Some(retry_after_s),
        _ => None,
    };
    let (status, error) = match outcome {
        LoginOutcome::Success(token) => {
            return Ok((
                StatusCode::SEE_OTHER,
                [
                    (header::SET_COOKIE, auth::session_cookie(&token)),
                    (header::LOCATION, "/".to_owned()),
                ],
            )
                .into_response());
        }
        LoginOutcome::Failed => (StatusCode::UNAUTHORIZED, t.login_failed),
        LoginOutcome::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, t.login_throttled),
    };
    let sso = state.sso.as_ref().map(|s| s.label());
    let html = LoginPage {
        username,
        ..LoginPage::new(lang, &headers, Some(error), sso)
    }
    .render()?;
    let mut response = (status, Html(html)).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    Ok(response)
}

async fn logout(State(state): St, user: CurrentUser) -> Result<Response, AppError> {
    if let Some(hash) = user.session.clone() {
        let audit = audit_entry(
            &user,
            "logout",
            &format!("user:{}", user.username),
            serde_json::json!({}),
        );
        state
            .pool
            .run(move |s| Ok(s.delete_session(&hash, &audit)?))
            .await?;
    }
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, auth::clear_cookie()),
            (header::LOCATION, "/login".to_owned()),
        ],
    )
        .into_response())
}

/// The first page the user's roles open: the alert queue, or else the cases, the samples, the
/// accounts, the audit trail or the API tokens.
async fn home(user: CurrentUser) -> Redirect {
    let first = [
        (Permission::ViewAlerts, "/alerts"),
        (Permission::ViewCases, "/cases"),
        (Permission::ViewSampleReport, "/samples"),
        (Permission::ManageUsers, "/admin/users"),
        (Permission::ViewAuditTrail, "/audit"),
        (Permission::ManageApiTokens, "/admin/tokens"),
    ]
    .into_iter()
    .find(|(permission, _)| user.can(*permission))
    .map_or("/alerts", |(_, path)| path);
    Redirect::to(first)
}

use axum::extract::State;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/login/sso", get(crate::sso::start))
        .route("/login/sso/callback", get(crate::sso::callback))
        .route("/logout", post(logout))
}
