//! The call's date and time: the user's UTC offset (App Connect's rules) and moment.js-style format tokens.
//!
//! The reference formats with moment.js in English. We translate the tokens ourselves: `YYYY YY Y Q Qo M Mo MM MMM
//! MMMM D Do DD DDD DDDo DDDD d do dd ddd dddd e E H HH h hh k kk m mm s ss S…SSSSSSSSS A a Z ZZ X x W Wo WW GGGG
//! GG z zz` and the English locale shortcuts `LT LTS L LL LLL LLLL l ll lll llll`; `[text]` is literal and `\`
//! escapes the next token. Anything else is printed as it is.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};

use crate::schema::{StartTime, TimezoneOffset};

use super::number::js_to_number;

/// The format used when the user has not chosen one (`2024-01-15 10:30:00 AM`).
pub(crate) const DEFAULT_DATE_FORMAT: &str = "YYYY-MM-DD hh:mm:ss A";

/// A UTC offset resolved from the user's `timezoneOffset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Offset {
    /// Seconds east of UTC.
    pub seconds: i64,
    /// False when no offset was given: the reference then uses the server's zone, which we take to be UTC.
    pub explicit: bool,
}

impl Offset {
    const NONE: Offset = Offset { seconds: 0, explicit: false };
}

/// Resolves App Connect's `timezoneOffset`.
///
/// A string with `:` is a `±HH:MM` offset; anything else is a number, in hours when its magnitude is below 16 and in
/// minutes otherwise. Missing, empty, numeric `0` (falsy in JavaScript) and unreadable values mean UTC.
pub(crate) fn resolve_offset(offset: Option<&TimezoneOffset>) -> Offset {
    let minutes = match offset {
        None => return Offset::NONE,
        Some(TimezoneOffset::Number(number)) => match number.as_f64() {
            Some(value) if value != 0.0 => hours_or_minutes(value),
            _ => return Offset::NONE,
        },
        Some(TimezoneOffset::Text(text)) if text.is_empty() => return Offset::NONE,
        Some(TimezoneOffset::Text(text)) if text.contains(':') => match offset_from_text(text) {
            Some(minutes) => minutes as f64,
            None => return Offset::NONE,
        },
        Some(TimezoneOffset::Text(text)) => match js_to_number(text) {
            Some(value) => hours_or_minutes(value),
            None => return Offset::NONE,
        },
    };
    if !minutes.is_finite() {
        return Offset::NONE;
    }
    Offset { seconds: (minutes * 60.0).round() as i64, explicit: true }
}

/// The user's UTC offset by [`resolve_offset`]'s rule, as a chrono offset; anything a day or more away is UTC.
pub fn user_offset(offset: Option<&TimezoneOffset>) -> chrono::FixedOffset {
    let seconds = resolve_offset(offset).seconds;
    i32::try_from(seconds)
        .ok()
        .filter(|it| it.abs() < 86_400)
        .and_then(chrono::FixedOffset::east_opt)
        .unwrap_or_else(|| chrono::Offset::fix(&Utc))
}

/// moment's rule: a magnitude below 16 is hours, anything else minutes.
fn hours_or_minutes(value: f64) -> f64 {
    if value.abs() < 16.0 { value * 60.0 } else { value }
}

/// The last `Z`, `±HH`, `±HHMM` or `±HH:MM` in `text`, in minutes (moment's `offsetFromString`).
fn offset_from_text(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let mut found = None;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'Z' | b'z' => {
                found = Some(0);
                at += 1;
            }
            sign @ (b'+' | b'-') if bytes.len() >= at + 3 && bytes[at + 1..at + 3].iter().all(u8::is_ascii_digit) => {
                let hours = i64::from(bytes[at + 1] - b'0') * 10 + i64::from(bytes[at + 2] - b'0');
                let mut end = at + 3;
                let mut minutes = 0;
                let colon = usize::from(bytes.get(end) == Some(&b':'));
                if bytes.len() >= end + colon + 2 && bytes[end + colon..end + colon + 2].iter().all(u8::is_ascii_digit)
                {
                    minutes = i64::from(bytes[end + colon] - b'0') * 10 + i64::from(bytes[end + colon + 1] - b'0');
                    end += colon + 2;
                }
                let total = hours * 60 + minutes;
                found = Some(if sign == b'-' { -total } else { total });
                at = end;
            }
            _ => at += 1,
        }
    }
    found
}

/// Reads a start time: ISO 8601 (with or without a zone; none means UTC) or epoch milliseconds.
pub(crate) fn parse_start_time(start: &StartTime) -> Option<DateTime<Utc>> {
    if let Some(instant) = start.to_utc() {
        return Some(instant);
    }
    let StartTime::Text(text) = start else { return None };
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(instant.with_timezone(&Utc));
    }
    for pattern in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, pattern) {
            return Some(naive.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|date| date.and_hms_opt(0, 0, 0)).map(|it| it.and_utc())
}

