//! Finding sources and opening them: files, directories, standard input; plain or gzip.
//!
//! The kind of a file comes from `--kind` or from its name (`events.ndjson`, `2025-03-shifts.csv.gz`);
//! its format from the extension. Directories are walked recursively in a fixed order: context kinds
//! first, events last, so that an event's references can be checked against the context imported in
//! the same run. Files in a directory whose kind cannot be told are skipped and reported, not guessed.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use lekdicht_model::RecordKind;

use crate::SourceError;
use crate::limits::{Counted, Guarded, Limits, compressed_bytes};

/// How the lines of a source are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (`.ndjson`, `.jsonl`, `.json`).
    Ndjson,
    /// A header row of contract field names, then one record per row; lists `;`-separated.
    Csv,
}

/// One source to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// What errors and the quarantine call this source.
    pub name: String,
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    pub kind: RecordKind,
    pub format: Format,
}

/// Sources found by [`discover`], plus the directory entries that were passed over.
#[derive(Debug, Default)]
pub struct Discovered {
    pub sources: Vec<SourceFile>,
    pub skipped: Vec<Skipped>,
}

/// A directory entry that is not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.path.display(), self.reason)
    }
}

/// What a directory entry that is neither a regular file nor a directory is.
fn special_kind(file_type: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a FIFO (named pipe), not a regular file"
    } else if file_type.is_socket() {
        "a socket, not a regular file"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device, not a regular file"
    } else {
        "not a regular file"
    }
}

fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = name.rsplit_once('.')?.1;
    match ext {
        "ndjson" | "jsonl" | "json" => Some(Format::Ndjson),
        "csv" => Some(Format::Csv),
        _ => None,
    }
}

fn source_for(path: &Path, kind: Option<RecordKind>) -> Result<SourceFile, SourceError> {
    let format = format_of(path).ok_or_else(|| SourceError::UnknownFormat {
        path: path.to_owned(),
    })?;
    let kind = kind
        .or_else(|| {
            path.file_name()
                .and_then(|n| n.to_str())
                .and_then(RecordKind::from_file_name)
        })
        .ok_or_else(|| SourceError::UnknownKind {
            path: path.to_owned(),
        })?;
    if format == Format::Csv && !kind.allows_csv() {
        return Err(SourceError::CsvNotAllowed {
            path: path.to_owned(),
            kind,
        });
    }
    Ok(SourceFile {
        name: path.display().to_string(),
        path: Some(path.to_owned()),
        kind,
        format,
    })
}

/// Collects the regular files under `dir`. A symbolic link is followed only to a regular file: a
/// link to a directory (which may lead back up, a loop), a link that does not resolve (a loop of
/// links, a missing target) and special files (FIFOs, sockets, devices, which could block a read
/// for ever) are passed over and named in `skipped`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, skipped: &mut Vec<Skipped>) -> Result<(), SourceError> {
    let io_err = |source| SourceError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io_err)?;
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        let mut skip = |path: PathBuf, reason: String| skipped.push(Skipped { path, reason });
        let file_type = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta.file_type(),
            Err(e) => {
                skip(path, format!("cannot be read: {e}"));
                continue;
            }
        };
        if file_type.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => out.push(path),
                Ok(meta) if meta.is_dir() => {
                    skip(
                        path,
                        "a symbolic link to a directory, not followed".to_owned(),
                    );
                }
                Ok(meta) => skip(
                    path,
                    format!("a symbolic link to {}", special_kind(meta.file_type())),
                ),
                Err(e) => skip(path, format!("a symbolic link that does not resolve: {e}")),
            }
        } else if file_type.is_dir() {
            walk(&path, out, skipped)?;
        } else if file_type.is_file() {
            out.push(path);
        } else {
            skip(path, special_kind(file_type).to_owned());
        }
    }
    Ok(())
}

