//! Storage for the review application: accounts, sessions, login failures, API tokens, alert
//! decisions, reveals, suppression rules, the reviewers' audit trail and random-sample audits.
//!
//! Every method that changes something takes the [`NewAudit`] entry describing the change and writes
//! it in the same transaction, so that the audit trail never misses a change nor records one that
//! did not happen. This module stores rows; it does not hash passwords, check permissions, decide
//! who may see what or write the ledger (the audit rows carry the leaf index once ledgered).

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{SqliteStore, StoreError};

/// Who created each account, and grants of roles waiting for a second person (migration 5).
pub(crate) const GRANTS_SCHEMA: &str = r#"
ALTER TABLE users ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
-- A role asked for by one person, effective only once another confirms it (decision 'confirmed').
CREATE TABLE role_grants (
    id           INTEGER PRIMARY KEY,
    organisation TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    role         TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decision     TEXT,
    decided_by   TEXT,
    decided_at   TEXT
);
CREATE INDEX role_grants_by_org ON role_grants (organisation, id);
"#;

/// Tables of the review application (migration 2).
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    organisation  TEXT NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    -- When the account was disabled; NULL while it is active.
    disabled_at   TEXT
);

-- Only the SHA-256 of a session token is stored.
CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    csrf         TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    ip       TEXT NOT NULL,
    at_ms    INTEGER NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at_ms);
CREATE INDEX login_failures_by_ip ON login_failures (ip, at_ms);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Who did what, in the same transaction as the change; ledger_leaf is the audit log's leaf index
-- once the record was appended to <data>/ledger/audit.
CREATE TABLE audit_trail (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    organisation TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    object       TEXT NOT NULL,
    details      TEXT NOT NULL,
    ledger_leaf  INTEGER
);
CREATE INDEX audit_trail_by_org ON audit_trail (organisation, id);
CREATE INDEX audit_trail_unledgered ON audit_trail (id) WHERE ledger_leaf IS NULL;

-- Review state of an alert beyond alerts.status: escalation case and justification request.
CREATE TABLE alert_review (
    alert_id        TEXT PRIMARY KEY,
    organisation    TEXT NOT NULL,
    case_id         TEXT,
    justification   TEXT,
    updated_at      TEXT NOT NULL
);
CREATE TABLE alert_decisions (
    id           INTEGER PRIMARY KEY,
    alert_id     TEXT NOT NULL,
    organisation TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT,
    note         TEXT NOT NULL,
    decided_by   TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX alert_decisions_by_alert ON alert_decisions (alert_id, id);
CREATE INDEX alert_decisions_by_org ON alert_decisions (organisation, id);

CREATE TABLE reveals (
    id           INTEGER PRIMARY KEY,
    organisation TEXT NOT NULL,
    alert_id     TEXT NOT NULL,
    target       TEXT NOT NULL,
    subject      TEXT,
    reason       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decision     TEXT,
    decided_by   TEXT,
    decided_at   TEXT,
    decision_note TEXT,
    expires_ms   INTEGER
);
CREATE INDEX reveals_by_org ON reveals (organisation, id);
CREATE INDEX reveals_by_alert ON reveals (alert_id);

CREATE TABLE suppression_rules (
    id           TEXT PRIMARY KEY,
    organisation TEXT NOT NULL,
    signal       TEXT NOT NULL,
    unit         TEXT,
    actor        TEXT,
    system       TEXT,
    owner        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX suppression_rules_by_org ON suppression_rules (organisation);

CREATE TABLE samples (
    id           INTEGER PRIMARY KEY,
    organisation TEXT NOT NULL,
    seed         TEXT NOT NULL,
    plan         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    strata       TEXT
);
CREATE INDEX samples_by_org ON samples (organisation, id);
CREATE TABLE sample_items (
    sample_id  INTEGER NOT NULL REFERENCES samples (id),
    seq        INTEGER NOT NULL,
    stratum    TEXT NOT NULL,
    judgement  TEXT,
    note       TEXT,
    judged_by  TEXT,
    judged_at  TEXT,
    PRIMARY KEY (sample_id, seq)
) WITHOUT ROWID;
"#;

pub(crate) fn sql(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { op, source }
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One entry of the audit trail, written with the change it describes.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub organisation: String,
    /// The user name (or `system`).
    pub actor: String,
    pub action: String,
    /// What was acted on: an alert id, `user:name`, `sample:3`, ...
    pub object: String,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// A stored audit entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub organisation: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    /// JSON text.
    pub details: String,
    pub ledger_leaf: Option<u64>,
}

/// Which audit entries to list (newest first).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub organisation: String,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub limit: usize,
}

/// A user account as stored. `roles` are the role codes.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub organisation: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub created_at: String,
    /// Whether the account is disabled (its `disabled_at` is set).
    pub disabled: bool,
    /// Who created the account (a user name, `cli:<name>`, `oidc:<issuer> <user name>` for
    /// accounts of single sign-on; empty for accounts older than this).
    pub created_by: String,
    /// Whether the account signs in through OpenID Connect (it has no password of its own).
    pub single_sign_on: bool,
    /// The base32 secret of the account's second factor (TOTP), once enrolled.
    pub totp_secret: Option<String>,
}

/// A new account; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub organisation: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    /// Roles effective at once.
    pub roles: Vec<String>,
    /// Roles asked for, effective only once a second person confirms them.
    pub pending_roles: Vec<String>,
    /// Who creates the account; also the requester of its pending roles.
    pub created_by: String,
}

/// A request to grant a role to an account.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub organisation: String,
    pub user_id: i64,
    pub role: String,
    pub requested_by: String,
}

/// A stored grant request with its decision, if any.
#[derive(Debug, Clone)]
pub struct GrantRow {
    pub id: i64,
    pub organisation: String,
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub requested_by: String,
    pub requested_at: String,
    /// `confirmed` or `refused`; `None` while pending.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
}

