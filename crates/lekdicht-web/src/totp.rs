//! The optional second factor of local accounts: a TOTP code (RFC 6238, SHA-1, six digits, 30
//! seconds, one step of clock skew) from an authenticator app.
//!
//! A user enrols on `/account/totp`: lekdicht draws a 160-bit secret and shows it once, as text and
//! as an `otpauth://` link, and stores it only after the user typed a code that it produces. From
//! then on the login asks for a code besides the password, and each time step's code is accepted
//! once. An administrator of the organisation removes a lost factor
//! (`/admin/users/{id}/reset-totp`), which the audit trail records; the user can then enrol again.
//! Accounts of single sign-on have no factor here: their provider asks for its own.

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lekdicht_review::{Lang, Permission};
use lekdicht_store::{ReviewStore, SigninStore, SqliteStore, UserRow};
use serde::Deserialize;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::texts;
use crate::view::{Page, audit_entry, render};
use crate::{AppState, St};

/// The TOTP of a base32 secret for an account.
fn totp(secret: &str, username: &str) -> Result<Totp, AppError> {
    let secret = Secret::try_from_base32(secret)
        .map_err(|_| AppError::internal("a second-factor secret is not base32"))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some("lekdicht"))
        .with_account_name(username.replace(':', "-"))
        .build()
        .map_err(|e| AppError::internal(format!("second factor: {e}")))
}

/// The time step that `code` matches for `secret` now, if any.
pub fn code_step(secret: &str, username: &str, code: &str) -> Result<Option<u64>, AppError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(totp(secret, username)?.check_current(&code))
}

/// Whether `code` is a valid code of `user`'s factor that was not used before (and records its
/// use); true for an account without a factor.
pub fn second_factor_ok(
    store: &mut SqliteStore,
    user: &UserRow,
    code: &str,
) -> Result<bool, AppError> {
    let Some(secret) = &user.totp_secret else {
        return Ok(true);
    };
    let Some(step) = code_step(secret, &user.username, code)? else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    Ok(store.use_totp_step(user.id, step)?)
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    page: Page,
    enrolled: bool,
    single_sign_on: bool,
    /// A new secret and its otpauth link, shown once, while enrolling.
    secret: Option<String>,
    link: Option<String>,
    error: Option<&'static str>,
    done: bool,
}

impl TotpPage {
    fn new(lang: Lang, user: &CurrentUser, row: &UserRow) -> TotpPage {
        TotpPage {
            page: Page::new(lang, texts(lang).totp_title, Some(user)),
            enrolled: row.totp_secret.is_some(),
            single_sign_on: row.single_sign_on,
            secret: None,
            link: None,
            error: None,
            done: false,
        }
    }
}

async fn account_row(state: &AppState, user: &CurrentUser) -> Result<UserRow, AppError> {
    let username = user.username.clone();
    state
        .pool
        .run(move |s| s.user_by_username(&username)?.ok_or(AppError::NotFound))
        .await
}

/// `GET /account/totp`: whether the factor is set, and the button to set one up.
async fn show(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let row = account_row(&state, &user).await?;
    render(&TotpPage::new(lang, &user, &row))
}

/// `POST /account/totp/new`: a new secret, shown once, and the form to confirm it with a code.
async fn enrol(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let row = account_row(&state, &user).await?;
    if row.single_sign_on || row.totp_secret.is_some() {
        return Err(AppError::BadRequest(
            "this account cannot set up a second factor here".into(),
        ));
    }
    let secret = Secret::generate().to_base32();
    let link = totp(&secret, &user.username)?
        .to_url()
        .map_err(|e| AppError::internal(format!("second factor: {e}")))?;
    render(&TotpPage {
        secret: Some(secret),
        link: Some(link),
        ..TotpPage::new(lang, &user, &row)
    })
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub secret: String,
    #[serde(default)]
    pub code: String,
}

/// `POST /account/totp`: stores the secret once a code of it is typed.
async fn confirm(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let row = account_row(&state, &user).await?;
    if row.single_sign_on || row.totp_secret.is_some() {
        return Err(AppError::BadRequest(
            "this account cannot set up a second factor here".into(),
        ));
    }
    let secret = form.secret.trim().to_owned();
    if !Secret::try_from_base32(&secret).is_ok_and(|s| s.as_bytes().len() >= 20) {
        return Err(AppError::BadRequest("not a secret of lekdicht".into()));
    }
    if code_step(&secret, &user.username, &form.code)?.is_none() {
        let link = totp(&secret, &user.username)?.to_url().ok();
        return render(&TotpPage {
            error: Some(texts(lang).totp_wrong_code),
            secret: Some(secret),
            link,
            ..TotpPage::new(lang, &user, &row)
        });
    }
    let audit = audit_entry(
        &user,
        "totp_enrol",
        &format!("user:{}", user.username),
        serde_json::json!({}),
    );
    let id = row.id;
    state
        .pool
        .run(move |s| Ok(s.set_totp(id, Some(&secret), &audit)?))
        .await?;
    render(&TotpPage {
        enrolled: true,
        done: true,
        ..TotpPage::new(lang, &user, &row)
    })
}

/// `POST /admin/users/{id}/reset-totp`: an administrator removes the factor of an account of the
/// organisation (a lost phone); the user logs in with the password alone and can enrol again.
async fn reset(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    user.require(Permission::ManageUsers)?;
    let admin = user.clone();
    state
        .pool
        .run(move |s| {
            let target = s
                .users()?
                .into_iter()
                .find(|u| u.id == id && u.organisation == admin.organisation)
                .ok_or(AppError::NotFound)?;
            if target.totp_secret.is_none() {
                return Err(AppError::BadRequest(
                    "the account has no second factor".into(),
                ));
            }
            let audit = audit_entry(
                &admin,
                "totp_reset",
                &format!("user:{}", target.username),
                serde_json::json!({}),
            );
            s.set_totp(id, None, &audit)?;
            Ok(())
        })
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/totp", get(show).post(confirm))
        .route("/account/totp/new", post(enrol))
        .route("/admin/users/{id}/reset-totp", post(reset))
}
