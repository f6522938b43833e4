//! Logging set-up and the redaction every log line goes through: no tokens (they are `Secret`s and never
//! formatted) and no full phone numbers (masked to their last four digits).

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

#[cfg(test)]
mod tests {
    use super::*;

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
