//! The detection settings: signal weights, explanation credits, windows, thresholds, the alert
//! budget and custom Sigma rules, in one typed struct read from TOML.
//!
//! Every field has a documented default ([`Config::default`]); a TOML file only needs the fields it
//! changes. `detect.example.toml` next to this crate spells out the defaults and is checked by a
//! test. This module validates values but does not read files: the caller passes the text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes::{ExplanationCode, SignalCode};

/// Why a configuration was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid TOML or does not fit the configuration's shape.
    #[error("configuration does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value is out of its allowed range.
    #[error("configuration field `{field}` is invalid: {reason}")]
    Invalid { field: String, reason: String },
    /// A custom Sigma rule does not parse or compile.
    #[error("Sigma rule {index} is invalid: {reason}")]
    Sigma { index: usize, reason: String },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// All detection settings. See the field docs and `detect.example.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Systems in which patrol work happens (`AREA_PATROL` applies only there).
    pub operational_systems: Vec<String>,
    /// Time windows and grace periods.
    pub windows: Windows,
    /// Counts and factors at which behavioural signals fire.
    pub thresholds: Thresholds,
    /// How a family name's rarity is computed for `SAME_FAMILY_NAME`.
    pub family_name: FamilyName,
    /// Multiplier of the `FLAGGED_SUBJECT` weight per flag (the largest applicable one counts).
    pub flags: FlagWeights,
    /// Signals that are common in a role's ordinary work weigh less for that role.
    pub peer_damping: PeerDamping,
    /// Weight of each signal, in score units (the score is `1 - exp(-sum)`). `SIGMA_RULE` is not
    /// listed: a Sigma hit weighs by its rule's level (`sigma.level_weights`).
    pub weights: BTreeMap<SignalCode, f64>,
    /// Credit of each explanation and the signals it may offset.
    pub explanations: BTreeMap<ExplanationCode, ExplanationConfig>,
    /// How suspicious events are grouped into alerts.
    pub alerts: AlertConfig,
    /// Custom Sigma rules over access events.
    pub sigma: SigmaConfig,
}

/// Time windows. Durations are in the unit their name says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Windows {
    /// Context that becomes valid up to this long after an access still counts for it (a case
    /// opened, a member joining). Nothing later is ever used: scores have no other look-ahead.
    pub grace_hours: f64,
    /// An incident explains accesses up to this long before it was registered (at most the grace).
    pub incident_before_hours: f64,
    /// An incident explains accesses up to this long after it was closed (or registered, if open).
    pub incident_after_hours: f64,
    /// An explained access to a subject explains the same actor's accesses to it for this long.
    pub follow_up_days: f64,
    /// A colleague's explained access explains the unit's accesses to that subject for this long.
    pub team_hours: f64,
    /// Roster data within this distance of an access means the actor's duty times are known.
    pub roster_horizon_hours: f64,
    /// Accesses this close before a shift's start or after its end count as on duty.
    pub shift_margin_minutes: f64,
    /// `LEAVING_SOON` fires within this many days before the last working day.
    pub leaving_soon_days: f64,
    /// Window in which `BROWSING` counts distinct unexplained subjects.
    pub browsing_minutes: f64,
    /// Window after a name search without a case in which `BROWSING` counts views of persons
    /// bearing that name.
    pub name_search_minutes: f64,
    /// Window in which `BULK_EXPORT` counts exports and prints.
    pub bulk_export_hours: f64,
    /// Window in which `IN_THE_NEWS` counts distinct actors on one subject.
    pub news_hours: f64,
}

