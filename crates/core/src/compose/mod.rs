//! The call-log composer: builds and updates the log body written into a CRM, in plain text, HTML or Markdown.
//!
//! Pure and deterministic: the caller passes the user's offset and settings; nothing reads the clock or the
//! environment. Output matches App Connect's composer byte for byte (see `tests/data/vectors.jsonl`), except where
//! the reference loses or duplicates text on update, or writes user text into HTML unescaped.
//!
//! Files: `fields.rs` decides which parts are written and with what value (settings, order); `plain.rs`, `html.rs`
//! and `markdown.rs` find each part's old extent in a body and rewrite or add it; `datetime.rs` resolves offsets
//! and formats moment.js tokens; `duration.rs` words durations; `journey.rs` writes the call journey; `number.rs`
//! reads and prints numbers as JavaScript does; `tests.rs` holds the unit and property tests.

mod datetime;
mod duration;
mod fields;
mod html;
mod journey;
mod lines;
mod markdown;
pub mod message;
pub mod message_media;
mod number;
mod plain;
#[cfg(test)]
mod scan_tests;
pub mod shared_sms;
#[cfg(test)]
mod tests;

use std::ops::Range;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

pub use datetime::user_offset;
pub use html::{escape as escape_html, unescape as unescape_html};

use crate::schema::{CallDuration, CallRecord, StartTime, TimezoneOffset, UserSettings};

/// The format of a log body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogFormat {
    /// `text/plain`: `- Label: value` lines and `--- END` blocks.
    #[serde(rename = "text/plain")]
    PlainText,
    /// `text/html`: `<li>` items and `<div>` blocks, user text escaped.
    #[serde(rename = "text/html")]
    Html,
    /// `text/markdown`: `**Label**: value` lines and `###` sections.
    #[serde(rename = "text/markdown")]
    Markdown,
}

impl LogFormat {
    /// The MIME name: `text/plain`, `text/html` or `text/markdown`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::PlainText => "text/plain",
            LogFormat::Html => "text/html",
            LogFormat::Markdown => "text/markdown",
        }
    }

    /// The format named by a MIME name, or `None` for any other name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "text/plain" => Some(LogFormat::PlainText),
            "text/html" => Some(LogFormat::Html),
            "text/markdown" => Some(LogFormat::Markdown),
            _ => None,
        }
    }
}

/// The user data the composer reads: the UTC offset and the settings that switch parts on and off.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComposeUser {
    /// `"+05:30"`, hours (`-7`, `"5.5"`) or minutes (`330`, `"-480"`); missing, empty or `0` is UTC.
    #[serde(default)]
    pub timezone_offset: Option<TimezoneOffset>,
    /// The user's settings; missing, `null` or `{}` means every default.
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_settings: UserSettings,
}

/// The contact the log is written against; only its phone number is shown.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComposeContact {
    /// Shown as `Contact Number` (HTML: `Caller`/`Recipient phone number`) when `addCallLogContactNumber` is on.
    #[serde(default)]
    pub phone_number: Option<String>,
}

/// Everything the composer reads; the JSON shape is that of a golden vector's `input`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComposeInput {
    /// The body stored in the CRM; empty for a new log. Its parts are rewritten in place.
    #[serde(default)]
    pub existing_body: String,
    /// The RingCentral call: session id, direction, parties, start time and legs (the journey) are read.
    #[serde(default)]
    pub call_log: Option<CallRecord>,
    /// The matched contact; only its phone number is written.
    #[serde(default)]
    pub contact_info: Option<ComposeContact>,
    /// The user's offset and settings.
    #[serde(default)]
    pub user: ComposeUser,
    /// The agent's note; the only part written on top of the body.
    #[serde(default)]
    pub note: Option<String>,
    /// AI-generated note; trailing line ends are dropped.
    #[serde(default)]
    pub ai_note: Option<String>,
    /// The call transcript, written as given.
    #[serde(default)]
    pub transcript: Option<String>,
    /// Recording URL or a placeholder (`(pending...)`, `pending`, ...).
    #[serde(default)]
    pub recording_link: Option<String>,
    /// Voicemail URL or a placeholder.
    #[serde(default)]
    pub voicemail_link: Option<String>,
    /// The log subject, written under the label `Summary`.
    #[serde(default)]
    pub subject: Option<String>,
    /// When the call started; `callLog.startTime` is used when missing.
    #[serde(default)]
    pub start_time: Option<StartTime>,
    /// Seconds (or `pending`); `null` counts as 0 seconds, as in the reference, while a missing key writes nothing.
    #[serde(default, deserialize_with = "null_as_zero_seconds")]
    pub duration: Option<CallDuration>,
    /// The call result (`Accepted`, `Missed`, ...).
    #[serde(default)]
    pub result: Option<String>,
    /// RingSense (ACE) transcript.
    #[serde(default)]
    pub ring_sense_transcript: Option<String>,
    /// ACE summary.
    #[serde(default)]
    pub ring_sense_summary: Option<String>,
    /// ACE call score, any JSON value: numbers print as JavaScript prints them, strings as they are.
    #[serde(default, rename = "ringSenseAIScore")]
    pub ring_sense_ai_score: Option<Value>,
    /// ACE bulleted summary.
    #[serde(default)]
    pub ring_sense_bulleted_summary: Option<String>,
    /// ACE recording URL.
    #[serde(default)]
    pub ring_sense_link: Option<String>,
}

