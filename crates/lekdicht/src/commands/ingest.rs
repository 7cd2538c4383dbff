//! `lekdicht ingest`: runs the pipeline and prints its summary.

use std::path::Path;
use std::process::ExitCode;

use std::io::Write;

use anyhow::Result;
use lekdicht_ingest::Format;
use lekdicht_store::EventOutcome;

use crate::cli::{IngestArgs, InputFormat};
use crate::pipeline::{IngestOptions, IngestReport, ingest_with_leaves};
use crate::terminal::clean;

pub(crate) fn run(data: &Path, args: &IngestArgs) -> Result<ExitCode> {
    let mut store = super::open_store(data)?;
    let options = IngestOptions {
        paths: args.paths.clone(),
        kind: args.kind,
        stdin_format: match args.format {
            InputFormat::Ndjson => Format::Ndjson,
            InputFormat::Csv => Format::Csv,
        },
        organization: args.organization.clone(),
        batch_size: args.batch_size,
        progress: !args.quiet,
        limits: args.limits.limits(),
        description: format!(
            "ingest {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    let mut ledger = crate::ledger::EventLedger::open(data, &mut store)?;
    let mut journal = crate::ledger::Journal::open(data)?;
    let mut stored = 0u64;
    let progress_lines = args.progress_lines;
    let mut before_commit = |seq: u64, leaves: &[_]| journal.record(seq, leaves);
    let report = ingest_with_leaves(
        &mut store,
        &options,
        &mut before_commit,
        &mut |batch, outcome, leaves| {
            ledger.after_commit_with_leaves(batch, outcome, leaves)?;
            if progress_lines {
                stored += outcome
                    .events
                    .iter()
                    .filter(|o| matches!(o, EventOutcome::Stored(_)))
                    .count() as u64
                    + outcome.context_inserted
                    + outcome.context_updated;
                let mut out = std::io::stdout().lock();
                writeln!(out, "committed {stored}")?;
                out.flush()?;
            }
            Ok(())
        },
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report);
    }
    Ok(exit_code(&report))
}

pub(crate) fn exit_code(report: &IngestReport) -> ExitCode {
    if report.has_problems() {
        ExitCode::from(crate::EXIT_QUARANTINED)
    } else {
        ExitCode::SUCCESS
    }
}

/// The human summary of a run: one line per source, then totals and what to do next.
pub(crate) fn print_summary(report: &IngestReport) {
    println!(
        "{:<40} {:>10} {:>10} {:>10} {:>11}",
        "source", "read", "stored", "duplicate", "quarantined"
    );
    for s in &report.sources {
        let t = &s.totals;
        println!(
            "{:<40} {:>10} {:>10} {:>10} {:>11}",
            shorten(&clean(&s.name), 40),
            t.read,
            t.stored,
            t.duplicates,
            t.quarantined
        );
        if let Some(error) = &s.error {
            println!("  stopped early: {}", clean(error));
        }
    }
    let t = &report.totals;
    println!(
        "{:<40} {:>10} {:>10} {:>10} {:>11}",
        "total", t.read, t.stored, t.duplicates, t.quarantined
    );
    let rate = t.read as f64 / report.seconds.max(1e-9);
    println!(
        "run {} took {:.2} s ({:.0} records/s)",
        report.run, report.seconds, rate
    );
    for skipped in &report.skipped {
        println!("skipped: {}", clean(skipped));
    }
    if report.unresolved > 0 {
        println!(
            "{} stored events name an actor, subject or case that is not known yet (kept and flagged; they resolve when the context arrives)",
            report.unresolved
        );
    }
    if report.quarantine_resolved > 0 {
        println!(
            "{} quarantined lines were resolved by valid versions in this run",
            report.quarantine_resolved
        );
    }
    if t.quarantined > 0 {
        println!("rejected lines (first {}):", report.first_errors.len());
        for e in &report.first_errors {
            println!("  {}", clean(e));
        }
        println!(
            "see all with `lekdicht quarantine list`; fix them with `lekdicht quarantine export DIR` and `lekdicht ingest DIR`"
        );
    }
}

fn shorten(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_owned();
    }
    let tail: String = s.chars().skip(n - (width - 1)).collect();
    format!("…{tail}")
}
