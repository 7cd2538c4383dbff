//! The scoring engine: for each access event, in time order, find the explanations and the
//! suspicion signals, combine them into a score with reasons, and feed suspicious events to the
//! alert builder.
//!
//! The engine keeps per-actor and per-subject state built from earlier events only (follow-ups,
//! colleagues' explained accesses, daily volumes, peers' shares), so an event's score never depends
//! on later events; context is used when it is valid at the event, or becomes valid within the
//! configured grace period. The engine does no IO and keeps no clock of its own.

use lekdicht_model::{AccessEvent, Action, ShiftKind};

use crate::alert::alerts_from;
use crate::codes::{ExplanationCode, SignalCode};
use crate::config::{Config, ConfigError};
use crate::context::{
    CaseIdx, CaseInfo, CaseKind, Context, EmpIdx, EmployeeInfo, FLAG_EMPLOYEE, FLAG_INFORMANT,
    FLAG_PROTECTED, FLAG_VIP, HashMap, Secs, ShiftSpan, Span, StrIdx, SubjIdx, SubjectInfo, Via,
    normalise_name, postcode4,
};
use crate::evidence::{Access, AccessPath, Evidence, EvidenceParams, PersonalChance};
use crate::score::{Check, CheckKind, EventScore, Explanation, Reason, Trace};
use crate::sigma::SigmaRunner;

const N_SIGNALS: usize = SignalCode::ALL.len();
const N_EXPLANATIONS: usize = ExplanationCode::ALL.len();
const HOUR: f64 = 3600.0;
/// Weight, in accesses at the baseline rate, of the prior in the peer-relative signal rate.
const PEER_PRIOR_EVENTS: f64 = 1000.0;
/// How many of an actor's latest cases a search without a record is checked against.
const MAX_CASES_SCANNED: usize = 64;
const DAY: f64 = 86_400.0;

/// Configuration turned into the units the engine computes with.
#[derive(Debug, Clone)]
struct Params {
    grace: Secs,
    incident_before: Secs,
    incident_after: Secs,
    follow_up: Secs,
    team: Secs,
    roster_horizon: Secs,
    shift_margin: Secs,
    leaving_soon: Secs,
    browsing: Secs,
    name_search: Secs,
    bulk: Secs,
    news: Secs,
    weights: [f64; N_SIGNALS],
    credit: [f64; N_EXPLANATIONS],
    /// For each explanation, a bit per signal it may offset.
    offsets: [u64; N_EXPLANATIONS],
    operational: Vec<String>,
    common_count: f64,
    /// A bit per signal damped by its rate in the role.
    damped: u64,
}

impl Params {
    fn new(ctx: &Context, config: &Config) -> Params {
        let w = &config.windows;
        let secs = |x: f64, unit: f64| (x * unit).round() as Secs;
        let mut weights = [0.0; N_SIGNALS];
        for &code in SignalCode::ALL {
            weights[code.index()] = config.weight(code);
        }
        let mut credit = [0.0; N_EXPLANATIONS];
        let mut offsets = [0u64; N_EXPLANATIONS];
        for &code in ExplanationCode::ALL {
            let e = config
                .explanations
                .get(&code)
                .cloned()
                .unwrap_or_else(|| crate::config::default_explanation(code));
            credit[code.index()] = e.credit;
            offsets[code.index()] = e.offsets.iter().fold(0, |acc, s| acc | (1 << s.index()));
        }
        let f = &config.family_name;
        Params {
            grace: secs(w.grace_hours, HOUR),
            incident_before: secs(w.incident_before_hours, HOUR),
            incident_after: secs(w.incident_after_hours, HOUR),
            follow_up: secs(w.follow_up_days, DAY),
            team: secs(w.team_hours, HOUR),
            roster_horizon: secs(w.roster_horizon_hours, HOUR),
            shift_margin: secs(w.shift_margin_minutes, 60.0),
            leaving_soon: secs(w.leaving_soon_days, DAY),
            browsing: secs(w.browsing_minutes, 60.0),
            name_search: secs(w.name_search_minutes, 60.0),
            bulk: secs(w.bulk_export_hours, HOUR),
            news: secs(w.news_hours, HOUR),
            weights,
            credit,
            offsets,
            operational: config.operational_systems.clone(),
            common_count: (f.common_share * ctx.n_persons as f64).max(f.common_min_count as f64),
            damped: config
                .peer_damping
                .signals
                .iter()
                .fold(0, |acc, s| acc | (1 << s.index())),
        }
    }
}

/// What the engine remembers about one actor.
#[derive(Debug, Clone, Default)]
struct ActorState {
    day: Option<i64>,
    today: u32,
    history_days: u32,
    history_events: u64,
    events: u64,
    unexplained: u64,
    systems: Vec<u16>,
    recent_unexplained: Vec<(Secs, u32)>,
    recent_exports: Vec<Secs>,
    /// The last name search without a case: time and the name as typed (lower case, no `*`).
    name_search: Option<(Secs, String)>,
    /// Distinct persons bearing that name viewed without explanation since.
    name_hits: Vec<u32>,
}

/// Running totals of a group of employees (a role, or a role within a unit).
#[derive(Debug, Clone, Copy, Default)]
struct GroupTotals {
    days: u64,
    day_events: u64,
    events: u64,
    unexplained: u64,
}

/// Whether the actor was on duty, on leave or sick at a time, as far as the roster tells.
#[derive(Debug, Clone, Copy, Default)]
struct Duty {
    roster_known: bool,
    on_duty: bool,
    leave: Option<ShiftSpan>,
    sick: Option<ShiftSpan>,
}

/// The distinct actors who accessed one subject recently, with their units, in a few cache lines:
/// times are seconds since the engine's first event; the top bit of an actor marks that some access
/// of theirs in the window had a case-based reason (a case, an incident, a follow-up, a colleague's
/// case).
#[derive(Debug, Clone, Copy, Default)]
struct NewsSlot {
    entries: [(u32, u32, u16); NEWS_CAPACITY],
    len: u8,
}

/// Most distinct recent actors remembered per subject (the `IN_THE_NEWS` count saturates here).
pub const NEWS_CAPACITY: usize = 16;

/// Marks an actor in a [`NewsSlot`] as linked to the subject by a case-based reason.
const NEWS_LINKED: u32 = 1 << 31;

/// How many distinct actors accessed a subject within the news window, how many of them had no
/// case-based reason for any of their accesses, and from how many distinct units those came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NewsCount {
    actors: u32,
    unlinked: u32,
    unlinked_units: u32,
}

