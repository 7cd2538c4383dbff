//! Ordinary, legitimate work: the bulk of the access events.
//!
//! Patrol officers check plates and people in their area and handle incidents (registered minutes
//! to hours after the first lookups), detectives go deep into their own investigations, front-office
//! staff serve citizens, the protection team looks up the people it protects, and big incidents and
//! news stories draw many officers to one person. Ordinary work avoids the records that would make
//! it a planted violation (own records, relatives, restricted suspects for outsiders, VIPs), but it
//! does contain what makes naive detection noisy: night shifts, overtime, follow-ups days later,
//! colleagues looking at the same subject, community officers looking up their own neighbourhood,
//! lookups before a case exists and lookups with no recorded reason at all.

use lekdicht_model::Action;
use rand::Rng;
use rand::seq::IndexedRandom;

use crate::answer::ViolationKind;
use crate::cases::{Book, Series, Target, any_adult};
use crate::clock::{Clock, DAY, HOUR, MINUTE};
use crate::ix::{CaseIx, EmpIx, PersonIx, UnitIx, VehIx};
use crate::mix::Mix;
use crate::population::People;
use crate::roster::{Block, Rosters};
use crate::staff::{Role, Staff, UnitKind};
use lekdicht_model::ShiftKind;

/// The information systems in the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum System {
    Bvh,
    Brp,
    Rdw,
    BlueView,
    SummIt,
}

impl System {
    pub(crate) fn name(self) -> &'static str {
        match self {
            System::Bvh => "BVH",
            System::Brp => "BRP",
            System::Rdw => "RDW",
            System::BlueView => "BlueView",
            System::SummIt => "Summ-IT",
        }
    }

    /// Prefix of the event identifiers the system hands out.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            System::Bvh => "bvh",
            System::Brp => "brp",
            System::Rdw => "rdw",
            System::BlueView => "bv",
            System::SummIt => "sit",
        }
    }

    pub(crate) fn purpose(self, front_office: bool) -> &'static str {
        match (self, front_office) {
            (System::Brp, true) => "brp:dienstverlening",
            (System::Brp, false) => "brp:raadplegen-politie",
            (System::Rdw, _) => "rdw:kentekenregister",
            (System::SummIt, _) => "rva:opsporing",
            (System::BlueView, _) => "rva:zoeken",
            (System::Bvh, _) => "rva:handhaving",
        }
    }
}

/// An access event before it has an identifier.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub t: i64,
    pub actor: EmpIx,
    pub system: System,
    pub action: Action,
    pub target: Option<Target>,
    pub query: Option<String>,
    pub result_count: Option<u64>,
    pub case: Option<CaseIx>,
    pub location: Option<String>,
    pub violation: Option<ViolationKind>,
}

impl Draft {
    pub(crate) fn lookup(t: i64, actor: EmpIx, system: System, target: Target) -> Draft {
        Draft {
            t,
            actor,
            system,
            action: Action::View,
            target: Some(target),
            query: None,
            result_count: None,
            case: None,
            location: None,
            violation: None,
        }
    }

    pub(crate) fn search(t: i64, actor: EmpIx, system: System, query: String, hits: u64) -> Draft {
        Draft {
            t,
            actor,
            system,
            action: Action::Search,
            target: None,
            query: Some(query),
            result_count: Some(hits),
            case: None,
            location: None,
            violation: None,
        }
    }

    pub(crate) fn with_case(mut self, case: Option<CaseIx>) -> Draft {
        self.case = case;
        self
    }

    pub(crate) fn with_action(mut self, action: Action) -> Draft {
        self.action = action;
        self
    }
}

/// The read-only world that work happens in.
pub(crate) struct Ctx<'a> {
    pub clock: &'a Clock,
    pub mix: &'a Mix,
    pub people: &'a People,
    pub staff: &'a Staff,
    pub rosters: &'a Rosters,
}

/// What work generation keeps between employees.
struct Desk {
    /// Recent incidents per unit, for follow-ups by colleagues.
    incidents: Vec<Vec<CaseIx>>,
    out: Vec<Draft>,
}

