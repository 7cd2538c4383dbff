//! Generates a world with the default configuration (or `EMPLOYEES`/`DAYS`/`SEED` from the
//! environment), prints how long generation and writing took, and summarises the world.
//!
//! Run in release: `cargo run --release -p lekdicht-demo --example demo_stats [OUT_DIR]`.
//! It measures one run; the criterion benchmark in `benches/` is the careful measurement.

use std::collections::BTreeMap;
use std::time::Instant;

use lekdicht_demo::{DemoConfig, generate, write_world};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let defaults = DemoConfig::default();
    let config = DemoConfig {
        employees: env_or("EMPLOYEES", defaults.employees),
        persons: env_or("PERSONS", defaults.persons),
        vehicles: env_or("VEHICLES", defaults.vehicles),
        days: env_or("DAYS", defaults.days),
        seed: env_or("SEED", defaults.seed),
        ..defaults
    };
    let started = Instant::now();
    let world = generate(&config);
    let generated = started.elapsed();
    println!("generate: {generated:.2?}");
    println!(
        "units {} employees {} subjects {} vehicles {} relations {} cases {} shifts {} events {}",
        world.units.len(),
        world.employees.len(),
        world.subjects.len(),
        world.vehicles.len(),
        world.relations.len(),
        world.cases.len(),
        world.shifts.len(),
        world.events.len()
    );
    let mut by_system: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_action: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &world.events {
        *by_system.entry(e.system.as_str()).or_default() += 1;
        *by_action.entry(e.action.as_str()).or_default() += 1;
    }
    println!("systems {by_system:?}");
    println!("actions {by_action:?}");
    let with_case = world.events.iter().filter(|e| e.case.is_some()).count();
    println!("events with case: {with_case}");
    println!(
        "violations {} by {} employees",
        world.answer_key.violations.len(),
        world.answer_key.violators().len()
    );
    for (kind, n) in world.answer_key.counts() {
        println!("  {kind:<20} {n}");
    }
    if let Some(dir) = std::env::args().nth(1) {
        let started = Instant::now();
        let files = write_world(&world, std::path::Path::new(&dir))?;
        println!("write_world: {:.2?}", started.elapsed());
        for f in &files.files {
            println!("  {:<20} {}", f.name, f.records);
        }
    }
    Ok(())
}
