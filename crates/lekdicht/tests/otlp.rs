//! The OTLP intake through the real router and the real writer (store, journal, ledger): the
//! mapping of LDV spans, the join with audit-log records on `trace_id`, the wait and its end,
//! both encodings with gzip, authentication, and rejected spans kept in the quarantine.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lekdicht_store::{
    NewAudit, NewUser, QuarantineFilter, ReviewStore, SqliteStore, Store, StoredEvent, TimeRange,
};
use lekdicht_web::otlp::{Otlp, OtlpConfig, resolve_due};
use lekdicht_web::{AppState, app, auth};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use tower::ServiceExt;

const ORG: &str = "gemeente-test";
const WAIT: Duration = Duration::from_secs(30);
/// 2025-03-14T08:31:22.5Z
const START_NANOS: u64 = 1_741_941_082_500_000_000;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn trace_id(n: u8) -> Vec<u8> {
    let mut id = vec![0xab; 16];
    id[15] = n;
    id
}

fn trace_hex(n: u8) -> String {
    trace_id(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// An LDV span of trace `n` on subject `PSEUDO-n`, with `enduser.id` when given.
fn ldv_span(n: u8, name: &str, enduser: Option<&str>) -> Span {
    let mut attributes = vec![
        kv(
            "dpl.core.processing_activity_id",
            "https://register.example/va/42",
        ),
        kv("dpl.core.data_subject_id", &format!("PSEUDO-{n}")),
        kv("dpl.core.data_subject_id_type", "BSN"),
    ];
    if let Some(e) = enduser {
        attributes.push(kv("enduser.id", e));
    }
    Span {
        trace_id: trace_id(n),
        span_id: vec![0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, n],
        name: name.to_owned(),
        start_time_unix_nano: START_NANOS,
        end_time_unix_nano: START_NANOS + 1_000_000,
        attributes,
        ..Span::default()
    }
}

fn traces(service: Option<&str>, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: service.map(|s| kv("service.name", s)).into_iter().collect(),
            ..Resource::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans,
            ..ScopeSpans::default()
        }],
        ..ResourceSpans::default()
    }
}

fn audit_logs(records: &[(u8, &str)]) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records
                    .iter()
                    .map(|(n, actor)| LogRecord {
                        trace_id: trace_id(*n),
                        attributes: vec![kv("enduser.id", actor)],
                        ..LogRecord::default()
                    })
                    .collect(),
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A data directory with a `source` account and a `reviewer` account, each with an API token.
struct World {
    dir: tempfile::TempDir,
    state: AppState,
    router: Router,
    source_token: String,
    reviewer_token: String,
}

fn account(store: &mut SqliteStore, username: &str, role: &str) -> String {
    let audit = NewAudit {
        organisation: ORG.into(),
        actor: "setup".into(),
        action: "user_add".into(),
        object: username.into(),
        details: serde_json::json!({}),
        at: chrono::Utc::now(),
    };
    let user = NewUser {
        organisation: ORG.into(),
        username: username.into(),
        display_name: username.into(),
        password_hash: "unused".into(),
        roles: vec![role.into()],
        pending_roles: Vec::new(),
        created_by: "setup".into(),
    };
    let id = store.create_user(&user, &audit).unwrap().unwrap();
    let (token, hash) = auth::new_token();
    store.create_token(id, "otlp", &hash, &audit).unwrap();
    token
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let source_token = account(&mut store, "bvh-app", "source");
    let reviewer_token = account(&mut store, "reviewer", "reviewer");
    let intake = lekdicht::intake::DataDirIntake::new(dir.path());
    let config = OtlpConfig {
        join_wait: WAIT,
        ..OtlpConfig::default()
    };
    let state = AppState::open(dir.path(), 2, [7; 32])
        .unwrap()
        .with_otlp(Otlp::new(intake, config));
    World {
        router: app(state.clone()),
        state,
        dir,
        source_token,
        reviewer_token,
    }
}

