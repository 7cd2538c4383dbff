//! The OTLP/HTTP intake: `POST /v1/traces` (Logboek Dataverwerkingen spans) and `POST /v1/logs`
//! (the applications' audit-log records), protobuf or JSON, optionally gzip-compressed.
//!
//! An application (an account with the `source` role, `Authorization: Bearer <api token>`) sends
//! its LDV spans; the token's organisation is the events' organisation. A span that names its
//! employee (`enduser.id`), or whose trace's audit record arrived already, is stored at once; any
//! other waits in the store (`otlp_pending`) until its audit record arrives or the wait is over
//! ([`resolve_due`], run by [`spawn_join_worker`]), then is stored with an unknown actor. Either way
//! the answer is sent only after the span is durable: as an event (store and ledger, through the
//! [`EventIntake`] seam the binary implements with the ingest pipeline) or as a pending row.
//! Requests beyond [`OtlpConfig::concurrent`], a wait queue beyond [`OtlpConfig::max_pending`] and
//! an event ledger held by another process are answered 429 with `Retry-After`: nothing queues in
//! memory. The mapping itself lives in `lekdicht-otlp`; this module speaks HTTP only.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use lekdicht_otlp::{ActorSource, Rejected, audit_actors, map_traces, with_actor};
use lekdicht_review::Permission;
use lekdicht_store::{DuePending, NewPending};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use serde_json::{Map, Value};
use tokio::sync::{Notify, Semaphore};

use crate::AppState;
use crate::auth::{CurrentUser, now_ms};
use crate::error::AppError;

/// The paths of the intake.
pub const TRACES_PATH: &str = "/v1/traces";
pub const LOGS_PATH: &str = "/v1/logs";

/// Whether `path` is one of the intake's (they take API tokens, as the JSON API does).
pub fn is_intake_path(path: &str) -> bool {
    path == TRACES_PATH || path == LOGS_PATH
}

/// Events (contract objects, without `organization`) and rejected input to store for one
/// organisation.
#[derive(Debug, Default)]
pub struct IntakeRecords {
    /// Where they came from, for the quarantine (`otlp:/v1/traces`).
    pub source: String,
    pub events: Vec<Map<String, Value>>,
    /// Spans or records that cannot be events: kept in the quarantine.
    pub rejected: Vec<Rejected>,
}

/// What storing [`IntakeRecords`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IntakeOutcome {
    pub stored: u64,
    pub duplicates: u64,
    /// Events refused by the contract's validation (or conflicting with a stored one), plus the
    /// rejected input: all in the quarantine.
    pub quarantined: u64,
}

/// Why [`IntakeRecords`] were not stored.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Another process (a file ingest) holds the event ledger: try again later.
    #[error("the event ledger is busy")]
    Busy,
    #[error("{0}")]
    Failed(String),
}

/// Stores events durably, as a file ingest does: store and ledger, bad records in the
/// quarantine. Implemented by the binary; called on a blocking thread.
pub trait EventIntake: Send + Sync {
    fn store(
        &self,
        organisation: &str,
        records: IntakeRecords,
    ) -> Result<IntakeOutcome, IntakeError>;
}

/// Settings of the intake.
#[derive(Debug, Clone)]
pub struct OtlpConfig {
    /// How long a span waits for its audit record before it is stored with an unknown actor.
    pub join_wait: Duration,
    /// Spans that may wait at once; beyond it `/v1/traces` answers 429.
    pub max_pending: u64,
    /// Requests handled at once; beyond it the answer is 429.
    pub concurrent: usize,
    /// Largest request body, compressed and decompressed, in bytes.
    pub max_body: usize,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            join_wait: Duration::from_secs(30),
            max_pending: 100_000,
            concurrent: 2,
            max_body: 16 << 20,
        }
    }
}

/// The intake's shared state.
pub struct Otlp {
    intake: Arc<dyn EventIntake>,
    config: OtlpConfig,
    permits: Arc<Semaphore>,
    wake: Notify,
}

impl Otlp {
    pub fn new(intake: Arc<dyn EventIntake>, config: OtlpConfig) -> Otlp {
        Otlp {
            permits: Arc::new(Semaphore::new(config.concurrent.max(1))),
            intake,
            config,
            wake: Notify::new(),
        }
    }
}

/// `POST /v1/traces` and `POST /v1/logs`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(TRACES_PATH, post(traces))
        .route(LOGS_PATH, post(logs))
        .layer(DefaultBodyLimit::disable())
}

