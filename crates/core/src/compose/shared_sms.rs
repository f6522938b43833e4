//! The log of a shared-SMS conversation (a conversation owned by a user or call queue and assigned to agents):
//! one record per conversation holding its summary, participants, owner, and every message, assignment and agent
//! note, newest first, in plain text, HTML or Markdown.
//!
//! The reference composes these bodies in the server from the conversation the extension sends (`owner`,
//! `entities`, `creationTime`); the labels and layouts here are its own. Three deliberate differences: an unknown
//! end time reads `On-going` (the reference prints the Unix epoch), a call queue's line has no
//! `ext. <extension>` placeholder (the reference writes that literal text), and the customer, as author of the
//! inbound messages, is not listed a second time among the agents.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::LogFormat;
use super::html::escape;
use super::message::parse_time;
use crate::connector::SharedSmsContent;

/// A person or extension named in a shared conversation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    #[serde(default)]
    pub name: Option<String>,
    /// `Department` for a call queue.
    #[serde(default)]
    pub extension_type: Option<String>,
}

impl Participant {
    fn name(&self) -> Option<&str> {
        self.name.as_deref().filter(|it| !it.is_empty())
    }
}

/// One thing that happened in a shared conversation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationEntity {
    /// `AliveMessage`, `AliveNote`, `ThreadAssignedHint`; other kinds are not shown.
    #[serde(default)]
    pub record_type: Option<String>,
    #[serde(default)]
    pub creation_time: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub author: Option<Participant>,
    #[serde(default)]
    pub from: Option<Participant>,
    #[serde(default)]
    pub initiator: Option<Participant>,
    #[serde(default)]
    pub assignee: Option<Participant>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

/// What the shared-SMS log is composed from.
#[derive(Clone, Debug)]
pub struct SharedConversation<'a> {
    /// The customer: inbound messages are shown as theirs.
    pub contact_name: &'a str,
    pub owner: Option<&'a Participant>,
    pub entities: &'a [ConversationEntity],
    /// When the conversation started (`creationTime`).
    pub created: Option<DateTime<Utc>>,
    /// When it last changed (the newest message's `lastModifiedTime`); `None` shows it as on-going.
    pub updated: Option<DateTime<Utc>>,
    /// The user's UTC offset; every time is shown in it.
    pub offset: FixedOffset,
}

/// The subject and body of the shared conversation's log, and its start time (as sent) for the record's date.
pub fn shared_sms_log(
    format: LogFormat,
    conversation: &SharedConversation<'_>,
    created_text: Option<&str>,
) -> SharedSmsContent {
    let title = format!("SMS conversation with {}", conversation.contact_name);
    let subject = if format == LogFormat::Markdown { format!("**{title}**") } else { title };
    SharedSmsContent {
        subject,
        body: body(format, conversation),
        conversation_created_date: created_text.map(str::to_owned),
    }
}

