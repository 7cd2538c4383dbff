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
use crate::limits::{Limits, expansion_limit};
use crate::record::{Defaults, FieldError, Parsed, parse_object, record_key};
use crate::strict::parse_json;
use crate::{Format, LineError, SourceError, SourceFile};

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

/// How many bytes of a line that is too long are kept for the quarantine.
const KEPT_OF_LONG_LINE: usize = 256;

/// What reading one physical line gave.
enum Physical {
    End,
    /// A line, in `buf` without its line ending.
    Line,
    /// A line of this many bytes, longer than the limit; `buf` holds its beginning.
    TooLong(u64),
    /// The source crossed a limit and must not be read further.
    Stopped(String),
}

/// The state of a CSV source: its header, and the text of the record being read.
struct Csv {
    header: Vec<String>,
    record: csv::ByteRecord,
    text: Vec<u8>,
    quotes: CsvQuotes,
}

/// Iterates over the lines of one source.
pub struct RecordStream {
    source: SourceFile,
    defaults: Defaults,
    limits: Limits,
    reader: Box<dyn BufRead + Send>,
    /// The physical line just read, without its line ending.
    buf: Vec<u8>,
    /// The number of the physical line just read.
    line: u64,
    csv: Option<Csv>,
    /// The error that ends the source, returned after the bad line that caused it.
    stopped: Option<SourceError>,
    done: bool,
}

