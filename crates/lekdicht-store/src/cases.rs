//! Storage for the integrity-case registry: cases, their lifecycle history and their evidence.
//!
//! A case is stored as one row holding the whole case as JSON (`record`, in the shape of the domain
//! crate's `Case`) plus the few columns that lists filter and sort on (organisation, status, signal
//! date, closure date, retention date, the alert it came from). Every status change is a row in
//! `case_history`, every linked alert or event a row in `case_evidence`. Each write method commits
//! in one transaction. This module speaks rows and JSON text only: it does not validate cases,
//! check lifecycle transitions or compute retention dates (the domain crate `lekdicht-cases` does),
//! with one exception: [`CaseStore::open_case_from_alert`] writes the minimal case record of a case
//! opened from an alert, documented on [`NewCaseFromAlert`].

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use rusqlite::{
    Connection, OptionalExtension, Savepoint, Transaction, TransactionBehavior, params,
};

use crate::{SqliteStore, StoreError};

/// Tables of the case registry (migration 3).
pub(crate) const SCHEMA: &str = r#"
-- One row per case: the full case as JSON plus the columns lists filter and sort on.
CREATE TABLE cases (
    id              TEXT PRIMARY KEY,
    organisation    TEXT NOT NULL,
    status          TEXT NOT NULL,
    signal_date     TEXT NOT NULL,
    closure_date    TEXT,
    retention_until TEXT,
    source_alert    TEXT,
    record          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX cases_by_org ON cases (organisation, status, signal_date);
CREATE INDEX cases_by_retention ON cases (retention_until) WHERE retention_until IS NOT NULL;
CREATE INDEX cases_by_alert ON cases (source_alert) WHERE source_alert IS NOT NULL;

-- The last number handed out per year for generated case ids (CASE-<year>-<number>).
CREATE TABLE case_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- Every status change of a case: who moved it, when, from which status (NULL when registered).
CREATE TABLE case_history (
    id          INTEGER PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    at          TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX case_history_by_case ON case_history (case_id, id);

-- Alerts and events linked to a case as evidence. kind is 'alert' or 'event'; reference is the
-- alert id or the event's sequence number (its ledger leaf index) in decimal, also kept in seq.
CREATE TABLE case_evidence (
    id        INTEGER PRIMARY KEY,
    case_id   TEXT NOT NULL REFERENCES cases (id),
    kind      TEXT NOT NULL,
    reference TEXT NOT NULL,
    seq       INTEGER,
    added_by  TEXT NOT NULL,
    added_at  TEXT NOT NULL,
    note      TEXT NOT NULL,
    UNIQUE (case_id, kind, reference)
);
CREATE INDEX case_evidence_by_seq ON case_evidence (seq) WHERE seq IS NOT NULL;
"#;

/// The assignments that copy a case's report facts out of its JSON record (`NEW.record`).
macro_rules! report_facts_of_new_record {
    () => {
        "UPDATE cases SET
            r_source = json_extract(NEW.record, '$.signal_source'),
            r_violation = json_extract(NEW.record, '$.violation'),
            r_recipient = json_extract(NEW.record, '$.recipient'),
            r_outcome = json_extract(NEW.record, '$.outcome.kind'),
            r_unit = json_extract(NEW.record, '$.suspect.unit'),
            r_function = json_extract(NEW.record, '$.suspect.function'),
            r_systems = json_extract(NEW.record, '$.systems')
        WHERE id = NEW.id;"
    };
}

/// The report projection (migration 4): the facts that reports count, copied out of each case's
/// JSON record by triggers whenever a record is written, so that a report over many cases reads a
/// few short columns instead of parsing every whole record. Existing rows are filled in by
/// rewriting their records once.
pub(crate) const REPORT_SCHEMA: &str = concat!(
    "ALTER TABLE cases ADD COLUMN r_source TEXT;
ALTER TABLE cases ADD COLUMN r_violation TEXT;
ALTER TABLE cases ADD COLUMN r_recipient TEXT;
ALTER TABLE cases ADD COLUMN r_outcome TEXT;
ALTER TABLE cases ADD COLUMN r_unit TEXT;
ALTER TABLE cases ADD COLUMN r_function TEXT;
ALTER TABLE cases ADD COLUMN r_systems TEXT;
CREATE TRIGGER cases_report_on_insert AFTER INSERT ON cases BEGIN ",
    report_facts_of_new_record!(),
    " END;
CREATE TRIGGER cases_report_on_update AFTER UPDATE OF record ON cases BEGIN ",
    report_facts_of_new_record!(),
    " END;
UPDATE cases SET record = record;"
);

/// The facts of one case that reports count (see [`CaseStore::case_facts`]), as stored codes:
/// checking them against the vocabularies is the domain crate's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFactsRow {
    pub id: String,
    pub organisation: String,
    pub status: String,
    /// `YYYY-MM-DD`.
    pub signal_date: String,
    pub signal_source: Option<String>,
    pub violation: Option<String>,
    pub recipient: Option<String>,
    pub outcome: Option<String>,
    pub unit: Option<String>,
    pub function: Option<String>,
    /// The `systems` array as JSON text, when the record has one.
    pub systems: Option<String>,
}

/// A case opened from an escalated alert.
///
/// The stored record is the minimal case in the domain crate's JSON shape:
/// `{"id", "organisation", "summary", "signal_source": "proactive_log_analysis", "signal_date"
/// (date of `at`), "status": "registered", "suspect": {"employee"}, "opened_by", "opened_at",
/// "source_alert"}`; the alert and each event become evidence rows, and one history row records the
/// registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseFromAlert {
    pub organisation: String,
    pub alert_id: String,
    pub employee: String,
    pub opened_by: String,
    pub summary: String,
    /// Sequence numbers (ledger leaf indices) of the alert's events.
    pub event_seqs: Vec<u64>,
    pub at: DateTime<Utc>,
}

