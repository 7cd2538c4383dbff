//! Ingest from contract files into the embedded store: every kind, every kind of bad line, CSV,
//! gzip, idempotency and the quarantine round trip.

use std::io::Write;
use std::path::{Path, PathBuf};

use lekdicht::pipeline::{IngestOptions, IngestReport, ingest};
use lekdicht_model::RecordKind;
use lekdicht_store::{QuarantineFilter, SqliteStore, Store, TimeRange};

fn example_world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/example-world")
}

fn run(store: &mut SqliteStore, paths: &[PathBuf]) -> IngestReport {
    ingest(
        store,
        &IngestOptions {
            paths: paths.to_vec(),
            progress: false,
            batch_size: 3,
            ..IngestOptions::default()
        },
        &mut |_, _| Ok(()),
    )
    .expect("ingest runs")
}

fn quarantine(store: &SqliteStore) -> Vec<lekdicht_store::QuarantineEntry> {
    store.quarantine_list(&QuarantineFilter::default()).unwrap()
}

#[test]
fn the_example_world_ingests_completely() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let report = run(&mut store, &[example_world()]);
    assert_eq!(report.totals.quarantined, 0, "{:?}", report.first_errors);
    assert!(!report.has_problems());
    // 8 events + 2 cases + 3 employees + 1 relation + 3 shifts + 7 subjects + 2 units + 1 vehicle.
    assert_eq!(report.totals.stored, 27);
    assert_eq!(store.event_count().unwrap(), 8);
    let ctx = store.load_context().unwrap();
    assert_eq!(
        (
            ctx.units.len(),
            ctx.employees.len(),
            ctx.subjects.len(),
            ctx.vehicles.len(),
            ctx.relations.len(),
            ctx.cases.len(),
            ctx.shifts.len()
        ),
        (2, 3, 7, 1, 1, 2, 3)
    );
    // Context comes first, so no event is flagged as naming something unknown.
    assert_eq!(report.unresolved, 0);
    let sources: Vec<&str> = report.sources.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(sources.last(), Some(&"events"));

    let timeline = store.timeline("E30111", &TimeRange::default()).unwrap();
    let ids: Vec<&str> = timeline.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(ids, ["rdw-1", "brp-2", "brp-3", "brp-4"]);

    // The holder of 12-ABC-3 is P883314: the plate lookup counts as an access to that person.
    let accessed = store.accessed("P883314").unwrap();
    let ids: Vec<&str> = accessed.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(ids, ["bvh-2", "rdw-1"]);
}

#[test]
fn ingesting_twice_stores_once_and_updates_context() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    run(&mut store, &[example_world()]);
    let again = run(&mut store, &[example_world()]);
    assert_eq!(again.totals.stored, 0);
    assert_eq!(again.totals.duplicates, 27);
    assert_eq!(store.event_count().unwrap(), 8);

    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("employees.ndjson");
    std::fs::write(
        &path,
        r#"{"id":"E30111","organization":"politie","unit":"AMS-WIJK-3","role":"teamchef"}"#,
    )
    .unwrap();
    let update = run(&mut store, &[path]);
    assert_eq!(update.totals.context_updated, 1);
    let ctx = store.load_context().unwrap();
    let e = ctx
        .employees
        .iter()
        .find(|e| e.id.as_str() == "E30111")
        .unwrap();
    assert_eq!(e.role.as_deref(), Some("teamchef"));
}