/// Failed logins in a window, per user name and per address, with the latest of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginFailures {
    pub by_user: u64,
    pub last_user_ms: Option<i64>,
    pub by_ip: u64,
    pub last_ip_ms: Option<i64>,
}

/// A live session with its user.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: UserRow,
    pub csrf: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
}

/// An API token (its hash is never returned).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// The review state of one alert beyond its status.
#[derive(Debug, Clone, Default)]
pub struct AlertReviewRow {
    pub alert_id: String,
    pub case_id: Option<String>,
    /// JSON of the open or answered justification request, if any.
    pub justification: Option<String>,
}

/// A decision on an alert: the new status and what goes with it.
#[derive(Debug, Clone)]
pub struct AlertDecision {
    pub alert_id: String,
    pub organisation: String,
    /// `dismiss`, `escalate`, `request_justification`, `record_answer`, `reopen`.
    pub kind: String,
    /// The alert's status afterwards (`open`, `dismissed`, `escalated`, `justification_requested`).
    pub status: String,
    pub reason: Option<String>,
    pub note: String,
    pub decided_by: String,
    pub at: DateTime<Utc>,
    /// Set on escalation.
    pub case_id: Option<String>,
    /// Replaces the stored justification JSON when set.
    pub justification: Option<String>,
    /// Suppression rules created together with a dismissal.
    pub rules: Vec<RuleRow>,
}

/// A stored decision.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecisionRow {
    pub id: i64,
    pub alert_id: String,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub note: String,
    pub decided_by: String,
    pub at: String,
}

/// A request to reveal an alert's employee (`target = employee`) or a subject.
#[derive(Debug, Clone)]
pub struct NewReveal {
    pub organisation: String,
    pub alert_id: String,
    pub target: String,
    pub subject: Option<String>,
    pub reason: String,
    pub requested_by: String,
    pub at: DateTime<Utc>,
}

/// The decision on a pending reveal request.
#[derive(Debug, Clone)]
pub struct RevealDecision {
    pub id: i64,
    /// `approved` or `refused`.
    pub decision: String,
    pub decided_by: String,
    pub note: String,
    pub at: DateTime<Utc>,
    /// Until when an approved reveal shows the real identity (Unix ms).
    pub expires_ms: Option<i64>,
}

/// A stored reveal request and its decision.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RevealRow {
    pub id: i64,
    pub organisation: String,
    pub alert_id: String,
    pub target: String,
    pub subject: Option<String>,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    /// `approved` or `refused`; `None` while pending.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    pub expires_ms: Option<i64>,
}

/// A suppression rule as stored (times RFC 3339).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleRow {
    pub id: String,
    pub organisation: String,
    pub signal: String,
    pub unit: Option<String>,
    pub actor: Option<String>,
    pub system: Option<String>,
    pub owner: String,
    pub reason: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

/// A random-sample audit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SampleRow {
    pub id: i64,
    pub organisation: String,
    pub seed: String,
    /// JSON of the plan (period, strata, size, allocation, ...).
    pub plan: String,
    pub created_by: String,
    pub created_at: String,
    /// JSON of the strata with their populations, once drawn.
    pub strata: Option<String>,
}

/// One drawn event of a sample and its judgement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SampleItemRow {
    pub sample_id: i64,
    pub seq: u64,
    /// JSON of the stratum key.
    pub stratum: String,
    pub judgement: Option<String>,
    pub note: Option<String>,
    pub judged_by: Option<String>,
    pub judged_at: Option<String>,
}

