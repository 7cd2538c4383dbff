//! Chance-calibrated evidence per actor: how surprising is what an employee did in a period,
//! given how often the same thing happens by chance to people doing the same work?
//!
//! The engine reports every access here: its path (a person looked up directly, a vehicle checked,
//! or an access without a record), the record (so that repeats count once) and the signals that
//! fired on it without an explanation offsetting them. Per actor and period ("cell") and per
//! signal-and-path ("key") this module counts distinct records with the signal (`n`) and distinct
//! records accessed on the path (the exposure `E`). At the end it estimates, for every cell and
//! key, how many such records chance alone would give (`λ`): the rate among the actor's peers
//! (role within unit, smoothed towards the role and the organisation, never counting the actor
//! itself) times the actor's exposure; for a shared family name, the name's frequency; for a
//! neighbour, the share of the actor's records in their own home area. The surprise of a count is
//! `-log2 P(X >= n)` under a negative binomial around `λ` whose dispersion is measured on the
//! organisation, so that signals which vary a lot between honest colleagues weigh less.
//!
//! A cell's evidence is the sum of its keys' surprises, in bits; its p-value is the chance of at
//! least that much evidence under its own null (the keys' exact discrete distributions,
//! convolved). The p-values of all cells are turned into a probability that the cell holds a real
//! violation through their false-discovery rate against a null measured on the organisation itself:
//! in a period without violations there is no excess of small p-values and every probability stays
//! low. Cells that
//! look real are left out of the base rates and everything is estimated again, so that violators
//! do not make their own behaviour look ordinary.
//!
//! No IO, no clock, no identity: sentences name roles, counts and expectations, never a person,
//! a plate, a postcode or a name.

use lekdicht_model::{EmployeeId, EventId, Time};

use crate::codes::SignalCode;
use crate::context::Secs;

/// How a record was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessPath {
    /// A person's own record, looked up directly.
    Person = 0,
    /// A vehicle's record; person signals then concern its holder.
    Vehicle = 1,
    /// An access without a known record (a search, an unknown subject).
    Other = 2,
}

impl AccessPath {
    pub const ALL: [AccessPath; 3] = [AccessPath::Person, AccessPath::Vehicle, AccessPath::Other];

    /// The stable spelling in alert reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessPath::Person => "person",
            AccessPath::Vehicle => "vehicle",
            AccessPath::Other => "other",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            AccessPath::Person => "persons looked up",
            AccessPath::Vehicle => "vehicles checked",
            AccessPath::Other => "accesses without a single record",
        }
    }
}

const N_PATHS: usize = 3;
const N_SIGNALS: usize = SignalCode::ALL.len();
/// Per signal and path, two keys: on accesses nothing explains, and on accesses explained only by
/// where and when they happened (patrol in the unit's area), which meet people by chance far more
/// often. Accesses explained by context that involves the person (a case, an incident, a
/// colleague's case) do not count at all: the context explains the contact.
const N_TIERS: usize = 2;
const N_KEYS: usize = N_SIGNALS * N_PATHS * N_TIERS;

fn key_of(code: SignalCode, path: AccessPath, area_explained: bool) -> usize {
    (code.index() * N_PATHS + path as usize) * N_TIERS + usize::from(area_explained)
}

fn code_of(key: usize) -> SignalCode {
    SignalCode::ALL[key / (N_PATHS * N_TIERS)]
}

fn path_of(key: usize) -> AccessPath {
    AccessPath::ALL[(key / N_TIERS) % N_PATHS]
}

fn area_explained(key: usize) -> bool {
    key % N_TIERS == 1
}

/// Settings of the calibration, from [`crate::config::AlertConfig`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EvidenceParams {
    /// Length of one period, in seconds.
    pub window: Secs,
    /// Weight, in expected hits, of the wider group's rate when a peer group's own rate is
    /// estimated.
    pub prior_hits: f64,
    /// Cells with less evidence than this (bits) are not given an exact p-value (they are never
    /// near an alert).
    pub min_bits: f64,
    /// Per signal: the multiplier of its surprise (1 by default; lowered or raised by reviewers'
    /// decisions).
    pub multipliers: [f64; N_SIGNALS],
    /// Signals that are never counted as evidence (a multiplier of 0).
    pub ignored: u64,
    /// Per path: the multiplier of its surprise.
    pub path_weights: [f64; N_PATHS],
    /// The multiplier of the surprise of area-explained accesses.
    pub area_weight: f64,
}

impl EvidenceParams {
    /// The multiplier of a key's surprise: its signal's, its path's and its tier's.
    fn weight(&self, key: usize) -> f64 {
        let tier = if area_explained(key) {
            self.area_weight
        } else {
            1.0
        };
        self.multipliers[code_of(key).index()] * self.path_weights[path_of(key) as usize] * tier
    }
}

