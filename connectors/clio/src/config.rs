//! `ClioConfig`: the OAuth apps (one per Clio region) and the redirect URI the host hands the connector.

use std::fmt;

use callbridge_core::{ConnectorConfig, ConnectorError, Secret};
use tracing::warn;

use crate::NAME;

/// Where Clio sends the user after authorisation when `redirect_uri` is not set: the App Connect extension's page.
pub(crate) const DEFAULT_REDIRECT_URI: &str = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html";

/// Settings keys the connector reads; `base_url` is the host's origin override and is applied to the HTTP client.
const KNOWN_KEYS: [&str; 10] = [
    "au_client_id",
    "au_client_secret",
    "base_url",
    "ca_client_id",
    "ca_client_secret",
    "client_id",
    "client_secret",
    "eu_client_id",
    "eu_client_secret",
    "redirect_uri",
];

/// Clio's data regions. Each is its own deployment with its own host, token endpoint and OAuth apps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Region {
    Us,
    Eu,
    Ca,
    Au,
}

impl Region {
    pub const ALL: [Region; 4] = [Region::Us, Region::Eu, Region::Ca, Region::Au];

    /// The region's Clio host, which serves the API, the OAuth endpoints and the web app.
    pub fn host(self) -> &'static str {
        match self {
            Region::Us => "app.clio.com",
            Region::Eu => "eu.app.clio.com",
            Region::Ca => "ca.app.clio.com",
            Region::Au => "au.app.clio.com",
        }
    }

    /// The region whose host is exactly `host` (case-insensitive); any other host is not Clio's.
    pub fn of_host(host: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|it| it.host().eq_ignore_ascii_case(host.trim()))
    }

    /// The prefix of the region's settings: `CLIO_CLIENT_ID` for the US, `CLIO_EU_CLIENT_ID` for the EU, ...
    fn key_prefix(self) -> &'static str {
        match self {
            Region::Us => "",
            Region::Eu => "eu_",
            Region::Ca => "ca_",
            Region::Au => "au_",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One region's OAuth app, as far as it is configured.
#[derive(Clone, Default, PartialEq, Eq)]
struct OAuthApp {
    client_id: Option<String>,
    client_secret: Option<Secret>,
}

/// Configuration of the `clio` connector.
///
/// Every app is optional at build time: without one the connector still serves its manifest and fails at login in
/// that region with a message naming the variable to set.
#[derive(Clone, PartialEq, Eq)]
pub struct ClioConfig {
    apps: [OAuthApp; 4],
    /// Where Clio sends the user after authorisation (`CLIO_REDIRECT_URI`).
    pub redirect_uri: String,
}

impl ClioConfig {
    /// Reads the settings. An unknown key is logged, not refused: the host passes every `CLIO_*` variable.
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        for unknown in config.values.keys().filter(|key| !KNOWN_KEYS.contains(&key.as_str())) {
            warn!(connector = NAME, setting = %unknown, known = %KNOWN_KEYS.join(", "), "Ignoring an unknown Clio setting.");
        }
        let redirect_uri = config.get("redirect_uri").unwrap_or(DEFAULT_REDIRECT_URI).to_owned();
        if let Err(error) = url::Url::parse(&redirect_uri) {
            return Err(ConnectorError::config(format!(
                "redirect_uri is not a URL ({error}): set {}_REDIRECT_URI to an absolute URL",
                NAME.to_ascii_uppercase()
            )));
        }
        let apps = Region::ALL.map(|region| OAuthApp {
            client_id: config.get(&format!("{}client_id", region.key_prefix())).map(str::to_owned),
            client_secret: config.get(&format!("{}client_secret", region.key_prefix())).map(Secret::from),
        });
        Ok(Self { apps, redirect_uri })
    }

    /// The region's client id, for the manifest; empty when not configured.
    pub fn client_id(&self, region: Region) -> &str {
        self.apps[region.index()].client_id.as_deref().unwrap_or_default()
    }

    /// The region's client id and secret, or a configuration error naming the variable to set.
    pub fn client_credentials(&self, region: Region) -> Result<(&str, &Secret), ConnectorError> {
        let app = &self.apps[region.index()];
        let missing = |key: &str| {
            ConnectorError::config(format!(
                "{}{key} is not configured: set {}_{}{}",
                region.key_prefix(),
                NAME.to_ascii_uppercase(),
                region.key_prefix().to_ascii_uppercase(),
                key.to_ascii_uppercase()
            ))
        };
        let client_id = app.client_id.as_deref().ok_or_else(|| missing("client_id"))?;
        let client_secret = app.client_secret.as_ref().ok_or_else(|| missing("client_secret"))?;
        Ok((client_id, client_secret))
    }
}

impl fmt::Debug for ClioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ClioConfig");
        for region in Region::ALL {
            let app = &self.apps[region.index()];
            debug.field(region.host(), &(&app.client_id, app.client_secret.as_ref().map(|_| "**REDACTED**")));
        }
        debug.field("redirect_uri", &self.redirect_uri).finish()
    }
}
