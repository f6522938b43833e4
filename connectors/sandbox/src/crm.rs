//! The in-memory CRM itself: accounts of contacts, call logs and message logs, one account per API key.

use std::collections::HashMap;

use callbridge_core::ContactInfo;
use serde_json::{Map, Value};

/// A call log as the sandbox stores it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Activity {
    pub id: String,
    pub subject: String,
    pub body: String,
    pub contact_id: String,
    pub dispositions: Map<String, Value>,
    /// The host's key for the record (`RecordKey`), by which a retry finds it.
    pub record_key: String,
}

/// What one account (one API key) holds.
#[derive(Debug)]
pub(crate) struct Account {
    pub contacts: Vec<ContactInfo>,
    pub call_logs: HashMap<String, Activity>,
    pub message_logs: HashMap<String, Activity>,
    next_id: u64,
}

impl Account {
    pub fn seeded() -> Self {
        let contact = |id: &str, name: &str, phone: &str| ContactInfo {
            id: id.to_owned(),
            name: name.to_owned(),
            phone: Some(phone.to_owned()),
            kind: Some("contact".to_owned()),
            created_date: Some("2024-01-01T00:00:00Z".to_owned()),
            ..ContactInfo::default()
        };
        Self {
            contacts: vec![
                contact("c-1", "Ada Lovelace", "+16505550100"),
                contact("c-2", "Grace Hopper", "+14155550123"),
                contact("c-3", "Alan Turing", "+442071838750"),
            ],
            call_logs: HashMap::new(),
            message_logs: HashMap::new(),
            next_id: 0,
        }
    }

    /// A new id with the given prefix, unique within the account.
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    /// The id of the call or message log created with this record key.
    pub fn created_with(logs: &HashMap<String, Activity>, record_key: &str) -> Option<String> {
        if record_key.is_empty() {
            return None;
        }
        logs.values().find(|it| it.record_key == record_key).map(|it| it.id.clone())
    }

    /// Contacts whose phone has the same digits as `phone` (formatting ignored).
    pub fn contacts_by_phone(&self, phone: &str) -> Vec<ContactInfo> {
        let wanted = digits(phone);
        self.contacts
            .iter()
            .filter(|it| !wanted.is_empty() && it.phone.as_deref().map(digits).as_deref() == Some(wanted.as_str()))
            .cloned()
            .collect()
    }

    /// Contacts whose name contains `name`, case-insensitively.
    pub fn contacts_by_name(&self, name: &str) -> Vec<ContactInfo> {
        let wanted = name.trim().to_lowercase();
        self.contacts
            .iter()
            .filter(|it| !wanted.is_empty() && it.name.to_lowercase().contains(&wanted))
            .cloned()
            .collect()
    }
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// Labels the composer writes in plain-text bodies; the agent note ends where the first of them starts a line.
const PLAIN_LABELS: [&str; 18] = [
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

/// The plain-text agent note of a body the composer wrote: the `- Note:` text up to the next field line.
pub(crate) fn note_of(body: &str) -> Option<String> {
    let start = body.find("- Note: ")? + "- Note: ".len();
    let rest = &body[start..];
    let mut end = rest.len();
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let is_field = line.strip_prefix("- ").is_some_and(|tail| {
            PLAIN_LABELS.iter().any(|label| tail.starts_with(label) && tail[label.len()..].starts_with(':'))
        });
        if offset > 0 && is_field {
            end = offset;
            break;
        }
        offset += line.len();
    }
    Some(rest[..end].trim_end_matches('\n').to_owned())
}
