//! Accounts and sessions: Argon2id password hashes, session tokens (only their SHA-256 is stored),
//! API tokens, the synchronizer CSRF token, the cross-site checks, login throttling, and the
//! middleware that resolves the user of every request and turns away anonymous ones.
//!
//! Permissions are not decided here beyond "logged in"; handlers ask [`CurrentUser::require`],
//! which delegates to `lekdicht_review::allowed`.

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lekdicht_review::{Permission, Role, allowed};
use lekdicht_store::{ReviewStore, SqliteStore, UserRow};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::AppError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "lekdicht_session";
/// Sessions end after this long without a request.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// Sessions end this long after login, whatever happens.
pub const ABSOLUTE_MS: i64 = 12 * 60 * 60 * 1000;
/// Failed logins counted per user name and per client address...
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// ...how many of them are free...
pub const THROTTLE_FAILURES: u64 = 5;
/// ...and the longest wait after the latest failure; each failure beyond the free ones doubles the
/// wait from one second up to this. A wait, never a lockout: nobody can shut an account out by
/// failing on purpose for longer than this.
pub const MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;
/// Minimum password length.
pub const MIN_PASSWORD_LEN: usize = 12;

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub organisation: String,
    pub roles: Vec<Role>,
    /// The session's CSRF token (empty for API-token requests).
    pub csrf: String,
    /// The session token's hash, for logout.
    pub session: Option<Vec<u8>>,
}

impl CurrentUser {
    fn from_row(row: UserRow, csrf: String, session: Option<Vec<u8>>) -> CurrentUser {
        CurrentUser {
            id: row.id,
            roles: row.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            username: row.username,
            display_name: row.display_name,
            organisation: row.organisation,
            csrf,
            session,
        }
    }

    /// Whether any of the user's roles grants `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        allowed(&self.roles, permission)
    }

    /// `Forbidden` unless the user holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::Unauthenticated {
                api: parts.uri.path().starts_with("/api/"),
            })
    }
}

/// Hashes a password with Argon2id (default parameters, random salt).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(e.to_string()))
}

/// Checks a password against a stored hash (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so that the answer takes as long.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("not a real password at all").unwrap_or_default())
}

/// A new random token (32 bytes, base64url) and its SHA-256.
pub fn new_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let text = URL_SAFE_NO_PAD.encode(raw);
    let hash = token_hash(&text);
    (text, hash)
}

/// SHA-256 of a token's text form.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether a state-changing request comes from another site (by `Sec-Fetch-Site` or `Origin`).
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        return origin_host != Some(host);
    }
    false
}

/// The `csrf` field of a urlencoded form body.
fn form_csrf(body: &[u8]) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("csrf="))
        .map(str::to_owned)
}

/// The client address: the socket's peer, or, when that peer is a configured trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one; `unknown` without a socket (tests).
pub fn client_ip(
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
    trusted_proxies: &[IpAddr],
) -> String {
    let Some(peer) = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "unknown".to_owned();
    };
    if !trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted_proxies.contains(ip))
        .unwrap_or(peer)
        .to_string()
}

/// How long after the latest of `failures` failed logins the next attempt must wait.
pub fn backoff_ms(failures: u64) -> i64 {
    if failures < THROTTLE_FAILURES {
        return 0;
    }
    let doublings = (failures - THROTTLE_FAILURES).min(20) as u32;
    (1000_i64 << doublings).min(MAX_BACKOFF_MS)
}