/// The unit of an actor without a known unit in a [`NewsSlot`].
const NEWS_NO_UNIT: u16 = u16::MAX;

impl NewsSlot {
    /// Forgets accesses older than `window`, notes this actor (once; a case-based reason on any of
    /// their accesses marks them linked) and counts the actors within the window.
    fn record(&mut self, now: u32, who: NewsActor, window: Secs) -> NewsCount {
        let actor = who.actor & !NEWS_LINKED;
        let mark = if who.linked { NEWS_LINKED } else { 0 };
        let mut kept = 0;
        for i in 0..self.len as usize {
            let entry = self.entries[i];
            if i64::from(now) - i64::from(entry.0) <= window {
                self.entries[kept] = entry;
                kept += 1;
            }
        }
        self.len = kept as u8;
        match self.entries[..kept]
            .iter_mut()
            .find(|e| e.1 & !NEWS_LINKED == actor)
        {
            Some(entry) => entry.1 |= mark,
            None if kept < NEWS_CAPACITY => {
                self.entries[kept] = (now, actor | mark, who.unit);
                self.len += 1;
            }
            None => {
                // Full: the oldest entry makes room.
                self.entries.copy_within(1.., 0);
                self.entries[NEWS_CAPACITY - 1] = (now, actor | mark, who.unit);
            }
        }
        let mut units = [0u16; NEWS_CAPACITY];
        let mut n_units = 0;
        let mut unlinked = 0;
        for e in &self.entries[..self.len as usize] {
            if e.1 & NEWS_LINKED != 0 {
                continue;
            }
            unlinked += 1;
            if e.2 == NEWS_NO_UNIT || !units[..n_units].contains(&e.2) {
                units[n_units] = e.2;
                n_units += 1;
            }
        }
        NewsCount {
            actors: u32::from(self.len),
            unlinked,
            unlinked_units: n_units as u32,
        }
    }
}

/// One access as a [`NewsSlot`] notes it.
#[derive(Debug, Clone, Copy)]
struct NewsActor {
    actor: u32,
    unit: u16,
    /// Whether a case-based reason explains the access.
    linked: bool,
}

/// A fired signal before offsets.
#[derive(Debug, Clone)]
struct Hit {
    code: SignalCode,
    base: f64,
    detail: String,
    /// Whether the peer rate of the signal may damp this hit (see [`Config::peer_damping`]).
    peer_damped: bool,
}

/// Scores access events against a context. Feed events in time order with [`Engine::process`];
/// [`Engine::finish`] returns the alerts.
pub struct Engine<'a> {
    ctx: &'a Context,
    config: &'a Config,
    p: Params,
    actors: Vec<ActorState>,
    unknown_actors: HashMap<String, u32>,
    systems: HashMap<String, u16>,
    /// Per interned system: whether it is operational (patrol work happens there).
    system_operational: Vec<bool>,
    /// Accesses per role and system (role index, then system index).
    role_systems: Vec<Vec<u32>>,
    roles: Vec<GroupTotals>,
    /// Per role: on how many accesses each signal fired.
    role_signals: Vec<[u32; N_SIGNALS]>,
    /// Per actor: the same, to leave the actor's own accesses out of the peers' rate.
    actor_signals: Vec<[u32; N_SIGNALS]>,
    peers: Vec<GroupTotals>,
    /// (actor, subject) -> time of the last explained access.
    follow_up: HashMap<u64, Secs>,
    /// (unit, subject) -> time and actor of the last explained access.
    team: HashMap<u64, (Secs, u32)>,
    /// Per subject: the distinct actors who accessed it recently.
    news: Vec<NewsSlot>,
    /// Time origin for the compact times in `news` (the first event processed).
    epoch: Option<Secs>,
    sigma: Option<SigmaRunner>,
    evidence: Evidence,
    /// Per employee: what chance gives them by their own surroundings.
    personal: Vec<PersonalChance>,
    /// Time span of the processed events, for the budget.
    span: Option<(Secs, Secs)>,
    /// Events processed, for unique items of accesses without a record.
    n_events: u32,
    hits: Vec<Hit>,
}

fn key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

fn span_valid(span: Span, t: Secs, grace: Secs) -> bool {
    span.from.is_none_or(|f| f <= t + grace) && span.until.is_none_or(|u| t <= u)
}

impl CaseInfo {
    fn member_at(&self, e: EmpIdx, t: Secs, grace: Secs) -> bool {
        let start = self.members.partition_point(|m| m.0 < e);
        self.members[start..]
            .iter()
            .take_while(|m| m.0 == e)
            .any(|m| span_valid(m.1, t, grace))
    }
}

impl<'a> Engine<'a> {
    /// Prepares an engine; fails when the configuration is invalid or a Sigma rule does not compile.
    pub fn new(ctx: &'a Context, config: &'a Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let sigma = SigmaRunner::new(&config.sigma)?;
        let n = ctx.employees.len();
        Ok(Engine {
            ctx,
            config,
            p: Params::new(ctx, config),
            actors: vec![ActorState::default(); n],
            unknown_actors: HashMap::default(),
            systems: HashMap::default(),
            system_operational: Vec::new(),
            role_systems: vec![Vec::new(); ctx.n_roles as usize + 1],
            roles: vec![GroupTotals::default(); ctx.n_roles as usize + 1],
            role_signals: vec![[0; N_SIGNALS]; ctx.n_roles as usize + 1],
            actor_signals: vec![[0; N_SIGNALS]; n],
            peers: vec![GroupTotals::default(); ctx.n_peer_groups as usize + 1],
            follow_up: HashMap::default(),
            team: HashMap::default(),
            news: vec![NewsSlot::default(); ctx.subjects.len()],
            epoch: None,
            sigma,
            evidence: Evidence::new(EvidenceParams::from_config(&config.alerts)),
            personal: ctx.employees.iter().map(|e| personal(ctx, e)).collect(),
            span: None,
            n_events: 0,
            hits: Vec::new(),
        })
    }

    /// Scores one event. Events must come in time order (equal times in any fixed order).
    pub fn process(&mut self, event: &AccessEvent) -> EventScore {
        self.score(event, None)
    }

    /// Scores one event and records every check, fired or not, for `explain`.
    pub fn process_traced(&mut self, event: &AccessEvent) -> (EventScore, Trace) {
        let mut checks = Vec::new();
        let score = self.score(event, Some(&mut checks));
        (score, Trace { checks })
    }

