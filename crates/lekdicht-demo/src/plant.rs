//! Planted violations: who misbehaves, how, and when.
//!
//! About `violator_share` of the employees get one to a few violation kinds. Planning happens before
//! rosters and cases exist, because some kinds shape the world (a leaver's last day, a leave block, a
//! declared ex-partner); the events are planted after ordinary work, at plausible times among the
//! violator's own work. Every planted event carries its kind, which becomes the answer key. This
//! module does not check what a detector would see; it only makes each kind's defining fact true.

use lekdicht_model::{Action, RelationKind, SubjectFlag};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::{IndexedRandom, SliceRandom, index};

use crate::activity::{Ctx, Draft, System};
use crate::answer::ViolationKind;
use crate::cases::{Book, Target, free_adult};
use crate::clock::{Clock, DAY, HOUR, MINUTE, end_day};
use crate::ix::{CaseIx, EmpIx, PersonIx};
use crate::mix::Mix;
use crate::population::People;
use crate::roster::RosterNeeds;
use crate::staff::{Staff, UnitKind, declared_on};

/// The violators and their kinds, decided before the world is finished.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub violators: Vec<(EmpIx, Vec<ViolationKind>)>,
    pub needs: RosterNeeds,
}

/// Chooses the violators and their kinds and prepares the world for them.
pub(crate) fn plan<R: Rng>(
    rng: &mut R,
    mix: &Mix,
    clock: &Clock,
    people: &People,
    staff: &mut Staff,
    share: f64,
) -> Plan {
    let n = staff.len();
    let mut plan = Plan {
        violators: Vec::new(),
        needs: RosterNeeds {
            published: vec![false; n],
            absence: vec![false; n],
        },
    };
    let share = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let count = ((n as f64) * share).round() as usize;
    if count == 0 {
        return plan;
    }
    let mut chosen = index::sample(rng, n, count.min(n)).into_vec();
    chosen.sort_unstable();
    // INVARIANT: the standard weights are positive.
    let per = WeightedIndex::new(mix.kinds_per_violator).expect("positive weights");
    let weights = WeightedIndex::new(mix.violation_kinds.iter().map(|k| k.1)).expect("weights");
    let sizes: Vec<usize> = chosen.iter().map(|_| per.sample(rng) + 1).collect();
    // Every kind twice first (when there are enough slots), then by weight.
    let mut first_rounds: Vec<ViolationKind> = Vec::new();
    for _ in 0..2 {
        let mut round = ViolationKind::ALL.to_vec();
        round.shuffle(rng);
        first_rounds.extend(round);
    }
    let mut slots = first_rounds.into_iter();
    for (&e, &size) in chosen.iter().zip(&sizes) {
        let mut kinds: Vec<ViolationKind> = Vec::new();
        for _ in 0..size {
            for _ in 0..20 {
                let kind = slots
                    .next()
                    .unwrap_or_else(|| mix.violation_kinds[weights.sample(rng)].0);
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                    break;
                }
            }
        }
        let e = EmpIx::new(e);
        prepare(rng, clock, people, staff, &mut plan.needs, e, &kinds);
        plan.violators.push((e, kinds));
    }
    plan
}

fn prepare<R: Rng>(
    rng: &mut R,
    clock: &Clock,
    people: &People,
    staff: &mut Staff,
    needs: &mut RosterNeeds,
    e: EmpIx,
    kinds: &[ViolationKind],
) {
    let me = staff.info[e.ix()].person;
    for &kind in kinds {
        match kind {
            ViolationKind::OffDuty => needs.published[e.ix()] = true,
            ViolationKind::OnLeave => {
                needs.published[e.ix()] = true;
                needs.absence[e.ix()] = true;
            }
            ViolationKind::BulkExportLeaver => {
                let days = clock.days();
                let last = rng.random_range(days / 2..days + 7);
                staff.set_leaving(clock, e, last.max(staff.info[e.ix()].first_day + 1));
            }
            ViolationKind::Family => {
                let has_family = people.housemates(me).len() > 1
                    || staff.related[e.ix()]
                        .iter()
                        .any(|r| matches!(r.1, RelationKind::Family | RelationKind::Partner));
                if !has_family && let Some(p) = relative_elsewhere(rng, people, me) {
                    let on = declared_on(rng, clock);
                    staff.declare(people, e, p, RelationKind::Family, on);
                }
            }
            ViolationKind::ExPartner => {
                let has_ex = staff.related[e.ix()]
                    .iter()
                    .any(|r| r.1 == RelationKind::ExPartner);
                if !has_ex && let Some(p) = free_ex(rng, people, me) {
                    let on = declared_on(rng, clock);
                    staff.declare(people, e, p, RelationKind::ExPartner, on);
                }
            }
            ViolationKind::Neighbour => {
                if rng.random_bool(0.3)
                    && let Some(p) = neighbour_of(rng, people, me)
                {
                    let on = declared_on(rng, clock);
                    staff.declare(people, e, p, RelationKind::Neighbour, on);
                }
            }
            _ => {}
        }
    }
}

