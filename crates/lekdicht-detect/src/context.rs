//! The context as detection needs it: ids interned to dense integers and indexes precomputed
//! (subject to cases, vehicle to holder, employee to relations and shifts, names to frequencies),
//! so that scoring an event costs a few hash lookups and slice scans.
//!
//! The context is immutable once built. Records that point at unknown ids (a case member who is no
//! employee, a holder who is no subject) keep what can be resolved and drop the dangling link;
//! nothing here fails on input. Validity in time (case opened, member from/until) is kept as data
//! and judged per event by the engine.

use std::collections::HashMap as StdHashMap;

use lekdicht_model::{CaseId, EmployeeId, RelationKind, ShiftKind, SubjectFlag, SubjectId, UnitId};

pub use lekdicht_model::Case;

/// Hash maps keyed by ids use a fast, well-distributed hasher (the keys are not attacker-chosen
/// in a way that matters here: they come from the organisation's own context and logs).
pub(crate) type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;

/// Index of an employee in [`Context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmpIdx(pub u32);
/// Index of a subject (person or vehicle) in [`Context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjIdx(pub u32);
/// Index of a unit in [`Context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitIdx(pub u32);
/// Index of a case in [`Context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseIdx(pub u32);
/// Index of an interned string (family name, role, address) in [`Context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrIdx(pub u32);

/// The context records as they arrive, to be indexed by [`Context::new`].
pub use lekdicht_model::ContextRecords;

/// Seconds since the Unix epoch.
pub type Secs = i64;

/// How a case reaches a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The case names the subject itself.
    Direct,
    /// The subject is a vehicle whose holder the case names.
    Holder,
    /// The subject holds a vehicle the case names.
    Vehicle,
    /// The subject lives at the address of a person the case names.
    Household,
}

/// One link from a subject to a case that names it (or its vehicle or holder).
#[derive(Debug, Clone, Copy)]
pub struct CaseLink {
    pub case: CaseIdx,
    pub via: Via,
    /// Index of the naming entry in [`CaseInfo::subjects`].
    pub entry: u32,
}

/// A period of validity: `None` bounds are open.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub from: Option<Secs>,
    pub until: Option<Secs>,
}

/// An indexed case.
#[derive(Debug, Clone)]
pub struct CaseInfo {
    pub id: CaseId,
    pub unit: Option<UnitIdx>,
    pub kind: CaseKind,
    pub kind_text: Option<String>,
    pub restricted: bool,
    pub opened: Option<Secs>,
    pub closed: Option<Secs>,
    /// Members sorted by employee index.
    pub members: Vec<(EmpIdx, Span)>,
    /// Named subjects with their role.
    pub subjects: Vec<(SubjIdx, Option<String>, Span)>,
}

/// The case kinds detection treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Incident,
    Other,
}

/// An indexed subject.
#[derive(Debug, Clone)]
pub struct SubjectInfo {
    pub id: SubjectId,
    pub is_vehicle: bool,
    pub family_name: Option<StrIdx>,
    /// Normalised 6-character postcode.
    pub postcode: Option<StrIdx>,
    /// Numeric 4-digit postcode.
    pub postcode4: Option<u16>,
    /// Postcode plus house number.
    pub address: Option<StrIdx>,
    pub flags: u8,
    /// For a vehicle: its holder.
    pub holder: Option<SubjIdx>,
    /// The employee whose own record this is.
    pub employee: Option<EmpIdx>,
}

/// Flag bits in [`SubjectInfo::flags`] that make a record sensitive.
pub const FLAG_VIP: u8 = 1;
pub const FLAG_PROTECTED: u8 = 2;
pub const FLAG_INFORMANT: u8 = 4;
pub const FLAG_EMPLOYEE: u8 = 8;

/// An indexed employee.
#[derive(Debug, Clone)]
pub struct EmployeeInfo {
    pub id: EmployeeId,
    pub unit: Option<UnitIdx>,
    pub role: StrIdx,
    /// Peer group: same role and unit.
    pub peer_group: u32,
    pub family_name: Option<StrIdx>,
    pub postcode: Option<StrIdx>,
    pub address: Option<StrIdx>,
    pub own_subject: Option<SubjIdx>,
    /// End of the last working day (exclusive), in local midnight seconds of the day after.
    pub active_until_end: Option<Secs>,
    pub active_until: Option<lekdicht_model::Date>,
    /// Declared relations, sorted by subject.
    pub relations: Vec<(SubjIdx, RelationKind)>,
    /// Shifts sorted by start.
    pub shifts: Vec<ShiftSpan>,
    /// Cases the employee is (or becomes) a member of, sorted by opening time (unknown first).
    pub member_cases: Vec<CaseIdx>,
    /// Longest shift, to bound the backward scan.
    pub longest_shift: Secs,
}

