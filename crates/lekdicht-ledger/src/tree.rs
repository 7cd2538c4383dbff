//! [`Tree`]: a Merkle tree over a [`HashStore`], kept incrementally. It holds the right-edge
//! frontier (the current root in O(log n)) and, in memory, the hashes of every complete subtree
//! of 256 leaves or more (about n/128 hashes). A proof or an old root then costs O(log n) cached
//! lookups plus at most a few hundred stored leaf hashes per level below 8. Loading a store reads
//! every leaf hash once.
//!
//! The tree's size counts only leaves that the store has synced: `append` writes, syncs, and only
//! then grows the tree. The tree signs nothing and knows no checkpoints; that is [`crate::Log`].

use std::io;

use crate::hash::{Hash, LeafIdx, TreeSize, node_hash};
use crate::merkle::{self, Frontier, ProofError, SubtreeSource, TILE_HEIGHT, reduce_perfect};
use crate::store::HashStore;

/// Leaf hashes read per request while loading a store.
const LOAD_CHUNK: u64 = 1 << 16;

/// Why an append failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Writing or syncing failed. The tree did not grow; it refuses further appends until the
    /// store is reopened, because the store may hold records that were never synced.
    #[error("writing or syncing leaf hashes failed")]
    Store(#[source] io::Error),
    /// An earlier append failed; reopen the store to recover.
    #[error("an earlier append failed; reopen the log")]
    Poisoned,
}

/// A Merkle tree over a store of leaf hashes.
#[derive(Debug)]
pub struct Tree<S: HashStore> {
    store: S,
    frontier: Frontier,
    // INVARIANT: `upper[k][i]` is the hash of the complete subtree at level `8 + k` and position
    // `i`, for every such subtree within `frontier.size()`. `upper[0]` holds the 256-leaf tiles.
    upper: Vec<Vec<Hash>>,
    poisoned: bool,
}

impl<S: HashStore> Tree<S> {
    /// Builds the tree over everything the store holds (reads every stored hash once).
    ///
    /// # Errors
    /// Storage errors.
    pub fn load(store: S) -> io::Result<Self> {
        let mut tree = Self {
            store,
            frontier: Frontier::new(),
            upper: Vec::new(),
            poisoned: false,
        };
        let len = tree.store.len();
        let mut start = 0;
        while start < len {
            let end = (start + LOAD_CHUNK).min(len);
            let hashes = tree.store.read(start..end)?;
            tree.absorb(&hashes);
            start = end;
        }
        Ok(tree)
    }

    fn absorb(&mut self, hashes: &[Hash]) {
        let upper = &mut self.upper;
        for h in hashes {
            self.frontier.push(*h, |tile| push_upper(upper, tile));
        }
    }

    /// Appends leaf hashes, syncs them, and returns the new (durable) size.
    ///
    /// # Errors
    /// See [`AppendError`].
    pub fn append(&mut self, leaf_hashes: &[Hash]) -> Result<TreeSize, AppendError> {
        if self.poisoned {
            return Err(AppendError::Poisoned);
        }
        if leaf_hashes.is_empty() {
            return Ok(self.size());
        }
        let written = self
            .store
            .append(leaf_hashes)
            .and_then(|()| self.store.sync());
        if let Err(err) = written {
            self.poisoned = true;
            return Err(AppendError::Store(err));
        }
        self.absorb(leaf_hashes);
        Ok(self.size())
    }

    /// Number of leaves in the tree: all of them synced.
    #[must_use]
    pub fn size(&self) -> TreeSize {
        self.frontier.size()
    }

    /// Root of the whole tree, O(log n).
    #[must_use]
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Root of the first `size` leaves.
    ///
    /// # Errors
    /// [`ProofError::SizeOutOfRange`]; storage errors.
    pub fn root_at(&self, size: TreeSize) -> Result<Hash, ProofError> {
        if size == self.size() {
            return Ok(self.root());
        }
        merkle::root_at(self, size)
    }

    /// Inclusion proof for leaf `idx` in the tree of `size` leaves.
    ///
    /// # Errors
    /// See [`ProofError`].
    pub fn inclusion_proof(&self, idx: LeafIdx, size: TreeSize) -> Result<Vec<Hash>, ProofError> {
        merkle::inclusion_proof(self, idx, size)
    }

    /// Consistency proof between the trees of `old` and `new` leaves.
    ///
    /// # Errors
    /// See [`ProofError`].
    pub fn consistency_proof(&self, old: TreeSize, new: TreeSize) -> Result<Vec<Hash>, ProofError> {
        merkle::consistency_proof(self, old, new)
    }