fn ordinary(people: &People, p: PersonIx) -> bool {
    people.is_adult(p) && people.subject(p).flags.is_empty()
}

fn relative_elsewhere<R: Rng>(rng: &mut R, people: &People, me: PersonIx) -> Option<PersonIx> {
    let list = people.by_family_name.get(people.family_name(me))?;
    for _ in 0..20 {
        let &p = list.choose(rng)?;
        if !people.same_household(p, me) && ordinary(people, p) {
            return Some(p);
        }
    }
    None
}

fn free_ex<R: Rng>(rng: &mut R, people: &People, me: PersonIx) -> Option<PersonIx> {
    let area = [people.pc4_of(me)];
    for k in 0..40 {
        let p = if k < 20 {
            *people.pc4s[area[0]].residents.choose(rng)?
        } else {
            PersonIx::new(rng.random_range(0..people.len()))
        };
        let close_age = people.age_of[p.ix()].abs_diff(people.age_of[me.ix()]) <= 10;
        if !people.same_household(p, me) && ordinary(people, p) && close_age {
            return Some(p);
        }
    }
    None
}

fn neighbour_of<R: Rng>(rng: &mut R, people: &People, me: PersonIx) -> Option<PersonIx> {
    let residents = &people.pc6s[people.pc6_of(me)].residents;
    for _ in 0..20 {
        let &p = residents.choose(rng)?;
        if !people.same_household(p, me) && !people.has_flag(p, SubjectFlag::Employee) {
            return Some(p);
        }
    }
    None
}

struct Planter<'a, 'b, R> {
    rng: &'a mut R,
    ctx: &'a Ctx<'b>,
    book: &'a Book,
    e: EmpIx,
    kind: ViolationKind,
    out: Vec<Draft>,
}

impl<R: Rng> Planter<'_, '_, R> {
    fn window(&self) -> (i64, i64) {
        let info = &self.ctx.staff.info[self.e.ix()];
        (info.first_day * DAY, info.end_day * DAY)
    }

    fn inside(&self, t: i64) -> bool {
        let (from, to) = self.window();
        t >= from && t < to
    }

    /// A moment in one of the employee's duty blocks, or office hours when there are none.
    fn duty_time(&mut self) -> Option<i64> {
        for _ in 0..20 {
            let t = self.ctx.rosters.random_duty_time(self.rng, self.e)?;
            if self.inside(t) {
                return Some(t);
            }
        }
        None
    }

    /// A duty moment within `[from, until)`, if the employee has one there.
    fn duty_time_between(&mut self, from: i64, until: i64) -> Option<i64> {
        (0..40)
            .filter_map(|_| self.duty_time())
            .find(|t| (from..until).contains(t))
    }

    fn plant(&mut self, t: i64, system: System, target: Target) -> &mut Draft {
        let mut d = Draft::lookup(t, self.e, system, target);
        d.violation = Some(self.kind);
        // Out on patrol, the device reports where the officer is, as in ordinary work.
        let info = &self.ctx.staff.info[self.e.ix()];
        let area = &self.ctx.staff.unit_info[info.unit.ix()].area;
        if info.role.round_the_clock()
            && self.rng.random_bool(0.25)
            && let Some(&pc4) = area.choose(self.rng)
        {
            d.location = Some(self.ctx.people.pc4s[pc4].code.to_string());
        }
        self.out.push(d);
        let last = self.out.len() - 1;
        &mut self.out[last]
    }

    fn person_system(&mut self) -> System {
        // The municipality's front office only has the BRP.
        if self.ctx.staff.unit_of(self.e).kind == UnitKind::FrontOffice || self.rng.random_bool(0.4)
        {
            System::Brp
        } else {
            System::Bvh
        }
    }

    /// On one or two occasions, one to `most` views of a person at duty times, close together.
    fn views(&mut self, p: PersonIx, most: usize) {
        for _ in 0..self.rng.random_range(1..=2) {
            let Some(t) = self.duty_time() else { return };
            let mut t = t;
            for _ in 0..self.rng.random_range(1..=most) {
                let system = self.person_system();
                self.plant(t, system, Target::Person(p));
                t += self.rng.random_range(20..900);
            }
        }
    }

