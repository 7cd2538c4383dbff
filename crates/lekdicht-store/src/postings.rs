//! Posting lists: the access paths by actor and by subject, one row per key per sealed segment.
//!
//! A seal groups the segment's events by actor and by subject in memory (bounded by the segment,
//! never by the store) and writes, per key, one blob of `(seq, time_ms)` pairs in sequence order:
//! LEB128 varints of the sequence delta and of the zigzag-encoded time delta. That is one B-tree
//! insert per key and segment instead of one per event. Reading a key decodes its blobs, keeps the
//! pairs in the time range and sorts them by `(time_ms, seq)`; the events themselves are fetched by
//! sequence number. This module knows the encoding and the grouping; SQL stays in `sqlite.rs`.

use std::collections::HashMap;

use foldhash::fast::RandomState;

/// Which access path a posting row belongs to (stored as its number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PostingKind {
    Actor = 0,
    Subject = 1,
}

impl PostingKind {
    pub(crate) fn code(self) -> i64 {
        self as i64
    }
}

/// One event's entry in a posting list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Posting {
    // Field order gives the query order: time first, ties by sequence.
    pub(crate) time_ms: i64,
    pub(crate) seq: i64,
}

/// The posting lists of one segment being sealed, built from its events in sequence order.
#[derive(Debug, Default)]
pub(crate) struct SegmentPostings {
    lists: HashMap<String, Encoder, RandomState>,
}

impl SegmentPostings {
    /// Adds one event under `key`. Events must come in increasing sequence order.
    pub(crate) fn add(&mut self, key: &str, posting: Posting) {
        match self.lists.get_mut(key) {
            Some(encoder) => encoder.push(posting),
            None => {
                let mut encoder = Encoder::default();
                encoder.push(posting);
                self.lists.insert(key.to_owned(), encoder);
            }
        }
    }

    /// The encoded lists, one per key.
    pub(crate) fn into_blobs(self) -> impl Iterator<Item = (String, Vec<u8>)> {
        self.lists.into_iter().map(|(key, e)| (key, e.bytes))
    }
}

#[derive(Debug, Default)]
struct Encoder {
    bytes: Vec<u8>,
    last: Posting,
}

impl Encoder {
    fn push(&mut self, p: Posting) {
        // Sequence numbers only grow within a segment, so the delta is non-negative.
        put_varint(&mut self.bytes, p.seq.wrapping_sub(self.last.seq) as u64);
        put_varint(
            &mut self.bytes,
            zigzag(p.time_ms.wrapping_sub(self.last.time_ms)),
        );
        self.last = p;
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Decodes one blob, appending its postings to `out`. Returns `None` if the blob is malformed.
pub(crate) fn decode(bytes: &[u8], out: &mut Vec<Posting>) -> Option<()> {
    let mut pos = 0;
    let mut last = Posting::default();
    while pos < bytes.len() {
        let seq_delta = get_varint(bytes, &mut pos)?;
        let time_delta = unzigzag(get_varint(bytes, &mut pos)?);
        last = Posting {
            seq: last.seq.wrapping_add(seq_delta as i64),
            time_ms: last.time_ms.wrapping_add(time_delta),
        };
        out.push(last);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[(i64, i64)]) {
        let mut segment = SegmentPostings::default();
        for &(seq, time_ms) in input {
            segment.add("k", Posting { time_ms, seq });
        }
        let blobs: Vec<_> = segment.into_blobs().collect();
        assert_eq!(blobs.len(), usize::from(!input.is_empty()));
        let mut out = Vec::new();
        for (_, blob) in &blobs {
            assert_eq!(decode(blob, &mut out), Some(()));
        }
        let got: Vec<(i64, i64)> = out.iter().map(|p| (p.seq, p.time_ms)).collect();
        assert_eq!(got, input);
    }

    #[test]
    fn round_trips() {
        check(&[]);
        check(&[(0, 0)]);
        check(&[
            (5, 1_741_000_000_000),
            (6, 1_740_000_000_000),
            (900, 1_741_000_000_001),
        ]);
        check(&[(0, i64::MIN), (1, i64::MAX), (i64::MAX, -1)]);
    }

    #[test]
    fn rejects_truncated_blobs() {
        let mut out = Vec::new();
        assert_eq!(decode(&[0x80], &mut out), None);
        assert_eq!(decode(&[0x01], &mut out), None);
        assert_eq!(decode(&[0xff; 11], &mut out), None);
    }

    #[test]
    fn groups_by_key() {
        let mut segment = SegmentPostings::default();
        segment.add(
            "a",
            Posting {
                time_ms: 10,
                seq: 1,
            },
        );
        segment.add(
            "b",
            Posting {
                time_ms: 11,
                seq: 2,
            },
        );
        segment.add("a", Posting { time_ms: 9, seq: 3 });
        let mut blobs: Vec<_> = segment.into_blobs().collect();
        blobs.sort();
        let mut a = Vec::new();
        assert_eq!(decode(&blobs[0].1, &mut a), Some(()));
        assert_eq!(blobs[0].0, "a");
        assert_eq!(
            a,
            [
                Posting {
                    time_ms: 10,
                    seq: 1
                },
                Posting { time_ms: 9, seq: 3 }
            ]
        );
    }
}
