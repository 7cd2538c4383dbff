//! Logboek Dataverwerkingen (LDV 1.0) over OTLP to access events of the data contract.
//!
//! An LDV log line is an OpenTelemetry span with `dpl.core.*` attributes: the processing activity,
//! the data subject (pseudonymised by the organisation) and the subject's id type. By design it
//! does not name the employee; the application's own audit log does, as an OTLP log record with
//! the same `trace_id` and the employee in its `enduser.id` attribute (OpenTelemetry semantic
//! conventions). This crate turns the spans of an `ExportTraceServiceRequest` into contract event
//! objects ([`map_traces`]), reads the employees of an `ExportLogsServiceRequest` ([`audit_actors`])
//! and completes an event with its actor ([`with_actor`]). `docs/ldv-otlp.md` documents the
//! mapping field by field.
//!
//! Pure: no IO, no clock, no HTTP. Deciding how long a span waits for its audit record, keeping
//! waiting spans and storing events is the caller's; validating the event against the contract is
//! the ingest crate's (the objects made here go through the same validation as a file's lines).

use chrono::{DateTime, SecondsFormat};
use lekdicht_model::Action;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{Map, Value};

/// The span attribute that makes a span an LDV processing.
pub const PROCESSING_ACTIVITY: &str = "dpl.core.processing_activity_id";
/// The data subject of the processing.
pub const DATA_SUBJECT: &str = "dpl.core.data_subject_id";
/// The kind of identifier in [`DATA_SUBJECT`] (`BSN`, `Kenteken`, a register URI, ...).
pub const DATA_SUBJECT_TYPE: &str = "dpl.core.data_subject_id_type";
/// The employee, on a span or on an audit-log record (OpenTelemetry semantic conventions).
pub const ENDUSER: &str = "enduser.id";
/// The resource attribute naming the application: the event's `system`.
pub const SERVICE_NAME: &str = "service.name";
/// The actor of an event whose audit record did not arrive in time.
pub const UNKNOWN_ACTOR: &str = "ldv:unknown";

/// Where an event's actor came from (its `actor_source` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorSource {
    /// `enduser.id` on the span itself.
    Span,
    /// `enduser.id` of the audit-log record with the span's `trace_id`.
    AuditLog,
    /// No audit record arrived within the wait: the actor is [`UNKNOWN_ACTOR`].
    None,
}

impl ActorSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorSource::Span => "span",
            ActorSource::AuditLog => "audit_log",
            ActorSource::None => "none",
        }
    }
}

/// One LDV span as a contract event, possibly still without its actor.
#[derive(Debug, Clone, PartialEq)]
pub struct LdvSpan {
    /// Lowercase hex, 32 digits: the key of the join with the audit log.
    pub trace_id: String,
    /// The event object without `actor` and `actor_source` (and without `organization`, which
    /// is the sender's).
    pub event: Map<String, Value>,
    /// `enduser.id` on the span itself, when present.
    pub actor: Option<String>,
}

impl LdvSpan {
    /// The event's `id`.
    pub fn id(&self) -> &str {
        self.event.get("id").and_then(Value::as_str).unwrap_or("")
    }
}

/// A span or log record that cannot be used, with the field that is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The OTLP field or attribute (`trace_id`, `service.name`, `dpl.core.data_subject_id`).
    pub field: String,
    pub reason: String,
    /// What arrived, as JSON, for the quarantine.
    pub raw: Value,
}

/// What an `ExportTraceServiceRequest` holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Traces {
    pub spans: Vec<LdvSpan>,
    pub rejected: Vec<Rejected>,
    /// Spans without [`PROCESSING_ACTIVITY`]: not LDV processings, not access events.
    pub not_ldv: u64,
}

/// The employee named by one audit-log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor {
    /// Lowercase hex, 32 digits.
    pub trace_id: String,
    pub actor: String,
}

/// What an `ExportLogsServiceRequest` holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AuditLog {
    pub actors: Vec<AuditActor>,
    pub rejected: Vec<Rejected>,
    /// Records without [`ENDUSER`]: not audit records of a person's action.
    pub not_audit: u64,
}

fn text(value: &AnyValue) -> Option<String> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        _ => None,
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// The attribute `key` as text: `Ok(None)` when absent, an error naming it when not text.
fn text_attribute(attributes: &[KeyValue], key: &str) -> Result<Option<String>, (String, String)> {
    match attribute(attributes, key) {
        None => Ok(None),
        Some(value) => text(value).map(Some).ok_or_else(|| {
            (
                key.to_owned(),
                "must be a string (or an integer) attribute".to_owned(),
            )
        }),
    }
}

/// `bytes` as lowercase hex of `len` bytes, not all zero; else an error naming `field`.
fn hex_id(bytes: &[u8], len: usize, field: &str) -> Result<String, (String, String)> {
    if bytes.len() != len || bytes.iter().all(|b| *b == 0) {
        return Err((
            field.to_owned(),
            format!(
                "must be {len} bytes, not all zero (W3C trace context); got {}",
                bytes.len()
            ),
        ));
    }
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn attributes_json(attributes: &[KeyValue]) -> Value {
    let map: Map<String, Value> = attributes
        .iter()
        .map(|kv| {
            let value = kv
                .value
                .as_ref()
                .and_then(text)
                .map_or(Value::Null, Value::String);
            (kv.key.clone(), value)
        })
        .collect();
    Value::Object(map)
}

fn raw_span(span: &Span, service: Option<&str>) -> Value {
    serde_json::json!({
        "trace_id": span.trace_id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "span_id": span.span_id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "name": span.name,
        "start_time_unix_nano": span.start_time_unix_nano,
        "service.name": service,
        "attributes": attributes_json(&span.attributes),
    })
}

/// The contract's `subject_type` for an LDV identifier type: `vehicle` for a licence plate
/// (`Kenteken`), `person` for anything else.
fn subject_type(id_type: Option<&str>) -> &'static str {
    match id_type {
        Some(t) if t.eq_ignore_ascii_case("kenteken") || t.eq_ignore_ascii_case("vehicle") => {
            "vehicle"
        }
        _ => "person",
    }
}