impl World {
    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        gzipped: bool,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, content_type);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = if gzipped {
            request = request.header(header::CONTENT_ENCODING, "gzip");
            gzip(&body)
        } else {
            body
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    async fn send_traces(&self, request: &ExportTraceServiceRequest) -> ExportTraceServiceResponse {
        let (status, body) = self
            .post(
                "/v1/traces",
                Some(&self.source_token),
                "application/x-protobuf",
                true,
                request.encode_to_vec(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        ExportTraceServiceResponse::decode(body.as_slice()).unwrap()
    }

    fn store(&self) -> SqliteStore {
        SqliteStore::open(self.dir.path()).unwrap()
    }

    fn timeline(&self, actor: &str) -> Vec<StoredEvent> {
        self.store().timeline(actor, &TimeRange::default()).unwrap()
    }
}

fn record(e: &StoredEvent) -> serde_json::Value {
    serde_json::from_slice(&e.canonical).unwrap()
}

fn ledger_is_clean(data: &Path) {
    let store = SqliteStore::open(data).unwrap();
    let verification = lekdicht::ledger::verify_events(data, &store, None).unwrap();
    assert!(verification.report.is_clean());
    assert_eq!(verification.log.size().0, store.event_count().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_join_their_audit_records_or_wait_then_stand_alone() {
    let w = world();
    // The audit record of trace 1 arrives first, as OTLP/JSON written by hand after the
    // specification's encoding (hex ids, camelCase).
    let json = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"BVH"}}}}]}},
           "scopeLogs":[{{"logRecords":[
             {{"timeUnixNano":"1741941082000000000","traceId":"{}","spanId":"1122334455667701",
               "body":{{"stringValue":"record consulted"}},
               "attributes":[{{"key":"enduser.id","value":{{"stringValue":"E-ALICE"}}}}]}},
             {{"timeUnixNano":"1741941082000000000","body":{{"stringValue":"service started"}}}}]}}]}}]}}"#,
        trace_hex(1)
    );
    let (status, body) = w
        .post(
            "/v1/logs",
            Some(&w.source_token),
            "application/json",
            false,
            json.into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        answer["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("1 log records without enduser.id passed over"),
        "{answer}"
    );

    let request = ExportTraceServiceRequest {
        resource_spans: vec![
            traces(
                Some("BVH"),
                vec![
                    ldv_span(1, "view", None),
                    ldv_span(2, "Search", Some("E-BOB")),
                    ldv_span(3, "raadplegen", None),
                    ldv_span(4, "export", None),
                    Span {
                        name: "GET /health".into(),
                        trace_id: trace_id(9),
                        span_id: vec![1; 8],
                        start_time_unix_nano: START_NANOS,
                        ..Span::default()
                    },
                ],
            ),
            traces(None, vec![ldv_span(5, "view", Some("E-EVE"))]),
        ],
    };
    let answer = w.send_traces(&request).await;
    let partial = answer.partial_success.expect("one span was rejected");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("field `service.name`"),
        "{}",
        partial.error_message
    );
    assert!(
        partial
            .error_message
            .contains("1 spans without dpl.core.processing_activity_id")
    );

    // Joined on arrival: the audit record was there; the span named its employee.
    let alice = w.timeline("E-ALICE");
    assert_eq!(alice.len(), 1);
    let event = record(&alice[0]);
    let expected = serde_json::json!({
        "id": format!("ldv-{}-1122334455667701", trace_hex(1)),
        "time": "2025-03-14T08:31:22.500Z",
        "actor": "E-ALICE",
        "actor_source": "audit_log",
        "system": "BVH",
        "action": "view",
        "operation": "view",
        "subject": "PSEUDO-1",
        "subject_type": "person",
        "subject_id_type": "BSN",
        "purpose": "https://register.example/va/42",
        "organization": ORG,
        "trace_id": trace_hex(1),
        "span_id": "1122334455667701",
    });
    assert_eq!(event, expected);
    let bob = w.timeline("E-BOB");
    assert_eq!(bob.len(), 1);
    assert_eq!(record(&bob[0])["actor_source"], "span");
    assert_eq!(record(&bob[0])["action"], "search");
    assert_eq!(w.store().intake_status().unwrap().pending, 2);

    // Nothing is due yet; then trace 3's audit record arrives (protobuf) and joins it.
    let now = auth::now_ms();
    assert_eq!(resolve_due(&w.state, now).await.unwrap().joined, 0);
    let (status, _) = w
        .post(
            "/v1/logs",
            Some(&w.source_token),
            "application/x-protobuf",
            true,
            audit_logs(&[(3, "E-CAROL")]).encode_to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resolved = resolve_due(&w.state, now).await.unwrap();
    assert_eq!((resolved.joined, resolved.unjoined), (1, 0));
    let carol = w.timeline("E-CAROL");
    assert_eq!(carol.len(), 1);
    assert_eq!(record(&carol[0])["subject"], "PSEUDO-3");
    assert_eq!(record(&carol[0])["action"], "view");
    assert_eq!(record(&carol[0])["operation"], "raadplegen");

    // Trace 4's wait ends: stored with the unknown actor, and reported.
    let later = now + i64::try_from(WAIT.as_millis()).unwrap() + 1;
    let resolved = resolve_due(&w.state, later).await.unwrap();
    assert_eq!((resolved.joined, resolved.unjoined), (0, 1));
    let unknown = w.timeline(lekdicht_otlp::UNKNOWN_ACTOR);
    assert_eq!(unknown.len(), 1);
    assert_eq!(record(&unknown[0])["subject"], "PSEUDO-4");
    assert_eq!(record(&unknown[0])["actor_source"], "none");
    let status = w.store().intake_status().unwrap();
    assert_eq!((status.pending, status.unjoined), (0, 1));
    assert_eq!(w.store().accessed("PSEUDO-4").unwrap().len(), 1);

    // A resent export is stored once.
    let answer = w
        .send_traces(&ExportTraceServiceRequest {
            resource_spans: vec![traces(
                Some("BVH"),
                vec![ldv_span(2, "Search", Some("E-BOB"))],
            )],
        })
        .await;
    assert_eq!(answer.partial_success, None);
    assert_eq!(w.timeline("E-BOB").len(), 1);

    // The rejected span is in the quarantine, with its field.
    let quarantine = w
        .store()
        .quarantine_list(&QuarantineFilter::default())
        .unwrap();
    assert_eq!(quarantine.len(), 1);
    assert_eq!(quarantine[0].field.as_deref(), Some("service.name"));
    assert_eq!(quarantine[0].file, "otlp:/v1/traces");
    assert_eq!(w.store().event_count().unwrap(), 4);
    ledger_is_clean(w.dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intake_wants_a_source_token_and_an_otlp_body() {
    let w = world();
    let body = ExportTraceServiceRequest::default().encode_to_vec();
    let protobuf = "application/x-protobuf";
    let (status, _) = w
        .post("/v1/traces", None, protobuf, false, body.clone())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w
        .post(
            "/v1/traces",
            Some("not-a-token"),
            protobuf,
            false,
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let reviewer = Some(w.reviewer_token.as_str());
    let (status, _) = w
        .post("/v1/logs", reviewer, protobuf, false, body.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let source = Some(w.source_token.as_str());
    let (status, _) = w
        .post("/v1/traces", source, "text/plain", false, body.clone())
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, message) = w
        .post(
            "/v1/traces",
            source,
            protobuf,
            false,
            b"\xff\xff\xff".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&message).contains("not an OTLP protobuf message"));
    let (status, _) = w
        .post(
            "/v1/traces",
            source,
            "application/json",
            false,
            b"{\"resourceSpans\":7}".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let request = Request::post("/v1/traces")
        .header(header::CONTENT_TYPE, protobuf)
        .header(header::CONTENT_ENCODING, "gzip")
        .header(header::AUTHORIZATION, format!("Bearer {}", w.source_token));
    let response = w
        .router
        .clone()
        .oneshot(request.body(Body::from(body.clone())).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "not gzip");
    // An API token opens no page.
    let response = w
        .router
        .clone()
        .oneshot(
            Request::get("/alerts")
                .header(header::AUTHORIZATION, format!("Bearer {}", w.source_token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_ne!(response.status(), StatusCode::OK);
    assert_eq!(w.store().event_count().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_ledger_answers_429_and_keeps_nothing_half_written() {
    let w = world();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![traces(
            Some("BVH"),
            vec![ldv_span(1, "view", Some("E-ALICE"))],
        )],
    };
    // A file ingest holds the event ledger.
    let mut store = w.store();
    let held = lekdicht::ledger::EventLedger::open(w.dir.path(), &mut store).unwrap();
    let http = Request::post("/v1/traces")
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .header(header::AUTHORIZATION, format!("Bearer {}", w.source_token));
    let response = w
        .router
        .clone()
        .oneshot(http.body(Body::from(request.encode_to_vec())).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(w.store().event_count().unwrap(), 0);
    drop(held);
    w.send_traces(&request).await;
    assert_eq!(w.timeline("E-ALICE").len(), 1);
    ledger_is_clean(w.dir.path());
}
