//! Tile export round trip: a log exported to the `tlog-tiles` layout and read back through
//! [`TileDir`] gives the same roots, proofs and entries; a damaged tile or a wrong entry is
//! refused.

use std::path::Path;

use lekdicht_ledger::tiles::{ExportError, TileReadError};
use lekdicht_ledger::{Hash, LeafIdx, Log, Signer, TileDir, TreeSize, leaf_hash};

const ORIGIN: &str = "lekdicht.example/ledger/events";

fn signer() -> Signer {
    Signer::from_seed(ORIGIN, [11u8; 32]).unwrap()
}

fn entry(i: u64) -> Vec<u8> {
    format!("{{\"employee\":\"E{}\",\"i\":{i}}}", i % 97).into_bytes()
}

fn log_with(dir: &Path, n: u64) -> Log {
    let mut log = Log::open(dir, ORIGIN, Some(signer())).unwrap();
    let hashes: Vec<Hash> = (0..n).map(|i| leaf_hash(&entry(i))).collect();
    for chunk in hashes.chunks(10_000) {
        log.append(chunk).unwrap();
    }
    log.checkpoint().unwrap();
    log
}

fn check_round_trip(n: u64, expected_tiles: u64) {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), n);
    let out = tempfile::tempdir().unwrap();
    let mut entries = (0..n).map(entry);
    let report = log
        .export_tiles(out.path(), Some(&mut entries))
        .unwrap()
        .unwrap();
    assert_eq!(report.tiles, expected_tiles, "size {n}");
    assert_eq!(report.entry_bundles, n.div_ceil(256));

    let tiles = TileDir::open(out.path(), &signer().verifier()).unwrap();
    assert_eq!(tiles.size(), TreeSize(n));
    for size in [1, n / 3, n - 1, n] {
        assert_eq!(
            tiles.root_at(TreeSize(size)).unwrap(),
            log.root_at(TreeSize(size)).unwrap()
        );
    }
    for idx in [0, n / 2, n - 1] {
        assert_eq!(
            tiles.inclusion_proof(LeafIdx(idx), TreeSize(n)).unwrap(),
            log.inclusion_proof(LeafIdx(idx), TreeSize(n)).unwrap()
        );
    }
    assert_eq!(
        tiles
            .consistency_proof(TreeSize(n / 3), TreeSize(n))
            .unwrap(),
        log.consistency_proof(TreeSize(n / 3), TreeSize(n)).unwrap()
    );
    let last_bundle = (n - 1) / 256;
    let entries = tiles.entries(last_bundle).unwrap();
    assert_eq!(entries.last(), Some(&entry(n - 1)));
    assert_eq!(tiles.entries(0).unwrap()[0], entry(0));
}

#[test]
fn round_trips() {
    // (size, hash tiles): level 0 tiles, plus level 1 and level 2 ones when there are nodes.
    check_round_trip(1, 1);
    check_round_trip(255, 1);
    check_round_trip(256, 2);
    check_round_trip(1000, 4 + 1);
    check_round_trip(65_536, 256 + 1 + 1);
    check_round_trip(70_001, 274 + 2 + 1);
}

#[test]
fn exported_files_have_the_spec_names() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 1000);
    let out = tempfile::tempdir().unwrap();
    let mut entries = (0..1000).map(entry);
    log.export_tiles(out.path(), Some(&mut entries)).unwrap();
    for path in [
        "tile/0/000",
        "tile/0/002",
        "tile/0/003.p/232",
        "tile/1/000.p/3",
        "tile/entries/000",
        "tile/entries/003.p/232",
        "checkpoint",
    ] {
        assert!(out.path().join(path).is_file(), "{path}");
    }
    assert_eq!(
        std::fs::metadata(out.path().join("tile/0/003.p/232"))
            .unwrap()
            .len(),
        232 * 32
    );
    let checkpoint = std::fs::read_to_string(out.path().join("checkpoint")).unwrap();
    assert_eq!(checkpoint, log.latest_checkpoint().unwrap().note());
}

#[test]
fn damaged_tiles_and_wrong_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 600);
    let out = tempfile::tempdir().unwrap();
    log.export_tiles(out.path(), None).unwrap();

    let tile = out.path().join("tile/0/001");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[100] ^= 0x40;
    std::fs::write(&tile, &bytes).unwrap();
    assert!(matches!(
        TileDir::open(out.path(), &signer().verifier()),
        Err(TileReadError::TileMismatch { level: 0, n: 1 })
    ));
    // Damage in the partial tile changes the root.
    let partial = out.path().join("tile/0/002.p/88");
    let mut bytes = std::fs::read(&partial).unwrap();
    bytes[0] ^= 0x01;
    std::fs::write(&partial, &bytes).unwrap();
    assert!(matches!(
        TileDir::open(out.path(), &signer().verifier()),
        Err(TileReadError::RootMismatch { .. })
    ));

    let stranger = Signer::from_seed(ORIGIN, [12u8; 32]).unwrap();
    assert!(matches!(
        TileDir::open(out.path(), &stranger.verifier()),
        Err(TileReadError::Checkpoint(_))
    ));

    let mut wrong = (0..600).map(|i| {
        if i == 444 {
            b"forged".to_vec()
        } else {
            entry(i)
        }
    });
    assert!(matches!(
        log.export_tiles(out.path(), Some(&mut wrong)),
        Err(ExportError::EntryMismatch(LeafIdx(444)))
    ));
    let mut short = (0..300).map(entry);
    assert!(matches!(
        log.export_tiles(out.path(), Some(&mut short)),
        Err(ExportError::MissingEntries { supplied: 300, .. })
    ));
}
