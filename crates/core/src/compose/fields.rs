//! What goes into a body: the parts of a call log, in the reference's order, each gated by its user setting.
//!
//! This file decides *whether* and *with what value* a part is written; the format modules decide how.

use serde_json::Value;

use crate::schema::{StartTime, UserSettings};

use super::ComposeInput;
use super::datetime::{DEFAULT_DATE_FORMAT, format_start_time, parse_start_time, resolve_offset};
use super::duration::format_duration;
use super::journey::journey_text;
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
    /// The journey's lines, joined by `\n`.
    Journey(String),
}

/// The settings the composer reads, looked up in one walk over the user's settings rather than one hashed lookup
/// per switch (a body reads eighteen of them). Each switch is read as the reference reads it: the setting's `value`
/// by JavaScript truthiness when set, else the default.
struct Switches<'a> {
    /// Each [`Switch`]'s value, indexed by it.
    on: [bool; SWITCH_KEYS.len()],
    /// `logDateFormat` when it is a string.
    date_format: Option<&'a str>,
}

/// A switch the composer reads; its discriminant is its index in [`SWITCH_KEYS`] and [`Switches::on`].
#[derive(Clone, Copy)]
enum Switch {
    Note,
    SessionId,
    UserName,
    Number,
    Subject,
    ContactNumber,
    DateTime,
    Duration,
    Result,
    Recording,
    AiNote,
    Transcript,
    AceTranscript,
    AceSummary,
    AceScore,
    AceBulletedSummary,
    AceLink,
    Legs,
}

/// Each switch's setting key and default, in [`Switch`]'s order (checked as [`KEY_SLOTS`] is built).
const SWITCH_KEYS: [(&str, Switch, bool); 18] = [
    ("addCallLogNote", Switch::Note, true),
    ("addCallSessionId", Switch::SessionId, false),
    ("addRingCentralUserName", Switch::UserName, false),
    ("addRingCentralNumber", Switch::Number, false),
    ("addCallLogSubject", Switch::Subject, true),
    ("addCallLogContactNumber", Switch::ContactNumber, false),
    ("addCallLogDateTime", Switch::DateTime, true),
    ("addCallLogDuration", Switch::Duration, true),
    ("addCallLogResult", Switch::Result, true),
    ("addCallLogRecording", Switch::Recording, true),
    ("addCallLogAiNote", Switch::AiNote, true),
    ("addCallLogTranscript", Switch::Transcript, true),
    ("addCallLogRingSenseRecordingTranscript", Switch::AceTranscript, true),
    ("addCallLogRingSenseRecordingSummary", Switch::AceSummary, true),
    ("addCallLogRingSenseRecordingAIScore", Switch::AceScore, true),
    ("addCallLogRingSenseRecordingBulletedSummary", Switch::AceBulletedSummary, true),
    ("addCallLogRingSenseRecordingLink", Switch::AceLink, true),
    ("addCallLogLegs", Switch::Legs, true),
];
const DATE_FORMAT_KEY: &str = "logDateFormat";
/// [`KEY_SLOTS`]' mark for [`DATE_FORMAT_KEY`], and for a slot no key takes.
const DATE_FORMAT_SLOT: u8 = SWITCH_KEYS.len() as u8;
const FREE_SLOT: u8 = u8::MAX;

/// A non-empty key's slot in [`KEY_SLOTS`], from its length and its first and last bytes.
const fn slot_of(key: &[u8]) -> usize {
    (key.len() * 5 + key[0] as usize + key[key.len() - 1] as usize) % 64
}

/// Which key each slot belongs to: an index into [`SWITCH_KEYS`], [`DATE_FORMAT_SLOT`] or [`FREE_SLOT`]. No two of
/// the keys share a slot (checked as the table is built), so a key is found with one comparison instead of a match
/// over all of them, whose branches a user's varied keys mispredict (a third of this module's time in a profile).
const KEY_SLOTS: [u8; 64] = {
    let mut slots = [FREE_SLOT; 64];
    let mut index = 0;
    while index < SWITCH_KEYS.len() {
        assert!(SWITCH_KEYS[index].1 as usize == index, "SWITCH_KEYS is not in Switch's order");
        let slot = slot_of(SWITCH_KEYS[index].0.as_bytes());
        assert!(slots[slot] == FREE_SLOT, "two setting keys share a slot");
        slots[slot] = index as u8;
        index += 1;
    }
    let slot = slot_of(DATE_FORMAT_KEY.as_bytes());
    assert!(slots[slot] == FREE_SLOT, "two setting keys share a slot");
    slots[slot] = DATE_FORMAT_SLOT;
    slots
};

impl<'a> Switches<'a> {
    fn read(settings: &'a UserSettings) -> Self {
        let mut on = SWITCH_KEYS.map(|(_, _, default)| default);
        let mut date_format = None;
        for (key, setting) in &settings.0 {
            let key = key.as_bytes();
            if key.is_empty() {
                continue;
            }
            match KEY_SLOTS[slot_of(key)] {
                DATE_FORMAT_SLOT if key == DATE_FORMAT_KEY.as_bytes() => {
                    date_format = UserSettings::value_of(setting).and_then(Value::as_str);
                }
                FREE_SLOT | DATE_FORMAT_SLOT => {}
                index => {
                    let index = usize::from(index);
                    if key == SWITCH_KEYS[index].0.as_bytes() {
                        // The map's keys are unique, so each switch is set at most once and starts from its default.
                        on[index] = UserSettings::flag_of(UserSettings::value_of(setting), on[index]);
                    }
                }
            }
        }
        Switches { on, date_format }
    }

