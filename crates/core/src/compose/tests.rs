//! Unit tests of the composer: every field in every format, the update rules, escaping, legacy bodies, notes with
//! `$` and label-like lines, offsets, date tokens, durations, the journey, and the fixed reference bugs
//! (properties over `tests/data/reference-bugs.jsonl` plus one exact test per quirk).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::datetime::{DEFAULT_DATE_FORMAT, Offset, format_start_time, ordinal, resolve_offset};
use super::duration::seconds_in_words;
use super::fields::{Part, parts};
use super::journey::{journey_text, party_text};
use super::number::{js_number_to_string, js_to_number};
use super::{Body, ComposeInput, LogFormat, compose, html, markdown, plain};
use crate::schema::{CallLeg, Party, TimezoneOffset};

// ---------------------------------------------------------------------------------------------------------------
// Helpers

fn input(value: Value) -> ComposeInput {
    serde_json::from_value(value).unwrap()
}

/// Every setting that is off by default switched on.
fn all_on() -> Value {
    json!({
        "addCallSessionId": {"value": true},
        "addRingCentralUserName": {"value": true},
        "addRingCentralNumber": {"value": true},
        "addCallLogContactNumber": {"value": true},
    })
}

fn call_log() -> Value {
    json!({
        "sessionId": "4001",
        "startTime": "2024-01-15T10:30:00.000Z",
        "direction": "Inbound",
        "from": {"phoneNumber": "+16505550100", "extensionNumber": "7"},
        "to": {"phoneNumber": "+14155550123", "extensionNumber": "101", "name": "Ann Agent"},
        "legs": [
            {"direction": "Inbound", "duration": 50, "from": {"phoneNumber": "+16505550100"},
             "to": {"phoneNumber": "+14155550123", "extensionNumber": "101", "name": "Ann Agent"}},
            {"direction": "Inbound", "duration": 1, "to": {"extensionNumber": "102", "name": "Bob"}}
        ]
    })
}

/// A new log with every part supplied and switched on.
fn full(existing: &str) -> Value {
    json!({
        "existingBody": existing,
        "callLog": call_log(),
        "contactInfo": {"id": "c1", "name": "Jane", "phoneNumber": "+16505550100"},
        "user": {"timezoneOffset": "+00:00", "userSettings": all_on()},
        "note": "Hello",
        "aiNote": "AI line 1\nAI line 2\n\n",
        "transcript": "Agent: hi\nCaller: hello\n",
        "recordingLink": "https://rec.example/1",
        "voicemailLink": "pending",
        "subject": "Inbound call from Jane",
        "startTime": "2024-01-15T10:30:00Z",
        "duration": 125,
        "result": "Accepted",
        "ringSenseTranscript": "S1: a\nS2: b\n",
        "ringSenseSummary": "Sum 1\nSum 2\n",
        "ringSenseAIScore": 8.5,
        "ringSenseBulletedSummary": "- one\n- two\n",
        "ringSenseLink": "https://ace.example/7"
    })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn run(value: Value, format: LogFormat) -> String {
    compose(&input(value), format)
}

fn plain_of(value: Value) -> String {
    run(value, LogFormat::PlainText)
}

fn html_of(value: Value) -> String {
    run(value, LogFormat::Html)
}

fn md_of(value: Value) -> String {
    run(value, LogFormat::Markdown)
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn utc() -> Offset {
    resolve_offset(Some(&TimezoneOffset::Text("+00:00".into())))
}

// ---------------------------------------------------------------------------------------------------------------
// Every field in every format (new logs)

#[test]
fn plain_new_log_with_every_part() {
    let expected = "- Note: Hello\n\
- Session Id: 4001\n\
- RingCentral user name: Ann Agent\n\
- RingCentral number and extension: +14155550123 7\n\
- Summary: Inbound call from Jane\n\
- Contact Number: +16505550100\n\
- Date/Time: 2024-01-15 10:30:00 AM\n\
- Duration: 2 minutes, 5 seconds\n\
- Result: Accepted\n\
- Call recording link: https://rec.example/1\n\
- Voicemail recording link: pending\n\
\n- AI Note:\nAI line 1\nAI line 2\n--- END\n\
\n- Transcript:\nAgent: hi\nCaller: hello\n\n--- END\n\
\n- ACE transcript:\nS1: a\nS2: b\n--- END\n\
\n- ACE summary:\nSum 1\nSum 2\n\n--- END\n\
- Call score: 8.5\n\
\n- ACE bulleted summary:\n- one\n- two\n\n--- END\n\
- ACE recording link: https://ace.example/7\n\
- Call journey:\nReceived call at Ann Agent, +14155550123, ext 101\nTransferred to Bob, ext 102, duration: 1 second\n--- JOURNEY END\n";
    assert_eq!(plain_of(full("")), expected);
}

#[test]
fn html_new_log_with_every_part() {
    let expected = "<b>Agent notes</b><br>Hello<br><br><b>Call details</b><br>\
<li><b>Session Id</b>: 4001</li>\
<li><b>RingCentral user name</b>: Ann Agent</li>\
<li><b>RingCentral number and extension</b>: +14155550123 7</li>\
<li><b>Summary</b>: Inbound call from Jane</li>\
<li><b>Caller phone number</b>: +16505550100</li>\
<li><b>Date/time</b>: 2024-01-15 10:30:00 AM</li>\
<li><b>Duration</b>: 2 minutes, 5 seconds</li>\
<li><b>Result</b>: Accepted</li>\
<li><b>Call recording link</b>: <a target=\"_blank\" href=\"https://rec.example/1\">open</a></li>\
<li><b>Voicemail recording link</b>: (pending...)</li>\
<div><b>AI Note</b><br>AI line 1<br>AI line 2</div><br>\
<div><b>Transcript</b><br>Agent: hi<br>Caller: hello<br></div><br>\
<div><b>ACE transcript</b><br>S1: a<br>S2: b</div>\
<div><b>ACE summary</b><br>Sum 1<br>Sum 2</div>\
<li><b>Call score</b>: 8.5</li>\
<div><b>ACE bulleted summary</b><br>- one<br>- two</div>\
<li><b>ACE recording link</b>: <a target=\"_blank\" href=\"https://ace.example/7\">open</a></li>\
<div><b>Call journey</b><br>Received call at Ann Agent, +14155550123, ext 101<br>Transferred to Bob, ext 102, duration: 1 second</div>";
    assert_eq!(html_of(full("")), expected);
}

#[test]
fn markdown_new_log_with_every_part() {
    let expected = "## Agent notes\nHello\n\n## Call details\n\
**Session Id**: 4001\n\
**RingCentral user name**: Ann Agent\n\
**RingCentral number and extension**: +14155550123 7\n\
**Summary**: Inbound call from Jane\n\
**Contact Number**: +16505550100\n\
**Date/Time**: 2024-01-15 10:30:00 AM\n\
**Duration**: 2 minutes, 5 seconds\n\
**Result**: Accepted\n\
**Call recording link**: https://rec.example/1\n\
**Voicemail recording link**: pending\n\
### AI Note\nAI line 1\nAI line 2\n\
### Transcript\nAgent: hi\nCaller: hello\n\n\
### ACE transcript\nS1: a\nS2: b\n\
### ACE summary\nSum 1\nSum 2\n\n\
**Call score**: 8.5\n\
### ACE bulleted summary\n- one\n- two\n\n\
**ACE recording link**: https://ace.example/7\n\
### Call journey\nReceived call at Ann Agent, +14155550123, ext 101\nTransferred to Bob, ext 102, duration: 1 second\n";
    assert_eq!(md_of(full("")), expected);
}

#[test]
fn worked_example_of_the_spec_in_three_formats() {
    let value = json!({
        "existingBody": "", "callLog": null, "contactInfo": null, "user": {"timezoneOffset": null},
        "note": "Hello", "subject": "Inbound call from Jane", "startTime": "2024-01-15T10:30:00Z",
        "duration": 125, "result": "Accepted"
    });
    assert_eq!(
        plain_of(value.clone()),
        "- Note: Hello\n- Summary: Inbound call from Jane\n- Date/Time: 2024-01-15 10:30:00 AM\n\
- Duration: 2 minutes, 5 seconds\n- Result: Accepted\n"
    );
    assert_eq!(
        html_of(value.clone()),
        "<b>Agent notes</b><br>Hello<br><br><b>Call details</b><br><li><b>Summary</b>: Inbound call from Jane</li>\
<li><b>Date/time</b>: 2024-01-15 10:30:00 AM</li><li><b>Duration</b>: 2 minutes, 5 seconds</li>\
<li><b>Result</b>: Accepted</li>"
    );
    assert_eq!(
        md_of(value),
        "## Agent notes\nHello\n\n## Call details\n**Summary**: Inbound call from Jane\n\
**Date/Time**: 2024-01-15 10:30:00 AM\n**Duration**: 2 minutes, 5 seconds\n**Result**: Accepted\n"
    );
}

#[test]
fn defaults_write_only_the_parts_that_are_on_by_default() {
    let value = with(full(""), "user", json!({"timezoneOffset": "+00:00"}));
    let kinds: Vec<&'static str> = parts(&input(value)).iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "Note",
            "Subject",
            "DateTime",
            "Duration",
            "Result",
            "Recording",
            "Voicemail",
            "AiNote",
            "Transcript",
            "AceTranscript",
            "AceSummary",
            "Score",
            "AceBulletedSummary",
            "AceLink",
            "Journey"
        ]
    );
}

