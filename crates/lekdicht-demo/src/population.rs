//! The people of the region: addresses, households, persons with their flags, and vehicles.
//!
//! Persons live in households at 6-character postcodes; a household shares an address and mostly a
//! family name. Most addresses lie in the region's own postcode areas (Amsterdam, 1011–1109), some in
//! commuter towns around it. This module does not know about employees or cases; it only builds the
//! population they are drawn from, plus the indices later stages need to pick people quickly.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate};
use lekdicht_model::{Subject, SubjectFlag, SubjectId, Vehicle};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::{IndexedRandom, SliceRandom};

use crate::ix::{PersonIx, VehIx};
use crate::mix::Mix;
use crate::names::Names;

/// 4-digit postcodes served by the region's neighbourhood teams.
pub(crate) const REGION_PC4: std::ops::RangeInclusive<u16> = 1011..=1109;

/// 4-digit postcodes of commuter towns outside the region's areas.
const COMMUTER_PC4: &[u16] = &[
    1111, 1112, 1113, 1114, 1181, 1182, 1183, 1185, 1186, 1187, 1311, 1312, 1313, 1314, 1315, 1325,
    1326, 1501, 1502, 1503, 1504, 1505, 1506, 2011, 2012, 2013, 2021, 2022, 2023, 2024, 2025, 2031,
];

/// Average households per 6-character postcode.
const HOUSEHOLDS_PER_PC6: usize = 18;

/// One 4-digit postcode area.
#[derive(Debug)]
pub(crate) struct Pc4 {
    pub code: u16,
    pub in_region: bool,
    pub residents: Vec<PersonIx>,
    pub vehicles: Vec<VehIx>,
}

/// One 6-character postcode.
#[derive(Debug)]
pub(crate) struct Pc6 {
    pub code: String,
    pub pc4: usize,
    pub residents: Vec<PersonIx>,
    next_house_number: u32,
}

/// People sharing an address.
#[derive(Debug)]
pub(crate) struct Household {
    pub pc6: usize,
    pub members: Vec<PersonIx>,
}

/// The population and its indices.
pub(crate) struct People {
    pub subjects: Vec<Subject>,
    pub household_of: Vec<usize>,
    pub households: Vec<Household>,
    pub pc4s: Vec<Pc4>,
    pub pc6s: Vec<Pc6>,
    pub age_of: Vec<u32>,
    pub vehicles: Vec<Vehicle>,
    pub holder_of: Vec<PersonIx>,
    pub vehicles_of: Vec<Vec<VehIx>>,
    /// Persons per family name, for name searches.
    pub by_family_name: std::collections::BTreeMap<String, Vec<PersonIx>>,
    pub vips: Vec<PersonIx>,
}

impl People {
    pub(crate) fn len(&self) -> usize {
        self.subjects.len()
    }

    pub(crate) fn subject(&self, p: PersonIx) -> &Subject {
        &self.subjects[p.ix()]
    }

    pub(crate) fn pc6_of(&self, p: PersonIx) -> usize {
        self.households[self.household_of[p.ix()]].pc6
    }

    pub(crate) fn pc4_of(&self, p: PersonIx) -> usize {
        self.pc6s[self.pc6_of(p)].pc4
    }

    pub(crate) fn same_household(&self, a: PersonIx, b: PersonIx) -> bool {
        self.household_of[a.ix()] == self.household_of[b.ix()]
    }

    pub(crate) fn housemates(&self, p: PersonIx) -> &[PersonIx] {
        &self.households[self.household_of[p.ix()]].members
    }

    pub(crate) fn has_flag(&self, p: PersonIx, flag: SubjectFlag) -> bool {
        self.subjects[p.ix()].flags.contains(&flag)
    }

    pub(crate) fn is_adult(&self, p: PersonIx) -> bool {
        self.age_of[p.ix()] >= 18
    }

    /// The pc4 table index of a region postcode.
    pub(crate) fn pc4_index(&self, code: u16) -> Option<usize> {
        self.pc4s.iter().position(|p| p.code == code)
    }

    pub(crate) fn family_name(&self, p: PersonIx) -> &str {
        self.subjects[p.ix()].family_name.as_deref().unwrap_or("")
    }