impl EvidenceParams {
    pub fn from_config(a: &crate::config::AlertConfig) -> EvidenceParams {
        let mut multipliers = [1.0; N_SIGNALS];
        let mut ignored = 0u64;
        for (code, &m) in &a.signal_multipliers {
            multipliers[code.index()] = m;
            if m <= 0.0 {
                ignored |= 1 << code.index();
            }
        }
        EvidenceParams {
            window: (a.window_days * 86_400.0).round().max(1.0) as Secs,
            prior_hits: a.prior_hits,
            min_bits: a.min_bits,
            multipliers,
            ignored,
            path_weights: [
                a.path_weights.person,
                a.path_weights.vehicle,
                a.path_weights.other,
            ],
            area_weight: a.area_explained_weight,
        }
    }
}

/// What one access adds to its actor's cell.
#[derive(Debug, Clone)]
pub(crate) struct Access<'a> {
    pub slot: u32,
    pub actor: &'a EmployeeId,
    pub role: u32,
    pub group: u32,
    /// Role name for sentences (a role, never a person).
    pub role_name: &'a str,
    pub event: &'a EventId,
    pub time: Time,
    pub secs: Secs,
    pub path: AccessPath,
    /// The record: a subject index, or a value unique to the event for an access without one.
    pub item: u32,
    /// The local day of the access: a record counts once a day, so that returning to it on
    /// other days adds up while the several screens of one lookup do not.
    pub day: i64,
    /// Whether the access is explained, by area patrol only (accesses with an explanation that
    /// involves the person carry no counted signals).
    pub area_explained: bool,
    /// The household (address) of the person behind the record, if known.
    pub household: Option<u32>,
    /// Whether the person behind the record lives in the actor's own 4-digit home area.
    pub near_home: bool,
    /// What chance gives the actor by their own surroundings.
    pub chance: PersonalChance,
    /// The signals that fired with at least half their weight left after explanations.
    pub signals: u64,
}

/// What chance gives one actor by their own surroundings. Shares of the actor's 4-digit home area
/// (0 when the home is unknown): a record reached there is the actor's own with chance `own`,
/// from their household with `household`, a declared relation with `relations` (relations living
/// elsewhere get no chance: reaching them needs a reason), a neighbour in their street with
/// `street`. `name` is the share of all persons bearing the actor's family name.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct PersonalChance {
    pub home4: Option<u16>,
    pub own: f64,
    pub household: f64,
    pub relations: f64,
    pub street: f64,
    pub name: f64,
}

#[derive(Debug, Clone)]
struct Cell {
    actor: EmployeeId,
    role: u32,
    group: u32,
    role_name: String,
    chance: PersonalChance,
    exposure: [u32; N_PATHS],
    near_home: [u32; N_PATHS],
    /// Per key: distinct records a day, and events kept for the alert.
    counts: Vec<(u16, u32, u32)>,
    /// Events carrying a counted signal: (key, index into `Evidence::events`).
    events: Vec<(u16, u32)>,
    from: Time,
    until: Time,
}

impl Cell {
    fn count(&self, key: usize) -> u32 {
        self.counts
            .iter()
            .find(|c| usize::from(c.0) == key)
            .map_or(0, |c| c.1)
    }
}

/// Collects the accesses; [`Evidence::assess`] turns them into ranked findings.
#[derive(Debug, Clone)]
pub(crate) struct Evidence {
    params: EvidenceParams,
    cells: Vec<Cell>,
    /// Per actor slot: (period, cell index).
    cell_of: Vec<Vec<(u32, u32)>>,
    /// Distinct (cell, key or exposure path, item) seen.
    seen: std::collections::HashSet<(u32, u16, u64), foldhash::fast::RandomState>,
    events: Vec<(EventId, Time)>,
    epoch: Option<Secs>,
}

/// Marks an exposure entry in `seen` (keys are below this).
const EXPOSURE: u16 = N_KEYS as u16;
/// The item standing for the actor's own household.
const HOUSEHOLD: u32 = u32::MAX;
/// At most this share of all periods is left out of the base rates as probably real: enough for
/// the violators of an ordinary organisation, too few to make a common behaviour look rare.
const MAX_EXCLUDED_SHARE: f64 = 0.02;
/// At most this many events per key are kept for an alert.
const MAX_EVENTS_PER_KEY: usize = 200;

impl Evidence {
    pub fn new(params: EvidenceParams) -> Evidence {
        Evidence {
            params,
            cells: Vec::new(),
            cell_of: Vec::new(),
            seen: Default::default(),
            events: Vec::new(),
            epoch: None,
        }
    }

