//! HTML bodies (`text/html`): the note on top, `<li><b>Label</b>: value</li>` items (never inside a `<ul>`),
//! `<div><b>Title</b><br>...</div>` blocks.
//!
//! Unlike the reference, every user text is escaped and a link becomes an `href` only when it is http(s) (and is
//! attribute-encoded). Bodies the reference wrote (unescaped, items without `<li>`, a legacy `</ul>`, labels in
//! another case, `(pending...)` placeholders) are still found and updated in place.

use super::fields::Part;
use super::splice;
use std::borrow::Cow;
use std::ops::Range;

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
    escaped_with_breaks(text, " ")
}

/// Block content: escaped, every CRLF, CR or LF turned into `<br>`.
fn block_content(text: &str) -> String {
    escaped_with_breaks(text, "<br>")
}

/// [`escape`] and every CRLF, CR or LF replaced by `line_break`, in one pass that copies the text between special
/// characters as whole slices.
fn escaped_with_breaks(text: &str, line_break: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let bytes = text.as_bytes();
    let mut copied = 0;
    let mut at = 0;
    while let Some(offset) =
        bytes[at..].iter().position(|byte| matches!(byte, b'&' | b'<' | b'>' | b'"' | b'\'' | b'\r' | b'\n'))
    {
        let special = at + offset;
        out.push_str(&text[copied..special]);
        at = special + 1;
        match bytes[special] {
            b'&' => out.push_str("&amp;"),
            b'<' => out.push_str("&lt;"),
            b'>' => out.push_str("&gt;"),
            b'"' => out.push_str("&quot;"),
            b'\'' => out.push_str("&#39;"),
            byte => {
                if byte == b'\r' && bytes.get(at) == Some(&b'\n') {
                    at += 1;
                }
                out.push_str(line_break);
            }
        }
        copied = at;
    }
    out.push_str(&text[copied..]);
    out
}

/// True for links that may become an `href`: `http://` or `https://`, in any case.
pub(crate) fn is_web_link(link: &str) -> bool {
    let bytes = link.as_bytes();
    ["http://", "https://"]
        .iter()
        .any(|scheme| bytes.len() >= scheme.len() && bytes[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes()))
}

fn anchor(link: &str) -> String {
    [r#"<a target="_blank" href=""#, &escape(link), r#"">open</a>"#].concat()
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
    /// A scan rather than a regular expression: this runs for every item of every composed HTML body. Labels and
    /// tags compare ASCII case-insensitively (a regex's Unicode case folding would also take `ſ` for `s` and the
    /// Kelvin sign for `k`, which no body we or the reference write contains).
    fn find_at(&self, body: &str, from: usize) -> Option<ItemMatch> {
        let bytes = body.as_bytes();
        let mut at = from;
        while let Some(offset) = memchr::memchr(b'<', &bytes[at..]) {
            let start = at + offset;
            let opening = if starts_with_ignore_case(&bytes[start..], b"<li>") { start + 4 } else { start };
            if let Some(found) = self.match_from(body, start, opening) {
                return Some(found);
            }
            at = start + 1;
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

/// Writes `part` into the HTML `body`.
pub(crate) fn apply(body: &mut String, part: &Part<'_>) {
    match part {
        Part::Note(note) => {
            let note = escape(note);
            match note_extent(body) {
                Some(extent) => {
                    splice(body, extent, &["<b>Agent notes</b><br>", &note, "<br><br><b>Call details</b>"].concat())
                }
                None => {
                    body.insert_str(0, &["<b>Agent notes</b><br>", &note, "<br><br><b>Call details</b><br>"].concat())
                }
            }
        }
        Part::SessionId(id) => item(body, &SESSION_ID, "Session Id", &item_value(id)),
        Part::UserName(name) => {
            let text = ["<li><b>RingCentral user name</b>: ", &item_value(name), "</li>"].concat();
            match find_item(body, &USER_NAME) {
                // First writer wins: a name is only written over the placeholder.
                Some(found) if found.value.trim() == "(pending...)" => splice(body, found.extent, &text),
                Some(_) => {}
                None => body.push_str(&text),
            }
        }
        Part::Number { number, extension } => {
            let value = item_value(&[*number, " ", *extension].concat());
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

/// Replaces the item or appends it; `value` is already HTML.
fn item(body: &mut String, pattern: &ItemPattern, label: &str, value: &str) {
    let text = ["<li><b>", label, "</b>: ", value, "</li>"].concat();
    match find_item(body, pattern) {
        Some(found) => splice(body, found.extent, &text),
        None => body.push_str(&text),
    }
}

/// A recording or voicemail item: an anchor for web links, else `(pending...)`; new items go before a legacy
/// `</ul>` when the body has one.
fn recording(body: &mut String, pattern: &ItemPattern, label: &str, link: &str) {
    let value = if is_web_link(link) { anchor(link) } else { "(pending...)".to_owned() };
    let text = ["<li><b>", label, "</b>: ", &value, "</li>"].concat();
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
    let opening = ["<div><b>", title, "</b><br>"].concat();
    let text = [&opening, &block_content(content), "</div>"].concat();
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
