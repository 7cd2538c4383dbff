//! Local time in the region (Europe/Amsterdam) for the generated period.
//!
//! Internally every moment is a count of seconds since local midnight at the start of the period;
//! this module turns such counts into contract times with the right offset (+01:00 in winter,
//! +02:00 in summer time, switching on the last Sundays of March and October). It knows nothing of
//! other time zones and does not try to be a time-zone database.

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use lekdicht_model::Time;

pub(crate) const MINUTE: i64 = 60;
pub(crate) const HOUR: i64 = 3600;
pub(crate) const DAY: i64 = 86_400;

/// The day after the one that holds the last second before `t`: the exclusive end day of a span
/// that ends at `t`.
pub(crate) fn end_day(t: i64) -> i64 {
    (t + DAY - 1).div_euclid(DAY)
}

/// The generated period and its local calendar.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: NaiveDate,
    days: i64,
}

impl Clock {
    pub(crate) fn new(start: NaiveDate, days: u32) -> Clock {
        Clock {
            start,
            days: i64::from(days),
        }
    }

    pub(crate) fn days(&self) -> i64 {
        self.days
    }

    /// First second after the period.
    pub(crate) fn end(&self) -> i64 {
        self.days * DAY
    }

    pub(crate) fn start_date(&self) -> NaiveDate {
        self.start
    }

    /// The calendar date of day `day` of the period (may lie before or after it).
    pub(crate) fn date(&self, day: i64) -> NaiveDate {
        self.start + Duration::days(day)
    }

    /// The day of the period on which `date` falls (negative before the start).
    pub(crate) fn day_of_date(&self, date: NaiveDate) -> i64 {
        (date - self.start).num_days()
    }

    pub(crate) fn weekday(&self, day: i64) -> Weekday {
        self.date(day).weekday()
    }

    pub(crate) fn is_weekend(&self, day: i64) -> bool {
        matches!(self.weekday(day), Weekday::Sat | Weekday::Sun)
    }

    /// The contract time for a moment, in local time with its offset.
    pub(crate) fn time(&self, secs: i64) -> Time {
        let midnight = NaiveDateTime::new(self.start, NaiveTime::MIN);
        amsterdam(midnight + Duration::seconds(secs))
    }
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap_or(NaiveDate::MAX);
    let last = first_of_next.pred_opt().unwrap_or(first_of_next);
    let back = i64::from(last.weekday().num_days_from_sunday());
    last - Duration::days(back)
}

/// Attaches the Dutch offset to a local wall-clock time. A time in the spring gap (02:00–03:00 on
/// the last Sunday of March) is moved forward by an hour, as clocks do; an ambiguous autumn time
/// takes the summer offset.
pub(crate) fn amsterdam(local: NaiveDateTime) -> Time {
    let utc = FixedOffset::east_opt(0).expect("zero offset is valid");
    let winter = FixedOffset::east_opt(3600).unwrap_or(utc);
    let summer = FixedOffset::east_opt(7200).unwrap_or(utc);
    let year = local.year();
    let spring = NaiveDateTime::new(last_sunday(year, 3), NaiveTime::MIN) + Duration::hours(2);
    let autumn = NaiveDateTime::new(last_sunday(year, 10), NaiveTime::MIN) + Duration::hours(3);
    let (wall, offset) = if local < spring || local >= autumn {
        (local, winter)
    } else if local < spring + Duration::hours(1) {
        (local + Duration::hours(1), summer)
    } else {
        (local, summer)
    };
    let utc = wall - Duration::seconds(i64::from(offset.local_minus_utc()));
    chrono::DateTime::from_naive_utc_and_offset(utc, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(date: (i32, u32, u32), hms: (u32, u32, u32), expect: &str) {
        let d = NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap();
        let t = NaiveTime::from_hms_opt(hms.0, hms.1, hms.2).unwrap();
        assert_eq!(amsterdam(NaiveDateTime::new(d, t)).to_rfc3339(), expect);
    }

    #[test]
    fn offsets_follow_dutch_summer_time() {
        check((2025, 3, 14), (9, 31, 22), "2025-03-14T09:31:22+01:00");
        check((2025, 3, 30), (1, 59, 0), "2025-03-30T01:59:00+01:00");
        check((2025, 3, 30), (2, 30, 0), "2025-03-30T03:30:00+02:00");
        check((2025, 3, 30), (3, 0, 0), "2025-03-30T03:00:00+02:00");
        check((2025, 7, 1), (12, 0, 0), "2025-07-01T12:00:00+02:00");
        check((2025, 10, 26), (2, 30, 0), "2025-10-26T02:30:00+02:00");
        check((2025, 10, 26), (3, 0, 0), "2025-10-26T03:00:00+01:00");
    }

    #[test]
    fn clock_counts_from_local_midnight() {
        let clock = Clock::new(NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), 30);
        assert_eq!(clock.time(0).to_rfc3339(), "2025-03-03T00:00:00+01:00");
        assert_eq!(
            clock.time(DAY + 7 * HOUR).to_rfc3339(),
            "2025-03-04T07:00:00+01:00"
        );
        assert!(clock.is_weekend(5));
        assert!(!clock.is_weekend(7));
        assert_eq!(clock.end(), 30 * DAY);
    }
}
