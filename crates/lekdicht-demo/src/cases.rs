//! The case book: investigations, incidents, traffic cases, permits, service requests and protection
//! assignments, with their members and subjects; plus the stories that draw attention (a big
//! incident, people in the news) and the masks that keep ordinary work away from sensitive people.
//!
//! Cases are drafted with internal indices and seconds, and only turned into contract records at the
//! end. Incidents, traffic cases and service requests are opened while ordinary work is generated;
//! this module opens the long-running ones up front.

use chrono::Datelike;
use lekdicht_model::{Case, CaseId, CaseMember, CaseSubject, SubjectFlag, SubjectId};
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use crate::clock::{Clock, DAY, HOUR, MINUTE};
use crate::ix::{CaseIx, EmpIx, PersonIx, UnitIx, VehIx};
use crate::mix::Mix;
use crate::population::People;
use crate::roster::Rosters;
use crate::staff::{Role, Staff, UnitKind};

/// A record touched by a lookup: a person or a vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Person(PersonIx),
    Vehicle(VehIx),
}

/// Numbering series of case identifiers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Series {
    Police,
    Traffic,
    Municipal,
    Protection,
}

#[derive(Debug, Clone)]
pub(crate) struct MemberDraft {
    pub emp: EmpIx,
    pub from: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct SubjectDraft {
    pub target: Target,
    pub role: Option<&'static str>,
    pub from: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct CaseDraft {
    pub id: String,
    pub kind: &'static str,
    pub organization: &'static str,
    pub unit: Option<UnitIx>,
    pub restricted: bool,
    pub opened: i64,
    pub closed: Option<i64>,
    pub members: Vec<MemberDraft>,
    pub subjects: Vec<SubjectDraft>,
}

impl CaseDraft {
    pub(crate) fn names(&self, target: Target) -> bool {
        self.subjects.iter().any(|s| s.target == target)
    }

    pub(crate) fn has_member(&self, e: EmpIx) -> bool {
        self.members.iter().any(|m| m.emp == e)
    }

    pub(crate) fn member_at(&self, e: EmpIx, t: i64) -> bool {
        self.members
            .iter()
            .any(|m| m.emp == e && m.from.is_none_or(|f| f <= t))
    }

    pub(crate) fn persons(&self) -> impl Iterator<Item = PersonIx> + '_ {
        self.subjects.iter().filter_map(|s| match s.target {
            Target::Person(p) => Some(p),
            Target::Vehicle(_) => None,
        })
    }
}

/// Marks people that planted violations keep apart from (ordinary work does not: it touches
/// anyone, see [`any_adult`]).
pub(crate) mod mask {
    /// An employee, or someone in an employee's household or declared relations.
    pub const NEAR_EMPLOYEE: u8 = 1;
    /// A VIP or protected person.
    pub const VIP: u8 = 2;
    /// Named in a restricted investigation.
    pub const RESTRICTED: u8 = 4;
    /// In the news.
    pub const NEWS: u8 = 8;
}

/// A person who suddenly draws attention.
#[derive(Debug, Clone)]
pub(crate) struct Story {
    pub person: PersonIx,
    pub others: Vec<PersonIx>,
    pub case: CaseIx,
    pub start: i64,
    /// Employees who look the person up as part of their job.
    pub assigned: Vec<EmpIx>,
}

/// All cases, plus the stories and masks derived from them.
pub(crate) struct Book {
    pub cases: Vec<CaseDraft>,
    year: i32,
    counters: [u32; 4],
    /// Cases per member.
    pub of_member: Vec<Vec<CaseIx>>,
    pub investigations_of_unit: Vec<Vec<CaseIx>>,
    pub protection: Vec<CaseIx>,
    pub news: Vec<Story>,
    pub big: Vec<Story>,
    pub mask: Vec<u8>,
}

impl Book {
    pub(crate) fn case(&self, c: CaseIx) -> &CaseDraft {
        &self.cases[c.ix()]
    }

    pub(crate) fn case_mut(&mut self, c: CaseIx) -> &mut CaseDraft {
        &mut self.cases[c.ix()]
    }

