//! Single sign-on with OpenID Connect: the authorisation-code flow with PKCE against the
//! organisation's provider (`/login/sso` starts it, `/login/sso/callback` ends it), and the account
//! record of each signed-in person.
//!
//! The provider is discovered on the first login (and again after a failed discovery). Each login
//! keeps its `state`, `nonce` and PKCE verifier in this process for ten minutes, under the hash of
//! a random value held by the browser in a short-lived `SameSite=Lax` cookie (the provider sends
//! the browser back with a cross-site navigation, on which a `Strict` cookie would be missing); the
//! callback takes the entry once, compares `state`, redeems the code with the verifier, verifies the
//! ID token (signature, issuer, audience, expiry, nonce) and reads the roles claim from the ID token
//! or, when the provider has one, the userinfo endpoint.
//!
//! A person is found by issuer and subject, never by a name: the first login creates the account
//! (`sso:` and the preferred user name, no password of its own). Its roles follow the claim at
//! every login: roles that need no second person take effect at once; the investigator, approver,
//! privacy-officer and administrator roles become grant requests that a second administrator or
//! privacy officer confirms as any other (`lekdicht_review::needs_confirmation`); roles the claim no
//! longer lists are taken away. Each account counts as created by the provider for that person
//! alone (`created_by`), so the four-eyes rules of reveals hold as for local accounts. The session
//! that follows is the same as after a password login. Deliberately absent: logout at the provider
//! and refresh tokens (a session ends as local sessions do).

use std::collections::HashMap;
use std::sync::Mutex;

use askama::Template;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use lekdicht_review::{Lang, Role, conflicting_roles, needs_confirmation};
use lekdicht_store::{NewAudit, NewUser, ReviewStore, RoleSync, SigninStore, SqliteStore};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse, UserInfoClaims, reqwest,
};
use serde::{Deserialize, Serialize};

use crate::St;
use crate::auth::{self, token_hash};
use crate::error::AppError;
use crate::i18n::texts;
use crate::view::{LoginPage, Page};

/// Name of the cookie that ties a login in progress to the browser.
pub const FLOW_COOKIE: &str = "lekdicht_sso";
/// How long a login at the provider may take.
const FLOW_MS: i64 = 10 * 60 * 1000;
/// Most logins in progress kept at once; the oldest go first.
const MAX_FLOWS: usize = 10_000;
/// Stored instead of a password hash: no password verifies against it.
const NO_PASSWORD: &str = "!single-sign-on";

/// How lekdicht signs people in at the organisation's OpenID provider.
#[derive(Debug, Clone)]
pub struct SsoConfig {
    /// The provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// lekdicht's callback as registered at the provider: `https://<host>/login/sso/callback`.
    pub redirect_url: String,
    /// The organisation every account of this provider belongs to.
    pub organisation: String,
    /// The claim that lists the person's groups or roles.
    pub roles_claim: String,
    /// Claim value → lekdicht role; without any, the values are lekdicht's role codes.
    pub role_map: Vec<(String, Role)>,
    /// Scopes asked for beyond `openid` and `profile`.
    pub scopes: Vec<String>,
    /// The provider's name on the login page.
    pub label: String,
}

impl SsoConfig {
    /// The lekdicht roles that the claim values `values` map to, in `Role::ALL` order.
    pub fn roles(&self, values: &[String]) -> Vec<Role> {
        let mapped = |value: &String| -> Option<Role> {
            if self.role_map.is_empty() {
                Role::parse(value)
            } else {
                self.role_map
                    .iter()
                    .find(|(claim, _)| claim == value)
                    .map(|(_, role)| *role)
            }
        };
        let found: Vec<Role> = values.iter().filter_map(mapped).collect();
        Role::ALL
            .into_iter()
            .filter(|r| found.contains(r))
            .collect()
    }
}

/// The claims beyond the standard ones, among them the configured roles claim.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

impl OtherClaims {
    /// The values of `name`: a list of strings, or one string of space-separated values.
    fn values(&self, name: &str) -> Option<Vec<String>> {
        match self.claims.get(name)? {
            serde_json::Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            ),
            serde_json::Value::String(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
            _ => None,
        }
    }
}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<Fields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A login in progress.
struct Flow {
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    started_ms: i64,
}

/// Single sign-on of a running application: the configuration, the discovered provider and the
/// logins in progress.
pub struct Sso {
    config: SsoConfig,
    http: reqwest::Client,
    client: tokio::sync::OnceCell<OidcClient>,
    flows: Mutex<HashMap<Vec<u8>, Flow>>,
}