    /// Scores a slice of events in order.
    pub fn process_batch(&mut self, events: &[AccessEvent]) -> Vec<EventScore> {
        events.iter().map(|e| self.process(e)).collect()
    }

    /// The alerts in the review queue (see [`Engine::finish_all`]).
    pub fn finish(self) -> Vec<Alert> {
        let mut alerts = self.finish_all();
        alerts.retain(|a| a.queued);
        alerts
    }

    /// Weighs every actor's periods against chance and returns all findings as alerts, best
    /// ranked first; `queued` marks those within the budget and the minimum probability.
    pub fn finish_all(self) -> Vec<Alert> {
        let days = self
            .span
            .map_or(1.0, |(f, l)| ((l - f) as f64 / DAY).ceil().max(1.0));
        let n_employees = self.ctx.employees.len().max(self.actors.len());
        alerts_from(
            self.evidence.assess(),
            &self.config.alerts,
            n_employees,
            days,
        )
    }

    fn actor_slot(&mut self, event: &AccessEvent) -> (u32, Option<EmpIdx>) {
        if let Some(e) = self.ctx.employee_idx(event.actor.as_str()) {
            return (e.0, Some(e));
        }
        if let Some(&i) = self.unknown_actors.get(event.actor.as_str()) {
            return (i, None);
        }
        let i = self.actors.len() as u32;
        self.actors.push(ActorState::default());
        self.actor_signals.push([0; N_SIGNALS]);
        self.unknown_actors
            .insert(event.actor.as_str().to_owned(), i);
        (i, None)
    }

    fn system_idx(&mut self, system: &str) -> u16 {
        if let Some(&i) = self.systems.get(system) {
            return i;
        }
        let i = self.systems.len().min(u16::MAX as usize) as u16;
        self.systems.insert(system.to_owned(), i);
        let operational = self.p.operational.iter().any(|s| s == system);
        if self.system_operational.len() <= i as usize {
            self.system_operational.resize(i as usize + 1, false);
        }
        self.system_operational[i as usize] = operational;
        i
    }

    fn duty(&self, emp: &EmployeeInfo, t: Secs) -> Duty {
        let shifts = &emp.shifts;
        let mut duty = Duty::default();
        if shifts.is_empty() {
            return duty;
        }
        let p = &self.p;
        // Shifts that may cover `t`: they start at most the longest shift (plus margin) before it.
        let lo = shifts.partition_point(|s| s.start < t - emp.longest_shift - p.shift_margin);
        let hi = lo + shifts[lo..].partition_point(|s| s.start <= t + p.shift_margin);
        for s in &shifts[lo..hi] {
            match s.kind {
                ShiftKind::Duty | ShiftKind::Standby => {
                    if s.start - p.shift_margin <= t && t <= s.end + p.shift_margin {
                        duty.on_duty = true;
                    }
                }
                ShiftKind::Leave => {
                    if s.start <= t && t < s.end {
                        duty.leave = Some(*s);
                    }
                }
                ShiftKind::Sick => {
                    if s.start <= t && t < s.end {
                        duty.sick = Some(*s);
                    }
                }
            }
        }
        // The roster is known around `t` when some shift overlaps the horizon on either side.
        if duty.on_duty || duty.leave.is_some() || duty.sick.is_some() {
            duty.roster_known = true;
            return duty;
        }
        let upto = shifts.partition_point(|s| s.start <= t + p.roster_horizon);
        let earliest = t - p.roster_horizon - emp.longest_shift;
        duty.roster_known = shifts[..upto]
            .iter()
            .rev()
            .take_while(|s| s.start >= earliest)
            .any(|s| s.end >= t - p.roster_horizon);
        duty
    }

    fn case_valid(&self, c: &CaseInfo, t: Secs) -> bool {
        match c.kind {
            CaseKind::Incident => {
                let starts_ok = c.opened.is_none_or(|o| o - self.p.incident_before <= t);
                let ends_ok = c.closed.is_none_or(|cl| t <= cl + self.p.incident_after);
                starts_ok && ends_ok
            }
            CaseKind::Other => {
                c.opened.is_none_or(|o| o <= t + self.p.grace) && c.closed.is_none_or(|cl| t <= cl)
            }
        }
    }

    fn push(&mut self, code: SignalCode, detail: String) {
        let base = self.p.weights[code.index()];
        self.hits.push(Hit {
            code,
            base,
            detail,
            peer_damped: true,
        });
    }