/// Counts and factors for the behavioural signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Distinct unexplained subjects within the browsing window that make `BROWSING` fire.
    pub browsing_subjects: u32,
    /// Distinct persons bearing the name of a preceding name search (without a case), viewed
    /// without explanation within the browsing window, that make `BROWSING` fire.
    pub browsing_name_hits: u32,
    /// Exports and prints within the bulk window that make `BULK_EXPORT` fire.
    pub bulk_exports: u32,
    /// Distinct actors on one subject within the news window that make `IN_THE_NEWS` fire
    /// (2 to 16), on an access that no case, incident, follow-up or colleague's case links to it
    /// (an area does not: patrol work explains where and when, not who) ...
    pub news_actors: u32,
    /// ... when at least this share of those actors had no such link either (many employees on one
    /// person with a registered case behind most of them is an operation: a big incident and its
    /// helpers) ...
    pub news_unlinked_share: f64,
    /// ... and the actors without a link come from at least this many distinct units (one team's
    /// ordinary work on a busy record is not curiosity across the organisation).
    pub news_units: u32,
    /// Days of own history needed before `VOLUME_UNUSUAL` can fire.
    pub volume_history_days: u32,
    /// `VOLUME_UNUSUAL`: today's count must exceed this factor times the own daily mean.
    pub volume_factor: f64,
    /// `VOLUME_UNUSUAL_PEERS`: today's count must exceed this factor times the peers' daily mean.
    pub peer_volume_factor: f64,
    /// The volume signals never fire below this many accesses in a day.
    pub volume_min_events: u32,
    /// Peer actor-days needed before `VOLUME_UNUSUAL_PEERS` can fire.
    pub peer_min_days: u32,
    /// Own accesses needed before `UNEXPLAINED_SHARE_UNUSUAL` can fire.
    pub share_min_events: u32,
    /// `UNEXPLAINED_SHARE_UNUSUAL`: own unexplained share must exceed the role's share times this ...
    pub share_factor: f64,
    /// ... and exceed it by at least this much (absolute share).
    pub share_margin: f64,
    /// `UNUSUAL_SYSTEM`: the role's share of accesses in the system must be below this.
    pub unusual_system_share: f64,
    /// `UNUSUAL_SYSTEM`: the role needs this many accesses before the share is trusted.
    pub unusual_system_min_role_events: u32,
}

/// How `SAME_FAMILY_NAME` weighs a name by its frequency among subjects.
///
/// A name held by `count` subjects gets rarity `ln(T / count) / ln(T)` clamped to [0, 1], where
/// `T = max(common_min_count, common_share * number_of_subjects)`: a name held by one person has
/// rarity 1, a name held by `T` or more persons has rarity 0. The signal's weight is the configured
/// weight times the rarity, so frequent names never make their bearers suspects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FamilyName {
    /// Share of the population from which a name counts as fully common.
    pub common_share: f64,
    /// Lower bound for the common count, for small populations.
    pub common_min_count: u32,
}

/// Peer-relative weighting of the behavioural signals: a signal that fires on a large share of the
/// accesses of the actor's role (so far) tells less about this actor.
///
/// With `rate` the smoothed share of the role's earlier accesses on which the signal fired, the
/// weight is multiplied by `1 - 0.5 * log10(rate / baseline_rate)`, clamped to `[floor, 1]`: at the
/// baseline rate or below the full weight counts, ten times as common halves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerDamping {
    /// Share of accesses at or below which a signal keeps its full weight.
    pub baseline_rate: f64,
    /// Lowest multiplier.
    pub floor: f64,
    /// The signals damped this way. Signals about who the subject is to the actor (self,
    /// relations, housemates), restricted cases and absences are never damped by default.
    pub signals: Vec<SignalCode>,
}

impl Default for PeerDamping {
    fn default() -> Self {
        use SignalCode::*;
        PeerDamping {
            baseline_rate: 0.002,
            floor: 0.25,
            signals: vec![
                SamePostcode,
                FlaggedSubject,
                CaseNotNamingSubject,
                CaseNotMember,
                CaseUnknown,
                OffDuty,
                NameSearchNoCase,
                Browsing,
                UnusualSystem,
                InTheNews,
                UnexplainedShareUnusual,
            ],
        }
    }
}

/// Multipliers of the `FLAGGED_SUBJECT` weight per flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlagWeights {
    pub vip: f64,
    pub protected: f64,
    /// Informant records are often looked up in ordinary investigative work; their handlers should
    /// be case members, so the flag alone weighs less.
    pub informant: f64,
}

impl Default for FlagWeights {
    fn default() -> Self {
        FlagWeights {
            vip: 1.0,
            protected: 1.0,
            informant: 0.5,
        }
    }
}

