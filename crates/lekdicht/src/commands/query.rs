//! Read-only commands: `timeline`, `accessed` and `status`.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, NaiveDate};
use lekdicht_model::RecordKind;
use lekdicht_store::{Store, StoredEvent, TimeRange};

use crate::cli::{AccessedArgs, TimelineArgs};
use crate::terminal::clean;

/// Parses `--from`/`--until`: RFC 3339, or a date meaning 00:00 UTC of that day.
pub(crate) fn parse_time_ms(s: &str) -> Result<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis()));
    }
    bail!("`{s}` is neither an RFC 3339 time (2025-03-14T09:31:22+01:00) nor a date (2025-03-14)")
}

/// The latest detection run's verdict on each event, by sequence number.
fn scores_by_seq(
    store: &dyn Store,
    events: &[StoredEvent],
) -> Result<HashMap<u64, serde_json::Value>> {
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    store
        .scores_of(&seqs)?
        .into_iter()
        .map(|(seq, line)| Ok((seq, serde_json::from_str(&line)?)))
        .collect()
}

/// "why" in plain codes: the explanations, or the reasons, of the latest detection run.
fn verdict(score: Option<&serde_json::Value>) -> String {
    let Some(score) = score else {
        return "not scored yet".to_owned();
    };
    let list = |field: &str, key: Option<&str>| -> Vec<String> {
        score[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| match key {
                Some(key) => v[key].as_str().map(str::to_owned),
                None => v.as_str().map(str::to_owned),
            })
            .collect()
    };
    let explained = list("explained_by", None);
    let reasons = list("reasons", Some("code"));
    let mut parts = Vec::new();
    if !explained.is_empty() {
        parts.push(format!("explained: {}", explained.join(" ")));
    }
    if !reasons.is_empty() {
        parts.push(format!(
            "score {:.2}: {}",
            score["score"].as_f64().unwrap_or(0.0),
            reasons.join(" ")
        ));
    }
    if parts.is_empty() {
        "no explanation found".to_owned()
    } else {
        parts.join("; ")
    }
}

fn print_events(
    store: &dyn Store,
    events: &[StoredEvent],
    json: bool,
    units: &HashMap<String, String>,
) -> Result<()> {
    let scores = scores_by_seq(store, events)?;
    let mut out = std::io::stdout().lock();
    if json {
        for e in events {
            let mut value: serde_json::Value = serde_json::from_slice(&e.canonical)?;
            if let Some(score) = scores.get(&e.seq) {
                value["lekdicht_score"] = score.clone();
            }
            // The event's position in the ledger (its leaf index).
            value["lekdicht_seq"] = e.seq.into();
            writeln!(out, "{value}")?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{:>9} {:<25} {:<10} {:<14} {:<8} {:<18} {:<16} notes",
        "seq", "time", "actor", "unit", "system", "action subject", "case"
    )?;
    for s in events {
        let e = &s.event;
        let subject = match (&e.subject, &e.query) {
            (Some(subject), _) => format!("{} {}", e.action.as_str(), clean(subject.as_str())),
            (None, Some(q)) => format!("{} \"{}\"", e.action.as_str(), clean(q)),
            (None, None) => e.action.as_str().to_owned(),
        };
        let mut notes = vec![verdict(scores.get(&s.seq))];
        if let Some(p) = &e.purpose {
            notes.push(format!("purpose {}", clean(p)));
        }
        if s.unresolved.any() {
            notes.push(s.unresolved.describe());
        }
        writeln!(
            out,
            "{:>9} {:<25} {:<10} {:<14} {:<8} {:<18} {:<16} {}",
            s.seq,
            e.time.to_rfc3339(),
            clean(e.actor.as_str()),
            clean(units.get(e.actor.as_str()).map_or("?", String::as_str)),
            clean(&e.system),
            subject,
            clean(e.case.as_ref().map_or("-", |c| c.as_str())),
            notes.join("; ")
        )?;
    }
    writeln!(
        out,
        "{} events (seq: each event's position in the ledger; `lekdicht ledger prove EVENT` proves it)",
        events.len()
    )?;
    Ok(())
}

/// Employee id → unit id, for display.
fn units_of_employees(store: &dyn Store) -> Result<HashMap<String, String>> {
    Ok(store
        .load_context()?
        .employees
        .into_iter()
        .map(|e| (e.id.into_string(), e.unit.into_string()))
        .collect())
}

pub(crate) fn timeline(data: &Path, args: &TimelineArgs) -> Result<ExitCode> {
    let store = super::open_store(data)?;
    let range = TimeRange {
        from_ms: args.from.as_deref().map(parse_time_ms).transpose()?,
        until_ms: args.until.as_deref().map(parse_time_ms).transpose()?,
    };
    let events = store.timeline(&args.actor, &range)?;
    if events.is_empty()
        && store
            .context_record(RecordKind::Employees, &args.actor)?
            .is_none()
    {
        bail!("no employee {} and no events by that id", args.actor);
    }
    print_events(&store, &events, args.json, &units_of_employees(&store)?)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn accessed(data: &Path, args: &AccessedArgs) -> Result<ExitCode> {
    let store = super::open_store(data)?;
    let events = store.accessed(&args.subject)?;
    if events.is_empty()
        && store
            .context_record(RecordKind::Subjects, &args.subject)?
            .is_none()
    {
        bail!("no subject {} and no events naming it", args.subject);
    }
    print_events(&store, &events, args.json, &units_of_employees(&store)?)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn status(data: &Path, json: bool) -> Result<ExitCode> {
    if !data.join(lekdicht_store::DATABASE_FILE).exists() {
        bail!(
            "{} holds no lekdicht data yet; run `lekdicht demo` or `lekdicht ingest`",
            data.display()
        );
    }
    let store = super::open_store(data).context("cannot open the store")?;
    let status = store.status()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("data directory: {}", data.display());
    println!(
        "events: {} ({} to {})",
        status.events,
        status.first_event.as_deref().unwrap_or("-"),
        status.last_event.as_deref().unwrap_or("-")
    );
    println!(
        "events naming an unknown actor, subject or case: {}",
        status.events_unresolved
    );
    for (kind, n) in &status.context {
        println!("{kind}: {n}");
    }
    println!("open quarantine entries: {}", status.quarantine_open);
    println!("ingest runs: {}", status.runs);
    let intake = store.intake_status()?;
    if intake.pending + intake.unjoined > 0 {
        println!(
            "OTLP spans waiting for their audit record: {}",
            intake.pending
        );
        println!(
            "OTLP spans stored without their audit record (actor {}; `lekdicht timeline {}`): {}",
            lekdicht_otlp::UNKNOWN_ACTOR,
            lekdicht_otlp::UNKNOWN_ACTOR,
            intake.unjoined
        );
    }
    Ok(ExitCode::SUCCESS)
}
