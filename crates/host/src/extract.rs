//! Request extractors that answer bad input with a clear `ApiError`: query parameters parsed the lenient way the
//! App Connect extension needs (it does not encode most values), and JSON bodies with readable error texts.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The longest id (session id, contact id, extension) the server accepts; anything longer is not an id.
pub const MAX_ID_LEN: usize = 256;
/// The longest phone number or search text accepted in a query.
pub const MAX_QUERY_TEXT_LEN: usize = 512;

/// The query string's pairs, decoded the `application/x-www-form-urlencoded` way (`+` is a space), plus the raw
/// string for parameters the extension sends unencoded.
#[derive(Clone, Debug, Default)]
pub struct QueryParams {
    raw: String,
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    pub fn parse(raw: &str) -> Self {
        let pairs = url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
        Self { raw: raw.to_owned(), pairs }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The first non-empty value of `name`.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|it| !it.is_empty())
    }

    /// True when `name` is present with the value `true`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|it| it.trim().eq_ignore_ascii_case("true"))
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of `name` taken from the raw string up to the next `&<known>=` (or the end), then decoded.
    ///
    /// The extension sends free text such as a contact name unencoded, so a `&` or `=` inside it would split
    /// the value under normal parsing; only the parameters it is known to send next end the value.
    pub fn raw_value(&self, name: &str, known: &[&str]) -> Option<String> {
        let start = find_param_start(&self.raw, name)? + name.len() + 1;
        let rest = &self.raw[start..];
        let end = known
            .iter()
            .filter(|it| **it != name)
            .filter_map(|other| rest.find(&format!("&{other}=")))
            .min()
            .unwrap_or(rest.len());
        let value = &rest[..end];
        Some(url::form_urlencoded::parse(format!("v={}", value.replace('&', "%26")).as_bytes()).next()?.1.into_owned())
    }
}

/// The byte index where `name=` starts as a parameter (at the start or after `&`).
fn find_param_start(raw: &str, name: &str) -> Option<usize> {
    let needle = format!("{name}=");
    if raw.starts_with(&needle) {
        return Some(0);
    }
    raw.find(&format!("&{needle}")).map(|idx| idx + 1)
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryParams::parse(parts.uri.query().unwrap_or_default()))
    }
}

/// A JSON body of type `T`. Malformed JSON, wrong types and missing fields become a 400 naming the problem; a
/// body over the limit becomes a 413. The content type is not checked: old clients send what they send.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request("Cannot read the request body.")
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body; an empty body reads as `{}` so that all-optional bodies may be left out.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes).map_err(|error| ApiError::bad_request(format!("Invalid request body: {error}.")))
}

/// Checks an id from the request: not longer than [`MAX_ID_LEN`].
pub fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    if value.len() > MAX_ID_LEN {
        return Err(ApiError::bad_request(format!("Invalid {field}: longer than {MAX_ID_LEN} characters.")));
    }
    Ok(())
}

/// Accepts a string or a number (the extension sends some ids as numbers) and keeps it as a string.
pub fn lenient_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize as _;
    Ok(match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) => Some(text),
        Some(serde_json::Value::Number(number)) => Some(number.to_string()),
        Some(other) => {
            return Err(serde::de::Error::custom(format!("expected a string or a number, got {other}")));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_decodes_to_space_as_browsers_send_it() {
        let params = QueryParams::parse("phoneNumber=+14155550123&jwtToken=abc");
        assert_eq!(params.get("phoneNumber"), Some(" 14155550123"));
        assert_eq!(params.get("jwtToken"), Some("abc"));
    }

    #[test]
    fn raw_value_keeps_ampersands_of_unencoded_text() {
        let params = QueryParams::parse("jwtToken=abc&name=Smith & Sons&co");
        assert_eq!(params.raw_value("name", &["jwtToken"]).as_deref(), Some("Smith & Sons&co"));
        let params = QueryParams::parse("name=Ann Lee&jwtToken=abc");
        assert_eq!(params.raw_value("name", &["jwtToken"]).as_deref(), Some("Ann Lee"));
        let params = QueryParams::parse("name=J%C3%BCrgen");
        assert_eq!(params.raw_value("name", &["jwtToken"]).as_deref(), Some("Jürgen"));
        assert_eq!(QueryParams::parse("surname=x").raw_value("name", &[]), None);
    }

    #[test]
    fn empty_body_reads_as_an_empty_object() {
        let value: serde_json::Value = parse_json(b"").unwrap();
        assert_eq!(value, serde_json::json!({}));
        assert!(parse_json::<serde_json::Value>(b"{").is_err());
    }
}