    /// A `postcode number` search string for a person's address.
    pub(crate) fn address_query(&self, p: PersonIx) -> String {
        let s = &self.subjects[p.ix()];
        format!(
            "{} {}",
            s.postcode.as_deref().unwrap_or(""),
            s.house_number.as_deref().unwrap_or("")
        )
    }
}

struct Draft {
    family: String,
    given: String,
    birth: NaiveDate,
    household: usize,
    house_number: String,
    deceased: bool,
}

fn letter_pairs() -> Vec<String> {
    let letters = b"ABCDEGHJKLMNPRSTVWXZ";
    let mut out = Vec::new();
    for &a in letters {
        for &b in letters {
            let pair = format!("{}{}", a as char, b as char);
            if !matches!(pair.as_str(), "SA" | "SD" | "SS") {
                out.push(pair);
            }
        }
    }
    out
}

fn birth_date<R: Rng>(rng: &mut R, start: NaiveDate, age: u32) -> NaiveDate {
    let days = i64::from(age) * 365 + i64::from(age / 4) + rng.random_range(0..365);
    start - Duration::days(days)
}

/// Age in whole years on `on`.
pub(crate) fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    u32::try_from(age.max(0)).unwrap_or(0)
}

/// Builds the population: `persons` people (a household more at most) and `vehicles` vehicles.
pub(crate) fn build<R: Rng>(
    rng: &mut R,
    mix: &Mix,
    names: &Names,
    start: NaiveDate,
    persons: usize,
    vehicles: usize,
) -> People {
    let region: Vec<u16> = REGION_PC4.collect();
    let est_households = persons / 2 + 1;
    let region_pc6_per_pc4 = (est_households * 88 / 100 / region.len() / HOUSEHOLDS_PER_PC6).max(1);
    let commuter_pc6_per_pc4 =
        (est_households * 12 / 100 / COMMUTER_PC4.len() / HOUSEHOLDS_PER_PC6).max(1);
    let pairs = letter_pairs();
    let mut pc4s = Vec::new();
    let mut pc6s = Vec::new();
    let all_pc4 = region
        .iter()
        .map(|&c| (c, true))
        .chain(COMMUTER_PC4.iter().map(|&c| (c, false)));
    for (code, in_region) in all_pc4 {
        let n = if in_region {
            region_pc6_per_pc4
        } else {
            commuter_pc6_per_pc4
        };
        let mut chosen: Vec<&String> = pairs.choose_multiple(rng, n.min(pairs.len())).collect();
        chosen.sort();
        let pc4_ix = pc4s.len();
        for pair in chosen {
            pc6s.push(Pc6 {
                code: format!("{code}{pair}"),
                pc4: pc4_ix,
                residents: Vec::new(),
                next_house_number: rng.random_range(1..12),
            });
        }
        pc4s.push(Pc4 {
            code,
            in_region,
            residents: Vec::new(),
            vehicles: Vec::new(),
        });
    }
    let region_pc6: Vec<usize> = (0..pc6s.len())
        .filter(|&i| pc4s[pc6s[i].pc4].in_region)
        .collect();
    let commuter_pc6: Vec<usize> = (0..pc6s.len())
        .filter(|&i| !pc4s[pc6s[i].pc4].in_region)
        .collect();

    let sizes = WeightedIndex::new(mix.household_sizes).unwrap_or_else(|_| {
        // INVARIANT: the standard mix has positive weights; fall back to singles otherwise.
        WeightedIndex::new([1.0]).expect("single weight")
    });
    let mut drafts: Vec<Draft> = Vec::with_capacity(persons + 5);
    let mut households: Vec<Household> = Vec::with_capacity(persons / 2 + 1);
    while drafts.len() < persons {
        let commuter = rng.random_bool(mix.commuter_households.clamp(0.0, 1.0));
        let pool = if commuter { &commuter_pc6 } else { &region_pc6 };
        let Some(&pc6) = pool.choose(rng) else { break };
        let number = pc6s[pc6].next_house_number;
        pc6s[pc6].next_house_number += rng.random_range(1..=2);
        let house_number = match rng.random_range(0..100) {
            0..=5 => format!("{number}-{}", rng.random_range(1..=3)),
            6..=8 => format!("{number}H"),
            9 => format!("{number}A"),
            _ => number.to_string(),
        };
        let household = households.len();
        let size = sizes.sample(rng) + 1;
        let mut members = Vec::with_capacity(size);
        let mut add = |d: Draft, members: &mut Vec<PersonIx>| {
            members.push(PersonIx::new(drafts.len()));
            drafts.push(d);
        };
        let (family, origin) = names.family_name(rng);
        let housemates = size >= 2 && rng.random_bool(0.14);
        let head_age = if housemates {
            rng.random_range(19..34)
        } else if size == 1 {
            rng.random_range(19..92)
        } else {
            rng.random_range(24..80)
        };
        let head_female = rng.random_bool(0.5);
        let mut adults = 1;
        add(
            Draft {
                family: family.clone(),
                given: names.given_names(rng, origin, head_female),
                birth: birth_date(rng, start, head_age),
                household,
                house_number: house_number.clone(),
                deceased: false,
            },
            &mut members,
        );
        let couple = !housemates && size >= 2 && rng.random_bool(0.82);
        if couple {
            let (partner_family, partner_origin) = if rng.random_bool(0.4) {
                names.family_name(rng)
            } else {
                (family.clone(), origin)
            };
            let age = (head_age as i64 + rng.random_range(-6..=6)).clamp(19, 95) as u32;
            add(
                Draft {
                    given: names.given_names(rng, partner_origin, !head_female),
                    family: partner_family,
                    birth: birth_date(rng, start, age),
                    household,
                    house_number: house_number.clone(),
                    deceased: false,
                },
                &mut members,
            );
            adults += 1;
        }
        for _ in adults..size {
            let (fam, orig, age) = if housemates {
                let (f, o) = names.family_name(rng);
                (f, o, rng.random_range(19..34))
            } else {
                let max_child = head_age.saturating_sub(18).clamp(1, 26);
                (family.clone(), origin, rng.random_range(0..max_child))
            };
            add(
                Draft {
                    given: {
                        let female = rng.random_bool(0.5);
                        names.given_names(rng, orig, female)
                    },
                    family: fam,
                    birth: birth_date(rng, start, age),
                    household,
                    house_number: house_number.clone(),
                    deceased: false,
                },
                &mut members,
            );
        }
        households.push(Household { pc6, members });
    }

    // Identifiers are a shuffled range, so that their order says nothing about households.
    let n = drafts.len();
    let mut numbers: Vec<usize> = (0..n).collect();
    numbers.shuffle(rng);
    let width = if n < 9_000_000 { 7 } else { 9 };
    let mut subjects = Vec::with_capacity(n);
    let mut household_of = Vec::with_capacity(n);
    let mut age_of = Vec::with_capacity(n);
    for (i, d) in drafts.iter_mut().enumerate() {
        d.deceased =
            age_on(d.birth, start) > 60 && rng.random_bool((mix.deceased_rate * 4.0).min(1.0));
        let pc6 = &mut pc6s[households[d.household].pc6];
        let p = PersonIx::new(i);
        pc6.residents.push(p);
        let age = age_on(d.birth, start);
        let mut flags = Vec::new();
        if age < 18 {
            flags.push(SubjectFlag::Minor);
        }
        if d.deceased {
            flags.push(SubjectFlag::Deceased);
        }
        subjects.push(Subject {
            // INVARIANT: the formatted identifier is short and has no control characters.
            id: SubjectId::new(format!("P{:0width$}", numbers[i] + 1)).expect("valid subject id"),
            family_name: Some(std::mem::take(&mut d.family)),
            given_names: Some(std::mem::take(&mut d.given)),
            birth_date: Some(d.birth),
            postcode: Some(pc6.code.clone()),
            house_number: Some(std::mem::take(&mut d.house_number)),
            flags,
        });
        household_of.push(d.household);
        age_of.push(age);
    }
    for pc6 in &pc6s {
        pc4s[pc6.pc4].residents.extend_from_slice(&pc6.residents);
    }

    let mut people = People {
        subjects,
        household_of,
        households,
        pc4s,
        pc6s,
        age_of,
        vehicles: Vec::new(),
        holder_of: Vec::new(),
        vehicles_of: vec![Vec::new(); n],
        by_family_name: std::collections::BTreeMap::new(),
        vips: Vec::new(),
    };
    flag_sensitive(rng, mix, &mut people);
    add_vehicles(rng, &mut people, vehicles);
    for i in 0..n {
        let p = PersonIx::new(i);
        let name = people.family_name(p).to_string();
        people.by_family_name.entry(name).or_default().push(p);
    }
    people
}

