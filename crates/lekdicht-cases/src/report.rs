//! Reports over registered cases: the counts and trends that parliament and supervisors ask for,
//! the share of suspicions found unfounded (overall, per unit and per function, so that uneven
//! suspicion becomes visible), the "vulnerable places" and a summary of disclosures.
//!
//! A [`Report`] is plain data (codes, not labels; counts always beside shares, so that small groups
//! show as small) with a CSV export. Rendering for a page or a terminal is the caller's. One pass
//! over the cases; figures about alerts come in as plain [`UnitFigures`] because this crate does not
//! read the alert store.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::import::ExportError;
use crate::model::Case;
use crate::vocab::{OutcomeKind, Recipient, SignalSource, ViolationType, Vocabulary};

/// Group key of cases where the fact was not registered.
pub const UNREGISTERED: &str = "unregistered";

/// A number of cases in one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// A vocabulary code, a name (unit, function, organisation), a year, or [`UNREGISTERED`].
    pub key: String,
    pub count: u64,
}

/// One year of the trend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct YearTrend {
    pub year: i32,
    pub cases: u64,
    /// Suspicions of disclosure.
    pub disclosure: u64,
    /// Of those, to criminals.
    pub to_criminals: u64,
    /// Cases with an outcome.
    pub decided: u64,
    pub unfounded: u64,
    /// Outcome other than unfounded or not provable.
    pub established: u64,
}

/// How often decided suspicions in one group were unfounded.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnfoundedShare {
    /// The unit or function (empty for the overall figure).
    pub group: String,
    /// All cases of the group.
    pub cases: u64,
    /// Cases with an outcome: the base of the share.
    pub decided: u64,
    pub unfounded: u64,
    pub not_provable: u64,
    /// `unfounded / decided`; `None` when nothing was decided.
    pub share_unfounded: Option<f64>,
}

/// Cases and alerts in one unit involving one system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceCount {
    pub unit: String,
    pub system: String,
    pub cases: u64,
    /// Alerts of the unit's employees with accesses in the system (when unit figures are given).
    pub alerts: u64,
    /// The unit's employees (0 when unknown).
    pub employees: u64,
    /// `alerts / employees`.
    pub alerts_per_employee: Option<f64>,
}

/// Figures about one unit that come from outside the case registry (roster and review).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitFigures {
    pub unit: String,
    pub employees: u64,
    pub alerts: u64,
    /// Alerts a reviewer decided.
    pub alerts_decided: u64,
    /// Decided alerts found explained (a legitimate reason).
    pub alerts_explained: u64,
    /// Decided alerts escalated (to a case).
    pub alerts_escalated: u64,
    /// Alerts per system their accesses were in (an alert counts once per system).
    pub alerts_by_system: BTreeMap<String, u64>,
}

/// Alert and case rates of one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitRates {
    pub unit: String,
    pub employees: u64,
    pub alerts: u64,
    pub cases: u64,
    pub alerts_per_employee: Option<f64>,
    pub cases_per_100_employees: Option<f64>,
    /// `alerts_explained / alerts_decided`.
    pub explained_share: Option<f64>,
    /// `alerts_escalated / alerts_decided`: how many alerts turned out to deserve a case.
    pub precision: Option<f64>,
}

/// Suspicions of disclosure by recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DisclosureSummary {
    pub suspicions: u64,
    pub to_criminals: u64,
    /// Everything else: other recipients, unknown or unregistered.
    pub to_others: u64,
    pub by_recipient: Vec<Count>,
}

impl DisclosureSummary {
    /// "219 suspicions of disclosure, 40 to criminals, 179 to others".
    pub fn sentence(&self, lang: crate::Lang) -> String {
        match lang {
            crate::Lang::Nl => format!(
                "{} vermoedens van lekken, {} naar criminelen, {} naar anderen",
                self.suspicions, self.to_criminals, self.to_others
            ),
            crate::Lang::En => format!(
                "{} suspicions of disclosure, {} to criminals, {} to others",
                self.suspicions, self.to_criminals, self.to_others
            ),
        }
    }
}