/// The person the provider vouched for.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `<issuer> <subject>`.
    pub subject: String,
    pub preferred_username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

impl Sso {
    /// Single sign-on with `config`; nothing is fetched before the first login.
    pub fn new(config: SsoConfig) -> Result<Sso, AppError> {
        IssuerUrl::new(config.issuer.clone())
            .map_err(|e| AppError::internal(format!("issuer URL: {e}")))?;
        RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| AppError::internal(format!("redirect URL: {e}")))?;
        let http = reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send requests elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| AppError::internal(format!("HTTP client: {e}")))?;
        Ok(Sso {
            config,
            http,
            client: tokio::sync::OnceCell::new(),
            flows: Mutex::new(HashMap::new()),
        })
    }

    /// The provider's name on the login page.
    pub fn label(&self) -> &str {
        &self.config.label
    }

    async fn client(&self) -> Result<&OidcClient, AppError> {
        self.client
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.config.issuer.clone())
                    .map_err(|e| AppError::internal(format!("issuer URL: {e}")))?;
                let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| AppError::internal(format!("OpenID discovery: {e}")))?;
                let redirect = RedirectUrl::new(self.config.redirect_url.clone())
                    .map_err(|e| AppError::internal(format!("redirect URL: {e}")))?;
                Ok(OidcClient::from_provider_metadata(
                    metadata,
                    ClientId::new(self.config.client_id.clone()),
                    Some(ClientSecret::new(self.config.client_secret.clone())),
                )
                .set_redirect_uri(redirect))
            })
            .await
    }

    /// Starts a login: the provider's authorisation URL and the cookie value that ties the login
    /// to this browser.
    pub async fn start(&self) -> Result<(String, String), AppError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_scope(Scope::new("profile".to_owned()));
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let (cookie, hash) = auth::new_token();
        let now = auth::now_ms();
        let mut flows = self
            .flows
            .lock()
            .map_err(|_| AppError::internal("single sign-on state lock poisoned"))?;
        flows.retain(|_, f| now - f.started_ms < FLOW_MS);
        if flows.len() >= MAX_FLOWS
            && let Some(oldest) = flows
                .iter()
                .min_by_key(|(_, f)| f.started_ms)
                .map(|(k, _)| k.clone())
        {
            flows.remove(&oldest);
        }
        flows.insert(
            hash,
            Flow {
                state,
                nonce,
                verifier,
                started_ms: now,
            },
        );
        Ok((url.to_string(), cookie))
    }

    /// Ends a login: checks the answer against the login this browser started and returns who the
    /// provider vouched for. `Err(None)` for an answer that does not belong to a login in progress
    /// (no cookie, expired, state differs, or a refusal at the provider).
    pub async fn finish(
        &self,
        flow_cookie: Option<&str>,
        answer: &Callback,
    ) -> Result<Identity, Option<AppError>> {
        let flow = flow_cookie.and_then(|c| {
            self.flows
                .lock()
                .ok()
                .and_then(|mut flows| flows.remove(&token_hash(c)))
        });
        let Some(flow) = flow else {
            return Err(None);
        };
        let fresh = auth::now_ms() - flow.started_ms < FLOW_MS;
        let state_ok = answer
            .state
            .as_deref()
            .is_some_and(|s| auth::constant_time_eq(s, flow.state.secret()));
        let issuer_ok = answer
            .iss
            .as_deref()
            .is_none_or(|iss| iss == self.config.issuer);
        let (true, true, true, None, Some(code)) =
            (fresh, state_ok, issuer_ok, &answer.error, &answer.code)
        else {
            return Err(None);
        };
        let client = self.client().await.map_err(Some)?;
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            Some(AppError::internal(format!("single sign-on, {what}: {e}")))
        };
        // What fails verification may name the person (a subject that differs): only the step
        // is told.
        let unchecked = |what: &str| {
            Some(AppError::internal(format!(
                "single sign-on, {what}: did not verify"
            )))
        };
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .map_err(|e| failed("token endpoint", &e))?
            .set_pkce_verifier(flow.verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| failed("token request", &e))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| failed("token answer", &"no ID token"))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &flow.nonce)
            .map_err(|_| unchecked("ID token"))?;
        let subject = claims.subject().clone();
        let mut roles = claims.additional_claims().values(&self.config.roles_claim);
        let mut preferred = claims.preferred_username().map(|u| u.to_string());
        let mut name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string());
        if client.user_info_url().is_some() {
            let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = client
                .user_info(tokens.access_token().clone(), Some(subject.clone()))
                .map_err(|e| failed("userinfo endpoint", &e))?
                .request_async(&self.http)
                .await
                .map_err(|_| unchecked("userinfo answer"))?;
            roles = roles.or_else(|| info.additional_claims().values(&self.config.roles_claim));
            preferred = preferred.or_else(|| info.preferred_username().map(|u| u.to_string()));
            name = name.or_else(|| info.name().and_then(|n| n.get(None)).map(|n| n.to_string()));
        }
        let preferred = preferred.unwrap_or_else(|| subject.to_string());
        Ok(Identity {
            subject: format!("{} {}", self.config.issuer, subject.as_str()),
            display_name: name.unwrap_or_else(|| preferred.clone()),
            preferred_username: preferred,
            roles: self.config.roles(&roles.unwrap_or_default()),
        })
    }
}