    fn me(&self) -> PersonIx {
        self.ctx.staff.info[self.e.ix()].person
    }

    fn run(&mut self) {
        let people = self.ctx.people;
        let staff = self.ctx.staff;
        let me = self.me();
        match self.kind {
            ViolationKind::SelfLookup => self.views(me, 3),
            ViolationKind::Family => {
                let mut options: Vec<PersonIx> = people
                    .housemates(me)
                    .iter()
                    .copied()
                    .filter(|&p| p != me)
                    .collect();
                options.extend(staff.related[self.e.ix()].iter().filter_map(|r| {
                    matches!(
                        r.1,
                        RelationKind::Family | RelationKind::Partner | RelationKind::Housemate
                    )
                    .then_some(r.0)
                }));
                if let Some(&p) = options.choose(self.rng) {
                    self.views(p, 3);
                }
            }
            ViolationKind::ExPartner => {
                let exes: Vec<PersonIx> = staff.related[self.e.ix()]
                    .iter()
                    .filter(|r| r.1 == RelationKind::ExPartner)
                    .map(|r| r.0)
                    .collect();
                if let Some(&p) = exes.choose(self.rng) {
                    self.views(p, 2);
                }
            }
            ViolationKind::Neighbour => {
                let declared = staff.related[self.e.ix()]
                    .iter()
                    .find(|r| r.1 == RelationKind::Neighbour)
                    .map(|r| r.0)
                    .filter(|&p| people.pc6_of(p) == people.pc6_of(me));
                let p = declared.or_else(|| neighbour_of(self.rng, people, me));
                if let Some(p) = p {
                    self.views(p, 2);
                }
            }
            ViolationKind::Colleague => {
                let unit = &staff.unit_of(self.e).members;
                let mate = unit
                    .choose_multiple(self.rng, 8)
                    .copied()
                    .find(|&c| c != self.e)
                    .or_else(|| {
                        (staff.len() > 1)
                            .then(|| EmpIx::new(self.rng.random_range(0..staff.len())))
                            .filter(|&c| c != self.e)
                    });
                if let Some(c) = mate {
                    self.views(staff.info[c.ix()].person, 2);
                }
            }
            ViolationKind::VipCuriosity => {
                let own: Vec<PersonIx> = self.book.of_member[self.e.ix()]
                    .iter()
                    .flat_map(|&c| self.book.case(c).persons())
                    .collect();
                let options: Vec<PersonIx> = people
                    .vips
                    .iter()
                    .copied()
                    .filter(|p| !own.contains(p))
                    .collect();
                if let Some(&p) = options.choose(self.rng) {
                    self.views(p, 2);
                }
            }
            ViolationKind::InTheNews => self.in_the_news(),
            ViolationKind::RestrictedLeak => self.restricted_leak(),
            ViolationKind::CaseCover => {
                for _ in 0..self.rng.random_range(1..=3) {
                    self.case_cover();
                }
            }
            ViolationKind::OffDuty => {
                for _ in 0..self.rng.random_range(1..=2) {
                    self.off_duty();
                }
            }
            ViolationKind::OnLeave => {
                for _ in 0..self.rng.random_range(1..=2) {
                    self.on_leave();
                }
            }
            ViolationKind::NameBrowsing => self.name_browsing(),
            ViolationKind::BulkExportLeaver => self.bulk_export(),
        }
    }

    fn in_the_news(&mut self) {
        let stories: Vec<usize> = (0..self.book.news.len())
            .filter(|&i| !self.book.news[i].assigned.contains(&self.e))
            .collect();
        let Some(&s) = stories.choose(self.rng) else {
            return;
        };
        let story = &self.book.news[s];
        let person = story.person;
        for _ in 0..self.rng.random_range(1..=3) {
            let after = story.start + self.rng.random_range(HOUR..3 * DAY);
            let t = if self.rng.random_bool(0.7) {
                self.ctx.rosters.next_duty_time(self.rng, self.e, after)
            } else {
                Some(after)
            };
            if let Some(t) = t.filter(|&t| self.inside(t)) {
                let system = self.person_system();
                self.plant(t, system, Target::Person(person));
            }
        }
    }

