//! The values that cross the [`Store`](crate::Store) interface.

use lekdicht_model::{AccessEvent, RecordKind};

/// Number of an ingest run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

/// Errors of the store. Internals (SQL text, driver messages) stay in `source`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the data directory {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database error while {op}: {source}")]
    Sql {
        op: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the data directory was written by a newer lekdicht (schema {found}, this one knows {known})"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("stored record {what} is corrupt: {reason}")]
    Corrupt { what: String, reason: String },
    #[error("{0}")]
    Callback(String),
}

/// Which references of an event did not resolve when it was stored (or at the last refresh).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unresolved {
    pub actor: bool,
    pub subject: bool,
    pub case: bool,
}

impl Unresolved {
    pub fn any(self) -> bool {
        self.actor || self.subject || self.case
    }

    pub fn bits(self) -> i64 {
        i64::from(self.actor) | i64::from(self.subject) << 1 | i64::from(self.case) << 2
    }

    pub fn from_bits(bits: i64) -> Self {
        Unresolved {
            actor: bits & 1 != 0,
            subject: bits & 2 != 0,
            case: bits & 4 != 0,
        }
    }

    /// Plain words for what is unknown, e.g. `unknown actor, unknown case`.
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        if self.actor {
            parts.push("unknown actor");
        }
        if self.subject {
            parts.push("unknown subject");
        }
        if self.case {
            parts.push("unknown case");
        }
        parts.join(", ")
    }
}

/// An event ready to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event: AccessEvent,
    /// RFC 8785 bytes of the stored record: the ledger's leaf data.
    pub canonical: Vec<u8>,
    pub unresolved: Unresolved,
    /// Where it came from, for conflict reports (shared by all events of a source).
    pub file: std::sync::Arc<str>,
    pub line: u64,
}

/// A context record ready to store (insert, or replace the record with the same kind and key).
#[derive(Debug, Clone)]
pub struct NewContext {
    pub kind: RecordKind,
    pub key: String,
    pub canonical: Vec<u8>,
}

/// A rejected line for the quarantine.
#[derive(Debug, Clone)]
pub struct NewQuarantine {
    pub kind: RecordKind,
    pub file: String,
    pub line: u64,
    pub field: Option<String>,
    pub reason: String,
    pub raw: Vec<u8>,
    pub key: Option<String>,
    /// The header row, for lines from CSV.
    pub csv_header: Option<String>,
}

/// What one transaction writes.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub events: Vec<NewEvent>,
    pub context: Vec<NewContext>,
    pub quarantine: Vec<NewQuarantine>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.events.len() + self.context.len() + self.quarantine.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What happened to one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// Stored with this sequence number (the ledger leaf index).
    Stored(u64),
    /// The same `(id, system)` with the same content was stored before.
    Duplicate,
    /// The same `(id, system)` was stored before with different content; nothing was changed and a
    /// quarantine entry was written.
    Conflict,
}

/// What one batch did.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    pub events: Vec<EventOutcome>,
    pub context_inserted: u64,
    pub context_updated: u64,
    pub context_unchanged: u64,
    pub quarantined: u64,
    /// Open quarantine entries resolved because a valid version of their record was stored.
    pub quarantine_resolved: u64,
}

/// Totals of an ingest run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunTotals {
    pub read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub context_inserted: u64,
    pub context_updated: u64,
    pub context_unchanged: u64,
}

/// A set of ids with a fast (not DoS-resistant) hasher: ingest looks up every event's references.
pub type IdSet = std::collections::HashSet<String, foldhash::fast::RandomState>;

/// Ids of everything an event may reference.
#[derive(Debug, Clone, Default)]
pub struct KnownIds {
    pub employees: IdSet,
    /// Persons and vehicles.
    pub subjects: IdSet,
    pub cases: IdSet,
}

/// A stored event with its sequence number and canonical bytes.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: u64,
    pub event: AccessEvent,
    pub canonical: Vec<u8>,
    pub unresolved: Unresolved,
}

/// A half-open time range in Unix milliseconds; `None` is unbounded.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeRange {
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

/// Which quarantine entries to list.
#[derive(Debug, Clone, Default)]
pub struct QuarantineFilter {
    pub kind: Option<RecordKind>,
    /// Include resolved entries too.
    pub include_resolved: bool,
    pub ids: Vec<i64>,
}

/// One quarantined line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QuarantineEntry {
    pub id: i64,
    pub run: i64,
    pub kind: RecordKind,
    pub file: String,
    pub line: u64,
    pub field: Option<String>,
    pub reason: String,
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub key: Option<String>,
    pub csv_header: Option<String>,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub resolution: Option<String>,
}

/// Counts for `lekdicht status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StoreStatus {
    pub events: u64,
    pub events_unresolved: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub context: Vec<(String, u64)>,
    pub quarantine_open: u64,
    pub runs: u64,
}

/// One event's score as the detection run wrote it.
#[derive(Debug, Clone)]
pub struct ScoreRow {
    pub seq: u64,
    pub score: f64,
    /// The contract's score line (JSON).
    pub line: String,
}

/// One alert as the detection run wrote it; `status` is kept from an earlier run with the same id.
#[derive(Debug, Clone)]
pub struct AlertRow {
    pub id: String,
    pub actor: String,
    pub score: f64,
    pub from_ms: i64,
    pub until_ms: i64,
    pub status: String,
    /// The contract's alert line (JSON), with the status as detected.
    pub line: String,
}

/// A stored event whose indexed columns disagree with its stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionMismatch {
    pub seq: i64,
    pub id: String,
    /// The column that disagrees (or `record` when the record does not parse, `seq` when the row
    /// sits outside the dense sequence).
    pub field: String,
}