/// Everything the case report shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub total: u64,
    pub by_year: Vec<Count>,
    pub by_organisation: Vec<Count>,
    pub by_unit: Vec<Count>,
    pub by_function: Vec<Count>,
    pub by_violation: Vec<Count>,
    pub by_recipient: Vec<Count>,
    pub by_outcome: Vec<Count>,
    pub by_signal_source: Vec<Count>,
    pub trend: Vec<YearTrend>,
    pub unfounded: UnfoundedShare,
    pub unfounded_by_unit: Vec<UnfoundedShare>,
    pub unfounded_by_function: Vec<UnfoundedShare>,
    /// Unit × system, most cases first.
    pub vulnerable_places: Vec<PlaceCount>,
    /// Per unit with figures given, most alerts per employee first.
    pub unit_rates: Vec<UnitRates>,
    pub disclosure: DisclosureSummary,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Counters of one unit or function.
#[derive(Default, Clone, Copy)]
struct Tally {
    cases: u64,
    decided: u64,
    unfounded: u64,
    not_provable: u64,
}

impl Tally {
    fn add(&mut self, outcome: Option<OutcomeKind>) {
        self.cases += 1;
        if let Some(kind) = outcome {
            self.decided += 1;
            match kind {
                OutcomeKind::Unfounded => self.unfounded += 1,
                OutcomeKind::NotProvable => self.not_provable += 1,
                _ => {}
            }
        }
    }

    fn share(self, group: &str) -> UnfoundedShare {
        UnfoundedShare {
            group: group.to_owned(),
            cases: self.cases,
            decided: self.decided,
            unfounded: self.unfounded,
            not_provable: self.not_provable,
            share_unfounded: ratio(self.unfounded, self.decided),
        }
    }
}

/// Counts by a vocabulary in `ALL` order (zeros included) with unregistered last when any.
fn vocab_counts<T: Vocabulary>(counts: &[u64], unregistered: u64) -> Vec<Count> {
    let mut out: Vec<Count> = T::ALL
        .iter()
        .zip(counts)
        .map(|(&v, &count)| Count {
            key: v.code().to_owned(),
            count,
        })
        .collect();
    if unregistered > 0 {
        out.push(Count {
            key: UNREGISTERED.to_owned(),
            count: unregistered,
        });
    }
    out
}

/// Counts by name, most first (ties by name).
fn name_counts(map: HashMap<&str, u64>) -> Vec<Count> {
    let mut out: Vec<Count> = map
        .into_iter()
        .map(|(k, count)| Count {
            key: k.to_owned(),
            count,
        })
        .collect();
    out.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    out
}

fn shares(map: HashMap<&str, Tally>) -> Vec<UnfoundedShare> {
    let mut out: Vec<UnfoundedShare> = map.into_iter().map(|(k, t)| t.share(k)).collect();
    out.sort_unstable_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.group.cmp(&b.group)));
    out
}

/// The facts of one case that the report counts: what a store can keep beside each case so that a
/// report does not have to read whole cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    /// Year of the signal date.
    pub year: i32,
    pub organisation: String,
    pub signal_source: SignalSource,
    pub violation: Option<ViolationType>,
    pub recipient: Option<Recipient>,
    pub outcome: Option<OutcomeKind>,
    pub unit: Option<String>,
    pub function: Option<String>,
    pub systems: Vec<String>,
}

impl From<&Case> for CaseFacts {
    fn from(case: &Case) -> Self {
        CaseFacts {
            year: case.year(),
            organisation: case.organisation.clone(),
            signal_source: case.signal_source,
            violation: case.violation,
            recipient: case.recipient,
            outcome: case.outcome.map(|o| o.kind),
            unit: case.suspect.unit.clone(),
            function: case.suspect.function.clone(),
            systems: case.systems.clone(),
        }
    }
}

/// The stored codes of one case's facts, as a store keeps them (see [`CaseFacts::from_codes`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct FactCodes<'a> {
    /// `YYYY-MM-DD`.
    pub signal_date: &'a str,
    pub organisation: &'a str,
    pub signal_source: Option<&'a str>,
    pub violation: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub function: Option<&'a str>,
    /// The systems as a JSON array of strings.
    pub systems: Option<&'a str>,
}

impl CaseFacts {
    /// Reads stored codes, naming the first one that is not a known code.
    pub fn from_codes(codes: FactCodes<'_>) -> Result<CaseFacts, String> {
        fn code<T: Vocabulary>(field: &str, value: Option<&str>) -> Result<Option<T>, String> {
            value
                .map(|v| T::from_code(v).ok_or_else(|| format!("{field}: unknown code {v:?}")))
                .transpose()
        }
        let date = chrono::NaiveDate::parse_from_str(codes.signal_date, "%Y-%m-%d")
            .map_err(|e| format!("signal_date: {e}"))?;
        let signal_source = code::<SignalSource>("signal_source", codes.signal_source)?
            .ok_or("signal_source: missing")?;
        let systems = match codes.systems {
            Some(json) => serde_json::from_str(json).map_err(|e| format!("systems: {e}"))?,
            None => Vec::new(),
        };
        Ok(CaseFacts {
            year: chrono::Datelike::year(&date),
            organisation: codes.organisation.to_owned(),
            signal_source,
            violation: code("violation", codes.violation)?,
            recipient: code("recipient", codes.recipient)?,
            outcome: code("outcome", codes.outcome)?,
            unit: codes.unit.map(str::to_owned),
            function: codes.function.map(str::to_owned),
            systems,
        })
    }
}

