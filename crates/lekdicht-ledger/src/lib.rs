//! The tamper-evident ledger of lekdicht: an append-only log of leaf hashes in the constructions
//! of Certificate Transparency and Go's checksum database, so that independent tools can check it.
//!
//! # Formats
//! * **Merkle tree** (RFC 6962 / RFC 9162 §2.1): leaf hash `SHA-256(0x00 || data)`, node hash
//!   `SHA-256(0x01 || left || right)`; inclusion and consistency proofs as in RFC 9162.
//! * **Leaf data** of an access event is its RFC 8785 canonical JSON ([`canonical_json`]); the
//!   ledger itself only ever sees leaf hashes.
//! * **Checkpoints** (C2SP `tlog-checkpoint`): origin line, decimal size, base64 root, optional
//!   extension lines, signed as a C2SP `signed-note` with Ed25519 (key id, signature line and
//!   key strings as Go's `note` package writes them; see [`note`]).
//! * **Tiles** (C2SP `tlog-tiles`): `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]` and
//!   `checkpoint`, see [`tiles`].
//! * **On disk**, a log directory holds `leaves` (32-byte leaf hashes back to back) and
//!   `checkpoints.jsonl` (one signed checkpoint note per line).
//!
//! # Invariants
//! * **Append-only**: leaves and checkpoints are only ever appended; a torn trailing record from
//!   a crash is cut off on open, nothing else is ever rewritten.
//! * **Nothing is signed before it is durable**: the tree counts a leaf only after the store has
//!   synced it, and [`Log::checkpoint`] signs only the tree's size; a checkpoint is synced before
//!   it is returned.
//! * **A published size is never re-signed with a different root**: checkpoints are only signed
//!   for sizes larger than the last one, and [`Log::open`] recomputes the last published root
//!   from the stored leaves, refusing with [`OpenError::Tampered`] (naming the size) if it
//!   differs.
//!
//! # Not here
//! No SQL, no async, no knowledge of events or the store: callers hash their own records, and
//! [`verify_leaves`] recomputes those hashes from the records they supply.

pub mod checkpoint;
pub mod hash;
pub mod log;
pub mod merkle;
pub mod note;
pub mod store;
pub mod tiles;
pub mod tree;
pub mod verify;

pub use checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
pub use hash::{Hash, LeafIdx, ParseHashError, TreeSize, leaf_hash, node_hash};
pub use log::{CHECKPOINTS_FILE, LEAVES_FILE, Log, OpenError, PublishError};
pub use merkle::{ProofError, VerifyProofError, verify_consistency, verify_inclusion};
pub use note::{KeyError, NoteError, Signer, Verifier};
pub use store::{FileHashStore, HashStore, MemoryHashStore};
pub use tiles::{ExportError, ExportReport, TileDir, TileReadError, export_tiles};
pub use tree::{AppendError, Tree};
pub use verify::{Finding, VerifyError, VerifyReport, verify_leaves};

/// The RFC 8785 (JCS) canonical form of a JSON value: sorted keys, no insignificant whitespace,
/// ECMAScript number formatting and minimal string escapes. The leaf data of an access event.
///
/// # Panics
/// Never for a `Value` built by `serde_json` as configured in this workspace: its keys are
/// strings and its numbers finite. (Only with serde_json's `arbitrary_precision` feature could a
/// number overflow `f64` and make canonicalisation fail.)
#[must_use]
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("a serde_json::Value always canonicalises")
}
