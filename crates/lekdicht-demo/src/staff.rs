//! The organisation: units with their areas, employees with their roles, and the relations
//! employees have declared.
//!
//! Employees are drawn from the population, so they have an own record (flag `employee`), a home
//! address, a family and neighbours, and share family names with unrelated people. This module does
//! not decide who misbehaves; that happens when violations are planned.

use chrono::{Duration, NaiveDate};
use lekdicht_model::{Employee, EmployeeId, Relation, RelationKind, SubjectFlag, Unit, UnitId};
use rand::Rng;
use rand::seq::{IndexedRandom, index};

use crate::clock::Clock;
use crate::ix::{EmpIx, PersonIx, UnitIx};
use crate::mix::{Mix, UnitShares};
use crate::population::{People, REGION_PC4};

/// What kind of unit an employee works in (also a fairness group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitKind {
    Neighbourhood,
    Detective,
    National,
    Traffic,
    FrontOffice,
}

impl UnitKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            UnitKind::Neighbourhood => "neighbourhood",
            UnitKind::Detective => "detective",
            UnitKind::National => "national",
            UnitKind::Traffic => "traffic",
            UnitKind::FrontOffice => "front-office",
        }
    }
}

/// What an employee does all day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Agent,
    Hoofdagent,
    Brigadier,
    Wijkagent,
    Teamchef,
    Rechercheur,
    Analist,
    Motoragent,
    Beveiliger,
    Baliemedewerker,
    Teamleider,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Hoofdagent => "hoofdagent",
            Role::Brigadier => "brigadier",
            Role::Wijkagent => "wijkagent",
            Role::Teamchef => "teamchef",
            Role::Rechercheur => "rechercheur",
            Role::Analist => "analist",
            Role::Motoragent => "motoragent",
            Role::Beveiliger => "persoonsbeveiliger",
            Role::Baliemedewerker => "baliemedewerker",
            Role::Teamleider => "teamleider",
        }
    }

    /// Whether the role works round-the-clock rosters.
    pub(crate) fn round_the_clock(self) -> bool {
        matches!(
            self,
            Role::Agent | Role::Hoofdagent | Role::Brigadier | Role::Motoragent | Role::Beveiliger
        )
    }
}

pub(crate) struct UnitInfo {
    pub kind: UnitKind,
    /// Indices into `People::pc4s` of the area served.
    pub area: Vec<usize>,
    pub members: Vec<EmpIx>,
}

pub(crate) struct EmpInfo {
    pub unit: UnitIx,
    pub role: Role,
    pub person: PersonIx,
    /// First day of the period on which the employee works.
    pub first_day: i64,
    /// First day of the period on which the employee no longer works.
    pub end_day: i64,
}

/// Units, employees and declared relations.
pub(crate) struct Staff {
    pub units: Vec<Unit>,
    pub unit_info: Vec<UnitInfo>,
    pub employees: Vec<Employee>,
    pub info: Vec<EmpInfo>,
    pub relations: Vec<Relation>,
    /// Declared relations per employee.
    pub related: Vec<Vec<(PersonIx, RelationKind)>>,
}

impl Staff {
    pub(crate) fn len(&self) -> usize {
        self.employees.len()
    }

    pub(crate) fn unit_of(&self, e: EmpIx) -> &UnitInfo {
        &self.unit_info[self.info[e.ix()].unit.ix()]
    }

    pub(crate) fn active_on(&self, e: EmpIx, day: i64) -> bool {
        let i = &self.info[e.ix()];
        day >= i.first_day && day < i.end_day
    }

    /// Records a declared relation.
    pub(crate) fn declare(
        &mut self,
        people: &People,
        e: EmpIx,
        p: PersonIx,
        kind: RelationKind,
        declared_on: NaiveDate,
    ) {
        if self.related[e.ix()].iter().any(|&(q, _)| q == p) {
            return;
        }
        self.related[e.ix()].push((p, kind));
        self.relations.push(Relation {
            employee: self.employees[e.ix()].id.clone(),
            subject: people.subject(p).id.clone(),
            kind,
            declared_on: Some(declared_on),
        });
    }

    /// Changes when an employee leaves (last working day).
    pub(crate) fn set_leaving(&mut self, clock: &Clock, e: EmpIx, last_day: i64) {
        self.employees[e.ix()].active_until = Some(clock.date(last_day));
        let info = &mut self.info[e.ix()];
        info.end_day = (last_day + 1).clamp(info.first_day, clock.days());
    }
}

