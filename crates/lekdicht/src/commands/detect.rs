//! `lekdicht score`, `lekdicht alerts` and `lekdicht explain`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use lekdicht_detect::{CheckKind, codes};
use lekdicht_store::{Store, TimeRange};

use crate::cli::{AlertsArgs, ExplainArgs, ScoreArgs};
use crate::detection;

pub(crate) fn score(data: &Path, args: &ScoreArgs) -> Result<ExitCode> {
    let mut store = super::open_store(data)?;
    let mut config = detection::load_config(
        data,
        args.detect.config.as_deref(),
        args.detect.rules.as_deref(),
    )?;
    if !args.no_feedback {
        let learned = detection::learned(&store)?;
        if !learned.is_empty() {
            eprintln!("learned from decided alerts (`--no-feedback` ignores this):");
            for l in &learned {
                eprintln!(
                    "  {:<28} {:>4} real, {:>4} not real: precision {:.2}, weight x{:.2}",
                    l.code.as_str(),
                    l.real,
                    l.not_real,
                    l.precision,
                    l.multiplier
                );
            }
        }
        lekdicht_detect::feedback::apply(&mut config.alerts.signal_multipliers, &learned);
    }
    let range = TimeRange {
        from_ms: args
            .from
            .as_deref()
            .map(super::query::parse_time_ms)
            .transpose()?,
        until_ms: args
            .until
            .as_deref()
            .map(super::query::parse_time_ms)
            .transpose()?,
    };
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) if path.as_os_str() != "-" => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        _ if args.quiet => Box::new(std::io::sink()),
        _ => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let ctx = detection::load_context(&store)?;
    let summary = detection::run(&mut store, &ctx, &config, &range, &mut |_, score| {
        serde_json::to_writer(&mut out, score)?;
        out.write_all(b"\n")?;
        Ok(())
    })?;
    out.flush()?;
    drop(out);
    eprintln!(
        "scored {} events in {:.1} s (engine {:.0} events/s): {:.1}% explained, {} above the reason threshold, {} alerts in the review queue, {} more findings kept with their rank (`lekdicht alerts --all`)",
        summary.events,
        summary.seconds,
        summary.events as f64 / summary.engine_seconds.max(1e-9),
        100.0 * summary.explained.share(),
        summary.suspicious,
        summary.alerts.len(),
        summary.ranked
    );
    eprintln!("explained share per unit:");
    for (unit, (events, explained)) in &summary.explained.per_unit {
        eprintln!(
            "  {unit:<16} {:>6.1}%  of {events} events",
            100.0 * *explained as f64 / (*events).max(1) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn alerts(data: &Path, args: &AlertsArgs) -> Result<ExitCode> {
    let store = super::open_store(data)?;
    let mut alerts = store.alerts(args.status.as_deref())?;
    if args.all {
        alerts.extend(store.alerts(Some(crate::detection::RANKED))?);
    }
    let mut lines = Vec::with_capacity(alerts.len());
    for a in &alerts {
        let mut value: serde_json::Value = serde_json::from_str(&a.line)?;
        value["status"] = a.status.clone().into();
        lines.push(value);
    }
    // Best ranked first: the rank is the order in which the run found them most surprising.
    lines.sort_by_key(|v| v["rank"].as_u64().unwrap_or(u64::MAX));
    let mut out = std::io::stdout().lock();
    if args.json {
        for value in &lines {
            writeln!(out, "{value}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if lines.is_empty() {
        writeln!(out, "no alerts (run `lekdicht score` after ingesting)")?;
        return Ok(ExitCode::SUCCESS);
    }
    for value in &lines {
        writeln!(
            out,
            "#{:<4} {}  probability {:.2}  {:.1} bits  {}  {} .. {}  {} events  [{}]",
            value["rank"]
                .as_u64()
                .map_or("?".to_owned(), |r| r.to_string()),
            value["id"].as_str().unwrap_or("?"),
            value["score"].as_f64().unwrap_or(0.0),
            value["bits"].as_f64().unwrap_or(0.0),
            value["actor"].as_str().unwrap_or("?"),
            value["from"].as_str().unwrap_or("?"),
            value["until"].as_str().unwrap_or("?"),
            value["events"].as_array().map_or(0, Vec::len),
            value["status"].as_str().unwrap_or("?")
        )?;
        for r in value["reasons"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "    {} x{}: {}",
                r["code"].as_str().unwrap_or("?"),
                r["count"],
                r["detail"].as_str().unwrap_or("")
            )?;
        }
    }
    writeln!(out, "{} alerts", lines.len())?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn explain(data: &Path, args: &ExplainArgs) -> Result<ExitCode> {
    let store = super::open_store(data)?;
    let config = detection::load_config(
        data,
        args.detect.config.as_deref(),
        args.detect.rules.as_deref(),
    )?;
    let found = store.find_events(&args.event, args.system.as_deref())?;
    let target = match found.as_slice() {
        [one] => one,
        [] => bail!("no event {}", args.event),
        _ => bail!(
            "{} events have id {}; name the system with --system",
            found.len(),
            args.event
        ),
    };
    let (score, trace) = detection::explain(&store, &config, target)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({ "score": score, "checks": trace.checks });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let e = &target.event;
    writeln!(
        out,
        "event {} ({}) at {}: {} {} {}{}",
        e.id,
        e.system,
        e.time.to_rfc3339(),
        e.actor,
        e.action.as_str(),
        e.subject.as_ref().map_or("-", |s| s.as_str()),
        e.case
            .as_ref()
            .map(|c| format!(", stated case {c}"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "score {:.3}: {}",
        score.score,
        if score.reasons.is_empty() {
            "nothing suspicious"
        } else {
            "suspicious"
        }
    )?;
    for (title, kind) in [
        ("explanations", CheckKind::Explanation),
        ("signals", CheckKind::Signal),
    ] {
        writeln!(out, "\n{title} that applied:")?;
        let mut any = false;
        for c in trace.checks.iter().filter(|c| c.kind == kind && c.fired) {
            any = true;
            if kind == CheckKind::Signal {
                writeln!(
                    out,
                    "  {} (+{:.2}, {:.2} before explanations): {}",
                    c.code, c.weight, c.base_weight, c.detail
                )?;
            } else {
                writeln!(out, "  {}: {}", c.code, c.detail)?;
            }
        }
        if !any {
            writeln!(out, "  none")?;
        }
        writeln!(out, "{title} that did not apply, and why:")?;
        for c in trace.checks.iter().filter(|c| c.kind == kind && !c.fired) {
            writeln!(out, "  {}: {}", c.code, c.detail)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn codes() -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "explanations (explained_by):")?;
    for code in codes::ExplanationCode::ALL {
        writeln!(out, "  {:<28} {}", code.as_str(), code.description())?;
    }
    writeln!(out, "signals (reasons):")?;
    for code in codes::SignalCode::ALL {
        writeln!(out, "  {:<28} {}", code.as_str(), code.description())?;
    }
    Ok(ExitCode::SUCCESS)
}