impl RecordStream {
    /// Opens `source` and, for CSV, reads its header.
    pub fn open(
        source: SourceFile,
        defaults: Defaults,
        limits: Limits,
    ) -> Result<Self, SourceError> {
        let reader = crate::open(&source, &limits)?;
        let format = source.format;
        let mut stream = RecordStream {
            source,
            defaults,
            limits,
            reader,
            buf: Vec::with_capacity(512),
            line: 0,
            csv: None,
            stopped: None,
            done: false,
        };
        if format == Format::Csv {
            stream.csv = Some(Csv {
                header: Vec::new(),
                record: csv::ByteRecord::new(),
                text: Vec::new(),
                quotes: CsvQuotes::default(),
            });
            let name = stream.source.name.clone();
            let header_error = |reason: String| SourceError::CsvHeader { name, reason };
            let header = match stream.next_csv_record()? {
                None => Vec::new(),
                Some(Err(Item::Bad(error))) => return Err(header_error(error.reason)),
                Some(Err(Item::Record(..))) => unreachable!("a CSV record is never an item"),
                Some(Ok(_)) => {
                    let csv = stream.csv.as_ref().expect("a CSV source");
                    csv.record
                        .iter()
                        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
                        .collect()
                }
            };
            for (i, column) in header.iter().enumerate() {
                if header[..i].contains(column) {
                    return Err(header_error(format!(
                        "the column `{column}` appears more than once"
                    )));
                }
            }
            if let Some(csv) = &mut stream.csv {
                csv.header = header;
            }
        }
        Ok(stream)
    }

    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The CSV header, for sources in CSV.
    pub fn csv_header(&self) -> Option<&[String]> {
        self.csv.as_ref().map(|c| c.header.as_slice())
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

    /// Reads the next physical line into `buf`, dropping a byte-order mark that opens the source.
    fn physical(&mut self) -> Result<Physical, SourceError> {
        let quotes = self.csv.as_mut().map(|c| &mut c.quotes);
        let max = self.limits.max_line_bytes;
        let read = read_line(&mut *self.reader, &mut self.buf, max, quotes);
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                let Some(limit) = expansion_limit(&e) else {
                    return Err(self.io_error(e));
                };
                self.line += 1;
                return Ok(Physical::Stopped(limit.to_string()));
            }
        };
        if matches!(read, Physical::End) {
            return Ok(read);
        }
        self.line += 1;
        if self.line == 1 && self.buf.starts_with(UTF8_BOM) {
            self.buf.drain(..UTF8_BOM.len());
        }
        Ok(read)
    }

    /// The bad item for a line (or CSV record) of `bytes` bytes starting at `line` and `text`.
    fn too_long(&self, line: u64, bytes: u64, text: &[u8]) -> Item {
        let what = if self.csv.is_some() { "record" } else { "line" };
        let raw = text[..text.len().min(KEPT_OF_LONG_LINE)].to_vec();
        let error = FieldError {
            field: None,
            reason: format!(
                "{what} is {bytes} bytes long; at most {} are allowed (--max-line-bytes; kept: its first {} bytes)",
                self.limits.max_line_bytes,
                raw.len()
            ),
        };
        self.bad(line, error, raw, None)
    }

    /// The bad item for the line at which the source stopped; the stream ends after it.
    fn stop(&mut self, reason: String) -> Item {
        self.stopped = Some(SourceError::Stopped {
            name: self.source.name.clone(),
            line: self.line,
            reason: reason.clone(),
        });
        let raw = self.buf[..self.buf.len().min(KEPT_OF_LONG_LINE)].to_vec();
        self.bad(
            self.line,
            FieldError {
                field: None,
                reason,
            },
            raw,
            None,
        )
    }

    fn next_ndjson(&mut self) -> Result<Option<Item>, SourceError> {
        loop {
            match self.physical()? {
                Physical::End => return Ok(None),
                Physical::TooLong(bytes) => {
                    return Ok(Some(self.too_long(self.line, bytes, &self.buf)));
                }
                Physical::Stopped(reason) => return Ok(Some(self.stop(reason))),
                Physical::Line => {}
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let raw = std::mem::take(&mut self.buf);
            let item = self.parse_json_line(self.line, &raw);
            if let Item::Record(..) = item {
                self.buf = raw;
            }
            return Ok(Some(item));
        }
    }

    fn parse_json_line(&self, line: u64, raw: &[u8]) -> Item {
        match parse_json_bytes(self.source.kind, raw, &self.defaults, &self.limits, true) {
            Ok(parsed) => Item::Record(line, parsed),
            Err((error, key)) => self.bad(line, error, raw.to_vec(), key),
        }
    }

    fn parse_obj(&self, line: u64, obj: serde_json::Map<String, Value>, raw: &[u8]) -> Item {
        match parse_json_object(self.source.kind, obj, &self.defaults, &self.limits) {
            Ok(parsed) => Item::Record(line, parsed),
            Err((error, key)) => self.bad(line, error, raw.to_vec(), key),
        }
    }

    /// Reads the next CSV record (its text joins the lines of quoted fields that span lines) into
    /// the CSV state: `Ok(line)` with the line it starts on, or the bad item for it.
    fn next_csv_record(&mut self) -> Result<Option<Result<u64, Item>>, SourceError> {
        let max = self.limits.max_line_bytes;
        let (first, mut bytes) = loop {
            match self.physical()? {
                Physical::End => return Ok(None),
                Physical::TooLong(bytes) => break (self.line, bytes),
                Physical::Stopped(reason) => return Ok(Some(Err(self.stop(reason)))),
                Physical::Line if self.buf.is_empty() => continue,
                Physical::Line => break (self.line, self.buf.len() as u64),
            }
        };
        let csv = self.csv.as_mut().expect("a CSV source");
        csv.text.clear();
        csv.text.extend_from_slice(&self.buf);
        while self.csv.as_ref().is_some_and(|c| c.quotes.open) {
            match self.physical()? {
                Physical::End => break,
                Physical::TooLong(more) => bytes += 1 + more,
                Physical::Stopped(reason) => return Ok(Some(Err(self.stop(reason)))),
                Physical::Line => {
                    bytes += 1 + self.buf.len() as u64;
                    let csv = self.csv.as_mut().expect("a CSV source");
                    if bytes <= max as u64 {
                        csv.text.push(b'\n');
                        csv.text.extend_from_slice(&self.buf);
                    }
                }
            }
        }
        let csv = self.csv.as_mut().expect("a CSV source");
        if bytes > max as u64 {
            let text = std::mem::take(&mut csv.text);
            let item = self.too_long(first, bytes, &text);
            if let Some(csv) = &mut self.csv {
                csv.text = text;
            }
            return Ok(Some(Err(item)));
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(csv.text.len().clamp(64, 1 << 16))
            .from_reader(csv.text.as_slice());
        if let Err(e) = reader.read_byte_record(&mut csv.record) {
            let raw = csv.text.clone();
            let error = FieldError {
                field: None,
                reason: format!("broken CSV: {e}"),
            };
            return Ok(Some(Err(self.bad(first, error, raw, None))));
        }
        Ok(Some(Ok(first)))
    }

    fn next_csv(&mut self) -> Result<Option<Item>, SourceError> {
        let line = match self.next_csv_record()? {
            None => return Ok(None),
            Some(Err(item)) => return Ok(Some(item)),
            Some(Ok(line)) => line,
        };
        let csv = self.csv.as_ref().expect("a CSV source");
        let (header, record) = (&csv.header, &csv.record);
        let raw = csv.text.clone();
        if record.len() != header.len() {
            let error = FieldError {
                field: None,
                reason: format!(
                    "row has {} fields but the header has {}",
                    record.len(),
                    header.len()
                ),
            };
            return Ok(Some(self.bad(line, error, raw, None)));
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
                    return Ok(Some(self.bad(line, error, raw, None)));
                }
            }
        }
        let obj = row_to_object(self.source.kind, header, &cells);
        Ok(Some(self.parse_obj(line, obj, &raw)))
    }
}