fn kind(part: &Part<'_>) -> &'static str {
    match part {
        Part::Note(_) => "Note",
        Part::SessionId(_) => "SessionId",
        Part::UserName(_) => "UserName",
        Part::Number { .. } => "Number",
        Part::Subject(_) => "Subject",
        Part::ContactNumber { .. } => "ContactNumber",
        Part::DateTime(_) => "DateTime",
        Part::Duration(_) => "Duration",
        Part::Result(_) => "Result",
        Part::Recording(_) => "Recording",
        Part::Voicemail(_) => "Voicemail",
        Part::AiNote(_) => "AiNote",
        Part::Transcript(_) => "Transcript",
        Part::AceTranscript(_) => "AceTranscript",
        Part::AceSummary(_) => "AceSummary",
        Part::Score(_) => "Score",
        Part::AceBulletedSummary(_) => "AceBulletedSummary",
        Part::AceLink(_) => "AceLink",
        Part::Journey(_) => "Journey",
    }
}

#[test]
fn each_setting_switches_its_part_off() {
    let settings = [
        ("addCallLogNote", "Note"),
        ("addCallSessionId", "SessionId"),
        ("addRingCentralUserName", "UserName"),
        ("addRingCentralNumber", "Number"),
        ("addCallLogSubject", "Subject"),
        ("addCallLogContactNumber", "ContactNumber"),
        ("addCallLogDateTime", "DateTime"),
        ("addCallLogDuration", "Duration"),
        ("addCallLogResult", "Result"),
        ("addCallLogAiNote", "AiNote"),
        ("addCallLogTranscript", "Transcript"),
        ("addCallLogRingSenseRecordingTranscript", "AceTranscript"),
        ("addCallLogRingSenseRecordingSummary", "AceSummary"),
        ("addCallLogRingSenseRecordingAIScore", "Score"),
        ("addCallLogRingSenseRecordingBulletedSummary", "AceBulletedSummary"),
        ("addCallLogRingSenseRecordingLink", "AceLink"),
        ("addCallLogLegs", "Journey"),
    ];
    for (setting, part) in settings {
        let mut value = full("");
        value["user"]["userSettings"][setting] = json!({"value": false});
        let kinds: Vec<&str> = parts(&input(value)).iter().map(kind).collect();
        assert!(!kinds.contains(&part), "{setting} off still writes {part}");
        assert_eq!(kinds.len(), 18, "{setting} off should remove exactly one part: {kinds:?}");
    }
    // One switch covers both recording links.
    let mut value = full("");
    value["user"]["userSettings"]["addCallLogRecording"] = json!({"value": false});
    let kinds: Vec<&str> = parts(&input(value)).iter().map(kind).collect();
    assert!(!kinds.contains(&"Recording") && !kinds.contains(&"Voicemail"));
}

#[test]
fn empty_texts_and_falsy_values_count_as_not_supplied() {
    let value = json!({
        "existingBody": "", "callLog": null, "contactInfo": {"phoneNumber": ""}, "user": {"timezoneOffset": "0"},
        "note": "", "subject": "", "result": "", "ringSenseAIScore": 0, "recordingLink": "", "startTime": ""
    });
    assert_eq!(plain_of(value), "");
    let value = json!({"existingBody": "", "callLog": null, "contactInfo": null, "user": {"timezoneOffset": 0},
        "ringSenseAIScore": "0"});
    // A string "0" is truthy in JavaScript.
    assert_eq!(plain_of(value), "- Call score: 0\n");
}

#[test]
fn missing_or_null_user_settings_mean_defaults() {
    let value = json!({"existingBody": "", "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00", "userSettings": null}, "note": "n", "duration": null});
    assert_eq!(plain_of(value), "- Note: n\n- Duration: 0 seconds\n");
}

#[test]
fn ringcentral_number_takes_the_extension_from_the_other_party_and_may_end_in_a_space() {
    let mut value = full("");
    value["callLog"]["direction"] = json!("Outbound");
    value["callLog"]["to"] = json!({"phoneNumber": "+16505550100"});
    value["callLog"]["from"] = json!({"phoneNumber": "+14155550123", "extensionNumber": "101", "name": "Ann"});
    let body = plain_of(value);
    assert!(body.contains("- RingCentral number and extension: +14155550123 \n"), "{body}");
    assert!(body.contains("- RingCentral user name: Ann\n"), "{body}");
}

#[test]
fn html_contact_label_follows_the_direction_and_either_label_is_rewritten() {
    let mut value = full("");
    value["callLog"]["direction"] = json!("Outbound");
    let body = html_of(value.clone());
    assert!(body.contains("<li><b>Recipient phone number</b>: +16505550100</li>"), "{body}");
    // The same log composed again as inbound rewrites the item rather than adding a second one.
    value["callLog"]["direction"] = json!("Inbound");
    let again = html_of(with(value, "existingBody", json!(body)));
    assert_eq!(again.matches("phone number</b>").count(), 1, "{again}");
    assert!(again.contains("<li><b>Caller phone number</b>: +16505550100</li>"));
}

#[test]
fn without_a_call_log_the_call_parts_are_skipped() {
    let value = with(full(""), "callLog", Value::Null);
    let body = plain_of(value);
    assert!(!body.contains("Session Id") && !body.contains("RingCentral") && !body.contains("Call journey"));
    assert!(body.contains("- Date/Time: 2024-01-15 10:30:00 AM\n"));
}

