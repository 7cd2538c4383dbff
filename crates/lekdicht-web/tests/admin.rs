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
    // Every user has their own tokens page, with nobody else's tokens on it.
    let (_, _) = common::bearer(&w, "ivo");
    let own = w.get("/admin/tokens", Some(&anna)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(!own.body.contains("ivo"), "{}", own.body);
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
    // Naming another user does not issue a token for them: a token is always its creator's own.
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
    let store = SqliteStore::open(w.dir.path()).unwrap();
    assert_eq!(store.tokens().unwrap().last().unwrap().username, "adm");
    drop(store);
    // The administrator has no alert permission, and the token opens no page.
    let api = w.send(bearer("/api/v1/alerts", &token)).await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.body);
    let page = w.send(bearer("/admin/users", &token)).await;
    assert_ne!(page.status, StatusCode::OK);
    assert!(!page.body.contains("adm tester"));
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
        StatusCode::FORBIDDEN
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

fn roles_of(w: &World, username: &str) -> Vec<String> {
    let store = SqliteStore::open(w.dir.path()).expect("store");
    store
        .user_by_username(username)
        .expect("read")
        .expect("user")
        .roles
}

fn pending_grant(w: &World, username: &str, role: &str) -> i64 {
    let store = SqliteStore::open(w.dir.path()).expect("store");
    store
        .grants("politie")
        .expect("grants")
        .into_iter()
        .find(|g| g.username == username && g.role == role && g.decision.is_none())
        .expect("pending grant")
        .id
}

async fn create(w: &World, s: &Session, username: &str, roles: &[&str]) -> StatusCode {
    let roles: String = roles.iter().map(|r| format!("&roles={r}")).collect();
    w.post_form(
        "/admin/users",
        Some(s),
        &format!(
            "csrf={}&username={username}&display_name=N{roles}&password={}",
            s.csrf,
            PASSWORD.replace(' ', "+")
        ),
    )
    .await
    .status
}

/// Asks for (`roles`) or revokes (`revoke-role`) a role of account `id`.
async fn role_form(w: &World, s: &Session, id: i64, what: &str, role: &str) -> StatusCode {
    w.post_form(
        &format!("/admin/users/{id}/{what}"),
        Some(s),
        &format!("csrf={}&role={role}", s.csrf),
    )
    .await
    .status
}

async fn decide(w: &World, s: &Session, grant: i64, what: &str) -> StatusCode {
    w.post_form(
        &format!("/admin/grants/{grant}/{what}"),
        Some(s),
        &format!("csrf={}", s.csrf),
    )
    .await
    .status
}

/// The world with a second administrator in the politie organisation, both logged in.
async fn two_admins() -> (World, Session, Session) {
    let w = with_admins();
    let mut store = SqliteStore::open(w.dir.path()).expect("store");
    add_user(&mut store, "politie", "adm2", &["admin"]);
    drop(store);
    let adm = login_admin(&w, "adm").await;
    let adm2 = login_admin(&w, "adm2").await;
    (w, adm, adm2)
}

#[tokio::test]
async fn one_administrator_cannot_grant_the_roles_of_a_reveal_alone() {
    let (w, adm, adm2) = two_admins().await;
    // Both sides of a reveal in one new account: refused outright.
    assert_eq!(
        create(&w, &adm, "dual", &["investigator", "approver"]).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // A privileged role waits for a second person; the requester cannot confirm it.
    assert_eq!(
        create(&w, &adm, "nina", &["reviewer", "investigator"]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(roles_of(&w, "nina"), ["reviewer"]);
    let grant = pending_grant(&w, "nina", "investigator");
    assert_eq!(
        decide(&w, &adm, grant, "confirm").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(roles_of(&w, "nina"), ["reviewer"]);
    // Nor can the account's holder: nina is no confirmer, and the page is closed to her.
    let nina = w.login("nina").await;
    assert_eq!(
        decide(&w, &nina, grant, "confirm").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.get("/admin/grants", Some(&nina)).await.status,
        StatusCode::FORBIDDEN
    );
    // A second administrator confirms.
    let page = w.get("/admin/grants", Some(&adm2)).await;
    assert!(
        page.body
            .contains(&format!("/admin/grants/{grant}/confirm"))
    );
    assert_eq!(
        decide(&w, &adm2, grant, "confirm").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(roles_of(&w, "nina"), ["reviewer", "investigator"]);
    // The approving side cannot be added to an investigator.
    let nina_id = user_id(&w, "nina");
    assert_eq!(
        role_form(&w, &adm, nina_id, "roles", "approver").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Nobody grants themselves a role, and whoever created an account cannot confirm its grants.
    let adm_id = user_id(&w, "adm");
    assert_eq!(
        role_form(&w, &adm, adm_id, "roles", "approver").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        create(&w, &adm, "olaf", &["reviewer"]).await,
        StatusCode::SEE_OTHER
    );
    let olaf = user_id(&w, "olaf");
    assert_eq!(
        role_form(&w, &adm2, olaf, "roles", "approver").await,
        StatusCode::SEE_OTHER
    );
    let grant = pending_grant(&w, "olaf", "approver");
    assert_eq!(
        decide(&w, &adm, grant, "confirm").await,
        StatusCode::FORBIDDEN
    );
    // The privacy officer may confirm.
    let paula = w.login("paula").await;
    assert_eq!(
        decide(&w, &paula, grant, "confirm").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(roles_of(&w, "olaf"), ["reviewer", "approver"]);
    // A revocation is immediate.
    assert_eq!(
        role_form(&w, &adm, olaf, "revoke-role", "approver").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(roles_of(&w, "olaf"), ["reviewer"]);
    // Every step is in the audit trail.
    let store = SqliteStore::open(w.dir.path()).expect("store");
    let actions: Vec<String> = store
        .audit_trail(&lekdicht_store::AuditFilter {
            organisation: "politie".into(),
            limit: 100,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for action in ["user_add", "grant_request", "grant_confirm", "role_revoke"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn accounts_from_one_creator_cannot_reveal_together() {
    let (w, adm, adm2) = two_admins().await;
    // adm creates both sides (and so knows both passwords); adm2 confirms in good faith.
    assert_eq!(
        create(&w, &adm, "ivo2", &["investigator"]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        create(&w, &adm, "alex2", &["approver"]).await,
        StatusCode::SEE_OTHER
    );
    for (user, role) in [("ivo2", "investigator"), ("alex2", "approver")] {
        let grant = pending_grant(&w, user, role);
        assert_eq!(
            decide(&w, &adm2, grant, "confirm").await,
            StatusCode::SEE_OTHER
        );
    }
    let k = common::key("politie", common::ALERT);
    let ivo2 = w.login("ivo2").await;
    let r = w
        .post_form(
            &format!("/alerts/{k}/reveal"),
            Some(&ivo2),
            &format!("csrf={}&target=employee&reason=gesprek", ivo2.csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let store = SqliteStore::open(w.dir.path()).expect("store");
    let id = store.reveals("politie").unwrap()[0].id;
    drop(store);
    let alex2 = w.login("alex2").await;
    assert_eq!(w.approve_reveal(&alex2, id).await, StatusCode::FORBIDDEN);
    // An approver issued by someone else may.
    let alex = w.login("alex").await;
    assert_eq!(w.approve_reveal(&alex, id).await, StatusCode::SEE_OTHER);
}
