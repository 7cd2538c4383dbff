//! The changes to a case that the case pages and the JSON API both make: registering a case,
//! replacing its facts, moving it through the lifecycle, linking evidence, recording that the
//! data-breach notification and letters were sent, and the inclusion proof of a linked access.
//!
//! Each operation checks the permission and the organisation (another organisation's case is "not
//! found"), validates with `lekdicht-cases`, and stores the change together with its audit entry
//! in one transaction ([`lekdicht_store::SqliteStore::atomically`]). What the user got wrong comes
//! back as [`Checked::Rejected`] with messages that are safe to show; nothing is stored then.

use chrono::{DateTime, Utc};
use lekdicht_cases::{Case, CaseStatus};
use lekdicht_review::Permission;
use lekdicht_store::{
    CaseRow, CaseStore, EvidenceKind, NewCaseRow, NewEvidence, ReviewStore, SqliteStore,
    StatusChangeRow, Store,
};

use crate::alerts::{alert_events, find_alert};
use crate::auth::CurrentUser;
use crate::cases::{FieldMessage, case_of, org_case, record_of, row_of, validation};
use crate::cases_i18n::CaseTexts;
use crate::error::AppError;
use crate::view::audit_entry;
use crate::{AppState, LedgerError};

/// The result of a change the user asked for.
#[derive(Debug)]
pub enum Checked<T> {
    Done(T),
    /// Nothing was stored; the messages say why.
    Rejected(Vec<FieldMessage>),
}

fn rejected<T>(field: &str, message: impl Into<String>) -> Result<Checked<T>, AppError> {
    Ok(Checked::Rejected(vec![FieldMessage {
        field: field.to_owned(),
        message: message.into(),
    }]))
}

/// Registers `case` (validated) in the user's organisation; returns the new case id.
pub async fn create_case(
    state: &AppState,
    user: &CurrentUser,
    mut case: Case,
) -> Result<Checked<String>, AppError> {
    user.require(Permission::WorkCases)?;
    let now = Utc::now();
    case.organisation.clone_from(&user.organisation);
    // A case starts registered; the lifecycle moves it (and stamps when it was established).
    case.status = CaseStatus::Registered;
    case.established_at = None;
    case.authority_notified_at = None;
    case.subjects_informed_at = None;
    case.source_alert = None;
    // An employee is linked by opening a case from an alert or by import, never by a name typed
    // here: pages and the API know employees by pseudonym only.
    case.suspect.employee = None;
    case.alerts.clear();
    case.events.clear();
    case.opened_by = Some(user.username.clone());
    case.opened_at = Some(now);
    let errors = validation(&case);
    if !errors.is_empty() {
        return Ok(Checked::Rejected(errors));
    }
    let row = NewCaseRow {
        id: None,
        organisation: user.organisation.clone(),
        status: case.status.as_str().to_owned(),
        signal_date: case.signal_date.to_string(),
        closure_date: case.closure_date.map(|d| d.to_string()),
        retention_until: lekdicht_cases::retention_until(&case, &state.retention)
            .map(|d| d.to_string()),
        source_alert: None,
        record: record_of(&case)?,
        created_by: user.username.clone(),
        at: now,
        note: String::new(),
        evidence: Vec::new(),
    };
    let u = user.clone();
    let id = state
        .pool
        .run(move |s| {
            s.atomically(|s| {
                let id = s
                    .insert_cases(std::slice::from_ref(&row))?
                    .into_iter()
                    .next()
                    .ok_or_else(|| AppError::internal("the store returned no case id"))?;
                s.record_audit(&audit_entry(
                    &u,
                    "case_create",
                    &format!("case:{id}"),
                    serde_json::json!({ "case": id, "status": row.status }),
                ))?;
                Ok(id)
            })
        })
        .await?;
    Ok(Checked::Done(id))
}

/// What a change to one case gets on the store thread.
struct OnCase<'a> {
    user: &'a CurrentUser,
    row: &'a CaseRow,
    /// The stored case.
    before: Case,
    policies: &'a lekdicht_cases::RetentionPolicies,
}

