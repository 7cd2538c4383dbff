//! `lekdicht demo`: generate the synthetic region, write it as contract files, ingest it through the
//! same pipeline as any other source, score it, and show what a user should see first, with the
//! detection quality measured against the world's answer key.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use lekdicht_demo::{DemoConfig, generate, write_world};
use lekdicht_detect::eval::{Evaluation, GroundTruth};
use lekdicht_store::{Store, TimeRange};

use crate::cli::DemoArgs;
use crate::detection;
use crate::pipeline::{IngestOptions, ingest};

/// Settings key recording which demo world a data directory holds.
const DEMO_KEY: &str = "demo_world";

fn config_of(args: &DemoArgs) -> DemoConfig {
    DemoConfig {
        employees: args.employees,
        persons: args.persons,
        vehicles: args.vehicles,
        days: args.days,
        seed: args.seed,
        violator_share: args.violators.clamp(0.0, 1.0),
        profile: args.profile,
        ..DemoConfig::default()
    }
}

pub(crate) fn run(data: &Path, args: &DemoArgs) -> Result<ExitCode> {
    let config = config_of(args);
    if args.profiles_only {
        let detect_config = detection::load_config(data, None, None)?;
        let pass = super::profiles::run(config.days, args.profile_size, &detect_config)?;
        return Ok(if pass {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(4)
        });
    }
    let started = Instant::now();
    let world = generate(&config);
    let generated = started.elapsed();
    if let Some(out) = &args.out {
        write_world(&world, out)
            .with_context(|| format!("cannot write the world to {}", out.display()))?;
        println!(
            "wrote {} events and their context to {} in {:.1} s (answer key: {})",
            world.events.len(),
            out.display(),
            started.elapsed().as_secs_f64(),
            lekdicht_demo::ANSWER_KEY_FILE
        );
        println!("ingest it with `lekdicht ingest {}`", out.display());
        return Ok(ExitCode::SUCCESS);
    }

    let identity = format!(
        "seed={} employees={} persons={} vehicles={} days={} profile={} violators={}",
        config.seed,
        config.employees,
        config.persons,
        config.vehicles,
        config.days,
        config.profile,
        config.violator_share
    );
    if args.replace && data.exists() {
        std::fs::remove_dir_all(data)
            .with_context(|| format!("cannot empty {}", data.display()))?;
    }
    let mut store = super::open_store(data)?;
    let holds = store.setting(DEMO_KEY)?;
    if store.event_count()? > 0 && holds.as_deref() != Some(identity.as_str()) {
        bail!(
            "{} already holds other data ({}); use --replace to empty it, or --data to choose another directory",
            data.display(),
            holds.as_deref().unwrap_or("not a demo world")
        );
    }
    store.set_setting(DEMO_KEY, &identity)?;

    let world_dir = data.join("demo-world");
    let write_started = Instant::now();
    let files = write_world(&world, &world_dir)
        .with_context(|| format!("cannot write the world to {}", world_dir.display()))?;
    let written = write_started.elapsed();
    println!(
        "generated a police region of {} employees in {} units, {} persons, {} vehicles, {} cases and {} access events over {} days ({:.1} s, files {:.1} s)",
        world.employees.len(),
        world.units.len(),
        world.subjects.len(),
        world.vehicles.len(),
        world.cases.len(),
        world.events.len(),
        config.days,
        generated.as_secs_f64(),
        written.as_secs_f64()
    );
    // The answer key in the evaluation's terms: read by the evaluation only, never by detection.
    let truth = GroundTruth {
        violations: world.violation_kinds(),
        groups: world.groups_by_employee(),
    };
    drop(world);

    println!("\n== ingest (contract files -> store + ledger)");
    let mut ledger = crate::ledger::EventLedger::open(data, &mut store)?;
    let paths = files
        .contract_paths()
        .into_iter()
        .map(Path::to_path_buf)
        .collect();
    let report = ingest(
        &mut store,
        &IngestOptions {
            paths,
            description: format!("demo {identity}"),
            ..IngestOptions::default()
        },
        &mut |batch, outcome| ledger.after_commit(batch, outcome),
    )?;
    super::ingest::print_summary(&report);
    if let Some(c) = ledger.log().latest_checkpoint() {
        let c = c.checkpoint();
        println!(
            "ledger: {} events, signed checkpoint for size {} (root {})",
            ledger.log().size().0,
            c.size.0,
            c.root
        );
    }
    drop(ledger);

    println!("\n== detection");
    let detect_config = detection::load_config(data, None, None)?;
    let ctx = detection::load_context(&store)?;
    let mut evaluation = Evaluation::new(&ctx, &truth, detect_config.alerts.reason_threshold);
    let summary = detection::run(
        &mut store,
        &ctx,
        &detect_config,
        &TimeRange::default(),
        &mut |_, score| {
            evaluation.add(score);
            Ok(())
        },
    )?;
    println!(
        "scored {} events in {:.1} s (engine alone: {:.0} events/s)",
        summary.events,
        summary.seconds,
        summary.events as f64 / summary.engine_seconds.max(1e-9)
    );
    println!(
        "{:.1}% of all accesses are explained by their context (case, incident, team, area, follow-up)",
        100.0 * summary.explained.share()
    );
    let mut units: Vec<(String, f64)> = summary.explained.per_unit_share().into_iter().collect();
    units.sort_by(|a, b| a.1.total_cmp(&b.1));
    let lowest: Vec<String> = units
        .iter()
        .take(3)
        .map(|(u, s)| format!("{u} {:.1}%", 100.0 * s))
        .collect();
    println!("least explained units: {}", lowest.join(", "));
    println!(
        "{} accesses carry a reason to look twice; {} alerts for {} employees enter the review queue ({} more findings are kept with their rank), best ranked first:",
        summary.suspicious,
        summary.alerts.len(),
        ctx.n_employees(),
        summary.ranked
    );
    for alert in summary.alerts.iter().take(8) {
        let reasons: Vec<String> = alert
            .reasons
            .iter()
            .take(3)
            .map(|r| format!("{} x{}", r.code.as_str(), r.count))
            .collect();
        println!(
            "  #{:<3} {:<24} probability {:.2}  {:>5.1} bits  {:>3} events  {}",
            alert.rank,
            alert.id,
            alert.score,
            alert.bits,
            alert.events.len(),
            reasons.join(", ")
        );
    }
    if summary.alerts.len() > 8 {
        println!("  ... `lekdicht alerts` lists all of them");
    }

    println!("\n== quality against the answer key (used by this evaluation only)");
    let quality = evaluation.finish(&summary.alerts, config.days);
    println!("{quality}");
    if !args.no_profiles {
        super::profiles::run(config.days, args.profile_size, &detect_config)?;
    }
    println!(
        "\nnext: `lekdicht alerts`, `lekdicht explain EVENT`, `lekdicht timeline EMPLOYEE`, `lekdicht accessed SUBJECT`, `lekdicht ledger verify`"
    );
    println!(
        "review the alerts in a browser: create the organisation's first administrator with `lekdicht --data {data} user add --org politie --username YOU --role admin` (the password from LEKDICHT_PASSWORD or standard input), start `lekdicht --data {data} serve` and open http://127.0.0.1:8080 (over plain HTTP only from this computer; see the README for TLS)",
        data = data.display()
    );
    Ok(super::ingest::exit_code(&report))
}
