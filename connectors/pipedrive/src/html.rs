//! HTML escaping for the text we put into Pipedrive notes, and the reverse for the agent note we read back.
//!
//! App Connect writes user text into notes raw, which lets a caller's SMS inject markup into the CRM (DESIGN.md
//! "Weaknesses of the reference that we fix"). Five characters need escaping in element content; a crate for that
//! would be a dependency for ten lines.

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `text` with the entities [`escape`] writes (and numeric ones, and `&nbsp;`) turned back into characters.
/// Anything that is not a known entity is kept as it is.
pub(crate) fn unescape(text: &str) -> String {
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
