//! The call-log composer: builds and updates the log body written into a CRM, in plain text, HTML or Markdown.
//!
//! Pure and deterministic: the caller passes the user's offset and settings; nothing reads the clock or the
//! environment. Output matches App Connect's composer byte for byte (see `tests/data/vectors.jsonl`), except where
//! the reference loses or duplicates text on update, or writes user text into HTML unescaped.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schema::{CallDuration, CallRecord, StartTime, TimezoneOffset, UserSettings};

/// The format of a log body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogFormat {
    #[serde(rename = "text/plain")]
    PlainText,
    #[serde(rename = "text/html")]
    Html,
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
    #[serde(default)]
    pub timezone_offset: Option<TimezoneOffset>,
    #[serde(default)]
    pub user_settings: UserSettings,
}

/// The contact the log is written against; only its phone number is shown.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComposeContact {
    #[serde(default)]
    pub phone_number: Option<String>,
}

/// Everything the composer reads; the JSON shape is that of a golden vector's `input`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComposeInput {
    /// The body stored in the CRM; empty for a new log.
    #[serde(default)]
    pub existing_body: String,
    #[serde(default)]
    pub call_log: Option<CallRecord>,
    #[serde(default)]
    pub contact_info: Option<ComposeContact>,
    #[serde(default)]
    pub user: ComposeUser,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub ai_note: Option<String>,
    #[serde(default)]
    pub transcript: Option<String>,
    #[serde(default)]
    pub recording_link: Option<String>,
    #[serde(default)]
    pub voicemail_link: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub start_time: Option<StartTime>,
    #[serde(default)]
    pub duration: Option<CallDuration>,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub ring_sense_transcript: Option<String>,
    #[serde(default)]
    pub ring_sense_summary: Option<String>,
    #[serde(default)]
    pub ring_sense_ai_score: Option<Value>,
    #[serde(default)]
    pub ring_sense_bulleted_summary: Option<String>,
    #[serde(default)]
    pub ring_sense_link: Option<String>,
}

/// Composes the log body for `input` in `format`.
pub fn compose(input: &ComposeInput, format: LogFormat) -> String {
    // Placeholder until the composer lands: keeps the existing body unchanged.
    let _ = format;
    input.existing_body.clone()
}
