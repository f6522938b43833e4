//! The message-log composer (`compose::message`), the agent-note read-back of every format, HTML escaping and the
//! one user-offset rule.

use callbridge_core::compose::message::{Layout, MessageKind, append_entry, append_entry_in, read_back};
use callbridge_core::compose::shared_sms::{ConversationEntity, Participant, SharedConversation, shared_sms_log};
use callbridge_core::compose::{LogFormat, agent_note, escape_html, unescape_html, user_offset};
use callbridge_core::{LogContact, Message, MessageMedia, TimezoneOffset};
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

#[test]
fn javascript_truthiness_and_ids() {
    use callbridge_core::values::{id_text, is_truthy};
    for falsy in [json!(null), json!(false), json!(0), json!(0.0), json!("")] {
        assert!(!is_truthy(&falsy), "{falsy}");
    }
    for truthy in [json!(true), json!(-1), json!("0"), json!([]), json!({})] {
        assert!(is_truthy(&truthy), "{truthy}");
    }
    assert_eq!(
        (id_text(&json!(42)), id_text(&json!("a-1")), id_text(&json!(null))),
        ("42".into(), "a-1".into(), String::new())
    );
}

#[test]
fn the_default_subject_reads_a_missing_direction_as_inbound() {
    use callbridge_core::CallRecord;
    let call =
        |direction: Option<&str>| CallRecord { direction: direction.map(str::to_owned), ..CallRecord::default() };
    assert_eq!(call(Some("Outbound")).subject("Ada"), "Outbound Call to Ada");
    assert_eq!(call(Some("Inbound")).subject("Ada"), "Inbound Call from Ada");
    assert_eq!(call(None).subject("Ada"), "Inbound Call from Ada");
    let custom = CallRecord { custom_subject: Some("Renewal".into()), ..call(Some("Outbound")) };
    assert_eq!(custom.subject("Ada"), "Renewal");
}

const FORMATS: [LogFormat; 3] = [LogFormat::Html, LogFormat::PlainText, LogFormat::Markdown];

fn agent_layout(contact: &LogContact) -> Layout<'_> {
    Layout { user_name: "Agent", contact, offset: user_offset(None), now: now() }
}

#[test]
fn plain_and_markdown_conversations_have_their_layouts_and_take_appends() {
    let contact = layout_contact();
    let layout = agent_layout(&contact);
    let first = sms("Inbound", "Hello", "2024-05-01T09:30:00Z");
    let group = [json!([{ "name": "Bob" }])];
    let (subject, plain) = layout.compose(LogFormat::PlainText, &MessageMedia::default(), &group, &first);
    assert_eq!(subject, "SMS conversation with Ada <Lovelace> - 24/05/01");
    assert_eq!(
        plain,
        "\nConversation summary\nWednesday, May 01, 2024\nParticipants\n    Agent\n    Ada <Lovelace>\n    Bob\n\n\
         Conversation(1 messages)\nBEGIN\n------------\nAda <Lovelace> (+14155550100) 09:30 AM\nHello\n\n\
         ------------\nEND\n\n--- Created via RingCentral App Connect"
    );
    let (_, markdown) = layout.compose(LogFormat::Markdown, &MessageMedia::default(), &[], &first);
    assert_eq!(
        markdown,
        "## SMS conversation with Ada <Lovelace> - 24/05/01\n### Conversation summary\nWednesday, May 01, 2024\n\
         ### Participants\n* Agent\n* Ada <Lovelace>\n\n### Conversation(1 messages)\nBEGIN\n\n---\n\
         **Ada <Lovelace> (+14155550100)** 09:30 AM\nHello\n\n---\nEND\n\n--- Created via RingCentral App Connect"
    );
    let reply = sms("Outbound", "See you", "2024-05-01T14:05:00Z");
    for (format, body) in [(LogFormat::PlainText, plain), (LogFormat::Markdown, markdown)] {
        let appended = append_entry_in(format, &body, &layout.entry_in(format, &reply, &MessageMedia::default()));
        let (hello, see_you) = (appended.find("Hello").unwrap(), appended.find("See you").unwrap());
        assert!(hello < see_you && see_you < appended.rfind("END").unwrap(), "{appended}");
        assert_eq!(read_back(format, &appended).message_count, Some(2), "{appended}");
        let edited = append_entry_in(
            format,
            "typed over in the CRM",
            &layout.entry_in(format, &reply, &MessageMedia::default()),
        );
        assert!(edited.starts_with("typed over in the CRM\n") && edited.contains("See you"), "{edited}");
    }
}

