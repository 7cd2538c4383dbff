//! The rules of the contract that serde's types are too lenient for: times are RFC 3339 with a
//! four-digit year, seconds and an offset, within a plausible range of years; dates are
//! `YYYY-MM-DD`; an object names each key once; identifiers and codes hold no control characters.
//!
//! Each check names the offending field (with its path inside lists and nested objects, as
//! `members[1].from`). This module reads values and paths only; which fields of which kind are
//! times, dates or identifiers is listed here, what they mean is not.

use std::fmt;
use std::ops::RangeInclusive;

use lekdicht_model::RecordKind;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::record::FieldError;

/// The time fields of each kind: at the top level, or inside each element of a list.
fn time_fields(kind: RecordKind) -> &'static [(&'static str, Option<&'static str>)] {
    match kind {
        RecordKind::Events => &[("time", None)],
        RecordKind::Cases => &[
            ("opened", None),
            ("closed", None),
            ("members", Some("from")),
            ("members", Some("until")),
            ("subjects", Some("from")),
            ("subjects", Some("until")),
        ],
        RecordKind::Shifts => &[("start", None), ("end", None)],
        _ => &[],
    }
}

/// The date fields of each kind.
fn date_fields(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Employees => &["birth_date", "active_from", "active_until"],
        RecordKind::Subjects => &["birth_date"],
        RecordKind::Relations => &["declared_on"],
        _ => &[],
    }
}

/// The fields of each kind that hold an identifier or a code (besides those the model's id types
/// check), in which a control character is never data.
pub(crate) fn identifier_fields(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Events => &[
            "system",
            "purpose",
            "organization",
            "location",
            "workstation",
        ],
        RecordKind::Employees => &["organization", "postcode", "house_number"],
        RecordKind::Units => &["organization", "area"],
        RecordKind::Subjects => &["postcode", "house_number"],
        RecordKind::Cases => &["organization", "kind"],
        _ => &[],
    }
}

/// Rejects a control character in `value` of the identifier field `field`.
pub(crate) fn check_identifier(field: &str, value: &str) -> Result<(), FieldError> {
    match value.chars().find(|c| c.is_control()) {
        None => Ok(()),
        Some(c) => Err(FieldError {
            field: Some(field.to_owned()),
            reason: format!(
                "contains the control character U+{:04X}; identifiers and codes may not",
                c as u32
            ),
        }),
    }
}

/// Checks the time, date and identifier fields of an object of `kind`. Values of another type
/// are left to the typed deserialisation, which names them.
pub(crate) fn check_fields(
    kind: RecordKind,
    obj: &Map<String, Value>,
    years: &RangeInclusive<i32>,
) -> Result<(), FieldError> {
    for &(name, inner) in time_fields(kind) {
        match (obj.get(name), inner) {
            (Some(Value::String(text)), None) => check_time(name, text, years)?,
            (Some(Value::Array(items)), Some(inner)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(Value::String(text)) = item.get(inner) {
                        check_time(&format!("{name}[{i}].{inner}"), text, years)?;
                    }
                }
            }
            _ => {}
        }
    }
    for &name in date_fields(kind) {
        if let Some(Value::String(text)) = obj.get(name) {
            check_date(name, text)?;
        }
    }
    for &name in identifier_fields(kind) {
        match obj.get(name) {
            Some(Value::String(text)) => check_identifier(name, text)?,
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::String(text) = item {
                        check_identifier(&format!("{name}[{i}]"), text)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `bytes` at `positions` are all ASCII digits.
fn digits_at(bytes: &[u8], positions: impl IntoIterator<Item = usize>) -> bool {
    positions
        .into_iter()
        .all(|i| bytes.get(i).is_some_and(u8::is_ascii_digit))
}

/// Checks that `text` is `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, a real time, in `years`.
pub(crate) fn check_time(
    field: &str,
    text: &str,
    years: &RangeInclusive<i32>,
) -> Result<(), FieldError> {
    let b = text.as_bytes();
    let mut shape = b.len() >= 20
        && digits_at(b, [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't')
        && b[13] == b':'
        && b[16] == b':';
    let mut rest = b.get(19..).unwrap_or_default();
    if shape && rest.first() == Some(&b'.') {
        let fraction = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        shape = fraction > 0;
        rest = &rest[1 + fraction..];
    }
    shape = shape
        && match rest {
            [b'Z' | b'z'] => true,
            [b'+' | b'-', _, _, b':', _, _] => digits_at(rest, [1, 2, 4, 5]),
            _ => false,
        };
    if !shape || chrono::DateTime::parse_from_rfc3339(text).is_err() {
        return Err(FieldError {
            field: Some(field.to_owned()),
            reason: "not an RFC 3339 time with a four-digit year and an offset, such as 2025-03-14T09:31:22+01:00".to_owned(),
        });
    }
    let year: i32 = text[..4].parse().unwrap_or_default();
    if !years.contains(&year) {
        return Err(FieldError {
            field: Some(field.to_owned()),
            reason: format!(
                "the year {year} lies outside the plausible range {}..{} (--min-year, --max-year)",
                years.start(),
                years.end()
            ),
        });
    }
    Ok(())
}

/// Checks that `text` is a real date written `YYYY-MM-DD`.
fn check_date(field: &str, text: &str) -> Result<(), FieldError> {
    let b = text.as_bytes();
    let shape =
        b.len() == 10 && digits_at(b, [0, 1, 2, 3, 5, 6, 8, 9]) && b[4] == b'-' && b[7] == b'-';
    if !shape || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() {
        return Err(FieldError {
            field: Some(field.to_owned()),
            reason: "not a date of the form YYYY-MM-DD".to_owned(),
        });
    }
    Ok(())
}

/// What the error of a duplicated key starts with, before the key's path.
const DUPLICATE: &str = "duplicate key `";

/// One step of the path to a value: a key of an object or an index in a list.
enum Step<'p> {
    Key(&'p str, Option<&'p Step<'p>>),
    Index(usize, Option<&'p Step<'p>>),
}

fn render(step: Option<&Step<'_>>) -> String {
    let Some(step) = step else {
        return String::new();
    };
    match step {
        Step::Key(key, parent) => {
            let parent = render(*parent);
            if parent.is_empty() {
                (*key).to_owned()
            } else {
                format!("{parent}.{key}")
            }
        }
        Step::Index(i, parent) => format!("{}[{i}]", render(*parent)),
    }
}

/// Reads a JSON value as `serde_json::Value` does, except that an object naming a key twice is an
/// error naming the key's path.
struct Strict<'p> {
    at: Option<&'p Step<'p>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let step = Step::Index(items.len(), self.at);
            match seq.next_element_seed(Strict { at: Some(&step) })? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let step = Step::Key(&key, self.at);
            if obj.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "{DUPLICATE}{}`",
                    render(Some(&step))
                )));
            }
            let value = map.next_value_seed(Strict { at: Some(&step) })?;
            obj.insert(key, value);
        }
        Ok(Value::Object(obj))
    }
}

