//! Durable storage for lekdicht, behind one interface: [`Store`].
//!
//! The store keeps access events (append-only, each with its sequence number, which is also its leaf
//! index in the ledger, and the canonical bytes that the ledger hashes), the current version of every
//! context record (earlier versions kept in a history), the quarantine of rejected lines, and the
//! ingest runs. Everything one batch writes is committed in one transaction: a crash leaves either the
//! whole batch or none of it. Lookups by actor, subject and time go through access paths that are
//! built in bulk every so many events and at the end of each run (see [`SqliteStore::seal`]), so that
//! storing an event costs one row and one key; queries also scan the few events not yet sealed.
//!
//! This is the only crate that speaks SQL. [`SqliteStore`] is the embedded default; another database
//! implements the same trait without touching domain code. The store does not parse contract files,
//! score events or hash anything.

mod cases;
mod intake;
mod ops;
mod postings;
mod review;
mod schema;
mod signin;
mod sqlite;
mod types;

pub use cases::{
    CaseFactsRow, CaseFilter, CaseHistoryRow, CaseRow, CaseStore, EvidenceKind, EvidenceRow,
    NewCaseFromAlert, NewCaseRow, NewEvidence, PurgeCounts, StatusChangeRow,
};
pub use intake::{DuePending, IntakeStatus, NewPending};
pub use ops::{ALERT_AGE_BUCKETS, OpsCounts};
pub use review::{
    AlertDecision, AlertReviewRow, AuditFilter, AuditRow, DecisionRow, GrantRow, LoginFailures,
    NewAudit, NewGrant, NewReveal, NewUser, RevealDecision, RevealRow, ReviewStore, RuleRow,
    SampleItemRow, SampleRow, SessionRow, TokenRow, UserRow,
};
pub use signin::{RoleSync, SigninStore};
pub use sqlite::{DATABASE_FILE, SEAL_EVERY, SqliteOptions, SqliteStore};
pub use types::*;

/// Everything lekdicht needs from durable storage.
///
/// Methods take `&mut self` when they write. Callers never see SQL or connection types.
pub trait Store {
    /// Records the start of an ingest run and returns its number.
    fn begin_run(&mut self, description: &str) -> Result<RunId, StoreError>;

    /// Records the end of a run with its totals.
    fn finish_run(&mut self, run: RunId, totals: &RunTotals) -> Result<(), StoreError>;

    /// Writes one batch in one transaction: new events (duplicates by `(id, system)` are detected
    /// and not stored again), context upserts and quarantine entries. Returns what happened to each
    /// event, in batch order.
    fn write_batch(&mut self, run: RunId, batch: &Batch) -> Result<BatchOutcome, StoreError>;

    /// The ids of known employees, subjects (persons and vehicles) and cases.
    fn known_ids(&self) -> Result<KnownIds, StoreError>;

    /// Re-checks the references of events flagged as naming an unknown actor, subject or case,
    /// after new context arrived. Returns how many events are still flagged.
    fn refresh_unresolved(&mut self) -> Result<u64, StoreError>;

    /// Number of stored events (and so the next sequence number).
    fn event_count(&self) -> Result<u64, StoreError>;

    /// Calls `f` for each stored event with `from_seq <= seq < until_seq`, in sequence order.
    fn for_each_event_by_seq(
        &self,
        from_seq: u64,
        until_seq: u64,
        f: &mut dyn FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Calls `f` for each stored event in the time range, in time order (ties by sequence).
    fn for_each_event_by_time(
        &self,
        range: &TimeRange,
        f: &mut dyn FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Events whose indexed columns (id, system, time, actor, action, subject, case) disagree with
    /// their stored record, or whose sequence number lies outside `0..event_count`: signs that the
    /// database was edited behind lekdicht's back.
    fn check_projections(&self) -> Result<Vec<ProjectionMismatch>, StoreError>;

    /// Up to `limit` events in the time range, in time order (ties by sequence), strictly after the
    /// `(time_ms, seq)` position `after`: keyset pagination, so that a caller can write between
    /// pages.
    fn events_by_time_page(
        &self,
        range: &TimeRange,
        after: Option<(i64, u64)>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// One event by id; `system` disambiguates when two systems use the same id.
    fn find_events(&self, id: &str, system: Option<&str>) -> Result<Vec<StoredEvent>, StoreError>;

    /// What one employee did, in time order.
    fn timeline(&self, actor: &str, range: &TimeRange) -> Result<Vec<StoredEvent>, StoreError>;

    /// Every access to one data subject's records: the person itself and vehicles they hold.
    fn accessed(&self, subject: &str) -> Result<Vec<StoredEvent>, StoreError>;

    /// The current version of every context record.
    fn load_context(&self) -> Result<lekdicht_model::ContextRecords, StoreError>;

    /// One context record's current canonical JSON.
    fn context_record(
        &self,
        kind: lekdicht_model::RecordKind,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Quarantine entries matching `filter`, oldest first.
    fn quarantine_list(
        &self,
        filter: &QuarantineFilter,
    ) -> Result<Vec<QuarantineEntry>, StoreError>;

    /// Marks one open quarantine entry resolved. Returns false if it was not open.
    fn quarantine_resolve(&mut self, id: i64, resolution: &str) -> Result<bool, StoreError>;

    /// Counts for `lekdicht status`.
    fn status(&self) -> Result<StoreStatus, StoreError>;

    /// Starts a new detection run over `range`: forgets the earlier scores of the events in the
    /// range (scores outside it stay) and marks the earlier alerts that overlap it as not current.
    /// A range limits the work, never the data.
    fn begin_scoring(&mut self, range: &TimeRange) -> Result<(), StoreError>;

    /// Writes one batch of scores in one transaction.
    fn write_scores(&mut self, rows: &[ScoreRow]) -> Result<(), StoreError>;

    /// Writes the alerts of a detection run; an alert whose id existed keeps its status.
    fn write_alerts(&mut self, alerts: &[AlertRow]) -> Result<(), StoreError>;

    /// Every alert an investigator decided (dismissed or escalated), from any run: what
    /// detection learns from.
    fn decided_alerts(&self) -> Result<Vec<AlertRow>, StoreError>;

    /// The score lines of the given events (by sequence number), where scored.
    fn scores_of(&self, seqs: &[u64]) -> Result<Vec<(u64, String)>, StoreError>;

    /// Current alerts, highest score first; `status` filters. Without a status, findings kept
    /// outside the review queue (status `ranked`) are left out; ask for `ranked` to list them.
    fn alerts(&self, status: Option<&str>) -> Result<Vec<AlertRow>, StoreError>;

    /// A value of the store's small key/value settings table.
    fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Sets a value in the settings table.
    fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
}
