//! `kill -9` during ingest loses nothing that was reported as stored, and running the same ingest
//! again completes it without duplicates.

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

    // Kill after a different number of acknowledged batches each round.
    for kill_after in [1usize, 4, 9] {
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
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let store = SqliteStore::open(&data).unwrap();
        let stored = store.event_count().unwrap();
        assert!(
            stored >= acknowledged,
            "{stored} events stored but {acknowledged} were acknowledged (kill after {kill_after})"
        );
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
}
