//! Export of a log to the C2SP `tlog-tiles` layout, and [`TileDir`], a reader that answers roots
//! and proofs from such a directory alone.
//!
//! Layout (tile height 8, 256 hashes per full tile):
//! * `tile/<L>/<N>`: hashes of the tree nodes at level `8 L`, positions `256 N ..`; a partial
//!   rightmost tile of width `W < 256` is `tile/<L>/<N>.p/<W>`;
//! * `tile/entries/<N>[.p/<W>]`: entry bundles, each entry a big-endian `u16` length and its bytes;
//! * `checkpoint`: the signed checkpoint the tiles belong to.
//!
//! `<N>` is written in groups of three digits, all but the last prefixed with `x`
//! (1234067 becomes `x001/x234/067`). The export serves no HTTP and prunes nothing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::checkpoint::{CheckpointError, SignedCheckpoint};
use crate::hash::{HASH_LEN, Hash, LeafIdx, TreeSize, leaf_hash};
use crate::merkle::{self, ProofError, SubtreeSource, TILE_HEIGHT, reduce_perfect};
use crate::note::Verifier;
use crate::store::HashStore;
use crate::tree::Tree;

/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// The index path of `n`: three-digit groups, all but the last prefixed with `x`.
#[must_use]
pub fn index_path(n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn width_suffix(width: u64) -> String {
    if width == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

/// Path of the hash tile at `level`, number `n`, holding `width` hashes (1 to 256).
#[must_use]
pub fn tile_path(level: u32, n: u64, width: u64) -> String {
    format!("tile/{level}/{}{}", index_path(n), width_suffix(width))
}

/// Path of entry bundle `n` holding `width` entries (1 to 256).
#[must_use]
pub fn entries_path(n: u64, width: u64) -> String {
    format!("tile/entries/{}{}", index_path(n), width_suffix(width))
}

/// Number of nodes at tile level `level` (tree level `8 level`) in a tree of `size` leaves.
fn nodes_at(level: u32, size: u64) -> u64 {
    size.checked_shr(TILE_HEIGHT * level).unwrap_or(0)
}

/// Width of tile `n` at `level` in a tree of `size` leaves (0 if the tile does not exist).
fn tile_width(level: u32, n: u64, size: u64) -> u64 {
    let count = nodes_at(level, size);
    let start = n.saturating_mul(TILE_WIDTH);
    count.saturating_sub(start).min(TILE_WIDTH)
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the log or writing the directory failed.
    #[error("tile export IO failed")]
    Io(#[from] io::Error),
    /// The checkpoint covers more leaves than the tree holds.
    #[error("checkpoint size {size} exceeds the tree ({available} leaves)")]
    CheckpointBeyondTree { size: TreeSize, available: TreeSize },
    /// The supplied entry does not hash to the stored leaf hash.
    #[error("entry {0} does not match the stored leaf hash")]
    EntryMismatch(LeafIdx),
    /// The supplied entry is longer than 65535 bytes.
    #[error("entry {0} is longer than 65535 bytes")]
    EntryTooLarge(LeafIdx),
    /// Fewer entries were supplied than the checkpoint covers.
    #[error("only {supplied} entries supplied for a tree of size {size}")]
    MissingEntries { supplied: u64, size: TreeSize },
}

/// What an export wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Hash tiles written (full and partial).
    pub tiles: u64,
    /// Entry bundles written.
    pub entry_bundles: u64,
}

fn write_file(root: &Path, rel: &str, bytes: &[u8]) -> io::Result<()> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    // Write beside and rename, so a reader never sees half a tile.
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, &path)
}

/// Exports the tree of the checkpoint's size to `out`: all hash tiles, the checkpoint, and, when
/// `entries` is given, the entry bundles (entries in leaf order, from index 0; each is checked
/// against the stored leaf hash).
///
/// # Errors
/// See [`ExportError`].
pub fn export_tiles<S: HashStore>(
    tree: &Tree<S>,
    checkpoint: &SignedCheckpoint,
    out: &Path,
    entries: Option<&mut dyn Iterator<Item = Vec<u8>>>,
) -> Result<ExportReport, ExportError> {
    let size = checkpoint.checkpoint().size;
    if size > tree.size() {
        return Err(ExportError::CheckpointBeyondTree {
            size,
            available: tree.size(),
        });
    }
    let mut report = ExportReport::default();
    let mut level = 0u32;
    while nodes_at(level, size.0) > 0 {
        let count = nodes_at(level, size.0);
        let tiles = count.div_ceil(TILE_WIDTH);
        for n in 0..tiles {
            let start = n * TILE_WIDTH;
            let width = tile_width(level, n, size.0);
            let hashes = tree.node_hashes(TILE_HEIGHT * level, start..start + width)?;
            let mut bytes = Vec::with_capacity(hashes.len() * HASH_LEN);
            for h in &hashes {
                bytes.extend_from_slice(&h.0);
            }
            write_file(out, &tile_path(level, n, width), &bytes)?;
            report.tiles += 1;
        }
        level += 1;
    }
    if let Some(entries) = entries {
        report.entry_bundles = export_entries(tree, size, out, entries)?;
    }
    write_file(out, "checkpoint", checkpoint.note().as_bytes())?;
    Ok(report)
}