/// A person lookup system for the police: BVH or BRP.
fn police_system<R: Rng>(rng: &mut R) -> System {
    if rng.random_bool(0.6) {
        System::Bvh
    } else {
        System::Brp
    }
}

fn name_query(people: &People, p: PersonIx) -> (String, u64) {
    let name = people.family_name(p);
    let hits = people.by_family_name.get(name).map_or(1, Vec::len) as u64;
    (format!("{}*", name.to_lowercase()), hits)
}

/// A vehicle met on the street, preferably registered in `area`: anyone's, colleagues' and
/// suspects' vehicles included.
fn street_vehicle<R: Rng>(rng: &mut R, ctx: &Ctx, area: &[usize]) -> Option<VehIx> {
    let people = ctx.people;
    if rng.random_bool(0.6)
        && let Some(&pc4) = area.choose(rng)
        && let Some(&v) = people.pc4s[pc4].vehicles.choose(rng)
    {
        return Some(v);
    }
    (!people.vehicles.is_empty()).then(|| VehIx::new(rng.random_range(0..people.vehicles.len())))
}

/// Generates all ordinary work.
pub(crate) fn generate<R: Rng>(rng: &mut R, ctx: &Ctx, book: &mut Book) -> Vec<Draft> {
    let mut desk = Desk {
        incidents: vec![Vec::new(); ctx.staff.units.len()],
        out: Vec::with_capacity(ctx.staff.len() * 20 * ctx.clock.days().max(1) as usize),
    };
    for i in 0..ctx.staff.len() {
        let e = EmpIx::new(i);
        let blocks = ctx.rosters.blocks[i].clone();
        for b in blocks {
            match b.kind {
                ShiftKind::Duty => shift(rng, ctx, book, &mut desk, e, b),
                ShiftKind::Standby => {
                    if rng.random_bool(0.35) {
                        let t = rng.random_range(b.start..b.end);
                        let callout = Block {
                            start: t,
                            end: (t + 2 * HOUR).min(b.end),
                            kind: ShiftKind::Duty,
                        };
                        shift(rng, ctx, book, &mut desk, e, callout);
                    }
                }
                ShiftKind::Leave | ShiftKind::Sick => {}
            }
        }
    }
    for s in book.big.clone() {
        for &e in &s.assigned {
            let case = book.case(s.case);
            for _ in 0..rng.random_range(1..=3) {
                let t = s.start + rng.random_range(0..6 * HOUR);
                let given = t >= case.opened && case.member_at(e, t) && rng.random_bool(0.6);
                let d = Draft::lookup(t, e, police_system(rng), Target::Person(s.person));
                desk.out.push(d.with_case(given.then_some(s.case)));
            }
            if let Some(&o) = s.others.choose(rng)
                && rng.random_bool(0.4)
            {
                let t = s.start + rng.random_range(HOUR..8 * HOUR);
                desk.out
                    .push(Draft::lookup(t, e, System::Bvh, Target::Person(o)));
            }
        }
    }
    for s in book.news.clone() {
        for &e in &s.assigned {
            for k in 0..rng.random_range(2..=6) {
                let t = if k == 0 {
                    Some(s.start + rng.random_range(0..2 * HOUR))
                } else {
                    let after = s.start + rng.random_range(0..3 * DAY);
                    ctx.rosters.next_duty_time(rng, e, after)
                };
                let Some(t) = t else { continue };
                let given = t >= book.case(s.case).opened && rng.random_bool(0.7);
                let d = Draft::lookup(t, e, police_system(rng), Target::Person(s.person));
                desk.out.push(d.with_case(given.then_some(s.case)));
            }
        }
    }
    desk.out
}

/// One piece of ordinary work within a shift.
#[derive(Debug, Clone, Copy)]
enum Job {
    Plate,
    Person,
    Incident,
    FollowUp,
    Address,
    TrafficStop,
    CaseWork,
    Search,
    Citizen,
}

