//! Detection for lekdicht: decides for every access event whether the context explains it (a
//! legitimate reason exists) and whether it is suspicious (a reason to look twice), gives it a
//! score in [0, 1] with plain reasons, and groups one employee's suspicious events into alerts.
//!
//! Pure and synchronous: no IO, no SQL, no threads. Build a [`Context`] from the context records,
//! an [`Engine`] from it and a [`Config`], feed events in time order with [`Engine::process`] and
//! collect alerts with [`Engine::finish`]. Every score carries its reasons; the codes are stable
//! and documented in [`codes`]. Suspicion rests on behaviour and context only: no protected
//! attribute is used, and family names count only by their rarity in the population.
//!
//! How a score comes about: each fired signal has a weight ([`Config::weights`]); each applicable
//! explanation removes its credit share of the weight of the signals it may offset
//! ([`Config::explanations`]); the score is `1 - exp(-sum)`, and every reason carries its
//! contribution. Suspicious events (score at least the reason threshold) of one actor are grouped
//! over a window into alerts, scored by accumulation and cut to a budget per 100 employees per
//! month. [`codes::markdown_table`] lists every code with its meaning; [`eval`] measures quality
//! against an answer key (never seen by the engine).

pub mod codes;
pub mod config;
pub mod context;
pub mod eval;
pub mod feedback;

mod alert;
mod engine;
pub mod evidence;
mod score;
mod sigma;

pub use alert::{Alert, AlertReason, AlertStatus};
pub use codes::{ExplanationCode, SignalCode};
pub use config::{Config, ConfigError};
pub use context::{Context, ContextRecords};
pub use engine::{Engine, NEWS_CAPACITY};
pub use evidence::AccessPath;
pub use score::{Check, CheckKind, EventScore, Explanation, Reason, Trace};
pub use sigma::sigma_fields;
