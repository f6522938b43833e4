//! `RedtailConfig`: the settings the operator configures (`CALLBRIDGE_REDTAIL_*`), checked at start-up.

use callbridge_core::settings::{http_url, missing};
use callbridge_core::{ConnectorConfig, ConnectorError, Secret};
use serde::Deserialize;

use crate::NAME;

/// Redtail's public API root (`REDTAIL_API_SERVER`), used when none is configured.
pub(crate) const DEFAULT_API_SERVER: &str = "https://smf.crm3.redtailtechnology.com/api/public/v1";

/// Configuration of the `redtail` connector.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RedtailConfig {
    /// The root of Redtail's REST API (`REDTAIL_API_SERVER`), without a trailing slash.
    #[serde(default = "default_api_server", deserialize_with = "http_url")]
    pub api_server: String,
    /// The partner API key Redtail issues to an integration (`REDTAIL_API_KEY`); every request carries it.
    pub api_key: Option<Secret>,
}

fn default_api_server() -> String {
    DEFAULT_API_SERVER.to_owned()
}

impl RedtailConfig {
    /// Reads the settings (see `callbridge_core::settings`: unknown keys warn, a bad URL is an error).
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        let mut settings: Self = config.settings(NAME)?;
        settings.api_server = settings.api_server.trim_end_matches('/').to_owned();
        settings.api_key = settings.api_key.map(|it| Secret::new(it.expose().trim()));
        Ok(settings)
    }

    /// The partner API key; missing, it is a configuration error naming the variable to set. It is only needed
    /// when a user logs in or a request reaches Redtail, so the connector still lists itself without it.
    pub fn api_key(&self) -> Result<&Secret, ConnectorError> {
        self.api_key.as_ref().ok_or_else(|| missing(NAME, "api_key"))
    }
}
