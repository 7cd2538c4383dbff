//! One JSON object → one validated contract record plus its canonical bytes.
//!
//! Validation happens once, here: types and enums through serde (with the path of the offending
//! field), then the rules serde cannot express (text length, trace-context hex, shift order). The
//! stored form of a record is the input object itself, unknown fields included, with the importing
//! organisation filled in where the contract says it defaults; its RFC 8785 serialisation is what
//! the ledger hashes. This module does not look at other records: unknown actors or cases are the
//! store's concern.

use lekdicht_model::{
    AccessEvent, Case, Employee, RecordKind, Relation, Shift, Subject, Unit, Vehicle,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::limits::Limits;
use crate::strict::check_fields;

/// Longest text value accepted in any field, in bytes.
pub const MAX_TEXT_BYTES: usize = 4096;

/// Values the importer fills in when a record leaves them out.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// The importing organisation: the tenant of events (and of employees, units and cases) that name
    /// none.
    pub organization: Option<String>,
}

/// A valid access event and the canonical bytes of its stored form.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub event: AccessEvent,
    pub canonical: Vec<u8>,
}

/// A valid context record of one of the seven context kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    Employee(Employee),
    Unit(Unit),
    Subject(Subject),
    Vehicle(Vehicle),
    Relation(Relation),
    Case(Case),
    Shift(Shift),
}

impl ContextValue {
    pub fn kind(&self) -> RecordKind {
        match self {
            ContextValue::Employee(_) => RecordKind::Employees,
            ContextValue::Unit(_) => RecordKind::Units,
            ContextValue::Subject(_) => RecordKind::Subjects,
            ContextValue::Vehicle(_) => RecordKind::Vehicles,
            ContextValue::Relation(_) => RecordKind::Relations,
            ContextValue::Case(_) => RecordKind::Cases,
            ContextValue::Shift(_) => RecordKind::Shifts,
        }
    }
}

/// A valid context record with its identity key and canonical bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextRecord {
    /// The record's identity within its kind: a re-import with the same key replaces it.
    pub key: String,
    pub value: ContextValue,
    pub canonical: Vec<u8>,
}

/// One accepted line.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Event(EventRecord),
    Context(ContextRecord),
}

/// Why an object was rejected: the field, when one can be named, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Option<String>,
    pub reason: String,
}

