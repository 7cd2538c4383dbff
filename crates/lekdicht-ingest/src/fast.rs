//! The fast path for the common shape of an event line: one flat JSON object.
//!
//! Nearly every event line is a single object whose keys are plain ASCII and whose values are
//! strings without escapes, small integers, booleans or null. For such a line the RFC 8785 form is
//! the same members, sorted by key, with each value's text unchanged: an unescaped string is already
//! canonical, and so is an integer of at most 15 digits (exactly representable as a double, printed
//! the same way by ECMAScript). This module recognises that shape without building a
//! `serde_json::Value` (the top level is read as borrowed key / raw value pairs), writes the
//! canonical bytes directly and deserialises the typed event straight from the line.
//!
//! It only ever accepts: whenever a line is not of that shape, or is of that shape but invalid, it
//! answers `None` and the caller takes the general path, which also produces the error. So the
//! accepted records are exactly what the general path gives, and the rejections are its rejections.

use std::fmt;

use lekdicht_model::{AccessEvent, RecordKind};
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::limits::Limits;
use crate::record::{Defaults, EventRecord, MAX_TEXT_BYTES, check_trace_context};
use crate::strict::{check_identifier, check_time, identifier_fields};

/// Most digits an integer may have to be copied as it is: every integer below 10^15 is exactly a
/// double, and ECMAScript prints such a double as the plain digits.
const MAX_PLAIN_DIGITS: usize = 15;

/// The top-level members of an object, borrowed from the line, in input order.
struct Members<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(16);
                // A key with escapes cannot be borrowed and fails here: the general path takes it.
                while let Some(member) = map.next_entry::<&'de str, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

/// Whether `raw` (one JSON value as it appears in the input) is a scalar whose text is already its
/// RFC 8785 form and, for a string, not longer than [`MAX_TEXT_BYTES`].
fn plain_scalar(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    match bytes.first() {
        Some(b'"') => {
            // serde_json has checked that the string is well formed: without a backslash it holds
            // no escape, and a raw control character is not allowed in JSON text.
            bytes.len() >= 2
                && bytes.len() - 2 <= MAX_TEXT_BYTES
                && !bytes[1..bytes.len() - 1].contains(&b'\\')
        }
        Some(b't' | b'f' | b'n') => matches!(raw, "true" | "false" | "null"),
        Some(_) => {
            let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
            // Leading zeros are not JSON, and "-0" canonicalises to "0": take neither.
            !digits.is_empty()
                && digits.len() <= MAX_PLAIN_DIGITS
                && digits.iter().all(u8::is_ascii_digit)
                && (digits[0] != b'0' || (digits.len() == 1 && digits.len() == bytes.len()))
        }
        None => false,
    }
}

