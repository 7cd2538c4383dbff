//! Storage of the OTLP intake's join (migration 6): the employees named by audit-log records per
//! trace, and the LDV spans still waiting for theirs.
//!
//! A span is acknowledged to its sender only once it is stored: as an event, or here as a pending
//! row that a later audit record (or the end of the wait) turns into one. This module keeps the
//! rows; it does not decide how long a span waits, map spans or write events (the intake does,
//! through the ingest pipeline, and removes a pending row only after its event is committed).

use rusqlite::{OptionalExtension, params};

use crate::{SqliteStore, StoreError};

/// The intake's tables (migration 6).
pub(crate) const SCHEMA: &str = r#"
-- The employee of each trace, from the first audit-log record that named one.
CREATE TABLE otlp_actors (
    organisation TEXT NOT NULL,
    trace_id     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    received_ms  INTEGER NOT NULL,
    PRIMARY KEY (organisation, trace_id)
) WITHOUT ROWID;
-- Acknowledged LDV spans waiting for their audit record: the event object without its actor.
CREATE TABLE otlp_pending (
    id           INTEGER PRIMARY KEY,
    organisation TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    trace_id     TEXT NOT NULL,
    event        TEXT NOT NULL,
    received_ms  INTEGER NOT NULL,
    UNIQUE (organisation, event_id)
);
CREATE INDEX otlp_pending_by_trace ON otlp_pending (organisation, trace_id);
CREATE INDEX otlp_pending_by_age ON otlp_pending (received_ms);
-- Events stored with an unknown actor because no audit record arrived within the wait.
CREATE TABLE otlp_unjoined (
    organisation TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    trace_id     TEXT NOT NULL,
    stored_ms    INTEGER NOT NULL,
    PRIMARY KEY (organisation, event_id)
) WITHOUT ROWID;
"#;

/// A span waiting for its audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPending {
    pub event_id: String,
    pub trace_id: String,
    /// The event object (JSON) without its actor.
    pub event: String,
}

/// A waiting span that is due: its audit record arrived (`actor`), or its wait is over (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePending {
    pub id: i64,
    pub organisation: String,
    pub event_id: String,
    pub trace_id: String,
    pub event: String,
    pub actor: Option<String>,
}

/// What the intake holds (for `lekdicht status`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IntakeStatus {
    /// Spans waiting for their audit record.
    pub pending: u64,
    /// Events stored with an unknown actor.
    pub unjoined: u64,
}

fn sql(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { op, source }
}

impl SqliteStore {
    /// Records the employee of each `(trace_id, actor)` for `organisation`; a trace that has one
    /// keeps it. Returns how many traces had another employee already (a conflict to report).
    pub fn intake_add_actors(
        &mut self,
        organisation: &str,
        actors: &[(String, String)],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let tx = self
            .conn_mut()
            .transaction()
            .map_err(sql("starting the audit-record transaction"))?;
        let mut conflicts = 0;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO otlp_actors (organisation, trace_id, actor, received_ms)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                )
                .map_err(sql("preparing the audit-record insert"))?;
            let mut known = tx
                .prepare_cached(
                    "SELECT actor FROM otlp_actors WHERE organisation = ?1 AND trace_id = ?2",
                )
                .map_err(sql("preparing the audit-record lookup"))?;
            for (trace_id, actor) in actors {
                let inserted = insert
                    .execute(params![organisation, trace_id, actor, now_ms])
                    .map_err(sql("storing an audit record"))?;
                if inserted == 0 {
                    let existing: String = known
                        .query_row(params![organisation, trace_id], |r| r.get(0))
                        .map_err(sql("reading an audit record"))?;
                    if existing != *actor {
                        conflicts += 1;
                    }
                }
            }
        }
        tx.commit().map_err(sql("committing audit records"))?;
        Ok(conflicts)
    }

    /// The employee recorded for `trace_id`, if an audit record named one.
    pub fn intake_actor(
        &self,
        organisation: &str,
        trace_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row(
                "SELECT actor FROM otlp_actors WHERE organisation = ?1 AND trace_id = ?2",
                params![organisation, trace_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("reading an audit record"))
    }

    /// Keeps spans waiting for their audit record; a span kept already (a resent export) is kept
    /// once.
    pub fn intake_add_pending(
        &mut self,
        organisation: &str,
        spans: &[NewPending],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn_mut()
            .transaction()
            .map_err(sql("starting the pending-span transaction"))?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO otlp_pending (organisation, event_id, trace_id, event, received_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                )
                .map_err(sql("preparing the pending-span insert"))?;
            for span in spans {
                insert
                    .execute(params![
                        organisation,
                        span.event_id,
                        span.trace_id,
                        span.event,
                        now_ms
                    ])
                    .map_err(sql("storing a pending span"))?;
            }
        }
        tx.commit().map_err(sql("committing pending spans"))
    }

    /// At most `limit` waiting spans that are due: those whose trace has an audit record, and
    /// those received at or before `cutoff_ms` (their wait is over), oldest first.
    pub fn intake_due(&self, cutoff_ms: i64, limit: usize) -> Result<Vec<DuePending>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT p.id, p.organisation, p.event_id, p.trace_id, p.event, a.actor
                 FROM otlp_pending p
                 LEFT JOIN otlp_actors a
                   ON a.organisation = p.organisation AND a.trace_id = p.trace_id
                 WHERE a.actor IS NOT NULL OR p.received_ms <= ?1
                 ORDER BY p.id LIMIT ?2",
            )
            .map_err(sql("preparing the due-span query"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![cutoff_ms, limit], |r| {
                Ok(DuePending {
                    id: r.get(0)?,
                    organisation: r.get(1)?,
                    event_id: r.get(2)?,
                    trace_id: r.get(3)?,
                    event: r.get(4)?,
                    actor: r.get(5)?,
                })
            })
            .map_err(sql("reading due spans"))?;
        rows.collect::<Result<_, _>>()
            .map_err(sql("reading due spans"))
    }

    /// Removes waiting spans whose events are committed, and records those stored without an
    /// actor, in one transaction.
    pub fn intake_done(&mut self, done: &[DuePending], now_ms: i64) -> Result<(), StoreError> {
        let tx = self
            .conn_mut()
            .transaction()
            .map_err(sql("starting the pending-span removal"))?;
        {
            let mut delete = tx
                .prepare_cached("DELETE FROM otlp_pending WHERE id = ?1")
                .map_err(sql("preparing the pending-span removal"))?;
            let mut unjoined = tx
                .prepare_cached(
                    "INSERT INTO otlp_unjoined (organisation, event_id, trace_id, stored_ms)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                )
                .map_err(sql("preparing the unjoined-span insert"))?;
            for d in done {
                delete
                    .execute(params![d.id])
                    .map_err(sql("removing a pending span"))?;
                if d.actor.is_none() {
                    unjoined
                        .execute(params![d.organisation, d.event_id, d.trace_id, now_ms])
                        .map_err(sql("recording an unjoined span"))?;
                }
            }
        }
        tx.commit()
            .map_err(sql("committing the pending-span removal"))
    }

    /// How many spans wait, and how many events were stored without an actor.
    pub fn intake_status(&self) -> Result<IntakeStatus, StoreError> {
        let count = |query: &str| -> Result<u64, StoreError> {
            self.conn()
                .query_row(query, [], |r| r.get::<_, i64>(0))
                .map(|n| n.max(0) as u64)
                .map_err(sql("counting the intake's rows"))
        };
        Ok(IntakeStatus {
            pending: count("SELECT count(*) FROM otlp_pending")?,
            unjoined: count("SELECT count(*) FROM otlp_unjoined")?,
        })
    }
}