    fn score(&mut self, event: &AccessEvent, mut trace: Option<&mut Vec<Check>>) -> EventScore {
        let ctx = self.ctx;
        let t = event.time.timestamp();
        let local_day = (t + i64::from(event.time.offset().local_minus_utc())).div_euclid(86_400);
        let (slot, emp_idx) = self.actor_slot(event);
        let emp = emp_idx.map(|e| &ctx.employees[e.0 as usize]);
        let subj_idx = event
            .subject
            .as_ref()
            .and_then(|s| ctx.subject_by_id.get(s.as_str()).copied());
        let subj = subj_idx.map(|s| &ctx.subjects[s.0 as usize]);
        let person_idx = match subj {
            Some(s) if s.is_vehicle => s.holder,
            Some(_) => subj_idx,
            None => None,
        };
        let person = person_idx.map(|s| &ctx.subjects[s.0 as usize]);
        let holder_note = match subj {
            Some(s) if s.is_vehicle => " (the holder of the vehicle)".to_owned(),
            _ => String::new(),
        };
        let stated = event.case.as_ref().map(|c| {
            ctx.case_by_id.get(c.as_str()).copied().filter(|&ci| {
                ctx.cases[ci.0 as usize]
                    .opened
                    .is_none_or(|o| o <= t + self.p.grace)
            })
        });
        let unit = emp.and_then(|e| e.unit);
        let duty = emp.map(|e| self.duty(e, t)).unwrap_or_default();
        let system = self.system_idx(&event.system);
        let grace = self.p.grace;
        let traced = trace.is_some();
        self.span = Some(self.span.map_or((t, t), |(f, l)| (f.min(t), l.max(t))));
        self.n_events = self.n_events.wrapping_add(1);
        self.hits.clear();
        let mut explained: Vec<Explanation> = Vec::new();

        // --- Explanations: cases and incidents naming the subject.
        let mut member_case: Option<(CaseIdx, Via, bool)> = None;
        let mut unit_case: Option<CaseIdx> = None;
        let mut restricted: Option<(CaseIdx, Via, u32)> = None;
        let mut stated_names_subject = false;
        if let Some(s) = subj_idx {
            for link in &ctx.subject_cases[s.0 as usize] {
                let c = &ctx.cases[link.case.0 as usize];
                let is_stated = stated == Some(Some(link.case));
                stated_names_subject |= is_stated;
                if !span_valid(c.subjects[link.entry as usize].2, t, grace)
                    || !self.case_valid(c, t)
                {
                    continue;
                }
                let member = emp_idx.is_some_and(|e| c.member_at(e, t, grace));
                if member {
                    let better = match member_case {
                        None => true,
                        Some((_, via, was_stated)) => {
                            (is_stated && !was_stated)
                                || (is_stated == was_stated
                                    && via != Via::Direct
                                    && link.via == Via::Direct)
                        }
                    };
                    if better {
                        member_case = Some((link.case, link.via, is_stated));
                    }
                    continue;
                }
                if c.restricted {
                    if restricted.is_none() && link.via != Via::Household {
                        restricted = Some((link.case, link.via, link.entry));
                    }
                    continue;
                }
                if unit.is_some() && c.unit == unit && unit_case.is_none() {
                    unit_case = Some(link.case);
                }
            }
        } else if let (Some(Some(ci)), Some(e)) = (stated, emp_idx) {
            // An access without a known record, within a stated case.
            let c = &ctx.cases[ci.0 as usize];
            if self.case_valid(c, t) && c.member_at(e, t, grace) {
                member_case = Some((ci, Via::Direct, true));
            } else if unit.is_some() && c.unit == unit && !c.restricted && self.case_valid(c, t) {
                unit_case = Some(ci);
            }
        } else if let (None, Some(e), Some(info)) = (&event.subject, emp_idx, emp) {
            // A search that showed no single record: part of the work on a current case.
            // Member cases are sorted by opening time: the latest one opened by now (plus the
            // grace period) that is still valid is the current work.
            let cases = &info.member_cases;
            let upto = cases.partition_point(|ci| {
                ctx.cases[ci.0 as usize]
                    .opened
                    .is_none_or(|o| o <= t + grace)
            });
            member_case = cases[..upto]
                .iter()
                .rev()
                .take(MAX_CASES_SCANNED)
                .find(|ci| {
                    let c = &ctx.cases[ci.0 as usize];
                    self.case_valid(c, t) && c.member_at(e, t, grace)
                })
                .map(|&ci| (ci, Via::Direct, false));
        }
        if let Some((ci, via, is_stated)) = member_case {
            let c = &ctx.cases[ci.0 as usize];
            let via_text = match via {
                Via::Direct => "",
                Via::Household => " via a housemate it names",
                Via::Holder => " via the vehicle's holder",
                Via::Vehicle => " via a vehicle the subject holds",
            };
            let stated_text = if is_stated { ", given as reason" } else { "" };
            let (code, what) = match c.kind {
                CaseKind::Incident => (ExplanationCode::IncidentHandler, "incident"),
                CaseKind::Other => (ExplanationCode::CaseMember, "case"),
            };
            let naming = match (&event.subject, subj_idx) {
                (_, Some(_)) => " naming the subject",
                (None, None) => ", during a search that showed no single record",
                (Some(_), None) => ", for a record not in the context",
            };
            explained.push(Explanation {
                code,
                detail: lazy(traced, || {
                    format!("member of {what} {}{naming}{via_text}{stated_text}", c.id)
                }),
            });
        }
        if let Some(ci) = unit_case {
            let c = &ctx.cases[ci.0 as usize];
            let unit_id = unit
                .map(|u| ctx.units[u.0 as usize].id.as_str())
                .unwrap_or("?");
            explained.push(Explanation {
                code: ExplanationCode::UnitCase,
                detail: lazy(traced, || format!("unit {unit_id} owns case {}", c.id)),
            });
        }
        if let Some(s) = subj_idx
            && let Some(&last) = self.follow_up.get(&key(slot, s.0))
            && t - last <= self.p.follow_up
        {
            let days = (t - last) as f64 / DAY;
            explained.push(Explanation {
                code: ExplanationCode::FollowUp,
                detail: lazy(traced, || {
                    format!("explained access to this subject {days:.1} days earlier")
                }),
            });
        }
        // Patrol work: on duty (or duty unknown), operational system, in the unit's area.
        if let (Some(_), Some(u)) = (emp, unit) {
            let area = &ctx.units[u.0 as usize].area;
            let duty_ok = duty.on_duty || !duty.roster_known;
            let operational = self.system_operational[system as usize];
            if !area.is_empty() && duty_ok && operational {
                let in_area =
                    |pc: Option<u16>| pc.is_some_and(|pc| area.binary_search(&pc).is_ok());
                let location = event.location.as_deref().and_then(postcode4);
                let found = if in_area(location) {
                    Some(("the location", location))
                } else if event.subject.is_none() && location.is_none() && duty.on_duty {
                    Some(("a search without a single record", None))
                } else if subj.is_some_and(|s| s.is_vehicle) && duty.on_duty {
                    Some(("a vehicle check", None))
                } else if in_area(subj.and_then(|s| s.postcode4)) {
                    Some(("the subject's address", subj.and_then(|s| s.postcode4)))
                } else if in_area(person.and_then(|s| s.postcode4)) {
                    Some(("the holder's address", person.and_then(|s| s.postcode4)))
                } else {
                    None
                };
                if let Some((what, pc)) = found {
                    let duty_text = if duty.on_duty {
                        "on duty"
                    } else {
                        "duty unknown"
                    };
                    let detail = if !traced {
                        String::new()
                    } else if pc.is_none() {
                        format!(
                            "{duty_text} in {} for unit {}: {what}",
                            event.system, ctx.units[u.0 as usize].id
                        )
                    } else {
                        format!(
                            "{duty_text} in {}; {what} lies in the area of unit {}",
                            event.system, ctx.units[u.0 as usize].id
                        )
                    };
                    explained.push(Explanation {
                        code: ExplanationCode::AreaPatrol,
                        detail,
                    });
                }
            }
        }
        if let (Some(u), Some(s)) = (unit, subj_idx)
            && let Some(&(last, who)) = self.team.get(&key(u.0, s.0))
            && who != slot
            && t - last <= self.p.team
        {
            let hours = (t - last) as f64 / HOUR;
            explained.push(Explanation {
                code: ExplanationCode::TeamCollaboration,
                detail: lazy(traced, || {
                    format!(
                        "a colleague of unit {} accessed the subject with an explanation {hours:.1} h earlier",
                        ctx.units[u.0 as usize].id
                    )
                }),
            });
        }
        let is_explained = !explained.is_empty();

        // --- Signals about who the subject is to the actor.
        if let (Some(e), Some(pi), Some(p)) = (emp, person_idx, person) {
            self.person_signals(e, pi, p, &holder_note);
        }
        if let Some(s) = subj {
            let flags = s.flags | person.map_or(0, |p| p.flags);
            if flags & (FLAG_VIP | FLAG_PROTECTED | FLAG_INFORMANT) != 0 {
                let fw = &self.config.flags;
                let table = [
                    (FLAG_VIP, "vip", fw.vip),
                    (FLAG_PROTECTED, "protected", fw.protected),
                    (FLAG_INFORMANT, "informant", fw.informant),
                ];
                let present = table.iter().filter(|(bit, _, _)| flags & bit != 0);
                let names: Vec<&str> = present.clone().map(|x| x.1).collect();
                let factor = present.map(|x| x.2).fold(0.0, f64::max);
                self.hits.push(Hit {
                    code: SignalCode::FlaggedSubject,
                    base: self.p.weights[SignalCode::FlaggedSubject.index()] * factor,
                    detail: format!(
                        "the subject's record{holder_note} is flagged {}",
                        names.join(", ")
                    ),
                    peer_damped: true,
                });
            }
        }
        if let Some((ci, via, entry)) = restricted {
            let c = &ctx.cases[ci.0 as usize];
            let role = c.subjects[entry as usize].1.as_deref().unwrap_or("subject");
            let unit_text = c
                .unit
                .map(|u| format!(" of unit {}", ctx.units[u.0 as usize].id))
                .unwrap_or_default();
            let detail = match via {
                Via::Direct => {
                    format!("subject is a {role} in restricted case {}{unit_text}", c.id)
                }
                Via::Holder => format!(
                    "the vehicle's holder is a {role} in restricted case {}{unit_text}",
                    c.id
                ),
                Via::Vehicle | Via::Household => format!(
                    "the subject holds a vehicle named in restricted case {}{unit_text}",
                    c.id
                ),
            };
            self.push(SignalCode::RestrictedCaseNotMember, detail);
        }
        // --- The case given as reason.
        if let (Some(stated_case), Some(given)) = (stated, event.case.as_ref()) {
            match stated_case {
                None => self.push(
                    SignalCode::CaseUnknown,
                    format!("case {given} given as reason is not known"),
                ),
                Some(ci) => {
                    let c = &ctx.cases[ci.0 as usize];
                    if subj_idx.is_some() && !stated_names_subject {
                        self.push(
                            SignalCode::CaseNotNamingSubject,
                            format!("case {} given as reason does not name the subject", c.id),
                        );
                    }
                    if emp_idx.is_none_or(|e| !c.member_at(e, t, grace)) {
                        // A colleague's case of the own unit is often given by a helper who is
                        // not registered on it, so among peers this is common and weighs less;
                        // another unit's case is no such habit, and the peers' rate of the
                        // former must not water it down.
                        let other_unit = c.unit.is_some() && c.unit != unit;
                        let detail = if other_unit {
                            let owner = c.unit.map_or("?", |u| ctx.units[u.0 as usize].id.as_str());
                            format!(
                                "the actor is no member of case {} given as reason, a case of another unit ({owner})",
                                c.id
                            )
                        } else {
                            format!("the actor is no member of case {} given as reason", c.id)
                        };
                        self.hits.push(Hit {
                            code: SignalCode::CaseNotMember,
                            base: self.p.weights[SignalCode::CaseNotMember.index()],
                            detail,
                            peer_damped: !other_unit,
                        });
                    }
                }
            }
        }
        // --- Time: roster and employment.
        if !duty.on_duty {
            if let Some(s) = duty.sick {
                self.push(
                    SignalCode::Sick,
                    format!(
                        "reported sick from {} to {}",
                        fmt_time(s.start),
                        fmt_time(s.end)
                    ),
                );
            } else if let Some(s) = duty.leave {
                self.push(
                    SignalCode::OnLeave,
                    format!("on leave from {} to {}", fmt_time(s.start), fmt_time(s.end)),
                );
            } else if duty.roster_known {
                self.push(
                    SignalCode::OffDuty,
                    "no shift covers the time of the access, while the roster around it is known"
                        .to_owned(),
                );
            }
        }
        if let Some(e) = emp
            && let (Some(end), Some(last)) = (e.active_until_end, e.active_until)
        {
            let t_local = t + i64::from(event.time.offset().local_minus_utc());
            if t_local >= end {
                self.push(
                    SignalCode::AfterLastDay,
                    format!("the actor's last working day was {last}"),
                );
            } else if end - t_local <= self.p.leaving_soon && event.action.takes_data_out() {
                let days = ((end - t_local) as f64 / DAY).floor();
                self.push(
                    SignalCode::LeavingSoon,
                    format!(
                        "{} in the last weeks of employment: the last working day is {last}, {days} days later",
                        event.action.as_str()
                    ),
                );
            }
        }

        // --- Behaviour against the actor's own history and their peers.
        let role = emp.map_or(ctx.n_roles as usize, |e| e.role.0 as usize);
        let peer = emp.map_or(ctx.n_peer_groups as usize, |e| e.peer_group as usize);
        {
            let a = &mut self.actors[slot as usize];
            if a.day != Some(local_day) {
                if a.day.is_some() {
                    a.history_days += 1;
                    a.history_events += u64::from(a.today);
                    let g = &mut self.peers[peer];
                    g.days += 1;
                    g.day_events += u64::from(a.today);
                }
                a.day = Some(local_day);
                a.today = 0;
            }
            a.today += 1;
        }
        let th = &self.config.thresholds;
        let (today, own_days, own_events) = {
            let a = &self.actors[slot as usize];
            (a.today, a.history_days, a.history_events)
        };
        if today >= th.volume_min_events && own_days >= th.volume_history_days {
            let mean = own_events as f64 / f64::from(own_days.max(1));
            if f64::from(today) > th.volume_factor * mean {
                self.push(
                    SignalCode::VolumeUnusual,
                    format!("{today} accesses today; the actor's own daily mean is {mean:.1}"),
                );
            }
        }
        let g = self.peers[peer];
        if today >= th.volume_min_events && g.days >= u64::from(th.peer_min_days) {
            let mean = g.day_events as f64 / g.days as f64;
            if f64::from(today) > th.peer_volume_factor * mean {
                self.push(
                    SignalCode::VolumeUnusualPeers,
                    format!("{today} accesses today; peers with the same role and unit average {mean:.1} a day"),
                );
            }
        }
        if !is_explained {
            let a = &self.actors[slot as usize];
            let r = self.roles[role];
            if a.events >= u64::from(th.share_min_events) && r.events > 0 {
                let own = a.unexplained as f64 / a.events as f64;
                let peers = r.unexplained as f64 / r.events as f64;
                if own > th.share_factor * peers && own > peers + th.share_margin {
                    self.push(
                        SignalCode::UnexplainedShareUnusual,
                        format!(
                            "{:.0}% of the actor's accesses are unexplained; {:.0}% for the role",
                            own * 100.0,
                            peers * 100.0
                        ),
                    );
                }
            }
        }
        if event.action == Action::Search
            && event.case.is_none()
            && let Some(q) = event.query.as_deref()
            && looks_like_name(q)
        {
            self.push(
                SignalCode::NameSearchNoCase,
                "a search on a name without a case number".to_owned(),
            );
            let stem = normalise_name(q.trim().trim_end_matches('*'));
            let a = &mut self.actors[slot as usize];
            a.name_search = Some((t, stem));
            a.name_hits.clear();
        }
        if !is_explained && let (Some(s), Some(p)) = (subj_idx, person) {
            let window = self.p.browsing;
            let a = &mut self.actors[slot as usize];
            // Views of several persons bearing the name just searched for, without a reason.
            let matches_search = match (&a.name_search, p.family_name) {
                (Some((at, stem)), Some(name)) => {
                    t - at <= self.p.name_search
                        && !stem.is_empty()
                        && ctx.str(name).starts_with(stem.as_str())
                }
                _ => false,
            };
            if matches_search && !a.name_hits.contains(&s.0) {
                a.name_hits.push(s.0);
            }
            let hits = a.name_hits.len() as u32;
            a.recent_unexplained.retain(|&(ts, _)| t - ts <= window);
            if !a.recent_unexplained.iter().any(|x| x.1 == s.0) {
                a.recent_unexplained.push((t, s.0));
            }
            let distinct = a.recent_unexplained.len() as u32;
            let minutes = window as f64 / 60.0;
            if matches_search && hits >= th.browsing_name_hits {
                let after = self.p.name_search as f64 / 60.0;
                self.push(
                    SignalCode::Browsing,
                    format!(
                        "{hits} persons bearing the name just searched for viewed without explanation within {after:.0} minutes of the search"
                    ),
                );
            } else if distinct >= th.browsing_subjects {
                self.push(
                    SignalCode::Browsing,
                    format!("{distinct} distinct unexplained subjects within {minutes:.0} minutes"),
                );
            }
        }
        if event.action.takes_data_out() {
            if !is_explained {
                self.push(
                    SignalCode::ExportUnexplained,
                    format!(
                        "{} of a record without any explanation",
                        event.action.as_str()
                    ),
                );
            }
            let window = self.p.bulk;
            let a = &mut self.actors[slot as usize];
            a.recent_exports.retain(|&ts| t - ts <= window);
            a.recent_exports.push(t);
            let n = a.recent_exports.len() as u32;
            if n >= th.bulk_exports {
                self.push(
                    SignalCode::BulkExport,
                    format!(
                        "{n} exports or prints within {:.0} hours",
                        self.p.bulk as f64 / HOUR
                    ),
                );
            }
        }
        {
            let first_use = !self.actors[slot as usize].systems.contains(&system);
            let counts = &mut self.role_systems[role];
            if counts.len() <= system as usize {
                counts.resize(system as usize + 1, 0);
            }
            let total = self.roles[role].events;
            if first_use && total >= u64::from(th.unusual_system_min_role_events) {
                let share = f64::from(counts[system as usize]) / total as f64;
                if share < th.unusual_system_share {
                    self.push(
                        SignalCode::UnusualSystem,
                        format!(
                            "first use of {} by the actor; {:.2}% of the role's accesses are in it",
                            event.system,
                            share * 100.0
                        ),
                    );
                }
            }
            self.role_systems[role][system as usize] += 1;
            if first_use {
                self.actors[slot as usize].systems.push(system);
            }
        }
        if let Some(s) = subj_idx {
            let epoch = *self.epoch.get_or_insert(t);
            let now = (t - epoch).clamp(0, i64::from(u32::MAX)) as u32;
            // Patrol work explains where and when, not who: only a case-based reason links an
            // employee to a person in the news.
            let linked = explained
                .iter()
                .any(|x| x.code != ExplanationCode::AreaPatrol);
            let who = NewsActor {
                actor: slot,
                unit: unit.map_or(NEWS_NO_UNIT, |u| {
                    u.0.min(u32::from(NEWS_NO_UNIT - 1)) as u16
                }),
                linked,
            };
            let n = self.news[s.0 as usize].record(now, who, self.p.news);
            let unlinked_share = f64::from(n.unlinked) / f64::from(n.actors.max(1));
            // Curiosity is a burst across the organisation: employees of several units without a
            // link, not one team's ordinary work on a busy record.
            if !linked
                && n.actors >= th.news_actors
                && n.unlinked_units >= th.news_units
                && unlinked_share >= th.news_unlinked_share
            {
                self.push(
                    SignalCode::InTheNews,
                    format!(
                        "{} employees accessed this subject within {:.0} hours; {} of them, from {} units, without a case, incident or colleague linking them to it",
                        n.actors,
                        self.p.news as f64 / HOUR,
                        n.unlinked,
                        n.unlinked_units
                    ),
                );
            }
        }
        if !is_explained {
            self.push(
                SignalCode::Unexplained,
                "no case, incident, area or colleague in the context explains this access"
                    .to_owned(),
            );
        }
        if let Some(sigma) = self.sigma.as_mut() {
            let unit_id = emp
                .and_then(|e| e.unit)
                .map(|u| ctx.units[u.0 as usize].id.as_str());
            let role_text = emp.map(|e| ctx.role_name(e.role));
            for (title, weight) in sigma.run(event, t, unit_id, role_text) {
                self.hits.push(Hit {
                    code: SignalCode::SigmaRule,
                    base: weight,
                    detail: title,
                    peer_damped: true,
                });
            }
        }

        // --- Peer-relative weight of the behavioural signals, from the earlier accesses of the
        // others in the role.
        let peer_events = (self.roles[role].events - self.actors[slot as usize].events) as f64;
        let pd = &self.config.peer_damping;
        let mut fired_bits = 0u64;
        for hit in &mut self.hits {
            let bit = 1u64 << hit.code.index();
            if self.p.damped & bit != 0 && hit.peer_damped {
                // Smoothed towards the baseline: a role with little history keeps full weights.
                let i = hit.code.index();
                let count =
                    f64::from(self.role_signals[role][i] - self.actor_signals[slot as usize][i]);
                let prior = PEER_PRIOR_EVENTS;
                let rate = (count + pd.baseline_rate * prior) / (peer_events + prior);
                let factor = (1.0 - 0.5 * (rate / pd.baseline_rate).log10()).clamp(pd.floor, 1.0);
                if factor < 1.0 {
                    hit.base *= factor;
                    hit.detail.push_str(&format!(
                        " (common among peers in the role: {:.1}% of their accesses; weight x{factor:.2})",
                        rate * 100.0
                    ));
                }
            }
            if fired_bits & bit == 0 {
                fired_bits |= bit;
                self.role_signals[role][hit.code.index()] += 1;
                self.actor_signals[slot as usize][hit.code.index()] += 1;
            }
        }

        // --- Combine: each signal keeps the part no applicable explanation offsets.
        let mut reasons: Vec<Reason> = Vec::with_capacity(self.hits.len());
        let mut raw = 0.0;
        // Signals that keep at least half their weight: they count as evidence for the actor's
        // period (see `evidence`).
        let mut counted = 0u64;
        for hit in &self.hits {
            let credit = explained
                .iter()
                .filter(|x| self.p.offsets[x.code.index()] & (1 << hit.code.index()) != 0)
                .map(|x| self.p.credit[x.code.index()])
                .fold(0.0, f64::max);
            let weight = hit.base * (1.0 - credit);
            if hit.base > 0.0 && weight >= 0.5 * hit.base {
                counted |= 1 << hit.code.index();
            }
            if let Some(checks) = trace.as_deref_mut() {
                checks.push(Check {
                    kind: CheckKind::Signal,
                    code: hit.code.as_str(),
                    fired: true,
                    detail: hit.detail.clone(),
                    base_weight: hit.base,
                    weight,
                });
            }
            if weight > 0.0 {
                raw += weight;
                reasons.push(Reason {
                    code: hit.code,
                    detail: hit.detail.clone(),
                    weight,
                });
            }
        }
        reasons.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let score = (1.0 - (-raw).exp()).clamp(0.0, 1.0);
        if let Some(checks) = trace {
            for x in &explained {
                checks.push(Check {
                    kind: CheckKind::Explanation,
                    code: x.code.as_str(),
                    fired: true,
                    detail: x.detail.clone(),
                    base_weight: 0.0,
                    weight: 0.0,
                });
            }
            for &code in ExplanationCode::ALL {
                if explained.iter().all(|x| x.code != code) {
                    checks.push(Check {
                        kind: CheckKind::Explanation,
                        code: code.as_str(),
                        fired: false,
                        detail: why_not_explained(code, subj_idx.is_some(), duty).to_owned(),
                        base_weight: 0.0,
                        weight: 0.0,
                    });
                }
            }
            for &code in SignalCode::ALL {
                if self.hits.iter().all(|h| h.code != code) {
                    checks.push(Check {
                        kind: CheckKind::Signal,
                        code: code.as_str(),
                        fired: false,
                        detail: why_not_signal(code, is_explained, duty).to_owned(),
                        base_weight: self.p.weights[code.index()],
                        weight: 0.0,
                    });
                }
            }
        }

        // --- Remember what later events may use.
        {
            let a = &mut self.actors[slot as usize];
            a.events += 1;
            let r = &mut self.roles[role];
            r.events += 1;
            if !is_explained {
                a.unexplained += 1;
                r.unexplained += 1;
            }
        }
        // Only a case-based reason carries over to later accesses (follow-ups, colleagues): patrol
        // work explains where and when, not who, and must not launder a lookup into a follow-up.
        let primary = explained.iter().any(|x| {
            matches!(
                x.code,
                ExplanationCode::CaseMember
                    | ExplanationCode::IncidentHandler
                    | ExplanationCode::UnitCase
            )
        });
        if let (true, Some(s)) = (primary, subj_idx) {
            self.follow_up.insert(key(slot, s.0), t);
            if let Some(u) = unit {
                self.team.insert(key(u.0, s.0), (t, slot));
            }
        }
        let personal = emp_idx
            .map(|e| self.personal[e.0 as usize])
            .unwrap_or_default();
        let path = match subj {
            Some(s) if s.is_vehicle => AccessPath::Vehicle,
            Some(_) => AccessPath::Person,
            None => AccessPath::Other,
        };
        self.evidence.add(&Access {
            slot,
            actor: &event.actor,
            role: role as u32,
            group: peer as u32,
            role_name: emp.map_or("employee outside the directory", |e| ctx.role_name(e.role)),
            event: &event.id,
            time: event.time,
            secs: t,
            path,
            item: subj_idx.map_or(0x8000_0000 | self.n_events, |s| s.0),
            day: local_day,
            area_explained: is_explained,
            household: person.and_then(|p| p.address).map(|a| a.0),
            near_home: personal.home4.is_some()
                && person.and_then(|p| p.postcode4) == personal.home4,
            chance: personal,
            signals: counted,
        });
        EventScore {
            event: event.id.clone(),
            actor: event.actor.clone(),
            time: event.time,
            score,
            explained_by: explained,
            reasons,
        }
    }

