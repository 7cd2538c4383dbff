//! The administration pages: permissions, creating users who can then log in, disabling that
//! ends sessions and blocks login, organisation isolation, CSRF, and API tokens end to end.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{PASSWORD, Session, World, add_user, world};
use lekdicht_store::{ReviewStore, SqliteStore};

fn with_admins() -> World {
    let w = world();
    let mut store = SqliteStore::open(w.dir.path()).expect("store");
    add_user(&mut store, "politie", "adm", &["admin"]);
    add_user(&mut store, "kmar", "kadm", &["admin"]);
    w
}

fn user_id(w: &World, username: &str) -> i64 {
    let store = SqliteStore::open(w.dir.path()).expect("store");
    store
        .user_by_username(username)
        .expect("read")
        .expect("user")
        .id
}

/// Logs an admin in and reads the CSRF token from the users page.
async fn login_admin(w: &World, username: &str) -> Session {
    let reply = w.login_attempt(username, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .expect("cookie")
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let mut session = Session {
        cookie,
        csrf: String::new(),
    };
    let page = w.get("/admin/users", Some(&session)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = "name=\"csrf\" value=\"";
    let start = page.body.find(marker).expect("csrf field") + marker.len();
    let end = start + page.body[start..].find('"').expect("end");
    session.csrf = page.body[start..end].to_owned();
    session
}

fn bearer(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn login_and_permission_required() {
    let w = with_admins();
    for path in ["/admin/users", "/admin/tokens"] {
        let anonymous = w.get(path, None).await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
        assert_eq!(anonymous.headers[header::LOCATION], "/login");
    }
    let anna = w.login("anna").await;
    assert_eq!(
        w.get("/admin/users", Some(&anna)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.get("/admin/tokens", Some(&anna)).await.status,
        StatusCode::FORBIDDEN
    );
    let form = format!(
        "csrf={}&username=evil&display_name=E&roles=admin&password=long+enough+password",
        anna.csrf
    );
    assert_eq!(
        w.post_form("/admin/users", Some(&anna), &form).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        SqliteStore::open(w.dir.path())
            .unwrap()
            .user_by_username("evil")
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn admin_sees_own_organisation_and_creates_a_user() {
    let w = with_admins();
    let adm = login_admin(&w, "adm").await;
    let page = w.get("/admin/users?lang=en", Some(&adm)).await;
    assert!(page.body.contains("anna"));
    assert!(!page.body.contains("karel"), "other organisation listed");
    let form = format!(
        "csrf={}&username=nina&display_name=Nina+N&roles=reviewer&roles=auditor&password=another+long+secret",
        adm.csrf
    );
    let created = w.post_form("/admin/users", Some(&adm), &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let row = SqliteStore::open(w.dir.path())
        .unwrap()
        .user_by_username("nina")
        .unwrap()
        .expect("created");
    assert_eq!(row.organisation, "politie");
    assert_eq!(row.roles, vec!["reviewer", "auditor"]);
    let login = w.login_attempt("nina", "another long secret").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    // Duplicate user name and a short password: 422 with the form again.
    let dup = w.post_form("/admin/users", Some(&adm), &form).await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(dup.body.contains("bestaat al"), "{}", dup.body);
    let short = format!(
        "csrf={}&username=otto&display_name=O&roles=reviewer&password=short",
        adm.csrf
    );
    assert_eq!(
        w.post_form("/admin/users", Some(&adm), &short).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Audited.
    let trail = w.get("/audit", Some(&adm)).await;
    assert!(trail.body.contains("user_add"), "{}", trail.body);
}

#[tokio::test]
async fn disabling_ends_sessions_and_blocks_login() {
    let w = with_admins();
    let adm = login_admin(&w, "adm").await;
    let anna = w.login("anna").await;
    assert_eq!(w.get("/alerts", Some(&anna)).await.status, StatusCode::OK);
    let id = user_id(&w, "anna");
    let form = format!("csrf={}", adm.csrf);
    let r = w
        .post_form(&format!("/admin/users/{id}/disable"), Some(&adm), &form)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = w.get("/alerts", Some(&anna)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.headers[header::LOCATION], "/login");
    assert_eq!(
        w.login_attempt("anna", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Not oneself.
    let me = user_id(&w, "adm");
    assert_eq!(
        w.post_form(&format!("/admin/users/{me}/disable"), Some(&adm), &form)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = w
        .post_form(&format!("/admin/users/{id}/enable"), Some(&adm), &form)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.login_attempt("anna", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn other_organisation_is_not_found_and_csrf_is_required() {
    let w = with_admins();
    let adm = login_admin(&w, "adm").await;
    let karel = user_id(&w, "karel");
    let form = format!("csrf={}", adm.csrf);
    assert_eq!(
        w.post_form(&format!("/admin/users/{karel}/disable"), Some(&adm), &form)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !SqliteStore::open(w.dir.path())
            .unwrap()
            .user_by_username("karel")
            .unwrap()
            .unwrap()
            .disabled
    );
    let anna = user_id(&w, "anna");
    let no_csrf = w
        .post_form(&format!("/admin/users/{anna}/disable"), Some(&adm), "")
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let wrong = w
        .post_form(
            "/admin/users",
            Some(&adm),
            "csrf=wrong&username=x1&display_name=X&roles=reviewer&password=long+enough+password",
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        !SqliteStore::open(w.dir.path())
            .unwrap()
            .user_by_username("anna")
            .unwrap()
            .unwrap()
            .disabled
    );
}

#[tokio::test]
async fn token_created_used_and_revoked() {
    let w = with_admins();
    let adm = login_admin(&w, "adm").await;
    // Another organisation's user cannot get a token here.
    let other = w
        .post_form(
            "/admin/tokens",
            Some(&adm),
            &format!("csrf={}&username=karel&name=x", adm.csrf),
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    let created = w
        .post_form(
            "/admin/tokens",
            Some(&adm),
            &format!("csrf={}&username=ivo&name=siem", adm.csrf),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let marker = "<code id=\"new-token\">";
    let start = created.body.find(marker).expect("token shown") + marker.len();
    let end = start + created.body[start..].find('<').expect("end");
    let token = created.body[start..end].to_owned();
    assert!(token.len() >= 40);
    let ok = w.send(bearer("/api/v1/alerts", &token)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let list = w.get("/admin/tokens", Some(&adm)).await;
    assert!(list.body.contains("siem"));
    assert!(!list.body.contains(&token), "token shown again");
    let store = SqliteStore::open(w.dir.path()).unwrap();
    let id = store.tokens().unwrap().last().expect("token").id;
    drop(store);
    // Another organisation's admin: not found.
    let kadm = login_admin(&w, "kadm").await;
    assert_eq!(
        w.post_form(
            &format!("/admin/tokens/{id}/revoke"),
            Some(&kadm),
            &format!("csrf={}", kadm.csrf)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.send(bearer("/api/v1/alerts", &token)).await.status,
        StatusCode::OK
    );
    let revoked = w
        .post_form(
            &format!("/admin/tokens/{id}/revoke"),
            Some(&adm),
            &format!("csrf={}", adm.csrf),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.send(bearer("/api/v1/alerts", &token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}
