//! Suppression rules: a reviewer's recorded decision that one detection signal, in a narrow scope,
//! is known to be legitimate for a while, so that it stops raising alerts.
//!
//! Suppression is the main defence against alert fatigue and also the easiest way to hide abuse,
//! so the rules are deliberately narrow and temporary: every rule has an owner, a reason and an
//! expiry at most [`MAX_RULE_DAYS`] days ahead; it names a unit or an actor (never a signal for a
//! whole organisation); and an alert is suppressed only when every one of its signals is covered.
//! Deliberately absent: storing rules, the organisation check (the caller passes only the rules of
//! the alert's organisation) and the clock (`now` is passed in).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// What a rule applies to; every field that is set must match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct SuppressionScope {
    /// The unit of the employee.
    pub unit: Option<String>,
    /// The employee (actor) of the alert.
    pub actor: Option<String>,
    /// A source system; matches when the alert has events from it.
    pub system: Option<String>,
}

/// One suppression rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SuppressionRule {
    pub id: String,
    pub organisation: String,
    /// The detection signal code the rule silences.
    pub signal: String,
    pub scope: SuppressionScope,
    /// Who made the rule and answers for it.
    pub owner: String,
    /// Why the signal is legitimate in this scope.
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The longest a rule may stay in force, in days from the moment it is validated.
pub const MAX_RULE_DAYS: i64 = 180;

/// Why a suppression rule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The expiry is not after the current time.
    #[error("the rule's expiry must lie in the future")]
    ExpiryInPast,
    /// The expiry is further ahead than allowed.
    #[error("the rule's expiry may be at most {max_days} days ahead")]
    ExpiryTooFar { max_days: i64 },
    /// The signal code is not one detection knows.
    #[error("unknown detection signal `{0}`")]
    UnknownSignal(String),
    /// The scope names neither a unit nor an actor.
    #[error(
        "the rule must name a unit or an employee; a signal cannot be silenced organisation-wide"
    )]
    EmptyScope,
    /// The reason is empty.
    #[error("the rule needs a reason")]
    EmptyReason,
}

fn is_set(field: &Option<String>) -> bool {
    field
        .as_deref()
        .is_some_and(|value| !value.trim().is_empty())
}

/// Validates a new or changed rule: reason non-empty, signal in `known_signals`, expiry in
/// (now, now + 180 days], scope naming at least a unit or an actor. Checks in that order and
/// reports the first failure.
pub fn validate(
    rule: &SuppressionRule,
    known_signals: &[&str],
    now: DateTime<Utc>,
) -> Result<(), RuleError> {
    if rule.reason.trim().is_empty() {
        return Err(RuleError::EmptyReason);
    }
    if !known_signals.contains(&rule.signal.as_str()) {
        return Err(RuleError::UnknownSignal(rule.signal.clone()));
    }
    if rule.expires_at <= now {
        return Err(RuleError::ExpiryInPast);
    }
    let too_far = TimeDelta::try_days(MAX_RULE_DAYS)
        .and_then(|max| now.checked_add_signed(max))
        .is_none_or(|limit| rule.expires_at > limit);
    if too_far {
        return Err(RuleError::ExpiryTooFar {
            max_days: MAX_RULE_DAYS,
        });
    }
    if !is_set(&rule.scope.unit) && !is_set(&rule.scope.actor) {
        return Err(RuleError::EmptyScope);
    }
    Ok(())
}

/// What suppression needs to know about an alert.
#[derive(Debug, Clone, Copy)]
pub struct AlertFacts<'a> {
    /// The employee's unit, when known.
    pub unit: Option<&'a str>,
    /// The employee.
    pub actor: &'a str,
    /// The source systems of the alert's events.
    pub systems: &'a [String],
    /// The detection signal codes the alert carries.
    pub signals: &'a [String],
}