    fn restricted_leak(&mut self) {
        let own_unit = self.ctx.staff.info[self.e.ix()].unit;
        let outside: Vec<CaseIx> = (0..self.book.cases.len())
            .map(CaseIx::new)
            .filter(|&c| {
                let case = self.book.case(c);
                case.restricted && !case.has_member(self.e)
            })
            .collect();
        // Preferably another unit's investigation; else one of the own unit's that the employee
        // is not on.
        let other_units: Vec<CaseIx> = outside
            .iter()
            .copied()
            .filter(|&c| self.book.case(c).unit != Some(own_unit))
            .collect();
        let pool = if other_units.is_empty() {
            &outside
        } else {
            &other_units
        };
        let Some(&c) = pool.choose(self.rng) else {
            return;
        };
        let case = self.book.case(c);
        let persons: Vec<Target> = case
            .subjects
            .iter()
            .filter(|s| matches!(s.target, Target::Person(_)))
            .map(|s| s.target)
            .collect();
        let vehicles: Vec<Target> = case
            .subjects
            .iter()
            .filter(|s| matches!(s.target, Target::Vehicle(_)))
            .map(|s| s.target)
            .collect();
        let front_office = self.ctx.staff.unit_of(self.e).kind == UnitKind::FrontOffice;
        let vehicles = if front_office { Vec::new() } else { vehicles };
        let plates_only = !vehicles.is_empty() && self.rng.random_bool(0.3);
        for _ in 0..self.rng.random_range(2..=6) {
            let pool = if plates_only || (persons.is_empty() || self.rng.random_bool(0.25)) {
                &vehicles
            } else {
                &persons
            };
            let Some(&target) = pool.choose(self.rng) else {
                continue;
            };
            // A leak is a lookup while the investigation is open and the target is named in it:
            // before that, the lookup reveals nothing about an investigation.
            let case = self.book.case(c);
            let named_from = case
                .subjects
                .iter()
                .find(|s| s.target == target)
                .and_then(|s| s.from)
                .unwrap_or(case.opened)
                .max(case.opened);
            let until = case.closed.unwrap_or(i64::MAX);
            let Some(t) = self.duty_time_between(named_from, until) else {
                continue;
            };
            let system = match target {
                Target::Vehicle(_) => System::Rdw,
                Target::Person(_) => self.person_system(),
            };
            self.plant(t, system, target);
        }
    }

    fn case_cover(&mut self) {
        let Some(t) = self.duty_time() else { return };
        let own: Vec<CaseIx> = self.book.of_member[self.e.ix()]
            .iter()
            .copied()
            .filter(|&c| self.book.case(c).opened <= t)
            .collect();
        let area = self.ctx.staff.unit_of(self.e).area.clone();
        if !own.is_empty() && self.rng.random_bool(0.6) {
            // A subject the case does not name, under the cover of the employee's own case.
            let Some(&c) = own.choose(self.rng) else {
                return;
            };
            let Some(p) = free_adult(self.rng, self.ctx.people, &self.book.mask, &area) else {
                return;
            };
            if self.book.case(c).names(Target::Person(p)) {
                return;
            }
            let system = self.person_system();
            self.plant(t, system, Target::Person(p)).case = Some(c);
            return;
        }
        // A real case of someone else, for a person it names.
        for _ in 0..50 {
            let c = CaseIx::new(self.rng.random_range(0..self.book.cases.len().max(1)));
            let Some(case) = self.book.cases.get(c.ix()) else {
                return;
            };
            if case.restricted
                || case.kind == "protection"
                || case.has_member(self.e)
                || case.opened > t
            {
                continue;
            }
            let Some(p) = case.persons().find(|&p| self.book.free(p)) else {
                continue;
            };
            let system = self.person_system();
            self.plant(t, system, Target::Person(p)).case = Some(c);
            return;
        }
    }

    fn off_duty(&mut self) {
        let (from, to) = self.window();
        let clock = self.ctx.clock;
        for _ in 0..100 {
            if to <= from {
                return;
            }
            let day = self.rng.random_range(from / DAY..end_day(to));
            let t = if clock.is_weekend(day) {
                day * DAY + self.rng.random_range(10 * HOUR..23 * HOUR)
            } else if self.rng.random_bool(0.5) {
                day * DAY + self.rng.random_range(30 * MINUTE..5 * HOUR)
            } else {
                day * DAY + self.rng.random_range(21 * HOUR..24 * HOUR - 20 * MINUTE)
            };
            if !self.inside(t) || self.ctx.rosters.near(self.e, t, 2 * HOUR) {
                continue;
            }
            let area = self.ctx.staff.unit_of(self.e).area.clone();
            let Some(p) = free_adult(self.rng, self.ctx.people, &self.book.mask, &area) else {
                return;
            };
            let mut t = t;
            for _ in 0..self.rng.random_range(2..=4) {
                let system = self.person_system();
                self.plant(t, system, Target::Person(p));
                t += self.rng.random_range(20..300);
            }
            return;
        }
    }

