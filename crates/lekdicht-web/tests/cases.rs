//! The case pages and reports through the whole router: login and permissions, organisation
//! isolation, CSRF, registering with validation errors, lifecycle moves with their history,
//! evidence from an escalated alert, the data-breach section, the report figures and the CSV and
//! PDF downloads, evidence linked by hand, the sent times of breach messages, inclusion proofs of
//! linked accesses, the same operations through the JSON API, and the audit trail of every view
//! and change.

mod common;

use axum::http::{StatusCode, header};
use common::{ALERT, KMAR_ALERT, Session, World, api, bearer, key, world};
use lekdicht_store::{AuditFilter, CaseStore, ReviewStore, SqliteStore};

/// A urlencoded form body of `pairs`, with the session's CSRF token.
fn form(session: &Session, pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    std::iter::once(("csrf", session.csrf.as_str()))
        .chain(pairs.iter().copied())
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn location(reply: &common::Reply) -> String {
    reply
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

const DISCLOSURE: &[(&str, &str)] = &[
    ("summary", "Address passed to a relative"),
    ("signal_source", "colleague"),
    ("signal_date", "2025-03-20"),
    ("violation", "disclosure"),
    ("recipient", "private_circle"),
    ("information", "address"),
    ("information", "identity"),
    ("systems", "BVH, BRP"),
    ("suspect_function", "agent"),
    ("suspect_unit", "Wijkteam Noord"),
    ("years_of_service", "4"),
];

/// Registers a case as `session`; returns its id.
async fn create(w: &World, session: &Session, pairs: &[(&str, &str)]) -> String {
    let reply = w
        .post_form("/cases/new", Some(session), &form(session, pairs))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    location(&reply)
        .strip_prefix("/cases/")
        .expect("case location")
        .to_owned()
}

/// Asks for a lifecycle move of a case.
async fn move_case(w: &World, s: &Session, id: &str, to: &str, note: &str) -> common::Reply {
    let body = form(s, &[("to", to), ("note", note)]);
    w.post_form(&format!("/cases/{id}/status?lang=en"), Some(s), &body)
        .await
}

fn audit_actions(w: &World, org: &str) -> Vec<(String, String)> {
    let store = SqliteStore::open(w.dir.path()).expect("store");
    store
        .audit_trail(&AuditFilter {
            organisation: org.into(),
            actor: None,
            action: None,
            limit: 1000,
        })
        .expect("trail")
        .into_iter()
        .map(|a| (a.action, a.object))
        .collect()
}

#[tokio::test]
async fn case_pages_need_login_and_permission() {
    let w = world();
    for path in [
        "/cases",
        "/cases/new",
        "/cases/CASE-2025-00001",
        "/reports",
        "/reports.csv",
        "/reports.pdf",
    ] {
        let reply = w.get(path, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&reply), "/login", "{path}");
    }
    let anna = w.login("anna").await; // reviewer: no case permissions
    for path in [
        "/cases",
        "/cases/new",
        "/reports",
        "/reports.csv",
        "/reports.pdf",
    ] {
        assert_eq!(
            w.get(path, Some(&anna)).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let reply = w
        .post_form("/cases/new", Some(&anna), &form(&anna, DISCLOSURE))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // The privacy officer reads cases and reports but does not work on cases.
    let ivo = w.login("ivo").await;
    let id = create(&w, &ivo, DISCLOSURE).await;
    let paula = w.login("paula").await;
    let list = w.get("/cases", Some(&paula)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&format!("href=\"/cases/{id}\"")));
    assert!(!list.body.contains("href=\"/cases/new\""));
    let page = w.get(&format!("/cases/{id}"), Some(&paula)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("/status\""),
        "no status form without WorkCases"
    );
    assert_eq!(
        w.get("/cases/new", Some(&paula)).await.status,
        StatusCode::FORBIDDEN
    );
    let reply = w
        .post_form(
            &format!("/cases/{id}/status"),
            Some(&paula),
            &form(&paula, &[("to", "under_investigation")]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(w.get("/reports", Some(&paula)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn other_organisations_cases_are_not_found_and_csrf_is_required() {
    let w = world();
    let ivo = w.login("ivo").await;
    let id = create(&w, &ivo, DISCLOSURE).await;
    let karel = w.login("karel").await; // kmar investigator
    assert_eq!(
        w.get(&format!("/cases/{id}"), Some(&karel)).await.status,
        StatusCode::NOT_FOUND
    );
    for (path, pairs) in [
        (format!("/cases/{id}/edit"), DISCLOSURE),
        (
            format!("/cases/{id}/status"),
            &[("to", "under_investigation")][..],
        ),
    ] {
        let reply = w.post_form(&path, Some(&karel), &form(&karel, pairs)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let list = w.get("/cases", Some(&karel)).await;
    assert!(!list.body.contains(&id));
    let report = w.get("/reports?lang=en", Some(&karel)).await;
    assert!(
        report.body.contains("0 suspicions of disclosure"),
        "{}",
        report.body
    );

    // Without the token nothing is created or moved.
    let no_token = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "+").replace(',', "%2C")))
            .collect::<Vec<_>>()
            .join("&")
    };
    let reply = w
        .post_form("/cases/new", Some(&ivo), &no_token(DISCLOSURE))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = w
        .post_form(
            &format!("/cases/{id}/status"),
            Some(&ivo),
            &no_token(&[("to", "under_investigation"), ("csrf", "forged")]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let store = SqliteStore::open(w.dir.path()).expect("store");
    assert_eq!(store.case_ids().expect("ids"), std::slice::from_ref(&id));
    assert_eq!(
        store.case(&id).expect("case").expect("row").status,
        "registered"
    );
}

#[tokio::test]
async fn registering_shows_errors_beside_fields_then_saves() {
    let w = world();
    let ivo = w.login("ivo").await;
    let new = w.get("/cases/new?lang=en", Some(&ivo)).await;
    assert_eq!(new.status, StatusCode::OK);
    for id in [
        "case-summary",
        "case-signal_source",
        "case-signal_date",
        "case-violation",
        "case-information-address",
        "case-systems",
        "case-suspect_unit",
        "case-suspect_function",
        "case-years_of_service",
        "case-recipient",
        "case-outcome",
        "case-measure",
    ] {
        assert!(new.body.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let bad = [
        ("summary", "Lookups"),
        ("signal_source", "manager"),
        ("signal_date", "2025-02-30"),
        ("violation", "disclosure"),
        ("years_of_service", "lots"),
    ];
    let reply = w
        .post_form("/cases/new?lang=en", Some(&ivo), &form(&ivo, &bad))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("id=\"case-signal_date-error\""),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("id=\"case-years_of_service-error\""));
    assert!(reply.body.contains("id=\"case-recipient-error\""));
    assert!(reply.body.contains("a disclosure needs its recipient"));
    assert!(
        reply.body.contains(">Lookups</textarea>"),
        "typed values are kept"
    );
    let store = SqliteStore::open(w.dir.path()).expect("store");
    assert!(store.case_ids().expect("ids").is_empty());

    // Dutch wording of a domain message.
    let reply = w
        .post_form("/cases/new?lang=nl", Some(&ivo), &form(&ivo, &bad))
        .await;
    assert!(reply.body.contains("bij lekken hoort een ontvanger"));

    let id = create(&w, &ivo, DISCLOSURE).await;
    assert_eq!(id, "CASE-2025-00001");
    let page = w.get(&format!("/cases/{id}?lang=en"), Some(&ivo)).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "Report by a colleague",
        "Disclosure of confidential information",
        "Private circle (family, friends, acquaintances)",
        "Address, Identity",
        "BVH, BRP",
        "Wijkteam Noord",
        "Registered",
    ] {
        assert!(page.body.contains(text), "{text}");
    }
    let list = w
        .get("/cases?status=registered&year=2025", Some(&ivo))
        .await;
    assert!(list.body.contains(&id));
    let list = w.get("/cases?status=closed", Some(&ivo)).await;
    assert!(!list.body.contains(&format!("href=\"/cases/{id}\"")));
    let list = w.get("/cases?year=2024", Some(&ivo)).await;
    assert!(!list.body.contains(&format!("href=\"/cases/{id}\"")));
    let actions = audit_actions(&w, "politie");
    assert!(actions.contains(&("case_create".into(), format!("case:{id}"))));
    assert!(actions.contains(&("case_view".into(), format!("case:{id}"))));
    assert!(actions.iter().any(|(a, _)| a == "case_list"));
}

#[tokio::test]
async fn lifecycle_moves_keep_history_and_establishing_opens_the_breach_section() {
    let w = world();
    let ivo = w.login("ivo").await;
    let id = create(&w, &ivo, DISCLOSURE).await;
    let reply = move_case(&w, &ivo, &id, "under_investigation", "interviews planned").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    // Not allowed, and not without an outcome: shown, nothing saved.
    let reply = move_case(&w, &ivo, &id, "registered", "").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("id=\"case-status-error\""));
    let reply = move_case(&w, &ivo, &id, "decided", "").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("needs an outcome"), "{}", reply.body);
    let store = SqliteStore::open(w.dir.path()).expect("store");
    assert_eq!(
        store.case(&id).expect("case").expect("row").status,
        "under_investigation"
    );
    assert_eq!(store.case_history(&id).expect("history").len(), 2);

    // An invalid edit saves nothing; a valid one saves all fields.
    let mut fields: Vec<(&str, &str)> = DISCLOSURE.to_vec();
    fields.push(("outcome", "warning"));
    fields.push(("measure", "fine"));
    let reply = w
        .post_form(
            &format!("/cases/{id}/edit?lang=en"),
            Some(&ivo),
            &form(&ivo, &fields),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("id=\"case-outcome-measure-error\""));
    let row = store.case(&id).expect("case").expect("row");
    assert!(!row.record.contains("warning"));
    fields.pop();
    fields.extend([
        ("steps", "interviews"),
        ("steps", "log_analysis"),
        ("damage_persons", "1"),
        ("damage_description", "Relative visited the address"),
        ("initiative", "employee"),
        ("use", "shared_with_third_party"),
        ("start_date", "2025-03-21"),
    ]);
    let reply = w
        .post_form(
            &format!("/cases/{id}/edit"),
            Some(&ivo),
            &form(&ivo, &fields),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let reply = move_case(&w, &ivo, &id, "decided", "warning given").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let page = w.get(&format!("/cases/{id}?lang=en"), Some(&ivo)).await;
    assert!(
        page.body.contains("Interviews, Log analysis"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Relative visited the address"));
    assert!(page.body.contains("Shared with a third party"));
    let history = &page.body[page.body.find("id=\"case-history\"").expect("history")..];
    assert!(history.contains("interviews planned"));
    assert!(history.contains("warning given"));
    assert_eq!(history.matches("<td>ivo</td>").count(), 3, "{history}");
    // Disclosure of address data, established: the breach duties show, with the deadline.
    assert!(page.body.contains("id=\"case-breach\""), "{}", page.body);
    assert!(page.body.contains("Notification deadline"));
    assert!(page.body.contains("Personal data breach notification"));

    let actions = audit_actions(&w, "politie");
    let count = |a: &str| actions.iter().filter(|(x, _)| x == a).count();
    assert_eq!(count("case_transition"), 2);
    assert_eq!(count("case_update"), 1);
}

#[tokio::test]
async fn escalated_alert_is_evidence_with_link_and_pseudonymous_subjects() {
    let w = world();
    let ivo = w.login("ivo").await;
    let alert = key("politie", ALERT);
    let reply = w
        .post_form(
            &format!("/alerts/{alert}/escalate"),
            Some(&ivo),
            &form(&ivo, &[("note", "neighbour lookups")]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let store = SqliteStore::open(w.dir.path()).expect("store");
    let id = store.case_ids().expect("ids").pop().expect("one case");
    let page = w.get(&format!("/cases/{id}?lang=en"), Some(&ivo)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("href=\"/alerts/{alert}\"")));
    assert!(page.body.contains("ev-1"));
    assert!(page.body.contains("#0"));
    assert!(
        !page.body.contains("SUBJ-REAL-1"),
        "subjects are pseudonymised"
    );
    let at = page.body.find("EMP-REAL-001").unwrap_or(0);
    assert!(
        !page.body.contains("EMP-REAL-001"),
        "the employee is pseudonymised: {}",
        &page.body[at.saturating_sub(300)..(at + 100).min(page.body.len())]
    );
    assert!(page.body.contains("Proactive log analysis"));
}

#[tokio::test]
async fn report_figures_match_the_cases_and_download_as_csv_and_pdf() {
    let w = world();
    let ivo = w.login("ivo").await;
    create(&w, &ivo, DISCLOSURE).await;
    let mut to_criminal: Vec<(&str, &str)> = DISCLOSURE.to_vec();
    to_criminal[4] = ("recipient", "criminal");
    to_criminal[2] = ("signal_date", "2024-06-01");
    create(&w, &ivo, &to_criminal).await;
    create(
        &w,
        &ivo,
        &[
            ("signal_source", "proactive_log_analysis"),
            ("signal_date", "2025-01-10"),
            ("violation", "unauthorised_lookup"),
            ("suspect_unit", "Wijkteam Noord"),
        ],
    )
    .await;
    let page = w.get("/reports?lang=en", Some(&ivo)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<dd id=\"report-total\">3</dd>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("2 suspicions of disclosure, 1 to criminals, 1 to others")
    );
    assert!(page.body.contains("<th scope=\"row\">2025</th><td>2</td>"));
    assert!(page.body.contains("<th scope=\"row\">2024</th><td>1</td>"));
    assert_eq!(page.body.matches("role=\"img\"").count(), 2);
    assert!(page.body.contains("<title>Cases per year</title>"));
    assert!(page.body.contains("id=\"report-unfounded-unit\""));
    assert!(page.body.contains("Criminal"));

    let csv = w.get("/reports.csv", Some(&ivo)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    assert!(
        csv.body
            .starts_with("section,group,subgroup,count,of,share")
    );
    assert!(csv.body.contains("total,,,3,,"), "{}", csv.body);
    assert!(csv.body.contains("year,2025,,2,,"));

    let pdf = w.get("/reports.pdf?lang=en", Some(&ivo)).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.body.starts_with("%PDF"));
    assert!(
        pdf.body
            .contains("(2 suspicions of disclosure, 1 to criminals, 1 to others)")
    );
    assert!(pdf.body.contains("(Number of cases: 3)"));

    let actions = audit_actions(&w, "politie");
    for a in ["report_view", "report_csv", "report_pdf"] {
        assert!(actions.iter().any(|(x, _)| x == a), "{a}");
    }
}

#[tokio::test]
async fn evidence_is_linked_by_hand_from_the_own_organisation_only() {
    let w = world();
    let ivo = w.login("ivo").await;
    let id = create(&w, &ivo, DISCLOSURE).await;
    let link = |kind: &'static str, reference: String| {
        let body = form(
            &ivo,
            &[
                ("kind", kind),
                ("reference", &reference),
                ("note", "by hand"),
            ],
        );
        let path = format!("/cases/{id}/evidence?lang=en");
        let w = &w;
        let ivo = &ivo;
        async move { w.post_form(&path, Some(ivo), &body).await }
    };
    // The alert brings its accesses (sequence numbers 0 and 1).
    let reply = link("alert", key("politie", ALERT)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    // An access of a colleague in the same organisation, by its number.
    let reply = link("event", "#3".into()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    // Another organisation's access and alert, an unknown number, a bad kind: refused, shown.
    for (kind, reference, message) in [
        (
            "event",
            "2".to_owned(),
            "No access with this sequence number",
        ),
        (
            "event",
            "#99".to_owned(),
            "No access with this sequence number",
        ),
        (
            "event",
            "three".to_owned(),
            "No access with this sequence number",
        ),
        (
            "alert",
            key("kmar", KMAR_ALERT),
            "No alert with this handle",
        ),
        ("file", "x".to_owned(), "Choose a kind of evidence"),
    ] {
        let reply = link(kind, reference.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {reference}"
        );
        assert!(
            reply.body.contains("id=\"case-evidence-error\""),
            "{kind} {reference}"
        );
        assert!(
            reply.body.contains(message),
            "{kind} {reference}: {message}"
        );
    }
    let store = SqliteStore::open(w.dir.path()).expect("store");
    let evidence = store.case_evidence(&id).expect("evidence");
    let seqs: Vec<Option<u64>> = evidence.iter().map(|e| e.event_seq).collect();
    assert_eq!(seqs, [None, Some(0), Some(1), Some(3)]);
    assert!(
        evidence
            .iter()
            .all(|e| e.note == "by hand" && e.added_by == "ivo")
    );
    let page = w.get(&format!("/cases/{id}?lang=en"), Some(&ivo)).await;
    assert!(page.body.contains("ev-4"));
    assert!(
        page.body
            .contains(&format!("href=\"/alerts/{}\"", key("politie", ALERT)))
    );

    // The audit trail names the alert by its handle, never by its id (which holds the employee's).
    let actions = audit_actions(&w, "politie");
    assert_eq!(
        actions.iter().filter(|(a, _)| a == "case_evidence").count(),
        2
    );
    let trail = store
        .audit_trail(&AuditFilter {
            organisation: "politie".into(),
            actor: None,
            action: Some("case_evidence".into()),
            limit: 10,
        })
        .expect("trail");
    assert!(
        trail.iter().all(|a| !a.details.contains("EMP-REAL")),
        "{trail:?}"
    );

    // Without the permission, or from another organisation: nothing.
    let paula = w.login("paula").await;
    let body = form(&paula, &[("kind", "event"), ("reference", "3")]);
    let reply = w
        .post_form(&format!("/cases/{id}/evidence"), Some(&paula), &body)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let karel = w.login("karel").await;
    let body = form(&karel, &[("kind", "event"), ("reference", "2")]);
    let reply = w
        .post_form(&format!("/cases/{id}/evidence"), Some(&karel), &body)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(store.case_evidence(&id).expect("evidence").len(), 4);
}

/// Registers a disclosure, records an established outcome and decides it: the breach duties open.
async fn established_case(w: &World, ivo: &Session) -> String {
    let id = create(w, ivo, DISCLOSURE).await;
    let mut fields: Vec<(&str, &str)> = DISCLOSURE.to_vec();
    fields.push(("outcome", "warning"));
    let reply = w
        .post_form(&format!("/cases/{id}/edit"), Some(ivo), &form(ivo, &fields))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        move_case(w, ivo, &id, "under_investigation", "")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        move_case(w, ivo, &id, "decided", "").await.status,
        StatusCode::SEE_OTHER
    );
    id
}

#[tokio::test]
async fn sent_times_of_breach_messages_are_recorded_and_checked() {
    let w = world();
    let ivo = w.login("ivo").await;
    let id = established_case(&w, &ivo).await;
    let page = w.get(&format!("/cases/{id}?lang=en"), Some(&ivo)).await;
    assert!(
        page.body
            .contains("id=\"case-authority-sent\">not recorded yet"),
        "{}",
        page.body
    );
    let sent = |what: &'static str, at: String| {
        let body = form(&ivo, &[("what", what), ("at", &at)]);
        let path = format!("/cases/{id}/sent?lang=en");
        let w = &w;
        let ivo = &ivo;
        async move { w.post_form(&path, Some(ivo), &body).await }
    };
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let now = chrono::Utc::now();
    for (what, at, message) in [
        (
            "authority",
            fmt(now + chrono::Duration::days(1)),
            "in the future",
        ),
        (
            "authority",
            "2020-01-01T10:00".to_owned(),
            "before the breach was established",
        ),
        ("authority", "yesterday".to_owned(), "YYYY-MM-DD HH:MM"),
        ("nobody", fmt(now), "unknown choice"),
    ] {
        let reply = sent(what, at.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what} {at}"
        );
        assert!(reply.body.contains("id=\"case-sent-error\""), "{what} {at}");
        assert!(reply.body.contains(message), "{what} {at}: {message}");
    }
    let store = SqliteStore::open(w.dir.path()).expect("store");
    assert!(
        !store
            .case(&id)
            .expect("case")
            .expect("row")
            .record
            .contains("notified")
    );

    let reply = sent("authority", fmt(now)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let reply = sent("subjects", fmt(now)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let record = store.case(&id).expect("case").expect("row").record;
    assert!(record.contains("\"authority_notified_at\""), "{record}");
    assert!(record.contains("\"subjects_informed_at\""), "{record}");
    let page = w.get(&format!("/cases/{id}?lang=en"), Some(&ivo)).await;
    let at = &page.body[page.body.find("id=\"case-authority-sent\"").expect("sent")..];
    assert!(at.contains("(within the deadline)"), "{at}");
    assert!(!page.body.contains("class=\"overdue\""));
    let actions = audit_actions(&w, "politie");
    assert_eq!(
        actions.iter().filter(|(a, _)| a == "case_update").count(),
        3
    );
}

/// The two leaves of [`TwoProofs`]' tree: events in clear, as the ledger stores them.
const LEAVES: [&str; 2] = [
    r#"{"actor":"EMP-REAL-001","id":"ev-1","postcode":"1012AB","subject":"SUBJ-REAL-1"}"#,
    r#"{"actor":"EMP-REAL-001","id":"ev-2","query":"Jansen","subject":"SUBJ-REAL-2"}"#,
];

fn rfc6962(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update([prefix]);
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Proofs of the first two accesses (a tree of two leaves, shaped as the binary's proofs, event
/// content included); later ones are not covered by a checkpoint yet.
struct TwoProofs;

impl lekdicht_web::EventProofs for TwoProofs {
    fn inclusion_proof(&self, seq: u64) -> Result<Option<String>, lekdicht_web::LedgerError> {
        if seq >= 2 {
            return Ok(None);
        }
        let leaves = LEAVES.map(|l| rfc6962(0, &[l.as_bytes()]));
        let root = rfc6962(1, &[&leaves[0], &leaves[1]]);
        let i = seq as usize;
        Ok(Some(
            serde_json::json!({
                "event": format!("ev-{}", i + 1),
                "system": "BVH",
                "leaf_index": seq,
                "leaf_data": LEAVES[i],
                "leaf_hash": b64(&leaves[i]),
                "tree_size": 2,
                "inclusion_proof": [b64(&leaves[1 - i])],
                "checkpoint": format!("test\n2\n{}\n", b64(&root)),
            })
            .to_string(),
        ))
    }
}

#[tokio::test]
async fn linked_accesses_have_inclusion_proofs_when_there_is_a_ledger() {
    let plain = world();
    let state = plain
        .state
        .clone()
        .with_proofs(std::sync::Arc::new(TwoProofs));
    let w = World {
        router: lekdicht_web::app(state.clone()),
        state,
        dir: plain.dir,
    };
    let ivo = w.login("ivo").await;
    let id = create(&w, &ivo, DISCLOSURE).await;
    for reference in ["0", "3"] {
        let body = form(&ivo, &[("kind", "event"), ("reference", reference)]);
        let reply = w
            .post_form(&format!("/cases/{id}/evidence"), Some(&ivo), &body)
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    }
    let page = w.get(&format!("/cases/{id}?lang=en"), Some(&ivo)).await;
    assert!(
        page.body
            .contains(&format!("href=\"/cases/{id}/evidence/0/proof\""))
    );
    let proof = w
        .get(&format!("/cases/{id}/evidence/0/proof"), Some(&ivo))
        .await;
    assert_eq!(proof.status, StatusCode::OK);
    // The commitment, not the content: no actor, subject, postcode, search or event id...
    for clear in [
        "EMP-REAL-001",
        "SUBJ-REAL-1",
        "1012AB",
        "ev-1",
        "leaf_data",
        "BVH",
    ] {
        assert!(!proof.body.contains(clear), "{clear} in {}", proof.body);
    }
    // ...and still a proof: the leaf hash and the audit path lead to the checkpoint's root.
    let json: serde_json::Value = serde_json::from_str(&proof.body).unwrap();
    assert_eq!(json["leaf_index"], 0);
    use base64::Engine as _;
    let decode = |v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    };
    let leaf = decode(&json["leaf_hash"]);
    let sibling = decode(&json["inclusion_proof"][0]);
    let root = b64(&rfc6962(1, &[&leaf, &sibling]));
    assert!(json["checkpoint"].as_str().unwrap().contains(&root));
    assert_eq!(leaf, rfc6962(0, &[LEAVES[0].as_bytes()]));
    let disposition = proof
        .headers
        .get(header::CONTENT_DISPOSITION)
        .expect("attachment");
    assert!(
        disposition
            .to_str()
            .expect("ascii")
            .starts_with("attachment")
    );
    // Linked but not yet covered; not linked; another organisation.
    let reply = w
        .get(&format!("/cases/{id}/evidence/3/proof"), Some(&ivo))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = w
        .get(&format!("/cases/{id}/evidence/1/proof"), Some(&ivo))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let karel = w.login("karel").await;
    let reply = w
        .get(&format!("/cases/{id}/evidence/0/proof"), Some(&karel))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        audit_actions(&w, "politie")
            .iter()
            .any(|(a, _)| a == "case_proof")
    );

    // Without a ledger there is no proof column and no proof.
    let w = world();
    let ivo = w.login("ivo").await;
    let id = create(&w, &ivo, DISCLOSURE).await;
    let body = form(&ivo, &[("kind", "event"), ("reference", "0")]);
    w.post_form(&format!("/cases/{id}/evidence"), Some(&ivo), &body)
        .await;
    let page = w.get(&format!("/cases/{id}"), Some(&ivo)).await;
    assert!(!page.body.contains("/proof\""));
    let reply = w
        .get(&format!("/cases/{id}/evidence/0/proof"), Some(&ivo))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_case_registry_through_the_json_api() {
    let w = world();
    let (ivo, _) = bearer(&w, "ivo");
    let case = serde_json::json!({
        "organisation": "somebody-else",
        "summary": "Plate passed on",
        "signal_source": "other_agency",
        "signal_date": "2025-04-02",
        "status": "closed",
        "violation": "disclosure",
        "recipient": "criminal",
        "information": ["vehicle"],
        "systems": ["BVH"],
        "suspect": {"employee": "EMP-REAL-002", "function": "agent", "unit": "Wijkteam Noord"}
    });
    let reply = w
        .send(api("POST", "/api/v1/cases", &ivo, Some(case.clone())))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = serde_json::from_str::<serde_json::Value>(&reply.body).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Invalid: a disclosure without its recipient.
    let mut bad = case.clone();
    bad["recipient"] = serde_json::Value::Null;
    let reply = w.send(api("POST", "/api/v1/cases", &ivo, Some(bad))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
    assert_eq!(errors["errors"][0]["field"], "recipient", "{errors}");

    let reply = w
        .send(api("GET", &format!("/api/v1/cases/{id}"), &ivo, None))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let got: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
    // Registered in the caller's organisation, as registered, without a typed-in employee.
    assert_eq!(got["case"]["organisation"], "politie");
    assert_eq!(got["case"]["status"], "registered");
    assert!(got["case"]["suspect"]["employee"].is_null(), "{got}");
    assert_eq!(got["history"][0]["to"], "registered");

    let mut facts = got["case"].clone();
    facts["summary"] = "Plate and address passed on".into();
    facts["information"] = serde_json::json!(["vehicle", "address"]);
    let reply = w
        .send(api(
            "PUT",
            &format!("/api/v1/cases/{id}"),
            &ivo,
            Some(facts),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let reply = w
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/status"),
            &ivo,
            Some(serde_json::json!({"to": "decided"})),
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let reply = w
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/status"),
            &ivo,
            Some(serde_json::json!({"to": "under_investigation", "note": "started"})),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let reply = w
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/evidence"),
            &ivo,
            Some(serde_json::json!({"kind": "alert", "reference": key("politie", ALERT)})),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, "{\"added\":3}");
    let reply = w
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/sent"),
            &ivo,
            Some(serde_json::json!({"what": "authority", "at": "2999-01-01T00:00:00Z"})),
        ))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );

    let reply = w
        .send(api("GET", &format!("/api/v1/cases/{id}"), &ivo, None))
        .await;
    let got: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
    assert_eq!(got["case"]["summary"], "Plate and address passed on");
    assert_eq!(got["case"]["status"], "under_investigation");
    assert_eq!(got["evidence"].as_array().expect("evidence").len(), 3);
    assert_eq!(got["evidence"][0]["reference"], key("politie", ALERT));
    assert!(!reply.body.contains("EMP-REAL"), "{}", reply.body);

    let reply = w
        .send(api(
            "GET",
            "/api/v1/cases?status=under_investigation",
            &ivo,
            None,
        ))
        .await;
    let list: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
    assert_eq!(list.as_array().expect("list").len(), 1);
    let reply = w
        .send(api("GET", "/api/v1/cases?year=2024", &ivo, None))
        .await;
    assert_eq!(reply.body, "[]");
    let reply = w.send(api("GET", "/api/v1/reports", &ivo, None)).await;
    let report: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
    assert_eq!(report["total"], 1);
    assert_eq!(report["disclosure"]["to_criminals"], 1);

    // Another organisation's token does not find it; a reviewer may not register.
    let (karel, _) = bearer(&w, "karel");
    let reply = w
        .send(api("GET", &format!("/api/v1/cases/{id}"), &karel, None))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let (anna, _) = bearer(&w, "anna");
    let reply = w
        .send(api("POST", "/api/v1/cases", &anna, Some(case)))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let openapi = w.send(api("GET", "/api/openapi.json", &ivo, None)).await;
    assert!(openapi.body.contains("/api/v1/cases/{id}/evidence"));
}