/// Expands `paths` (files, directories, `-` for standard input) into sources, context kinds first.
///
/// `kind` overrides what file names say; standard input needs it. `stdin_format` is the format of
/// standard input.
pub fn discover(
    paths: &[PathBuf],
    kind: Option<RecordKind>,
    stdin_format: Format,
) -> Result<Discovered, SourceError> {
    let mut found = Discovered::default();
    for path in paths {
        if path.as_os_str() == "-" {
            let kind = kind.ok_or_else(|| SourceError::UnknownKind { path: path.clone() })?;
            found.sources.push(SourceFile {
                name: "<stdin>".to_owned(),
                path: None,
                kind,
                format: stdin_format,
            });
        } else if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files, &mut found.skipped)?;
            for file in files {
                match source_for(&file, kind) {
                    Ok(source) => found.sources.push(source),
                    Err(SourceError::CsvNotAllowed { .. }) if kind.is_none() => {
                        return Err(source_for(&file, kind).unwrap_err());
                    }
                    Err(_) => found.skipped.push(Skipped {
                        path: file,
                        reason: "kind or format unknown from its name".to_owned(),
                    }),
                }
            }
        } else {
            std::fs::metadata(path).map_err(|source| SourceError::Io {
                path: path.clone(),
                source,
            })?;
            found.sources.push(source_for(path, kind)?);
        }
    }
    let order = |k: RecordKind| RecordKind::ALL.iter().position(|&x| x == k);
    found.sources.sort_by_key(|s| order(s.kind));
    Ok(found)
}

/// Opens a source for reading; gzip is recognised by its magic bytes, whatever the name says, and
/// decompressed as it is read, within `limits`.
pub fn open(source: &SourceFile, limits: &Limits) -> Result<Box<dyn BufRead + Send>, SourceError> {
    let raw: Box<dyn Read + Send> = match &source.path {
        Some(path) => Box::new(File::open(path).map_err(|e| SourceError::Io {
            path: path.clone(),
            source: e,
        })?),
        None => Box::new(io::stdin()),
    };
    let mut reader = BufReader::with_capacity(1 << 18, Counted::new(raw));
    let head = reader.fill_buf().map_err(|e| SourceError::Io {
        path: source.path.clone().unwrap_or_else(|| PathBuf::from("-")),
        source: e,
    })?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = MultiGzDecoder::new(reader);
        let guarded = Guarded::new(decoder, |d| compressed_bytes(d.get_ref().get_ref()), limits);
        return Ok(Box::new(BufReader::with_capacity(1 << 18, guarded)));
    }
    Ok(Box::new(reader))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_list_context_before_events_and_skip_strangers() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "events.ndjson",
            "employees.csv",
            "cases.jsonl.gz",
            "answer-key.ndjson",
            "README.md",
            ".hidden.ndjson",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let found = discover(&[dir.path().to_owned()], None, Format::Ndjson).unwrap();
        let kinds: Vec<_> = found.sources.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [RecordKind::Employees, RecordKind::Cases, RecordKind::Events]
        );
        assert_eq!(found.sources[0].format, Format::Csv);
        assert_eq!(found.skipped.len(), 2);
    }

    #[test]
    fn only_regular_files_are_read_from_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("events.ndjson"), "").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        let fifo = root.join("sub/shifts.ndjson");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        std::os::unix::fs::symlink("loop-b.ndjson", root.join("loop-a.ndjson")).unwrap();
        std::os::unix::fs::symlink("loop-a.ndjson", root.join("loop-b.ndjson")).unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("events.ndjson", root.join("cases.ndjson")).unwrap();
        let found = discover(&[root.to_owned()], None, Format::Ndjson).unwrap();
        let kinds: Vec<_> = found.sources.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [RecordKind::Cases, RecordKind::Events]);
        let skipped: Vec<String> = found
            .skipped
            .iter()
            .map(|s| s.to_string().replace(&root.display().to_string(), "D"))
            .collect();
        assert_eq!(skipped.len(), 4, "{skipped:?}");
        assert!(
            skipped[0].starts_with("D/loop-a.ndjson (a symbolic link that does not resolve"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].starts_with("D/loop-b.ndjson (a symbolic link that does not resolve"),
            "{skipped:?}"
        );
        assert_eq!(
            skipped[2],
            "D/sub/shifts.ndjson (a FIFO (named pipe), not a regular file)"
        );
        assert_eq!(
            skipped[3],
            "D/sub/up (a symbolic link to a directory, not followed)"
        );
    }

    #[test]
    fn explicit_files_must_announce_their_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.ndjson");
        std::fs::write(&path, "").unwrap();
        let err = discover(std::slice::from_ref(&path), None, Format::Ndjson).unwrap_err();
        assert!(matches!(err, SourceError::UnknownKind { .. }));
        let found = discover(&[path], Some(RecordKind::Events), Format::Ndjson).unwrap();
        assert_eq!(found.sources[0].kind, RecordKind::Events);
    }

    #[test]
    fn cases_in_csv_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cases.csv");
        std::fs::write(&path, "id\n").unwrap();
        let err = discover(&[path], None, Format::Ndjson).unwrap_err();
        assert!(matches!(err, SourceError::CsvNotAllowed { .. }));
    }
}
