//! The ledger as a user meets it: every ingested event is a leaf, `lekdicht ledger verify` names
//! each kind of tampering, and proofs and checkpoints verify with independent implementations.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

fn example_world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/example-world")
}

fn lekdicht(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lekdicht"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("LEKDICHT_USER", "test")
        .output()
        .expect("lekdicht runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ingests `source` into `data` in batches of 3.
fn ingest_into(data: &Path, source: &Path) {
    let source = source.to_str().unwrap();
    let out = lekdicht(data, &["ingest", "--quiet", "--batch-size", "3", source]);
    assert!(out.status.success(), "{out:?}");
}

fn ingested() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ingest_into(dir.path(), &example_world());
    dir
}

/// Ingests a new event into a tampered data directory and returns what `ledger verify` says then:
/// the tampering must still be found, not signed in by the checkpoints signed since.
fn still_found_after_more_ingest(data: &Path) -> String {
    let before = tampered(data);
    let more = tempfile::tempdir().unwrap();
    let file = more.path().join("events.ndjson");
    let line = r#"{"id":"new-1","time":"2025-03-20T10:00:00+01:00","actor":"E1","system":"BRP","action":"view"}"#;
    std::fs::write(&file, line).unwrap();
    let _ = lekdicht(data, &["ingest", "--quiet", file.to_str().unwrap()]);
    let after = tampered(data);
    let problems = |out: &str| out.lines().filter(|l| l.starts_with("TAMPERED")).count();
    assert_eq!(problems(&after), problems(&before), "{before}\n{after}");
    after
}

/// The output of `ledger verify`, which must have found tampering (exit code 4).
fn tampered(data: &Path) -> String {
    let (code, out) = verify(data);
    assert_eq!(code, 4, "{out}");
    out
}

fn verify(data: &Path) -> (i32, String) {
    let out = lekdicht(data, &["ledger", "verify"]);
    (out.status.code().unwrap_or(-1), stdout(&out))
}

fn db(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join("lekdicht.db")).unwrap()
}

#[test]
fn an_untouched_store_verifies() {
    let dir = ingested();
    let (code, out) = verify(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("checked 8 events against 8 ledger leaves"),
        "{out}"
    );
}

#[test]
fn an_edited_event_is_named() {
    let dir = ingested();
    db(dir.path())
        .execute(
            "UPDATE events SET record = replace(record, '\"export\"', '\"view\"'), action = 'view' WHERE id = 'brp-4'",
            [],
        )
        .unwrap();
    let out = still_found_after_more_ingest(dir.path());
    assert!(out.contains("brp-4") && out.contains("altered"), "{out}");
}

#[test]
fn a_deleted_event_is_named() {
    let dir = ingested();
    db(dir.path())
        .execute("DELETE FROM events WHERE id = 'rdw-1'", [])
        .unwrap();
    let out = still_found_after_more_ingest(dir.path());
    assert!(out.contains("#2 is missing from the store"), "{out}");
}

#[test]
fn a_rewritten_log_is_found_and_blocks_further_ingest() {
    let dir = ingested();
    let leaves = dir.path().join("ledger/events/leaves");
    let mut bytes = std::fs::read(&leaves).unwrap();
    bytes[5 * 32] ^= 0x01; // leaf 5: brp-3
    std::fs::write(&leaves, &bytes).unwrap();
    let (code, out) = verify(dir.path());
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("brp-3"), "{out}");
    assert!(out.contains("signed root"), "{out}");
    // A tampered ledger is never extended or re-signed.
    let out = lekdicht(
        dir.path(),
        &[
            "ingest",
            "--quiet",
            example_world().join("events.ndjson").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tamper"),
        "{out:?}"
    );
}