/// A stored case: its JSON record and the columns projected from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub id: String,
    pub organisation: String,
    pub status: String,
    /// `YYYY-MM-DD`.
    pub signal_date: String,
    /// `YYYY-MM-DD`, when closed.
    pub closure_date: Option<String>,
    /// `YYYY-MM-DD`, when the retention policy gives one.
    pub retention_until: Option<String>,
    pub source_alert: Option<String>,
    /// The whole case as JSON.
    pub record: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A case to register (see [`CaseStore::insert_cases`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseRow {
    /// `None`: the store assigns `CASE-<year of signal_date>-<number>` and writes it into the
    /// record's `id` field.
    pub id: Option<String>,
    pub organisation: String,
    pub status: String,
    pub signal_date: String,
    pub closure_date: Option<String>,
    pub retention_until: Option<String>,
    pub source_alert: Option<String>,
    /// The whole case as JSON (an object).
    pub record: String,
    /// Who registered it (the first history row).
    pub created_by: String,
    pub at: DateTime<Utc>,
    /// Note of the first history row (e.g. "imported from cases-2016.csv line 12").
    pub note: String,
    pub evidence: Vec<NewEvidence>,
}

/// What kind of thing a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvidenceKind {
    Alert,
    Event,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Alert => "alert",
            EvidenceKind::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "alert" => Some(EvidenceKind::Alert),
            "event" => Some(EvidenceKind::Event),
            _ => None,
        }
    }
}

/// Evidence to link to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewEvidence {
    Alert { alert_id: String, note: String },
    Event { seq: u64, note: String },
}

impl NewEvidence {
    fn parts(&self) -> (EvidenceKind, String, Option<i64>, &str) {
        match self {
            NewEvidence::Alert { alert_id, note } => {
                (EvidenceKind::Alert, alert_id.clone(), None, note)
            }
            NewEvidence::Event { seq, note } => (
                EvidenceKind::Event,
                seq.to_string(),
                Some(*seq as i64),
                note,
            ),
        }
    }
}

/// A stored piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    pub case_id: String,
    pub kind: EvidenceKind,
    /// The alert id, or the event's sequence number in decimal.
    pub reference: String,
    /// The event's sequence number (ledger leaf index), for event evidence.
    pub event_seq: Option<u64>,
    pub added_by: String,
    /// RFC 3339.
    pub added_at: String,
    pub note: String,
}

/// One status change of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseHistoryRow {
    pub case_id: String,
    /// `None` for the registration.
    pub from_status: Option<String>,
    pub to_status: String,
    pub by: String,
    /// RFC 3339.
    pub at: String,
    pub note: String,
}

/// A status change to record with an update (see [`CaseStore::update_case`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChangeRow {
    pub from_status: String,
    pub to_status: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// Which cases [`CaseStore::cases`] lists. Empty: all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub organisation: Option<String>,
    pub status: Option<String>,
}

/// What [`CaseStore::purge_cases`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Ids of the removed cases (those of the request that existed), in request order.
    pub cases: Vec<String>,
    pub history_rows: u64,
    pub evidence_rows: u64,
}

/// The case registry's storage.
pub trait CaseStore {
    /// Opens a case from an alert (status `registered`), links the alert and its events as
    /// evidence and records the registration, in one transaction. Returns the new case id, or the
    /// id of the case already opened from this alert in this organisation (so that repeating the
    /// request does not open a second case).
    fn open_case_from_alert(&mut self, new: &NewCaseFromAlert) -> Result<String, StoreError>;

