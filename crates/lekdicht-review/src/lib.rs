//! The review domain of lekdicht: everything the review application decides that does not need a
//! database, a network or a clock.
//!
//! It holds the roles and their permissions ([`Role`], [`Permission`], [`allowed`]), the four-eyes
//! rules on granting them ([`needs_confirmation`], [`may_confirm`], [`independent_sides`]), stable
//! pseudonyms for employees and data subjects ([`Pseudonymizer`]), the Wilson score interval
//! ([`wilson`]), the stratified random-sample audit ([`draw`], [`estimate`]), suppression rules
//! ([`validate`], [`suppressed_by`]) and the vocabularies of review decisions with the feedback
//! they give to detection ([`AlertStatus`], [`DismissReason`], [`signal_precision`]).
//!
//! This crate deliberately does no IO: no files, no SQL, no HTTP, no async runtime and no clock
//! reads. Time is always passed in by the caller, so every function here is deterministic and can
//! be tested on its own.
//!
//! ```
//! use lekdicht_review::{Permission, Role, Z95, allowed, wilson};
//!
//! assert!(!allowed(&[Role::Reviewer], Permission::RequestReveal));
//! assert!(allowed(&[Role::Reviewer, Role::Investigator], Permission::RequestReveal));
//! let precision = wilson(5, 10, Z95);
//! assert!(precision.low < 0.5 && 0.5 < precision.high);
//! ```

mod decisions;
mod grants;
mod lang;
mod pseudonym;
mod roles;
mod sample;
mod stats;
mod suppression;

pub use decisions::{
    AlertAction, AlertStatus, DismissReason, JustificationRequest, Outcome, SignalPrecision,
    alert_move, default_due, format_date, justification_message, signal_precision,
};
pub use grants::{
    Account, GrantRefusal, conflicting_roles, independent_sides, may_confirm, needs_confirmation,
};
pub use lang::Lang;
pub use pseudonym::Pseudonymizer;
pub use roles::{Permission, Role, allowed};
pub use sample::{
    Allocation, Judgement, SampleEstimate, SamplePlan, StratumDraw, StratumKey, StratumTally, draw,
    estimate, minimum_total, month_period,
};
pub use stats::{Interval, Z95, wilson, wilson_fractional};
pub use suppression::{
    AlertFacts, MAX_RULE_DAYS, RuleError, SuppressionRule, SuppressionScope, is_active,
    suppressed_by, validate,
};

#[cfg(test)]
mod tests {
    /// Every source file opens with a `//!` paragraph saying what it does and does not do.
    #[test]
    fn every_file_opens_with_module_docs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for sub in ["src", "examples"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(
                        text.starts_with("//! "),
                        "{} lacks module docs",
                        path.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 8, "only {checked} files checked");
    }
}
