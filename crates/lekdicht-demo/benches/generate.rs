//! Measures `generate` and `write_world` at the default size (about a million events), the size the
//! demo and the detection benchmark use. Nothing else is measured here.

use criterion::{Criterion, criterion_group, criterion_main};
use lekdicht_demo::{DemoConfig, generate, write_world};

fn bench(c: &mut Criterion) {
    let config = DemoConfig::default();
    let mut group = c.benchmark_group("demo");
    group.sample_size(10);
    group.bench_function("generate_default", |b| b.iter(|| generate(&config)));
    let world = generate(&config);
    let dir = tempfile::tempdir().expect("temporary directory");
    group.bench_function("write_world_default", |b| {
        b.iter(|| write_world(&world, dir.path()).expect("writable temporary directory"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
