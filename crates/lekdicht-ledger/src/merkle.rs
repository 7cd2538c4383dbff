//! Merkle tree algorithms of RFC 9162 §2.1: tree hashes of any prefix, inclusion proofs,
//! consistency proofs and their verification, plus the right-edge frontier (compact range) that
//! makes appending cheap.
//!
//! The algorithms read complete ("perfect") subtree hashes through the [`SubtreeSource`] trait, so
//! the same code answers from stored leaves, from a cache of subtree hashes or from exported
//! tiles. This file does no IO of its own and knows nothing of files or signatures.

use std::io;

use crate::hash::{Hash, LeafIdx, TreeSize, node_hash};

/// Height of the subtrees whose hashes the in-memory cache keeps and the tiles hold (256 leaves).
pub const TILE_HEIGHT: u32 = 8;

/// Gives the hash of a complete subtree: the `2^level` leaves starting at `index << level`.
pub trait SubtreeSource {
    /// Number of leaves available.
    fn leaf_count(&self) -> u64;

    /// Hash of the complete subtree at `level` (0 = a leaf hash) and position `index`.
    /// Callers only ask for subtrees that lie entirely within `leaf_count()` leaves.
    ///
    /// # Errors
    /// Any storage error of the underlying source.
    fn perfect(&self, level: u32, index: u64) -> io::Result<Hash>;
}