fn export_entries<S: HashStore>(
    tree: &Tree<S>,
    size: TreeSize,
    out: &Path,
    entries: &mut dyn Iterator<Item = Vec<u8>>,
) -> Result<u64, ExportError> {
    let mut bundles = 0;
    let mut idx = 0u64;
    while idx < size.0 {
        let n = idx / TILE_WIDTH;
        let width = tile_width(0, n, size.0);
        let stored = tree.leaf_hashes(idx..idx + width)?;
        let mut bundle = Vec::new();
        for expected in stored {
            let Some(entry) = entries.next() else {
                return Err(ExportError::MissingEntries {
                    supplied: idx,
                    size,
                });
            };
            let Ok(len) = u16::try_from(entry.len()) else {
                return Err(ExportError::EntryTooLarge(LeafIdx(idx)));
            };
            if leaf_hash(&entry) != expected {
                return Err(ExportError::EntryMismatch(LeafIdx(idx)));
            }
            bundle.extend_from_slice(&len.to_be_bytes());
            bundle.extend_from_slice(&entry);
            idx += 1;
        }
        write_file(out, &entries_path(n, width), &bundle)?;
        bundles += 1;
    }
    Ok(bundles)
}

impl<S: HashStore> crate::log::Log<S> {
    /// Exports the tree of the latest checkpoint to `out` (see [`export_tiles`]). Returns `None`
    /// when no checkpoint has been published yet.
    ///
    /// # Errors
    /// See [`ExportError`].
    pub fn export_tiles(
        &self,
        out: &Path,
        entries: Option<&mut dyn Iterator<Item = Vec<u8>>>,
    ) -> Result<Option<ExportReport>, ExportError> {
        let Some(checkpoint) = self.latest_checkpoint() else {
            return Ok(None);
        };
        export_tiles(self.tree(), checkpoint, out, entries).map(Some)
    }
}

