//! `ClioConfig`: the settings the host hands the connector, checked when the connector is built.

use callbridge_core::{ConnectorConfig, ConnectorError};
use tracing::warn;
use url::Url;

use crate::NAME;

/// The placeholder CRM's API root, used when `api_url` is not set.
pub(crate) const DEFAULT_API_URL: &str = "https://api.example.com/v1";

/// Settings keys the connector reads; `base_url` is the host's origin override, already applied to the HTTP client.
const KNOWN_KEYS: [&str; 2] = ["api_url", "base_url"];

/// Configuration of the `clio` connector. It holds no secret: each user's API key arrives with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClioConfig {
    /// The root of the CRM's REST API (`CLIO_API_URL`), without a trailing slash.
    pub api_url: String,
}

impl ClioConfig {
    /// Reads the settings. An unknown key is logged, not refused: the host passes every `CLIO_*` variable,
    /// and some may belong to other tools, yet a misspelt one still shows up in the log.
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        for unknown in config.values.keys().filter(|key| !KNOWN_KEYS.contains(&key.as_str())) {
            warn!(connector = NAME, setting = %unknown, known = %KNOWN_KEYS.join(", "), "Ignoring an unknown Clio setting.");
        }
        let api_url = config.get("api_url").unwrap_or(DEFAULT_API_URL).trim().trim_end_matches('/');
        let is_http = Url::parse(api_url).is_ok_and(|it| matches!(it.scheme(), "http" | "https"));
        if !is_http {
            return Err(ConnectorError::config(format!(
                "{}_API_URL is not an http(s) URL: {api_url}",
                NAME.to_ascii_uppercase()
            )));
        }
        Ok(Self { api_url: api_url.to_owned() })
    }
}