/// What the provider sends the browser back with.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

/// Why a signed-in person got no session.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The claim maps to roles that one account never holds together.
    ConflictingRoles,
    /// The account was disabled in lekdicht.
    Disabled,
    /// Another account has the user name this person's account would get.
    NameTaken,
}

/// Finds or creates the account of `identity`, brings its roles in line with the claim and opens
/// a session; returns the session token. Everything is audited, a refusal included.
pub fn sign_in(
    store: &mut SqliteStore,
    config: &SsoConfig,
    identity: &Identity,
    ip: &str,
) -> Result<Result<String, Refusal>, AppError> {
    let now = chrono::Utc::now();
    let username = format!("sso:{}", identity.preferred_username);
    let existing = store.user_by_oidc_subject(&identity.subject)?;
    let username = existing.as_ref().map_or(username, |u| u.username.clone());
    let audit = |action: &str, details: serde_json::Value| NewAudit {
        organisation: config.organisation.clone(),
        actor: username.clone(),
        action: action.to_owned(),
        object: format!("user:{username}"),
        details,
        at: now,
    };
    let refuse =
        |store: &mut SqliteStore, refusal: Refusal| -> Result<Result<String, Refusal>, AppError> {
            let details =
                serde_json::json!({ "ip": ip, "method": "oidc", "reason": format!("{refusal:?}") });
            store.record_audit(&audit("login_failed", details))?;
            Ok(Err(refusal))
        };
    if conflicting_roles(&identity.roles).is_some() {
        return refuse(store, Refusal::ConflictingRoles);
    }
    let codes = |roles: &mut dyn Iterator<Item = Role>| -> Vec<String> {
        roles.map(|r| r.as_str().to_owned()).collect()
    };
    let requested_by = format!("oidc:{}", config.issuer);
    let user_id = match existing {
        Some(row) if row.disabled => return refuse(store, Refusal::Disabled),
        Some(row) => {
            // Held roles the claim still lists stay; new ones without four eyes come at once; new
            // ones with four eyes are asked for.
            let held: Vec<Role> = row.roles.iter().filter_map(|r| Role::parse(r)).collect();
            let keep = identity
                .roles
                .iter()
                .copied()
                .filter(|r| held.contains(r) || !needs_confirmation(*r));
            let ask = identity
                .roles
                .iter()
                .copied()
                .filter(|r| !held.contains(r) && needs_confirmation(*r));
            let sync = RoleSync {
                organisation: row.organisation.clone(),
                user_id: row.id,
                roles: codes(&mut keep.into_iter()),
                request: codes(&mut ask.into_iter()),
                requested_by,
            };
            let details = serde_json::json!({ "roles": sync.roles, "requested": sync.request });
            store.sync_roles(&sync, &audit("sso_roles", details))?;
            row.id
        }
        None => {
            let user = NewUser {
                organisation: config.organisation.clone(),
                username: username.clone(),
                display_name: identity.display_name.clone(),
                password_hash: NO_PASSWORD.to_owned(),
                roles: codes(
                    &mut identity
                        .roles
                        .iter()
                        .copied()
                        .filter(|r| !needs_confirmation(*r)),
                ),
                pending_roles: codes(
                    &mut identity
                        .roles
                        .iter()
                        .copied()
                        .filter(|r| needs_confirmation(*r)),
                ),
                // The provider vouches for this person alone: no two accounts share a creator.
                created_by: format!("{requested_by} {username}"),
            };
            let details = serde_json::json!({
                "roles": user.roles, "pending_roles": user.pending_roles, "method": "oidc"
            });
            match store.create_oidc_user(&user, &identity.subject, &audit("user_add", details))? {
                Some(id) => id,
                None => return refuse(store, Refusal::NameTaken),
            }
        }
    };
    let (token, hash) = auth::new_token();
    let (csrf, _) = auth::new_token();
    let details = serde_json::json!({ "ip": ip, "method": "oidc" });
    store.create_session(
        &hash,
        user_id,
        &csrf,
        now.timestamp_millis(),
        &audit("login", details),
    )?;
    Ok(Ok(token))
}