const NEIGHBOURHOOD_NAMES: &[&str] = &[
    "Centrum-Burgwallen",
    "Centrum-Jordaan",
    "Centrum-Nieuwmarkt",
    "Oost-Watergraafsmeer",
    "Oost-Dapperbuurt",
    "Oost-IJburg",
    "West-Bos en Lommer",
    "West-Kinkerbuurt",
    "Nieuw-West-Osdorp",
    "Nieuw-West-Slotervaart",
    "Nieuw-West-Geuzenveld",
    "Zuid-De Pijp",
    "Zuid-Buitenveldert",
    "Zuid-Rivierenbuurt",
    "Noord-Buikslotermeer",
    "Noord-Tuindorp",
    "Zuidoost-Bijlmer",
    "Zuidoost-Gaasperdam",
    "Westpoort-Haven",
    "Centrum-Grachtengordel",
];

const DETECTIVE_NAMES: &[&str] = &[
    "Team Zware Criminaliteit",
    "Team Ondermijning",
    "Districtsrecherche Noord-Oost",
    "Districtsrecherche Zuid-West",
    "Team Jeugd en Zeden",
    "Team Digitale Opsporing",
];

fn unit(id: String, organization: &str, name: String, area: Vec<String>) -> Unit {
    Unit {
        // INVARIANT: unit ids are short, printable constants.
        id: UnitId::new(id).expect("valid unit id"),
        organization: Some(organization.to_string()),
        name: Some(name),
        area,
    }
}

fn units(
    people: &People,
    shares: &UnitShares,
    employees: usize,
) -> (Vec<Unit>, Vec<UnitInfo>, Vec<usize>) {
    let n_neighbourhood = (employees / 100).clamp(1, NEIGHBOURHOOD_NAMES.len());
    let n_detective = (employees / 330).clamp(1, DETECTIVE_NAMES.len());
    let region: Vec<u16> = REGION_PC4.collect();
    let mut out = Vec::new();
    let mut info = Vec::new();
    let mut sizes = Vec::new();
    let part = |share: f64| (employees as f64 * share.clamp(0.0, 1.0)).round() as usize;
    let front = part(shares.front_office).max(1);
    let traffic = part(shares.traffic).max(1);
    let national = part(shares.national).max(1);
    let detective_total = part(shares.detective).max(n_detective);
    let neighbourhood_total = employees
        .saturating_sub(front + traffic + national + detective_total)
        .max(n_neighbourhood);
    for (i, name) in NEIGHBOURHOOD_NAMES.iter().enumerate().take(n_neighbourhood) {
        let from = region.len() * i / n_neighbourhood;
        let to = region.len() * (i + 1) / n_neighbourhood;
        let codes = &region[from..to];
        out.push(unit(
            format!("AMS-BT-{:02}", i + 1),
            "politie",
            format!("Basisteam {name}"),
            codes.iter().map(|c| c.to_string()).collect(),
        ));
        info.push(UnitInfo {
            kind: UnitKind::Neighbourhood,
            area: codes.iter().filter_map(|&c| people.pc4_index(c)).collect(),
            members: Vec::new(),
        });
        sizes.push(share(neighbourhood_total, i, n_neighbourhood));
    }
    for (i, name) in DETECTIVE_NAMES.iter().enumerate().take(n_detective) {
        out.push(unit(
            format!("AMS-RECH-{}", i + 1),
            "politie",
            name.to_string(),
            Vec::new(),
        ));
        info.push(UnitInfo {
            kind: UnitKind::Detective,
            area: Vec::new(),
            members: Vec::new(),
        });
        sizes.push(share(detective_total, i, n_detective));
    }
    out.push(unit(
        "LE-DBB".to_string(),
        "politie",
        "Landelijke Eenheid, Dienst Bewaken en Beveiligen".to_string(),
        Vec::new(),
    ));
    info.push(UnitInfo {
        kind: UnitKind::National,
        area: Vec::new(),
        members: Vec::new(),
    });
    sizes.push(national);
    out.push(unit(
        "AMS-VERKEER".to_string(),
        "politie",
        "Team Verkeer Amsterdam".to_string(),
        region.iter().map(|c| c.to_string()).collect(),
    ));
    info.push(UnitInfo {
        kind: UnitKind::Traffic,
        area: region.iter().filter_map(|&c| people.pc4_index(c)).collect(),
        members: Vec::new(),
    });
    sizes.push(traffic);
    out.push(unit(
        "GEM-AMS-PZ".to_string(),
        "gemeente",
        "Gemeente Amsterdam, Publiekszaken".to_string(),
        region.iter().map(|c| c.to_string()).collect(),
    ));
    info.push(UnitInfo {
        kind: UnitKind::FrontOffice,
        area: region.iter().filter_map(|&c| people.pc4_index(c)).collect(),
        members: Vec::new(),
    });
    sizes.push(front);
    // Trim so that the sizes add up to the requested head count.
    let mut total: usize = sizes.iter().sum();
    let mut i = 0;
    while total > employees && i < sizes.len() * 4 {
        let k = i % sizes.len();
        if sizes[k] > 1 {
            sizes[k] -= 1;
            total -= 1;
        }
        i += 1;
    }
    (out, info, sizes)
}

