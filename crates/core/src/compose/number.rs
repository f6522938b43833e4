//! JavaScript number semantics the reference composer's output depends on: `Number(text)` and `String(number)`.
//!
//! Durations, leg durations and call scores are printed the way JavaScript prints numbers (`8.5`, `87`, `1e-7`),
//! and numeric strings are read the way `Number()` reads them, so bodies stay byte-identical to the reference.

/// Reads `text` as JavaScript's `Number(text)` does, or `None` where it gives `NaN`.
///
/// Surrounding whitespace is ignored, an empty string is `0`, `0x`/`0o`/`0b` prefixes and `Infinity` are accepted.
pub(crate) fn js_to_number(text: &str) -> Option<f64> {
    let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.is_empty() {
        return Some(0.0);
    }
    let (sign, unsigned) = match trimmed.as_bytes()[0] {
        b'-' => (-1.0, &trimmed[1..]),
        b'+' => (1.0, &trimmed[1..]),
        _ => (1.0, trimmed),
    };
    if unsigned == "Infinity" {
        return Some(sign * f64::INFINITY);
    }
    if unsigned.len() > 2 && unsigned.as_bytes()[0] == b'0' && sign > 0.0 && trimmed.as_bytes()[0] != b'+' {
        let radix = match unsigned.as_bytes()[1] {
            b'x' | b'X' => Some(16),
            b'o' | b'O' => Some(8),
            b'b' | b'B' => Some(2),
            _ => None,
        };
        if let Some(radix) = radix {
            return u128::from_str_radix(&unsigned[2..], radix).ok().map(|it| it as f64);
        }
    }
    // Rust's float parser also takes `inf` and `nan`; JavaScript does not, so only decimal literals get through.
    let decimal = unsigned.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !decimal || !unsigned.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    unsigned.parse::<f64>().ok().map(|it| sign * it)
}

/// Prints `value` as JavaScript's `String(value)` does: `87`, `8.5`, `0.1`, `1e-7`, `1.5e+21`, `NaN`, `Infinity`.
pub(crate) fn js_number_to_string(value: f64) -> String {
    let mut text = String::new();
    push_js_number(&mut text, value);
    text
}

/// Pushes `value` as [`js_number_to_string`] prints it.
pub(crate) fn push_js_number(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == 0.0 {
        out.push('0');
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "Infinity" } else { "-Infinity" });
    } else if value < 0.0 {
        out.push('-');
        push_js_number(out, -value);
    } else if value.fract() == 0.0 && value < 9_007_199_254_740_992.0 {
        // Whole numbers below 2^53 print as integers: the durations, scores and offsets the composer writes.
        push_whole(out, value as u64);
    } else {
        out.push_str(&fraction_to_string(value));
    }
}

/// Pushes a whole number in decimal, without the formatting machinery (it runs for every duration).
fn push_whole(out: &mut String, mut number: u64) {
    let mut digits = [0_u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|digit| char::from(*digit)));
}

/// A positive finite number that is not a whole number below 2^53, as ECMAScript's Number::toString prints it.
fn fraction_to_string(value: f64) -> String {
    // `{:e}` gives the shortest digits that read back to the same value, as ECMAScript's Number::toString requires.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let k = digits.len() as i32;
    // ECMAScript names the decimal point position `n`: value = 0.d1d2...dk * 10^n.
    let n = exponent + 1;
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        format!("{first}{dot}e{sign}{}", (n - 1).abs())
    }
}

/// Prints a JSON number as JavaScript would print the same number.
pub(crate) fn js_json_number(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(value) => js_number_to_string(value),
        None => number.to_string(),
    }
}