/// The mean number of jobs per shift for a role, and one job drawn from the role's mix.
fn jobs_for<R: Rng>(rng: &mut R, role: Role, kind: UnitKind) -> (f64, Job) {
    let roll = rng.random_range(0..100);
    match (kind, role) {
        (_, Role::Teamchef | Role::Teamleider) => (
            1.5,
            if roll < 70 {
                Job::FollowUp
            } else {
                Job::Person
            },
        ),
        (UnitKind::FrontOffice, _) => (12.0, Job::Citizen),
        (UnitKind::Detective, Role::Analist) => (
            9.0,
            match roll {
                0..=54 => Job::CaseWork,
                55..=94 => Job::Search,
                _ => Job::Person,
            },
        ),
        (UnitKind::Detective, _) => (
            7.0,
            match roll {
                0..=84 => Job::CaseWork,
                85..=94 => Job::Search,
                _ => Job::Person,
            },
        ),
        (UnitKind::National, _) => (
            3.5,
            match roll {
                0..=59 => Job::CaseWork,
                60..=79 => Job::Plate,
                _ => Job::Person,
            },
        ),
        (UnitKind::Traffic, _) => (
            7.0,
            match roll {
                0..=59 => Job::Plate,
                60..=79 => Job::TrafficStop,
                80..=91 => Job::Person,
                _ => Job::FollowUp,
            },
        ),
        (UnitKind::Neighbourhood, Role::Wijkagent) => (
            6.0,
            match roll {
                0..=34 => Job::Person,
                35..=59 => Job::Address,
                60..=79 => Job::FollowUp,
                80..=94 => Job::Incident,
                _ => Job::Plate,
            },
        ),
        (UnitKind::Neighbourhood, _) => (
            if role == Role::Brigadier { 4.5 } else { 6.5 },
            match roll {
                0..=34 => Job::Plate,
                35..=59 => Job::Person,
                60..=81 => Job::Incident,
                82..=93 => Job::FollowUp,
                _ => Job::Address,
            },
        ),
    }
}

fn shift<R: Rng>(rng: &mut R, ctx: &Ctx, book: &mut Book, desk: &mut Desk, e: EmpIx, b: Block) {
    let info = &ctx.staff.info[e.ix()];
    let kind = ctx.staff.unit_info[info.unit.ix()].kind;
    let (per_shift, _) = jobs_for(rng, info.role, kind);
    let hours = (b.end - b.start) as f64 / HOUR as f64;
    let night = (b.start.rem_euclid(DAY)) >= 21 * HOUR;
    let scale = ctx.mix.work_per_shift * (hours / 8.5).min(1.2) * if night { 0.6 } else { 1.0 };
    let mean = per_shift * scale;
    let n = rng.random_range(mean * 0.5..=mean * 1.5).round() as usize;
    let span = (b.end - b.start - 10 * MINUTE).max(MINUTE);
    let mut times: Vec<i64> = (0..n)
        .map(|_| b.start + rng.random_range(0..span))
        .collect();
    times.sort_unstable();
    for t in times {
        let (_, job) = jobs_for(rng, info.role, kind);
        let job = if rng.random_bool(ctx.mix.unexplained) {
            Job::Person
        } else {
            job
        };
        run(rng, ctx, book, desk, e, t, job, b);
    }
    if rng.random_bool(ctx.mix.overtime) {
        let t = b.end + rng.random_range(5 * MINUTE..50 * MINUTE);
        run(rng, ctx, book, desk, e, t, Job::FollowUp, b);
    }
}

// The work functions share the generator state (rng, world, case book, output) plus the job at
// hand; bundling them into a struct would only rename the same arguments.
#[allow(clippy::too_many_arguments)]
fn run<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &mut Book,
    desk: &mut Desk,
    e: EmpIx,
    t: i64,
    job: Job,
    b: Block,
) {
    let info = &ctx.staff.info[e.ix()];
    let unit = info.unit;
    let area = &ctx.staff.unit_info[unit.ix()].area;
    match job {
        Job::Plate => plate(rng, ctx, desk, e, t, area),
        Job::Person => person(rng, ctx, desk, e, t, area),
        Job::Incident => incident(rng, ctx, book, desk, e, t, unit, b),
        Job::FollowUp => follow_up(rng, ctx, book, desk, e, t, unit),
        Job::Address => address(rng, ctx, desk, e, t, area),
        Job::TrafficStop => traffic_stop(rng, ctx, book, desk, e, t, unit),
        Job::CaseWork => case_work(rng, ctx, book, desk, e, t, false),
        Job::Search => case_work(rng, ctx, book, desk, e, t, true),
        Job::Citizen => citizen(rng, ctx, book, desk, e, t, unit),
    }
}