    /// Registers cases, with their first history row and their evidence, all in one transaction.
    /// Returns the ids in input order. A given id that already exists fails the whole call (see
    /// [`CaseStore::case_ids`] to check first).
    fn insert_cases(&mut self, cases: &[NewCaseRow]) -> Result<Vec<String>, StoreError>;

    /// Replaces a case's record and columns (matched by `row.id`; `created_at` and `updated_at`
    /// of `row` are ignored) and records `change`, in one transaction. Returns false if there is
    /// no such case.
    fn update_case(
        &mut self,
        row: &CaseRow,
        change: Option<&StatusChangeRow>,
    ) -> Result<bool, StoreError>;

    /// One case.
    fn case(&self, id: &str) -> Result<Option<CaseRow>, StoreError>;

    /// Cases matching `filter`, by signal date then id.
    fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError>;

    /// The report facts of the cases of `organisation` (all organisations when `None`), in no
    /// particular order.
    fn case_facts(&self, organisation: Option<&str>) -> Result<Vec<CaseFactsRow>, StoreError>;

    /// The ids of all stored cases.
    fn case_ids(&self) -> Result<Vec<String>, StoreError>;

    /// The case opened from an alert, if any.
    fn case_for_alert(
        &self,
        organisation: &str,
        alert_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// A case's status changes, oldest first.
    fn case_history(&self, id: &str) -> Result<Vec<CaseHistoryRow>, StoreError>;

    /// A case's evidence, in the order it was linked.
    fn case_evidence(&self, id: &str) -> Result<Vec<EvidenceRow>, StoreError>;

    /// Links evidence to a case; evidence already linked is skipped. Returns how many rows were
    /// added, or `None` if there is no such case.
    fn add_evidence(
        &mut self,
        case_id: &str,
        evidence: &[NewEvidence],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError>;

    /// Deletes cases with their history and evidence, in one transaction. Ids that do not exist
    /// are skipped.
    fn purge_cases(&mut self, ids: &[String]) -> Result<PurgeCounts, StoreError>;
}

fn sql(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { op, source }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The write of one store call: its own IMMEDIATE transaction, or a savepoint inside the
/// transaction of [`SqliteStore::atomically`].
enum Write<'c> {
    Own(Transaction<'c>),
    Nested(Savepoint<'c>),
}

impl std::ops::Deref for Write<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Write::Own(tx) => tx,
            Write::Nested(sp) => sp,
        }
    }
}

impl Write<'_> {
    fn commit(self) -> rusqlite::Result<()> {
        match self {
            Write::Own(tx) => tx.commit(),
            Write::Nested(sp) => sp.commit(),
        }
    }
}

fn begin(conn: &mut Connection) -> rusqlite::Result<Write<'_>> {
    if conn.is_autocommit() {
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
            .map(Write::Own)
    } else {
        conn.savepoint().map(Write::Nested)
    }
}

impl SqliteStore {
    /// Runs `work` in one IMMEDIATE transaction: the case registry's writes and
    /// [`crate::ReviewStore::record_audit`] inside it commit together or not at all, so that a
    /// change is never stored without its audit entry. Other writes that open their own
    /// transaction must not be called inside. `work`'s error (or panic) rolls everything back.
    pub fn atomically<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&mut SqliteStore) -> Result<T, E>,
    ) -> Result<T, E> {
        let op = "running a transaction";
        self.conn_mut()
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(sql(op))?;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self)));
        match result {
            Ok(Ok(value)) => {
                self.conn_mut().execute_batch("COMMIT").map_err(sql(op))?;
                Ok(value)
            }
            Ok(Err(error)) => {
                self.conn_mut().execute_batch("ROLLBACK").map_err(sql(op))?;
                Err(error)
            }
            Err(panic) => {
                let _ = self.conn_mut().execute_batch("ROLLBACK");
                std::panic::resume_unwind(panic)
            }
        }
    }
}

/// The next generated id for `year`, counted in the transaction.
fn next_id(tx: &Connection, year: i32, op: &'static str) -> Result<String, StoreError> {
    let last: i64 = tx
        .query_row(
            "INSERT INTO case_counters (year, last) VALUES (?1, 1)
             ON CONFLICT (year) DO UPDATE SET last = last + 1
             RETURNING last",
            [year],
            |r| r.get(0),
        )
        .map_err(sql(op))?;
    Ok(format!("CASE-{year}-{last:05}"))
}

/// The year of a `YYYY-MM-DD` date, for generated ids; the current year when unreadable.
fn year_of(date: &str) -> i32 {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| d.year())
        .unwrap_or_else(|_| Utc::now().year())
}