    /// Opens a new case and numbers it in its series.
    pub(crate) fn open(
        &mut self,
        series: Series,
        kind: &'static str,
        unit: Option<UnitIx>,
        opened: i64,
    ) -> CaseIx {
        let slot = series as usize;
        self.counters[slot] += 1;
        let n = self.counters[slot];
        let year = self.year;
        let (id, organization) = match series {
            Series::Police => (format!("{year}-AMS-{n:05}"), "politie"),
            Series::Traffic => (format!("{year}-VKR-{n:05}"), "politie"),
            Series::Municipal => (format!("GEM-{year}-{n:06}"), "gemeente"),
            Series::Protection => (format!("LE-BB-{year}-{n:03}"), "politie"),
        };
        let c = CaseIx::new(self.cases.len());
        self.cases.push(CaseDraft {
            id,
            kind,
            organization,
            unit,
            restricted: false,
            opened,
            closed: None,
            members: Vec::new(),
            subjects: Vec::new(),
        });
        c
    }

    pub(crate) fn add_member(&mut self, c: CaseIx, emp: EmpIx, from: Option<i64>) {
        let case = &mut self.cases[c.ix()];
        if case.has_member(emp) {
            return;
        }
        case.members.push(MemberDraft { emp, from });
        if let Some(list) = self.of_member.get_mut(emp.ix()) {
            list.push(c);
        }
    }

    pub(crate) fn add_subject(
        &mut self,
        c: CaseIx,
        target: Target,
        role: Option<&'static str>,
        from: Option<i64>,
    ) {
        let case = &mut self.cases[c.ix()];
        if case.names(target) {
            return;
        }
        case.subjects.push(SubjectDraft { target, role, from });
    }

    /// Whether no planted violation or story has claimed this person (planting keeps its targets
    /// apart; ordinary work touches anyone).
    pub(crate) fn free(&self, p: PersonIx) -> bool {
        self.mask[p.ix()] == 0
    }