fn location<R: Rng>(rng: &mut R, ctx: &Ctx, p: PersonIx) -> Option<String> {
    rng.random_bool(0.3)
        .then(|| ctx.people.pc4s[ctx.people.pc4_of(p)].code.to_string())
}

fn plate<R: Rng>(rng: &mut R, ctx: &Ctx, desk: &mut Desk, e: EmpIx, t: i64, area: &[usize]) {
    let Some(v) = street_vehicle(rng, ctx, area) else {
        return;
    };
    let holder = ctx.people.holder_of[v.ix()];
    let mut t = t;
    if rng.random_bool(0.15) {
        let q = ctx.people.vehicles[v.ix()].id.to_string();
        desk.out.push(Draft::search(t, e, System::BlueView, q, 1));
        t += rng.random_range(5..60);
    }
    let mut d = Draft::lookup(t, e, System::Rdw, Target::Vehicle(v));
    d.location = location(rng, ctx, holder);
    desk.out.push(d);
    if rng.random_bool(0.45) {
        let t = t + rng.random_range(20..240);
        desk.out.push(Draft::lookup(
            t,
            e,
            police_system(rng),
            Target::Person(holder),
        ));
    }
}

fn person<R: Rng>(rng: &mut R, ctx: &Ctx, desk: &mut Desk, e: EmpIx, t: i64, area: &[usize]) {
    let info = &ctx.staff.info[e.ix()];
    // Community officers often work the street they live in.
    let own_pc6 = (info.role == Role::Wijkagent && rng.random_bool(0.15))
        .then(|| ctx.people.pc6_of(info.person))
        .filter(|&pc6| area.contains(&ctx.people.pc6s[pc6].pc4));
    let p = match own_pc6 {
        Some(pc6) => ctx.people.pc6s[pc6].residents.choose(rng).copied(),
        None => any_adult(rng, ctx.people, area),
    };
    let Some(p) = p else { return };
    let mut t = t;
    if rng.random_bool(0.3) {
        let (q, hits) = name_query(ctx.people, p);
        desk.out
            .push(Draft::search(t, e, System::BlueView, q, hits));
        t += rng.random_range(10..120);
    }
    let mut d = Draft::lookup(t, e, police_system(rng), Target::Person(p));
    d.location = location(rng, ctx, p);
    desk.out.push(d);
    if rng.random_bool(0.3) {
        let t = t + rng.random_range(20..300);
        desk.out
            .push(Draft::lookup(t, e, System::Brp, Target::Person(p)));
    }
}

fn address<R: Rng>(rng: &mut R, ctx: &Ctx, desk: &mut Desk, e: EmpIx, t: i64, area: &[usize]) {
    let Some(p) = any_adult(rng, ctx.people, area) else {
        return;
    };
    let residents = ctx.people.housemates(p);
    let q = ctx.people.address_query(p);
    desk.out.push(Draft::search(
        t,
        e,
        System::BlueView,
        q,
        residents.len() as u64,
    ));
    let mut t = t + rng.random_range(10..90);
    for &r in residents.iter().take(rng.random_range(1..=2)) {
        desk.out
            .push(Draft::lookup(t, e, System::Bvh, Target::Person(r)));
        t += rng.random_range(10..200);
    }
}

/// Delay between the first lookups of an incident and its registration.
fn registration_delay<R: Rng>(rng: &mut R) -> i64 {
    match rng.random_range(0..10) {
        0..=3 => rng.random_range(5 * MINUTE..30 * MINUTE),
        4..=7 => rng.random_range(30 * MINUTE..2 * HOUR),
        _ => rng.random_range(2 * HOUR..8 * HOUR),
    }
}

