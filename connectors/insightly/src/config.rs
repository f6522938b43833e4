//! `InsightlyConfig`: the settings the host hands the connector, checked when the connector is built.

use callbridge_core::{ConnectorConfig, ConnectorError};
use tracing::warn;

use crate::NAME;

/// The API version used when `INSIGHTLY_API_VERSION` is not set: the current one in Insightly's documentation.
pub(crate) const DEFAULT_API_VERSION: &str = "v3.1";

/// Settings keys the connector reads; `base_url` is the host's origin override, already applied to the HTTP client.
const KNOWN_KEYS: [&str; 2] = ["api_version", "base_url"];

/// Configuration of the `insightly` connector. It holds no secret: each user's API key arrives with the request,
/// and the API URL comes from the user's login form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsightlyConfig {
    /// The path segment of the API version (`INSIGHTLY_API_VERSION`), such as `v3.1`.
    pub api_version: String,
}

impl InsightlyConfig {
    /// Reads the settings. An unknown key is logged, not refused: the host passes every `INSIGHTLY_*` variable,
    /// and some may belong to other tools, yet a misspelt one still shows up in the log.
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        for unknown in config.values.keys().filter(|key| !KNOWN_KEYS.contains(&key.as_str())) {
            warn!(connector = NAME, setting = %unknown, known = %KNOWN_KEYS.join(", "), "Ignoring an unknown Insightly setting.");
        }
        let api_version = config.get("api_version").unwrap_or(DEFAULT_API_VERSION).trim().trim_matches('/');
        if !is_version(api_version) {
            return Err(ConnectorError::config(format!(
                "{}_API_VERSION must look like v3.1, not `{api_version}`",
                NAME.to_ascii_uppercase()
            )));
        }
        Ok(Self { api_version: api_version.to_owned() })
    }
}

/// `v` followed by digits and dots (`v3`, `v3.1`): it goes into every URL path, so nothing else is accepted.
fn is_version(text: &str) -> bool {
    text.strip_prefix('v').is_some_and(|rest| {
        rest.starts_with(|it: char| it.is_ascii_digit()) && rest.chars().all(|it| it.is_ascii_digit() || it == '.')
    })
}
