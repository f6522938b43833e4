//! What goes into a body: the parts of a call log, in the reference's order, each gated by its user setting.
//!
//! This file decides *whether* and *with what value* a part is written; the format modules decide how.

use serde_json::Value;

use crate::schema::{StartTime, UserSettings};

use super::ComposeInput;
use super::datetime::{DEFAULT_DATE_FORMAT, format_start_time, parse_start_time, resolve_offset};
use super::duration::format_duration;
use super::journey::journey_lines;
use super::number::js_number_to_string;

/// One part of a call log with its value, ready to be written in any format.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Part<'a> {
    /// The agent's note; the only part that goes on top.
    Note(&'a str),
    SessionId(&'a str),
    /// The RingCentral user's name; once written it is only replaced over a `(pending...)` placeholder.
    UserName(&'a str),
    /// The RingCentral number and the extension, written `<number> <extension>`.
    Number {
        number: &'a str,
        extension: &'a str,
    },
    Subject(&'a str),
    /// The contact's number; HTML labels it by direction (`Recipient` when outbound, else `Caller`).
    ContactNumber {
        number: &'a str,
        outbound: bool,
    },
    DateTime(String),
    Duration(String),
    Result(&'a str),
    Recording(&'a str),
    Voicemail(&'a str),
    AiNote(&'a str),
    Transcript(&'a str),
    AceTranscript(&'a str),
    AceSummary(&'a str),
    Score(String),
    AceBulletedSummary(&'a str),
    AceLink(&'a str),
    Journey(Vec<String>),
}

/// A setting's switch, read as the reference does: `value` when set (by JavaScript truthiness), else `default`.
fn enabled(settings: &UserSettings, key: &str, default: bool) -> bool {
    settings.flag(key, default)
}

/// A text that JavaScript would find truthy: present and not empty.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|it| !it.is_empty())
}

/// The parts of `input` to write, in the order the reference applies them.
pub(crate) fn parts(input: &ComposeInput) -> Vec<Part<'_>> {
    let settings = &input.user.user_settings;
    let call = input.call_log.as_ref();
    let mut parts = Vec::with_capacity(19);

    if let Some(note) = text(&input.note).filter(|_| enabled(settings, "addCallLogNote", true)) {
        parts.push(Part::Note(note));
    }
    if let Some(id) = call.and_then(|it| text(&it.session_id)).filter(|_| enabled(settings, "addCallSessionId", false))
    {
        parts.push(Part::SessionId(id));
    }
    // The reference reads the RingCentral side from `to` only when the direction is exactly `Inbound`.
    let inbound = call.is_some_and(|it| it.direction.as_deref() == Some("Inbound"));
    if let Some(call) = call.filter(|_| enabled(settings, "addRingCentralUserName", false)) {
        let party = if inbound { &call.to } else { &call.from };
        if let Some(name) = party.as_ref().and_then(|it| text(&it.name)) {
            parts.push(Part::UserName(name));
        }
    }
    if let Some(call) = call.filter(|_| enabled(settings, "addRingCentralNumber", false)) {
        let (own, other) = if inbound { (&call.to, &call.from) } else { (&call.from, &call.to) };
        if let Some(number) = own.as_ref().and_then(|it| text(&it.phone_number)) {
            // Compatibility: the extension comes from the other party, as the reference writes it.
            let extension = other.as_ref().and_then(|it| it.extension_number.as_deref()).unwrap_or("");
            parts.push(Part::Number { number, extension });
        }
    }
    if let Some(subject) = text(&input.subject).filter(|_| enabled(settings, "addCallLogSubject", true)) {
        parts.push(Part::Subject(subject));
    }
    let contact_number = input.contact_info.as_ref().and_then(|it| text(&it.phone_number));
    if let Some(number) = contact_number.filter(|_| enabled(settings, "addCallLogContactNumber", false)) {
        let outbound = call.is_some_and(|it| it.direction.as_deref() == Some("Outbound"));
        parts.push(Part::ContactNumber { number, outbound });
    }
    if enabled(settings, "addCallLogDateTime", true)
        && let Some(formatted) = date_time(input)
    {
        parts.push(Part::DateTime(formatted));
    }
    if let Some(duration) = input.duration.as_ref().filter(|_| enabled(settings, "addCallLogDuration", true)) {
        parts.push(Part::Duration(format_duration(duration)));
    }
    if let Some(result) = text(&input.result).filter(|_| enabled(settings, "addCallLogResult", true)) {
        parts.push(Part::Result(result));
    }
    let recordings = enabled(settings, "addCallLogRecording", true);
    if let Some(link) = text(&input.recording_link).filter(|_| recordings) {
        parts.push(Part::Recording(link));
    }
    if let Some(link) = text(&input.voicemail_link).filter(|_| recordings) {
        parts.push(Part::Voicemail(link));
    }
    if let Some(note) = text(&input.ai_note).filter(|_| enabled(settings, "addCallLogAiNote", true)) {
        parts.push(Part::AiNote(note));
    }
    if let Some(transcript) = text(&input.transcript).filter(|_| enabled(settings, "addCallLogTranscript", true)) {
        parts.push(Part::Transcript(transcript));
    }
    let ace_transcript = text(&input.ring_sense_transcript);
    if let Some(it) = ace_transcript.filter(|_| enabled(settings, "addCallLogRingSenseRecordingTranscript", true)) {
        parts.push(Part::AceTranscript(it));
    }
    let ace_summary = text(&input.ring_sense_summary);
    if let Some(it) = ace_summary.filter(|_| enabled(settings, "addCallLogRingSenseRecordingSummary", true)) {
        parts.push(Part::AceSummary(it));
    }
    let score = input.ring_sense_ai_score.as_ref().and_then(score_text);
    if let Some(it) = score.filter(|_| enabled(settings, "addCallLogRingSenseRecordingAIScore", true)) {
        parts.push(Part::Score(it));
    }
    let bulleted = text(&input.ring_sense_bulleted_summary);
    if let Some(it) = bulleted.filter(|_| enabled(settings, "addCallLogRingSenseRecordingBulletedSummary", true)) {
        parts.push(Part::AceBulletedSummary(it));
    }
    if let Some(link) =
        text(&input.ring_sense_link).filter(|_| enabled(settings, "addCallLogRingSenseRecordingLink", true))
    {
        parts.push(Part::AceLink(link));
    }
    let legs = call.and_then(|it| it.legs.as_deref()).filter(|it| !it.is_empty());
    if let Some(legs) = legs.filter(|_| enabled(settings, "addCallLogLegs", true)) {
        parts.push(Part::Journey(journey_lines(legs)));
    }
    parts
}

/// The start time (`startTime`, else the call's) in the user's offset and date format.
///
/// `None` when there is no start time or it cannot be read (the reference would write `Invalid date`).
fn date_time(input: &ComposeInput) -> Option<String> {
    let start =
        input.start_time.as_ref().filter(|it| is_truthy_start(it)).or_else(|| {
            input.call_log.as_ref().and_then(|it| it.start_time.as_ref()).filter(|it| is_truthy_start(it))
        })?;
    let instant = parse_start_time(start)?;
    let settings = &input.user.user_settings;
    let pattern = settings.text("logDateFormat").filter(|it| !it.is_empty()).unwrap_or(DEFAULT_DATE_FORMAT);
    format_start_time(instant, resolve_offset(input.user.timezone_offset.as_ref()), pattern)
}

fn is_truthy_start(start: &StartTime) -> bool {
    match start {
        StartTime::EpochMillis(ms) => *ms != 0,
        StartTime::Text(text) => !text.is_empty(),
    }
}

/// The call score as JavaScript prints it (`87`, `8.5`, `"92"` as `92`); `None` when falsy (`0`, `""`, `false`).
pub(crate) fn score_text(score: &Value) -> Option<String> {
    match score {
        Value::Null | Value::Bool(false) => None,
        Value::Bool(true) => Some("true".to_owned()),
        Value::Number(number) => number.as_f64().filter(|it| *it != 0.0 && !it.is_nan()).map(js_number_to_string),
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => Some(text.clone()),
        // Arrays and objects are truthy in JavaScript; their JSON is the most useful thing to show.
        other => Some(other.to_string()),
    }
}
