//! Criterion benchmark: composes every public golden vector (349 bodies) per iteration.
//!
//! Compositions per second = 349 / the reported time per iteration; criterion also prints it as elements/s.

use std::hint::black_box;

use callbridge_core::{ComposeInput, LogFormat, compose};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    format: LogFormat,
    input: ComposeInput,
}

fn vectors() -> Vec<Case> {
    let path = format!("{}/tests/data/vectors.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn compose_all_vectors(c: &mut Criterion) {
    let cases = vectors();
    let mut group = c.benchmark_group("compose");
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.bench_function("all_public_vectors", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(compose(black_box(&case.input), case.format));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, compose_all_vectors);
criterion_main!(benches);