    /// The stored leaf hashes at `range` (within the tree size).
    ///
    /// # Errors
    /// Storage errors; `UnexpectedEof` beyond the tree size.
    pub fn leaf_hashes(&self, range: std::ops::Range<u64>) -> io::Result<Vec<Hash>> {
        if range.end > self.size().0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "range beyond the tree",
            ));
        }
        self.store.read(range)
    }

    /// Hashes of the complete 256-leaf subtrees, in order.
    #[must_use]
    pub fn tile_hashes(&self) -> &[Hash] {
        self.upper.first().map_or(&[], Vec::as_slice)
    }

    /// Hashes of the complete subtrees at `level` (0 = leaves) and positions `range`, for
    /// `level` 0 or at least [`TILE_HEIGHT`].
    ///
    /// # Errors
    /// Storage errors; `UnexpectedEof` for nodes beyond the tree; `InvalidInput` for a level
    /// between 1 and 7.
    pub fn node_hashes(&self, level: u32, range: std::ops::Range<u64>) -> io::Result<Vec<Hash>> {
        if level == 0 {
            return self.leaf_hashes(range);
        }
        if level < TILE_HEIGHT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "levels 1 to 7 are not cached",
            ));
        }
        let start = usize::try_from(range.start).map_err(io::Error::other)?;
        let end = usize::try_from(range.end).map_err(io::Error::other)?;
        let k = (level - TILE_HEIGHT) as usize;
        self.upper
            .get(k)
            .and_then(|hashes| hashes.get(start..end))
            .map(<[Hash]>::to_vec)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "nodes beyond the tree"))
    }

    /// The underlying store.
    #[must_use]
    pub fn store(&self) -> &S {
        &self.store
    }
}

/// Records a new 256-leaf subtree hash and every higher complete subtree it completes.
fn push_upper(upper: &mut Vec<Vec<Hash>>, tile: Hash) {
    let mut k = 0;
    let mut hash = tile;
    loop {
        if upper.len() == k {
            upper.push(Vec::new());
        }
        upper[k].push(hash);
        let row = &upper[k];
        if row.len() % 2 == 1 {
            return;
        }
        hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
        k += 1;
    }
}

impl<S: HashStore> SubtreeSource for Tree<S> {
    fn leaf_count(&self) -> u64 {
        self.size().0
    }

    fn perfect(&self, level: u32, index: u64) -> io::Result<Hash> {
        if level >= TILE_HEIGHT {
            let k = (level - TILE_HEIGHT) as usize;
            let i = usize::try_from(index).map_err(io::Error::other)?;
            return self
                .upper
                .get(k)
                .and_then(|hashes| hashes.get(i))
                .copied()
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "subtree beyond the tree")
                });
        }
        let start = index << level;
        let hashes = self.store.read(start..start + (1u64 << level))?;
        Ok(reduce_perfect(hashes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::merkle::{SliceSource, range_hash};
    use crate::store::MemoryHashStore;

    #[test]
    fn cached_subtrees_agree_with_plain_recomputation() {
        let leaves: Vec<Hash> = (0u32..1500).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = Tree::load(MemoryHashStore::new()).unwrap();
        for chunk in leaves.chunks(97) {
            tree.append(chunk).unwrap();
        }
        let plain = SliceSource(&leaves);
        for size in [0u64, 1, 255, 256, 257, 511, 512, 1024, 1300, 1500] {
            assert_eq!(
                tree.root_at(TreeSize(size)).unwrap(),
                range_hash(&plain, 0, size).unwrap(),
                "size {size}"
            );
        }
        for (idx, size) in [(0u64, 1500u64), (700, 1500), (1499, 1500), (3, 1024)] {
            assert_eq!(
                tree.inclusion_proof(LeafIdx(idx), TreeSize(size)).unwrap(),
                merkle::inclusion_proof(&plain, LeafIdx(idx), TreeSize(size)).unwrap()
            );
        }
        assert_eq!(
            tree.consistency_proof(TreeSize(333), TreeSize(1500))
                .unwrap(),
            merkle::consistency_proof(&plain, TreeSize(333), TreeSize(1500)).unwrap()
        );
        // Reloading the same store gives the same state.
        let reloaded = Tree::load(tree.store().clone()).unwrap();
        assert_eq!(reloaded.root(), tree.root());
        assert_eq!(reloaded.tile_hashes(), tree.tile_hashes());
        assert_eq!(
            tree.node_hashes(9, 0..2).unwrap(),
            vec![
                reduce_perfect(leaves[..512].to_vec()),
                reduce_perfect(leaves[512..1024].to_vec())
            ]
        );
    }
}