// The work functions share the generator state (rng, world, case book, output) plus the job at
// hand; bundling them into a struct would only rename the same arguments.
#[allow(clippy::too_many_arguments)]
fn incident<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &mut Book,
    desk: &mut Desk,
    e: EmpIx,
    t: i64,
    unit: UnitIx,
    b: Block,
) {
    let area = &ctx.staff.unit_info[unit.ix()].area;
    let Some(first) = any_adult(rng, ctx.people, area) else {
        return;
    };
    let mut persons = vec![first];
    for &h in ctx.people.housemates(first) {
        if h != first && rng.random_bool(0.3) {
            persons.push(h);
        }
    }
    if rng.random_bool(0.35)
        && let Some(p) = any_adult(rng, ctx.people, area)
    {
        persons.push(p);
    }
    let mut officers = vec![e];
    for &c in ctx.staff.unit_info[unit.ix()]
        .members
        .choose_multiple(rng, 4)
    {
        if officers.len() < 3 && c != e && ctx.rosters.on_duty(c, t) && rng.random_bool(0.5) {
            officers.push(c);
        }
    }
    let delay = registration_delay(rng);
    let mut opened = t + delay;
    if opened > b.end + HOUR {
        // Written up at the start of the next shift.
        opened = ctx
            .rosters
            .next_duty_time(rng, e, b.end + HOUR)
            .unwrap_or(opened);
    }
    let c = book.open(Series::Police, "incident", Some(unit), opened);
    for &o in &officers {
        book.add_member(c, o, None);
    }
    for (k, &p) in persons.iter().enumerate() {
        let role = if k == 0 {
            *["involved", "suspect", "victim", "reporter"]
                .choose(rng)
                .unwrap_or(&"involved")
        } else {
            *["involved", "witness"].choose(rng).unwrap_or(&"involved")
        };
        book.add_subject(c, Target::Person(p), Some(role), None);
    }
    if rng.random_bool(0.7) {
        book.case_mut(c).closed = Some(opened + rng.random_range(HOUR..20 * DAY));
    }
    for &o in &officers {
        for &p in &persons {
            if o != e && rng.random_bool(0.4) {
                continue;
            }
            let at = t + rng.random_range(0..delay.clamp(MINUTE, 40 * MINUTE));
            let mut d = Draft::lookup(at, o, police_system(rng), Target::Person(p));
            d.location = location(rng, ctx, p);
            desk.out.push(d);
        }
    }
    desk.out.push(
        Draft::lookup(opened, e, System::Bvh, Target::Person(first))
            .with_action(Action::Create)
            .with_case(Some(c)),
    );
    for &p in &persons[1..] {
        let at = opened + rng.random_range(30..600);
        desk.out.push(
            Draft::lookup(at, e, System::Bvh, Target::Person(p))
                .with_action(Action::Update)
                .with_case(Some(c)),
        );
    }
    if rng.random_bool(0.35) {
        let o = *officers.choose(rng).unwrap_or(&e);
        let after = opened + rng.random_range(DAY..10 * DAY);
        if let Some(at) = ctx.rosters.next_duty_time(rng, o, after) {
            let given = rng.random_bool(ctx.mix.case_given);
            let p = *persons.choose(rng).unwrap_or(&first);
            desk.out.push(
                Draft::lookup(at, o, System::Bvh, Target::Person(p)).with_case(given.then_some(c)),
            );
        }
    }
    let recent = &mut desk.incidents[unit.ix()];
    recent.push(c);
    if recent.len() > 60 {
        recent.remove(0);
    }
}

fn follow_up<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &Book,
    desk: &mut Desk,
    e: EmpIx,
    t: i64,
    unit: UnitIx,
) {
    let open: Vec<CaseIx> = desk.incidents[unit.ix()]
        .iter()
        .copied()
        .filter(|&c| book.case(c).opened < t)
        .collect();
    let Some(&c) = open.choose(rng) else {
        let area = &ctx.staff.unit_info[unit.ix()].area;
        person(rng, ctx, desk, e, t, area);
        return;
    };
    let case = book.case(c);
    let Some(p) = case.persons().collect::<Vec<_>>().choose(rng).copied() else {
        return;
    };
    let given = rng.random_bool(0.6);
    desk.out.push(
        Draft::lookup(t, e, police_system(rng), Target::Person(p)).with_case(given.then_some(c)),
    );
}