fn null_as_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_as_zero_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<CallDuration>, D::Error> {
    Ok(Some(Option::<CallDuration>::deserialize(deserializer)?.unwrap_or(CallDuration::Seconds(0.into()))))
}

/// Composes the log body for `input` in `format`.
///
/// Starts from `input.existing_body` and writes each part the user's settings switch on, in the reference's order:
/// a part already in the body is rewritten where it is (exactly its old extent), a new one is appended (the note is
/// put on top). Pure: the same input always gives the same body, and composing the result again with the same input
/// gives it back unchanged.
pub fn compose(input: &ComposeInput, format: LogFormat) -> String {
    let parts = fields::parts(input);
    // Room for what the parts add, so that the body is not copied again as it grows.
    let mut body = Body::new(&input.existing_body, 512);
    for part in parts {
        match format {
            LogFormat::PlainText => plain::apply(&mut body, &part),
            LogFormat::Html => html::apply(&mut body, &part),
            LogFormat::Markdown => markdown::apply(&mut body, &part),
        }
    }
    body.text
}

/// The agent's note read back out of a body composed in `format`, with the format's escaping undone; `None` when
/// the body has no note. What `get_call_log` returns as the note, so the extension shows the user's own words.
pub fn agent_note(body: &str, format: LogFormat) -> Option<String> {
    match format {
        LogFormat::PlainText => {
            let extent = plain::note_extent(body)?;
            let note = &body[extent];
            Some(note.split_once(": ").map_or("", |(_, note)| note).to_owned())
        }
        LogFormat::Html => {
            let (_, after) = body.split_once("<b>Agent notes</b>")?;
            let note = after.split("<b>Call details</b>").next().unwrap_or_default();
            Some(html::unescape(&note.replace("<br>", "")))
        }
        LogFormat::Markdown => {
            let (_, after) = body.split_once("## Agent notes\n")?;
            Some(after.split("\n\n## Call details").next().unwrap_or_default().to_owned())
        }
    }
}

/// Compiles one of the composer's own constant patterns (never user input). Every pattern is compiled by the
/// tests, so a failure here is a programming error caught before release.
fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|error| panic!("composer pattern {pattern:?} does not compile: {error}"))
}

/// The body being composed. Each part's text is written straight into it: at the end when the part is new, or in
/// place of the part's old extent, with the text after that extent set aside meanwhile (see [`Body::rewrite`]).
/// No part's text is built in a string of its own first.
pub(crate) struct Body {
    pub text: String,
    /// The text after the extent being rewritten; one buffer for every part of a composition.
    tail: String,
}

impl Body {
    fn new(existing: &str, room: usize) -> Self {
        let mut text = String::with_capacity(existing.len() + room);
        text.push_str(existing);
        Body { text, tail: String::new() }
    }

    /// Replaces `extent` of the body by what `write` pushes, literally (no `$` expansion as in JavaScript's
    /// `String.replace`). An empty extent inserts there.
    ///
    /// The text after the extent is moved aside and back: two copies of the tail, and none of the part's text,
    /// which `String::replace_range` would copy byte by byte.
    fn rewrite(&mut self, extent: Range<usize>, write: impl FnOnce(&mut String)) {
        self.tail.clear();
        self.tail.push_str(&self.text[extent.end..]);
        self.text.truncate(extent.start);
        write(&mut self.text);
        self.text.push_str(&self.tail);
    }

    /// Starts a new line at the end, unless the body is empty or already ends in a line end, for what is appended
    /// next.
    fn start_line(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    /// Replaces the line starting with `prefix` and the empty lines after it by `prefix`, `value` and one line end,
    /// or appends that on a line of its own (the plain-text and Markdown field lines).
    fn replace_line(&mut self, prefix: lines::LinePrefix, value: &[&str]) {
        let write = |out: &mut String| {
            out.push_str(prefix.text);
            push_all(out, value);
            out.push('\n');
        };
        match prefix.find_with_blank_run(&self.text) {
            Some((extent, _)) => self.rewrite(extent, write),
            None => {
                self.start_line();
                write(&mut self.text);
            }
        }
    }
}

/// Pushes each of `pieces` in turn.
fn push_all(out: &mut String, pieces: &[&str]) {
    for piece in pieces {
        out.push_str(piece);
    }
}
