//! The second factor of local accounts as a user and an administrator meet it: enrolment shows the
//! secret once and stores it only after a right code, the login then wants a code (each accepted
//! once), and an administrator removes a lost factor.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, World, add_user};
use lekdicht_store::{AuditFilter, ReviewStore, SqliteStore};
use totp_rs::{Algorithm, Builder, Secret};

/// The code an authenticator app shows now for `secret`.
fn code_now(secret: &str) -> String {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .with_account_name("test")
        .build()
        .unwrap()
        .generate_current()
        .to_string()
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let to = from + body[from..].find(end).expect("end");
    &body[from..to]
}

async fn login_with(w: &World, username: &str, code: &str) -> StatusCode {
    let form = format!(
        "username={username}&password={}&code={code}",
        PASSWORD.replace(' ', "+")
    );
    w.post_form("/login", None, &form).await.status
}

fn actions(w: &World) -> Vec<String> {
    SqliteStore::open(w.dir.path())
        .unwrap()
        .audit_trail(&AuditFilter {
            organisation: "politie".into(),
            limit: 500,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect()
}

#[tokio::test]
async fn a_second_factor_is_enrolled_asked_for_and_reset_by_an_administrator() {
    let w = common::world();
    {
        let mut store = SqliteStore::open(w.dir.path()).unwrap();
        add_user(&mut store, "politie", "adam", &["admin"]);
    }
    let anna = w.login("anna").await;
    let page = w.get("/account/totp", Some(&anna)).await;
    assert!(
        page.body.contains("action=\"/account/totp/new\""),
        "{}",
        page.body
    );

    // The secret is shown once...
    let shown = w
        .post_form(
            "/account/totp/new",
            Some(&anna),
            &format!("csrf={}", anna.csrf),
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let secret = between(&shown.body, "<code id=\"totp-secret\">", "</code>").to_owned();
    assert!(shown.body.contains("otpauth://totp/"));
    // ...and kept only after a code it produces.
    let wrong = w
        .post_form(
            "/account/totp",
            Some(&anna),
            &format!("csrf={}&secret={secret}&code=000000", anna.csrf),
        )
        .await;
    assert!(wrong.body.contains("role=\"alert\""), "{}", wrong.body);
    let stored = |w: &World| {
        SqliteStore::open(w.dir.path())
            .unwrap()
            .user_by_username("anna")
            .unwrap()
            .unwrap()
            .totp_secret
    };
    assert!(stored(&w).is_none());
    let done = w
        .post_form(
            "/account/totp",
            Some(&anna),
            &format!(
                "csrf={}&secret={secret}&code={}",
                anna.csrf,
                code_now(&secret)
            ),
        )
        .await;
    assert!(done.body.contains("id=\"totp-done\""), "{}", done.body);
    assert_eq!(stored(&w).as_deref(), Some(secret.as_str()));
    // The page no longer shows it.
    let page = w.get("/account/totp", Some(&anna)).await;
    assert!(page.body.contains("id=\"totp-enrolled\"") && !page.body.contains(&secret));

    // The password alone, or with a wrong code, no longer logs in; the right code does, once.
    assert_eq!(login_with(&w, "anna", "").await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login_with(&w, "anna", "123456").await,
        StatusCode::UNAUTHORIZED
    );
    let code = code_now(&secret);
    assert_eq!(login_with(&w, "anna", &code).await, StatusCode::SEE_OTHER);
    assert_eq!(
        login_with(&w, "anna", &code).await,
        StatusCode::UNAUTHORIZED
    );

    // Only an administrator removes a factor, and it is audited.
    let id = SqliteStore::open(w.dir.path())
        .unwrap()
        .user_by_username("anna")
        .unwrap()
        .unwrap()
        .id;
    let path = format!("/admin/users/{id}/reset-totp");
    let ivo = w.login("ivo").await;
    let refused = w
        .post_form(&path, Some(&ivo), &format!("csrf={}", ivo.csrf))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let adam = w.login("adam").await;
    let users = w.get("/admin/users", Some(&adam)).await;
    assert!(users.body.contains(&path), "the reset button is offered");
    let reset = w
        .post_form(&path, Some(&adam), &format!("csrf={}", adam.csrf))
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
    assert!(stored(&w).is_none());
    assert_eq!(login_with(&w, "anna", "").await, StatusCode::SEE_OTHER);
    let actions = actions(&w);
    assert!(actions.iter().any(|a| a == "totp_enrol"));
    assert!(actions.iter().any(|a| a == "totp_reset"));
}