/// Runs `change` on the store thread against case `id` of the user's organisation ("not found"
/// for another organisation's), after checking that the user works cases.
async fn on_case<T: Send + 'static>(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    change: impl FnOnce(&mut SqliteStore, OnCase<'_>) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    user.require(Permission::WorkCases)?;
    let user = user.clone();
    let id = id.to_owned();
    let policies = state.retention.clone();
    state
        .pool
        .run(move |s| {
            let row = org_case(s, &user.organisation, &id)?;
            let before = case_of(&row, &[])?;
            let on = OnCase {
                user: &user,
                row: &row,
                before,
                policies: &policies,
            };
            change(s, on)
        })
        .await
}

/// Replaces the registered facts of a case with those of `new`. The lifecycle (status, its
/// dates, when the violation was established and when notifications were sent), who opened it
/// and its evidence are kept: they change only through their own operations.
pub async fn replace_facts(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    new: Case,
) -> Result<Checked<()>, AppError> {
    on_case(state, user, id, move |s, on| {
        let before = &on.before;
        let mut after = new;
        after.id.clone_from(&before.id);
        after.organisation.clone_from(&before.organisation);
        after.status = before.status;
        after.start_date = before.start_date;
        after.closure_date = before.closure_date;
        after.established_at = before.established_at;
        after.authority_notified_at = before.authority_notified_at;
        after.subjects_informed_at = before.subjects_informed_at;
        after.source_alert.clone_from(&before.source_alert);
        after.opened_by.clone_from(&before.opened_by);
        after.opened_at = before.opened_at;
        // Pages and the API show the employee as a pseudonym only: the stored link stays.
        after.suspect.employee.clone_from(&before.suspect.employee);
        after.alerts.clear();
        after.events.clear();
        let errors = validation(&after);
        if !errors.is_empty() {
            return Ok(Checked::Rejected(errors));
        }
        save(s, &on, &after, None)?;
        Ok(Checked::Done(()))
    })
    .await
}

/// Changes the registered facts of a case with `apply` (which returns the problems it found in
/// its input); the case is stored only when `apply` found none and the result is valid.
pub async fn change_facts(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    apply: impl FnOnce(&mut Case) -> Vec<FieldMessage> + Send + 'static,
) -> Result<Checked<()>, AppError> {
    on_case(state, user, id, move |s, on| {
        let mut after = on.before.clone();
        let mut errors = apply(&mut after);
        errors.extend(validation(&after));
        if !errors.is_empty() {
            return Ok(Checked::Rejected(errors));
        }
        save(s, &on, &after, None)?;
        Ok(Checked::Done(()))
    })
    .await
}

/// Stores a changed case with its audit entry (and its status change, if any) in one
/// transaction.
fn save(
    s: &mut SqliteStore,
    on: &OnCase<'_>,
    after: &Case,
    change: Option<&StatusChangeRow>,
) -> Result<(), AppError> {
    let row = on.row;
    let new_row = row_of(row, after, on.policies)?;
    let details = match change {
        Some(c) => serde_json::json!({
            "case": row.id,
            "from": c.from_status,
            "to": c.to_status,
            "note": c.note,
        }),
        None => serde_json::json!({
            "case": row.id,
            "fields": crate::cases::changed_fields(&on.before, after),
        }),
    };
    let action = if change.is_some() {
        "case_transition"
    } else {
        "case_update"
    };
    s.atomically(|s| {
        if !s.update_case(&new_row, change)? {
            return Err(AppError::NotFound);
        }
        s.record_audit(&audit_entry(
            on.user,
            action,
            &format!("case:{}", row.id),
            details,
        ))?;
        Ok(())
    })
}

