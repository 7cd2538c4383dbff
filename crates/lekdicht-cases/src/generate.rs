//! Generated historic cases with realistic proportions, for benchmarks, examples and import tests.
//!
//! Deterministic for a seed (a small SplitMix64 generator, so that no random-number crate is
//! needed). The proportions are plausible, not research figures; nothing here reads or writes
//! files.

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use crate::import::{COLUMNS, ExportError, cases_to_csv};
use crate::model::{Case, Outcome};
use crate::vocab::{
    CaseStatus, InformationKind, InformationUse, Initiative, InvestigationStep, MeasureKind,
    OutcomeKind, Recipient, SignalSource, ViolationType,
};

/// SplitMix64: small, fast, good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent / 100`.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items` by weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut pick = self.below(total);
        for &(item, w) in items {
            if pick < w {
                return item;
            }
            pick -= w;
        }
        items[items.len() - 1].0
    }
}

const ORGANISATIONS: &[&str] = &[
    "politie",
    "gemeente-rotterdam",
    "gemeente-utrecht",
    "belastingdienst",
];
const UNITS: &[&str] = &[
    "basisteam-centrum",
    "basisteam-noord",
    "basisteam-zuid",
    "recherche",
    "meldkamer",
    "burgerzaken",
    "vergunningen",
    "handhaving",
    "klantcontact",
    "opsporing",
];
const FUNCTIONS: &[&str] = &[
    "agent",
    "hoofdagent",
    "brigadier",
    "inspecteur",
    "rechercheur",
    "baliemedewerker",
    "handhaver",
    "administratief medewerker",
    "teamleider",
];
const SYSTEMS: &[&str] = &[
    "BVH",
    "BRP",
    "RDW",
    "OPS",
    "GBA-V",
    "HKS",
    "Summ-IT",
    "Zaaksysteem",
];

/// `n` generated historic cases from 2012 to 2025, all valid.
pub fn historic_cases(n: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    (0..n).map(|i| one_case(&mut rng, i)).collect()
}

fn one_case(rng: &mut Rng, i: usize) -> Case {
    let year = 2012 + rng.below(14) as i32;
    let signal = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN)
        + Duration::days(rng.below(365) as i64);
    let source = rng.weighted(&[
        (SignalSource::ProactiveLogAnalysis, 20),
        (SignalSource::RandomSampleAudit, 8),
        (SignalSource::Colleague, 22),
        (SignalSource::Manager, 18),
        (SignalSource::CitizenComplaint, 10),
        (SignalSource::DataSubject, 6),
        (SignalSource::OtherAgency, 8),
        (SignalSource::Media, 2),
        (SignalSource::AnonymousReport, 6),
    ]);
    let org = ORGANISATIONS[rng.below(ORGANISATIONS.len() as u64) as usize];
    let mut case = Case::new(org, source, signal);
    case.id = format!("H{year}-{i:06}");
    case.summary = format!("Historic registration {i}");
    let violation = rng.weighted(&[
        (ViolationType::UnauthorisedLookup, 45),
        (ViolationType::Disclosure, 30),
        (ViolationType::Bribery, 4),
        (ViolationType::CriminalContacts, 12),
        (ViolationType::SideActivities, 6),
        (ViolationType::FacilitatingCrime, 3),
    ]);
    // Older registrations often lack facts: that is the point of the registry.
    let sparse = year < 2017 && rng.chance(30);
    if !sparse || violation == ViolationType::Disclosure {
        case.violation = Some(violation);
    }
    let info = [
        (InformationKind::Address, 40),
        (InformationKind::Identity, 25),
        (InformationKind::Vehicle, 15),
        (InformationKind::CriminalRecord, 10),
        (InformationKind::Investigation, 7),
        (InformationKind::Operational, 3),
    ];
    let n_info = 1 + rng.below(2);
    for _ in 0..n_info {
        let k = rng.weighted(&info);
        if !case.information.contains(&k) {
            case.information.push(k);
        }
    }
    let n_sys = 1 + rng.below(2);
    for _ in 0..n_sys {
        let s = SYSTEMS[rng.below(SYSTEMS.len() as u64) as usize].to_owned();
        if !case.systems.contains(&s) {
            case.systems.push(s);
        }
    }
    case.suspect.employee = Some(format!("E{:05}", rng.below(20_000)));
    if !sparse {
        case.suspect.function =
            Some(FUNCTIONS[rng.below(FUNCTIONS.len() as u64) as usize].to_owned());
        case.suspect.years_of_service = Some(rng.below(40) as u32);
    }
    case.suspect.unit = Some(UNITS[rng.below(UNITS.len() as u64) as usize].to_owned());
    match case.violation {
        Some(ViolationType::Disclosure) => {
            case.recipient = Some(rng.weighted(&[
                (Recipient::Criminal, 18),
                (Recipient::PrivateCircle, 55),
                (Recipient::Media, 4),
                (Recipient::CommercialParty, 8),
                (Recipient::Unknown, 15),
            ]));
            case.initiative = Some(rng.weighted(&[
                (Initiative::Recipient, 50),
                (Initiative::Employee, 30),
                (Initiative::Unknown, 20),
            ]));
            case.use_of_information = Some(InformationUse::SharedWithThirdParty);
        }
        Some(ViolationType::UnauthorisedLookup) => {
            case.recipient = Some(Recipient::None);
            case.use_of_information = Some(InformationUse::OwnUse);
        }
        _ => {}
    }
    case.damage.investigation = rng.chance(8);
    case.damage.persons = rng.chance(12);
    case.steps.push(InvestigationStep::LogAnalysis);
    if rng.chance(70) {
        case.steps.push(InvestigationStep::Interviews);
    }
    if rng.chance(15) {
        case.steps.push(InvestigationStep::PhoneData);
    }
    if rng.chance(5) {
        case.steps.push(InvestigationStep::FinancialInquiry);
    }
    let start = signal + Duration::days(rng.below(30) as i64);
    case.start_date = Some(start);
    let status = if year >= 2025 {
        rng.weighted(&[
            (CaseStatus::Registered, 20),
            (CaseStatus::UnderInvestigation, 40),
            (CaseStatus::Decided, 10),
            (CaseStatus::Closed, 30),
        ])
    } else {
        CaseStatus::Closed
    };
    case.status = status;
    if matches!(status, CaseStatus::Decided | CaseStatus::Closed) {
        let kind = rng.weighted(&[
            (OutcomeKind::Unfounded, 25),
            (OutcomeKind::NotProvable, 15),
            (OutcomeKind::Warning, 15),
            (OutcomeKind::DisciplinaryMeasure, 25),
            (OutcomeKind::Dismissal, 12),
            (OutcomeKind::CriminalProsecution, 5),
            (OutcomeKind::Conviction, 3),
        ]);
        let measure = (kind == OutcomeKind::DisciplinaryMeasure).then(|| {
            rng.weighted(&[
                (MeasureKind::Reprimand, 40),
                (MeasureKind::Fine, 15),
                (MeasureKind::Suspension, 15),
                (MeasureKind::Demotion, 5),
                (MeasureKind::Transfer, 15),
                (MeasureKind::ConditionalDismissal, 10),
            ])
        });
        case.outcome = Some(Outcome { kind, measure });
        let decided = start + Duration::days(14 + rng.below(200) as i64);
        if kind.is_established() {
            case.established_at = decided
                .and_hms_opt(12, 0, 0)
                .map(|t| Utc.from_utc_datetime(&t));
        }
        if status == CaseStatus::Closed {
            case.closure_date = Some(decided + Duration::days(rng.below(60) as i64));
        }
    } else {
        case.start_date = case.start_date.filter(|_| status != CaseStatus::Registered);
    }
    case
}

