//! Errors of ingest: one bad line ([`LineError`], data, kept in the quarantine) and one unreadable
//! source ([`SourceError`], which stops that source only).

use std::fmt;
use std::path::PathBuf;

use lekdicht_model::RecordKind;

/// Why one line of a source was not accepted. Carries everything the quarantine keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The source's name as the user gave it (a path, or `<stdin>`).
    pub file: String,
    /// 1-based line number in the (decompressed) source.
    pub line: u64,
    pub kind: RecordKind,
    /// The offending field, when one can be named (`time`, `members[1].employee`).
    pub field: Option<String>,
    pub reason: String,
    /// The line exactly as read (may be invalid UTF-8), without its line ending.
    pub raw: Vec<u8>,
    /// The record's identity (`id`, or the composite key of relations and shifts) when it could be
    /// read, so that a later valid version of the record resolves this entry.
    pub key: Option<String>,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A source that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: cannot tell which kind of record this file holds; name it after the kind (e.g. events.ndjson) or pass --kind"
    )]
    UnknownKind { path: PathBuf },
    #[error("{path}: unsupported file type; expected .ndjson, .jsonl or .csv, optionally .gz")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: CSV is not accepted for {kind}; use NDJSON")]
    CsvNotAllowed { path: PathBuf, kind: RecordKind },
    #[error("{name}:{line}: {reason}")]
    Stopped {
        name: String,
        line: u64,
        reason: String,
    },
    #[error("{name}: cannot read the CSV header: {reason}")]
    CsvHeader { name: String, reason: String },
}
