//! Scores: bounds, batch versus chunks, traces; the configuration example; Sigma rules.

use lekdicht_detect::{Config, ConfigError, Engine, EventScore};
use lekdicht_model::AccessEvent;

use crate::support::{Expect, NONE, check, ev, events, score_all, world};

fn mixed_events() -> Vec<AccessEvent> {
    let mut evs = Vec::new();
    let actors = ["E1", "E2", "E3", "D1", "D2", "E5", "E6"];
    let subjects = [
        "P1", "P2", "P3", "P4", "PE1", "P9", "11-AAA-1", "PZ", "P13", "PF7", "UNKNOWN",
    ];
    let systems = ["BVH", "RDW", "Summ-IT", "BRP"];
    let actions = ["view", "view", "search", "export", "view"];
    for i in 0..400usize {
        let day = 10 + i / 100;
        let minute = i % 100;
        let time = format!("{day:02}T{:02}:{:02}:00", 6 + minute / 6, (minute % 6) * 10);
        evs.push(ev(
            &format!("m{i}"),
            &time,
            actors[i % actors.len()],
            systems[i % systems.len()],
            actions[i % actions.len()],
            subjects[(i * 7) % subjects.len()],
        ));
    }
    evs
}

#[test]
fn scores_are_within_bounds_and_serialise_as_the_contract_says() {
    let ctx = world("");
    let scores = score_all(&ctx, &Config::default(), &mixed_events());
    for s in &scores {
        assert!((0.0..=1.0).contains(&s.score), "{s:?}");
        let raw: f64 = s.reasons.iter().map(|r| r.weight).sum();
        assert!(
            (s.score - (1.0 - (-raw).exp())).abs() < 1e-9,
            "score is the squashed sum"
        );
        assert!(
            s.reasons
                .iter()
                .all(|r| r.weight > 0.0 && !r.detail.is_empty())
        );
    }
    let member = score_all(
        &ctx,
        &Config::default(),
        &[ev("m", "10T10:00:00", "D1", "Summ-IT", "view", "P2")],
    );
    let json = serde_json::to_value(&member[0]).unwrap();
    assert_eq!(json["event"], "m");
    assert_eq!(json["actor"], "D1");
    assert_eq!(json["explained_by"], serde_json::json!(["CASE_MEMBER"]));
    assert_eq!(json["reasons"], serde_json::json!([]));
    let leak = score_all(
        &ctx,
        &Config::default(),
        &[ev("l", "10T10:00:00", "E2", "BVH", "view", "P2")],
    );
    let json = serde_json::to_value(&leak[0]).unwrap();
    assert_eq!(json["reasons"][0]["code"], "RESTRICTED_CASE_NOT_MEMBER");
    assert_eq!(
        json["reasons"][0]["detail"],
        "subject is a suspect in restricted case C1 of unit R1"
    );
    assert!(json["reasons"][0]["weight"].as_f64().unwrap() > 0.0);
}

#[test]
fn contract_example_events_score_as_expected() {
    let ctx = world("");
    let evs = events(
        r#"
        {"id":"bvh-1","time":"2025-03-10T10:00:00+01:00","actor":"D1","system":"BVH","action":"view","subject":"P2","case":"C1","purpose":"rva:opsporing"}
        {"id":"bvh-2","time":"2025-03-10T10:05:00+01:00","actor":"D2","system":"BVH","action":"view","subject":"P2"}
        "#,
    );
    let scores = score_all(&ctx, &Config::default(), &evs);
    let line = serde_json::to_string(&scores[0]).unwrap();
    assert_eq!(
        line,
        r#"{"event":"bvh-1","actor":"D1","time":"2025-03-10T10:00:00+01:00","score":0.0,"explained_by":["CASE_MEMBER"],"reasons":[]}"#
    );
    assert_eq!(
        scores[1].reasons[0].code.as_str(),
        "RESTRICTED_CASE_NOT_MEMBER"
    );
    assert!(scores[1].score > 0.9);
}

#[test]
fn batch_and_chunks_give_identical_scores_and_alerts() {
    let ctx = world("");
    let config = Config::default();
    let evs = mixed_events();
    let mut whole = Engine::new(&ctx, &config).unwrap();
    let all: Vec<EventScore> = whole.process_batch(&evs);
    let alerts_all = whole.finish();
    for chunk in [1, 7, 64, 399] {
        let mut engine = Engine::new(&ctx, &config).unwrap();
        let mut parts = Vec::new();
        for c in evs.chunks(chunk) {
            parts.extend(engine.process_batch(c));
        }
        assert_eq!(parts, all, "chunk size {chunk}");
        assert_eq!(engine.finish(), alerts_all, "chunk size {chunk}");
    }
}

#[test]
fn an_explanation_lowers_the_score() {
    let ctx = world(
        r#"case {"id":"C8","kind":"investigation","opened":"2025-03-01T08:00:00+01:00","members":[{"employee":"D1"}],"subjects":[{"subject":"P9"}]}
"#,
    );
    let scores = score_all(
        &ctx,
        &Config::default(),
        &[
            ev("explained", "10T10:00:00", "D1", "Summ-IT", "view", "P9"),
            ev("unexplained", "10T10:00:00", "D2", "Summ-IT", "view", "P9"),
        ],
    );
    assert!(scores[0].score < scores[1].score, "{scores:?}");
}