fn traffic_stop<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &mut Book,
    desk: &mut Desk,
    e: EmpIx,
    t: i64,
    unit: UnitIx,
) {
    let area = ctx.staff.unit_info[unit.ix()].area.clone();
    let Some(v) = street_vehicle(rng, ctx, &area) else {
        return;
    };
    let holder = ctx.people.holder_of[v.ix()];
    desk.out
        .push(Draft::lookup(t, e, System::Rdw, Target::Vehicle(v)));
    let at = t + rng.random_range(30..300);
    desk.out
        .push(Draft::lookup(at, e, System::Brp, Target::Person(holder)));
    let opened = at + rng.random_range(5 * MINUTE..40 * MINUTE);
    let c = book.open(Series::Traffic, "traffic", Some(unit), opened);
    book.add_member(c, e, None);
    book.add_subject(c, Target::Vehicle(v), None, None);
    book.add_subject(c, Target::Person(holder), Some("holder"), None);
    book.case_mut(c).closed = Some(opened + rng.random_range(HOUR..5 * DAY));
    desk.out.push(
        Draft::lookup(opened, e, System::Bvh, Target::Vehicle(v))
            .with_action(Action::Create)
            .with_case(Some(c)),
    );
}

fn citizen<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &mut Book,
    desk: &mut Desk,
    e: EmpIx,
    t: i64,
    unit: UnitIx,
) {
    let Some(p) = any_adult(rng, ctx.people, &[]) else {
        return;
    };
    let permit = rng.random_bool(0.25);
    let opened = if permit {
        t - rng.random_range(HOUR..5 * DAY)
    } else {
        t
    };
    let c = book.open(
        Series::Municipal,
        if permit { "permit" } else { "service" },
        Some(unit),
        opened,
    );
    book.add_member(c, e, None);
    book.add_subject(c, Target::Person(p), Some("applicant"), None);
    book.case_mut(c).closed = Some(t + rng.random_range(10 * MINUTE..3 * DAY));
    let mut t = t;
    let (q, hits) = if rng.random_bool(0.5) {
        (
            ctx.people.address_query(p),
            ctx.people.housemates(p).len() as u64,
        )
    } else {
        name_query(ctx.people, p)
    };
    desk.out.push(
        Draft::search(t, e, System::Brp, q, hits).with_case(rng.random_bool(0.3).then_some(c)),
    );
    t += rng.random_range(10..90);
    let given = rng.random_bool(0.75).then_some(c);
    desk.out
        .push(Draft::lookup(t, e, System::Brp, Target::Person(p)).with_case(given));
    if rng.random_bool(0.35) {
        t += rng.random_range(30..300);
        desk.out.push(
            Draft::lookup(t, e, System::Brp, Target::Person(p))
                .with_action(Action::Print)
                .with_case(given),
        );
    }
    if rng.random_bool(0.1) {
        t += rng.random_range(30..300);
        desk.out.push(
            Draft::lookup(t, e, System::Brp, Target::Person(p))
                .with_action(Action::Update)
                .with_case(Some(c)),
        );
    }
    // A partner's data for the same request, which the request does not name.
    if rng.random_bool(0.12)
        && let Some(&h) = ctx.people.housemates(p).iter().find(|&&h| h != p)
    {
        t += rng.random_range(30..300);
        desk.out
            .push(Draft::lookup(t, e, System::Brp, Target::Person(h)).with_case(given));
    }
}

/// Work on the employee's own cases: investigations for detectives, protection for the national
/// unit. Without a current case of their own, the work between cases instead.
fn case_work<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &mut Book,
    desk: &mut Desk,
    e: EmpIx,
    t: i64,
    searching: bool,
) {
    let mine: Vec<CaseIx> = book.of_member[e.ix()]
        .iter()
        .copied()
        .filter(|&c| {
            let case = book.case(c);
            case.opened <= t
                && case.member_at(e, t)
                && matches!(case.kind, "investigation" | "protection")
        })
        .collect();
    let Some(&c) = mine.choose(rng) else {
        between_cases(rng, ctx, book, desk, e, t, searching);
        return;
    };
    let job = CaseJob {
        case: c,
        searching,
        given: ctx.mix.case_given,
    };
    work_on_case(rng, ctx, book, desk, e, t, job);
}

