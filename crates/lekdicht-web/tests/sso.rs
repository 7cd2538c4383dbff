//! Single sign-on against a real OpenID provider: `tests/oidc/provider.js` (the `oidc-provider`
//! package, pinned in `tests/oidc/package-lock.json`) runs in Node.js beside the application, and
//! an HTTP client with a cookie jar walks the whole login as a browser would: lekdicht's login
//! page, the provider's login and consent forms, back to lekdicht's callback and into the
//! application. The accounts it creates follow the four-eyes rules of local accounts.
//!
//! Node.js and npm are needed; the provider's packages are installed with `npm ci` when missing.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use axum::http::StatusCode;
use common::{ACTOR, ALERT, key};
use lekdicht_review::Role;
use lekdicht_store::{ReviewStore, SigninStore, SqliteStore};
use lekdicht_web::sso::{Sso, SsoConfig};

const CLIENT_ID: &str = "lekdicht-test";

/// The provider's directory in the repository.
fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc")
}

/// Installs the provider's pinned packages once, when they are missing.
fn install_provider() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut done = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if *done || provider_dir().join("node_modules/oidc-provider").is_dir() {
        *done = true;
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(provider_dir())
        .status()
        .expect("npm runs (the single sign-on tests need Node.js 20 or newer and npm)");
    assert!(status.success(), "npm ci in tests/oidc failed");
    *done = true;
}

/// The running provider; stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Provider {
    fn start(secret: &str, redirect_uri: &str) -> Provider {
        install_provider();
        let mut child = Command::new("node")
            .arg("provider.js")
            .current_dir(provider_dir())
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", secret)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs (the single sign-on tests need Node.js 20 or newer)");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("issuer line");
        // Keeps reading, so that the provider never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let issuer = line
            .trim()
            .strip_prefix("issuer ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_owned();
        Provider { child, issuer }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser: follows redirects and keeps cookies (for both lekdicht and the provider).
struct Browser {
    http: reqwest::Client,
    base: String,
}

/// The `action` of the first form in `html`.
fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = start + html[start..].find('"').expect("end of action");
    html[start..end]
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            base: base.to_owned(),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Logs in at the provider as `login`: the final answer (lekdicht's callback page, or its
    /// refusal) and its URL.
    async fn sso_login(&self, login: &str) -> (StatusCode, String, String) {
        let page = self.get("/login").await.text().await.expect("login page");
        assert!(page.contains("href=\"/login/sso\""), "{page}");
        // Off to the provider's login form...
        let form = self.get("/login/sso").await;
        let at = form.url().clone();
        if !at.as_str().contains("/interaction/") {
            // Signed in at the provider already (and consented): straight back.
            let status = StatusCode::from_u16(form.status().as_u16()).expect("status");
            return (status, at.to_string(), form.text().await.expect("body"));
        }
        let html = form.text().await.expect("login form");
        let action = at.join(&form_action(&html)).expect("URL");
        let consent = self
            .http
            .post(action)
            .form(&[("prompt", "login"), ("login", login), ("password", "any")])
            .send()
            .await
            .expect("provider login");
        // ...its consent form, and back to lekdicht.
        let at = consent.url().clone();
        let html = consent.text().await.expect("consent form");
        let action = at.join(&form_action(&html)).expect("URL");
        let back = self
            .http
            .post(action)
            .form(&[("prompt", "consent")])
            .send()
            .await
            .expect("provider consent");
        let status = StatusCode::from_u16(back.status().as_u16()).expect("status");
        let url = back.url().to_string();
        (status, url, back.text().await.expect("body"))
    }

    /// The session's CSRF token, from the tokens page every user has.
    async fn csrf(&self) -> String {
        let page = self.get("/admin/tokens").await;
        assert_eq!(page.status().as_u16(), 200, "logged in");
        let html = page.text().await.expect("page");
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).expect("csrf field") + marker.len();
        let end = start + html[start..].find('"').expect("end");
        html[start..end].to_owned()
    }
}

fn store(w: &common::World) -> SqliteStore {
    SqliteStore::open(w.dir.path()).expect("store")
}