/// The UTF-8 encoding of U+FEFF, which some tools write at the start of a file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads one line into `buf` (cleared first), without its line ending (`\n` or `\r\n`). A line
/// longer than `max` bytes is read to its end but only its first `max + 1` bytes are kept, so
/// that memory stays bounded whatever the input.
///
/// `quotes`, for CSV, follows the quoting of the whole line, kept or not.
fn read_line(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
    mut quotes: Option<&mut CsvQuotes>,
) -> std::io::Result<Physical> {
    buf.clear();
    let mut bytes: u64 = 0;
    let mut ended = false;
    while !ended {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            if bytes == 0 {
                return Ok(Physical::End);
            }
            break;
        }
        let take = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                ended = true;
                i + 1
            }
            None => chunk.len(),
        };
        let room = (max + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..take.min(room)]);
        if let Some(quotes) = quotes.as_deref_mut() {
            quotes.feed(&chunk[..take - usize::from(ended)]);
        }
        bytes += take as u64;
        reader.consume(take);
    }
    if let Some(quotes) = quotes {
        quotes.end_line();
    }
    if ended {
        bytes -= 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
    }
    if bytes > max as u64 {
        return Ok(Physical::TooLong(bytes));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Physical::Line)
}

/// Follows the quoting of CSV text the way the CSV reader reads it, to tell whether a line ends
/// inside a quoted field (and the record goes on with the next line): a quote opens a field only at
/// the start of the field, and `""` inside quotes is one quote.
#[derive(Debug, Default)]
struct CsvQuotes {
    state: Quoting,
    /// Whether the last line ended inside a quoted field.
    open: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    #[default]
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of `""`.
    QuoteInQuoted,
}

impl CsvQuotes {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.state = match (self.state, b) {
                (Quoting::FieldStart, b'"') => Quoting::Quoted,
                (Quoting::FieldStart | Quoting::Unquoted | Quoting::QuoteInQuoted, b',') => {
                    Quoting::FieldStart
                }
                (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                (Quoting::QuoteInQuoted, b'"') | (Quoting::Quoted, _) => Quoting::Quoted,
                (Quoting::FieldStart | Quoting::Unquoted | Quoting::QuoteInQuoted, _) => {
                    Quoting::Unquoted
                }
            };
        }
    }

    /// At the end of a line: either the record ends, or a quoted field goes on.
    fn end_line(&mut self) {
        self.open = self.state == Quoting::Quoted;
        if !self.open {
            self.state = Quoting::FieldStart;
        }
    }
}

/// One NDJSON line (without its line ending) as a record, or the error and the record's key when
/// it could be read. `fast` lets event lines of the common flat shape skip the general path; the
/// result is the same either way.
pub(crate) fn parse_json_bytes(
    kind: RecordKind,
    raw: &[u8],
    defaults: &Defaults,
    limits: &Limits,
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
        && let Some(record) = parse_flat_event(text, defaults, limits)
    {
        return Ok(Parsed::Event(record));
    }
    let obj = match parse_json(text) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => {
            let error = FieldError {
                field: None,
                reason: "line is JSON but not an object".to_owned(),
            };
            return Err((error, None));
        }
        Err(error) => return Err((error, None)),
    };
    parse_json_object(kind, obj, defaults, limits)
}

/// One object as a record, or the error and the record's key when it could be read.
fn parse_json_object(
    kind: RecordKind,
    obj: serde_json::Map<String, Value>,
    defaults: &Defaults,
    limits: &Limits,
) -> Result<Parsed, (FieldError, Option<String>)> {
    let key = record_key(kind, &obj);
    parse_object(kind, obj, defaults, limits).map_err(|error| (error, key))
}

