//! Each suspicion signal fires in its world and stays silent on the near miss.

use lekdicht_detect::Config;
use lekdicht_model::AccessEvent;

use crate::support::{Expect, NONE, check, ev, world};

fn fires<'a>(event: &'a str, codes: &'a [&'a str]) -> Expect<'a> {
    Expect {
        event,
        explained: NONE,
        not_explained: NONE,
        signals: codes,
        not_signals: NONE,
    }
}

fn silent<'a>(event: &'a str, codes: &'a [&'a str]) -> Expect<'a> {
    Expect {
        event,
        explained: NONE,
        not_explained: NONE,
        signals: NONE,
        not_signals: codes,
    }
}

fn run(evs: &[AccessEvent], expect: &[Expect]) {
    check(&world(""), &Config::default(), evs, expect);
}

#[test]
fn who_the_subject_is_to_the_actor() {
    run(
        &[
            ev("self", "10T10:00:00", "E1", "BVH", "view", "PE1"),
            ev("self-miss", "10T10:01:00", "E1", "BVH", "view", "P1"),
            ev("relation", "10T10:02:00", "E1", "BVH", "view", "P3"),
            ev("relation-miss", "10T10:03:00", "E2", "BVH", "view", "P3"),
            ev("housemate", "10T10:04:00", "E2", "BVH", "view", "P7"),
            ev("neighbour", "10T10:05:00", "E2", "BVH", "view", "P8"),
            ev("neighbour-miss", "10T10:06:00", "E2", "BVH", "view", "P6"),
            ev("rare-name", "10T10:07:00", "E3", "BVH", "view", "PZ"),
            ev("common-name", "10T10:08:00", "E4", "BVH", "view", "PJ"),
            ev("colleague", "10T10:09:00", "E1", "BVH", "view", "PE2"),
            ev("vip", "10T10:10:00", "E2", "BVH", "view", "P9"),
            ev("vip-miss", "10T10:11:00", "E2", "BVH", "view", "P10"),
            ev(
                "own-vehicle-miss",
                "10T10:12:00",
                "E2",
                "RDW",
                "view",
                "11-AAA-1",
            ),
        ],
        &[
            fires("self", &["SELF_LOOKUP"]),
            silent("self", &["COLLEAGUE_RECORD", "SAME_ADDRESS"]),
            silent("self-miss", &["SELF_LOOKUP", "COLLEAGUE_RECORD"]),
            fires("relation", &["DECLARED_RELATION"]),
            silent("relation-miss", &["DECLARED_RELATION"]),
            fires("housemate", &["SAME_ADDRESS"]),
            silent("housemate", &["SAME_POSTCODE"]),
            fires("neighbour", &["SAME_POSTCODE"]),
            silent("neighbour", &["SAME_ADDRESS"]),
            silent("neighbour-miss", &["SAME_POSTCODE", "SAME_ADDRESS"]),
            fires("rare-name", &["SAME_FAMILY_NAME"]),
            silent("common-name", &["SAME_FAMILY_NAME"]),
            fires("colleague", &["COLLEAGUE_RECORD"]),
            fires("vip", &["FLAGGED_SUBJECT"]),
            silent("vip-miss", &["FLAGGED_SUBJECT"]),
            silent("own-vehicle-miss", &["SELF_LOOKUP"]),
        ],
    );
}

#[test]
fn restricted_case_directly_via_vehicle_and_via_holder() {
    run(
        &[
            ev("direct", "10T10:00:00", "E2", "BVH", "view", "P2"),
            ev("plate", "10T10:01:00", "E2", "RDW", "view", "11-AAA-1"),
            ev(
                "holder-of-named-vehicle",
                "10T10:02:00",
                "E2",
                "BVH",
                "view",
                "P10",
            ),
            ev("member", "10T10:03:00", "D1", "Summ-IT", "view", "P2"),
        ],
        &[
            fires("direct", &["RESTRICTED_CASE_NOT_MEMBER"]),
            fires("plate", &["RESTRICTED_CASE_NOT_MEMBER"]),
            fires("holder-of-named-vehicle", &["RESTRICTED_CASE_NOT_MEMBER"]),
            silent("member", &["RESTRICTED_CASE_NOT_MEMBER"]),
        ],
    );
}