/// Builds the report over whole cases (see [`build_report`]).
pub fn report_of_cases(cases: &[Case], units: &[UnitFigures]) -> Report {
    let facts: Vec<CaseFacts> = cases.iter().map(CaseFacts::from).collect();
    build_report(&facts, units)
}

/// Builds the report over the facts of the cases, with the unit figures when known.
pub fn build_report(cases: &[CaseFacts], units: &[UnitFigures]) -> Report {
    let mut by_year: BTreeMap<i32, YearTrend> = BTreeMap::new();
    let mut by_org: HashMap<&str, u64> = HashMap::new();
    let mut by_unit: HashMap<&str, u64> = HashMap::new();
    let mut by_function: HashMap<&str, u64> = HashMap::new();
    let mut violation = [0u64; ViolationType::ALL.len()];
    let mut violation_none = 0;
    let mut recipient = [0u64; Recipient::ALL.len()];
    let mut recipient_none = 0;
    let mut outcome = [0u64; OutcomeKind::ALL.len()];
    let mut outcome_none = 0;
    let mut source = [0u64; SignalSource::ALL.len()];
    let mut overall = Tally::default();
    let mut unit_tally: HashMap<&str, Tally> = HashMap::new();
    let mut function_tally: HashMap<&str, Tally> = HashMap::new();
    let mut places: HashMap<(&str, &str), u64> = HashMap::new();
    let mut disclosure = DisclosureSummary::default();
    let mut disclosure_recipient = [0u64; Recipient::ALL.len()];
    let mut disclosure_recipient_none = 0;
    let mut seen_systems: HashSet<&str> = HashSet::new();

    for case in cases {
        let kind = case.outcome;
        let unit = case.unit.as_deref().unwrap_or(UNREGISTERED);
        let function = case.function.as_deref().unwrap_or(UNREGISTERED);
        let year = by_year.entry(case.year).or_insert_with(|| YearTrend {
            year: case.year,
            ..YearTrend::default()
        });
        year.cases += 1;
        if let Some(k) = kind {
            year.decided += 1;
            if k == OutcomeKind::Unfounded {
                year.unfounded += 1;
            }
            if k.is_established() {
                year.established += 1;
            }
        }
        *by_org.entry(case.organisation.as_str()).or_default() += 1;
        *by_unit.entry(unit).or_default() += 1;
        *by_function.entry(function).or_default() += 1;
        match case.violation {
            Some(v) => violation[v.index()] += 1,
            None => violation_none += 1,
        }
        match case.recipient {
            Some(r) => recipient[r.index()] += 1,
            None => recipient_none += 1,
        }
        match kind {
            Some(k) => outcome[k.index()] += 1,
            None => outcome_none += 1,
        }
        source[case.signal_source.index()] += 1;
        overall.add(kind);
        unit_tally.entry(unit).or_default().add(kind);
        function_tally.entry(function).or_default().add(kind);
        seen_systems.clear();
        for system in &case.systems {
            if seen_systems.insert(system.as_str()) {
                *places.entry((unit, system.as_str())).or_default() += 1;
            }
        }
        if case.violation == Some(ViolationType::Disclosure) {
            disclosure.suspicions += 1;
            year.disclosure += 1;
            match case.recipient {
                Some(Recipient::Criminal) => {
                    disclosure.to_criminals += 1;
                    year.to_criminals += 1;
                }
                _ => disclosure.to_others += 1,
            }
            match case.recipient {
                Some(r) => disclosure_recipient[r.index()] += 1,
                None => disclosure_recipient_none += 1,
            }
        }
    }
    disclosure.by_recipient =
        vocab_counts::<Recipient>(&disclosure_recipient, disclosure_recipient_none);

    // (cases, alerts, employees) per unit × system.
    let mut place_figures: HashMap<(&str, &str), (u64, u64, u64)> = places
        .into_iter()
        .map(|(place, cases)| (place, (cases, 0, 0)))
        .collect();
    for u in units {
        for (system, &alerts) in &u.alerts_by_system {
            place_figures
                .entry((u.unit.as_str(), system.as_str()))
                .or_default()
                .1 += alerts;
        }
    }
    let employees: HashMap<&str, u64> = units
        .iter()
        .map(|u| (u.unit.as_str(), u.employees))
        .collect();
    let mut vulnerable_places: Vec<PlaceCount> = place_figures
        .into_iter()
        .map(|((unit, system), (cases, alerts, _))| {
            let employees = employees.get(unit).copied().unwrap_or(0);
            PlaceCount {
                unit: unit.to_owned(),
                system: system.to_owned(),
                cases,
                alerts,
                employees,
                alerts_per_employee: ratio(alerts, employees),
            }
        })
        .collect();
    vulnerable_places.sort_unstable_by(|a, b| {
        b.cases
            .cmp(&a.cases)
            .then_with(|| b.alerts.cmp(&a.alerts))
            .then_with(|| a.unit.cmp(&b.unit))
            .then_with(|| a.system.cmp(&b.system))
    });

    let mut unit_rates: Vec<UnitRates> = units
        .iter()
        .map(|u| {
            let cases = by_unit.get(u.unit.as_str()).copied().unwrap_or(0);
            UnitRates {
                unit: u.unit.clone(),
                employees: u.employees,
                alerts: u.alerts,
                cases,
                alerts_per_employee: ratio(u.alerts, u.employees),
                cases_per_100_employees: ratio(cases * 100, u.employees),
                explained_share: ratio(u.alerts_explained, u.alerts_decided),
                precision: ratio(u.alerts_escalated, u.alerts_decided),
            }
        })
        .collect();
    unit_rates.sort_by(|a, b| {
        b.alerts_per_employee
            .unwrap_or(0.0)
            .total_cmp(&a.alerts_per_employee.unwrap_or(0.0))
            .then_with(|| a.unit.cmp(&b.unit))
    });

    Report {
        total: cases.len() as u64,
        by_year: by_year
            .values()
            .map(|y| Count {
                key: y.year.to_string(),
                count: y.cases,
            })
            .collect(),
        by_organisation: name_counts(by_org),
        by_unit: name_counts(by_unit),
        by_function: name_counts(by_function),
        by_violation: vocab_counts::<ViolationType>(&violation, violation_none),
        by_recipient: vocab_counts::<Recipient>(&recipient, recipient_none),
        by_outcome: vocab_counts::<OutcomeKind>(&outcome, outcome_none),
        by_signal_source: vocab_counts::<SignalSource>(&source, 0),
        trend: by_year.into_values().collect(),
        unfounded: overall.share(""),
        unfounded_by_unit: shares(unit_tally),
        unfounded_by_function: shares(function_tally),
        vulnerable_places,
        unit_rates,
        disclosure,
    }
}

