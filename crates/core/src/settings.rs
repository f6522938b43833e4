//! Typed connector settings: a connector declares a serde struct for its operator configuration and reads it with
//! [`ConnectorConfig::settings`](crate::ConnectorConfig::settings). Unknown keys are logged once, a bad value is an
//! error naming the environment variable that sets it, so the server stops at start-up instead of at a user's login.
//!
//! Keys are the lower-case rest of `CALLBRIDGE_<NAME>_<KEY>` (or App Connect's `<NAME>_<KEY>`); values are strings,
//! so a field that is not text reads through [`parsed`] or [`parsed_option`] (`url::Url`, numbers, ...).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::error::ConnectorError;
use crate::secret::Secret;

/// Keys the host itself consumes (`base_url` redirects the connector's HTTP client); never unknown to a connector.
const HOST_KEYS: [&str; 1] = ["base_url"];

/// The environment variable that sets `key` of `connector`: `CALLBRIDGE_PIPEDRIVE_CLIENT_ID`.
pub fn variable_name(connector: &str, key: &str) -> String {
    format!("CALLBRIDGE_{}_{}", connector.to_ascii_uppercase(), key.to_ascii_uppercase())
}

/// The error for a setting a connector needs and nobody set, naming App Connect's variable for it (which the
/// `CALLBRIDGE_`-prefixed one overrides): `client_id is not configured: set PIPEDRIVE_CLIENT_ID`.
pub fn missing(connector: &str, key: &str) -> ConnectorError {
    ConnectorError::config(format!(
        "{key} is not configured: set {}_{}",
        connector.to_ascii_uppercase(),
        key.to_ascii_uppercase()
    ))
}

/// `values` as the settings struct `T`. Empty values count as missing (so `Option` fields are `None` and
/// `#[serde(default)]` applies); each unknown key is logged once, here.
pub(crate) fn read<T: DeserializeOwned>(
    connector: &str,
    values: &BTreeMap<String, Secret>,
) -> Result<T, ConnectorError> {
    let object: Map<String, Value> = values
        .iter()
        .filter(|(key, value)| !value.is_empty() && !HOST_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), Value::String(value.expose().to_owned())))
        .collect();
    let mut unknown: Vec<String> = Vec::new();
    let mut note_unknown = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let ignoring = serde_ignored::Deserializer::new(Value::Object(object), &mut note_unknown);
    let settings: T = serde_path_to_error::deserialize(ignoring).map_err(|error| {
        let key = error.path().to_string();
        let variable = variable_name(connector, &key);
        // Only typed fields can be refused, and their parsers quote the value; a secret is text, never refused.
        ConnectorError::config(format!("{variable} is not valid: {}", error.into_inner()))
    })?;
    for key in unknown {
        // A variable meant for other tooling must not stop the server; the warning still shows a misspelt name.
        tracing::warn!(connector = %connector, variable = %variable_name(connector, &key), "Ignoring an unknown connector setting.");
    }
    Ok(settings)
}

/// `deserialize_with` for a setting parsed from its text with [`FromStr`], such as a URL or a number.
pub fn parsed<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let text = String::deserialize(deserializer)?;
    text.trim().parse().map_err(|error| D::Error::custom(format!("`{}`: {error}", text.trim())))
}

/// `deserialize_with` for an absolute http(s) URL kept as its trimmed text (a redirect URI must reach the CRM as
/// configured, without the normalisation `url::Url` applies).
pub fn http_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?.trim().to_owned();
    match url::Url::parse(&text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(text),
        Ok(_) => Err(D::Error::custom(format!("`{text}` is not an http(s) URL"))),
        Err(error) => Err(D::Error::custom(format!("`{text}` is not an absolute URL ({error})"))),
    }
}

/// [`parsed`] for an optional setting (add `#[serde(default)]`).
pub fn parsed_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    parsed(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct AcmeSettings {
        client_id: Option<String>,
        #[serde(default, deserialize_with = "parsed_option")]
        token_url: Option<url::Url>,
        #[serde(default = "default_page_size", deserialize_with = "parsed")]
        page_size: u32,
    }

    fn default_page_size() -> u32 {
        100
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, Secret> {
        pairs.iter().map(|(key, value)| ((*key).to_owned(), Secret::from(*value))).collect()
    }

    #[test]
    fn reads_typed_values_with_defaults_and_empty_as_missing() {
        let settings: AcmeSettings =
            read("acme", &values(&[("client_id", ""), ("token_url", "https://acme.test/token"), ("base_url", "x")]))
                .unwrap();
        assert_eq!(settings.client_id, None);
        assert_eq!(settings.token_url.unwrap().as_str(), "https://acme.test/token");
        assert_eq!(settings.page_size, 100);
    }

    #[test]
    fn a_bad_value_names_the_variable_and_hides_nothing_else() {
        let error = read::<AcmeSettings>("acme", &values(&[("page_size", "lots")])).unwrap_err();
        assert!(error.message().starts_with("CALLBRIDGE_ACME_PAGE_SIZE is not valid: `lots`"), "{error}");
        let error = read::<AcmeSettings>("acme", &values(&[("token_url", "not a url")])).unwrap_err();
        assert!(error.message().starts_with("CALLBRIDGE_ACME_TOKEN_URL is not valid"), "{error}");
        #[derive(Debug, Deserialize)]
        struct Redirect {
            #[serde(deserialize_with = "http_url")]
            _redirect_uri: String,
        }
        for bad in ["/relative", "ftp://acme.test/x"] {
            let error = read::<Redirect>("acme", &values(&[("_redirect_uri", bad)])).unwrap_err();
            assert!(error.message().starts_with("CALLBRIDGE_ACME__REDIRECT_URI is not valid"), "{error}");
        }
    }
}
