//! The audit trail page (`/audit`, ViewAuditTrail, filter by user and action) and the ledger
//! seam: [`AuditLedger`] is implemented by the binary on the tamper-evident audit log, and
//! [`spawn_ledger_worker`] appends pending audit rows to it in batches (every second, and at
//! startup for rows left over from earlier runs), recording each row's leaf index.
//!
//! Rows are written to the trail in the same transaction as the change they describe; the ledger
//! follows shortly after. This module does not sign or hash anything itself.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::response::Response;
use axum::routing::get;
use lekdicht_review::{Lang, Permission};
use lekdicht_store::{AuditFilter, AuditRow, NewAudit, ReviewStore};
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::texts;
use crate::pool::Pool;
use crate::view::{Page, render};
use crate::{AppState, St};

/// An audit entry waiting for the writer, with whom to tell once it is committed.
type Pending = (NewAudit, oneshot::Sender<bool>);

/// Writes audit entries of page views in groups: every waiting entry goes into one transaction,
/// and each caller is answered only after that transaction committed. Under load this turns one
/// fsync per page view into one per group, without showing a page whose view is not recorded.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Pending>,
}

/// Most entries written in one transaction.
const GROUP: usize = 512;

impl AuditWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(pool: Arc<Pool>) -> AuditWriter {
        let (tx, mut rx) = mpsc::channel::<Pending>(4 * GROUP);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut group = vec![first];
                while group.len() < GROUP {
                    match rx.try_recv() {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                let (entries, waiters): (Vec<NewAudit>, Vec<oneshot::Sender<bool>>) =
                    group.into_iter().unzip();
                let ok = match pool.run(move |s| Ok(s.record_audits(&entries)?)).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(error = %e, "writing audit entries failed");
                        false
                    }
                };
                for w in waiters {
                    let _ = w.send(ok);
                }
            }
        });
        AuditWriter { tx }
    }

    /// Records one entry; returns once it is committed.
    pub async fn record(&self, audit: NewAudit) -> Result<(), AppError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((audit, done))
            .await
            .map_err(|_| AppError::internal("the audit writer stopped"))?;
        match wait.await {
            Ok(true) => Ok(()),
            _ => Err(AppError::internal("the audit entry was not written")),
        }
    }
}

/// A failure of the audit ledger.
#[derive(Debug, thiserror::Error)]
#[error("audit ledger: {0}")]
pub struct LedgerError(pub String);

/// Where audit records go to become tamper-evident.
pub trait AuditLedger: Send + Sync {
    /// Appends the records (in order) and returns the leaf index of the first.
    fn append(&self, records: &[Vec<u8>]) -> Result<u64, LedgerError>;
}

/// Where a case's linked accesses get their proof of inclusion in the event ledger.
pub trait EventProofs: Send + Sync {
    /// The inclusion proof of the event with sequence number (leaf index) `seq` against the
    /// latest signed checkpoint, as a JSON document that can be checked without lekdicht; `None`
    /// when no checkpoint covers the event yet.
    fn inclusion_proof(&self, seq: u64) -> Result<Option<String>, LedgerError>;
}

/// The bytes of an audit row as the ledger records them (JSON with sorted keys).
pub fn ledger_record(row: &AuditRow) -> Vec<u8> {
    let details: serde_json::Value =
        serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null);
    let value = serde_json::json!({
        "audit_id": row.id,
        "at": row.at,
        "organisation": row.organisation,
        "by": row.actor,
        "action": row.action,
        "object": row.object,
        "details": details,
    });
    value.to_string().into_bytes()
}

/// Appends every pending audit row to the ledger; returns how many were appended.
pub async fn flush_audit(
    state: &AppState,
    ledger: Arc<dyn AuditLedger>,
) -> Result<usize, AppError> {
    let mut total = 0;
    loop {
        let ledger = Arc::clone(&ledger);
        let n = state
            .pool
            .run(move |s| {
                let rows = s.unledgered_audit(500)?;
                if rows.is_empty() {
                    return Ok(0);
                }
                let records: Vec<Vec<u8>> = rows.iter().map(ledger_record).collect();
                let first = ledger
                    .append(&records)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                let leaves: Vec<(i64, u64)> = rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (r.id, first + i as u64))
                    .collect();
                s.mark_ledgered(&leaves)?;
                Ok(rows.len())
            })
            .await?;
        total += n;
        if n < 500 {
            return Ok(total);
        }
    }
}

/// Starts the background task that appends pending audit rows to the ledger every second.
pub fn spawn_ledger_worker(
    state: AppState,
    ledger: Arc<dyn AuditLedger>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = flush_audit(&state, Arc::clone(&ledger)).await {
                tracing::error!(error = %e, "appending the audit trail to the ledger failed");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub action: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: Page,
    rows: Vec<AuditRow>,
    user: String,
    action: String,
}

async fn audit_page(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    user.require(Permission::ViewAuditTrail)?;
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let filter = AuditFilter {
        organisation: user.organisation.clone(),
        actor: clean(&q.user),
        action: clean(&q.action),
        limit: 500,
    };
    let rows = state.pool.run(move |s| Ok(s.audit_trail(&filter)?)).await?;
    render(&AuditPage {
        page: Page::new(lang, texts(lang).audit_title, Some(&user)),
        rows,
        user: q.user.unwrap_or_default(),
        action: q.action.unwrap_or_default(),
    })
}

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(audit_page))
}
