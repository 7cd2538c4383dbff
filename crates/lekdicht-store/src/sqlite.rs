//! [`Store`] on an embedded SQLite database in the data directory (`lekdicht.db`).
//!
//! WAL journal with `synchronous = FULL`: a committed batch survives a killed process and a power
//! cut. One connection, used from one thread; prepared statements are cached. Event sequence numbers
//! are assigned here, densely from 0, and only for events that are really stored, so that they can
//! serve as ledger leaf indices.
//!
//! Inserting an event touches only the table and its `(id, system)` key. The access paths by actor,
//! subject and time are filled in bulk by a *seal* (every [`SEAL_EVERY`] events and at the end of
//! each run); queries combine them with a scan of the short unsealed tail. The writing connection
//! groups the postings of the events it commits as it goes, so that a seal does not read them back;
//! after a reopen or a failed batch the seal reads the tail from the table instead. This module does
//! not decide when a run ends or what the events mean.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use lekdicht_model::{AccessEvent, ContextRecords, RecordKind};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::postings::{self, Posting, PostingKind, SegmentPostings};
use crate::schema::MIGRATIONS;
use crate::{
    AlertRow, Batch, BatchOutcome, EventOutcome, KnownIds, ProjectionMismatch, QuarantineEntry,
    QuarantineFilter, RunId, RunTotals, ScoreRow, Store, StoreError, StoreStatus, StoredEvent,
    TimeRange, Unresolved,
};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "lekdicht.db";

/// Default number of unsealed events after which [`Store::write_batch`] seals them into the access
/// paths. It bounds the tail that queries scan and the memory a seal groups in.
pub const SEAL_EVERY: u64 = 1 << 18;

/// How a [`SqliteStore`] behaves; [`Default`] is what lekdicht uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Seal the access paths once this many events are unsealed (at least 1).
    pub seal_every: u64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            seal_every: SEAL_EVERY,
        }
    }
}

/// The first sequence number that the access paths do not cover, read in the query's own snapshot.
const SEALED_UPTO: &str = "(SELECT sealed_upto FROM index_state)";

fn sql(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { op, source }
}

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        actor: r.get(1)?,
        score: r.get(2)?,
        from_ms: r.get(3)?,
        until_ms: r.get(4)?,
        status: r.get(5)?,
        line: r.get(6)?,
    })
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    next_seq: u64,
    /// Events with `seq < sealed_upto` are in the access paths (as far as this connection knows;
    /// queries read the stored value).
    sealed_upto: u64,
    seal_every: u64,
    /// `(kind, key)` of open quarantine entries that carry a key, so that storing a valid version of
    /// the record can resolve them without a query per record.
    open_keys: HashSet<(String, String)>,
    /// The access paths of the unsealed events this connection wrote, grouped as they are
    /// committed, so that a seal need not read them back. `None` when unknown (events written before
    /// this connection opened, or a batch that failed); the seal then reads the tail from the table.
    pending: Option<PendingSegment>,
}

/// The postings of the events with `from <= seq < upto`, built as they were written.
#[derive(Debug, Default)]
struct PendingSegment {
    from: u64,
    upto: u64,
    actors: SegmentPostings,
    subjects: SegmentPostings,
}

impl PendingSegment {
    fn starting_at(from: u64) -> Self {
        PendingSegment {
            from,
            upto: from,
            ..PendingSegment::default()
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, SqliteOptions::default())
    }

