//! `PipedriveConfig`: the OAuth app credentials and URLs the host hands the connector.

use std::fmt;

use callbridge_core::{ConnectorConfig, ConnectorError, Secret};

use tracing::warn;

use crate::NAME;

/// Pipedrive's token endpoint, used when `access_token_uri` is not set.
pub(crate) const DEFAULT_TOKEN_URL: &str = "https://oauth.pipedrive.com/oauth/token";
/// Pipedrive's authorization page, shown in the manifest.
pub(crate) const AUTHORIZE_URL: &str = "https://oauth.pipedrive.com/oauth/authorize";
/// The reference deployment's landing page, used when neither `redirect_uri` nor the public URL is set.
pub(crate) const DEFAULT_REDIRECT_URI: &str = "https://unified-crm-extension.labs.ringcentral.com/pipedrive-redirect";
/// The path of the landing page and uninstall callback this connector serves.
pub(crate) const REDIRECT_PATH: &str = "/pipedrive-redirect";

/// Settings keys the connector reads; `base_url` is the host's origin override and is applied to the HTTP client.
const KNOWN_KEYS: [&str; 6] = ["access_token_uri", "base_url", "client_id", "client_secret", "redirect_uri", "scope"];

/// Configuration of the `pipedrive` connector.
///
/// Every field is optional at build time: without a client id the connector still serves its manifest and fails at
/// login with a message naming the missing setting.
#[derive(Clone, PartialEq, Eq)]
pub struct PipedriveConfig {
    /// The OAuth app's client id (`PIPEDRIVE_CLIENT_ID`).
    pub client_id: Option<String>,
    /// The OAuth app's client secret (`PIPEDRIVE_CLIENT_SECRET`).
    pub client_secret: Option<Secret>,
    /// The token endpoint (`PIPEDRIVE_ACCESS_TOKEN_URI`).
    pub token_url: String,
    /// Where Pipedrive sends the user after authorisation (`PIPEDRIVE_REDIRECT_URI`).
    pub redirect_uri: String,
    /// Scopes for the manifest's authorize URL; Pipedrive normally takes them from the app registration.
    pub scope: Option<String>,
}

impl PipedriveConfig {
    /// Reads the settings. An unknown key is logged, not refused: the host passes every `PIPEDRIVE_*` variable, and
    /// one meant for other tooling must not stop the server; the warning still catches a misspelt name.
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        for unknown in config.values.keys().filter(|key| !KNOWN_KEYS.contains(&key.as_str())) {
            warn!(connector = NAME, setting = %unknown, known = %KNOWN_KEYS.join(", "), "Ignoring an unknown Pipedrive setting.");
        }
        let redirect_uri = match (config.get("redirect_uri"), &config.public_url) {
            (Some(uri), _) => uri.to_owned(),
            (None, Some(public_url)) => format!("{}{REDIRECT_PATH}", public_url.trim_end_matches('/')),
            (None, None) => DEFAULT_REDIRECT_URI.to_owned(),
        };
        let token_url = config.get("access_token_uri").unwrap_or(DEFAULT_TOKEN_URL).to_owned();
        for (key, value) in [("access_token_uri", &token_url), ("redirect_uri", &redirect_uri)] {
            if let Err(error) = url::Url::parse(value) {
                return Err(ConnectorError::config(format!(
                    "{key} is not a URL ({error}): set {}_{} to an absolute URL",
                    NAME.to_ascii_uppercase(),
                    key.to_ascii_uppercase()
                )));
            }
        }
        Ok(Self {
            client_id: config.get("client_id").map(str::to_owned),
            client_secret: config.get("client_secret").map(Secret::from),
            token_url,
            redirect_uri,
            scope: config.get("scope").map(str::to_owned),
        })
    }

    /// The client id and secret, or a configuration error naming the variable to set.
    pub fn client_credentials(&self) -> Result<(&str, &Secret), ConnectorError> {
        let missing = |key: &str| {
            ConnectorError::config(format!(
                "{key} is not configured: set {}_{}",
                NAME.to_ascii_uppercase(),
                key.to_ascii_uppercase()
            ))
        };
        let client_id = self.client_id.as_deref().ok_or_else(|| missing("client_id"))?;
        let client_secret = self.client_secret.as_ref().ok_or_else(|| missing("client_secret"))?;
        Ok((client_id, client_secret))
    }
}

impl fmt::Debug for PipedriveConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipedriveConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "**REDACTED**"))
            .field("token_url", &self.token_url)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .finish()
    }
}