/// Marks a few adults as VIP, protected or informant (never two of these at once).
fn flag_sensitive<R: Rng>(rng: &mut R, mix: &Mix, people: &mut People) {
    let n = people.len();
    let living_adult = |people: &People, p: PersonIx| {
        people.is_adult(p) && people.subjects[p.ix()].flags.is_empty()
    };
    let wanted = [
        (SubjectFlag::Vip, mix.vip_rate, 2),
        (SubjectFlag::Protected, mix.protected_rate, 2),
        (SubjectFlag::Informant, mix.informant_rate, 1),
    ];
    for (flag, rate, minimum) in wanted {
        let count = ((n as f64 * rate).round() as usize).max(minimum.min(n / 50));
        let mut placed = 0;
        let mut tries = 0;
        while placed < count && tries < count * 50 {
            tries += 1;
            let p = PersonIx::new(rng.random_range(0..n));
            if !living_adult(people, p) {
                continue;
            }
            people.subjects[p.ix()].flags.push(flag);
            if flag != SubjectFlag::Informant {
                people.vips.push(p);
            }
            placed += 1;
        }
    }
}

fn plate<R: Rng>(rng: &mut R) -> String {
    const LETTERS: &[u8] = b"BDFGHJKLNPRSTVXZ";
    let mut letters = |k: usize| -> String {
        (0..k)
            .map(|_| LETTERS[rng.random_range(0..LETTERS.len())] as char)
            .collect()
    };
    let l3 = letters(3);
    let l2 = letters(2);
    let l1 = letters(1);
    match rng.random_range(0..3) {
        0 => format!(
            "{:02}-{l3}-{}",
            rng.random_range(1..100),
            rng.random_range(1..10)
        ),
        1 => format!(
            "{}-{l3}-{:02}",
            rng.random_range(1..10),
            rng.random_range(1..100)
        ),
        _ => format!("{l2}-{:03}-{l1}", rng.random_range(1..1000)),
    }
}

