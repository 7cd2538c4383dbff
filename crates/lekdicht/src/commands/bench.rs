//! `lekdicht bench`: the whole pipeline on a generated world, timed stage by stage: generate,
//! write contract files, ingest into a fresh store with the ledger on, score, verify the ledger.
//!
//! Everything happens in a temporary directory (or `--dir`), never in the user's data directory.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use lekdicht_demo::{DemoConfig, generate, write_world};
use lekdicht_store::{SqliteStore, TimeRange};

use crate::cli::BenchArgs;
use crate::detection;
use crate::pipeline::{IngestOptions, ingest_with_leaves};

/// Peak resident memory of this process so far, in MiB (Linux), if known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn line(stage: &str, n: u64, seconds: f64) {
    println!(
        "{stage:<34} {n:>10} in {seconds:>7.2} s = {:>9.0} /s",
        n as f64 / seconds.max(1e-9)
    );
}

pub(crate) fn run(args: &BenchArgs) -> Result<ExitCode> {
    let tmp;
    let dir: &Path = match &args.dir {
        Some(dir) => dir,
        None => {
            tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
            tmp.path()
        }
    };
    let config = DemoConfig {
        employees: args.employees,
        persons: args.persons,
        days: args.days,
        seed: args.seed,
        ..DemoConfig::default()
    };
    println!(
        "world: {} employees, {} persons, {} days, seed {}",
        config.employees, config.persons, config.days, config.seed
    );
    let t = Instant::now();
    let world = generate(&config);
    let n_events = world.events.len() as u64;
    line(
        "generate world (events)",
        n_events,
        t.elapsed().as_secs_f64(),
    );
    let t = Instant::now();
    let files = write_world(&world, &dir.join("world"))?;
    line(
        "write contract files (events)",
        n_events,
        t.elapsed().as_secs_f64(),
    );
    drop(world);

    let data = dir.join("data");
    let mut store = SqliteStore::open(&data)?;
    let mut ledger = crate::ledger::EventLedger::open(&data, &mut store)?;
    let mut journal = crate::ledger::Journal::open(&data)?;
    let mut before_commit = |seq: u64, leaves: &[_]| journal.record(seq, leaves);
    let paths: Vec<_> = files
        .contract_paths()
        .into_iter()
        .map(Path::to_path_buf)
        .collect();
    let (context_paths, event_paths): (Vec<_>, Vec<_>) = paths
        .into_iter()
        .partition(|p| !p.ends_with("events.ndjson"));
    let options = |paths| IngestOptions {
        paths,
        progress: false,
        description: "bench".to_owned(),
        ..IngestOptions::default()
    };
    let t = Instant::now();
    let report = ingest_with_leaves(
        &mut store,
        &options(context_paths),
        &mut before_commit,
        &mut |b, o, l| ledger.after_commit_with_leaves(b, o, l),
    )?;
    line(
        "ingest context (records)",
        report.totals.stored,
        t.elapsed().as_secs_f64(),
    );
    let t = Instant::now();
    let report = ingest_with_leaves(
        &mut store,
        &options(event_paths),
        &mut before_commit,
        &mut |b, o, l| ledger.after_commit_with_leaves(b, o, l),
    )?;
    line(
        "ingest events, ledger on (events)",
        report.totals.stored,
        t.elapsed().as_secs_f64(),
    );
    drop(ledger);

    let detect_config = detection::load_config(&data, None, None)?;
    let t = Instant::now();
    let ctx = detection::load_context(&store)?;
    let context_seconds = t.elapsed().as_secs_f64();
    let summary = detection::run(
        &mut store,
        &ctx,
        &detect_config,
        &TimeRange::default(),
        &mut |_, _| Ok(()),
    )?;
    println!(
        "{:<34} {:>10.2} s",
        "load context for detection", context_seconds
    );
    line(
        "score, engine alone (events)",
        summary.events,
        summary.engine_seconds,
    );
    line(
        "score, with store reads and writes",
        summary.events,
        summary.seconds,
    );

    let t = Instant::now();
    let verified = crate::ledger::verify_events(&data, &store, None)?.report;
    line(
        "ledger verify, full (events)",
        verified.leaves_checked,
        t.elapsed().as_secs_f64(),
    );
    anyhow::ensure!(
        verified.is_clean(),
        "the ledger did not verify: {verified:?}"
    );
    if let Some(mib) = peak_rss_mib() {
        println!("{:<34} {mib:>10.0} MiB", "peak memory (whole run)");
    }
    Ok(ExitCode::SUCCESS)
}
