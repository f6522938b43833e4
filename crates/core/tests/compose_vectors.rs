//! Golden vectors: every case of `tests/data/vectors.jsonl` must compose byte for byte to its `expected` body.
//!
//! On failure, every mismatching case is reported with a line diff, then the count.

use std::fmt::Write as _;

use callbridge_core::{ComposeInput, LogFormat, compose};
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    format: LogFormat,
    input: ComposeInput,
    expected: String,
}

fn read_cases(file: &str) -> Vec<Case> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line).unwrap_or_else(|error| panic!("{file} line {}: {error}", index + 1))
        })
        .collect()
}

/// A readable diff: bodies are split at line ends and, for HTML, after each `</li>`, `</div>` and `<br>`.
fn readable_diff(expected: &str, actual: &str) -> String {
    let split = |text: &str| text.replace("</li>", "</li>\n").replace("</div>", "</div>\n").replace("<br>", "<br>\n");
    let (expected, actual) = (split(expected), split(actual));
    let diff = TextDiff::from_lines(&expected, &actual);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            ChangeTag::Delete => '-',
            ChangeTag::Insert => '+',
            ChangeTag::Equal => ' ',
        };
        let _ = writeln!(out, "    {sign} {:?}", change.value());
    }
    out
}

#[test]
fn every_public_vector_composes_byte_for_byte() {
    let cases = read_cases("vectors.jsonl");
    assert_eq!(cases.len(), 349, "the vector file should hold 349 cases");
    let mut report = String::new();
    let mut failed = 0;
    for case in &cases {
        let actual = compose(&case.input, case.format);
        if actual != case.expected {
            failed += 1;
            let _ = writeln!(
                report,
                "{} ({}): expected (-) vs actual (+)\n{}",
                case.name,
                case.format.as_str(),
                readable_diff(&case.expected, &actual)
            );
        }
    }
    assert!(failed == 0, "{report}{failed} of {} vectors differ", cases.len());
}

#[test]
fn reference_bug_cases_are_not_reproduced() {
    // Each of these shows a reference update bug; the properties of our fixed output are tested in the crate's
    // unit tests (`compose::tests`). Here: every case reads as an input, and none comes out as the reference's.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct BugCase {
        name: String,
        format: LogFormat,
        input: ComposeInput,
        expected: String,
        quirk: String,
    }
    let path = format!("{}/tests/data/reference-bugs.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let cases: Vec<BugCase> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(cases.len(), 51);
    let reproduced: Vec<String> = cases
        .iter()
        .filter(|case| compose(&case.input, case.format) == case.expected)
        .map(|case| format!("{} ({})", case.name, case.quirk))
        .collect();
    assert!(reproduced.is_empty(), "reference bugs reproduced: {reproduced:?}");
}
