//! Logging set-up and the redaction every log line goes through: no tokens (they are `Secret`s and never
//! formatted) and no full phone numbers (masked to their last four digits). Text a CRM wrote (error bodies) goes
//! through [`redact_for_log`]: whatever it echoes of a credential, an e-mail address or a phone number is masked,
//! and it is cut to a bounded length.

use std::sync::OnceLock;

use regex::Regex;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormatArg;

/// Installs the global tracing subscriber; later calls do nothing.
pub fn init(filter: &str, format: LogFormatArg) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into files or log collectors.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let result = match format {
        LogFormatArg::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormatArg::Text => builder.try_init(),
    };
    // A subscriber set earlier (tests) stays in place.
    drop(result);
}

/// A phone number for a log line: `***0123`.
pub fn mask_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("***{tail}")
}

/// `text` with every run of seven or more digits (optionally spaced or dashed, as phone numbers are written)
/// masked to its last four digits; for error texts that may quote a number the CRM was asked about.
pub fn redact_numbers(text: &str) -> String {
    static PHONE: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(pattern) = PHONE.get_or_init(|| Regex::new(r"\+?\d(?:[\d\-\s().]{5,}\d)").ok()) else {
        return text.to_owned();
    };
    pattern
        .replace_all(text, |captures: &regex::Captures<'_>| {
            let matched = &captures[0];
            if matched.chars().filter(char::is_ascii_digit).count() >= 7 {
                mask_phone(matched)
            } else {
                matched.to_owned()
            }
        })
        .into_owned()
}

/// The most characters of CRM-written text a log line carries.
pub const MAX_LOGGED_TEXT_CHARS: usize = 500;
/// Text beyond this is not even scanned: a CRM's multi-megabyte error page costs no more than this to redact.
const MAX_SCANNED_CHARS: usize = 8 * 1024;

/// The patterns of [`redact_for_log`], in the order they apply, with what replaces a match.
fn secret_patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // Authorization schemes: `Bearer abc...`, `Basic dXNlcjpwYXNz`.
            (r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{4,}", "$1 ***"),
            // A credential-named field, as JSON, a query or a form: `"access_token": "x"`, `api_key=x`.
            (
                r#"(?i)("?[a-z0-9_-]*(?:token|secret|passw(?:or)?d|api[_-]?key|apikey|authorization|signature|credential|session)[a-z0-9_-]*"?\s*[:=]\s*"?)[^"&,;\s}]+"#,
                "${1}***",
            ),
            // JSON Web Tokens.
            (r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", "***"),
            // E-mail addresses.
            (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", "***@***"),
            // Anything that looks like a key: a long run of key characters mixing letters and digits (checked below).
            (r"[A-Za-z0-9_+/=-]{24,}", "***"),
        ]
        .into_iter()
        .filter_map(|(pattern, replacement)| Regex::new(pattern).ok().map(|it| (it, replacement)))
        .collect()
    })
}

/// Text a CRM or a token endpoint wrote, fit for a log line: credentials, e-mail addresses, key-like strings and
/// phone numbers masked, at most [`MAX_LOGGED_TEXT_CHARS`] characters.
pub fn redact_for_log(text: &str) -> String {
    let mut redacted = cut(text, MAX_SCANNED_CHARS);
    for (index, (pattern, replacement)) in secret_patterns().iter().enumerate() {
        let key_like = index == secret_patterns().len() - 1;
        redacted = pattern
            .replace_all(&redacted, |captures: &regex::Captures<'_>| {
                let matched = &captures[0];
                let mixes =
                    matched.chars().any(|it| it.is_ascii_alphabetic()) && matched.chars().any(|it| it.is_ascii_digit());
                if key_like && !mixes {
                    matched.to_owned()
                } else {
                    let mut expanded = String::new();
                    captures.expand(replacement, &mut expanded);
                    expanded
                }
            })
            .into_owned();
    }
    let redacted = redact_numbers(&redacted);
    let total = redacted.chars().count();
    if total <= MAX_LOGGED_TEXT_CHARS {
        return redacted;
    }
    format!("{}... ({} more characters)", cut(&redacted, MAX_LOGGED_TEXT_CHARS), total - MAX_LOGGED_TEXT_CHARS)
}

/// The first `max` characters of `text`.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crm_text_loses_credentials_addresses_and_numbers() {
        let body = r#"Pipedrive 401: {"error":"invalid","access_token":"at-9f8e7d","client_secret": "cs_live_x",
            "hint":"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEifQ.c2lnbmF0dXJl",
            "user":"grace.hopper@example.com","phone":"+1 415 555 0123",
            "echo":"key 8c1f0b7e4d2a49f6b3a1c0d9e8f7a6b5","url":"/v1/persons?api_token=abc123&term=x"}"#;
        let logged = redact_for_log(body);
        for leaked in [
            "at-9f8e7d",
            "cs_live_x",
            "eyJhbGciOiJIUzI1NiJ9",
            "c2lnbmF0dXJl",
            "grace.hopper",
            "example.com",
            "415 555",
            "8c1f0b7e4d2a49f6b3a1c0d9e8f7a6b5",
            "abc123",
        ] {
            assert!(!logged.contains(leaked), "`{leaked}` survived: {logged}");
        }
        for kept in ["Pipedrive 401", "\"error\":\"invalid\"", "***0123", "term=x", "/v1/persons"] {
            assert!(logged.contains(kept), "`{kept}` was lost: {logged}");
        }
        assert_eq!(redact_for_log("Deal not found (status 404)"), "Deal not found (status 404)");
    }

    #[test]
    fn long_crm_text_is_cut() {
        let body = "<html>".to_owned() + &"error page ".repeat(100_000);
        let logged = redact_for_log(&body);
        assert!(logged.chars().count() < MAX_LOGGED_TEXT_CHARS + 40, "{}", logged.len());
        assert!(logged.ends_with("more characters)"), "{logged}");
    }

    #[test]
    fn phone_numbers_keep_only_their_last_four_digits() {
        assert_eq!(mask_phone("+14155550123"), "***0123");
        assert_eq!(mask_phone("12"), "***12");
        assert_eq!(
            redact_numbers("GET /persons/search?term=+14155550123 failed"),
            "GET /persons/search?term=***0123 failed"
        );
        assert_eq!(redact_numbers("call +1 (415) 555-0123 now"), "call ***0123 now");
        assert_eq!(redact_numbers("status 404 after 3 tries"), "status 404 after 3 tries");
    }
}
