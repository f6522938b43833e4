//! Phone helpers: E.164 parts, overriding formats and the restored `+`.

use callbridge_core::phone::{PhoneParts, apply_overriding_formats, national_number, parse_e164, restore_plus};

fn parts(country_code: u16, national_number: &str) -> Option<PhoneParts> {
    Some(PhoneParts { country_code, national_number: national_number.to_owned() })
}

#[test]
fn splits_e164_numbers_into_country_code_and_national_number() {
    assert_eq!(parse_e164("+16505550100"), parts(1, "6505550100"));
    assert_eq!(parse_e164("+442071838750"), parts(44, "2071838750"));
    assert_eq!(parse_e164("+4930123456"), parts(49, "30123456"));
    assert_eq!(parse_e164("+61291234567"), parts(61, "291234567"));
    // Italian fixed lines keep their leading zero in the national significant number.
    assert_eq!(parse_e164("+390612345678"), parts(39, "0612345678"));
}

#[test]
fn restores_a_plus_that_arrived_as_a_space_before_splitting() {
    assert_eq!(parse_e164(" 16505550100"), parts(1, "6505550100"));
    assert_eq!(national_number(" 442071838750").as_deref(), Some("2071838750"));
}

#[test]
fn rejects_what_is_not_e164() {
    for input in [
        "",
        "+",
        "101",
        "6505550100",
        "+1",
        "+1650555010012345",
        "+1 650 555 0100",
        "+1-650-555-0100",
        "+16505550100;ext=5",
        "tel:+16505550100",
        "+abc",
        "+0123456789",
    ] {
        assert_eq!(parse_e164(input), None, "{input:?}");
    }
}

#[test]
fn national_number_is_the_e164_number_without_its_country_code() {
    assert_eq!(national_number("+16505550100").as_deref(), Some("6505550100"));
    assert_eq!(national_number("+33123456789").as_deref(), Some("123456789"));
    assert_eq!(national_number("not a number"), None);
}

#[test]
fn fills_each_format_left_to_right_with_the_national_digits() {
    assert_eq!(
        apply_overriding_formats("6505550100", "(***) ***-****,***-***-####,+1 ##########"),
        ["(650) 555-0100", "650-555-0100", "+1 6505550100"]
    );
    assert_eq!(apply_overriding_formats("6505550100", "**********"), ["6505550100"]);
    // The placeholders may be mixed in one format.
    assert_eq!(apply_overriding_formats("6505550100", "*##.*#*.#*#*"), ["650.555.0100"]);
}

#[test]
fn skips_blank_and_mismatched_formats() {
    assert_eq!(apply_overriding_formats("6505550100", ""), Vec::<String>::new());
    assert_eq!(apply_overriding_formats("6505550100", " , ,"), Vec::<String>::new());
    // Nine and eleven placeholders for ten digits: a partial number would match someone else.
    assert_eq!(apply_overriding_formats("6505550100", "***-***-***,(***) ***-****,***********"), ["(650) 555-0100"]);
    assert_eq!(apply_overriding_formats("6505550100", "no placeholders"), Vec::<String>::new());
}

#[test]
fn trims_entries_and_returns_each_result_once() {
    assert_eq!(
        apply_overriding_formats("2071838750", " (***) ***-****, (***) ***-****,***-***-****"),
        ["(207) 183-8750", "207-183-8750"]
    );
}

#[test]
fn restore_plus_only_touches_a_leading_space_before_digits() {
    assert_eq!(restore_plus(" 16505550100"), "+16505550100");
    assert_eq!(restore_plus(" 1 650-555-0100"), "+1 650-555-0100");
    assert_eq!(restore_plus("+16505550100"), "+16505550100");
    assert_eq!(restore_plus("16505550100"), "16505550100");
    assert_eq!(restore_plus("101"), "101");
    assert_eq!(restore_plus(""), "");
    assert_eq!(restore_plus(" "), " ");
    assert_eq!(restore_plus("  16505550100"), "  16505550100");
    assert_eq!(restore_plus(" John Smith"), " John Smith");
    assert_eq!(restore_plus(" 1650555abc"), " 1650555abc");
    assert_eq!(restore_plus("1 6505550100"), "1 6505550100");
}
