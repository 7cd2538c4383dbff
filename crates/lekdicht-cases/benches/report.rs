//! Benchmark of the case report over 100,000 generated cases, of the CSV export, and of reading
//! 100,000 stored case records (JSON) back into cases, which reading whole cases costs (reports
//! read the stored facts instead).

use criterion::{Criterion, criterion_group, criterion_main};
use lekdicht_cases::generate::historic_cases;
use lekdicht_cases::{CaseFacts, UnitFigures, build_report};

fn report(c: &mut Criterion) {
    let cases = historic_cases(100_000, 42);
    let units: Vec<UnitFigures> = (0..10)
        .map(|i| UnitFigures {
            unit: format!("unit-{i}"),
            employees: 100,
            alerts: 40,
            alerts_decided: 30,
            alerts_explained: 20,
            alerts_escalated: 5,
            alerts_by_system: [("BVH".to_owned(), 20)].into_iter().collect(),
        })
        .collect();
    let facts: Vec<CaseFacts> = cases.iter().map(CaseFacts::from).collect();
    c.bench_function("build_report 100k cases", |b| {
        b.iter(|| build_report(std::hint::black_box(&facts), &units))
    });
    let records: Vec<String> = cases
        .iter()
        .map(|c| serde_json::to_string(c).unwrap_or_default())
        .collect();
    c.bench_function("parse 100k case records", |b| {
        b.iter(|| {
            records
                .iter()
                .filter_map(|r| serde_json::from_str::<lekdicht_cases::Case>(r).ok())
                .count()
        })
    });
    let r = build_report(&facts, &units);
    c.bench_function("report to_csv", |b| b.iter(|| r.to_csv()));
}

criterion_group!(benches, report);
criterion_main!(benches);
