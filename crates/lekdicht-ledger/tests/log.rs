//! Behaviour of a [`Log`] on disk: restart, torn writes, tampering with the leaf file (altered,
//! truncated, inserted), the durability rule for checkpoints, and the findings of
//! [`verify_leaves`].
//!
//! Every test works in its own temporary directory.

use std::cell::Cell;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::rc::Rc;

use lekdicht_ledger::log::{CHECKPOINTS_FILE, LEAVES_FILE};
use lekdicht_ledger::{
    AppendError, Finding, Hash, HashStore, LeafIdx, Log, MemoryHashStore, OpenError, Signer,
    TreeSize, leaf_hash, verify_consistency, verify_inclusion, verify_leaves,
};

const ORIGIN: &str = "lekdicht.example/ledger/events";

fn signer() -> Signer {
    Signer::from_seed(ORIGIN, [42u8; 32]).unwrap()
}

fn record(i: u64) -> Vec<u8> {
    format!("{{\"event\":{i}}}").into_bytes()
}

fn hashes(range: Range<u64>) -> Vec<Hash> {
    range.map(|i| leaf_hash(&record(i))).collect()
}

fn records(n: u64) -> impl Iterator<Item = (u64, Vec<u8>)> {
    (0..n).map(|i| (i, record(i)))
}

/// A log of `n` leaves appended in batches of 100, with a checkpoint after every batch.
fn build(dir: &Path, n: u64) -> Log {
    let mut log = Log::open(dir, ORIGIN, Some(signer())).unwrap();
    let mut start = 0;
    while start < n {
        let end = (start + 100).min(n);
        log.append(&hashes(start..end)).unwrap();
        log.checkpoint().unwrap();
        start = end;
    }
    log
}

#[test]
fn restart_gives_same_root_and_no_new_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (root, size, count) = {
        let log = build(dir.path(), 1000);
        (log.root(), log.size(), log.checkpoints().len())
    };
    assert_eq!(count, 10);
    let mut log = Log::open(dir.path(), ORIGIN, Some(signer())).unwrap();
    assert_eq!(log.root(), root);
    assert_eq!(log.size(), size);
    assert_eq!(log.checkpoints().len(), 10);
    assert!(log.checkpoint().unwrap().is_none());
    assert_eq!(log.checkpoints().len(), 10);
    let latest = log.latest_checkpoint().unwrap().checkpoint();
    assert_eq!((latest.size, latest.root), (size, root));
    // Growing again signs exactly one more.
    log.append(&hashes(1000..1001)).unwrap();
    let signed = log.checkpoint().unwrap().unwrap();
    assert_eq!(signed.checkpoint().size, TreeSize(1001));
    assert!(log.checkpoint().unwrap().is_none());
}

#[test]
fn proofs_from_the_log_verify_against_its_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let log = build(dir.path(), 777);
    let cps = log.checkpoints();
    let (old, new) = (cps[2].checkpoint(), cps[7].checkpoint());
    let proof = log.consistency_proof(old.size, new.size).unwrap();
    assert_eq!(
        verify_consistency(old.size, new.size, &old.root, &new.root, &proof),
        Ok(())
    );
    for idx in [0u64, 1, 255, 256, 299, 776] {
        let size = log.size();
        let proof = log.inclusion_proof(LeafIdx(idx), size).unwrap();
        let leaf = leaf_hash(&record(idx));
        assert_eq!(
            verify_inclusion(&leaf, LeafIdx(idx), size, &proof, &log.root()),
            Ok(())
        );
    }
    assert!(log.inclusion_proof(LeafIdx(777), log.size()).is_err());
    assert!(log.consistency_proof(TreeSize(5), TreeSize(778)).is_err());
}

fn leaves_path(dir: &Path) -> std::path::PathBuf {
    dir.join(LEAVES_FILE)
}

fn expect_tampered(dir: &Path, size: u64) {
    match Log::open(dir, ORIGIN, Some(signer())) {
        Err(OpenError::Tampered { size: s, .. }) => assert_eq!(s, TreeSize(size)),
        other => panic!("expected a tamper error for size {size}, got {other:?}"),
    }
}

#[test]
fn altered_byte_is_detected_on_open_and_located_by_verification() {
    let dir = tempfile::tempdir().unwrap();
    drop(build(dir.path(), 500));
    let file = OpenOptions::new()
        .write(true)
        .open(leaves_path(dir.path()))
        .unwrap();
    file.write_all_at(&[0xFF], 321 * 32 + 5).unwrap();
    drop(file);
    expect_tampered(dir.path(), 500);

    // An audit opening does not refuse the log, so verification can locate the damage.
    let log = Log::open_for_audit(dir.path(), ORIGIN).unwrap();
    let report = verify_leaves(&log, records(500), &signer().verifier()).unwrap();
    let tampered_root = log.root_at(TreeSize(500)).unwrap();
    assert_eq!(
        report.findings,
        vec![
            Finding::LeafMismatch {
                first: LeafIdx(321),
                count: 1
            },
            Finding::CheckpointRoot {
                size: TreeSize(400),
                recomputed: log.root_at(TreeSize(400)).unwrap()
            },
            Finding::CheckpointsInconsistent {
                older: TreeSize(300),
                newer: TreeSize(400)
            },
            Finding::CheckpointRoot {
                size: TreeSize(500),
                recomputed: tampered_root
            },
            // Proofs built from the damaged leaves cannot link the published roots either.
            Finding::CheckpointsInconsistent {
                older: TreeSize(400),
                newer: TreeSize(500)
            },
        ]
    );
}

