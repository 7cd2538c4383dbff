//! Storage for the ways of signing in beyond a password: accounts bound to an OpenID Connect
//! subject (found by issuer and subject, their roles following the provider's claim) and the TOTP
//! second factor of local accounts (its secret and the last time step used, so that a code is
//! accepted once).
//!
//! Like the rest of the review storage, every change writes its audit entry in the same
//! transaction. This module does not talk to a provider, check codes or decide which roles need a
//! second person; it stores what the web application decided.

use rusqlite::{OptionalExtension, params};

use crate::review::{
    NewAudit, NewGrant, NewUser, USER_COLUMNS, UserRow, insert_audit, insert_grant, insert_user,
    set_user_roles, sql, ts, user_row,
};
use crate::{SqliteStore, StoreError};

/// Migration 6: the OpenID Connect subject of an account and the second factor.
pub(crate) const SCHEMA: &str = r#"
-- `<issuer> <subject>` of an account that signs in through OpenID Connect; NULL for local accounts.
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_by_oidc_subject ON users (oidc_subject) WHERE oidc_subject IS NOT NULL;
-- The base32 TOTP secret once enrolled, and the last time step a code was accepted for.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
"#;

/// The roles of a single sign-on account after a login: `roles` become its effective roles, a
/// grant request by `requested_by` is filed for each of `request` that has none pending, and
/// pending requests for any other role are withdrawn.
#[derive(Debug, Clone)]
pub struct RoleSync {
    pub organisation: String,
    pub user_id: i64,
    pub roles: Vec<String>,
    pub request: Vec<String>,
    pub requested_by: String,
}