/// Moves a case to `to` with a note, if the lifecycle allows it and the case is then valid.
pub async fn move_case(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    to: CaseStatus,
    note: &str,
) -> Result<Checked<()>, AppError> {
    let note = note.to_owned();
    on_case(state, user, id, move |s, on| {
        let mut case = on.before.clone();
        let now = Utc::now();
        let change = match case.transition(to, &on.user.username, now, &note) {
            Ok(change) => change,
            Err(e) => return rejected("status", e.to_string()),
        };
        let errors = validation(&case);
        if !errors.is_empty() {
            return Ok(Checked::Rejected(errors));
        }
        let history = StatusChangeRow {
            from_status: change.from.unwrap_or(to).as_str().to_owned(),
            to_status: to.as_str().to_owned(),
            by: on.user.username.clone(),
            at: now,
            note,
        };
        save(s, &on, &case, Some(&history))?;
        Ok(Checked::Done(()))
    })
    .await
}

/// What a piece of evidence to link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceRef<'a> {
    /// An alert of the organisation by its handle (as on the alert page), with its accesses.
    Alert(&'a str),
    /// An access by its sequence number, with or without a leading `#`.
    Event(&'a str),
}

/// Links an alert (with its accesses) or one access to a case; returns how many evidence rows
/// were added (evidence already linked is not linked twice).
pub async fn link_evidence(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    what: EvidenceRef<'_>,
    note: &str,
    ct: &'static CaseTexts,
) -> Result<Checked<u64>, AppError> {
    user.require(Permission::WorkCases)?;
    let u = user.clone();
    let id = id.to_owned();
    let note = note.to_owned();
    let st = state.clone();
    let what = match what {
        EvidenceRef::Alert(key) => (EvidenceKind::Alert, key.trim().to_owned()),
        EvidenceRef::Event(seq) => (EvidenceKind::Event, seq.trim().to_owned()),
    };
    state
        .pool
        .run(move |s| {
            let row = org_case(s, &u.organisation, &id)?;
            let (kind, reference) = what;
            let (evidence, shown) = match kind {
                EvidenceKind::Alert => {
                    let alert = match find_alert(s, &st, &u.organisation, &reference) {
                        Ok(alert) => alert,
                        Err(AppError::NotFound) => {
                            return rejected("reference", ct.evidence_unknown_alert);
                        }
                        Err(e) => return Err(e),
                    };
                    let mut evidence = vec![NewEvidence::Alert {
                        alert_id: alert.row.id.clone(),
                        note: note.clone(),
                    }];
                    for (e, _) in alert_events(s, &alert)? {
                        evidence.push(NewEvidence::Event {
                            seq: e.seq,
                            note: note.clone(),
                        });
                    }
                    (evidence, alert.key.clone())
                }
                EvidenceKind::Event => {
                    let Some(seq) = event_in_org(s, &st, &u.organisation, &reference)? else {
                        return rejected("reference", ct.evidence_unknown_event);
                    };
                    (
                        vec![NewEvidence::Event {
                            seq,
                            note: note.clone(),
                        }],
                        format!("#{seq}"),
                    )
                }
            };
            s.atomically(|s| {
                let added = s
                    .add_evidence(&row.id, &evidence, &u.username, Utc::now())?
                    .ok_or(AppError::NotFound)?;
                s.record_audit(&audit_entry(
                    &u,
                    "case_evidence",
                    &format!("case:{}", row.id),
                    serde_json::json!({
                        "case": row.id,
                        "kind": kind.as_str(),
                        "reference": shown,
                        "added": added,
                    }),
                ))?;
                Ok(Checked::Done(added))
            })
        })
        .await
}

/// The sequence number `text` names (`1234` or `#1234`) if that access is stored and belongs to
/// the organisation: its record names the organisation, or its actor is one of its employees.
fn event_in_org(
    s: &SqliteStore,
    state: &AppState,
    organisation: &str,
    text: &str,
) -> Result<Option<u64>, AppError> {
    let Ok(seq) = text.trim_start_matches('#').parse::<u64>() else {
        return Ok(None);
    };
    let mut found = None;
    s.for_each_event_by_seq(seq, seq.saturating_add(1), &mut |e| {
        found = Some(e);
        Ok(())
    })?;
    let Some(stored) = found else {
        return Ok(None);
    };
    let ours = match stored.event.organization.as_deref() {
        Some(org) => org == organisation,
        None => state
            .directory
            .employees
            .get(stored.event.actor.as_str())
            .is_some_and(|e| e.organisation == organisation),
    };
    Ok(ours.then_some(seq))
}

/// Which data-breach message was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// The notification to the Autoriteit Persoonsgegevens.
    Authority,
    /// The letters to the data subjects.
    Subjects,
}