/// Parses one line of JSON; a key named twice in one object is an error naming it.
pub(crate) fn parse_json(text: &str) -> Result<Value, FieldError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Strict { at: None }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|e| {
        let message = e.to_string();
        if let Some(path) = message
            .strip_prefix(DUPLICATE)
            .and_then(|rest| rest.rsplit_once("` at line").map(|(path, _)| path))
        {
            return FieldError {
                field: Some(path.to_owned()),
                reason: "the key appears more than once in its object".to_owned(),
            };
        }
        FieldError {
            field: None,
            reason: format!("broken JSON: {message}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_strict() {
        let years = 1990..=2100;
        for ok in [
            "2025-03-14T09:31:22+01:00",
            "2025-03-14T09:31:22Z",
            "2025-03-14t09:31:22.123456z",
            "2025-03-14T09:31:22.5-05:30",
        ] {
            assert_eq!(check_time("time", ok, &years), Ok(()), "{ok}");
        }
        for bad in [
            "25-03-14T09:31:22+01:00",
            "+2025-03-14T09:31:22+01:00",
            "02025-03-14T09:31:22+01:00",
            "2025-03-14 09:31:22+01:00",
            "2025-03-14T09:31+01:00",
            "2025-03-14T09:31:22",
            "2025-03-14T09:31:22+0100",
            "2025-03-14T09:31:22.+01:00",
            "2025-02-30T09:31:22+01:00",
            "2025-03-14T25:31:22+01:00",
        ] {
            let err = check_time("time", bad, &years).expect_err(bad);
            assert_eq!(err.field.as_deref(), Some("time"));
            assert!(err.reason.contains("four-digit year"), "{bad}: {err:?}");
        }
        let err = check_time("start", "1899-03-14T09:31:22Z", &years).unwrap_err();
        assert!(
            err.reason
                .contains("the year 1899 lies outside the plausible range 1990..2100"),
            "{err:?}"
        );
        assert!(check_time("start", "1899-03-14T09:31:22Z", &(1800..=2100)).is_ok());
    }

    #[test]
    fn dates_have_four_digit_years() {
        assert!(check_date("birth_date", "1961-04-02").is_ok());
        for bad in ["61-04-02", "1961-4-2", "1961-02-30", "+1961-04-02"] {
            assert!(check_date("birth_date", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_keys_are_named_with_their_path() {
        let check = |text: &str, field: Option<&str>| {
            let err = parse_json(text).expect_err(text);
            assert_eq!(err.field.as_deref(), field, "{text}: {err:?}");
        };
        check(r#"{"id":"a","id":"b"}"#, Some("id"));
        check(r#"{"m":[{"e":1},{"e":1,"e":2}]}"#, Some("m[1].e"));
        check(r#"{"a":{"b":{"c":1,"c":1}}}"#, Some("a.b.c"));
        check(r#"{"a":1} x"#, None);
        assert_eq!(
            parse_json(r#"{"a":[1,-2,1.5,"x",null,true,{"b":{}}]}"#).unwrap(),
            serde_json::json!({"a":[1,-2,1.5,"x",null,true,{"b":{}}]})
        );
    }

    #[test]
    fn identifiers_hold_no_control_characters() {
        let err = check_identifier("system", "BR\u{1b}[31mP").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("system"));
        assert!(err.reason.contains("U+001B"), "{err:?}");
        assert!(check_identifier("system", "BRP é").is_ok());
        assert!(check_identifier("system", "a\u{85}b").is_err());
    }
}
