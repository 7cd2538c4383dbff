//! Detection quality over every kind of organisation the demo can generate: each profile at two
//! sizes, several seeds, a world without any violation, all scored in memory with the default
//! configuration and measured against their answer keys. `lekdicht demo` prints the table and the
//! full report of the worst world, so that nobody judges detection by the flattering one.
//!
//! Seeds from [`HELD_OUT_SEEDS`] on are never used to tune detection: the worlds printed here are
//! measurements, not training data.

use std::time::Instant;

use anyhow::Result;
use lekdicht_demo::{DemoConfig, Profile, generate};
use lekdicht_detect::Config;
use lekdicht_detect::eval::QualityReport;

/// The first seed of the range kept out of all tuning.
pub(crate) const HELD_OUT_SEEDS: u64 = 1000;

/// One world of the sweep.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub profile: Profile,
    pub employees: usize,
    pub seed: u64,
    pub violators: f64,
}

impl World {
    fn config(&self, days: u32) -> DemoConfig {
        DemoConfig {
            employees: self.employees,
            persons: self.employees * 50,
            vehicles: self.employees * 15,
            days,
            seed: self.seed,
            violator_share: self.violators,
            profile: self.profile,
            ..DemoConfig::default()
        }
    }

    fn label(&self) -> String {
        let violators = if self.violators == 0.0 {
            "no violators".to_owned()
        } else {
            format!("{:.0}% violators", self.violators * 100.0)
        };
        format!(
            "{:<12} {:>5} employees, seed {:<5} {violators}",
            self.profile.as_str(),
            self.employees,
            self.seed
        )
    }
}

/// The worlds of the sweep: every profile small (`size` employees) and large (twice as many) with
/// 2% and 1% violators, and a small world of each profile without any violation; all with
/// held-out seeds.
pub(crate) fn worlds(size: usize) -> Vec<World> {
    let mut out = Vec::new();
    let mut seed = HELD_OUT_SEEDS;
    for profile in Profile::ALL {
        for (employees, violators) in [(size, 0.02), (2 * size, 0.01), (size, 0.0)] {
            seed += 1;
            out.push(World {
                profile,
                employees,
                seed,
                violators,
            });
        }
    }
    out
}

/// The quality of one world.
pub(crate) fn evaluate(world: &World, days: u32, config: &Config) -> Result<QualityReport> {
    Ok(crate::detection::evaluate_world(&generate(&world.config(days)), config)?.1)
}

/// How far a world falls short of the targets: the largest shortfall of recall, precision,
/// calibration and (without violators) the expected number of real alerts.
fn shortfall(q: &QualityReport) -> f64 {
    use lekdicht_detect::eval::targets::*;
    if q.violators == 0 {
        return (q.score_sum_per_1000 - NULL_SCORE_SUM_PER_1000)
            .max(q.alerts_per_100_per_month - ALERTS_PER_100_PER_MONTH)
            .max(0.0);
    }
    let calibration = (q.mean_alert_score - q.precision).abs() - CALIBRATION;
    (RECALL - q.recall)
        .max(PRECISION - q.precision)
        .max(calibration)
        .max(q.alerts_per_100_per_month - ALERTS_PER_100_PER_MONTH)
        .max(0.0)
}

/// Runs the sweep, prints a line per world and the full report of the worst; returns whether
/// every world met every target.
pub(crate) fn run(days: u32, size: usize, config: &Config) -> Result<bool> {
    println!(
        "\n== detection on every profile (seeds {HELD_OUT_SEEDS} and up, never used for tuning)"
    );
    println!(
        "{:<52} {:>7} {:>9} {:>9} {:>10} {:>8} {:>9}",
        "world", "recall", "precision", "mean score", "alerts/100", "expected", "explained"
    );
    let mut worst: Option<(f64, String, QualityReport)> = None;
    let mut all_pass = true;
    for world in worlds(size.max(10)) {
        let started = Instant::now();
        let q = evaluate(&world, days, config)?;
        let label = world.label();
        println!(
            "{label:<52} {:>7} {:>9} {:>10.2} {:>10.2} {:>8.2} {:>8.1}%   ({:.0} s)",
            if q.violators == 0 {
                "-".to_owned()
            } else {
                format!("{:.0}%", q.recall * 100.0)
            },
            if q.alerts == 0 {
                "-".to_owned()
            } else {
                format!("{:.0}%", q.precision * 100.0)
            },
            q.mean_alert_score,
            q.alerts_per_100_per_month,
            (q.score_sum_per_1000 / 10.0).max(0.0),
            q.legit_explained_share * 100.0,
            started.elapsed().as_secs_f64()
        );
        all_pass &= q.all_pass();
        let gap = shortfall(&q);
        if worst.as_ref().is_none_or(|w| gap > w.0) {
            worst = Some((gap, label, q));
        }
    }
    println!(
        "(expected: the alerts' scores summed per 100 employees per month, the number of real alerts detection itself expects)"
    );
    if let Some((_, label, q)) = worst {
        println!("\n== the worst world: {label}");
        println!("{q}");
    }
    Ok(all_pass)
}
