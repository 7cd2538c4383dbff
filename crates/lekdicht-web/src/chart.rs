//! The employee's activity chart as server-rendered SVG: a day × hour grid over the alert window
//! ± 7 days, one square per hour with accesses (darker = more), a diamond where the hour holds an
//! access of the alert, so that suspicion is shown by shape and not by colour alone. A data table
//! with the same numbers goes with it. No script, no chart library.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Timelike};
use lekdicht_store::StoredEvent;

use crate::i18n::Texts;

/// One day of the data table.
pub struct ChartRow {
    pub day: String,
    pub accesses: u32,
    pub suspicious: u32,
    pub hours: String,
}

/// The rendered chart (SVG markup, escaped here) and its table.
pub struct ActivityChart {
    pub svg: String,
    pub rows: Vec<ChartRow>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Most days the chart shows.
const MAX_DAYS: i64 = 60;

/// Builds the chart of `events` between `from_ms` and `until_ms`; `suspicious` are the alert's
/// event sequence numbers.
pub fn activity(
    t: &Texts,
    events: &[StoredEvent],
    suspicious: &BTreeSet<u64>,
    from_ms: i64,
    until_ms: i64,
) -> ActivityChart {
    let day_of = |ms: i64| DateTime::from_timestamp_millis(ms).map(|d| d.date_naive());
    let (Some(first), Some(last)) = (day_of(from_ms), day_of(until_ms)) else {
        return ActivityChart {
            svg: String::new(),
            rows: Vec::new(),
        };
    };
    let n_days = ((last - first).num_days() + 1).clamp(1, MAX_DAYS);
    // (day index, hour) -> (accesses, suspicious)
    let mut cells: BTreeMap<(i64, u32), (u32, u32)> = BTreeMap::new();
    for e in events {
        let local = e.event.time;
        let day = local.date_naive();
        let idx = (day - first).num_days();
        if !(0..n_days).contains(&idx) {
            continue;
        }
        let cell = cells.entry((idx, local.hour())).or_default();
        cell.0 += 1;
        if suspicious.contains(&e.seq) {
            cell.1 += 1;
        }
    }
    let max = cells.values().map(|c| c.0).max().unwrap_or(1).max(1);
    let (cell, left, top) = (14i64, 90i64, 24i64);
    let width = left + 24 * cell + 10;
    let height = top + n_days * cell + 10;
    let title = escape(t.activity);
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{title}" aria-describedby="activity-desc" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title><desc id="activity-desc">{}</desc>"#,
        escape(t.activity_caption)
    );
    for h in (0..24).step_by(3) {
        svg.push_str(&format!(
            r##"<text x="{}" y="{}" font-size="10" fill="#1a1a1a">{h:02}</text>"##,
            left + h * cell,
            top - 8
        ));
    }
    let mut rows = Vec::new();
    for d in 0..n_days {
        let day: NaiveDate = first + chrono::Duration::days(d);
        let y = top + d * cell;
        if d % 2 == 0 || n_days <= 20 {
            svg.push_str(&format!(
                r##"<text x="0" y="{}" font-size="10" fill="#1a1a1a">{}</text>"##,
                y + cell - 3,
                day.format("%Y-%m-%d")
            ));
        }
        let mut row = ChartRow {
            day: day.to_string(),
            accesses: 0,
            suspicious: 0,
            hours: String::new(),
        };
        let mut hours = Vec::new();
        for h in 0..24u32 {
            let Some(&(n, s)) = cells.get(&(d, h)) else {
                continue;
            };
            row.accesses += n;
            row.suspicious += s;
            hours.push(format!("{h:02}"));
            let x = left + i64::from(h) * cell;
            let shade = 90 - (60 * n / max) as i64;
            if s > 0 {
                let (cx, cy, r) = (x + cell / 2, y + cell / 2, cell / 2);
                svg.push_str(&format!(
                    r##"<polygon points="{cx},{} {},{cy} {cx},{} {},{cy}" fill="#9b1c1c" stroke="#1a1a1a"/>"##,
                    cy - r,
                    cx + r,
                    cy + r,
                    cx - r
                ));
            } else {
                svg.push_str(&format!(
                    r##"<rect x="{}" y="{}" width="{}" height="{}" fill="hsl(210,60%,{shade}%)" stroke="#8a8a8a"/>"##,
                    x + 1,
                    y + 1,
                    cell - 2,
                    cell - 2
                ));
            }
        }
        row.hours = hours.join(" ");
        if row.accesses > 0 {
            rows.push(row);
        }
    }
    svg.push_str("</svg>");
    ActivityChart { svg, rows }
}