/// The contract's `action` for a span name: the name itself when it is one of the contract's
/// actions (any case), `view` otherwise.
fn action(name: &str) -> &'static str {
    Action::parse(&name.to_ascii_lowercase()).map_or(Action::View.as_str(), Action::as_str)
}

fn map_span(span: &Span, service: Option<&str>) -> Result<LdvSpan, (String, String)> {
    let trace_id = hex_id(&span.trace_id, 16, "trace_id")?;
    let span_id = hex_id(&span.span_id, 8, "span_id")?;
    let system = service.ok_or_else(|| {
        (
            SERVICE_NAME.to_owned(),
            "the resource names no application (the event's system)".to_owned(),
        )
    })?;
    if span.start_time_unix_nano == 0 {
        return Err((
            "start_time_unix_nano".to_owned(),
            "the span has no start time".to_owned(),
        ));
    }
    let nanos = i64::try_from(span.start_time_unix_nano).map_err(|_| {
        (
            "start_time_unix_nano".to_owned(),
            "the start time lies beyond the year 2262".to_owned(),
        )
    })?;
    let time = DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let purpose = text_attribute(&span.attributes, PROCESSING_ACTIVITY)?;
    let subject = text_attribute(&span.attributes, DATA_SUBJECT)?;
    let subject_id_type = text_attribute(&span.attributes, DATA_SUBJECT_TYPE)?;
    let actor = text_attribute(&span.attributes, ENDUSER)?;
    let mut event = Map::new();
    event.insert("id".into(), format!("ldv-{trace_id}-{span_id}").into());
    event.insert("time".into(), time.into());
    event.insert("system".into(), system.into());
    event.insert("action".into(), action(&span.name).into());
    if let Some(subject) = subject {
        event.insert("subject".into(), subject.into());
        event.insert(
            "subject_type".into(),
            subject_type(subject_id_type.as_deref()).into(),
        );
    }
    if let Some(id_type) = subject_id_type {
        event.insert("subject_id_type".into(), id_type.into());
    }
    if let Some(purpose) = purpose {
        event.insert("purpose".into(), purpose.into());
    }
    event.insert("operation".into(), span.name.clone().into());
    event.insert("trace_id".into(), trace_id.clone().into());
    event.insert("span_id".into(), span_id.into());
    Ok(LdvSpan {
        trace_id,
        event,
        actor,
    })
}

fn service_name(
    resource: Option<&opentelemetry_proto::tonic::resource::v1::Resource>,
) -> Option<String> {
    resource
        .and_then(|r| attribute(&r.attributes, SERVICE_NAME))
        .and_then(text)
        .filter(|s| !s.is_empty())
}

/// Every LDV span of `request` as an event object, every span that cannot be one as a
/// [`Rejected`] naming the field; spans that are not LDV processings are counted only.
pub fn map_traces(request: &ExportTraceServiceRequest) -> Traces {
    let mut traces = Traces::default();
    for resource_spans in &request.resource_spans {
        let service = service_name(resource_spans.resource.as_ref());
        for scope_spans in &resource_spans.scope_spans {
            for span in &scope_spans.spans {
                if attribute(&span.attributes, PROCESSING_ACTIVITY).is_none() {
                    traces.not_ldv += 1;
                    continue;
                }
                match map_span(span, service.as_deref()) {
                    Ok(ldv) => traces.spans.push(ldv),
                    Err((field, reason)) => traces.rejected.push(Rejected {
                        field,
                        reason,
                        raw: raw_span(span, service.as_deref()),
                    }),
                }
            }
        }
    }
    traces
}

/// The employee of every audit-log record of `request` that names one (`enduser.id`); a record
/// that names one without a usable `trace_id` is rejected, one that names none is counted only.
pub fn audit_actors(request: &ExportLogsServiceRequest) -> AuditLog {
    let mut log = AuditLog::default();
    for resource_logs in &request.resource_logs {
        for scope_logs in &resource_logs.scope_logs {
            for record in &scope_logs.log_records {
                let actor = match text_attribute(&record.attributes, ENDUSER) {
                    Ok(Some(actor)) if !actor.is_empty() => Ok(actor),
                    Ok(_) => {
                        log.not_audit += 1;
                        continue;
                    }
                    Err(e) => Err(e),
                };
                let joined =
                    actor.and_then(|actor| Ok((hex_id(&record.trace_id, 16, "trace_id")?, actor)));
                match joined {
                    Ok((trace_id, actor)) => log.actors.push(AuditActor { trace_id, actor }),
                    Err((field, reason)) => log.rejected.push(Rejected {
                        field,
                        reason,
                        raw: serde_json::json!({
                            "trace_id": record.trace_id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                            "time_unix_nano": record.time_unix_nano,
                            "attributes": attributes_json(&record.attributes),
                        }),
                    }),
                }
            }
        }
    }
    log
}

/// The complete event object: `event` with its actor and where the actor came from. Without
/// an actor the event is stored as [`UNKNOWN_ACTOR`] with `actor_source` `none`.
pub fn with_actor(
    mut event: Map<String, Value>,
    actor: Option<&str>,
    source: ActorSource,
) -> Map<String, Value> {
    let (actor, source) = match actor {
        Some(actor) => (actor, source),
        None => (UNKNOWN_ACTOR, ActorSource::None),
    };
    event.insert("actor".into(), actor.into());
    event.insert("actor_source".into(), source.as_str().into());
    event
}
