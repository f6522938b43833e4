//! The call's date and time: the user's UTC offset (App Connect's rules) and moment.js-style format tokens.
//!
//! The reference formats with moment.js in English. We translate the tokens ourselves: `YYYY YY Y Q Qo M Mo MM MMM
//! MMMM D Do DD DDD DDDo DDDD d do dd ddd dddd e E H HH h hh k kk m mm s ss S…SSSSSSSSS A a Z ZZ X x W Wo WW GGGG
//! GG z zz` and the English locale shortcuts `LT LTS L LL LLL LLLL l ll lll llll`; `[text]` is literal and `\`
//! escapes the next token. Anything else is printed as it is.

use std::borrow::Cow;
use std::fmt::Write as _;

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
    pub(crate) const NONE: Offset = Offset { seconds: 0, explicit: false };
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
    let moment = Moment::new(local, instant, offset);
    if pattern == DEFAULT_DATE_FORMAT {
        let mut out = String::with_capacity(pattern.len());
        for piece in DEFAULT_PIECES {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Token(token) => moment.write_token(token, &mut out),
            }
        }
        return Some(out);
    }
    let expanded = expand_locale_shortcuts(pattern);
    let mut out = String::with_capacity(expanded.len() + 16);
    let mut rest = expanded.as_ref();
    while let Some(first) = rest.chars().next() {
        if first == '['
            && let Some(close) = rest.find(']').filter(|close| !rest[1..*close].contains('['))
        {
            out.push_str(&rest[1..close]);
            rest = &rest[close + 1..];
            continue;
        }
        if first == '\\' && rest.len() > 1 {
            let token_len = token_at(&rest[1..])
                .map(|token| token.len)
                .unwrap_or_else(|| rest[1..].chars().next().map_or(0, char::len_utf8));
            out.push_str(&rest[1..1 + token_len]);
            rest = &rest[1 + token_len..];
            continue;
        }
        match token_at(rest) {
            Some(token) => {
                moment.write_token(token, &mut out);
                rest = &rest[token.len..];
            }
            None => {
                out.push(first);
                rest = &rest[first.len_utf8()..];
            }
        }
    }
    Some(out)
}

/// A piece of a pattern already read: text written as it is, or a token.
#[derive(Clone, Copy)]
enum Piece {
    Literal(&'static str),
    Token(Token),
}

const fn token(letter: u8, len: usize) -> Piece {
    Piece::Token(Token { letter, len, ordinal: false })
}

/// [`DEFAULT_DATE_FORMAT`] read into its pieces by hand: most users keep the default, and reading the pattern costs
/// more than printing it. `default_pieces_print_as_the_pattern_reads` checks it against the general reading.
const DEFAULT_PIECES: [Piece; 13] = [
    token(b'Y', 4),
    Piece::Literal("-"),
    token(b'M', 2),
    Piece::Literal("-"),
    token(b'D', 2),
    Piece::Literal(" "),
    token(b'h', 2),
    Piece::Literal(":"),
    token(b'm', 2),
    Piece::Literal(":"),
    token(b's', 2),
    Piece::Literal(" "),
    token(b'A', 1),
];

/// A format token: a run of `len` letters `letter` (`MMMM`), or of `len - 1` letters and an `o` (`Do`, `DDDo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Token {
    letter: u8,
    /// Bytes the token takes in the pattern, its `o` included.
    len: usize,
    ordinal: bool,
}

impl Token {
    /// How many times the letter repeats (`DDDo`: 3).
    fn run(self) -> usize {
        self.len - usize::from(self.ordinal)
    }
}

/// True when `letter` repeated `run` times (followed by `o` when `ordinal`) is a token we format.
fn is_token(letter: u8, run: usize, ordinal: bool) -> bool {
    if ordinal {
        return matches!((letter, run), (b'Q' | b'M' | b'D' | b'd' | b'W', 1) | (b'D', 3));
    }
    match letter {
        b'S' => (1..=9).contains(&run),
        b'Y' => matches!(run, 1 | 2 | 4 | 5 | 6),
        b'G' => matches!(run, 2 | 4),
        b'M' | b'D' | b'd' => (1..=4).contains(&run),
        b'W' | b'H' | b'h' | b'k' | b'm' | b's' | b'Z' | b'z' => matches!(run, 1 | 2),
        b'Q' | b'e' | b'E' | b'A' | b'a' | b'X' | b'x' => run == 1,
        _ => false,
    }
}

