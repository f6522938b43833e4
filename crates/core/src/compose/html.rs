//! HTML bodies (`text/html`): the note on top, `<li><b>Label</b>: value</li>` items (never inside a `<ul>`),
//! `<div><b>Title</b><br>...</div>` blocks.
//!
//! Unlike the reference, every user text is escaped and a link becomes an `href` only when it is http(s) (and is
//! attribute-encoded). Bodies the reference wrote (unescaped, items without `<li>`, a legacy `</ul>`, labels in
//! another case, `(pending...)` placeholders) are still found and updated in place.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::fields::Part;
use super::{regex, splice};

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

/// `text` with the entities [`escape`] writes (and numeric ones, and `&nbsp;`) turned back into characters.
/// Anything that is not a known entity is kept as it is.
pub fn unescape(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        plain.push_str(&rest[..amp]);
        let candidate = &rest[amp..];
        match candidate
            .find(';')
            .filter(|end| *end <= 10)
            .and_then(|end| decode(&candidate[1..end]).map(|ch| (ch, end)))
        {
            Some((ch, end)) => {
                plain.push(ch);
                rest = &candidate[end + 1..];
            }
            None => {
                plain.push('&');
                rest = &candidate[1..];
            }
        }
    }
    plain.push_str(rest);
    plain
}

/// The character an entity name (between `&` and `;`) stands for.
fn decode(entity: &str) -> Option<char> {
    match entity {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = entity.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse::<u32>().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// A one-line item value: escaped, with line breaks shown as the spaces a browser would show anyway.
fn item_value(text: &str) -> String {
    escape(text).replace("\r\n", " ").replace(['\r', '\n'], " ")
}

/// Block content: escaped, every CRLF, CR or LF turned into `<br>`.
fn block_content(text: &str) -> String {
    escape(text).replace("\r\n", "<br>").replace(['\r', '\n'], "<br>")
}

/// True for links that may become an `href`: `http://` or `https://`, in any case.
pub(crate) fn is_web_link(link: &str) -> bool {
    let bytes = link.as_bytes();
    ["http://", "https://"]
        .iter()
        .any(|scheme| bytes.len() >= scheme.len() && bytes[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes()))
}

fn anchor(link: &str) -> String {
    format!(r#"<a target="_blank" href="{}">open</a>"#, escape(link))
}

/// An item: optional `<li>`, the bold label, a value up to `<` or a line end, then `</li>` (group 2) or `<` or the end.
macro_rules! item {
    ($name:ident, $label:literal) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| regex(concat!(r"(?i)(?:<li>)?<b>", $label, r"</b>:\s*([^<\n]*)(</li>)?")));
    };
}
item!(SESSION_ID, "Session Id");
item!(USER_NAME, "RingCentral user name");
item!(NUMBER, "RingCentral number and extension");
item!(SUMMARY, "Summary");
// The direction can change between two runs on one log; either label is the same item.
item!(CONTACT, "(?:Caller|Recipient) phone number");
item!(DATE_TIME, "Date/time");
item!(DURATION, "Duration");
item!(RESULT, "Result");
item!(SCORE, "Call score");

/// A link item: the value may be an `<a ...>...</a>` anchor or text.
macro_rules! link_item {
    ($name:ident, $label:literal) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| regex(concat!(r"(?i)(?:<li>)?<b>", $label, r"</b>:\s*(<a[^>]*>[^<]*</a>|[^<]*)(</li>)?")));
    };
}
link_item!(RECORDING, "Call recording link");
link_item!(VOICEMAIL, "Voicemail recording link");
link_item!(ACE_LINK, "ACE recording link");

