//! The figures the seed research published must be reproducible from registered cases: 219
//! suspicions of disclosure, of which 40 to criminals and 179 to others, among cases that are not
//! about disclosure at all (lookups only, side activities), which must not count.

use chrono::NaiveDate;
use lekdicht_cases::{
    Case, CaseStatus, Outcome, OutcomeKind, Recipient, SignalSource, ViolationType,
    report_of_cases, validate,
};

fn case(i: usize, violation: ViolationType, recipient: Option<Recipient>) -> Case {
    let year = 2015 + (i % 2) as i32;
    let mut c = Case::new(
        "politie",
        SignalSource::ALL[i % SignalSource::ALL.len()],
        NaiveDate::from_ymd_opt(year, 1 + (i % 12) as u32, 1).unwrap(),
    );
    c.id = format!("R-{i}");
    c.violation = Some(violation);
    c.recipient = recipient;
    c.status = CaseStatus::Closed;
    c.outcome = Some(Outcome {
        kind: if i.is_multiple_of(3) {
            OutcomeKind::Unfounded
        } else {
            OutcomeKind::Warning
        },
        measure: None,
    });
    c.closure_date = NaiveDate::from_ymd_opt(year, 12, 31);
    c
}

#[test]
fn report_reproduces_219_40_179() {
    let others = [
        Recipient::PrivateCircle,
        Recipient::Media,
        Recipient::CommercialParty,
        Recipient::Unknown,
    ];
    let mut cases = Vec::new();
    for i in 0..40 {
        cases.push(case(
            i,
            ViolationType::Disclosure,
            Some(Recipient::Criminal),
        ));
    }
    for i in 0..179 {
        cases.push(case(
            1000 + i,
            ViolationType::Disclosure,
            Some(others[i % others.len()]),
        ));
    }
    // Not about disclosure: must not count, however their recipient field is filled.
    for i in 0..250 {
        cases.push(case(
            2000 + i,
            ViolationType::UnauthorisedLookup,
            Some(Recipient::None),
        ));
    }
    for i in 0..30 {
        cases.push(case(3000 + i, ViolationType::UnauthorisedLookup, None));
    }
    for i in 0..12 {
        cases.push(case(
            4000 + i,
            ViolationType::CriminalContacts,
            Some(Recipient::Criminal),
        ));
    }
    for c in &cases {
        assert!(validate(c).is_empty(), "{}: {:?}", c.id, validate(c));
    }

    let report = report_of_cases(&cases, &[]);
    assert_eq!(report.total, 219 + 250 + 30 + 12);
    assert_eq!(report.disclosure.suspicions, 219);
    assert_eq!(report.disclosure.to_criminals, 40);
    assert_eq!(report.disclosure.to_others, 179);
    assert_eq!(
        report.disclosure.sentence(lekdicht_cases::Lang::En),
        "219 suspicions of disclosure, 40 to criminals, 179 to others"
    );
    let by = |key: &str| {
        report
            .by_violation
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.count)
    };
    assert_eq!(by("disclosure"), Some(219));
    assert_eq!(by("unauthorised_lookup"), Some(280));
    let trend_total: u64 = report.trend.iter().map(|t| t.disclosure).sum();
    let trend_criminal: u64 = report.trend.iter().map(|t| t.to_criminals).sum();
    assert_eq!((trend_total, trend_criminal), (219, 40));
    let csv = String::from_utf8(report.to_csv().unwrap()).unwrap();
    assert!(csv.contains("disclosure,suspicions,,219,,\n"));
    assert!(csv.contains("disclosure,to_criminals,,40,,\n"));
    assert!(csv.contains("disclosure,to_others,,179,,\n"));
}