/// A cell as a spreadsheet should show it: text that starts with `=`, `+`, `-` or `@` (which a
/// spreadsheet would run as a formula) gets a leading `'`.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Writes one CSV row with every cell made [`spreadsheet_safe`].
fn write_safe<const N: usize>(
    w: &mut csv::Writer<Vec<u8>>,
    cells: [&str; N],
) -> Result<(), csv::Error> {
    w.write_record(cells.map(spreadsheet_safe).iter().map(|c| c.as_ref()))
}

impl Report {
    /// The report as CSV (cells [`spreadsheet_safe`]): one row per figure, columns `section, group, subgroup, count, of,
    /// share` (`of` and `share` where the figure is a share).
    pub fn to_csv(&self) -> Result<Vec<u8>, ExportError> {
        let mut w = csv::Writer::from_writer(Vec::new());
        write_safe(
            &mut w,
            ["section", "group", "subgroup", "count", "of", "share"],
        )?;
        let share = |s: Option<f64>| s.map(|v| format!("{v:.4}")).unwrap_or_default();
        write_safe(&mut w, ["total", "", "", &self.total.to_string(), "", ""])?;
        for (section, counts) in [
            ("year", &self.by_year),
            ("organisation", &self.by_organisation),
            ("unit", &self.by_unit),
            ("function", &self.by_function),
            ("violation", &self.by_violation),
            ("recipient", &self.by_recipient),
            ("outcome", &self.by_outcome),
            ("signal_source", &self.by_signal_source),
            ("disclosure_recipient", &self.disclosure.by_recipient),
        ] {
            for c in counts {
                write_safe(&mut w, [section, &c.key, "", &c.count.to_string(), "", ""])?;
            }
        }
        for t in &self.trend {
            let year = t.year.to_string();
            for (name, n) in [
                ("cases", t.cases),
                ("disclosure", t.disclosure),
                ("to_criminals", t.to_criminals),
                ("decided", t.decided),
                ("unfounded", t.unfounded),
                ("established", t.established),
            ] {
                write_safe(&mut w, ["trend", &year, name, &n.to_string(), "", ""])?;
            }
        }
        let d = &self.disclosure;
        for (name, n) in [
            ("suspicions", d.suspicions),
            ("to_criminals", d.to_criminals),
            ("to_others", d.to_others),
        ] {
            write_safe(&mut w, ["disclosure", name, "", &n.to_string(), "", ""])?;
        }
        for (section, list) in [
            ("unfounded", std::slice::from_ref(&self.unfounded)),
            ("unfounded_by_unit", &self.unfounded_by_unit[..]),
            ("unfounded_by_function", &self.unfounded_by_function[..]),
        ] {
            for s in list {
                write_safe(
                    &mut w,
                    [
                        section,
                        &s.group,
                        "",
                        &s.unfounded.to_string(),
                        &s.decided.to_string(),
                        &share(s.share_unfounded),
                    ],
                )?;
            }
        }
        for p in &self.vulnerable_places {
            write_safe(
                &mut w,
                [
                    "vulnerable_place",
                    &p.unit,
                    &p.system,
                    &p.cases.to_string(),
                    "",
                    "",
                ],
            )?;
            if p.alerts > 0 {
                write_safe(
                    &mut w,
                    [
                        "vulnerable_place_alerts",
                        &p.unit,
                        &p.system,
                        &p.alerts.to_string(),
                        &p.employees.to_string(),
                        &share(p.alerts_per_employee),
                    ],
                )?;
            }
        }
        for u in &self.unit_rates {
            write_safe(
                &mut w,
                [
                    "alerts_per_employee",
                    &u.unit,
                    "",
                    &u.alerts.to_string(),
                    &u.employees.to_string(),
                    &share(u.alerts_per_employee),
                ],
            )?;
            write_safe(
                &mut w,
                ["alert_precision", &u.unit, "", "", "", &share(u.precision)],
            )?;
            write_safe(
                &mut w,
                [
                    "alerts_explained",
                    &u.unit,
                    "",
                    "",
                    "",
                    &share(u.explained_share),
                ],
            )?;
        }
        w.into_inner()
            .map_err(|e| ExportError::Finish(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::model::Outcome;

    fn case(year: i32, unit: &str, function: &str, outcome: Option<OutcomeKind>) -> Case {
        let mut c = Case::new(
            "politie",
            SignalSource::Colleague,
            NaiveDate::from_ymd_opt(year, 6, 1).unwrap(),
        );
        c.suspect.unit = Some(unit.into());
        c.suspect.function = Some(function.into());
        c.outcome = outcome.map(|kind| Outcome {
            kind,
            measure: None,
        });
        c
    }

    fn count(counts: &[Count], key: &str) -> u64 {
        counts.iter().find(|c| c.key == key).map_or(0, |c| c.count)
    }

    #[test]
    fn counts_shares_places_and_rates() {
        let mut cases = vec![
            case(2015, "A", "agent", Some(OutcomeKind::Unfounded)),
            case(2015, "A", "agent", Some(OutcomeKind::Warning)),
            case(2016, "A", "hoofdagent", None),
            case(2016, "B", "agent", Some(OutcomeKind::Unfounded)),
        ];
        cases[0].systems = vec!["BVH".into(), "BVH".into(), "BRP".into()];
        cases[1].systems = vec!["BVH".into()];
        cases[3].systems = vec!["BVH".into()];
        cases[3].suspect.function = None;
        let units = [UnitFigures {
            unit: "A".into(),
            employees: 50,
            alerts: 10,
            alerts_decided: 8,
            alerts_explained: 6,
            alerts_escalated: 2,
            alerts_by_system: [("BVH".to_owned(), 4), ("KMAR-GEO".to_owned(), 5)]
                .into_iter()
                .collect(),
        }];
        let r = report_of_cases(&cases, &units);
        assert_eq!(r.total, 4);
        assert_eq!(count(&r.by_year, "2015"), 2);
        assert_eq!(count(&r.by_year, "2016"), 2);
        assert_eq!(count(&r.by_unit, "A"), 3);
        assert_eq!(count(&r.by_function, UNREGISTERED), 1);
        assert_eq!(count(&r.by_outcome, "unfounded"), 2);
        assert_eq!(count(&r.by_outcome, UNREGISTERED), 1);
        assert_eq!(count(&r.by_signal_source, "colleague"), 4);
        assert_eq!(r.unfounded.decided, 3);
        assert_eq!(r.unfounded.unfounded, 2);
        assert_eq!(r.unfounded.share_unfounded, Some(2.0 / 3.0));
        let b = r.unfounded_by_unit.iter().find(|s| s.group == "B").unwrap();
        assert_eq!((b.cases, b.decided, b.unfounded), (1, 1, 1));
        let hoofd = r
            .unfounded_by_function
            .iter()
            .find(|s| s.group == "hoofdagent")
            .unwrap();
        assert_eq!(hoofd.share_unfounded, None);
        assert_eq!(
            r.vulnerable_places[0],
            PlaceCount {
                unit: "A".into(),
                system: "BVH".into(),
                cases: 2,
                alerts: 4,
                employees: 50,
                alerts_per_employee: Some(0.08),
            }
        );
        // A place with alerts and no case yet is listed after those with cases.
        assert_eq!(r.vulnerable_places.len(), 4);
        let geo = r.vulnerable_places.last().unwrap();
        assert_eq!(
            (geo.system.as_str(), geo.cases, geo.alerts),
            ("KMAR-GEO", 0, 5)
        );
        assert_eq!(r.trend[0].unfounded, 1);
        assert_eq!(r.trend[0].established, 1);
        let a = &r.unit_rates[0];
        assert_eq!(a.cases, 3);
        assert_eq!(a.alerts_per_employee, Some(0.2));
        assert_eq!(a.precision, Some(0.25));
        assert_eq!(a.explained_share, Some(0.75));
        let csv = String::from_utf8(r.to_csv().unwrap()).unwrap();
        assert!(csv.starts_with("section,group,subgroup,count,of,share\ntotal,,,4,,\n"));
        assert!(csv.contains("vulnerable_place,A,BVH,2,,\n"), "{csv}");
        assert!(
            csv.contains("vulnerable_place_alerts,A,BVH,4,50,0.0800\n"),
            "{csv}"
        );
        assert!(csv.contains("unfounded,,,2,3,0.6667\n"), "{csv}");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let cases = vec![
            case(2016, "=HYPERLINK(\"http://x\")", "+agent", None),
            case(2016, "@SUM(A1)", "-1+1", None),
        ];
        let csv = String::from_utf8(report_of_cases(&cases, &[]).to_csv().unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let mut seen = 0;
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell} in {csv}");
                seen += usize::from(cell.starts_with('\''));
            }
        }
        assert!(seen >= 4, "{csv}");
        assert_eq!(spreadsheet_safe("12"), "12");
        assert_eq!(spreadsheet_safe("=1+1"), "'=1+1");
    }

    #[test]
    fn stored_codes_give_the_same_facts_as_the_case() {
        let mut c = case(
            2016,
            "Wijkteam Noord",
            "agent",
            Some(OutcomeKind::Dismissal),
        );
        c.violation = Some(ViolationType::Disclosure);
        c.recipient = Some(Recipient::Criminal);
        c.systems = vec!["BVH".into(), "BRP".into()];
        let codes = FactCodes {
            signal_date: "2016-03-01",
            organisation: &c.organisation,
            signal_source: Some(c.signal_source.as_str()),
            violation: Some("disclosure"),
            recipient: Some("criminal"),
            outcome: Some("dismissal"),
            unit: Some("Wijkteam Noord"),
            function: Some("agent"),
            systems: Some(r#"["BVH","BRP"]"#),
        };
        assert_eq!(CaseFacts::from_codes(codes), Ok(CaseFacts::from(&c)));
        let bad = FactCodes {
            outcome: Some("hanged"),
            ..codes
        };
        assert_eq!(
            CaseFacts::from_codes(bad),
            Err("outcome: unknown code \"hanged\"".to_owned())
        );
        let no_source = FactCodes {
            signal_source: None,
            ..codes
        };
        assert!(CaseFacts::from_codes(no_source).is_err());
    }

    #[test]
    fn empty_report() {
        let r = build_report(&[], &[]);
        assert_eq!(r.total, 0);
        assert_eq!(r.unfounded.share_unfounded, None);
        assert!(r.by_year.is_empty());
        assert_eq!(r.by_violation.len(), ViolationType::ALL.len());
    }
}