impl Sent {
    pub fn parse(code: &str) -> Option<Sent> {
        match code {
            "authority" => Some(Sent::Authority),
            "subjects" => Some(Sent::Subjects),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sent::Authority => "authority",
            Sent::Subjects => "subjects",
        }
    }
}

/// Records when a data-breach message of the case was sent. The time may not lie in the future
/// nor before the violation was established.
pub async fn record_sent(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    what: Sent,
    at: DateTime<Utc>,
    ct: &'static CaseTexts,
) -> Result<Checked<()>, AppError> {
    on_case(state, user, id, move |s, on| {
        // A minute's grace for clocks and for typing "now".
        if at > Utc::now() + chrono::Duration::minutes(1) {
            return rejected("at", ct.sent_in_future);
        }
        // Times are typed to the minute: the minute of establishing itself counts.
        if on
            .before
            .established_at
            .is_some_and(|e| at + chrono::Duration::minutes(1) <= e)
        {
            return rejected("at", ct.sent_before_established);
        }
        let mut after = on.before.clone();
        match what {
            Sent::Authority => after.authority_notified_at = Some(at),
            Sent::Subjects => after.subjects_informed_at = Some(at),
        }
        save(s, &on, &after, None)?;
        Ok(Checked::Done(()))
    })
    .await
}

/// The members of an inclusion proof that prove without telling: the leaf's position and
/// commitment (RFC 6962 leaf hash), the audit path and the signed checkpoint it leads to.
const PROOF_MEMBERS: [&str; 5] = [
    "leaf_index",
    "leaf_hash",
    "tree_size",
    "inclusion_proof",
    "checkpoint",
];

/// An inclusion proof reduced to [`PROOF_MEMBERS`]: the event's clear content (actor, subject,
/// postcode, case, query, workstation) and its ids stay on the server, while the leaf hash still
/// verifies against the checkpoint. Whoever holds the event can check that it hashes to the leaf.
pub fn commitment_only(proof: &str) -> Result<String, AppError> {
    let full: serde_json::Value =
        serde_json::from_str(proof).map_err(|e| AppError::internal(e.to_string()))?;
    let kept: serde_json::Map<String, serde_json::Value> = PROOF_MEMBERS
        .iter()
        .filter_map(|k| full.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    serde_json::to_string_pretty(&kept).map_err(|e| AppError::internal(e.to_string()))
}

/// The inclusion proof of access `seq` linked to case `id`, as JSON without the event's content.
pub async fn evidence_proof(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    seq: u64,
) -> Result<String, AppError> {
    user.require(Permission::ViewCases)?;
    let Some(proofs) = state.proofs.clone() else {
        return Err(AppError::NotFound);
    };
    let u = user.clone();
    let case_id = id.to_owned();
    let linked = state
        .pool
        .run(move |s| {
            let row = org_case(s, &u.organisation, &case_id)?;
            Ok(s.case_evidence(&row.id)?
                .iter()
                .any(|e| e.event_seq == Some(seq)))
        })
        .await?;
    if !linked {
        return Err(AppError::NotFound);
    }
    let proof = tokio::task::spawn_blocking(move || proofs.inclusion_proof(seq))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .map_err(|LedgerError(e)| AppError::internal(e))?;
    let Some(proof) = proof.map(|p| commitment_only(&p)).transpose()? else {
        return Err(AppError::BadRequest(
            "no signed checkpoint covers this access yet / nog geen ondertekend controlepunt dekt deze raadpleging"
                .into(),
        ));
    };
    state
        .audit
        .record(audit_entry(
            user,
            "case_proof",
            &format!("case:{id}"),
            serde_json::json!({ "case": id, "seq": seq }),
        ))
        .await?;
    Ok(proof)
}