#[test]
fn every_kind_of_bad_line_is_quarantined_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("events.ndjson");
    let good = |id: &str| {
        format!(
            r#"{{"id":"{id}","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"view","subject":"P1"}}"#
        )
    };
    let long_query = "x".repeat(5000);
    let mut file = std::fs::File::create(&path).unwrap();
    let lines: Vec<Vec<u8>> = vec![
        good("ok-1").into_bytes(),
        br#"{"id":"broken","time":"#.to_vec(),
        br#"{"id":"no-time","actor":"E1","system":"BVH","action":"view"}"#.to_vec(),
        br#"{"id":"bad-time","time":"14-03-2025 09:31","actor":"E1","system":"BVH","action":"view"}"#.to_vec(),
        br#"{"id":"bad-enum","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"peek"}"#.to_vec(),
        format!(r#"{{"id":"too-long","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"search","query":"{long_query}"}}"#).into_bytes(),
        b"{\"id\":\"bad-utf8\",\"time\":\"2025-03-14T09:31:22+01:00\",\"actor\":\"E\xff1\",\"system\":\"BVH\",\"action\":\"view\"}".to_vec(),
        format!(r#"{{"id":"{}","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"view"}}"#, "i".repeat(200)).into_bytes(),
        good("ok-2").into_bytes(),
    ];
    for line in &lines {
        file.write_all(line).unwrap();
        file.write_all(b"\n").unwrap();
    }
    drop(file);

    let report = run(&mut store, std::slice::from_ref(&path));
    assert!(report.has_problems());
    assert_eq!(
        report.totals.stored, 2,
        "the good lines around bad ones are stored"
    );
    assert_eq!(report.totals.quarantined, 7);
    let entries = quarantine(&store);
    let got: Vec<(u64, Option<&str>, &str)> = entries
        .iter()
        .map(|e| (e.line, e.field.as_deref(), e.reason.as_str()))
        .collect();
    let expect: [(u64, Option<&str>, &str); 7] = [
        (2, None, "broken JSON"),
        (3, Some("time"), "required field is missing"),
        (4, Some("time"), "RFC 3339"),
        (5, Some("action"), "unknown variant `peek`"),
        (6, Some("query"), "at most 4096"),
        (7, None, "not valid UTF-8"),
        (8, Some("id"), "at most 128"),
    ];
    assert_eq!(got.len(), expect.len());
    for (g, e) in got.iter().zip(expect) {
        assert_eq!((g.0, g.1), (e.0, e.1), "{g:?}");
        assert!(g.2.contains(e.2), "{g:?} should say {:?}", e.2);
    }
    for (entry, line) in entries.iter().zip(&lines[1..8]) {
        assert_eq!(&entry.raw, line, "the raw line is kept byte for byte");
        assert_eq!(entry.file, path.display().to_string());
        assert_eq!(entry.kind, RecordKind::Events);
    }
    // Events naming unknown actors are stored and flagged.
    assert_eq!(report.unresolved, 2);
}

#[test]
fn csv_and_gzip_sources() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("units.csv"),
        "id,organization,name,area\nU1,politie,\"Basisteam Centrum, wijk 3\",1012;1013\nU2,politie,Recherche,\n",
    )
    .unwrap();
    std::fs::write(
        data.path().join("subjects.csv"),
        "id,family_name,flags\nP1,Yılmaz,vip;protected\nP2,Jansen,\nP3,Smit,famous\n",
    )
    .unwrap();
    let gz = std::fs::File::create(data.path().join("events.csv.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::default());
    writeln!(
        enc,
        "id,time,actor,system,action,subject,query,result_count"
    )
    .unwrap();
    writeln!(
        enc,
        "e1,2025-03-14T09:31:22+01:00,E1,BRP,search,,jansen*,31"
    )
    .unwrap();
    writeln!(enc, "e2,2025-03-14T09:32:00+01:00,E1,BRP,view,P2,,").unwrap();
    writeln!(enc, "e3,2025-03-14T09:33:00+01:00,E1,BRP,view,P1").unwrap();
    enc.finish().unwrap();
    let nd = std::fs::File::create(data.path().join("vehicles.jsonl.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(nd, flate2::Compression::fast());
    writeln!(enc, r#"{{"id":"12-ABC-3","holder":"P1"}}"#).unwrap();
    enc.finish().unwrap();

    let report = run(&mut store, &[data.path().to_owned()]);
    let ctx = store.load_context().unwrap();
    assert_eq!(ctx.units.len(), 2);
    let u1 = ctx.units.iter().find(|u| u.id.as_str() == "U1").unwrap();
    assert_eq!(u1.area, ["1012", "1013"]);
    assert_eq!(u1.name.as_deref(), Some("Basisteam Centrum, wijk 3"));
    let p1 = ctx.subjects.iter().find(|s| s.id.as_str() == "P1").unwrap();
    assert_eq!(p1.flags.len(), 2);
    assert_eq!(ctx.vehicles.len(), 1);
    assert_eq!(store.event_count().unwrap(), 2);
    let search = store.find_events("e1", None).unwrap();
    assert_eq!(search[0].event.result_count, Some(31));
    assert_eq!(search[0].event.query.as_deref(), Some("jansen*"));

    let entries = quarantine(&store);
    assert_eq!(report.totals.quarantined, 2);
    assert_eq!(entries[0].kind, RecordKind::Subjects);
    assert_eq!(
        (entries[0].line, entries[0].field.as_deref()),
        (4, Some("flags[0]"))
    );
    assert_eq!(entries[1].kind, RecordKind::Events);
    assert_eq!(entries[1].line, 4);
    assert!(
        entries[1].reason.contains("6 fields but the header has 8"),
        "{}",
        entries[1].reason
    );
}

#[test]
fn quarantine_round_trip_export_fix_reingest() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("events.ndjson");
    std::fs::write(
        &path,
        concat!(
            r#"{"id":"e1","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"view"}"#,
            "\n",
            r#"{"id":"e2","time":"2025-03-14 09:40","actor":"E1","system":"BVH","action":"view"}"#,
            "\n",
        ),
    )
    .unwrap();
    run(&mut store, std::slice::from_ref(&path));
    let open = quarantine(&store);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].key.as_deref(), Some("e2"));

    // Export the raw line, fix it, ingest the fixed file: the entry resolves itself.
    let fixed_dir = tempfile::tempdir().unwrap();
    let raw = String::from_utf8(open[0].raw.clone()).unwrap();
    let fixed = raw.replace("2025-03-14 09:40", "2025-03-14T09:40:00+01:00");
    std::fs::write(fixed_dir.path().join("events.ndjson"), format!("{fixed}\n")).unwrap();
    let report = run(&mut store, &[fixed_dir.path().to_owned()]);
    assert_eq!(report.totals.stored, 1);
    assert_eq!(report.quarantine_resolved, 1);
    assert!(quarantine(&store).is_empty());
    let all = store
        .quarantine_list(&QuarantineFilter {
            include_resolved: true,
            ..QuarantineFilter::default()
        })
        .unwrap();
    assert!(
        all[0]
            .resolution
            .as_deref()
            .unwrap()
            .contains("valid version")
    );
    assert_eq!(store.event_count().unwrap(), 2);
}

#[test]
fn a_changed_event_with_a_stored_id_is_a_conflict_not_an_update() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("events.ndjson");
    let line = r#"{"id":"e1","time":"2025-03-14T09:31:22+01:00","actor":"E1","system":"BVH","action":"view","subject":"P1"}"#;
    std::fs::write(&path, format!("{line}\n")).unwrap();
    run(&mut store, std::slice::from_ref(&path));
    std::fs::write(&path, format!("{}\n", line.replace("P1", "P2"))).unwrap();
    let report = run(&mut store, std::slice::from_ref(&path));
    assert_eq!(report.totals.stored, 0);
    assert_eq!(report.totals.quarantined, 1);
    let stored = store.find_events("e1", None).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event.subject.as_ref().unwrap().as_str(), "P1");
    let entries = quarantine(&store);
    assert!(entries[0].reason.contains("different content"));
}

#[test]
fn events_for_unknown_context_resolve_when_it_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let world = example_world();
    let report = run(&mut store, &[world.join("events.ndjson")]);
    assert_eq!(report.unresolved, 8);
    let report = run(&mut store, &[world.join("employees.ndjson")]);
    assert!(report.unresolved < 8 && report.unresolved > 0);
    let report = run(&mut store, std::slice::from_ref(&world));
    assert_eq!(report.unresolved, 0);
    assert_eq!(store.status().unwrap().events_unresolved, 0);
}