    fn on_leave(&mut self) {
        let absences: Vec<(i64, i64)> = self
            .ctx
            .rosters
            .absences(self.e)
            .map(|b| (b.start, b.end))
            .collect();
        let Some(&(start, end)) = absences.choose(self.rng) else {
            return;
        };
        let day = self.rng.random_range(start / DAY..end_day(end));
        let t = (day * DAY + self.rng.random_range(9 * HOUR..22 * HOUR)).clamp(start, end - HOUR);
        if !self.inside(t) {
            return;
        }
        let Some(p) = free_adult(self.rng, self.ctx.people, &self.book.mask, &[]) else {
            return;
        };
        let mut t = t;
        for _ in 0..self.rng.random_range(2..=4) {
            let system = self.person_system();
            self.plant(t, system, Target::Person(p));
            t += self.rng.random_range(20..300);
        }
    }

    fn name_browsing(&mut self) {
        let people = self.ctx.people;
        for _ in 0..self.rng.random_range(1..=3) {
            let Some(t) = self.duty_time() else { return };
            let Some(seed) = free_adult(self.rng, people, &self.book.mask, &[]) else {
                return;
            };
            let name = people.family_name(seed).to_string();
            let Some(list) = people.by_family_name.get(&name) else {
                continue;
            };
            let query = format!("{}*", name.to_lowercase());
            let front_office = self.ctx.staff.unit_of(self.e).kind == UnitKind::FrontOffice;
            let (search_in, view_in) = if front_office {
                (System::Brp, System::Brp)
            } else {
                (System::BlueView, System::Bvh)
            };
            let mut d = Draft::search(t, self.e, search_in, query, list.len() as u64);
            d.violation = Some(self.kind);
            self.out.push(d);
            let mut t = t + self.rng.random_range(10..60);
            let picks: Vec<PersonIx> = list
                .choose_multiple(self.rng, 8)
                .copied()
                .filter(|&p| self.book.free(p))
                .take(self.rng.random_range(2..=5))
                .collect();
            for p in picks {
                self.plant(t, view_in, Target::Person(p));
                t += self.rng.random_range(15..180);
            }
        }
    }

    fn bulk_export(&mut self) {
        let clock = self.ctx.clock;
        let Some(until) = self.ctx.staff.employees[self.e.ix()].active_until else {
            return;
        };
        let last = clock.day_of_date(until);
        let (from, to) = self.window();
        let lo = ((last - 20) * DAY).max(from);
        let hi = ((last + 1) * DAY).min(to);
        if hi <= lo {
            return;
        }
        let blocks: Vec<(i64, i64)> = self
            .ctx
            .rosters
            .duty(self.e)
            .filter(|b| b.start >= lo && b.end <= hi)
            .map(|b| (b.start, b.end))
            .collect();
        let area = self.ctx.staff.unit_of(self.e).area.clone();
        for _ in 0..self.rng.random_range(2..=5) {
            let (start, end) = match blocks.choose(self.rng) {
                Some(&b) => b,
                None => {
                    let day = self.rng.random_range(lo / DAY..end_day(hi));
                    (day * DAY + 9 * HOUR, day * DAY + 17 * HOUR)
                }
            };
            let mut t = self.rng.random_range(start..end);
            for _ in 0..self.rng.random_range(10..=40) {
                let Some(p) = free_adult(self.rng, self.ctx.people, &self.book.mask, &area) else {
                    continue;
                };
                let system = self.person_system();
                let action = if self.rng.random_bool(0.6) {
                    Action::Export
                } else {
                    Action::Print
                };
                if t >= lo && t < hi {
                    self.plant(t, system, Target::Person(p)).action = action;
                }
                t += self.rng.random_range(15..240);
            }
        }
    }
}

/// Plants the violations of the plan among the ordinary work.
pub(crate) fn execute<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    book: &Book,
    plan: &Plan,
    out: &mut Vec<Draft>,
) {
    for (e, kinds) in &plan.violators {
        for &kind in kinds {
            let mut planter = Planter {
                rng,
                ctx,
                book,
                e: *e,
                kind,
                out: Vec::new(),
            };
            planter.run();
            if planter.out.is_empty() {
                // The kind was impossible for this employee; a self-lookup always is.
                planter.kind = ViolationKind::SelfLookup;
                planter.run();
            }
            out.append(&mut planter.out);
        }
    }
}
