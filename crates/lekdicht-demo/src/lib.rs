//! A synthetic police region and a month of its access logs, with an answer key of planted
//! violations: the product's showcase and the benchmark for detection quality.
//!
//! `generate` builds a believable world from a seed: neighbourhood teams with their postcode areas,
//! detective teams, a national protection unit, a traffic unit and a municipal front office; about a
//! hundred thousand people in households; vehicles; declared relations; cases; duty rosters; and
//! about a million access events of ordinary work with, hidden among them, the violations of about
//! one percent of the employees. Ordinary work deliberately contains what makes naive detectors
//! raise false alarms. The same configuration always gives the same world, byte for byte.
//!
//! This crate only generates and writes files. It does not ingest, score or evaluate: the answer key
//! and the employee groups are for evaluation and must never reach detection.

mod activity;
mod answer;
mod cases;
mod clock;
mod ix;
mod mix;
mod names;
mod plant;
mod population;
mod roster;
mod staff;
mod write;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use lekdicht_model::{
    AccessEvent, Case, CaseId, ContextRecords, Employee, EmployeeId, EventId, Relation, Shift,
    Subject, SubjectType, Unit, Vehicle,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use answer::{AnswerKey, EmployeeGroups, Violation, ViolationKind};
pub use write::{ANSWER_KEY_FILE, GROUPS_FILE, WorldFiles, WrittenFile, write_world};

use crate::activity::{Ctx, Draft};
use crate::cases::{Target, target_id};
use crate::clock::{Clock, DAY};
use crate::ix::EmpIx;
use crate::population::age_on;
use crate::staff::UnitKind;

/// Size, period and seed of a generated world.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    pub employees: usize,
    /// Persons in the population (raised to at least three per employee, plus a few).
    pub persons: usize,
    pub vehicles: usize,
    /// Length of the period in days (at most 36,500).
    pub days: u32,
    pub seed: u64,
    /// First day of the period (held within the years 1800–9000, so that date arithmetic over
    /// birth dates and the period never leaves the calendar).
    pub start: NaiveDate,
    /// Share of employees with planted violations, in `[0, 1]` (0 gives a world without any
    /// violation: every alert in it is a false alarm).
    pub violator_share: f64,
    /// The kind of organisation the world imitates.
    pub profile: Profile,
}

/// The kind of organisation a world imitates. Each moves the emphasis of the same region: how
/// many patrol officers and detectives, how large the municipal front office, how much patrol
/// volume and unregistered work. Detection is judged on all of them, never on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// A police region with a municipal front office (the default world).
    Region,
    /// Police-heavy: many patrol officers with a high check volume, more detectives and more
    /// restricted investigations.
    Police,
    /// A large municipal front office beside a smaller police presence, low patrol volume.
    FrontOffice,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 3] = [Profile::Region, Profile::Police, Profile::FrontOffice];

    /// The profile's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Region => "region",
            Profile::Police => "police",
            Profile::FrontOffice => "front-office",
        }
    }

    /// Parses a name from [`Profile::as_str`].
    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            employees: 2000,
            persons: 100_000,
            vehicles: 30_000,
            days: 30,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2025, 3, 3).unwrap_or(NaiveDate::MIN),
            violator_share: 0.01,
            profile: Profile::Region,
        }
    }
}

/// A generated world: context records, access events sorted by time, and the evaluation data.
#[derive(Debug, Clone)]
pub struct World {
    pub config: DemoConfig,
    pub units: Vec<Unit>,
    pub employees: Vec<Employee>,
    pub subjects: Vec<Subject>,
    pub vehicles: Vec<Vehicle>,
    pub relations: Vec<Relation>,
    pub cases: Vec<Case>,
    pub shifts: Vec<Shift>,
    /// Sorted by time; identifiers are unique.
    pub events: Vec<AccessEvent>,
    pub answer_key: AnswerKey,
    pub groups: Vec<EmployeeGroups>,
}