/// The token `text` starts with: the longest one, so that `MMMM` wins over `MM` and `Do` over `D` (moment's own
/// precedence). A scan of the letter's run instead of a search through every token: this runs once per token of
/// every composed date.
fn token_at(text: &str) -> Option<Token> {
    let bytes = text.as_bytes();
    let letter = *bytes.first()?;
    // No token is longer than nine letters (`SSSSSSSSS`).
    let run = bytes.iter().take(9).take_while(|byte| **byte == letter).count();
    if bytes.get(run) == Some(&b'o') && is_token(letter, run, true) {
        return Some(Token { letter, len: run + 1, ordinal: true });
    }
    (1..=run).rev().find(|run| is_token(letter, *run, false)).map(|len| Token { letter, len, ordinal: false })
}

/// Replaces the English locale shortcuts (`LT`, `LL`, `llll`, ...) by the patterns they stand for, outside `[...]`.
fn expand_locale_shortcuts(pattern: &str) -> Cow<'_, str> {
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
        return Cow::Borrowed(pattern);
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
    Cow::Owned(out)
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
#[cfg(test)]
pub(crate) fn ordinal(number: i64) -> String {
    let mut out = String::new();
    push_ordinal(&mut out, number);
    out
}

fn push_ordinal(out: &mut String, number: i64) {
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
    push_number(out, number);
    out.push_str(suffix);
}

/// A number in decimal.
fn push_number(out: &mut String, number: i64) {
    push_zero_filled(out, number, 1);
}

/// A signed number padded with zeros to `width` digits (moment's `zeroFill`).
///
/// Digits are written by hand rather than through `write!`: every composed date prints five to seven numbers, and
/// the formatting machinery costs several times the digits.
fn push_zero_filled(out: &mut String, number: i64, width: usize) {
    // Months, days, hours, minutes and seconds: two digits without the division loop.
    if width == 2
        && let Ok(number @ 0..100) = u8::try_from(number)
    {
        out.push(char::from(b'0' + number / 10));
        out.push(char::from(b'0' + number % 10));
        return;
    }
    if number < 0 {
        out.push('-');
    }
    let mut rest = number.unsigned_abs();
    // u64::MAX has 20 digits.
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for _ in digits.len() - start..width {
        out.push('0');
    }
    out.extend(digits[start..].iter().map(|digit| char::from(*digit)));
}

/// The parts of the local time that tokens print, read once per date rather than once per token.
struct Moment {
    local: NaiveDateTime,
    instant: DateTime<Utc>,
    offset: Offset,
    year: i64,
    month: usize,
    day: i64,
    weekday: usize,
    hour: i64,
    millis: i64,
}

impl Moment {
    fn new(local: NaiveDateTime, instant: DateTime<Utc>, offset: Offset) -> Self {
        Moment {
            local,
            instant,
            offset,
            year: i64::from(local.year()),
            month: local.month() as usize,
            day: i64::from(local.day()),
            weekday: local.weekday().num_days_from_sunday() as usize,
            hour: i64::from(local.hour()),
            millis: i64::from(local.nanosecond() / 1_000_000),
        }
    }

