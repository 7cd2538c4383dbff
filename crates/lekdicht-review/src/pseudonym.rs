//! Stable pseudonyms for employees and data subjects, so that reviewers judge behaviour without
//! seeing who is involved until a reveal is approved.
//!
//! A pseudonym is a keyed hash (HMAC-SHA-256) of the kind, the organisation and the identifier,
//! cut to 40 bits and written as 8 Crockford base32 characters behind a prefix: `MW-` for an
//! employee (medewerker), `BT-` for a data subject (betrokkene). The same key always gives the same
//! pseudonym; without the key a pseudonym cannot be linked back to an identifier by trying them.
//! Deliberately absent: reversing a pseudonym (a reveal looks the identifier up in the store) and
//! keeping or generating the key (the caller owns it). 40 bits keep pseudonyms short; collisions
//! become likely only beyond about a million identifiers per organisation and kind.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Crockford's base32 alphabet: digits and capitals without I, L, O and U.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Computes pseudonyms with a secret 32-byte key.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: [u8; 32],
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("key", &"<secret>")
            .finish()
    }
}

impl Pseudonymizer {
    /// A pseudonymizer with the given secret key.
    pub fn new(key: [u8; 32]) -> Self {
        Pseudonymizer { key }
    }

    /// Stable pseudonym for an employee of an organisation: `MW-` followed by 8 Crockford base32
    /// characters of HMAC-SHA-256(key, `"employee\0" + organisation + "\0" + id`) (its first 40
    /// bits), e.g. `MW-7F3A2CQ9`.
    pub fn employee(&self, organisation: &str, id: &str) -> String {
        self.pseudonym("MW-", "employee", organisation, id)
    }

    /// Stable pseudonym for a data subject (person or vehicle): `BT-` followed by 8 characters,
    /// computed as for [`Pseudonymizer::employee`] with the domain `subject`.
    pub fn subject(&self, organisation: &str, id: &str) -> String {
        self.pseudonym("BT-", "subject", organisation, id)
    }

    fn pseudonym(&self, prefix: &str, domain: &str, organisation: &str, id: &str) -> String {
        // HMAC accepts keys of every length, so this cannot fail for a 32-byte key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC-SHA-256 accepts a 32-byte key");
        mac.update(domain.as_bytes());
        mac.update(b"\0");
        mac.update(organisation.as_bytes());
        mac.update(b"\0");
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let bits = digest[..5]
            .iter()
            .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
        let mut out = String::with_capacity(prefix.len() + 8);
        out.push_str(prefix);
        for i in (0..8).rev() {
            let index = ((bits >> (5 * i)) & 0x1f) as usize;
            out.push(char::from(CROCKFORD[index]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> [u8; 32] {
        [byte; 32]
    }

    fn check_shape(pseudonym: &str, prefix: &str) {
        assert!(pseudonym.starts_with(prefix), "{pseudonym}");
        assert_eq!(pseudonym.len(), prefix.len() + 8, "{pseudonym}");
        assert!(
            pseudonym[prefix.len()..]
                .bytes()
                .all(|b| CROCKFORD.contains(&b)),
            "{pseudonym}"
        );
    }

    #[test]
    fn stable_and_well_formed() {
        let p = Pseudonymizer::new(key(7));
        let a = p.employee("politie-oost", "E123");
        assert_eq!(a, p.employee("politie-oost", "E123"));
        assert_eq!(
            a,
            Pseudonymizer::new(key(7)).employee("politie-oost", "E123")
        );
        check_shape(&a, "MW-");
        check_shape(&p.subject("politie-oost", "S9"), "BT-");
    }

    #[test]
    fn differs_by_key_organisation_kind_and_id() {
        let p = Pseudonymizer::new(key(1));
        let q = Pseudonymizer::new(key(2));
        let base = p.employee("org-a", "42");
        assert_ne!(base, q.employee("org-a", "42"));
        assert_ne!(base, p.employee("org-b", "42"));
        assert_ne!(base, p.employee("org-a", "43"));
        assert_ne!(base[3..], p.subject("org-a", "42")[3..]);
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(p.employee("ab", "c"), p.employee("a", "bc"));
    }

    #[test]
    fn known_answer() {
        // HMAC-SHA-256 with key 00 01 .. 1f, computed with an independent HMAC implementation:
        // "employee\0gemeente-utrecht\0E-0001" starts f1 16 0e 82 cc -> Y4B0X0PC;
        // "subject\0gemeente-utrecht\0BSN-PSEUDO-1" starts 54 67 fc 01 76 -> AHKZR0BP.
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = i as u8;
        }
        let p = Pseudonymizer::new(k);
        assert_eq!(p.employee("gemeente-utrecht", "E-0001"), EMPLOYEE_KAT);
        assert_eq!(p.subject("gemeente-utrecht", "BSN-PSEUDO-1"), SUBJECT_KAT);
    }

    const EMPLOYEE_KAT: &str = "MW-Y4B0X0PC";
    const SUBJECT_KAT: &str = "BT-AHKZR0BP";

    #[test]
    fn debug_hides_key() {
        let text = format!("{:?}", Pseudonymizer::new(key(0xab)));
        assert!(!text.contains("171"), "{text}");
        assert!(text.contains("secret"));
    }
}