fn body(format: LogFormat, conversation: &SharedConversation<'_>) -> String {
    let html = format == LogFormat::Html;
    let show = |text: &str| if html { escape(text).into_owned() } else { text.to_owned() };
    let local = |at: DateTime<Utc>| at.with_timezone(&conversation.offset);
    let started = conversation.created.map(local);
    let ended = conversation.updated.map(local);
    let when = |at: Option<DateTime<FixedOffset>>| match at {
        Some(at) => format!("{} at {}", at.format("%A, %B %d, %Y"), at.format("%I:%M %p")),
        None => "On-going".to_owned(),
    };
    let duration = match (started, ended) {
        (Some(start), Some(end)) => {
            let span = end.signed_duration_since(start);
            format!("{} d {} h", span.num_days(), span.num_hours())
        }
        _ => "On-going".to_owned(),
    };
    let summary =
        [format!("Started: {}", when(started)), format!("Ended: {}", when(ended)), format!("Duration: {duration}")];
    let mut people = vec![format!("{} (customer)", conversation.contact_name)];
    for entity in conversation.entities {
        // The author of an inbound message is the customer, already listed.
        let inbound = entity.direction.as_deref() == Some("Inbound");
        let authors = if inbound { [&None, &None] } else { [&entity.author, &entity.from] };
        for named in authors.into_iter().chain([&entity.initiator, &entity.assignee]) {
            if let Some(name) = named.as_ref().and_then(Participant::name)
                && !people[1..].iter().any(|it| it == name)
            {
                people.push(name.to_owned());
            }
        }
    }
    let owner = conversation.owner.and_then(|owner| {
        let name = owner.name()?;
        let queue = owner.extension_type.as_deref() == Some("Department") || name.to_lowercase().contains("queue");
        Some((if queue { "Receiving call queue" } else { "Owner" }, name))
    });
    let kind_count =
        |kind: &str| conversation.entities.iter().filter(|it| it.record_type.as_deref() == Some(kind)).count();
    let plural = |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
    let counts: Vec<String> = [(kind_count("AliveMessage"), "message"), (kind_count("AliveNote"), "note")]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, word)| plural(count, word))
        .collect();
    let count = if counts.is_empty() { "0 messages".to_owned() } else { counts.join(", ") };
    let entries: Vec<String> = entries(format, conversation);
    match format {
        LogFormat::Html => {
            let items: String = people.iter().map(|it| format!("<li>{}</li>", show(it))).collect();
            let owner =
                owner.map(|(label, name)| format!("<div>{label}: <b>{}</b></div><br>", show(name))).unwrap_or_default();
            format!(
                "<div><b>Conversation summary</b><br>{}<br></div><br><div><b>Participants</b><ul>{items}</ul></div>{owner}\
                 <div><b>Conversation ({count})</b></div><div>BEGIN</div><hr>{}<hr><div>END</div>",
                summary.join("<br>"),
                entries.concat()
            )
        }
        LogFormat::PlainText | LogFormat::Markdown => {
            let markdown = format == LogFormat::Markdown;
            let items: String = people.iter().map(|it| format!("* {it}\n")).collect();
            let owner = owner
                .map(
                    |(label, name)| {
                        if markdown { format!("{label}: **{name}**\n\n") } else { format!("{label}: {name}\n\n") }
                    },
                )
                .unwrap_or_default();
            let (h2, h3, rule) = if markdown { ("## ", "### ", "---") } else { ("", "", "------------") };
            let entries: String = entries.iter().map(|it| format!("{it}\n")).collect();
            format!(
                "{h2}Conversation summary\n{} \n\n{h3}Participants\n{items}\n{owner}{h3}Conversation ({count})\nBEGIN\n{rule}\n\
                 {entries}{rule}\nEND",
                summary.join("\n")
            )
        }
    }
}

/// The messages, assignments and notes, newest first.
fn entries(format: LogFormat, conversation: &SharedConversation<'_>) -> Vec<String> {
    let mut shown: Vec<(Option<DateTime<Utc>>, String)> = conversation
        .entities
        .iter()
        .filter_map(|entity| {
            let at = parse_time(entity.creation_time.as_deref());
            let time = at.map(|it| it.with_timezone(&conversation.offset).format("%Y-%m-%d %I:%M %p").to_string());
            let time = time.unwrap_or_default();
            let name_of = |options: &[&Option<Participant>]| {
                options.iter().find_map(|it| it.as_ref().and_then(Participant::name)).unwrap_or("Unknown").to_owned()
            };
            let text_of =
                |options: [&Option<String>; 2]| options.into_iter().find_map(|it| it.clone()).unwrap_or_default();
            let entry = match entity.record_type.as_deref()? {
                "AliveMessage" => {
                    let sender = if entity.direction.as_deref() == Some("Inbound") {
                        conversation.contact_name.to_owned()
                    } else {
                        name_of(&[&entity.author, &entity.from])
                    };
                    said(format, &sender, "said on", &time, &text_of([&entity.text, &entity.subject]))
                }
                "AliveNote" => said(
                    format,
                    &name_of(&[&entity.author, &entity.initiator]),
                    "left a note on",
                    &time,
                    &text_of([&entity.text, &entity.body]),
                ),
                "ThreadAssignedHint" => {
                    let assignee = name_of(&[&entity.assignee]);
                    match format {
                        LogFormat::Html => {
                            format!("<p><i>Conversation assigned to <b>{}</b></i></p>", escape(&assignee))
                        }
                        LogFormat::Markdown => format!("*Conversation assigned to **{assignee}***\n"),
                        LogFormat::PlainText => format!("Conversation assigned to {assignee}\n"),
                    }
                }
                _ => return None,
            };
            Some((at, entry))
        })
        .collect();
    // Newest first; entries without a time keep their order at the end.
    shown.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    shown.into_iter().map(|(_, entry)| entry).collect()
}

/// `<who> said on <time>:` or `<who> left a note on <time>:`, then the text.
fn said(format: LogFormat, who: &str, verb: &str, time: &str, text: &str) -> String {
    match format {
        LogFormat::Html => format!("<p><b>{}</b> {verb} {time}:<br>{}</p>", escape(who), escape(text)),
        LogFormat::Markdown => format!("**{who}** {verb} {time}:\n{text}\n"),
        LogFormat::PlainText => format!("{who} {verb} {time}:\n{text}\n"),
    }
}