/// Why a tile directory cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TileReadError {
    /// A file is missing or unreadable.
    #[error("reading tiles failed")]
    Io(#[from] io::Error),
    /// The checkpoint does not verify or parse.
    #[error("tile checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The tiles do not give the checkpoint's root.
    #[error("tiles give root {recomputed}, the checkpoint says {published}")]
    RootMismatch { published: Hash, recomputed: Hash },
    /// A full tile does not hash to the node its parent tile holds for it.
    #[error("tile {n} at level {level} does not match its parent tile")]
    TileMismatch { level: u32, n: u64 },
    /// Proof construction failed.
    #[error("proof from tiles failed")]
    Proof(#[from] ProofError),
}

/// A read-only view of an exported tile directory, bound to its signed checkpoint.
#[derive(Debug)]
pub struct TileDir {
    dir: PathBuf,
    checkpoint: SignedCheckpoint,
}

impl TileDir {
    /// Opens the directory: checks the checkpoint's signature with `verifier`, recomputes the
    /// root from the tiles and compares, and checks every full tile against its parent tile, so
    /// that every hash the directory holds is authenticated by the signed root. Reads every tile
    /// once.
    ///
    /// # Errors
    /// See [`TileReadError`].
    pub fn open(dir: &Path, verifier: &Verifier) -> Result<Self, TileReadError> {
        let note = fs::read_to_string(dir.join("checkpoint"))?;
        let checkpoint = SignedCheckpoint::open(&note, verifier)?;
        let tiles = Self {
            dir: dir.to_owned(),
            checkpoint,
        };
        let published = tiles.checkpoint.checkpoint().root;
        let recomputed = merkle::root_at(&tiles, tiles.size())?;
        if recomputed != published {
            return Err(TileReadError::RootMismatch {
                published,
                recomputed,
            });
        }
        tiles.authenticate_full_tiles()?;
        Ok(tiles)
    }

    /// Checks each full tile against the hash its parent tile holds for it. Together with the
    /// root (which consumes every partial tile entirely) this authenticates all tiles.
    fn authenticate_full_tiles(&self) -> Result<(), TileReadError> {
        let size = self.size().0;
        let mut level = 0u32;
        while nodes_at(level + 1, size) > 0 {
            let mut parent: Vec<Hash> = Vec::new();
            let full = nodes_at(level + 1, size);
            for n in 0..full {
                if n % TILE_WIDTH == 0 {
                    parent = self.read_tile(level + 1, n / TILE_WIDTH)?;
                }
                let child = reduce_perfect(self.read_tile(level, n)?);
                if parent.get((n % TILE_WIDTH) as usize) != Some(&child) {
                    return Err(TileReadError::TileMismatch { level, n });
                }
            }
            level += 1;
        }
        Ok(())
    }

    /// The checkpoint's tree size.
    #[must_use]
    pub fn size(&self) -> TreeSize {
        self.checkpoint.checkpoint().size
    }

    /// The checkpoint the tiles belong to.
    #[must_use]
    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.checkpoint
    }

    /// Root of the first `size` leaves, from tiles alone.
    ///
    /// # Errors
    /// See [`ProofError`].
    pub fn root_at(&self, size: TreeSize) -> Result<Hash, ProofError> {
        merkle::root_at(self, size)
    }

    /// Inclusion proof from tiles alone.
    ///
    /// # Errors
    /// See [`ProofError`].
    pub fn inclusion_proof(&self, idx: LeafIdx, size: TreeSize) -> Result<Vec<Hash>, ProofError> {
        merkle::inclusion_proof(self, idx, size)
    }

    /// Consistency proof from tiles alone.
    ///
    /// # Errors
    /// See [`ProofError`].
    pub fn consistency_proof(&self, old: TreeSize, new: TreeSize) -> Result<Vec<Hash>, ProofError> {
        merkle::consistency_proof(self, old, new)
    }

    /// The entries of bundle `n`.
    ///
    /// # Errors
    /// IO errors; `InvalidData` for a malformed bundle.
    pub fn entries(&self, n: u64) -> io::Result<Vec<Vec<u8>>> {
        let width = tile_width(0, n, self.size().0);
        let bytes = fs::read(self.dir.join(entries_path(n, width)))?;
        let mut out = Vec::new();
        let mut rest = bytes.as_slice();
        while let [hi, lo, tail @ ..] = rest {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            let Some(entry) = tail.get(..len) else {
                return Err(invalid("entry bundle cut short"));
            };
            out.push(entry.to_vec());
            rest = &tail[len..];
        }
        if !rest.is_empty() || out.len() as u64 != width {
            return Err(invalid("entry bundle has the wrong number of entries"));
        }
        Ok(out)
    }

    fn read_tile(&self, level: u32, n: u64) -> io::Result<Vec<Hash>> {
        let width = tile_width(level, n, self.size().0);
        if width == 0 {
            return Err(invalid("tile beyond the tree"));
        }
        let bytes = fs::read(self.dir.join(tile_path(level, n, width)))?;
        if bytes.len() as u64 != width * HASH_LEN as u64 {
            return Err(invalid("tile has the wrong length"));
        }
        Ok(bytes
            .chunks_exact(HASH_LEN)
            .filter_map(Hash::from_slice)
            .collect())
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl SubtreeSource for TileDir {
    fn leaf_count(&self) -> u64 {
        self.size().0
    }

    fn perfect(&self, level: u32, index: u64) -> io::Result<Hash> {
        let tile_level = level / TILE_HEIGHT;
        let below = level % TILE_HEIGHT;
        // The subtree covers nodes [first, first + 2^below) at tree level 8 * tile_level.
        let first = index << below;
        let n = first / TILE_WIDTH;
        let offset = usize::try_from(first % TILE_WIDTH).map_err(io::Error::other)?;
        let hashes = self.read_tile(tile_level, n)?;
        let Some(nodes) = hashes.get(offset..offset + (1usize << below)) else {
            return Err(invalid("tile too narrow for the requested subtree"));
        };
        Ok(reduce_perfect(nodes.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec() {
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(999), "999");
        assert_eq!(index_path(1000), "x001/000");
        assert_eq!(index_path(1_234_067), "x001/x234/067");
        assert_eq!(tile_path(0, 1_234_067, 256), "tile/0/x001/x234/067");
        assert_eq!(tile_path(4, 1_234_067, 8), "tile/4/x001/x234/067.p/8");
        assert_eq!(entries_path(5, 3), "tile/entries/005.p/3");
        assert_eq!(entries_path(5, 256), "tile/entries/005");
    }

    #[test]
    fn tile_widths() {
        // 70000 leaves: 273 full level-0 tiles and one of 112; level 1 has 273 nodes.
        assert_eq!(tile_width(0, 272, 70_000), 256);
        assert_eq!(tile_width(0, 273, 70_000), 112);
        assert_eq!(tile_width(0, 274, 70_000), 0);
        assert_eq!(tile_width(1, 0, 70_000), 256);
        assert_eq!(tile_width(1, 1, 70_000), 17);
        assert_eq!(tile_width(2, 0, 70_000), 1);
        assert_eq!(tile_width(3, 0, 70_000), 0);
    }
}
