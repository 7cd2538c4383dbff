//! Full verification of a log against the records it claims to cover: every leaf hash is
//! recomputed from the caller's data, and every stored checkpoint is checked (signature, root
//! against the stored leaves, consistency with the next one). The outcome is a structured
//! [`VerifyReport`] of [`Finding`]s with indices and sizes.
//!
//! Verification never repairs or changes the log.

use std::io;

use crate::checkpoint::SignedCheckpoint;
use crate::hash::{Hash, LeafIdx, TreeSize, leaf_hash};
use crate::log::Log;
use crate::merkle::{ProofError, verify_consistency};
use crate::note::Verifier;
use crate::store::HashStore;

/// Stored hashes compared per read.
const VERIFY_CHUNK: u64 = 1 << 16;

/// One thing that is wrong with a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The stored leaf hash differs from the hash of the supplied data. `first` is the lowest
    /// such index; `count` how many indices differ in all.
    LeafMismatch { first: LeafIdx, count: u64 },
    /// The supplied leaves skip or repeat an index: `found` came where `expected` was due.
    /// Leaf comparison stops there.
    LeafOutOfOrder { expected: LeafIdx, found: LeafIdx },
    /// Fewer leaves were supplied than the log stores (the log has leaves the caller lacks).
    ExtraStoredLeaves {
        stored: TreeSize,
        supplied: TreeSize,
    },
    /// More leaves were supplied than the log stores (leaves are missing from the log).
    MissingStoredLeaves {
        stored: TreeSize,
        supplied: TreeSize,
    },
    /// The checkpoint's signature does not verify with the given key, or its body is malformed.
    CheckpointSignature { size: TreeSize },
    /// The checkpoint names another origin than the log.
    CheckpointOrigin { size: TreeSize },
    /// The checkpoint covers more leaves than the log stores.
    CheckpointBeyondLog { size: TreeSize, stored: TreeSize },
    /// The stored leaves do not give the checkpoint's root.
    CheckpointRoot { size: TreeSize, recomputed: Hash },
    /// A checkpoint does not have a larger size than the one before it.
    CheckpointsOutOfOrder { older: TreeSize, newer: TreeSize },
    /// Two successive checkpoints are not consistent (the older tree is not a prefix of the
    /// newer one).
    CheckpointsInconsistent { older: TreeSize, newer: TreeSize },
}

/// The outcome of [`verify_leaves`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Supplied leaves compared with stored hashes.
    pub leaves_checked: u64,
    /// Checkpoints examined.
    pub checkpoints_checked: usize,
    /// Everything found wrong, leaves first, then checkpoints oldest first.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    /// Whether nothing was found wrong.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Why verification could not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Reading the stored hashes failed.
    #[error("reading the log failed")]
    Io(#[from] io::Error),
}

impl From<ProofError> for VerifyError {
    fn from(err: ProofError) -> Self {
        match err {
            ProofError::Store(e) => Self::Io(e),
            other => Self::Io(io::Error::other(other)),
        }
    }
}

/// Verifies `log` against the caller's records: `leaves` yields `(index, leaf data)` in index
/// order starting at 0. Checks every checkpoint with `verifier`.
///
/// # Errors
/// Only when the log cannot be read; everything wrong with its content is a [`Finding`].
pub fn verify_leaves<S: HashStore>(
    log: &Log<S>,
    leaves: impl Iterator<Item = (u64, Vec<u8>)>,
    verifier: &Verifier,
) -> Result<VerifyReport, VerifyError> {
    let mut report = VerifyReport::default();
    check_leaves(log, leaves, &mut report)?;
    check_checkpoints(log, verifier, &mut report)?;
    Ok(report)
}

fn check_leaves<S: HashStore>(
    log: &Log<S>,
    leaves: impl Iterator<Item = (u64, Vec<u8>)>,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    let stored = log.size().0;
    let tree = log.tree();
    let mut chunk: Vec<Hash> = Vec::new();
    let mut chunk_start = 0u64;
    let mut next = 0u64;
    let mut first_mismatch: Option<u64> = None;
    let mut mismatches = 0u64;
    let mut supplied = 0u64;
    let mut in_order = true;
    for (idx, data) in leaves {
        supplied += 1;
        if !in_order {
            continue;
        }
        if idx != next {
            report.findings.push(Finding::LeafOutOfOrder {
                expected: LeafIdx(next),
                found: LeafIdx(idx),
            });
            in_order = false;
            continue;
        }
        next += 1;
        if idx >= stored {
            continue;
        }
        if idx >= chunk_start + chunk.len() as u64 {
            chunk_start = idx;
            chunk = tree.leaf_hashes(idx..(idx + VERIFY_CHUNK).min(stored))?;
        }
        report.leaves_checked += 1;
        // INVARIANT: chunk covers `idx` after the refill above.
        let stored_hash = chunk[(idx - chunk_start) as usize];
        if leaf_hash(&data) != stored_hash {
            mismatches += 1;
            first_mismatch.get_or_insert(idx);
        }
    }
    if let Some(first) = first_mismatch {
        report.findings.insert(
            0,
            Finding::LeafMismatch {
                first: LeafIdx(first),
                count: mismatches,
            },
        );
    }
    if in_order && supplied < stored {
        report.findings.push(Finding::ExtraStoredLeaves {
            stored: TreeSize(stored),
            supplied: TreeSize(supplied),
        });
    }
    if in_order && supplied > stored {
        report.findings.push(Finding::MissingStoredLeaves {
            stored: TreeSize(stored),
            supplied: TreeSize(supplied),
        });
    }
    Ok(())
}

fn check_checkpoints<S: HashStore>(
    log: &Log<S>,
    verifier: &Verifier,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    let stored = log.size();
    let mut previous: Option<&SignedCheckpoint> = None;
    for signed in log.checkpoints() {
        report.checkpoints_checked += 1;
        let cp = signed.checkpoint();
        if SignedCheckpoint::open(signed.note(), verifier).map(|opened| opened.checkpoint() == cp)
            != Ok(true)
        {
            report
                .findings
                .push(Finding::CheckpointSignature { size: cp.size });
        }
        if cp.origin != log.origin() {
            report
                .findings
                .push(Finding::CheckpointOrigin { size: cp.size });
        }
        if cp.size > stored {
            report.findings.push(Finding::CheckpointBeyondLog {
                size: cp.size,
                stored,
            });
        } else {
            let recomputed = log.root_at(cp.size)?;
            if recomputed != cp.root {
                report.findings.push(Finding::CheckpointRoot {
                    size: cp.size,
                    recomputed,
                });
            }
        }
        if let Some(prev) = previous {
            check_pair(log, prev, signed, report)?;
        }
        previous = Some(signed);
    }
    Ok(())
}

fn check_pair<S: HashStore>(
    log: &Log<S>,
    older: &SignedCheckpoint,
    newer: &SignedCheckpoint,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    let (old, new) = (older.checkpoint(), newer.checkpoint());
    if old.size >= new.size {
        report.findings.push(Finding::CheckpointsOutOfOrder {
            older: old.size,
            newer: new.size,
        });
        return Ok(());
    }
    if new.size > log.size() {
        // Already reported as beyond the log; no proof can be built.
        return Ok(());
    }
    let proof = log.consistency_proof(old.size, new.size)?;
    if verify_consistency(old.size, new.size, &old.root, &new.root, &proof).is_err() {
        report.findings.push(Finding::CheckpointsInconsistent {
            older: old.size,
            newer: new.size,
        });
    }
    Ok(())
}
