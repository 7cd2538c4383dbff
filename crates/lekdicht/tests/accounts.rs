//! Accounts on the command line as an operator meets them: the first administrator and privacy
//! officer of an organisation are set up directly, every later grant of a role that takes part in a
//! reveal waits for a second person, one account never holds both sides, and an API token is
//! issued only with its owner's password.

use std::path::Path;
use std::process::{Command, Output};

const PASSWORD: &str = "correct horse battery";

fn lekdicht(data: &Path, args: &[&str], as_password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lekdicht"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("LEKDICHT_USER", "test")
        .env("LEKDICHT_PASSWORD", PASSWORD)
        .env("LEKDICHT_AS_PASSWORD", as_password)
        .output()
        .expect("lekdicht runs")
}

fn add(data: &Path, username: &str, roles: &[&str], acting: Option<&str>) -> Output {
    let mut args = vec!["user", "add", "--org", "politie", "--username", username];
    for role in roles {
        args.extend(["--role", role]);
    }
    if let Some(admin) = acting {
        args.extend(["--as", admin]);
    }
    lekdicht(data, &args, PASSWORD)
}

fn roles(data: &Path, username: &str) -> String {
    let list = lekdicht(data, &["user", "list"], PASSWORD);
    let out = String::from_utf8_lossy(&list.stdout).into_owned();
    out.lines()
        .find(|l| l.split('\t').nth(1) == Some(username))
        .and_then(|l| l.split('\t').nth(3))
        .unwrap_or_default()
        .to_owned()
}

fn confirm(data: &Path, username: &str, role: &str, acting: &str) -> Output {
    let args = [
        "user",
        "confirm",
        "--username",
        username,
        "--role",
        role,
        "--as",
        acting,
    ];
    lekdicht(data, &args, PASSWORD)
}

#[test]
fn one_operator_cannot_set_up_both_sides_of_a_reveal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // The first administrator and privacy officer are set up directly...
    assert!(add(data, "adm", &["admin"], None).status.success());
    assert!(add(data, "po", &["privacy_officer"], None).status.success());
    // ...a second administrator, an investigator or an approver are not.
    for role in ["admin", "investigator", "approver"] {
        let out = add(data, "x", &[role], None);
        assert!(!out.status.success(), "{role}: {out:?}");
    }
    // Both sides in one account: never.
    let out = add(data, "dual", &["investigator", "approver"], Some("adm"));
    assert!(!out.status.success());
    // With --as the role waits for a second person.
    let out = add(data, "ivo", &["reviewer", "investigator"], Some("adm"));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(roles(data, "ivo"), "reviewer");
    // The requester cannot confirm; a wrong password confirms nothing.
    assert!(!confirm(data, "ivo", "investigator", "adm").status.success());
    let wrong = lekdicht(
        data,
        &[
            "user",
            "confirm",
            "--username",
            "ivo",
            "--role",
            "investigator",
            "--as",
            "po",
        ],
        "not the password",
    );
    assert!(!wrong.status.success());
    assert_eq!(roles(data, "ivo"), "reviewer");
    let out = confirm(data, "ivo", "investigator", "po");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(roles(data, "ivo"), "reviewer,investigator");
    // A token needs the owner's own password.
    let token = lekdicht(
        data,
        &["token", "add", "--username", "ivo", "--name", "t"],
        PASSWORD,
    );
    assert!(token.status.success(), "{token:?}");
    let stolen = Command::new(env!("CARGO_BIN_EXE_lekdicht"))
        .arg("--data")
        .arg(data)
        .args(["token", "add", "--username", "ivo", "--name", "t2"])
        .env("LEKDICHT_PASSWORD", "a guess of the password")
        .output()
        .unwrap();
    assert!(!stolen.status.success());
}