/// Writes `part` into the HTML `body`.
pub(crate) fn apply(body: &mut String, part: &Part<'_>) {
    match part {
        Part::Note(note) => {
            let note = escape(note);
            match note_extent(body) {
                Some(extent) => {
                    splice(body, extent, &format!("<b>Agent notes</b><br>{note}<br><br><b>Call details</b>"))
                }
                None => body.insert_str(0, &format!("<b>Agent notes</b><br>{note}<br><br><b>Call details</b><br>")),
            }
        }
        Part::SessionId(id) => item(body, &SESSION_ID, "Session Id", &item_value(id)),
        Part::UserName(name) => {
            let text = format!("<li><b>RingCentral user name</b>: {}</li>", item_value(name));
            match find_item(body, &USER_NAME) {
                // First writer wins: a name is only written over the placeholder.
                Some(found) if found.value.trim() == "(pending...)" => splice(body, found.extent, &text),
                Some(_) => {}
                None => body.push_str(&text),
            }
        }
        Part::Number { number, extension } => {
            let value = item_value(&format!("{number} {extension}"));
            item(body, &NUMBER, "RingCentral number and extension", &value);
        }
        Part::Subject(subject) => item(body, &SUMMARY, "Summary", &item_value(subject)),
        Part::ContactNumber { number, outbound } => {
            let label = if *outbound { "Recipient phone number" } else { "Caller phone number" };
            item(body, &CONTACT, label, &item_value(number));
        }
        Part::DateTime(formatted) => item(body, &DATE_TIME, "Date/time", &item_value(formatted)),
        Part::Duration(formatted) => item(body, &DURATION, "Duration", &item_value(formatted)),
        Part::Result(result) => item(body, &RESULT, "Result", &item_value(result)),
        Part::Recording(link) => recording(body, &RECORDING, "Call recording link", link),
        Part::Voicemail(link) => recording(body, &VOICEMAIL, "Voicemail recording link", link),
        Part::AiNote(note) => block(body, "AI Note", note.trim_end_matches('\n'), true),
        Part::Transcript(transcript) => block(body, "Transcript", transcript, true),
        Part::AceTranscript(transcript) => block(body, "ACE transcript", transcript.trim_end_matches('\n'), false),
        Part::AceSummary(summary) => block(body, "ACE summary", summary.trim_end_matches('\n'), false),
        Part::Score(score) => item(body, &SCORE, "Call score", &item_value(score)),
        Part::AceBulletedSummary(summary) => {
            block(body, "ACE bulleted summary", summary.trim_end_matches('\n'), false);
        }
        Part::AceLink(link) => {
            // The reference makes any ACE link an anchor; we only make web links one and show anything else as text.
            let value = if is_web_link(link) { anchor(link) } else { item_value(link) };
            item(body, &ACE_LINK, "ACE recording link", &value);
        }
        Part::Journey(lines) => block(body, "Call journey", &lines.join("\n"), false),
    }
}

/// The note: from `<b>Agent notes</b>` through the first `Call details</b>` at least one character later.
fn note_extent(body: &str) -> Option<Range<usize>> {
    const LABEL: &str = "<b>Agent notes</b>";
    const END: &str = "Call details</b>";
    let start = body.find(LABEL)?;
    let content = start + LABEL.len();
    let first = body[content..].chars().next()?.len_utf8();
    let end = body[content + first..].find(END)? + content + first + END.len();
    Some(start..end)
}

/// An item found in a body: its whole extent and its current value.
struct FoundItem<'b> {
    extent: Range<usize>,
    value: &'b str,
}

/// The first item matching `pattern` that is closed by `</li>` or followed by a tag or the end of the body.
fn find_item<'b>(body: &'b str, pattern: &Regex) -> Option<FoundItem<'b>> {
    let mut from = 0;
    while let Some(captures) = pattern.captures_at(body, from) {
        let whole = captures.get(0)?;
        if closed(&captures) || body[whole.end()..].is_empty() || body[whole.end()..].starts_with('<') {
            let value = captures.get(1).map_or("", |it| it.as_str());
            return Some(FoundItem { extent: whole.range(), value });
        }
        // Every match starts at an ASCII `<`, so the next byte is a character boundary.
        from = whole.start() + 1;
    }
    None
}

fn closed(captures: &Captures<'_>) -> bool {
    captures.get(2).is_some()
}

/// Replaces the item or appends it; `value` is already HTML.
fn item(body: &mut String, pattern: &Regex, label: &str, value: &str) {
    let text = format!("<li><b>{label}</b>: {value}</li>");
    match find_item(body, pattern) {
        Some(found) => splice(body, found.extent, &text),
        None => body.push_str(&text),
    }
}

/// A recording or voicemail item: an anchor for web links, else `(pending...)`; new items go before a legacy
/// `</ul>` when the body has one.
fn recording(body: &mut String, pattern: &Regex, label: &str, link: &str) {
    let value = if is_web_link(link) { anchor(link) } else { "(pending...)".to_owned() };
    let text = format!("<li><b>{label}</b>: {value}</li>");
    match find_item(body, pattern) {
        Some(found) => splice(body, found.extent, &text),
        None => match body.find("</ul>") {
            Some(at) => body.insert_str(at, &text),
            None => body.push_str(&text),
        },
    }
}

/// Replaces the block `<div><b>title</b><br>...</div>` or appends it (followed by `<br>` when `trailing_break`).
fn block(body: &mut String, title: &str, content: &str, trailing_break: bool) {
    let opening = format!("<div><b>{title}</b><br>");
    let text = format!("{opening}{}</div>", block_content(content));
    match block_extent(body, &opening) {
        Some(extent) => splice(body, extent, &text),
        None => {
            body.push_str(&text);
            if trailing_break {
                body.push_str("<br>");
            }
        }
    }
}

/// A block: from its opening through the first `</div>` after it.
pub(crate) fn block_extent(body: &str, opening: &str) -> Option<Range<usize>> {
    let start = body.find(opening)?;
    let content = start + opening.len();
    let end = body[content..].find("</div>")? + content + "</div>".len();
    Some(start..end)
}
