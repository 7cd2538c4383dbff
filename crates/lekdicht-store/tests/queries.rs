//! The queries by actor, subject and time give the same answers whether the events sit in sealed
//! access paths, in the unsealed tail, or in both, and whatever order their times arrive in; a
//! reopened store (as after a crash) answers the same too.
//!
//! Every expectation comes from a plain in-memory model of the stored events, not from the store.

use std::sync::Arc;

use lekdicht_model::{AccessEvent, RecordKind};
use lekdicht_store::{
    Batch, EventOutcome, NewContext, NewEvent, RunId, RunTotals, SqliteOptions, SqliteStore, Store,
    StoredEvent, TimeRange, Unresolved,
};

/// One stored event as the model sees it.
#[derive(Debug, Clone)]
struct Modelled {
    seq: u64,
    actor: String,
    subject: Option<String>,
    time_ms: i64,
    canonical: Vec<u8>,
}

/// The store under test and the model of what it holds.
struct World {
    store: SqliteStore,
    model: Vec<Modelled>,
    run: RunId,
    next_id: u64,
    rng: u64,
}

const BASE_MS: i64 = 1_741_000_000_000;
const ACTORS: u64 = 7;
const SUBJECTS: u64 = 11;

impl World {
    fn open(dir: &std::path::Path, seal_every: u64) -> World {
        let mut store = SqliteStore::open_with(dir, SqliteOptions { seal_every }).unwrap();
        let run = store.begin_run("test").unwrap();
        World {
            store,
            model: Vec::new(),
            run,
            next_id: 0,
            rng: 99,
        }
    }