impl FieldError {
    fn new(field: impl Into<Option<String>>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The identity of a record of `kind`, read leniently from a possibly invalid object, so that a
/// quarantined line can be resolved by a later valid version.
pub fn record_key(kind: RecordKind, obj: &Map<String, Value>) -> Option<String> {
    let text = |name: &str| obj.get(name).and_then(Value::as_str);
    match kind {
        RecordKind::Relations => Some(format!(
            "{}|{}|{}",
            text("employee")?,
            text("subject")?,
            text("kind")?
        )),
        RecordKind::Shifts => Some(format!(
            "{}|{}|{}",
            text("employee")?,
            text("start")?,
            text("kind").unwrap_or("duty")
        )),
        _ => text("id").map(str::to_owned),
    }
}

/// Validates one object as a record of `kind`.
pub fn parse_object(
    kind: RecordKind,
    mut obj: Map<String, Value>,
    defaults: &Defaults,
    limits: &Limits,
) -> Result<Parsed, FieldError> {
    check_text_lengths(&obj)?;
    check_fields(kind, &obj, &limits.years)?;
    if matches!(
        kind,
        RecordKind::Events | RecordKind::Employees | RecordKind::Units | RecordKind::Cases
    ) && let Some(org) = &defaults.organization
        && !obj.contains_key("organization")
    {
        obj.insert("organization".to_owned(), Value::String(org.clone()));
    }
    let key = record_key(kind, &obj);
    let value = Value::Object(obj);
    let canonical = canonical_bytes(&value)?;
    let context = |value: ContextValue| {
        let key = key.clone().unwrap_or_default();
        Parsed::Context(ContextRecord {
            key,
            value,
            canonical: canonical.clone(),
        })
    };
    Ok(match kind {
        RecordKind::Events => {
            let event: AccessEvent = typed(&value)?;
            check_trace_context(&event)?;
            Parsed::Event(EventRecord { event, canonical })
        }
        RecordKind::Employees => context(ContextValue::Employee(typed(&value)?)),
        RecordKind::Units => context(ContextValue::Unit(typed(&value)?)),
        RecordKind::Subjects => context(ContextValue::Subject(typed(&value)?)),
        RecordKind::Vehicles => context(ContextValue::Vehicle(typed(&value)?)),
        RecordKind::Relations => context(ContextValue::Relation(typed(&value)?)),
        RecordKind::Cases => context(ContextValue::Case(typed(&value)?)),
        RecordKind::Shifts => {
            let shift: Shift = typed(&value)?;
            if shift.end <= shift.start {
                return Err(FieldError::new(
                    Some("end".to_owned()),
                    format!(
                        "shift ends ({}) before it starts ({})",
                        shift.end, shift.start
                    ),
                ));
            }
            context(ContextValue::Shift(shift))
        }
    })
}

/// RFC 8785 (JCS) bytes of `value`.
///
/// For the common case (every object key ASCII, every number an integer) serde_json's compact
/// output of a sorted map is already canonical: keys sort the same in UTF-8 and UTF-16, integers
/// print the same, and both escape exactly the control characters, `"` and `\`, with lowercase hex.
/// Anything else goes through the full canonicaliser.
fn canonical_bytes(value: &Value) -> Result<Vec<u8>, FieldError> {
    fn plain(value: &Value) -> bool {
        match value {
            Value::Number(n) => n.is_i64() || n.is_u64(),
            Value::Array(items) => items.iter().all(plain),
            Value::Object(map) => map.iter().all(|(k, v)| k.is_ascii() && plain(v)),
            Value::Null | Value::Bool(_) | Value::String(_) => true,
        }
    }
    let bytes = if plain(value) {
        serde_json::to_vec(value)
    } else {
        serde_json_canonicalizer::to_vec(value)
    };
    bytes.map_err(|e| FieldError::new(None, format!("cannot canonicalise record: {e}")))
}

/// Deserialises `value` as `T`, naming the field that failed.
fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, FieldError> {
    // The plain deserialiser is the fast path; the path-tracking one runs only to explain a failure.
    if let Ok(typed) = T::deserialize(value) {
        return Ok(typed);
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        if let Some(missing) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            let field = if path == "." {
                missing.to_owned()
            } else {
                format!("{path}.{missing}")
            };
            return FieldError::new(Some(field), "required field is missing");
        }
        let field = (path != ".").then_some(path);
        let leaf = field
            .as_deref()
            .map(|p| p.rsplit(['.', ']']).next().unwrap_or(p))
            .unwrap_or("");
        let reason = match leaf {
            "time" | "opened" | "closed" | "from" | "until" | "start" | "end"
                if !message.starts_with("invalid type") =>
            {
                format!(
                    "not an RFC 3339 time with offset, such as 2025-03-14T09:31:22+01:00 ({message})"
                )
            }
            "birth_date" | "active_from" | "active_until" | "declared_on"
                if !message.starts_with("invalid type") =>
            {
                format!("not a date of the form YYYY-MM-DD ({message})")
            }
            _ => message,
        };
        FieldError::new(field, reason)
    })
}

