//! The Redtail-specific edit of the HTML log body: the user's custom time zone on the Date/time item.

use std::sync::LazyLock;

use callbridge_core::UserSettings;
use chrono::{DateTime, FixedOffset, Utc};
use regex::Regex;

/// The user setting that shows dates in a fixed offset (hours from UTC, as text: `"-5"`, `"0"`, `"5.5"`).
pub(crate) const CUSTOM_TIMEZONE_SETTING: &str = "redtailCustomTimezone";

/// The composer's Date/time item in an HTML body.
static DATE_TIME_ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<li><b>Date/time</b>:[^<]*</li>").expect("the Date/time pattern is valid"));

/// The offset of the user's `redtailCustomTimezone` setting, when it holds a number of hours within a day.
pub(crate) fn custom_offset(settings: &UserSettings) -> Option<FixedOffset> {
    let value = settings.value(CUSTOM_TIMEZONE_SETTING)?;
    let hours = match value {
        serde_json::Value::String(text) => text.trim().parse::<f64>().ok()?,
        other => other.as_f64()?,
    };
    let seconds = (hours * 3600.0).round();
    (seconds.abs() < 86_400.0).then(|| FixedOffset::east_opt(seconds as i32)).flatten()
}

/// `body` with its Date/time item showing `start` in `offset`, as `YYYY-MM-DD hh:mm:ss AM`. A body without the
/// item is returned as it is.
pub(crate) fn with_date_time(body: &str, start: DateTime<Utc>, offset: FixedOffset) -> String {
    let shown = start.with_timezone(&offset).format("%Y-%m-%d %I:%M:%S %p");
    DATE_TIME_ITEM.replace(body, format!("<li><b>Date/time</b>: {shown}</li>").as_str()).into_owned()
}
