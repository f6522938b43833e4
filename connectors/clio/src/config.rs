//! `ClioConfig`: the OAuth apps (one per Clio region) and the redirect URI the host hands the connector.

use std::fmt;

use callbridge_core::settings::http_url;
use callbridge_core::{ConnectorConfig, ConnectorError, Secret};
use serde::Deserialize;

use crate::NAME;

/// Where Clio sends the user after authorisation when `redirect_uri` is not set: the App Connect extension's page.
pub(crate) const DEFAULT_REDIRECT_URI: &str = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html";

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

/// The operator's settings (`CALLBRIDGE_CLIO_*`): one OAuth app per region and the redirect URI.
#[derive(Deserialize)]
struct Settings {
    client_id: Option<String>,
    client_secret: Option<Secret>,
    eu_client_id: Option<String>,
    eu_client_secret: Option<Secret>,
    ca_client_id: Option<String>,
    ca_client_secret: Option<Secret>,
    au_client_id: Option<String>,
    au_client_secret: Option<Secret>,
    #[serde(default = "default_redirect_uri", deserialize_with = "http_url")]
    redirect_uri: String,
}

fn default_redirect_uri() -> String {
    DEFAULT_REDIRECT_URI.to_owned()
}

impl ClioConfig {
    /// Reads the settings (see `callbridge_core::settings`: unknown keys warn, a bad redirect URI is an error).
    pub fn from_connector_config(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        let it: Settings = config.settings(NAME)?;
        let app = |client_id, client_secret| OAuthApp { client_id, client_secret };
        let apps = [
            app(it.client_id, it.client_secret),
            app(it.eu_client_id, it.eu_client_secret),
            app(it.ca_client_id, it.ca_client_secret),
            app(it.au_client_id, it.au_client_secret),
        ];
        Ok(Self { apps, redirect_uri: it.redirect_uri })
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
