//! The aggregate figures that operators watch (`/metrics` of the web application): events stored,
//! quarantined lines, open alerts by age, reveals by state. Counts only: no row, id or name leaves
//! this module.

use rusqlite::params;

use crate::review::sql;
use crate::{SqliteStore, Store, StoreError};

/// Bounds of the age buckets of open alerts, in hours, and their labels.
pub const ALERT_AGE_BUCKETS: [(&str, i64); 4] = [
    ("lt_1d", 24),
    ("1d_7d", 7 * 24),
    ("7d_30d", 30 * 24),
    ("ge_30d", i64::MAX),
];

/// What the store holds, in counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpsCounts {
    pub events: u64,
    pub quarantined: u64,
    pub quarantine_open: u64,
    /// Open alerts of the current detection per bucket of [`ALERT_AGE_BUCKETS`].
    pub alerts_open: [u64; 4],
    /// Reveal requests per state (`pending` or the decision), sorted by state.
    pub reveals: Vec<(String, u64)>,
}

impl SqliteStore {
    /// The counts at `now_ms` (alerts are aged from when detection first stored them).
    pub fn ops_counts(&self, now_ms: i64) -> Result<OpsCounts, StoreError> {
        let op = "counting for metrics";
        let conn = self.conn();
        let (quarantined, quarantine_open): (i64, i64) = conn
            .query_row(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE resolved_at IS NULL) FROM quarantine",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql(op))?;
        let mut alerts_open = [0u64; 4];
        let mut stmt = conn
            .prepare(
                "SELECT (?1 - CAST(unixepoch(detected_at, 'subsec') * 1000 AS INTEGER)) / 3600000
                 FROM alerts WHERE current != 0 AND status = 'open'",
            )
            .map_err(sql(op))?;
        let hours = stmt
            .query_map(params![now_ms], |r| r.get::<_, Option<i64>>(0))
            .map_err(sql(op))?;
        for h in hours {
            let h = h.map_err(sql(op))?.unwrap_or(0);
            let bucket = ALERT_AGE_BUCKETS
                .iter()
                .position(|(_, upto)| h < *upto)
                .unwrap_or(ALERT_AGE_BUCKETS.len() - 1);
            alerts_open[bucket] += 1;
        }
        let mut stmt = conn
            .prepare(
                "SELECT COALESCE(decision, 'pending'), COUNT(*) FROM reveals GROUP BY 1 ORDER BY 1",
            )
            .map_err(sql(op))?;
        let reveals = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(sql(op))?;
        Ok(OpsCounts {
            events: Store::event_count(self)?,
            quarantined: quarantined as u64,
            quarantine_open: quarantine_open as u64,
            alerts_open,
            reveals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlertRow;

    #[test]
    fn open_alerts_are_counted_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let alert = |id: &str, status: &str| AlertRow {
            id: id.into(),
            actor: "E1".into(),
            score: 0.9,
            from_ms: 0,
            until_ms: 1,
            status: status.into(),
            line: "{}".into(),
        };
        store
            .write_alerts(&[alert("a", "open"), alert("b", "open"), alert("c", "ranked")])
            .unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        let counts = store.ops_counts(now).unwrap();
        assert_eq!(counts.alerts_open, [2, 0, 0, 0]);
        let later = store.ops_counts(now + 8 * 24 * 3_600_000).unwrap();
        assert_eq!(later.alerts_open, [0, 0, 2, 0]);
        assert_eq!((counts.events, counts.quarantined), (0, 0));
        assert!(counts.reveals.is_empty());
    }
}
