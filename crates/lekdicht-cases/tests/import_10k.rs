//! A CSV import of 10,000 historic cases with deliberately bad lines reports each bad line with its
//! line number and field, and imports every other line.

use lekdicht_cases::generate::historic_csv;
use lekdicht_cases::parse_cases_csv;

#[test]
fn ten_thousand_lines_with_bad_ones() {
    let generated = historic_csv(10_000, 2016, 997).unwrap();
    let (csv, bad) = (generated.csv, generated.bad_lines);
    assert_eq!(bad.len(), 10);
    let (cases, errors) = parse_cases_csv(&csv, None);
    assert_eq!(cases.len(), 10_000 - bad.len());
    let mut got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    got.dedup_by_key(|e| e.0);
    assert_eq!(got, bad);
    // Every good line is there, in order, with its own line number.
    assert_eq!(cases[0].line, 2);
    assert_eq!(cases.last().map(|c| c.line), Some(10_001));
    assert!(cases.iter().all(|c| !bad.iter().any(|(l, _)| *l == c.line)));
}
