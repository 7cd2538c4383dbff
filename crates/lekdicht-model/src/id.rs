//! Opaque identifiers as newtypes, so that an employee id can never be passed where a subject id is
//! expected.
//!
//! The contract says identifiers are opaque strings of 1–128 bytes without control characters. The
//! newtypes check that on construction and on deserialisation; they do not interpret the content.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Longest identifier the contract allows, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("identifier is empty")]
    Empty,
    #[error("identifier is {0} bytes long; at most 128 are allowed")]
    TooLong(usize),
    #[error("identifier contains a control character")]
    ControlCharacter,
}

/// Checks the contract's rules for identifiers.
pub fn validate_id(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_BYTES {
        return Err(IdError::TooLong(s.len()));
    }
    if s.chars().any(char::is_control) {
        return Err(IdError::ControlCharacter);
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `s` against the contract's identifier rules.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                validate_id(&s)?;
                Ok(Self(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// An access event's `id`: unique within its source system; the idempotency key.
    EventId
);
id_type!(
    /// An employee (`employees.id`, `events.actor`).
    EmployeeId
);
id_type!(
    /// An organisational unit (`units.id`).
    UnitId
);
id_type!(
    /// A data subject: a person (`subjects.id`) or a vehicle (`vehicles.id`, often a plate).
    SubjectId
);
id_type!(
    /// A case, incident, permit or service request (`cases.id`).
    CaseId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_contract_rules() {
        assert!(EventId::new("bvh-000918273").is_ok());
        assert_eq!(EventId::new(""), Err(IdError::Empty));
        assert_eq!(EventId::new("a".repeat(129)), Err(IdError::TooLong(129)));
        assert!(EventId::new("a".repeat(128)).is_ok());
        assert_eq!(EventId::new("a\u{0}b"), Err(IdError::ControlCharacter));
        assert_eq!(EventId::new("a\nb"), Err(IdError::ControlCharacter));
    }

    #[test]
    fn deserialising_checks_the_rules() {
        let ok: EmployeeId = serde_json::from_str("\"E10442\"").unwrap();
        assert_eq!(ok.as_str(), "E10442");
        let err = serde_json::from_str::<EmployeeId>("\"\"").unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
