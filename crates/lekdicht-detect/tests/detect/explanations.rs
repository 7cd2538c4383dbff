//! Each explanation fires in its world and stays silent on the near miss.

use lekdicht_detect::Config;

use crate::support::{Expect, NONE, check, ev, world};

fn explained<'a>(event: &'a str, codes: &'a [&'a str]) -> Expect<'a> {
    Expect {
        event,
        explained: codes,
        not_explained: NONE,
        signals: NONE,
        not_signals: NONE,
    }
}

fn not_explained<'a>(event: &'a str, codes: &'a [&'a str]) -> Expect<'a> {
    Expect {
        event,
        explained: NONE,
        not_explained: codes,
        signals: NONE,
        not_signals: NONE,
    }
}

#[test]
fn case_member_honours_member_from_with_grace() {
    let ctx = world("");
    let evs = [
        ev("member", "10T10:00:00", "D1", "Summ-IT", "view", "P2"),
        // D1 joins C2 on the 11th at 12:00: 26 hours after this lookup, beyond the grace period.
        ev("too-early", "10T10:00:00", "D1", "Summ-IT", "view", "P5"),
        // 23 hours before joining: within the grace period.
        ev("joining", "10T13:00:00", "D1", "Summ-IT", "view", "P5"),
    ];
    check(
        &ctx,
        &Config::default(),
        &evs,
        &[
            explained("member", &["CASE_MEMBER"]),
            not_explained("too-early", &["CASE_MEMBER"]),
            explained("joining", &["CASE_MEMBER"]),
        ],
    );
}

#[test]
fn grace_period_case_opened_two_hours_later_explains_three_days_later_does_not() {
    let ctx = world("");
    let evs = [
        ev(
            "opened-2h-later",
            "10T10:00:00",
            "D1",
            "Summ-IT",
            "view",
            "P11",
        ),
        ev(
            "opened-3d-later",
            "10T10:00:00",
            "D1",
            "Summ-IT",
            "view",
            "P12",
        ),
    ];
    check(
        &ctx,
        &Config::default(),
        &evs,
        &[
            explained("opened-2h-later", &["CASE_MEMBER"]),
            not_explained("opened-3d-later", &["CASE_MEMBER"]),
        ],
    );
}

#[test]
fn incident_handler_before_registration_but_not_days_after_closing() {
    let ctx = world("");
    let evs = [
        ev(
            "before-registration",
            "10T08:30:00",
            "E1",
            "BVH",
            "view",
            "P4",
        ),
        ev("days-after", "14T10:00:00", "E1", "BVH", "view", "P4"),
    ];
    check(
        &ctx,
        &Config::default(),
        &evs,
        &[
            explained("before-registration", &["INCIDENT_HANDLER"]),
            not_explained("days-after", &["INCIDENT_HANDLER", "CASE_MEMBER"]),
        ],
    );
}

#[test]
fn unit_case_for_the_owning_unit_only() {
    let ctx = world("");
    let evs = [
        ev("own-unit", "10T10:00:00", "E2", "BVH", "view", "P13"),
        ev("other-unit", "10T10:00:00", "D1", "BVH", "view", "P13"),
    ];
    check(
        &ctx,
        &Config::default(),
        &evs,
        &[
            explained("own-unit", &["UNIT_CASE"]),
            not_explained("other-unit", &["UNIT_CASE"]),
        ],
    );
}

#[test]
fn follow_up_after_an_explained_access_by_the_same_actor() {
    let ctx = world("");
    let evs = [
        ev("first", "11T10:00:00", "D1", "Summ-IT", "view", "P6"),
        ev("later", "15T10:00:00", "D1", "Summ-IT", "view", "P6"),
        ev("other-actor", "15T10:05:00", "D2", "Summ-IT", "view", "P6"),
    ];
    check(
        &ctx,
        &Config::default(),
        &evs,
        &[
            explained("first", &["CASE_MEMBER"]),
            Expect {
                event: "later",
                explained: &["FOLLOW_UP"],
                not_explained: &["CASE_MEMBER"],
                signals: NONE,
                not_signals: NONE,
            },
            not_explained("other-actor", &["FOLLOW_UP", "TEAM_COLLABORATION"]),
        ],
    );
}