    /// Opens (creating if needed) the store in `data_dir` with explicit options.
    pub fn open_with(data_dir: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Open {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let conn = Connection::open(&path).map_err(sql("opening the database"))?;
        Self::from_connection(conn, path, options)
    }

    fn from_connection(
        mut conn: Connection,
        path: PathBuf,
        options: SqliteOptions,
    ) -> Result<Self, StoreError> {
        // A fresh database gets larger pages (fewer, shallower index pages for millions of events);
        // an existing one keeps its page size.
        conn.pragma_update(None, "page_size", "16384")
            .map_err(sql("setting the page size"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("setting the journal mode"))?;
        for (name, value) in [
            ("synchronous", "FULL"),
            ("wal_autocheckpoint", "16384"),
            ("temp_store", "MEMORY"),
            ("cache_size", "-131072"),
            ("busy_timeout", "10000"),
        ] {
            conn.pragma_update(None, name, value)
                .map_err(sql("setting pragmas"))?;
        }
        conn.set_prepared_statement_cache_capacity(64);
        migrate(&mut conn)?;
        let next_seq: i64 = conn
            .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM events", [], |r| {
                r.get(0)
            })
            .map_err(sql("reading the event count"))?;
        let sealed_upto: i64 = conn
            .query_row("SELECT sealed_upto FROM index_state", [], |r| r.get(0))
            .map_err(sql("reading the index state"))?;
        let mut open_keys = HashSet::new();
        {
            let mut stmt = conn
                .prepare(
                    "SELECT kind, key FROM quarantine WHERE resolved_at IS NULL AND key IS NOT NULL",
                )
                .map_err(sql("reading the quarantine"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(sql("reading the quarantine"))?;
            for row in rows {
                open_keys.insert(row.map_err(sql("reading the quarantine"))?);
            }
        }
        let pending =
            (next_seq == sealed_upto).then(|| PendingSegment::starting_at(next_seq as u64));
        Ok(SqliteStore {
            conn,
            path,
            next_seq: next_seq as u64,
            sealed_upto: sealed_upto as u64,
            seal_every: options.seal_every.max(1),
            open_keys,
            pending,
        })
    }

    /// Adds every unsealed event to the access paths, in one transaction: one posting list per actor
    /// and per subject of the segment, and the segment's `(time_ms, seq)` pairs in sequence order.
    /// Returns how many events it sealed.
    ///
    /// [`Store::finish_run`] calls this, and [`Store::write_batch`] does when the tail reaches
    /// [`SqliteOptions::seal_every`]; calling it at other times is harmless.
    pub fn seal(&mut self) -> Result<u64, StoreError> {
        let op = "sealing the access paths";
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(op))?;
        let (from, until): (i64, i64) = tx
            .query_row(
                "SELECT sealed_upto, (SELECT COALESCE(MAX(seq) + 1, 0) FROM events) FROM index_state",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql(op))?;
        if until <= from {
            self.sealed_upto = from as u64;
            return Ok(0);
        }
        // The postings grouped while the events were written, when they cover exactly the tail;
        // otherwise (events from before this connection, a failed batch) read the tail back.
        let pending = self
            .pending
            .take()
            .filter(|p| p.from == from as u64 && p.upto == until as u64);
        let (actors, subjects) = match pending {
            Some(p) => (p.actors, p.subjects),
            None => read_postings(&tx, from, until)?,
        };
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO postings (kind, key, first_seq, entries) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sql(op))?;
            for (kind, lists) in [
                (PostingKind::Actor, actors),
                (PostingKind::Subject, subjects),
            ] {
                // In key order, so that consecutive inserts land on neighbouring pages.
                let mut lists: Vec<(String, Vec<u8>)> = lists.into_blobs().collect();
                lists.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                for (key, entries) in lists {
                    insert
                        .execute(params![kind.code(), key, from, entries])
                        .map_err(sql(op))?;
                }
            }
        }
        tx.prepare_cached(
            "INSERT INTO events_by_time (time_ms, seq)
             SELECT time_ms, seq FROM events WHERE seq >= ?1 AND seq < ?2",
        )
        .and_then(|mut stmt| stmt.execute([from, until]))
        .map_err(sql(op))?;
        tx.execute("UPDATE index_state SET sealed_upto = ?1", [until])
            .map_err(sql(op))?;
        tx.commit().map_err(sql(op))?;
        self.sealed_upto = until as u64;
        if self.next_seq == until as u64 {
            self.pending = Some(PendingSegment::starting_at(self.next_seq));
        }
        Ok((until - from) as u64)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for the store's other modules (review, cases).
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, mutably (transactions), for the store's other modules.
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// The postings of the events with `from <= seq < until`, read back from the table.
fn read_postings(
    tx: &Transaction<'_>,
    from: i64,
    until: i64,
) -> Result<(SegmentPostings, SegmentPostings), StoreError> {
    let op = "sealing the access paths";
    let mut actors = SegmentPostings::default();
    let mut subjects = SegmentPostings::default();
    {
        let mut stmt = tx
            .prepare_cached(
                "SELECT seq, time_ms, actor, subject FROM events
                     WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
            )
            .map_err(sql(op))?;
        let mut rows = stmt.query([from, until]).map_err(sql(op))?;
        while let Some(row) = rows.next().map_err(sql(op))? {
            let posting = Posting {
                seq: row.get(0).map_err(sql(op))?,
                time_ms: row.get(1).map_err(sql(op))?,
            };
            let not_text = |e| StoreError::Corrupt {
                what: format!("event #{}", posting.seq),
                reason: format!("actor or subject is not text: {e}"),
            };
            let actor = row.get_ref(2).map_err(sql(op))?;
            actors.add(actor.as_str().map_err(not_text)?, posting);
            let subject = row.get_ref(3).map_err(sql(op))?;
            if let Some(subject) = subject.as_str_or_null().map_err(not_text)? {
                subjects.add(subject, posting);
            }
        }
    }
    Ok((actors, subjects))
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql("reading the schema version"))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::NewerSchema {
            found: version,
            known,
        });
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(sql("migrating"))?;
        tx.execute_batch(migration).map_err(sql("migrating"))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(sql("migrating"))?;
        tx.commit().map_err(sql("migrating"))?;
    }
    Ok(())
}

fn decode_event(seq: i64, record: String, unresolved: i64) -> Result<StoredEvent, StoreError> {
    let event: AccessEvent = serde_json::from_str(&record).map_err(|e| StoreError::Corrupt {
        what: format!("event #{seq}"),
        reason: e.to_string(),
    })?;
    Ok(StoredEvent {
        seq: seq as u64,
        event,
        canonical: record.into_bytes(),
        unresolved: Unresolved::from_bits(unresolved),
    })
}

fn canonical_text<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, StoreError> {
    std::str::from_utf8(bytes).map_err(|_| StoreError::Corrupt {
        what: what.to_owned(),
        reason: "canonical record is not UTF-8".to_owned(),
    })
}

