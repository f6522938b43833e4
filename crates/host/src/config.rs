//! Configuration of `callbridge serve` and `callbridge migrate`: the only place that reads environment variables.
//!
//! Server settings are clap arguments with `env` fallbacks, so `callbridge serve --help` lists every variable.
//! Connector settings are open-ended (`CALLBRIDGE_<NAME>_<KEY>` and App Connect's `<NAME>_<KEY>`), so they are
//! collected from the environment here and handed to each connector as its `ConnectorConfig::values`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use callbridge_core::Secret;
use clap::{Args, ValueEnum};
use url::Url;

/// Where the database is.
#[derive(Clone, Debug, Args)]
pub struct DatabaseArgs {
    /// The database: a SQLite file path (created on first start), `sqlite:<path>`, or `postgres://user@host/db`
    /// to share one PostgreSQL database between several instances.
    #[arg(long = "database-url", env = "DATABASE_URL", default_value = "./callbridge.db", hide_env_values = true)]
    pub url: String,
}

/// Settings of `callbridge serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "CALLBRIDGE_ADDR", default_value = "127.0.0.1:6066")]
    pub addr: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// The server's public base URL, without a trailing slash; becomes `serverUrl` in `/crmManifest` and the base
    /// of OAuth redirect URIs. Defaults to `http://<addr>`.
    #[arg(long, env = "CALLBRIDGE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The HMAC secret of App Connect session tokens (App Connect's name). Generated and stored in the database
    /// on first start when not set; prefer the environment variable over the flag.
    #[arg(long = "jwt-secret", env = "APP_SERVER_SECRET_KEY", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// The salt of RingCentral id hashing, `sha256hex("<id>:<HASH_KEY>")` (App Connect's name). Generated and
    /// stored on first start when not set; set it to the old server's value to keep its hashed ids.
    #[arg(long = "hash-key", env = "HASH_KEY", hide_env_values = true)]
    pub hash_key: Option<String>,

    /// The base64 AES-256 key that encrypts CRM tokens and API keys at rest. Generated and stored on first start
    /// when not set; setting it keeps the key out of the database.
    #[arg(long = "token-key", env = "CALLBRIDGE_TOKEN_KEY", hide_env_values = true)]
    pub token_key: Option<String>,

    /// How long, in seconds, a log the CRM cannot take yet is retried before it fails (default one day).
    #[arg(long = "delivery-max-age", env = "CALLBRIDGE_DELIVERY_MAX_AGE_SECS", default_value_t = 86_400)]
    pub delivery_max_age_secs: u64,

    /// Which log lines to write, as a tracing filter (`info`, `callbridge_host=debug,info`).
    #[arg(long = "log", env = "CALLBRIDGE_LOG", default_value = "info")]
    pub log_filter: String,

    /// The log line format.
    #[arg(long = "log-format", env = "CALLBRIDGE_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Text)]
    pub log_format: LogFormatArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl ServeArgs {
    /// `public_url` without a trailing slash, or `http://<addr>`.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.addr),
        }
    }
}

/// One connector's settings from the environment.
#[derive(Clone, Debug, Default)]
pub struct ConnectorSettings {
    /// Lower-case key -> value, e.g. `client_id`.
    pub values: BTreeMap<String, Secret>,
    /// `CALLBRIDGE_<NAME>_BASE_URL`: every CRM request of this connector goes to this origin instead.
    pub origin_override: Option<Url>,
}

/// Reads a connector's settings from the process environment.
pub fn connector_settings(name: &str) -> Result<ConnectorSettings, String> {
    connector_settings_from(name, std::env::vars())
}

/// A connector's settings from `vars`: `<NAME>_<KEY>` first, then `CALLBRIDGE_<NAME>_<KEY>` over it.
pub fn connector_settings_from(
    name: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<ConnectorSettings, String> {
    let reference_prefix = format!("{}_", name.to_ascii_uppercase());
    let own_prefix = format!("CALLBRIDGE_{reference_prefix}");
    let mut reference_values = BTreeMap::new();
    let mut own_values = BTreeMap::new();
    for (var, value) in vars {
        if let Some(key) = var.strip_prefix(&own_prefix) {
            own_values.insert(key.to_ascii_lowercase(), value);
        } else if let Some(key) = var.strip_prefix(&reference_prefix) {
            reference_values.insert(key.to_ascii_lowercase(), value);
        }
    }
    // Only the callbridge name redirects traffic: `<NAME>_BASE_URL` may mean something else to an old deployment.
    let origin_override = match own_values.get("base_url").filter(|it| !it.trim().is_empty()) {
        Some(url) => Some(Url::parse(url.trim()).map_err(|error| {
            format!("CALLBRIDGE_{}_BASE_URL is not a URL ({error}): {url}", name.to_ascii_uppercase())
        })?),
        None => None,
    };
    reference_values.extend(own_values);
    let values = reference_values.into_iter().filter(|(key, _)| !key.is_empty()).map(|(k, v)| (k, Secret::new(v)));
    Ok(ConnectorSettings { values: values.collect(), origin_override })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn callbridge_prefix_wins_over_reference_name() {
        let settings = connector_settings_from(
            "pipedrive",
            vars(&[
                ("PIPEDRIVE_CLIENT_ID", "old"),
                ("CALLBRIDGE_PIPEDRIVE_CLIENT_ID", "new"),
                ("PIPEDRIVE_CLIENT_SECRET", "s3cret"),
                ("CALLBRIDGE_PIPEDRIVE_BASE_URL", "http://127.0.0.1:9000"),
                ("HUBSPOT_CLIENT_ID", "other"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.values["client_id"].expose(), "new");
        assert_eq!(settings.values["client_secret"].expose(), "s3cret");
        assert!(!settings.values.contains_key("hubspot_client_id"));
        assert_eq!(settings.origin_override.unwrap().as_str(), "http://127.0.0.1:9000/");
    }

    #[test]
    fn malformed_base_url_is_an_error_naming_the_variable() {
        let error = connector_settings_from("acme", vars(&[("CALLBRIDGE_ACME_BASE_URL", "not a url")])).unwrap_err();
        assert!(error.contains("CALLBRIDGE_ACME_BASE_URL"), "{error}");
    }
}
