//! What operators need from a running application: a request id on every request (taken from
//! `x-request-id` or generated, echoed back, and a field of every log line of the request), a log
//! line per request, the Prometheus metrics at `/metrics`, and `/readyz`.
//!
//! Metrics are aggregate only: counts and ages per state, per log and per route template, never a
//! user, employee, subject or alert. `/metrics` answers a bearer token when one is configured,
//! else only requests from this computer (loopback); `/readyz` (store and ledgers open) and
//! `/healthz` (the process answers) need no login and say nothing beyond `ok` or `not ready`.
//! The figures of the data directory come through the [`Probe`] seam, which the binary
//! implements; this module knows no file layout and no SQL.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tower_http::request_id::RequestId;

use crate::AppState;
use crate::audit::LedgerError;
use crate::auth::constant_time_eq;

/// Figures of the data directory at one moment, aggregate only.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Events stored (the event ledger's leaves once ingest completed).
    pub events_stored: u64,
    /// Lines ever quarantined, and those still open.
    pub quarantined: u64,
    pub quarantine_open: u64,
    /// Open alerts per age bucket (`lt_1d`, `1d_7d`, `7d_30d`, `ge_30d`).
    pub alerts_open: Vec<(&'static str, u64)>,
    /// Reveals per state (`pending`, `approved`, `refused`).
    pub reveals: Vec<(String, u64)>,
    /// Per ledger log (`events`, `audit`): leaves and seconds since its last signed checkpoint.
    pub ledgers: Vec<LedgerFigures>,
}

/// One ledger log's size and the age of its last checkpoint.
#[derive(Debug, Clone)]
pub struct LedgerFigures {
    pub log: &'static str,
    pub leaves: u64,
    pub checkpoint_age_s: Option<f64>,
}

/// Where the figures and the readiness of the data directory come from.
pub trait Probe: Send + Sync {
    /// The current figures.
    fn figures(&self) -> Result<Figures, LedgerError>;
    /// `Ok` when the store and the ledgers open.
    fn ready(&self) -> Result<(), LedgerError>;
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AgeLabel {
    age: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LogLabel {
    log: String,
}

/// The metrics of one running application.
pub struct Operations {
    registry: Registry,
    latency: Family<RequestLabels, Histogram>,
    events: Gauge,
    quarantined: Family<StateLabel, Gauge>,
    alerts_open: Family<AgeLabel, Gauge>,
    reveals: Family<StateLabel, Gauge>,
    ledger_leaves: Family<LogLabel, Gauge>,
    checkpoint_age: Family<LogLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    probe: Option<Arc<dyn Probe>>,
    token: Option<String>,
}

impl Default for Operations {
    fn default() -> Operations {
        Operations::new(None, None)
    }
}

impl Operations {
    /// Metrics with figures from `probe`; `/metrics` answers `token` as a bearer token, or only
    /// loopback clients without one.
    pub fn new(probe: Option<Arc<dyn Probe>>, token: Option<String>) -> Operations {
        let mut registry = Registry::with_prefix("lekdicht");
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a web request, by method, route template and status",
            latency.clone(),
        );
        let events = Gauge::default();
        registry.register("events_stored", "Access events stored", events.clone());
        let quarantined = Family::default();
        registry.register(
            "quarantine_lines",
            "Lines quarantined at ingest: all of them, and those still open",
            quarantined.clone(),
        );
        let alerts_open = Family::default();
        registry.register(
            "alerts_open",
            "Open alerts in the review queue, by time since detection",
            alerts_open.clone(),
        );
        let reveals = Family::default();
        registry.register("reveals", "Reveal requests by state", reveals.clone());
        let ledger_leaves = Family::default();
        registry.register(
            "ledger_leaves",
            "Leaves of each ledger log",
            ledger_leaves.clone(),
        );
        let checkpoint_age = Family::default();
        registry.register(
            "ledger_checkpoint_age_seconds",
            "Seconds since each ledger log's last signed checkpoint",
            checkpoint_age.clone(),
        );
        Operations {
            registry,
            latency,
            events,
            quarantined,
            alerts_open,
            reveals,
            ledger_leaves,
            checkpoint_age,
            probe,
            token,
        }
    }

    fn update(&self, f: &Figures) {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.events.set(n(f.events_stored));
        let state = |s: &str| StateLabel {
            state: s.to_owned(),
        };
        self.quarantined
            .get_or_create(&state("all"))
            .set(n(f.quarantined));
        self.quarantined
            .get_or_create(&state("open"))
            .set(n(f.quarantine_open));
        for (age, count) in &f.alerts_open {
            let label = AgeLabel {
                age: (*age).to_owned(),
            };
            self.alerts_open.get_or_create(&label).set(n(*count));
        }
        for (s, count) in &f.reveals {
            self.reveals.get_or_create(&state(s)).set(n(*count));
        }
        for ledger in &f.ledgers {
            let label = LogLabel {
                log: ledger.log.to_owned(),
            };
            self.ledger_leaves
                .get_or_create(&label)
                .set(n(ledger.leaves));
            if let Some(age) = ledger.checkpoint_age_s {
                self.checkpoint_age.get_or_create(&label).set(age);
            }
        }
    }

    /// The text exposition of every metric, after refreshing the figures.
    pub fn render(&self) -> Result<String, LedgerError> {
        if let Some(probe) = &self.probe {
            self.update(&probe.figures()?);
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|e| LedgerError(format!("encoding metrics: {e}")))?;
        Ok(text)
    }

    fn allowed(&self, headers: &HeaderMap, peer: Option<std::net::IpAddr>) -> bool {
        match &self.token {
            Some(token) => headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| constant_time_eq(given.trim(), token)),
            None => peer.is_some_and(|ip| ip.is_loopback()),
        }
    }
}

/// Records each request's latency by method, route template and status, and writes one log line
/// per request inside a span that carries the request id.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let response = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state
        .ops
        .latency
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        );
    });
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if !state.ops.allowed(req.headers(), peer) {
        return (StatusCode::UNAUTHORIZED, "unauthorised").into_response();
    }
    let ops = Arc::clone(&state.ops);
    match tokio::task::spawn_blocking(move || ops.render()).await {
        Ok(Ok(text)) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            )],
            text,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "collecting metrics failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable").into_response()
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable").into_response(),
    }
}

/// `/metrics` and `/readyz` (`/healthz` is served with the assets).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/readyz", axum::routing::get(readyz))
}

/// `GET /readyz`: 200 `ok` when the store and the ledgers open, else 503 `not ready`.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store_ok = state
        .pool
        .run(|s| Ok(lekdicht_store::ReviewStore::users(s).is_ok()))
        .await
        .unwrap_or(false);
    let probe = state.ops.probe.clone();
    let ledger_ok = match probe {
        Some(probe) => tokio::task::spawn_blocking(move || probe.ready())
            .await
            .map(|r| {
                r.inspect_err(|e| tracing::warn!(error = %e, "not ready"))
                    .is_ok()
            })
            .unwrap_or(false),
        None => true,
    };
    if store_ok && ledger_ok {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}
