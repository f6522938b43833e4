//! Configuration of `callbridge serve` and `callbridge migrate`: the only place that reads environment variables.
//!
//! Server settings are clap arguments with `env` fallbacks, so `callbridge serve --help` lists every variable.
//! Connector settings are open-ended (`CALLBRIDGE_<NAME>_<KEY>` and App Connect's `<NAME>_<KEY>`), so they are
//! collected from the environment here and handed to each connector as its `ConnectorConfig::values`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

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

    #[command(flatten)]
    pub secrets: SecretArgs,

    /// Which connectors to serve: `all` (the default), a comma-separated list of names (`pipedrive`), or `all`
    /// minus some (`-sandbox` turns off the sandbox, which accepts any API key and is meant for a first try).
    /// `callbridge connectors` lists the names.
    #[arg(long, env = "CALLBRIDGE_CONNECTORS", default_value = "all")]
    pub connectors: String,

    /// How long, in seconds, a log the CRM cannot take yet is retried before it fails (default one day).
    #[arg(long = "delivery-max-age", env = "CALLBRIDGE_DELIVERY_MAX_AGE_SECS", default_value_t = 86_400)]
    pub delivery_max_age_secs: u64,

    /// How long, in seconds, a log being delivered stays claimed by the instance working on it without a sign of
    /// life: after a crash, the restarted instance (or another one) takes the log over this long after the last.
    #[arg(
        long = "delivery-lease",
        env = "CALLBRIDGE_DELIVERY_LEASE_SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub delivery_lease_secs: u64,

    /// How long, in seconds, a delivered log's job row is kept before it is deleted (default seven days).
    #[arg(long = "delivery-retention", env = "CALLBRIDGE_DELIVERY_RETENTION_SECS", default_value_t = 604_800)]
    pub delivery_retention_secs: u64,

    /// Which log lines to write, as a tracing filter (`info`, `callbridge_host=debug,info`).
    #[arg(long = "log", env = "CALLBRIDGE_LOG", default_value = "info")]
    pub log_filter: String,

    /// The log line format.
    #[arg(long = "log-format", env = "CALLBRIDGE_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Text)]
    pub log_format: LogFormatArg,

    #[command(flatten)]
    pub limits: LimitsArgs,
}

/// The server's secrets. None belongs in the database: what is not configured here is generated into the key
/// file, created 0600 beside the SQLite file (see docs/security.md).
#[derive(Clone, Debug, Args)]
pub struct SecretArgs {
    /// The HMAC secret of App Connect session tokens (App Connect's name). Changing it ends every session.
    #[arg(long = "jwt-secret", env = "APP_SERVER_SECRET_KEY", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// A file holding the JWT secret (a mounted container secret), when APP_SERVER_SECRET_KEY is not set.
    #[arg(long = "jwt-secret-file", env = "APP_SERVER_SECRET_KEY_FILE")]
    pub jwt_secret_file: Option<PathBuf>,

    /// The salt of RingCentral id hashing, `sha256hex("<id>:<HASH_KEY>")` (App Connect's name); set it to the old
    /// server's value to keep its hashed ids.
    #[arg(long = "hash-key", env = "HASH_KEY", hide_env_values = true)]
    pub hash_key: Option<String>,

    /// A file holding the hash key, when HASH_KEY is not set.
    #[arg(long = "hash-key-file", env = "HASH_KEY_FILE")]
    pub hash_key_file: Option<PathBuf>,

    /// The base64 AES-256 key that encrypts CRM tokens and API keys at rest; several separated by commas to rotate:
    /// the first seals, every one opens (then run `callbridge keys rotate`).
    #[arg(long = "token-key", env = "CALLBRIDGE_TOKEN_KEY", hide_env_values = true)]
    pub token_key: Option<String>,

    /// A file holding the token key(s), when CALLBRIDGE_TOKEN_KEY is not set.
    #[arg(long = "token-key-file", env = "CALLBRIDGE_TOKEN_KEY_FILE")]
    pub token_key_file: Option<PathBuf>,

