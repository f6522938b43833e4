//! Markdown bodies (`text/markdown`): `## Agent notes` on top, `**Label**: value` lines, `### Title` sections.
//!
//! A section runs from its heading to the next line that is a heading or one of our `**Label**:` lines (or the
//! end), so a rewrite keeps the fields an earlier update appended after it; the reference swallowed them.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::fields::Part;
use super::{append_on_new_line, regex, splice};

/// The `**Label**:` lines we write; one of them, or any `### ` heading, ends the section above it.
const LABELS: &str = "Session Id|RingCentral user name|RingCentral number and extension|Summary|Contact Number|\
Date/Time|Duration|Result|Call recording link|Voicemail recording link|Call score|ACE recording link";

static NOTE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?m)^## Agent notes\n"));
static CALL_DETAILS: LazyLock<Regex> = LazyLock::new(|| regex(r"\n## Call details"));
static SECTION_END: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"(?mi)^(?:### |## (?:Agent notes|Call details)$|\*\*(?:{LABELS})\*\*:)")));

/// A field line whose rewrite also takes the empty lines after it (the reference's layout, kept on purpose).
macro_rules! field {
    ($name:ident, $flags:literal, $label:literal) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| regex(concat!("(?m", $flags, r")^\*\*", $label, r"\*\*: ([^\n]*)\n*")));
    };
}
field!(SESSION_ID, "", "Session Id");
field!(USER_NAME, "i", "RingCentral user name");
field!(NUMBER, "i", "RingCentral number and extension");
field!(SUMMARY, "", "Summary");
field!(CONTACT, "", "Contact Number");
field!(DATE_TIME, "", "Date/Time");
field!(DURATION, "", "Duration");
field!(RESULT, "", "Result");
field!(RECORDING, "", "Call recording link");
field!(VOICEMAIL, "", "Voicemail recording link");
field!(SCORE, "", "Call score");
static ACE_LINK: LazyLock<Regex> = LazyLock::new(|| regex(r"(?mi)^\*\*ACE recording link\*\*:[^\n]*"));

macro_rules! section {
    ($name:ident, $title:literal) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| regex(concat!(r"(?m)^### ", $title, r"\n")));
    };
}
section!(AI_NOTE, "AI Note");
section!(TRANSCRIPT, "Transcript");
section!(ACE_TRANSCRIPT, "ACE transcript");
section!(ACE_SUMMARY, "ACE summary");
section!(ACE_BULLETED, "ACE bulleted summary");
section!(JOURNEY, "Call journey");

/// Writes `part` into the Markdown `body`.
pub(crate) fn apply(body: &mut String, part: &Part<'_>) {
    match part {
        Part::Note(note) => match note_extent(body) {
            Some(extent) => splice(body, extent, &format!("## Agent notes\n{note}\n\n## Call details")),
            None if body.starts_with("## Call details") => body.insert_str(0, &format!("## Agent notes\n{note}\n\n")),
            None => body.insert_str(0, &format!("## Agent notes\n{note}\n\n## Call details\n")),
        },
        Part::SessionId(id) => field(body, &SESSION_ID, "Session Id", id),
        Part::UserName(name) => match USER_NAME.captures(body) {
            // First writer wins: a name is only written over the placeholder.
            Some(found) if found[1].trim() == "(pending...)" => {
                let extent = found.get(0).map_or(0..0, |it| it.range());
                splice(body, extent, &format!("**RingCentral user name**: {name}\n"));
            }
            Some(_) => {}
            None => append_on_new_line(body, &format!("**RingCentral user name**: {name}\n")),
        },
        Part::Number { number, extension } => {
            field(body, &NUMBER, "RingCentral number and extension", &format!("{number} {extension}"));
        }
        Part::Subject(subject) => field(body, &SUMMARY, "Summary", subject),
        Part::ContactNumber { number, .. } => field(body, &CONTACT, "Contact Number", number),
        Part::DateTime(formatted) => field(body, &DATE_TIME, "Date/Time", formatted),
        Part::Duration(formatted) => field(body, &DURATION, "Duration", formatted),
        Part::Result(result) => field(body, &RESULT, "Result", result),
        Part::Recording(link) => field(body, &RECORDING, "Call recording link", link),
        Part::Voicemail(link) => field(body, &VOICEMAIL, "Voicemail recording link", link),
        Part::AiNote(note) => section(body, &AI_NOTE, "AI Note", note.trim_end_matches('\n')),
        Part::Transcript(transcript) => section(body, &TRANSCRIPT, "Transcript", transcript),
        Part::AceTranscript(transcript) => {
            section(body, &ACE_TRANSCRIPT, "ACE transcript", transcript.trim_end_matches('\n'));
        }
        Part::AceSummary(summary) => section(body, &ACE_SUMMARY, "ACE summary", summary),
        Part::Score(score) => field(body, &SCORE, "Call score", score),
        Part::AceBulletedSummary(summary) => section(body, &ACE_BULLETED, "ACE bulleted summary", summary),
        Part::AceLink(link) => {
            let text = format!("**ACE recording link**: {link}");
            match ACE_LINK.find(body) {
                Some(found) => splice(body, found.range(), &text),
                None => append_on_new_line(body, &format!("{text}\n")),
            }
        }
        Part::Journey(lines) => section(body, &JOURNEY, "Call journey", &lines.join("\n")),
    }
}

/// The note: from `## Agent notes` through the first `## Call details` after it.
fn note_extent(body: &str) -> Option<Range<usize>> {
    let start = NOTE.find(body)?;
    let end = CALL_DETAILS.find_at(body, start.end())?;
    Some(start.start()..end.end())
}

/// Replaces the `**label**:` line and the empty lines after it, or appends the line.
fn field(body: &mut String, pattern: &Regex, label: &str, value: &str) {
    let text = format!("**{label}**: {value}\n");
    match pattern.find(body) {
        Some(found) => splice(body, found.range(), &text),
        None => append_on_new_line(body, &text),
    }
}

/// The section under a heading: to the next heading or field line, or to the end of the body.
pub(crate) fn section_extent(body: &str, heading: &Regex) -> Option<Range<usize>> {
    let start = heading.find(body)?;
    let end = SECTION_END.find_at(body, start.end()).map_or(body.len(), |it| it.start());
    Some(start.start()..end)
}

/// Replaces the section (heading and content) or appends it.
fn section(body: &mut String, heading: &Regex, title: &str, content: &str) {
    let text = format!("### {title}\n{content}\n");
    match section_extent(body, heading) {
        Some(extent) => splice(body, extent, &text),
        None => append_on_new_line(body, &text),
    }
}