#[test]
fn a_voicemail_carries_its_link_and_transcript_in_every_format() {
    let contact = layout_contact();
    let layout = agent_layout(&contact);
    let media = MessageMedia {
        recording_link: Some("https://rc.example/vm?a=1&b=2".into()),
        transcript: Some("Please call <me> back".into()),
        ..MessageMedia::default()
    };
    let message = sms("Inbound", "", "2024-05-01T09:30:00Z");
    let expected = [
        "<br><b>Voicemail left by Ada &lt;Lovelace&gt; - 24/05/01</b><br>Voicemail recording link: \
         https://rc.example/vm?a=1&amp;b=2 <br>Transcript: Please call &lt;me&gt; back<br><br>--- Created via RingCentral App Connect",
        "Voicemail recording link: https://rc.example/vm?a=1&b=2\nTranscript: Please call <me> back\n\n\
         --- Created via RingCentral App Connect",
        "## Voicemail left by Ada <Lovelace> - 24/05/01\n**Voicemail recording link**: https://rc.example/vm?a=1&b=2\n\
         **Transcript**: Please call <me> back\n\n--- Created via RingCentral App Connect",
    ];
    for (format, expected) in FORMATS.into_iter().zip(expected) {
        let (subject, body) = layout.compose(format, &media, &[], &message);
        assert_eq!(subject, "Voicemail left by Ada <Lovelace> - 24/05/01");
        assert_eq!(body, expected);
        let fields = read_back(format, &body);
        assert_eq!(fields.recording_link.as_deref(), Some("https://rc.example/vm?a=1&b=2"), "{format:?}");
        assert_eq!(fields.transcript.as_deref(), Some("Please call <me> back"), "{format:?}");
    }
    // Without a transcript the HTML body is the reference's, byte for byte.
    let plain_media = MessageMedia { transcript: None, ..media };
    let (_, html) = layout.compose(LogFormat::Html, &plain_media, &[], &message);
    assert_eq!(html, layout.new_log(MessageKind::of(&plain_media), &[], &message).1);
}

#[test]
fn a_fax_carries_its_status_pages_and_document_link_but_never_the_download_link() {
    let contact = layout_contact();
    let layout = agent_layout(&contact);
    let media = MessageMedia {
        fax_doc_link: Some("https://rc.example/fax/1".into()),
        fax_download_link: Some("https://media.rc.example/fax/1?access_token=secret".into()),
        ..MessageMedia::default()
    };
    let message = Message {
        message_status: Some("Received".into()),
        fax_page_count: Some(json!(3)),
        ..sms("Inbound", "", "2024-05-01T09:30:00Z")
    };
    for format in FORMATS {
        let (subject, body) = layout.compose(format, &media, &[], &message);
        assert_eq!(subject, "Fax document sent from Ada <Lovelace> - 24/05/01");
        assert!(!body.contains("secret"), "{body}");
        let fields = read_back(format, &body);
        assert_eq!(
            (fields.fax_document_link.as_deref(), fields.fax_status.as_deref(), fields.fax_pages.as_deref()),
            (Some("https://rc.example/fax/1"), Some("Received"), Some("3")),
            "{format:?}: {body}"
        );
    }
    let (_, plain) = layout.compose(LogFormat::PlainText, &media, &[], &message);
    assert_eq!(
        plain,
        "Fax document link: https://rc.example/fax/1\nFax status: Received\nFax pages: 3\n\n--- Created via RingCentral App Connect"
    );
}

#[test]
fn mms_pictures_and_videos_are_listed_under_their_message() {
    let contact = layout_contact();
    let layout = agent_layout(&contact);
    let media = MessageMedia {
        image_link: Some("https://reader.example/?media=i".into()),
        video_link: Some("https://reader.example/?media=v".into()),
        ..MessageMedia::default()
    };
    let message = sms("Outbound", "Look", "2024-05-01T09:30:00Z");
    assert_eq!(
        layout.entry_in(LogFormat::Html, &message, &media),
        "<li>Agent 09:30 AM<br><b>Look</b><br>Image: https://reader.example/?media=i<br>Video: https://reader.example/?media=v</li>"
    );
    assert_eq!(
        layout.entry_in(LogFormat::PlainText, &message, &media),
        "Agent 09:30 AM\nLook\n[Image]: https://reader.example/?media=i\n[Video]: https://reader.example/?media=v\n\n"
    );
    for format in FORMATS {
        let (subject, body) = layout.compose(format, &media, &[], &message);
        assert!(subject.starts_with("SMS conversation with"), "an MMS is part of the SMS conversation");
        let fields = read_back(format, &body);
        assert_eq!(
            fields.media_links,
            ["https://reader.example/?media=i", "https://reader.example/?media=v"],
            "{format:?}"
        );
        assert_eq!(fields.message_count, Some(1));
    }
}

