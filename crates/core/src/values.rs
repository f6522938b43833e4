//! JSON values read the way App Connect's JavaScript reads them: truthiness (which decides whether an optional field
//! is sent) and record ids, which CRMs send as numbers or strings; ids checked before they go into a URL path; the
//! option a user chose in a selection field.

use serde_json::Value;

use crate::error::{ConnectorError, ErrorKind};

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

/// A CRM record id as it goes into a URL path: 1 to 20 digits, so no id can change the path; `what` names the record
/// in the error (`Pipedrive person`).
pub fn numeric_id<'a>(id: &'a str, what: &str) -> Result<&'a str, ConnectorError> {
    let id = id.trim();
    if !id.is_empty() && id.len() <= 20 && id.bytes().all(|it| it.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(ConnectorError::new(ErrorKind::Rejected, format!("`{id}` is not a {what} id")))
    }
}

/// A numeric CRM record id as the number request bodies carry.
pub fn id_number(id: &str, what: &str) -> Result<u64, ConnectorError> {
    numeric_id(id, what)?
        .parse()
        .map_err(|_| ConnectorError::new(ErrorKind::Rejected, format!("`{}` is not a {what} id", id.trim())))
}

/// A CRM record id that is not only digits (UUIDs, slugs) as it goes into a URL path: letters, digits, `-` and `_`.
pub fn path_id<'a>(id: &'a str, what: &str) -> Result<&'a str, ConnectorError> {
    let id = id.trim();
    if !id.is_empty() && id.bytes().all(|it| it.is_ascii_alphanumeric() || it == b'-' || it == b'_') {
        Ok(id)
    } else {
        Err(ConnectorError::new(ErrorKind::Rejected, format!("`{id}` is not a {what} id")))
    }
}

/// The option a user chose in a selection field (`additionalSubmission`): numeric text becomes a number (CRMs with
/// integer ids want one), other text stays text, and the extension's "nothing chosen" (`""`, `"none"`, `0`, `null`)
/// is `None`.
pub fn selected_id(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) if text.trim().is_empty() || text == "none" => None,
        Value::String(text) => Some(text.trim().parse::<u64>().map_or_else(|_| Value::from(text.trim()), Value::from)),
        Value::Number(_) if is_truthy(value) => Some(value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_that_go_into_paths_cannot_change_them() {
        assert_eq!(numeric_id(" 401 ", "Example activity").unwrap(), "401");
        assert_eq!(id_number("401", "Example activity").unwrap(), 401);
        for bad in ["", "../1", "1?x=2", "-1", "abc", "123456789012345678901"] {
            let error = numeric_id(bad, "Example activity").unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Rejected, "{bad:?}");
            assert!(error.message().ends_with("is not a Example activity id"), "{bad:?}");
        }
        assert_eq!(id_number("99999999999999999999", "Example").unwrap_err().kind(), ErrorKind::Rejected);
        assert_eq!(path_id("a1-b_2", "Example").unwrap(), "a1-b_2");
        for bad in ["", "a/b", "a?b", "a b", "a.b"] {
            assert_eq!(path_id(bad, "Example").unwrap_err().kind(), ErrorKind::Rejected, "{bad:?}");
        }
    }

    #[test]
    fn selected_ids_follow_javascript_truthiness() {
        assert_eq!(selected_id(&json!(12)), Some(json!(12)));
        assert_eq!(selected_id(&json!(" 12 ")), Some(json!(12)));
        assert_eq!(selected_id(&json!("3f1c-lead")), Some(json!("3f1c-lead")));
        for none in [json!(0), json!(""), json!(" "), json!("none"), json!(null), json!(false), json!([1])] {
            assert_eq!(selected_id(&none), None, "{none}");
        }
    }

    #[test]
    fn truthiness_and_id_text() {
        assert!(!is_truthy(&json!(0.0)) && !is_truthy(&json!("")) && is_truthy(&json!([])) && is_truthy(&json!({})));
        assert_eq!(
            (id_text(&json!(7)), id_text(&json!("7")), id_text(&json!(null))),
            ("7".into(), "7".into(), "".into())
        );
    }
}