#[test]
fn truncated_leaf_file_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    drop(build(dir.path(), 300));
    let file = OpenOptions::new()
        .write(true)
        .open(leaves_path(dir.path()))
        .unwrap();
    file.set_len(250 * 32).unwrap();
    drop(file);
    match Log::open(dir.path(), ORIGIN, Some(signer())) {
        Err(OpenError::Tampered {
            size, recomputed, ..
        }) => {
            assert_eq!(size, TreeSize(300));
            assert_eq!(recomputed, None);
        }
        other => panic!("expected tamper error, got {other:?}"),
    }
}

#[test]
fn inserted_hash_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    drop(build(dir.path(), 300));
    let path = leaves_path(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let forged = leaf_hash(b"inserted");
    bytes.splice(40 * 32..40 * 32, forged.0);
    std::fs::write(&path, bytes).unwrap();
    expect_tampered(dir.path(), 300);
}

#[test]
fn torn_leaf_write_after_checkpoint_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let root = build(dir.path(), 300).root();
    let mut file = OpenOptions::new()
        .append(true)
        .open(leaves_path(dir.path()))
        .unwrap();
    file.write_all(&[1u8; 20]).unwrap();
    drop(file);
    let mut log = Log::open(dir.path(), ORIGIN, Some(signer())).unwrap();
    assert_eq!(log.size(), TreeSize(300));
    assert_eq!(log.root(), root);
    // Reported, and left in the file until the next append cuts it off.
    assert_eq!(log.torn_bytes(), 20);
    let file_len = || std::fs::metadata(leaves_path(dir.path())).unwrap().len();
    assert_eq!(file_len(), 300 * 32 + 20);
    log.append(&hashes(300..301)).unwrap();
    assert_eq!(file_len(), 301 * 32);
}

#[test]
fn torn_checkpoint_write_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    drop(build(dir.path(), 250));
    let mut file = OpenOptions::new()
        .append(true)
        .open(dir.path().join(CHECKPOINTS_FILE))
        .unwrap();
    file.write_all(b"{\"note\":\"lekdicht.exa").unwrap();
    drop(file);
    let mut log = Log::open(dir.path(), ORIGIN, Some(signer())).unwrap();
    assert_eq!(log.checkpoints().len(), 3);
    assert_eq!(log.torn_history_bytes(), 21);
    log.append(&hashes(250..260)).unwrap();
    assert!(log.checkpoint().unwrap().is_some());
    drop(log);
    let log = Log::open(dir.path(), ORIGIN, Some(signer())).unwrap();
    assert_eq!(log.checkpoints().len(), 4);
    assert_eq!(log.torn_history_bytes(), 0);
}

#[test]
fn other_origin_or_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(build(dir.path(), 10));
    assert!(matches!(
        Log::open(dir.path(), "lekdicht.example/ledger/audit", None),
        Err(OpenError::OriginMismatch { .. })
    ));
    let stranger = Signer::from_seed(ORIGIN, [7u8; 32]).unwrap();
    assert!(matches!(
        Log::open(dir.path(), ORIGIN, Some(stranger)),
        Err(OpenError::BadSignature { size: TreeSize(10) })
    ));
    // Without a key the log opens, proves, and refuses to sign.
    let mut log = Log::open(dir.path(), ORIGIN, None).unwrap();
    log.append(&hashes(10..11)).unwrap();
    assert!(matches!(
        log.checkpoint(),
        Err(lekdicht_ledger::PublishError::NoSigner)
    ));
}

/// A memory store whose `sync` fails while the flag is set.
struct UnsyncedStore {
    inner: MemoryHashStore,
    fail_sync: Rc<Cell<bool>>,
}

impl HashStore for UnsyncedStore {
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read(&self, range: Range<u64>) -> io::Result<Vec<Hash>> {
        self.inner.read(range)
    }
    fn append(&mut self, hashes: &[Hash]) -> io::Result<()> {
        self.inner.append(hashes)
    }
    fn sync(&mut self) -> io::Result<()> {
        if self.fail_sync.get() {
            return Err(io::Error::other("disk full"));
        }
        Ok(())
    }
}