    /// Signals about the person behind the record (the subject, or a vehicle's holder).
    fn person_signals(
        &mut self,
        e: &EmployeeInfo,
        pi: SubjIdx,
        p: &SubjectInfo,
        holder_note: &str,
    ) {
        let ctx = self.ctx;
        if e.own_subject == Some(pi) {
            self.push(
                SignalCode::SelfLookup,
                format!("the subject{holder_note} is the actor's own record"),
            );
            return;
        }
        if let Ok(i) = e.relations.binary_search_by_key(&pi, |r| r.0) {
            let kind = e.relations[i].1;
            self.push(
                SignalCode::DeclaredRelation,
                format!(
                    "the actor declared the subject{holder_note} as {}",
                    kind.as_str()
                ),
            );
        }
        let same_address = e.address.is_some() && e.address == p.address;
        if same_address {
            self.push(
                SignalCode::SameAddress,
                format!("the subject{holder_note} lives at the actor's home address"),
            );
        } else if e.postcode.is_some() && e.postcode == p.postcode {
            self.push(
                SignalCode::SamePostcode,
                format!("the subject{holder_note} lives in the actor's own 6-character postcode"),
            );
        }
        if let (Some(a), Some(b)) = (e.family_name, p.family_name)
            && a == b
        {
            let count = ctx
                .family_name_count
                .get(a.0 as usize)
                .copied()
                .unwrap_or(0)
                .max(1);
            let t = self.p.common_count;
            let rarity = ((t / f64::from(count)).ln() / t.ln()).clamp(0.0, 1.0);
            if rarity > 0.0 {
                let base = self.p.weights[SignalCode::SameFamilyName.index()] * rarity;
                self.hits.push(Hit {
                    code: SignalCode::SameFamilyName,
                    base,
                    detail: format!(
                        "the subject{holder_note} shares the actor's family name, borne by {count} of {} persons (rarity {rarity:.2})",
                        ctx.n_persons
                    ),
                    peer_damped: true,
                });
            }
        }
        if p.employee
            .is_some_and(|o| Some(o) != ctx.employee_idx(e.id.as_str()))
        {
            self.push(
                SignalCode::ColleagueRecord,
                format!("the subject{holder_note} is a colleague's own record"),
            );
        } else if p.employee.is_none() && p.flags & FLAG_EMPLOYEE != 0 {
            self.push(
                SignalCode::ColleagueRecord,
                format!("the subject{holder_note} is flagged as an employee"),
            );
        }
    }
}

