//! HTML bodies (`text/html`): the note on top, `<li><b>Label</b>: value</li>` items (never inside a `<ul>`),
//! `<div><b>Title</b><br>...</div>` blocks.
//!
//! Unlike the reference, every user text is escaped and a link becomes an `href` only when it is http(s) (and is
//! attribute-encoded). Bodies the reference wrote (unescaped, items without `<li>`, a legacy `</ul>`, labels in
//! another case, `(pending...)` placeholders) are still found and updated in place.

use super::fields::Part;
use super::{Body, push_all};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem::Finder;

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    push_escaped(&mut out, text, None);
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

/// Pushes `text` escaped as [`escape`] escapes it, with every CRLF, CR or LF replaced by `line_break` when one is
/// given (a one-line item value: `" "`, the spaces a browser would show anyway; block content: `<br>`). One pass
/// that copies the text between special characters as whole slices.
fn push_escaped(out: &mut String, text: &str, line_break: Option<&str>) {
    let bytes = text.as_bytes();
    let special = if line_break.is_some() { &SPECIAL_OR_LINE_END } else { &SPECIAL };
    let mut copied = 0;
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|byte| special[usize::from(*byte)]) {
        let found = at + offset;
        out.push_str(&text[copied..found]);
        at = found + 1;
        match bytes[found] {
            b'&' => out.push_str("&amp;"),
            b'<' => out.push_str("&lt;"),
            b'>' => out.push_str("&gt;"),
            b'"' => out.push_str("&quot;"),
            b'\'' => out.push_str("&#39;"),
            byte => {
                if byte == b'\r' && bytes.get(at) == Some(&b'\n') {
                    at += 1;
                }
                out.push_str(line_break.unwrap_or_default());
            }
        }
        copied = at;
    }
    out.push_str(&text[copied..]);
}

/// The bytes [`push_escaped`] stops at, as tables: one load per byte of text, where a `match` costs several
/// compares (transcripts make this the composer's longest loop).
const SPECIAL: [bool; 256] = byte_table(b"&<>\"'");
const SPECIAL_OR_LINE_END: [bool; 256] = byte_table(b"&<>\"'\r\n");

const fn byte_table(bytes: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut index = 0;
    while index < bytes.len() {
        table[bytes[index] as usize] = true;
        index += 1;
    }
    table
}

/// A one-line item value: escaped, with line breaks shown as the spaces a browser would show anyway.
fn push_item_value(out: &mut String, text: &str) {
    push_escaped(out, text, Some(" "));
}

/// True for links that may become an `href`: `http://` or `https://`, in any case.
pub(crate) fn is_web_link(link: &str) -> bool {
    let bytes = link.as_bytes();
    ["http://", "https://"]
        .iter()
        .any(|scheme| bytes.len() >= scheme.len() && bytes[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes()))
}