    pub fn add(&mut self, a: &Access<'_>) {
        let epoch = *self.epoch.get_or_insert(a.secs);
        let period = ((a.secs - epoch).max(0) / self.params.window.max(1)) as u32;
        let slot = a.slot as usize;
        if self.cell_of.len() <= slot {
            self.cell_of.resize(slot + 1, Vec::new());
        }
        let c = match self.cell_of[slot].iter().find(|x| x.0 == period) {
            Some(&(_, c)) => c as usize,
            None => {
                let c = self.cells.len();
                self.cells.push(Cell {
                    actor: a.actor.clone(),
                    role: a.role,
                    group: a.group,
                    role_name: a.role_name.to_owned(),
                    chance: a.chance,
                    exposure: [0; N_PATHS],
                    near_home: [0; N_PATHS],
                    counts: Vec::new(),
                    events: Vec::new(),
                    from: a.time,
                    until: a.time,
                });
                self.cell_of[slot].push((period, c as u32));
                c
            }
        };
        let path = a.path as usize;
        let day = a.day.rem_euclid(1 << 24) as u64;
        let on_day = |item: u32| (u64::from(item) << 24) | day;
        let cell = &mut self.cells[c];
        cell.until = a.time;
        if self
            .seen
            .insert((c as u32, EXPOSURE + path as u16, on_day(a.item)))
        {
            cell.exposure[path] += 1;
            cell.near_home[path] += u32::from(a.near_home);
        }
        let signals = most_specific_link(a.signals & !self.params.ignored);
        if signals == 0 {
            return;
        }
        let mut ordinal = None;
        for code in SignalCode::ALL {
            if signals & (1 << code.index()) == 0 {
                continue;
            }
            let key = key_of(*code, a.path, a.area_explained);
            // The actor's household is one fact, however many housemates a lookup shows; so is
            // one family bearing the actor's name at one address.
            let item = match code {
                SignalCode::SameAddress => HOUSEHOLD,
                SignalCode::SameFamilyName => a.household.map_or(a.item, |h| h | 0x4000_0000),
                _ => a.item,
            };
            let new = self.seen.insert((c as u32, key as u16, on_day(item)));
            let cell = &mut self.cells[c];
            let slot = match cell.counts.iter().position(|x| usize::from(x.0) == key) {
                Some(i) => i,
                None => {
                    cell.counts.push((key as u16, 0, 0));
                    cell.counts.len() - 1
                }
            };
            let entry = &mut cell.counts[slot];
            entry.1 += u32::from(new);
            let keep = (entry.2 as usize) < MAX_EVENTS_PER_KEY;
            entry.2 += u32::from(keep);
            if keep {
                let i = *ordinal.get_or_insert_with(|| {
                    self.events.push((a.event.clone(), a.time));
                    self.events.len() as u32 - 1
                });
                self.cells[c].events.push((key as u16, i));
            }
        }
    }

    /// Estimates the chance counts, the surprises and the probabilities; ranks the cells.
    pub fn assess(&self) -> Vec<Finding> {
        let n = self.cells.len();
        if n == 0 {
            return Vec::new();
        }
        let mut excluded = vec![false; n];
        let mut result = Vec::new();
        for round in 0..3 {
            let rates = Rates::estimate(&self.cells, &excluded, &self.params);
            let assessed: Vec<CellAssessment> = self
                .cells
                .iter()
                .enumerate()
                .map(|(i, c)| rates.assess(c, !excluded[i], &self.params))
                .collect();
            let p: Vec<f64> = assessed.iter().map(|a| a.p_value).collect();
            let probability = fdr_posterior(&p);
            let next = probably_real(&p, &probability);
            result = assessed.into_iter().zip(probability).collect::<Vec<_>>();
            if round == 2 || next == excluded {
                break;
            }
            excluded = next;
        }
        let mut findings: Vec<Finding> = result
            .into_iter()
            .enumerate()
            .filter(|(_, (a, _))| a.bits > 0.0)
            .map(|(i, (a, probability))| self.finding(i, a, probability))
            .collect();
        findings.sort_by(|a, b| {
            a.p_value
                .total_cmp(&b.p_value)
                .then_with(|| b.bits.total_cmp(&a.bits))
                .then_with(|| a.id.cmp(&b.id))
        });
        for (i, f) in findings.iter_mut().enumerate() {
            f.rank = i as u32 + 1;
        }
        findings
    }

    fn finding(&self, i: usize, a: CellAssessment, probability: f64) -> Finding {
        let cell = &self.cells[i];
        let mut reasons: Vec<FindingReason> = a
            .keys
            .iter()
            .filter(|k| k.bits > 0.0)
            .map(|k| {
                let code = code_of(k.key);
                let path = path_of(k.key);
                FindingReason {
                    code,
                    path,
                    count: k.observed,
                    expected: k.expected,
                    exposure: cell.exposure[path as usize],
                    bits: k.bits,
                    detail: sentence(code, path, k, cell),
                }
            })
            .collect();
        reasons.sort_by(|a, b| b.bits.total_cmp(&a.bits).then(a.code.cmp(&b.code)));
        let telling: Vec<usize> = a
            .keys
            .iter()
            .filter(|k| k.bits >= 1.0)
            .map(|k| k.key)
            .collect();
        let mut events: Vec<u32> = cell
            .events
            .iter()
            .filter(|(key, _)| telling.contains(&usize::from(*key)))
            .map(|e| e.1)
            .collect();
        if events.is_empty() {
            events = cell.events.iter().map(|e| e.1).collect();
        }
        events.sort_unstable();
        events.dedup();
        let events: Vec<(EventId, Time)> = events
            .into_iter()
            .map(|i| self.events[i as usize].clone())
            .collect();
        let from = events.first().map_or(cell.from, |e| e.1);
        let until = events.last().map_or(cell.until, |e| e.1);
        let id = match events.first() {
            Some((e, _)) => format!("{}/{}", cell.actor, e),
            None => format!("{}/{}", cell.actor, cell.from.timestamp()),
        };
        Finding {
            id,
            actor: cell.actor.clone(),
            probability,
            p_value: a.p_value,
            bits: a.bits,
            rank: 0,
            from,
            until,
            events: events.into_iter().map(|e| e.0).collect(),
            reasons,
        }
    }
}