/// The work of a detective or protection officer who has no current case of their own.
///
/// Such an employee does not look up unrelated persons at random: between investigations a
/// detective reads, analyses and writes without lookups, or helps on a colleague's open case of
/// the unit, usually registered on it first and otherwise as an unregistered helper (whom the
/// unit's ownership of the case explains). Restricted investigations stay with their team, so
/// nobody helps on them this way. The honest lookup without any registered context remains part
/// of the world, at its own documented share (`Mix::unexplained`) for every unit alike; this
/// replaces only the unrealistic habit of random lookups whenever no case was at hand.
fn between_cases<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &mut Book,
    desk: &mut Desk,
    e: EmpIx,
    t: i64,
    searching: bool,
) {
    if rng.random_bool(ctx.mix.between_cases_idle) {
        return;
    }
    let unit = ctx.staff.info[e.ix()].unit;
    let open: Vec<CaseIx> = book.investigations_of_unit[unit.ix()]
        .iter()
        .chain(&book.protection)
        .copied()
        .filter(|&c| {
            let case = book.case(c);
            case.unit == Some(unit)
                && !case.restricted
                && !case.has_member(e)
                && case.opened <= t
                && case.closed.is_none_or(|end| end > t)
        })
        .collect();
    let Some(&c) = open.choose(rng) else {
        return;
    };
    let registered = rng.random_bool(ctx.mix.between_cases_registered);
    if registered {
        book.add_member(c, e, Some(t - rng.random_range(MINUTE..HOUR)));
    }
    // A helper who is not on the case mostly answers a member's question and gives its number
    // less often.
    let given = if registered {
        ctx.mix.case_given
    } else {
        ctx.mix.case_given * 0.5
    };
    let job = CaseJob {
        case: c,
        searching,
        given,
    };
    work_on_case(rng, ctx, book, desk, e, t, job);
}

/// One stretch of work on a case.
#[derive(Debug, Clone, Copy)]
struct CaseJob {
    case: CaseIx,
    /// Whether the work starts with a search in BlueView.
    searching: bool,
    /// Chance that a lookup gives the case number.
    given: f64,
}

fn work_on_case<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &Book,
    desk: &mut Desk,
    e: EmpIx,
    t: i64,
    job: CaseJob,
) {
    let c = job.case;
    let case = book.case(c);
    let targets: Vec<Target> = case
        .subjects
        .iter()
        .filter(|s| s.from.is_none_or(|f| f <= t))
        .map(|s| s.target)
        .collect();
    let Some(&target) = targets.choose(rng) else {
        return;
    };
    let mut t = t;
    if job.searching {
        let q = match target {
            Target::Person(p) => name_query(ctx.people, p),
            Target::Vehicle(v) => (ctx.people.vehicles[v.ix()].id.to_string(), 1),
        };
        let given = rng.random_bool(job.given * 0.5).then_some(c);
        desk.out
            .push(Draft::search(t, e, System::BlueView, q.0, q.1).with_case(given));
        t += rng.random_range(10..120);
    }
    for _ in 0..rng.random_range(1..=4) {
        let system = match target {
            Target::Vehicle(_) => System::Rdw,
            Target::Person(_) => match rng.random_range(0..100) {
                0..=39 => System::SummIt,
                40..=74 => System::Bvh,
                _ => System::Brp,
            },
        };
        let action = match rng.random_range(0..100) {
            0..=2 => Action::Export,
            3..=4 => Action::Print,
            5..=12 if system == System::SummIt => Action::Update,
            _ => Action::View,
        };
        let given = rng.random_bool(job.given).then_some(c);
        desk.out.push(
            Draft::lookup(t, e, system, target)
                .with_action(action)
                .with_case(given),
        );
        t += rng.random_range(20..900);
    }
    // Someone in the household of a case person, not (yet) named in the case.
    if let Target::Person(p) = target
        && rng.random_bool(0.03)
        && let Some(&h) = ctx.people.housemates(p).iter().find(|&&h| h != p)
    {
        let given = rng.random_bool(0.5).then_some(c);
        desk.out
            .push(Draft::lookup(t, e, System::Bvh, Target::Person(h)).with_case(given));
    }
}
