//! Administration of the admin's own organisation: user accounts (`/admin/users`: list, create
//! with an Argon2id password hash, disable and enable) and API tokens (`/admin/tokens`: list,
//! create — the token text is shown once — and revoke). Every change is audited in the same
//! transaction; users and tokens of other organisations are invisible and answer 404.
//!
//! It deliberately does not edit roles or passwords of existing accounts, nor delete accounts.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::DateTime;
use lekdicht_review::{Lang, Permission, Role};
use lekdicht_store::{NewUser, ReviewStore, UserRow};

use crate::admin_i18n::{AdminTexts, admin_texts};
use crate::auth::{CurrentUser, MIN_PASSWORD_LEN, hash_password, new_token};
use crate::error::AppError;
use crate::view::{Page, audit_entry};
use crate::{AppState, St};

/// One account as listed.
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub created: String,
    pub active: bool,
    pub is_self: bool,
}

/// A role checkbox.
pub struct RoleChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// One API token as listed (never its text).
pub struct TokenView {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    page: Page,
    a: &'static AdminTexts,
    users: Vec<UserView>,
    roles: Vec<RoleChoice>,
    error: Option<String>,
    form_username: String,
    form_display: String,
    min_password: usize,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    page: Page,
    a: &'static AdminTexts,
    tokens: Vec<TokenView>,
    usernames: Vec<String>,
    new_token: Option<String>,
    error: Option<String>,
}

fn short(ts: &str) -> String {
    DateTime::parse_from_rfc3339(ts)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| ts.to_owned())
}

fn html(status: StatusCode, template: &impl Template) -> Result<Response, AppError> {
    Ok((status, Html(template.render()?)).into_response())
}

async fn org_users(state: &AppState, org: &str) -> Result<Vec<UserRow>, AppError> {
    let org = org.to_owned();
    state
        .pool
        .run(move |s| {
            Ok(s.users()?
                .into_iter()
                .filter(|u| u.organisation == org)
                .collect())
        })
        .await
}

/// What the user form held, to show it again after an error.
#[derive(Default)]
struct UserFormEcho {
    username: String,
    display_name: String,
    roles: Vec<String>,
}

