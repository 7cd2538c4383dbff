//! A source as a stream of accepted records and rejected lines, in file order.
//!
//! Reading stops only when the source itself cannot be read (an IO error, a broken gzip stream, an
//! unreadable CSV header); a bad line becomes a [`LineError`] and the stream goes on. Memory is
//! bounded by the longest line, never by the size of the file.

use std::io::BufRead;

use lekdicht_model::RecordKind;
use serde_json::Value;

use crate::csv_rows::row_to_object;
use crate::fast::parse_flat_event;
use crate::record::{Defaults, FieldError, Parsed, parse_object, record_key};
use crate::{Format, LineError, MAX_LINE_BYTES, SourceError, SourceFile};

/// What one line of a source turned into.
// Nearly every item is a record; boxing it to shrink the rare error variant would cost an
// allocation per line on the ingest hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Item {
    /// A valid record and its 1-based line number.
    Record(u64, Parsed),
    Bad(LineError),
}

enum Lines {
    Ndjson {
        reader: Box<dyn BufRead + Send>,
        buf: Vec<u8>,
        line: u64,
    },
    Csv {
        reader: csv::Reader<Box<dyn BufRead + Send>>,
        header: Vec<String>,
        record: csv::ByteRecord,
    },
}

/// Iterates over the lines of one source.
pub struct RecordStream {
    source: SourceFile,
    defaults: Defaults,
    lines: Lines,
    done: bool,
}

impl RecordStream {
    /// Opens `source` and, for CSV, reads its header.
    pub fn open(source: SourceFile, defaults: Defaults) -> Result<Self, SourceError> {
        let reader = crate::open(&source)?;
        let lines = match source.format {
            Format::Ndjson => Lines::Ndjson {
                reader,
                buf: Vec::with_capacity(512),
                line: 0,
            },
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .from_reader(reader);
                let header = reader
                    .headers()
                    .map_err(|e| SourceError::CsvHeader {
                        name: source.name.clone(),
                        reason: e.to_string(),
                    })?
                    .iter()
                    .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
                    .collect();
                Lines::Csv {
                    reader,
                    header,
                    record: csv::ByteRecord::new(),
                }
            }
        };
        Ok(RecordStream {
            source,
            defaults,
            lines,
            done: false,
        })
    }

    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The CSV header, for sources in CSV.
    pub fn csv_header(&self) -> Option<&[String]> {
        match &self.lines {
            Lines::Csv { header, .. } => Some(header),
            Lines::Ndjson { .. } => None,
        }
    }

    fn bad(&self, line: u64, error: FieldError, raw: Vec<u8>, key: Option<String>) -> Item {
        Item::Bad(LineError {
            file: self.source.name.clone(),
            line,
            kind: self.source.kind,
            field: error.field,
            reason: error.reason,
            raw,
            key,
        })
    }

    fn io_error(&self, e: std::io::Error) -> SourceError {
        SourceError::Io {
            path: self
                .source
                .path
                .clone()
                .unwrap_or_else(|| std::path::PathBuf::from("-")),
            source: e,
        }
    }

    fn next_ndjson(&mut self) -> Option<Result<Item, SourceError>> {
        let Lines::Ndjson { reader, buf, line } = &mut self.lines else {
            unreachable!("next_ndjson on a CSV source")
        };
        loop {
            buf.clear();
            // Read at most one byte past the limit, then skip the rest of an oversized line.
            let n = match std::io::Read::take(&mut *reader, MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', buf)
            {
                Ok(n) => n,
                Err(e) => {
                    let e = self.io_error(e);
                    return Some(Err(e));
                }
            };
            if n == 0 {
                return None;
            }
            *line += 1;
            let line_no = *line;
            let complete = buf.last() == Some(&b'\n');
            if !complete && buf.len() > MAX_LINE_BYTES {
                let mut rest = Vec::new();
                if let Err(e) = reader.read_until(b'\n', &mut rest) {
                    let e = self.io_error(e);
                    return Some(Err(e));
                }
                let raw = buf[..256].to_vec();
                let error = FieldError {
                    field: None,
                    reason: format!(
                        "line is longer than {MAX_LINE_BYTES} bytes (kept: its first 256 bytes)"
                    ),
                };
                return Some(Ok(self.bad(line_no, error, raw, None)));
            }
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let raw = std::mem::take(buf);
            let item = self.parse_json_line(line_no, &raw);
            if let Lines::Ndjson { buf, .. } = &mut self.lines
                && let Item::Record(..) = item
            {
                *buf = raw;
            }
            return Some(Ok(item));
        }
    }

    fn parse_json_line(&self, line: u64, raw: &[u8]) -> Item {
        match parse_json_bytes(self.source.kind, raw, &self.defaults, true) {
            Ok(parsed) => Item::Record(line, parsed),
            Err((error, key)) => self.bad(line, error, raw.to_vec(), key),
        }
    }

    fn parse_obj(&self, line: u64, obj: serde_json::Map<String, Value>, raw: &[u8]) -> Item {
        match parse_json_object(self.source.kind, obj, &self.defaults) {
            Ok(parsed) => Item::Record(line, parsed),
            Err((error, key)) => self.bad(line, error, raw.to_vec(), key),
        }
    }

    fn next_csv(&mut self) -> Option<Result<Item, SourceError>> {
        let Lines::Csv {
            reader,
            header,
            record,
        } = &mut self.lines
        else {
            unreachable!("next_csv on an NDJSON source")
        };
        let ok = match reader.read_byte_record(record) {
            Ok(ok) => ok,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                if let csv::ErrorKind::Io(_) = e.kind() {
                    let csv::ErrorKind::Io(io) = e.into_kind() else {
                        unreachable!("checked above")
                    };
                    let e = self.io_error(io);
                    return Some(Err(e));
                }
                let error = FieldError {
                    field: None,
                    reason: format!("broken CSV: {e}"),
                };
                return Some(Ok(self.bad(line, error, Vec::new(), None)));
            }
        };
        if !ok {
            return None;
        }
        let line = record.position().map_or(0, |p| p.line());
        let raw = csv_line(record);
        if record.len() != header.len() {
            let error = FieldError {
                field: None,
                reason: format!(
                    "row has {} fields but the header has {}",
                    record.len(),
                    header.len()
                ),
            };
            return Some(Ok(self.bad(line, error, raw, None)));
        }
        let mut cells = Vec::with_capacity(record.len());
        for (i, cell) in record.iter().enumerate() {
            match std::str::from_utf8(cell) {
                Ok(s) => cells.push(s.to_owned()),
                Err(_) => {
                    let error = FieldError {
                        field: Some(header[i].clone()),
                        reason: "value is not valid UTF-8".to_owned(),
                    };
                    return Some(Ok(self.bad(line, error, raw, None)));
                }
            }
        }
        let header = header.clone();
        let obj = row_to_object(self.source.kind, &header, &cells);
        Some(Ok(self.parse_obj(line, obj, &raw)))
    }
}