/// An explanation's credit: a fired explanation lowers each signal it may offset by this share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplanationConfig {
    /// Share of an offset signal's weight that is removed (0 to 1).
    pub credit: f64,
    /// The signals this explanation may offset; others keep their full weight.
    pub offsets: Vec<SignalCode>,
}

/// How alerts are formed: per actor and period, the surprise of what they did against what chance
/// gives their peers (see [`crate::evidence`]), as a calibrated probability and a rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// An event with at least this score counts as suspicious (reason lists in reports, the count
    /// of suspicious accesses).
    pub reason_threshold: f64,
    /// Length of the period over which one actor's accesses are weighed together, in days.
    pub window_days: f64,
    /// An alert enters the review queue only with at least this calibrated probability of being
    /// real; below it, it is kept with its rank.
    pub min_probability: f64,
    /// The queue takes the most probable alerts as long as their mean probability (the share of
    /// them expected to be real) stays at least this.
    pub target_precision: f64,
    /// Maximum queued alerts per 100 employees per 30 days; the best-ranked alerts are queued.
    pub budget_per_100_per_month: f64,
    /// Weight, in expected hits, of a wider group's base rate when a peer group's own rate is
    /// estimated (peer group within role within organisation): a group's own rate counts once it
    /// has seen about this many hits' worth of records.
    pub prior_hits: f64,
    /// Periods with less total surprise than this (bits) are not assessed further.
    pub min_bits: f64,
    /// Multiplier of a signal's surprise (default 1). Reviewers' decisions set these through
    /// `lekdicht feedback`; 0 ignores a signal as evidence.
    pub signal_multipliers: BTreeMap<SignalCode, f64>,
    /// Multiplier of the surprise of records reached on each path: a person looked up directly
    /// says more about intent than the holder of a vehicle checked on the street.
    pub path_weights: PathWeights,
    /// Multiplier of the surprise of accesses explained only by where and when they happened
    /// (patrol in the unit's area): such work meets people by chance.
    pub area_explained_weight: f64,
}

/// Multiplier of the surprise per access path (see [`AlertConfig::path_weights`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathWeights {
    pub person: f64,
    pub vehicle: f64,
    pub other: f64,
}

impl Default for PathWeights {
    fn default() -> Self {
        PathWeights {
            person: 1.0,
            vehicle: 0.25,
            other: 0.5,
        }
    }
}

/// Custom Sigma rules.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SigmaConfig {
    /// Sigma YAML documents (detection and correlation rules; several per string allowed).
    pub rules: Vec<String>,
    /// Weight of a hit per rule level.
    pub level_weights: LevelWeights,
}

/// Weight of a Sigma hit per rule level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelWeights {
    pub informational: f64,
    pub low: f64,
    pub medium: f64,
    pub high: f64,
    pub critical: f64,
}

impl Default for LevelWeights {
    fn default() -> Self {
        LevelWeights {
            informational: 0.1,
            low: 0.3,
            medium: 0.7,
            high: 1.2,
            critical: 2.0,
        }
    }
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            grace_hours: 24.0,
            incident_before_hours: 24.0,
            incident_after_hours: 72.0,
            follow_up_days: 30.0,
            team_hours: 24.0,
            roster_horizon_hours: 168.0,
            shift_margin_minutes: 60.0,
            leaving_soon_days: 28.0,
            browsing_minutes: 30.0,
            name_search_minutes: 15.0,
            bulk_export_hours: 24.0,
            news_hours: 72.0,
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            browsing_subjects: 12,
            browsing_name_hits: 2,
            bulk_exports: 15,
            news_actors: 5,
            news_unlinked_share: 0.25,
            news_units: 3,
            volume_history_days: 5,
            volume_factor: 4.0,
            peer_volume_factor: 5.0,
            volume_min_events: 60,
            peer_min_days: 20,
            share_min_events: 50,
            share_factor: 3.0,
            share_margin: 0.15,
            unusual_system_share: 0.01,
            unusual_system_min_role_events: 500,
        }
    }
}