pub use crate::alert::Alert;

/// What chance gives an employee by their own surroundings: shares of their 4-digit home area
/// that are themselves, their household, their declared relations and their street, and the share
/// of all persons bearing their family name.
fn personal(ctx: &Context, e: &EmployeeInfo) -> PersonalChance {
    let home4 = e.postcode.and_then(|p| postcode4(ctx.str(p)));
    let count = |i: Option<StrIdx>| {
        i.and_then(|i| ctx.postcode_count.get(i.0 as usize).copied())
            .unwrap_or(0)
    };
    let street = count(e.postcode).max(1);
    let household = count(e.address).max(1);
    let area = home4
        .and_then(|p4| ctx.postcode4_count.get(usize::from(p4)).copied())
        .unwrap_or(0)
        .max(street)
        .max(1);
    let share = |n: u32| {
        if home4.is_some() {
            f64::from(n) / f64::from(area)
        } else {
            0.0
        }
    };
    PersonalChance {
        home4,
        own: share(1),
        household: share(household),
        relations: share(e.relations.len() as u32),
        street: share(street),
        name: e.family_name.map_or(0.0, |f| {
            f64::from(
                ctx.family_name_count
                    .get(f.0 as usize)
                    .copied()
                    .unwrap_or(0)
                    .max(1),
            ) / f64::from(ctx.n_persons.max(1))
        }),
    }
}