fn insert_evidence(
    tx: &Connection,
    case_id: &str,
    evidence: &[NewEvidence],
    by: &str,
    at: &str,
    op: &'static str,
) -> Result<u64, StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO case_evidence (case_id, kind, reference, seq, added_by, added_at, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (case_id, kind, reference) DO NOTHING",
        )
        .map_err(sql(op))?;
    let mut added = 0;
    for item in evidence {
        let (kind, reference, seq, note) = item.parts();
        added += stmt
            .execute(params![
                case_id,
                kind.as_str(),
                reference,
                seq,
                by,
                at,
                note
            ])
            .map_err(sql(op))? as u64;
    }
    Ok(added)
}

/// One history row to write.
struct History<'a> {
    case_id: &'a str,
    from: Option<&'a str>,
    to: &'a str,
    by: &'a str,
    at: &'a str,
    note: &'a str,
}

fn insert_history(tx: &Connection, h: &History<'_>, op: &'static str) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO case_history (case_id, from_status, to_status, by_user, at, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut stmt| stmt.execute(params![h.case_id, h.from, h.to, h.by, h.at, h.note]))
    .map_err(sql(op))?;
    Ok(())
}

const CASE_COLUMNS: &str = "id, organisation, status, signal_date, closure_date, retention_until, \
                            source_alert, record, created_at, updated_at";