/// One actor's period, assessed.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub id: String,
    pub actor: EmployeeId,
    /// Calibrated probability that the period holds a real violation.
    pub probability: f64,
    pub p_value: f64,
    /// Total surprise, in bits.
    pub bits: f64,
    /// 1 for the most surprising period of the run.
    pub rank: u32,
    pub from: Time,
    pub until: Time,
    pub events: Vec<EventId>,
    pub reasons: Vec<FindingReason>,
}

/// One signal on one path within a finding.
#[derive(Debug, Clone)]
pub(crate) struct FindingReason {
    pub code: SignalCode,
    pub path: AccessPath,
    pub count: u32,
    pub expected: f64,
    pub exposure: u32,
    pub bits: f64,
    pub detail: String,
}

#[derive(Debug, Clone)]
struct KeyAssessment {
    key: usize,
    observed: u32,
    expected: f64,
    /// Dispersion of the negative binomial (0 = Poisson).
    dispersion: f64,
    bits: f64,
}

#[derive(Debug, Clone)]
struct CellAssessment {
    keys: Vec<KeyAssessment>,
    bits: f64,
    p_value: f64,
}

/// The signals that link a record to the actor personally, most specific first: a record counts
/// under the first of them that fired only (a relative at the actor's address, bearing the actor's
/// name, is one fact, not three).
const LINKS: [SignalCode; 5] = [
    SignalCode::SelfLookup,
    SignalCode::DeclaredRelation,
    SignalCode::SameAddress,
    SignalCode::SameFamilyName,
    SignalCode::SamePostcode,
];

fn most_specific_link(signals: u64) -> u64 {
    let mut out = signals;
    let mut found = false;
    for code in LINKS {
        let bit = 1u64 << code.index();
        if signals & bit != 0 {
            if found {
                out &= !bit;
            }
            found = true;
        }
    }
    out
}

/// Signals whose chance count comes from the actor's own surroundings, not from peers.
const PERSONAL: [SignalCode; 5] = [
    SignalCode::SelfLookup,
    SignalCode::SameAddress,
    SignalCode::DeclaredRelation,
    SignalCode::SamePostcode,
    SignalCode::SameFamilyName,
];

fn personal_chance(code: SignalCode) -> bool {
    PERSONAL.contains(&code)
}

/// Base rates per key at three levels (organisation, role, peer group), with the exposure per path.
struct Rates {
    org: Totals,
    roles: Vec<Totals>,
    groups: Vec<Totals>,
    /// Per key: organisation-wide personal-chance expected counts (observed ones are in `org`).
    personal_expected: [f64; N_KEYS],
    /// Per key: dispersion measured on the included cells.
    dispersion: [f64; N_KEYS],
}

#[derive(Clone)]
struct Totals {
    counts: [f64; N_KEYS],
    exposure: [f64; N_PATHS],
}

impl Default for Totals {
    fn default() -> Self {
        Totals {
            counts: [0.0; N_KEYS],
            exposure: [0.0; N_PATHS],
        }
    }
}

impl Totals {
    fn add(&mut self, c: &Cell, sign: f64) {
        for (k, n, _) in &c.counts {
            self.counts[usize::from(*k)] += sign * f64::from(*n);
        }
        for p in 0..N_PATHS {
            self.exposure[p] += sign * f64::from(c.exposure[p]);
        }
    }
}

fn personal_expectation(code: SignalCode, path: usize, c: &Cell) -> f64 {
    let near = f64::from(c.near_home[path]);
    let x = &c.chance;
    match code {
        SignalCode::SameFamilyName => f64::from(c.exposure[path]) * x.name,
        SignalCode::SamePostcode => near * x.street,
        SignalCode::SelfLookup => near * x.own,
        SignalCode::SameAddress => near * x.household,
        SignalCode::DeclaredRelation => near * x.relations,
        _ => 0.0,
    }
}