/// The text when a trace is being recorded; an empty (unallocated) string otherwise.
fn lazy(traced: bool, text: impl FnOnce() -> String) -> String {
    if traced { text() } else { String::new() }
}

/// Whether a search query looks like a person's name: letters, no digits.
fn looks_like_name(q: &str) -> bool {
    let q = q.trim();
    q.chars().any(char::is_alphabetic) && !q.chars().any(|c| c.is_ascii_digit())
}

fn fmt_time(secs: Secs) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| secs.to_string())
}

fn why_not_explained(code: ExplanationCode, has_subject: bool, duty: Duty) -> &'static str {
    use ExplanationCode::*;
    if !has_subject && matches!(code, FollowUp | TeamCollaboration) {
        return "the access names no known subject";
    }
    match code {
        CaseMember => {
            "the actor is no member of an open case naming the subject, its vehicle or holder"
        }
        IncidentHandler => "the actor handled no incident naming the subject within the window",
        UnitCase => "the actor's unit owns no open, unrestricted case naming the subject",
        FollowUp => "no explained access by the actor to this subject within the follow-up window",
        AreaPatrol if duty.roster_known && !duty.on_duty => "the actor was not on duty",
        AreaPatrol => {
            "not an operational system, no area for the unit, or neither location nor address lies in the unit's area"
        }
        TeamCollaboration => {
            "no colleague in the unit accessed the subject with an explanation within the window"
        }
    }
}

