//! The data App Connect exchanges: RingCentral call records, contacts, users, settings and return messages.
//!
//! Wire names are App Connect's camelCase. Records from RingCentral keep fields we do not model in `extra`, so
//! nothing the extension sends is lost on the way to a connector.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Number, Value};

use crate::secret::Secret;

/// The object a manifest's `page.callLog.additionalFields` produce (deal, lead, matter, ...), keyed by field `const`.
pub type AdditionalSubmission = Map<String, Value>;

/// A RingCentral call record as the extension (or server-side logging) sends it in `logInfo`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "Option::is_none")]
    pub telephony_session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<StartTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<CallDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Number>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `Inbound` or `Outbound`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legs: Option<Vec<CallLeg>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<String>,
    /// Everything else RingCentral sent (`extension`, `transport`, `billing`, `voicemail`, ...), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CallRecord {
    /// True for `Outbound`; everything else (including a missing direction) reads as inbound, as in App Connect.
    pub fn is_outbound(&self) -> bool {
        self.direction.as_deref() == Some("Outbound")
    }

    /// The log's subject: the user's custom subject, else App Connect's `Outbound Call to <contact>` or
    /// `Inbound Call from <contact>` (a missing direction reads as inbound, see [`CallRecord::is_outbound`]).
    pub fn subject(&self, contact_name: &str) -> String {
        match self.custom_subject.as_deref() {
            Some(custom) => custom.to_owned(),
            None if self.is_outbound() => format!("Outbound Call to {contact_name}"),
            None => format!("Inbound Call from {contact_name}"),
        }
    }

    /// The party that is not the RingCentral user: `from` on inbound calls, `to` on outbound ones.
    pub fn other_party(&self) -> Option<&Party> {
        if self.is_outbound() { self.to.as_ref() } else { self.from.as_ref() }
    }
}

/// One side of a call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "Option::is_none")]
    pub extension_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "Option::is_none")]
    pub extension_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A call's recording as RingCentral describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `Automatic` or `OnDemand`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One leg of a call (a transfer, a forward); the composer turns legs into the call journey.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLeg {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<StartTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<CallDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Party>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A start time as RingCentral (an ISO 8601 string) or server-side logging (epoch milliseconds) sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StartTime {
    EpochMillis(i64),
    Text(String),
}

impl StartTime {
    /// The instant in UTC, or `None` when the text is not a date we can read.
    pub fn to_utc(&self) -> Option<DateTime<Utc>> {
        match self {
            StartTime::EpochMillis(ms) => DateTime::from_timestamp_millis(*ms),
            StartTime::Text(text) => DateTime::parse_from_rfc3339(text.trim())
                .map(|it| it.with_timezone(&Utc))
                .ok()
                .or_else(|| text.trim().parse::<i64>().ok().and_then(DateTime::from_timestamp_millis)),
        }
    }
}

/// A call's length: seconds, or the literal `pending` server-side logging sends while the call is going on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CallDuration {
    Seconds(Number),
    Text(String),
}

impl CallDuration {
    /// False for the zero or empty duration a client sends before the call's length is known; an update then
    /// leaves the stored duration alone, as App Connect does.
    pub fn is_set(&self) -> bool {
        match self {
            CallDuration::Seconds(number) => number.as_f64().is_some_and(|it| it != 0.0),
            CallDuration::Text(text) => !text.is_empty(),
        }
    }

    /// The length in seconds when it is a number (or a numeric string).
    pub fn seconds(&self) -> Option<f64> {
        match self {
            CallDuration::Seconds(n) => n.as_f64(),
            CallDuration::Text(text) => text.trim().parse::<f64>().ok().filter(|it| it.is_finite()),
        }
    }
}

impl fmt::Display for CallDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallDuration::Seconds(n) => write!(f, "{n}"),
            CallDuration::Text(text) => f.write_str(text),
        }
    }
}

/// A user's UTC offset as stored by App Connect: `"+05:30"`, `"-7"` (hours), `"330"` (minutes) or a number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimezoneOffset {
    Number(Number),
    Text(String),
}

/// Per-user settings: `settingId -> {value, ...}`; the composer and connectors read `value`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserSettings(pub Map<String, Value>);

impl UserSettings {
    /// The setting's `value`, or `None` when the setting or its value is missing or null.
    pub fn value(&self, key: &str) -> Option<&Value> {
        Self::value_of(self.0.get(key)?)
    }

    /// The `value` of one setting (an entry of the map), or `None` when it is not an object or its value is
    /// missing or null. For callers that walk the map once instead of looking settings up one by one.
    pub fn value_of(setting: &Value) -> Option<&Value> {
        // A setting holds a handful of keys: a scan for `value` is cheaper than hashing it.
        let setting = setting.as_object()?;
        setting.iter().find_map(|(name, value)| (name == "value").then_some(value)).filter(|it| !it.is_null())
    }

    /// A boolean setting with its default; any non-boolean value counts by JavaScript truthiness.
    pub fn flag(&self, key: &str, default: bool) -> bool {
        Self::flag_of(self.value(key), default)
    }