fn add_vehicles<R: Rng>(rng: &mut R, people: &mut People, count: usize) {
    let adults: Vec<PersonIx> = (0..people.len())
        .map(PersonIx::new)
        .filter(|&p| people.is_adult(p) && !people.has_flag(p, SubjectFlag::Deceased))
        .collect();
    if adults.is_empty() {
        return;
    }
    let mut seen = HashSet::with_capacity(count);
    while people.vehicles.len() < count {
        let id = plate(rng);
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(&holder) = adults.choose(rng) else {
            return;
        };
        let v = VehIx::new(people.vehicles.len());
        people.vehicles.push(Vehicle {
            // INVARIANT: plates are short and printable.
            id: SubjectId::new(id).expect("valid plate"),
            holder: Some(people.subjects[holder.ix()].id.clone()),
        });
        people.holder_of.push(holder);
        people.vehicles_of[holder.ix()].push(v);
        let pc4 = people.pc4_of(holder);
        people.pc4s[pc4].vehicles.push(v);
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn households_share_an_address() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let start = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
        let people = build(&mut rng, &Mix::standard(), &Names::new(), start, 5000, 1000);
        assert!(people.len() >= 5000 && people.len() < 5005);
        assert_eq!(people.vehicles.len(), 1000);
        for h in &people.households {
            let first = people.subject(h.members[0]);
            for &m in &h.members {
                let s = people.subject(m);
                assert_eq!(s.postcode, first.postcode);
                assert_eq!(s.house_number, first.house_number);
            }
        }
        assert!(people.vips.len() >= 2);
        assert_eq!(
            age_on(NaiveDate::from_ymd_opt(2000, 3, 4).unwrap(), start),
            24
        );
    }
}