#[test]
fn restricted_case_is_not_silenced_by_an_area_explanation() {
    let ctx = world("");
    let config = Config::default();
    // E1 is on duty and P2 lives in E1's area: patrol work explains where, not who.
    let evs = [ev("patrol-leak", "10T10:00:00", "E1", "BVH", "view", "P2")];
    check(
        &ctx,
        &config,
        &evs,
        &[Expect {
            event: "patrol-leak",
            explained: &["AREA_PATROL"],
            not_explained: NONE,
            signals: &["RESTRICTED_CASE_NOT_MEMBER"],
            not_signals: NONE,
        }],
    );
    let scores = crate::support::score_all(&ctx, &config, &evs);
    let reason = scores[0]
        .reasons
        .iter()
        .find(|r| r.code.as_str() == "RESTRICTED_CASE_NOT_MEMBER")
        .expect("restricted reason kept");
    assert_eq!(
        reason.weight,
        config.weight(lekdicht_detect::SignalCode::RestrictedCaseNotMember)
    );
    assert!(scores[0].score > 0.9, "{}", scores[0].score);
}

fn with_case(mut e: AccessEvent, case: &str) -> AccessEvent {
    e.case = Some(case.parse().unwrap());
    e
}

#[test]
fn the_case_given_as_reason() {
    run(
        &[
            with_case(
                ev("not-naming", "10T10:00:00", "D1", "Summ-IT", "view", "P1"),
                "C1",
            ),
            with_case(
                ev("naming", "10T10:01:00", "D1", "Summ-IT", "view", "P2"),
                "C1",
            ),
            with_case(
                ev("not-member", "10T10:02:00", "E2", "BVH", "view", "P5"),
                "C2",
            ),
            with_case(
                ev("member", "12T10:03:00", "D1", "Summ-IT", "view", "P5"),
                "C2",
            ),
            with_case(
                ev("unknown", "12T10:04:00", "D1", "Summ-IT", "view", "P5"),
                "X-999",
            ),
            // C5 opens on the 13th: three days after this lookup it is not yet known.
            with_case(
                ev(
                    "not-yet-open",
                    "10T10:05:00",
                    "D1",
                    "Summ-IT",
                    "view",
                    "P12",
                ),
                "C5",
            ),
        ],
        &[
            fires("not-naming", &["CASE_NOT_NAMING_SUBJECT"]),
            silent("not-naming", &["CASE_NOT_MEMBER"]),
            silent(
                "naming",
                &["CASE_NOT_NAMING_SUBJECT", "CASE_NOT_MEMBER", "CASE_UNKNOWN"],
            ),
            fires("not-member", &["CASE_NOT_MEMBER"]),
            silent("not-member", &["CASE_NOT_NAMING_SUBJECT"]),
            silent("member", &["CASE_NOT_MEMBER", "CASE_NOT_NAMING_SUBJECT"]),
            fires("unknown", &["CASE_UNKNOWN"]),
            fires("not-yet-open", &["CASE_UNKNOWN"]),
        ],
    );
}

#[test]
fn duty_leave_and_sickness_only_with_roster_data() {
    run(
        &[
            ev("on-duty", "10T10:00:00", "E1", "Summ-IT", "view", "P6"),
            ev("margin", "10T15:30:00", "E1", "Summ-IT", "view", "P6"),
            ev("off-duty", "10T22:00:00", "E1", "Summ-IT", "view", "P6"),
            ev("no-roster", "10T22:00:00", "E2", "Summ-IT", "view", "P6"),
            ev("leave", "12T10:00:00", "E1", "Summ-IT", "view", "P6"),
            ev("sick", "13T10:00:00", "E1", "Summ-IT", "view", "P6"),
        ],
        &[
            silent("on-duty", &["OFF_DUTY", "ON_LEAVE", "SICK"]),
            silent("margin", &["OFF_DUTY"]),
            fires("off-duty", &["OFF_DUTY"]),
            silent("no-roster", &["OFF_DUTY", "ON_LEAVE", "SICK"]),
            fires("leave", &["ON_LEAVE"]),
            silent("leave", &["OFF_DUTY", "SICK"]),
            fires("sick", &["SICK"]),
            silent("sick", &["ON_LEAVE"]),
        ],
    );
}

