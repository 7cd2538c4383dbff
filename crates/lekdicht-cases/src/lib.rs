//! The integrity-case registry of lekdicht: one model for every integrity department, so that the
//! questions asked of the registrations (how many suspicions of disclosure, how many to criminals,
//! which functions, which outcomes) can be answered with a query.
//!
//! - [`vocab`]: the fixed vocabularies, with English codes and Dutch and English labels.
//! - [`model`]: [`Case`] and its status lifecycle ([`Case::transition`]).
//! - [`validate`](mod@validate): rules across fields, as a list of [`FieldError`]s.
//! - [`import`]: CSV import and export of historic cases (a bad line never stops the rest).
//! - [`report`]: counts, trends, unfounded shares, vulnerable places, disclosure summary; CSV.
//! - [`breach`]: data-breach duties: affected data subjects, the 72-hour deadline, notification
//!   and letters.
//! - [`retention`]: retention dates per organisation and outcome, and expiry.
//! - [`generate`]: realistic generated cases for benchmarks and tests.
//!
//! **Architecture Invariant:** no IO, no SQL, no HTTP. The store keeps cases as rows holding this
//! crate's JSON; the binary and the web application convert.

pub mod breach;
pub mod generate;
pub mod import;
pub mod model;
pub mod report;
pub mod retention;
pub mod validate;
pub mod vocab;

pub use breach::{
    AffectedSubject, BreachError, BreachNotification, ContactPoint, Letter, SubjectAccess,
    deadline, establishes_unlawful_access, is_overdue, notification,
};
pub use import::{COLUMNS, ExportError, ImportedCase, LineError, cases_to_csv, parse_cases_csv};
pub use model::{Case, Damage, Outcome, StatusChange, Suspect, TransitionError};
pub use report::{
    CaseFacts, Count, DisclosureSummary, FactCodes, PlaceCount, Report, UNREGISTERED,
    UnfoundedShare, UnitFigures, UnitRates, YearTrend, build_report, report_of_cases,
    spreadsheet_safe,
};
pub use retention::{EXAMPLE_POLICY, RetentionPolicies, RetentionPolicy, expired, retention_until};
pub use validate::{FieldError, validate};
pub use vocab::{
    CaseStatus, InformationKind, InformationUse, Initiative, InvestigationStep, Lang, MeasureKind,
    OutcomeKind, Recipient, SignalSource, ViolationType, Vocabulary,
};
