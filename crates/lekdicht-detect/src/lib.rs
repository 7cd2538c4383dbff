//! Detection for lekdicht: decides for every access event whether the context explains it (a
//! legitimate reason exists) and whether it is suspicious (a reason to look twice), gives it a
//! score in [0, 1] with plain reasons, and groups one employee's suspicious events into alerts.
//!
//! Pure and synchronous: no IO, no SQL, no threads. Build a [`Context`] from the context records,
//! an [`Engine`] from it and a [`Config`], feed events in time order with [`Engine::process`] and
//! collect alerts with [`Engine::finish`]. Every score carries its reasons; the codes are stable
//! and documented in [`codes`]. Suspicion rests on behaviour and context only: no protected
//! attribute is used, and family names count only by their rarity in the population.

pub mod codes;
pub mod config;
pub mod context;
pub mod eval;

mod alert;
mod engine;
mod score;
mod sigma;

pub use alert::{Alert, AlertReason, AlertStatus};
pub use codes::{ExplanationCode, SignalCode};
pub use config::{Config, ConfigError};
pub use context::{Context, ContextRecords};
pub use engine::{Engine, subject_type_mismatch};
pub use score::{Check, CheckKind, EventScore, Explanation, Reason, Trace};
pub use sigma::sigma_fields;
