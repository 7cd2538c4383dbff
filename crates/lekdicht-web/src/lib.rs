//! The review web application of lekdicht: the only crate that speaks HTTP and HTML.
//!
//! Investigators, privacy officers and auditors work through server-rendered pages (askama
//! templates, htmx for partial updates, all assets embedded): the alert queue and alert pages with
//! pseudonymised employees and subjects, decisions (dismiss, escalate, ask for justification),
//! reveals with four-eyes approval, suppression rules, signal precision, random-sample audits and
//! the audit trail of everything users do. Every page needs a login; every permission is checked
//! on the server with `lekdicht_review::allowed`; a user sees only their own organisation.
//!
//! Storage goes through `lekdicht-store` on blocking threads ([`pool::Pool`]); the audit ledger and
//! the event ledger's inclusion proofs are seams ([`AuditLedger`], [`EventProofs`]) that the
//! binary implements. This crate holds no detection or review
//! domain logic of its own, reads no environment and parses no command line.

pub mod admin;
mod admin_i18n;
pub mod alerts;
pub mod api;
pub mod api_cases;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod case_ops;
pub mod cases;
mod cases_i18n;
pub mod chart;
pub mod directory;
pub mod error;
pub mod i18n;
pub mod ops;
pub mod otlp;
pub mod pool;
pub mod reports;
pub mod reveals;
pub mod rules;
pub mod samples;
pub mod sso;
pub mod totp;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use lekdicht_review::{Lang, Pseudonymizer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use audit::{AuditLedger, AuditWriter, EventProofs, LedgerError, spawn_ledger_worker};
pub use directory::Directory;
pub use error::AppError;
pub use pool::Pool;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: Arc<Pool>,
    pub pseudonyms: Arc<Pseudonymizer>,
    pub directory: Arc<Directory>,
    /// Group-commit writer of page-view audit entries.
    pub audit: AuditWriter,
    /// The organisations' retention policies for cases (the built-in default unless set).
    pub retention: Arc<lekdicht_cases::RetentionPolicies>,
    /// Inclusion proofs of a case's linked accesses, when there is an event ledger.
    pub proofs: Option<Arc<dyn EventProofs>>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for login throttling).
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Single sign-on at the organisation's OpenID provider, when configured.
    pub sso: Option<Arc<sso::Sso>>,
    /// Metrics and readiness.
    pub ops: Arc<ops::Operations>,
    /// The OTLP intake (`/v1/traces`, `/v1/logs`), when switched on.
    pub otlp: Option<Arc<otlp::Otlp>>,
}

impl AppState {
    /// Opens the pool on `data`, loads the directory from the store's context and starts the
    /// audit writer. Must be called within a tokio runtime.
    pub fn open(
        data: &std::path::Path,
        pool_size: usize,
        key: [u8; 32],
    ) -> Result<AppState, AppError> {
        let pool = Pool::open(data, pool_size)?;
        let store = lekdicht_store::SqliteStore::open(data)?;
        let records = lekdicht_store::Store::load_context(&store)?;
        Ok(AppState {
            audit: AuditWriter::start(Arc::clone(&pool)),
            pool,
            pseudonyms: Arc::new(Pseudonymizer::new(key)),
            directory: Arc::new(Directory::new(&records)),
            retention: Arc::new(lekdicht_cases::RetentionPolicies::default()),
            proofs: None,
            trusted_proxies: Arc::new(Vec::new()),
            sso: None,
            ops: Arc::new(ops::Operations::default()),
            otlp: None,
        })
    }

    /// Uses `policies` for the retention dates of cases.
    pub fn with_retention(mut self, policies: lekdicht_cases::RetentionPolicies) -> AppState {
        self.retention = Arc::new(policies);
        self
    }

    /// Takes the client address of requests from `proxies` from their `X-Forwarded-For`.
    pub fn with_trusted_proxies(mut self, proxies: Vec<std::net::IpAddr>) -> AppState {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    /// Signs people in at an OpenID provider besides the local accounts.
    pub fn with_sso(mut self, sso: sso::Sso) -> AppState {
        self.sso = Some(Arc::new(sso));
        self
    }

    /// Takes the figures of `/metrics` and `/readyz` from `probe`; `/metrics` answers the bearer
    /// `token`, or only loopback clients without one.
    pub fn with_operations(
        mut self,
        probe: Arc<dyn ops::Probe>,
        token: Option<String>,
    ) -> AppState {
        self.ops = Arc::new(ops::Operations::new(Some(probe), token));
        self
    }

    /// Receives access events over OTLP, stored through `otlp`'s intake.
    pub fn with_otlp(mut self, otlp: otlp::Otlp) -> AppState {
        self.otlp = Some(Arc::new(otlp));
        self
    }

    /// Offers inclusion proofs of linked accesses from `proofs`.
    pub fn with_proofs(mut self, proofs: Arc<dyn EventProofs>) -> AppState {
        self.proofs = Some(proofs);
        self
    }
}

/// The whole application: every area's router, the authentication and language middleware and
/// the security headers.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(view::router())
        .merge(alerts::router())
        .merge(reveals::router())
        .merge(audit::router())
        .merge(rules::router())
        .merge(admin::router())
        .merge(samples::router())
        .merge(cases::router())
        .merge(api::router())
        .merge(api_cases::router())
        .merge(otlp::router())
        .merge(assets::router())
        .merge(ops::router())
        .merge(totp::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn(error::api_problems))
        .layer(middleware::from_fn(language))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), ops::observe))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The language of a request: `?lang=` (which also sets the cookie), else the `lang` cookie, else
/// Dutch.
async fn language(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("lang="))
            .and_then(Lang::parse)
    });
    let from_cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|p| p.trim().strip_prefix("lang="))
        .and_then(Lang::parse);
    let lang = from_query.or(from_cookie).unwrap_or(Lang::Nl);
    req.extensions_mut().insert(lang);
    let mut response = next.run(req).await;
    if let Some(lang) = from_query
        && let Ok(value) = HeaderValue::from_str(&format!(
            "lang={}; Path=/; SameSite=Strict; Secure; Max-Age=31536000",
            lang.as_str()
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Serves the application on an already bound listener until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_until(listener, state, std::future::pending()).await
}

/// Serves the application until `shutdown` completes, then stops accepting connections and
/// returns once every request in flight has been answered.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Helper used by the areas: `State` extractor alias.
pub type St = State<AppState>;