impl World {
    /// A copy of the world's context records, as detection and the store take them.
    pub fn context_records(&self) -> ContextRecords {
        ContextRecords {
            units: self.units.clone(),
            employees: self.employees.clone(),
            subjects: self.subjects.clone(),
            vehicles: self.vehicles.clone(),
            relations: self.relations.clone(),
            cases: self.cases.clone(),
            shifts: self.shifts.clone(),
        }
    }

    /// Each violating event's kind (snake_case), for evaluation.
    pub fn violation_kinds(&self) -> std::collections::HashMap<EventId, String> {
        self.answer_key
            .violations
            .iter()
            .map(|v| (v.event.clone(), v.kind.as_str().to_owned()))
            .collect()
    }

    /// Each employee's groups, for evaluation.
    pub fn groups_by_employee(
        &self,
    ) -> std::collections::HashMap<EmployeeId, BTreeMap<String, String>> {
        self.groups
            .iter()
            .map(|g| (g.employee.clone(), g.groups.clone()))
            .collect()
    }
}

/// Generates a world. Deterministic: the same configuration gives the same world.
pub fn generate(config: &DemoConfig) -> World {
    let mix = mix::Mix::for_profile(config.profile);
    let earliest = NaiveDate::from_ymd_opt(1800, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = NaiveDate::from_ymd_opt(9000, 1, 1).unwrap_or(NaiveDate::MAX);
    let start = config.start.clamp(earliest, latest);
    let config = &DemoConfig {
        start,
        days: config.days.min(36_500),
        ..config.clone()
    };
    let clock = Clock::new(config.start, config.days);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let names = names::Names::new();
    let persons = config
        .persons
        .max(config.employees.saturating_mul(3).saturating_add(50));
    let mut people = population::build(
        &mut rng,
        &mix,
        &names,
        config.start,
        persons,
        config.vehicles,
    );
    let mut staff = staff::build(&mut rng, &mix, &clock, &mut people, config.employees);
    let plan = plant::plan(
        &mut rng,
        &mix,
        &clock,
        &people,
        &mut staff,
        config.violator_share,
    );
    let rosters = roster::build(&mut rng, &mix, &clock, &staff, &plan.needs);
    let mut book = cases::build(&mut rng, &mix, &clock, &people, &staff, &rosters);
    let ctx = Ctx {
        clock: &clock,
        mix: &mix,
        people: &people,
        staff: &staff,
        rosters: &rosters,
    };
    let mut drafts = activity::generate(&mut rng, &ctx, &mut book);
    plant::execute(&mut rng, &ctx, &book, &plan, &mut drafts);
    // Ordinary work never happens during leave or sickness (a late follow-up or a call-out that
    // would fall there is simply not done).
    drafts.retain(|d| {
        d.t >= 0
            && d.t < clock.end()
            && staff.active_on(d.actor, d.t.div_euclid(DAY))
            && (d.violation.is_some() || !rosters.absent(d.actor, d.t))
    });
    drafts.sort_by_key(|d| d.t);

    let cases = book.records(&clock, &people, &staff);
    let case_ids: Vec<CaseId> = cases.iter().map(|c| c.id.clone()).collect();
    let workstations: Vec<Option<String>> = (0..staff.len())
        .map(|i| {
            let info = &staff.info[i];
            let kind = staff.unit_info[info.unit.ix()].kind;
            matches!(kind, UnitKind::FrontOffice | UnitKind::Detective)
                .then(|| format!("WS-{}-{:03}", staff.units[info.unit.ix()].id, i % 97 + 1))
        })
        .collect();
    let mut violations = Vec::new();
    let events: Vec<AccessEvent> = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let event = to_event(i, d, &clock, &people, &staff, &case_ids, &workstations);
            if let Some(kind) = d.violation {
                violations.push(Violation {
                    event: event.id.clone(),
                    actor: event.actor.clone(),
                    kind,
                });
            }
            event
        })
        .collect();

    let shifts = (0..staff.len())
        .filter(|&i| rosters.published[i])
        .flat_map(|i| {
            let id = &staff.employees[i].id;
            rosters.blocks[i].iter().map(|b| Shift {
                employee: id.clone(),
                start: clock.time(b.start),
                end: clock.time(b.end),
                kind: b.kind,
            })
        })
        .collect();
    let groups = groups(config, &people, &staff);
    World {
        config: config.clone(),
        units: staff.units,
        employees: staff.employees,
        subjects: people.subjects,
        vehicles: people.vehicles,
        relations: staff.relations,
        cases,
        shifts,
        events,
        answer_key: AnswerKey { violations },
        groups,
    }
}

