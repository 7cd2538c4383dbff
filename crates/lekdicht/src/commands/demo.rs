//! `lekdicht demo`: generate the synthetic region, write it as contract files, ingest it through the
//! same pipeline as any other source, and show what a user should see first.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use lekdicht_demo::{DemoConfig, generate, write_world};
use lekdicht_store::Store;

use crate::cli::DemoArgs;
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
        ..DemoConfig::default()
    }
}

pub(crate) fn run(data: &Path, args: &DemoArgs) -> Result<ExitCode> {
    let config = config_of(args);
    let started = Instant::now();
    let world = generate(&config);
    let generated = started.elapsed();
    if let Some(out) = &args.out {
        let files = write_world(&world, out)
            .with_context(|| format!("cannot write the world to {}", out.display()))?;
        println!(
            "wrote {} events and their context to {} in {:.1} s (answer key: answer-key.ndjson)",
            world.events.len(),
            out.display(),
            started.elapsed().as_secs_f64()
        );
        let _ = files;
        println!("ingest it with `lekdicht ingest {}`", out.display());
        return Ok(ExitCode::SUCCESS);
    }

    let identity = format!(
        "seed={} employees={} persons={} vehicles={} days={}",
        config.seed, config.employees, config.persons, config.vehicles, config.days
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
        "generated a region of {} employees in {} units, {} persons, {} vehicles, {} cases and {} access events over {} days ({:.1} s, files {:.1} s)",
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
    println!();
    println!("next: `lekdicht status`, `lekdicht timeline EMPLOYEE`, `lekdicht accessed SUBJECT`");
    Ok(super::ingest::exit_code(&report))
}
