//! CSV rows → JSON objects with the contract's field names and types.
//!
//! The header row names the fields. Empty cells are absent fields; list fields (`area`, `flags`) are
//! `;`-separated; `result_count` becomes a number when it is one (otherwise it stays text, so that
//! validation names the field). This module does not validate records: that is `record`'s job.

use lekdicht_model::RecordKind;
use serde_json::{Map, Value};

/// Builds the JSON object for one CSV row of `kind`.
pub(crate) fn row_to_object(
    kind: RecordKind,
    header: &[String],
    row: &[String],
) -> Map<String, Value> {
    let mut obj = Map::new();
    for (name, cell) in header.iter().zip(row) {
        if cell.is_empty() {
            continue;
        }
        let value = match (kind, name.as_str()) {
            (RecordKind::Units, "area") | (RecordKind::Subjects, "flags") => Value::Array(
                cell.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
            (RecordKind::Events, "result_count") => cell
                .trim()
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(cell.clone())),
            _ => Value::String(cell.clone()),
        };
        obj.insert(name.clone(), value);
    }
    obj
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_cells() {
        let header: Vec<String> = ["id", "area", "name"].map(String::from).to_vec();
        let row: Vec<String> = ["U1", "1012;1013", ""].map(String::from).to_vec();
        let obj = row_to_object(RecordKind::Units, &header, &row);
        assert_eq!(
            Value::Object(obj),
            serde_json::json!({"id": "U1", "area": ["1012", "1013"]})
        );
        let header: Vec<String> = ["id", "result_count"].map(String::from).to_vec();
        let obj = row_to_object(
            RecordKind::Events,
            &header,
            &["e".to_owned(), "31".to_owned()],
        );
        assert_eq!(obj["result_count"], Value::from(31));
    }
}