/// Milliseconds still to wait at `now_ms` after `failures` failures, the latest at `last_ms`.
fn wait_ms(now_ms: i64, failures: u64, last_ms: Option<i64>) -> i64 {
    last_ms.map_or(0, |last| (last + backoff_ms(failures) - now_ms).max(0))
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn is_public(path: &str) -> bool {
    path == "/login"
        || path == "/login/sso"
        || path == "/login/sso/callback"
        || path == "/healthz"
        || path == "/readyz"
        || path.starts_with("/static/")
}

/// Resolves the user (session cookie or bearer token), refuses anonymous requests to anything
/// but the public paths, and refuses state-changing requests that are cross-site or lack the
/// session's CSRF token.
pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match authenticate_inner(state, req).await {
        Ok((req, user)) => {
            let mut req = req;
            if let Some(user) = user {
                req.extensions_mut().insert(user);
            }
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn authenticate_inner(
    state: AppState,
    req: Request,
) -> Result<(Request, Option<CurrentUser>), AppError> {
    let path = req.uri().path().to_owned();
    // `/metrics` checks its own bearer token (not an API token) or a loopback client; it opens
    // nothing else.
    if path == "/metrics" {
        return Ok((req, None));
    }
    let api = path.starts_with("/api/") || crate::otlp::is_intake_path(&path);
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if changes && bearer.is_none() && cross_site(req.headers()) {
        return Err(AppError::Csrf);
    }
    // API tokens open the JSON API and the OTLP intake only: a page (a revealed identity
    // included) needs a session.
    if bearer.is_some() && !api {
        return Err(AppError::Unauthenticated { api });
    }
    let user = if let Some(token) = bearer {
        let hash = token_hash(token.trim());
        state
            .pool
            .run(move |s| Ok(s.token_user(&hash)?))
            .await?
            .map(|row| CurrentUser::from_row(row, String::new(), None))
    } else if let Some(token) = cookie(req.headers(), SESSION_COOKIE) {
        let hash = token_hash(&token);
        let now = now_ms();
        state
            .pool
            .run(move |s| {
                Ok(s.session(&hash, now, IDLE_MS, ABSOLUTE_MS)?
                    .map(|row| CurrentUser::from_row(row.user, row.csrf, Some(hash))))
            })
            .await?
    } else {
        None
    };
    if is_public(&path) {
        return Ok((req, user));
    }
    let Some(user) = user else {
        return Err(AppError::Unauthenticated { api });
    };
    if changes && user.session.is_some() {
        let header_token = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (req, provided) = match header_token {
            Some(token) => (req, Some(token)),
            None => {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20)
                    .await
                    .map_err(|_| AppError::BadRequest("request body too large".into()))?;
                let provided = form_csrf(&bytes);
                (
                    Request::from_parts(parts, axum::body::Body::from(bytes)),
                    provided,
                )
            }
        };
        if !provided.is_some_and(|p| constant_time_eq(&p, &user.csrf)) {
            return Err(AppError::Csrf);
        }
        return Ok((req, Some(user)));
    }
    Ok((req, Some(user)))
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// The session token to set as cookie.
    Success(String),
    Failed,
    /// Too many recent failures for this account or address: try again after this many seconds.
    Throttled {
        retry_after_s: i64,
    },
}

/// Checks a login attempt against throttling, the stored hash and, for an account with a second
/// factor, its code; on success opens a session.
/// Every outcome is written to the audit trail.
pub fn login(
    store: &mut SqliteStore,
    username: &str,
    password: &str,
    code: &str,
    ip: &str,
) -> Result<LoginOutcome, AppError> {
    let now = chrono::Utc::now();
    let now_ms = now.timestamp_millis();
    let user = store.user_by_username(username)?;
    let organisation = user
        .as_ref()
        .map(|u| u.organisation.clone())
        .unwrap_or_default();
    let audit = |action: &str| lekdicht_store::NewAudit {
        organisation: organisation.clone(),
        actor: username.to_owned(),
        action: action.to_owned(),
        object: format!("user:{username}"),
        details: serde_json::json!({ "ip": ip }),
        at: now,
    };
    let f = store.login_failures(username, ip, now_ms - THROTTLE_WINDOW_MS)?;
    let wait =
        wait_ms(now_ms, f.by_user, f.last_user_ms).max(wait_ms(now_ms, f.by_ip, f.last_ip_ms));
    if wait > 0 {
        store.record_audit(&audit("login_throttled"))?;
        return Ok(LoginOutcome::Throttled {
            retry_after_s: (wait + 999) / 1000,
        });
    }
    let ok = match &user {
        // The second factor is checked only after the password, so that a wrong password does
        // not use up a code.
        Some(u) if !u.disabled => {
            verify_password(password, &u.password_hash)
                && crate::totp::second_factor_ok(store, u, code)?
        }
        _ => {
            verify_password(password, dummy_hash());
            false
        }
    };
    match user {
        Some(u) if ok => {
            let (token, hash) = new_token();
            let (csrf, _) = new_token();
            store.create_session(&hash, u.id, &csrf, now_ms, &audit("login"))?;
            Ok(LoginOutcome::Success(token))
        }
        _ => {
            store.record_login_failure(username, ip, now_ms, &audit("login_failed"))?;
            Ok(LoginOutcome::Failed)
        }
    }
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie(token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
        ABSOLUTE_MS / 1000
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_after_the_free_failures_and_stops_at_the_cap() {
        let waits: Vec<i64> = (0..9).map(backoff_ms).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 1000, 2000, 4000, 8000]);
        assert_eq!(backoff_ms(1_000), MAX_BACKOFF_MS);
        // A wait counts from the latest failure and ends.
        assert_eq!(wait_ms(10_000, 6, Some(9_000)), 1_000);
        assert_eq!(wait_ms(11_000, 6, Some(9_000)), 0);
        assert_eq!(wait_ms(10_000, 60, None), 0);
    }

    #[test]
    fn the_client_is_named_by_a_trusted_proxy_only() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut extensions = axum::http::Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::new(proxy, 4000)));
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 192.0.2.7, 10.0.0.1".parse().unwrap(),
        );
        // Behind the trusted proxy: the nearest address it did not add itself.
        assert_eq!(client_ip(&extensions, &headers, &[proxy]), "192.0.2.7");
        // Without trust the header is ignored: anyone could write it.
        assert_eq!(client_ip(&extensions, &headers, &[]), "10.0.0.1");
        assert_eq!(
            client_ip(&extensions, &HeaderMap::new(), &[proxy]),
            "10.0.0.1"
        );
        let mut direct = axum::http::Extensions::new();
        direct.insert(ConnectInfo(SocketAddr::new(
            "192.0.2.9".parse().unwrap(),
            1,
        )));
        assert_eq!(client_ip(&direct, &headers, &[proxy]), "192.0.2.9");
    }
}
