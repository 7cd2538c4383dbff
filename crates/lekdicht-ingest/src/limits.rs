//! The bounds that keep a hostile or broken source from exhausting memory or time, and the range
//! of years a time may plausibly lie in.
//!
//! A line longer than [`Limits::max_line_bytes`] is quarantined (its first bytes kept) and skipped
//! without being held in memory. A gzip source that expands beyond [`Limits::max_gzip_ratio`] times
//! the compressed bytes read (once past [`GZIP_RATIO_FLOOR`] decompressed bytes) or beyond
//! [`Limits::max_gzip_bytes`] stops: a decompression bomb costs no more than that. This module only
//! holds the numbers and the guard around a decoder; the stream decides what an error becomes.

use std::io::{self, Read};
use std::ops::RangeInclusive;

/// Bounds applied while reading and validating a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest line accepted, in bytes after decompression (for CSV: longest record, which may
    /// span lines inside quotes).
    pub max_line_bytes: usize,
    /// Most decompressed bytes per compressed byte read that a gzip source may reach.
    pub max_gzip_ratio: u64,
    /// Most bytes a gzip source may decompress to, when limited.
    pub max_gzip_bytes: Option<u64>,
    /// The years a time (`time`, `opened`, `start`, ...) may lie in.
    pub years: RangeInclusive<i32>,
}

/// Default longest line: 1 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
/// Default expansion ratio of gzip sources. Log lines compress about 10 to 30 times; a bomb of
/// zeros about 1,000 times.
pub const DEFAULT_MAX_GZIP_RATIO: u64 = 500;
/// Default plausible years of a time: from 1990 to 2100.
pub const DEFAULT_MIN_YEAR: i32 = 1990;
pub const DEFAULT_MAX_YEAR: i32 = 2100;
/// Decompressed bytes below which the ratio is not checked (a small file's header and first
/// blocks can expand far more than the file as a whole).
pub const GZIP_RATIO_FLOOR: u64 = 16 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_gzip_ratio: DEFAULT_MAX_GZIP_RATIO,
            max_gzip_bytes: None,
            years: DEFAULT_MIN_YEAR..=DEFAULT_MAX_YEAR,
        }
    }
}

/// Why a gzip source was stopped; carried inside the `io::Error` of the read that crossed a limit.
#[derive(Debug, thiserror::Error)]
#[error("{0}; the rest of the file was not read")]
pub struct ExpansionLimit(String);

/// Counts the bytes read from the compressed source.
pub(crate) struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R> Counted<R> {
    pub(crate) fn new(inner: R) -> Self {
        Counted { inner, bytes: 0 }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// A decoder whose output is checked against the limits; `compressed` tells how many compressed
/// bytes the decoder has read so far.
pub(crate) struct Guarded<D> {
    decoder: D,
    compressed: fn(&D) -> u64,
    decompressed: u64,
    max_ratio: u64,
    max_bytes: Option<u64>,
}

impl<D> Guarded<D> {
    pub(crate) fn new(decoder: D, compressed: fn(&D) -> u64, limits: &Limits) -> Self {
        Guarded {
            decoder,
            compressed,
            decompressed: 0,
            max_ratio: limits.max_gzip_ratio,
            max_bytes: limits.max_gzip_bytes,
        }
    }
}

pub(crate) fn compressed_bytes<R>(counted: &Counted<R>) -> u64 {
    counted.bytes
}

impl<D: Read> Read for Guarded<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.decoder.read(buf)?;
        self.decompressed += n as u64;
        let out = self.decompressed;
        if let Some(max) = self.max_bytes
            && out > max
        {
            return Err(io::Error::other(ExpansionLimit(format!(
                "gzip data decompresses to more than {max} bytes (--max-gzip-bytes)"
            ))));
        }
        let compressed = (self.compressed)(&self.decoder).max(1);
        if out > GZIP_RATIO_FLOOR && out / compressed > self.max_ratio {
            return Err(io::Error::other(ExpansionLimit(format!(
                "gzip data expands more than {} times ({out} bytes from {compressed}; --max-gzip-ratio): a decompression bomb?",
                self.max_ratio
            ))));
        }
        Ok(n)
    }
}

/// The expansion limit an IO error carries, if any.
pub(crate) fn expansion_limit(error: &io::Error) -> Option<&ExpansionLimit> {
    error.get_ref()?.downcast_ref::<ExpansionLimit>()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::read::MultiGzDecoder;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip_of_zeros(n: usize) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::best());
        let block = vec![0u8; 1 << 16];
        for _ in 0..n / block.len() {
            enc.write_all(&block).unwrap();
        }
        enc.finish().unwrap()
    }

    fn guarded(bytes: &[u8], limits: &Limits) -> impl Read {
        let decoder = MultiGzDecoder::new(Counted::new(bytes));
        Guarded::new(decoder, |d| compressed_bytes(d.get_ref()), limits)
    }

    #[test]
    fn a_bomb_stops_at_the_ratio() {
        let bomb = gzip_of_zeros(64 << 20);
        let mut out = Vec::new();
        let err = guarded(&bomb, &Limits::default())
            .read_to_end(&mut out)
            .unwrap_err();
        let limit = expansion_limit(&err).expect("an expansion limit");
        assert!(
            limit.to_string().contains("expands more than 500 times"),
            "{limit}"
        );
        assert!(out.len() < 20 << 20, "{} bytes decompressed", out.len());
    }

    #[test]
    fn an_absolute_cap_applies_below_the_floor() {
        let small = gzip_of_zeros(1 << 20);
        let limits = Limits {
            max_gzip_bytes: Some(100_000),
            ..Limits::default()
        };
        let err = guarded(&small, &limits)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(expansion_limit(&err).is_some(), "{err}");
        let mut out = Vec::new();
        guarded(&small, &Limits::default())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), 1 << 20);
    }
}