fn push_anchor(out: &mut String, link: &str) {
    out.push_str(r#"<a target="_blank" href=""#);
    push_escaped(out, link, None);
    out.push_str(r#"">open</a>"#);
}

/// An item we write: `<li><b>Label</b>: value</li>`. Found in a body as an optional `<li>`, the bold label (ASCII
/// letters in any case), `:`, white space, the value, and an optional `</li>`.
struct ItemPattern {
    /// Alternative labels: the direction can change between two runs on one log, and either label is one item.
    labels: &'static [&'static str],
    /// A link item's value may be an `<a ...>...</a>` anchor, and a text value may span lines.
    link: bool,
}

macro_rules! item {
    ($name:ident, $link:literal, $($label:literal),+) => {
        const $name: ItemPattern = ItemPattern { labels: &[$($label),+], link: $link };
    };
}
item!(SESSION_ID, false, "Session Id");
item!(USER_NAME, false, "RingCentral user name");
item!(NUMBER, false, "RingCentral number and extension");
item!(SUMMARY, false, "Summary");
item!(CONTACT, false, "Caller phone number", "Recipient phone number");
item!(DATE_TIME, false, "Date/time");
item!(DURATION, false, "Duration");
item!(RESULT, false, "Result");
item!(SCORE, false, "Call score");
item!(RECORDING, true, "Call recording link");
item!(VOICEMAIL, true, "Voicemail recording link");
item!(ACE_LINK, true, "ACE recording link");

/// An occurrence of an item pattern: its whole extent, its value and whether `</li>` closed it.
struct ItemMatch {
    extent: Range<usize>,
    value: Range<usize>,
    closed: bool,
}

impl ItemPattern {
    /// The leftmost occurrence that starts at or after `from`.
    ///
    /// A scan rather than a regular expression: this runs for every item of every composed HTML body. Every item
    /// has its label's `</b>:` right after the label, so the scan jumps from colon to colon (memchr) and reads the
    /// label backwards from there, instead of trying every tag of the body. Labels and tags compare ASCII
    /// case-insensitively (a regex's Unicode case folding would also take `ſ` for `s` and the Kelvin sign for `k`,
    /// which no body we or the reference write contains).
    fn find_at(&self, body: &str, from: usize) -> Option<ItemMatch> {
        let bytes = body.as_bytes();
        for colon in memchr::memchr_iter(b':', &bytes[from..]).map(|at| from + at) {
            let Some(close) = colon.checked_sub("</b>".len()) else { continue };
            if !bytes[close..colon].eq_ignore_ascii_case(b"</b>") {
                continue;
            }
            // Labels cannot hold `</b>:`, so at most one label of one pattern ends at this colon.
            let bold = self.labels.iter().find_map(|label| {
                let bold = close.checked_sub(label.len() + "<b>".len())?;
                let opening = &bytes[bold..close];
                (opening[..3].eq_ignore_ascii_case(b"<b>") && opening[3..].eq_ignore_ascii_case(label.as_bytes()))
                    .then_some(bold)
            });
            let Some(bold) = bold.filter(|bold| *bold >= from) else { continue };
            // The leftmost match takes the `<li>` before the label when there is one.
            let start = match bold.checked_sub("<li>".len()) {
                Some(item) if item >= from && bytes[item..bold].eq_ignore_ascii_case(b"<li>") => item,
                _ => bold,
            };
            return self.match_from(body, start, bold);
        }
        None
    }

    /// The item whose `<b>` is at `bold` (the match starting at `start`), if one is there.
    fn match_from(&self, body: &str, start: usize, bold: usize) -> Option<ItemMatch> {
        let bytes = body.as_bytes();
        let mut at = bold;
        at += prefix_len_ignore_case(&bytes[at..], b"<b>")?;
        at += self.labels.iter().find_map(|label| prefix_len_ignore_case(&bytes[at..], label.as_bytes()))?;
        at += prefix_len_ignore_case(&bytes[at..], b"</b>:")?;
        at += body[at..].find(|c: char| !c.is_whitespace()).unwrap_or(body.len() - at);
        let value_start = at;
        at = match self.link.then(|| anchor_len(&bytes[at..])).flatten() {
            Some(len) => at + len,
            None => {
                let stop: &[u8] = if self.link { b"<" } else { b"<\n" };
                at + bytes[at..].iter().position(|byte| stop.contains(byte)).unwrap_or(bytes.len() - at)
            }
        };
        let value = value_start..at;
        let closing = prefix_len_ignore_case(&bytes[at..], b"</li>");
        let end = at + closing.unwrap_or(0);
        Some(ItemMatch { extent: start..end, value, closed: closing.is_some() })
    }
}

/// `prefix.len()` when `bytes` starts with `prefix`, ASCII letters in any case.
fn prefix_len_ignore_case(bytes: &[u8], prefix: &[u8]) -> Option<usize> {
    starts_with_ignore_case(bytes, prefix).then_some(prefix.len())
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The length of the `<a ...>text</a>` anchor `bytes` starts with: `<a`, anything up to `>`, text without `<`,
/// then `</a>`.
fn anchor_len(bytes: &[u8]) -> Option<usize> {
    let mut at = prefix_len_ignore_case(bytes, b"<a")?;
    at += memchr::memchr(b'>', &bytes[at..])? + 1;
    at += memchr::memchr(b'<', &bytes[at..]).unwrap_or(bytes.len() - at);
    Some(at + prefix_len_ignore_case(&bytes[at..], b"</a>")?)
}

/// What an item shows after its label.
#[derive(Clone, Copy)]
enum ItemValue<'a> {
    /// User text, escaped on one line.
    Text(&'a str),
    /// The RingCentral number and the extension, with a space between them.
    NumberAndExtension(&'a str, &'a str),
    /// A link: an anchor when it is a web link, else the text escaped on one line.
    Link(&'a str),
    /// A recording link: an anchor when it is a web link, else `(pending...)`.
    Recording(&'a str),
}

impl ItemValue<'_> {
    fn push(self, out: &mut String) {
        match self {
            ItemValue::Text(text) => push_item_value(out, text),
            ItemValue::NumberAndExtension(number, extension) => {
                // Escaping is character by character, and the space is no special character: escaping the two
                // apart is escaping them joined.
                push_item_value(out, number);
                out.push(' ');
                push_item_value(out, extension);
            }
            ItemValue::Link(link) if is_web_link(link) => push_anchor(out, link),
            ItemValue::Link(link) => push_item_value(out, link),
            ItemValue::Recording(link) if is_web_link(link) => push_anchor(out, link),
            ItemValue::Recording(_) => out.push_str("(pending...)"),
        }
    }
}

/// Writes `part` into the HTML `body`.
pub(crate) fn apply(body: &mut Body, part: &Part<'_>) {
    match part {
        Part::Note(note) => match note_extent(&body.text) {
            Some(extent) => body.rewrite(extent, |out| {
                out.push_str("<b>Agent notes</b><br>");
                push_escaped(out, note, None);
                out.push_str("<br><br><b>Call details</b>");
            }),
            None => body.rewrite(0..0, |out| {
                out.push_str("<b>Agent notes</b><br>");
                push_escaped(out, note, None);
                out.push_str("<br><br><b>Call details</b><br>");
            }),
        },
        Part::SessionId(id) => item(body, &SESSION_ID, "Session Id", ItemValue::Text(id)),
        Part::UserName(name) => {
            let write = |out: &mut String| push_item(out, "RingCentral user name", ItemValue::Text(name));
            match find_item(&body.text, &USER_NAME) {
                // First writer wins: a name is only written over the placeholder.
                Some(found) if found.value.trim() == "(pending...)" => body.rewrite(found.extent, write),
                Some(_) => {}
                None => write(&mut body.text),
            }
        }
        Part::Number { number, extension } => {
            let value = ItemValue::NumberAndExtension(number, extension);
            item(body, &NUMBER, "RingCentral number and extension", value);
        }
        Part::Subject(subject) => item(body, &SUMMARY, "Summary", ItemValue::Text(subject)),
        Part::ContactNumber { number, outbound } => {
            let label = if *outbound { "Recipient phone number" } else { "Caller phone number" };
            item(body, &CONTACT, label, ItemValue::Text(number));
        }
        Part::DateTime(formatted) => item(body, &DATE_TIME, "Date/time", ItemValue::Text(formatted)),
        Part::Duration(formatted) => item(body, &DURATION, "Duration", ItemValue::Text(formatted)),
        Part::Result(result) => item(body, &RESULT, "Result", ItemValue::Text(result)),
        Part::Recording(link) => recording(body, &RECORDING, "Call recording link", link),
        Part::Voicemail(link) => recording(body, &VOICEMAIL, "Voicemail recording link", link),
        Part::AiNote(note) => block(body, "AI Note", note.trim_end_matches('\n'), true),
        Part::Transcript(transcript) => block(body, "Transcript", transcript, true),
        Part::AceTranscript(transcript) => block(body, "ACE transcript", transcript.trim_end_matches('\n'), false),
        Part::AceSummary(summary) => block(body, "ACE summary", summary.trim_end_matches('\n'), false),
        Part::Score(score) => item(body, &SCORE, "Call score", ItemValue::Text(score)),
        Part::AceBulletedSummary(summary) => {
            block(body, "ACE bulleted summary", summary.trim_end_matches('\n'), false);
        }
        // The reference makes any ACE link an anchor; we only make web links one and show anything else as text.
        Part::AceLink(link) => item(body, &ACE_LINK, "ACE recording link", ItemValue::Link(link)),
        Part::Journey(lines) => block(body, "Call journey", lines, false),
    }
}

/// The note: from `<b>Agent notes</b>` through the first `Call details</b>` at least one character later.
fn note_extent(body: &str) -> Option<Range<usize>> {
    const LABEL: &str = "<b>Agent notes</b>";
    const END: &str = "Call details</b>";
    static NOTE_LABEL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(LABEL));
    static NOTE_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(END));
    let start = NOTE_LABEL.find(body.as_bytes())?;
    let content = start + LABEL.len();
    let first = body[content..].chars().next()?.len_utf8();
    let end = NOTE_END.find(&body.as_bytes()[content + first..])? + content + first + END.len();
    Some(start..end)
}

/// An item found in a body: its whole extent and its current value.
struct FoundItem<'b> {
    extent: Range<usize>,
    value: &'b str,
}