fn shared_conversation_entities() -> Vec<ConversationEntity> {
    serde_json::from_value(json!([
        { "recordType": "ThreadCreatedHint", "creationTime": "2024-01-15T10:29:00Z" },
        { "recordType": "AliveMessage", "creationTime": "2024-01-15T10:30:00Z", "direction": "Inbound",
          "author": { "name": "Ada" }, "text": "Is my order <shipped>?" },
        { "recordType": "ThreadAssignedHint", "creationTime": "2024-01-15T10:35:00Z", "assignee": { "name": "Grace" } },
        { "recordType": "AliveNote", "creationTime": "2024-01-15T10:40:00Z", "author": { "name": "Grace" },
          "text": "Checked the warehouse" },
        { "recordType": "AliveMessage", "creationTime": "2024-01-15T11:45:00Z", "direction": "Outbound",
          "author": { "name": "Grace" }, "text": "Yes, today" },
    ]))
    .unwrap()
}

#[test]
fn a_shared_conversation_shows_owner_assignment_notes_and_messages_newest_first() {
    let entities = shared_conversation_entities();
    let owner = Participant { name: Some("Support Queue".into()), extension_type: Some("Department".into()) };
    let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
    let conversation = SharedConversation {
        contact_name: "Ada",
        owner: Some(&owner),
        entities: &entities,
        created: Some(at("2024-01-15T10:30:00Z")),
        updated: Some(at("2024-01-15T11:45:00Z")),
        offset: user_offset(Some(&TimezoneOffset::Text("+01:00".into()))),
    };
    let plain = shared_sms_log(LogFormat::PlainText, &conversation, Some("2024-01-15T10:30:00Z"));
    assert_eq!(plain.subject, "SMS conversation with Ada");
    assert_eq!(plain.conversation_created_date.as_deref(), Some("2024-01-15T10:30:00Z"));
    assert_eq!(
        plain.body,
        "Conversation summary\nStarted: Monday, January 15, 2024 at 11:30 AM\nEnded: Monday, January 15, 2024 at 12:45 PM\n\
         Duration: 0 d 1 h \n\nParticipants\n* Ada (customer)\n* Grace\n\nReceiving call queue: Support Queue\n\n\
         Conversation (2 messages, 1 note)\nBEGIN\n------------\nGrace said on 2024-01-15 12:45 PM:\nYes, today\n\n\
         Grace left a note on 2024-01-15 11:40 AM:\nChecked the warehouse\n\nConversation assigned to Grace\n\n\
         Ada said on 2024-01-15 11:30 AM:\nIs my order <shipped>?\n\n------------\nEND"
    );
    let html = shared_sms_log(LogFormat::Html, &conversation, None);
    assert!(html.body.contains("<li>Ada (customer)</li><li>Grace</li>"), "{}", html.body);
    assert!(html.body.contains("<div>Receiving call queue: <b>Support Queue</b></div><br>"));
    assert!(html.body.contains("<p><b>Ada</b> said on 2024-01-15 11:30 AM:<br>Is my order &lt;shipped&gt;?</p>"));
    assert!(html.body.contains("<p><i>Conversation assigned to <b>Grace</b></i></p>"));
    let markdown = shared_sms_log(LogFormat::Markdown, &conversation, None);
    assert_eq!(markdown.subject, "**SMS conversation with Ada**");
    assert!(markdown.body.starts_with("## Conversation summary\n"), "{}", markdown.body);
    assert!(markdown.body.contains("*Conversation assigned to **Grace***\n"));
    for (format, content) in
        [(LogFormat::PlainText, &plain), (LogFormat::Html, &html), (LogFormat::Markdown, &markdown)]
    {
        let fields = read_back(format, &content.body);
        assert_eq!(fields.notes, ["Checked the warehouse"], "{format:?}: {}", content.body);
        assert_eq!(fields.message_count, Some(2), "{format:?}");
    }
    let person = Participant { name: Some("Grace".into()), extension_type: Some("User".into()) };
    let owned = SharedConversation { owner: Some(&person), updated: None, ..conversation };
    let body = shared_sms_log(LogFormat::PlainText, &owned, None).body;
    assert!(body.contains("\nOwner: Grace\n\n") && body.contains("Ended: On-going\nDuration: On-going \n"), "{body}");
}
