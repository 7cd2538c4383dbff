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
    pub skipped: Vec<PathBuf>,
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

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
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
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
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
            walk(path, &mut files)?;
            for file in files {
                match source_for(&file, kind) {
                    Ok(source) => found.sources.push(source),
                    Err(SourceError::CsvNotAllowed { .. }) if kind.is_none() => {
                        return Err(source_for(&file, kind).unwrap_err());
                    }
                    Err(_) => found.skipped.push(file),
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

/// Opens a source for reading; gzip is recognised by its magic bytes, whatever the name says.
pub fn open(source: &SourceFile) -> Result<Box<dyn BufRead + Send>, SourceError> {
    let raw: Box<dyn Read + Send> = match &source.path {
        Some(path) => Box::new(File::open(path).map_err(|e| SourceError::Io {
            path: path.clone(),
            source: e,
        })?),
        None => Box::new(io::stdin()),
    };
    let mut reader = BufReader::with_capacity(1 << 18, raw);
    let head = reader.fill_buf().map_err(|e| SourceError::Io {
        path: source.path.clone().unwrap_or_else(|| PathBuf::from("-")),
        source: e,
    })?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 18,
            MultiGzDecoder::new(reader),
        )));
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
