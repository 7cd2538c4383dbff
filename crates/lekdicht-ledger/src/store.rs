//! Storage of leaf hashes behind the [`HashStore`] trait: an append-only file of 32-byte records
//! ([`FileHashStore`]) and an in-memory vector ([`MemoryHashStore`]) for tests.
//!
//! A store only keeps leaf hashes in order; it computes no tree hashes and signs nothing. The file
//! store reports a partial trailing record (a write torn by a crash, or a damaged file) when it
//! opens and leaves the file as it is, so that opening never changes the evidence; the partial
//! record is cut off only by the next append. Appended records are durable only after
//! [`HashStore::sync`].

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::hash::{HASH_LEN, Hash};

/// An append-only sequence of leaf hashes.
pub trait HashStore {
    /// Number of hashes stored (written, not necessarily synced).
    fn len(&self) -> u64;

    /// Whether the store holds no hash.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hashes at positions `range` (which must lie within `len()`).
    ///
    /// # Errors
    /// IO errors; `UnexpectedEof` for a range beyond the end.
    fn read(&self, range: Range<u64>) -> io::Result<Vec<Hash>>;

    /// Appends hashes at the end. They are durable only after [`HashStore::sync`].
    ///
    /// # Errors
    /// IO errors; the store may then hold a prefix of `hashes`.
    fn append(&mut self, hashes: &[Hash]) -> io::Result<()>;

    /// Makes everything appended so far durable (`fsync`).
    ///
    /// # Errors
    /// IO errors.
    fn sync(&mut self) -> io::Result<()>;
}

/// Hashes in a vector. Nothing is durable; `sync` is a no-op.
#[derive(Clone, Debug, Default)]
pub struct MemoryHashStore {
    hashes: Vec<Hash>,
}

impl MemoryHashStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

fn eof(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what.to_owned())
}

impl HashStore for MemoryHashStore {
    fn len(&self) -> u64 {
        self.hashes.len() as u64
    }

    fn read(&self, range: Range<u64>) -> io::Result<Vec<Hash>> {
        let start = usize::try_from(range.start).map_err(io::Error::other)?;
        let end = usize::try_from(range.end).map_err(io::Error::other)?;
        self.hashes
            .get(start..end)
            .map(<[Hash]>::to_vec)
            .ok_or_else(|| eof("range beyond the stored hashes"))
    }

    fn append(&mut self, hashes: &[Hash]) -> io::Result<()> {
        self.hashes.extend_from_slice(hashes);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What [`FileHashStore::open`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OpenReport {
    /// Bytes of a partial trailing record, not counted as a hash (cut off by the next append).
    pub torn_bytes: u64,
}

/// Leaf hashes in one file, 32 bytes per record, no header. The file is locked exclusively while
/// the store is open, so two writers cannot interleave.
#[derive(Debug)]
pub struct FileHashStore {
    path: PathBuf,
    file: File,
    len: u64,
    /// Bytes of a partial trailing record still in the file.
    torn: u64,
}

impl FileHashStore {
    /// Opens (creating if needed) the store at `path`; a partial trailing record is reported,
    /// not counted, and left in the file until the next append.
    ///
    /// # Errors
    /// IO errors; `WouldBlock` when another process holds the store.
    pub fn open(path: &Path) -> io::Result<(Self, OpenReport)> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is in use by another process", path.display()),
            ),
            std::fs::TryLockError::Error(err) => err,
        })?;
        let bytes = file.metadata()?.len();
        let record = HASH_LEN as u64;
        let torn = bytes % record;
        let store = Self {
            path: path.to_owned(),
            file,
            len: bytes / record,
            torn,
        };
        Ok((store, OpenReport { torn_bytes: torn }))
    }

    /// The file behind the store.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl HashStore for FileHashStore {
    fn len(&self) -> u64 {
        self.len
    }

    fn read(&self, range: Range<u64>) -> io::Result<Vec<Hash>> {
        if range.end > self.len || range.start > range.end {
            return Err(eof("range beyond the stored hashes"));
        }
        let count = usize::try_from(range.end - range.start).map_err(io::Error::other)?;
        let mut buf = vec![0u8; count * HASH_LEN];
        self.file
            .read_exact_at(&mut buf, range.start * HASH_LEN as u64)?;
        Ok(buf
            .chunks_exact(HASH_LEN)
            .filter_map(Hash::from_slice)
            .collect())
    }

    fn append(&mut self, hashes: &[Hash]) -> io::Result<()> {
        if self.torn != 0 {
            self.file.set_len(self.len * HASH_LEN as u64)?;
            self.file.sync_all()?;
            self.torn = 0;
        }
        let mut buf = Vec::with_capacity(hashes.len() * HASH_LEN);
        for h in hashes {
            buf.extend_from_slice(&h.0);
        }
        // The file is opened in append mode: the write lands at the end even if it was torn.
        let result = self.file.write_all(&buf);
        // Count only whole records that reached the file, whatever happened.
        let bytes = self.file.metadata()?.len();
        self.len = bytes / HASH_LEN as u64;
        result
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn a_torn_tail_is_reported_on_open_and_cut_off_by_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leaves");
        let hashes: Vec<Hash> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        {
            let (mut store, report) = FileHashStore::open(&path).unwrap();
            assert_eq!(report.torn_bytes, 0);
            store.append(&hashes).unwrap();
            store.sync().unwrap();
        }
        // A crash in the middle of the fourth record leaves 10 stray bytes.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[0xAB; 10]).unwrap();
        drop(file);

        let (mut store, report) = FileHashStore::open(&path).unwrap();
        assert_eq!(report.torn_bytes, 10);
        assert_eq!(store.len(), 3);
        assert_eq!(store.read(0..3).unwrap(), hashes);
        // Opening changes nothing in the file.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 106);
        // Appends continue on the record boundary.
        store.append(&[leaf_hash(b"next")]).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 128);
        assert_eq!(store.read(3..4).unwrap(), vec![leaf_hash(b"next")]);
    }

    #[test]
    fn second_open_is_refused_while_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leaves");
        let (_store, _) = FileHashStore::open(&path).unwrap();
        let err = FileHashStore::open(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn reads_beyond_the_end_fail() {
        let mut mem = MemoryHashStore::new();
        mem.append(&[leaf_hash(b"a")]).unwrap();
        assert_eq!(
            mem.read(0..2).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        let dir = tempfile::tempdir().unwrap();
        let (mut file, _) = FileHashStore::open(&dir.path().join("leaves")).unwrap();
        file.append(&[leaf_hash(b"a")]).unwrap();
        assert_eq!(
            file.read(1..2).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
