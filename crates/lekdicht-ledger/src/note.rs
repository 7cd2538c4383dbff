//! C2SP `signed-note` with Ed25519: signing and verifying notes, and the key encodings of Go's
//! `note` package.
//!
//! * key id: the first 4 bytes (big-endian `u32`) of `SHA-256(name || 0x0A || 0x01 || pubkey)`;
//! * signature line: `— <name> <base64(key id || Ed25519 signature)>` (em dash U+2014, one space
//!   each side of the name);
//! * verifier key: `<name>+<hex8 key id>+<base64(0x01 || pubkey)>`;
//! * signer key: `PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 || seed)>`.
//!
//! Only Ed25519 (signature type 0x01) is supported. This file knows nothing of checkpoints or
//! trees; it signs and checks text.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use ed25519_dalek::{Signer as _, Verifier as _};
use rand::TryRngCore;
use sha2::{Digest, Sha256};

/// Signature type byte of Ed25519 in signed notes.
const ALG_ED25519: u8 = 0x01;
/// The em dash that opens every signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Whether `name` is a valid key name: non-empty, no Unicode whitespace, no `+`.
#[must_use]
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// The key id of an Ed25519 key as RECOMMENDED by the signed-note spec.
#[must_use]
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([0x0A, ALG_ED25519]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Why a key string or key file is not usable.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key name is empty or contains whitespace or `+`.
    #[error("invalid key name {0:?}")]
    InvalidName(String),
    /// The string does not have the expected `+`-separated shape.
    #[error("malformed key string")]
    Malformed,
    /// The key is not an Ed25519 key (type byte other than 0x01) or has the wrong length.
    #[error("unsupported key type or length")]
    UnsupportedKey,
    /// The key id in the string does not match the key.
    #[error("key id {stated:08x} does not match the key ({computed:08x})")]
    KeyIdMismatch { stated: u32, computed: u32 },
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system")]
    Randomness,
    /// The key file is readable or writable by group or others.
    #[error("key file {path} has mode {mode:o}; it must not be accessible to group or others")]
    InsecurePermissions { path: String, mode: u32 },
    /// Reading or writing the key file failed.
    #[error("key file IO failed")]
    Io(#[from] io::Error),
}

/// A named Ed25519 signing key.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id()))
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from a 32-byte Ed25519 seed.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// A fresh key from the operating system's randomness.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`], [`KeyError::Randomness`].
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut seed)
            .map_err(|_| KeyError::Randomness)?;
        Self::from_seed(name, seed)
    }

    /// The key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, self.key.verifying_key().as_bytes())
    }

    /// The matching verifier.
    #[must_use]
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs raw bytes (for a note: its text, final newline included).
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The private key string `PRIVATE+KEY+<name>+<hex8 id>+<base64(0x01 || seed)>`.
    #[must_use]
    pub fn to_private_key_string(&self) -> String {
        let mut data = vec![ALG_ED25519];
        data.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id(),
            B64.encode(data)
        )
    }

    /// Parses a private key string.
    ///
    /// # Errors
    /// See [`KeyError`].
    pub fn from_private_key_string(s: &str) -> Result<Self, KeyError> {
        let rest = s
            .trim_end()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(KeyError::Malformed)?;
        let (name, stated, data) = split_key(rest)?;
        let seed: [u8; 32] = data
            .strip_prefix(&[ALG_ED25519])
            .and_then(|d| d.try_into().ok())
            .ok_or(KeyError::UnsupportedKey)?;
        let signer = Self::from_seed(name, seed)?;
        let computed = signer.key_id();
        if computed != stated {
            return Err(KeyError::KeyIdMismatch { stated, computed });
        }
        Ok(signer)
    }

    /// Generates a key and writes its private key string to a new file with mode 0600.
    ///
    /// # Errors
    /// See [`KeyError`]; the file must not exist yet.
    pub fn create_key_file(path: &Path, name: &str) -> Result<Self, KeyError> {
        let signer = Self::generate(name)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(signer.to_private_key_string().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        Ok(signer)
    }

    /// Reads a private key file written by [`Signer::create_key_file`]. The file must not be
    /// accessible to group or others.
    ///
    /// # Errors
    /// See [`KeyError`].
    pub fn load_key_file(path: &Path) -> Result<Self, KeyError> {
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::InsecurePermissions {
                path: path.display().to_string(),
                mode,
            });
        }
        let text = std::fs::read_to_string(path)?;
        Self::from_private_key_string(text.trim())
    }
}

/// Splits `<name>+<hex8>+<base64>` into its parts.
fn split_key(s: &str) -> Result<(&str, u32, Vec<u8>), KeyError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Malformed);
    };
    if !is_valid_key_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::Malformed);
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| KeyError::Malformed)?;
    let data = B64.decode(data).map_err(|_| KeyError::Malformed)?;
    Ok((name, id, data))
}

/// A named Ed25519 public key that checks note signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key: VerifyingKey,
}

impl Verifier {
    /// The key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, self.key.as_bytes())
    }

    /// Whether `signature` is this key's signature over `message`.
    #[must_use]
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify(message, &sig).is_ok()
    }
}

impl fmt::Display for Verifier {
    /// The verifier key string `<name>+<hex8 id>+<base64(0x01 || pubkey)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut data = vec![ALG_ED25519];
        data.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id(),
            B64.encode(data)
        )
    }
}