    /// Turns the drafts into contract records.
    pub(crate) fn records(&self, clock: &Clock, people: &People, staff: &Staff) -> Vec<Case> {
        self.cases
            .iter()
            .map(|d| Case {
                // INVARIANT: case numbers are short and printable.
                id: CaseId::new(d.id.clone()).expect("valid case id"),
                organization: Some(d.organization.to_string()),
                unit: d.unit.map(|u| staff.units[u.ix()].id.clone()),
                kind: Some(d.kind.to_string()),
                restricted: d.restricted,
                opened: Some(clock.time(d.opened)),
                closed: d.closed.map(|t| clock.time(t)),
                members: d
                    .members
                    .iter()
                    .map(|m| CaseMember {
                        employee: staff.employees[m.emp.ix()].id.clone(),
                        from: m.from.map(|t| clock.time(t)),
                        until: None,
                    })
                    .collect(),
                subjects: d
                    .subjects
                    .iter()
                    .map(|s| CaseSubject {
                        subject: target_id(people, s.target),
                        role: s.role.map(str::to_string),
                        from: s.from.map(|t| clock.time(t)),
                        until: None,
                    })
                    .collect(),
            })
            .collect()
    }
}

pub(crate) fn target_id(people: &People, target: Target) -> SubjectId {
    match target {
        Target::Person(p) => people.subjects[p.ix()].id.clone(),
        Target::Vehicle(v) => people.vehicles[v.ix()].id.clone(),
    }
}

/// A random adult outside `mask`, preferably living in one of `area`'s pc4s. Planted violations
/// pick their targets this way, so that what they touch is told apart from ordinary work.
pub(crate) fn free_adult<R: Rng>(
    rng: &mut R,
    people: &People,
    mask: &[u8],
    area: &[usize],
) -> Option<PersonIx> {
    adult_where(rng, people, area, |p| mask.get(p.ix()) == Some(&0))
}

/// Any living adult, preferably living in one of `area`'s pc4s. Ordinary work and the cases pick
/// their people this way: employees, their housemates and relatives, VIPs, protected persons and
/// suspects in restricted investigations come up at the rate at which they live among everyone
/// else, as they do in a real region.
pub(crate) fn any_adult<R: Rng>(rng: &mut R, people: &People, area: &[usize]) -> Option<PersonIx> {
    adult_where(rng, people, area, |_| true)
}

fn adult_where<R: Rng>(
    rng: &mut R,
    people: &People,
    area: &[usize],
    allowed: impl Fn(PersonIx) -> bool,
) -> Option<PersonIx> {
    for _ in 0..60 {
        let p = match area.choose(rng) {
            Some(&pc4) => *people.pc4s[pc4].residents.choose(rng)?,
            None => PersonIx::new(rng.random_range(0..people.len().max(1))),
        };
        if p.ix() < people.len()
            && allowed(p)
            && people.is_adult(p)
            && !people.has_flag(p, SubjectFlag::Deceased)
        {
            return Some(p);
        }
    }
    None
}

/// Opens the long-running cases and the stories, and computes the masks.
pub(crate) fn build<R: Rng>(
    rng: &mut R,
    mix: &Mix,
    clock: &Clock,
    people: &People,
    staff: &Staff,
    rosters: &Rosters,
) -> Book {
    let mut book = Book {
        cases: Vec::new(),
        year: clock.start_date().year(),
        counters: [0; 4],
        of_member: vec![Vec::new(); staff.len()],
        investigations_of_unit: vec![Vec::new(); staff.units.len()],
        protection: Vec::new(),
        news: Vec::new(),
        big: Vec::new(),
        mask: vec![0; people.len()],
    };
    for i in 0..staff.len() {
        let me = staff.info[i].person;
        book.mask[me.ix()] |= mask::NEAR_EMPLOYEE;
        for &p in people.housemates(me) {
            book.mask[p.ix()] |= mask::NEAR_EMPLOYEE;
        }
        for &(p, _) in &staff.related[i] {
            book.mask[p.ix()] |= mask::NEAR_EMPLOYEE;
        }
    }
    for &p in &people.vips {
        book.mask[p.ix()] |= mask::VIP;
    }
    investigations(rng, mix, clock, people, staff, &mut book);
    protection(rng, staff, people, &mut book);
    let stories = 1 + staff.len() / 2500;
    for _ in 0..stories {
        story(
            rng,
            clock,
            people,
            staff,
            rosters,
            &mut book,
            StoryKind::News,
        );
    }
    if staff.len() >= 100 {
        story(
            rng,
            clock,
            people,
            staff,
            rosters,
            &mut book,
            StoryKind::Big,
        );
    }
    book
}

fn investigations<R: Rng>(
    rng: &mut R,
    mix: &Mix,
    clock: &Clock,
    people: &People,
    staff: &Staff,
    book: &mut Book,
) {
    let days = clock.days().max(1);
    for (u, info) in staff.unit_info.iter().enumerate() {
        if info.kind != UnitKind::Detective || info.members.is_empty() {
            continue;
        }
        let n = (info.members.len() / 5).clamp(1, 12);
        for _ in 0..n {
            let opened = if rng.random_bool(0.7) {
                -rng.random_range(1..150) * DAY + rng.random_range(8 * HOUR..17 * HOUR)
            } else {
                rng.random_range(0..days) * DAY + rng.random_range(8 * HOUR..17 * HOUR)
            };
            let c = book.open(
                Series::Police,
                "investigation",
                Some(UnitIx::new(u)),
                opened,
            );
            let restricted = rng.random_bool(mix.restricted_investigations);
            book.case_mut(c).restricted = restricted;
            let size = rng.random_range(3..=10).min(info.members.len());
            let team = info
                .members
                .choose_multiple(rng, size)
                .copied()
                .collect::<Vec<_>>();
            for (k, &e) in team.iter().enumerate() {
                let late = k > 0 && rng.random_bool(0.2);
                let from = late.then(|| rng.random_range(opened.max(0)..days * DAY));
                book.add_member(c, e, from);
            }
            let mut persons = Vec::new();
            for _ in 0..rng.random_range(1..=3) {
                if let Some(p) = any_adult(rng, people, &[]) {
                    book.add_subject(c, Target::Person(p), Some("suspect"), None);
                    persons.push(p);
                    for &v in &people.vehicles_of[p.ix()] {
                        book.add_subject(c, Target::Vehicle(v), None, None);
                    }
                }
            }
            for _ in 0..rng.random_range(1..=4) {
                if let Some(p) = any_adult(rng, people, &[]) {
                    let role = *["witness", "associate", "victim", "associate"]
                        .choose(rng)
                        .unwrap_or(&"associate");
                    let from = rng
                        .random_bool(0.15)
                        .then(|| rng.random_range(opened.max(0)..days * DAY));
                    book.add_subject(c, Target::Person(p), Some(role), from);
                    persons.push(p);
                }
            }
            if restricted {
                for p in persons {
                    book.mask[p.ix()] |= mask::RESTRICTED;
                }
            }
            book.investigations_of_unit[u].push(c);
        }
    }
    // A region always has at least one restricted investigation when it has detectives.
    if !book.cases.iter().any(|c| c.restricted)
        && let Some(first) = book.cases.iter().position(|c| c.kind == "investigation")
    {
        book.cases[first].restricted = true;
        let persons: Vec<PersonIx> = book.cases[first].persons().collect();
        for p in persons {
            book.mask[p.ix()] |= mask::RESTRICTED;
        }
    }
}

fn protection<R: Rng>(rng: &mut R, staff: &Staff, people: &People, book: &mut Book) {
    let Some(u) = staff
        .unit_info
        .iter()
        .position(|i| i.kind == UnitKind::National)
    else {
        return;
    };
    let members = staff.unit_info[u].members.clone();
    if members.is_empty() || people.vips.is_empty() {
        return;
    }
    let groups = (people.vips.len() / 8).clamp(1, 5);
    let mut vips = people.vips.clone();
    vips.shuffle(rng);
    for g in 0..groups {
        let opened = -rng.random_range(30..400) * DAY + 9 * HOUR;
        let c = book.open(
            Series::Protection,
            "protection",
            Some(UnitIx::new(u)),
            opened,
        );
        for (k, &e) in members.iter().enumerate() {
            if k % groups == g || staff.info[e.ix()].role == Role::Teamchef {
                book.add_member(c, e, None);
            }
        }
        for (k, &p) in vips.iter().enumerate() {
            if k % groups == g {
                book.add_subject(c, Target::Person(p), Some("protected person"), None);
            }
        }
        book.protection.push(c);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoryKind {
    /// A person in the news: a few assigned officers, and curiosity.
    News,
    /// A big incident: dozens of officers look up the same person within hours.
    Big,
}

fn story<R: Rng>(
    rng: &mut R,
    clock: &Clock,
    people: &People,
    staff: &Staff,
    rosters: &Rosters,
    book: &mut Book,
    kind: StoryKind,
) {
    let neighbourhood: Vec<usize> = staff
        .unit_info
        .iter()
        .enumerate()
        .filter(|(_, i)| i.kind == UnitKind::Neighbourhood && !i.members.is_empty())
        .map(|(u, _)| u)
        .collect();
    let Some(&u) = neighbourhood.choose(rng) else {
        return;
    };
    let area = staff.unit_info[u].area.clone();
    let Some(person) = free_adult(rng, people, &book.mask, &area) else {
        return;
    };
    let days = clock.days();
    let day = if days > 4 {
        rng.random_range(1..days - 3)
    } else {
        0
    };
    let start = day * DAY + rng.random_range(0..24 * HOUR);
    let opened = start + rng.random_range(20 * MINUTE..3 * HOUR);
    let c = book.open(Series::Police, "incident", Some(UnitIx::new(u)), opened);
    book.add_subject(c, Target::Person(person), Some("involved"), None);
    let mut others = Vec::new();
    for &p in people.housemates(person) {
        if p != person && book.free(p) && others.len() < 2 {
            book.add_subject(c, Target::Person(p), Some("involved"), None);
            others.push(p);
        }
    }
    let assigned;
    match kind {
        StoryKind::News => {
            let unit_members = &staff.unit_info[u].members;
            let mut on: Vec<EmpIx> = unit_members
                .iter()
                .copied()
                .filter(|&e| rosters.on_duty(e, start) && staff.info[e.ix()].role.round_the_clock())
                .collect();
            if on.len() < 3 {
                on = unit_members.clone();
            }
            on.shuffle(rng);
            on.truncate(rng.random_range(3..=5));
            for &e in &on {
                book.add_member(c, e, None);
            }
            assigned = on;
            book.mask[person.ix()] |= mask::NEWS;
        }
        StoryKind::Big => {
            let mut on: Vec<EmpIx> = (0..staff.len())
                .map(EmpIx::new)
                .filter(|&e| {
                    let info = &staff.info[e.ix()];
                    let kind = staff.unit_info[info.unit.ix()].kind;
                    (kind == UnitKind::Neighbourhood && info.role.round_the_clock()
                        || kind == UnitKind::Detective)
                        && rosters.on_duty(e, start + HOUR)
                })
                .collect();
            on.shuffle(rng);
            on.truncate(rng.random_range(25..=45));
            for &e in &on {
                // Not everyone who helped ends up on the case.
                if rng.random_bool(0.85) {
                    book.add_member(c, e, Some(start));
                }
            }
            assigned = on;
        }
    }
    let story = Story {
        person,
        others,
        case: c,
        start,
        assigned,
    };
    match kind {
        StoryKind::News => book.news.push(story),
        StoryKind::Big => book.big.push(story),
    }
}