#[test]
fn call_start_time_is_used_when_start_time_is_missing() {
    let mut value = full("");
    value.as_object_mut().unwrap().remove("startTime");
    value["callLog"]["startTime"] = json!(1_705_314_600_000_i64);
    assert!(plain_of(value).contains("- Date/Time: 2024-01-15 10:30:00 AM\n"));
}

#[test]
fn unreadable_start_time_writes_no_date() {
    let value = with(full(""), "startTime", json!("not a date"));
    assert!(!plain_of(value).contains("Date/Time"));
}

// ---------------------------------------------------------------------------------------------------------------
// Update rules

#[test]
fn plain_update_rewrites_in_place_and_appends_new_parts_at_the_end() {
    let existing = "- Note: Old\n- Summary: Old subject\n\n- Duration: pending\n- Result: In Progress\n";
    let value = json!({
        "existingBody": existing, "callLog": null, "contactInfo": null, "user": {"timezoneOffset": "+00:00"},
        "note": "New", "subject": "New subject", "duration": 61, "result": "Accepted",
        "recordingLink": "https://rec.example/2"
    });
    // The Summary rewrite takes the empty line after it, as the reference does.
    assert_eq!(
        plain_of(value),
        "- Note: New\n- Summary: New subject\n- Duration: 1 minute, 1 second\n- Result: Accepted\n\
- Call recording link: https://rec.example/2\n"
    );
}