/// The events whose actor (or subject) is one of `keys` and whose time lies in `[from, until)`, in
/// `(time_ms, seq)` order: the sealed ones from their posting lists, the tail by a scan.
fn keyed_events(
    conn: &Connection,
    kind: PostingKind,
    keys: &[String],
    (from, until): (i64, i64),
) -> Result<Vec<StoredEvent>, StoreError> {
    let op = "reading events";
    let sealed: i64 = conn
        .query_row("SELECT sealed_upto FROM index_state", [], |r| r.get(0))
        .map_err(sql(op))?;
    let mut hits = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached("SELECT entries FROM postings WHERE kind = ?1 AND key = ?2")
            .map_err(sql(op))?;
        for key in keys {
            let mut rows = stmt.query(params![kind.code(), key]).map_err(sql(op))?;
            while let Some(row) = rows.next().map_err(sql(op))? {
                let entries = row.get_ref(0).map_err(sql(op))?.as_blob().ok();
                if entries
                    .and_then(|b| postings::decode(b, &mut hits))
                    .is_none()
                {
                    return Err(StoreError::Corrupt {
                        what: format!("posting list of {key}"),
                        reason: "not a valid list of sequence numbers and times".to_owned(),
                    });
                }
            }
        }
    }
    hits.retain(|p| p.seq < sealed && p.time_ms >= from && p.time_ms < until);
    {
        let column = match kind {
            PostingKind::Actor => "actor",
            PostingKind::Subject => "subject",
        };
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT seq, time_ms, {column} FROM events
                 WHERE seq >= ?1 AND time_ms >= ?2 AND time_ms < ?3"
            ))
            .map_err(sql(op))?;
        let mut rows = stmt.query([sealed, from, until]).map_err(sql(op))?;
        while let Some(row) = rows.next().map_err(sql(op))? {
            let key = row.get_ref(2).map_err(sql(op))?;
            let Ok(Some(key)) = key.as_str_or_null() else {
                continue;
            };
            if keys.iter().any(|k| k == key) {
                hits.push(Posting {
                    seq: row.get(0).map_err(sql(op))?,
                    time_ms: row.get(1).map_err(sql(op))?,
                });
            }
        }
    }
    hits.sort_unstable();
    hits.dedup();
    let mut stmt = conn
        .prepare_cached("SELECT record, unresolved FROM events WHERE seq = ?1")
        .map_err(sql(op))?;
    let mut out = Vec::with_capacity(hits.len());
    for hit in hits {
        let row: Option<(String, i64)> = stmt
            .query_row([hit.seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(sql(op))?;
        // A posting whose event row is gone: the row was deleted behind lekdicht's back, which
        // `check_projections` and the ledger report; a query shows what is there.
        if let Some((record, unresolved)) = row {
            out.push(decode_event(hit.seq, record, unresolved)?);
        }
    }
    Ok(out)
}

impl SqliteStore {
    /// A read transaction, so that a query's parts (access paths, tail) see one state of the
    /// database even while another process writes. Rolled back (a no-op) when dropped.
    fn snapshot(&self) -> Result<Transaction<'_>, StoreError> {
        self.conn
            .unchecked_transaction()
            .map_err(sql("starting a read"))
    }

    fn query_events(
        &self,
        sql_text: &str,
        params: &[&dyn rusqlite::ToSql],
        f: &mut dyn FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql_text)
            .map_err(sql("reading events"))?;
        let mut rows = stmt.query(params).map_err(sql("reading events"))?;
        while let Some(row) = rows.next().map_err(sql("reading events"))? {
            let seq: i64 = row.get(0).map_err(sql("reading events"))?;
            let record: String = row.get(1).map_err(sql("reading events"))?;
            let unresolved: i64 = row.get(2).map_err(sql("reading events"))?;
            f(decode_event(seq, record, unresolved)?)?;
        }
        Ok(())
    }

    fn collect_events(
        &self,
        sql_text: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        self.query_events(sql_text, params, &mut |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }
}

fn write_events(
    tx: &Transaction<'_>,
    run: RunId,
    batch: &Batch,
    next_seq: &mut u64,
    outcome: &mut BatchOutcome,
    mut pending: Option<&mut PendingSegment>,
) -> Result<Vec<(String, String)>, StoreError> {
    let op = "storing events";
    let mut conflicts = Vec::new();
    // The very first event gets sequence number 0 explicitly; every later one lets SQLite assign
    // the next rowid (largest + 1, which is `next_seq` since the numbers are dense), so that the row
    // is appended without a search for its place. ?1 is then bound but unused.
    let mut first = tx
        .prepare_cached(
            "INSERT INTO events (seq, id, system, time_ms, actor, action, subject, case_id, unresolved, run, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id, system) DO NOTHING",
        )
        .map_err(sql(op))?;
    let mut append = tx
        .prepare_cached(
            "INSERT INTO events (id, system, time_ms, actor, action, subject, case_id, unresolved, run, record)
             VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id, system) DO NOTHING",
        )
        .map_err(sql(op))?;
    let mut existing = tx
        .prepare_cached("SELECT seq, record FROM events WHERE id = ?1 AND system = ?2")
        .map_err(sql(op))?;
    for new in &batch.events {
        let e = &new.event;
        let record = canonical_text(&new.canonical, e.id.as_str())?;
        let insert = if *next_seq == 0 {
            &mut first
        } else {
            &mut append
        };
        // Bound one by one (no parameter array to build per row): this loop is the ingest hot path.
        insert
            .raw_bind_parameter(1, *next_seq as i64)
            .and_then(|()| insert.raw_bind_parameter(2, e.id.as_str()))
            .and_then(|()| insert.raw_bind_parameter(3, e.system.as_str()))
            .and_then(|()| insert.raw_bind_parameter(4, e.time.timestamp_millis()))
            .and_then(|()| insert.raw_bind_parameter(5, e.actor.as_str()))
            .and_then(|()| insert.raw_bind_parameter(6, e.action.as_str()))
            .and_then(|()| insert.raw_bind_parameter(7, e.subject.as_ref().map(|s| s.as_str())))
            .and_then(|()| insert.raw_bind_parameter(8, e.case.as_ref().map(|c| c.as_str())))
            .and_then(|()| insert.raw_bind_parameter(9, new.unresolved.bits()))
            .and_then(|()| insert.raw_bind_parameter(10, run.0))
            .and_then(|()| insert.raw_bind_parameter(11, record))
            .map_err(sql(op))?;
        let changed = insert.raw_execute().map_err(sql(op))?;
        if changed == 1 && tx.last_insert_rowid() != *next_seq as i64 {
            return Err(StoreError::Corrupt {
                what: format!("event {} of system {}", e.id, e.system),
                reason: format!(
                    "stored as #{} where #{next_seq} was expected: the events table changed behind this store's back",
                    tx.last_insert_rowid()
                ),
            });
        }
        if changed == 1 {
            if let Some(p) = pending.as_deref_mut() {
                let posting = Posting {
                    seq: *next_seq as i64,
                    time_ms: e.time.timestamp_millis(),
                };
                p.actors.add(e.actor.as_str(), posting);
                if let Some(subject) = &e.subject {
                    p.subjects.add(subject.as_str(), posting);
                }
                p.upto = *next_seq + 1;
            }
            outcome.events.push(EventOutcome::Stored(*next_seq));
            *next_seq += 1;
            continue;
        }
        let (seq, stored): (i64, String) = existing
            .query_row(params![e.id.as_str(), e.system], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(sql(op))?;
        if stored == record {
            outcome.events.push(EventOutcome::Duplicate);
        } else {
            outcome.events.push(EventOutcome::Conflict);
            conflicts.push((
                format!("{}:{}", new.file, new.line),
                format!(
                    "event id {} of system {} is already stored (#{seq}) with different content; stored events are never changed",
                    e.id, e.system
                ),
            ));
        }
    }
    Ok(conflicts)
}

