//! A tiny hand-made world (two organisations, three employees, three events, two alerts), the
//! accounts of the tests, and helpers to send requests through the router without a socket.

// Each test binary that includes this module uses only some of the helpers.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use lekdicht_model::RecordKind;
use lekdicht_review::Pseudonymizer;
use lekdicht_store::{
    AlertRow, Batch, NewAudit, NewContext, NewEvent, NewUser, ReviewStore, ScoreRow, SqliteStore,
    Store,
};
use lekdicht_web::{AppState, app, auth};
use tower::ServiceExt;

pub const KEY: [u8; 32] = [7; 32];
pub const PASSWORD: &str = "correct horse battery";
/// The politie alert and its actor's real id.
pub const ALERT: &str = "EMP-REAL-001/ev-1";
pub const ACTOR: &str = "EMP-REAL-001";
pub const KMAR_ALERT: &str = "KM-REAL-009/ev-3";

pub struct World {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub router: Router,
}

fn context(kind: RecordKind, key: &str, value: serde_json::Value) -> NewContext {
    NewContext {
        kind,
        key: key.to_owned(),
        canonical: value.to_string().into_bytes(),
    }
}

fn event(value: serde_json::Value, line: u64) -> NewEvent {
    NewEvent {
        event: serde_json::from_value(value.clone()).expect("event"),
        canonical: value.to_string().into_bytes(),
        unresolved: Default::default(),
        file: Arc::from("test"),
        line,
    }
}

fn audit() -> NewAudit {
    NewAudit {
        organisation: "test".into(),
        actor: "setup".into(),
        action: "user_add".into(),
        object: "setup".into(),
        details: serde_json::json!({}),
        at: chrono::Utc::now(),
    }
}

pub fn add_user(store: &mut SqliteStore, org: &str, username: &str, roles: &[&str]) {
    let user = NewUser {
        organisation: org.into(),
        username: username.into(),
        display_name: format!("{username} tester"),
        password_hash: auth::hash_password(PASSWORD).expect("hash"),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        pending_roles: vec![],
        // Every test account has its own creator, as if issued by independent administrators.
        created_by: format!("cli:issuer-of-{username}"),
    };
    store
        .create_user(&user, &audit())
        .expect("user")
        .expect("new");
}

pub fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = SqliteStore::open(dir.path()).expect("store");
    let run = store.begin_run("test world").expect("run");
    let batch = Batch {
        context: vec![
            context(
                RecordKind::Units,
                "U1",
                serde_json::json!({"id":"U1","organization":"politie","name":"Wijkteam Noord","area":["1012"]}),
            ),
            context(
                RecordKind::Units,
                "U2",
                serde_json::json!({"id":"U2","organization":"kmar","name":"Brigade Schiphol","area":[]}),
            ),
            context(
                RecordKind::Employees,
                ACTOR,
                serde_json::json!({"id":ACTOR,"organization":"politie","unit":"U1","family_name":"Jansen","given_names":"Piet"}),
            ),
            context(
                RecordKind::Employees,
                "EMP-REAL-002",
                serde_json::json!({"id":"EMP-REAL-002","organization":"politie","unit":"U1"}),
            ),
            context(
                RecordKind::Employees,
                "KM-REAL-009",
                serde_json::json!({"id":"KM-REAL-009","organization":"kmar","unit":"U2"}),
            ),
            context(
                RecordKind::Subjects,
                "SUBJ-REAL-1",
                serde_json::json!({"id":"SUBJ-REAL-1","flags":["vip"]}),
            ),
            context(
                RecordKind::Subjects,
                "SUBJ-REAL-2",
                serde_json::json!({"id":"SUBJ-REAL-2"}),
            ),
        ],
        events: vec![
            event(
                serde_json::json!({"id":"ev-1","time":"2025-03-14T09:00:00Z","actor":ACTOR,"system":"BVH","action":"view","subject":"SUBJ-REAL-1"}),
                1,
            ),
            event(
                serde_json::json!({"id":"ev-2","time":"2025-03-14T10:00:00Z","actor":ACTOR,"system":"BRP","action":"view","subject":"SUBJ-REAL-2"}),
                2,
            ),
            event(
                serde_json::json!({"id":"ev-3","time":"2025-03-15T10:00:00Z","actor":"KM-REAL-009","system":"BVH","action":"view","subject":"SUBJ-REAL-2"}),
                3,
            ),
            event(
                serde_json::json!({"id":"ev-4","time":"2025-03-16T11:00:00Z","actor":"EMP-REAL-002","system":"BVH","action":"search"}),
                4,
            ),
        ],
        quarantine: vec![],
    };
    store.write_batch(run, &batch).expect("batch");
    store.finish_run(run, &Default::default()).expect("finish");
    store
        .begin_scoring(&lekdicht_store::TimeRange::default())
        .expect("scoring");
    let line = |event: &str, actor: &str, score: f64, reasons: serde_json::Value| {
        serde_json::json!({"event":event,"actor":actor,"score":score,"explained_by":[],"reasons":reasons}).to_string()
    };
    store
        .write_scores(&[
            ScoreRow { seq: 0, score: 0.8, line: line("ev-1", ACTOR, 0.8, serde_json::json!([{"code":"FLAGGED_SUBJECT","detail":"subject is flagged vip","weight":1.2},{"code":"UNEXPLAINED","detail":"no explanation","weight":0.4}])) },
            ScoreRow { seq: 1, score: 0.4, line: line("ev-2", ACTOR, 0.4, serde_json::json!([{"code":"UNEXPLAINED","detail":"no explanation","weight":0.5}])) },
            ScoreRow { seq: 2, score: 0.6, line: line("ev-3", "KM-REAL-009", 0.6, serde_json::json!([{"code":"UNEXPLAINED","detail":"no explanation","weight":0.9}])) },
        ])
        .expect("scores");
    let alert = |id: &str,
                 actor: &str,
                 events: serde_json::Value,
                 reasons: serde_json::Value,
                 score: f64| {
        AlertRow {
        id: id.into(),
        actor: actor.into(),
        score,
        from_ms: 1_741_942_800_000,
        until_ms: 1_742_050_800_000,
        status: "open".into(),
        line: serde_json::json!({"id":id,"actor":actor,"score":score,"events":events,"reasons":reasons,"status":"open"}).to_string(),
    }
    };
    store
        .write_alerts(&[
            alert(ALERT, ACTOR, serde_json::json!(["ev-1","ev-2"]), serde_json::json!([{"code":"FLAGGED_SUBJECT","count":1,"detail":"subject is flagged vip"},{"code":"UNEXPLAINED","count":2,"detail":"no explanation"}]), 0.85),
            alert(KMAR_ALERT, "KM-REAL-009", serde_json::json!(["ev-3"]), serde_json::json!([{"code":"UNEXPLAINED","count":1,"detail":"no explanation"}]), 0.6),
        ])
        .expect("alerts");
    add_user(&mut store, "politie", "anna", &["reviewer"]);
    add_user(&mut store, "politie", "ivo", &["investigator"]);
    add_user(&mut store, "politie", "alex", &["approver"]);
    add_user(
        &mut store,
        "politie",
        "multi",
        &["investigator", "approver"],
    );
    add_user(&mut store, "politie", "paula", &["privacy_officer"]);
    add_user(&mut store, "kmar", "karel", &["investigator"]);
    drop(store);
    let state = AppState::open(dir.path(), 2, KEY).expect("state");
    let router = app(state.clone());
    World { dir, state, router }
}