/// A shift as detection needs it.
#[derive(Debug, Clone, Copy)]
pub struct ShiftSpan {
    pub start: Secs,
    pub end: Secs,
    pub kind: ShiftKind,
}

/// An indexed unit.
#[derive(Debug, Clone)]
pub struct UnitInfo {
    pub id: UnitId,
    /// Sorted 4-digit postcodes of the unit's area.
    pub area: Vec<u16>,
}

/// The indexed context. Built once with [`Context::new`]; read-only afterwards.
#[derive(Debug, Clone)]
pub struct Context {
    pub(crate) employees: Vec<EmployeeInfo>,
    pub(crate) employee_by_id: HashMap<String, EmpIdx>,
    pub(crate) subjects: Vec<SubjectInfo>,
    pub(crate) subject_by_id: HashMap<String, SubjIdx>,
    pub(crate) units: Vec<UnitInfo>,
    pub(crate) unit_by_id: HashMap<String, UnitIdx>,
    pub(crate) cases: Vec<CaseInfo>,
    pub(crate) case_by_id: HashMap<String, CaseIdx>,
    /// For each subject: the cases naming it, its holder or its vehicles.
    pub(crate) subject_cases: Vec<Vec<CaseLink>>,
    pub(crate) strings: Vec<String>,
    /// Number of persons bearing each interned family name (indexed by `StrIdx`).
    pub(crate) family_name_count: Vec<u32>,
    /// Number of persons living in each interned 6-character postcode, and at each interned
    /// address (both indexed by `StrIdx`; postcodes and addresses never share a string).
    pub(crate) postcode_count: Vec<u32>,
    /// Number of persons living in each 4-digit postcode area.
    pub(crate) postcode4_count: Vec<u32>,
    pub(crate) n_persons: u32,
    pub(crate) n_peer_groups: u32,
    pub(crate) n_roles: u32,
    /// Role names, indexed by the roles' `StrIdx` (a separate table from `strings`).
    pub(crate) role_names: Vec<String>,
}

#[derive(Default)]
struct Interner {
    strings: Vec<String>,
    by_text: HashMap<String, StrIdx>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> StrIdx {
        if let Some(&i) = self.by_text.get(s) {
            return i;
        }
        let i = StrIdx(self.strings.len() as u32);
        self.strings.push(s.to_owned());
        self.by_text.insert(s.to_owned(), i);
        i
    }
}