#[test]
fn plain_note_rewrite_takes_the_empty_line_before_the_next_field() {
    let existing = "- Note: Old\n\n- AI Note:\nx\n--- END\n";
    let value = json!({"existingBody": existing, "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "note": "New"});
    assert_eq!(plain_of(value), "- Note: New\n- AI Note:\nx\n--- END\n");
}

#[test]
fn plain_note_at_the_end_keeps_the_final_line_end() {
    let value = json!({"existingBody": "- Note: a\n\nb\n", "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "note": "c"});
    assert_eq!(plain_of(value), "- Note: c\n");
}

#[test]
fn html_update_rewrites_items_and_blocks_in_place() {
    let existing = "<b>Agent notes</b><br>Old<br><br><b>Call details</b><br><li><b>Summary</b>: Old</li>\
<li><b>Duration</b>: pending</li><div><b>AI Note</b><br>old ai</div><br><li><b>Result</b>: Missed</li>";
    let value = json!({
        "existingBody": existing, "callLog": null, "contactInfo": null, "user": {"timezoneOffset": "+00:00"},
        "note": "New", "subject": "New", "duration": 3600, "aiNote": "new ai\n", "result": "Accepted"
    });
    assert_eq!(
        html_of(value),
        "<b>Agent notes</b><br>New<br><br><b>Call details</b><br><li><b>Summary</b>: New</li>\
<li><b>Duration</b>: 1 hour</li><div><b>AI Note</b><br>new ai</div><br><li><b>Result</b>: Accepted</li>"
    );
}

#[test]
fn markdown_update_rewrites_in_place() {
    let existing = "## Agent notes\nOld\n\n## Call details\n**Summary**: Old\n\n**Duration**: pending\n\
### AI Note\nold\n**Result**: Missed\n";
    let value = json!({
        "existingBody": existing, "callLog": null, "contactInfo": null, "user": {"timezoneOffset": "+00:00"},
        "note": "New", "subject": "New", "duration": 0, "aiNote": "new", "result": "Accepted"
    });
    assert_eq!(
        md_of(value),
        "## Agent notes\nNew\n\n## Call details\n**Summary**: New\n**Duration**: 0 seconds\n\
### AI Note\nnew\n**Result**: Accepted\n"
    );
}

#[test]
fn markdown_note_goes_above_a_body_that_starts_with_call_details() {
    let value = json!({"existingBody": "## Call details\n**Result**: x\n", "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "note": "n"});
    assert_eq!(md_of(value), "## Agent notes\nn\n\n## Call details\n**Result**: x\n");
}

#[test]
fn ringcentral_user_name_is_only_written_over_a_pending_placeholder() {
    let cases = [
        (LogFormat::PlainText, "- RingCentral user name: (pending...)\n\n", "- RingCentral user name: Ann Agent\n"),
        (LogFormat::PlainText, "- RingCentral user name: Zed\n", "- RingCentral user name: Zed\n"),
        (
            LogFormat::Html,
            "<li><b>RingCentral user name</b>: (pending...)</li>",
            "<li><b>RingCentral user name</b>: Ann Agent</li>",
        ),
        (LogFormat::Html, "<li><b>RingCentral user name</b>: Zed</li>", "<li><b>RingCentral user name</b>: Zed</li>"),
        (LogFormat::Markdown, "**ringcentral user name**: (pending...)\n", "**RingCentral user name**: Ann Agent\n"),
        (LogFormat::Markdown, "**RingCentral user name**: Zed\n", "**RingCentral user name**: Zed\n"),
    ];
    for (format, existing, expected) in cases {
        let value = json!({"existingBody": existing, "callLog": call_log(), "contactInfo": null,
            "user": {"timezoneOffset": "+00:00", "userSettings": {"addRingCentralUserName": {"value": true},
            "addCallLogDateTime": {"value": false}, "addCallLogLegs": {"value": false}}}});
        assert_eq!(run(value, format), expected, "{format:?} over {existing:?}");
    }
}

#[test]
fn recording_placeholder_is_replaced_by_the_link_when_it_arrives() {
    let base = json!({"callLog": null, "contactInfo": null, "user": {"timezoneOffset": "+00:00"}});
    let html_pending =
        html_of(with(with(base.clone(), "existingBody", json!("")), "recordingLink", json!("SavedLocally")));
    assert_eq!(html_pending, "<li><b>Call recording link</b>: (pending...)</li>");
    let html_done = html_of(with(
        with(base.clone(), "existingBody", json!(html_pending)),
        "recordingLink",
        json!("https://rec.example/3"),
    ));
    assert_eq!(
        html_done,
        "<li><b>Call recording link</b>: <a target=\"_blank\" href=\"https://rec.example/3\">open</a></li>"
    );
    // An anchor already there is replaced as a whole, too.
    let again = html_of(with(
        with(base.clone(), "existingBody", json!(html_done)),
        "recordingLink",
        json!("https://rec.example/4"),
    ));
    assert_eq!(
        again,
        "<li><b>Call recording link</b>: <a target=\"_blank\" href=\"https://rec.example/4\">open</a></li>"
    );
    let plain = plain_of(with(
        with(base, "existingBody", json!("- Call recording link: (pending...)\n")),
        "recordingLink",
        json!("https://rec.example/3"),
    ));
    assert_eq!(plain, "- Call recording link: https://rec.example/3\n");
}

#[test]
fn plain_recording_link_starts_on_a_new_line() {
    let value = json!({"existingBody": "- Result: x", "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "voicemailLink": "https://vm.example/1"});
    assert_eq!(plain_of(value), "- Result: x\n- Voicemail recording link: https://vm.example/1\n");
}

#[test]
fn journey_is_rewritten_in_every_format() {
    let mut value = full("");
    value["user"]["userSettings"] = json!({"addCallLogDateTime": {"value": false}});
    for key in [
        "note",
        "aiNote",
        "transcript",
        "recordingLink",
        "voicemailLink",
        "subject",
        "duration",
        "result",
        "ringSenseTranscript",
        "ringSenseSummary",
        "ringSenseAIScore",
        "ringSenseBulletedSummary",
        "ringSenseLink",
    ] {
        value.as_object_mut().unwrap().remove(key);
    }
    for format in [LogFormat::PlainText, LogFormat::Html, LogFormat::Markdown] {
        let first = run(value.clone(), format);
        let mut later = with(value.clone(), "existingBody", json!(first));
        later["callLog"]["legs"][1]["duration"] = json!(30);
        let second = run(later, format);
        assert!(second.contains("duration: 30 seconds"), "{format:?}: {second}");
        assert!(!second.contains("duration: 1 second"), "{format:?}: {second}");
        assert_eq!(second.matches("Call journey").count(), 1, "{format:?}: {second}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// HTML escaping

#[test]
fn html_escapes_user_text_everywhere() {
    let hostile = "<script>alert('x')</script> & \"q\"";
    let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;";
    let mut value = full("");
    for key in [
        "note",
        "subject",
        "result",
        "aiNote",
        "transcript",
        "ringSenseTranscript",
        "ringSenseSummary",
        "ringSenseBulletedSummary",
        "ringSenseAIScore",
    ] {
        value[key] = json!(hostile);
    }
    value["callLog"]["to"]["name"] = json!(hostile);
    value["callLog"]["legs"][1]["to"]["name"] = json!(hostile);
    value["contactInfo"]["phoneNumber"] = json!(hostile);
    let body = html_of(value);
    assert!(!body.contains("<script>"), "{body}");
    // note, user name, summary, contact, result, AI note, transcript, 3 ACE texts, score, journey
    assert_eq!(body.matches(escaped).count(), 12, "{body}");
}

#[test]
fn html_links_are_attribute_encoded_and_only_web_links_become_anchors() {
    let base = json!({"existingBody": "", "callLog": null, "contactInfo": null, "user": {"timezoneOffset": "+00:00"}});
    let quoted = html_of(with(base.clone(), "recordingLink", json!("https://x.example/?a=1&b=\"><script>")));
    assert_eq!(
        quoted,
        "<li><b>Call recording link</b>: <a target=\"_blank\" href=\"https://x.example/?a=1&amp;b=&quot;&gt;&lt;script&gt;\">open</a></li>"
    );
    let script = html_of(with(base.clone(), "voicemailLink", json!("javascript:alert(1)")));
    assert_eq!(script, "<li><b>Voicemail recording link</b>: (pending...)</li>");
    let ace_script = html_of(with(base.clone(), "ringSenseLink", json!("javascript:alert('1')")));
    assert_eq!(ace_script, "<li><b>ACE recording link</b>: javascript:alert(&#39;1&#39;)</li>");
    let ace = html_of(with(base.clone(), "ringSenseLink", json!("HTTPS://ace.example/1")));
    assert_eq!(ace, "<li><b>ACE recording link</b>: <a target=\"_blank\" href=\"HTTPS://ace.example/1\">open</a></li>");
    // A text item that was escaped is found and rewritten again.
    let first = html_of(with(base.clone(), "subject", json!("a < b")));
    let second = html_of(with(with(base, "existingBody", json!(first)), "subject", json!("c > d")));
    assert_eq!(second, "<li><b>Summary</b>: c &gt; d</li>");
}

#[test]
fn html_item_values_stay_on_one_line() {
    let value = json!({"existingBody": "", "callLog": null, "contactInfo": null, "user": {"timezoneOffset": "+00:00"},
        "subject": "two\nlines"});
    let first = html_of(value.clone());
    assert_eq!(first, "<li><b>Summary</b>: two lines</li>");
    assert_eq!(html_of(with(value, "existingBody", json!(first.clone()))), first);
}

#[test]
fn escape_leaves_plain_text_borrowed() {
    assert!(matches!(html::escape("plain text"), std::borrow::Cow::Borrowed(_)));
    assert_eq!(html::escape("a&b"), "a&amp;b");
    assert!(html::is_web_link("http://a") && html::is_web_link("HtTpS://a") && !html::is_web_link("httpfoo"));
    assert!(!html::is_web_link("http:/é"));
}

// ---------------------------------------------------------------------------------------------------------------
// Legacy bodies written by the old server

#[test]
fn legacy_plain_agent_notes_label_is_rewritten_as_note() {
    let value = json!({"existingBody": "- Agent notes: old\n- Result: x\n", "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "note": "new"});
    assert_eq!(plain_of(value), "- Note: new\n- Result: x\n");
}

#[test]
fn legacy_html_items_without_li_and_in_another_case_are_rewritten() {
    let existing = "<b>Agent notes</b><br>old<br><br><b>Call details</b><br><b>duration</b>: 5 seconds<br>\
<b>RESULT</b>:Missed";
    let value = json!({"existingBody": existing, "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "duration": 6, "result": "Accepted"});
    assert_eq!(
        html_of(value),
        "<b>Agent notes</b><br>old<br><br><b>Call details</b><br><li><b>Duration</b>: 6 seconds</li><br>\
<li><b>Result</b>: Accepted</li>"
    );
}

#[test]
fn legacy_html_with_a_list_gets_new_recording_items_inside_it() {
    let existing = "<ul><li><b>Summary</b>: s</li></ul><p>footer</p>";
    let value = json!({"existingBody": existing, "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "recordingLink": "https://rec.example/1", "voicemailLink": "pending",
        "result": "ok"});
    assert_eq!(
        html_of(value),
        "<ul><li><b>Summary</b>: s</li><li><b>Call recording link</b>: <a target=\"_blank\" \
href=\"https://rec.example/1\">open</a></li><li><b>Voicemail recording link</b>: (pending...)</li></ul><p>footer</p>\
<li><b>Result</b>: ok</li>"
    );
}

#[test]
fn legacy_unescaped_html_blocks_are_found() {
    let existing = "<div><b>Transcript</b><br>A: <i>hi</i></div><br>";
    let value = json!({"existingBody": existing, "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "transcript": "B"});
    // The legacy content holds a tag, so its block ends at the first `</div>`: the whole old block is replaced.
    assert_eq!(html_of(value), "<div><b>Transcript</b><br>B</div><br>");
}

// ---------------------------------------------------------------------------------------------------------------
// Notes with `$`, label-like lines and hyphenated values (spec 6.2 item 19)

#[test]
fn dollar_sequences_are_written_literally_on_update() {
    let note = "cost $& $1 $' $` $$ done";
    let base = json!({"callLog": null, "contactInfo": null, "user": {"timezoneOffset": "+00:00"}, "note": note});
    for (format, existing) in [
        (LogFormat::PlainText, "- Note: old\n- Result: x\n"),
        (LogFormat::Html, "<b>Agent notes</b><br>old<br><br><b>Call details</b><br>"),
        (LogFormat::Markdown, "## Agent notes\nold\n\n## Call details\n"),
    ] {
        let body = run(with(base.clone(), "existingBody", json!(existing)), format);
        let written = if format == LogFormat::Html { html::escape(note).into_owned() } else { note.to_owned() };
        assert!(body.contains(&written), "{format:?}: {body}");
        assert!(!body.contains("old"), "{format:?}: {body}");
    }
    let subject = plain_of(json!({"existingBody": "- Summary: a\n", "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "subject": "$& and $'"}));
    assert_eq!(subject, "- Summary: $& and $'\n");
}

#[test]
fn plain_note_with_label_like_lines_is_rewritten_whole() {
    let note = "Call back\n- Budget: 10k\n- Next Step: demo\nthanks";
    let base = json!({"callLog": null, "contactInfo": null, "user": {"timezoneOffset": "+00:00"},
        "subject": "s", "result": "ok"});
    let first = plain_of(with(with(base.clone(), "existingBody", json!("")), "note", json!(note)));
    assert_eq!(first, format!("- Note: {note}\n- Summary: s\n- Result: ok\n"));
    let second = plain_of(with(with(base, "existingBody", json!(first)), "note", json!("short")));
    assert_eq!(second, "- Note: short\n- Summary: s\n- Result: ok\n");
}

#[test]
fn hyphenated_values_are_rewritten_in_place() {
    let existing =
        "- Contact Number: +1 650-555-0100\n- Duration: pending-ish\n- Result: Call-connected\n- Summary: x\n";
    let value = json!({"existingBody": existing, "callLog": {"direction": "Inbound"},
        "contactInfo": {"phoneNumber": "+1 650-555-0199"},
        "user": {"timezoneOffset": "+00:00", "userSettings": {"addCallLogContactNumber": {"value": true}}},
        "duration": 2, "result": "Re-routed"});
    assert_eq!(
        plain_of(value),
        "- Contact Number: +1 650-555-0199\n- Duration: 2 seconds\n- Result: Re-routed\n- Summary: x\n"
    );
}

#[test]
fn a_label_inside_a_line_of_text_is_not_taken_for_the_field() {
    let existing = "- Note: see the - Result: field below\n- Result: Missed\n";
    let value = json!({"existingBody": existing, "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "result": "Accepted"});
    assert_eq!(plain_of(value), "- Note: see the - Result: field below\n- Result: Accepted\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Reference bugs we fix: one exact test per quirk

#[test]
fn quirk_plain_contact_rewrite_adds_no_empty_line() {
    let existing = "- Summary: s\n- Contact Number: +61231309242\n- Date/Time: x\n";
    let value = json!({"existingBody": existing, "callLog": {"direction": "Outbound"},
        "contactInfo": {"phoneNumber": "+61231309999"},
        "user": {"timezoneOffset": "+00:00", "userSettings": {"addCallLogContactNumber": {"value": true}}}});
    let once = plain_of(value.clone());
    assert_eq!(once, "- Summary: s\n- Contact Number: +61231309999\n- Date/Time: x\n");
    assert_eq!(plain_of(with(value, "existingBody", json!(once.clone()))), once);
}

#[test]
fn quirk_plain_bulleted_summary_rewrite_replaces_the_whole_block() {
    let existing = "- Result: ok\n\n- ACE bulleted summary:\n- a\n- b\n--- END\n- Call journey:\nj\n--- JOURNEY END\n";
    let value = json!({"existingBody": existing, "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "ringSenseBulletedSummary": "- c\n- d\n- e"});
    assert_eq!(
        plain_of(value),
        "- Result: ok\n\n- ACE bulleted summary:\n- c\n- d\n- e\n--- END\n- Call journey:\nj\n--- JOURNEY END\n"
    );
}

#[test]
fn quirk_markdown_section_rewrite_keeps_the_fields_after_it() {
    let existing =
        "**Result**: ok\n### AI Note\nold 1\nold 2\n**Call score**: 17\n### Transcript\nt\n\n**Duration**: 5 seconds\n";
    let value = json!({"existingBody": existing, "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "aiNote": "new\n", "transcript": "u\n"});
    let once = md_of(value.clone());
    assert_eq!(
        once,
        "**Result**: ok\n### AI Note\nnew\n**Call score**: 17\n### Transcript\nu\n\n**Duration**: 5 seconds\n"
    );
    assert_eq!(md_of(with(value, "existingBody", json!(once.clone()))), once);
}

#[test]
fn quirk_markdown_ace_link_rewrite_adds_no_empty_line() {
    let existing = "**Call score**: 41\n**ACE recording link**: https://ace.example/1\n**Session Id**: 5\n";
    let value = json!({"existingBody": existing, "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "+00:00"}, "ringSenseLink": "https://ace.example/2"});
    assert_eq!(md_of(value), "**Call score**: 41\n**ACE recording link**: https://ace.example/2\n**Session Id**: 5\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Properties over the reference-bug cases and the public vectors

struct Case {
    name: String,
    format: LogFormat,
    input: ComposeInput,
}

fn cases(file: &str) -> Vec<Case> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            Case {
                name: value["name"].as_str().unwrap().to_owned(),
                format: serde_json::from_value(value["format"].clone()).unwrap(),
                input: serde_json::from_value(value["input"].clone()).unwrap(),
            }
        })
        .collect()
}

/// The markers that start each part, per format.
fn markers(format: LogFormat) -> &'static [&'static str] {
    match format {
        LogFormat::PlainText => &[
            "- Note: ",
            "- Session Id: ",
            "- RingCentral user name: ",
            "- RingCentral number and extension: ",
            "- Summary: ",
            "- Contact Number: ",
            "- Date/Time:",
            "- Duration: ",
            "- Result: ",
            "- Call recording link: ",
            "- Voicemail recording link: ",
            "- AI Note:",
            "- Transcript:",
            "- ACE transcript:",
            "- ACE summary:",
            "- Call score:",
            "- ACE bulleted summary:",
            "- ACE recording link:",
            "- Call journey:",
        ],
        LogFormat::Markdown => &[
            "## Agent notes",
            "**Session Id**: ",
            "**RingCentral user name**: ",
            "**RingCentral number and extension**: ",
            "**Summary**: ",
            "**Contact Number**: ",
            "**Date/Time**: ",
            "**Duration**: ",
            "**Result**: ",
            "**Call recording link**: ",
            "**Voicemail recording link**: ",
            "### AI Note",
            "### Transcript",
            "### ACE transcript",
            "### ACE summary",
            "**Call score**: ",
            "### ACE bulleted summary",
            "**ACE recording link**: ",
            "### Call journey",
        ],
        LogFormat::Html => &[
            "<b>Agent notes</b>",
            "<b>Session Id</b>:",
            "<b>RingCentral user name</b>:",
            "<b>RingCentral number and extension</b>:",
            "<b>Summary</b>:",
            " phone number</b>:",
            "<b>Date/time</b>:",
            "<b>Duration</b>:",
            "<b>Result</b>:",
            "<b>Call recording link</b>:",
            "<b>Voicemail recording link</b>:",
            "<div><b>AI Note</b><br>",
            "<div><b>Transcript</b><br>",
            "<div><b>ACE transcript</b><br>",
            "<div><b>ACE summary</b><br>",
            "<b>Call score</b>:",
            "<div><b>ACE bulleted summary</b><br>",
            "<b>ACE recording link</b>:",
            "<div><b>Call journey</b><br>",
        ],
    }
}

/// Units of a body: lines, or for HTML the pieces between item and block ends.
fn units(body: &str, format: LogFormat) -> Vec<String> {
    match format {
        LogFormat::Html => body
            .replace("</li>", "</li>\n")
            .replace("</div>", "</div>\n")
            .replace("<br>", "<br>\n")
            .lines()
            .map(str::to_owned)
            .collect(),
        _ => body.lines().map(str::to_owned).collect(),
    }
}

fn count_marker(body: &str, format: LogFormat, marker: &str) -> usize {
    match format {
        LogFormat::Html => body.matches(marker).count(),
        _ => body.lines().filter(|line| line.starts_with(marker)).count(),
    }
}

fn blank_lines(body: &str) -> usize {
    body.lines().filter(|line| line.is_empty()).count()
}

/// The units counted in either multiset, each once, in order.
fn keys<'m>(
    left: &'m std::collections::HashMap<String, isize>,
    right: &'m std::collections::HashMap<String, isize>,
) -> std::collections::BTreeSet<&'m String> {
    left.keys().chain(right.keys()).collect()
}

/// Non-empty units with their counts.
fn multiset(units: &[String]) -> std::collections::HashMap<String, isize> {
    let mut counts = std::collections::HashMap::new();
    for unit in units.iter().filter(|unit| !unit.is_empty()) {
        *counts.entry(unit.clone()).or_default() += 1;
    }
    counts
}

fn apply_one(format: LogFormat, body: &mut String, part: &Part<'_>) {
    let mut composed = Body::new(body, 0);
    match format {
        LogFormat::PlainText => plain::apply(&mut composed, part),
        LogFormat::Html => html::apply(&mut composed, part),
        LogFormat::Markdown => markdown::apply(&mut composed, part),
    }
    *body = composed.text;
}

/// Checks the properties a fixed update must have; returns a description of each violation.
fn violations(case: &Case) -> Vec<String> {
    let once = compose(&case.input, case.format);
    let mut problems = output_violations(case, &once);
    let format = case.format;

    // The same update again changes nothing, except that (as in the reference, and required by the vectors) a
    // rewritten plain or Markdown line takes the empty lines after it: a repeat may only delete empty lines, and
    // a third run is then a fixed point. So nothing duplicates and no empty line accumulates.
    let twice = compose(&ComposeInput { existing_body: once.clone(), ..case.input.clone() }, format);
    let thrice = compose(&ComposeInput { existing_body: twice.clone(), ..case.input.clone() }, format);
    let without_empty_lines = |body: &str| body.split('\n').filter(|it| !it.is_empty()).collect::<Vec<_>>().join("\n");
    if twice != once && (format == LogFormat::Html || without_empty_lines(&twice) != without_empty_lines(&once)) {
        problems.push("composing the same update twice changes more than empty lines".to_owned());
    }
    if thrice != twice {
        problems.push("composing the same update a third time still changes the body".to_owned());
    }
    problems
}

/// The properties of one output `once` of `case` that need no second run.
fn output_violations(case: &Case, once: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let format = case.format;
    let existing = &case.input.existing_body;

    // Every part is there exactly once, and with its new value (the user name keeps the first real one).
    let parts = parts(&case.input);
    for (index, marker) in markers(format).iter().enumerate() {
        let before = count_marker(existing, format, marker);
        let after = count_marker(once, format, marker);
        let written = parts.iter().any(|part| marker_index(part) == index);
        let expected = if before > 0 { before } else { usize::from(written) };
        if after != expected {
            problems.push(format!("{marker:?} appears {after} times, expected {expected}"));
        }
    }
    for part in &parts {
        if matches!(part, Part::UserName(_)) {
            continue;
        }
        let mut alone = String::new();
        apply_one(format, &mut alone, part);
        let rendered = alone.trim_matches('\n').trim_end_matches("<br>");
        if once.matches(rendered).count() != 1 {
            problems.push(format!("{rendered:?} is not in the body exactly once"));
        }
    }

    // Empty lines (of plain text and Markdown; HTML has none) change at most by what each part alone changes.
    let allowed: isize = blank_lines(existing) as isize
        + parts
            .iter()
            .map(|part| {
                let mut alone = existing.clone();
                apply_one(format, &mut alone, part);
                blank_lines(&alone) as isize - blank_lines(existing) as isize
            })
            .sum::<isize>();
    if format != LogFormat::Html && blank_lines(once) as isize > allowed {
        problems.push(format!("empty lines grew from {} to {}", blank_lines(existing), blank_lines(once)));
    }

    // Exact accounting of the text: the output holds the existing body's lines, minus each rewritten part's old
    // extent, plus each part's new text; nothing duplicated, nothing left behind, nothing else lost.
    let mut expected = multiset(&units(existing, format));
    for part in &parts {
        let mut alone = existing.clone();
        apply_one(format, &mut alone, part);
        let (before, after) = (multiset(&units(existing, format)), multiset(&units(&alone, format)));
        for unit in keys(&before, &after) {
            let delta = after.get(unit).copied().unwrap_or(0) - before.get(unit).copied().unwrap_or(0);
            if delta != 0 {
                *expected.entry(unit.clone()).or_default() += delta;
            }
        }
        // A part alone must never take another part's line with it.
        for unit in before.keys().filter(|unit| after.get(*unit).copied().unwrap_or(0) < before[*unit]) {
            let own = markers(format)[marker_index(part)];
            if markers(format).iter().any(|marker| *marker != own && unit.contains(marker)) {
                problems.push(format!("{} removed another part's {unit:?}", kind(part)));
            }
        }
    }
    expected.retain(|_, count| *count != 0);
    let actual = multiset(&units(once, format));
    for unit in keys(&expected, &actual) {
        let (want, got) = (expected.get(unit).copied().unwrap_or(0), actual.get(unit).copied().unwrap_or(0));
        if want != got {
            problems.push(format!("{unit:?} appears {got} times, expected {want}"));
        }
    }

    // Every new block is closed exactly once: no `--- END` is added beyond those of new blocks.
    if format == LogFormat::PlainText {
        let unbalanced = |body: &str| {
            let ends = body.lines().filter(|line| *line == "--- END").count();
            let blocks: usize =
                [11, 12, 13, 14, 16].iter().map(|at| count_marker(body, format, markers(format)[*at])).sum();
            ends as isize - blocks as isize
        };
        if unbalanced(once) > unbalanced(existing) {
            problems.push(format!(
                "`--- END` lines outnumber blocks by {} (was {})",
                unbalanced(once),
                unbalanced(existing)
            ));
        }
    }
    problems
}

fn marker_index(part: &Part<'_>) -> usize {
    match part {
        Part::Note(_) => 0,
        Part::SessionId(_) => 1,
        Part::UserName(_) => 2,
        Part::Number { .. } => 3,
        Part::Subject(_) => 4,
        Part::ContactNumber { .. } => 5,
        Part::DateTime(_) => 6,
        Part::Duration(_) => 7,
        Part::Result(_) => 8,
        Part::Recording(_) => 9,
        Part::Voicemail(_) => 10,
        Part::AiNote(_) => 11,
        Part::Transcript(_) => 12,
        Part::AceTranscript(_) => 13,
        Part::AceSummary(_) => 14,
        Part::Score(_) => 15,
        Part::AceBulletedSummary(_) => 16,
        Part::AceLink(_) => 17,
        Part::Journey(_) => 18,
    }
}

#[test]
fn reference_bug_cases_update_without_duplicating_or_losing_text() {
    let cases = cases("reference-bugs.jsonl");
    assert_eq!(cases.len(), 51);
    let report: Vec<String> = cases
        .iter()
        .flat_map(|case| violations(case).into_iter().map(move |problem| format!("{}: {problem}", case.name)))
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn the_properties_catch_every_reference_bug() {
    // The same checks applied to the reference's own output must flag each case, or they would prove nothing.
    let path = format!("{}/tests/data/reference-bugs.jsonl", env!("CARGO_MANIFEST_DIR"));
    let expected: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["expected"].as_str().unwrap().to_owned())
        .collect();
    let cases = cases("reference-bugs.jsonl");
    let unflagged: Vec<&str> = cases
        .iter()
        .zip(&expected)
        .filter(|(case, reference)| output_violations(case, reference).is_empty())
        .map(|(case, _)| case.name.as_str())
        .collect();
    assert!(unflagged.is_empty(), "reference outputs that pass our checks: {unflagged:?}");
}

#[test]
fn public_vectors_are_idempotent_and_keep_every_part() {
    let cases = cases("vectors.jsonl");
    let report: Vec<String> = cases
        .iter()
        .flat_map(|case| violations(case).into_iter().map(move |problem| format!("{}: {problem}", case.name)))
        .collect();
    assert!(report.is_empty(), "{} problems:\n{}", report.len(), report.join("\n"));
}

// ---------------------------------------------------------------------------------------------------------------
// Offsets

#[test]
fn offsets_as_strings_and_numbers() {
    let text = |it: &str| resolve_offset(Some(&TimezoneOffset::Text(it.to_owned()))).seconds;
    let number = |it: Value| resolve_offset(Some(&serde_json::from_value(it).unwrap())).seconds;
    assert_eq!(text("+05:30"), 19_800);
    assert_eq!(text("-03:30"), -12_600);
    assert_eq!(text("-00:00"), 0);
    assert_eq!(text("+14:00"), 50_400);
    assert_eq!(text("UTC+05:45"), 20_700);
    assert_eq!(text("-7"), -25_200);
    assert_eq!(text("5.5"), 19_800);
    assert_eq!(text("330"), 19_800);
    assert_eq!(text("-480"), -28_800);
    assert_eq!(text("15"), 54_000, "below 16 is hours");
    assert_eq!(text("16"), 960, "16 and above is minutes");
    assert_eq!(text("0"), 0);
    assert_eq!(text(" 8 "), 28_800);
    assert_eq!(number(json!(8)), 28_800);
    assert_eq!(number(json!(-3.5)), -12_600);
    assert_eq!(number(json!(5.75)), 20_700);
    assert_eq!(number(json!(-240)), -14_400);
    assert_eq!(number(json!(600)), 36_000);
    assert_eq!(number(json!(9.5)), 34_200);
    // Falsy and unreadable offsets mean UTC.
    assert!(!resolve_offset(Some(&serde_json::from_value(json!(0)).unwrap())).explicit);
    assert!(!resolve_offset(None).explicit);
    assert_eq!(text(""), 0);
    assert_eq!(text("abc"), 0);
    assert_eq!(text("5:30"), 0, "moment needs two hour digits and a sign");
}

#[test]
fn offset_shifts_the_date_across_midnight() {
    let value = json!({"existingBody": "", "callLog": null, "contactInfo": null,
        "user": {"timezoneOffset": "-480", "userSettings": {"logDateFormat": {"value": "dddd YYYY-MM-DD HH:mm"}}},
        "startTime": "2024-01-01T03:15:00.000Z"});
    assert_eq!(plain_of(value), "- Date/Time: Sunday 2023-12-31 19:15\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Date tokens

#[test]
fn every_date_token() {
    // Tuesday 5 March 2024, 07:08:09.123 UTC, shown at +05:30 => 12:38:09.123.
    let at = instant("2024-03-05T07:08:09.123Z");
    let offset = resolve_offset(Some(&TimezoneOffset::Text("+05:30".into())));
    let cases = [
        ("YYYY", "2024"),
        ("YY", "24"),
        ("Y", "2024"),
        ("Q", "1"),
        ("Qo", "1st"),
        ("M", "3"),
        ("Mo", "3rd"),
        ("MM", "03"),
        ("MMM", "Mar"),
        ("MMMM", "March"),
        ("D", "5"),
        ("Do", "5th"),
        ("DD", "05"),
        ("DDD", "65"),
        ("DDDo", "65th"),
        ("DDDD", "065"),
        ("d", "2"),
        ("do", "2nd"),
        ("dd", "Tu"),
        ("ddd", "Tue"),
        ("dddd", "Tuesday"),
        ("e", "2"),
        ("E", "2"),
        ("W", "10"),
        ("WW", "10"),
        ("Wo", "10th"),
        ("GGGG", "2024"),
        ("H", "12"),
        ("HH", "12"),
        ("h", "12"),
        ("hh", "12"),
        ("k", "12"),
        ("kk", "12"),
        ("m", "38"),
        ("mm", "38"),
        ("s", "9"),
        ("ss", "09"),
        ("S", "1"),
        ("SS", "12"),
        ("SSS", "123"),
        ("SSSS", "1230"),
        ("A", "PM"),
        ("a", "pm"),
        ("Z", "+05:30"),
        ("ZZ", "+0530"),
        ("X", "1709622489"),
        ("x", "1709622489123"),
        ("z", "UTC"),
        ("YYYY-MM-DD hh:mm:ss A", "2024-03-05 12:38:09 PM"),
        ("MM/DD/YYYY hh:mm A", "03/05/2024 12:38 PM"),
        ("DD/MM/YYYY HH:mm", "05/03/2024 12:38"),
        ("YYYY-MM-DD HH:mm:ss", "2024-03-05 12:38:09"),
        ("MMM D, YYYY h:mm A", "Mar 5, 2024 12:38 PM"),
        ("dddd, MMMM Do YYYY, h:mm:ss a", "Tuesday, March 5th 2024, 12:38:09 pm"),
        ("[Today is] dddd", "Today is Tuesday"),
        (r"\YYYY YYYY", "YYYY 2024"),
        ("LT", "12:38 PM"),
        ("L", "03/05/2024"),
        ("LL", "March 5, 2024"),
        ("llll", "Tue, Mar 5, 2024 12:38 PM"),
        ("MMMMM", "March3"),
        ("fiqué", "fiqué"),
    ];
    for (pattern, expected) in cases {
        assert_eq!(format_start_time(at, offset, pattern).unwrap(), expected, "pattern {pattern:?}");
    }
}

#[test]
fn default_pieces_print_as_the_pattern_reads() {
    // An empty `[]` prints nothing but keeps the pattern from being the default one, so it takes the general reading.
    let general = format!("[]{DEFAULT_DATE_FORMAT}");
    let offsets = [utc(), Offset::NONE, resolve_offset(Some(&TimezoneOffset::Text("-09:30".into())))];
    let instants = ["0999-12-31T23:59:59Z", "2024-02-29T00:00:00Z", "2024-03-05T12:38:07.123Z", "9999-12-31T23:00:00Z"];
    for (at, offset) in instants.iter().flat_map(|at| offsets.iter().map(move |offset| (at, offset))) {
        for hour in 0..24 {
            let at = instant(at) + chrono::TimeDelta::hours(hour);
            let fast = format_start_time(at, *offset, DEFAULT_DATE_FORMAT);
            assert_eq!(fast, format_start_time(at, *offset, &general), "{at} {offset:?}");
        }
    }
    assert_eq!(
        format_start_time(instant("2024-03-05T12:38:07Z"), utc(), DEFAULT_DATE_FORMAT).unwrap(),
        "2024-03-05 12:38:07 PM"
    );
}

#[test]
fn twelve_hour_clock_edges() {
    let fmt = |at: &str| format_start_time(instant(at), utc(), "h hh A a H k").unwrap();
    assert_eq!(fmt("2024-01-01T00:05:00Z"), "12 12 AM am 0 24");
    assert_eq!(fmt("2024-01-01T11:59:00Z"), "11 11 AM am 11 11");
    assert_eq!(fmt("2024-01-01T12:00:00Z"), "12 12 PM pm 12 12");
    assert_eq!(fmt("2024-01-01T13:00:00Z"), "1 01 PM pm 13 13");
}

#[test]
fn ordinals() {
    let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31, 101, 111].into_iter().map(ordinal).collect();
    assert_eq!(
        got,
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st", "101st", "111th"]
    );
}

#[test]
fn start_time_forms() {
    for (start, expected) in [
        (json!("2024-05-01T13:04:05.000Z"), "2024-05-01 01:04:05 PM"),
        (json!("2024-05-01T13:04:05Z"), "2024-05-01 01:04:05 PM"),
        (json!("2024-05-01T13:04:05.5+02:00"), "2024-05-01 11:04:05 AM"),
        (json!("2024-05-01T13:04:05"), "2024-05-01 01:04:05 PM"),
        (json!("2024-05-01"), "2024-05-01 12:00:00 AM"),
        (json!(1_714_568_645_000_i64), "2024-05-01 01:04:05 PM"),
    ] {
        let value = json!({"existingBody": "", "callLog": null, "contactInfo": null,
            "user": {"timezoneOffset": "+00:00"}, "startTime": start});
        assert_eq!(plain_of(value), format!("- Date/Time: {expected}\n"), "{start}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Durations and numbers

#[test]
fn durations_in_words() {
    let cases = [
        (0.0, "0 seconds"),
        (1.0, "1 second"),
        (59.0, "59 seconds"),
        (60.0, "1 minute"),
        (61.0, "1 minute, 1 second"),
        (125.0, "2 minutes, 5 seconds"),
        (3600.0, "1 hour"),
        (3661.0, "1 hour, 1 minute, 1 second"),
        (7322.0, "2 hours, 2 minutes, 2 seconds"),
        (61.5, "1 minute, 1.5 seconds"),
        (0.5, "0.5 second"),
        (-5.0, "0 seconds"),
    ];
    for (seconds, expected) in cases {
        assert_eq!(seconds_in_words(seconds), expected, "{seconds}");
    }
}

#[test]
fn duration_values_as_the_client_sends_them() {
    for (duration, expected) in [
        (json!("pending"), "pending"),
        (json!("125"), "2 minutes, 5 seconds"),
        (json!(""), "0 seconds"),
        (json!(null), "0 seconds"),
        (json!(7322), "2 hours, 2 minutes, 2 seconds"),
        (json!(90.25), "1 minute, 30.25 seconds"),
    ] {
        let value = json!({"existingBody": "", "callLog": null, "contactInfo": null,
            "user": {"timezoneOffset": "+00:00"}, "duration": duration});
        assert_eq!(plain_of(value), format!("- Duration: {expected}\n"), "{duration}");
    }
}

#[test]
fn numbers_print_as_javascript_prints_them() {
    for (value, expected) in [
        (87.0, "87"),
        (8.5, "8.5"),
        (92.25, "92.25"),
        (9.0, "9"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123_456_789_012.0, "123456789012"),
        (-2.5, "-2.5"),
        (f64::INFINITY, "Infinity"),
    ] {
        assert_eq!(js_number_to_string(value), expected, "{value}");
    }
    assert_eq!(js_to_number(" 12 "), Some(12.0));
    assert_eq!(js_to_number(""), Some(0.0));
    assert_eq!(js_to_number("0x10"), Some(16.0));
    assert_eq!(js_to_number("1e3"), Some(1000.0));
    assert_eq!(js_to_number("-5.5"), Some(-5.5));
    assert_eq!(js_to_number("inf"), None);
    assert_eq!(js_to_number("NaN"), None);
    assert_eq!(js_to_number("12px"), None);
    assert_eq!(js_to_number("-0x10"), None);
}

#[test]
fn call_score_prints_as_javascript_does() {
    for (score, expected) in [
        (json!(87), "87"),
        (json!(8.5), "8.5"),
        (json!("92"), "92"),
        (json!("9.0"), "9.0"),
        (json!(9.0), "9"),
        (json!(true), "true"),
    ] {
        let value = json!({"existingBody": "", "callLog": null, "contactInfo": null,
            "user": {"timezoneOffset": "+00:00"}, "ringSenseAIScore": score});
        assert_eq!(plain_of(value), format!("- Call score: {expected}\n"), "{score}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Journey

fn party(value: Value) -> Party {
    serde_json::from_value(value).unwrap()
}

fn leg(value: Value) -> CallLeg {
    serde_json::from_value(value).unwrap()
}

#[test]
fn journey_party_text_variants() {
    assert_eq!(
        party_text(Some(&party(json!({"phoneNumber": "+1", "extensionNumber": "7", "name": "A"})))),
        "A, +1, ext 7"
    );
    assert_eq!(party_text(Some(&party(json!({"phoneNumber": "+1", "extensionNumber": 7})))), "+1, ext 7");
    assert_eq!(party_text(Some(&party(json!({"phoneNumber": "+1", "name": "A"})))), "A, +1");
    assert_eq!(party_text(Some(&party(json!({"extensionNumber": "7"})))), "ext 7");
    assert_eq!(party_text(Some(&party(json!({"extensionNumber": "7", "name": "A"})))), "A, ext 7");
    assert_eq!(party_text(Some(&party(json!({"name": "A"})))), "", "a name alone is dropped");
    assert_eq!(party_text(Some(&party(json!({"phoneNumber": "", "extensionNumber": ""})))), "");
    assert_eq!(party_text(None), "");
}

#[test]
fn journey_text_has_a_line_per_leg() {
    let legs = [
        leg(
            json!({"direction": "Outbound", "from": {"phoneNumber": "+1"}, "to": {"phoneNumber": "+2"}, "duration": 9}),
        ),
        leg(json!({"direction": "Outbound", "legType": "PstnToSip", "from": {"phoneNumber": "+3"},
            "to": {"phoneNumber": "+4"}, "duration": 0})),
        leg(json!({"direction": "Outbound", "legType": "Other", "from": {"phoneNumber": "+5"},
            "to": {"phoneNumber": "+6"}, "duration": 2})),
        leg(
            json!({"direction": "Inbound", "from": {"phoneNumber": "+7"}, "to": {"phoneNumber": "+8"}, "duration": "1"}),
        ),
        leg(json!({"direction": "Inbound", "to": {"phoneNumber": "+9"}})),
    ];
    assert_eq!(
        journey_text(&legs),
        [
            "Made call from +1",
            "Transferred to +4, duration: 0 second",
            "Transferred to +5, duration: 2 seconds",
            "Transferred to +8, duration: 1 second",
            "Transferred to +9",
        ]
        .join("\n")
    );
    let inbound_first =
        [leg(json!({"direction": "Inbound", "from": {"phoneNumber": "+1"}, "to": {"extensionNumber": "5"}}))];
    assert_eq!(journey_text(&inbound_first), "Received call at ext 5");
}

#[test]
fn empty_legs_write_no_journey() {
    let mut value = full("");
    value["callLog"]["legs"] = json!([]);
    assert!(!plain_of(value).contains("journey"));
}

#[test]
fn unknown_input_keys_are_rejected() {
    let error = serde_json::from_value::<ComposeInput>(json!({"existingBody": "", "bogus": 1})).unwrap_err();
    assert!(error.to_string().contains("bogus"), "{error}");
}