fn case_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    Ok(CaseRow {
        id: r.get(0)?,
        organisation: r.get(1)?,
        status: r.get(2)?,
        signal_date: r.get(3)?,
        closure_date: r.get(4)?,
        retention_until: r.get(5)?,
        source_alert: r.get(6)?,
        record: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

impl CaseStore for SqliteStore {
    fn open_case_from_alert(&mut self, new: &NewCaseFromAlert) -> Result<String, StoreError> {
        let op = "opening a case from an alert";
        let tx = begin(self.conn_mut()).map_err(sql(op))?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT id FROM cases WHERE organisation = ?1 AND source_alert = ?2
                 ORDER BY created_at LIMIT 1",
                params![new.organisation, new.alert_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(op))?;
        if let Some(id) = existing {
            return Ok(id);
        }
        let id = next_id(&tx, new.at.year(), op)?;
        let at = stamp(new.at);
        let signal_date = new.at.date_naive().format("%Y-%m-%d").to_string();
        let record = serde_json::json!({
            "id": id,
            "organisation": new.organisation,
            "summary": new.summary,
            "signal_source": "proactive_log_analysis",
            "signal_date": signal_date,
            "status": "registered",
            "suspect": { "employee": new.employee },
            "opened_by": new.opened_by,
            "opened_at": at,
            "source_alert": new.alert_id,
        })
        .to_string();
        tx.execute(
            "INSERT INTO cases (id, organisation, status, signal_date, source_alert, record,
                                created_at, updated_at)
             VALUES (?1, ?2, 'registered', ?3, ?4, ?5, ?6, ?6)",
            params![id, new.organisation, signal_date, new.alert_id, record, at],
        )
        .map_err(sql(op))?;
        insert_history(
            &tx,
            &History {
                case_id: &id,
                from: None,
                to: "registered",
                by: &new.opened_by,
                at: &at,
                // The alert is linked as evidence; its id (which holds the employee's id) stays
                // out of the free-text note.
                note: "opened from an escalated alert",
            },
            op,
        )?;
        let mut evidence = vec![NewEvidence::Alert {
            alert_id: new.alert_id.clone(),
            note: String::new(),
        }];
        evidence.extend(new.event_seqs.iter().map(|&seq| NewEvidence::Event {
            seq,
            note: String::new(),
        }));
        insert_evidence(&tx, &id, &evidence, &new.opened_by, &at, op)?;
        tx.commit().map_err(sql(op))?;
        Ok(id)
    }

    fn insert_cases(&mut self, cases: &[NewCaseRow]) -> Result<Vec<String>, StoreError> {
        let op = "registering cases";
        let tx = begin(self.conn_mut()).map_err(sql(op))?;
        let mut ids = Vec::with_capacity(cases.len());
        for case in cases {
            let id = match &case.id {
                Some(id) => id.clone(),
                None => next_id(&tx, year_of(&case.signal_date), op)?,
            };
            let at = stamp(case.at);
            tx.prepare_cached(
                "INSERT INTO cases (id, organisation, status, signal_date, closure_date,
                                    retention_until, source_alert, record, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, json_set(?8, '$.id', ?1), ?9, ?9)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id,
                    case.organisation,
                    case.status,
                    case.signal_date,
                    case.closure_date,
                    case.retention_until,
                    case.source_alert,
                    case.record,
                    at
                ])
            })
            .map_err(sql(op))?;
            insert_history(
                &tx,
                &History {
                    case_id: &id,
                    from: None,
                    to: &case.status,
                    by: &case.created_by,
                    at: &at,
                    note: &case.note,
                },
                op,
            )?;
            insert_evidence(&tx, &id, &case.evidence, &case.created_by, &at, op)?;
            ids.push(id);
        }
        tx.commit().map_err(sql(op))?;
        Ok(ids)
    }

    fn update_case(
        &mut self,
        row: &CaseRow,
        change: Option<&StatusChangeRow>,
    ) -> Result<bool, StoreError> {
        let op = "updating a case";
        let now = stamp(change.map_or_else(Utc::now, |c| c.at));
        let tx = begin(self.conn_mut()).map_err(sql(op))?;
        let n = tx
            .execute(
                "UPDATE cases SET organisation = ?2, status = ?3, signal_date = ?4,
                    closure_date = ?5, retention_until = ?6, source_alert = ?7, record = ?8,
                    updated_at = ?9
                 WHERE id = ?1",
                params![
                    row.id,
                    row.organisation,
                    row.status,
                    row.signal_date,
                    row.closure_date,
                    row.retention_until,
                    row.source_alert,
                    row.record,
                    now
                ],
            )
            .map_err(sql(op))?;
        if n == 0 {
            return Ok(false);
        }
        if let Some(c) = change {
            insert_history(
                &tx,
                &History {
                    case_id: &row.id,
                    from: Some(&c.from_status),
                    to: &c.to_status,
                    by: &c.by,
                    at: &now,
                    note: &c.note,
                },
                op,
            )?;
        }
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn case(&self, id: &str) -> Result<Option<CaseRow>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?1"),
                [id],
                case_row,
            )
            .optional()
            .map_err(sql("reading a case"))
    }

    fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let op = "listing cases";
        // One statement per filter shape, so that the organisation index is used; the rows are
        // sorted here rather than by SQLite, which would move every whole record through its sorter.
        let query = match (&filter.organisation, &filter.status) {
            (Some(_), Some(_)) => "WHERE organisation = ?1 AND status = ?2",
            (Some(_), None) => "WHERE organisation = ?1 AND ?2 IS NULL",
            (None, Some(_)) => "WHERE ?1 IS NULL AND status = ?2",
            (None, None) => "WHERE ?1 IS NULL AND ?2 IS NULL",
        };
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("SELECT {CASE_COLUMNS} FROM cases {query}"))
            .map_err(sql(op))?;
        let rows = stmt
            .query_map(params![filter.organisation, filter.status], case_row)
            .map_err(sql(op))?;
        let mut rows: Vec<CaseRow> = rows.collect::<Result<_, _>>().map_err(sql(op))?;
        rows.sort_unstable_by(|a, b| (&a.signal_date, &a.id).cmp(&(&b.signal_date, &b.id)));
        Ok(rows)
    }

    fn case_facts(&self, organisation: Option<&str>) -> Result<Vec<CaseFactsRow>, StoreError> {
        let op = "reading case facts";
        let query = if organisation.is_some() {
            "WHERE organisation = ?1"
        } else {
            "WHERE ?1 IS NULL"
        };
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT id, organisation, status, signal_date, r_source, r_violation, r_recipient,
                        r_outcome, r_unit, r_function, r_systems
                 FROM cases {query}"
            ))
            .map_err(sql(op))?;
        let rows = stmt
            .query_map([organisation], |r| {
                Ok(CaseFactsRow {
                    id: r.get(0)?,
                    organisation: r.get(1)?,
                    status: r.get(2)?,
                    signal_date: r.get(3)?,
                    signal_source: r.get(4)?,
                    violation: r.get(5)?,
                    recipient: r.get(6)?,
                    outcome: r.get(7)?,
                    unit: r.get(8)?,
                    function: r.get(9)?,
                    systems: r.get(10)?,
                })
            })
            .map_err(sql(op))?;
        rows.collect::<Result<_, _>>().map_err(sql(op))
    }

    fn case_ids(&self) -> Result<Vec<String>, StoreError> {
        let op = "listing case ids";
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id FROM cases ORDER BY id")
            .map_err(sql(op))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(sql(op))?;
        rows.collect::<Result<_, _>>().map_err(sql(op))
    }

    fn case_for_alert(
        &self,
        organisation: &str,
        alert_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row(
                "SELECT id FROM cases WHERE organisation = ?1 AND source_alert = ?2
                 ORDER BY created_at LIMIT 1",
                params![organisation, alert_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("finding the case of an alert"))
    }

    fn case_history(&self, id: &str) -> Result<Vec<CaseHistoryRow>, StoreError> {
        let op = "reading a case's history";
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT case_id, from_status, to_status, by_user, at, note FROM case_history
                 WHERE case_id = ?1 ORDER BY id",
            )
            .map_err(sql(op))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(CaseHistoryRow {
                    case_id: r.get(0)?,
                    from_status: r.get(1)?,
                    to_status: r.get(2)?,
                    by: r.get(3)?,
                    at: r.get(4)?,
                    note: r.get(5)?,
                })
            })
            .map_err(sql(op))?;
        rows.collect::<Result<_, _>>().map_err(sql(op))
    }

    fn case_evidence(&self, id: &str) -> Result<Vec<EvidenceRow>, StoreError> {
        let op = "reading a case's evidence";
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT case_id, kind, reference, seq, added_by, added_at, note FROM case_evidence
                 WHERE case_id = ?1 ORDER BY id",
            )
            .map_err(sql(op))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(sql(op))?;
        let mut out = Vec::new();
        for row in rows {
            let (case_id, kind, reference, seq, added_by, added_at, note) = row.map_err(sql(op))?;
            let kind = EvidenceKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                what: format!("evidence {reference} of case {case_id}"),
                reason: format!("unknown kind {kind}"),
            })?;
            out.push(EvidenceRow {
                case_id,
                kind,
                reference,
                event_seq: seq.map(|s| s as u64),
                added_by,
                added_at,
                note,
            });
        }
        Ok(out)
    }

    fn add_evidence(
        &mut self,
        case_id: &str,
        evidence: &[NewEvidence],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        let op = "linking evidence";
        let tx = begin(self.conn_mut()).map_err(sql(op))?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM cases WHERE id = ?1", [case_id], |r| r.get(0))
            .optional()
            .map_err(sql(op))?;
        if exists.is_none() {
            return Ok(None);
        }
        let at = stamp(at);
        let added = insert_evidence(&tx, case_id, evidence, by, &at, op)?;
        tx.execute(
            "UPDATE cases SET updated_at = ?2 WHERE id = ?1",
            params![case_id, at],
        )
        .map_err(sql(op))?;
        tx.commit().map_err(sql(op))?;
        Ok(Some(added))
    }

    fn purge_cases(&mut self, ids: &[String]) -> Result<PurgeCounts, StoreError> {
        let op = "purging cases";
        let tx = begin(self.conn_mut()).map_err(sql(op))?;
        let mut counts = PurgeCounts::default();
        for id in ids {
            counts.history_rows += tx
                .execute("DELETE FROM case_history WHERE case_id = ?1", [id])
                .map_err(sql(op))? as u64;
            counts.evidence_rows += tx
                .execute("DELETE FROM case_evidence WHERE case_id = ?1", [id])
                .map_err(sql(op))? as u64;
            if tx
                .execute("DELETE FROM cases WHERE id = ?1", [id])
                .map_err(sql(op))?
                > 0
            {
                counts.cases.push(id.clone());
            }
        }
        tx.commit().map_err(sql(op))?;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        (dir, store)
    }

    fn from_alert(alert: &str) -> NewCaseFromAlert {
        NewCaseFromAlert {
            organisation: "politie".into(),
            alert_id: alert.into(),
            employee: "E123".into(),
            opened_by: "inv1".into(),
            summary: "Lookups of a neighbour".into(),
            event_seqs: vec![4, 9, 4],
            at: Utc.with_ymd_and_hms(2026, 3, 5, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn open_case_from_alert_stores_record_evidence_and_history() {
        let (_dir, mut store) = store();
        let id = store.open_case_from_alert(&from_alert("A1")).unwrap();
        assert_eq!(id, "CASE-2026-00001");
        let row = store.case(&id).unwrap().unwrap();
        assert_eq!(row.status, "registered");
        assert_eq!(row.signal_date, "2026-03-05");
        assert_eq!(row.source_alert.as_deref(), Some("A1"));
        let record: serde_json::Value = serde_json::from_str(&row.record).unwrap();
        assert_eq!(record["id"], "CASE-2026-00001");
        assert_eq!(record["suspect"]["employee"], "E123");
        assert_eq!(record["signal_source"], "proactive_log_analysis");

        let evidence = store.case_evidence(&id).unwrap();
        let refs: Vec<_> = evidence
            .iter()
            .map(|e| (e.kind, e.reference.as_str(), e.event_seq))
            .collect();
        assert_eq!(
            refs,
            [
                (EvidenceKind::Alert, "A1", None),
                (EvidenceKind::Event, "4", Some(4)),
                (EvidenceKind::Event, "9", Some(9)),
            ]
        );
        let history = store.case_history(&id).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].from_status, None);
        assert_eq!(history[0].to_status, "registered");
        assert_eq!(history[0].by, "inv1");

        // Repeating the request gives the same case; another alert a new one.
        assert_eq!(store.open_case_from_alert(&from_alert("A1")).unwrap(), id);
        assert_eq!(
            store.open_case_from_alert(&from_alert("A2")).unwrap(),
            "CASE-2026-00002"
        );
        assert_eq!(
            store.case_for_alert("politie", "A2").unwrap().as_deref(),
            Some("CASE-2026-00002")
        );
    }

    fn new_row(id: Option<&str>, signal_date: &str) -> NewCaseRow {
        NewCaseRow {
            id: id.map(str::to_owned),
            organisation: "gemeente-x".into(),
            status: "closed".into(),
            signal_date: signal_date.into(),
            closure_date: Some("2016-05-01".into()),
            retention_until: Some("2017-05-01".into()),
            source_alert: None,
            record: r#"{"organisation":"gemeente-x","summary":"historic"}"#.into(),
            created_by: "import".into(),
            at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            note: "imported".into(),
            evidence: vec![NewEvidence::Event {
                seq: 7,
                note: "lookup".into(),
            }],
        }
    }

    #[test]
    fn insert_update_and_purge_round_trip() {
        let (_dir, mut store) = store();
        let ids = store
            .insert_cases(&[
                new_row(None, "2015-02-03"),
                new_row(Some("H-1"), "2016-01-01"),
            ])
            .unwrap();
        assert_eq!(ids, ["CASE-2015-00001", "H-1"]);
        let row = store.case("CASE-2015-00001").unwrap().unwrap();
        let record: serde_json::Value = serde_json::from_str(&row.record).unwrap();
        assert_eq!(record["id"], "CASE-2015-00001");
        assert_eq!(record["summary"], "historic");
        // A duplicate id fails the whole call.
        assert!(
            store
                .insert_cases(&[
                    new_row(None, "2015-01-01"),
                    new_row(Some("H-1"), "2016-01-01")
                ])
                .is_err()
        );
        assert_eq!(store.case_ids().unwrap(), ["CASE-2015-00001", "H-1"]);

        let mut row = store.case("H-1").unwrap().unwrap();
        row.status = "under_investigation".into();
        let change = StatusChangeRow {
            from_status: "closed".into(),
            to_status: "under_investigation".into(),
            by: "inv2".into(),
            at: Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
            note: "reopened".into(),
        };
        assert!(store.update_case(&row, Some(&change)).unwrap());
        let history = store.case_history("H-1").unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].from_status.as_deref(), Some("closed"));
        assert_eq!(history[1].by, "inv2");
        let listed = store
            .cases(&CaseFilter {
                status: Some("under_investigation".into()),
                ..CaseFilter::default()
            })
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "H-1");
        row.id = "missing".into();
        assert!(!store.update_case(&row, None).unwrap());

        let t = Utc.with_ymd_and_hms(2026, 2, 2, 0, 0, 0).unwrap();
        let alert = NewEvidence::Alert {
            alert_id: "A9".into(),
            note: String::new(),
        };
        assert_eq!(
            store
                .add_evidence("H-1", std::slice::from_ref(&alert), "inv2", t)
                .unwrap(),
            Some(1)
        );
        assert_eq!(
            store.add_evidence("H-1", &[alert], "inv2", t).unwrap(),
            Some(0)
        );
        assert_eq!(store.add_evidence("nope", &[], "inv2", t).unwrap(), None);

        let purged = store
            .purge_cases(&["H-1".into(), "not-there".into()])
            .unwrap();
        assert_eq!(purged.cases, ["H-1"]);
        assert_eq!(purged.history_rows, 2);
        assert_eq!(purged.evidence_rows, 2);
        assert!(store.case("H-1").unwrap().is_none());
        assert!(store.case_history("H-1").unwrap().is_empty());
        assert!(store.case_evidence("H-1").unwrap().is_empty());
        assert_eq!(store.case_ids().unwrap(), ["CASE-2015-00001"]);
    }

    const FULL: &str = r#"{"organisation":"gemeente-x","signal_source":"colleague","violation":"disclosure","recipient":"criminal","outcome":{"kind":"dismissal","measure":null},"suspect":{"unit":"Wijkteam Noord","function":"agent"},"systems":["BVH","BRP"]}"#;

    #[test]
    fn report_facts_follow_every_write_of_the_record() {
        let (_dir, mut store) = store();
        let mut first = new_row(Some("H-1"), "2016-01-01");
        first.record = FULL.into();
        store
            .insert_cases(&[first, new_row(Some("H-2"), "2015-03-01")])
            .unwrap();
        let mut facts = store.case_facts(Some("gemeente-x")).unwrap();
        facts.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            facts[0],
            CaseFactsRow {
                id: "H-1".into(),
                organisation: "gemeente-x".into(),
                status: "closed".into(),
                signal_date: "2016-01-01".into(),
                signal_source: Some("colleague".into()),
                violation: Some("disclosure".into()),
                recipient: Some("criminal".into()),
                outcome: Some("dismissal".into()),
                unit: Some("Wijkteam Noord".into()),
                function: Some("agent".into()),
                systems: Some(r#"["BVH","BRP"]"#.into()),
            }
        );
        // A record without the facts has none.
        assert_eq!(facts[1].id, "H-2");
        assert_eq!(facts[1].violation, None);
        assert_eq!(facts[1].systems, None);
        assert!(store.case_facts(Some("elsewhere")).unwrap().is_empty());
        assert_eq!(store.case_facts(None).unwrap().len(), 2);

        // Updating the record updates the facts.
        let mut row = store.case("H-1").unwrap().unwrap();
        row.record = FULL.replace("criminal", "media").replace(",\"BRP\"", "");
        assert!(store.update_case(&row, None).unwrap());
        let facts = store.case_facts(None).unwrap();
        let h1 = facts.iter().find(|f| f.id == "H-1").unwrap();
        assert_eq!(h1.recipient.as_deref(), Some("media"));
        assert_eq!(h1.systems.as_deref(), Some(r#"["BVH"]"#));

        // A case opened from an alert gets its facts too.
        let id = store.open_case_from_alert(&from_alert("A-7")).unwrap();
        let facts = store.case_facts(None).unwrap();
        let opened = facts.iter().find(|f| f.id == id).unwrap();
        assert_eq!(
            opened.signal_source.as_deref(),
            Some("proactive_log_analysis")
        );
    }

    #[test]
    fn the_report_migration_fills_existing_cases() {
        let dir = tempfile::tempdir().unwrap();
        // A database at schema version 3, with one case, as an earlier release left it.
        {
            let mut conn =
                rusqlite::Connection::open(dir.path().join(crate::DATABASE_FILE)).unwrap();
            let tx = conn.transaction().unwrap();
            for migration in &crate::schema::MIGRATIONS[..3] {
                tx.execute_batch(migration).unwrap();
            }
            tx.execute(
                "INSERT INTO cases (id, organisation, status, signal_date, record, created_at, updated_at)
                 VALUES ('OLD-1', 'gemeente-x', 'closed', '2014-05-06', ?1, 'now', 'now')",
                [FULL],
            )
            .unwrap();
            tx.pragma_update(None, "user_version", 3).unwrap();
            tx.commit().unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let facts = store.case_facts(None).unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].outcome.as_deref(), Some("dismissal"));
        assert_eq!(facts[0].unit.as_deref(), Some("Wijkteam Noord"));
    }

    #[test]
    fn atomically_commits_a_change_with_its_audit_entry_or_neither() {
        use crate::{AuditFilter, NewAudit, ReviewStore};
        let (_dir, mut store) = store();
        store
            .insert_cases(&[new_row(Some("H-1"), "2016-01-01")])
            .unwrap();
        let audit = |action: &str| NewAudit {
            organisation: "gemeente-x".into(),
            actor: "inv2".into(),
            action: action.into(),
            object: "case:H-1".into(),
            details: serde_json::json!({}),
            at: Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
        };
        let trail = |store: &SqliteStore| {
            store
                .audit_trail(&AuditFilter {
                    organisation: "gemeente-x".into(),
                    actor: None,
                    action: None,
                    limit: 10,
                })
                .unwrap()
                .len()
        };
        let mut row = store.case("H-1").unwrap().unwrap();
        row.status = "under_investigation".into();

        // The audit entry fails after the case was written: neither stays.
        let failed: Result<(), StoreError> = store.atomically(|s| {
            assert!(s.update_case(&row, None)?);
            s.record_audit(&audit("case_update"))?;
            Err(StoreError::Corrupt {
                what: "test".into(),
                reason: "fails on purpose".into(),
            })
        });
        assert!(failed.is_err());
        assert_eq!(store.case("H-1").unwrap().unwrap().status, "closed");
        assert_eq!(trail(&store), 0);

        // Both commit together, and nested calls to the case store take part.
        store
            .atomically(|s| -> Result<(), StoreError> {
                assert!(s.update_case(&row, None)?);
                s.add_evidence(
                    "H-1",
                    &[NewEvidence::Alert {
                        alert_id: "A1".into(),
                        note: String::new(),
                    }],
                    "inv2",
                    Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
                )?;
                s.record_audit(&audit("case_update"))?;
                Ok(())
            })
            .unwrap();
        assert_eq!(
            store.case("H-1").unwrap().unwrap().status,
            "under_investigation"
        );
        assert_eq!(store.case_evidence("H-1").unwrap().len(), 2);
        assert_eq!(trail(&store), 1);
        // Outside, each call is its own transaction again.
        assert!(store.update_case(&row, None).unwrap());
    }
}