impl Rates {
    fn estimate(cells: &[Cell], excluded: &[bool], params: &EvidenceParams) -> Rates {
        let n_roles = cells.iter().map(|c| c.role as usize + 1).max().unwrap_or(0);
        let n_groups = cells
            .iter()
            .map(|c| c.group as usize + 1)
            .max()
            .unwrap_or(0);
        let mut rates = Rates {
            org: Totals::default(),
            roles: vec![Totals::default(); n_roles],
            groups: vec![Totals::default(); n_groups],
            personal_expected: [0.0; N_KEYS],
            dispersion: [0.0; N_KEYS],
        };
        for (c, _) in cells.iter().zip(excluded).filter(|(_, x)| !**x) {
            rates.org.add(c, 1.0);
            rates.roles[c.role as usize].add(c, 1.0);
            rates.groups[c.group as usize].add(c, 1.0);
            for code in PERSONAL {
                for path in AccessPath::ALL {
                    for tier in [false, true] {
                        rates.personal_expected[key_of(code, path, tier)] +=
                            personal_expectation(code, path as usize, c);
                    }
                }
            }
        }
        // Dispersion per key by the method of moments over the included cells.
        let mut sum_sq = [0.0; N_KEYS];
        let mut sum_mu = [0.0; N_KEYS];
        let mut sum_mu2 = [0.0; N_KEYS];
        for (i, c) in cells.iter().enumerate() {
            if excluded[i] {
                continue;
            }
            for k in 0..N_KEYS {
                let path = path_of(k) as usize;
                if c.exposure[path] == 0 {
                    continue;
                }
                let mu = rates.expected(k, c, false, params);
                let obs = f64::from(c.count(k));
                sum_sq[k] += (obs - mu).powi(2);
                sum_mu[k] += mu;
                sum_mu2[k] += mu * mu;
            }
        }
        for k in 0..N_KEYS {
            if sum_mu[k] >= 5.0 && sum_mu2[k] > 0.0 {
                rates.dispersion[k] = ((sum_sq[k] - sum_mu[k]) / sum_mu2[k]).clamp(0.0, 4.0);
            }
        }
        rates
    }

    /// The chance count for a cell and key; `leave_out` removes the cell's own counts from the
    /// rates (for cells that were included in them).
    fn expected(&self, k: usize, c: &Cell, leave_out: bool, params: &EvidenceParams) -> f64 {
        let code = code_of(k);
        let path = path_of(k) as usize;
        let own_n = if leave_out {
            f64::from(c.count(k))
        } else {
            0.0
        };
        if personal_chance(code) {
            // Names cluster in families and neighbourhoods, and colleagues live near one another:
            // the organisation's own ratio of observed to chance (without this cell) corrects for
            // that, but never below chance itself.
            let own = personal_expectation(code, path, c);
            let own_e = if leave_out { own } else { 0.0 };
            let factor = (((self.org.counts[k] - own_n).max(0.0) + 0.5)
                / ((self.personal_expected[k] - own_e).max(0.0) + 0.5))
                .max(1.0);
            return own * factor;
        }
        let own_e = if leave_out {
            f64::from(c.exposure[path])
        } else {
            0.0
        };
        let org_e = (self.org.exposure[path] - own_e).max(0.0);
        let org_rate = ((self.org.counts[k] - own_n).max(0.0) + 0.5) / (org_e + 1.0);
        // A group's own rate counts once it has seen as much as `prior_hits` expected hits at the
        // wider rate: quickly for common signals, slowly for rare ones, which a group without a
        // hit yet must not call impossible.
        let m = params.prior_hits / org_rate.max(1e-12);
        let role = &self.roles[c.role as usize];
        let role_rate = ((role.counts[k] - own_n).max(0.0) + m * org_rate)
            / ((role.exposure[path] - own_e).max(0.0) + m);
        let group = &self.groups[c.group as usize];
        let group_rate = ((group.counts[k] - own_n).max(0.0) + m * role_rate)
            / ((group.exposure[path] - own_e).max(0.0) + m);
        f64::from(c.exposure[path]) * group_rate
    }

    /// Assesses one cell; `included` says whether the cell is part of the rates (then it leaves
    /// itself out of them).
    fn assess(&self, c: &Cell, included: bool, params: &EvidenceParams) -> CellAssessment {
        let mut keys = Vec::new();
        let mut bits = 0.0;
        for k in 0..N_KEYS {
            let path = path_of(k) as usize;
            let code = code_of(k);
            if c.exposure[path] == 0 || params.ignored & (1 << code.index()) != 0 {
                continue;
            }
            let lambda = self.expected(k, c, included, params);
            let observed = c.count(k);
            if lambda <= 0.0 && observed == 0 {
                continue;
            }
            let dispersion = self.dispersion[k];
            let weight = params.weight(k);
            let s = if observed == 0 {
                0.0
            } else {
                weight * surprise(observed, lambda.max(1e-12), dispersion)
            };
            bits += s;
            keys.push(KeyAssessment {
                key: k,
                observed,
                expected: lambda,
                dispersion,
                bits: s,
            });
        }
        let p_value = if bits < params.min_bits {
            1.0
        } else {
            null_tail(&keys, bits, params)
        };
        CellAssessment {
            keys,
            bits,
            p_value,
        }
    }
}

/// Probability mass of a count under the chance model, starting at 0, up to where the tail is
/// negligible (at most `limit` terms).
fn pmf(lambda: f64, dispersion: f64, limit: usize) -> Vec<f64> {
    let mut out = Vec::new();
    let lambda = lambda.max(1e-12);
    let (mut p, step): (f64, Box<dyn Fn(usize) -> f64>) = if dispersion <= 1e-9 {
        (
            (-lambda).exp(),
            Box::new(move |i| lambda / (i as f64 + 1.0)),
        )
    } else {
        let r = 1.0 / dispersion;
        let q = lambda / (r + lambda);
        (
            (r / (r + lambda)).powf(r),
            Box::new(move |i| (i as f64 + r) / (i as f64 + 1.0) * q),
        )
    };
    let mut total = 0.0;
    for i in 0..limit {
        out.push(p);
        total += p;
        if i as f64 > lambda && (1.0 - total < 1e-30 || p < 1e-300) {
            break;
        }
        p *= step(i);
    }
    out
}