/// The handle of an alert in an organisation.
pub fn key(org: &str, alert: &str) -> String {
    lekdicht_web::alerts::alert_key(&Pseudonymizer::new(KEY), org, alert)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl World {
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(req).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
            .await
            .expect("body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> Reply {
        let mut req = Request::get(path);
        if let Some(s) = session {
            req = req.header(header::COOKIE, &s.cookie);
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    pub async fn post_form(&self, path: &str, session: Option<&Session>, form: &str) -> Reply {
        let mut req =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(s) = session {
            req = req.header(header::COOKIE, &s.cookie);
        }
        self.send(req.body(Body::from(form.to_owned())).expect("request"))
            .await
    }

    /// Approves reveal request `id` as the user of `session`; the answer's status.
    pub async fn approve_reveal(&self, session: &Session, id: i64) -> StatusCode {
        self.post_form(
            &format!("/reveals/{id}/approve"),
            Some(session),
            &format!("csrf={}&note=", session.csrf),
        )
        .await
        .status
    }

    pub async fn login_attempt(&self, username: &str, password: &str) -> Reply {
        self.post_form(
            "/login",
            None,
            &format!(
                "username={username}&password={}",
                password.replace(' ', "+")
            ),
        )
        .await
    }

    /// Logs in and reads the CSRF token from a page.
    pub async fn login(&self, username: &str) -> Session {
        let reply = self.login_attempt(username, PASSWORD).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "login of {username}: {}",
            reply.body
        );
        let set_cookie = reply
            .headers
            .get(header::SET_COOKIE)
            .expect("cookie")
            .to_str()
            .expect("ascii");
        let cookie = set_cookie.split(';').next().expect("pair").to_owned();
        let mut session = Session {
            cookie,
            csrf: String::new(),
        };
        // Every user has a tokens page with a form.
        let page = self.get("/admin/tokens", Some(&session)).await;
        let marker = "name=\"csrf\" value=\"";
        let start = page.body.find(marker).expect("csrf field") + marker.len();
        let end = start + page.body[start..].find('"').expect("end");
        session.csrf = page.body[start..end].to_owned();
        session
    }
}

pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// A new API token of `username`: the token and its id.
pub fn bearer(w: &World, username: &str) -> (String, i64) {
    let mut store = SqliteStore::open(w.dir.path()).unwrap();
    let user = store.user_by_username(username).unwrap().unwrap();
    let (token, hash) = lekdicht_web::auth::new_token();
    let audit = lekdicht_store::NewAudit {
        organisation: user.organisation.clone(),
        actor: "cli:test".into(),
        action: "token_add".into(),
        object: format!("user:{username}"),
        details: serde_json::json!({}),
        at: chrono::Utc::now(),
    };
    let id = store.create_token(user.id, "test", &hash, &audit).unwrap();
    (token, id)
}

/// A request with a bearer token and an optional JSON body.
pub fn api(
    method: &str,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    match body {
        Some(b) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}
