//! C2SP `tlog-checkpoint` bodies: the origin line, the decimal tree size, the base64 root hash and
//! optional extension lines, each ending in a newline; and [`SignedCheckpoint`], a checkpoint
//! together with its signed note.
//!
//! Signing and signature checks live in [`crate::note`]; this file only formats and parses.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::hash::{Hash, TreeSize};
use crate::note::{NoteError, Signer, Verifier, open_note, sign_note};

/// A checkpoint body: what a log commits to at one size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique identity of the log (conventionally a schema-less URL).
    pub origin: String,
    /// Number of leaves.
    pub size: TreeSize,
    /// Root hash of those leaves.
    pub root: Hash,
    /// Extension lines (without newlines); empty for lekdicht's own checkpoints.
    pub extensions: Vec<String>,
}

/// Why a checkpoint does not parse or open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The body lacks one of the three mandatory lines or has an empty line.
    #[error("checkpoint body is missing lines or has empty ones")]
    MissingLines,
    /// The size line is not a decimal number without leading zeros.
    #[error("malformed tree size line {0:?}")]
    BadSize(String),
    /// The root line is not the base64 encoding of 32 bytes.
    #[error("malformed root hash line {0:?}")]
    BadRoot(String),
    /// The signed note does not open with the given key.
    #[error("checkpoint signature: {0}")]
    Note(#[from] NoteError),
}

impl Checkpoint {
    /// The body text, every line ending in a newline.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size.0,
            B64.encode(self.root.0)
        );
        for ext in &self.extensions {
            text.push_str(ext);
            text.push('\n');
        }
        text
    }

    /// Parses a body produced by [`Checkpoint::to_text`] (or any conforming log).
    ///
    /// # Errors
    /// See [`CheckpointError`].
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let Some(body) = text.strip_suffix('\n') else {
            return Err(CheckpointError::MissingLines);
        };
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::MissingLines);
        };
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if origin.is_empty() || extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::MissingLines);
        }
        let canonical = size.bytes().all(|b| b.is_ascii_digit())
            && !size.is_empty()
            && (size == "0" || !size.starts_with('0'));
        let size_value = size
            .parse::<u64>()
            .ok()
            .filter(|_| canonical)
            .ok_or_else(|| CheckpointError::BadSize(size.to_owned()))?;
        let root_value = B64
            .decode(root)
            .ok()
            .and_then(|b| Hash::from_slice(&b))
            .ok_or_else(|| CheckpointError::BadRoot(root.to_owned()))?;
        Ok(Self {
            origin: origin.to_owned(),
            size: TreeSize(size_value),
            root: root_value,
            extensions,
        })
    }
}

/// A checkpoint and the signed note that carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: String,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with `signer`.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] when the body holds characters a note cannot carry.
    pub fn sign(checkpoint: Checkpoint, signer: &Signer) -> Result<Self, CheckpointError> {
        let note = sign_note(&checkpoint.to_text(), signer)?;
        Ok(Self { checkpoint, note })
    }

    /// Checks the note's signature by `verifier` and parses its body.
    ///
    /// # Errors
    /// See [`CheckpointError`].
    pub fn open(note: &str, verifier: &Verifier) -> Result<Self, CheckpointError> {
        let text = open_note(note, verifier)?;
        let checkpoint = Checkpoint::parse(text)?;
        Ok(Self {
            checkpoint,
            note: note.to_owned(),
        })
    }

    /// Parses the body without checking any signature (for a note whose signature is checked
    /// later, or by someone else).
    ///
    /// # Errors
    /// See [`CheckpointError`].
    pub fn parse_unverified(note: &str) -> Result<Self, CheckpointError> {
        let Some(split) = note.rfind("\n\n") else {
            return Err(CheckpointError::Note(NoteError::MalformedSignatures));
        };
        let checkpoint = Checkpoint::parse(&note[..=split])?;
        Ok(Self {
            checkpoint,
            note: note.to_owned(),
        })
    }

    /// The checkpoint body.
    #[must_use]
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The complete signed note, as published.
    #[must_use]
    pub fn note(&self) -> &str {
        &self.note
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: Result<(u64, &str, usize), CheckpointError>) {
        let got = Checkpoint::parse(text).map(|c| (c.size.0, c.origin.clone(), c.extensions.len()));
        let expect = expect.map(|(s, o, e)| (s, o.to_owned(), e));
        assert_eq!(got, expect, "{text:?}");
    }

    #[test]
    fn parse_cases() {
        let root = B64.encode([7u8; 32]);
        check(
            &format!("example.com/log\n42\n{root}\n"),
            Ok((42, "example.com/log", 0)),
        );
        check(
            &format!("example.com/log\n0\n{root}\next one\n"),
            Ok((0, "example.com/log", 1)),
        );
        check(
            &format!("o\n042\n{root}\n"),
            Err(CheckpointError::BadSize("042".into())),
        );
        check(
            &format!("o\n-1\n{root}\n"),
            Err(CheckpointError::BadSize("-1".into())),
        );
        check("o\n1\nAAAA\n", Err(CheckpointError::BadRoot("AAAA".into())));
        check(&format!("o\n1\n{root}"), Err(CheckpointError::MissingLines));
        check("o\n1\n", Err(CheckpointError::MissingLines));
        check(
            &format!("o\n1\n{root}\n\n"),
            Err(CheckpointError::MissingLines),
        );
    }

    #[test]
    fn signed_round_trip_and_rejection() {
        let signer = Signer::from_seed("example.com/log", [1u8; 32]).unwrap();
        let cp = Checkpoint {
            origin: "example.com/log".into(),
            size: TreeSize(5),
            root: Hash([9u8; 32]),
            extensions: vec![],
        };
        let signed = SignedCheckpoint::sign(cp.clone(), &signer).unwrap();
        assert!(signed.note().starts_with(&cp.to_text()));
        let opened = SignedCheckpoint::open(signed.note(), &signer.verifier()).unwrap();
        assert_eq!(opened.checkpoint(), &cp);
        let forged = signed.note().replacen("\n5\n", "\n6\n", 1);
        assert!(matches!(
            SignedCheckpoint::open(&forged, &signer.verifier()),
            Err(CheckpointError::Note(NoteError::BadSignature { .. }))
        ));
        let stranger = Signer::from_seed("example.com/log", [2u8; 32]).unwrap();
        assert!(matches!(
            SignedCheckpoint::open(signed.note(), &stranger.verifier()),
            Err(CheckpointError::Note(NoteError::NotSignedByKey { .. }))
        ));
    }
}
