//! Administration of the admin's own organisation: user accounts (`/admin/users`: list, create
//! with an Argon2id password hash, disable and enable, ask for or revoke a role), role grants with
//! four eyes (`/admin/grants`: the investigator, approver, privacy-officer and administrator roles
//! take effect only once a second administrator or privacy officer confirms, by the rules of
//! `lekdicht_review::may_confirm`) and API tokens (`/admin/tokens`: every user creates and revokes
//! their own, whose text is shown to them once; an administrator lists and revokes the
//! organisation's tokens but never sees their text nor issues one for someone else). Every change
//! is audited in the same transaction; users and tokens of other organisations answer 404.
//!
//! It deliberately does not edit passwords of existing accounts, nor delete accounts.

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::DateTime;
use lekdicht_review::{
    Account, Lang, Permission, Role, conflicting_roles, may_confirm, needs_confirmation,
};
use lekdicht_store::{GrantRow, NewGrant, NewUser, ReviewStore, UserRow};

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
    /// Whether the account has a second factor (which an administrator can remove).
    pub totp: bool,
    /// The roles the account holds, to revoke one.
    pub held: Vec<RoleChoice>,
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
            held: r
                .roles
                .iter()
                .filter_map(|code| Role::parse(code))
                .map(|role| RoleChoice {
                    value: role.as_str(),
                    label: role.label(lang),
                    selected: false,
                })
                .collect(),
            created: short(&r.created_at),
            active: !r.disabled,
            is_self: r.id == user.id,
            totp: r.totp_secret.is_some(),
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
    } else if conflicting_roles(&roles).is_some() {
        Some(a.err_conflict)
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
    let (pending, at_once): (Vec<Role>, Vec<Role>) =
        roles.into_iter().partition(|r| needs_confirmation(*r));
    let codes = |roles: Vec<Role>| roles.iter().map(|r| r.as_str().to_owned()).collect();
    let new = NewUser {
        organisation: user.organisation.clone(),
        username: echo.username.clone(),
        display_name: echo.display_name.clone(),
        password_hash,
        roles: codes(at_once),
        pending_roles: codes(pending),
        created_by: user.username.clone(),
    };
    let audit = audit_entry(
        &user,
        "user_add",
        &format!("user:{}", new.username),
        serde_json::json!({
            "display_name": new.display_name,
            "roles": new.roles,
            "pending_roles": new.pending_roles,
        }),
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
    let manages = user.can(Permission::ManageApiTokens);
    let rows = state.pool.run(|s| Ok(s.tokens()?)).await?;
    let tokens = rows
        .into_iter()
        .filter(|t| t.user_id == user.id || (manages && users.iter().any(|u| u.id == t.user_id)))
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
            new_token,
            error,
        },
    )
}

/// Every user's own API tokens; an administrator also sees (never the text of) the organisation's
/// other tokens, to revoke them.
async fn list_tokens(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    tokens_page(&state, lang, &user, StatusCode::OK, None, None).await
}

/// The form to create an API token for oneself.
#[derive(Debug, serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub name: String,
}

/// Creates an API token for the user who asks, shown to them once. Nobody issues tokens for
/// someone else: a token's text would let its issuer act as its owner.
async fn create_token(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    let a = admin_texts(lang);
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return tokens_page(
            &state,
            lang,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(a.err_token_name.to_owned()),
        )
        .await;
    }
    let (token, hash) = new_token();
    let audit = audit_entry(
        &user,
        "token_create",
        &format!("user:{}", user.username),
        serde_json::json!({ "name": name }),
    );
    let owner = user.id;
    state
        .pool
        .run(move |s| Ok(s.create_token(owner, &name, &hash, &audit)?))
        .await?;
    tokens_page(&state, lang, &user, StatusCode::OK, Some(token), None).await
}

/// Revokes one of the user's own tokens, or (administrator) any token of the organisation.
async fn revoke_token(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let manages = user.can(Permission::ManageApiTokens);
    let users = org_users(&state, &user.organisation).await?;
    let token = state
        .pool
        .run(|s| Ok(s.tokens()?))
        .await?
        .into_iter()
        .find(|t| {
            t.id == id
                && (t.user_id == user.id || (manages && users.iter().any(|u| u.id == t.user_id)))
        })
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

/// The form that asks for or revokes one role.
#[derive(Debug, serde::Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    pub role: String,
}

/// One account of the organisation by id (404 otherwise), and the role of the form.
async fn target_and_role(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    role: &str,
) -> Result<(UserRow, Role), AppError> {
    let target = org_users(state, &user.organisation)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(AppError::NotFound)?;
    let role = Role::parse(role).ok_or_else(|| AppError::BadRequest("unknown role".into()))?;
    Ok((target, role))
}

fn roles_of(row: &UserRow) -> Vec<Role> {
    row.roles.iter().filter_map(|r| Role::parse(r)).collect()
}

