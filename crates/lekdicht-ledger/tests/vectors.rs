//! Known-answer tests: the RFC 6962 reference tree of eight leaves (roots for every size,
//! inclusion and consistency paths as published with transparency-dev/merkle and Go's tlog), and
//! the canonical JSON examples of RFC 8785. Also checks that every proof fails when a byte, an
//! index or a size is altered.
//!
//! These tests only use the public API of the crate; they do not touch the file system.

use lekdicht_ledger::merkle::{SliceSource, consistency_proof, inclusion_proof, root_at};
use lekdicht_ledger::{
    Hash, LeafIdx, TreeSize, canonical_json, leaf_hash, verify_consistency, verify_inclusion,
};

const LEAVES_HEX: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots of the trees over the first 0..=8 leaves.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, path)
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        2,
        &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    ),
    (
        1,
        2,
        &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// (old size, new size, path)
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn h(s: &str) -> Hash {
    s.parse().unwrap()
}

fn reference_leaves() -> Vec<Hash> {
    LEAVES_HEX.iter().map(|x| leaf_hash(&unhex(x))).collect()
}

fn hashes(path: &[&str]) -> Vec<Hash> {
    path.iter().map(|x| h(x)).collect()
}

#[test]
fn reference_roots_for_every_size() {
    let leaves = reference_leaves();
    let src = SliceSource(&leaves);
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(
            root_at(&src, TreeSize(size as u64)).unwrap(),
            h(want),
            "size {size}"
        );
    }
}

#[test]
fn reference_inclusion_paths() {
    let leaves = reference_leaves();
    let src = SliceSource(&leaves);
    for &(idx, size, path) in INCLUSION {
        let (idx, size) = (LeafIdx(idx), TreeSize(size));
        let proof = inclusion_proof(&src, idx, size).unwrap();
        assert_eq!(proof, hashes(path), "PATH({idx}, D[{size}])");
        let root = h(ROOTS[size.0 as usize]);
        let leaf = leaves[idx.0 as usize];
        assert_eq!(verify_inclusion(&leaf, idx, size, &proof, &root), Ok(()));
    }
}

#[test]
fn reference_consistency_paths() {
    let leaves = reference_leaves();
    let src = SliceSource(&leaves);
    for &(old, new, path) in CONSISTENCY {
        let (old, new) = (TreeSize(old), TreeSize(new));
        let proof = consistency_proof(&src, old, new).unwrap();
        assert_eq!(proof, hashes(path), "PROOF({old}, D[{new}])");
        let (r1, r2) = (h(ROOTS[old.0 as usize]), h(ROOTS[new.0 as usize]));
        assert_eq!(verify_consistency(old, new, &r1, &r2, &proof), Ok(()));
    }
}

fn flip(hash: &Hash, byte: usize) -> Hash {
    let mut out = *hash;
    out.0[byte] ^= 0x01;
    out
}

// A proof alone does not always bind the tree size (RFC 9162 §2.1.3.2 paths can have the same
// shape for neighbouring sizes); the size is bound by the signed (size, root) pair. So an
// altered size is checked together with the root published for that size.
#[test]
fn altered_inclusion_proofs_fail() {
    let leaves: Vec<Hash> = (0u32..14).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let src = SliceSource(&leaves);
    let size = TreeSize(13);
    let root = root_at(&src, size).unwrap();
    let root12 = root_at(&src, TreeSize(12)).unwrap();
    let root14 = root_at(&src, TreeSize(14)).unwrap();
    for idx in 0..13u64 {
        let leaf = leaves[idx as usize];
        let proof = inclusion_proof(&src, LeafIdx(idx), size).unwrap();
        let ok = |leaf: &Hash, idx: u64, size: u64, proof: &[Hash], root: &Hash| {
            verify_inclusion(leaf, LeafIdx(idx), TreeSize(size), proof, root).is_ok()
        };
        assert!(ok(&leaf, idx, 13, &proof, &root));
        for (i, node) in proof.iter().enumerate() {
            for byte in [0, 17, 31] {
                let mut bad = proof.clone();
                bad[i] = flip(node, byte);
                assert!(!ok(&leaf, idx, 13, &bad, &root), "idx {idx} node {i}");
            }
        }
        assert!(!ok(&flip(&leaf, 3), idx, 13, &proof, &root));
        assert!(!ok(&leaf, idx, 13, &proof, &flip(&root, 30)));
        assert!(!ok(&leaf, idx ^ 1, 13, &proof, &root) || idx ^ 1 >= 13);
        assert!(!ok(&leaf, idx, 12, &proof, &root12));
        assert!(!ok(&leaf, idx, 14, &proof, &root14));
        assert!(!ok(&leaf, 13, 13, &proof, &root));
        if !proof.is_empty() {
            assert!(!ok(&leaf, idx, 13, &proof[1..], &root));
        }
        let mut longer = proof.clone();
        longer.push(root);
        assert!(!ok(&leaf, idx, 13, &longer, &root));
    }
}