/// How a request body is encoded; the answer uses the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn of(headers: &HeaderMap) -> Result<Encoding, Refusal> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media.to_ascii_lowercase().as_str() {
            "application/x-protobuf" => Ok(Encoding::Protobuf),
            "application/json" => Ok(Encoding::Json),
            _ => Err(plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/x-protobuf or application/json",
            )),
        }
    }

    fn decode<T>(self, bytes: &[u8]) -> Result<T, Refusal>
    where
        T: prost::Message + Default + serde::de::DeserializeOwned,
    {
        match self {
            Encoding::Protobuf => T::decode(bytes).map_err(|e| {
                plain(
                    StatusCode::BAD_REQUEST,
                    &format!("the body is not an OTLP protobuf message: {e}"),
                )
            }),
            Encoding::Json => serde_json::from_slice(bytes).map_err(|e| {
                plain(
                    StatusCode::BAD_REQUEST,
                    &format!("the body is not an OTLP/JSON message: {e}"),
                )
            }),
        }
    }

    fn answer<T: prost::Message + serde::Serialize>(self, message: &T) -> Response {
        let (content_type, body) = match self {
            Encoding::Protobuf => ("application/x-protobuf", message.encode_to_vec()),
            Encoding::Json => (
                "application/json",
                serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec()),
            ),
        };
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response()
    }
}

/// A request the intake does not take: the status, a sentence, and for 429 when to try again.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: String,
    retry_after: Option<u32>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.message).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn plain(status: StatusCode, message: &str) -> Refusal {
    Refusal {
        status,
        message: message.to_owned(),
        retry_after: None,
    }
}

/// 429 with `Retry-After`: the sender keeps its data and sends it again later.
fn too_many(seconds: u32, why: &str) -> Refusal {
    Refusal {
        retry_after: Some(seconds),
        ..plain(StatusCode::TOO_MANY_REQUESTS, why)
    }
}

/// The body, gunzipped when `Content-Encoding: gzip`, at most `max` bytes either way.
fn body_bytes(headers: &HeaderMap, body: &Bytes, max: usize) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request is larger than {max} bytes"),
        )
    };
    if body.len() > max {
        return Err(too_large());
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "identity" | "" => Ok(body.to_vec()),
        "gzip" => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(body.as_ref())
                .take(max as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    plain(
                        StatusCode::BAD_REQUEST,
                        &format!("the body is not valid gzip: {e}"),
                    )
                })?;
            if out.len() > max {
                return Err(too_large());
            }
            Ok(out)
        }
        _ => Err(plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Encoding must be gzip or absent",
        )),
    }
}

