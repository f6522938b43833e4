//! Plain-text bodies (`text/plain`): `- Label: value` lines, blocks closed by `--- END`, the journey by
//! `--- JOURNEY END`, and the note on top.
//!
//! Every rewrite finds the part's old extent and replaces exactly that. Compared with the reference, labels are
//! matched at the start of a line, values run to the end of the line (a hyphenated result is still one value), the
//! note ends at the next line that is one of our own labels, and the ACE bulleted summary is a whole block.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::fields::Part;
use super::{append_on_new_line, block_extent, regex, splice};

/// The labels we write; a line starting with one of them ends the note above it.
const LABELS: &str = "Note|Agent notes|Session Id|RingCentral user name|RingCentral number and extension|Summary|\
Contact Number|Date/Time|Duration|Result|Call recording link|Voicemail recording link|AI Note|Transcript|\
ACE transcript|ACE summary|Call score|ACE bulleted summary|ACE recording link|Call journey";

static NOTE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^- (?:Note|Agent notes): "));
static OUR_LABEL_LINE: LazyLock<Regex> = LazyLock::new(|| regex(&format!("^- (?:{LABELS}):")));

/// A single-line field whose rewrite also takes the empty lines after it (the reference's layout, kept on purpose).
macro_rules! line_with_blank_run {
    ($name:ident, $label:literal) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| regex(concat!(r"(?m)^- ", $label, r": ([^\n]*)\n*")));
    };
}
line_with_blank_run!(SESSION_ID, "Session Id");
line_with_blank_run!(USER_NAME, "RingCentral user name");
line_with_blank_run!(NUMBER, "RingCentral number and extension");
line_with_blank_run!(SUMMARY, "Summary");
line_with_blank_run!(RECORDING, "Call recording link");
line_with_blank_run!(VOICEMAIL, "Voicemail recording link");

/// A single-line field whose rewrite replaces the line only (its line end stays).
macro_rules! line_only {
    ($name:ident, $flags:literal, $label:literal) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| regex(concat!("(?m", $flags, r")^- ", $label, r":[^\n]*")));
    };
}
line_only!(CONTACT, "", "Contact Number");
line_only!(DATE_TIME, "", "Date/Time");
line_only!(DURATION, "", "Duration");
line_only!(RESULT, "", "Result");
line_only!(SCORE, "i", "Call score");
line_only!(ACE_LINK, "i", "ACE recording link");

static END: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^--- END$"));
static JOURNEY_END: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^--- JOURNEY END$"));

macro_rules! block_start {
    ($name:ident, $flags:literal, $label:literal) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| regex(concat!("(?m", $flags, r")^- ", $label, ":")));
    };
}
block_start!(AI_NOTE, "", "AI Note");
block_start!(TRANSCRIPT, "", "Transcript");
block_start!(ACE_TRANSCRIPT, "", "ACE transcript");
block_start!(ACE_SUMMARY, "", "ACE summary");
block_start!(ACE_BULLETED, "i", "ACE bulleted summary");
block_start!(JOURNEY, "", "Call journey");

/// Writes `part` into the plain-text `body`.
pub(crate) fn apply(body: &mut String, part: &Part<'_>) {
    match part {
        Part::Note(note) => match note_extent(body) {
            Some(extent) => splice(body, extent, &format!("- Note: {note}")),
            None => body.insert_str(0, &format!("- Note: {note}\n")),
        },
        Part::SessionId(id) => line_and_blank_run(body, &SESSION_ID, &format!("- Session Id: {id}\n")),
        Part::UserName(name) => {
            let line = format!("- RingCentral user name: {name}\n");
            match USER_NAME.captures(body) {
                // First writer wins: a name is only written over the placeholder.
                Some(found) if found[1].trim() == "(pending...)" => {
                    let extent = found.get(0).map_or(0..0, |it| it.range());
                    splice(body, extent, &line);
                }
                Some(_) => {}
                None => append_on_new_line(body, &line),
            }
        }
        Part::Number { number, extension } => {
            line_and_blank_run(body, &NUMBER, &format!("- RingCentral number and extension: {number} {extension}\n"));
        }
        Part::Subject(subject) => line_and_blank_run(body, &SUMMARY, &format!("- Summary: {subject}\n")),
        Part::ContactNumber { number, .. } => line(body, &CONTACT, &format!("- Contact Number: {number}")),
        Part::DateTime(formatted) => line(body, &DATE_TIME, &format!("- Date/Time: {formatted}")),
        Part::Duration(formatted) => line(body, &DURATION, &format!("- Duration: {formatted}")),
        Part::Result(result) => line(body, &RESULT, &format!("- Result: {result}")),
        Part::Recording(link) => line_and_blank_run(body, &RECORDING, &format!("- Call recording link: {link}\n")),
        Part::Voicemail(link) => {
            line_and_blank_run(body, &VOICEMAIL, &format!("- Voicemail recording link: {link}\n"));
        }
        Part::AiNote(note) => block(body, &AI_NOTE, "AI Note", note.trim_end_matches('\n')),
        Part::Transcript(transcript) => block(body, &TRANSCRIPT, "Transcript", transcript),
        Part::AceTranscript(transcript) => {
            block(body, &ACE_TRANSCRIPT, "ACE transcript", transcript.trim_end_matches('\n'));
        }
        Part::AceSummary(summary) => block(body, &ACE_SUMMARY, "ACE summary", summary),
        Part::Score(score) => line(body, &SCORE, &format!("- Call score: {score}")),
        Part::AceBulletedSummary(summary) => block(body, &ACE_BULLETED, "ACE bulleted summary", summary),
        Part::AceLink(link) => line(body, &ACE_LINK, &format!("- ACE recording link: {link}")),
        Part::Journey(lines) => {
            let text = format!("- Call journey:\n{}\n--- JOURNEY END", lines.join("\n"));
            match block_extent(body, &JOURNEY, &JOURNEY_END) {
                Some(extent) => splice(body, extent, &text),
                None => append_on_new_line(body, &format!("{text}\n")),
            }
        }
    }
}

/// The existing note: from its label to the line end before the next line carrying one of our labels, or to the
/// body's final line end.
pub(crate) fn note_extent(body: &str) -> Option<Range<usize>> {
    let label = NOTE.find(body)?;
    let content = label.end();
    let end = body[content..]
        .match_indices('\n')
        .map(|(at, _)| content + at)
        .find(|&at| at + 1 == body.len() || OUR_LABEL_LINE.is_match(&body[at + 1..]))
        .unwrap_or(body.len());
    Some(label.start()..end)
}

/// Replaces the line and the empty lines after it by `text` (which ends in one line end), or appends `text`.
fn line_and_blank_run(body: &mut String, pattern: &Regex, text: &str) {
    match pattern.find(body) {
        Some(found) => splice(body, found.range(), text),
        None => append_on_new_line(body, text),
    }
}

/// Replaces the line (not its line end) by `text`, or appends `text` as a new line.
fn line(body: &mut String, pattern: &Regex, text: &str) {
    match pattern.find(body) {
        Some(found) => splice(body, found.range(), text),
        None => append_on_new_line(body, &format!("{text}\n")),
    }
}

/// Replaces the block from its label through `--- END`, or appends it after an empty line.
fn block(body: &mut String, start: &Regex, label: &str, content: &str) {
    let text = format!("- {label}:\n{content}\n--- END");
    match block_extent(body, start, &END) {
        Some(extent) => splice(body, extent, &text),
        None => {
            body.push('\n');
            body.push_str(&text);
            body.push('\n');
        }
    }
}
