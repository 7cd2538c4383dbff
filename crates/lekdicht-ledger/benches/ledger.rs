//! Benchmarks of the ledger at the scale of a large deployment: appending 1M leaf hashes in
//! batches of 10,000 with an fsync per batch, publishing a checkpoint, reopening a 1M-leaf log,
//! proving inclusion, and a full `verify_leaves` over 1M records.
//!
//! Measures only this crate; ingest and store costs are measured in their own crates.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use lekdicht_ledger::{Hash, LeafIdx, Log, Signer, TreeSize, leaf_hash, verify_leaves};

const ORIGIN: &str = "lekdicht.example/ledger/events";
const N: u64 = 1_000_000;
const BATCH: usize = 10_000;

fn signer() -> Signer {
    Signer::from_seed(ORIGIN, [5u8; 32]).unwrap()
}

fn record(i: u64) -> Vec<u8> {
    format!(
        "{{\"employee_id\":\"E{:05}\",\"event_id\":\"ev-{i:08}\",\"purpose\":\"case\",\"subject\":\"S{:07}\",\"ts\":\"2026-01-01T00:00:00Z\"}}",
        i % 5000,
        i % 999_983
    )
    .into_bytes()
}

fn leaf_hashes() -> Vec<Hash> {
    (0..N).map(|i| leaf_hash(&record(i))).collect()
}

fn bench_append(c: &mut Criterion) {
    let hashes = leaf_hashes();
    let mut group = c.benchmark_group("append");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N));
    group.bench_function("1M leaves, batches of 10k, fsync each", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let mut log = Log::open(dir.path(), ORIGIN, Some(signer())).unwrap();
                for chunk in hashes.chunks(BATCH) {
                    log.append(chunk).unwrap();
                }
                black_box(log.root());
                dir
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn bench_log_ops(c: &mut Criterion) {
    let hashes = leaf_hashes();
    let dir = tempfile::tempdir().unwrap();
    {
        let mut log = Log::open(dir.path(), ORIGIN, Some(signer())).unwrap();
        for chunk in hashes.chunks(BATCH) {
            log.append(chunk).unwrap();
        }
        log.checkpoint().unwrap();
    }
    let mut group = c.benchmark_group("log_1M");
    group.sample_size(10);
    group.bench_function("open (load + recheck last checkpoint)", |b| {
        b.iter(|| {
            black_box(
                Log::open(dir.path(), ORIGIN, Some(signer()))
                    .unwrap()
                    .root(),
            )
        });
    });

    let mut log = Log::open(dir.path(), ORIGIN, Some(signer())).unwrap();
    let mut next = N;
    group.bench_function("append 1 leaf + checkpoint (2 fsyncs)", |b| {
        b.iter(|| {
            log.append(&[leaf_hash(&record(next))]).unwrap();
            next += 1;
            black_box(log.checkpoint().unwrap())
        });
    });
    group.bench_function("root of an old size", |b| {
        b.iter(|| black_box(log.root_at(TreeSize(N - 12_345)).unwrap()));
    });
    group.bench_function("inclusion proof", |b| {
        b.iter(|| black_box(log.inclusion_proof(LeafIdx(654_321), TreeSize(N)).unwrap()));
    });
    group.bench_function("consistency proof", |b| {
        b.iter(|| {
            black_box(
                log.consistency_proof(TreeSize(333_333), TreeSize(N))
                    .unwrap(),
            )
        });
    });
    group.finish();
}

fn bench_verify(c: &mut Criterion) {
    let hashes = leaf_hashes();
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), ORIGIN, Some(signer())).unwrap();
    for chunk in hashes.chunks(BATCH) {
        log.append(chunk).unwrap();
        log.checkpoint().unwrap();
    }
    let records: Vec<Vec<u8>> = (0..N).map(record).collect();
    let verifier = signer().verifier();
    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N));
    group.bench_function("verify_leaves 1M records, 100 checkpoints", |b| {
        b.iter_batched(
            || records.clone(),
            |records| {
                let report = verify_leaves(
                    &log,
                    records.into_iter().enumerate().map(|(i, d)| (i as u64, d)),
                    &verifier,
                )
                .unwrap();
                assert!(report.is_clean());
                report
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench_append, bench_log_ops, bench_verify);
criterion_main!(benches);