fn why_not_signal(code: SignalCode, explained: bool, duty: Duty) -> &'static str {
    use SignalCode::*;
    match code {
        Unexplained | ExportUnexplained | UnexplainedShareUnusual if explained => {
            "the access is explained"
        }
        OffDuty | OnLeave | Sick if !duty.roster_known => {
            "no roster data around the time: duty unknown"
        }
        OffDuty | OnLeave | Sick => "the roster shows no such period at the time",
        SelfLookup | DeclaredRelation | SameAddress | SamePostcode | SameFamilyName
        | ColleagueRecord => {
            "the subject is not connected to the actor in this way (or is not known)"
        }
        FlaggedSubject => "the subject's record carries no vip, protected or informant flag",
        RestrictedCaseNotMember => "the subject is in no restricted case, or the actor is a member",
        CaseNotNamingSubject | CaseNotMember | CaseUnknown => {
            "no case given, or the case given is known, names the subject and has the actor as member"
        }
        AfterLastDay | LeavingSoon => "no last working day near the time",
        VolumeUnusual | VolumeUnusualPeers => {
            "today's volume is within the usual range (or too little history)"
        }
        UnexplainedShareUnusual => "the actor's unexplained share is within the role's usual range",
        NameSearchNoCase => "not a name search without a case number",
        Browsing => "too few distinct unexplained subjects within the browsing window",
        ExportUnexplained => "not an export or print",
        BulkExport => "too few exports or prints within the window",
        UnusualSystem => "the actor used the system before, or the role uses it regularly",
        InTheNews => {
            "a case-based reason links the actor to the subject, or too few employees accessed it within the window, or most of them had such a reason"
        }
        Unexplained => "the access is explained",
        SigmaRule => "no custom Sigma rule matched",
    }
}