/// The first item matching `pattern` that is closed by `</li>` or followed by a tag or the end of the body.
fn find_item<'b>(body: &'b str, pattern: &ItemPattern) -> Option<FoundItem<'b>> {
    let mut from = 0;
    while let Some(found) = pattern.find_at(body, from) {
        let after = &body[found.extent.end..];
        if found.closed || after.is_empty() || after.starts_with('<') {
            return Some(FoundItem { extent: found.extent, value: &body[found.value] });
        }
        // Every match starts at an ASCII `<`, so the next byte is a character boundary.
        from = found.extent.start + 1;
    }
    None
}

/// An item as we write it: `<li><b>label</b>: value</li>`.
fn push_item(out: &mut String, label: &str, value: ItemValue<'_>) {
    out.push_str("<li><b>");
    out.push_str(label);
    out.push_str("</b>: ");
    value.push(out);
    out.push_str("</li>");
}

/// Replaces the item or appends it.
fn item(body: &mut Body, pattern: &ItemPattern, label: &str, value: ItemValue<'_>) {
    let write = |out: &mut String| push_item(out, label, value);
    match find_item(&body.text, pattern) {
        Some(found) => body.rewrite(found.extent, write),
        None => write(&mut body.text),
    }
}

/// A recording or voicemail item: an anchor for web links, else `(pending...)`; new items go before a legacy
/// `</ul>` when the body has one.
fn recording(body: &mut Body, pattern: &ItemPattern, label: &str, link: &str) {
    let write = |out: &mut String| push_item(out, label, ItemValue::Recording(link));
    match find_item(&body.text, pattern) {
        Some(found) => body.rewrite(found.extent, write),
        None => match LIST_END.find(body.text.as_bytes()) {
            Some(at) => body.rewrite(at..at, write),
            None => write(&mut body.text),
        },
    }
}