impl Default for FamilyName {
    fn default() -> Self {
        FamilyName {
            common_share: 0.001,
            common_min_count: 20,
        }
    }
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            reason_threshold: 0.5,
            window_days: 30.0,
            min_probability: 0.2,
            target_precision: 0.8,
            budget_per_100_per_month: 2.0,
            prior_hits: 3.0,
            min_bits: 0.5,
            signal_multipliers: default_multipliers(),
            path_weights: PathWeights::default(),
            area_explained_weight: 0.4,
        }
    }
}

/// Signals that tell how much of an actor's work is unregistered or how busy a day was: they vary
/// a great deal between honest colleagues (with the roster data that happens to be available, for
/// one) and say nothing about whose record was looked up, so by default they do not count as
/// evidence for an alert (they still score the events they fire on). Name browsing is caught by
/// `BROWSING`, which ties the searches to the persons viewed.
pub fn default_multipliers() -> BTreeMap<SignalCode, f64> {
    use SignalCode::*;
    [
        Unexplained,
        UnexplainedShareUnusual,
        VolumeUnusual,
        VolumeUnusualPeers,
        NameSearchNoCase,
    ]
    .into_iter()
    .map(|c| (c, 0.0))
    .collect()
}

/// Default weight of each signal.
pub fn default_weight(code: SignalCode) -> f64 {
    use SignalCode::*;
    match code {
        Unexplained => 0.15,
        SelfLookup => 3.0,
        DeclaredRelation => 2.5,
        SameAddress => 2.0,
        SamePostcode => 0.6,
        SameFamilyName => 1.5,
        ColleagueRecord => 2.0,
        FlaggedSubject => 1.2,
        RestrictedCaseNotMember => 2.5,
        CaseNotNamingSubject => 2.0,
        CaseNotMember => 1.0,
        CaseUnknown => 0.6,
        OffDuty => 0.6,
        OnLeave => 2.0,
        Sick => 2.0,
        AfterLastDay => 2.5,
        LeavingSoon => 0.5,
        VolumeUnusual => 0.3,
        VolumeUnusualPeers => 0.3,
        UnexplainedShareUnusual => 0.1,
        NameSearchNoCase => 0.25,
        Browsing => 0.8,
        ExportUnexplained => 1.0,
        BulkExport => 1.0,
        UnusualSystem => 0.4,
        InTheNews => 0.5,
        SigmaRule => 0.0,
    }
}

/// Default credit and offset list of each explanation.
pub fn default_explanation(code: ExplanationCode) -> ExplanationConfig {
    use SignalCode::*;
    // Signals any work-related reason may offset: the behaviour is explained by the work.
    let work: &[SignalCode] = &[
        Unexplained,
        SamePostcode,
        SameFamilyName,
        ColleagueRecord,
        FlaggedSubject,
        CaseNotNamingSubject,
        CaseNotMember,
        CaseUnknown,
        OffDuty,
        LeavingSoon,
        VolumeUnusual,
        VolumeUnusualPeers,
        UnexplainedShareUnusual,
        NameSearchNoCase,
        Browsing,
        ExportUnexplained,
        BulkExport,
        UnusualSystem,
        InTheNews,
    ];
    // Patrol work explains where and when, not who: relations (a neighbour in the actor's own
    // postcode, a bearer of the actor's family name), restricted cases, flagged records,
    // colleagues, exports and persons in the news stay visible.
    let area: &[SignalCode] = &[
        Unexplained,
        CaseUnknown,
        OffDuty,
        VolumeUnusual,
        VolumeUnusualPeers,
        UnexplainedShareUnusual,
        NameSearchNoCase,
        Browsing,
        UnusualSystem,
    ];
    let with_restricted = |list: &[SignalCode]| {
        let mut v = list.to_vec();
        v.push(RestrictedCaseNotMember);
        v
    };
    match code {
        ExplanationCode::CaseMember => ExplanationConfig {
            credit: 0.9,
            offsets: with_restricted(work),
        },
        ExplanationCode::IncidentHandler => ExplanationConfig {
            credit: 0.9,
            offsets: with_restricted(work),
        },
        ExplanationCode::UnitCase => ExplanationConfig {
            credit: 0.7,
            offsets: work.to_vec(),
        },
        ExplanationCode::FollowUp => ExplanationConfig {
            credit: 0.8,
            offsets: work.to_vec(),
        },
        ExplanationCode::AreaPatrol => ExplanationConfig {
            credit: 0.9,
            offsets: area.to_vec(),
        },
        ExplanationCode::TeamCollaboration => ExplanationConfig {
            credit: 0.7,
            offsets: work.to_vec(),
        },
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            operational_systems: ["BVH", "BRP", "RDW", "BlueView"].map(String::from).to_vec(),
            windows: Windows::default(),
            thresholds: Thresholds::default(),
            family_name: FamilyName::default(),
            flags: FlagWeights::default(),
            peer_damping: PeerDamping::default(),
            weights: SignalCode::ALL
                .iter()
                .filter(|&&c| c != SignalCode::SigmaRule)
                .map(|&c| (c, default_weight(c)))
                .collect(),
            explanations: ExplanationCode::ALL
                .iter()
                .map(|&c| (c, default_explanation(c)))
                .collect(),
            alerts: AlertConfig::default(),
            sigma: SigmaConfig::default(),
        }
    }
}

