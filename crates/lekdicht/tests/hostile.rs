//! Hostile input: a gzip bomb, a line of hundreds of megabytes, special files and a symlink loop in
//! a directory. Ingest runs as a child process under an address-space limit far below what the
//! input would take if it were held in memory; it must finish, name what it rejected and keep the
//! rest.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

/// The address-space limit of the child, in KiB (`ulimit -v`).
const MEMORY_LIMIT_KIB: u64 = 400 * 1024;

const EVENT: &str = r#"{"id":"ok-1","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BRP","action":"view"}"#;

/// `lekdicht --data DATA ARGS...` under the memory limit.
fn limited_ingest(data: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_lekdicht"))
        .arg("--data")
        .arg(data)
        .arg("ingest")
        .arg("--quiet")
        .args(args)
        .output()
        .expect("sh runs")
}

/// A gzip file at `level`: `EVENT`, then `filler` bytes of one byte value on one line, then
/// `after`.
fn gzip_file(path: &Path, level: u32, filler: u64, after: &str) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::new(level));
    writeln!(gz, "{EVENT}").unwrap();
    let block = vec![b'a'; 1 << 20];
    let mut left = filler;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        gz.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    writeln!(gz).unwrap();
    writeln!(gz, "{after}").unwrap();
    gz.finish().unwrap();
}

/// The counts of the summary's total line: read, stored, duplicates, quarantined.
fn totals(said: &str) -> Vec<&str> {
    let total = said.lines().find(|l| l.starts_with("total"));
    total
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .collect()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_gzip_bomb_stops_at_its_line_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("events.ndjson.gz");
    gzip_file(&bomb, 9, 1 << 30, "");
    assert!(std::fs::metadata(&bomb).unwrap().len() < 20 << 20);
    let data = dir.path().join("data");
    let out = limited_ingest(&data, &[bomb.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains("events.ndjson.gz:2: gzip data expands more than 500 times"),
        "{said}"
    );
    assert!(said.contains("stopped early"), "{said}");
    assert!(said.contains("the rest of the file was not read"), "{said}");
    assert_eq!(totals(&said), ["2", "1", "0", "1"], "{said}");
}

#[test]
fn an_overlong_line_is_quarantined_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson.gz");
    let after = EVENT.replace("ok-1", "ok-2");
    gzip_file(&file, 1, 600 << 20, &after);
    let data = dir.path().join("data");
    let out = limited_ingest(
        &data,
        &["--max-gzip-ratio", "100000", file.to_str().unwrap()],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains(
            "events.ndjson.gz:2: line is 629145600 bytes long; at most 1048576 are allowed"
        ),
        "{said}"
    );
    assert_eq!(totals(&said), ["3", "2", "0", "1"], "{said}");
}

#[test]
fn a_directory_with_a_fifo_and_a_symlink_loop_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("events.ndjson"), format!("{EVENT}\n")).unwrap();
    let made = Command::new("mkfifo")
        .arg(input.join("shifts.ndjson"))
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("b.ndjson", input.join("a.ndjson")).unwrap();
    std::os::unix::fs::symlink("a.ndjson", input.join("b.ndjson")).unwrap();
    std::os::unix::fs::symlink(".", input.join("again")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lekdicht"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(["ingest", "--quiet"])
        .arg(&input)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("ingest hangs on a directory with a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    for name in ["a.ndjson", "b.ndjson"] {
        assert!(
            said.contains(&format!("{name} (a symbolic link that does not resolve")),
            "{said}"
        );
    }
    assert!(
        said.contains("shifts.ndjson (a FIFO (named pipe), not a regular file)"),
        "{said}"
    );
    assert!(
        said.contains("again (a symbolic link to a directory, not followed)"),
        "{said}"
    );
    assert_eq!(totals(&said), ["1", "1", "0", "0"], "{said}");
}

#[test]
fn control_characters_are_refused_in_identifiers_and_escaped_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    let lines = [
        EVENT.replace("BRP", "BR\\u001b[2JP"),
        EVENT.replace("BRP", "BR\u{1b}[2JP"),
        EVENT.replace("E1", "E\u{7f}1"),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let data = dir.path().join("data");
    let out = limited_ingest(&data, &[file.to_str().unwrap()]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains("events.ndjson:1: field `system`: contains the control character U+001B"),
        "{said}"
    );
    assert!(said.contains("events.ndjson:3: field `actor`"), "{said}");
    let listed = Command::new(env!("CARGO_BIN_EXE_lekdicht"))
        .arg("--data")
        .arg(&data)
        .args(["quarantine", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(!listed.contains(['\u{1b}', '\u{7f}']), "{listed:?}");
    assert!(
        listed.contains("BR\\u{1b}[2JP") && listed.contains("E\\u{7f}1"),
        "{listed}"
    );
    assert_eq!(totals(&said), ["3", "0", "0", "3"], "{said}");
}