fn to_event(
    i: usize,
    d: &Draft,
    clock: &Clock,
    people: &population::People,
    staff: &staff::Staff,
    case_ids: &[CaseId],
    workstations: &[Option<String>],
) -> AccessEvent {
    let info = &staff.info[d.actor.ix()];
    let front_office = staff.unit_info[info.unit.ix()].kind == UnitKind::FrontOffice;
    AccessEvent {
        // INVARIANT: the formatted identifier is short and printable.
        id: EventId::new(format!("{}-{:09}", d.system.prefix(), i + 1)).expect("valid event id"),
        time: clock.time(d.t),
        actor: staff.employees[d.actor.ix()].id.clone(),
        system: d.system.name().to_string(),
        action: d.action,
        subject: d.target.map(|t| target_id(people, t)),
        subject_type: match d.target {
            Some(Target::Vehicle(_)) => SubjectType::Vehicle,
            _ => SubjectType::Person,
        },
        query: d.query.clone(),
        result_count: d.result_count,
        case: d.case.map(|c| case_ids[c.ix()].clone()),
        purpose: Some(d.system.purpose(front_office).to_string()),
        organization: staff.employees[d.actor.ix()].organization.clone(),
        trace_id: None,
        span_id: None,
        location: d.location.clone(),
        workstation: workstations[d.actor.ix()].clone(),
    }
}

/// Mixed into the seed for the stream that assigns genders.
const GENDER_STREAM: u64 = 0x6765_6e64_6572_0001;

/// The evaluation groups of each employee. `surname`, `age` and `gender` are personal attributes
/// for fairness; `unit_kind` describes the work, not the person, and is there for information.
fn groups(
    config: &DemoConfig,
    people: &population::People,
    staff: &staff::Staff,
) -> Vec<EmployeeGroups> {
    let threshold = ((people.len() as f64) * 0.0005).max(2.0) as usize;
    // Gender is drawn from its own stream, so that it is independent of everything else in the
    // world (unit, role, age, name, behaviour, violations) and adding it changed nothing else.
    let mut genders = ChaCha8Rng::seed_from_u64(config.seed ^ GENDER_STREAM);
    (0..staff.len())
        .map(|i| {
            let e = EmpIx::new(i);
            let info = &staff.info[i];
            let name = people.family_name(info.person);
            let frequent = people.by_family_name.get(name).map_or(0, Vec::len) >= threshold;
            let age = people.subjects[info.person.ix()]
                .birth_date
                .map_or(40, |b| age_on(b, config.start));
            let age_group = match age {
                0..=34 => "under-35",
                35..=49 => "35-49",
                _ => "50-plus",
            };
            let mut groups = BTreeMap::new();
            groups.insert(
                "surname".to_string(),
                if frequent { "common" } else { "rare" }.to_string(),
            );
            groups.insert("age".to_string(), age_group.to_string());
            let gender = if genders.random_bool(0.5) {
                "female"
            } else {
                "male"
            };
            groups.insert("gender".to_string(), gender.to_string());
            groups.insert(
                "unit_kind".to_string(),
                staff.unit_of(e).kind.as_str().to_string(),
            );
            EmployeeGroups {
                employee: staff.employees[i].id.clone(),
                groups,
            }
        })
        .collect()
}
