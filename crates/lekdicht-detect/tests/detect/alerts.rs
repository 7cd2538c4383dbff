//! Alerts: weighed against chance for the actor's peers. In an organisation of patrol officers who
//! look up residents of their area (and now and then, by chance, a colleague), one officer who
//! keeps looking up their own relation off duty stands out with a high probability; chance
//! contact does not; an organisation without such an officer gets no queued alert; the budget
//! queues the best and keeps the rest with their rank.

use lekdicht_detect::{AccessPath, Alert, AlertStatus, Config, Context, Engine};
use lekdicht_model::AccessEvent;

use crate::support::{ev, records};

const OFFICERS: usize = 120;
const RESIDENTS: usize = 3000;

/// A neighbourhood team with an area, its officers (each with a home in the area and a day-shift
/// roster), the residents, and one declared relation of officer E0.
fn organisation() -> Context {
    let mut text = String::from(
        r#"unit {"id":"BT","area":["1011","1012","1013"]}
"#,
    );
    for i in 0..OFFICERS {
        text.push_str(&format!(
            r#"employee {{"id":"E{i}","unit":"BT","role":"agent","family_name":"Officer{i}","postcode":"1011AA","house_number":"{i}","subject":"PE{i}"}}
subject {{"id":"PE{i}","family_name":"Officer{i}","postcode":"1011AA","house_number":"{i}","flags":["employee"]}}
"#
        ));
        for d in 1..=28 {
            text.push_str(&format!(
                "shift {{\"employee\":\"E{i}\",\"start\":\"2025-03-{d:02}T07:00:00+01:00\",\"end\":\"2025-03-{d:02}T15:00:00+01:00\"}}\n"
            ));
        }
    }
    for r in 0..RESIDENTS {
        let pc = ["1011", "1012", "1013"][r % 3];
        text.push_str(&format!(
            r#"subject {{"id":"R{r}","family_name":"Resident{r}","postcode":"{pc}BB","house_number":"{r}"}}
"#
        ));
    }
    text.push_str(
        r#"subject {"id":"X1","family_name":"Relative","postcode":"5000XX","house_number":"1"}
relation {"employee":"E0","subject":"X1","kind":"ex-partner"}
"#,
    );
    Context::new(records(&text))
}

/// Ordinary patrol work: every officer looks up 60 residents of the area on duty, and one
/// officer in ten meets a colleague's own record by chance.
fn routine() -> Vec<AccessEvent> {
    let mut out = Vec::new();
    let mut n = 0;
    for i in 0..OFFICERS {
        for k in 0..60 {
            let day = 1 + (k % 28);
            let minute = (i * 7 + k * 13) % 60;
            let resident = (i * 131 + k * 17) % RESIDENTS;
            out.push(ev(
                &format!("r{n}"),
                &format!("{day:02}T{:02}:{minute:02}:00", 8 + k % 6),
                &format!("E{i}"),
                "BVH",
                "view",
                &format!("R{resident}"),
            ));
            n += 1;
        }
        if i % 10 == 3 {
            out.push(ev(
                &format!("c{i}"),
                "12T10:30:00",
                &format!("E{i}"),
                "BVH",
                "view",
                &format!("PE{}", (i + 1) % OFFICERS),
            ));
        }
    }
    out
}

/// Officer E0 looks up the declared ex-partner off duty on four evenings.
fn deviant() -> Vec<AccessEvent> {
    [3, 9, 16, 23]
        .iter()
        .map(|d| {
            ev(
                &format!("x{d}"),
                &format!("{d:02}T22:00:00"),
                "E0",
                "BVH",
                "view",
                "X1",
            )
        })
        .collect()
}

fn run(events: Vec<AccessEvent>, config: &Config) -> Vec<Alert> {
    let ctx = organisation();
    let mut events = events;
    events.sort_by_key(|e| e.time);
    let mut engine = Engine::new(&ctx, config).unwrap();
    for e in &events {
        engine.process(e);
    }
    engine.finish_all()
}

#[test]
fn repeated_off_duty_lookups_of_a_relation_stand_out_against_chance() {
    let mut events = routine();
    events.extend(deviant());
    let all = run(events, &Config::default());
    let queued: Vec<&Alert> = all.iter().filter(|a| a.queued).collect();
    assert_eq!(queued.len(), 1, "{:#?}", &all[..all.len().min(3)]);
    let a = queued[0];
    assert_eq!(a.actor.as_str(), "E0");
    assert_eq!(a.rank, 1);
    assert_eq!(a.status, AlertStatus::Open);
    assert_eq!(
        a.id, "E0/x3",
        "the id is the actor and the first telling event"
    );
    assert!(a.score >= 0.8, "{a:#?}");
    assert!(a.chance < 1e-4, "{a:#?}");
    let relation = a
        .reasons
        .iter()
        .find(|r| r.code.as_str() == "DECLARED_RELATION")
        .expect("the relation is a reason");
    assert_eq!(relation.count, 4, "four days, one record");
    assert_eq!(relation.path, AccessPath::Person);
    assert!(relation.expected < 0.05, "{relation:?}");
    assert!(
        relation.detail.contains("would be expected"),
        "{relation:?}"
    );
    assert!(
        !relation.detail.contains("X1") && !relation.detail.contains("Relative"),
        "reasons never name the person: {relation:?}"
    );
    assert!(a.reasons.iter().any(|r| r.code.as_str() == "OFF_DUTY"));
    assert_eq!(a.events.len(), 4);
}

#[test]
fn chance_contact_with_colleagues_raises_no_alert() {
    let all = run(routine(), &Config::default());
    assert!(all.iter().all(|a| !a.queued), "{all:#?}");
    let expected: f64 = all.iter().map(|a| a.score).sum();
    assert!(
        expected < 0.5,
        "without a violation the scores say so: they sum to {expected}"
    );
}

#[test]
fn the_budget_queues_the_best_and_keeps_the_rest_ranked() {
    let mut config = Config::default();
    config.alerts.budget_per_100_per_month = 0.0;
    let mut events = routine();
    events.extend(deviant());
    let all = run(events, &config);
    assert!(all.iter().all(|a| !a.queued));
    let e0 = all.iter().find(|a| a.actor.as_str() == "E0").expect("kept");
    assert_eq!(e0.rank, 1);
    let mut ranks: Vec<u32> = all.iter().map(|a| a.rank).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=all.len() as u32).collect::<Vec<_>>());
}

#[test]
fn reviewers_can_switch_a_signal_off_as_evidence() {
    let mut config = Config::default();
    for code in ["DECLARED_RELATION", "OFF_DUTY"] {
        config
            .alerts
            .signal_multipliers
            .insert(lekdicht_detect::SignalCode::parse(code).unwrap(), 0.0);
    }
    let mut events = routine();
    events.extend(deviant());
    let all = run(events, &config);
    assert!(all.iter().all(|a| !a.queued), "{all:#?}");
}
