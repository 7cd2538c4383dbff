//! The review application through its router: authentication on every route, CSRF, throttling,
//! organisation isolation, pseudonyms, decisions, reveals with four-eyes approval, the audit trail
//! and its ledger seam.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{ACTOR, ALERT, KMAR_ALERT, PASSWORD, api, bearer, key, world};
use lekdicht_store::{AuditFilter, ReviewStore, SqliteStore, Store};
use lekdicht_web::{AuditLedger, LedgerError};

fn routes() -> Vec<(&'static str, String)> {
    let k = key("politie", ALERT);
    vec![
        ("GET", "/".to_owned()),
        ("GET", "/alerts".to_owned()),
        ("GET", format!("/alerts/{k}")),
        ("POST", format!("/alerts/{k}/dismiss")),
        ("POST", format!("/alerts/{k}/escalate")),
        ("POST", format!("/alerts/{k}/justification")),
        ("POST", format!("/alerts/{k}/answer")),
        ("POST", format!("/alerts/{k}/reveal")),
        ("GET", "/reveals".to_owned()),
        ("POST", "/reveals/1/approve".to_owned()),
        ("POST", "/reveals/1/refuse".to_owned()),
        ("GET", "/audit".to_owned()),
        ("GET", "/rules".to_owned()),
        ("POST", "/rules".to_owned()),
        ("POST", "/rules/R-1/revoke".to_owned()),
        ("GET", "/precision".to_owned()),
        ("GET", "/samples".to_owned()),
        ("POST", "/samples".to_owned()),
        ("GET", "/samples/1".to_owned()),
        ("POST", "/samples/1/items/0".to_owned()),
        ("GET", "/samples/1/report".to_owned()),
        ("GET", "/samples/1/report.csv".to_owned()),
        ("POST", "/logout".to_owned()),
        ("GET", "/api/openapi.json".to_owned()),
        ("GET", "/api/v1/alerts".to_owned()),
        ("GET", format!("/api/v1/alerts/{k}")),
        ("POST", format!("/api/v1/alerts/{k}/dismiss")),
        ("POST", format!("/api/v1/alerts/{k}/escalate")),
        ("POST", format!("/api/v1/alerts/{k}/justification")),
        ("POST", format!("/api/v1/alerts/{k}/answer")),
        ("POST", format!("/api/v1/alerts/{k}/reveals")),
        ("GET", "/api/v1/reveals".to_owned()),
        ("POST", "/api/v1/reveals/1/approve".to_owned()),
        ("POST", "/api/v1/reveals/1/refuse".to_owned()),
        ("GET", "/api/v1/rules".to_owned()),
        ("POST", "/api/v1/rules".to_owned()),
        ("POST", "/api/v1/rules/R-1/revoke".to_owned()),
        ("POST", "/api/v1/samples".to_owned()),
        ("POST", "/api/v1/samples/1/items/0".to_owned()),
        ("GET", "/api/v1/samples/1/report".to_owned()),
        ("POST", "/cases/CASE-2025-00001/evidence".to_owned()),
        ("POST", "/cases/CASE-2025-00001/sent".to_owned()),
        ("GET", "/cases/CASE-2025-00001/evidence/0/proof".to_owned()),
        ("GET", "/api/v1/cases".to_owned()),
        ("POST", "/api/v1/cases".to_owned()),
        ("GET", "/api/v1/cases/CASE-2025-00001".to_owned()),
        ("PUT", "/api/v1/cases/CASE-2025-00001".to_owned()),
        ("POST", "/api/v1/cases/CASE-2025-00001/status".to_owned()),
        ("POST", "/api/v1/cases/CASE-2025-00001/evidence".to_owned()),
        ("POST", "/api/v1/cases/CASE-2025-00001/sent".to_owned()),
        (
            "GET",
            "/api/v1/cases/CASE-2025-00001/evidence/0/proof".to_owned(),
        ),
        ("GET", "/api/v1/reports".to_owned()),
    ]
}