/// What the review application needs from durable storage.
pub trait ReviewStore {
    /// Writes one audit entry on its own (views, logins); returns its id.
    fn record_audit(&mut self, audit: &NewAudit) -> Result<i64, StoreError>;
    /// Writes several audit entries in one transaction (group commit of page views).
    fn record_audits(&mut self, audits: &[NewAudit]) -> Result<(), StoreError>;
    /// Audit entries of one organisation, newest first.
    fn audit_trail(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, StoreError>;
    /// Up to `limit` entries not yet appended to the ledger, oldest first.
    fn unledgered_audit(&self, limit: usize) -> Result<Vec<AuditRow>, StoreError>;
    /// Records the ledger leaf index of audit entries.
    fn mark_ledgered(&mut self, leaves: &[(i64, u64)]) -> Result<(), StoreError>;

    /// Creates an account; `None` when the user name is taken.
    fn create_user(&mut self, user: &NewUser, audit: &NewAudit) -> Result<Option<i64>, StoreError>;
    fn user_by_username(&self, username: &str) -> Result<Option<UserRow>, StoreError>;
    fn users(&self) -> Result<Vec<UserRow>, StoreError>;
    /// Files a grant request (the role is not effective yet); returns its id.
    fn request_grant(&mut self, grant: &NewGrant, audit: &NewAudit) -> Result<i64, StoreError>;
    /// Grant requests of one organisation, newest first.
    fn grants(&self, organisation: &str) -> Result<Vec<GrantRow>, StoreError>;
    /// Decides a pending grant request; a confirmation adds the role to the account in the same
    /// transaction. False when the request was not pending.
    fn decide_grant(
        &mut self,
        id: i64,
        confirmed: bool,
        decided_by: &str,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;
    /// Takes a role away from an account at once; false when it did not hold the role.
    fn revoke_role(
        &mut self,
        user_id: i64,
        role: &str,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;

    /// Stores a new session (token hash only) and its audit entry.
    fn create_session(
        &mut self,
        token_hash: &[u8],
        user_id: i64,
        csrf: &str,
        now_ms: i64,
        audit: &NewAudit,
    ) -> Result<(), StoreError>;
    /// The live session with this token hash: deleted and `None` when idle longer than `idle_ms`
    /// or older than `absolute_ms`; its last-seen time is refreshed when older than a minute.
    fn session(
        &mut self,
        token_hash: &[u8],
        now_ms: i64,
        idle_ms: i64,
        absolute_ms: i64,
    ) -> Result<Option<SessionRow>, StoreError>;
    fn delete_session(&mut self, token_hash: &[u8], audit: &NewAudit) -> Result<(), StoreError>;

    /// Failed logins since `since_ms`, for this user name and from this address.
    fn login_failures(
        &self,
        username: &str,
        ip: &str,
        since_ms: i64,
    ) -> Result<LoginFailures, StoreError>;
    fn record_login_failure(
        &mut self,
        username: &str,
        ip: &str,
        at_ms: i64,
        audit: &NewAudit,
    ) -> Result<(), StoreError>;

    /// Stores an API token's hash for a user; returns its id.
    fn create_token(
        &mut self,
        user_id: i64,
        name: &str,
        token_hash: &[u8],
        audit: &NewAudit,
    ) -> Result<i64, StoreError>;
    /// The (enabled) user of an unrevoked token.
    fn token_user(&self, token_hash: &[u8]) -> Result<Option<UserRow>, StoreError>;
    fn tokens(&self) -> Result<Vec<TokenRow>, StoreError>;
    /// Revokes a token; false when it was not active.
    fn revoke_token(&mut self, id: i64, audit: &NewAudit) -> Result<bool, StoreError>;
    /// Disables or re-enables an account; disabling also ends all its sessions and revokes all its
    /// API tokens, in the same transaction. False when there is no such user.
    fn set_user_disabled(
        &mut self,
        id: i64,
        disabled: bool,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;

    /// The review state of one alert.
    fn alert_review(&self, alert_id: &str) -> Result<Option<AlertReviewRow>, StoreError>;
    /// The justification JSON of every alert of an organisation that has one.
    fn justifications(&self, organisation: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Applies a decision: the alert's status, its review state, the decision row, an optional
    /// suppression rule and the audit entry, in one transaction. False when the alert is unknown.
    fn decide_alert(
        &mut self,
        decision: &AlertDecision,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;
    fn alert_decisions(&self, alert_id: &str) -> Result<Vec<DecisionRow>, StoreError>;

    fn request_reveal(&mut self, reveal: &NewReveal, audit: &NewAudit) -> Result<i64, StoreError>;
    /// Decides a pending reveal; false when it was not pending.
    fn decide_reveal(
        &mut self,
        decision: &RevealDecision,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;
    fn reveals(&self, organisation: &str) -> Result<Vec<RevealRow>, StoreError>;
    fn reveal(&self, id: i64) -> Result<Option<RevealRow>, StoreError>;
    fn reveals_of_alert(&self, alert_id: &str) -> Result<Vec<RevealRow>, StoreError>;

    fn create_rule(&mut self, rule: &RuleRow, audit: &NewAudit) -> Result<(), StoreError>;
    /// Revokes a rule of the organisation; false when it was not active.
    fn revoke_rule(
        &mut self,
        id: &str,
        organisation: &str,
        at: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;
    fn rules(&self, organisation: &str) -> Result<Vec<RuleRow>, StoreError>;

    /// Stores a sample's seed and plan (before the draw) with its audit entry; returns its id.
    fn create_sample(
        &mut self,
        organisation: &str,
        seed: &str,
        plan: &str,
        created_by: &str,
        audit: &NewAudit,
    ) -> Result<i64, StoreError>;
    /// Stores the drawn items `(seq, stratum JSON)` and the strata JSON of a sample.
    fn store_sample_draw(
        &mut self,
        sample_id: i64,
        strata: &str,
        items: &[(u64, String)],
        audit: &NewAudit,
    ) -> Result<(), StoreError>;
    fn samples(&self, organisation: &str) -> Result<Vec<SampleRow>, StoreError>;
    fn sample(&self, id: i64) -> Result<Option<SampleRow>, StoreError>;
    fn sample_items(&self, sample_id: i64) -> Result<Vec<SampleItemRow>, StoreError>;
    /// Judges one drawn item; false when the item is not in the sample.
    fn judge_sample_item(
        &mut self,
        sample_id: i64,
        seq: u64,
        judgement: &str,
        note: &str,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;
}

pub(crate) fn insert_audit(conn: &Connection, a: &NewAudit) -> Result<i64, StoreError> {
    let op = "writing the audit trail";
    conn.prepare_cached(
        "INSERT INTO audit_trail (at, organisation, actor, action, object, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            ts(a.at),
            a.organisation,
            a.actor,
            a.action,
            a.object,
            a.details.to_string()
        ])
    })
    .map_err(sql(op))?;
    Ok(conn.last_insert_rowid())
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.organisation, u.username, u.display_name, u.password_hash, u.roles, u.created_at, u.disabled_at IS NOT NULL, u.created_by, u.oidc_subject IS NOT NULL, u.totp_secret";

pub(crate) fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    let roles: String = r.get(5)?;
    Ok(UserRow {
        id: r.get(0)?,
        organisation: r.get(1)?,
        username: r.get(2)?,
        display_name: r.get(3)?,
        password_hash: r.get(4)?,
        roles: split_roles(&roles),
        created_at: r.get(6)?,
        disabled: r.get::<_, i64>(7)? != 0,
        created_by: r.get(8)?,
        single_sign_on: r.get::<_, i64>(9)? != 0,
        totp_secret: r.get(10)?,
    })
}

/// Creates an account with its pending grants and audit entry in one transaction, bound to an
/// OpenID Connect subject when `oidc_subject` is given; `None` when the user name is taken.
pub(crate) fn insert_user(
    conn: &mut Connection,
    user: &NewUser,
    oidc_subject: Option<&str>,
    audit: &NewAudit,
) -> Result<Option<i64>, StoreError> {
    let op = "creating a user";
    let tx = conn.transaction().map_err(sql(op))?;
    let taken: Option<i64> = tx
        .query_row(
            "SELECT id FROM users WHERE username = ?1",
            [&user.username],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql(op))?;
    if taken.is_some() {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO users (organisation, username, display_name, password_hash, roles, created_at,
                            created_by, oidc_subject)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            user.organisation,
            user.username,
            user.display_name,
            user.password_hash,
            user.roles.join(","),
            ts(audit.at),
            user.created_by,
            oidc_subject
        ],
    )
    .map_err(sql(op))?;
    let id = tx.last_insert_rowid();
    for role in &user.pending_roles {
        let grant = NewGrant {
            organisation: user.organisation.clone(),
            user_id: id,
            role: role.clone(),
            requested_by: user.created_by.clone(),
        };
        insert_grant(&tx, &grant, audit.at)?;
    }
    insert_audit(&tx, audit)?;
    tx.commit().map_err(sql(op))?;
    Ok(Some(id))
}

fn split_roles(roles: &str) -> Vec<String> {
    roles
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn user_roles(
    conn: &Connection,
    user_id: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    conn.query_row("SELECT roles FROM users WHERE id = ?1", [user_id], |r| {
        r.get::<_, String>(0)
    })
    .optional()
    .map(|roles| roles.as_deref().map(split_roles))
    .map_err(sql("reading roles"))
}

pub(crate) fn set_user_roles(
    conn: &Connection,
    user_id: i64,
    roles: &[String],
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET roles = ?2 WHERE id = ?1",
        params![user_id, roles.join(",")],
    )
    .map_err(sql("writing roles"))?;
    Ok(())
}

pub(crate) fn insert_grant(
    conn: &Connection,
    g: &NewGrant,
    at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO role_grants (organisation, user_id, role, requested_by, requested_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![g.organisation, g.user_id, g.role, g.requested_by, ts(at)],
    )
    .map_err(sql("storing a grant request"))?;
    Ok(conn.last_insert_rowid())
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        at: r.get(1)?,
        organisation: r.get(2)?,
        actor: r.get(3)?,
        action: r.get(4)?,
        object: r.get(5)?,
        details: r.get(6)?,
        ledger_leaf: r.get::<_, Option<i64>>(7)?.map(|v| v as u64),
    })
}

const REVEAL_COLUMNS: &str = "id, organisation, alert_id, target, subject, reason, requested_by, requested_at, decision, decided_by, decided_at, decision_note, expires_ms";

fn reveal_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RevealRow> {
    Ok(RevealRow {
        id: r.get(0)?,
        organisation: r.get(1)?,
        alert_id: r.get(2)?,
        target: r.get(3)?,
        subject: r.get(4)?,
        reason: r.get(5)?,
        requested_by: r.get(6)?,
        requested_at: r.get(7)?,
        decision: r.get(8)?,
        decided_by: r.get(9)?,
        decided_at: r.get(10)?,
        decision_note: r.get(11)?,
        expires_ms: r.get(12)?,
    })
}

fn rule_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RuleRow> {
    Ok(RuleRow {
        id: r.get(0)?,
        organisation: r.get(1)?,
        signal: r.get(2)?,
        unit: r.get(3)?,
        actor: r.get(4)?,
        system: r.get(5)?,
        owner: r.get(6)?,
        reason: r.get(7)?,
        created_at: r.get(8)?,
        expires_at: r.get(9)?,
        revoked_at: r.get(10)?,
    })
}

fn sample_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SampleRow> {
    Ok(SampleRow {
        id: r.get(0)?,
        organisation: r.get(1)?,
        seed: r.get(2)?,
        plan: r.get(3)?,
        created_by: r.get(4)?,
        created_at: r.get(5)?,
        strata: r.get(6)?,
    })
}

fn insert_rule(conn: &Connection, rule: &RuleRow) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO suppression_rules (id, organisation, signal, unit, actor, system, owner, reason, created_at, expires_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            rule.id,
            rule.organisation,
            rule.signal,
            rule.unit,
            rule.actor,
            rule.system,
            rule.owner,
            rule.reason,
            rule.created_at,
            rule.expires_at,
            rule.revoked_at
        ],
    )
    .map_err(sql("storing a suppression rule"))?;
    Ok(())
}

fn collect<T>(
    conn: &Connection,
    op: &'static str,
    text: &str,
    params: &[&dyn rusqlite::ToSql],
    f: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(text).map_err(sql(op))?;
    let rows = stmt.query_map(params, f).map_err(sql(op))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sql(op))
}

