//! Alerts: mild repeated behaviour accumulates, single mild events do not alert, the budget keeps
//! the highest-scoring alerts, and ids are stable.

use lekdicht_detect::{AlertStatus, Config, Engine};
use lekdicht_model::AccessEvent;

use crate::support::{ev, world};

fn alerts_for(evs: &[AccessEvent], config: &Config, extra: &str) -> Vec<lekdicht_detect::Alert> {
    let ctx = world(extra);
    let mut engine = Engine::new(&ctx, config).unwrap();
    let scores = engine.process_batch(evs);
    assert_eq!(scores.len(), evs.len());
    engine.finish()
}

/// A roster for E1 of day shifts through March, so that evening lookups are off duty.
fn roster() -> String {
    (1..=31)
        .map(|d| {
            format!(
                "shift {{\"employee\":\"E1\",\"start\":\"2025-03-{d:02}T07:00:00+01:00\",\"end\":\"2025-03-{d:02}T15:00:00+01:00\"}}\n"
            )
        })
        .collect()
}

#[test]
fn repeated_mild_behaviour_over_weeks_raises_one_alert() {
    let config = Config::default();
    // An off-duty, unexplained lookup of a record outside the area: mild on its own.
    let single = [ev("once", "03T22:00:00", "E1", "Summ-IT", "view", "PF9")];
    let ctx = world(&roster());
    let mut engine = Engine::new(&ctx, &config).unwrap();
    let s = engine.process(&single[0]);
    assert!(s.score >= config.alerts.reason_threshold, "{s:?}");
    assert!(s.score < config.alerts.alert_threshold, "{s:?}");
    assert!(
        engine.finish().is_empty(),
        "one mild event alone raises no alert"
    );

    // The same record, off duty, again and again over two weeks.
    let repeated: Vec<AccessEvent> = [3, 6, 9, 14]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            ev(
                &format!("r{i}"),
                &format!("{d:02}T22:00:00"),
                "E1",
                "Summ-IT",
                "view",
                "PF9",
            )
        })
        .collect();
    let alerts = alerts_for(&repeated, &config, &roster());
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.actor.as_str(), "E1");
    assert_eq!(a.events.len(), 4);
    assert_eq!(a.id, "E1/r0");
    assert_eq!(a.status, AlertStatus::Open);
    assert!(
        a.reasons
            .iter()
            .any(|r| r.code.as_str() == "OFF_DUTY" && r.count == 4),
        "{a:?}"
    );
    assert!(a.score >= config.alerts.alert_threshold);
}

#[test]
fn mild_reasons_spread_over_unrelated_subjects_add_up_slowly() {
    let config = Config::default();
    let spread: Vec<AccessEvent> = [3, 6, 9, 14]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            ev(
                &format!("s{i}"),
                &format!("{d:02}T22:00:00"),
                "E1",
                "Summ-IT",
                "view",
                &format!("PF{i}"),
            )
        })
        .collect();
    assert!(alerts_for(&spread, &config, &roster()).is_empty());
}

#[test]
fn events_beyond_the_window_form_separate_groups() {
    let mut config = Config::default();
    config.alerts.window_days = 5.0;
    config.alerts.budget_per_100_per_month = 100.0;
    let evs = [
        ev("a", "03T10:00:00", "E2", "BVH", "view", "P2"),
        ev("b", "20T10:00:00", "E2", "BVH", "view", "P2"),
    ];
    let alerts = alerts_for(&evs, &config, "");
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[0].id, "E2/a");
    assert_eq!(alerts[1].id, "E2/b");
}

#[test]
fn the_budget_keeps_the_highest_scoring_alerts() {
    let mut config = Config::default();
    // 9 employees in the base world over 20 days: 2 per 100 per month gives one alert.
    config.alerts.budget_per_100_per_month = 2.0;
    let evs = [
        ev("leak", "10T10:00:00", "E2", "BVH", "view", "P2"),
        ev("self", "10T10:01:00", "E1", "BVH", "view", "PE1"),
        ev("self-again", "10T10:02:00", "E1", "BVH", "view", "PE1"),
        ev("vip", "10T10:03:00", "D2", "BVH", "view", "P9"),
        ev("later", "30T10:03:00", "D2", "BVH", "view", "P6"),
    ];
    let alerts = alerts_for(&evs, &config, "");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].actor.as_str(), "E1");
    config.alerts.budget_per_100_per_month = 100.0;
    let alerts = alerts_for(&evs, &config, "");
    assert_eq!(alerts.len(), 2, "{alerts:?}");
}