/// What comes before decoding: the intake is on, the user may send, the body is readable and
/// there is room for the request. The permit is held until the answer.
struct Admitted {
    otlp: Arc<Otlp>,
    encoding: Encoding,
    body: Vec<u8>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

fn admit(
    state: &AppState,
    user: &CurrentUser,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Admitted, Refusal> {
    let otlp = state
        .otlp
        .clone()
        .ok_or_else(|| plain(StatusCode::NOT_FOUND, "not found"))?;
    user.require(Permission::SubmitEvents).map_err(|_| {
        plain(
            StatusCode::FORBIDDEN,
            "only an account with the source role sends events",
        )
    })?;
    let encoding = Encoding::of(headers)?;
    let permit = Arc::clone(&otlp.permits)
        .try_acquire_owned()
        .map_err(|_| too_many(1, "the intake is busy; send again later"))?;
    let body = body_bytes(headers, body, otlp.config.max_body)?;
    Ok(Admitted {
        otlp,
        encoding,
        body,
        _permit: permit,
    })
}

/// Stores `records` on a blocking thread.
async fn store(
    intake: Arc<dyn EventIntake>,
    organisation: String,
    records: IntakeRecords,
) -> Result<IntakeOutcome, IntakeError> {
    if records.events.is_empty() && records.rejected.is_empty() {
        return Ok(IntakeOutcome::default());
    }
    tokio::task::spawn_blocking(move || intake.store(&organisation, records))
        .await
        .map_err(|e| IntakeError::Failed(format!("the intake task failed: {e}")))?
}

fn intake_failure(error: IntakeError) -> Response {
    match error {
        IntakeError::Busy => {
            too_many(5, "the event ledger is busy; send again later").into_response()
        }
        IntakeError::Failed(message) => {
            AppError::internal(format!("OTLP intake: {message}")).into_response()
        }
    }
}

/// A sentence for `partial_success.error_message`: what was refused or passed over, by field.
fn summary(rejected: &[Rejected], quarantined: u64, passed_over: u64, what: &str) -> String {
    let mut parts = Vec::new();
    if let Some(first) = rejected.first() {
        parts.push(format!(
            "{} rejected (first: field `{}`: {})",
            rejected.len(),
            first.field,
            first.reason
        ));
    }
    let invalid = quarantined.saturating_sub(rejected.len() as u64);
    if invalid > 0 {
        parts.push(format!(
            "{invalid} refused by the data contract's validation (see `lekdicht quarantine list`)"
        ));
    }
    if passed_over > 0 {
        parts.push(format!("{passed_over} {what}"));
    }
    parts.join("; ")
}

async fn traces(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admitted = match admit(&state, &user, &headers, &body) {
        Ok(a) => a,
        Err(refusal) => return refusal.into_response(),
    };
    let request: ExportTraceServiceRequest = match admitted.encoding.decode(&admitted.body) {
        Ok(r) => r,
        Err(refusal) => return refusal.into_response(),
    };
    let otlp = admitted.otlp;
    let mapped = map_traces(&request);
    let organisation = user.organisation.clone();
    // The spans that name no employee look for their trace's audit record.
    let org = organisation.clone();
    let max_pending = otlp.config.max_pending;
    let spans = mapped.spans;
    let joined = state
        .pool
        .run(move |s| {
            let mut ready = Vec::new();
            let mut waiting = Vec::new();
            for span in spans {
                match &span.actor {
                    Some(actor) => {
                        let actor = actor.clone();
                        ready.push(with_actor(span.event, Some(&actor), ActorSource::Span));
                    }
                    None => match s.intake_actor(&org, &span.trace_id)? {
                        Some(actor) => {
                            ready.push(with_actor(span.event, Some(&actor), ActorSource::AuditLog));
                        }
                        None => waiting.push(span),
                    },
                }
            }
            let pending = s.intake_status()?.pending;
            Ok((ready, waiting, pending))
        })
        .await;
    let (ready, waiting, pending) = match joined {
        Ok(j) => j,
        Err(e) => return e.into_response(),
    };
    if !waiting.is_empty() && pending + waiting.len() as u64 > max_pending {
        return too_many(
            5,
            "too many spans wait for their audit records; send the audit log, then these spans again",
        )
        .into_response();
    }
    let records = IntakeRecords {
        source: format!("otlp:{TRACES_PATH}"),
        events: ready,
        rejected: mapped.rejected.clone(),
    };
    let outcome = match store(Arc::clone(&otlp.intake), organisation.clone(), records).await {
        Ok(o) => o,
        Err(e) => return intake_failure(e),
    };
    if !waiting.is_empty() {
        let rows: Vec<NewPending> = waiting
            .iter()
            .map(|span| NewPending {
                event_id: span.id().to_owned(),
                trace_id: span.trace_id.clone(),
                event: Value::Object(span.event.clone()).to_string(),
            })
            .collect();
        let now = now_ms();
        let kept = state
            .pool
            .run(move |s| Ok(s.intake_add_pending(&organisation, &rows, now)?))
            .await;
        if let Err(e) = kept {
            return e.into_response();
        }
    }
    let message = summary(
        &mapped.rejected,
        outcome.quarantined,
        mapped.not_ldv,
        "spans without dpl.core.processing_activity_id passed over (not LDV processings)",
    );
    let partial_success = (!message.is_empty()).then(|| ExportTracePartialSuccess {
        rejected_spans: i64::try_from(outcome.quarantined).unwrap_or(i64::MAX),
        error_message: message,
    });
    tracing::info!(
        stored = outcome.stored,
        duplicates = outcome.duplicates,
        quarantined = outcome.quarantined,
        waiting = waiting.len(),
        "OTLP spans received"
    );
    admitted
        .encoding
        .answer(&ExportTraceServiceResponse { partial_success })
}

async fn logs(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admitted = match admit(&state, &user, &headers, &body) {
        Ok(a) => a,
        Err(refusal) => return refusal.into_response(),
    };
    let request: ExportLogsServiceRequest = match admitted.encoding.decode(&admitted.body) {
        Ok(r) => r,
        Err(refusal) => return refusal.into_response(),
    };
    let otlp = admitted.otlp;
    let audit = audit_actors(&request);
    let organisation = user.organisation.clone();
    let pairs: Vec<(String, String)> = audit
        .actors
        .iter()
        .map(|a| (a.trace_id.clone(), a.actor.clone()))
        .collect();
    let now = now_ms();
    let org = organisation.clone();
    let conflicts = match state
        .pool
        .run(move |s| Ok(s.intake_add_actors(&org, &pairs, now)?))
        .await
    {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if conflicts > 0 {
        tracing::warn!(
            conflicts,
            "audit records name another employee for a trace that has one; the first is kept"
        );
    }
    let mut quarantined = 0;
    if !audit.rejected.is_empty() {
        let records = IntakeRecords {
            source: format!("otlp:{LOGS_PATH}"),
            events: Vec::new(),
            rejected: audit.rejected.clone(),
        };
        match store(Arc::clone(&otlp.intake), organisation, records).await {
            Ok(o) => quarantined = o.quarantined,
            Err(e) => return intake_failure(e),
        }
    }
    otlp.wake.notify_one();
    let message = summary(
        &audit.rejected,
        quarantined,
        audit.not_audit,
        "log records without enduser.id passed over (not audit records)",
    );
    let partial_success = (!message.is_empty()).then(|| ExportLogsPartialSuccess {
        rejected_log_records: i64::try_from(quarantined).unwrap_or(i64::MAX),
        error_message: message,
    });
    admitted
        .encoding
        .answer(&ExportLogsServiceResponse { partial_success })
}

/// What one round of [`resolve_due`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Waiting spans stored with the employee of their audit record.
    pub joined: u64,
    /// Waiting spans stored with an unknown actor: their wait was over.
    pub unjoined: u64,
}

/// Spans read per round of [`resolve_due`].
const DUE_PAGE: usize = 1000;

/// Stores every waiting span that is due at `now_ms`: with its actor when its trace's audit
/// record arrived, with an unknown actor when it waited [`OtlpConfig::join_wait`]. A span leaves
/// the wait only after its event is committed.
pub async fn resolve_due(state: &AppState, now_ms: i64) -> Result<Resolved, IntakeError> {
    let Some(otlp) = state.otlp.clone() else {
        return Ok(Resolved::default());
    };
    let wait_ms = i64::try_from(otlp.config.join_wait.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now_ms.saturating_sub(wait_ms);
    let failed = |e: AppError| IntakeError::Failed(e.to_string());
    let mut resolved = Resolved::default();
    loop {
        let due = state
            .pool
            .run(move |s| Ok(s.intake_due(cutoff, DUE_PAGE)?))
            .await
            .map_err(failed)?;
        let full = due.len() == DUE_PAGE;
        let mut organisations: Vec<&str> = due.iter().map(|d| d.organisation.as_str()).collect();
        organisations.sort_unstable();
        organisations.dedup();
        for organisation in organisations {
            let mut records = IntakeRecords {
                source: format!("otlp:{TRACES_PATH}"),
                ..IntakeRecords::default()
            };
            for d in due.iter().filter(|d| d.organisation == organisation) {
                push_due(&mut records, d);
            }
            store(Arc::clone(&otlp.intake), organisation.to_owned(), records).await?;
        }
        let joined = due.iter().filter(|d| d.actor.is_some()).count() as u64;
        let unjoined = due.len() as u64 - joined;
        resolved.joined += joined;
        resolved.unjoined += unjoined;
        if unjoined > 0 {
            tracing::warn!(
                unjoined,
                "LDV spans stored without their audit record (actor ldv:unknown)"
            );
        }
        if !due.is_empty() {
            state
                .pool
                .run(move |s| Ok(s.intake_done(&due, now_ms)?))
                .await
                .map_err(failed)?;
        }
        if !full {
            return Ok(resolved);
        }
    }
}

fn push_due(records: &mut IntakeRecords, d: &DuePending) {
    match serde_json::from_str::<Map<String, Value>>(&d.event) {
        Ok(event) => {
            records
                .events
                .push(with_actor(event, d.actor.as_deref(), ActorSource::AuditLog))
        }
        Err(e) => records.rejected.push(Rejected {
            field: "event".to_owned(),
            reason: format!("the waiting span's stored event does not parse: {e}"),
            raw: Value::String(d.event.clone()),
        }),
    }
}

/// Runs [`resolve_due`] every second, and at once after audit records arrive. A busy ledger or
/// a failed round is tried again at the next tick; nothing leaves the wait unstored.
pub fn spawn_join_worker(state: AppState) {
    let Some(otlp) = state.otlp.clone() else {
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = otlp.wake.notified() => {}
            }
            match resolve_due(&state, now_ms()).await {
                Ok(_) | Err(IntakeError::Busy) => {}
                Err(e) => tracing::error!(error = %e, "resolving waiting LDV spans failed"),
            }
        }
    });
}