#[test]
fn no_checkpoint_for_leaves_that_were_not_synced() {
    let dir = tempfile::tempdir().unwrap();
    let fail_sync = Rc::new(Cell::new(false));
    let store = UnsyncedStore {
        inner: MemoryHashStore::new(),
        fail_sync: Rc::clone(&fail_sync),
    };
    let mut log = Log::open_with_store(dir.path(), store, ORIGIN, Some(signer())).unwrap();
    log.append(&hashes(0..5)).unwrap();
    assert_eq!(
        log.checkpoint().unwrap().unwrap().checkpoint().size,
        TreeSize(5)
    );

    fail_sync.set(true);
    assert!(matches!(
        log.append(&hashes(5..9)),
        Err(AppendError::Store(_))
    ));
    // The written but unsynced leaves are not part of the tree, so nothing new is signed.
    assert_eq!(log.size(), TreeSize(5));
    assert!(log.checkpoint().unwrap().is_none());
    fail_sync.set(false);
    assert!(matches!(
        log.append(&hashes(9..10)),
        Err(AppendError::Poisoned)
    ));
    assert!(log.checkpoint().unwrap().is_none());
    let history = std::fs::read_to_string(dir.path().join(CHECKPOINTS_FILE)).unwrap();
    assert_eq!(history.lines().count(), 1);
}

#[test]
fn verification_of_an_intact_log_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let log = build(dir.path(), 1234);
    let report = verify_leaves(&log, records(1234), &signer().verifier()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.leaves_checked, 1234);
    assert_eq!(report.checkpoints_checked, 13);
}

#[test]
fn verification_reports_count_and_order_problems() {
    let dir = tempfile::tempdir().unwrap();
    let log = build(dir.path(), 200);
    let verifier = signer().verifier();

    let missing = verify_leaves(&log, records(190), &verifier).unwrap();
    assert_eq!(
        missing.findings,
        vec![Finding::ExtraStoredLeaves {
            stored: TreeSize(200),
            supplied: TreeSize(190)
        }]
    );
    let extra = verify_leaves(&log, records(203), &verifier).unwrap();
    assert_eq!(
        extra.findings,
        vec![Finding::MissingStoredLeaves {
            stored: TreeSize(200),
            supplied: TreeSize(203)
        }]
    );
    let skipped = records(200).filter(|(i, _)| *i != 57);
    let report = verify_leaves(&log, skipped, &verifier).unwrap();
    assert_eq!(
        report.findings,
        vec![Finding::LeafOutOfOrder {
            expected: LeafIdx(57),
            found: LeafIdx(58)
        }]
    );
    let altered = records(200).map(|(i, d)| if i == 150 { (i, b"x".to_vec()) } else { (i, d) });
    let report = verify_leaves(&log, altered, &verifier).unwrap();
    assert_eq!(
        report.findings,
        vec![Finding::LeafMismatch {
            first: LeafIdx(150),
            count: 1
        }]
    );
    let stranger = Signer::from_seed(ORIGIN, [9u8; 32]).unwrap().verifier();
    let report = verify_leaves(&log, records(200), &stranger).unwrap();
    assert_eq!(
        report.findings,
        vec![
            Finding::CheckpointSignature {
                size: TreeSize(100)
            },
            Finding::CheckpointSignature {
                size: TreeSize(200)
            },
        ]
    );
}

#[test]
fn verification_reports_a_rewritten_history() {
    // The leaves under an early checkpoint are rewritten and the log regrown; the latest
    // checkpoint is re-signed, but the early one and the consistency between them expose it.
    let dir = tempfile::tempdir().unwrap();
    drop(build(dir.path(), 100));
    let history = std::fs::read_to_string(dir.path().join(CHECKPOINTS_FILE)).unwrap();

    let forged_dir = tempfile::tempdir().unwrap();
    let mut forged = Log::open(forged_dir.path(), ORIGIN, Some(signer())).unwrap();
    let mut leaves = hashes(0..150);
    leaves[10] = leaf_hash(b"rewritten");
    forged.append(&leaves).unwrap();
    forged.checkpoint().unwrap();
    drop(forged);
    let forged_history = std::fs::read_to_string(forged_dir.path().join(CHECKPOINTS_FILE)).unwrap();
    std::fs::write(
        forged_dir.path().join(CHECKPOINTS_FILE),
        format!("{history}{forged_history}"),
    )
    .unwrap();
    // Open refuses nothing here (the latest checkpoint matches), but verification finds it.
    let log = Log::open(forged_dir.path(), ORIGIN, Some(signer())).unwrap();
    let mut genuine = records(150).collect::<Vec<_>>();
    genuine.truncate(150);
    let report = verify_leaves(&log, genuine.into_iter(), &signer().verifier()).unwrap();
    assert_eq!(
        report.findings,
        vec![
            Finding::LeafMismatch {
                first: LeafIdx(10),
                count: 1
            },
            Finding::CheckpointRoot {
                size: TreeSize(100),
                recomputed: log.root_at(TreeSize(100)).unwrap()
            },
            Finding::CheckpointsInconsistent {
                older: TreeSize(100),
                newer: TreeSize(150)
            },
        ]
    );
}