async fn users_page(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
    echo: UserFormEcho,
) -> Result<Response, AppError> {
    let a = admin_texts(lang);
    let rows = org_users(state, &user.organisation).await?;
    let users = rows
        .into_iter()
        .map(|r| UserView {
            roles: r
                .roles
                .iter()
                .map(|code| Role::parse(code).map_or(code.clone(), |role| role.label(lang).into()))
                .collect::<Vec<_>>()
                .join(", "),
            created: short(&r.created_at),
            active: !r.disabled,
            is_self: r.id == user.id,
            id: r.id,
            username: r.username,
            display_name: r.display_name,
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .map(|r| RoleChoice {
            value: r.as_str(),
            label: r.label(lang),
            selected: echo.roles.iter().any(|x| x == r.as_str()),
        })
        .collect();
    html(
        status,
        &UsersPage {
            page: Page::new(lang, a.users_title, Some(user)),
            a,
            users,
            roles,
            error,
            form_username: echo.username,
            form_display: echo.display_name,
            min_password: MIN_PASSWORD_LEN,
        },
    )
}

async fn list_users(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    user.require(Permission::ManageUsers)?;
    users_page(
        &state,
        lang,
        &user,
        StatusCode::OK,
        None,
        UserFormEcho::default(),
    )
    .await
}

fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

async fn create_user(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    user.require(Permission::ManageUsers)?;
    let a = admin_texts(lang);
    let mut echo = UserFormEcho::default();
    let mut password = String::new();
    for (k, v) in fields {
        match k.as_str() {
            "username" => echo.username = v.trim().to_owned(),
            "display_name" => echo.display_name = v.trim().to_owned(),
            "roles" => echo.roles.push(v),
            "password" => password = v,
            _ => {}
        }
    }
    let roles: Vec<Role> = echo.roles.iter().filter_map(|r| Role::parse(r)).collect();
    let problem = if !valid_username(&echo.username) {
        Some(a.err_username)
    } else if echo.display_name.is_empty() {
        Some(a.err_display_name)
    } else if roles.is_empty() || roles.len() != echo.roles.len() {
        Some(a.err_roles)
    } else if password.chars().count() < MIN_PASSWORD_LEN {
        Some(a.err_password)
    } else {
        None
    };
    if let Some(problem) = problem {
        return users_page(
            &state,
            lang,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(problem.to_owned()),
            echo,
        )
        .await;
    }
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::internal(e.to_string()))??;
    let new = NewUser {
        organisation: user.organisation.clone(),
        username: echo.username.clone(),
        display_name: echo.display_name.clone(),
        password_hash,
        roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
    };
    let audit = audit_entry(
        &user,
        "user_add",
        &format!("user:{}", new.username),
        serde_json::json!({ "display_name": new.display_name, "roles": new.roles }),
    );
    let created = state
        .pool
        .run(move |s| Ok(s.create_user(&new, &audit)?))
        .await?;
    if created.is_none() {
        return users_page(
            &state,
            lang,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(a.err_taken.to_owned()),
            echo,
        )
        .await;
    }
    Ok(Redirect::to("/admin/users").into_response())
}

async fn set_disabled(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    id: i64,
    disabled: bool,
) -> Result<Response, AppError> {
    user.require(Permission::ManageUsers)?;
    let target = org_users(state, &user.organisation)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(AppError::NotFound)?;
    if target.id == user.id {
        return users_page(
            state,
            lang,
            user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(admin_texts(lang).err_self.to_owned()),
            UserFormEcho::default(),
        )
        .await;
    }
    let audit = audit_entry(
        user,
        if disabled {
            "user_disable"
        } else {
            "user_enable"
        },
        &format!("user:{}", target.username),
        serde_json::json!({}),
    );
    let done = state
        .pool
        .run(move |s| Ok(s.set_user_disabled(id, disabled, &audit)?))
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/users").into_response())
}

async fn disable_user(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    set_disabled(&state, lang, &user, id, true).await
}

async fn enable_user(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    set_disabled(&state, lang, &user, id, false).await
}

async fn tokens_page(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    status: StatusCode,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let a = admin_texts(lang);
    let users = org_users(state, &user.organisation).await?;
    let ids: HashMap<i64, ()> = users.iter().map(|u| (u.id, ())).collect();
    let rows = state.pool.run(|s| Ok(s.tokens()?)).await?;
    let tokens = rows
        .into_iter()
        .filter(|t| ids.contains_key(&t.user_id))
        .map(|t| TokenView {
            id: t.id,
            username: t.username,
            name: t.name,
            created: short(&t.created_at),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    html(
        status,
        &TokensPage {
            page: Page::new(lang, a.tokens_title, Some(user)),
            a,
            tokens,
            usernames: users
                .into_iter()
                .filter(|u| !u.disabled)
                .map(|u| u.username)
                .collect(),
            new_token,
            error,
        },
    )
}

async fn list_tokens(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    user.require(Permission::ManageApiTokens)?;
    tokens_page(&state, lang, &user, StatusCode::OK, None, None).await
}

/// The form to create an API token.
#[derive(Debug, serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub name: String,
}

async fn create_token(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    user.require(Permission::ManageApiTokens)?;
    let a = admin_texts(lang);
    let name = form.name.trim().to_owned();
    let username = form.username.trim().to_owned();
    let owner = org_users(&state, &user.organisation)
        .await?
        .into_iter()
        .find(|u| u.username == username && !u.disabled);
    let problem = match &owner {
        None => Some(a.err_token_user),
        Some(_) if name.is_empty() || name.chars().count() > 100 => Some(a.err_token_name),
        Some(_) => None,
    };
    let (Some(owner), None) = (owner, problem) else {
        return tokens_page(
            &state,
            lang,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            problem.map(str::to_owned),
        )
        .await;
    };
    let (token, hash) = new_token();
    let audit = audit_entry(
        &user,
        "token_create",
        &format!("user:{}", owner.username),
        serde_json::json!({ "name": name }),
    );
    state
        .pool
        .run(move |s| Ok(s.create_token(owner.id, &name, &hash, &audit)?))
        .await?;
    tokens_page(&state, lang, &user, StatusCode::OK, Some(token), None).await
}

async fn revoke_token(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    user.require(Permission::ManageApiTokens)?;
    let users = org_users(&state, &user.organisation).await?;
    let token = state
        .pool
        .run(|s| Ok(s.tokens()?))
        .await?
        .into_iter()
        .find(|t| t.id == id && users.iter().any(|u| u.id == t.user_id))
        .ok_or(AppError::NotFound)?;
    let audit = audit_entry(
        &user,
        "token_revoke",
        &format!("token:{id}"),
        serde_json::json!({ "user": token.username, "name": token.name }),
    );
    let done = state
        .pool
        .run(move |s| Ok(s.revoke_token(id, &audit)?))
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/tokens").into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{id}/disable", post(disable_user))
        .route("/admin/users/{id}/enable", post(enable_user))
        .route("/admin/tokens", get(list_tokens).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
}