impl ReviewStore for SqliteStore {
    fn record_audit(&mut self, audit: &NewAudit) -> Result<i64, StoreError> {
        insert_audit(self.conn(), audit)
    }

    fn record_audits(&mut self, audits: &[NewAudit]) -> Result<(), StoreError> {
        let op = "writing the audit trail";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        for a in audits {
            insert_audit(&tx, a)?;
        }
        tx.commit().map_err(sql(op))
    }

    fn audit_trail(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
        collect(
            self.conn(),
            "reading the audit trail",
            "SELECT id, at, organisation, actor, action, object, details, ledger_leaf FROM audit_trail
             WHERE organisation = ?1 AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3)
             ORDER BY id DESC LIMIT ?4",
            &[
                &filter.organisation,
                &filter.actor,
                &filter.action,
                &(filter.limit.max(1) as i64),
            ],
            audit_row,
        )
    }

    fn unledgered_audit(&self, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        collect(
            self.conn(),
            "reading the audit trail",
            "SELECT id, at, organisation, actor, action, object, details, ledger_leaf FROM audit_trail
             WHERE ledger_leaf IS NULL ORDER BY id LIMIT ?1",
            &[&(limit.max(1) as i64)],
            audit_row,
        )
    }

    fn mark_ledgered(&mut self, leaves: &[(i64, u64)]) -> Result<(), StoreError> {
        let op = "recording ledger leaves";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        {
            let mut stmt = tx
                .prepare_cached("UPDATE audit_trail SET ledger_leaf = ?2 WHERE id = ?1")
                .map_err(sql(op))?;
            for (id, leaf) in leaves {
                stmt.execute(params![id, *leaf as i64]).map_err(sql(op))?;
            }
        }
        tx.commit().map_err(sql(op))
    }

    fn create_user(&mut self, user: &NewUser, audit: &NewAudit) -> Result<Option<i64>, StoreError> {
        insert_user(self.conn_mut(), user, None, audit)
    }

    fn user_by_username(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = ?1"),
                [username],
                user_row,
            )
            .optional()
            .map_err(sql("reading a user"))
    }

    fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        collect(
            self.conn(),
            "reading users",
            &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.organisation, u.username"),
            &[],
            user_row,
        )
    }

    fn request_grant(&mut self, grant: &NewGrant, audit: &NewAudit) -> Result<i64, StoreError> {
        let tx = self
            .conn_mut()
            .transaction()
            .map_err(sql("storing a grant request"))?;
        let id = insert_grant(&tx, grant, audit.at)?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql("storing a grant request"))?;
        Ok(id)
    }

    fn grants(&self, organisation: &str) -> Result<Vec<GrantRow>, StoreError> {
        collect(
            self.conn(),
            "reading grant requests",
            "SELECT g.id, g.organisation, g.user_id, u.username, g.role, g.requested_by,
                    g.requested_at, g.decision, g.decided_by
             FROM role_grants g JOIN users u ON u.id = g.user_id
             WHERE g.organisation = ?1 ORDER BY g.id DESC",
            &[&organisation],
            |r| {
                Ok(GrantRow {
                    id: r.get(0)?,
                    organisation: r.get(1)?,
                    user_id: r.get(2)?,
                    username: r.get(3)?,
                    role: r.get(4)?,
                    requested_by: r.get(5)?,
                    requested_at: r.get(6)?,
                    decision: r.get(7)?,
                    decided_by: r.get(8)?,
                })
            },
        )
    }

    fn decide_grant(
        &mut self,
        id: i64,
        confirmed: bool,
        decided_by: &str,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let op = "deciding a grant request";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let decision = if confirmed { "confirmed" } else { "refused" };
        let grant: Option<(i64, String)> = tx
            .query_row(
                "UPDATE role_grants SET decision = ?2, decided_by = ?3, decided_at = ?4
                 WHERE id = ?1 AND decision IS NULL RETURNING user_id, role",
                params![id, decision, decided_by, ts(audit.at)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql(op))?;
        let Some((user_id, role)) = grant else {
            return Ok(false);
        };
        if confirmed {
            let mut roles = user_roles(&tx, user_id)?.unwrap_or_default();
            if !roles.contains(&role) {
                roles.push(role);
                set_user_roles(&tx, user_id, &roles)?;
            }
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn revoke_role(
        &mut self,
        user_id: i64,
        role: &str,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let op = "revoking a role";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let Some(mut roles) = user_roles(&tx, user_id)? else {
            return Ok(false);
        };
        let before = roles.len();
        roles.retain(|r| r != role);
        if roles.len() == before {
            return Ok(false);
        }
        set_user_roles(&tx, user_id, &roles)?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn create_session(
        &mut self,
        token_hash: &[u8],
        user_id: i64,
        csrf: &str,
        now_ms: i64,
        audit: &NewAudit,
    ) -> Result<(), StoreError> {
        let op = "creating a session";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_ms, last_seen_ms)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![token_hash, user_id, csrf, now_ms],
        )
        .map_err(sql(op))?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))
    }

    fn session(
        &mut self,
        token_hash: &[u8],
        now_ms: i64,
        idle_ms: i64,
        absolute_ms: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let op = "reading a session";
        let found = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS}, s.csrf, s.created_ms, s.last_seen_ms
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
            ))
            .map_err(sql(op))?
            .query_row([token_hash], |r| {
                Ok(SessionRow {
                    user: user_row(r)?,
                    csrf: r.get(11)?,
                    created_ms: r.get(12)?,
                    last_seen_ms: r.get(13)?,
                })
            })
            .optional()
            .map_err(sql(op))?;
        let Some(session) = found else {
            return Ok(None);
        };
        if session.user.disabled
            || now_ms - session.last_seen_ms > idle_ms
            || now_ms - session.created_ms > absolute_ms
        {
            self.conn()
                .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map_err(sql(op))?;
            return Ok(None);
        }
        if now_ms - session.last_seen_ms > 60_000 {
            self.conn()
                .execute(
                    "UPDATE sessions SET last_seen_ms = ?2 WHERE token_hash = ?1",
                    params![token_hash, now_ms],
                )
                .map_err(sql(op))?;
        }
        Ok(Some(session))
    }

    fn delete_session(&mut self, token_hash: &[u8], audit: &NewAudit) -> Result<(), StoreError> {
        let op = "ending a session";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
            .map_err(sql(op))?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))
    }

    fn login_failures(
        &self,
        username: &str,
        ip: &str,
        since_ms: i64,
    ) -> Result<LoginFailures, StoreError> {
        let op = "reading login failures";
        let count = |column: &str, value: &str| -> Result<(u64, Option<i64>), StoreError> {
            self.conn()
                .query_row(
                    &format!(
                        "SELECT COUNT(*), MAX(at_ms) FROM login_failures WHERE {column} = ?1 AND at_ms >= ?2"
                    ),
                    params![value, since_ms],
                    |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
                )
                .map_err(sql(op))
        };
        let (by_user, last_user_ms) = count("username", username)?;
        let (by_ip, last_ip_ms) = count("ip", ip)?;
        Ok(LoginFailures {
            by_user,
            last_user_ms,
            by_ip,
            last_ip_ms,
        })
    }

    fn record_login_failure(
        &mut self,
        username: &str,
        ip: &str,
        at_ms: i64,
        audit: &NewAudit,
    ) -> Result<(), StoreError> {
        let op = "recording a failed login";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        tx.execute(
            "INSERT INTO login_failures (username, ip, at_ms) VALUES (?1, ?2, ?3)",
            params![username, ip, at_ms],
        )
        .map_err(sql(op))?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))
    }

    fn create_token(
        &mut self,
        user_id: i64,
        name: &str,
        token_hash: &[u8],
        audit: &NewAudit,
    ) -> Result<i64, StoreError> {
        let op = "creating an API token";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        tx.execute(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![user_id, name, token_hash, ts(audit.at)],
        )
        .map_err(sql(op))?;
        let id = tx.last_insert_rowid();
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(id)
    }

    fn token_user(&self, token_hash: &[u8]) -> Result<Option<UserRow>, StoreError> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL"
                ),
                [token_hash],
                user_row,
            )
            .optional()
            .map_err(sql("reading an API token"))
    }

    fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        collect(
            self.conn(),
            "reading API tokens",
            "SELECT t.id, t.user_id, u.username, t.name, t.created_at, t.revoked_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id",
            &[],
            |r| {
                Ok(TokenRow {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    username: r.get(2)?,
                    name: r.get(3)?,
                    created_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                })
            },
        )
    }

    fn revoke_token(&mut self, id: i64, audit: &NewAudit) -> Result<bool, StoreError> {
        let op = "revoking an API token";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let n = tx
            .execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, ts(audit.at)],
            )
            .map_err(sql(op))?;
        if n == 0 {
            return Ok(false);
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn set_user_disabled(
        &mut self,
        id: i64,
        disabled: bool,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let op = "disabling or enabling a user";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let n = tx
            .execute(
                "UPDATE users SET disabled_at = CASE WHEN ?2 THEN COALESCE(disabled_at, ?3) END
                 WHERE id = ?1",
                params![id, disabled, ts(audit.at)],
            )
            .map_err(sql(op))?;
        if n == 0 {
            return Ok(false);
        }
        if disabled {
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])
                .map_err(sql(op))?;
            tx.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![id, ts(audit.at)],
            )
            .map_err(sql(op))?;
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn alert_review(&self, alert_id: &str) -> Result<Option<AlertReviewRow>, StoreError> {
        self.conn()
            .query_row(
                "SELECT alert_id, case_id, justification FROM alert_review WHERE alert_id = ?1",
                [alert_id],
                |r| {
                    Ok(AlertReviewRow {
                        alert_id: r.get(0)?,
                        case_id: r.get(1)?,
                        justification: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(sql("reading an alert's review state"))
    }

    fn justifications(&self, organisation: &str) -> Result<Vec<(String, String)>, StoreError> {
        collect(
            self.conn(),
            "reading justification requests",
            "SELECT alert_id, justification FROM alert_review
             WHERE organisation = ?1 AND justification IS NOT NULL",
            &[&organisation],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn decide_alert(
        &mut self,
        decision: &AlertDecision,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let op = "storing an alert decision";
        let at = ts(decision.at);
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let n = tx
            .execute(
                "UPDATE alerts SET status = ?2 WHERE id = ?1",
                params![decision.alert_id, decision.status],
            )
            .map_err(sql(op))?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO alert_review (alert_id, organisation, case_id, justification, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (alert_id) DO UPDATE SET
                case_id = COALESCE(excluded.case_id, alert_review.case_id),
                justification = COALESCE(excluded.justification, alert_review.justification),
                updated_at = excluded.updated_at",
            params![
                decision.alert_id,
                decision.organisation,
                decision.case_id,
                decision.justification,
                at
            ],
        )
        .map_err(sql(op))?;
        tx.execute(
            "INSERT INTO alert_decisions (alert_id, organisation, kind, status, reason, note, decided_by, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                decision.alert_id,
                decision.organisation,
                decision.kind,
                decision.status,
                decision.reason,
                decision.note,
                decision.decided_by,
                at
            ],
        )
        .map_err(sql(op))?;
        for rule in &decision.rules {
            insert_rule(&tx, rule)?;
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn alert_decisions(&self, alert_id: &str) -> Result<Vec<DecisionRow>, StoreError> {
        collect(
            self.conn(),
            "reading alert decisions",
            "SELECT id, alert_id, kind, status, reason, note, decided_by, at FROM alert_decisions
             WHERE alert_id = ?1 ORDER BY id",
            &[&alert_id],
            |r| {
                Ok(DecisionRow {
                    id: r.get(0)?,
                    alert_id: r.get(1)?,
                    kind: r.get(2)?,
                    status: r.get(3)?,
                    reason: r.get(4)?,
                    note: r.get(5)?,
                    decided_by: r.get(6)?,
                    at: r.get(7)?,
                })
            },
        )
    }

    fn request_reveal(&mut self, reveal: &NewReveal, audit: &NewAudit) -> Result<i64, StoreError> {
        let op = "storing a reveal request";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        tx.execute(
            "INSERT INTO reveals (organisation, alert_id, target, subject, reason, requested_by, requested_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                reveal.organisation,
                reveal.alert_id,
                reveal.target,
                reveal.subject,
                reveal.reason,
                reveal.requested_by,
                ts(reveal.at)
            ],
        )
        .map_err(sql(op))?;
        let id = tx.last_insert_rowid();
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(id)
    }

    fn decide_reveal(&mut self, d: &RevealDecision, audit: &NewAudit) -> Result<bool, StoreError> {
        let op = "deciding a reveal request";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let n = tx
            .execute(
                "UPDATE reveals SET decision = ?2, decided_by = ?3, decided_at = ?4, decision_note = ?5,
                    expires_ms = ?6
                 WHERE id = ?1 AND decision IS NULL",
                params![d.id, d.decision, d.decided_by, ts(d.at), d.note, d.expires_ms],
            )
            .map_err(sql(op))?;
        if n == 0 {
            return Ok(false);
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn reveals(&self, organisation: &str) -> Result<Vec<RevealRow>, StoreError> {
        collect(
            self.conn(),
            "reading reveal requests",
            &format!(
                "SELECT {REVEAL_COLUMNS} FROM reveals WHERE organisation = ?1 ORDER BY id DESC LIMIT 1000"
            ),
            &[&organisation],
            reveal_row,
        )
    }

    fn reveal(&self, id: i64) -> Result<Option<RevealRow>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {REVEAL_COLUMNS} FROM reveals WHERE id = ?1"),
                [id],
                reveal_row,
            )
            .optional()
            .map_err(sql("reading a reveal request"))
    }

    fn reveals_of_alert(&self, alert_id: &str) -> Result<Vec<RevealRow>, StoreError> {
        collect(
            self.conn(),
            "reading reveal requests",
            &format!("SELECT {REVEAL_COLUMNS} FROM reveals WHERE alert_id = ?1 ORDER BY id"),
            &[&alert_id],
            reveal_row,
        )
    }

    fn create_rule(&mut self, rule: &RuleRow, audit: &NewAudit) -> Result<(), StoreError> {
        let op = "storing a suppression rule";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        insert_rule(&tx, rule)?;
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))
    }

    fn revoke_rule(
        &mut self,
        id: &str,
        organisation: &str,
        at: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let op = "revoking a suppression rule";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let n = tx
            .execute(
                "UPDATE suppression_rules SET revoked_at = ?3
                 WHERE id = ?1 AND organisation = ?2 AND revoked_at IS NULL",
                params![id, organisation, ts(at)],
            )
            .map_err(sql(op))?;
        if n == 0 {
            return Ok(false);
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn rules(&self, organisation: &str) -> Result<Vec<RuleRow>, StoreError> {
        collect(
            self.conn(),
            "reading suppression rules",
            "SELECT id, organisation, signal, unit, actor, system, owner, reason, created_at, expires_at, revoked_at
             FROM suppression_rules WHERE organisation = ?1 ORDER BY created_at DESC, id",
            &[&organisation],
            rule_row,
        )
    }

    fn create_sample(
        &mut self,
        organisation: &str,
        seed: &str,
        plan: &str,
        created_by: &str,
        audit: &NewAudit,
    ) -> Result<i64, StoreError> {
        let op = "storing a sample";
        // A savepoint, so that a caller may hold the seed and the draw in one transaction.
        let tx = self.conn_mut().savepoint().map_err(sql(op))?;
        tx.execute(
            "INSERT INTO samples (organisation, seed, plan, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![organisation, seed, plan, created_by, ts(audit.at)],
        )
        .map_err(sql(op))?;
        let id = tx.last_insert_rowid();
        let mut audit = audit.clone();
        audit.object = format!("sample:{id}");
        insert_audit(&tx, &audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(id)
    }

    fn store_sample_draw(
        &mut self,
        sample_id: i64,
        strata: &str,
        items: &[(u64, String)],
        audit: &NewAudit,
    ) -> Result<(), StoreError> {
        let op = "storing a sample draw";
        let tx = self.conn_mut().savepoint().map_err(sql(op))?;
        tx.execute(
            "UPDATE samples SET strata = ?2 WHERE id = ?1",
            params![sample_id, strata],
        )
        .map_err(sql(op))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO sample_items (sample_id, seq, stratum) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql(op))?;
            for (seq, stratum) in items {
                stmt.execute(params![sample_id, *seq as i64, stratum])
                    .map_err(sql(op))?;
            }
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))
    }

    fn samples(&self, organisation: &str) -> Result<Vec<SampleRow>, StoreError> {
        collect(
            self.conn(),
            "reading samples",
            "SELECT id, organisation, seed, plan, created_by, created_at, strata FROM samples
             WHERE organisation = ?1 ORDER BY id DESC",
            &[&organisation],
            sample_row,
        )
    }

    fn sample(&self, id: i64) -> Result<Option<SampleRow>, StoreError> {
        self.conn()
            .query_row(
                "SELECT id, organisation, seed, plan, created_by, created_at, strata FROM samples WHERE id = ?1",
                [id],
                sample_row,
            )
            .optional()
            .map_err(sql("reading a sample"))
    }

    fn sample_items(&self, sample_id: i64) -> Result<Vec<SampleItemRow>, StoreError> {
        collect(
            self.conn(),
            "reading sample items",
            "SELECT sample_id, seq, stratum, judgement, note, judged_by, judged_at FROM sample_items
             WHERE sample_id = ?1 ORDER BY seq",
            &[&sample_id],
            |r| {
                Ok(SampleItemRow {
                    sample_id: r.get(0)?,
                    seq: r.get::<_, i64>(1)? as u64,
                    stratum: r.get(2)?,
                    judgement: r.get(3)?,
                    note: r.get(4)?,
                    judged_by: r.get(5)?,
                    judged_at: r.get(6)?,
                })
            },
        )
    }

    fn judge_sample_item(
        &mut self,
        sample_id: i64,
        seq: u64,
        judgement: &str,
        note: &str,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let op = "judging a sample item";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let n = tx
            .execute(
                "UPDATE sample_items SET judgement = ?3, note = ?4, judged_by = ?5, judged_at = ?6
                 WHERE sample_id = ?1 AND seq = ?2",
                params![
                    sample_id,
                    seq as i64,
                    judgement,
                    note,
                    audit.actor,
                    ts(audit.at)
                ],
            )
            .map_err(sql(op))?;
        if n == 0 {
            return Ok(false);
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(action: &str) -> NewAudit {
        NewAudit {
            organisation: "politie".into(),
            actor: "anna".into(),
            action: action.into(),
            object: "x".into(),
            details: serde_json::json!({}),
            at: Utc::now(),
        }
    }

    #[test]
    fn users_sessions_and_audit_are_stored_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let user = NewUser {
            organisation: "politie".into(),
            username: "anna".into(),
            display_name: "Anna".into(),
            password_hash: "h".into(),
            roles: vec!["reviewer".into(), "auditor".into()],
            pending_roles: vec![],
            created_by: "cli:test".into(),
        };
        let id = store
            .create_user(&user, &audit("user_add"))
            .unwrap()
            .unwrap();
        assert!(
            store
                .create_user(&user, &audit("user_add"))
                .unwrap()
                .is_none()
        );
        store
            .create_session(b"hash", id, "csrf", 1_000, &audit("login"))
            .unwrap();
        let s = store
            .session(b"hash", 2_000, 10_000, 100_000)
            .unwrap()
            .unwrap();
        assert_eq!(s.user.roles, vec!["reviewer", "auditor"]);
        assert!(
            store
                .session(b"hash", 20_000, 10_000, 100_000)
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .session(b"hash", 2_000, 10_000, 100_000)
                .unwrap()
                .is_none()
        );
        let trail = store
            .audit_trail(&AuditFilter {
                organisation: "politie".into(),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(trail.len(), 2);
        assert_eq!(trail[0].action, "login");
        let pending = store.unledgered_audit(10).unwrap();
        assert_eq!(pending.len(), 2);
        store.mark_ledgered(&[(pending[0].id, 0)]).unwrap();
        assert_eq!(store.unledgered_audit(10).unwrap().len(), 1);
    }

    #[test]
    fn disabling_ends_sessions_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let user = NewUser {
            organisation: "politie".into(),
            username: "bert".into(),
            display_name: "Bert".into(),
            password_hash: "h".into(),
            roles: vec!["reviewer".into()],
            pending_roles: vec![],
            created_by: "cli:test".into(),
        };
        let id = store
            .create_user(&user, &audit("user_add"))
            .unwrap()
            .unwrap();
        store
            .create_session(b"s", id, "csrf", 1_000, &audit("login"))
            .unwrap();
        store.create_token(id, "t", b"t", &audit("token")).unwrap();
        assert!(
            store
                .set_user_disabled(id, true, &audit("user_disable"))
                .unwrap()
        );
        assert!(
            store
                .session(b"s", 1_000, 10_000, 100_000)
                .unwrap()
                .is_none()
        );
        assert!(store.token_user(b"t").unwrap().is_none());
        assert!(store.user_by_username("bert").unwrap().unwrap().disabled);
        assert!(store.tokens().unwrap()[0].revoked_at.is_some());
        assert!(
            store
                .set_user_disabled(id, false, &audit("user_enable"))
                .unwrap()
        );
        assert!(!store.user_by_username("bert").unwrap().unwrap().disabled);
        // The revoked token stays revoked after re-enabling.
        assert!(store.token_user(b"t").unwrap().is_none());
        assert!(
            !store
                .set_user_disabled(id + 100, true, &audit("user_disable"))
                .unwrap()
        );
    }

    #[test]
    fn a_pending_role_is_effective_only_once_confirmed_and_every_step_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let user = NewUser {
            organisation: "politie".into(),
            username: "ivo".into(),
            display_name: "Ivo".into(),
            password_hash: "h".into(),
            roles: vec!["reviewer".into()],
            pending_roles: vec!["investigator".into()],
            created_by: "adm1".into(),
        };
        let id = store
            .create_user(&user, &audit("user_add"))
            .unwrap()
            .unwrap();
        let row = store.user_by_username("ivo").unwrap().unwrap();
        assert_eq!(row.roles, vec!["reviewer"]);
        assert_eq!(row.created_by, "adm1");
        let grants = store.grants("politie").unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(
            (grants[0].role.as_str(), grants[0].requested_by.as_str()),
            ("investigator", "adm1")
        );
        assert!(grants[0].decision.is_none());
        assert!(store.grants("kmar").unwrap().is_empty());
        let grant = grants[0].id;
        assert!(
            store
                .decide_grant(grant, true, "adm2", &audit("grant_confirm"))
                .unwrap()
        );
        // Decided once only.
        assert!(
            !store
                .decide_grant(grant, false, "adm2", &audit("grant_refuse"))
                .unwrap()
        );
        let row = store.user_by_username("ivo").unwrap().unwrap();
        assert_eq!(row.roles, vec!["reviewer", "investigator"]);
        let refused = store
            .request_grant(
                &NewGrant {
                    organisation: "politie".into(),
                    user_id: id,
                    role: "admin".into(),
                    requested_by: "adm1".into(),
                },
                &audit("grant_request"),
            )
            .unwrap();
        assert!(
            store
                .decide_grant(refused, false, "adm2", &audit("grant_refuse"))
                .unwrap()
        );
        assert!(
            store
                .revoke_role(id, "investigator", &audit("role_revoke"))
                .unwrap()
        );
        assert!(
            !store
                .revoke_role(id, "investigator", &audit("role_revoke"))
                .unwrap()
        );
        assert_eq!(
            store.user_by_username("ivo").unwrap().unwrap().roles,
            vec!["reviewer"]
        );
        let actions: Vec<String> = store
            .audit_trail(&AuditFilter {
                organisation: "politie".into(),
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(
            actions,
            [
                "role_revoke",
                "grant_refuse",
                "grant_request",
                "grant_confirm",
                "user_add"
            ]
        );
    }

    #[test]
    fn reveal_is_decided_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let id = store
            .request_reveal(
                &NewReveal {
                    organisation: "politie".into(),
                    alert_id: "a1".into(),
                    target: "employee".into(),
                    subject: None,
                    reason: "needed".into(),
                    requested_by: "anna".into(),
                    at: Utc::now(),
                },
                &audit("reveal_request"),
            )
            .unwrap();
        let decide = |store: &mut SqliteStore| {
            store
                .decide_reveal(
                    &RevealDecision {
                        id,
                        decision: "approved".into(),
                        decided_by: "bert".into(),
                        note: "ok".into(),
                        at: Utc::now(),
                        expires_ms: Some(1),
                    },
                    &audit("reveal_approve"),
                )
                .unwrap()
        };
        assert!(decide(&mut store));
        assert!(!decide(&mut store));
        assert_eq!(
            store.reveal(id).unwrap().unwrap().decision.as_deref(),
            Some("approved")
        );
    }
}