/// `-log2 P(X >= n)` for the chance model.
fn surprise(n: u32, lambda: f64, dispersion: f64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let limit = (n as usize).max((lambda * 4.0) as usize) + 400;
    let masses = pmf(lambda, dispersion, limit);
    // The upper tail summed directly, for precision far out.
    let tail: f64 = masses.iter().skip(n as usize).sum();
    let tail = if masses.len() <= n as usize {
        // Beyond the computed range: bounded by the last mass, geometrically.
        masses.last().copied().unwrap_or(1e-300) * 1e-3
    } else {
        tail
    };
    (-tail.max(1e-300).log2()).clamp(0.0, 1000.0)
}

/// Bits per bin of the null distribution of a cell's total surprise.
const BIN: f64 = 0.25;
const BINS: usize = 480;

/// The chance of at least `observed` bits of total surprise for this cell under its own chance
/// model: each key's discrete distribution of surprise, convolved.
fn null_tail(keys: &[KeyAssessment], observed: f64, params: &EvidenceParams) -> f64 {
    let mut dist = vec![0.0f64; BINS];
    let mut next = vec![0.0f64; BINS];
    dist[0] = 1.0;
    // The highest bin holding mass so far: the convolution never walks the empty rest.
    let mut top = 0usize;
    let mut steps: Vec<(usize, f64)> = Vec::new();
    for k in keys {
        let weight = params.weight(k.key);
        if k.expected <= 1e-12 || weight <= 0.0 {
            continue;
        }
        let limit = ((k.expected * 6.0) as usize).max(8) + 60;
        let masses = pmf(k.expected, k.dispersion, limit);
        let mut tail = 1.0f64;
        steps.clear();
        for (n, &m) in masses.iter().enumerate() {
            let s = if n == 0 {
                0.0
            } else {
                weight * -tail.max(1e-300).log2()
            };
            // Masses this small move no tail probability that matters.
            if n == 0 || m > 1e-18 {
                steps.push((((s / BIN) as usize).min(BINS - 1), m));
            }
            tail -= m;
            if tail <= 1e-18 {
                break;
            }
        }
        let reach = steps.iter().map(|s| s.0).max().unwrap_or(0);
        let new_top = (top + reach).min(BINS - 1);
        next[..=new_top].iter_mut().for_each(|x| *x = 0.0);
        for (b, &mass) in dist[..=top].iter().enumerate() {
            if mass == 0.0 {
                continue;
            }
            for &(s, m) in &steps {
                next[(b + s).min(BINS - 1)] += mass * m;
            }
        }
        std::mem::swap(&mut dist, &mut next);
        top = new_top;
    }
    let from = ((observed / BIN) as usize).min(BINS - 1);
    if from > top {
        // Beyond anything chance reaches with a mass that counts.
        return f64::MIN_POSITIVE;
    }
    dist[from..=top]
        .iter()
        .sum::<f64>()
        .clamp(f64::MIN_POSITIVE, 1.0)
}

/// The cells to leave out of the base rates: those with a probability of at least one half among
/// the [`MAX_EXCLUDED_SHARE`] with the smallest p-values.
fn probably_real(p: &[f64], probability: &[f64]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let cap = (p.len() as f64 * MAX_EXCLUDED_SHARE).ceil() as usize;
    let mut out = vec![false; p.len()];
    for &i in order.iter().take(cap) {
        out[i] = probability[i] >= 0.5;
    }
    out
}

