//! `callbridge compose` through the real binary: a golden vector byte for byte on stdout, and bad input (invalid
//! JSON, a wrong type, an unknown format) rejected with exit code 2 and exactly one line on stderr.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn callbridge_compose(format: &str, stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_callbridge"))
        .args(["compose", "--format", format])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The binary may exit before reading stdin (an unknown format), so a broken pipe here is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

/// The first vector of the core crate's golden file in `format`.
fn vector(format: &str) -> (Value, String) {
    let path = format!("{}/../core/tests/data/vectors.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let case = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|case| case["format"] == format && !case["input"]["existingBody"].as_str().unwrap().is_empty())
        .unwrap();
    (case["input"].clone(), case["expected"].as_str().unwrap().to_owned())
}

fn assert_one_line_error(output: &Output, needle: &str) {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "stderr should be one line: {stderr:?}");
    assert!(stderr.ends_with('\n'), "{stderr:?}");
    assert!(stderr.contains(needle), "{stderr:?} should mention {needle:?}");
}

#[test]
fn composes_a_vector_byte_for_byte_with_no_trailing_newline() {
    for format in ["text/html", "text/plain", "text/markdown"] {
        let (input, expected) = vector(format);
        let output = callbridge_compose(format, input.to_string().as_bytes());
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert!(output.stderr.is_empty(), "{output:?}");
        assert_eq!(String::from_utf8(output.stdout).unwrap(), expected, "{format}");
    }
}

#[test]
fn html_output_ends_with_the_body_itself() {
    let (input, expected) = vector("text/html");
    let output = callbridge_compose("text/html", input.to_string().as_bytes());
    assert!(!expected.ends_with('\n'));
    assert_eq!(output.stdout.last(), expected.as_bytes().last());
}

#[test]
fn invalid_json_is_exit_2_with_one_line() {
    let output = callbridge_compose("text/plain", b"{\"existingBody\": ");
    assert_one_line_error(&output, "invalid compose input");
}

#[test]
fn a_wrong_type_is_exit_2_with_one_line() {
    let output = callbridge_compose("text/plain", br#"{"existingBody": 5}"#);
    assert_one_line_error(&output, "invalid type");
}

#[test]
fn an_unknown_key_is_exit_2_with_one_line() {
    let output = callbridge_compose("text/plain", br#"{"existingBody": "", "notes": "typo"}"#);
    assert_one_line_error(&output, "unknown field `notes`");
}

#[test]
fn an_unknown_format_is_exit_2_with_one_line() {
    let output = callbridge_compose("text/rtf", br#"{"existingBody": ""}"#);
    assert_one_line_error(&output, "text/rtf");
}
