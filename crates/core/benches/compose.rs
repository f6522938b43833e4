//! Criterion benchmark: composes every public golden vector.

fn main() {}