/// Probability that each p-value belongs to a real finding: one minus its local false-discovery
/// rate (the share of honest periods among those about as surprising), against a null measured on
/// the organisation itself.
///
/// The chance model of each period is never perfect (honest colleagues differ more than any model
/// of their peers says), so the p-values of honest periods come out somewhat too small. Their
/// spread is measured where real findings are too few to matter, between 0.1 and 0.5: if a share
/// `G(x) = x^b` of honest periods falls below `x` (`b = 1` for a perfect model), the counts below
/// 0.5 and below 0.1 give `b`. With the p-values sorted, each (with its equals) and about `WINDOW`
/// neighbours on either side within a factor `SPREAD` span a stretch in which the null expects
/// `N (G(high) - G(low))` honest periods; that number over the periods actually there, capped at 1
/// and never falling as the p-value rises, is the local false-discovery rate. In a period without violations the p-values are spread as the null spreads
/// them and every probability stays near 0.
fn fdr_posterior(p: &[f64]) -> Vec<f64> {
    const WINDOW: usize = 3;
    const SPREAD: f64 = 10.0;
    let n = p.len();
    if n == 0 {
        return Vec::new();
    }
    let below = |x: f64| p.iter().filter(|&&v| v <= x).count() as f64;
    let (half, tenth) = (below(0.5), below(0.1));
    let b = if half >= 20.0 && tenth >= 5.0 {
        ((half / tenth).ln() / 5f64.ln()).clamp(0.3, 1.0)
    } else {
        1.0
    };
    let null = |x: f64| x.clamp(0.0, 1.0).powf(b);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Equal p-values (common: periods with the same single chance contact) form one group; the
    // null's share between the next smaller value and a group is what chance puts there.
    let mut groups: Vec<(f64, usize)> = Vec::new();
    for &i in &order {
        match groups.last_mut() {
            Some(g) if g.0 == p[i] => g.1 += 1,
            _ => groups.push((p[i], 1)),
        }
    }
    let mut lfdr: Vec<f64> = Vec::with_capacity(groups.len());
    for k in 0..groups.len() {
        if groups[k].0 >= 0.5 {
            lfdr.push(1.0);
            continue;
        }
        // Widen around the group until the window holds `WINDOW` periods on either side, but
        // never beyond a factor `SPREAD` in p-value: an isolated, far smaller p-value is judged
        // on its own, not averaged with the crowd of chance.
        let v = groups[k].0;
        let (mut lo, mut hi) = (k, k);
        let mut left = 0;
        while lo > 0 && left < WINDOW && groups[lo - 1].0 * SPREAD >= v {
            lo -= 1;
            left += groups[lo].1;
        }
        let mut right = 0;
        while hi + 1 < groups.len() && right < WINDOW && groups[hi + 1].0 <= v * SPREAD {
            hi += 1;
            right += groups[hi].1;
        }
        let floor = if lo == 0 { 0.0 } else { groups[lo - 1].0 };
        let expected = n as f64 * (null(groups[hi].0) - null(floor)).max(0.0);
        let count: usize = groups[lo..=hi].iter().map(|g| g.1).sum();
        lfdr.push((expected / count as f64).min(1.0));
    }
    for k in 1..lfdr.len() {
        lfdr[k] = lfdr[k].max(lfdr[k - 1]);
    }
    let mut out = vec![0.0; n];
    let mut r = 0;
    for (k, g) in groups.iter().enumerate() {
        for &i in &order[r..r + g.1] {
            out[i] = 1.0 - lfdr[k];
        }
        r += g.1;
    }
    out
}

/// What a reviewer reads: the count, what chance would give, and for whom.
fn sentence(code: SignalCode, path: AccessPath, k: &KeyAssessment, c: &Cell) -> String {
    use SignalCode::*;
    let what = match (code, path) {
        (SelfLookup, AccessPath::Vehicle) => "checks of the actor's own vehicles",
        (SelfLookup, _) => "lookups of the actor's own record",
        (DeclaredRelation, AccessPath::Vehicle) => {
            "checks of vehicles held by people the actor declared a relation with"
        }
        (DeclaredRelation, _) => "lookups of people the actor declared a relation with",
        (SameAddress, AccessPath::Vehicle) => "checks of vehicles held by the actor's housemates",
        (SameAddress, _) => "lookups of the actor's housemates",
        (SamePostcode, AccessPath::Vehicle) => "checks of vehicles held by the actor's neighbours",
        (SamePostcode, _) => "lookups of people living in the actor's own street postcode",
        (SameFamilyName, AccessPath::Vehicle) => {
            "checks of vehicles held by people sharing the actor's family name"
        }
        (SameFamilyName, _) => "lookups of people sharing the actor's family name",
        (ColleagueRecord, AccessPath::Vehicle) => "checks of vehicles held by colleagues",
        (ColleagueRecord, _) => "lookups of colleagues' own records",
        (FlaggedSubject, AccessPath::Vehicle) => {
            "checks of vehicles held by VIP, protected or informant persons"
        }
        (FlaggedSubject, _) => "lookups of VIP, protected or informant records",
        (RestrictedCaseNotMember, AccessPath::Vehicle) => {
            "checks of vehicles tied to restricted investigations the actor is not on"
        }
        (RestrictedCaseNotMember, _) => {
            "lookups of people in restricted investigations the actor is not on"
        }
        (CaseNotNamingSubject, _) => "records accessed under a case number that does not name them",
        (CaseNotMember, _) => "records accessed under a case the actor is not a member of",
        (CaseUnknown, _) => "records accessed under an unknown case number",
        (OffDuty, _) => "records accessed outside the actor's shifts",
        (OnLeave, _) => "records accessed while on leave",
        (Sick, _) => "records accessed while reported sick",
        (AfterLastDay, _) => "records accessed after the last working day",
        (LeavingSoon, _) => "exports or prints in the last weeks of employment",
        (VolumeUnusual, _) => "records accessed on days of unusual volume for the actor",
        (VolumeUnusualPeers, _) => "records accessed on days of unusual volume for the peers",
        (UnexplainedShareUnusual, _) => "records accessed while the unexplained share was unusual",
        (NameSearchNoCase, _) => "name searches without a case number",
        (Browsing, _) => "records viewed in bursts of unexplained browsing",
        (ExportUnexplained, _) => "exports or prints without an explanation",
        (BulkExport, _) => "records in bulk exports or prints",
        (UnusualSystem, _) => "records in systems the role rarely uses",
        (InTheNews, _) => "lookups of people suddenly in the news, without a link to them",
        (Unexplained, _) => "records accessed without any explanation",
        (SigmaRule, _) => "records matched by custom rules",
    };
    let chance = if personal_chance(code) {
        "by chance, given how common this is around the actor"
    } else {
        "by chance for a peer in the same role"
    };
    let tier = if area_explained(k.key) {
        "explained only by something that does not involve the person, such as patrol in the area"
    } else {
        "nothing explained them"
    };
    format!(
        "{} {what}, where about {} would be expected {chance} ({}: {} {}); {tier}; {:.1} bits of surprise",
        k.observed,
        fmt_expected(k.expected),
        c.role_name,
        c.exposure[path as usize],
        path.noun(),
        k.bits
    )
}

