//! Learning from decisions: investigators' verdicts on one month's alerts improve how the next
//! month's findings are ranked, on demo worlds that detection never saw the answer key of.

use std::collections::BTreeSet;

use lekdicht::detection::evaluate_world;
use lekdicht_demo::{DemoConfig, Profile, generate};
use lekdicht_detect::feedback::{Decision, apply, learn};
use lekdicht_detect::{Alert, Config};
use lekdicht_model::EmployeeId;

fn world(seed: u64) -> lekdicht_demo::World {
    generate(&DemoConfig {
        employees: 600,
        persons: 30_000,
        vehicles: 9_000,
        days: 21,
        seed,
        violator_share: 0.03,
        profile: Profile::Police,
        ..DemoConfig::default()
    })
}

fn findings(world: &lekdicht_demo::World, config: &Config) -> Vec<Alert> {
    evaluate_world(world, config).unwrap().0
}

fn violators(world: &lekdicht_demo::World) -> BTreeSet<EmployeeId> {
    world
        .answer_key
        .violations
        .iter()
        .map(|v| v.actor.clone())
        .collect()
}

/// Average precision of the findings, most probable first, against the violating actors.
fn average_precision(findings: &[Alert], truth: &BTreeSet<EmployeeId>) -> f64 {
    let mut ranked: Vec<&Alert> = findings.iter().collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.rank.cmp(&b.rank)));
    let mut found = BTreeSet::new();
    let mut hits = 0.0;
    let mut sum = 0.0;
    for (i, a) in ranked.iter().enumerate() {
        if truth.contains(&a.actor) && found.insert(a.actor.clone()) {
            hits += 1.0;
            sum += hits / (i + 1) as f64;
        }
    }
    sum / truth.len().max(1) as f64
}

#[test]
fn decisions_of_one_month_improve_the_ranking_of_the_next() {
    let config = Config::default();
    let first = world(71);
    let truth = violators(&first);
    // The investigators decide the 40 best-ranked findings of the first month.
    let decisions: Vec<Decision> = findings(&first, &config)
        .iter()
        .filter(|a| a.rank <= 40)
        .map(|a| Decision {
            signals: a
                .reasons
                .iter()
                .filter(|r| r.bits >= 1.0)
                .map(|r| r.code)
                .collect(),
            real: truth.contains(&a.actor),
        })
        .collect();
    assert!(decisions.iter().any(|d| d.real) && decisions.iter().any(|d| !d.real));
    let learned = learn(&decisions);
    let mut taught = config.clone();
    apply(&mut taught.alerts.signal_multipliers, &learned);

    let second = world(72);
    let truth = violators(&second);
    let before = average_precision(&findings(&second, &config), &truth);
    let after = average_precision(&findings(&second, &taught), &truth);
    assert!(
        after > before,
        "ranking of the next month: average precision {before:.3} without feedback, {after:.3} with"
    );
}
