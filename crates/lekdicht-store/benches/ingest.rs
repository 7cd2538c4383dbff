//! Ingest throughput of [`SqliteStore`]: about a million demo-like events written through
//! [`Store::write_batch`] in batches of 20,000, then the run finished (which seals the last
//! segment), into a fresh database each time. Reports events per second.
//!
//! Only the store is timed: the events are generated between batches, outside the measurement, and
//! nothing is parsed or hashed. The clock is the thread's CPU time as the Linux scheduler counts it
//! (`/proc/thread-self/schedstat`, user and kernel time alike), not wall time, because the machines
//! this runs on are shared and waiting for a core says nothing about the store; where that file is
//! missing, wall time is used. `cargo bench -p lekdicht-store --bench ingest`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lekdicht_model::AccessEvent;
use lekdicht_store::{Batch, NewEvent, RunTotals, SqliteStore, Store, Unresolved};

const EVENTS: u64 = 1_000_000;
const BATCH: u64 = 20_000;

/// A small deterministic generator (64-bit LCG), so every run writes the same events.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Events shaped like the demo world's: four systems, 2,000 employees, 100,000 persons, most events
/// naming a subject, some a case, times rising by a few seconds.
fn batch(rng: &mut Lcg, first: u64, file: &Arc<str>) -> Batch {
    const SYSTEMS: [(&str, &str); 4] = [
        ("bvh", "BVH"),
        ("brp", "BRP"),
        ("rdw", "RDW"),
        ("bv", "BlueView"),
    ];
    const ACTIONS: [&str; 3] = ["view", "search", "update"];
    let mut events = Vec::with_capacity(BATCH as usize);
    for n in first..first + BATCH {
        let (prefix, system) = SYSTEMS[rng.below(4) as usize];
        let seconds = 1_740_956_400 + n * 3 + rng.below(3);
        let time = chrono::DateTime::from_timestamp(seconds as i64, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        let subject = match rng.below(10) {
            0 => String::new(),
            _ => format!(r#","subject":"P{:07}""#, rng.below(100_000)),
        };
        let case = match rng.below(4) {
            0 => format!(r#","case":"2025-AMS-{:05}""#, rng.below(20_000)),
            _ => String::new(),
        };
        let line = format!(
            r#"{{"id":"{prefix}-{n:09}","time":"{time}","actor":"E{:05}","system":"{system}","action":"{}"{subject}{case},"purpose":"rva:handhaving","organization":"politie"}}"#,
            10_000 + rng.below(2_000) * 37,
            ACTIONS[rng.below(3) as usize],
        );
        let event: AccessEvent = serde_json::from_str(&line).expect("generated event parses");
        events.push(NewEvent {
            event,
            canonical: line.into_bytes(),
            unresolved: Unresolved::default(),
            file: file.clone(),
            line: n + 1,
        });
    }
    Batch {
        events,
        ..Batch::default()
    }
}

/// A clock reading: this thread's CPU time if the system reports it, else wall time.
#[derive(Clone, Copy)]
enum Stamp {
    Cpu(Duration),
    Wall(Instant),
}

impl Stamp {
    fn now() -> Stamp {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .map_or_else(
                || Stamp::Wall(Instant::now()),
                |ns| Stamp::Cpu(Duration::from_nanos(ns)),
            )
    }

    fn elapsed(self) -> Duration {
        match (self, Stamp::now()) {
            (Stamp::Cpu(then), Stamp::Cpu(now)) => now.saturating_sub(then),
            (Stamp::Wall(then), _) => then.elapsed(),
            // The CPU clock vanished mid-measurement: nothing sensible to report.
            (Stamp::Cpu(_), Stamp::Wall(_)) => Duration::ZERO,
        }
    }
}

/// Writes `EVENTS` events into a fresh store; returns the time spent inside the store.
fn ingest_once() -> Duration {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut store = SqliteStore::open(dir.path()).expect("store opens");
    let file: Arc<str> = "events.ndjson".into();
    let mut rng = Lcg(7);
    let mut spent = Duration::ZERO;
    let run = store.begin_run("bench").expect("run starts");
    for first in (0..EVENTS).step_by(BATCH as usize) {
        let batch = batch(&mut rng, first, &file);
        let started = Stamp::now();
        store.write_batch(run, &batch).expect("batch is written");
        spent += started.elapsed();
    }
    let started = Stamp::now();
    store
        .finish_run(run, &RunTotals::default())
        .expect("run finishes");
    spent += started.elapsed();
    assert_eq!(store.event_count().expect("count"), EVENTS);
    spent
}

fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("write_batch_1m_events", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| ingest_once()).sum())
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