impl Config {
    /// Parses a TOML text; fields it omits keep their defaults, weights and explanations it omits
    /// keep theirs. The result is validated.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text)?;
        for &code in SignalCode::ALL
            .iter()
            .filter(|&&c| c != SignalCode::SigmaRule)
        {
            config
                .weights
                .entry(code)
                .or_insert_with(|| default_weight(code));
        }
        for &code in ExplanationCode::ALL {
            config
                .explanations
                .entry(code)
                .or_insert_with(|| default_explanation(code));
        }
        config.validate()?;
        Ok(config)
    }

    /// Renders the configuration as TOML (the example file is this text, commented).
    pub fn to_toml_string(&self) -> String {
        // Serialising plain data into TOML cannot fail: all keys are strings and no value is a
        // bare `None`.
        toml::to_string(self).unwrap_or_default()
    }

    /// Checks ranges: weights non-negative and finite, credits and shares in [0, 1], windows
    /// non-negative, the incident window within the grace period.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.weights.contains_key(&SignalCode::SigmaRule) {
            return Err(invalid(
                "weights.SIGMA_RULE",
                "a Sigma hit weighs by its rule's level: set sigma.level_weights instead",
            ));
        }
        for (code, w) in &self.weights {
            if !w.is_finite() || *w < 0.0 {
                return Err(invalid(
                    format!("weights.{code}"),
                    "must be a finite number >= 0",
                ));
            }
        }
        for (code, e) in &self.explanations {
            if !(0.0..=1.0).contains(&e.credit) {
                return Err(invalid(
                    format!("explanations.{code}.credit"),
                    "must be in [0, 1]",
                ));
            }
        }
        let w = &self.windows;
        let windows = [
            ("grace_hours", w.grace_hours),
            ("incident_before_hours", w.incident_before_hours),
            ("incident_after_hours", w.incident_after_hours),
            ("follow_up_days", w.follow_up_days),
            ("team_hours", w.team_hours),
            ("roster_horizon_hours", w.roster_horizon_hours),
            ("shift_margin_minutes", w.shift_margin_minutes),
            ("leaving_soon_days", w.leaving_soon_days),
            ("browsing_minutes", w.browsing_minutes),
            ("name_search_minutes", w.name_search_minutes),
            ("bulk_export_hours", w.bulk_export_hours),
            ("news_hours", w.news_hours),
        ];
        for (name, value) in windows {
            if !value.is_finite() || value < 0.0 {
                return Err(invalid(
                    format!("windows.{name}"),
                    "must be a finite number >= 0",
                ));
            }
        }
        if w.incident_before_hours > w.grace_hours {
            return Err(invalid(
                "windows.incident_before_hours",
                "must not exceed windows.grace_hours (no look-ahead beyond the grace period)",
            ));
        }
        let a = &self.alerts;
        for (name, value) in [
            ("reason_threshold", a.reason_threshold),
            ("min_probability", a.min_probability),
            ("target_precision", a.target_precision),
        ] {
            if !(0.0..1.0).contains(&value) {
                return Err(invalid(format!("alerts.{name}"), "must be in [0, 1)"));
            }
        }
        if !(a.window_days.is_finite() && a.window_days > 0.0) {
            return Err(invalid("alerts.window_days", "must be > 0"));
        }
        if !(a.budget_per_100_per_month.is_finite() && a.budget_per_100_per_month >= 0.0) {
            return Err(invalid("alerts.budget_per_100_per_month", "must be >= 0"));
        }
        if !(a.prior_hits.is_finite() && a.prior_hits > 0.0) {
            return Err(invalid("alerts.prior_hits", "must be > 0"));
        }
        if !(a.min_bits.is_finite() && a.min_bits >= 0.0) {
            return Err(invalid("alerts.min_bits", "must be >= 0"));
        }
        for (code, m) in &a.signal_multipliers {
            if !(m.is_finite() && (0.0..=4.0).contains(m)) {
                return Err(invalid(
                    format!("alerts.signal_multipliers.{code}"),
                    "must be in [0, 4]",
                ));
            }
        }
        let w = &a.path_weights;
        for (name, v) in [
            ("person", w.person),
            ("vehicle", w.vehicle),
            ("other", w.other),
            ("area_explained_weight", a.area_explained_weight),
        ] {
            if !(v.is_finite() && (0.0..=4.0).contains(&v)) {
                let field = if name == "area_explained_weight" {
                    "alerts.area_explained_weight".to_owned()
                } else {
                    format!("alerts.path_weights.{name}")
                };
                return Err(invalid(field, "must be in [0, 4]"));
            }
        }
        let f = &self.family_name;
        if !(f.common_share > 0.0 && f.common_share <= 1.0) {
            return Err(invalid("family_name.common_share", "must be in (0, 1]"));
        }
        if f.common_min_count < 2 {
            return Err(invalid(
                "family_name.common_min_count",
                "must be at least 2",
            ));
        }
        let t = &self.thresholds;
        if t.news_actors as usize > crate::engine::NEWS_CAPACITY || t.news_actors < 2 {
            return Err(invalid(
                "thresholds.news_actors",
                format!("must be between 2 and {}", crate::engine::NEWS_CAPACITY),
            ));
        }
        if t.news_units as usize > crate::engine::NEWS_CAPACITY || t.news_units < 1 {
            return Err(invalid(
                "thresholds.news_units",
                format!("must be between 1 and {}", crate::engine::NEWS_CAPACITY),
            ));
        }
        if !(0.0..=1.0).contains(&t.news_unlinked_share) {
            return Err(invalid(
                "thresholds.news_unlinked_share",
                "must be in [0, 1]",
            ));
        }
        if !(0.0..=1.0).contains(&t.unusual_system_share) {
            return Err(invalid(
                "thresholds.unusual_system_share",
                "must be in [0, 1]",
            ));
        }
        for (name, value) in [
            ("volume_factor", t.volume_factor),
            ("peer_volume_factor", t.peer_volume_factor),
            ("share_factor", t.share_factor),
            ("share_margin", t.share_margin),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(invalid(
                    format!("thresholds.{name}"),
                    "must be a finite number >= 0",
                ));
            }
        }
        let pd = &self.peer_damping;
        if !(pd.baseline_rate > 0.0 && pd.baseline_rate <= 1.0) {
            return Err(invalid("peer_damping.baseline_rate", "must be in (0, 1]"));
        }
        if !(0.0..=1.0).contains(&pd.floor) {
            return Err(invalid("peer_damping.floor", "must be in [0, 1]"));
        }
        let fl = &self.flags;
        for value in [fl.vip, fl.protected, fl.informant] {
            if !value.is_finite() || value < 0.0 {
                return Err(invalid("flags", "multipliers must be finite numbers >= 0"));
            }
        }
        let l = &self.sigma.level_weights;
        for value in [l.informational, l.low, l.medium, l.high, l.critical] {
            if !value.is_finite() || value < 0.0 {
                return Err(invalid(
                    "sigma.level_weights",
                    "must be finite numbers >= 0",
                ));
            }
        }
        Ok(())
    }

    /// The weight of a signal (its default when the map lacks it).
    pub fn weight(&self, code: SignalCode) -> f64 {
        self.weights
            .get(&code)
            .copied()
            .unwrap_or_else(|| default_weight(code))
    }
}
