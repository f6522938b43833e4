//! Plain-text bodies (`text/plain`): `- Label: value` lines, blocks closed by `--- END`, the journey by
//! `--- JOURNEY END`, and the note on top.
//!
//! Every rewrite finds the part's old extent and replaces exactly that. Compared with the reference, labels are
//! matched at the start of a line, values run to the end of the line (a hyphenated result is still one value), the
//! note ends at the next line that is one of our own labels, and the ACE bulleted summary is a whole block.

use std::ops::Range;

use super::fields::Part;
use super::lines::{LinePrefix, find_whole_line, line_starts};
use super::{Body, push_all};

/// The labels we write; a line starting with one of them and `:` ends the note above it.
const LABELS: [&str; 20] = [
    "Note",
    "Agent notes",
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
    "AI Note",
    "Transcript",
    "ACE transcript",
    "ACE summary",
    "Call score",
    "ACE bulleted summary",
    "ACE recording link",
    "Call journey",
];

const NOTE: LinePrefix = LinePrefix::exact("- Note: ");
const LEGACY_NOTE: LinePrefix = LinePrefix::exact("- Agent notes: ");

/// Single-line fields whose rewrite also takes the empty lines after them (the reference's layout, kept on purpose).
const SESSION_ID: LinePrefix = LinePrefix::exact("- Session Id: ");
const USER_NAME: LinePrefix = LinePrefix::exact("- RingCentral user name: ");
const NUMBER: LinePrefix = LinePrefix::exact("- RingCentral number and extension: ");
const SUMMARY: LinePrefix = LinePrefix::exact("- Summary: ");
const RECORDING: LinePrefix = LinePrefix::exact("- Call recording link: ");
const VOICEMAIL: LinePrefix = LinePrefix::exact("- Voicemail recording link: ");

/// Single-line fields whose rewrite replaces the line only (its line end stays).
const CONTACT: LinePrefix = LinePrefix::exact("- Contact Number:");
const DATE_TIME: LinePrefix = LinePrefix::exact("- Date/Time:");
const DURATION: LinePrefix = LinePrefix::exact("- Duration:");
const RESULT: LinePrefix = LinePrefix::exact("- Result:");
const SCORE: LinePrefix = LinePrefix::any_case("- Call score:");
const ACE_LINK: LinePrefix = LinePrefix::any_case("- ACE recording link:");

/// Blocks: from the label line through the line `--- END` (the journey: `--- JOURNEY END`).
const AI_NOTE: LinePrefix = LinePrefix::exact("- AI Note:");
const TRANSCRIPT: LinePrefix = LinePrefix::exact("- Transcript:");
const ACE_TRANSCRIPT: LinePrefix = LinePrefix::exact("- ACE transcript:");
const ACE_SUMMARY: LinePrefix = LinePrefix::exact("- ACE summary:");
const ACE_BULLETED: LinePrefix = LinePrefix::any_case("- ACE bulleted summary:");
const JOURNEY: LinePrefix = LinePrefix::exact("- Call journey:");
const END: &str = "--- END";
const JOURNEY_END: &str = "--- JOURNEY END";

