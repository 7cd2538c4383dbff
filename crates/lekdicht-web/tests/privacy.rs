//! Privacy by default, searched for rather than assumed: every role walks the pages, downloads and
//! exports of the test world after a day of review work (decisions, a suppression rule, a reveal
//! request, an escalation with its case, a justification letter), and no response body, audit
//! row or audit ledger record carries an identifying value of that world before a reveal. After
//! the reveal the requester sees the real identity, and the letter addresses the employee by it.

mod common;

use axum::http::StatusCode;
use common::{ACTOR, ALERT, KMAR_ALERT, World, add_user, api, bearer, key, world};
use lekdicht_store::{AuditFilter, ReviewStore, SqliteStore};

/// Every identifying value of the test world: employee and subject ids, names.
const IDENTIFYING: [&str; 7] = [
    ACTOR,
    "EMP-REAL-002",
    "KM-REAL-009",
    "SUBJ-REAL-1",
    "SUBJ-REAL-2",
    "Jansen",
    "Piet",
];

fn assert_clean(what: &str, body: &str) {
    for value in IDENTIFYING {
        assert!(!body.contains(value), "{value} in {what}:\n{body}");
    }
}

/// A day of review work in the politie organisation, by the investigator.
async fn review_work(w: &World) {
    let ivo = w.login("ivo").await;
    let k = key("politie", ALERT);
    let employee = lekdicht_review::Pseudonymizer::new(common::KEY).employee("politie", ACTOR);
    let expires = chrono::Utc::now().date_naive() + chrono::Days::new(30);
    let steps = [
        (
            format!("/alerts/{k}/reveal"),
            "target=employee&reason=gesprek+voorbereiden".to_owned(),
        ),
        (
            "/rules".to_owned(),
            format!(
                "signal=UNEXPLAINED&scope=employee&employee={employee}&system=&expires={expires}&reason=bekend+patroon"
            ),
        ),
        (
            format!("/alerts/{k}/justification"),
            "recipient=employee&due=2030-01-01&message=Graag+uitleg".to_owned(),
        ),
        (
            format!("/alerts/{k}/escalate"),
            "note=verder+onderzoeken".to_owned(),
        ),
    ];
    for (path, form) in steps {
        let r = w
            .post_form(&path, Some(&ivo), &format!("csrf={}&{form}", ivo.csrf))
            .await;
        assert!(
            r.status == StatusCode::SEE_OTHER || r.status == StatusCode::OK,
            "{path}: {} {}",
            r.status,
            r.body
        );
    }
}

/// The pages, downloads and exports to walk.
fn paths(w: &World) -> Vec<String> {
    let k = key("politie", ALERT);
    let store = SqliteStore::open(w.dir.path()).expect("store");
    let cases: Vec<String> = lekdicht_store::CaseStore::cases(
        &store,
        &lekdicht_store::CaseFilter {
            organisation: Some("politie".into()),
            status: None,
        },
    )
    .map(|rows| rows.into_iter().map(|r| r.id).collect())
    .unwrap_or_default();
    let mut paths: Vec<String> = [
        "/",
        "/alerts",
        "/alerts?lang=en",
        "/reveals",
        "/audit",
        "/rules",
        "/precision",
        "/samples",
        "/cases",
        "/reports",
        "/reports.csv",
        "/admin/users",
        "/admin/grants",
        "/admin/tokens",
        "/api/v1/alerts",
        "/api/v1/reveals",
        "/api/v1/rules",
        "/api/v1/cases",
        "/api/v1/reports",
    ]
    .map(str::to_owned)
    .to_vec();
    paths.push(format!("/alerts/{k}"));
    paths.push(format!("/alerts/{k}?lang=en"));
    paths.push(format!("/api/v1/alerts/{k}"));
    paths.push(format!("/alerts/{}", key("kmar", KMAR_ALERT)));
    for id in cases {
        paths.push(format!("/cases/{id}"));
        paths.push(format!("/api/v1/cases/{id}"));
    }
    paths
}

#[tokio::test]
async fn no_role_sees_an_identity_before_a_reveal() {
    let w = world();
    let mut store = SqliteStore::open(w.dir.path()).expect("store");
    add_user(&mut store, "politie", "otto", &["auditor"]);
    add_user(&mut store, "politie", "adm", &["admin"]);
    drop(store);
    review_work(&w).await;
    let paths = paths(&w);
    assert!(
        paths.iter().any(|p| p.starts_with("/cases/")),
        "a case to walk"
    );
    for username in ["anna", "ivo", "alex", "multi", "paula", "otto", "adm"] {
        let session = w.login(username).await;
        let (token, _) = bearer(&w, username);
        for path in &paths {
            let reply = if path.starts_with("/api/") {
                w.send(api("GET", path, &token, None)).await
            } else {
                w.get(path, Some(&session)).await
            };
            assert_clean(&format!("{path} as {username}"), &reply.body);
        }
    }
    // The audit trail as stored and as the ledger records it.
    let store = SqliteStore::open(w.dir.path()).expect("store");
    let rows = store
        .audit_trail(&AuditFilter {
            organisation: "politie".into(),
            limit: 10_000,
            ..Default::default()
        })
        .expect("audit");
    assert!(rows.iter().any(|r| r.action == "reveal_request"));
    assert!(rows.iter().any(|r| r.action == "rule_create"));
    for row in &rows {
        let record = lekdicht_web::audit::ledger_record(row);
        assert_clean("an audit record", &String::from_utf8_lossy(&record));
    }
}

#[tokio::test]
async fn after_the_reveal_the_requester_sees_the_identity_and_the_letter_uses_it() {
    let w = world();
    review_work(&w).await;
    let k = key("politie", ALERT);
    let ivo = w.login("ivo").await;
    let before = w.get(&format!("/alerts/{k}"), Some(&ivo)).await;
    assert_clean("the alert before the reveal", &before.body);
    let store = SqliteStore::open(w.dir.path()).expect("store");
    let id = store.reveals("politie").expect("reveals")[0].id;
    drop(store);
    let alex = w.login("alex").await;
    assert_eq!(w.approve_reveal(&alex, id).await, StatusCode::SEE_OTHER);
    let after = w.get(&format!("/alerts/{k}"), Some(&ivo)).await;
    let letter_start = after.body.find("id=\"j-message\"").expect("the letter");
    let letter = &after.body[letter_start..];
    let letter = &letter[..letter.find("</textarea>").expect("end")];
    assert!(letter.contains(ACTOR), "{letter}");
    // Flagged subjects and restricted investigations are never named to the employee.
    for tip in ["informant", "afgeschermd", "vip"] {
        assert!(!letter.contains(tip), "{tip} in {letter}");
    }
    // Others still see the pseudonym only.
    let anna = w.login("anna").await;
    assert_clean(
        "the alert to another reviewer",
        &w.get(&format!("/alerts/{k}"), Some(&anna)).await.body,
    );
}
