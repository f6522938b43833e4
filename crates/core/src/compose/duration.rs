//! Call durations in words: `2 minutes, 5 seconds`, `1 hour, 1 minute, 1 second`, `0 seconds`.
//!
//! Mirrors the reference's arithmetic (floor of hours and minutes, the rest as seconds, which may be fractional) and
//! its wording: a part is plural when greater than 1, zero parts are left out, and text that is not a number (the
//! `pending` that server-side logging sends) is written as it is.

use crate::schema::CallDuration;

use super::number::{js_json_number, js_to_number, push_js_number};

/// The duration in words, or the text itself when it is not a number.
pub(crate) fn format_duration(duration: &CallDuration) -> String {
    let seconds = match duration {
        CallDuration::Seconds(number) => number.as_f64(),
        CallDuration::Text(text) => js_to_number(text),
    };
    match seconds {
        Some(seconds) => seconds_in_words(seconds),
        None => duration_as_typed(duration),
    }
}

/// The duration as the client typed it, printed as JavaScript prints the value (`586`, `12.5`, `pending`).
pub(crate) fn duration_as_typed(duration: &CallDuration) -> String {
    match duration {
        CallDuration::Seconds(number) => js_json_number(number),
        CallDuration::Text(text) => text.clone(),
    }
}

/// The duration as a number where JavaScript would compare it as one (`leg.duration > 1`).
pub(crate) fn duration_value(duration: &CallDuration) -> Option<f64> {
    match duration {
        CallDuration::Seconds(number) => number.as_f64(),
        CallDuration::Text(text) => js_to_number(text),
    }
}

/// `seconds` in words; `0 seconds` when every part is zero (or negative, as in the reference).
pub(crate) fn seconds_in_words(seconds: f64) -> String {
    let hours = (seconds / 3600.0).floor();
    let minutes = ((seconds % 3600.0) / 60.0).floor();
    let rest = seconds % 60.0;
    let mut words = String::with_capacity(32);
    for (amount, unit) in [(hours, "hour"), (minutes, "minute"), (rest, "second")] {
        if amount > 0.0 {
            if !words.is_empty() {
                words.push_str(", ");
            }
            push_js_number(&mut words, amount);
            words.push(' ');
            words.push_str(unit);
            if amount > 1.0 {
                words.push('s');
            }
        }
    }
    if words.is_empty() {
        words.push_str("0 seconds");
    }
    words
}
