//! Property tests: the flat fast path for event lines gives exactly what the general path gives.
//!
//! Lines are generated as JSON text (not from a `Value`), so that they can carry what the fast path
//! must notice: escapes in keys and strings, non-ASCII text, floats, large and negative integers,
//! `-0`, nested values, duplicate keys, odd whitespace, invalid field values and broken JSON. For
//! every line the result with the fast path must equal the result without it (the same record and
//! canonical bytes, or the same field and reason), and whenever the fast path accepts a line its
//! bytes must equal those of the RFC 8785 canonicaliser.

use lekdicht_model::RecordKind;
use proptest::prelude::*;
use serde_json::Value;

use crate::fast::parse_flat_event;
use crate::limits::Limits;
use crate::record::Defaults;
use crate::stream::parse_json_bytes;

/// A JSON string literal for `text`, either as serde_json writes it or with some characters
/// written as `\u` escapes (and `/` as `\/`), which decode to the same text.
fn string_literal() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        4 => "[A-Za-z0-9:_.-]{0,12}",
        1 => any::<String>(),
        1 => "[a\"\\\\/\u{1}\n\t\u{7f}é€😀\u{2028}]{0,6}",
    ];
    (text, prop::bool::weighted(0.25)).prop_map(|(text, escape_more)| {
        if !escape_more {
            return serde_json::to_string(&text).expect("a string serialises");
        }
        let mut out = String::from("\"");
        for c in text.chars() {
            match c {
                '/' => out.push_str("\\/"),
                'a' | 'e' => out.push_str(&format!("\\u{:04x}", c as u32)),
                _ => {
                    let one = serde_json::to_string(&c.to_string()).expect("serialises");
                    out.push_str(&one[1..one.len() - 1]);
                }
            }
        }
        out.push('"');
        out
    })
}