/// Why a proof or a root cannot be produced.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {idx} is not in a tree of size {size}")]
    IndexOutOfRange { idx: LeafIdx, size: TreeSize },
    /// A requested tree size exceeds the number of stored leaves, or sizes are out of order.
    #[error("tree size {requested} is not available (log has {available} leaves)")]
    SizeOutOfRange {
        requested: TreeSize,
        available: TreeSize,
    },
    /// Reading hashes failed.
    #[error("reading stored hashes failed")]
    Store(#[from] io::Error),
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyProofError {
    /// The index is not below the tree size, or the sizes are out of order.
    #[error("index or sizes out of range")]
    OutOfRange,
    /// The proof has the wrong number of hashes for the index and sizes.
    #[error("proof has the wrong length")]
    WrongLength,
    /// The recomputed root differs from the expected root.
    #[error("recomputed root {computed} differs from expected {expected}")]
    RootMismatch { computed: Hash, expected: Hash },
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Hash of the leaves `[lo, hi)`, where `lo` is a multiple of the smallest power of two that is
/// at least `hi - lo` (which holds for every range the RFC recursions visit). The range is split
/// into complete subtrees by the binary digits of its length; their hashes fold from the right.
///
/// # Errors
/// Storage errors of `src`.
pub fn range_hash<S: SubtreeSource + ?Sized>(src: &S, lo: u64, hi: u64) -> io::Result<Hash> {
    if lo == hi {
        return Ok(Hash::empty_root());
    }
    let len = hi - lo;
    let mut parts: Vec<Hash> = Vec::with_capacity(64);
    let mut pos = lo;
    for level in (0..64u32).rev() {
        if (len >> level) & 1 == 0 {
            continue;
        }
        // INVARIANT: `pos` is aligned to `2^level`, see the function doc.
        debug_assert_eq!(pos % (1u64 << level), 0);
        parts.push(src.perfect(level, pos >> level)?);
        pos += 1u64 << level;
    }
    let mut acc = parts.pop().unwrap_or_else(Hash::empty_root);
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// Root hash of the first `size` leaves of `src`.
///
/// # Errors
/// [`ProofError::SizeOutOfRange`] when `size` exceeds the leaves available; storage errors.
pub fn root_at<S: SubtreeSource + ?Sized>(src: &S, size: TreeSize) -> Result<Hash, ProofError> {
    check_size(src, size)?;
    Ok(range_hash(src, 0, size.0)?)
}

fn check_size<S: SubtreeSource + ?Sized>(src: &S, size: TreeSize) -> Result<(), ProofError> {
    let available = TreeSize(src.leaf_count());
    if size > available {
        return Err(ProofError::SizeOutOfRange {
            requested: size,
            available,
        });
    }
    Ok(())
}

/// Inclusion proof `PATH(idx, D[size])` of RFC 9162 §2.1.3.1, ordered from the leaf upwards.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] or [`ProofError::SizeOutOfRange`]; storage errors.
pub fn inclusion_proof<S: SubtreeSource + ?Sized>(
    src: &S,
    idx: LeafIdx,
    size: TreeSize,
) -> Result<Vec<Hash>, ProofError> {
    check_size(src, size)?;
    if idx.0 >= size.0 {
        return Err(ProofError::IndexOutOfRange { idx, size });
    }
    let mut proof = Vec::new();
    path(src, idx.0, 0, size.0, &mut proof)?;
    Ok(proof)
}

fn path<S: SubtreeSource + ?Sized>(
    src: &S,
    m: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Hash>,
) -> io::Result<()> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(src, m, lo, lo + k, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        path(src, m - k, lo + k, hi, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// Consistency proof `PROOF(old, D[new])` of RFC 9162 §2.1.4.1. Empty when `old` is 0 or equal
/// to `new`.
///
/// # Errors
/// [`ProofError::SizeOutOfRange`] when `old > new` or `new` exceeds the leaves; storage errors.
pub fn consistency_proof<S: SubtreeSource + ?Sized>(
    src: &S,
    old: TreeSize,
    new: TreeSize,
) -> Result<Vec<Hash>, ProofError> {
    check_size(src, new)?;
    if old > new {
        return Err(ProofError::SizeOutOfRange {
            requested: old,
            available: new,
        });
    }
    let mut proof = Vec::new();
    if old.0 == 0 || old == new {
        return Ok(proof);
    }
    subproof(src, old.0, 0, new.0, true, &mut proof)?;
    Ok(proof)
}

fn subproof<S: SubtreeSource + ?Sized>(
    src: &S,
    m: u64,
    lo: u64,
    hi: u64,
    whole_old_tree: bool,
    out: &mut Vec<Hash>,
) -> io::Result<()> {
    let n = hi - lo;
    if m == n {
        if !whole_old_tree {
            out.push(range_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, lo, lo + k, whole_old_tree, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2): `leaf` is at `idx` in the tree of `size`
/// leaves whose root is `root`.
///
/// # Errors
/// Describes why the proof fails.
pub fn verify_inclusion(
    leaf: &Hash,
    idx: LeafIdx,
    size: TreeSize,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyProofError> {
    if idx.0 >= size.0 {
        return Err(VerifyProofError::OutOfRange);
    }
    let mut f_n = idx.0;
    let mut s_n = size.0 - 1;
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(VerifyProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(VerifyProofError::WrongLength);
    }
    if r != *root {
        return Err(VerifyProofError::RootMismatch {
            computed: r,
            expected: *root,
        });
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2): the tree of `old` leaves with root
/// `old_root` is a prefix of the tree of `new` leaves with root `new_root`.
///
/// # Errors
/// Describes why the proof fails.
pub fn verify_consistency(
    old: TreeSize,
    new: TreeSize,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyProofError> {
    if old > new {
        return Err(VerifyProofError::OutOfRange);
    }
    if old.0 == 0 {
        // Every tree extends the empty tree; the proof is empty.
        if !proof.is_empty() {
            return Err(VerifyProofError::WrongLength);
        }
        if *old_root != Hash::empty_root() {
            return Err(VerifyProofError::RootMismatch {
                computed: Hash::empty_root(),
                expected: *old_root,
            });
        }
        return Ok(());
    }
    if old == new {
        if !proof.is_empty() {
            return Err(VerifyProofError::WrongLength);
        }
        if old_root != new_root {
            return Err(VerifyProofError::RootMismatch {
                computed: *old_root,
                expected: *new_root,
            });
        }
        return Ok(());
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.0.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(VerifyProofError::WrongLength);
    };
    let mut f_n = old.0 - 1;
    let mut s_n = new.0 - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut f_r = *first;
    let mut s_r = *first;
    for c in rest {
        if s_n == 0 {
            return Err(VerifyProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(VerifyProofError::WrongLength);
    }
    if f_r != *old_root {
        return Err(VerifyProofError::RootMismatch {
            computed: f_r,
            expected: *old_root,
        });
    }
    if s_r != *new_root {
        return Err(VerifyProofError::RootMismatch {
            computed: s_r,
            expected: *new_root,
        });
    }
    Ok(())
}

/// The right edge of the tree: the hashes of the complete subtrees that the binary digits of the
/// size split the tree into, largest first. Appending a leaf costs amortised O(1) node hashes;
/// the root costs O(log n).
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    size: u64,
    // INVARIANT: levels strictly decrease along the vector and match the set bits of `size`.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The empty frontier.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves pushed so far.
    #[must_use]
    pub fn size(&self) -> TreeSize {
        TreeSize(self.size)
    }

    /// Appends one leaf hash. Every complete subtree of height [`TILE_HEIGHT`] that this push
    /// completes is handed to `on_tile` (in leaf order), so a caller can cache it.
    pub fn push(&mut self, leaf: Hash, mut on_tile: impl FnMut(Hash)) {
        let mut level = 0u32;
        let mut hash = leaf;
        while let Some(&(top_level, top_hash)) = self.nodes.last() {
            if top_level != level {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&top_hash, &hash);
            level += 1;
            if level == TILE_HEIGHT {
                on_tile(hash);
            }
        }
        self.nodes.push((level, hash));
        self.size += 1;
    }

    /// Root hash of the leaves pushed so far.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return Hash::empty_root();
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

/// Hash of a complete subtree given all its leaf-level (or lower-level) hashes: pairwise
/// reduction until one hash is left. The length must be a power of two.
///
/// # Panics
/// If `hashes` is empty (an internal invariant: callers always pass `2^k` hashes).
#[must_use]
pub fn reduce_perfect(mut hashes: Vec<Hash>) -> Hash {
    assert!(
        !hashes.is_empty(),
        "a complete subtree has at least one hash"
    );
    while hashes.len() > 1 {
        let half = hashes.len() / 2;
        for i in 0..half {
            hashes[i] = node_hash(&hashes[2 * i], &hashes[2 * i + 1]);
        }
        hashes.truncate(half);
    }
    hashes[0]
}

/// A [`SubtreeSource`] over leaf hashes held in a slice. Simple and O(2^level) per subtree:
/// for tests and small trees.
pub struct SliceSource<'a>(pub &'a [Hash]);

impl SubtreeSource for SliceSource<'_> {
    fn leaf_count(&self) -> u64 {
        self.0.len() as u64
    }

    fn perfect(&self, level: u32, index: u64) -> io::Result<Hash> {
        let start = usize::try_from(index << level).map_err(io::Error::other)?;
        let end = start + (1usize << level);
        let Some(leaves) = self.0.get(start..end) else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "subtree beyond the leaves",
            ));
        };
        Ok(reduce_perfect(leaves.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn frontier_matches_range_hash_for_every_size() {
        let leaves: Vec<Hash> = (0u32..600).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut frontier = Frontier::new();
        let mut tiles = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            frontier.push(*leaf, |h| tiles.push(h));
            let src = SliceSource(&leaves[..=i]);
            assert_eq!(frontier.root(), range_hash(&src, 0, i as u64 + 1).unwrap());
        }
        assert_eq!(tiles.len(), 2);
        assert_eq!(tiles[1], reduce_perfect(leaves[256..512].to_vec()));
    }

    #[test]
    fn proofs_verify_for_all_small_trees() {
        let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let src = SliceSource(&leaves);
        for size in 1..=40u64 {
            let root = root_at(&src, TreeSize(size)).unwrap();
            for idx in 0..size {
                let proof = inclusion_proof(&src, LeafIdx(idx), TreeSize(size)).unwrap();
                let leaf = leaves[idx as usize];
                assert_eq!(
                    verify_inclusion(&leaf, LeafIdx(idx), TreeSize(size), &proof, &root),
                    Ok(())
                );
            }
            for old in 0..=size {
                let old_root = root_at(&src, TreeSize(old)).unwrap();
                let proof = consistency_proof(&src, TreeSize(old), TreeSize(size)).unwrap();
                assert_eq!(
                    verify_consistency(TreeSize(old), TreeSize(size), &old_root, &root, &proof),
                    Ok(()),
                    "old {old} new {size}"
                );
            }
        }
    }
}