/// Grants a role to another account: at once for the roles that need no second person, else as a
/// request that another administrator or the privacy officer confirms.
async fn request_role(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    user.require(Permission::ManageUsers)?;
    let (target, role) = target_and_role(&state, &user, id, &form.role).await?;
    let mut after = roles_of(&target);
    after.push(role);
    let problem = if target.id == user.id {
        Some(admin_texts(lang).err_self)
    } else if conflicting_roles(&after).is_some() {
        Some(admin_texts(lang).err_conflict)
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
            UserFormEcho::default(),
        )
        .await;
    }
    let object = format!("user:{}", target.username);
    let grant = NewGrant {
        organisation: user.organisation.clone(),
        user_id: target.id,
        role: role.as_str().to_owned(),
        requested_by: user.username.clone(),
    };
    let details = serde_json::json!({ "role": grant.role });
    if needs_confirmation(role) {
        let audit = audit_entry(&user, "grant_request", &object, details);
        state
            .pool
            .run(move |s| Ok(s.request_grant(&grant, &audit)?))
            .await?;
        return Ok(Redirect::to("/admin/grants").into_response());
    }
    let audit = audit_entry(&user, "grant", &object, details);
    let id = state
        .pool
        .run(move |s| Ok(s.request_grant(&grant, &audit)?))
        .await?;
    // A role without four eyes is confirmed by the request itself.
    let audit = audit_entry(
        &user,
        "grant_confirm",
        &format!("grant:{id}"),
        serde_json::json!({ "user": target.username, "role": role.as_str() }),
    );
    let by = user.username.clone();
    state
        .pool
        .run(move |s| Ok(s.decide_grant(id, true, &by, &audit)?))
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// Takes a role away at once (removing needs no second person), audited.
async fn revoke_role(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    user.require(Permission::ManageUsers)?;
    let (target, role) = target_and_role(&state, &user, id, &form.role).await?;
    if target.id == user.id {
        return users_page(
            &state,
            lang,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(admin_texts(lang).err_self.to_owned()),
            UserFormEcho::default(),
        )
        .await;
    }
    let audit = audit_entry(
        &user,
        "role_revoke",
        &format!("user:{}", target.username),
        serde_json::json!({ "role": role.as_str() }),
    );
    let done = state
        .pool
        .run(move |s| Ok(s.revoke_role(target.id, role.as_str(), &audit)?))
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/users").into_response())
}

/// One grant request as listed.
pub struct GrantView {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub requested_by: String,
    pub requested: String,
    pub status: &'static str,
    pub can_decide: bool,
}

#[derive(Template)]
#[template(path = "admin_grants.html")]
struct GrantsPage {
    page: Page,
    a: &'static AdminTexts,
    grants: Vec<GrantView>,
    error: Option<String>,
}

/// Whether `user` may confirm grant `g` (see `lekdicht_review::may_confirm`).
fn check_grant(user: &CurrentUser, users: &[UserRow], g: &GrantRow) -> bool {
    let (Some(target), Some(role)) = (
        users.iter().find(|u| u.id == g.user_id),
        Role::parse(&g.role),
    ) else {
        return false;
    };
    let target_roles = roles_of(target);
    let confirmer = Account {
        username: &user.username,
        created_by: "",
        roles: &user.roles,
    };
    let target = Account {
        username: &target.username,
        created_by: &target.created_by,
        roles: &target_roles,
    };
    may_confirm(confirmer, &g.requested_by, target, role).is_ok()
}

async fn grants_page(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, AppError> {
    let a = admin_texts(lang);
    let users = org_users(state, &user.organisation).await?;
    let org = user.organisation.clone();
    let rows = state.pool.run(move |s| Ok(s.grants(&org)?)).await?;
    let grants = rows
        .iter()
        .map(|g| GrantView {
            id: g.id,
            username: g.username.clone(),
            role: Role::parse(&g.role).map_or(g.role.clone(), |r| r.label(lang).to_owned()),
            requested_by: g.requested_by.clone(),
            requested: short(&g.requested_at),
            status: match g.decision.as_deref() {
                None => a.pending,
                Some("confirmed") => a.confirmed,
                Some(_) => a.refused,
            },
            can_decide: g.decision.is_none() && check_grant(user, &users, g),
        })
        .collect();
    html(
        status,
        &GrantsPage {
            page: Page::new(lang, a.grants_title, Some(user)),
            a,
            grants,
            error,
        },
    )
}

async fn list_grants(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    user.require(Permission::ConfirmRoleGrants)?;
    grants_page(&state, lang, &user, StatusCode::OK, None).await
}

async fn decide_grant(
    state: &AppState,
    lang: Lang,
    user: &CurrentUser,
    id: i64,
    confirmed: bool,
) -> Result<Response, AppError> {
    user.require(Permission::ConfirmRoleGrants)?;
    let users = org_users(state, &user.organisation).await?;
    let org = user.organisation.clone();
    let grant = state
        .pool
        .run(move |s| Ok(s.grants(&org)?))
        .await?
        .into_iter()
        .find(|g| g.id == id && g.decision.is_none())
        .ok_or(AppError::NotFound)?;
    // Refusing is open to anyone who may confirm; confirming needs a second, independent person.
    if confirmed && !check_grant(user, &users, &grant) {
        let error = Some(admin_texts(lang).err_grant.to_owned());
        return grants_page(state, lang, user, StatusCode::FORBIDDEN, error).await;
    }
    let audit = audit_entry(
        user,
        if confirmed {
            "grant_confirm"
        } else {
            "grant_refuse"
        },
        &format!("grant:{id}"),
        serde_json::json!({
            "user": grant.username,
            "role": grant.role,
            "requested_by": grant.requested_by,
        }),
    );
    let by = user.username.clone();
    let done = state
        .pool
        .run(move |s| Ok(s.decide_grant(id, confirmed, &by, &audit)?))
        .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/grants").into_response())
}

/// `POST /admin/grants/{id}/confirm` or `/refuse`.
async fn decide_grant_route(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path((id, decision)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let confirmed = match decision.as_str() {
        "confirm" => true,
        "refuse" => false,
        _ => return Err(AppError::NotFound),
    };
    decide_grant(&state, lang, &user, id, confirmed).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{id}/disable", post(disable_user))
        .route("/admin/users/{id}/enable", post(enable_user))
        .route("/admin/users/{id}/roles", post(request_role))
        .route("/admin/users/{id}/revoke-role", post(revoke_role))
        .route("/admin/grants", get(list_grants))
        .route("/admin/grants/{id}/{decision}", post(decide_grant_route))
        .route("/admin/tokens", get(list_tokens).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
}