/// Writes `part` into the plain-text `body`.
pub(crate) fn apply(body: &mut Body, part: &Part<'_>) {
    match part {
        Part::Note(note) => match note_extent(&body.text) {
            Some(extent) => body.rewrite(extent, |out| push_all(out, &["- Note: ", note])),
            None => body.rewrite(0..0, |out| push_all(out, &["- Note: ", note, "\n"])),
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
        Part::ContactNumber { number, .. } => line(body, CONTACT, number),
        Part::DateTime(formatted) => line(body, DATE_TIME, formatted),
        Part::Duration(formatted) => line(body, DURATION, formatted),
        Part::Result(result) => line(body, RESULT, result),
        Part::Recording(link) => body.replace_line(RECORDING, &[link]),
        Part::Voicemail(link) => body.replace_line(VOICEMAIL, &[link]),
        Part::AiNote(note) => block(body, AI_NOTE, note.trim_end_matches('\n')),
        Part::Transcript(transcript) => block(body, TRANSCRIPT, transcript),
        Part::AceTranscript(transcript) => block(body, ACE_TRANSCRIPT, transcript.trim_end_matches('\n')),
        Part::AceSummary(summary) => block(body, ACE_SUMMARY, summary),
        Part::Score(score) => line(body, SCORE, score),
        Part::AceBulletedSummary(summary) => block(body, ACE_BULLETED, summary),
        Part::AceLink(link) => line(body, ACE_LINK, link),
        Part::Journey(lines) => {
            let text = [JOURNEY.text, "\n", lines, "\n", JOURNEY_END];
            match block_extent(&body.text, JOURNEY, JOURNEY_END) {
                Some(extent) => body.rewrite(extent, |out| push_all(out, &text)),
                None => {
                    body.start_line();
                    push_all(&mut body.text, &text);
                    body.text.push('\n');
                }
            }
        }
    }
}

/// The existing note: from its label to the line end before the next line carrying one of our labels, or to the
/// body's final line end.
pub(crate) fn note_extent(body: &str) -> Option<Range<usize>> {
    let (start, label) = line_starts(body, 0)
        .find_map(|at| [NOTE, LEGACY_NOTE].into_iter().find(|label| label.starts(&body[at..])).map(|it| (at, it)))?;
    let content = start + label.text.len();
    let end = memchr::memchr_iter(b'\n', &body.as_bytes()[content..])
        .map(|at| content + at)
        .find(|&at| at + 1 == body.len() || is_our_label_line(&body[at + 1..]))
        .unwrap_or(body.len());
    Some(start..end)
}

/// True when `line` starts with `- <one of our labels>:`.
fn is_our_label_line(line: &str) -> bool {
    line.strip_prefix("- ").is_some_and(|rest| {
        LABELS.iter().any(|label| rest.strip_prefix(label).is_some_and(|after| after.starts_with(':')))
    })
}

/// Replaces the field's line (not its line end) by the field with `value`, or appends it as a new line.
fn line(body: &mut Body, prefix: LinePrefix, value: &str) {
    // `prefix` ends in `:`; the value follows after a space.
    let text = [prefix.text, " ", value];
    match prefix.find_line(&body.text) {
        Some(extent) => body.rewrite(extent, |out| push_all(out, &text)),
        None => {
            body.start_line();
            push_all(&mut body.text, &text);
            body.text.push('\n');
        }
    }
}

/// From the line `start` begins through the first line `end` after it.
fn block_extent(body: &str, start: LinePrefix, end: &str) -> Option<Range<usize>> {
    let opening = start.find(body)?;
    let closing = find_whole_line(body, opening.end, end)?;
    Some(opening.start..closing.end)
}

/// Replaces the block from its label through `--- END`, or appends it after an empty line.
fn block(body: &mut Body, start: LinePrefix, content: &str) {
    let text = [start.text, "\n", content, "\n", END];
    match block_extent(&body.text, start, END) {
        Some(extent) => body.rewrite(extent, |out| push_all(out, &text)),
        None => {
            body.text.push('\n');
            push_all(&mut body.text, &text);
            body.text.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line scan finds exactly what the regular expression it replaced found.
    #[test]
    fn line_scans_agree_with_the_patterns_they_replace() {
        let regex = super::super::regex;
        let blank_runs =
            [(SESSION_ID, regex(r"(?m)^- Session Id: ([^\n]*)\n*")), (SUMMARY, regex(r"(?m)^- Summary: ([^\n]*)\n*"))];
        let lines = [(DATE_TIME, regex(r"(?m)^- Date/Time:[^\n]*")), (SCORE, regex(r"(?mi)^- Call score:[^\n]*"))];
        let note = regex(r"(?m)^- (?:Note|Agent notes): ");
        let end = regex(r"(?m)^--- END$");
        let mut matched = 0;
        for body in crate::compose::scan_tests::random_bodies() {
            for (prefix, regex) in &blank_runs {
                let expected = regex.captures(&body).map(|it| (it.get(0).unwrap().range(), it.get(1).unwrap().range()));
                matched += usize::from(expected.is_some());
                assert_eq!(prefix.find_with_blank_run(&body), expected, "{regex} in {body:?}");
            }
            for (prefix, regex) in &lines {
                assert_eq!(prefix.find_line(&body), regex.find(&body).map(|it| it.range()), "{regex} in {body:?}");
            }
            assert_eq!(note_extent(&body).map(|it| it.start), note.find(&body).map(|it| it.start()), "{body:?}");
            for from in [0, body.len() / 2].into_iter().filter(|from| body.is_char_boundary(*from)) {
                let expected = end.find_at(&body, from).map(|it| it.range());
                assert_eq!(find_whole_line(&body, from, END), expected, "{body:?} from {from}");
            }
        }
        assert!(matched > 500, "only {matched} matches: the bodies do not exercise the scans");
    }
}
