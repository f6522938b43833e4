//! JSON values read the way App Connect's JavaScript reads them: truthiness (which decides whether an optional field
//! is sent) and record ids, which CRMs send as numbers or strings.

use serde_json::Value;

/// JavaScript truthiness: `null`, `false`, `0`, `NaN` and `""` are false; everything else, `[]` and `{}` included,
/// is true.
pub fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(it) => *it,
        Value::Number(it) => it.as_f64().is_some_and(|it| it != 0.0),
        Value::String(it) => !it.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// A record id as the CRM sent it (a number or a string) as text; `null` is the empty string.
pub fn id_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