#[test]
fn leaving_and_left() {
    run(
        &[
            ev("left", "10T10:00:00", "E5", "BVH", "view", "P6"),
            ev("leaving", "10T10:00:00", "E6", "BVH", "export", "P6"),
            ev("leaving-view", "10T10:01:00", "E6", "BVH", "view", "P6"),
            ev("staying", "10T10:00:00", "E2", "BVH", "view", "P6"),
        ],
        &[
            fires("left", &["AFTER_LAST_DAY"]),
            fires("leaving", &["LEAVING_SOON"]),
            silent("leaving", &["AFTER_LAST_DAY"]),
            silent("leaving-view", &["LEAVING_SOON"]),
            silent("staying", &["LEAVING_SOON", "AFTER_LAST_DAY"]),
        ],
    );
}

#[test]
fn name_search_without_case() {
    let mut name = ev("name", "10T10:00:00", "E2", "BlueView", "search", "");
    name.query = Some("de vries".to_owned());
    let mut plate = ev("plate", "10T10:01:00", "E2", "BlueView", "search", "");
    plate.query = Some("12-ABC-3".to_owned());
    let mut with_case = ev("with-case", "10T10:02:00", "D1", "BlueView", "search", "");
    with_case.query = Some("de vries".to_owned());
    with_case.case = Some("C2".parse().unwrap());
    run(
        &[name, plate, with_case],
        &[
            fires("name", &["NAME_SEARCH_NO_CASE"]),
            silent("plate", &["NAME_SEARCH_NO_CASE"]),
            silent("with-case", &["NAME_SEARCH_NO_CASE"]),
        ],
    );
}

fn filler_views(actor: &str, n: usize, day: u32, system: &str) -> Vec<AccessEvent> {
    (0..n)
        .map(|i| {
            let time = format!("{day:02}T10:{:02}:{:02}", i / 60, i % 60);
            ev(
                &format!("{actor}-{day}-{i}"),
                &time,
                actor,
                system,
                "view",
                &format!("PF{}", i % 200),
            )
        })
        .collect()
}

#[test]
fn browsing_many_unexplained_subjects_in_a_short_time() {
    // D2 has no roster and no area: every filler view is unexplained.
    let evs = filler_views("D2", 12, 10, "Summ-IT");
    run(
        &evs,
        &[
            silent("D2-10-10", &["BROWSING"]),
            fires("D2-10-11", &["BROWSING"]),
        ],
    );
}

#[test]
fn browsing_persons_bearing_a_searched_name() {
    let mut search = ev("search", "10T10:00:00", "D2", "BlueView", "search", "");
    search.query = Some("jansen*".to_owned());
    let mut other = ev(
        "other-search",
        "10T12:00:00",
        "D2",
        "BlueView",
        "search",
        "",
    );
    other.query = Some("Jansen".to_owned());
    run(
        &[
            search,
            ev("first", "10T10:01:00", "D2", "BVH", "view", "PJ1"),
            ev("unrelated", "10T10:02:00", "D2", "BVH", "view", "PF7"),
            ev("second", "10T10:03:00", "D2", "BVH", "view", "PJ13"),
            other,
            ev("one-only", "10T12:01:00", "D2", "BVH", "view", "PJ2"),
            ev("too-late", "10T12:30:00", "D2", "BVH", "view", "PJ20"),
        ],
        &[
            silent("first", &["BROWSING"]),
            silent("unrelated", &["BROWSING"]),
            fires("second", &["BROWSING"]),
            silent("one-only", &["BROWSING"]),
            silent("too-late", &["BROWSING"]),
        ],
    );
}