    fn write_token(&self, token: Token, out: &mut String) {
        let Moment { local, year, month, day, weekday, hour, millis, .. } = *self;
        // Computed by the tokens that print them, not for every token.
        let hour12 = || if hour % 12 == 0 { 12 } else { hour % 12 };
        let hour24 = || if hour == 0 { 24 } else { hour };
        let quarter = || ((month - 1) / 3 + 1) as i64;
        match (token.letter, token.run(), token.ordinal) {
            (b'Y', 4, _) => push_zero_filled(out, year, 4),
            (b'Y', 2, _) => push_zero_filled(out, year.rem_euclid(100), 2),
            (b'Y', 1, _) if year <= 9999 => push_zero_filled(out, year, 4),
            (b'Y', 1, _) => {
                let _ = write!(out, "+{year}");
            }
            (b'Y', 5, _) => push_zero_filled(out, year, 5),
            (b'Y', _, _) => {
                let _ = write!(out, "{}{:06}", if year < 0 { '-' } else { '+' }, year.unsigned_abs());
            }
            (b'Q', _, false) => push_number(out, quarter()),
            (b'Q', _, true) => push_ordinal(out, quarter()),
            (b'M', 1, false) => push_number(out, month as i64),
            (b'M', 1, true) => push_ordinal(out, month as i64),
            (b'M', 2, _) => push_zero_filled(out, month as i64, 2),
            (b'M', 3, _) => out.push_str(&MONTHS[month - 1][..3]),
            (b'M', _, _) => out.push_str(MONTHS[month - 1]),
            (b'D', 1, false) => push_number(out, day),
            (b'D', 1, true) => push_ordinal(out, day),
            (b'D', 2, _) => push_zero_filled(out, day, 2),
            (b'D', 3, false) => push_number(out, i64::from(local.ordinal())),
            (b'D', 3, true) => push_ordinal(out, i64::from(local.ordinal())),
            (b'D', _, _) => push_zero_filled(out, i64::from(local.ordinal()), 3),
            (b'd', 1, false) | (b'e', _, _) => push_number(out, weekday as i64),
            (b'd', 1, true) => push_ordinal(out, weekday as i64),
            (b'd', 2, _) => out.push_str(&WEEKDAYS[weekday][..2]),
            (b'd', 3, _) => out.push_str(&WEEKDAYS[weekday][..3]),
            (b'd', _, _) => out.push_str(WEEKDAYS[weekday]),
            (b'E', _, _) => push_number(out, i64::from(local.weekday().number_from_monday())),
            (b'W', 1, false) => push_number(out, i64::from(local.iso_week().week())),
            (b'W', 1, true) => push_ordinal(out, i64::from(local.iso_week().week())),
            (b'W', _, _) => push_zero_filled(out, i64::from(local.iso_week().week()), 2),
            (b'G', 4, _) => push_zero_filled(out, i64::from(local.iso_week().year()), 4),
            (b'G', _, _) => push_zero_filled(out, i64::from(local.iso_week().year()).rem_euclid(100), 2),
            (b'H', 1, _) => push_number(out, hour),
            (b'H', _, _) => push_zero_filled(out, hour, 2),
            (b'h', 1, _) => push_number(out, hour12()),
            (b'h', _, _) => push_zero_filled(out, hour12(), 2),
            (b'k', 1, _) => push_number(out, hour24()),
            (b'k', _, _) => push_zero_filled(out, hour24(), 2),
            (b'm', 1, _) => push_number(out, i64::from(local.minute())),
            (b'm', _, _) => push_zero_filled(out, i64::from(local.minute()), 2),
            (b's', 1, _) => push_number(out, i64::from(local.second())),
            (b's', _, _) => push_zero_filled(out, i64::from(local.second()), 2),
            (b'S', 1, _) => push_number(out, millis / 100),
            (b'S', 2, _) => push_zero_filled(out, millis / 10, 2),
            (b'S', 3, _) => push_zero_filled(out, millis, 3),
            // moment pads milliseconds with zeros for the longer fractional tokens.
            (b'S', run, _) => {
                push_zero_filled(out, millis, 3);
                out.extend(std::iter::repeat_n('0', run - 3));
            }
            (b'A', _, _) => out.push_str(if hour < 12 { "AM" } else { "PM" }),
            (b'a', _, _) => out.push_str(if hour < 12 { "am" } else { "pm" }),
            (b'Z', 1, _) => self.push_offset(out, ":"),
            (b'Z', _, _) => self.push_offset(out, ""),
            (b'X', _, _) => push_number(out, self.instant.timestamp()),
            (b'x', _, _) => push_number(out, self.instant.timestamp_millis()),
            // moment names a fixed offset `UTC` and the server's own zone not at all.
            (b'z', _, _) => out.push_str(if self.offset.explicit { "UTC" } else { "" }),
            // token_at only yields the tokens above.
            _ => {}
        }
    }

    fn push_offset(&self, out: &mut String, separator: &str) {
        let minutes = self.offset.seconds / 60;
        out.push(if minutes < 0 { '-' } else { '+' });
        let minutes = minutes.abs();
        push_zero_filled(out, minutes / 60, 2);
        out.push_str(separator);
        push_zero_filled(out, minutes % 60, 2);
    }
}