/// Formats `instant` shifted by `offset` with a moment.js pattern; `None` when the shift leaves chrono's range.
pub(crate) fn format_start_time(instant: DateTime<Utc>, offset: Offset, pattern: &str) -> Option<String> {
    let local = instant.naive_utc().checked_add_signed(TimeDelta::try_seconds(offset.seconds)?)?;
    let moment = Moment { local, instant, offset };
    let expanded = expand_locale_shortcuts(pattern);
    let mut out = String::with_capacity(expanded.len() + 8);
    let mut rest = expanded.as_str();
    while let Some(first) = rest.chars().next() {
        if first == '['
            && let Some(close) = rest.find(']').filter(|close| !rest[1..*close].contains('['))
        {
            out.push_str(&rest[1..close]);
            rest = &rest[close + 1..];
            continue;
        }
        if first == '\\' && rest.len() > 1 {
            let token_len = token_at(&rest[1..]).unwrap_or_else(|| rest[1..].chars().next().map_or(0, char::len_utf8));
            out.push_str(&rest[1..1 + token_len]);
            rest = &rest[1 + token_len..];
            continue;
        }
        match token_at(rest) {
            Some(len) => {
                moment.write_token(&rest[..len], &mut out);
                rest = &rest[len..];
            }
            None => {
                out.push(first);
                rest = &rest[first.len_utf8()..];
            }
        }
    }
    Some(out)
}

/// Every token we format, longest first so that `MMMM` wins over `MM` (moment's own precedence).
const TOKENS: &[&str] = &[
    "SSSSSSSSS",
    "SSSSSSSS",
    "SSSSSSS",
    "SSSSSS",
    "YYYYYY",
    "SSSSS",
    "YYYYY",
    "GGGG",
    "MMMM",
    "DDDD",
    "DDDo",
    "dddd",
    "SSSS",
    "YYYY",
    "MMM",
    "DDD",
    "ddd",
    "SSS",
    "Qo",
    "Mo",
    "MM",
    "Do",
    "DD",
    "dd",
    "do",
    "Wo",
    "WW",
    "GG",
    "HH",
    "hh",
    "kk",
    "mm",
    "ss",
    "SS",
    "ZZ",
    "YY",
    "zz",
    "Y",
    "Q",
    "M",
    "D",
    "d",
    "e",
    "E",
    "W",
    "H",
    "h",
    "k",
    "m",
    "s",
    "S",
    "A",
    "a",
    "Z",
    "X",
    "x",
    "z",
];

/// Length in bytes of the token `text` starts with.
fn token_at(text: &str) -> Option<usize> {
    TOKENS.iter().find(|token| text.starts_with(**token)).map(|token| token.len())
}

