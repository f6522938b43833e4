//! Phone-number helpers: E.164 parts, App Connect's "overriding format" templates, and the `+` that arrives as a space.
//!
//! The extension sends numbers in E.164 (`+16505550100`) inside an unencoded query string, so the `+` often
//! arrives decoded as a space. CRMs store numbers in every format people type, so connectors search for the
//! E.164 form, the national significant number (`6505550100`) and the user's own templates (`(***) ***-****`).

/// An E.164 number split into its country calling code and national significant number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneParts {
    /// The country calling code: `1` for `+16505550100`, `44` for `+442071838750`.
    pub country_code: u16,
    /// The national significant number, digits only, leading zeros kept (`6505550100`; Italy's `0612345678`).
    pub national_number: String,
}

/// Splits an E.164 number (`+16505550100`) into country code and national significant number.
///
/// A leading space standing for the `+` is restored first (see [`restore_plus`]). Returns `None` for anything
/// that is not `+` followed by 2 to 15 digits, and for a country code that does not exist. The number need not
/// be assigned: fictional numbers such as `+1 650 555 0100` still split, because the CRM may hold them.
pub fn parse_e164(number: &str) -> Option<PhoneParts> {
    let number = restore_plus(number);
    let digits = number.strip_prefix('+')?;
    if !(2..=15).contains(&digits.len()) || !digits.bytes().all(|it| it.is_ascii_digit()) {
        return None;
    }
    let parsed = phonenumber::parse(None, &number).ok()?;
    Some(PhoneParts { country_code: parsed.code().value(), national_number: parsed.national().to_string() })
}

/// The national significant number of an E.164 number: `+16505550100` gives `6505550100`.
pub fn national_number(number: &str) -> Option<String> {
    parse_e164(number).map(|it| it.national_number)
}

/// Formats `national` with each of the user's comma-separated templates, in order.
///
/// Each `*` or `#` of a template is replaced, left to right, by the next digit of the national number; other
/// characters are kept (`(***) ***-****` and `6505550100` give `(650) 555-0100`). Blank entries are skipped, and
/// so is a template whose placeholder count differs from the number of digits: the reference server fills such a
/// template partly (leaving `*`s, or dropping digits), which searches the CRM for a number that is not the
/// caller's and can match the wrong contact. Duplicate results are returned once.
pub fn apply_overriding_formats(national: &str, formats: &str) -> Vec<String> {
    let digits: Vec<char> = national.chars().filter(char::is_ascii_digit).collect();
    let mut formatted: Vec<String> = Vec::new();
    for format in formats.split(',').map(str::trim).filter(|it| !it.is_empty()) {
        let is_placeholder = |it: &char| *it == '*' || *it == '#';
        if format.chars().filter(is_placeholder).count() != digits.len() {
            continue;
        }
        let mut next_digit = digits.iter();
        let number: String = format
            .chars()
            .map(|it| if is_placeholder(&it) { next_digit.next().copied().unwrap_or(it) } else { it })
            .collect();
        if !formatted.contains(&number) {
            formatted.push(number);
        }
    }
    formatted
}

/// Restores the `+` of an E.164 number that arrived as a space (`" 16505550100"` gives `"+16505550100"`).
///
/// Only a first character that is a space is replaced, and only when a digit follows and the rest is digits and
/// the separators people type (spaces, `-`, `.`, parentheses). Anything else comes back unchanged, so an
/// extension number (`101`) or a name is left alone.
pub fn restore_plus(raw: &str) -> String {
    match raw.strip_prefix(' ') {
        Some(rest)
            if rest.starts_with(|it: char| it.is_ascii_digit())
                && rest.chars().all(|it| it.is_ascii_digit() || matches!(it, ' ' | '-' | '.' | '(' | ')')) =>
        {
            format!("+{rest}")
        }
        _ => raw.to_owned(),
    }
}
