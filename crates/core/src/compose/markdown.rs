//! Markdown bodies (`text/markdown`): `## Agent notes` on top, `**Label**: value` lines, `### Title` sections.
//!
//! A section runs from its heading to the next line that is a heading or one of our `**Label**:` lines (or the
//! end), so a rewrite keeps the fields an earlier update appended after it; the reference swallowed them.

use std::ops::Range;

use super::fields::Part;
use super::lines::{LinePrefix, line_starts, starts_with};
use super::{Body, push_all};

/// The `**Label**:` lines we write; one of them, or any `### ` heading, ends the section above it.
const LABELS: [&str; 12] = [
    "Session Id",
    "RingCentral user name",
    "RingCentral number and extension",
    "Summary",
    "Contact Number",
    "Date/Time",
    "Duration",
    "Result",
    "Call recording link",
    "Voicemail recording link",
    "Call score",
    "ACE recording link",
];

const NOTE: LinePrefix = LinePrefix::exact("## Agent notes\n");
const CALL_DETAILS: &str = "\n## Call details";

/// Field lines whose rewrite also takes the empty lines after them (the reference's layout, kept on purpose).
const SESSION_ID: LinePrefix = LinePrefix::exact("**Session Id**: ");
const USER_NAME: LinePrefix = LinePrefix::any_case("**RingCentral user name**: ");
const NUMBER: LinePrefix = LinePrefix::any_case("**RingCentral number and extension**: ");
const SUMMARY: LinePrefix = LinePrefix::exact("**Summary**: ");
const CONTACT: LinePrefix = LinePrefix::exact("**Contact Number**: ");
const DATE_TIME: LinePrefix = LinePrefix::exact("**Date/Time**: ");
const DURATION: LinePrefix = LinePrefix::exact("**Duration**: ");
const RESULT: LinePrefix = LinePrefix::exact("**Result**: ");
const RECORDING: LinePrefix = LinePrefix::exact("**Call recording link**: ");
const VOICEMAIL: LinePrefix = LinePrefix::exact("**Voicemail recording link**: ");
const SCORE: LinePrefix = LinePrefix::exact("**Call score**: ");
/// Its rewrite replaces the line only.
const ACE_LINK: LinePrefix = LinePrefix::any_case("**ACE recording link**:");

/// Section headings, each a whole line.
const AI_NOTE: LinePrefix = LinePrefix::exact("### AI Note\n");
const TRANSCRIPT: LinePrefix = LinePrefix::exact("### Transcript\n");
const ACE_TRANSCRIPT: LinePrefix = LinePrefix::exact("### ACE transcript\n");
const ACE_SUMMARY: LinePrefix = LinePrefix::exact("### ACE summary\n");
const ACE_BULLETED: LinePrefix = LinePrefix::exact("### ACE bulleted summary\n");
const JOURNEY: LinePrefix = LinePrefix::exact("### Call journey\n");

/// Writes `part` into the Markdown `body`.
pub(crate) fn apply(body: &mut Body, part: &Part<'_>) {
    match part {
        Part::Note(note) => match note_extent(&body.text) {
            Some(extent) => {
                body.rewrite(extent, |out| push_all(out, &["## Agent notes\n", note, "\n\n## Call details"]))
            }
            None if body.text.starts_with("## Call details") => {
                body.rewrite(0..0, |out| push_all(out, &["## Agent notes\n", note, "\n\n"]));
            }
            None => body.rewrite(0..0, |out| push_all(out, &["## Agent notes\n", note, "\n\n## Call details\n"])),
        },
        Part::SessionId(id) => body.replace_line(SESSION_ID, &[id]),
        Part::UserName(name) => {
            let line = [USER_NAME.text, name, "\n"];
            match USER_NAME.find_with_blank_run(&body.text) {
                // First writer wins: a name is only written over the placeholder.
                Some((extent, value)) if body.text[value.clone()].trim() == "(pending...)" => {
                    body.rewrite(extent, |out| push_all(out, &line));
                }
                Some(_) => {}
                None => {
                    body.start_line();
                    push_all(&mut body.text, &line);
                }
            }
        }
        Part::Number { number, extension } => body.replace_line(NUMBER, &[number, " ", extension]),
        Part::Subject(subject) => body.replace_line(SUMMARY, &[subject]),
        Part::ContactNumber { number, .. } => body.replace_line(CONTACT, &[number]),
        Part::DateTime(formatted) => body.replace_line(DATE_TIME, &[formatted]),
        Part::Duration(formatted) => body.replace_line(DURATION, &[formatted]),
        Part::Result(result) => body.replace_line(RESULT, &[result]),
        Part::Recording(link) => body.replace_line(RECORDING, &[link]),
        Part::Voicemail(link) => body.replace_line(VOICEMAIL, &[link]),
        Part::AiNote(note) => section(body, AI_NOTE, note.trim_end_matches('\n')),
        Part::Transcript(transcript) => section(body, TRANSCRIPT, transcript),
        Part::AceTranscript(transcript) => section(body, ACE_TRANSCRIPT, transcript.trim_end_matches('\n')),
        Part::AceSummary(summary) => section(body, ACE_SUMMARY, summary),
        Part::Score(score) => body.replace_line(SCORE, &[score]),
        Part::AceBulletedSummary(summary) => section(body, ACE_BULLETED, summary),
        Part::AceLink(link) => {
            let text = [ACE_LINK.text, " ", link];
            match ACE_LINK.find_line(&body.text) {
                Some(extent) => body.rewrite(extent, |out| push_all(out, &text)),
                None => {
                    body.start_line();
                    push_all(&mut body.text, &text);
                    body.text.push('\n');
                }
            }
        }
        Part::Journey(lines) => section(body, JOURNEY, lines),
    }
}

