//! Building small worlds from inline JSON lines and checking the codes an event gets.
//!
//! Only for tests: parsing panics on malformed fixtures, which is a broken test, not bad input.

use lekdicht_detect::{Config, Context, ContextRecords, Engine, EventScore};
use lekdicht_model::AccessEvent;

/// Parses lines `kind {json}` (kind: unit, employee, subject, vehicle, relation, case, shift)
/// into context records. Blank lines are skipped.
pub fn records(text: &str) -> ContextRecords {
    let mut r = ContextRecords::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (kind, json) = line.split_once(' ').expect("`kind {json}`");
        let json = json.trim();
        match kind {
            "unit" => r
                .units
                .push(serde_json::from_str(json).unwrap_or_else(|e| panic!("{kind}: {e}: {json}"))),
            "employee" => r
                .employees
                .push(serde_json::from_str(json).unwrap_or_else(|e| panic!("{kind}: {e}: {json}"))),
            "subject" => r
                .subjects
                .push(serde_json::from_str(json).unwrap_or_else(|e| panic!("{kind}: {e}: {json}"))),
            "vehicle" => r
                .vehicles
                .push(serde_json::from_str(json).unwrap_or_else(|e| panic!("{kind}: {e}: {json}"))),
            "relation" => r
                .relations
                .push(serde_json::from_str(json).unwrap_or_else(|e| panic!("{kind}: {e}: {json}"))),
            "case" => r
                .cases
                .push(serde_json::from_str(json).unwrap_or_else(|e| panic!("{kind}: {e}: {json}"))),
            "shift" => r
                .shifts
                .push(serde_json::from_str(json).unwrap_or_else(|e| panic!("{kind}: {e}: {json}"))),
            other => panic!("unknown record kind {other}"),
        }
    }
    r
}

/// The shared base world plus extra lines.
pub fn world(extra: &str) -> Context {
    let mut text = String::from(BASE);
    text.push_str(extra);
    let mut r = records(&text);
    // A population in which `Jansen` is common and names like `Zwaagstra` are rare.
    for i in 0..40 {
        r.subjects.push(
            serde_json::from_str(&format!(
                r#"{{"id":"PJ{i}","family_name":"Jansen","postcode":"9999ZZ","house_number":"{i}"}}"#
            ))
            .unwrap(),
        );
    }
    for i in 0..200 {
        r.subjects.push(
            serde_json::from_str(&format!(
                r#"{{"id":"PF{i}","family_name":"Filler{i}","postcode":"9998ZZ","house_number":"{i}"}}"#
            ))
            .unwrap(),
        );
    }
    Context::new(r)
}

/// Parses events written as JSON lines.
pub fn events(text: &str) -> Vec<AccessEvent> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Builds one event line.
pub fn ev(
    id: &str,
    time: &str,
    actor: &str,
    system: &str,
    action: &str,
    subject: &str,
) -> AccessEvent {
    let subject = if subject.is_empty() {
        String::new()
    } else {
        format!(r#","subject":"{subject}""#)
    };
    let line = format!(
        r#"{{"id":"{id}","time":"2025-03-{time}+01:00","actor":"{actor}","system":"{system}","action":"{action}"{subject}}}"#
    );
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// Scores the events in order with the configuration.
pub fn score_all(ctx: &Context, config: &Config, evs: &[AccessEvent]) -> Vec<EventScore> {
    let mut engine = Engine::new(ctx, config).expect("valid config");
    engine.process_batch(evs)
}

/// What one event must (and must not) carry.
pub struct Expect<'a> {
    pub event: &'a str,
    pub explained: &'a [&'a str],
    pub not_explained: &'a [&'a str],
    pub signals: &'a [&'a str],
    pub not_signals: &'a [&'a str],
}

pub const NONE: &[&str] = &[];

/// Scores `evs` in `ctx` and checks each expectation. Signals count as present when they appear in
/// `reasons` (they contribute weight) or, for offset signals, in the trace as fired.
pub fn check(ctx: &Context, config: &Config, evs: &[AccessEvent], expect: &[Expect]) {
    let mut engine = Engine::new(ctx, config).expect("valid config");
    let mut results = Vec::new();
    for e in evs {
        results.push(engine.process_traced(e));
    }
    for x in expect {
        let (score, trace) = results
            .iter()
            .find(|(s, _)| s.event.as_str() == x.event)
            .unwrap_or_else(|| panic!("no event {}", x.event));
        let explained: Vec<&str> = score.explained_by.iter().map(|e| e.code.as_str()).collect();
        let fired: Vec<&str> = trace
            .checks
            .iter()
            .filter(|c| c.fired && c.kind == lekdicht_detect::CheckKind::Signal)
            .map(|c| c.code)
            .collect();
        let show = || {
            format!(
                "{}: explained {explained:?}, signals {fired:?}, score {:.3}",
                x.event, score.score
            )
        };
        for code in x.explained {
            assert!(
                explained.contains(code),
                "expected explanation {code}; {}",
                show()
            );
        }
        for code in x.not_explained {
            assert!(
                !explained.contains(code),
                "unexpected explanation {code}; {}",
                show()
            );
        }
        for code in x.signals {
            assert!(fired.contains(code), "expected signal {code}; {}", show());
        }
        for code in x.not_signals {
            assert!(
                !fired.contains(code),
                "unexpected signal {code}; {}",
                show()
            );
        }
        assert!(
            (0.0..=1.0).contains(&score.score),
            "score out of bounds; {}",
            show()
        );
    }
}