#[tokio::test]
async fn every_route_requires_login() {
    let w = world();
    for (method, path) in routes() {
        if path.starts_with("/api/") {
            let req = Request::builder()
                .method(method)
                .uri(&path)
                .body(Body::empty())
                .unwrap();
            assert_eq!(
                w.send(req).await.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path}"
            );
            continue;
        }
        let req = Request::builder()
            .method(method)
            .uri(&path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("csrf=x"))
            .unwrap();
        let reply = w.send(req).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{method} {path}");
        assert_eq!(
            reply.headers.get(header::LOCATION).unwrap(),
            "/login",
            "{method} {path}"
        );
    }
    // The public ones.
    assert_eq!(w.get("/login", None).await.status, StatusCode::OK);
    assert_eq!(w.get("/healthz", None).await.status, StatusCode::OK);
    let css = w.get("/static/app.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers
            .get(header::CACHE_CONTROL)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert_eq!(
        w.get("/static/htmx.min.js", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let w = world();
    let wrong = w.login_attempt("anna", "not the right password").await;
    let unknown = w.login_attempt("nobody", "not the right password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Gebruikersnaam of wachtwoord onjuist."));
    assert_eq!(
        wrong.body.replace("anna", ""),
        unknown.body.replace("nobody", "")
    );
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn session_cookie_is_strict_and_logout_ends_it() {
    let w = world();
    let reply = w.login_attempt("anna", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let s = w.login("anna").await;
    assert_eq!(w.get("/alerts", Some(&s)).await.status, StatusCode::OK);
    let out = w
        .post_form("/logout", Some(&s), &format!("csrf={}", s.csrf))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.get("/alerts", Some(&s)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn five_failures_lock_the_account() {
    let w = world();
    for _ in 0..5 {
        assert_eq!(
            w.login_attempt("anna", "wrong wrong wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = w.login_attempt("anna", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(locked.headers[header::RETRY_AFTER], "1");
    // The failures are in the audit trail of the organisation.
    let store = SqliteStore::open(w.dir.path()).unwrap();
    let failed = store
        .audit_trail(&AuditFilter {
            organisation: "politie".into(),
            action: Some("login_failed".into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(failed.len(), 5);
}

#[tokio::test]
async fn state_changes_need_the_csrf_token() {
    let w = world();
    let s = w.login("ivo").await;
    let path = format!("/alerts/{}/escalate", key("politie", ALERT));
    assert_eq!(
        w.post_form(&path, Some(&s), "note=x").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.post_form(&path, Some(&s), "csrf=forged&note=x")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let cross = Request::post(&path)
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(format!("csrf={}&note=x", s.csrf)))
        .unwrap();
    assert_eq!(w.send(cross).await.status, StatusCode::FORBIDDEN);
    let foreign = Request::post(&path)
        .header(header::COOKIE, &s.cookie)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={}&note=x", s.csrf)))
        .unwrap();
    assert_eq!(w.send(foreign).await.status, StatusCode::FORBIDDEN);
    // Nothing changed so far.
    let store = SqliteStore::open(w.dir.path()).unwrap();
    assert_eq!(store.alerts(Some("escalated")).unwrap().len(), 0);
    // The htmx header works as well as the field.
    let ok = Request::post(&path)
        .header(header::COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("note=goes+to+a+case"))
        .unwrap();
    assert_eq!(w.send(ok).await.status, StatusCode::SEE_OTHER);
    assert_eq!(store.alerts(Some("escalated")).unwrap().len(), 1);
}

#[tokio::test]
async fn other_organisations_alerts_are_not_found() {
    let w = world();
    let karel = w.login("karel").await;
    let politie_key = key("politie", ALERT);
    assert_eq!(
        w.get(&format!("/alerts/{politie_key}"), Some(&karel))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let queue = w.get("/alerts", Some(&karel)).await;
    assert!(!queue.body.contains(&politie_key));
    assert!(queue.body.contains(&key("kmar", KMAR_ALERT)));
    // Deciding on it is not found either.
    let r = w
        .post_form(
            &format!("/alerts/{politie_key}/escalate"),
            Some(&karel),
            &format!("csrf={}&note=x", karel.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // And the politie key of the kmar alert does not resolve for politie users.
    let ivo = w.login("ivo").await;
    assert_eq!(
        w.get(&format!("/alerts/{}", key("kmar", KMAR_ALERT)), Some(&ivo))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pages_are_pseudonymous_accessible_and_carry_security_headers() {
    let w = world();
    let s = w.login("anna").await;
    let queue = w.get("/alerts", Some(&s)).await;
    assert_eq!(queue.status, StatusCode::OK);
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert!(queue.headers.get(h).is_some(), "{h}");
    }
    assert!(
        queue.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(queue.body.contains("<html lang=\"nl\">"));
    assert!(queue.body.contains("href=\"#main\""));
    assert!(queue.body.contains(&key("politie", ALERT)));
    assert!(!queue.body.contains(ACTOR));
    let page = w
        .get(&format!("/alerts/{}", key("politie", ALERT)), Some(&s))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(ACTOR), "real employee id shown");
    assert!(!page.body.contains("SUBJ-REAL-1"), "real subject id shown");
    assert!(!page.body.contains("Jansen"), "real name shown");
    assert!(page.body.contains("role=\"img\""));
    assert!(page.body.contains("<title>"));
    assert!(page.body.contains("FLAGGED_SUBJECT"));
    assert!(page.body.contains("vip"));
    // Every input has a label.
    for id in [
        "dismiss-reason",
        "dismiss-note",
        "rule-expires",
        "j-message",
    ] {
        assert!(page.body.contains(&format!("for=\"{id}\"")), "{id}");
    }
    // A reviewer gets no reveal form.
    assert!(!page.body.contains("/reveal\""));
    let en = w.get("/alerts?lang=en", Some(&s)).await;
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(
        en.headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("lang=en")
    );
}

#[tokio::test]
async fn dismissal_with_rule_suppresses_the_alert_visibly() {
    let w = world();
    let s = w.login("anna").await;
    let k = key("politie", ALERT);
    let expires = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let form = format!(
        "csrf={}&reason=known_legitimate_pattern&note=wijkagent&make_rule=1&rule_scope=employee&rule_expires={expires}",
        s.csrf
    );
    let r = w
        .post_form(&format!("/alerts/{k}/dismiss"), Some(&s), &form)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let queue = w.get("/alerts", Some(&s)).await;
    assert!(
        queue.body.contains("1 verborgen door onderdrukkingsregels"),
        "{}",
        queue.body
    );
    assert!(!queue.body.contains(&format!("/alerts/{k}\"")));
    let shown = w.get("/alerts?suppressed=1", Some(&s)).await;
    assert!(shown.body.contains(&format!("/alerts/{k}\"")));
    let page = w.get(&format!("/alerts/{k}"), Some(&s)).await;
    assert!(page.body.contains("afgewezen"));
    assert!(
        page.body.contains("bekend legitiem patroon")
            || page.body.contains("known_legitimate_pattern")
    );
    // A rule longer than 180 days is refused.
    let far = (chrono::Utc::now() + chrono::Duration::days(400)).date_naive();
    let form = format!(
        "csrf={}&reason=other&make_rule=1&rule_scope=unit&rule_expires={far}",
        s.csrf
    );
    assert_eq!(
        w.post_form(&format!("/alerts/{k}/dismiss"), Some(&s), &form)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let store = SqliteStore::open(w.dir.path()).unwrap();
    assert_eq!(
        store.rules("politie").unwrap().len(),
        2,
        "one rule per signal of the alert"
    );
}

#[tokio::test]
async fn escalation_opens_a_case_and_justification_is_tracked() {
    let w = world();
    let s = w.login("ivo").await;
    let k = key("politie", ALERT);
    let due = "2020-01-01";
    let r = w
        .post_form(
            &format!("/alerts/{k}/justification"),
            Some(&s),
            &format!(
                "csrf={}&recipient=manager&due={due}&message=Graag+uitleg",
                s.csrf
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = w.get(&format!("/alerts/{k}"), Some(&s)).await;
    assert!(page.body.contains("verantwoording gevraagd"));
    assert!(page.body.contains("Termijn verstreken"), "overdue shown");
    assert!(
        w.get("/alerts", Some(&s))
            .await
            .body
            .contains("Termijn verstreken"),
        "overdue in the queue"
    );
    let r = w
        .post_form(
            &format!("/alerts/{k}/answer"),
            Some(&s),
            &format!("csrf={}&answer=Ik+werkte+aan+de+zaak", s.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = w
        .post_form(
            &format!("/alerts/{k}/escalate"),
            Some(&s),
            &format!("csrf={}&note=verder+onderzoek", s.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = w.get(&format!("/alerts/{k}"), Some(&s)).await;
    assert!(page.body.contains("Zaak geopend"));
    assert!(page.body.contains("Ik werkte aan de zaak"));
    assert!(
        !page.body.contains("Termijn verstreken"),
        "answered is not overdue"
    );
    let store = SqliteStore::open(w.dir.path()).unwrap();
    let review = store.alert_review(ALERT).unwrap().unwrap();
    assert!(review.case_id.is_some());
    let trail = store
        .audit_trail(&AuditFilter {
            organisation: "politie".into(),
            actor: Some("ivo".into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    for a in [
        "alert_escalate",
        "alert_record_answer",
        "alert_request_justification",
        "alert_view",
        "login",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn reveals_need_a_second_person() {
    let w = world();
    let k = key("politie", ALERT);
    // A reviewer cannot ask.
    let anna = w.login("anna").await;
    let r = w
        .post_form(
            &format!("/alerts/{k}/reveal"),
            Some(&anna),
            &format!("csrf={}&target=employee&reason=nodig", anna.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An investigator asks, with a reason.
    let ivo = w.login("ivo").await;
    let r = w
        .post_form(
            &format!("/alerts/{k}/reveal"),
            Some(&ivo),
            &format!("csrf={}&target=employee&reason=", ivo.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = w
        .post_form(
            &format!("/alerts/{k}/reveal"),
            Some(&ivo),
            &format!(
                "csrf={}&target=employee&reason=gesprek+voorbereiden",
                ivo.csrf
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Someone holding both roles cannot approve their own request.
    let multi = w.login("multi").await;
    let r = w
        .post_form(
            &format!("/alerts/{k}/reveal"),
            Some(&multi),
            &format!("csrf={}&target=employee&reason=eigen", multi.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = w
        .post_form(
            "/reveals/2/approve",
            Some(&multi),
            &format!("csrf={}&note=", multi.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Not revealed before approval.
    assert!(
        !w.get(&format!("/alerts/{k}"), Some(&ivo))
            .await
            .body
            .contains(ACTOR)
    );
    let alex = w.login("alex").await;
    let list = w.get("/reveals", Some(&alex)).await;
    assert!(list.body.contains("/reveals/1/approve"));
    let r = w
        .post_form(
            "/reveals/1/approve",
            Some(&alex),
            &format!("csrf={}&note=akkoord", alex.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Decided once.
    let again = w
        .post_form(
            "/reveals/1/refuse",
            Some(&alex),
            &format!("csrf={}&note=", alex.csrf),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    let page = w.get(&format!("/alerts/{k}"), Some(&ivo)).await;
    assert!(page.body.contains(ACTOR), "revealed to the requester");
    assert!(page.body.contains("Jansen"));
    // Only to the requester.
    assert!(
        !w.get(&format!("/alerts/{k}"), Some(&anna))
            .await
            .body
            .contains(ACTOR)
    );
    // The privacy officer sees the requests; another organisation's approver does not exist here,
    // but another organisation's user cannot decide.
    let paula = w.login("paula").await;
    let list = w.get("/reveals", Some(&paula)).await;
    assert!(list.body.contains("gesprek voorbereiden"));
    let karel = w.login("karel").await;
    let r = w
        .post_form(
            "/reveals/2/refuse",
            Some(&karel),
            &format!("csrf={}&note=", karel.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

struct MemoryLedger(Mutex<Vec<Vec<u8>>>);

impl AuditLedger for MemoryLedger {
    fn append(&self, records: &[Vec<u8>]) -> Result<u64, LedgerError> {
        let mut all = self.0.lock().unwrap();
        let first = all.len() as u64;
        all.extend(records.iter().cloned());
        Ok(first)
    }
}

#[tokio::test]
async fn audit_trail_page_and_ledger_seam() {
    let w = world();
    let paula = w.login("paula").await;
    let page = w.get("/audit?action=login", Some(&paula)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("paula"));
    let anna = w.login("anna").await;
    assert_eq!(
        w.get("/audit", Some(&anna)).await.status,
        StatusCode::FORBIDDEN
    );
    let ledger = Arc::new(MemoryLedger(Mutex::new(Vec::new())));
    let n = lekdicht_web::audit::flush_audit(&w.state, ledger.clone())
        .await
        .unwrap();
    assert!(n >= 8, "{n}");
    assert_eq!(ledger.0.lock().unwrap().len(), n);
    assert_eq!(
        lekdicht_web::audit::flush_audit(&w.state, ledger.clone())
            .await
            .unwrap(),
        0
    );
    let store = SqliteStore::open(w.dir.path()).unwrap();
    assert!(store.unledgered_audit(10).unwrap().is_empty());
    let first: serde_json::Value = serde_json::from_slice(&ledger.0.lock().unwrap()[0]).unwrap();
    assert_eq!(first["action"], "user_add");
}

#[tokio::test]
async fn sample_audit_draws_judges_and_reports() {
    let w = world();
    let anna = w.login("anna").await;
    // A reviewer cannot draw.
    let form = |csrf: &str| {
        format!(
            "csrf={csrf}&from=2025-03-01&until=2025-03-31&by_unit=1&by_system=1&by_month=1&size=10&min_per_stratum=1&allocation=proportional&seed=42"
        )
    };
    assert_eq!(
        w.post_form("/samples", Some(&anna), &form(&anna.csrf))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let paula = w.login("paula").await;
    let r = w
        .post_form("/samples", Some(&paula), &form(&paula.csrf))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let store = SqliteStore::open(w.dir.path()).unwrap();
    let sample = store.samples("politie").unwrap().pop().unwrap();
    assert_eq!(sample.seed, "42");
    let items = store.sample_items(sample.id).unwrap();
    // The politie population is ev-1, ev-2 and ev-4 (kmar's ev-3 is not in it).
    let seqs: Vec<u64> = items.iter().map(|i| i.seq).collect();
    assert_eq!(seqs, vec![0, 1, 3]);
    // The seed was audited before the draw.
    let trail = store
        .audit_trail(&AuditFilter {
            organisation: "politie".into(),
            actor: Some("paula".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    let seed_at = trail
        .iter()
        .position(|r| r.action == "sample_seed")
        .unwrap();
    let draw_at = trail
        .iter()
        .position(|r| r.action == "sample_draw")
        .unwrap();
    assert!(seed_at > draw_at, "newest first: the seed entry is older");
    // Another organisation cannot see it.
    let karel = w.login("karel").await;
    assert_eq!(
        w.get(&format!("/samples/{}", sample.id), Some(&karel))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A reviewer judges.
    let page = w.get(&format!("/samples/{}", sample.id), Some(&anna)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(ACTOR));
    for (seq, j) in [(0, "unlawful"), (1, "lawful"), (3, "lawful")] {
        let r = w
            .post_form(
                &format!("/samples/{}/items/{seq}", sample.id),
                Some(&anna),
                &format!("csrf={}&judgement={j}&note=", anna.csrf),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let report = w
        .get(&format!("/samples/{}/report", sample.id), Some(&paula))
        .await;
    assert_eq!(report.status, StatusCode::OK);
    let csv = w
        .get(&format!("/samples/{}/report.csv", sample.id), Some(&paula))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("stratum,population,sampled"));
    let overall = csv
        .body
        .lines()
        .find(|l| l.starts_with("overall,"))
        .unwrap();
    assert!(overall.starts_with("overall,3,3,"), "{overall}");
}

#[tokio::test]
async fn rules_are_created_listed_and_revoked_and_precision_counts_decisions() {
    let w = world();
    let anna = w.login("anna").await;
    let employee = lekdicht_review::Pseudonymizer::new(common::KEY).employee("politie", ACTOR);
    let expires = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
    let r = w
        .post_form("/rules", Some(&anna), &format!("csrf={}&signal=UNEXPLAINED&scope=employee&employee={employee}&reason=wijkagent&expires={expires}", anna.csrf))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Without a reason, or with an unknown signal: refused.
    let r = w.post_form("/rules", Some(&anna), &format!("csrf={}&signal=UNEXPLAINED&scope=employee&employee={employee}&reason=&expires={expires}", anna.csrf)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = w
        .post_form(
            "/rules",
            Some(&anna),
            &format!(
                "csrf={}&signal=NOPE&scope=unit&unit=U1&reason=x&expires={expires}",
                anna.csrf
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let page = w.get("/rules", Some(&anna)).await;
    assert!(page.body.contains("wijkagent"));
    assert!(page.body.contains("actief"));
    let store = SqliteStore::open(w.dir.path()).unwrap();
    let id = store.rules("politie").unwrap()[0].id.clone();
    // A rule of another organisation cannot be revoked.
    let karel = w.login("karel").await;
    assert_eq!(
        w.post_form(
            &format!("/rules/{id}/revoke"),
            Some(&karel),
            &format!("csrf={}", karel.csrf)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.post_form(
            &format!("/rules/{id}/revoke"),
            Some(&anna),
            &format!("csrf={}", anna.csrf)
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        w.get("/rules", Some(&anna))
            .await
            .body
            .contains("ingetrokken")
    );
    // Precision: one escalated alert confirms both of its signals.
    let k = key("politie", ALERT);
    w.post_form(
        &format!("/alerts/{k}/escalate"),
        Some(&anna),
        &format!("csrf={}&note=x", anna.csrf),
    )
    .await;
    let precision = w.get("/precision", Some(&anna)).await;
    assert_eq!(precision.status, StatusCode::OK);
    assert!(precision.body.contains("FLAGGED_SUBJECT"));
    assert!(precision.body.contains("100.0%"));
    let alex = w.login("alex").await;
    assert_eq!(
        w.get("/rules", Some(&alex)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn json_api_with_tokens_and_openapi() {
    let w = world();
    let k = key("politie", ALERT);
    // No credentials: 401, not a redirect.
    assert_eq!(
        w.get("/api/v1/alerts", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        w.send(api("GET", "/api/v1/alerts", "not-a-token", None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let (ivo, ivo_token_id) = bearer(&w, "ivo");
    let list = w.send(api("GET", "/api/v1/alerts", &ivo, None)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let alerts: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    assert_eq!(alerts[0]["key"], k.as_str());
    assert!(!list.body.contains(ACTOR));
    let detail = w
        .send(api("GET", &format!("/api/v1/alerts/{k}"), &ivo, None))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    let detail: serde_json::Value = serde_json::from_str(&detail.body).unwrap();
    assert_eq!(detail["events"].as_array().unwrap().len(), 2);
    // Another organisation's token: not found.
    let (karel, _) = bearer(&w, "karel");
    assert_eq!(
        w.send(api("GET", &format!("/api/v1/alerts/{k}"), &karel, None))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Reveal through the API: request, self-approval refused, approval by another.
    let r = w
        .send(api(
            "POST",
            &format!("/api/v1/alerts/{k}/reveals"),
            &ivo,
            Some(serde_json::json!({"target":"employee","reason":"gesprek"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (multi, _) = bearer(&w, "multi");
    let r = w
        .send(api(
            "POST",
            &format!("/api/v1/alerts/{k}/reveals"),
            &multi,
            Some(serde_json::json!({"target":"employee","reason":"zelf"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let own: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let own_id = own["id"].as_str().unwrap();
    assert_eq!(
        w.send(api(
            "POST",
            &format!("/api/v1/reveals/{own_id}/approve"),
            &multi,
            Some(serde_json::json!({"note":""}))
        ))
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // An account holding both sides (from before they were kept apart) approves nobody's.
    assert_eq!(
        w.send(api(
            "POST",
            "/api/v1/reveals/1/approve",
            &multi,
            Some(serde_json::json!({"note":"ok"}))
        ))
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let (alex, _) = bearer(&w, "alex");
    assert_eq!(
        w.send(api(
            "POST",
            "/api/v1/reveals/1/approve",
            &alex,
            Some(serde_json::json!({"note":"ok"}))
        ))
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    // A decision.
    let r = w
        .send(api(
            "POST",
            &format!("/api/v1/alerts/{k}/dismiss"),
            &ivo,
            Some(serde_json::json!({"reason":"data_error","note":"dubbele regel"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let store = SqliteStore::open(w.dir.path()).unwrap();
    assert_eq!(store.alerts(Some("dismissed")).unwrap().len(), 1);
    // A cookie session needs the CSRF header for the API.
    let s = w.login("ivo").await;
    let no_header = Request::post(format!("/api/v1/alerts/{k}/escalate"))
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"note\":\"x\"}"))
        .unwrap();
    assert_eq!(w.send(no_header).await.status, StatusCode::FORBIDDEN);
    // Revoked tokens stop working.
    let mut store = SqliteStore::open(w.dir.path()).unwrap();
    let audit = lekdicht_store::NewAudit {
        organisation: "politie".into(),
        actor: "admin".into(),
        action: "token_revoke".into(),
        object: "token".into(),
        details: serde_json::json!({}),
        at: chrono::Utc::now(),
    };
    assert!(store.revoke_token(ivo_token_id, &audit).unwrap());
    assert_eq!(
        w.send(api("GET", "/api/v1/alerts", &ivo, None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // The OpenAPI document.
    let doc = w.send(api("GET", "/api/openapi.json", &karel, None)).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/v1/alerts",
        "/api/v1/alerts/{key}/dismiss",
        "/api/v1/reveals/{id}/approve",
        "/api/v1/samples/{id}/report",
        "/api/v1/rules",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p}");
    }
}

#[tokio::test]
async fn a_bad_sample_is_a_400_naming_the_field_and_leaves_nothing_behind() {
    let w = world();
    let (paula, _) = bearer(&w, "paula");
    let plan = |from: &str, until: &str, size: &str, min: &str| {
        serde_json::json!({
            "from": from, "until": until, "size": size, "min_per_stratum": min,
            "allocation": "proportional", "seed": "7",
            "by_unit": "1", "by_system": "1", "by_month": "1",
        })
    };
    for (body, field) in [
        (plan("2025-03-01", "+262142-12-31", "10", "0"), "until"),
        (plan("2025-03-01", "2101-01-01", "10", "0"), "until"),
        (plan("1999-12-31", "2025-03-31", "10", "0"), "from"),
        // Two strata (BVH and BRP) at a minimum of one each do not fit a sample of one.
        (
            plan("2025-03-01", "2025-03-31", "1", "1"),
            "min_per_stratum",
        ),
    ] {
        let r = w
            .send(api("POST", "/api/v1/samples", &paula, Some(body)))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.body);
        assert!(r.body.contains(field), "{field} named in {}", r.body);
    }
    let store = SqliteStore::open(w.dir.path()).unwrap();
    assert!(
        store.samples("politie").unwrap().is_empty(),
        "nothing half-written"
    );
    let trail = store
        .audit_trail(&AuditFilter {
            organisation: "politie".into(),
            actor: Some("paula".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert!(trail.iter().all(|r| !r.action.starts_with("sample")));
    drop(store);
    // A sample of two with no minimum draws exactly two.
    let r = w
        .send(api(
            "POST",
            "/api/v1/samples",
            &paula,
            Some(plan("2025-03-01", "2025-03-31", "2", "0")),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let store = SqliteStore::open(w.dir.path()).unwrap();
    let sample = store.samples("politie").unwrap().pop().unwrap();
    assert_eq!(store.sample_items(sample.id).unwrap().len(), 2);
}

#[tokio::test]
async fn the_login_page_says_when_the_secure_cookie_cannot_work() {
    let w = world();
    let page = |headers: &[(&str, &str)]| {
        let mut req = axum::http::Request::get("/login");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(axum::body::Body::empty()).unwrap()
    };
    let plain = w.send(page(&[("host", "lekdicht.example:8080")])).await;
    assert!(plain.body.contains("id=\"plain-http\""), "{}", plain.body);
    for headers in [
        vec![("host", "127.0.0.1:8080")],
        vec![("host", "localhost")],
        vec![("host", "lekdicht.example"), ("x-forwarded-proto", "https")],
        vec![
            ("host", "lekdicht.example"),
            ("forwarded", "for=1.2.3.4;proto=https"),
        ],
    ] {
        let reply = w.send(page(&headers)).await;
        assert!(!reply.body.contains("id=\"plain-http\""), "{headers:?}");
    }
}

#[tokio::test]
async fn api_errors_are_problem_details() {
    let w = world();
    let (anna, _) = bearer(&w, "anna");
    let k = key("politie", ALERT);
    for (req, status) in [
        (
            api("GET", "/api/v1/alerts", "not-a-token", None),
            StatusCode::UNAUTHORIZED,
        ),
        (
            api("GET", "/api/v1/alerts/AL-NOSUCH", &anna, None),
            StatusCode::NOT_FOUND,
        ),
        (
            api(
                "POST",
                "/api/v1/samples",
                &anna,
                Some(serde_json::json!({})),
            ),
            StatusCode::FORBIDDEN,
        ),
        (
            api(
                "POST",
                &format!("/api/v1/alerts/{k}/reveals"),
                &anna,
                Some(serde_json::json!({"target": "employee", "reason": ""})),
            ),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let reply = w.send(req).await;
        assert_eq!(reply.status, status, "{}", reply.body);
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(problem["status"], status.as_u16());
        assert_eq!(problem["type"], "about:blank");
        assert!(problem["title"].is_string());
    }
    // A field error keeps its message as the detail.
    let (paula, _) = bearer(&w, "paula");
    let reply = w
        .send(api(
            "POST",
            "/api/v1/samples",
            &paula,
            Some(serde_json::json!({"from": "2025-03-01", "until": "x", "size": "1"})),
        ))
        .await;
    let problem: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(problem["status"], 400);
    assert!(problem["detail"].as_str().unwrap().starts_with("until:"));
}

#[tokio::test]
async fn failures_make_a_login_wait_not_a_lockout() {
    let w = world();
    // A stranger failed eight times for anna, the latest a minute ago: the wait (8 s) is over.
    let mut store = SqliteStore::open(w.dir.path()).unwrap();
    let minute_ago = chrono::Utc::now().timestamp_millis() - 60_000;
    for i in 0..8 {
        store
            .record_login_failure(
                "anna",
                "198.51.100.9",
                minute_ago - i,
                &lekdicht_store::NewAudit {
                    organisation: "politie".into(),
                    actor: "anna".into(),
                    action: "login_failed".into(),
                    object: "user:anna".into(),
                    details: serde_json::json!({}),
                    at: chrono::Utc::now(),
                },
            )
            .unwrap();
    }
    drop(store);
    let reply = w.login_attempt("anna", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

#[tokio::test]
async fn an_alert_follows_its_case_once_decided() {
    let w = world();
    let ivo = w.login("ivo").await;
    let k = key("politie", ALERT);
    let post = |path: String, form: &str| {
        let body = format!("csrf={}&{form}", ivo.csrf);
        let w = &w;
        let ivo = &ivo;
        async move { w.post_form(&path, Some(ivo), &body).await.status }
    };
    assert_eq!(
        post(format!("/alerts/{k}/escalate"), "note=onderzoek").await,
        StatusCode::SEE_OTHER
    );
    // Escalated twice: refused by the state machine.
    assert_eq!(
        post(format!("/alerts/{k}/escalate"), "note=nog+eens").await,
        StatusCode::BAD_REQUEST
    );
    // The case is decided.
    let mut store = SqliteStore::open(w.dir.path()).unwrap();
    let mut case = lekdicht_store::CaseStore::cases(
        &store,
        &lekdicht_store::CaseFilter {
            organisation: Some("politie".into()),
            status: None,
        },
    )
    .unwrap()
    .pop()
    .unwrap();
    let from = case.status.clone();
    case.status = "decided".into();
    let change = lekdicht_store::StatusChangeRow {
        from_status: from,
        to_status: "decided".into(),
        by: "ivo".into(),
        at: chrono::Utc::now(),
        note: String::new(),
    };
    assert!(lekdicht_store::CaseStore::update_case(&mut store, &case, Some(&change)).unwrap());
    drop(store);
    for (path, form) in [
        ("dismiss", "reason=work_not_recorded&note=toch+niet"),
        ("answer", "answer=uitleg"),
    ] {
        assert_eq!(
            post(format!("/alerts/{k}/{path}"), form).await,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    let store = SqliteStore::open(w.dir.path()).unwrap();
    let alert = Store::alerts(&store, None)
        .unwrap()
        .into_iter()
        .find(|a| a.id == ALERT)
        .unwrap();
    assert_eq!(alert.status, "escalated");
}