#[test]
fn exports_unexplained_and_in_bulk() {
    let mut evs = Vec::new();
    for i in 0..15 {
        evs.push(ev(
            &format!("x{i}"),
            &format!("10T11:{i:02}:00"),
            "D1",
            "Summ-IT",
            "export",
            "P2",
        ));
    }
    evs.push(ev("stray", "10T12:00:00", "E2", "BVH", "export", "P6"));
    run(
        &evs,
        &[
            silent("x0", &["EXPORT_UNEXPLAINED", "BULK_EXPORT"]),
            silent("x13", &["BULK_EXPORT"]),
            fires("x14", &["BULK_EXPORT"]),
            fires("stray", &["EXPORT_UNEXPLAINED"]),
        ],
    );
}

#[test]
fn volume_against_own_history_and_peers() {
    let mut config = Config::default();
    config.thresholds.peer_min_days = 3;
    let mut evs = Vec::new();
    for day in 3..8 {
        evs.extend(filler_views("E3", 3, day, "Summ-IT"));
        evs.extend(filler_views("E4", 3, day, "Summ-IT"));
    }
    evs.extend(filler_views("E3", 70, 8, "Summ-IT"));
    let heavy: Vec<AccessEvent> = filler_views("D2", 70, 8, "Summ-IT");
    evs.extend(heavy);
    evs.sort_by_key(|e| e.time);
    check(
        &world(""),
        &config,
        &evs,
        &[
            fires("E3-8-69", &["VOLUME_UNUSUAL", "VOLUME_UNUSUAL_PEERS"]),
            silent("E3-8-10", &["VOLUME_UNUSUAL", "VOLUME_UNUSUAL_PEERS"]),
            // D2 has no history and no peers with history: no volume signal.
            silent("D2-8-69", &["VOLUME_UNUSUAL", "VOLUME_UNUSUAL_PEERS"]),
        ],
    );
}

#[test]
fn unexplained_share_against_the_role() {
    let mut config = Config::default();
    config.thresholds.share_min_events = 10;
    let mut evs = Vec::new();
    // E1 works in the area on duty (explained); E3, same role, looks up people outside it.
    for i in 0..30 {
        evs.push(ev(
            &format!("e1-{i}"),
            &format!("10T09:{i:02}:00"),
            "E1",
            "BVH",
            "view",
            "P1",
        ));
    }
    for i in 0..12 {
        evs.push(ev(
            &format!("e3-{i}"),
            &format!("10T10:{i:02}:00"),
            "E3",
            "Summ-IT",
            "view",
            &format!("PF{i}"),
        ));
    }
    check(
        &world(""),
        &config,
        &evs,
        &[
            silent("e3-9", &["UNEXPLAINED_SHARE_UNUSUAL"]),
            fires("e3-11", &["UNEXPLAINED_SHARE_UNUSUAL"]),
        ],
    );
}

#[test]
fn unusual_system_for_the_role() {
    let mut config = Config::default();
    config.thresholds.unusual_system_min_role_events = 20;
    let mut evs = Vec::new();
    for i in 0..30 {
        evs.push(ev(
            &format!("e1-{i}"),
            &format!("10T09:{i:02}:00"),
            "E1",
            "BVH",
            "view",
            "P1",
        ));
    }
    evs.push(ev(
        "first-summ",
        "10T10:00:00",
        "E2",
        "Summ-IT",
        "view",
        "P1",
    ));
    evs.push(ev("first-bvh", "10T10:01:00", "E3", "BVH", "view", "P1"));
    check(
        &world(""),
        &config,
        &evs,
        &[
            fires("first-summ", &["UNUSUAL_SYSTEM"]),
            silent("first-bvh", &["UNUSUAL_SYSTEM"]),
        ],
    );
}

/// Employees `{prefix}0..{prefix}{n-1}`, each in a unit of their own (`X{prefix}{i}`), or all in
/// `unit` when given.
fn staff(prefix: &str, n: usize, unit: Option<&str>) -> String {
    let mut text = String::new();
    for i in 0..n {
        let u = match unit {
            Some(u) => u.to_owned(),
            None => {
                let u = format!("X{prefix}{i}");
                text.push_str(&format!("unit {{\"id\":\"{u}\",\"name\":\"{u}\"}}\n"));
                u
            }
        };
        text.push_str(&format!(
            "employee {{\"id\":\"{prefix}{i}\",\"unit\":\"{u}\",\"role\":\"analist\"}}\n"
        ));
    }
    text
}

