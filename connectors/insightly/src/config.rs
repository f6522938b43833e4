//! `InsightlyConfig`: the settings the operator configures (`CALLBRIDGE_INSIGHTLY_*`), checked at start-up.

use callbridge_core::{ConnectorConfig, ConnectorError};
use serde::{Deserialize, Deserializer, de::Error as _};

use crate::NAME;

/// The API version used when `INSIGHTLY_API_VERSION` is not set: the current one in Insightly's documentation.
pub(crate) const DEFAULT_API_VERSION: &str = "v3.1";

/// Configuration of the `insightly` connector. It holds no secret: each user's API key arrives with the request,
/// and the API URL comes from the user's login form.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct InsightlyConfig {
    /// The path segment of the API version (`INSIGHTLY_API_VERSION`), such as `v3.1`.
    #[serde(default = "default_api_version", deserialize_with = "api_version")]
    pub api_version: String,
}

fn default_api_version() -> String {
    DEFAULT_API_VERSION.to_owned()
}

impl InsightlyConfig {
    /// Reads the settings (see `callbridge_core::settings`: unknown keys warn, a bad version is an error).
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        config.settings(NAME)
    }
}

/// `v` followed by digits and dots (`v3`, `v3.1`): it goes into every URL path, so nothing else is accepted.
fn api_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    let version = text.trim().trim_matches('/');
    let valid = version.strip_prefix('v').is_some_and(|rest| {
        rest.starts_with(|it: char| it.is_ascii_digit()) && rest.chars().all(|it| it.is_ascii_digit() || it == '.')
    });
    if !valid {
        return Err(D::Error::custom(format!("it must look like v3.1, not `{version}`")));
    }
    Ok(version.to_owned())
}
