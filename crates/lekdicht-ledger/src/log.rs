//! [`Log`]: one tamper-evident log in one directory: the leaf hashes (`leaves`, 32 bytes each)
//! and the append-only history of signed checkpoints (`checkpoints.jsonl`, one JSON object
//! `{"note": "<signed note>"}` per line).
//!
//! Invariants kept here: leaves are synced before the tree counts them; a checkpoint is signed
//! only for the tree's (synced) size and only when it grew; each checkpoint is synced before it
//! is returned; on open, the last published checkpoint is recomputed from the stored leaves, so a
//! size that was published is never signed again with a different root. The log does not know
//! what the leaves mean; callers hash their own records.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::hash::{Hash, LeafIdx, TreeSize};
use crate::merkle::ProofError;
use crate::note::{Signer, Verifier};
use crate::store::{FileHashStore, HashStore};
use crate::tree::{AppendError, Tree};

/// File name of the leaf hashes inside a log directory.
pub const LEAVES_FILE: &str = "leaves";
/// File name of the checkpoint history inside a log directory.
pub const CHECKPOINTS_FILE: &str = "checkpoints.jsonl";

/// One line of the checkpoint history file.
#[derive(Serialize, Deserialize)]
struct HistoryLine {
    note: String,
}

/// Why a log does not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Creating, locking or reading the directory's files failed (another process holding the
    /// log shows as `WouldBlock`).
    #[error("opening the log files failed")]
    Io(#[from] io::Error),
    /// The origin is not a valid checkpoint origin line.
    #[error("invalid origin {0:?}")]
    InvalidOrigin(String),
    /// A line of the checkpoint history does not parse.
    #[error("checkpoint history line {line} is malformed")]
    MalformedHistory {
        line: usize,
        #[source]
        reason: Option<CheckpointError>,
    },
    /// The history belongs to another origin.
    #[error("the log's checkpoints are for origin {found:?}, not {expected:?}")]
    OriginMismatch { expected: String, found: String },
    /// Checkpoint sizes in the history do not strictly increase.
    #[error("checkpoint history is out of order at size {size}")]
    HistoryOutOfOrder { size: TreeSize },
    /// The latest checkpoint's signature does not verify with the given signer's key.
    #[error("the checkpoint for size {size} is not signed by this log's key")]
    BadSignature { size: TreeSize },
    /// The stored leaves no longer give the published root for this size.
    #[error("tamper: the stored leaves do not give the published root for size {size}")]
    Tampered {
        size: TreeSize,
        published: Hash,
        /// The root the stored leaves give now; `None` when fewer leaves than `size` remain.
        recomputed: Option<Hash>,
    },
}