/// Replaces the block `<div><b>title</b><br>...</div>` or appends it (followed by `<br>` when `trailing_break`).
fn block(body: &mut Body, title: &str, content: &str, trailing_break: bool) {
    let write = |out: &mut String| {
        push_all(out, &["<div><b>", title, "</b><br>"]);
        push_escaped(out, content, Some("<br>"));
        out.push_str("</div>");
    };
    match block_extent(&body.text, title) {
        Some(extent) => body.rewrite(extent, write),
        None => {
            write(&mut body.text);
            if trailing_break {
                body.text.push_str("<br>");
            }
        }
    }
}

/// A block: from its opening `<div><b>title</b><br>` through the first `</div>` after it.
fn block_extent(body: &str, title: &str) -> Option<Range<usize>> {
    let start = find_block_opening(body, title)?;
    let content = start + "<div><b></b><br>".len() + title.len();
    let end = DIV_END.find(&body.as_bytes()[content..])? + content + "</div>".len();
    Some(start..end)
}

/// Finders for the tags the lookups search, prepared once: `str::find` prepares its searcher again on
/// every call, which costs more than the search itself in a body this small.
static DIV_BOLD: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("<div><b>"));
static DIV_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("</div>"));
static LIST_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("</ul>"));

/// The offset of the first `<div><b>title</b><br>` in `body`.
fn find_block_opening(body: &str, title: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    DIV_BOLD.find_iter(bytes).find(|at| {
        let rest = &bytes[at + "<div><b>".len()..];
        rest.starts_with(title.as_bytes()) && rest[title.len()..].starts_with(b"</b><br>")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each item scan finds, match after match, exactly what the regular expression it replaced found.
    #[test]
    fn item_scans_agree_with_the_patterns_they_replace() {
        let item = |label: &str| format!(r"(?i)(?:<li>)?<b>{label}</b>:\s*([^<\n]*)(</li>)?");
        let link = |label: &str| format!(r"(?i)(?:<li>)?<b>{label}</b>:\s*(<a[^>]*>[^<]*</a>|[^<]*)(</li>)?");
        let cases = [
            (SESSION_ID, item("Session Id")),
            (SUMMARY, item("Summary")),
            (CONTACT, item("(?:Caller|Recipient) phone number")),
            (DATE_TIME, item("Date/time")),
            (RECORDING, link("Call recording link")),
            (ACE_LINK, link("ACE recording link")),
        ];
        let cases: Vec<_> = cases.into_iter().map(|(pattern, regex)| (pattern, super::super::regex(&regex))).collect();
        let mut matched = 0;
        for body in crate::compose::scan_tests::random_bodies() {
            for (pattern, regex) in &cases {
                let mut from = 0;
                loop {
                    let expected = regex.captures_at(&body, from).map(|it| {
                        (it.get(0).map(|it| it.range()), it.get(1).map(|it| it.range()), it.get(2).is_some())
                    });
                    let found = pattern.find_at(&body, from).map(|it| (Some(it.extent), Some(it.value), it.closed));
                    assert_eq!(found, expected, "{regex} in {body:?} from {from}");
                    matched += usize::from(found.is_some());
                    match found {
                        Some((Some(extent), _, _)) => from = extent.start + 1,
                        _ => break,
                    }
                }
            }
        }
        assert!(matched > 10_000, "only {matched} matches: the bodies do not exercise the scans");
    }
}
