//! Custom rules in the Sigma format (detection and correlation rules) over access events, evaluated
//! with `rsigma-parser` and `rsigma-eval`.
//!
//! An access event is presented to the rules as a flat JSON object with the contract's field names
//! (`id`, `time`, `actor`, `system`, `action`, `subject`, `subject_type`, `query`, `result_count`,
//! `case`, `purpose`, `organization`, `location`, `workstation`) plus `actor_unit` and `actor_role`
//! from the context. A hit becomes a `SIGMA_RULE` reason whose detail is the rule's title and whose
//! weight comes from the rule's level. Correlation state lives in the runner and sees earlier events
//! only. No rule files are read here: the configuration carries the YAML text.

use lekdicht_model::AccessEvent;
use rsigma_eval::{CorrelationConfig, CorrelationEngine, JsonEvent};
use rsigma_parser::{Level, parse_sigma_yaml};
use serde_json::{Map, Value};

use crate::config::{ConfigError, LevelWeights, SigmaConfig};

/// Compiled Sigma rules with their correlation state.
pub(crate) struct SigmaRunner {
    engine: CorrelationEngine,
    weights: LevelWeights,
}

impl SigmaRunner {
    /// Compiles the configured rules; `None` when there are none.
    pub fn new(config: &SigmaConfig) -> Result<Option<SigmaRunner>, ConfigError> {
        if config.rules.is_empty() {
            return Ok(None);
        }
        let correlation = CorrelationConfig {
            // Rules that only feed a correlation do not fire on their own.
            emit_detections: false,
            ..CorrelationConfig::default()
        };
        let mut engine = CorrelationEngine::new(correlation);
        for (index, text) in config.rules.iter().enumerate() {
            let collection = parse_sigma_yaml(text)
                .map_err(|e| ConfigError::Sigma {
                    index,
                    reason: e.to_string(),
                })?
                .into_result()
                .map_err(|errors| ConfigError::Sigma {
                    index,
                    reason: errors.join("; "),
                })?;
            engine
                .add_collection(&collection)
                .map_err(|e| ConfigError::Sigma {
                    index,
                    reason: e.to_string(),
                })?;
        }
        Ok(Some(SigmaRunner {
            engine,
            weights: config.level_weights.clone(),
        }))
    }

    /// Runs the rules on one event; returns (rule title, weight) per hit.
    pub fn run(
        &mut self,
        event: &AccessEvent,
        secs: i64,
        actor_unit: Option<&str>,
        actor_role: Option<&str>,
    ) -> Vec<(String, f64)> {
        let value = sigma_fields(event, actor_unit, actor_role);
        let results = self
            .engine
            .process_event_at(&JsonEvent::borrow(&value), secs);
        results
            .into_iter()
            .map(|r| {
                let weight = match r.header.level {
                    Some(Level::Informational) => self.weights.informational,
                    Some(Level::Low) => self.weights.low,
                    Some(Level::Medium) | None => self.weights.medium,
                    Some(Level::High) => self.weights.high,
                    Some(Level::Critical) => self.weights.critical,
                };
                (r.header.rule_title, weight)
            })
            .collect()
    }
}

/// The event as Sigma rules see it.
pub fn sigma_fields(
    event: &AccessEvent,
    actor_unit: Option<&str>,
    actor_role: Option<&str>,
) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), Value::String(v.to_owned()));
        }
    };
    put("id", Some(event.id.as_str()));
    put("time", Some(&event.time.to_rfc3339()));
    put("actor", Some(event.actor.as_str()));
    put("system", Some(&event.system));
    put("action", Some(event.action.as_str()));
    put("subject", event.subject.as_ref().map(|s| s.as_str()));
    put("subject_type", Some(event.subject_type.as_str()));
    put("query", event.query.as_deref());
    put("case", event.case.as_ref().map(|c| c.as_str()));
    put("purpose", event.purpose.as_deref());
    put("organization", event.organization.as_deref());
    put("location", event.location.as_deref());
    put("workstation", event.workstation.as_deref());
    put("actor_unit", actor_unit);
    put("actor_role", actor_role);
    if let Some(n) = event.result_count {
        m.insert("result_count".to_owned(), Value::from(n));
    }
    Value::Object(m)
}