fn write_context(
    tx: &Transaction<'_>,
    run: RunId,
    batch: &Batch,
    at: &str,
    outcome: &mut BatchOutcome,
) -> Result<(), StoreError> {
    let op = "storing context";
    let mut current = tx
        .prepare_cached("SELECT record, run FROM context WHERE kind = ?1 AND key = ?2")
        .map_err(sql(op))?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO context (kind, key, record, run, first_seen, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (kind, key) DO NOTHING",
        )
        .map_err(sql(op))?;
    let mut history = tx
        .prepare_cached(
            "INSERT INTO context_history (kind, key, record, run, replaced_at, replaced_by_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(sql(op))?;
    let mut update = tx
        .prepare_cached(
            "UPDATE context SET record = ?3, run = ?4, updated_at = ?5 WHERE kind = ?1 AND key = ?2",
        )
        .map_err(sql(op))?;
    for new in &batch.context {
        let kind = new.kind.as_str();
        let record = canonical_text(&new.canonical, &new.key)?;
        // Most records are new: try the insert first and look at the stored version only if the
        // key is taken.
        if insert
            .execute(params![kind, new.key, record, run.0, at])
            .map_err(sql(op))?
            == 1
        {
            outcome.context_inserted += 1;
            continue;
        }
        let old: Option<(String, i64)> = current
            .query_row(params![kind, new.key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(sql(op))?;
        match old {
            // The insert just found the key taken, in this same transaction.
            None => {
                return Err(StoreError::Corrupt {
                    what: format!("{kind} {}", new.key),
                    reason: "the key is taken but its record cannot be read".to_owned(),
                });
            }
            Some((old, _)) if old == record => outcome.context_unchanged += 1,
            Some((old, old_run)) => {
                history
                    .execute(params![kind, new.key, old, old_run, at, run.0])
                    .map_err(sql(op))?;
                update
                    .execute(params![kind, new.key, record, run.0, at])
                    .map_err(sql(op))?;
                outcome.context_updated += 1;
            }
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn begin_run(&mut self, description: &str) -> Result<RunId, StoreError> {
        self.conn
            .execute(
                "INSERT INTO runs (description, started_at) VALUES (?1, ?2)",
                params![description, now()],
            )
            .map_err(sql("starting a run"))?;
        Ok(RunId(self.conn.last_insert_rowid()))
    }

    fn finish_run(&mut self, run: RunId, totals: &RunTotals) -> Result<(), StoreError> {
        let totals =
            serde_json::to_string(totals).map_err(|e| StoreError::Callback(e.to_string()))?;
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?2, totals = ?3 WHERE id = ?1",
                params![run.0, now(), totals],
            )
            .map_err(sql("finishing a run"))?;
        self.seal()?;
        Ok(())
    }

    fn write_batch(&mut self, run: RunId, batch: &Batch) -> Result<BatchOutcome, StoreError> {
        // Sealing first keeps a failed seal from looking like a failed (but committed) batch.
        if self.next_seq.saturating_sub(self.sealed_upto) >= self.seal_every {
            self.seal()?;
        }
        let at = now();
        let mut outcome = BatchOutcome::default();
        let mut next_seq = self.next_seq;
        // Taken out while the batch is written and put back only once it committed: a batch that
        // fails leaves no half-grouped postings behind (the next seal reads the tail instead).
        let mut pending = self
            .pending
            .take()
            .filter(|p| p.from == self.sealed_upto && p.upto == self.next_seq);
        let tx = self.conn.transaction().map_err(sql("starting a batch"))?;
        let conflicts = write_events(
            &tx,
            run,
            batch,
            &mut next_seq,
            &mut outcome,
            pending.as_mut(),
        )?;
        write_context(&tx, run, batch, &at, &mut outcome)?;
        let mut resolved_keys = Vec::new();
        {
            let op = "writing the quarantine";
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO quarantine (run, kind, file, line, field, reason, raw, key, csv_header, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(sql(op))?;
            for q in &batch.quarantine {
                insert
                    .execute(params![
                        run.0,
                        q.kind.as_str(),
                        q.file,
                        q.line as i64,
                        q.field,
                        q.reason,
                        q.raw,
                        q.key,
                        q.csv_header,
                        at
                    ])
                    .map_err(sql(op))?;
                outcome.quarantined += 1;
            }
            for ((place, reason), new) in conflicts.iter().zip(
                batch
                    .events
                    .iter()
                    .zip(&outcome.events)
                    .filter(|(_, o)| **o == EventOutcome::Conflict)
                    .map(|(e, _)| e),
            ) {
                let _ = place;
                insert
                    .execute(params![
                        run.0,
                        RecordKind::Events.as_str(),
                        &*new.file,
                        new.line as i64,
                        "id",
                        reason,
                        new.canonical,
                        Option::<String>::None,
                        Option::<String>::None,
                        at
                    ])
                    .map_err(sql(op))?;
                outcome.quarantined += 1;
            }
            if !self.open_keys.is_empty() {
                let mut resolve = tx
                    .prepare_cached(
                        "UPDATE quarantine SET resolved_at = ?3, resolution = ?4
                         WHERE resolved_at IS NULL AND kind = ?1 AND key = ?2",
                    )
                    .map_err(sql(op))?;
                let resolution = format!("a valid version was stored in run {}", run.0);
                let stored_keys = batch
                    .events
                    .iter()
                    .zip(&outcome.events)
                    .filter(|(_, o)| !matches!(o, EventOutcome::Conflict))
                    .map(|(e, _)| (RecordKind::Events, e.event.id.as_str()))
                    .chain(batch.context.iter().map(|c| (c.kind, c.key.as_str())));
                for (kind, key) in stored_keys {
                    let k = (kind.as_str().to_owned(), key.to_owned());
                    if self.open_keys.contains(&k) {
                        outcome.quarantine_resolved += resolve
                            .execute(params![k.0, k.1, at, resolution])
                            .map_err(sql(op))?
                            as u64;
                        resolved_keys.push(k);
                    }
                }
            }
        }
        tx.commit().map_err(sql("committing a batch"))?;
        self.next_seq = next_seq;
        self.pending = pending;
        for k in resolved_keys {
            self.open_keys.remove(&k);
        }
        for q in &batch.quarantine {
            if let Some(key) = &q.key {
                self.open_keys
                    .insert((q.kind.as_str().to_owned(), key.clone()));
            }
        }
        Ok(outcome)
    }

    fn known_ids(&self) -> Result<KnownIds, StoreError> {
        let op = "reading known ids";
        let mut ids = KnownIds::default();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT kind, key FROM context WHERE kind IN ('employees', 'subjects', 'vehicles', 'cases')",
            )
            .map_err(sql(op))?;
        let mut rows = stmt.query([]).map_err(sql(op))?;
        while let Some(row) = rows.next().map_err(sql(op))? {
            let kind: String = row.get(0).map_err(sql(op))?;
            let key: String = row.get(1).map_err(sql(op))?;
            match kind.as_str() {
                "employees" => ids.employees.insert(key),
                "cases" => ids.cases.insert(key),
                _ => ids.subjects.insert(key),
            };
        }
        Ok(ids)
    }

    fn refresh_unresolved(&mut self) -> Result<u64, StoreError> {
        let op = "re-checking unknown references";
        self.conn
            .execute(
                "UPDATE events SET unresolved =
                   (CASE WHEN EXISTS (SELECT 1 FROM context c WHERE c.kind = 'employees' AND c.key = events.actor) THEN 0 ELSE 1 END)
                 | (CASE WHEN events.subject IS NULL
                           OR EXISTS (SELECT 1 FROM context c WHERE c.kind IN ('subjects', 'vehicles') AND c.key = events.subject)
                         THEN 0 ELSE 2 END)
                 | (CASE WHEN events.case_id IS NULL
                           OR EXISTS (SELECT 1 FROM context c WHERE c.kind = 'cases' AND c.key = events.case_id)
                         THEN 0 ELSE 4 END)
                 WHERE unresolved != 0",
                [],
            )
            .map_err(sql(op))?;
        let left: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE unresolved != 0",
                [],
                |r| r.get(0),
            )
            .map_err(sql(op))?;
        Ok(left as u64)
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        Ok(self.next_seq)
    }

    fn for_each_event_by_seq(
        &self,
        from_seq: u64,
        until_seq: u64,
        f: &mut dyn FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.query_events(
            "SELECT seq, record, unresolved FROM events WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
            &[&(from_seq as i64), &(until_seq.min(i64::MAX as u64) as i64)],
            f,
        )
    }

    fn for_each_event_by_time(
        &self,
        range: &TimeRange,
        f: &mut dyn FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // Each side of the UNION ALL delivers (time_ms, seq) order (the sealed side from its key, the
        // tail by sorting at most a tail's worth of rows) and SQLite merges them.
        self.query_events(
            &format!(
                "SELECT e.seq, e.record, e.unresolved, t.time_ms
                 FROM events_by_time t CROSS JOIN events e ON e.seq = t.seq
                 WHERE t.time_ms >= ?1 AND t.time_ms < ?2
                 UNION ALL
                 SELECT seq, record, unresolved, time_ms FROM events
                 WHERE seq >= {SEALED_UPTO} AND time_ms >= ?1 AND time_ms < ?2
                 ORDER BY 4, 1"
            ),
            &[
                &range.from_ms.unwrap_or(i64::MIN),
                &range.until_ms.unwrap_or(i64::MAX),
            ],
            f,
        )
    }

    fn check_projections(&self) -> Result<Vec<ProjectionMismatch>, StoreError> {
        let op = "checking events";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, id, system, time_ms, actor, action, subject, case_id, record FROM events ORDER BY seq",
            )
            .map_err(sql(op))?;
        let mut rows = stmt.query([]).map_err(sql(op))?;
        let mut out = Vec::new();
        let n = self.next_seq as i64;
        while let Some(row) = rows.next().map_err(sql(op))? {
            let seq: i64 = row.get(0).map_err(sql(op))?;
            let id: String = row.get(1).map_err(sql(op))?;
            let mut mismatch = |field: &str| {
                out.push(ProjectionMismatch {
                    seq,
                    id: id.clone(),
                    field: field.to_owned(),
                })
            };
            if !(0..n).contains(&seq) {
                mismatch("seq");
            }
            let record: String = row.get(8).map_err(sql(op))?;
            let Ok(event) = serde_json::from_str::<AccessEvent>(&record) else {
                mismatch("record");
                continue;
            };
            let system: String = row.get(2).map_err(sql(op))?;
            let time_ms: i64 = row.get(3).map_err(sql(op))?;
            let actor: String = row.get(4).map_err(sql(op))?;
            let action: String = row.get(5).map_err(sql(op))?;
            let subject: Option<String> = row.get(6).map_err(sql(op))?;
            let case_id: Option<String> = row.get(7).map_err(sql(op))?;
            let checks = [
                ("id", event.id.as_str() == id),
                ("system", event.system == system),
                ("time", event.time.timestamp_millis() == time_ms),
                ("actor", event.actor.as_str() == actor),
                ("action", event.action.as_str() == action),
                (
                    "subject",
                    event.subject.as_ref().map(|s| s.as_str()) == subject.as_deref(),
                ),
                (
                    "case",
                    event.case.as_ref().map(|c| c.as_str()) == case_id.as_deref(),
                ),
            ];
            for (field, ok) in checks {
                if !ok {
                    mismatch(field);
                }
            }
        }
        Ok(out)
    }

    fn events_by_time_page(
        &self,
        range: &TimeRange,
        after: Option<(i64, u64)>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let (after_ms, after_seq) = after.map_or((i64::MIN, -1), |(t, s)| (t, s as i64));
        // The lower bound starts the index range at the page position, not at the range start.
        let low = range.from_ms.unwrap_or(i64::MIN).max(after_ms);
        self.collect_events(
            &format!(
                "SELECT e.seq, e.record, e.unresolved, t.time_ms
                 FROM events_by_time t CROSS JOIN events e ON e.seq = t.seq
                 WHERE t.time_ms >= ?1 AND t.time_ms < ?2 AND (t.time_ms > ?3 OR t.seq > ?4)
                 UNION ALL
                 SELECT seq, record, unresolved, time_ms FROM events
                 WHERE seq >= {SEALED_UPTO} AND time_ms >= ?1 AND time_ms < ?2
                   AND (time_ms > ?3 OR seq > ?4)
                 ORDER BY 4, 1 LIMIT ?5"
            ),
            &[
                &low,
                &range.until_ms.unwrap_or(i64::MAX),
                &after_ms,
                &after_seq,
                &(limit as i64),
            ],
        )
    }

    fn find_events(&self, id: &str, system: Option<&str>) -> Result<Vec<StoredEvent>, StoreError> {
        match system {
            Some(system) => self.collect_events(
                "SELECT seq, record, unresolved FROM events WHERE id = ?1 AND system = ?2",
                &[&id, &system],
            ),
            None => self.collect_events(
                "SELECT seq, record, unresolved FROM events WHERE id = ?1 ORDER BY seq",
                &[&id],
            ),
        }
    }

    fn timeline(&self, actor: &str, range: &TimeRange) -> Result<Vec<StoredEvent>, StoreError> {
        let snapshot = self.snapshot()?;
        keyed_events(
            &snapshot,
            PostingKind::Actor,
            &[actor.to_owned()],
            (
                range.from_ms.unwrap_or(i64::MIN),
                range.until_ms.unwrap_or(i64::MAX),
            ),
        )
    }

    fn accessed(&self, subject: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let op = "reading events";
        let snapshot = self.snapshot()?;
        let mut keys = vec![subject.to_owned()];
        {
            let mut stmt = snapshot
                .prepare_cached(
                    "SELECT key FROM context
                     WHERE kind = 'vehicles' AND json_extract(record, '$.holder') = ?1",
                )
                .map_err(sql(op))?;
            let rows = stmt
                .query_map([subject], |r| r.get::<_, String>(0))
                .map_err(sql(op))?;
            for key in rows {
                keys.push(key.map_err(sql(op))?);
            }
        }
        keyed_events(&snapshot, PostingKind::Subject, &keys, (i64::MIN, i64::MAX))
    }

    fn load_context(&self) -> Result<ContextRecords, StoreError> {
        let op = "loading context";
        let mut snap = ContextRecords::default();
        let mut stmt = self
            .conn
            .prepare("SELECT kind, key, record FROM context ORDER BY kind, key")
            .map_err(sql(op))?;
        let mut rows = stmt.query([]).map_err(sql(op))?;
        while let Some(row) = rows.next().map_err(sql(op))? {
            let kind: String = row.get(0).map_err(sql(op))?;
            let key: String = row.get(1).map_err(sql(op))?;
            let record: String = row.get(2).map_err(sql(op))?;
            let corrupt = |e: serde_json::Error| StoreError::Corrupt {
                what: format!("{kind} {key}"),
                reason: e.to_string(),
            };
            match kind.as_str() {
                "units" => snap
                    .units
                    .push(serde_json::from_str(&record).map_err(corrupt)?),
                "employees" => snap
                    .employees
                    .push(serde_json::from_str(&record).map_err(corrupt)?),
                "subjects" => snap
                    .subjects
                    .push(serde_json::from_str(&record).map_err(corrupt)?),
                "vehicles" => snap
                    .vehicles
                    .push(serde_json::from_str(&record).map_err(corrupt)?),
                "relations" => snap
                    .relations
                    .push(serde_json::from_str(&record).map_err(corrupt)?),
                "cases" => snap
                    .cases
                    .push(serde_json::from_str(&record).map_err(corrupt)?),
                "shifts" => snap
                    .shifts
                    .push(serde_json::from_str(&record).map_err(corrupt)?),
                _ => {
                    return Err(StoreError::Corrupt {
                        what: format!("context {key}"),
                        reason: format!("unknown kind {kind}"),
                    });
                }
            }
        }
        Ok(snap)
    }

    fn context_record(&self, kind: RecordKind, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .query_row(
                "SELECT record FROM context WHERE kind = ?1 AND key = ?2",
                params![kind.as_str(), key],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|r| r.map(String::into_bytes))
            .map_err(sql("reading context"))
    }

    fn quarantine_list(
        &self,
        filter: &QuarantineFilter,
    ) -> Result<Vec<QuarantineEntry>, StoreError> {
        let op = "reading the quarantine";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, run, kind, file, line, field, reason, raw, key, csv_header, created_at, resolved_at, resolution
                 FROM quarantine
                 WHERE (?1 IS NULL OR kind = ?1) AND (?2 OR resolved_at IS NULL)
                 ORDER BY id",
            )
            .map_err(sql(op))?;
        let rows = stmt
            .query_map(
                params![filter.kind.map(|k| k.as_str()), filter.include_resolved],
                |r| {
                    let kind: String = r.get(2)?;
                    Ok(QuarantineEntry {
                        id: r.get(0)?,
                        run: r.get(1)?,
                        kind: RecordKind::parse(&kind).unwrap_or(RecordKind::Events),
                        file: r.get(3)?,
                        line: r.get::<_, i64>(4)? as u64,
                        field: r.get(5)?,
                        reason: r.get(6)?,
                        raw: r.get(7)?,
                        key: r.get(8)?,
                        csv_header: r.get(9)?,
                        created_at: r.get(10)?,
                        resolved_at: r.get(11)?,
                        resolution: r.get(12)?,
                    })
                },
            )
            .map_err(sql(op))?;
        let mut out = Vec::new();
        for row in rows {
            let entry = row.map_err(sql(op))?;
            if filter.ids.is_empty() || filter.ids.contains(&entry.id) {
                out.push(entry);
            }
        }
        Ok(out)
    }

    fn quarantine_resolve(&mut self, id: i64, resolution: &str) -> Result<bool, StoreError> {
        let op = "resolving a quarantine entry";
        let key: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT kind, key FROM quarantine WHERE id = ?1 AND resolved_at IS NULL",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql(op))?;
        let Some((kind, key)) = key else {
            return Ok(false);
        };
        self.conn
            .execute(
                "UPDATE quarantine SET resolved_at = ?2, resolution = ?3 WHERE id = ?1",
                params![id, now(), resolution],
            )
            .map_err(sql(op))?;
        if let Some(key) = key {
            let still_open: i64 = self
                .conn
                .query_row(
                    "SELECT COUNT(*) FROM quarantine WHERE resolved_at IS NULL AND kind = ?1 AND key = ?2",
                    params![kind, key],
                    |r| r.get(0),
                )
                .map_err(sql(op))?;
            if still_open == 0 {
                self.open_keys.remove(&(kind, key));
            }
        }
        Ok(true)
    }

    fn status(&self) -> Result<StoreStatus, StoreError> {
        let op = "reading the status";
        let one = |q: &str| -> Result<i64, StoreError> {
            self.conn.query_row(q, [], |r| r.get(0)).map_err(sql(op))
        };
        let mut status = StoreStatus {
            events: self.next_seq,
            events_unresolved: one("SELECT COUNT(*) FROM events WHERE unresolved != 0")? as u64,
            quarantine_open: one("SELECT COUNT(*) FROM quarantine WHERE resolved_at IS NULL")?
                as u64,
            runs: one("SELECT COUNT(*) FROM runs")? as u64,
            ..StoreStatus::default()
        };
        let bound = |q: &str| -> Result<Option<String>, StoreError> {
            let ms: Option<i64> = self.conn.query_row(q, [], |r| r.get(0)).map_err(sql(op))?;
            Ok(ms
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)))
        };
        status.first_event = bound(&format!(
            "SELECT MIN(m) FROM (SELECT MIN(time_ms) AS m FROM events_by_time
             UNION ALL SELECT MIN(time_ms) FROM events WHERE seq >= {SEALED_UPTO})"
        ))?;
        status.last_event = bound(&format!(
            "SELECT MAX(m) FROM (SELECT MAX(time_ms) AS m FROM events_by_time
             UNION ALL SELECT MAX(time_ms) FROM events WHERE seq >= {SEALED_UPTO})"
        ))?;
        let mut stmt = self
            .conn
            .prepare("SELECT kind, COUNT(*) FROM context GROUP BY kind ORDER BY kind")
            .map_err(sql(op))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(sql(op))?;
        for row in rows {
            status.context.push(row.map_err(sql(op))?);
        }
        Ok(status)
    }

    fn begin_scoring(&mut self, range: &TimeRange) -> Result<(), StoreError> {
        let op = "starting a detection run";
        let from = range.from_ms.unwrap_or(i64::MIN);
        let until = range.until_ms.unwrap_or(i64::MAX);
        let tx = self.conn.transaction().map_err(sql(op))?;
        if range.from_ms.is_none() && range.until_ms.is_none() {
            tx.execute("DELETE FROM scores", []).map_err(sql(op))?;
        } else {
            tx.execute(
                "DELETE FROM scores WHERE seq IN
                 (SELECT seq FROM events WHERE time_ms >= ?1 AND time_ms < ?2)",
                params![from, until],
            )
            .map_err(sql(op))?;
        }
        tx.execute(
            "UPDATE alerts SET current = 0 WHERE until_ms >= ?1 AND from_ms < ?2",
            params![from, until],
        )
        .map_err(sql(op))?;
        tx.commit().map_err(sql(op))
    }

    fn write_scores(&mut self, rows: &[ScoreRow]) -> Result<(), StoreError> {
        let op = "storing scores";
        let tx = self.conn.transaction().map_err(sql(op))?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO scores (seq, score, line) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql(op))?;
            for row in rows {
                insert
                    .execute(params![row.seq as i64, row.score, row.line])
                    .map_err(sql(op))?;
            }
        }
        tx.commit().map_err(sql(op))
    }

    fn write_alerts(&mut self, alerts: &[AlertRow]) -> Result<(), StoreError> {
        let op = "storing alerts";
        let at = now();
        let tx = self.conn.transaction().map_err(sql(op))?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO alerts (id, actor, score, from_ms, until_ms, status, line, detected_at, current)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)
                     ON CONFLICT (id) DO UPDATE SET actor = excluded.actor, score = excluded.score,
                        from_ms = excluded.from_ms, until_ms = excluded.until_ms, line = excluded.line,
                        current = 1,
                        status = CASE WHEN alerts.status IN ('open', 'ranked')
                                      THEN excluded.status ELSE alerts.status END",
                )
                .map_err(sql(op))?;
            for a in alerts {
                upsert
                    .execute(params![
                        a.id, a.actor, a.score, a.from_ms, a.until_ms, a.status, a.line, at
                    ])
                    .map_err(sql(op))?;
            }
        }
        tx.commit().map_err(sql(op))
    }

    fn scores_of(&self, seqs: &[u64]) -> Result<Vec<(u64, String)>, StoreError> {
        let op = "reading scores";
        let mut stmt = self
            .conn
            .prepare_cached("SELECT line FROM scores WHERE seq = ?1")
            .map_err(sql(op))?;
        let mut out = Vec::new();
        for &seq in seqs {
            let line: Option<String> = stmt
                .query_row([seq as i64], |r| r.get(0))
                .optional()
                .map_err(sql(op))?;
            if let Some(line) = line {
                out.push((seq, line));
            }
        }
        Ok(out)
    }

    fn decided_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        let op = "reading decided alerts";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, actor, score, from_ms, until_ms, status, line FROM alerts
                 WHERE status IN ('dismissed', 'escalated') ORDER BY id",
            )
            .map_err(sql(op))?;
        let rows = stmt.query_map([], alert_row).map_err(sql(op))?;
        rows.collect::<Result<_, _>>().map_err(sql(op))
    }

    fn alerts(&self, status: Option<&str>) -> Result<Vec<AlertRow>, StoreError> {
        let op = "reading alerts";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, actor, score, from_ms, until_ms, status, line FROM alerts
                 WHERE current = 1 AND ((?1 IS NULL AND status <> 'ranked') OR status = ?1)
                 ORDER BY score DESC, id",
            )
            .map_err(sql(op))?;
        let rows = stmt.query_map([status], alert_row).map_err(sql(op))?;
        rows.collect::<Result<_, _>>().map_err(sql(op))
    }

    fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql("reading a setting"))
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map_err(sql("writing a setting"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::NewEvent;

    fn event(n: u64, canonical_ok: bool) -> NewEvent {
        let line = format!(
            r#"{{"action":"view","actor":"E{}","id":"x-{n}","subject":"P{}","system":"X","time":"2025-03-14T09:{:02}:00+01:00"}}"#,
            n % 3,
            n % 5,
            n % 60
        );
        let event: AccessEvent = serde_json::from_str(&line).unwrap();
        let mut canonical = line.into_bytes();
        if !canonical_ok {
            canonical.push(0xff);
        }
        NewEvent {
            event,
            canonical,
            unresolved: Unresolved::default(),
            file: Arc::from("events.ndjson"),
            line: n + 1,
        }
    }

    fn batch(ns: std::ops::Range<u64>) -> Batch {
        Batch {
            events: ns.map(|n| event(n, true)).collect(),
            ..Batch::default()
        }
    }

    /// Every row of the access paths, in a fixed order.
    fn access_paths(store: &SqliteStore) -> Vec<(i64, String, i64, Vec<u8>)> {
        let mut stmt = store
            .conn
            .prepare("SELECT kind, key, first_seq, entries FROM postings ORDER BY 1, 2, 3")
            .unwrap();
        let mut rows: Vec<(i64, String, i64, Vec<u8>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut stmt = store
            .conn
            .prepare("SELECT time_ms, seq FROM events_by_time ORDER BY 1, 2")
            .unwrap();
        rows.extend(
            stmt.query_map([], |r| {
                Ok((
                    2,
                    String::new(),
                    r.get(0)?,
                    r.get::<_, i64>(1)?.to_le_bytes().to_vec(),
                ))
            })
            .unwrap()
            .map(Result::unwrap),
        );
        rows
    }

    /// The postings grouped while writing equal those read back from the table, also when a batch
    /// failed halfway (its events rolled back must not show up in the access paths).
    #[test]
    fn grouped_postings_equal_read_back_ones_after_a_failed_batch() {
        let options = SqliteOptions { seal_every: 1000 };
        let grouped_dir = tempfile::tempdir().unwrap();
        let mut grouped = SqliteStore::open_with(grouped_dir.path(), options).unwrap();
        let run = grouped.begin_run("test").unwrap();
        grouped.write_batch(run, &batch(0..40)).unwrap();
        let mut failing = batch(40..60);
        failing.events.push(event(60, false));
        assert!(grouped.write_batch(run, &failing).is_err());
        assert_eq!(grouped.event_count().unwrap(), 40);
        grouped.write_batch(run, &batch(100..130)).unwrap();
        assert_eq!(grouped.seal().unwrap(), 70);
        // Grouping goes on from the seal.
        grouped.write_batch(run, &batch(200..230)).unwrap();
        assert_eq!(grouped.seal().unwrap(), 30);

        let read_dir = tempfile::tempdir().unwrap();
        let mut read = SqliteStore::open_with(read_dir.path(), options).unwrap();
        let run = read.begin_run("test").unwrap();
        read.write_batch(run, &batch(0..40)).unwrap();
        read.write_batch(run, &batch(100..130)).unwrap();
        drop(read);
        // Reopened with an unsealed tail: the seal must read it back.
        let mut read = SqliteStore::open_with(read_dir.path(), options).unwrap();
        assert!(read.pending.is_none());
        assert_eq!(read.seal().unwrap(), 70);
        read.write_batch(run, &batch(200..230)).unwrap();
        assert_eq!(read.seal().unwrap(), 30);

        let paths = access_paths(&grouped);
        assert!(paths.len() > 20, "{paths:?}");
        assert_eq!(paths, access_paths(&read));
    }

    #[test]
    fn sequence_numbers_are_dense_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let run = store.begin_run("test").unwrap();
        let first = store.write_batch(run, &batch(0..3)).unwrap();
        // The same events again and one new one: only the new one gets a number.
        let again = store.write_batch(run, &batch(2..4)).unwrap();
        assert_eq!(first.events, [0, 1, 2].map(EventOutcome::Stored).to_vec());
        assert_eq!(
            again.events,
            vec![EventOutcome::Duplicate, EventOutcome::Stored(3)]
        );
        let seqs: Vec<i64> = store
            .conn
            .prepare("SELECT seq FROM events ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(seqs, [0, 1, 2, 3]);
    }
}