#[test]
fn the_trace_lists_every_check() {
    let ctx = world("");
    let config = Config::default();
    let mut engine = Engine::new(&ctx, &config).unwrap();
    let (score, trace) = engine.process_traced(&ev("t", "10T10:00:00", "E2", "BVH", "view", "P2"));
    let n_codes =
        lekdicht_detect::SignalCode::ALL.len() + lekdicht_detect::ExplanationCode::ALL.len();
    assert!(trace.checks.len() >= n_codes, "{}", trace.checks.len());
    assert!(trace.checks.iter().all(|c| !c.detail.is_empty()));
    let restricted = trace
        .checks
        .iter()
        .find(|c| c.code == "RESTRICTED_CASE_NOT_MEMBER")
        .unwrap();
    assert!(restricted.fired);
    let member = trace
        .checks
        .iter()
        .find(|c| c.code == "CASE_MEMBER")
        .unwrap();
    assert!(!member.fired);
    assert!(score.score > 0.5);
}

#[test]
fn the_example_configuration_is_the_default() {
    let text = include_str!("../../detect.example.toml");
    let parsed = Config::from_toml_str(text).expect("example parses");
    assert_eq!(parsed, Config::default());
}

#[test]
fn configuration_is_validated() {
    let check_err = |text: &str, field: &str| match Config::from_toml_str(text) {
        Err(ConfigError::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("{text}: {other:?}"),
    };
    check_err("[windows]\ngrace_hours = -1.0\n", "windows.grace_hours");
    check_err(
        "[windows]\nincident_before_hours = 48.0\n",
        "windows.incident_before_hours",
    );
    check_err("[weights]\nSELF_LOOKUP = -2.0\n", "weights.SELF_LOOKUP");
    check_err(
        "[explanations.AREA_PATROL]\ncredit = 1.5\noffsets = []\n",
        "explanations.AREA_PATROL.credit",
    );
    assert!(matches!(
        Config::from_toml_str("[alerts]\nnonsense = 1\n"),
        Err(ConfigError::Parse(_))
    ));
    let partial = Config::from_toml_str("[weights]\nSELF_LOOKUP = 5.0\n").unwrap();
    assert_eq!(partial.weight(lekdicht_detect::SignalCode::SelfLookup), 5.0);
    assert_eq!(
        partial.weight(lekdicht_detect::SignalCode::SameAddress),
        Config::default().weight(lekdicht_detect::SignalCode::SameAddress)
    );
}

const SIGMA_RULES: &str = r#"
title: Export from the population register
id: 6f1c1f52-0000-4000-8000-000000000001
logsource:
    product: lekdicht
    category: access
detection:
    selection:
        system: BRP
        action: export
    condition: selection
level: high
---
title: Plate search
id: 6f1c1f52-0000-4000-8000-000000000002
name: plate_search
logsource:
    product: lekdicht
    category: access
detection:
    selection:
        system: RDW
        action: search
    condition: selection
level: informational
---
title: Many plate searches by one actor within an hour
correlation:
    type: event_count
    rules:
        - plate_search
    group-by:
        - actor
    timespan: 1h
    condition:
        gte: 3
level: medium
"#;

#[test]
fn sigma_detection_and_correlation_rules_fire() {
    let mut config = Config::default();
    config.sigma.rules = vec![SIGMA_RULES.to_owned()];
    let ctx = world("");
    let evs = [
        ev("brp-export", "10T10:00:00", "E2", "BRP", "export", "P6"),
        ev("brp-view", "10T10:01:00", "E2", "BRP", "view", "P6"),
        ev("plate-1", "10T10:02:00", "E2", "RDW", "search", ""),
        ev("plate-2", "10T10:03:00", "E2", "RDW", "search", ""),
        ev("other-actor", "10T10:03:30", "E3", "RDW", "search", ""),
        ev("plate-3", "10T10:04:00", "E2", "RDW", "search", ""),
    ];
    check(
        &ctx,
        &config,
        &evs,
        &[
            Expect {
                event: "brp-export",
                explained: NONE,
                not_explained: NONE,
                signals: &["SIGMA_RULE"],
                not_signals: NONE,
            },
            Expect {
                event: "brp-view",
                explained: NONE,
                not_explained: NONE,
                signals: NONE,
                not_signals: &["SIGMA_RULE"],
            },
            Expect {
                event: "plate-3",
                explained: NONE,
                not_explained: NONE,
                signals: &["SIGMA_RULE"],
                not_signals: NONE,
            },
        ],
    );
    let scores = score_all(&ctx, &config, &evs);
    let export = scores[0]
        .reasons
        .iter()
        .find(|r| r.code.as_str() == "SIGMA_RULE")
        .unwrap();
    assert_eq!(export.detail, "Export from the population register");
    assert_eq!(export.weight, config.sigma.level_weights.high);
    let titles = |i: usize| -> Vec<&str> {
        scores[i]
            .reasons
            .iter()
            .filter(|r| r.code.as_str() == "SIGMA_RULE")
            .map(|r| r.detail.as_str())
            .collect()
    };
    // The referenced detection rule reports each plate search at its own (informational) level;
    // the correlation fires on the third search by the same actor within the hour only.
    assert_eq!(titles(3), ["Plate search"]);
    assert_eq!(titles(4), ["Plate search"]);
    assert_eq!(
        titles(5),
        [
            "Many plate searches by one actor within an hour",
            "Plate search"
        ]
    );
    let burst = scores[5]
        .reasons
        .iter()
        .find(|r| r.detail.starts_with("Many"))
        .unwrap();
    assert_eq!(burst.weight, config.sigma.level_weights.medium);
}

#[test]
fn a_broken_sigma_rule_is_a_configuration_error() {
    let mut config = Config::default();
    config.sigma.rules =
        vec!["title: broken\ndetection:\n    condition: nothing_defined\n".to_owned()];
    let ctx = world("");
    assert!(matches!(
        Engine::new(&ctx, &config),
        Err(ConfigError::Sigma { index: 0, .. })
    ));
}
