//! Cross-checks with independent implementations: inclusion and consistency proofs against
//! `ct-merkle` (RFC 6962) and the Go `tlog` port in `tlog_tiles`; signed checkpoints and key
//! strings against `signed_note` (a port of Go's `note`) and `tlog_tiles`' checkpoint parser;
//! exported tiles against `tlog_tiles`' authenticated tile reader.
//!
//! These crates are dev-dependencies only; the ledger itself never calls them.

use std::path::{Path, PathBuf};

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof};
use lekdicht_ledger::{Hash, LeafIdx, Log, Signer, TreeSize, leaf_hash};
use sha2_for_ct_merkle::Sha256 as Sha256Next;

const ORIGIN: &str = "lekdicht.example/ledger/audit";

fn data(i: u64) -> Vec<u8> {
    format!("{{\"action\":\"reveal\",\"n\":{i}}}").into_bytes()
}

fn log_with(dir: &Path, n: u64) -> Log {
    let signer = Signer::from_seed(ORIGIN, [3u8; 32]).unwrap();
    let mut log = Log::open(dir, ORIGIN, Some(signer)).unwrap();
    let hashes: Vec<Hash> = (0..n).map(|i| leaf_hash(&data(i))).collect();
    log.append(&hashes).unwrap();
    log.checkpoint().unwrap();
    log
}

fn concat(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

fn tlog(h: &Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(h.0)
}

#[test]
fn ct_merkle_accepts_our_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1000u64;
    let log = log_with(dir.path(), n);
    let mut reference: MemoryBackedTree<Sha256Next, Vec<u8>> = MemoryBackedTree::new();
    for i in 0..n {
        reference.push(data(i));
    }
    let root = reference.root();
    assert_eq!(root.as_bytes().as_slice(), log.root().0.as_slice());

    for idx in [0u64, 1, 300, 511, 512, 999] {
        let ours = log.inclusion_proof(LeafIdx(idx), TreeSize(n)).unwrap();
        let proof = InclusionProof::<Sha256Next>::from_bytes(concat(&ours));
        assert!(root.verify_inclusion(&data(idx), idx, &proof).is_ok());
        assert!(root.verify_inclusion(&data(idx + 1), idx, &proof).is_err());
    }

    for old in [1u64, 7, 256, 640, 999] {
        let mut old_tree: MemoryBackedTree<Sha256Next, Vec<u8>> = MemoryBackedTree::new();
        for i in 0..old {
            old_tree.push(data(i));
        }
        let ours = log.consistency_proof(TreeSize(old), TreeSize(n)).unwrap();
        let proof = ConsistencyProof::<Sha256Next>::try_from_bytes(concat(&ours)).unwrap();
        assert!(
            root.verify_consistency(&old_tree.root(), &proof).is_ok(),
            "old {old}"
        );
        let mut bad = concat(&ours);
        bad[0] ^= 1;
        let bad = ConsistencyProof::<Sha256Next>::try_from_bytes(bad).unwrap();
        assert!(root.verify_consistency(&old_tree.root(), &bad).is_err());
    }
}

#[test]
fn go_tlog_port_accepts_our_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let n = 777u64;
    let log = log_with(dir.path(), n);
    let root = tlog(&log.root());
    for idx in [0u64, 5, 255, 256, 776] {
        let ours = log.inclusion_proof(LeafIdx(idx), TreeSize(n)).unwrap();
        let proof: Vec<tlog_tiles::Hash> = ours.iter().map(tlog).collect();
        let leaf = tlog_tiles::record_hash(&data(idx));
        assert!(tlog_tiles::check_record(&proof, n, root, idx, leaf).is_ok());
    }
    for old in [1u64, 100, 512, 700] {
        let ours = log.consistency_proof(TreeSize(old), TreeSize(n)).unwrap();
        let proof: Vec<tlog_tiles::Hash> = ours.iter().map(tlog).collect();
        let old_root = tlog(&log.root_at(TreeSize(old)).unwrap());
        assert!(tlog_tiles::check_tree(&proof, n, root, old, old_root).is_ok());
    }
}

#[test]
fn signed_checkpoint_verifies_with_signed_note_and_parses_with_tlog_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with(dir.path(), 42);
    let signed = log.latest_checkpoint().unwrap();
    let verifier_key = log.verifier().unwrap().to_string();

    let verifier = signed_note::StandardVerifier::new(&verifier_key).unwrap();
    let note = signed_note::Note::from_bytes(signed.note().as_bytes()).unwrap();
    let list = signed_note::VerifierList::new(vec![Box::new(verifier.clone())]);
    let (verified, _) = note.verify(&list).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name(), ORIGIN);

    let parsed = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
    assert_eq!(parsed.origin(), ORIGIN);
    assert_eq!(parsed.size(), 42);
    assert_eq!(parsed.hash().0, log.root().0);

    // An altered body fails with the independent verifier too.
    let forged = signed.note().replacen("\n42\n", "\n43\n", 1);
    let forged = signed_note::Note::from_bytes(forged.as_bytes()).unwrap();
    assert!(forged.verify(&list).is_err());

    // Our private key string is accepted by the independent signer and yields the same note.
    let signer = Signer::from_seed(ORIGIN, [3u8; 32]).unwrap();
    let theirs = signed_note::StandardSigner::new(&signer.to_private_key_string()).unwrap();
    let mut resigned = signed_note::Note::new(note.text(), &[]).unwrap();
    resigned.add_sigs(&[&theirs]).unwrap();
    assert_eq!(resigned.to_bytes(), signed.note().as_bytes());
}

/// Serves exported tiles to `tlog_tiles`, whose paths carry the tile height (`tile/8/...`).
struct ExportedTiles(PathBuf);

impl tlog_tiles::TileReader for ExportedTiles {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let path = t.path().replacen("tile/8/", "tile/", 1);
                std::fs::read(self.0.join(path)).map_err(|_| tlog_tiles::Error::InvalidTile)
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

#[test]
fn go_tlog_port_reads_our_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let n = 70_000u64;
    let log = log_with(dir.path(), n);
    let out = tempfile::tempdir().unwrap();
    log.export_tiles(out.path(), None).unwrap().unwrap();

    let reader = ExportedTiles(out.path().to_owned());
    let root = tlog(&log.root());
    let hashes = tlog_tiles::TileHashReader::new(n, root, &reader);
    assert_eq!(tlog_tiles::tree_hash(n, &hashes).unwrap(), root);
    for idx in [0u64, 65_535, 65_536, 69_999] {
        let proof = tlog_tiles::prove_record(n, idx, &hashes).unwrap();
        let leaf = tlog_tiles::record_hash(&data(idx));
        assert!(tlog_tiles::check_record(&proof, n, root, idx, leaf).is_ok());
    }
    let old_root = tlog(&log.root_at(TreeSize(12_345)).unwrap());
    let proof = tlog_tiles::prove_tree(n, 12_345, &hashes).unwrap();
    assert!(tlog_tiles::check_tree(&proof, n, root, 12_345, old_root).is_ok());
}
