//! The message-log composer (`compose::message`), the agent-note read-back of every format, HTML escaping and the
//! one user-offset rule.

use callbridge_core::compose::message::{Layout, MessageKind, append_entry};
use callbridge_core::compose::{LogFormat, agent_note, escape_html, unescape_html, user_offset};
use callbridge_core::{LogContact, Message, TimezoneOffset};
use chrono::{DateTime, Utc};
use serde_json::json;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-06-01T12:00:00Z").unwrap().with_timezone(&Utc)
}

#[test]
fn agent_note_is_read_back_from_plain_text_and_markdown() {
    let plain = "- Note: Call back\nabout the <quote>\n- Session Id: 42\n";
    assert_eq!(agent_note(plain, LogFormat::PlainText).unwrap(), "Call back\nabout the <quote>");
    assert_eq!(agent_note("- Session Id: 42\n", LogFormat::PlainText), None);
    let markdown = "## Agent notes\nCall **back**\n\n## Call details\n**Duration**: 5 minutes\n";
    assert_eq!(agent_note(markdown, LogFormat::Markdown).unwrap(), "Call **back**");
    assert_eq!(agent_note("## Call details\n", LogFormat::Markdown), None);
}

#[test]
fn a_message_without_a_time_is_shown_at_now() {
    let contact = layout_contact();
    let layout = Layout { user_name: "Agent", contact: &contact, offset: user_offset(None), now: now() };
    assert_eq!(layout.sent_at(&Message::default()), now());
}

#[test]
fn agent_note_is_read_back_from_the_html_body() {
    let body = "<b>Agent notes</b><br>Call back &lt;Monday&gt; &amp; send quote<br><br><b>Call details</b><br><li><b>Duration</b>: 5 minutes</li>";
    assert_eq!(agent_note(body, LogFormat::Html).unwrap(), "Call back <Monday> & send quote");
    assert_eq!(agent_note("<b>Agent notes</b><br>only a note", LogFormat::Html).unwrap(), "only a note");
    assert_eq!(agent_note("<b>Call details</b><br><li>x</li>", LogFormat::Html), None);
    assert_eq!(agent_note("", LogFormat::Html), None);
}