    /// [`UserSettings::flag`] of a setting's value as [`UserSettings::value_of`] gives it.
    pub fn flag_of(value: Option<&Value>, default: bool) -> bool {
        match value {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Number(n)) => n.as_f64().is_some_and(|it| it != 0.0),
            Some(_) => true,
        }
    }

    /// A string setting's value.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.value(key).and_then(Value::as_str)
    }
}

/// A user of callbridge: one RingCentral user's connection to one CRM account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// `<crm user id>-<platform>`; the App Connect JWT's `id`.
    pub id: String,
    pub platform: String,
    pub hostname: String,
    #[serde(default)]
    pub timezone_name: Option<String>,
    #[serde(default)]
    pub timezone_offset: Option<TimezoneOffset>,
    /// OAuth access token, or the API key for API-key connectors.
    #[serde(default)]
    pub access_token: Secret,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub token_expiry: Option<DateTime<Utc>>,
    #[serde(default)]
    pub platform_additional_info: Map<String, Value>,
    #[serde(default)]
    pub user_settings: UserSettings,
    #[serde(default)]
    pub rc_account_id: Option<String>,
    #[serde(default)]
    pub hashed_rc_extension_id: Option<String>,
}

impl User {
    /// The CRM's own user id: the part of [`User::id`] before the `-<platform>` suffix.
    pub fn crm_user_id(&self) -> &str {
        self.id.split_once('-').map_or(self.id.as_str(), |(head, _)| head)
    }
}

/// A contact as connectors return it and the extension shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactInfo {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub most_recent_activity_date: Option<String>,
    /// Contact-dependent options keyed by additional-field `const`: `{deals: [{const, title}]}`. The
    /// create-new-contact placeholder carries an explicit `null` here, as App Connect sends it.
    #[serde(default)]
    pub additional_info: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_new_contact: Option<bool>,
    /// Connector-specific extras the extension shows as they are (Pipedrive's `organization`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One option of a selection (`{const, title}`): a deal or matter in `additionalInfo`, an activity type in a
/// setting's account data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    #[serde(rename = "const")]
    pub id: Value,
    pub title: String,
}

impl Choice {
    pub fn new(id: impl Into<Value>, title: impl Into<String>) -> Self {
        Self { id: id.into(), title: title.into() }
    }

    /// A contact's `additionalInfo`: the options of each contact-dependent field (`deals`, `matters`), fields
    /// without options left out.
    pub fn by_field<'a>(fields: impl IntoIterator<Item = (&'a str, Vec<Choice>)>) -> Value {
        let fields = fields.into_iter().filter(|(_, options)| !options.is_empty());
        Value::Object(fields.map(|(field, options)| (field.to_owned(), serde_json::json!(options))).collect())
    }
}

impl ContactInfo {
    /// The `Create new contact...` entry that lets the extension offer contact creation.
    pub fn create_new_placeholder() -> Self {
        Self {
            id: "createNewContact".to_owned(),
            name: "Create new contact...".to_owned(),
            is_new_contact: Some(true),
            ..Self::default()
        }
    }
}

/// How the extension shows a message: `returnMessage` in App Connect responses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnMessage {
    pub message: String,
    pub message_type: MessageType,
    /// How long the extension shows it, in milliseconds.
    pub ttl: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<MessageDetail>>,
}

impl ReturnMessage {
    pub fn new(message_type: MessageType, message: impl Into<String>, ttl: u32) -> Self {
        Self { message: message.into(), message_type, ttl, details: None }
    }

    pub fn success(message: impl Into<String>, ttl: u32) -> Self {
        Self::new(MessageType::Success, message, ttl)
    }

    pub fn warning(message: impl Into<String>, ttl: u32) -> Self {
        Self::new(MessageType::Warning, message, ttl)
    }

    /// What the extension shows when login could not load the CRM user: a warning with `details` (what to check).
    pub fn user_info_failed(details: &[&str]) -> Self {
        let message = Self::warning("Could not load user information", 3000);
        if details.is_empty() { message } else { message.with_details("Details", details) }
    }

    /// Adds a details section titled `title` whose text items get ids `1`, `2`, ...
    pub fn with_details(mut self, title: impl Into<String>, texts: &[&str]) -> Self {
        let items = texts
            .iter()
            .enumerate()
            .map(|(idx, text)| DetailItem {
                id: (idx + 1).to_string(),
                kind: "text".to_owned(),
                text: (*text).to_owned(),
            })
            .collect();
        self.details.get_or_insert_with(Vec::new).push(MessageDetail { title: title.into(), items });
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Success,
    Info,
    Warning,
    Danger,
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageDetail {
    pub title: String,
    pub items: Vec<DetailItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetailItem {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
}

/// Accepts a string or a number (RingCentral sends some ids as numbers) and keeps it as a string.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => return Err(serde::de::Error::custom(format!("expected a string or a number, got {other}"))),
    })
}
