//! The RFC 6962 / RFC 9162 hashing primitives: the `Hash` value, the domain-separated leaf and
//! node hashes, and the index and size newtypes used everywhere else in the crate.
//!
//! This file knows nothing about trees, storage or signatures; it only names and computes hashes.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Length of a SHA-256 hash in bytes.
pub const HASH_LEN: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
///
/// Displays (and parses) as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_LEN]);

impl Hash {
    /// The root of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1).
    #[must_use]
    pub fn empty_root() -> Self {
        Self(Sha256::digest([]).into())
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// Builds a hash from a slice of exactly 32 bytes; `None` for any other length.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let array: [u8; HASH_LEN] = bytes.try_into().ok()?;
        Some(Self(array))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// Why a hex string is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    /// The string is not 64 characters long.
    #[error("a hash is 64 hex digits, got {0} characters")]
    Length(usize),
    /// A character is not a hex digit.
    #[error("not a hex digit at position {0}")]
    Digit(usize),
}

impl FromStr for Hash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 2 * HASH_LEN {
            return Err(ParseHashError::Length(s.len()));
        }
        let mut out = [0u8; HASH_LEN];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or(ParseHashError::Digit(2 * i))?;
            let lo = hex_value(pair[1]).ok_or(ParseHashError::Digit(2 * i + 1))?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The RFC 6962 leaf hash: `SHA-256(0x00 || data)`.
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// The RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_LEN];
    buf[0] = 0x01;
    buf[1..=HASH_LEN].copy_from_slice(&left.0);
    buf[1 + HASH_LEN..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// The position of a leaf in the log, counting from 0.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct LeafIdx(pub u64);

impl fmt::Display for LeafIdx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The number of leaves in a tree (or in a prefix of the log).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct TreeSize(pub u64);

impl fmt::Display for TreeSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = leaf_hash(b"");
        let text = h.to_string();
        assert_eq!(
            text,
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(text.parse::<Hash>(), Ok(h));
        assert_eq!("abc".parse::<Hash>(), Err(ParseHashError::Length(3)));
        let bad = format!("g{}", &text[1..]);
        assert_eq!(bad.parse::<Hash>(), Err(ParseHashError::Digit(0)));
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            Hash::empty_root().to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