    fn random(&mut self, n: u64) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.rng >> 33) % n
    }

    /// Writes `n` new events with times in random order (ties included), in one batch.
    fn write(&mut self, n: usize) {
        let file: Arc<str> = "events.ndjson".into();
        let mut batch = Batch::default();
        for _ in 0..n {
            let id = self.next_id;
            self.next_id += 1;
            let time_ms = BASE_MS + 1000 * self.random(500) as i64;
            let actor = format!("E{}", self.random(ACTORS));
            let subject = match self.random(5) {
                0 => String::new(),
                _ => format!(r#","subject":"P{}""#, self.random(SUBJECTS)),
            };
            let time = chrono::DateTime::from_timestamp_millis(time_ms)
                .unwrap()
                .to_rfc3339();
            let line = format!(
                r#"{{"id":"x-{id}","time":"{time}","actor":"{actor}","system":"X","action":"view"{subject}}}"#
            );
            let event: AccessEvent = serde_json::from_str(&line).unwrap();
            batch.events.push(NewEvent {
                event,
                canonical: line.into_bytes(),
                unresolved: Unresolved::default(),
                file: file.clone(),
                line: id + 1,
            });
        }
        let outcome = self.store.write_batch(self.run, &batch).unwrap();
        for (new, result) in batch.events.iter().zip(&outcome.events) {
            let EventOutcome::Stored(seq) = *result else {
                panic!("a new event was not stored: {result:?}");
            };
            self.model.push(Modelled {
                seq,
                actor: new.event.actor.as_str().to_owned(),
                subject: new.event.subject.as_ref().map(|s| s.as_str().to_owned()),
                time_ms: new.event.time.timestamp_millis(),
                canonical: new.canonical.clone(),
            });
        }
    }

    /// The model's events that pass `keep`, in (time, seq) order.
    fn expect(&self, keep: impl Fn(&Modelled) -> bool) -> Vec<(u64, Vec<u8>)> {
        let mut hits: Vec<&Modelled> = self.model.iter().filter(|m| keep(m)).collect();
        hits.sort_by_key(|m| (m.time_ms, m.seq));
        hits.iter().map(|m| (m.seq, m.canonical.clone())).collect()
    }

    /// Asserts that every query agrees with the model.
    fn check(&self) {
        let got = |events: Vec<StoredEvent>| -> Vec<(u64, Vec<u8>)> {
            events.into_iter().map(|e| (e.seq, e.canonical)).collect()
        };
        let ranges = [
            TimeRange::default(),
            TimeRange {
                from_ms: Some(BASE_MS + 100_000),
                until_ms: Some(BASE_MS + 300_000),
            },
            TimeRange {
                from_ms: None,
                until_ms: Some(BASE_MS + 1000),
            },
        ];
        for range in &ranges {
            let within = |m: &Modelled| {
                range.from_ms.is_none_or(|f| m.time_ms >= f)
                    && range.until_ms.is_none_or(|u| m.time_ms < u)
            };
            for a in 0..ACTORS {
                let actor = format!("E{a}");
                assert_eq!(
                    got(self.store.timeline(&actor, range).unwrap()),
                    self.expect(|m| m.actor == actor && within(m)),
                    "timeline of {actor} in {range:?}"
                );
            }
            let mut all = Vec::new();
            self.store
                .for_each_event_by_time(range, &mut |e| {
                    all.push(e);
                    Ok(())
                })
                .unwrap();
            assert_eq!(got(all), self.expect(within), "by time in {range:?}");
            for limit in [1, 7, 1000] {
                let mut paged = Vec::new();
                let mut after = None;
                loop {
                    let page = self.store.events_by_time_page(range, after, limit).unwrap();
                    assert!(page.len() <= limit);
                    let Some(last) = page.last() else { break };
                    after = Some((last.event.time.timestamp_millis(), last.seq));
                    paged.extend(page);
                }
                assert_eq!(
                    got(paged),
                    self.expect(within),
                    "pages of {limit} in {range:?}"
                );
            }
        }
        // P1 holds the vehicle P5, so accessed(P1) includes P5's events.
        for s in 0..SUBJECTS {
            let subject = format!("P{s}");
            let holds_p5 = s == 1;
            assert_eq!(
                got(self.store.accessed(&subject).unwrap()),
                self.expect(|m| {
                    m.subject.as_deref() == Some(subject.as_str())
                        || (holds_p5 && m.subject.as_deref() == Some("P5"))
                }),
                "accessed {subject}"
            );
        }
        let status = self.store.status().unwrap();
        let bound = |ms: Option<i64>| {
            ms.and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        assert_eq!(
            status.first_event,
            bound(self.model.iter().map(|m| m.time_ms).min())
        );
        assert_eq!(
            status.last_event,
            bound(self.model.iter().map(|m| m.time_ms).max())
        );
        assert_eq!(status.events, self.model.len() as u64);
        assert_eq!(self.store.check_projections().unwrap(), []);
    }
}

/// Makes P5 a vehicle held by P1, so that `accessed("P1")` must follow the holder.
fn add_vehicle(world: &mut World) {
    let batch = Batch {
        context: vec![NewContext {
            kind: RecordKind::Vehicles,
            key: "P5".to_owned(),
            canonical: br#"{"holder":"P1","id":"P5"}"#.to_vec(),
        }],
        ..Batch::default()
    };
    world.store.write_batch(world.run, &batch).unwrap();
}

#[test]
fn sealed_tail_and_mixed_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(dir.path(), 250);
    add_vehicle(&mut world);
    world.check();
    // Only a tail.
    world.write(90);
    world.check();
    // Several sealed segments (every 250) and a tail.
    for _ in 0..12 {
        world.write(90);
    }
    world.check();
    // Everything sealed.
    world
        .store
        .finish_run(world.run, &RunTotals::default())
        .unwrap();
    assert_eq!(world.store.seal().unwrap(), 0);
    world.check();
    // More after the seal, then reopened without finishing (as after a kill): a tail again.
    world.write(40);
    let model = std::mem::take(&mut world.model);
    let next_id = world.next_id;
    drop(world);
    let mut world = World::open(dir.path(), 250);
    world.model = model;
    world.next_id = next_id;
    world.check();
    world.write(300);
    world.check();
    assert!(world.store.seal().unwrap() > 0);
    world.check();
}

#[test]
fn duplicates_are_not_indexed_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(dir.path(), 50);
    add_vehicle(&mut world);
    world.write(120);
    world.store.seal().unwrap();
    // The same events again: all duplicates, nothing new in any access path.
    let file: Arc<str> = "again.ndjson".into();
    let again = Batch {
        events: world
            .model
            .iter()
            .map(|m| {
                let event: AccessEvent = serde_json::from_slice(&m.canonical).unwrap();
                NewEvent {
                    event,
                    canonical: m.canonical.clone(),
                    unresolved: Unresolved::default(),
                    file: file.clone(),
                    line: m.seq + 1,
                }
            })
            .collect(),
        ..Batch::default()
    };
    let outcome = world.store.write_batch(world.run, &again).unwrap();
    assert!(outcome.events.iter().all(|o| *o == EventOutcome::Duplicate));
    assert_eq!(world.store.seal().unwrap(), 0);
    world.check();
}
