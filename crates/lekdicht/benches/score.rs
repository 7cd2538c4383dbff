//! Scoring throughput on a generated demo world: events per second through `Engine::process`,
//! including alert formation at the end. The world (context and events) is built once, outside the
//! measurement.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lekdicht_demo::{DemoConfig, generate};
use lekdicht_detect::{Config, Context, Engine};

fn score(c: &mut Criterion) {
    let demo = DemoConfig {
        employees: 1000,
        persons: 50_000,
        vehicles: 15_000,
        days: 7,
        ..DemoConfig::default()
    };
    let world = generate(&demo);
    let ctx = Context::new(world.context_records());
    let config = Config::default();
    let mut group = c.benchmark_group("score");
    group.throughput(Throughput::Elements(world.events.len() as u64));
    group.sample_size(10);
    group.bench_function(format!("demo_{}_events", world.events.len()), |b| {
        b.iter(|| {
            let mut engine = Engine::new(&ctx, &config).expect("default configuration is valid");
            let mut explained = 0usize;
            for event in &world.events {
                explained += usize::from(engine.process(event).is_explained());
            }
            black_box((explained, engine.finish()))
        });
    });
    group.finish();
}

criterion_group!(benches, score);
criterion_main!(benches);