/// The note: from `## Agent notes` through the first `## Call details` after it.
fn note_extent(body: &str) -> Option<Range<usize>> {
    let start = NOTE.find(body)?;
    let end = body[start.end..].find(CALL_DETAILS)? + start.end + CALL_DETAILS.len();
    Some(start.start..end)
}

/// The section under a heading: to the next heading or field line, or to the end of the body.
pub(crate) fn section_extent(body: &str, heading: LinePrefix) -> Option<Range<usize>> {
    let start = heading.find(body)?;
    let end = line_starts(body, start.end).find(|at| ends_section(&body[*at..])).unwrap_or(body.len());
    Some(start.start..end)
}

/// True when `line` is a heading (`### `, or `## Agent notes` / `## Call details` alone on it) or one of our
/// `**Label**:` lines; letters in any case.
fn ends_section(line: &str) -> bool {
    let bytes = line.as_bytes();
    if bytes.starts_with(b"### ") {
        return true;
    }
    let whole_heading =
        |heading: &[u8]| starts_with(bytes, heading, true) && matches!(bytes.get(heading.len()), None | Some(b'\n'));
    if whole_heading(b"## Agent notes") || whole_heading(b"## Call details") {
        return true;
    }
    bytes.strip_prefix(b"**").is_some_and(|rest| {
        LABELS.iter().any(|label| starts_with(rest, label.as_bytes(), true) && rest[label.len()..].starts_with(b"**:"))
    })
}

/// Replaces the section (heading and content) or appends it.
fn section(body: &mut Body, heading: LinePrefix, content: &str) {
    let text = [heading.text, content, "\n"];
    match section_extent(&body.text, heading) {
        Some(extent) => body.rewrite(extent, |out| push_all(out, &text)),
        None => {
            body.start_line();
            push_all(&mut body.text, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The section end scan finds exactly what the regular expression it replaced found.
    #[test]
    fn section_end_scan_agrees_with_the_pattern_it_replaces() {
        let labels = LABELS.join("|");
        let section_end =
            super::super::regex(&format!(r"(?mi)^(?:### |## (?:Agent notes|Call details)$|\*\*(?:{labels})\*\*:)"));
        let user_name = super::super::regex(r"(?mi)^\*\*RingCentral user name\*\*: ([^\n]*)\n*");
        let mut matched = 0;
        for body in crate::compose::scan_tests::random_bodies() {
            let expected = section_end.find(&body).map(|it| it.start());
            matched += usize::from(expected.is_some());
            assert_eq!(line_starts(&body, 0).find(|at| ends_section(&body[*at..])), expected, "{body:?}");
            let expected = user_name.captures(&body).map(|it| (it.get(0).unwrap().range(), it.get(1).unwrap().range()));
            assert_eq!(USER_NAME.find_with_blank_run(&body), expected, "{body:?}");
        }
        assert!(matched > 2_000, "only {matched} matches: the bodies do not exercise the scans");
    }
}