/// Kinds of deliberately bad lines in [`historic_csv`].
const BAD_LINES: &[(&str, &str)] = &[
    ("signal_source", "gossip"),
    ("signal_date", "2016-02-30"),
    ("status", "open"),
    ("violation", "leak"),
    ("recipient", "friend"),
    ("years_of_service", "twelve"),
    ("events", "4|x"),
    ("outcome", "fired"),
];

/// A generated CSV file and where its bad lines are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCsv {
    pub csv: Vec<u8>,
    /// (line number, spoilt column) of each bad line, in order.
    pub bad_lines: Vec<(u64, &'static str)>,
}

/// A CSV file of `n` historic cases in the import layout, with a bad line every `bad_every` lines
/// (0: none).
pub fn historic_csv(n: usize, seed: u64, bad_every: usize) -> Result<GeneratedCsv, ExportError> {
    let cases = historic_cases(n, seed);
    let csv = cases_to_csv(&cases)?;
    if bad_every == 0 {
        return Ok(GeneratedCsv {
            csv,
            bad_lines: Vec::new(),
        });
    }
    // Re-write the chosen lines with one field spoilt; ids and summaries hold no commas or quotes,
    // so fields can be replaced by position.
    let text = String::from_utf8_lossy(&csv);
    let mut out = String::with_capacity(text.len() + n);
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if i > 0 && i % bad_every == 0 {
            let (field, value) = BAD_LINES[(i / bad_every) % BAD_LINES.len()];
            let col = COLUMNS.iter().position(|c| *c == field).unwrap_or(0);
            let mut fields: Vec<&str> = line.split(',').collect();
            if col < fields.len() {
                fields[col] = value;
            }
            out.push_str(&fields.join(","));
            bad.push((line_no, field));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    Ok(GeneratedCsv {
        csv: out.into_bytes(),
        bad_lines: bad,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate;

    #[test]
    fn generated_cases_are_valid_and_deterministic() {
        let a = historic_cases(2000, 7);
        assert_eq!(a, historic_cases(2000, 7));
        for c in &a {
            assert!(validate(c).is_empty(), "{}: {:?}", c.id, validate(c));
        }
        assert!(a.iter().any(|c| c.recipient == Some(Recipient::Criminal)));
    }
}