impl Iterator for RecordStream {
    type Item = Result<Item, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(error) = self.stopped.take() {
            self.done = true;
            return Some(Err(error));
        }
        let next = if self.csv.is_some() {
            self.next_csv()
        } else {
            self.next_ndjson()
        };
        let next = next.transpose();
        if matches!(next, None | Some(Err(_))) {
            self.done = true;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const EVENT: &str = r#"{"id":"e1","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BRP","action":"view"}"#;

    fn source(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> SourceFile {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        crate::discover(&[path], Some(RecordKind::Events), Format::Ndjson)
            .unwrap()
            .sources
            .remove(0)
    }

    /// Each item of a source as `line: ok` or `line: reason`, and the error that ended it.
    fn read(source: SourceFile, limits: Limits) -> (Vec<String>, Option<String>) {
        let stream = RecordStream::open(source, Defaults::default(), limits).unwrap();
        let mut items = Vec::new();
        for item in stream {
            match item {
                Ok(Item::Record(line, _)) => items.push(format!("{line}: ok")),
                Ok(Item::Bad(e)) => {
                    items.push(format!("{}: {} [{}]", e.line, e.reason, e.raw.len()))
                }
                Err(e) => return (items, Some(e.to_string())),
            }
        }
        (items, None)
    }

    fn small_lines() -> Limits {
        Limits {
            max_line_bytes: 200,
            ..Limits::default()
        }
    }

    #[test]
    fn an_overlong_line_is_reported_and_the_file_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("{{\"id\":\"{}\"}}", "x".repeat(5000));
        let text = format!("{EVENT}\r\n{long}\n\n{}\n", EVENT.replace("e1", "e2"));
        let (items, end) = read(
            source(&dir, "events.ndjson", text.as_bytes()),
            small_lines(),
        );
        assert_eq!(end, None);
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0], "1: ok");
        assert!(
            items[1].starts_with("2: line is 5009 bytes long; at most 200 are allowed")
                && items[1].ends_with("(--max-line-bytes; kept: its first 201 bytes) [201]"),
            "{items:?}"
        );
        assert_eq!(items[2], "4: ok");
    }

    #[test]
    fn a_byte_order_mark_opens_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("\u{feff}{EVENT}\n");
        let (items, _) = read(
            source(&dir, "events.ndjson", text.as_bytes()),
            Limits::default(),
        );
        assert_eq!(items, ["1: ok"]);
        let text = "\u{feff}id,time,actor,system,action\ne1,2025-03-14T09:31:22Z,E1,BRP,view\n";
        let (items, _) = read(
            source(&dir, "events.csv", text.as_bytes()),
            Limits::default(),
        );
        assert_eq!(items, ["2: ok"]);
    }

    #[test]
    fn a_csv_column_named_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = "id,time,actor,system,action,id\n";
        let source = source(&dir, "events.csv", text.as_bytes());
        let err = RecordStream::open(source, Defaults::default(), Limits::default())
            .err()
            .expect("refused");
        assert!(
            err.to_string()
                .ends_with("the column `id` appears more than once"),
            "{err}"
        );
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_line_it_reached() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        writeln!(gz, "{EVENT}").unwrap();
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        let (items, end) = read(source(&dir, "events.ndjson.gz", &bomb), Limits::default());
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0], "1: ok");
        assert!(
            items[1].starts_with("2: gzip data expands more than 500 times"),
            "{items:?}"
        );
        let end = end.expect("the source stops");
        assert!(
            end.contains("events.ndjson.gz:2: gzip data expands"),
            "{end}"
        );
        assert!(end.contains("the rest of the file was not read"), "{end}");
    }

    #[test]
    fn csv_records_may_span_lines_within_quotes_and_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let long = "y".repeat(300);
        let text = format!(
            "id,time,actor,system,action,query\n\
             e1,2025-03-14T09:31:22Z,E1,BRP,search,\"two\nlines, \"\"quoted\"\"\"\n\
             e2,2025-03-14T09:31:22Z,E1,BRP,search,\"{long}\n{long}\"\n\
             e3,2025-03-14T09:31:22Z,E1,BRP,search,a\"b\n"
        );
        let (items, end) = read(source(&dir, "events.csv", text.as_bytes()), small_lines());
        assert_eq!(end, None);
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0], "2: ok");
        assert!(
            items[1].starts_with("4: record is 641 bytes long"),
            "{items:?}"
        );
        assert_eq!(items[2], "6: ok");
    }

    #[test]
    fn quotes_are_followed_as_the_csv_reader_does() {
        let open_after = |lines: &[&[u8]]| {
            let mut quotes = CsvQuotes::default();
            for line in lines {
                quotes.feed(line);
                quotes.end_line();
            }
            quotes.open
        };
        assert!(!open_after(&[b"a,b,c"]));
        assert!(open_after(&[b"a,\"b"]));
        assert!(!open_after(&[b"a,\"b\"\"c\",d"]));
        assert!(!open_after(&[b"a,b\"c"]));
        assert!(!open_after(&[b"a,\"b", b"end\",x"]));
        assert!(open_after(&[b"a,\"b", b"still \"\" open"]));
        assert!(!open_after(&[b"a,\"b", b"ends with a quote\""]));
    }
}