/// A hand-made region: a neighbourhood team (U1, area 1011-1012), a second team without area (U2),
/// a detective team (R1). Times are March 2025, +01:00.
pub const BASE: &str = r#"
unit {"id":"U1","name":"Basisteam Centrum","area":["1011","1012"]}
unit {"id":"U2","name":"Basisteam Zuid","area":["1077"]}
unit {"id":"R1","name":"Recherche 1","area":[]}
employee {"id":"E1","unit":"U1","role":"hoofdagent","family_name":"de Boer","postcode":"1013AA","house_number":"1","subject":"PE1"}
employee {"id":"E2","unit":"U1","role":"hoofdagent","family_name":"Visser","postcode":"1011AB","house_number":"5","subject":"PE2"}
employee {"id":"E3","unit":"U1","role":"hoofdagent","family_name":"Zwaagstra","postcode":"1014AA","house_number":"3"}
employee {"id":"E4","unit":"U1","role":"hoofdagent","family_name":"Jansen","postcode":"1014AB","house_number":"3"}
employee {"id":"E5","unit":"U2","role":"agent","active_until":"2025-03-09"}
employee {"id":"E6","unit":"U2","role":"agent","active_until":"2025-03-20"}
employee {"id":"D1","unit":"R1","role":"rechercheur","postcode":"2000AA","house_number":"1"}
employee {"id":"D2","unit":"R1","role":"rechercheur","postcode":"2000AB","house_number":"1"}
subject {"id":"PE1","family_name":"de Boer","postcode":"1013AA","house_number":"1","flags":["employee"]}
subject {"id":"PE2","family_name":"Visser","postcode":"1011AB","house_number":"5","flags":["employee"]}
subject {"id":"P1","family_name":"Aap","postcode":"1011CD","house_number":"1"}
subject {"id":"P2","family_name":"Noot","postcode":"1012EF","house_number":"2"}
subject {"id":"P3","family_name":"Mies","postcode":"3000AA","house_number":"3"}
subject {"id":"P4","family_name":"Wim","postcode":"3000AB","house_number":"4"}
subject {"id":"P5","family_name":"Zus","postcode":"3000AC","house_number":"5"}
subject {"id":"P6","family_name":"Jet","postcode":"3000AD","house_number":"6"}
subject {"id":"P7","family_name":"Teun","postcode":"1011AB","house_number":"5"}
subject {"id":"P8","family_name":"Vuur","postcode":"1011AB","house_number":"7"}
subject {"id":"P9","family_name":"Gijs","postcode":"3000AE","house_number":"9","flags":["vip"]}
subject {"id":"P10","family_name":"Lam","postcode":"3000AF","house_number":"10"}
subject {"id":"P11","family_name":"Kees","postcode":"3000AG","house_number":"11"}
subject {"id":"P12","family_name":"Bok","postcode":"3000AH","house_number":"12"}
subject {"id":"P13","family_name":"Does","postcode":"3000AJ","house_number":"13"}
subject {"id":"P14","family_name":"Hok","postcode":"3000AK","house_number":"14"}
subject {"id":"PZ","family_name":"Zwaagstra","postcode":"4000AA","house_number":"1"}
subject {"id":"PJ","family_name":"Jansen","postcode":"4000AB","house_number":"2"}
vehicle {"id":"11-AAA-1","holder":"P2"}
vehicle {"id":"22-BBB-2","holder":"P10"}
relation {"employee":"E1","subject":"P3","kind":"ex-partner"}
case {"id":"C1","unit":"R1","kind":"investigation","restricted":true,"opened":"2025-03-01T08:00:00+01:00","members":[{"employee":"D1"}],"subjects":[{"subject":"P2","role":"suspect"},{"subject":"22-BBB-2"}]}
case {"id":"C2","unit":"R1","kind":"investigation","opened":"2025-03-01T08:00:00+01:00","members":[{"employee":"D2"},{"employee":"D1","from":"2025-03-11T12:00:00+01:00"}],"subjects":[{"subject":"P5"}]}
case {"id":"C3","unit":"R1","kind":"investigation","opened":"2025-03-01T08:00:00+01:00","closed":"2025-03-12T08:00:00+01:00","members":[{"employee":"D1"}],"subjects":[{"subject":"P6"}]}
case {"id":"C4","unit":"R1","kind":"investigation","opened":"2025-03-10T12:00:00+01:00","members":[{"employee":"D1"}],"subjects":[{"subject":"P11"}]}
case {"id":"C5","unit":"R1","kind":"investigation","opened":"2025-03-13T10:00:00+01:00","members":[{"employee":"D1"}],"subjects":[{"subject":"P12"}]}
case {"id":"I1","kind":"incident","opened":"2025-03-10T09:00:00+01:00","closed":"2025-03-10T12:00:00+01:00","members":[{"employee":"E1"}],"subjects":[{"subject":"P4"}]}
case {"id":"I2","unit":"U1","kind":"incident","opened":"2025-03-10T09:00:00+01:00","members":[{"employee":"E1"}],"subjects":[{"subject":"P13"}]}
shift {"employee":"E1","start":"2025-03-10T07:00:00+01:00","end":"2025-03-10T15:00:00+01:00"}
shift {"employee":"E1","start":"2025-03-11T07:00:00+01:00","end":"2025-03-11T15:00:00+01:00"}
shift {"employee":"E1","start":"2025-03-12T00:00:00+01:00","end":"2025-03-13T00:00:00+01:00","kind":"leave"}
shift {"employee":"E1","start":"2025-03-13T00:00:00+01:00","end":"2025-03-14T00:00:00+01:00","kind":"sick"}
shift {"employee":"D1","start":"2025-03-10T08:00:00+01:00","end":"2025-03-10T17:00:00+01:00"}
"#;