#[derive(Template)]
#[template(path = "sso_done.html")]
struct Done {
    page: Page,
}

/// `GET /login/sso`: off to the provider.
pub async fn start(State(state): St) -> Result<Response, AppError> {
    let Some(sso) = state.sso.clone() else {
        return Err(AppError::NotFound);
    };
    let (url, cookie) = sso.start().await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                format!(
                    "{FLOW_COOKIE}={cookie}; HttpOnly; Secure; SameSite=Lax; Path=/login/sso; Max-Age={}",
                    FLOW_MS / 1000
                ),
            ),
            (header::LOCATION, url),
        ],
    )
        .into_response())
}

/// `GET /login/sso/callback`: back from the provider.
pub async fn callback(
    State(state): St,
    Extension(lang): Extension<Lang>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Query(answer): Query<Callback>,
) -> Result<Response, AppError> {
    let Some(sso) = state.sso.clone() else {
        return Err(AppError::NotFound);
    };
    let clear_flow =
        format!("{FLOW_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/login/sso; Max-Age=0");
    let t = texts(lang);
    let failed = |status: StatusCode| -> Result<Response, AppError> {
        let html =
            LoginPage::new(lang, &headers, Some(t.sso_failed), Some(sso.label())).render()?;
        Ok((
            status,
            [(header::SET_COOKIE, clear_flow.clone())],
            Html(html),
        )
            .into_response())
    };
    let identity = match sso
        .finish(auth::cookie(&headers, FLOW_COOKIE).as_deref(), &answer)
        .await
    {
        Ok(identity) => identity,
        Err(None) => return failed(StatusCode::BAD_REQUEST),
        Err(Some(e)) => {
            // Logged without the answer's contents; shown as a failed login.
            tracing::warn!(error = %e, "single sign-on failed");
            return failed(StatusCode::BAD_GATEWAY);
        }
    };
    let ip = auth::client_ip(&extensions, &headers, &state.trusted_proxies);
    let config = sso.config.clone();
    let outcome = state
        .pool
        .run(move |s| sign_in(s, &config, &identity, &ip))
        .await?;
    let token = match outcome {
        Ok(token) => token,
        Err(_) => return failed(StatusCode::FORBIDDEN),
    };
    // A page that moves on to the application itself: the navigation that arrives here started at
    // the provider, and a browser sends the SameSite=Strict session cookie only on a navigation
    // that starts on this site.
    let html = Done {
        page: Page::new(lang, t.login_title, None),
    }
    .render()?;
    let mut response = Html(html).into_response();
    let cookies = response.headers_mut();
    for value in [auth::session_cookie(&token), clear_flow] {
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            cookies.append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(role_map: Vec<(String, Role)>) -> SsoConfig {
        SsoConfig {
            issuer: "https://idp.example".into(),
            client_id: "lekdicht".into(),
            client_secret: "secret".into(),
            redirect_url: "https://lekdicht.example/login/sso/callback".into(),
            organisation: "politie".into(),
            roles_claim: "roles".into(),
            role_map,
            scopes: vec![],
            label: "IdP".into(),
        }
    }

    fn values(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn claim_values_map_to_roles() {
        // Without a map the values are lekdicht's role codes; anything else is ignored.
        let plain = config(vec![]);
        assert_eq!(
            plain.roles(&values(&[
                "auditor",
                "reviewer",
                "domain-admins",
                "reviewer"
            ])),
            [Role::Reviewer, Role::Auditor]
        );
        let mapped = config(vec![
            ("g-investigators".into(), Role::Investigator),
            ("g-reviewers".into(), Role::Reviewer),
        ]);
        assert_eq!(
            mapped.roles(&values(&["g-investigators", "auditor"])),
            [Role::Investigator]
        );
        assert!(mapped.roles(&[]).is_empty());
    }

    #[test]
    fn a_claim_is_a_list_or_a_space_separated_string() {
        let claims: OtherClaims =
            serde_json::from_str(r#"{"roles":["a","b"],"groups":"c d","n":3}"#).unwrap();
        assert_eq!(claims.values("roles").unwrap(), ["a", "b"]);
        assert_eq!(claims.values("groups").unwrap(), ["c", "d"]);
        assert!(claims.values("n").is_none());
        assert!(claims.values("missing").is_none());
    }
}