/// Rejects text values longer than [`MAX_TEXT_BYTES`], naming the first such field.
fn check_text_lengths(obj: &Map<String, Value>) -> Result<(), FieldError> {
    fn walk(value: &Value, path: &mut String) -> Result<(), FieldError> {
        match value {
            Value::String(s) if s.len() > MAX_TEXT_BYTES => Err(FieldError::new(
                Some(path.clone()),
                format!(
                    "value is {} bytes long; at most {MAX_TEXT_BYTES} are allowed",
                    s.len()
                ),
            )),
            Value::Array(items) => {
                let base = path.len();
                for (i, item) in items.iter().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(base);
                }
                Ok(())
            }
            Value::Object(map) => {
                let base = path.len();
                for (name, item) in map {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                    walk(item, path)?;
                    path.truncate(base);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    let mut path = String::new();
    for (name, value) in obj {
        path.clear();
        path.push_str(name);
        walk(value, &mut path)?;
    }
    Ok(())
}

/// W3C trace context: `trace_id` is 32 and `span_id` 16 lowercase hex digits, not all zero.
pub(crate) fn check_trace_context(event: &AccessEvent) -> Result<(), FieldError> {
    let check = |name: &str, value: &Option<String>, len: usize| match value {
        Some(v)
            if v.len() != len
                || !v
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                || v.bytes().all(|b| b == b'0') =>
        {
            Err(FieldError::new(
                Some(name.to_owned()),
                format!("must be {len} lowercase hex digits, not all zero (W3C trace context)"),
            ))
        }
        _ => Ok(()),
    };
    check("trace_id", &event.trace_id, 32)?;
    check("span_id", &event.span_id, 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(kind: RecordKind, line: &str) -> Result<Parsed, FieldError> {
        let Value::Object(obj) = serde_json::from_str(line).unwrap() else {
            panic!("test line is not an object")
        };
        parse_object(
            kind,
            obj,
            &Defaults {
                organization: Some("politie".to_owned()),
            },
            &Limits::default(),
        )
    }

    fn check_err(kind: RecordKind, line: &str, field: Option<&str>, reason_part: &str) {
        let err = parse(kind, line).expect_err(line);
        assert_eq!(err.field.as_deref(), field, "{line}: {err:?}");
        assert!(
            err.reason.contains(reason_part),
            "{line}: reason {:?} lacks {reason_part:?}",
            err.reason
        );
    }

    #[test]
    fn event_gets_default_organisation_and_canonical_bytes() {
        let Parsed::Event(rec) = parse(
            RecordKind::Events,
            r#"{"time":"2025-03-14T09:31:22+01:00","id":"bvh-1","actor":"E1","system":"BVH","action":"view","zz":1}"#,
        )
        .unwrap() else {
            panic!("not an event")
        };
        assert_eq!(rec.event.organization.as_deref(), Some("politie"));
        assert_eq!(
            String::from_utf8(rec.canonical).unwrap(),
            r#"{"action":"view","actor":"E1","id":"bvh-1","organization":"politie","system":"BVH","time":"2025-03-14T09:31:22+01:00","zz":1}"#
        );
    }

    #[test]
    fn bad_events_name_their_field() {
        let ev = RecordKind::Events;
        check_err(
            ev,
            r#"{"id":"x","actor":"E1","system":"BVH","action":"view"}"#,
            Some("time"),
            "required field is missing",
        );
        check_err(
            ev,
            r#"{"id":"x","time":"2025-03-14 09:31","actor":"E1","system":"BVH","action":"view"}"#,
            Some("time"),
            "RFC 3339",
        );
        check_err(
            ev,
            r#"{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"peek"}"#,
            Some("action"),
            "unknown variant `peek`",
        );
        check_err(
            ev,
            r#"{"id":"","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"view"}"#,
            Some("id"),
            "empty",
        );
        check_err(
            ev,
            r#"{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"view","result_count":"many"}"#,
            Some("result_count"),
            "invalid type",
        );
        check_err(
            ev,
            r#"{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"view","trace_id":"xyz"}"#,
            Some("trace_id"),
            "hex",
        );
        check_err(
            ev,
            r#"{"id":"x","time":"25-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"view"}"#,
            Some("time"),
            "four-digit year",
        );
        check_err(
            ev,
            r#"{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BV\u001bH","action":"view"}"#,
            Some("system"),
            "control character U+001B",
        );
        check_err(
            ev,
            r#"{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E\u0007","system":"BVH","action":"view"}"#,
            Some("actor"),
            "control character",
        );
        let long = "q".repeat(MAX_TEXT_BYTES + 1);
        check_err(
            ev,
            &format!(
                r#"{{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"search","query":"{long}"}}"#
            ),
            Some("query"),
            "at most 4096",
        );
    }

    #[test]
    fn the_fast_canonical_form_equals_the_full_one() {
        let check = |json: &str| {
            let value: Value = serde_json::from_str(json).unwrap();
            assert_eq!(
                String::from_utf8(canonical_bytes(&value).unwrap()).unwrap(),
                serde_json_canonicalizer::to_string(&value).unwrap(),
                "{json}"
            );
        };
        check(r#"{"b":1,"a":"x\u0001\n\t\"\\/é€😀","c":[1,-2,{"z":null,"y":true}]}"#);
        check(r#"{"€":1,"😀":2,"\ufb33":3}"#);
        check(r#"{"n":1.5e30,"m":0.000001,"k":-0.0,"j":18446744073709551615}"#);
        check(r#"{"s":"\u007f\u001f\u2028"}"#);
    }

    #[test]
    fn nested_fields_are_named() {
        check_err(
            RecordKind::Cases,
            r#"{"id":"C1","members":[{"employee":"E1"},{"employee":"E2","from":"yesterday"}]}"#,
            Some("members[1].from"),
            "RFC 3339",
        );
        check_err(
            RecordKind::Cases,
            r#"{"id":"C1","subjects":[{"role":"suspect"}]}"#,
            Some("subjects[0].subject"),
            "missing",
        );
    }

    #[test]
    fn context_kinds_parse_with_keys() {
        let check = |kind, line: &str, key: &str| match parse(kind, line).unwrap() {
            Parsed::Context(rec) => {
                assert_eq!(rec.key, key);
                assert_eq!(rec.value.kind(), kind);
            }
            Parsed::Event(_) => panic!("context expected"),
        };
        check(
            RecordKind::Employees,
            r#"{"id":"E1","unit":"U1","birth_date":"1988-04-02"}"#,
            "E1",
        );
        check(
            RecordKind::Units,
            r#"{"id":"U1","area":["1012","1013"]}"#,
            "U1",
        );
        check(RecordKind::Subjects, r#"{"id":"P1","flags":["vip"]}"#, "P1");
        check(
            RecordKind::Vehicles,
            r#"{"id":"12-ABC-3","holder":"P1"}"#,
            "12-ABC-3",
        );
        check(
            RecordKind::Relations,
            r#"{"employee":"E1","subject":"P1","kind":"neighbour"}"#,
            "E1|P1|neighbour",
        );
        check(RecordKind::Cases, r#"{"id":"C1","restricted":true}"#, "C1");
        check(
            RecordKind::Shifts,
            r#"{"employee":"E1","start":"2025-03-14T07:00:00+01:00","end":"2025-03-14T15:00:00+01:00"}"#,
            "E1|2025-03-14T07:00:00+01:00|duty",
        );
    }

    #[test]
    fn context_rules() {
        check_err(
            RecordKind::Employees,
            r#"{"id":"E1"}"#,
            Some("unit"),
            "required",
        );
        check_err(
            RecordKind::Employees,
            r#"{"id":"E1","unit":"U1","birth_date":"02-04-1988"}"#,
            Some("birth_date"),
            "YYYY-MM-DD",
        );
        check_err(
            RecordKind::Subjects,
            r#"{"id":"P1","flags":["famous"]}"#,
            Some("flags[0]"),
            "unknown variant",
        );
        check_err(
            RecordKind::Cases,
            r#"{"id":"C1","members":[{"employee":"E1","until":"3025-01-01T00:00:00Z"}]}"#,
            Some("members[0].until"),
            "the year 3025 lies outside",
        );
        check_err(
            RecordKind::Units,
            r#"{"id":"U1","area":["1012","10\n13"]}"#,
            Some("area[1]"),
            "control character U+000A",
        );
        check_err(
            RecordKind::Shifts,
            r#"{"employee":"E1","start":"2025-03-14T15:00:00+01:00","end":"2025-03-14T07:00:00+01:00"}"#,
            Some("end"),
            "before it starts",
        );
        check_err(
            RecordKind::Relations,
            r#"{"employee":"E1","subject":"P1","kind":"cousin"}"#,
            Some("kind"),
            "unknown variant",
        );
    }
}