/// Why no checkpoint could be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The log was opened without a signer.
    #[error("the log was opened without a signing key")]
    NoSigner,
    /// Signing failed (the origin cannot be carried in a note).
    #[error("signing the checkpoint failed")]
    Sign(#[from] CheckpointError),
    /// Writing or syncing the history failed; the log refuses further checkpoints until reopened.
    #[error("writing the checkpoint history failed")]
    Io(#[from] io::Error),
    /// An earlier write to the history failed; reopen the log.
    #[error("an earlier checkpoint write failed; reopen the log")]
    Poisoned,
}

/// A tamper-evident, append-only log of leaf hashes with signed checkpoints.
#[derive(Debug)]
pub struct Log<S: HashStore = FileHashStore> {
    dir: PathBuf,
    origin: String,
    signer: Option<Signer>,
    tree: Tree<S>,
    history: File,
    // INVARIANT: sizes strictly increase; every entry is durable in `history`; the last one's
    // root equals the tree's root at its size.
    checkpoints: Vec<SignedCheckpoint>,
    history_poisoned: bool,
    /// Bytes of a partial leaf at the end of the leaves file when it was opened.
    torn_bytes: u64,
    /// Length of the complete lines of the history; bytes beyond it are a torn line, cut off
    /// before the next checkpoint is written.
    history_len: u64,
}

impl Log<FileHashStore> {
    /// Opens (creating if needed) the log in `dir`. Without a signer the log can append and
    /// prove but not publish checkpoints.
    ///
    /// # Errors
    /// See [`OpenError`]; notably [`OpenError::Tampered`].
    pub fn open(dir: &Path, origin: &str, signer: Option<Signer>) -> Result<Self, OpenError> {
        std::fs::create_dir_all(dir)?;
        let (store, report) = FileHashStore::open(&dir.join(LEAVES_FILE))?;
        let mut log = Self::open_with_store(dir, store, origin, signer)?;
        log.torn_bytes = report.torn_bytes;
        Ok(log)
    }

    /// Opens the log in `dir` for an audit: without a signing key, and without refusing a log
    /// whose stored leaves contradict the latest checkpoint, so that [`crate::verify_leaves`] can
    /// report exactly what is wrong. Such a log can prove but never sign.
    ///
    /// # Errors
    /// IO errors and a malformed or foreign history, as for [`Log::open`].
    pub fn open_for_audit(dir: &Path, origin: &str) -> Result<Self, OpenError> {
        let (store, report) = FileHashStore::open(&dir.join(LEAVES_FILE))?;
        let mut log = Self::open_unchecked(dir, store, origin, None)?;
        log.check_order()?;
        log.torn_bytes = report.torn_bytes;
        Ok(log)
    }
}

impl<S: HashStore> Log<S> {
    /// Opens the log with leaf hashes in `store` and the checkpoint history in `dir`.
    ///
    /// # Errors
    /// See [`OpenError`].
    pub fn open_with_store(
        dir: &Path,
        store: S,
        origin: &str,
        signer: Option<Signer>,
    ) -> Result<Self, OpenError> {
        let log = Self::open_unchecked(dir, store, origin, signer)?;
        log.check_order()?;
        log.check_latest()?;
        Ok(log)
    }

    fn open_unchecked(
        dir: &Path,
        store: S,
        origin: &str,
        signer: Option<Signer>,
    ) -> Result<Self, OpenError> {
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(OpenError::InvalidOrigin(origin.to_owned()));
        }
        std::fs::create_dir_all(dir)?;
        let tree = Tree::load(store)?;
        let (history, checkpoints, history_len) = read_history(&dir.join(CHECKPOINTS_FILE))?;
        Ok(Self {
            dir: dir.to_owned(),
            origin: origin.to_owned(),
            signer,
            tree,
            history,
            checkpoints,
            history_poisoned: false,
            torn_bytes: 0,
            history_len,
        })
    }

    /// Checks that the history is for this origin and its sizes strictly increase.
    fn check_order(&self) -> Result<(), OpenError> {
        let mut previous: Option<TreeSize> = None;
        for signed in &self.checkpoints {
            let cp = signed.checkpoint();
            if cp.origin != self.origin {
                return Err(OpenError::OriginMismatch {
                    expected: self.origin.clone(),
                    found: cp.origin.clone(),
                });
            }
            if previous.is_some_and(|p| p >= cp.size) {
                return Err(OpenError::HistoryOutOfOrder { size: cp.size });
            }
            previous = Some(cp.size);
        }
        Ok(())
    }

    /// Checks the latest checkpoint's signature (when a key is given) and its root against the
    /// stored leaves.
    fn check_latest(&self) -> Result<(), OpenError> {
        let Some(last) = self.checkpoints.last() else {
            return Ok(());
        };
        let cp = last.checkpoint();
        if let Some(signer) = &self.signer
            && SignedCheckpoint::open(last.note(), &signer.verifier()).is_err()
        {
            return Err(OpenError::BadSignature { size: cp.size });
        }
        let recomputed = match self.tree.root_at(cp.size) {
            Ok(root) => Some(root),
            Err(ProofError::SizeOutOfRange { .. }) => None,
            Err(ProofError::Store(err)) => return Err(OpenError::Io(err)),
            Err(ProofError::IndexOutOfRange { .. }) => None,
        };
        if recomputed != Some(cp.root) {
            return Err(OpenError::Tampered {
                size: cp.size,
                published: cp.root,
                recomputed,
            });
        }
        Ok(())
    }

    /// Appends leaf hashes and syncs them; returns the new size.
    ///
    /// # Errors
    /// See [`AppendError`].
    pub fn append(&mut self, leaf_hashes: &[Hash]) -> Result<TreeSize, AppendError> {
        self.tree.append(leaf_hashes)
    }

    /// Signs a checkpoint for the current (synced) size and appends it durably to the history,
    /// if the size grew since the last checkpoint. Returns `None` when there is nothing new.
    ///
    /// # Errors
    /// See [`PublishError`].
    pub fn checkpoint(&mut self) -> Result<Option<SignedCheckpoint>, PublishError> {
        let Some(signer) = &self.signer else {
            return Err(PublishError::NoSigner);
        };
        if self.history_poisoned {
            return Err(PublishError::Poisoned);
        }
        // The tree counts only synced leaves, so this size and root are durable.
        let size = self.tree.size();
        let published = self.checkpoints.last().map(|c| c.checkpoint().size);
        if size.0 == 0 || published.is_some_and(|p| p >= size) {
            return Ok(None);
        }
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root: self.tree.root(),
            extensions: Vec::new(),
        };
        let signed = SignedCheckpoint::sign(checkpoint, signer)?;
        let mut line = serde_json::to_vec(&HistoryLine {
            note: signed.note().to_owned(),
        })
        .map_err(io::Error::other)?;
        line.push(b'\n');
        let history_len = self.history_len;
        let written = self
            .history
            .metadata()
            .and_then(|m| {
                if m.len() > history_len {
                    self.history.set_len(history_len)?;
                }
                self.history.write_all(&line)
            })
            .and_then(|()| self.history.sync_data());
        if let Err(err) = written {
            self.history_poisoned = true;
            return Err(PublishError::Io(err));
        }
        self.history_len += line.len() as u64;
        self.checkpoints.push(signed.clone());
        Ok(Some(signed))
    }

    /// Bytes of a partial leaf that ended the leaves file when the log was opened (a write cut
    /// off by a crash, or a damaged file); 0 when the file held whole leaves only. The partial
    /// leaf is not counted, and is cut off by the next append.
    #[must_use]
    pub fn torn_bytes(&self) -> u64 {
        self.torn_bytes
    }

    /// Bytes of a torn last line in the checkpoint history when the log was opened (a checkpoint
    /// write cut off by a crash, never returned to anyone); cut off by the next checkpoint.
    #[must_use]
    pub fn torn_history_bytes(&self) -> u64 {
        let len = self
            .history
            .metadata()
            .map_or(self.history_len, |m| m.len());
        len.saturating_sub(self.history_len)
    }

    /// Current size (all leaves synced).
    #[must_use]
    pub fn size(&self) -> TreeSize {
        self.tree.size()
    }

    /// Current root.
    #[must_use]
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// Root of the first `size` leaves.
    ///
    /// # Errors
    /// See [`ProofError`].
    pub fn root_at(&self, size: TreeSize) -> Result<Hash, ProofError> {
        self.tree.root_at(size)
    }

    /// Inclusion proof of leaf `idx` in the tree of `size` leaves.
    ///
    /// # Errors
    /// See [`ProofError`].
    pub fn inclusion_proof(&self, idx: LeafIdx, size: TreeSize) -> Result<Vec<Hash>, ProofError> {
        self.tree.inclusion_proof(idx, size)
    }

    /// Consistency proof from the tree of `old` leaves to the tree of `new` leaves.
    ///
    /// # Errors
    /// See [`ProofError`].
    pub fn consistency_proof(&self, old: TreeSize, new: TreeSize) -> Result<Vec<Hash>, ProofError> {
        self.tree.consistency_proof(old, new)
    }

    /// The last published checkpoint.
    #[must_use]
    pub fn latest_checkpoint(&self) -> Option<&SignedCheckpoint> {
        self.checkpoints.last()
    }

    /// Every published checkpoint, oldest first.
    #[must_use]
    pub fn checkpoints(&self) -> &[SignedCheckpoint] {
        &self.checkpoints
    }

    /// The origin line of this log's checkpoints.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key of the signer, if the log has one.
    #[must_use]
    pub fn verifier(&self) -> Option<Verifier> {
        self.signer.as_ref().map(Signer::verifier)
    }

    /// The directory of the log.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The Merkle tree (for exports and verification).
    #[must_use]
    pub fn tree(&self) -> &Tree<S> {
        &self.tree
    }
}

/// Reads the history file, leaving out a torn last line (a write cut off by a crash: such a
/// checkpoint was never returned to anyone, because it was not synced). The file is not changed;
/// the returned length is that of its complete lines, where the next checkpoint is written.
fn read_history(path: &Path) -> Result<(File, Vec<SignedCheckpoint>, u64), OpenError> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let mut checkpoints = Vec::new();
    for (i, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let line_no = i + 1;
        let parsed: HistoryLine =
            serde_json::from_slice(line).map_err(|_| OpenError::MalformedHistory {
                line: line_no,
                reason: None,
            })?;
        let signed = SignedCheckpoint::parse_unverified(&parsed.note).map_err(|e| {
            OpenError::MalformedHistory {
                line: line_no,
                reason: Some(e),
            }
        })?;
        checkpoints.push(signed);
    }
    Ok((file, checkpoints, complete as u64))
}