    /// Where the secrets that are not configured are generated and kept (JSON, mode 0600). Defaults to the SQLite
    /// file's name with `.keys` (`callbridge.keys`), or `./callbridge.keys` with PostgreSQL: instances sharing a
    /// database must share this file (or configure every secret).
    #[arg(long = "key-file", env = "CALLBRIDGE_KEY_FILE")]
    pub key_file: Option<PathBuf>,
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

/// Resource bounds of `callbridge serve`: connection timeouts and limits, request rates, and who may read
/// `/metrics`. Durations are whole seconds; `0` turns a rate limit off.
#[derive(Clone, Debug, Args)]
pub struct LimitsArgs {
    /// Serve `/metrics` on this address only (e.g. `127.0.0.1:9464`) instead of the API's address.
    #[arg(long = "metrics-addr", env = "CALLBRIDGE_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Require `Authorization: Bearer <token>` on `/metrics` (wherever it is served).
    #[arg(long = "metrics-token", env = "CALLBRIDGE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Seconds a connection may take to send a complete request head, counted from when it opens or finished its
    /// last answer: slow-header and idle (kept-alive) connections are closed after this.
    #[arg(long = "header-timeout", env = "CALLBRIDGE_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Seconds a client may take to send a request body; a slower one is answered 408 and closed.
    #[arg(long = "body-timeout", env = "CALLBRIDGE_BODY_TIMEOUT", default_value_t = 30)]
    pub body_timeout_secs: u64,

    /// The most open client connections; further clients wait in the listen queue until one closes.
    #[arg(long = "max-connections", env = "CALLBRIDGE_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Requests per second one client IP address may make (bursts of ten times this); 0 for no limit. Behind a
    /// reverse proxy every client has the proxy's address: raise it there, or limit at the proxy.
    #[arg(long = "rate-limit-ip", env = "CALLBRIDGE_RATE_LIMIT_IP", default_value_t = 100)]
    pub rate_limit_ip: u32,

    /// Requests per second one signed-in user may make (bursts of ten times this); 0 for no limit.
    #[arg(long = "rate-limit-user", env = "CALLBRIDGE_RATE_LIMIT_USER", default_value_t = 20)]
    pub rate_limit_user: u32,
}

/// The connectors `CALLBRIDGE_CONNECTORS` selects from `registered`: `all`, names, and `-name` to leave one out
/// (exclusions alone start from all). Unknown names and an empty selection are errors naming the known ones.
pub fn select_connectors<'a>(spec: &str, registered: &[&'a str]) -> Result<Vec<&'a str>, String> {
    let known = || registered.join(", ");
    let entries: Vec<&str> = spec.split(',').map(str::trim).filter(|it| !it.is_empty()).collect();
    let (excluded, included): (Vec<&str>, Vec<&str>) = entries.iter().partition(|it| it.starts_with('-'));
    let excluded: Vec<&str> = excluded.iter().map(|it| &it[1..]).collect();
    for name in included.iter().chain(&excluded).filter(|it| **it != "all") {
        if !registered.contains(name) {
            return Err(format!("CALLBRIDGE_CONNECTORS names an unknown connector `{name}` (known: {})", known()));
        }
    }
    let start_from_all = included.is_empty() || included.contains(&"all");
    let selected: Vec<&'a str> = registered
        .iter()
        .copied()
        .filter(|name| (start_from_all || included.contains(name)) && !excluded.contains(name))
        .collect();
    if selected.is_empty() {
        return Err(format!("CALLBRIDGE_CONNECTORS `{spec}` selects no connector (known: {})", known()));
    }
    Ok(selected)
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
    #[expect(clippy::disallowed_methods, reason = "this module is where the environment is read")]
    let vars = std::env::vars();
    connector_settings_from(name, vars)
}