#[test]
fn altered_consistency_proofs_fail() {
    let leaves: Vec<Hash> = (0u32..22).map(|i| leaf_hash(&i.to_le_bytes())).collect();
    let src = SliceSource(&leaves);
    let new = TreeSize(21);
    let new_root = root_at(&src, new).unwrap();
    let root20 = root_at(&src, TreeSize(20)).unwrap();
    let root22 = root_at(&src, TreeSize(22)).unwrap();
    for old in 1..21u64 {
        let old_size = TreeSize(old);
        let old_root = root_at(&src, old_size).unwrap();
        let proof = consistency_proof(&src, old_size, new).unwrap();
        let ok = |o: u64, n: u64, r1: &Hash, r2: &Hash, p: &[Hash]| {
            verify_consistency(TreeSize(o), TreeSize(n), r1, r2, p).is_ok()
        };
        assert!(ok(old, 21, &old_root, &new_root, &proof));
        for (i, node) in proof.iter().enumerate() {
            let mut bad = proof.clone();
            bad[i] = flip(node, 7);
            assert!(
                !ok(old, 21, &old_root, &new_root, &bad),
                "old {old} node {i}"
            );
        }
        assert!(!ok(old, 21, &flip(&old_root, 0), &new_root, &proof));
        assert!(!ok(old, 21, &old_root, &flip(&new_root, 0), &proof));
        let next_root = root_at(&src, TreeSize(old + 1)).unwrap();
        assert!(!ok(old + 1, 21, &next_root, &new_root, &proof));
        assert!(!ok(old, 22, &old_root, &root22, &proof));
        assert!(!ok(old, 20, &old_root, &root20, &proof));
        assert!(!ok(old, 21, &old_root, &new_root, &proof[1..]));
    }
    // A rewritten history (leaf 2 replaced) is not consistent with the honest old root.
    let mut forged = leaves[..21].to_vec();
    forged[2] = leaf_hash(b"forged");
    let forged_src = SliceSource(&forged);
    let honest_old = root_at(&src, TreeSize(4)).unwrap();
    let forged_new = root_at(&forged_src, new).unwrap();
    let forged_proof = consistency_proof(&forged_src, TreeSize(4), new).unwrap();
    assert!(verify_consistency(TreeSize(4), new, &honest_old, &forged_new, &forged_proof).is_err());
}

fn check_jcs(input: &str, expect: &str) {
    let value: serde_json::Value = serde_json::from_str(input).unwrap();
    let got = canonical_json(&value);
    assert_eq!(String::from_utf8(got).unwrap(), expect, "input {input}");
}

#[test]
fn rfc8785_examples() {
    // RFC 8785 §3.2.2 (whitespace, numbers, strings and literals).
    check_jcs(
        r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#,
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\
         \"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}",
    );
    // RFC 8785 §3.2.3 (property sorting by UTF-16 code units).
    check_jcs(
        r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#,
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
         \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
         \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
    );
    // RFC 8785 Appendix B number serialisation samples.
    for (input, expect) in [
        ("0", "0"),
        ("-0.0", "0"),
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("9007199254740992", "9007199254740992"),
        ("0.000001", "0.000001"),
        ("1e-7", "1e-7"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("295147905179352830000", "295147905179352830000"),
    ] {
        check_jcs(input, expect);
    }
}