    fn is(&self, switch: Switch) -> bool {
        self.on[switch as usize]
    }
}

/// A text that JavaScript would find truthy: present and not empty.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|it| !it.is_empty())
}

/// The parts of `input` to write, in the order the reference applies them.
pub(crate) fn parts(input: &ComposeInput) -> Vec<Part<'_>> {
    let on = Switches::read(&input.user.user_settings);
    let call = input.call_log.as_ref();
    let mut parts = Vec::with_capacity(19);

    if let Some(note) = text(&input.note).filter(|_| on.is(Switch::Note)) {
        parts.push(Part::Note(note));
    }
    if let Some(id) = call.and_then(|it| text(&it.session_id)).filter(|_| on.is(Switch::SessionId)) {
        parts.push(Part::SessionId(id));
    }
    // The reference reads the RingCentral side from `to` only when the direction is exactly `Inbound`.
    let inbound = call.is_some_and(|it| it.direction.as_deref() == Some("Inbound"));
    if let Some(call) = call.filter(|_| on.is(Switch::UserName)) {
        let party = if inbound { &call.to } else { &call.from };
        if let Some(name) = party.as_ref().and_then(|it| text(&it.name)) {
            parts.push(Part::UserName(name));
        }
    }
    if let Some(call) = call.filter(|_| on.is(Switch::Number)) {
        let (own, other) = if inbound { (&call.to, &call.from) } else { (&call.from, &call.to) };
        if let Some(number) = own.as_ref().and_then(|it| text(&it.phone_number)) {
            // Compatibility: the extension comes from the other party, as the reference writes it.
            let extension = other.as_ref().and_then(|it| it.extension_number.as_deref()).unwrap_or("");
            parts.push(Part::Number { number, extension });
        }
    }
    if let Some(subject) = text(&input.subject).filter(|_| on.is(Switch::Subject)) {
        parts.push(Part::Subject(subject));
    }
    let contact_number = input.contact_info.as_ref().and_then(|it| text(&it.phone_number));
    if let Some(number) = contact_number.filter(|_| on.is(Switch::ContactNumber)) {
        let outbound = call.is_some_and(|it| it.direction.as_deref() == Some("Outbound"));
        parts.push(Part::ContactNumber { number, outbound });
    }
    if on.is(Switch::DateTime)
        && let Some(formatted) = date_time(input, on.date_format)
    {
        parts.push(Part::DateTime(formatted));
    }
    if let Some(duration) = input.duration.as_ref().filter(|_| on.is(Switch::Duration)) {
        parts.push(Part::Duration(format_duration(duration)));
    }
    if let Some(result) = text(&input.result).filter(|_| on.is(Switch::Result)) {
        parts.push(Part::Result(result));
    }
    let recordings = on.is(Switch::Recording);
    if let Some(link) = text(&input.recording_link).filter(|_| recordings) {
        parts.push(Part::Recording(link));
    }
    if let Some(link) = text(&input.voicemail_link).filter(|_| recordings) {
        parts.push(Part::Voicemail(link));
    }
    if let Some(note) = text(&input.ai_note).filter(|_| on.is(Switch::AiNote)) {
        parts.push(Part::AiNote(note));
    }
    if let Some(transcript) = text(&input.transcript).filter(|_| on.is(Switch::Transcript)) {
        parts.push(Part::Transcript(transcript));
    }
    let ace_transcript = text(&input.ring_sense_transcript);
    if let Some(it) = ace_transcript.filter(|_| on.is(Switch::AceTranscript)) {
        parts.push(Part::AceTranscript(it));
    }
    let ace_summary = text(&input.ring_sense_summary);
    if let Some(it) = ace_summary.filter(|_| on.is(Switch::AceSummary)) {
        parts.push(Part::AceSummary(it));
    }
    let score = input.ring_sense_ai_score.as_ref().and_then(score_text);
    if let Some(it) = score.filter(|_| on.is(Switch::AceScore)) {
        parts.push(Part::Score(it));
    }
    let bulleted = text(&input.ring_sense_bulleted_summary);
    if let Some(it) = bulleted.filter(|_| on.is(Switch::AceBulletedSummary)) {
        parts.push(Part::AceBulletedSummary(it));
    }
    if let Some(link) = text(&input.ring_sense_link).filter(|_| on.is(Switch::AceLink)) {
        parts.push(Part::AceLink(link));
    }
    let legs = call.and_then(|it| it.legs.as_deref()).filter(|it| !it.is_empty());
    if let Some(legs) = legs.filter(|_| on.is(Switch::Legs)) {
        parts.push(Part::Journey(journey_text(legs)));
    }
    parts
}

/// The start time (`startTime`, else the call's) in the user's offset and date format.
///
/// `None` when there is no start time or it cannot be read (the reference would write `Invalid date`).
fn date_time(input: &ComposeInput, date_format: Option<&str>) -> Option<String> {
    let start =
        input.start_time.as_ref().filter(|it| is_truthy_start(it)).or_else(|| {
            input.call_log.as_ref().and_then(|it| it.start_time.as_ref()).filter(|it| is_truthy_start(it))
        })?;
    let instant = parse_start_time(start)?;
    let pattern = date_format.filter(|it| !it.is_empty()).unwrap_or(DEFAULT_DATE_FORMAT);
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