/// One NDJSON line (without its line ending) as a record, or the error and the record's key when
/// it could be read. `fast` lets event lines of the common flat shape skip the general path; the
/// result is the same either way.
pub(crate) fn parse_json_bytes(
    kind: RecordKind,
    raw: &[u8],
    defaults: &Defaults,
    fast: bool,
) -> Result<Parsed, (FieldError, Option<String>)> {
    let text = std::str::from_utf8(raw).map_err(|e| {
        let error = FieldError {
            field: None,
            reason: format!(
                "line is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        };
        (error, None)
    })?;
    if fast
        && kind == RecordKind::Events
        && let Some(record) = parse_flat_event(text, defaults)
    {
        return Ok(Parsed::Event(record));
    }
    let obj = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => {
            let error = FieldError {
                field: None,
                reason: "line is JSON but not an object".to_owned(),
            };
            return Err((error, None));
        }
        Err(e) => {
            let error = FieldError {
                field: None,
                reason: format!("broken JSON: {e}"),
            };
            return Err((error, None));
        }
    };
    parse_json_object(kind, obj, defaults)
}

/// One object as a record, or the error and the record's key when it could be read.
fn parse_json_object(
    kind: RecordKind,
    obj: serde_json::Map<String, Value>,
    defaults: &Defaults,
) -> Result<Parsed, (FieldError, Option<String>)> {
    let key = record_key(kind, &obj);
    parse_object(kind, obj, defaults).map_err(|error| (error, key))
}

/// The row written back as one CSV line, as close to the input as the CSV reader allows.
fn csv_line(record: &csv::ByteRecord) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_byte_record(record);
    let mut out = writer.into_inner().unwrap_or_default();
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

impl Iterator for RecordStream {
    type Item = Result<Item, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = match self.lines {
            Lines::Ndjson { .. } => self.next_ndjson(),
            Lines::Csv { .. } => self.next_csv(),
        };
        if matches!(next, None | Some(Err(_))) {
            self.done = true;
        }
        next
    }
}
