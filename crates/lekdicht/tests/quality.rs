//! Detection quality floors on generated worlds: a month without violations says so through few,
//! low-scored alerts, and where violators are planted the queue is mostly right and its scores mean
//! what they say. The worlds use held-out seeds (1000 and up), never used to tune detection.

use lekdicht::detection::evaluate_world;
use lekdicht_demo::{DemoConfig, Profile, generate};
use lekdicht_detect::Config;
use lekdicht_detect::eval::QualityReport;

fn quality(profile: Profile, seed: u64, violators: f64) -> QualityReport {
    let world = generate(&DemoConfig {
        employees: 800,
        persons: 40_000,
        vehicles: 12_000,
        days: 28,
        seed,
        violator_share: violators,
        profile,
        ..DemoConfig::default()
    });
    evaluate_world(&world, &Config::default()).unwrap().1
}

#[test]
fn a_month_without_violations_gets_few_alerts_with_low_scores() {
    for (profile, seed) in [(Profile::Region, 1101), (Profile::Police, 1102)] {
        let q = quality(profile, seed, 0.0);
        assert_eq!(q.violators, 0);
        assert!(
            q.alerts_per_100_per_month <= 2.0,
            "{profile}: {:.2} alerts per 100 per month",
            q.alerts_per_100_per_month
        );
        assert!(
            q.score_sum_per_1000 <= 2.0,
            "{profile}: detection expects {:.2} real alerts per 1,000 employees in a world without any",
            q.score_sum_per_1000
        );
    }
}

#[test]
fn where_violators_are_planted_the_queue_is_mostly_right() {
    let q = quality(Profile::FrontOffice, 1103, 0.02);
    assert!(q.alerts > 0, "{q}");
    assert!(q.precision >= 0.6, "{q}");
    assert!(q.recall >= 0.2, "{q}");
    assert!(
        (q.mean_alert_score - q.precision).abs() <= 0.25,
        "scores mean what they say: {q}"
    );
    assert!(q.legit_explained_share >= 0.95, "{q}");
}