fn share(total: usize, i: usize, n: usize) -> usize {
    total * (i + 1) / n - total * i / n
}

fn role_for<R: Rng>(rng: &mut R, kind: UnitKind, position: usize) -> Role {
    if position == 0 {
        return match kind {
            UnitKind::FrontOffice => Role::Teamleider,
            _ => Role::Teamchef,
        };
    }
    let roll = rng.random_range(0..100);
    match kind {
        UnitKind::Neighbourhood => match roll {
            0..=33 => Role::Agent,
            34..=73 => Role::Hoofdagent,
            74..=85 => Role::Brigadier,
            _ => Role::Wijkagent,
        },
        UnitKind::Detective => match roll {
            0..=74 => Role::Rechercheur,
            75..=91 => Role::Analist,
            _ => Role::Brigadier,
        },
        UnitKind::National => match roll {
            0..=84 => Role::Beveiliger,
            _ => Role::Brigadier,
        },
        UnitKind::Traffic => match roll {
            0..=39 => Role::Motoragent,
            40..=79 => Role::Hoofdagent,
            _ => Role::Agent,
        },
        UnitKind::FrontOffice => match roll {
            0..=91 => Role::Baliemedewerker,
            _ => Role::Teamleider,
        },
    }
}

/// Picks an unclaimed working-age adult without special flags, preferably in `area`.
fn pick_person<R: Rng>(
    rng: &mut R,
    people: &People,
    claimed: &[bool],
    area: &[usize],
) -> Option<PersonIx> {
    let fits = |p: PersonIx| {
        let age = people.age_of[p.ix()];
        !claimed[p.ix()] && (20..=63).contains(&age) && people.subject(p).flags.is_empty()
    };
    for _ in 0..200 {
        let p = match area.choose(rng) {
            Some(&pc4) => match people.pc4s[pc4].residents.choose(rng) {
                Some(&p) => p,
                None => continue,
            },
            None => PersonIx::new(rng.random_range(0..people.len())),
        };
        if fits(p) {
            return Some(p);
        }
    }
    (0..people.len()).map(PersonIx::new).find(|&p| fits(p))
}