impl FromStr for Verifier {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, stated, data) = split_key(s.trim())?;
        let public: [u8; 32] = data
            .strip_prefix(&[ALG_ED25519])
            .and_then(|d| d.try_into().ok())
            .ok_or(KeyError::UnsupportedKey)?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| KeyError::UnsupportedKey)?;
        let verifier = Self {
            name: name.to_owned(),
            key,
        };
        let computed = verifier.key_id();
        if computed != stated {
            return Err(KeyError::KeyIdMismatch { stated, computed });
        }
        Ok(verifier)
    }
}

/// Why a note does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The text is empty, does not end in a newline, or contains control characters.
    #[error("malformed note text")]
    MalformedText,
    /// There is no blank line before the signatures, or a signature line is malformed.
    #[error("malformed signature block")]
    MalformedSignatures,
    /// No signature carries the verifier's name and key id.
    #[error("no signature by {name}+{key_id:08x}")]
    NotSignedByKey { name: String, key_id: u32 },
    /// A signature by the verifier's key does not verify.
    #[error("invalid signature by {name}+{key_id:08x}")]
    BadSignature { name: String, key_id: u32 },
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') || text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::MalformedText);
    }
    Ok(())
}

/// Signs `text` (which must end in a newline) and returns the signed note.
///
/// # Errors
/// [`NoteError::MalformedText`].
pub fn sign_note(text: &str, signer: &Signer) -> Result<String, NoteError> {
    check_text(text)?;
    let mut sig = signer.key_id().to_be_bytes().to_vec();
    sig.extend_from_slice(&signer.sign(text.as_bytes()));
    Ok(format!(
        "{text}\n{SIG_PREFIX}{} {}\n",
        signer.name(),
        B64.encode(sig)
    ))
}

/// Checks that `note` carries a valid signature by `verifier` and returns its text (final newline
/// included). Signatures by other keys are ignored.
///
/// # Errors
/// See [`NoteError`].
pub fn open_note<'a>(note: &'a str, verifier: &Verifier) -> Result<&'a str, NoteError> {
    let Some(split) = note.rfind("\n\n") else {
        return Err(NoteError::MalformedSignatures);
    };
    let text = &note[..=split];
    let sigs = &note[split + 2..];
    check_text(text)?;
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(NoteError::MalformedSignatures);
    }
    let mut found = false;
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix(SIG_PREFIX) else {
            return Err(NoteError::MalformedSignatures);
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err(NoteError::MalformedSignatures);
        };
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::MalformedSignatures)?;
        if raw.len() < 5 || !is_valid_key_name(name) {
            return Err(NoteError::MalformedSignatures);
        }
        let id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        if name != verifier.name() || id != verifier.key_id() {
            continue;
        }
        if !verifier.verify(text.as_bytes(), &raw[4..]) {
            return Err(NoteError::BadSignature {
                name: name.to_owned(),
                key_id: id,
            });
        }
        found = true;
    }
    if !found {
        return Err(NoteError::NotSignedByKey {
            name: verifier.name().to_owned(),
            key_id: verifier.key_id(),
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answer from the documentation of Go's golang.org/x/mod/sumdb/note package.
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                              then you don't know what your problem is.\n";
    const PETER_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
                              then you don't know what your problem is.\n\
                              \n\
                              \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn go_note_known_answer() {
        let signer = Signer::from_private_key_string(PETER_SKEY).unwrap();
        assert_eq!(signer.key_id(), 0xc74f20a3);
        assert_eq!(signer.verifier().to_string(), PETER_VKEY);
        assert_eq!(signer.to_private_key_string(), PETER_SKEY);
        assert_eq!(sign_note(PETER_TEXT, &signer).unwrap(), PETER_NOTE);
        let verifier: Verifier = PETER_VKEY.parse().unwrap();
        assert_eq!(open_note(PETER_NOTE, &verifier), Ok(PETER_TEXT));
    }

    #[test]
    fn altered_body_or_wrong_key_is_rejected() {
        let verifier: Verifier = PETER_VKEY.parse().unwrap();
        let altered = PETER_NOTE.replace("cryptography", "cryptograph!");
        assert!(matches!(
            open_note(&altered, &verifier),
            Err(NoteError::BadSignature { .. })
        ));
        let other = Signer::generate("PeterNeumann").unwrap().verifier();
        assert!(matches!(
            open_note(PETER_NOTE, &other),
            Err(NoteError::NotSignedByKey { .. })
        ));
        assert_eq!(
            open_note("no signatures\n", &verifier),
            Err(NoteError::MalformedSignatures)
        );
    }

    #[test]
    fn key_strings_reject_bad_input() {
        let wrong_id = PETER_VKEY.replace("c74f20a3", "c74f20a4");
        assert!(matches!(
            wrong_id.parse::<Verifier>(),
            Err(KeyError::KeyIdMismatch { .. })
        ));
        assert!(matches!(
            "a b+00000000+AA==".parse::<Verifier>(),
            Err(KeyError::InvalidName(_))
        ));
        assert!(matches!(
            "name+nothex!+AA==".parse::<Verifier>(),
            Err(KeyError::Malformed)
        ));
        assert!(matches!(
            Signer::generate("with+plus"),
            Err(KeyError::InvalidName(_))
        ));
    }

    #[test]
    fn key_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.key");
        let signer = Signer::create_key_file(&path, "lekdicht.example/ledger").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = Signer::load_key_file(&path).unwrap();
        assert_eq!(loaded.verifier(), signer.verifier());
        assert!(Signer::create_key_file(&path, "again").is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Signer::load_key_file(&path),
            Err(KeyError::InsecurePermissions { .. })
        ));
    }
}
