//! Draws a sample audit from a synthetic population of a million events and prints how long the
//! draw took and what a set of made-up judgements would estimate.
//!
//! Only a timing and usage illustration: the population and judgements are invented here, nothing
//! is read from or written to a store. Run with
//! `cargo run -p lekdicht-review --example draw_sample`.

use std::collections::BTreeMap;
use std::time::Instant;

use lekdicht_review::{Allocation, SamplePlan, StratumKey, StratumTally, Z95, draw, estimate};

fn main() {
    // 50 units × 4 systems, one month; stratum sizes from 500 to about 9,000 events.
    let mut population: BTreeMap<StratumKey, Vec<u64>> = BTreeMap::new();
    let mut next = 0u64;
    for unit in 0..50u64 {
        for system in ["BVH", "BRP", "RDW", "SKDB"] {
            let n = 500 + (unit * 7919 + system.len() as u64 * 104_729) % 8_600;
            population.insert(
                StratumKey {
                    unit: format!("unit-{unit:02}"),
                    system: system.to_owned(),
                    period: "2026-03".to_owned(),
                },
                (next..next + n).collect(),
            );
            next += n;
        }
    }
    let plan = SamplePlan {
        seed: 20_260_301,
        size: 400,
        min_per_stratum: 2,
        allocation: Allocation::Proportional,
    };
    let started = Instant::now();
    let draws = draw(&plan, &population);
    let elapsed = started.elapsed();
    let sampled: usize = draws.iter().map(|d| d.sampled.len()).sum();
    println!(
        "population {next} events in {} strata; drew {sampled} in {:.1} ms",
        draws.len(),
        elapsed.as_secs_f64() * 1000.0
    );

    // Invented judgements: one unlawful item in every tenth stratum, one unclear in every seventh.
    let tallies: Vec<StratumTally> = draws
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let n = d.sampled.len() as u64;
            let unlawful = u64::from(i % 10 == 0).min(n);
            let unclear = u64::from(i % 7 == 0).min(n - unlawful);
            StratumTally {
                key: d.key.clone(),
                population: d.population,
                sampled: n,
                lawful: n - unlawful - unclear,
                unlawful,
                unclear,
            }
        })
        .collect();
    let e = estimate(&tallies, Z95);
    println!(
        "unlawful share {:.4} [{:.4}, {:.4}]; unclear as unlawful {:.4} [{:.4}, {:.4}]",
        e.overall.estimate,
        e.overall.low,
        e.overall.high,
        e.overall_unclear_as_unlawful.estimate,
        e.overall_unclear_as_unlawful.low,
        e.overall_unclear_as_unlawful.high
    );
}
