//! Duty rosters: early, late and night shifts for round-the-clock teams, office hours for the rest,
//! standby blocks, leave and sickness.
//!
//! Every employee gets a roster, because ordinary work happens in shifts; only the published ones
//! become `shifts` records (a few employees have no roster data at all, which means "unknown", not
//! "off duty"). The roster does not generate any access events itself.

use chrono::Weekday;
use lekdicht_model::ShiftKind;
use rand::Rng;

use crate::clock::{Clock, DAY, HOUR, MINUTE};
use crate::ix::EmpIx;
use crate::mix::Mix;
use crate::staff::{Role, Staff};

/// One block of an employee's roster, in seconds since the start of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block {
    pub start: i64,
    pub end: i64,
    pub kind: ShiftKind,
}

impl Block {
    pub(crate) fn covers(&self, t: i64) -> bool {
        t >= self.start && t < self.end
    }
}

/// Which rosters must exist for planned violations.
#[derive(Debug, Clone, Default)]
pub(crate) struct RosterNeeds {
    /// The roster must be published.
    pub published: Vec<bool>,
    /// The roster must hold a leave or sickness block.
    pub absence: Vec<bool>,
}

pub(crate) struct Rosters {
    /// Per employee, sorted by start.
    pub blocks: Vec<Vec<Block>>,
    pub published: Vec<bool>,
}

impl Rosters {
    pub(crate) fn covering(&self, e: EmpIx, t: i64) -> Option<&Block> {
        self.blocks[e.ix()].iter().find(|b| b.covers(t))
    }

    /// Whether any block of the employee lies within `margin` seconds of `t`.
    pub(crate) fn near(&self, e: EmpIx, t: i64, margin: i64) -> bool {
        self.blocks[e.ix()]
            .iter()
            .any(|b| t >= b.start - margin && t < b.end + margin)
    }

    pub(crate) fn duty(&self, e: EmpIx) -> impl Iterator<Item = &Block> {
        self.blocks[e.ix()]
            .iter()
            .filter(|b| b.kind == ShiftKind::Duty)
    }

    /// Whether the employee is on duty at `t`.
    pub(crate) fn on_duty(&self, e: EmpIx, t: i64) -> bool {
        self.covering(e, t)
            .is_some_and(|b| b.kind == ShiftKind::Duty)
    }

    /// A moment inside a random duty block of the employee.
    pub(crate) fn random_duty_time<R: Rng>(&self, rng: &mut R, e: EmpIx) -> Option<i64> {
        let duty: Vec<&Block> = self.duty(e).collect();
        if duty.is_empty() {
            return None;
        }
        let b = duty[rng.random_range(0..duty.len())];
        Some(rng.random_range(b.start..b.end))
    }

    /// A moment inside the first duty block that ends after `after`, no earlier than `after`.
    pub(crate) fn next_duty_time<R: Rng>(&self, rng: &mut R, e: EmpIx, after: i64) -> Option<i64> {
        let b = self.duty(e).find(|b| b.end > after + 10 * MINUTE)?;
        let from = b.start.max(after);
        Some(rng.random_range(from..b.end))
    }

    /// Whether the employee is on leave or sick at `t`.
    pub(crate) fn absent(&self, e: EmpIx, t: i64) -> bool {
        self.absences(e).any(|b| b.covers(t))
    }

    pub(crate) fn absences(&self, e: EmpIx) -> impl Iterator<Item = &Block> {
        self.blocks[e.ix()]
            .iter()
            .filter(|b| matches!(b.kind, ShiftKind::Leave | ShiftKind::Sick))
    }
}

/// Round-the-clock rotation: E early, L late, N night, - off. Nine shifts in fourteen days.
const ROTATION: &[u8; 14] = b"EEEE-LLL--NN--";

fn shift_block<R: Rng>(rng: &mut R, day: i64, code: u8) -> Option<Block> {
    let (start_hour, len) = match code {
        b'E' => (*[6, 7, 7, 7, 8].get(rng.random_range(0..5))?, 8),
        b'L' => (*[14, 15, 15, 15, 16].get(rng.random_range(0..5))?, 8),
        b'N' => (*[22, 23, 23].get(rng.random_range(0..3))?, 8),
        _ => return None,
    };
    let start = day * DAY + start_hour * HOUR;
    Some(Block {
        start,
        end: start + len * HOUR + if rng.random_bool(0.3) { HOUR } else { 0 },
        kind: ShiftKind::Duty,
    })
}

