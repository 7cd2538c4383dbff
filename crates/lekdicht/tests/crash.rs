//! `kill -9` during ingest loses nothing that was reported as stored, running the same ingest
//! again completes it without duplicates, and afterwards the store, the ledger and every checkpoint
//! ever printed agree.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use lekdicht_store::{SqliteStore, Store};

const EVENTS: u64 = 60_000;

fn write_events(path: &std::path::Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..EVENTS {
        writeln!(
            out,
            r#"{{"id":"ev-{i:07}","time":"2025-03-{:02}T{:02}:{:02}:00+01:00","actor":"E{}","system":"BRP","action":"view","subject":"P{}"}}"#,
            1 + (i / 3000) % 28,
            (i / 60) % 24,
            i % 60,
            i % 97,
            i % 5003
        )
        .unwrap();
    }
}

fn ingest_command(data: &std::path::Path, file: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lekdicht"));
    cmd.arg("--data")
        .arg(data)
        .args([
            "ingest",
            "--quiet",
            "--progress-lines",
            "--batch-size",
            "2000",
        ])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn kill_during_ingest_loses_nothing_acknowledged() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("events.ndjson");
    write_events(&file);
    let data = work.path().join("data");

    // Kill at points that differ per run: after a number of acknowledged batches, and after a
    // further random delay that lands anywhere in the commit / ledger-append / checkpoint cycle.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut printed_checkpoints = Vec::new();
    for kill_after in [1usize, 4, 9, 13] {
        let delay_ms = next() % 40;
        let mut child = ingest_command(&data, &file).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acknowledged = 0u64;
        let mut lines = BufReader::new(stdout).lines();
        for _ in 0..kill_after {
            match lines.next() {
                Some(Ok(line)) => {
                    acknowledged = line
                        .strip_prefix("committed ")
                        .and_then(|n| n.parse().ok())
                        .expect("progress line");
                }
                _ => break,
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let stored = SqliteStore::open(&data).unwrap().event_count().unwrap();
        assert!(
            stored >= acknowledged,
            "{stored} events stored but {acknowledged} were acknowledged (seed {seed}, kill after {kill_after} + {delay_ms} ms)"
        );
        // What an auditor would have been shown at this moment (the ledger catches up first).
        let out = lekdicht(&data, &["ledger", "checkpoint"]);
        assert!(out.status.success(), "seed {seed}: {out:?}");
        printed_checkpoints.push(String::from_utf8(out.stdout).unwrap());
    }

    // Finishing the ingest stores the rest once.
    let output = ingest_command(&data, &file).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let store = SqliteStore::open(&data).unwrap();
    assert_eq!(store.event_count().unwrap(), EVENTS);
    let mut seen = std::collections::HashSet::new();
    store
        .for_each_event_by_seq(0, u64::MAX, &mut |e| {
            assert!(seen.insert(e.event.id.clone()), "duplicate {}", e.event.id);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len() as u64, EVENTS);

    // The ledger covers every event, and every checkpoint printed along the way is part of the one
    // consistent history that verification checks.
    let out = lekdicht(&data, &["ledger", "verify"]);
    assert!(out.status.success(), "seed {seed}: {out:?}");
    let history = std::fs::read_to_string(data.join("ledger/events/checkpoints.jsonl")).unwrap();
    for note in &printed_checkpoints {
        let line = serde_json::to_string(&serde_json::json!({ "note": note })).unwrap();
        assert!(
            history.contains(&line),
            "seed {seed}: printed checkpoint missing from history:\n{note}"
        );
    }
    let last = lekdicht(&data, &["ledger", "checkpoint"]);
    let last = String::from_utf8(last.stdout).unwrap();
    assert!(last.contains(&format!("\n{EVENTS}\n")), "{last}");
}

fn lekdicht(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lekdicht"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}
