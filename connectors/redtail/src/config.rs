//! `RedtailConfig`: the settings the host hands the connector, checked when the connector is built.

use callbridge_core::{ConnectorConfig, ConnectorError, Secret};
use tracing::warn;
use url::Url;

use crate::NAME;

/// Redtail's public API root (`REDTAIL_API_SERVER`), used when none is configured.
pub(crate) const DEFAULT_API_SERVER: &str = "https://smf.crm3.redtailtechnology.com/api/public/v1";

/// Settings keys the connector reads; `base_url` is the host's origin override, already applied to the HTTP client.
const KNOWN_KEYS: [&str; 3] = ["api_key", "api_server", "base_url"];

/// Configuration of the `redtail` connector.
#[derive(Clone, PartialEq, Eq)]
pub struct RedtailConfig {
    /// The root of Redtail's REST API (`REDTAIL_API_SERVER`), without a trailing slash.
    pub api_server: String,
    /// The partner API key Redtail issues to an integration (`REDTAIL_API_KEY`); every request carries it.
    pub api_key: Option<Secret>,
}

impl std::fmt::Debug for RedtailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedtailConfig")
            .field("api_server", &self.api_server)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RedtailConfig {
    /// Reads the settings. An unknown key is logged, not refused: the host passes every `REDTAIL_*` variable,
    /// and some may belong to other tools, yet a misspelt one still shows up in the log.
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        for unknown in config.values.keys().filter(|key| !KNOWN_KEYS.contains(&key.as_str())) {
            warn!(connector = NAME, setting = %unknown, known = %KNOWN_KEYS.join(", "), "Ignoring an unknown Redtail setting.");
        }
        let api_server = config.get("api_server").unwrap_or(DEFAULT_API_SERVER).trim().trim_end_matches('/');
        let is_http = Url::parse(api_server).is_ok_and(|it| matches!(it.scheme(), "http" | "https"));
        if !is_http {
            return Err(ConnectorError::config(format!(
                "{}_API_SERVER is not an http(s) URL: {api_server}",
                NAME.to_ascii_uppercase()
            )));
        }
        let api_key = config.get("api_key").map(|it| Secret::new(it.trim()));
        Ok(Self { api_server: api_server.to_owned(), api_key })
    }

    /// The partner API key; missing, it is a configuration error naming the variable to set. It is only needed
    /// when a user logs in or a request reaches Redtail, so the connector still lists itself without it.
    pub fn api_key(&self) -> Result<&Secret, ConnectorError> {
        self.api_key.as_ref().ok_or_else(|| {
            ConnectorError::config(format!("api_key is not configured: set {}_API_KEY", NAME.to_ascii_uppercase()))
        })
    }
}
