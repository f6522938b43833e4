//! The user's Clio settings (the manifest's `clioOptions` section) and the billing choices made from them and
//! from the call form.

use callbridge_core::{AdditionalSubmission, UserSettings};
use serde_json::{Value, json};

pub(crate) const DEFAULT_NON_BILLABLE_TICK: &str = "clioDefaultNonBillableTick";
pub(crate) const TIME_ENTRIES_ENABLED: &str = "clioTimeEntriesEnabled";
pub(crate) const SEE_CLOSED_MATTERS: &str = "clioSeeClosedMatters";
pub(crate) const DEFAULT_TIME_ENTRY_TICK: &str = "clioDefaultTimeEntryTick";
pub(crate) const SMS_TIME_TRACKING_ENABLED: &str = "smsTimeTrackingEnabled";
pub(crate) const SMS_DEFAULT_BILLABLE: &str = "smsTimeTrackingDefaultBillable";
pub(crate) const SMS_MINIMUM_DURATION: &str = "smsTimeTrackingMinimumDuration";
/// The SMS time entry's minimum length in seconds when the user has not set one.
const SMS_DEFAULT_MINIMUM_SECONDS: f64 = 30.0;

/// A yes/no setting. Booleans count as they are and the strings `"true"`/`"false"` by their meaning (the
/// extension stores some checkboxes as text); other values by JavaScript truthiness.
pub(crate) fn flag(settings: &UserSettings, key: &str, default: bool) -> bool {
    match settings.value(key) {
        None => default,
        Some(Value::Bool(it)) => *it,
        Some(Value::String(text)) => match text.trim() {
            "false" => false,
            other => !other.is_empty(),
        },
        Some(Value::Number(it)) => it.as_f64().is_some_and(|it| it != 0.0),
        Some(_) => true,
    }
}

/// Whether calls get a time entry (`clioTimeEntriesEnabled`, on unless switched off).
pub(crate) fn time_entries_enabled(settings: &UserSettings) -> bool {
    flag(settings, TIME_ENTRIES_ENABLED, true)
}

/// The `logTimeEntry` default a found contact carries (`clioDefaultTimeEntryTick`, on unless switched off).
pub(crate) fn log_time_entry_default(settings: &UserSettings) -> bool {
    flag(settings, DEFAULT_TIME_ENTRY_TICK, true)
}

/// The call form's billable-status choices.
pub(crate) fn billable_options() -> Value {
    json!([
        { "const": "billable", "title": "Billable" },
        { "const": "non-billable", "title": "Non-billable" }
    ])
}

/// Whether a call's time entry is non-billable: the form's `nonBillable` flag wins, then its `billableStatus`,
/// then the user's default (`clioDefaultNonBillableTick`, billable unless set to anything but `billable`).
pub(crate) fn call_non_billable(submission: &AdditionalSubmission, settings: &UserSettings) -> bool {
    if let Some(non_billable) = submission.get("nonBillable").filter(|it| !it.is_null()) {
        return match non_billable {
            Value::Bool(it) => *it,
            Value::String(text) => text == "true",
            _ => false,
        };
    }
    if let Some(status) = submission.get("billableStatus").and_then(Value::as_str) {
        return status != "billable";
    }
    is_non_billable_choice(settings.value(DEFAULT_NON_BILLABLE_TICK))
}

/// Whether an SMS time entry is non-billable (`smsTimeTrackingDefaultBillable`).
pub(crate) fn sms_non_billable(settings: &UserSettings) -> bool {
    is_non_billable_choice(settings.value(SMS_DEFAULT_BILLABLE))
}

/// An option setting read as billable (`billable`, `false` or unset) or non-billable (anything else).
fn is_non_billable_choice(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Bool(false)) => false,
        Some(Value::String(text)) => text != "billable",
        Some(_) => true,
    }
}

/// The shortest SMS time entry in seconds (`smsTimeTrackingMinimumDuration`, text or number; 30 by default).
pub(crate) fn sms_minimum_seconds(settings: &UserSettings) -> f64 {
    let value = match settings.value(SMS_MINIMUM_DURATION) {
        Some(Value::Number(it)) => it.as_f64(),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    value.filter(|it| it.is_finite() && *it >= 0.0).unwrap_or(SMS_DEFAULT_MINIMUM_SECONDS)
}
