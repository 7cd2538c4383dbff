//! The OTLP intake's writer: events that arrived over HTTP, stored exactly as a file ingest stores
//! them (the web crate's `EventIntake` seam).
//!
//! Each call validates the event objects with the contract's own parser
//! (`lekdicht_ingest::parse_object`, the sender's organisation filled in), then runs them through
//! the ingest pipeline as one batch: leaf hashes journaled, one store transaction, the ledger
//! appended and a checkpoint signed, bad objects and rejected spans in the quarantine. The event
//! ledger is opened for each call and closed after it, so that a file ingest can run between two
//! calls; while one runs (it holds the ledger's lock) the call answers `Busy` at once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use lekdicht_ingest::{Defaults, Limits, Parsed, parse_object};
use lekdicht_model::RecordKind;
use lekdicht_store::{Batch, NewEvent, NewQuarantine, SqliteStore, Unresolved};
use lekdicht_web::otlp::{EventIntake, IntakeError, IntakeOutcome, IntakeRecords};
use serde_json::Value;

use crate::ledger::{EventLedger, Journal};
use crate::pipeline::ingest_batch;

/// The intake of one data directory.
pub struct DataDirIntake {
    data: PathBuf,
    limits: Limits,
    /// One writer at a time within the process.
    writer: Mutex<()>,
}

impl DataDirIntake {
    pub fn new(data: &Path) -> Arc<DataDirIntake> {
        Arc::new(DataDirIntake {
            data: data.to_owned(),
            limits: Limits::default(),
            writer: Mutex::new(()),
        })
    }

    fn write(&self, organisation: &str, records: IntakeRecords) -> Result<IntakeOutcome> {
        let batch = self.batch(organisation, records);
        let mut store = SqliteStore::open(&self.data)?;
        let mut ledger = EventLedger::open(&self.data, &mut store)?;
        let mut journal = Journal::open(&self.data)?;
        let source = batch
            .quarantine
            .first()
            .map(|q| q.file.clone())
            .or_else(|| batch.events.first().map(|e| e.file.to_string()))
            .unwrap_or_default();
        let report = ingest_batch(
            &mut store,
            "otlp intake",
            &source,
            batch,
            &mut |seq, leaves| journal.record(seq, leaves),
            &mut |batch, outcome, leaves| ledger.after_commit_with_leaves(batch, outcome, leaves),
        )?;
        Ok(IntakeOutcome {
            stored: report.totals.stored,
            duplicates: report.totals.duplicates,
            quarantined: report.totals.quarantined,
        })
    }

    /// The batch of `records`: valid events, and quarantine entries for the objects the contract
    /// refuses and for the rejected input.
    fn batch(&self, organisation: &str, records: IntakeRecords) -> Batch {
        let defaults = Defaults {
            organization: Some(organisation.to_owned()),
        };
        let file: Arc<str> = Arc::from(records.source.as_str());
        let mut batch = Batch::default();
        for (i, event) in records.events.into_iter().enumerate() {
            let line = i as u64 + 1;
            let raw = Value::Object(event.clone()).to_string().into_bytes();
            let key = event.get("id").and_then(Value::as_str).map(str::to_owned);
            match parse_object(RecordKind::Events, event, &defaults, &self.limits) {
                Ok(Parsed::Event(record)) => batch.events.push(NewEvent {
                    event: record.event,
                    canonical: record.canonical,
                    unresolved: Unresolved::default(),
                    file: Arc::clone(&file),
                    line,
                }),
                Ok(Parsed::Context(_)) => {}
                Err(error) => batch.quarantine.push(NewQuarantine {
                    kind: RecordKind::Events,
                    file: records.source.clone(),
                    line,
                    field: error.field,
                    reason: error.reason,
                    raw,
                    key,
                    csv_header: None,
                }),
            }
        }
        for rejected in records.rejected {
            batch.quarantine.push(NewQuarantine {
                kind: RecordKind::Events,
                file: records.source.clone(),
                line: 0,
                field: Some(rejected.field),
                reason: rejected.reason,
                raw: rejected.raw.to_string().into_bytes(),
                key: None,
                csv_header: None,
            });
        }
        batch
    }
}

/// Whether `error` says that another process holds the event ledger.
fn ledger_busy(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let io =
            cause.downcast_ref::<std::io::Error>().or_else(|| {
                match cause.downcast_ref::<lekdicht_ledger::OpenError>() {
                    Some(lekdicht_ledger::OpenError::Io(io)) => Some(io),
                    _ => None,
                }
            });
        io.is_some_and(|io| io.kind() == std::io::ErrorKind::WouldBlock)
    })
}

impl EventIntake for DataDirIntake {
    fn store(
        &self,
        organisation: &str,
        records: IntakeRecords,
    ) -> Result<IntakeOutcome, IntakeError> {
        let _writer = self
            .writer
            .lock()
            .map_err(|_| IntakeError::Failed("the intake lock is poisoned".into()))?;
        self.write(organisation, records).map_err(|e| {
            if ledger_busy(&e) {
                IntakeError::Busy
            } else {
                IntakeError::Failed(format!("{e:#}"))
            }
        })
    }
}
