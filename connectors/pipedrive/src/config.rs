//! `PipedriveConfig`: the OAuth app credentials and URLs the operator configures (`CALLBRIDGE_PIPEDRIVE_*`).

use callbridge_core::oauth::ClientCredentials;
use callbridge_core::settings::{http_url, missing};
use callbridge_core::{ConnectorConfig, ConnectorError, Secret};
use serde::Deserialize;

use crate::NAME;

/// Pipedrive's authorization page, shown in the manifest.
pub(crate) const AUTHORIZE_URL: &str = "https://oauth.pipedrive.com/oauth/authorize";
/// Pipedrive's OAuth token revocation endpoint.
pub(crate) const REVOKE_URL: &str = "https://oauth.pipedrive.com/oauth/revoke";
/// The reference deployment's landing page, used when neither `redirect_uri` nor the public URL is set.
const DEFAULT_REDIRECT_URI: &str = "https://unified-crm-extension.labs.ringcentral.com/pipedrive-redirect";
/// The path of the landing page and uninstall callback this connector serves.
pub(crate) const REDIRECT_PATH: &str = "/pipedrive-redirect";

/// Configuration of the `pipedrive` connector.
///
/// Every field is optional at build time: without a client id the connector still serves its manifest and fails at
/// login with a message naming the missing setting.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PipedriveConfig {
    /// The OAuth app's client id (`PIPEDRIVE_CLIENT_ID`).
    pub client_id: Option<String>,
    /// The OAuth app's client secret (`PIPEDRIVE_CLIENT_SECRET`).
    pub client_secret: Option<Secret>,
    /// The token endpoint (`PIPEDRIVE_ACCESS_TOKEN_URI`).
    #[serde(rename = "access_token_uri", default = "default_token_url", deserialize_with = "http_url")]
    pub token_url: String,
    /// Where Pipedrive sends the user after authorisation (`PIPEDRIVE_REDIRECT_URI`); by default the landing page
    /// under the server's public URL.
    #[serde(default, deserialize_with = "http_url")]
    pub redirect_uri: String,
    /// Scopes for the manifest's authorize URL; Pipedrive normally takes them from the app registration.
    pub scope: Option<String>,
}

fn default_token_url() -> String {
    "https://oauth.pipedrive.com/oauth/token".to_owned()
}

impl PipedriveConfig {
    /// Reads the settings (see `callbridge_core::settings`: unknown keys warn, bad URLs are errors).
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        let mut settings: Self = config.settings(NAME)?;
        if settings.redirect_uri.is_empty() {
            settings.redirect_uri = match &config.public_url {
                Some(public_url) => format!("{}{REDIRECT_PATH}", public_url.trim_end_matches('/')),
                None => DEFAULT_REDIRECT_URI.to_owned(),
            };
        }
        Ok(settings)
    }

    /// The client id and secret, or a configuration error naming the variable to set.
    pub fn client_credentials(&self) -> Result<ClientCredentials, ConnectorError> {
        Ok(ClientCredentials {
            client_id: self.client_id.clone().ok_or_else(|| missing(NAME, "client_id"))?,
            client_secret: self.client_secret.clone().ok_or_else(|| missing(NAME, "client_secret"))?,
        })
    }
}