#[test]
fn re_ingesting_signs_nothing_new_and_audit_actions_are_leaves() {
    let dir = ingested();
    let history = dir.path().join("ledger/events/checkpoints.jsonl");
    let before = std::fs::read_to_string(&history).unwrap();
    // batch size 3: the 8 events were committed in 3 batches, each with its checkpoint.
    assert_eq!(before.lines().count(), 3);
    let out = lekdicht(
        dir.path(),
        &["ingest", "--quiet", example_world().to_str().unwrap()],
    );
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&history).unwrap(), before);

    // A user's action lands in the audit log.
    let data = tempfile::tempdir().unwrap();
    let bad = data.path().join("events.ndjson");
    std::fs::write(&bad, "{not json\n").unwrap();
    let out = lekdicht(dir.path(), &["ingest", "--quiet", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let list = stdout(&lekdicht(dir.path(), &["quarantine", "list", "--json"]));
    let entry: serde_json::Value = serde_json::from_str(list.lines().next().unwrap()).unwrap();
    let id = entry["id"].to_string();
    let out = lekdicht(
        dir.path(),
        &["quarantine", "resolve", &id, "--note", "test line"],
    );
    assert!(out.status.success(), "{out:?}");
    let records = std::fs::read_to_string(dir.path().join("ledger/audit/records.jsonl")).unwrap();
    assert!(records.contains("quarantine.resolve") && records.contains("\"by\":\"test\""));
    let audit_leaves = std::fs::metadata(dir.path().join("ledger/audit/leaves")).unwrap();
    assert_eq!(audit_leaves.len(), 32);
}

#[test]
fn proofs_and_checkpoints_verify_with_independent_implementations() {
    let dir = ingested();
    let out = lekdicht(dir.path(), &["ledger", "prove", "brp-3"]);
    assert!(out.status.success(), "{out:?}");
    let proof: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let note = proof["checkpoint"].as_str().unwrap();
    let verifier_key = std::fs::read_to_string(dir.path().join("ledger/verifier.txt")).unwrap();

    // signed_note checks the signature.
    let verifier = signed_note::StandardVerifier::new(verifier_key.trim()).unwrap();
    let list = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    let parsed = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
    parsed.verify(&list).expect("checkpoint signature verifies");
    // tlog_tiles parses the checkpoint and checks the inclusion proof from the leaf data.
    let checkpoint = tlog_tiles::Checkpoint::from_bytes(parsed.text()).unwrap();
    let hash = |s: &str| {
        let bytes: [u8; 32] = B64.decode(s).unwrap().try_into().unwrap();
        tlog_tiles::Hash(bytes)
    };
    let path: Vec<tlog_tiles::Hash> = proof["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash(h.as_str().unwrap()))
        .collect();
    let leaf = tlog_tiles::record_hash(proof["leaf_data"].as_str().unwrap().as_bytes());
    let index = proof["leaf_index"].as_u64().unwrap();
    assert!(
        tlog_tiles::check_record(&path, checkpoint.size(), *checkpoint.hash(), index, leaf).is_ok()
    );
    // And fails for another record.
    let other = tlog_tiles::record_hash(b"{\"id\":\"brp-3\"}");
    assert!(
        tlog_tiles::check_record(&path, checkpoint.size(), *checkpoint.hash(), index, other)
            .is_err()
    );

    // The consistency proof from size 3 to 8 verifies with tlog_tiles too.
    let out = lekdicht(dir.path(), &["ledger", "consistency", "3", "8"]);
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let path: Vec<tlog_tiles::Hash> = c["consistency_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash(h.as_str().unwrap()))
        .collect();
    assert!(
        tlog_tiles::check_tree(
            &path,
            8,
            hash(c["new_root"].as_str().unwrap()),
            3,
            hash(c["old_root"].as_str().unwrap())
        )
        .is_ok()
    );
}

#[test]
fn export_writes_records_with_leaf_indices_and_tiles() {
    let dir = ingested();
    let out_dir = tempfile::tempdir().unwrap();
    let out = lekdicht(
        dir.path(),
        &["ledger", "export", out_dir.path().to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    let events = std::fs::read_to_string(out_dir.path().join("events.jsonl")).unwrap();
    assert_eq!(events.lines().count(), 8);
    let first: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!(first["leaf_index"], 0);
    assert_eq!(first["record"]["id"], "bvh-1");
    assert!(out_dir.path().join("checkpoint").exists());
    assert!(out_dir.path().join("tile/0/000.p/8").exists());
}

/// The files of the event ledger, byte for byte.
fn ledger_files(data: &Path) -> Vec<(String, Vec<u8>)> {
    ["leaves", "checkpoints.jsonl"]
        .iter()
        .map(|name| {
            let bytes = std::fs::read(data.join("ledger/events").join(name)).unwrap_or_default();
            (name.to_string(), bytes)
        })
        .collect()
}

/// Runs each command that would append to the ledger or sign, and checks that every one refuses
/// with a message holding `says`, and that the ledger's files stay as they were.
fn every_signing_command_refuses(data: &Path, says: &str) {
    let before = ledger_files(data);
    let events = example_world().join("events.ndjson");
    let export = tempfile::tempdir().unwrap();
    for args in [
        vec!["ingest", "--quiet", events.to_str().unwrap()],
        vec!["ledger", "checkpoint"],
        vec!["ledger", "prove", "brp-3"],
        vec!["ledger", "consistency", "3", "8"],
        vec!["ledger", "export", export.path().to_str().unwrap()],
    ] {
        let out = lekdicht(data, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded: {out:?}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("nothing was"), "{args:?}: {err}");
        assert_eq!(ledger_files(data), before, "{args:?} changed the ledger");
    }
}

#[test]
fn an_inserted_event_is_never_signed_in() {
    let dir = ingested();
    db(dir.path())
        .execute(
            "INSERT INTO events (seq, id, system, time_ms, actor, action, subject, case_id, unresolved, run, record)
             SELECT 8, 'forged-1', system, time_ms, actor, action, subject, case_id, unresolved, run,
                    replace(record, '\"bvh-1\"', '\"forged-1\"')
             FROM events WHERE id = 'bvh-1'",
            [],
        )
        .unwrap();
    every_signing_command_refuses(
        dir.path(),
        "event #8 (event forged-1 of BVH) did not arrive through ingest",
    );
    let out = tampered(dir.path());
    assert!(
        out.contains("forged-1") && out.contains("never recorded"),
        "{out}"
    );
}

#[test]
fn a_deleted_ledger_is_not_rebuilt_from_the_store() {
    let dir = ingested();
    std::fs::remove_dir_all(dir.path().join("ledger/events")).unwrap();
    every_signing_command_refuses(dir.path(), "the event ledger in");
    let (code, out) = verify(dir.path());
    assert_ne!(code, 0, "{out}");
    // Without its key either, no new key is made.
    std::fs::remove_dir_all(dir.path().join("ledger")).unwrap();
    every_signing_command_refuses(dir.path(), "is missing");
    assert!(!dir.path().join("ledger/signing.key").exists());
}

#[test]
fn a_ledger_cut_below_its_signed_checkpoint_is_reported_not_shortened() {
    let dir = ingested();
    let leaves = dir.path().join("ledger/events/leaves");
    let cut = 8 * 32 - 40;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&leaves)
        .unwrap()
        .set_len(cut)
        .unwrap();
    every_signing_command_refuses(
        dir.path(),
        "fewer leaves than its last signed checkpoint (size 8)",
    );
    assert_eq!(std::fs::metadata(&leaves).unwrap().len(), cut);
    let out = tampered(dir.path());
    assert!(
        out.contains("holds only 6 whole leaves of the 8 signed"),
        "{out}"
    );
}

#[test]
fn an_interrupted_ingest_is_completed_from_its_journal_and_only_from_it() {
    // The state a crash between the store's commit and the ledger's append leaves: the store
    // holds the run's events, the ledger those of the run before, the journal the run's leaves.
    let crashed = || {
        let dir = tempfile::tempdir().unwrap();
        let world = example_world();
        ingest_into(dir.path(), &world.join("employees.ndjson"));
        let before = ledger_files(dir.path());
        ingest_into(dir.path(), &world.join("events.ndjson"));
        for (name, bytes) in before {
            std::fs::write(dir.path().join("ledger/events").join(name), bytes).unwrap();
        }
        dir
    };
    let dir = crashed();
    let (code, out) = verify(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "note: the store holds 8 events beyond the ledger, all from an interrupted ingest"
        ),
        "{out}"
    );
    let out = lekdicht(dir.path(), &["ledger", "checkpoint"]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("\n8\n"), "{out:?}");
    let (code, out) = verify(dir.path());
    assert_eq!(code, 0, "{out}");

    // Without the journal, the same tail is refused.
    let dir = crashed();
    std::fs::write(dir.path().join("ledger/events/pending"), b"").unwrap();
    let out = tampered(dir.path());
    assert!(out.contains("never recorded"), "{out}");
    every_signing_command_refuses(
        dir.path(),
        "event #0 (event bvh-1 of BVH) did not arrive through ingest",
    );
}

#[test]
fn an_edited_checkpoint_is_named_and_signs_nothing() {
    let dir = ingested();
    let history = dir.path().join("ledger/events/checkpoints.jsonl");
    let text = std::fs::read_to_string(&history).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // The last checkpoint claims another size than it signed.
    let last = lines.pop().unwrap().replace("\\n8\\n", "\\n9\\n");
    lines.push(last);
    std::fs::write(&history, lines.join("\n") + "\n").unwrap();
    every_signing_command_refuses(
        dir.path(),
        "checkpoint for size 9 is not signed by this log's key",
    );
    let out = tampered(dir.path());
    assert!(
        out.contains("the checkpoint for size 9 has no valid signature"),
        "{out}"
    );
}

#[test]
fn a_swapped_signing_key_signs_nothing() {
    let dir = ingested();
    let other = tempfile::tempdir().unwrap();
    let out = lekdicht(
        other.path(),
        &["ledger", "keygen", "--name", "elsewhere.example/x"],
    );
    assert!(out.status.success(), "{out:?}");
    std::fs::copy(
        other.path().join("ledger/signing.key"),
        dir.path().join("ledger/signing.key"),
    )
    .unwrap();
    every_signing_command_refuses(dir.path(), "is not signed by this log's key");
}
