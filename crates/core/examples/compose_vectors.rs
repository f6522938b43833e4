//! Composes every public golden vector N times (default 20): a fixed amount of work for instruction counts.
//! A second argument (`text/html`, `text/plain` or `text/markdown`) keeps only the vectors of that format, to see
//! what each format costs.
//!
//! `valgrind --tool=callgrind --toggle-collect='callbridge_core::compose::compose' target/release/examples/compose_vectors`
//! gives the composer's instructions; divide by 349 × N for instructions per composition. Unlike the criterion
//! benchmark's wall time, the count does not depend on what else the machine is doing.

use std::hint::black_box;

use callbridge_core::{ComposeInput, LogFormat, compose};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    format: LogFormat,
    input: ComposeInput,
}

fn main() {
    let rounds: usize = std::env::args().nth(1).map_or(20, |it| it.parse().expect("rounds: a number"));
    let path = format!("{}/tests/data/vectors.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    let only = std::env::args()
        .nth(2)
        .map(|name| LogFormat::parse(&name).expect("format: text/html, text/plain or text/markdown"));
    let cases: Vec<Case> = text
        .lines()
        .map(|line| serde_json::from_str::<Case>(line).expect("a vector"))
        .filter(|case| only.is_none_or(|format| format == case.format))
        .collect();
    let mut bytes = 0;
    for _ in 0..rounds {
        for case in &cases {
            bytes += black_box(compose(black_box(&case.input), case.format)).len();
        }
    }
    println!("{} compositions, {bytes} bytes", rounds * cases.len());
}