/// Whether `text` can be written between quotes as it is (nothing to escape).
fn needs_no_escape(text: &str) -> bool {
    text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// Parses one event line of the common flat shape. `None` means "not handled here": the line is
/// of another shape or invalid, and the general path decides.
pub(crate) fn parse_flat_event(
    line: &str,
    defaults: &Defaults,
    limits: &Limits,
) -> Option<EventRecord> {
    let Members(mut members) = serde_json::from_str::<Members<'_>>(line).ok()?;
    let mut size = 2;
    for (key, value) in &members {
        if !key.is_ascii() || !needs_no_escape(key) || !plain_scalar(value.get()) {
            return None;
        }
        size += key.len() + value.get().len() + 4;
    }
    members.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if members.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let default_org = match &defaults.organization {
        Some(org)
            if members
                .binary_search_by(|m| m.0.cmp("organization"))
                .is_err() =>
        {
            if !needs_no_escape(org) {
                return None;
            }
            Some(org.as_str())
        }
        _ => None,
    };

    let mut event: AccessEvent = serde_json::from_str(line).ok()?;
    if let Some(org) = default_org {
        event.organization = Some(org.to_owned());
    }
    check_trace_context(&event).ok()?;
    for (key, value) in &members {
        // Plain strings: the text between the quotes is the value.
        let raw = value.get();
        let text = || raw.get(1..raw.len() - 1).filter(|_| raw.starts_with('"'));
        if *key == "time" {
            check_time(key, text()?, &limits.years).ok()?;
        } else if identifier_fields(RecordKind::Events).contains(key)
            && let Some(text) = text()
        {
            check_identifier(key, text).ok()?;
        }
    }

    let mut canonical = Vec::with_capacity(size + default_org.map_or(0, |o| o.len() + 18));
    canonical.push(b'{');
    let mut org_pending = default_org;
    for (i, (key, value)) in members.iter().enumerate() {
        if let Some(org) = org_pending
            && *key > "organization"
        {
            write_member(&mut canonical, "organization", org, true, i > 0);
            org_pending = None;
            write_member(&mut canonical, key, value.get(), false, true);
        } else {
            write_member(&mut canonical, key, value.get(), false, i > 0);
        }
    }
    if let Some(org) = org_pending {
        write_member(
            &mut canonical,
            "organization",
            org,
            true,
            !members.is_empty(),
        );
    }
    canonical.push(b'}');
    Some(EventRecord { event, canonical })
}

fn write_member(out: &mut Vec<u8>, key: &str, value: &str, quote: bool, comma: bool) {
    if comma {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    if quote {
        out.push(b'"');
    }
    out.extend_from_slice(value.as_bytes());
    if quote {
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars() {
        for ok in [
            "\"\"",
            "\"abc\"",
            "\"é😀\"",
            "0",
            "7",
            "-7",
            "123456789012345",
            "true",
            "false",
            "null",
        ] {
            assert!(plain_scalar(ok), "{ok}");
        }
        for no in [
            "\"a\\\"b\"",
            "\"a\\u0041\"",
            "-0",
            "01",
            "1.0",
            "1e5",
            "1234567890123456",
            "-",
            "[]",
            "{}",
            "nul",
            "",
        ] {
            assert!(!plain_scalar(no), "{no}");
        }
        let long = format!("\"{}\"", "q".repeat(MAX_TEXT_BYTES + 1));
        assert!(!plain_scalar(&long));
        let edge = format!("\"{}\"", "q".repeat(MAX_TEXT_BYTES));
        assert!(plain_scalar(&edge));
    }

    #[test]
    fn flat_line_is_sorted_with_the_default_organisation() {
        let defaults = Defaults {
            organization: Some("politie".to_owned()),
        };
        let line = r#" {"time":"2025-03-14T09:31:22+01:00", "id":"bvh-1","actor":"E1","system":"BVH","action":"view","zz":1,"a":null} "#;
        let rec = parse_flat_event(line, &defaults, &Limits::default()).expect("flat line");
        assert_eq!(
            String::from_utf8(rec.canonical).unwrap(),
            r#"{"a":null,"action":"view","actor":"E1","id":"bvh-1","organization":"politie","system":"BVH","time":"2025-03-14T09:31:22+01:00","zz":1}"#
        );
        assert_eq!(rec.event.organization.as_deref(), Some("politie"));
    }

    #[test]
    fn other_shapes_are_left_to_the_general_path() {
        let defaults = Defaults::default();
        for line in [
            r#"{"id":"x","id":"y","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"S","action":"view"}"#,
            r#"{"id":"x\n","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"S","action":"view"}"#,
            r#"{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"S","action":"view","n":1.5}"#,
            r#"{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"S","action":"view","l":[1]}"#,
            r#"{"i\u0064":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"S","action":"view"}"#,
            r#"{"id":"x","time":"yesterday","actor":"E1","system":"S","action":"view"}"#,
            r#"{"id":"x","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"S","action":"view","trace_id":"0"}"#,
            r#"[1]"#,
            r#"{"id":"x"} x"#,
        ] {
            assert!(
                parse_flat_event(line, &defaults, &Limits::default()).is_none(),
                "{line}"
            );
        }
    }
}