/// Confirms the pending grant of `role` to `username` as the privacy officer.
async fn confirm(w: &common::World, username: &str, role: &str) {
    let grant = store(w)
        .grants("politie")
        .unwrap()
        .into_iter()
        .find(|g| g.username == username && g.role == role && g.decision.is_none())
        .unwrap_or_else(|| panic!("a pending grant of {role} to {username}"));
    let paula = w.login("paula").await;
    let reply = w
        .post_form(
            &format!("/admin/grants/{}/confirm", grant.id),
            Some(&paula),
            &format!("csrf={}", paula.csrf),
        )
        .await;
    assert!(reply.status.is_redirection(), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_accounts_follow_the_claim_and_four_eyes() {
    let w = common::world();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (secret, _) = lekdicht_web::auth::new_token();
    let provider = Provider::start(&secret, &format!("{base}/login/sso/callback"));
    let config = SsoConfig {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: secret,
        redirect_url: format!("{base}/login/sso/callback"),
        organisation: "politie".into(),
        roles_claim: "roles".into(),
        role_map: vec![
            ("lekdicht-investigator".into(), Role::Investigator),
            ("lekdicht-approver".into(), Role::Approver),
            ("lekdicht-reviewer".into(), Role::Reviewer),
        ],
        scopes: vec![],
        label: "Test IdP".into(),
    };
    let state = w.state.clone().with_sso(Sso::new(config).unwrap());
    tokio::spawn(lekdicht_web::serve(listener, state));

    // A reviewer by the claim: an account at once, with the role that needs no second person and
    // nothing for the value lekdicht does not know.
    let rita = Browser::new(&base);
    let (status, url, body) = rita.sso_login("rita").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        url.starts_with(&format!("{base}/login/sso/callback?")),
        "{url}"
    );
    assert!(body.contains("id=\"sso-done\""), "{body}");
    assert_eq!(rita.get("/alerts").await.status().as_u16(), 200);
    let row = store(&w).user_by_username("sso:rita").unwrap().unwrap();
    assert_eq!(row.roles, ["reviewer"]);
    assert!(row.single_sign_on);
    assert_eq!(row.organisation, "politie");
    // The account has no password: the local login refuses it.
    let local = w.login_attempt("sso:rita", "").await;
    assert_eq!(local.status, StatusCode::UNAUTHORIZED);
    // The callback answers once: the same code and state again are refused.
    let replay = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 400);
    // So is an answer whose state differs from the login this browser started.
    let forged = Browser::new(&base);
    let _ = forged.get("/login/sso").await;
    let wrong = forged
        .get("/login/sso/callback?code=stolen&state=guessed")
        .await;
    assert_eq!(wrong.status().as_u16(), 400);
    assert_eq!(forged.get("/alerts").await.url().path(), "/login");

    // Investigator and approver by the claim: asked for, effective only once confirmed.
    let inge = Browser::new(&base);
    assert_eq!(inge.sso_login("inge").await.0, StatusCode::OK);
    let piet = Browser::new(&base);
    assert_eq!(piet.sso_login("piet").await.0, StatusCode::OK);
    let inge_row = store(&w).user_by_username("sso:inge").unwrap().unwrap();
    assert!(inge_row.roles.is_empty());
    assert_ne!(
        inge_row.created_by,
        store(&w)
            .user_by_username("sso:piet")
            .unwrap()
            .unwrap()
            .created_by,
        "each account of the provider has its own creator"
    );
    let k = key("politie", ALERT);
    let csrf = inge.csrf().await;
    let ask = [
        ("csrf", csrf.as_str()),
        ("target", "employee"),
        ("reason", "gesprek voorbereiden"),
    ];
    let early = inge.post(&format!("/alerts/{k}/reveal"), &ask).await;
    assert_eq!(early.status().as_u16(), 403, "not before confirmation");
    confirm(&w, "sso:inge", "investigator").await;
    confirm(&w, "sso:piet", "approver").await;
    // A second login keeps the confirmed role and asks for nothing new.
    assert_eq!(inge.sso_login("inge").await.0, StatusCode::OK);
    let inge_row = store(&w).user_by_username("sso:inge").unwrap().unwrap();
    assert_eq!(inge_row.roles, ["investigator"]);
    let csrf = inge.csrf().await;
    let ask = [
        ("csrf", csrf.as_str()),
        ("target", "employee"),
        ("reason", "gesprek voorbereiden"),
    ];
    let asked = inge.post(&format!("/alerts/{k}/reveal"), &ask).await;
    assert_eq!(asked.status().as_u16(), 200, "redirected to the alert page");
    let reveal = store(&w).reveals("politie").unwrap().remove(0);
    assert_eq!(reveal.requested_by, "sso:inge");
    // The requester cannot approve their own reveal...
    let own = inge
        .post(
            &format!("/reveals/{}/approve", reveal.id),
            &[("csrf", csrf.as_str()), ("note", "")],
        )
        .await;
    assert_eq!(own.status().as_u16(), 403);
    let page = inge
        .get(&format!("/alerts/{k}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains(ACTOR), "not revealed before approval");
    // ...the approver of the provider can.
    let csrf = piet.csrf().await;
    let approved = piet
        .post(
            &format!("/reveals/{}/approve", reveal.id),
            &[("csrf", csrf.as_str()), ("note", "akkoord")],
        )
        .await;
    assert_eq!(approved.status().as_u16(), 200, "redirected to the list");
    let page = inge
        .get(&format!("/alerts/{k}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(ACTOR), "revealed to the requester");

    // A claim with both sides of a reveal gets no session at all.
    let both = Browser::new(&base);
    let (status, _, _) = both.sso_login("dubbel").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(both.get("/alerts").await.url().path(), "/login");
    assert!(store(&w).user_by_username("sso:dubbel").unwrap().is_none());

    // Logins through the provider are in the audit trail, by account.
    let trail = store(&w)
        .audit_trail(&lekdicht_store::AuditFilter {
            organisation: "politie".into(),
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    let logins = |actor: &str, action: &str| {
        trail
            .iter()
            .filter(|a| a.actor == actor && a.action == action)
            .count()
    };
    assert_eq!(logins("sso:inge", "login"), 2);
    assert_eq!(logins("sso:dubbel", "login_failed"), 1);
    assert!(
        store(&w)
            .user_by_oidc_subject(&format!("{} inge", provider.issuer))
            .unwrap()
            .is_some()
    );
}
