//! Four eyes on the accounts themselves: which roles a second person must confirm, which roles one
//! account may never hold together, who may confirm a grant, and whether the two accounts of a
//! reveal were issued independently.
//!
//! A reveal needs an investigator who asks and an approver who agrees. That promise holds only if
//! no single person can hold both sides, so the rules here close the ways around it: the roles that
//! take part in a reveal or that hand out roles are granted only when a second administrator or
//! privacy officer confirms; investigator and approver never sit in one account; and because an
//! administrator knows the initial password of every account they create, the approver of a reveal
//! must not share a creator with the requester (nor have created it, nor been created by it).
//! Deliberately absent: identity of natural persons across organisations; that is the
//! organisation's identity management, not this crate.

use crate::Role;

/// Whether granting `role` takes effect only after a second person confirms it: the roles that
/// take part in a reveal (investigator, approver) and the roles that confirm grants (administrator,
/// privacy officer).
pub fn needs_confirmation(role: Role) -> bool {
    matches!(
        role,
        Role::Investigator | Role::Approver | Role::Admin | Role::PrivacyOfficer
    )
}

/// The first pair of roles in `roles` that one account must never hold together (the requesting
/// and the approving side of a reveal), or `None`.
pub fn conflicting_roles(roles: &[Role]) -> Option<(Role, Role)> {
    let has = |r: Role| roles.contains(&r);
    (has(Role::Investigator) && has(Role::Approver)).then_some((Role::Investigator, Role::Approver))
}

/// Why a grant cannot be confirmed by a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRefusal {
    /// The confirming user lacks the administrator and privacy-officer roles.
    NotAConfirmer,
    /// The confirming user asked for the grant.
    OwnRequest,
    /// The grant is for the confirming user's own account.
    OwnAccount,
    /// The confirming user created the account that would receive the role.
    OwnCreation,
    /// The account would then hold two roles that must stay apart.
    Conflict(Role, Role),
}

/// One account as the four-eyes rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    pub username: &'a str,
    /// Who created the account (a username, or `cli:<name>` for the command line).
    pub created_by: &'a str,
    pub roles: &'a [Role],
}

/// Checks that `confirmer` may confirm granting `role` to `target`, asked for by `requested_by`.
pub fn may_confirm(
    confirmer: Account<'_>,
    requested_by: &str,
    target: Account<'_>,
    role: Role,
) -> Result<(), GrantRefusal> {
    if !confirmer
        .roles
        .iter()
        .any(|r| matches!(r, Role::Admin | Role::PrivacyOfficer))
    {
        return Err(GrantRefusal::NotAConfirmer);
    }
    if confirmer.username == requested_by {
        return Err(GrantRefusal::OwnRequest);
    }
    if confirmer.username == target.username {
        return Err(GrantRefusal::OwnAccount);
    }
    if confirmer.username == target.created_by {
        return Err(GrantRefusal::OwnCreation);
    }
    let mut after = target.roles.to_vec();
    after.push(role);
    match conflicting_roles(&after) {
        Some((a, b)) => Err(GrantRefusal::Conflict(a, b)),
        None => Ok(()),
    }
}

/// Whether the approver of a reveal is independent of its requester: different accounts, the
/// approver does not also hold the requesting side, and neither account was created by the other
/// or by the same person (who would know both initial passwords).
pub fn independent_sides(requester: Account<'_>, approver: Account<'_>) -> bool {
    requester.username != approver.username
        && conflicting_roles(approver.roles).is_none()
        && requester.created_by != approver.username
        && approver.created_by != requester.username
        && requester.created_by != approver.created_by
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account<'a>(username: &'a str, created_by: &'a str, roles: &'a [Role]) -> Account<'a> {
        Account {
            username,
            created_by,
            roles,
        }
    }

    #[test]
    fn privileged_roles_need_a_second_person() {
        let needs: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| needs_confirmation(*r))
            .collect();
        assert_eq!(
            needs,
            [
                Role::Investigator,
                Role::Approver,
                Role::PrivacyOfficer,
                Role::Admin
            ]
        );
    }

    #[test]
    fn both_sides_of_a_reveal_never_in_one_account() {
        assert_eq!(
            conflicting_roles(&[Role::Approver, Role::Reviewer, Role::Investigator]),
            Some((Role::Investigator, Role::Approver))
        );
        assert_eq!(
            conflicting_roles(&[Role::Investigator, Role::Reviewer]),
            None
        );
        assert_eq!(conflicting_roles(&[Role::Approver, Role::Auditor]), None);
    }

    #[test]
    fn who_may_confirm_a_grant() {
        let admin = [Role::Admin];
        let po = [Role::PrivacyOfficer];
        let none: [Role; 0] = [];
        let investigator = [Role::Investigator];
        let check = |confirmer: Account<'_>, requested_by: &str, target: Account<'_>, role| {
            may_confirm(confirmer, requested_by, target, role)
        };
        let fresh = account("nina", "adm1", &none);
        assert_eq!(
            check(
                account("adm2", "cli:root", &admin),
                "adm1",
                fresh,
                Role::Approver
            ),
            Ok(())
        );
        assert_eq!(
            check(
                account("po", "cli:root", &po),
                "adm1",
                fresh,
                Role::Approver
            ),
            Ok(())
        );
        assert_eq!(
            check(
                account("adm1", "cli:root", &admin),
                "adm1",
                fresh,
                Role::Approver
            ),
            Err(GrantRefusal::OwnRequest)
        );
        assert_eq!(
            check(
                account("nina", "adm1", &admin),
                "adm2",
                fresh,
                Role::Approver
            ),
            Err(GrantRefusal::OwnAccount)
        );
        assert_eq!(
            check(
                account("adm1", "cli:root", &admin),
                "adm2",
                fresh,
                Role::Approver
            ),
            Err(GrantRefusal::OwnCreation)
        );
        assert_eq!(
            check(
                account("rev", "adm1", &[Role::Reviewer]),
                "adm1",
                fresh,
                Role::Approver
            ),
            Err(GrantRefusal::NotAConfirmer)
        );
        assert_eq!(
            check(
                account("adm2", "cli:root", &admin),
                "adm1",
                account("ivo", "adm1", &investigator),
                Role::Approver
            ),
            Err(GrantRefusal::Conflict(Role::Investigator, Role::Approver))
        );
    }

    #[test]
    fn reveal_sides_must_be_independent() {
        let inv = [Role::Investigator];
        let app = [Role::Approver];
        let both = [Role::Investigator, Role::Approver];
        let ok = |r: Account<'_>, a: Account<'_>| independent_sides(r, a);
        assert!(ok(
            account("ivo", "adm1", &inv),
            account("alex", "adm2", &app)
        ));
        // One creator knows both initial passwords.
        assert!(!ok(
            account("ivo", "adm1", &inv),
            account("alex", "adm1", &app)
        ));
        // The requester created the approver, or the other way round.
        assert!(!ok(
            account("ivo", "adm1", &inv),
            account("alex", "ivo", &app)
        ));
        assert!(!ok(
            account("ivo", "alex", &inv),
            account("alex", "adm2", &app)
        ));
        // The same account, or an account holding both sides.
        assert!(!ok(
            account("ivo", "adm1", &inv),
            account("ivo", "adm1", &app)
        ));
        assert!(!ok(
            account("ivo", "adm1", &inv),
            account("multi", "adm2", &both)
        ));
    }
}