#[test]
fn area_patrol_on_duty_in_an_operational_system_in_the_area() {
    let ctx = world("");
    let evs = [
        ev("patrol", "10T10:00:00", "E1", "BVH", "view", "P1"),
        ev(
            "not-operational",
            "10T10:05:00",
            "E1",
            "Summ-IT",
            "view",
            "P1",
        ),
        ev("out-of-area", "10T10:10:00", "E1", "BVH", "view", "P6"),
        ev("off-duty", "10T22:00:00", "E1", "BVH", "view", "P8"),
    ];
    check(
        &ctx,
        &Config::default(),
        &evs,
        &[
            explained("patrol", &["AREA_PATROL"]),
            not_explained("not-operational", &["AREA_PATROL"]),
            not_explained("out-of-area", &["AREA_PATROL"]),
            not_explained("off-duty", &["AREA_PATROL"]),
        ],
    );
}

#[test]
fn area_patrol_by_the_location_of_the_actor() {
    let ctx = world("");
    let mut located = ev("located", "10T10:00:00", "E1", "RDW", "view", "P6");
    located.location = Some("1012XY".to_owned());
    check(
        &ctx,
        &Config::default(),
        &[located],
        &[explained("located", &["AREA_PATROL"])],
    );
}

#[test]
fn team_collaboration_within_the_same_unit() {
    let ctx = world("");
    let evs = [
        ev("handler", "10T08:30:00", "E1", "BVH", "view", "P4"),
        ev("colleague", "10T10:00:00", "E2", "BVH", "view", "P4"),
        ev("other-unit", "10T10:00:00", "D1", "BVH", "view", "P4"),
    ];
    check(
        &ctx,
        &Config::default(),
        &evs,
        &[
            explained("handler", &["INCIDENT_HANDLER"]),
            explained("colleague", &["TEAM_COLLABORATION"]),
            not_explained("other-unit", &["TEAM_COLLABORATION"]),
        ],
    );
}

#[test]
fn a_case_reaches_the_housemates_of_the_persons_it_names() {
    // P15 lives with P6, whom C3 (D1's case) names.
    let ctx = world(
        r#"subject {"id":"P15","family_name":"Jet","postcode":"3000AD","house_number":"6"}
"#,
    );
    let mut stated = ev("stated", "11T10:05:00", "D1", "Summ-IT", "view", "P15");
    stated.case = Some("C3".parse().unwrap());
    check(
        &ctx,
        &Config::default(),
        &[
            ev("housemate", "11T10:00:00", "D1", "Summ-IT", "view", "P15"),
            stated,
        ],
        &[
            explained("housemate", &["CASE_MEMBER"]),
            Expect {
                event: "stated",
                explained: &["CASE_MEMBER"],
                not_explained: NONE,
                signals: NONE,
                not_signals: &["CASE_NOT_NAMING_SUBJECT"],
            },
        ],
    );
}

#[test]
fn searches_without_a_record_and_vehicle_checks() {
    let ctx = world("");
    let mut detective = ev(
        "detective-search",
        "10T10:00:00",
        "D1",
        "BlueView",
        "search",
        "",
    );
    detective.query = Some("noot*".to_owned());
    let mut idle = ev(
        "no-case-search",
        "10T10:00:00",
        "E6",
        "BlueView",
        "search",
        "",
    );
    idle.query = Some("noot*".to_owned());
    let mut patrol = ev(
        "patrol-search",
        "10T10:00:00",
        "E1",
        "BlueView",
        "search",
        "",
    );
    patrol.query = Some("Dorpsstraat 4".to_owned());
    let mut night = ev(
        "off-duty-search",
        "10T22:00:00",
        "E1",
        "BlueView",
        "search",
        "",
    );
    night.query = Some("Dorpsstraat 4".to_owned());
    check(
        &ctx,
        &Config::default(),
        &[
            detective,
            idle,
            patrol,
            ev(
                "plate-on-duty",
                "10T10:05:00",
                "E1",
                "RDW",
                "view",
                "22-BBB-2",
            ),
            night,
            ev(
                "plate-off-duty",
                "10T22:05:00",
                "E1",
                "RDW",
                "view",
                "22-BBB-2",
            ),
        ],
        &[
            explained("detective-search", &["CASE_MEMBER"]),
            not_explained("no-case-search", &["CASE_MEMBER", "AREA_PATROL"]),
            explained("patrol-search", &["AREA_PATROL"]),
            explained("plate-on-duty", &["AREA_PATROL"]),
            not_explained("off-duty-search", &["AREA_PATROL"]),
            not_explained("plate-off-duty", &["AREA_PATROL"]),
        ],
    );
}
