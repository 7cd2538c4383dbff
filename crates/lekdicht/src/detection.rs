//! Wiring of the detection engine to the store: load the context once, feed every event in time
//! order, write one score per event and the alerts back, and report the explained share.
//!
//! The engine itself (`lekdicht-detect`) is pure; this module decides where its configuration
//! comes from and pages through the store so that scores can be written between pages.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use lekdicht_detect::eval::{Evaluation, ExplainedTally, GroundTruth, QualityReport};
use lekdicht_detect::{Alert, Config, Context, Engine, EventScore, SignalCode, Trace, feedback};
use lekdicht_store::{AlertRow, ScoreRow, Store, StoredEvent, TimeRange};

/// Events read and scored per page.
const PAGE: usize = 50_000;

/// Name of the configuration file looked for in the data directory.
pub const CONFIG_FILE: &str = "detect.toml";

/// Reads the detection configuration: `path`, else `<data>/detect.toml`, else the defaults; then
/// adds every Sigma rule file (`*.yml`, `*.yaml`) found in `rules`.
pub fn load_config(data: &Path, path: Option<&Path>, rules: Option<&Path>) -> Result<Config> {
    let default_path = data.join(CONFIG_FILE);
    let path = path.or_else(|| default_path.exists().then_some(default_path.as_path()));
    let mut config = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Config::from_toml_str(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => Config::default(),
    };
    if let Some(dir) = rules {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the rules directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
            .collect();
        files.sort();
        if files.is_empty() {
            bail!("{} holds no Sigma rules (*.yml, *.yaml)", dir.display());
        }
        for file in files {
            config.sigma.rules.push(
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?,
            );
        }
    }
    Ok(config)
}

/// What a detection run did.
pub struct DetectionSummary {
    pub events: u64,
    pub explained: ExplainedTally,
    /// The alerts in the review queue.
    pub alerts: Vec<Alert>,
    /// Findings kept with their rank outside the queue.
    pub ranked: usize,
    /// Events at or above the configured reason threshold.
    pub suspicious: u64,
    pub seconds: f64,
    /// Seconds spent in the engine alone (without reading and writing the store).
    pub engine_seconds: f64,
}

/// The status of a finding stored outside the review queue (below the budget or the minimum
/// probability), kept with its rank.
pub const RANKED: &str = "ranked";

/// What detection learns from the decided alerts in the store (see
/// [`lekdicht_detect::feedback`]).
pub fn learned(store: &dyn Store) -> Result<Vec<feedback::Learned>> {
    let mut decisions = Vec::new();
    for row in store.decided_alerts()? {
        let line: serde_json::Value = serde_json::from_str(&row.line)
            .with_context(|| format!("stored alert {} does not parse", row.id))?;
        let signals = line["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["bits"].as_f64().unwrap_or(0.0) >= 1.0)
            .filter_map(|r| r["code"].as_str().and_then(SignalCode::parse))
            .collect();
        decisions.push(feedback::Decision {
            signals,
            real: row.status == "escalated",
        });
    }
    Ok(feedback::learn(&decisions))
}

/// Scores a generated world in memory, without a store: every finding (see
/// [`Engine::finish_all`]) and the quality against the world's answer key. For measuring
/// detection on demo worlds only; the answer key is read after scoring, never by the engine.
pub fn evaluate_world(
    world: &lekdicht_demo::World,
    config: &Config,
) -> Result<(Vec<Alert>, QualityReport)> {
    let ctx = Context::new(world.context_records());
    let truth = GroundTruth {
        violations: world.violation_kinds(),
        groups: world.groups_by_employee(),
    };
    let mut engine = Engine::new(&ctx, config).context("invalid detection configuration")?;
    let mut evaluation = Evaluation::new(&ctx, &truth, config.alerts.reason_threshold);
    for event in &world.events {
        evaluation.add(&engine.process(event));
    }
    let all = engine.finish_all();
    let queued: Vec<Alert> = all.iter().filter(|a| a.queued).cloned().collect();
    let report = evaluation.finish(&queued, world.config.days);
    Ok((all, report))
}

/// The engine's view of the store's current context.
pub fn load_context(store: &dyn Store) -> Result<Context> {
    Ok(Context::new(store.load_context()?))
}

/// Scores every event in `range` in time order, stores scores and alerts, and calls `on_score`
/// for each event.
pub fn run(
    store: &mut dyn Store,
    ctx: &Context,
    config: &Config,
    range: &TimeRange,
    on_score: &mut dyn FnMut(&StoredEvent, &EventScore) -> Result<()>,
) -> Result<DetectionSummary> {
    let started = Instant::now();
    let mut engine = Engine::new(ctx, config).context("invalid detection configuration")?;
    store.begin_scoring(range)?;
    let mut explained = ExplainedTally::default();
    let mut suspicious = 0;
    let mut engine_time = std::time::Duration::ZERO;
    let mut after = None;
    loop {
        let page = store.events_by_time_page(range, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some((last.event.time.timestamp_millis(), last.seq));
        let mut rows = Vec::with_capacity(page.len());
        for stored in &page {
            let t = Instant::now();
            let score = engine.process(&stored.event);
            engine_time += t.elapsed();
            explained.add(ctx, &score);
            if score.score >= config.alerts.reason_threshold {
                suspicious += 1;
            }
            on_score(stored, &score)?;
            rows.push(ScoreRow {
                seq: stored.seq,
                score: score.score,
                line: serde_json::to_string(&score)?,
            });
        }
        store.write_scores(&rows)?;
    }
    let t = Instant::now();
    let all = engine.finish_all();
    engine_time += t.elapsed();
    // Every finding is stored: the queued ones open for review, the others with status `ranked`
    // (kept with their rank, outside the review queue).
    let rows = all
        .iter()
        .map(|a| {
            Ok(AlertRow {
                id: a.id.clone(),
                actor: a.actor.to_string(),
                score: a.score,
                from_ms: a.from.timestamp_millis(),
                until_ms: a.until.timestamp_millis(),
                status: if a.queued { "open" } else { RANKED }.to_owned(),
                line: serde_json::to_string(a)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    store.write_alerts(&rows)?;
    let ranked = all.iter().filter(|a| !a.queued).count();
    let alerts: Vec<Alert> = all.into_iter().filter(|a| a.queued).collect();
    Ok(DetectionSummary {
        events: explained.events,
        explained,
        alerts,
        ranked,
        suspicious,
        seconds: started.elapsed().as_secs_f64(),
        engine_seconds: engine_time.as_secs_f64(),
    })
}

/// Replays events up to `target` (no look-ahead: later events cannot matter) and returns the
/// target's score with the trace of every check.
pub fn explain(
    store: &dyn Store,
    config: &Config,
    target: &StoredEvent,
) -> Result<(EventScore, Trace)> {
    let ctx = load_context(store)?;
    let mut engine = Engine::new(&ctx, config).context("invalid detection configuration")?;
    let range = TimeRange {
        from_ms: None,
        until_ms: Some(target.event.time.timestamp_millis() + 1),
    };
    let mut after = None;
    loop {
        let page = store.events_by_time_page(&range, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some((last.event.time.timestamp_millis(), last.seq));
        for stored in &page {
            if stored.seq == target.seq {
                return Ok(engine.process_traced(&stored.event));
            }
            engine.process(&stored.event);
        }
    }
    bail!("event #{} was not found in time order", target.seq)
}