/// Replaces the English locale shortcuts (`LT`, `LL`, `llll`, ...) by the patterns they stand for, outside `[...]`.
fn expand_locale_shortcuts(pattern: &str) -> String {
    const SHORTCUTS: &[(&str, &str)] = &[
        ("LLLL", "dddd, MMMM D, YYYY h:mm A"),
        ("llll", "ddd, MMM D, YYYY h:mm A"),
        ("LLL", "MMMM D, YYYY h:mm A"),
        ("lll", "MMM D, YYYY h:mm A"),
        ("LTS", "h:mm:ss A"),
        ("LL", "MMMM D, YYYY"),
        ("ll", "MMM D, YYYY"),
        ("LT", "h:mm A"),
        ("L", "MM/DD/YYYY"),
        ("l", "M/D/YYYY"),
    ];
    if !pattern.contains(['L', 'l']) {
        return pattern.to_owned();
    }
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut rest = pattern;
    while let Some(first) = rest.chars().next() {
        if first == '['
            && let Some(close) = rest.find(']')
        {
            out.push_str(&rest[..=close]);
            rest = &rest[close + 1..];
            continue;
        }
        if first == '\\' && rest.len() > 1 {
            let next = rest[1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&rest[..1 + next]);
            rest = &rest[1 + next..];
            continue;
        }
        if let Some((shortcut, expansion)) = SHORTCUTS.iter().find(|(shortcut, _)| rest.starts_with(*shortcut)) {
            out.push_str(expansion);
            rest = &rest[shortcut.len()..];
            continue;
        }
        out.push(first);
        rest = &rest[first.len_utf8()..];
    }
    out
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// English ordinal as moment writes it: `1st`, `2nd`, `3rd`, `4th`, `11th`, `12th`, `13th`, `21st`.
pub(crate) fn ordinal(number: i64) -> String {
    let suffix = if (number % 100) / 10 == 1 {
        "th"
    } else {
        match number % 10 {
            1 => "st",
            2 => "nd",
            3 => "rd",
            _ => "th",
        }
    };
    format!("{number}{suffix}")
}

/// A signed number padded with zeros to `width` digits (moment's `zeroFill`).
fn zero_fill(number: i64, width: usize) -> String {
    let sign = if number < 0 { "-" } else { "" };
    format!("{sign}{:0width$}", number.unsigned_abs())
}

struct Moment {
    local: NaiveDateTime,
    instant: DateTime<Utc>,
    offset: Offset,
}

impl Moment {
    fn write_token(&self, token: &str, out: &mut String) {
        let local = &self.local;
        let year = i64::from(local.year());
        let month = local.month() as usize;
        let day = i64::from(local.day());
        let weekday = local.weekday().num_days_from_sunday() as usize;
        let hour = i64::from(local.hour());
        let millis = i64::from(local.nanosecond() / 1_000_000);
        let text = match token {
            "YYYY" => zero_fill(year, 4),
            "YY" => zero_fill(year.rem_euclid(100), 2),
            "Y" if year <= 9999 => zero_fill(year, 4),
            "Y" => format!("+{year}"),
            "YYYYY" => zero_fill(year, 5),
            "YYYYYY" => format!("{}{:06}", if year < 0 { '-' } else { '+' }, year.unsigned_abs()),
            "Q" => ((month - 1) / 3 + 1).to_string(),
            "Qo" => ordinal(((month - 1) / 3 + 1) as i64),
            "M" => month.to_string(),
            "Mo" => ordinal(month as i64),
            "MM" => zero_fill(month as i64, 2),
            "MMM" => MONTHS[month - 1][..3].to_owned(),
            "MMMM" => MONTHS[month - 1].to_owned(),
            "D" => day.to_string(),
            "Do" => ordinal(day),
            "DD" => zero_fill(day, 2),
            "DDD" => local.ordinal().to_string(),
            "DDDo" => ordinal(i64::from(local.ordinal())),
            "DDDD" => zero_fill(i64::from(local.ordinal()), 3),
            "d" | "e" => weekday.to_string(),
            "do" => ordinal(weekday as i64),
            "dd" => WEEKDAYS[weekday][..2].to_owned(),
            "ddd" => WEEKDAYS[weekday][..3].to_owned(),
            "dddd" => WEEKDAYS[weekday].to_owned(),
            "E" => local.weekday().number_from_monday().to_string(),
            "W" => local.iso_week().week().to_string(),
            "Wo" => ordinal(i64::from(local.iso_week().week())),
            "WW" => zero_fill(i64::from(local.iso_week().week()), 2),
            "GGGG" => zero_fill(i64::from(local.iso_week().year()), 4),
            "GG" => zero_fill(i64::from(local.iso_week().year()).rem_euclid(100), 2),
            "H" => hour.to_string(),
            "HH" => zero_fill(hour, 2),
            "h" => (if hour % 12 == 0 { 12 } else { hour % 12 }).to_string(),
            "hh" => zero_fill(if hour % 12 == 0 { 12 } else { hour % 12 }, 2),
            "k" => (if hour == 0 { 24 } else { hour }).to_string(),
            "kk" => zero_fill(if hour == 0 { 24 } else { hour }, 2),
            "m" => local.minute().to_string(),
            "mm" => zero_fill(i64::from(local.minute()), 2),
            "s" => local.second().to_string(),
            "ss" => zero_fill(i64::from(local.second()), 2),
            "S" => (millis / 100).to_string(),
            "SS" => zero_fill(millis / 10, 2),
            "SSS" => zero_fill(millis, 3),
            // moment pads milliseconds with zeros for the longer fractional tokens.
            longer if longer.starts_with('S') => format!("{:03}{}", millis, "0".repeat(longer.len() - 3)),
            "A" => (if hour < 12 { "AM" } else { "PM" }).to_owned(),
            "a" => (if hour < 12 { "am" } else { "pm" }).to_owned(),
            "Z" => self.offset_text(":"),
            "ZZ" => self.offset_text(""),
            "X" => self.instant.timestamp().to_string(),
            "x" => self.instant.timestamp_millis().to_string(),
            // moment names a fixed offset `UTC` and the server's own zone not at all.
            "z" | "zz" => (if self.offset.explicit { "UTC" } else { "" }).to_owned(),
            other => other.to_owned(),
        };
        out.push_str(&text);
    }

    fn offset_text(&self, separator: &str) -> String {
        let minutes = self.offset.seconds / 60;
        let sign = if minutes < 0 { '-' } else { '+' };
        let minutes = minutes.abs();
        format!("{sign}{:02}{separator}{:02}", minutes / 60, minutes % 60)
    }
}