/// The RingCentral API origin: `CALLBRIDGE_RINGCENTRAL_BASE_URL`, else App Connect's `RINGCENTRAL_SERVER` (a
/// regional server), else RingCentral's production origin.
pub fn ringcentral_origin() -> Result<Url, String> {
    #[expect(clippy::disallowed_methods, reason = "this module is where the environment is read")]
    let vars = std::env::vars();
    ringcentral_origin_from(vars)
}

/// [`ringcentral_origin`] from `vars`.
pub fn ringcentral_origin_from(vars: impl IntoIterator<Item = (String, String)>) -> Result<Url, String> {
    let settings = connector_settings_from("ringcentral", vars)?;
    if let Some(origin) = settings.origin_override {
        return Ok(origin);
    }
    let server = settings.values.get("server").map(|it| it.expose().trim().to_owned()).filter(|it| !it.is_empty());
    let server = server.unwrap_or_else(|| crate::ringcentral::DEFAULT_ORIGIN.to_owned());
    Url::parse(&server).map_err(|error| format!("RINGCENTRAL_SERVER is not a URL ({error}): {server}"))
}

/// The PostgreSQL server the store and host tests also run on (`CALLBRIDGE_TEST_POSTGRES_URL`), or `None` to run on
/// SQLite only.
///
/// # Panics
///
/// When `CI` is set and the URL is not: a CI run must not pass silently without its PostgreSQL half.
pub fn test_postgres_url() -> Option<String> {
    #[expect(clippy::disallowed_methods, reason = "this module is where the environment is read")]
    let (url, ci) = (std::env::var("CALLBRIDGE_TEST_POSTGRES_URL"), std::env::var_os("CI"));
    let url = url.ok().filter(|it| !it.is_empty());
    assert!(
        url.is_some() || ci.is_none_or(|it| it.is_empty()),
        "CI is set but CALLBRIDGE_TEST_POSTGRES_URL is not: the PostgreSQL tests would be skipped"
    );
    url
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
    fn connector_selection_takes_names_all_and_exclusions() {
        let registered = ["pipedrive", "sandbox", "zoho"];
        assert_eq!(select_connectors("all", &registered).unwrap(), registered);
        assert_eq!(select_connectors("-sandbox", &registered).unwrap(), ["pipedrive", "zoho"]);
        assert_eq!(select_connectors("all, -sandbox,-zoho", &registered).unwrap(), ["pipedrive"]);
        assert_eq!(select_connectors("sandbox,pipedrive", &registered).unwrap(), ["pipedrive", "sandbox"]);
        let unknown = select_connectors("pipedrive,hubspot", &registered).unwrap_err();
        assert!(unknown.contains("`hubspot`") && unknown.contains("known: pipedrive, sandbox, zoho"), "{unknown}");
        assert!(select_connectors("sandbox,-sandbox", &registered).unwrap_err().contains("selects no connector"));
    }

    #[test]
    fn ringcentral_origin_prefers_callbridge_name_then_regional_server() {
        let origin = |pairs: &[(&str, &str)]| ringcentral_origin_from(vars(pairs)).map(|it| it.to_string());
        assert_eq!(origin(&[]).unwrap(), "https://platform.ringcentral.com/");
        assert_eq!(
            origin(&[("RINGCENTRAL_SERVER", "https://platform.ringcentral.eu")]).unwrap(),
            "https://platform.ringcentral.eu/"
        );
        let both = [
            ("RINGCENTRAL_SERVER", "https://platform.ringcentral.eu"),
            ("CALLBRIDGE_RINGCENTRAL_BASE_URL", "http://127.0.0.1:9"),
        ];
        assert_eq!(origin(&both).unwrap(), "http://127.0.0.1:9/");
        assert!(origin(&[("RINGCENTRAL_SERVER", "nope")]).unwrap_err().contains("RINGCENTRAL_SERVER"));
    }

    #[test]
    fn malformed_base_url_is_an_error_naming_the_variable() {
        let error = connector_settings_from("acme", vars(&[("CALLBRIDGE_ACME_BASE_URL", "not a url")])).unwrap_err();
        assert!(error.contains("CALLBRIDGE_ACME_BASE_URL"), "{error}");
    }
}