fn fmt_expected(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}")
    } else if x >= 0.1 {
        format!("{x:.1}")
    } else if x >= 0.001 {
        format!("{x:.3}")
    } else {
        "0.001 or fewer".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surprise_follows_the_poisson_tail() {
        // P(X >= 1 | 0.01) = 1 - e^-0.01 ~ 0.00995: about 6.65 bits.
        let s = surprise(1, 0.01, 0.0);
        assert!((s - 6.651).abs() < 0.01, "{s}");
        // P(X >= 3 | 3) ~ 0.5768.
        let s = surprise(3, 3.0, 0.0);
        assert!((s - 0.794).abs() < 0.01, "{s}");
        assert_eq!(surprise(0, 3.0, 0.0), 0.0);
    }

    #[test]
    fn dispersion_makes_the_same_count_less_surprising() {
        let poisson = surprise(8, 2.0, 0.0);
        let spread = surprise(8, 2.0, 1.0);
        assert!(spread < poisson - 2.0, "{spread} vs {poisson}");
    }

    #[test]
    fn null_tail_of_one_key_is_its_own_tail() {
        let params = EvidenceParams {
            window: 1,
            prior_hits: 3.0,
            min_bits: 0.0,
            multipliers: [1.0; N_SIGNALS],
            ignored: 0,
            path_weights: [1.0; N_PATHS],
            area_weight: 1.0,
        };
        let key = KeyAssessment {
            key: 0,
            observed: 2,
            expected: 0.5,
            dispersion: 0.0,
            bits: surprise(2, 0.5, 0.0),
        };
        let p = null_tail(std::slice::from_ref(&key), key.bits, &params);
        // P(X >= 2 | 0.5) = 1 - e^-0.5 (1 + 0.5) ~ 0.0902.
        assert!((p - 0.0902).abs() < 0.01, "{p}");
    }

    #[test]
    fn uniform_p_values_give_low_probabilities() {
        let p: Vec<f64> = (1..=1000).map(|i| f64::from(i) / 1000.0).collect();
        let post = fdr_posterior(&p);
        assert!(post.iter().all(|&x| x < 0.2), "{:?}", &post[..5]);
    }

    #[test]
    fn a_cluster_of_tiny_p_values_stands_out() {
        let mut p: Vec<f64> = (1..=1000).map(|i| f64::from(i) / 1000.0).collect();
        p.extend([
            1e-9, 1e-8, 1e-10, 1e-7, 1e-9, 1e-12, 1e-8, 1e-9, 1e-11, 1e-8,
        ]);
        let post = fdr_posterior(&p);
        let mut cluster = post[1000..].to_vec();
        cluster.sort_by(f64::total_cmp);
        // The smallest stand out clearly; those at the cluster's edge, next to chance ones, less so.
        assert!(cluster[4..].iter().all(|&x| x > 0.9), "{cluster:?}");
        assert!(cluster.iter().all(|&x| x > 0.3), "{cluster:?}");
        // Chance p-values right next to the cluster share its window; beyond it they are low.
        assert!(post[..3].iter().all(|&x| x < 0.5), "{:?}", &post[..3]);
        assert!(post[10..1000].iter().all(|&x| x < 0.05));
    }

    #[test]
    fn repeats_of_one_record_count_once() {
        let mut e = Evidence::new(EvidenceParams {
            window: 86_400 * 30,
            prior_hits: 3.0,
            min_bits: 0.0,
            multipliers: [1.0; N_SIGNALS],
            ignored: 0,
            path_weights: [1.0; N_PATHS],
            area_weight: 1.0,
        });
        let actor = EmployeeId::new("E1").unwrap();
        let event = EventId::new("x").unwrap();
        let time = chrono::DateTime::parse_from_rfc3339("2025-03-03T10:00:00+01:00").unwrap();
        for _ in 0..3 {
            e.add(&Access {
                slot: 0,
                actor: &actor,
                role: 0,
                group: 0,
                role_name: "agent",
                event: &event,
                time,
                secs: time.timestamp(),
                path: AccessPath::Person,
                item: 7,
                day: 20_000,
                area_explained: false,
                household: None,
                near_home: false,
                chance: PersonalChance::default(),
                signals: 1 << SignalCode::SelfLookup.index(),
            });
        }
        assert_eq!(e.cells.len(), 1);
        assert_eq!(e.cells[0].exposure[0], 1);
        assert_eq!(
            e.cells[0].count(key_of(SignalCode::SelfLookup, AccessPath::Person, false)),
            1
        );
    }
}
