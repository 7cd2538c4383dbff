//! Contract files in, model records out: the first stage of lekdicht's pipeline.
//!
//! A source is a file, a directory of files or standard input, in NDJSON (`.ndjson`, `.jsonl`) or CSV
//! with a header row, optionally gzip-compressed. Each line becomes either a valid record, with the
//! canonical (RFC 8785) bytes of the stored record, or a [`LineError`] naming file, line, field and
//! reason, with the raw line kept for the quarantine. A bad line never stops the rest of a file.
//!
//! This crate reads; it does not store, deduplicate or decide what a record means. Opening files is
//! the only IO it does, so that the binary can stream any source through one code path.

mod csv_rows;
mod error;
mod fast;
#[cfg(test)]
mod fast_props;
mod limits;
mod record;
mod source;
mod stream;
mod strict;

pub use error::{LineError, SourceError};
pub use limits::{
    DEFAULT_MAX_GZIP_RATIO, DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_YEAR, DEFAULT_MIN_YEAR,
    ExpansionLimit, Limits,
};
pub use record::{
    ContextRecord, ContextValue, Defaults, EventRecord, MAX_TEXT_BYTES, Parsed, parse_object,
};
pub use source::{Discovered, Skipped};
pub use source::{Format, SourceFile, discover, open};
pub use stream::{Item, RecordStream};
