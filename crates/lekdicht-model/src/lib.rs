//! The vocabulary of lekdicht: the records of the data contract (version 1) as Rust types.
//!
//! Access events are high-volume, append-only facts; context records (employees, units, subjects,
//! vehicles, relations, cases, shifts) describe the world the events happen in. Every type here
//! serialises to, and deserialises from, exactly the field names of the contract, so that the demo
//! generator, the importer and the tests all speak one format.
//!
//! This crate does no IO and knows nothing of files, SQL or HTTP. Unknown fields of an input record are
//! not modelled here: the importer keeps the whole record as canonical JSON beside the typed view.

mod context;
mod event;
mod id;
mod kind;

pub use context::{
    Case, CaseMember, CaseSubject, ContextRecords, Employee, Relation, RelationKind, Shift,
    ShiftKind, Subject, SubjectFlag, Unit, Vehicle,
};
pub use event::{AccessEvent, Action, SubjectType};
pub use id::{CaseId, EmployeeId, EventId, IdError, SubjectId, UnitId, validate_id};
pub use kind::RecordKind;

/// A point in time as the contract writes it: RFC 3339 with an explicit offset.
pub type Time = chrono::DateTime<chrono::FixedOffset>;

/// A calendar date (`YYYY-MM-DD`).
pub type Date = chrono::NaiveDate;