/// True when the rule is in force at `now`: created at or before `now`, not yet expired and not
/// revoked at or before `now` (so that past decisions can be replayed with their own `now`).
pub fn is_active(rule: &SuppressionRule, now: DateTime<Utc>) -> bool {
    rule.created_at <= now
        && now < rule.expires_at
        && rule.revoked_at.is_none_or(|revoked| revoked > now)
}

/// True when every scope field that is set equals the alert's (system: any of the alert's systems).
fn scope_matches(scope: &SuppressionScope, alert: &AlertFacts) -> bool {
    let unit = scope
        .unit
        .as_deref()
        .is_none_or(|unit| alert.unit == Some(unit));
    let actor = scope
        .actor
        .as_deref()
        .is_none_or(|actor| alert.actor == actor);
    let system = scope
        .system
        .as_deref()
        .is_none_or(|system| alert.systems.iter().any(|s| s == system));
    unit && actor && system
}

/// Decides whether an alert is suppressed. A rule matches when it is active, every scope field
/// that is set equals the alert's (system: any of the alert's systems), and the alert carries the
/// rule's signal. The alert is suppressed only when EVERY signal it carries is covered by some
/// matching rule: then the ids of all matching rules are returned (in the order of `rules`,
/// without repeats); otherwise, and for an alert without signals, `None`. Rules of other
/// organisations must be filtered out by the caller.
pub fn suppressed_by(
    rules: &[SuppressionRule],
    alert: &AlertFacts,
    now: DateTime<Utc>,
) -> Option<Vec<String>> {
    if alert.signals.is_empty() {
        return None;
    }
    let matching: Vec<&SuppressionRule> = rules
        .iter()
        .filter(|rule| {
            is_active(rule, now)
                && alert.signals.contains(&rule.signal)
                && scope_matches(&rule.scope, alert)
        })
        .collect();
    let covered = alert
        .signals
        .iter()
        .all(|signal| matching.iter().any(|rule| &rule.signal == signal));
    if !covered {
        return None;
    }
    let mut ids: Vec<String> = Vec::with_capacity(matching.len());
    for rule in matching {
        if !ids.contains(&rule.id) {
            ids.push(rule.id.clone());
        }
    }
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(day: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::days(day)
    }

    fn rule(id: &str, signal: &str, unit: Option<&str>, actor: Option<&str>) -> SuppressionRule {
        SuppressionRule {
            id: id.to_owned(),
            organisation: "politie-oost".to_owned(),
            signal: signal.to_owned(),
            scope: SuppressionScope {
                unit: unit.map(str::to_owned),
                actor: actor.map(str::to_owned),
                system: None,
            },
            owner: "reviewer-1".to_owned(),
            reason: "wijkagenten kijken in hun eigen wijk".to_owned(),
            created_at: t(0),
            expires_at: t(30),
            revoked_at: None,
        }
    }

    const SIGNALS: &[&str] = &["self_lookup", "same_address", "off_duty"];

    #[test]
    fn validation() {
        let ok = rule("r1", "same_address", Some("wijk-noord"), None);
        assert_eq!(validate(&ok, SIGNALS, t(0)), Ok(()));
        let check = |change: &dyn Fn(&mut SuppressionRule), expect: RuleError| {
            let mut r = ok.clone();
            change(&mut r);
            assert_eq!(validate(&r, SIGNALS, t(0)), Err(expect));
        };
        check(&|r| r.reason = "  ".to_owned(), RuleError::EmptyReason);
        check(
            &|r| r.signal = "nope".to_owned(),
            RuleError::UnknownSignal("nope".to_owned()),
        );
        check(&|r| r.expires_at = t(0), RuleError::ExpiryInPast);
        check(&|r| r.expires_at = t(-1), RuleError::ExpiryInPast);
        check(
            &|r| r.expires_at = t(180) + TimeDelta::seconds(1),
            RuleError::ExpiryTooFar { max_days: 180 },
        );
        check(&|r| r.scope.unit = None, RuleError::EmptyScope);
        check(
            &|r| r.scope.unit = Some(" ".to_owned()),
            RuleError::EmptyScope,
        );
        check(
            &|r| {
                r.scope.unit = None;
                r.scope.system = Some("BVH".to_owned());
            },
            RuleError::EmptyScope,
        );
        // Exactly 180 days is allowed; an actor alone is a valid scope.
        let mut edge = ok.clone();
        edge.expires_at = t(180);
        edge.scope = SuppressionScope {
            unit: None,
            actor: Some("E1".to_owned()),
            system: None,
        };
        assert_eq!(validate(&edge, SIGNALS, t(0)), Ok(()));
        assert!(
            RuleError::EmptyScope
                .to_string()
                .contains("organisation-wide")
        );
    }

    #[test]
    fn activity_window() {
        let mut r = rule("r1", "off_duty", Some("u"), None);
        assert!(!is_active(&r, t(-1)));
        assert!(is_active(&r, t(0)));
        assert!(is_active(&r, t(29)));
        assert!(!is_active(&r, t(30)));
        r.revoked_at = Some(t(10));
        assert!(is_active(&r, t(9)));
        assert!(!is_active(&r, t(10)));
    }

    #[test]
    fn suppressed_only_when_every_signal_is_covered() {
        let systems = vec!["BVH".to_owned(), "BRP".to_owned()];
        let signals = vec!["same_address".to_owned(), "off_duty".to_owned()];
        let alert = AlertFacts {
            unit: Some("wijk-noord"),
            actor: "E1",
            systems: &systems,
            signals: &signals,
        };
        let address = rule("r1", "same_address", Some("wijk-noord"), None);
        let duty = rule("r2", "off_duty", None, Some("E1"));
        let duty_twice = rule("r3", "off_duty", Some("wijk-noord"), Some("E1"));
        let other_unit = rule("r4", "off_duty", Some("wijk-zuid"), None);
        let mut other_system = rule("r5", "off_duty", None, Some("E1"));
        other_system.scope.system = Some("KVK".to_owned());
        let mut right_system = rule("r6", "off_duty", None, Some("E1"));
        right_system.scope.system = Some("BRP".to_owned());
        let unrelated = rule("r7", "self_lookup", Some("wijk-noord"), None);

        // One signal uncovered: not suppressed.
        assert_eq!(
            suppressed_by(&[address.clone(), unrelated.clone()], &alert, t(1)),
            None
        );
        assert_eq!(
            suppressed_by(&[address.clone(), other_unit], &alert, t(1)),
            None
        );
        assert_eq!(
            suppressed_by(&[address.clone(), other_system], &alert, t(1)),
            None
        );
        // Both covered: every matching rule, in order, once.
        assert_eq!(
            suppressed_by(
                &[address.clone(), unrelated, duty.clone(), duty_twice],
                &alert,
                t(1)
            ),
            Some(vec!["r1".to_owned(), "r2".to_owned(), "r3".to_owned()])
        );
        assert_eq!(
            suppressed_by(&[right_system, address.clone()], &alert, t(1)),
            Some(vec!["r6".to_owned(), "r1".to_owned()])
        );
        // Expired or revoked rules cover nothing.
        assert_eq!(
            suppressed_by(&[address.clone(), duty.clone()], &alert, t(30)),
            None
        );
        let mut revoked = duty;
        revoked.revoked_at = Some(t(1));
        assert_eq!(
            suppressed_by(&[address.clone(), revoked], &alert, t(2)),
            None
        );
        // A rule scoped to a unit does not match an alert whose unit is unknown.
        let no_unit = AlertFacts {
            unit: None,
            ..alert
        };
        let only_address = AlertFacts {
            signals: &signals[..1],
            ..no_unit
        };
        assert_eq!(suppressed_by(&[address], &only_address, t(1)), None);
        // An alert without signals is never suppressed.
        let empty = AlertFacts {
            signals: &[],
            ..alert
        };
        assert_eq!(suppressed_by(&[], &empty, t(1)), None);
    }
}
