//! `lekdicht quarantine`: list, export, fix and resolve rejected lines.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use lekdicht_ingest::{Defaults, Format, Item, Limits, RecordStream, SourceFile};
use lekdicht_store::{QuarantineEntry, QuarantineFilter, Store};

use crate::cli::QuarantineCommand;
use crate::pipeline::{IngestOptions, ingest_with_leaves};
use crate::terminal::clean;

pub(crate) fn run(data: &Path, cmd: QuarantineCommand) -> Result<ExitCode> {
    let mut store = super::open_store(data)?;
    match cmd {
        QuarantineCommand::List { kind, all, json } => {
            let entries = store.quarantine_list(&QuarantineFilter {
                kind,
                include_resolved: all,
                ids: Vec::new(),
            })?;
            print_list(&entries, json)?;
        }
        QuarantineCommand::Export { dir, kind } => export(&store, &dir, kind)?,
        QuarantineCommand::Fix { id, line } => return fix(data, &mut store, id, line),
        QuarantineCommand::Resolve { id, note } => {
            if note.trim().is_empty() {
                bail!("--note must say why the entry is resolved");
            }
            let resolution = format!("resolved by hand: {note}");
            if !store.quarantine_resolve(id, &resolution)? {
                bail!("quarantine entry {id} does not exist or is already resolved");
            }
            crate::ledger::record_action(
                data,
                &mut store,
                serde_json::json!({"action": "quarantine.resolve", "entry": id, "resolution": resolution}),
            )?;
            println!("quarantine entry {id} resolved");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(entries: &[QuarantineEntry], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        for e in entries {
            let mut value = serde_json::to_value(e)?;
            value["raw"] = String::from_utf8_lossy(&e.raw).into_owned().into();
            writeln!(out, "{value}")?;
        }
        return Ok(());
    }
    if entries.is_empty() {
        writeln!(out, "the quarantine is empty")?;
        return Ok(());
    }
    for e in entries {
        let field = e
            .field
            .as_deref()
            .map(|f| format!(" `{}`", clean(f)))
            .unwrap_or_default();
        let state = match &e.resolved_at {
            Some(at) => format!(
                " [resolved {at}: {}]",
                clean(e.resolution.as_deref().unwrap_or(""))
            ),
            None => String::new(),
        };
        writeln!(
            out,
            "#{} {} {}:{}{field}: {}{state}",
            e.id,
            e.kind,
            clean(&e.file),
            e.line,
            clean(&e.reason)
        )?;
        let raw = String::from_utf8_lossy(&e.raw);
        let raw: String = raw.chars().take(160).collect();
        writeln!(out, "    {}", clean(&raw))?;
    }
    writeln!(out, "{} entries", entries.len())?;
    Ok(())
}

fn export(store: &dyn Store, dir: &Path, kind: Option<lekdicht_model::RecordKind>) -> Result<()> {
    let entries = store.quarantine_list(&QuarantineFilter {
        kind,
        include_resolved: false,
        ids: Vec::new(),
    })?;
    if entries.is_empty() {
        println!("no open quarantine entries");
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut files: BTreeMap<String, (Option<String>, Vec<&QuarantineEntry>)> = BTreeMap::new();
    for e in &entries {
        let name = match &e.csv_header {
            Some(_) => format!("{}.csv", e.kind),
            None => format!("{}.ndjson", e.kind),
        };
        files
            .entry(name)
            .or_insert_with(|| (e.csv_header.clone(), Vec::new()))
            .1
            .push(e);
    }
    for (name, (header, lines)) in &files {
        let path = dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| {
                format!("cannot create {} (does it exist already?)", path.display())
            })?;
        if let Some(header) = header {
            writeln!(file, "{header}")?;
        }
        for e in lines {
            file.write_all(&e.raw)?;
            file.write_all(b"\n")?;
        }
        println!("{}: {} lines", path.display(), lines.len());
    }
    println!(
        "fix the lines, then run `lekdicht ingest {}`; entries whose record id was readable resolve themselves, the others with `lekdicht quarantine resolve ID --note ...`",
        dir.display()
    );
    Ok(())
}

fn fix(data: &Path, store: &mut dyn Store, id: i64, line: Option<String>) -> Result<ExitCode> {
    let entry = store
        .quarantine_list(&QuarantineFilter {
            ids: vec![id],
            ..QuarantineFilter::default()
        })?
        .into_iter()
        .next()
        .with_context(|| format!("quarantine entry {id} does not exist or is already resolved"))?;
    let line = match line {
        Some(line) => line,
        None => {
            let mut buf = String::new();
            std::io::stdin()
                .read_to_string(&mut buf)
                .context("cannot read the corrected line from standard input")?;
            buf
        }
    };
    let line = line.trim_end_matches(['\n', '\r']);
    if line.contains('\n') {
        bail!("give exactly one corrected line");
    }
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let (name, format) = match &entry.csv_header {
        Some(_) => (format!("{}.csv", entry.kind), Format::Csv),
        None => (format!("{}.ndjson", entry.kind), Format::Ndjson),
    };
    let path = tmp.path().join(&name);
    let mut content = String::new();
    if let Some(header) = &entry.csv_header {
        content.push_str(header);
        content.push('\n');
    }
    content.push_str(line);
    content.push('\n');
    std::fs::write(&path, content)?;
    // Validate first, so that a still-broken line does not become a second quarantine entry.
    let source = SourceFile {
        name: format!("quarantine #{id}"),
        path: Some(path.clone()),
        kind: entry.kind,
        format,
    };
    for item in RecordStream::open(source, Defaults::default(), Limits::default())? {
        if let Item::Bad(error) = item? {
            println!("still invalid: {}", clean(&error.to_string()));
            return Ok(ExitCode::from(crate::EXIT_QUARANTINED));
        }
    }
    let mut ledger = crate::ledger::EventLedger::open(data, store)?;
    let mut journal = crate::ledger::Journal::open(data)?;
    let report = ingest_with_leaves(
        store,
        &IngestOptions {
            paths: vec![path],
            kind: Some(entry.kind),
            progress: false,
            description: format!("quarantine fix #{id}"),
            ..IngestOptions::default()
        },
        &mut |seq, leaves| journal.record(seq, leaves),
        &mut |batch, outcome, leaves| ledger.after_commit_with_leaves(batch, outcome, leaves),
    )?;
    if report.has_problems() {
        super::ingest::print_summary(&report);
        return Ok(ExitCode::from(crate::EXIT_QUARANTINED));
    }
    let resolution = format!("fixed line stored in run {}", report.run);
    store.quarantine_resolve(id, &resolution)?;
    crate::ledger::record_action(
        data,
        store,
        serde_json::json!({"action": "quarantine.fix", "entry": id, "resolution": resolution}),
    )?;
    println!(
        "quarantine entry {id} fixed: {} stored, {} already present",
        report.totals.stored, report.totals.duplicates
    );
    Ok(ExitCode::SUCCESS)
}