/// What signing in needs from durable storage beyond [`crate::ReviewStore`].
pub trait SigninStore {
    /// The account bound to an OpenID Connect `<issuer> <subject>`.
    fn user_by_oidc_subject(&self, subject: &str) -> Result<Option<UserRow>, StoreError>;
    /// Creates an account bound to `subject`; `None` when the user name is taken.
    fn create_oidc_user(
        &mut self,
        user: &NewUser,
        subject: &str,
        audit: &NewAudit,
    ) -> Result<Option<i64>, StoreError>;
    /// Sets an account's roles and grant requests (see [`RoleSync`]), with `audit` when anything
    /// changed; returns whether anything did.
    fn sync_roles(&mut self, sync: &RoleSync, audit: &NewAudit) -> Result<bool, StoreError>;
    /// Enrols (`Some`) or removes (`None`) the second factor of an account; false when there is
    /// no such account.
    fn set_totp(
        &mut self,
        user_id: i64,
        secret: Option<&str>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;
    /// Records that a code of time step `step` was accepted; false (and nothing recorded) when a
    /// code of this step or a later one was accepted before.
    fn use_totp_step(&mut self, user_id: i64, step: i64) -> Result<bool, StoreError>;
}

impl SigninStore for SqliteStore {
    fn user_by_oidc_subject(&self, subject: &str) -> Result<Option<UserRow>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.oidc_subject = ?1"),
                [subject],
                user_row,
            )
            .optional()
            .map_err(sql("reading a user"))
    }

    fn create_oidc_user(
        &mut self,
        user: &NewUser,
        subject: &str,
        audit: &NewAudit,
    ) -> Result<Option<i64>, StoreError> {
        insert_user(self.conn_mut(), user, Some(subject), audit)
    }

    fn sync_roles(&mut self, sync: &RoleSync, audit: &NewAudit) -> Result<bool, StoreError> {
        let op = "updating roles from single sign-on";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let current: String = tx
            .query_row(
                "SELECT roles FROM users WHERE id = ?1",
                [sync.user_id],
                |r| r.get(0),
            )
            .map_err(sql(op))?;
        let mut changed = current != sync.roles.join(",");
        if changed {
            set_user_roles(&tx, sync.user_id, &sync.roles)?;
        }
        let pending: Vec<(i64, String)> = {
            let mut stmt = tx
                .prepare("SELECT id, role FROM role_grants WHERE user_id = ?1 AND decision IS NULL")
                .map_err(sql(op))?;
            stmt.query_map([sync.user_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(sql(op))?
        };
        for (id, role) in &pending {
            if !sync.request.contains(role) {
                tx.execute(
                    "UPDATE role_grants SET decision = 'withdrawn', decided_by = ?2, decided_at = ?3
                     WHERE id = ?1",
                    params![id, sync.requested_by, ts(audit.at)],
                )
                .map_err(sql(op))?;
                changed = true;
            }
        }
        for role in &sync.request {
            if pending.iter().any(|(_, r)| r == role) {
                continue;
            }
            let grant = NewGrant {
                organisation: sync.organisation.clone(),
                user_id: sync.user_id,
                role: role.clone(),
                requested_by: sync.requested_by.clone(),
            };
            insert_grant(&tx, &grant, audit.at)?;
            changed = true;
        }
        if changed {
            insert_audit(&tx, audit)?;
        }
        tx.commit().map_err(sql(op))?;
        Ok(changed)
    }

    fn set_totp(
        &mut self,
        user_id: i64,
        secret: Option<&str>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let op = "setting a second factor";
        let tx = self.conn_mut().transaction().map_err(sql(op))?;
        let n = tx
            .execute(
                "UPDATE users SET totp_secret = ?2, totp_last_step = NULL WHERE id = ?1",
                params![user_id, secret],
            )
            .map_err(sql(op))?;
        if n == 0 {
            return Ok(false);
        }
        insert_audit(&tx, audit)?;
        tx.commit().map_err(sql(op))?;
        Ok(true)
    }

    fn use_totp_step(&mut self, user_id: i64, step: i64) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute(
                "UPDATE users SET totp_last_step = ?2
                 WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                params![user_id, step],
            )
            .map_err(sql("using a second-factor code"))?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ReviewStore;

    fn audit(action: &str) -> NewAudit {
        NewAudit {
            organisation: "politie".into(),
            actor: "sso".into(),
            action: action.into(),
            object: "x".into(),
            details: serde_json::json!({}),
            at: Utc::now(),
        }
    }

    fn sso_user(username: &str) -> NewUser {
        NewUser {
            organisation: "politie".into(),
            username: username.into(),
            display_name: "Inge".into(),
            password_hash: "!".into(),
            roles: vec!["reviewer".into()],
            pending_roles: vec!["investigator".into()],
            created_by: "oidc:https://idp inge".into(),
        }
    }

    #[test]
    fn a_single_sign_on_account_is_found_by_its_subject_and_follows_the_claim() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let id = store
            .create_oidc_user(&sso_user("sso:inge"), "https://idp 42", &audit("user_add"))
            .unwrap()
            .unwrap();
        // One subject, one account; a second account with the name is refused.
        assert!(
            store
                .create_oidc_user(&sso_user("sso:inge"), "https://idp 43", &audit("user_add"))
                .unwrap()
                .is_none()
        );
        let row = store
            .user_by_oidc_subject("https://idp 42")
            .unwrap()
            .unwrap();
        assert_eq!((row.id, row.single_sign_on), (id, true));
        assert!(
            store
                .user_by_oidc_subject("https://idp 43")
                .unwrap()
                .is_none()
        );
        assert!(store.user_by_username("sso:inge").unwrap().is_some());
        let pending = |store: &SqliteStore| -> Vec<String> {
            store
                .grants("politie")
                .unwrap()
                .into_iter()
                .filter(|g| g.decision.is_none())
                .map(|g| g.role)
                .collect()
        };
        assert_eq!(pending(&store), ["investigator"]);
        // The same claim again changes nothing and writes no audit entry.
        let same = RoleSync {
            organisation: "politie".into(),
            user_id: id,
            roles: vec!["reviewer".into()],
            request: vec!["investigator".into()],
            requested_by: "oidc:https://idp".into(),
        };
        assert!(!store.sync_roles(&same, &audit("sso_roles")).unwrap());
        assert_eq!(pending(&store), ["investigator"]);
        // The claim drops investigator and asks for approver instead.
        let next = RoleSync {
            roles: vec![],
            request: vec!["approver".into()],
            ..same
        };
        assert!(store.sync_roles(&next, &audit("sso_roles")).unwrap());
        assert_eq!(pending(&store), ["approver"]);
        let row = store.user_by_username("sso:inge").unwrap().unwrap();
        assert!(row.roles.is_empty());
        let withdrawn = store
            .grants("politie")
            .unwrap()
            .into_iter()
            .find(|g| g.role == "investigator")
            .unwrap();
        assert_eq!(withdrawn.decision.as_deref(), Some("withdrawn"));
    }

    #[test]
    fn a_second_factor_code_is_accepted_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let id = store
            .create_user(&sso_user("anna"), &audit("user_add"))
            .unwrap()
            .unwrap();
        assert!(
            store
                .set_totp(id, Some("SECRET"), &audit("totp_enrol"))
                .unwrap()
        );
        let row = store.user_by_username("anna").unwrap().unwrap();
        assert_eq!(row.totp_secret.as_deref(), Some("SECRET"));
        assert!(!row.single_sign_on);
        assert!(store.use_totp_step(id, 100).unwrap());
        assert!(!store.use_totp_step(id, 100).unwrap());
        assert!(!store.use_totp_step(id, 99).unwrap());
        assert!(store.use_totp_step(id, 101).unwrap());
        // Removing the factor (recovery) clears the secret and the step.
        assert!(store.set_totp(id, None, &audit("totp_reset")).unwrap());
        let row = store.user_by_username("anna").unwrap().unwrap();
        assert!(row.totp_secret.is_none());
        assert!(!store.set_totp(9_999, None, &audit("totp_reset")).unwrap());
    }
}