/// One view of `subject` by each of `{prefix}0..{prefix}{n-1}`, a minute apart from `hour`.
fn views_by(prefix: &str, n: usize, hour: u32, subject: &str) -> Vec<AccessEvent> {
    (0..n)
        .map(|i| {
            ev(
                &format!("{}{i}", prefix.to_lowercase()),
                &format!("10T{hour}:{i:02}:00"),
                &format!("{prefix}{i}"),
                "BVH",
                "view",
                subject,
            )
        })
        .collect()
}

#[test]
fn in_the_news_flags_curiosity_across_units_not_the_assigned() {
    let mut extra = staff("N", 10, None);
    extra.push_str(r#"case {"id":"C9","kind":"investigation","opened":"2025-03-01T08:00:00+01:00","members":[{"employee":"N9"}],"subjects":[{"subject":"P14"}]}"#);
    extra.push('\n');
    check(
        &world(&extra),
        &Config::default(),
        &views_by("N", 10, 10, "P14"),
        &[
            silent("n3", &["IN_THE_NEWS"]),
            fires("n4", &["IN_THE_NEWS"]),
            fires("n8", &["IN_THE_NEWS"]),
            // N9 is assigned to the case: linked, not flagged.
            silent("n9", &["IN_THE_NEWS"]),
        ],
    );
}

#[test]
fn in_the_news_is_not_one_teams_busy_record() {
    // Ten colleagues of one unit on the same record: ordinary teamwork, not news.
    let extra = staff("M", 10, Some("U2"));
    check(
        &world(&extra),
        &Config::default(),
        &views_by("M", 10, 10, "P10"),
        &[
            silent("m5", &["IN_THE_NEWS"]),
            silent("m9", &["IN_THE_NEWS"]),
        ],
    );
}

#[test]
fn in_the_news_is_not_an_operation_with_a_few_helpers() {
    // Ten employees on the case of a big incident and three helpers without it: the attention
    // has a case behind most of it.
    let mut extra = staff("K", 10, None);
    extra.push_str(&staff("L", 3, None));
    let members: Vec<String> = (0..10)
        .map(|i| format!(r#"{{"employee":"K{i}"}}"#))
        .collect();
    extra.push_str(&format!(
        r#"case {{"id":"B1","kind":"incident","opened":"2025-03-10T09:00:00+01:00","members":[{}],"subjects":[{{"subject":"P11"}}]}}"#,
        members.join(",")
    ));
    extra.push('\n');
    let mut evs = views_by("K", 10, 10, "P11");
    evs.extend(views_by("L", 3, 11, "P11"));
    check(
        &world(&extra),
        &Config::default(),
        &evs,
        &[silent("l2", &["IN_THE_NEWS"])],
    );
}

#[test]
fn in_the_news_is_not_hidden_by_an_area() {
    // E1 is on duty and P1 lives in E1's area; four employees of other units looked first.
    let extra = staff("N", 4, None);
    let mut evs = views_by("N", 4, 10, "P1");
    evs.push(ev("patrol", "10T11:00:00", "E1", "BVH", "view", "P1"));
    check(
        &world(&extra),
        &Config::default(),
        &evs,
        &[Expect {
            event: "patrol",
            explained: &["AREA_PATROL"],
            not_explained: NONE,
            signals: &["IN_THE_NEWS"],
            not_signals: NONE,
        }],
    );
}

#[test]
fn a_neighbour_in_the_own_patrol_area_stays_visible() {
    // E2 lives at 1011AB, in the area of unit U1; P8 lives in the same postcode, P1 elsewhere in
    // the area.
    let ctx = world("");
    let config = Config::default();
    let evs = [
        ev("neighbour", "10T10:00:00", "E2", "BVH", "view", "P8"),
        ev("stranger", "10T10:05:00", "E2", "BVH", "view", "P1"),
    ];
    check(
        &ctx,
        &config,
        &evs,
        &[
            Expect {
                event: "neighbour",
                explained: &["AREA_PATROL"],
                not_explained: NONE,
                signals: &["SAME_POSTCODE"],
                not_signals: NONE,
            },
            silent("stranger", &["SAME_POSTCODE"]),
        ],
    );
    let scores = crate::support::score_all(&ctx, &config, &evs);
    let weight = scores[0]
        .reasons
        .iter()
        .find(|r| r.code.as_str() == "SAME_POSTCODE")
        .map_or(0.0, |r| r.weight);
    assert_eq!(
        weight,
        config.weight(lekdicht_detect::SignalCode::SamePostcode),
        "not offset by the area"
    );
}

#[test]
fn another_units_case_given_is_not_damped_by_peers() {
    let mut config = Config::default();
    config.peer_damping.baseline_rate = 0.0001;
    // Analysts of R1 routinely give their unit's case C2 without being on it.
    let extra = staff("A", 5, Some("R1"));
    let mut evs = Vec::new();
    for i in 0..5 {
        for k in 0..20 {
            evs.push(with_case(
                ev(
                    &format!("a{i}-{k}"),
                    &format!("10T1{i}:{k:02}:00"),
                    &format!("A{i}"),
                    "BVH",
                    "view",
                    "P5",
                ),
                "C2",
            ));
        }
    }
    evs.push(with_case(
        ev("own-unit", "10T16:00:00", "A0", "BVH", "view", "P5"),
        "C2",
    ));
    evs.push(with_case(
        ev("other-unit", "10T16:05:00", "A0", "BVH", "view", "P13"),
        "I2",
    ));
    let ctx = world(&extra);
    let mut engine = lekdicht_detect::Engine::new(&ctx, &config).unwrap();
    let mut base = std::collections::HashMap::new();
    for e in &evs {
        let (_, trace) = engine.process_traced(e);
        if let Some(c) = trace
            .checks
            .iter()
            .find(|c| c.fired && c.code == "CASE_NOT_MEMBER")
        {
            base.insert(e.id.to_string(), c.base_weight);
        }
    }
    let full = config.weight(lekdicht_detect::SignalCode::CaseNotMember);
    assert!(base["own-unit"] < full * 0.6, "{}", base["own-unit"]);
    assert_eq!(base["other-unit"], full);
}

#[test]
fn unexplained_only_without_explanation() {
    run(
        &[
            ev("lost", "10T10:00:00", "D2", "Summ-IT", "view", "PF1"),
            ev("member", "10T10:00:00", "D1", "Summ-IT", "view", "P2"),
        ],
        &[
            fires("lost", &["UNEXPLAINED"]),
            silent("member", &["UNEXPLAINED"]),
        ],
    );
}

#[test]
fn signals_common_among_peers_weigh_less() {
    let mut config = Config::default();
    config.peer_damping.baseline_rate = 0.0001;
    let mut extra = String::new();
    let mut evs = Vec::new();
    // Five analysts whose every lookup of a flagged record is routine for the role.
    for i in 0..5 {
        extra.push_str(&format!(
            "employee {{\"id\":\"A{i}\",\"unit\":\"R1\",\"role\":\"analist\"}}\n"
        ));
        for k in 0..20 {
            evs.push(ev(
                &format!("a{i}-{k}"),
                &format!("10T1{i}:{k:02}:00"),
                &format!("A{i}"),
                "Summ-IT",
                "view",
                "P9",
            ));
        }
    }
    let ctx = world(&extra);
    let scores = crate::support::score_all(&ctx, &config, &evs);
    let weight = |id: &str| {
        let s = scores.iter().find(|s| s.event.as_str() == id).unwrap();
        s.reasons
            .iter()
            .find(|r| r.code.as_str() == "FLAGGED_SUBJECT")
            .map_or(0.0, |r| r.weight)
    };
    let full = config.weight(lekdicht_detect::SignalCode::FlaggedSubject);
    assert_eq!(weight("a0-0"), full, "no peers yet: full weight");
    assert!(
        weight("a4-0") < full * 0.6,
        "common among peers: {}",
        weight("a4-0")
    );
    assert!(weight("a4-0") >= full * config.peer_damping.floor);
}