fn office_block<R: Rng>(rng: &mut R, day: i64, base_start: i64) -> Block {
    let start = day * DAY + base_start + rng.random_range(-2..=2) * 15 * MINUTE;
    Block {
        start,
        end: start + 8 * HOUR + 30 * MINUTE + rng.random_range(-2..=4) * 15 * MINUTE,
        kind: ShiftKind::Duty,
    }
}

/// Builds a roster for every employee.
pub(crate) fn build<R: Rng>(
    rng: &mut R,
    mix: &Mix,
    clock: &Clock,
    staff: &Staff,
    needs: &RosterNeeds,
) -> Rosters {
    let n = staff.len();
    let days = clock.days();
    let mut blocks = Vec::with_capacity(n);
    let mut published = Vec::with_capacity(n);
    for i in 0..n {
        let e = EmpIx::new(i);
        let info = &staff.info[i];
        let must_publish = needs.published.get(i).copied().unwrap_or(false);
        let must_be_absent = needs.absence.get(i).copied().unwrap_or(false);
        published.push(must_publish || !rng.random_bool(mix.without_roster));
        let part_time = rng.random_bool(mix.part_time);
        let mut own: Vec<Block> = Vec::new();
        if info.role.round_the_clock() {
            let offset = rng.random_range(0..ROTATION.len() as i64);
            for day in -1..days {
                let code = ROTATION[(day + offset).rem_euclid(ROTATION.len() as i64) as usize];
                if part_time && rng.random_bool(0.2) {
                    continue;
                }
                if let Some(b) = shift_block(rng, day, code) {
                    own.push(b);
                }
            }
        } else {
            let base = match info.role {
                Role::Baliemedewerker | Role::Teamleider => 8 * HOUR + 15 * MINUTE,
                _ => rng.random_range(30..=38) * 15 * MINUTE,
            };
            let day_off = part_time.then(|| rng.random_range(0..5u32));
            for day in 0..days {
                let weekday = clock.weekday(day);
                if clock.is_weekend(day) {
                    if info.role == Role::Wijkagent && rng.random_bool(0.12) {
                        own.push(office_block(rng, day, 10 * HOUR));
                    }
                    continue;
                }
                if day_off == Some(weekday.num_days_from_monday()) {
                    continue;
                }
                if info.role == Role::Wijkagent && weekday == Weekday::Thu && rng.random_bool(0.7) {
                    // The weekly evening shift in the neighbourhood.
                    let start = day * DAY + 14 * HOUR;
                    own.push(Block {
                        start,
                        end: start + 8 * HOUR + 30 * MINUTE,
                        kind: ShiftKind::Duty,
                    });
                    continue;
                }
                own.push(office_block(rng, day, base));
            }
            if matches!(
                info.role,
                Role::Rechercheur | Role::Analist | Role::Teamchef
            ) && rng.random_bool(mix.with_standby)
            {
                for _ in 0..rng.random_range(1..=2) {
                    let day = rng.random_range(0..days.max(1));
                    let (start, end) = if clock.is_weekend(day) {
                        (day * DAY + 8 * HOUR, day * DAY + 22 * HOUR)
                    } else {
                        (day * DAY + 18 * HOUR, (day + 1) * DAY + 7 * HOUR)
                    };
                    if own.iter().all(|b| b.end <= start || b.start >= end) {
                        own.push(Block {
                            start,
                            end,
                            kind: ShiftKind::Standby,
                        });
                    }
                }
            }
        }
        let mut absences = Vec::new();
        if days >= 7 && (must_be_absent || rng.random_bool(mix.with_leave)) {
            let len = rng.random_range(5..=14.min(days - 1));
            let first = rng.random_range(0..=days - len);
            absences.push((first, len, ShiftKind::Leave));
        } else if (days >= 3 && rng.random_bool(mix.with_sickness)) || (must_be_absent && days >= 2)
        {
            let len = rng.random_range(1..=5.min(days - 1));
            let first = rng.random_range(0..=days - len);
            absences.push((first, len, ShiftKind::Sick));
        }
        for (first, len, kind) in absences {
            let start = first * DAY;
            let end = (first + len) * DAY;
            own.retain(|b| b.end <= start || b.start >= end);
            own.push(Block { start, end, kind });
        }
        let first = info.first_day * DAY;
        let last = info.end_day * DAY;
        own.retain(|b| b.end > first && b.start < last);
        own.sort_by_key(|b| b.start);
        debug_assert!(own.windows(2).all(|w| w[0].end <= w[1].start), "{e:?}");
        blocks.push(own);
    }
    Rosters { blocks, published }
}