/// Builds the units and employees, and the relations they declared.
pub(crate) fn build<R: Rng>(
    rng: &mut R,
    mix: &Mix,
    clock: &Clock,
    people: &mut People,
    employees: usize,
) -> Staff {
    let (units, mut unit_info, sizes) = units(people, &mix.units, employees);
    let id_space = (employees * 3).max(90_000);
    let numbers = index::sample(rng, id_space, employees.min(id_space)).into_vec();
    let width = if id_space <= 90_000 { 5 } else { 7 };
    let mut claimed = vec![false; people.len()];
    let mut staff_employees = Vec::with_capacity(employees);
    let mut info = Vec::with_capacity(employees);
    let start = clock.start_date();
    'units: for (u, &size) in sizes.iter().enumerate() {
        for position in 0..size {
            if staff_employees.len() >= employees {
                break 'units;
            }
            let kind = unit_info[u].kind;
            let role = role_for(rng, kind, position);
            let lives_in_district =
                role == Role::Wijkagent && rng.random_bool(mix.community_officer_lives_in_district);
            let area: &[usize] = if lives_in_district {
                &unit_info[u].area
            } else {
                &[]
            };
            let Some(person) = pick_person(rng, people, &claimed, area) else {
                break 'units;
            };
            claimed[person.ix()] = true;
            people.subjects[person.ix()]
                .flags
                .push(SubjectFlag::Employee);
            let e = EmpIx::new(staff_employees.len());
            let subject = people.subject(person).clone();
            let age = people.age_of[person.ix()];
            let years_in = rng.random_range(0..=(age.saturating_sub(19)).min(40)) as i64;
            let mut first_day = 0;
            let active_from = if rng.random_bool(mix.joiners) && clock.days() > 6 {
                first_day = rng.random_range(2..clock.days() - 3);
                clock.date(first_day)
            } else {
                start - Duration::days(years_in * 365 + rng.random_range(1..365))
            };
            let number = numbers.get(e.ix()).copied().unwrap_or(e.ix()) + 10_000;
            staff_employees.push(Employee {
                // INVARIANT: formatted ids are short and printable.
                id: EmployeeId::new(format!("E{number:0width$}")).expect("valid employee id"),
                organization: units[u].organization.clone(),
                unit: units[u].id.clone(),
                role: Some(role.as_str().to_string()),
                family_name: subject.family_name.clone(),
                given_names: subject.given_names.clone(),
                birth_date: subject.birth_date,
                postcode: subject.postcode.clone(),
                house_number: subject.house_number.clone(),
                subject: Some(subject.id.clone()),
                active_from: Some(active_from),
                active_until: None,
            });
            info.push(EmpInfo {
                unit: UnitIx::new(u),
                role,
                person,
                first_day,
                end_day: clock.days(),
            });
            unit_info[u].members.push(e);
        }
    }
    let n = staff_employees.len();
    let mut staff = Staff {
        units,
        unit_info,
        employees: staff_employees,
        info,
        relations: Vec::new(),
        related: vec![Vec::new(); n],
    };
    for i in 0..n {
        let e = EmpIx::new(i);
        if rng.random_bool(mix.leavers) && clock.days() > 4 {
            let last = rng.random_range(clock.days() / 3..clock.days() + 10);
            staff.set_leaving(clock, e, last);
        }
        if rng.random_bool(mix.declaring_employees) {
            declare_relations(rng, clock, people, &mut staff, e);
        }
    }
    staff
}

/// A date on which a relation was declared, some time before the period.
pub(crate) fn declared_on<R: Rng>(rng: &mut R, clock: &Clock) -> NaiveDate {
    clock.start_date() - Duration::days(rng.random_range(20..3650))
}

fn declare_relations<R: Rng>(
    rng: &mut R,
    clock: &Clock,
    people: &People,
    staff: &mut Staff,
    e: EmpIx,
) {
    let me = staff.info[e.ix()].person;
    let my_age = people.age_of[me.ix()];
    let my_name = people.family_name(me).to_string();
    for &other in people.housemates(me) {
        if other == me {
            continue;
        }
        let age = people.age_of[other.ix()];
        let kind = if age >= 18 && my_age.abs_diff(age) <= 12 {
            if people.family_name(other) == my_name || rng.random_bool(0.6) {
                RelationKind::Partner
            } else {
                RelationKind::Housemate
            }
        } else {
            RelationKind::Family
        };
        let on = declared_on(rng, clock);
        staff.declare(people, e, other, kind, on);
    }
    if rng.random_bool(0.25) {
        // A parent or sibling elsewhere, sharing the family name.
        if let Some(list) = people.by_family_name.get(&my_name)
            && let Some(&p) = list.choose(rng)
            && !people.same_household(p, me)
            && !people.has_flag(p, SubjectFlag::Employee)
        {
            let on = declared_on(rng, clock);
            staff.declare(people, e, p, RelationKind::Family, on);
        }
    }
    if rng.random_bool(0.15) {
        let pc6 = people.pc6_of(me);
        if let Some(&p) = people.pc6s[pc6].residents.choose(rng)
            && !people.same_household(p, me)
            && !people.has_flag(p, SubjectFlag::Employee)
        {
            let on = declared_on(rng, clock);
            staff.declare(people, e, p, RelationKind::Neighbour, on);
        }
    }
    if rng.random_bool(0.2) {
        let p = PersonIx::new(rng.random_range(0..people.len()));
        if people.is_adult(p) && !people.same_household(p, me) {
            let kind = if rng.random_bool(0.5) {
                RelationKind::ExPartner
            } else {
                RelationKind::Acquaintance
            };
            let on = declared_on(rng, clock);
            staff.declare(people, e, p, kind, on);
        }
    }
}