/// Normalises a family name for comparison: lower case, particles kept, spaces collapsed.
pub fn normalise_name(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Normalises a postcode: upper case without spaces (`1012 ab` -> `1012AB`).
pub fn normalise_postcode(pc: &str) -> String {
    pc.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The numeric 4-digit part of a postcode, if it starts with four digits.
pub fn postcode4(pc: &str) -> Option<u16> {
    let digits = pc.trim().get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn secs(t: &lekdicht_model::Time) -> Secs {
    t.timestamp()
}

fn flag_bits(flags: &[SubjectFlag]) -> u8 {
    flags.iter().fold(0, |acc, f| {
        acc | match f {
            SubjectFlag::Vip => FLAG_VIP,
            SubjectFlag::Protected => FLAG_PROTECTED,
            SubjectFlag::Informant => FLAG_INFORMANT,
            SubjectFlag::Employee => FLAG_EMPLOYEE,
            SubjectFlag::Minor | SubjectFlag::Deceased => 0,
        }
    })
}

impl Context {
    /// Interns and indexes the records. Duplicate ids keep the last record.
    pub fn new(records: ContextRecords) -> Context {
        let mut names = Interner::default();

        let mut units = Vec::new();
        let mut unit_by_id: HashMap<String, UnitIdx> = HashMap::default();
        for u in records.units {
            let mut area: Vec<u16> = u.area.iter().filter_map(|p| postcode4(p)).collect();
            area.sort_unstable();
            area.dedup();
            let info = UnitInfo {
                id: u.id.clone(),
                area,
            };
            match unit_by_id.get(u.id.as_str()) {
                Some(&i) => units[i.0 as usize] = info,
                None => {
                    unit_by_id.insert(u.id.as_str().to_owned(), UnitIdx(units.len() as u32));
                    units.push(info);
                }
            }
        }

        let mut subjects: Vec<SubjectInfo> = Vec::new();
        let mut subject_by_id: HashMap<String, SubjIdx> = HashMap::default();
        let address_of = |names: &mut Interner, pc: Option<&String>, hn: Option<&String>| {
            let pc = normalise_postcode(pc?);
            let hn = hn?.trim().to_uppercase();
            Some(names.intern(&format!("{pc} {hn}")))
        };
        for s in records.subjects {
            let info = SubjectInfo {
                id: s.id.clone(),
                is_vehicle: false,
                family_name: s
                    .family_name
                    .as_deref()
                    .map(|n| names.intern(&normalise_name(n))),
                postcode: s
                    .postcode
                    .as_deref()
                    .map(|p| names.intern(&normalise_postcode(p))),
                postcode4: s.postcode.as_deref().and_then(postcode4),
                address: address_of(&mut names, s.postcode.as_ref(), s.house_number.as_ref()),
                flags: flag_bits(&s.flags),
                holder: None,
                employee: None,
            };
            match subject_by_id.get(s.id.as_str()) {
                Some(&i) => subjects[i.0 as usize] = info,
                None => {
                    subject_by_id.insert(s.id.as_str().to_owned(), SubjIdx(subjects.len() as u32));
                    subjects.push(info);
                }
            }
        }
        let n_persons = subjects.len() as u32;
        let mut family_name_count = vec![0u32; names.strings.len()];
        for s in &subjects {
            if let Some(f) = s.family_name {
                family_name_count[f.0 as usize] += 1;
            }
        }
        // Residents per 6-character postcode and per 4-digit area: the chance that a record
        // looked up at random lives next door to the actor.
        let mut postcode_count = vec![0u32; names.strings.len()];
        let mut postcode4_count = vec![0u32; 10_000];
        for s in &subjects {
            if let Some(p) = s.postcode {
                postcode_count[p.0 as usize] += 1;
            }
            if let Some(a) = s.address {
                postcode_count[a.0 as usize] += 1;
            }
            if let Some(p4) = s.postcode4 {
                postcode4_count[usize::from(p4)] += 1;
            }
        }
        let mut vehicle_pairs = Vec::new();
        for v in records.vehicles {
            let idx = match subject_by_id.get(v.id.as_str()) {
                Some(&i) => i,
                None => {
                    let i = SubjIdx(subjects.len() as u32);
                    subject_by_id.insert(v.id.as_str().to_owned(), i);
                    subjects.push(SubjectInfo {
                        id: v.id.clone(),
                        is_vehicle: true,
                        family_name: None,
                        postcode: None,
                        postcode4: None,
                        address: None,
                        flags: 0,
                        holder: None,
                        employee: None,
                    });
                    i
                }
            };
            let holder = v
                .holder
                .as_ref()
                .and_then(|h| subject_by_id.get(h.as_str()).copied());
            subjects[idx.0 as usize].is_vehicle = true;
            subjects[idx.0 as usize].holder = holder;
            if let Some(h) = holder {
                vehicle_pairs.push((idx, h));
            }
        }

        let mut roles = Interner::default();
        let mut peer_groups: HashMap<(Option<UnitIdx>, StrIdx), u32> = HashMap::default();
        let mut employees: Vec<EmployeeInfo> = Vec::new();
        let mut employee_by_id: HashMap<String, EmpIdx> = HashMap::default();
        for e in records.employees {
            let unit = unit_by_id.get(e.unit.as_str()).copied();
            let role = roles.intern(e.role.as_deref().map(str::trim).unwrap_or(""));
            let n_groups = peer_groups.len() as u32;
            let peer_group = *peer_groups.entry((unit, role)).or_insert(n_groups);
            let own_subject = e
                .subject
                .as_ref()
                .and_then(|s| subject_by_id.get(s.as_str()).copied());
            let active_until_end = e.active_until.and_then(|d| {
                d.succ_opt()
                    .and_then(|n| n.and_hms_opt(0, 0, 0))
                    .map(|t| t.and_utc().timestamp())
            });
            let info = EmployeeInfo {
                id: e.id.clone(),
                unit,
                role,
                peer_group,
                family_name: e
                    .family_name
                    .as_deref()
                    .map(|n| names.intern(&normalise_name(n))),
                postcode: e
                    .postcode
                    .as_deref()
                    .map(|p| names.intern(&normalise_postcode(p))),
                address: address_of(&mut names, e.postcode.as_ref(), e.house_number.as_ref()),
                own_subject,
                active_until_end,
                active_until: e.active_until,
                relations: Vec::new(),
                shifts: Vec::new(),
                member_cases: Vec::new(),
                longest_shift: 0,
            };
            match employee_by_id.get(e.id.as_str()) {
                Some(&i) => employees[i.0 as usize] = info,
                None => {
                    employee_by_id.insert(e.id.as_str().to_owned(), EmpIdx(employees.len() as u32));
                    employees.push(info);
                }
            }
        }
        family_name_count.resize(names.strings.len(), 0);
        postcode_count.resize(names.strings.len(), 0);
        for (i, e) in employees.iter().enumerate() {
            if let Some(s) = e.own_subject {
                subjects[s.0 as usize].employee = Some(EmpIdx(i as u32));
            }
        }

        for r in records.relations {
            let (Some(&e), Some(&s)) = (
                employee_by_id.get(r.employee.as_str()),
                subject_by_id.get(r.subject.as_str()),
            ) else {
                continue;
            };
            employees[e.0 as usize].relations.push((s, r.kind));
        }
        for s in records.shifts {
            let Some(&e) = employee_by_id.get(s.employee.as_str()) else {
                continue;
            };
            let span = ShiftSpan {
                start: secs(&s.start),
                end: secs(&s.end),
                kind: s.kind,
            };
            if span.end < span.start {
                continue;
            }
            let info = &mut employees[e.0 as usize];
            info.longest_shift = info.longest_shift.max(span.end - span.start);
            info.shifts.push(span);
        }
        for e in &mut employees {
            e.relations.sort_by_key(|r| r.0);
            e.shifts.sort_by_key(|s| (s.start, s.end));
        }

        let mut cases: Vec<CaseInfo> = Vec::new();
        let mut case_by_id: HashMap<String, CaseIdx> = HashMap::default();
        for c in records.cases {
            let span = |from: &Option<lekdicht_model::Time>,
                        until: &Option<lekdicht_model::Time>| Span {
                from: from.as_ref().map(secs),
                until: until.as_ref().map(secs),
            };
            let mut members: Vec<(EmpIdx, Span)> = c
                .members
                .iter()
                .filter_map(|m| {
                    let e = employee_by_id.get(m.employee.as_str())?;
                    Some((*e, span(&m.from, &m.until)))
                })
                .collect();
            members.sort_by_key(|m| m.0);
            let named = c
                .subjects
                .iter()
                .filter_map(|s| {
                    let i = subject_by_id.get(s.subject.as_str())?;
                    Some((*i, s.role.clone(), span(&s.from, &s.until)))
                })
                .collect();
            let kind_text = c.kind.clone();
            let kind = match kind_text.as_deref().map(str::trim) {
                Some(k) if k.eq_ignore_ascii_case("incident") => CaseKind::Incident,
                _ => CaseKind::Other,
            };
            let info = CaseInfo {
                id: c.id.clone(),
                unit: c
                    .unit
                    .as_ref()
                    .and_then(|u| unit_by_id.get(u.as_str()).copied()),
                kind,
                kind_text,
                restricted: c.restricted,
                opened: c.opened.as_ref().map(secs),
                closed: c.closed.as_ref().map(secs),
                members,
                subjects: named,
            };
            match case_by_id.get(c.id.as_str()) {
                Some(&i) => cases[i.0 as usize] = info,
                None => {
                    case_by_id.insert(c.id.as_str().to_owned(), CaseIdx(cases.len() as u32));
                    cases.push(info);
                }
            }
        }

        for (ci, c) in cases.iter().enumerate() {
            for (e, _) in &c.members {
                let list = &mut employees[e.0 as usize].member_cases;
                if list.last() != Some(&CaseIdx(ci as u32)) {
                    list.push(CaseIdx(ci as u32));
                }
            }
        }
        for e in &mut employees {
            e.member_cases
                .sort_by_key(|c| (cases[c.0 as usize].opened, c.0));
        }
        let mut residents: HashMap<StrIdx, Vec<SubjIdx>> = HashMap::default();
        for (i, s) in subjects.iter().enumerate() {
            if let (false, Some(a)) = (s.is_vehicle, s.address) {
                residents.entry(a).or_default().push(SubjIdx(i as u32));
            }
        }
        let mut vehicles_of: HashMap<SubjIdx, Vec<SubjIdx>> = HashMap::default();
        for (v, h) in vehicle_pairs {
            vehicles_of.entry(h).or_default().push(v);
        }
        let mut subject_cases: Vec<Vec<CaseLink>> = vec![Vec::new(); subjects.len()];
        for (ci, c) in cases.iter().enumerate() {
            let case = CaseIdx(ci as u32);
            for (entry, (s, _, _)) in c.subjects.iter().enumerate() {
                let entry = entry as u32;
                subject_cases[s.0 as usize].push(CaseLink {
                    case,
                    via: Via::Direct,
                    entry,
                });
                let info = &subjects[s.0 as usize];
                if info.is_vehicle {
                    // The case names a vehicle: its holder is reached via the vehicle.
                    if let Some(h) = info.holder {
                        subject_cases[h.0 as usize].push(CaseLink {
                            case,
                            via: Via::Vehicle,
                            entry,
                        });
                    }
                } else {
                    // The case names a person: their vehicles are reached via the holder, their
                    // housemates via the household.
                    for v in vehicles_of.get(s).map_or(&[][..], Vec::as_slice) {
                        subject_cases[v.0 as usize].push(CaseLink {
                            case,
                            via: Via::Holder,
                            entry,
                        });
                    }
                    let housemates = info.address.and_then(|a| residents.get(&a));
                    for h in housemates.map_or(&[][..], Vec::as_slice) {
                        if h != s {
                            subject_cases[h.0 as usize].push(CaseLink {
                                case,
                                via: Via::Household,
                                entry,
                            });
                        }
                    }
                }
            }
        }

        Context {
            n_peer_groups: peer_groups.len() as u32,
            n_roles: roles.strings.len() as u32,
            role_names: roles.strings,
            employees,
            employee_by_id,
            subjects,
            subject_by_id,
            units,
            unit_by_id,
            cases,
            case_by_id,
            subject_cases,
            strings: names.strings,
            family_name_count,
            postcode_count,
            postcode4_count,
            n_persons,
        }
    }

    /// Number of employees in the context.
    pub fn n_employees(&self) -> usize {
        self.employees.len()
    }

    /// The index of an employee id.
    pub fn employee_idx(&self, id: &str) -> Option<EmpIdx> {
        self.employee_by_id.get(id).copied()
    }

    /// The index of a unit id.
    pub fn unit_idx(&self, id: &str) -> Option<UnitIdx> {
        self.unit_by_id.get(id).copied()
    }

    /// The employee's unit id, if known.
    pub fn employee_unit(&self, e: EmpIdx) -> Option<&UnitId> {
        let u = self.employees.get(e.0 as usize)?.unit?;
        Some(&self.units[u.0 as usize].id)
    }

    /// The employee id at an index.
    ///
    /// # Panics
    /// When the index does not come from this context.
    pub fn employee_id(&self, e: EmpIdx) -> &EmployeeId {
        &self.employees[e.0 as usize].id
    }

    /// All employee ids, in index order.
    pub fn employee_ids(&self) -> impl Iterator<Item = &EmployeeId> {
        self.employees.iter().map(|e| &e.id)
    }

    /// How many persons bear the family name (normalised), for reports.
    pub fn family_name_count(&self, name: &str) -> u32 {
        let norm = normalise_name(name);
        self.strings
            .iter()
            .position(|s| *s == norm)
            .and_then(|i| self.family_name_count.get(i).copied())
            .unwrap_or(0)
    }

    /// The name of a role (roles are interned apart from other strings).
    pub(crate) fn role_name(&self, i: StrIdx) -> &str {
        self.role_names.get(i.0 as usize).map_or("", String::as_str)
    }

    pub(crate) fn str(&self, i: StrIdx) -> &str {
        &self.strings[i.0 as usize]
    }
}