#[test]
fn html_escape_round_trips() {
    let text = r#"<script>alert("x")</script> & 'quotes'"#;
    let escaped = escape_html(text);
    assert_eq!(escaped, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;");
    assert_eq!(unescape_html(&escaped), text);
    assert_eq!(unescape_html("a &#x41; &#66; &nbsp;&unknown; & b;"), "a A B \u{a0}&unknown; & b;");
    assert_eq!(unescape_html("trailing &"), "trailing &");
}

#[test]
fn user_offset_reads_app_connect_forms() {
    let text = |it: &str| user_offset(Some(&TimezoneOffset::Text(it.to_owned()))).local_minus_utc();
    let number = |it: i64| user_offset(Some(&TimezoneOffset::Number(it.into()))).local_minus_utc();
    assert_eq!(text("+05:30"), 19_800);
    assert_eq!(text("-07:00"), -25_200);
    assert_eq!(text("-0700"), -42_000, "without a colon the text is a number: -700 minutes");
    assert_eq!(text("+02"), 7_200);
    assert_eq!(text("Z"), 0);
    assert_eq!(text("-7"), -25_200, "a number in text is hours too");
    assert_eq!(text("garbage"), 0);
    assert_eq!(number(-7), -25_200, "small numbers are hours");
    assert_eq!(number(330), 19_800, "large numbers are minutes");
    assert_eq!(number(100_000), 0, "out of range reads as UTC");
    assert_eq!(user_offset(None).local_minus_utc(), 0);
}

fn layout_contact() -> LogContact {
    LogContact {
        id: "101".into(),
        phone_number: Some("+14155550100".into()),
        kind: "contact".into(),
        name: "Ada <Lovelace>".into(),
    }
}

fn sms(direction: &str, text: &str, at: &str) -> Message {
    Message {
        direction: Some(direction.into()),
        subject: Some(text.into()),
        creation_time: Some(at.into()),
        ..Message::default()
    }
}

#[test]
fn sms_log_follows_the_reference_layout_with_escaping() {
    let contact = layout_contact();
    let layout = Layout { user_name: "Agent & Co", contact: &contact, offset: user_offset(None), now: now() };
    let correspondents = vec![json!([{ "name": "Bob" }]), json!([]), json!({ "name": "Carol" })];
    let message = sms("Inbound", "Hi <b>there</b>", "2024-05-01T09:30:00.000Z");
    let (subject, note) = layout.new_log(MessageKind::Sms, &correspondents, &message);
    assert_eq!(subject, "SMS conversation with Ada <Lovelace> - 24/05/01");
    assert_eq!(
        note,
        "<br><b>SMS conversation with Ada &lt;Lovelace&gt; - 24/05/01</b><br><b>Conversation summary</b><br>\
         Wednesday, May 01, 2024<br>Participants<br><ul><li><b>Agent &amp; Co</b><br></li>\
         <li><b>Ada &lt;Lovelace&gt;</b></li><li><b>Bob</b></li><li><b>Unknown</b></li><li><b>Carol</b></li></ul><br>\
         Conversation(1 messages)<br>BEGIN<br>------------<br><ul><li>Ada &lt;Lovelace&gt; (+14155550100) 09:30 AM<br>\
         <b>Hi &lt;b&gt;there&lt;/b&gt;</b></li></ul>------------<br>END<br><br>--- Created via RingCentral App Connect"
    );

    let reply = layout.entry(&sms("Outbound", "See you", "2024-05-01T14:05:00Z"));
    assert_eq!(reply, "<li>Agent &amp; Co 02:05 PM<br><b>See you</b></li>");
    let appended = append_entry(&note, &reply);
    assert!(appended.contains("<br>Conversation(2 messages)<br>"));
    assert!(appended.contains("<b>Hi &lt;b&gt;there&lt;/b&gt;</b></li><li>Agent &amp; Co 02:05 PM<br><b>See you</b></li></ul>------------<br>END"));
    assert_eq!(append_entry(&appended, &reply).matches("See you").count(), 2);
    assert!(append_entry(&appended, &reply).contains("Conversation(3 messages)"));
}

#[test]
fn sms_times_are_shown_in_the_user_offset() {
    let contact = layout_contact();
    let offset = user_offset(Some(&TimezoneOffset::Text("-07:00".into())));
    let layout = Layout { user_name: "Agent", contact: &contact, offset, now: now() };
    let (subject, note) = layout.new_log(MessageKind::Sms, &[], &sms("Outbound", "x", "2024-05-01T03:00:00Z"));
    assert_eq!(subject, "SMS conversation with Ada <Lovelace> - 24/04/30");
    assert!(note.contains("Tuesday, April 30, 2024<br>"));
    assert!(note.contains("<li>Agent 08:00 PM<br>"));
}

#[test]
fn voicemail_and_fax_logs_carry_their_links() {
    let contact = layout_contact();
    let layout = Layout { user_name: "Agent", contact: &contact, offset: user_offset(None), now: now() };
    let message = sms("Inbound", "", "2024-05-01T09:30:00Z");
    let (subject, note) =
        layout.new_log(MessageKind::Voicemail { recording_link: "https://rc.example/vm?a=1&b=2" }, &[], &message);
    assert_eq!(subject, "Voicemail left by Ada <Lovelace> - 24/05/01");
    assert_eq!(
        note,
        "<br><b>Voicemail left by Ada &lt;Lovelace&gt; - 24/05/01</b><br>Voicemail recording link: \
         https://rc.example/vm?a=1&amp;b=2 <br><br>--- Created via RingCentral App Connect"
    );
    let (subject, note) = layout.new_log(MessageKind::Fax { document_link: "https://rc.example/fax" }, &[], &message);
    assert_eq!(subject, "Fax document sent from Ada <Lovelace> - 24/05/01");
    assert!(
        note.ends_with("Fax document link: https://rc.example/fax <br><br>--- Created via RingCentral App Connect")
    );
}

#[test]
fn append_to_an_edited_body_keeps_the_message() {
    let appended = append_entry("<b>someone rewrote this note</b>", "<li>new</li>");
    assert_eq!(appended, "<b>someone rewrote this note</b><ul><li>new</li></ul>");
}