/// Any JSON value as text, scalar or nested.
fn any_value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        string_literal(),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (-1000i64..1000).prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        Just("-0".to_owned()),
        Just("0".to_owned()),
        Just("1.0".to_owned()),
        Just("1E2".to_owned()),
        Just("999999999999999".to_owned()),
        Just("1000000000000000".to_owned()),
        Just("-999999999999999".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
    ];
    scalar.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..3).prop_map(|v| {
                let members: Vec<String> = v.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// A member for one of the contract's event fields: mostly a valid value, sometimes not.
fn event_member() -> impl Strategy<Value = (String, String)> {
    let id = prop_oneof![
        4 => "[a-z]{2,4}-[0-9]{1,9}".prop_map(|s| quoted(&s)),
        1 => string_literal(),
        1 => Just(quoted("")),
        1 => Just(quoted(&"x".repeat(129))),
    ]
    .boxed();
    let time = prop_oneof![
        4 => (0u32..28, 0u32..24, 0u32..60, prop::sample::select(vec!["+01:00", "Z", "-05:30"]))
            .prop_map(|(d, h, m, z)| quoted(&format!("2025-03-{:02}T{h:02}:{m:02}:07{z}", d + 1))),
        1 => Just(quoted("2025-03-14 09:31")),
        1 => Just(quoted("2025-03-14T09:31:22")),
        1 => Just(quoted("25-03-14T09:31:22+01:00")),
        1 => Just(quoted("1899-03-14T09:31:22Z")),
        1 => any_value(),
    ];
    let action = prop_oneof![
        4 => prop::sample::select(vec!["search", "view", "export", "print", "update", "create", "delete"])
            .prop_map(quoted),
        1 => Just(quoted("peek")),
        1 => any_value(),
    ];
    let hex = |len: usize| {
        prop_oneof![
            4 => prop::collection::vec(prop::sample::select(b"0123456789abcdef".to_vec()), len)
                .prop_map(|b| quoted(&String::from_utf8(b).expect("ascii"))),
            1 => Just(quoted(&"0".repeat(len))),
            1 => Just(quoted(&"A".repeat(len))),
            1 => string_literal(),
        ]
    };
    let count = prop_oneof![
        3 => (0u64..100_000).prop_map(|n| n.to_string()),
        1 => any_value(),
    ];
    let long = Just(quoted(&"q".repeat(crate::MAX_TEXT_BYTES + 1)));
    let text = prop_oneof![
        6 => string_literal(),
        1 => long,
        1 => Just("null".to_owned()),
        1 => any_value(),
    ]
    .boxed();
    prop_oneof![
        id.clone().prop_map(|v| ("id".to_owned(), v)),
        time.prop_map(|v| ("time".to_owned(), v)),
        id.clone().prop_map(|v| ("actor".to_owned(), v)),
        text.clone().prop_map(|v| ("system".to_owned(), v)),
        action.prop_map(|v| ("action".to_owned(), v)),
        id.clone().prop_map(|v| ("subject".to_owned(), v)),
        prop_oneof![
            Just(quoted("person")),
            Just(quoted("vehicle")),
            Just(quoted("ship"))
        ]
        .prop_map(|v| ("subject_type".to_owned(), v)),
        text.clone().prop_map(|v| ("query".to_owned(), v)),
        count.prop_map(|v| ("result_count".to_owned(), v)),
        id.prop_map(|v| ("case".to_owned(), v)),
        text.clone().prop_map(|v| ("purpose".to_owned(), v)),
        text.clone().prop_map(|v| ("organization".to_owned(), v)),
        hex(32).prop_map(|v| ("trace_id".to_owned(), v)),
        hex(16).prop_map(|v| ("span_id".to_owned(), v)),
        text.clone().prop_map(|v| ("location".to_owned(), v)),
        prop_oneof![text, Just(quoted("pc\u{85}7")), Just(quoted("pc\u{7f}7"))]
            .prop_map(|v| ("workstation".to_owned(), v)),
    ]
}

/// A member with a key outside the contract: ASCII, escaped, non-ASCII or sorting around
/// `organization`.
fn extra_member() -> impl Strategy<Value = (String, String)> {
    let key = prop_oneof![
        "[a-z_]{1,10}".prop_map(|k| quoted(&k)),
        Just(quoted("organizatio")),
        Just(quoted("organizationz")),
        Just(quoted("Z")),
        Just(quoted("é")),
        Just(quoted("😀")),
        Just(quoted("\u{fb33}")),
        Just("\"\\u0069d\"".to_owned()),
        Just("\"a\\\"b\"".to_owned()),
        Just(quoted("")),
    ];
    (key, any_value()).prop_map(|(k, v)| (k[1..k.len() - 1].to_owned(), v))
}

/// Builds the line: the required fields (each possibly missing), further members, shuffled, with
/// random whitespace; sometimes a duplicate key, sometimes a broken ending.
fn line() -> impl Strategy<Value = String> {
    let required = (
        prop::bool::weighted(0.95),
        event_member(),
        prop::collection::vec(event_member(), 0..4),
        prop::collection::vec(extra_member(), 0..2),
    );
    let base = (
        "[a-z]{2}-[0-9]{1,6}",
        0u32..28,
        "E[0-9]{1,5}",
        prop::sample::select(vec!["BVH", "BRP", "RDW", "BlueView"]),
        prop::sample::select(vec!["view", "search", "update"]),
    );
    (
        required,
        base,
        any::<prop::sample::Index>(),
        prop::sample::select(vec!["", " ", "\t", "  "]),
        prop::sample::select(vec!["", "", "", "", " x", "}", ",", " "]),
    )
        .prop_map(
            |((complete, dup, fields, extra), (id, day, actor, system, action), seed, ws, tail)| {
                let mut members: Vec<(String, String)> = Vec::new();
                let mut base = vec![
                    ("id".to_owned(), quoted(&id)),
                    (
                        "time".to_owned(),
                        quoted(&format!("2025-03-{:02}T09:31:22+01:00", day + 1)),
                    ),
                    ("actor".to_owned(), quoted(&actor)),
                    ("system".to_owned(), quoted(system)),
                    ("action".to_owned(), quoted(action)),
                ];
                if !complete {
                    base.remove(seed.index(base.len()));
                }
                for (k, v) in base.into_iter().chain(fields).chain(extra) {
                    if let Some(m) = members.iter_mut().find(|m| m.0 == k) {
                        m.1 = v;
                    } else {
                        members.push((k, v));
                    }
                }
                // A deterministic shuffle driven by the index.
                let n = members.len();
                for i in (1..n).rev() {
                    let j = (seed.index(usize::MAX) ^ (i * 2_654_435_761)) % (i + 1);
                    members.swap(i, j);
                }
                if seed.index(8) == 0 {
                    let at = seed.index(members.len() + 1);
                    members.insert(at, dup);
                }
                let body: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!("{ws}\"{k}\"{ws}:{ws}{v}"))
                    .collect();
                format!("{ws}{{{}}}{tail}", body.join(","))
            },
        )
}

fn defaults() -> impl Strategy<Value = Defaults> {
    prop_oneof![
        Just(None),
        Just(Some("politie".to_owned())),
        Just(Some("gemeente \"x\"".to_owned())),
        Just(Some("zorg-é".to_owned())),
    ]
    .prop_map(|organization| Defaults { organization })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn fast_path_equals_general_path(line in line(), defaults in defaults()) {
        let fast = parse_json_bytes(RecordKind::Events, line.as_bytes(), &defaults, &Limits::default(), true);
        let slow = parse_json_bytes(RecordKind::Events, line.as_bytes(), &defaults, &Limits::default(), false);
        prop_assert_eq!(&fast, &slow);
        if let Some(record) = parse_flat_event(&line, &defaults, &Limits::default()) {
            let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(&line) else {
                panic!("the fast path accepted a line that is not an object: {line}");
            };
            if let Some(org) = &defaults.organization {
                obj.entry("organization").or_insert_with(|| Value::String(org.clone()));
            }
            let jcs = serde_json_canonicalizer::to_vec(&Value::Object(obj)).expect("canonical");
            prop_assert_eq!(
                String::from_utf8(record.canonical).expect("utf-8"),
                String::from_utf8(jcs).expect("utf-8")
            );
        }
    }
}

/// The generator reaches the fast path often, and the general path too, so that the property above
/// compares both kinds of line.
#[test]
fn the_generated_lines_exercise_both_paths() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let strategy = line();
    let defaults = Defaults {
        organization: Some("politie".to_owned()),
    };
    let (mut fast, mut valid) = (0, 0);
    for _ in 0..2000 {
        let line = strategy.new_tree(&mut runner).expect("a line").current();
        if parse_flat_event(&line, &defaults, &Limits::default()).is_some() {
            fast += 1;
        }
        if parse_json_bytes(
            RecordKind::Events,
            line.as_bytes(),
            &defaults,
            &Limits::default(),
            false,
        )
        .is_ok()
        {
            valid += 1;
        }
    }
    assert!(fast > 200, "fast path took only {fast} of 2000 lines");
    assert!(
        valid > fast,
        "every valid line ({valid}) took the fast path ({fast})"
    );
    assert!(
        valid < 1900,
        "too few invalid lines: {valid} of 2000 are valid"
    );
}
