//! The server's secrets, kept apart from its data: the token-encryption keys, the JWT secrets and the hash key.
//!
//! Each secret comes from configuration when it is set (an environment variable, or a file path as container
//! secrets are mounted), otherwise from the key file: a small JSON document created 0600 beside the SQLite
//! database (`<name>.keys`), or at `CALLBRIDGE_KEY_FILE`. A secret missing from both is generated into the key file.
//! Secrets an earlier version kept in the database move to the key file on first start and are then deleted from
//! the database, so a copy of the database alone opens no token and forges no session.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use callbridge_core::Secret;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::config::SecretArgs;
use crate::crypto::TokenCipher;
use crate::jwt::{JwtKeys, TOKEN_LIFETIME};
use crate::store::Store;

/// Names of the secrets earlier versions stored in the `server_secrets` table.
const LEGACY_JWT_SECRET: &str = "app_server_secret_key";
const LEGACY_HASH_KEY: &str = "hash_key";
const LEGACY_TOKEN_KEY: &str = "token_key";

/// The key file's contents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Base64 AES-256 keys; the first seals new values, all of them open the values they sealed.
    #[serde(default)]
    pub token_keys: Vec<String>,
    /// Session-token secrets; the first signs, the retired ones still verify until their tokens have expired.
    #[serde(default)]
    pub jwt_secrets: Vec<JwtSecretEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtSecretEntry {
    pub secret: String,
    /// When a newer secret replaced this one (Unix seconds); tokens it signed live at most one token lifetime more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
}

impl KeyFile {
    /// Reads the key file; `None` when there is none yet. A file others can read is narrowed to 0600 first.
    pub fn load(path: &Path) -> anyhow::Result<Option<KeyFile>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error).with_context(|| format!("cannot read the key file {}", path.display())),
        };
        narrow_to_owner(path)?;
        let file = serde_json::from_str(&text)
            .with_context(|| format!("the key file {} is not a valid key file", path.display()))?;
        Ok(Some(file))
    }

    /// Writes the key file atomically (a 0600 temporary file renamed over it), so a crash leaves the old or the new
    /// file, never half of one.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let text = serde_json::to_string_pretty(self).context("cannot encode the key file")?;
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)?;
            if let Some(directory) = path.parent().filter(|it| !it.as_os_str().is_empty()) {
                std::fs::File::open(directory)?.sync_all()?;
            }
            Ok(())
        };
        write().with_context(|| format!("cannot write the key file {}", path.display()))
    }

    /// The JWT secrets still worth accepting at `now` (Unix seconds): the current one and those retired less than
    /// one token lifetime ago.
    fn live_jwt_secrets(&self, now: i64) -> impl Iterator<Item = &JwtSecretEntry> {
        self.jwt_secrets
            .iter()
            .filter(move |entry| entry.retired_at.is_none_or(|retired| retired + TOKEN_LIFETIME.num_seconds() > now))
    }
}

/// Narrows a file to its owner (0600) if anyone else may read it.
fn narrow_to_owner(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot narrow {} to mode 0600", path.display()))?;
            tracing::warn!(file = %path.display(), "The key file was readable by others; narrowed it to mode 0600.");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Where generated secrets are kept: `CALLBRIDGE_KEY_FILE`, else beside the SQLite file (`callbridge.db` ->
/// `callbridge.keys`), else `./callbridge.keys` (PostgreSQL). `None` for an in-memory database, whose secrets need
/// to live no longer than it does.
pub fn key_file_path(args: &SecretArgs, database_url: &str) -> Option<PathBuf> {
    if let Some(path) = &args.key_file {
        return Some(path.clone());
    }
    let url = database_url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Some(PathBuf::from("callbridge.keys"));
    }
    if url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    Some(Path::new(path).with_extension("keys"))
}

/// The secrets a server runs with.
pub struct ServerSecrets {
    pub jwt: JwtKeys,
    pub hash_key: Secret,
    pub cipher: TokenCipher,
}

impl std::fmt::Debug for ServerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecrets(**REDACTED**)")
    }
}

/// A random 256-bit secret, hex-encoded.
fn random_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// A configured value: the variable itself, else the trimmed contents of the file it names.
fn configured(value: Option<&str>, file: Option<&Path>, name: &str) -> anyhow::Result<Option<String>> {
    if let Some(value) = value.map(str::trim).filter(|it| !it.is_empty()) {
        return Ok(Some(value.to_owned()));
    }
    let Some(file) = file else { return Ok(None) };
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {name} from {}", file.display()))?;
    let text = text.trim();
    anyhow::ensure!(!text.is_empty(), "{name} file {} is empty", file.display());
    Ok(Some(text.to_owned()))
}

/// The configured values, by secret.
struct Configured {
    jwt_secret: Option<String>,
    hash_key: Option<String>,
    token_keys: Option<Vec<String>>,
}

impl Configured {
    fn read(args: &SecretArgs) -> anyhow::Result<Configured> {
        let token_keys = configured(args.token_key.as_deref(), args.token_key_file.as_deref(), "CALLBRIDGE_TOKEN_KEY")?
            .map(|it| it.split([',', '\n']).map(str::trim).filter(|it| !it.is_empty()).map(str::to_owned).collect());
        Ok(Configured {
            jwt_secret: configured(
                args.jwt_secret.as_deref(),
                args.jwt_secret_file.as_deref(),
                "APP_SERVER_SECRET_KEY",
            )?,
            hash_key: configured(args.hash_key.as_deref(), args.hash_key_file.as_deref(), "HASH_KEY")?,
            token_keys,
        })
    }

    fn all_set(&self) -> bool {
        self.jwt_secret.is_some() && self.hash_key.is_some() && self.token_keys.is_some()
    }
}

/// Settles the secrets for a server over `store` (migrated, without a cipher yet): configured values win, the key
/// file supplies the rest, secrets still in the database move into the key file, missing ones are generated.
/// Finally checks that the stored tokens open with the resulting keys.
pub async fn settle(args: &SecretArgs, database_url: &str, store: &Store) -> anyhow::Result<ServerSecrets> {
    let configured = Configured::read(args)?;
    let legacy = store.legacy_secrets().await.context("cannot read the secrets stored in the database")?;
    let mut file = KeyFile::default();
    if !configured.all_set() {
        let path = key_file_path(args, database_url);
        let loaded = match &path {
            Some(path) => KeyFile::load(path)?,
            None => None,
        };
        let existed = loaded.is_some();
        file = loaded.unwrap_or_default();
        let before = file.clone();
        fill_missing(&mut file, &configured, &legacy);
        match &path {
            Some(path) if file != before => {
                file.save(path)?;
                let verb = if existed { "Updated" } else { "Created" };
                tracing::info!(file = %path.display(), "{verb} the key file (keep it private, back it up apart from the database).");
            }
            Some(path) => tracing::info!(file = %path.display(), "Secrets read from the key file."),
            None => tracing::info!("In-memory database: the generated secrets live as long as the process."),
        }
    }
    // Safe in the key file now, or shadowed by configuration (which always won, so they were never used).
    if !legacy.is_empty() {
        store.delete_legacy_secrets().await.context("cannot delete the secrets stored in the database")?;
        tracing::info!(moved = legacy.len(), "Removed the secrets earlier versions kept in the database.");
    }
    let mut secrets = assemble(&configured, &file, chrono::Utc::now().timestamp())?;
    if configured.token_keys.is_none()
        && let Some(path) = key_file_path(args, database_url)
    {
        // `callbridge keys rotate` may add a key while this server runs: a token sealed under it makes the cipher
        // read the key file again instead of failing.
        let reload = move || KeyFile::load(&path).ok().flatten().map(|file| file.token_keys);
        secrets.cipher = secrets.cipher.with_reloader(std::sync::Arc::new(reload));
    }
    let checked = store.clone().with_cipher(secrets.cipher.clone());
    checked.check_token_keys().await.context(
        "the stored CRM tokens cannot be opened with these token keys (is this the key file, or the \
         CALLBRIDGE_TOKEN_KEY, this database was written with?)",
    )?;
    Ok(secrets)
}

/// Fills every secret that is neither configured nor in the key file: from the database if an earlier version
/// stored it there, else a new random one.
fn fill_missing(file: &mut KeyFile, configured: &Configured, legacy: &BTreeMap<String, String>) {
    let from_legacy = |name: &str, what: &str| {
        let value = legacy.get(name).cloned();
        if value.is_some() {
            tracing::info!(secret = what, "Moving a secret from the database to the key file.");
        } else {
            tracing::info!(secret = what, "Generated a secret into the key file.");
        }
        value
    };
    if configured.token_keys.is_none() && file.token_keys.is_empty() {
        let key = from_legacy(LEGACY_TOKEN_KEY, "token key").unwrap_or_else(TokenCipher::generate_key);
        file.token_keys.push(key);
    }
    if configured.jwt_secret.is_none() && file.jwt_secrets.is_empty() {
        let secret = from_legacy(LEGACY_JWT_SECRET, "JWT secret").unwrap_or_else(random_secret);
        file.jwt_secrets.push(JwtSecretEntry { secret, retired_at: None });
    }
    if configured.hash_key.is_none() && file.hash_key.is_none() {
        file.hash_key = Some(from_legacy(LEGACY_HASH_KEY, "hash key").unwrap_or_else(random_secret));
    }
}

/// The running secrets from configuration over the key file.
fn assemble(configured: &Configured, file: &KeyFile, now: i64) -> anyhow::Result<ServerSecrets> {
    let token_keys = configured.token_keys.as_ref().unwrap_or(&file.token_keys);
    let cipher = TokenCipher::from_base64_keys(token_keys.iter().map(String::as_str))
        .context("the token key (CALLBRIDGE_TOKEN_KEY or the key file) is not valid")?;
    let jwt = match &configured.jwt_secret {
        Some(secret) => JwtKeys::new(secret.as_bytes()),
        None => {
            let mut live = file.live_jwt_secrets(now).map(|it| it.secret.as_bytes());
            let current = live.next().context("the key file holds no current JWT secret")?;
            JwtKeys::with_previous(current, &live.collect::<Vec<_>>())
        }
    };
    let hash_key = configured.hash_key.clone().or_else(|| file.hash_key.clone()).context("no hash key")?;
    Ok(ServerSecrets { jwt, hash_key: Secret::new(hash_key), cipher })
}

/// What `callbridge keys rotate` changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// A new token key seals from now on; stored tokens are sealed again under it.
    TokenKey,
    /// A new JWT secret signs from now on; tokens signed with the old one stay valid until they expire.
    JwtSecret,
    /// A new JWT secret, and tokens signed with the old ones are refused at once (every user logs in again).
    JwtSecretCutOver,
}

/// `callbridge keys rotate`: adds the new secret to the key file (or, for a configured token key, uses the first
/// configured key) and, for token keys, seals every stored token again. Returns a summary for the operator.
pub async fn rotate(
    args: &SecretArgs,
    database_url: &str,
    store: &Store,
    rotation: Rotation,
) -> anyhow::Result<String> {
    let configured = Configured::read(args)?;
    let now = chrono::Utc::now().timestamp();
    let path = key_file_path(args, database_url).context("an in-memory database has no key file to rotate")?;
    let mut file = KeyFile::load(&path)?.unwrap_or_default();
    let mut summary = Vec::new();
    match rotation {
        Rotation::TokenKey => {
            if configured.token_keys.is_some() {
                summary.push("The token key is configured (CALLBRIDGE_TOKEN_KEY): sealing under its first key.".into());
            } else {
                anyhow::ensure!(!file.token_keys.is_empty(), "{} holds no token key to rotate", path.display());
                file.token_keys.insert(0, TokenCipher::generate_key());
                file.save(&path)?;
            }
        }
        Rotation::JwtSecret | Rotation::JwtSecretCutOver => {
            anyhow::ensure!(
                configured.jwt_secret.is_none(),
                "the JWT secret is configured (APP_SERVER_SECRET_KEY): change it there; tokens signed with the old \
                 one are refused from the next start"
            );
            let keep_old = rotation == Rotation::JwtSecret;
            let mut secrets = vec![JwtSecretEntry { secret: random_secret(), retired_at: None }];
            if keep_old {
                secrets.extend(file.live_jwt_secrets(now).cloned().map(|mut it| {
                    it.retired_at.get_or_insert(now);
                    it
                }));
            }
            file.jwt_secrets = secrets;
            file.save(&path)?;
            summary.push(if keep_old {
                "A new JWT secret signs from the next start; tokens signed with the old one stay valid until they \
                 expire (at most two weeks)."
                    .to_owned()
            } else {
                "A new JWT secret signs from the next start; every older token is refused (users log in again)."
                    .to_owned()
            });
        }
    }
    let secrets = assemble(&configured, &file, now)?;
    if rotation == Rotation::TokenKey {
        let store = store.clone().with_cipher(secrets.cipher.clone());
        let report = store.reseal_tokens().await.context("re-sealing the stored tokens failed")?;
        summary.push(format!(
            "Token key {} seals from now on: {} stored tokens sealed again, {} already under it, {} changed meanwhile.",
            secrets.cipher.current_key_id(),
            report.resealed,
            report.current,
            report.skipped
        ));
    }
    summary.push(format!("Restart every instance so that it reads {}.", path.display()));
    Ok(summary.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(key_file: Option<&str>) -> SecretArgs {
        SecretArgs {
            jwt_secret: None,
            jwt_secret_file: None,
            hash_key: None,
            hash_key_file: None,
            token_key: None,
            token_key_file: None,
            key_file: key_file.map(PathBuf::from),
        }
    }

    #[test]
    fn the_key_file_sits_beside_the_sqlite_file() {
        let path = |url: &str| key_file_path(&args(None), url);
        assert_eq!(path("./callbridge.db"), Some(PathBuf::from("./callbridge.keys")));
        assert_eq!(path("sqlite:///data/cb.sqlite?mode=rwc"), Some(PathBuf::from("/data/cb.keys")));
        assert_eq!(path("sqlite:data/cb"), Some(PathBuf::from("data/cb.keys")));
        assert_eq!(path("postgres://u@h/db"), Some(PathBuf::from("callbridge.keys")));
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(key_file_path(&args(Some("/run/keys")), "sqlite::memory:"), Some(PathBuf::from("/run/keys")));
    }

    #[test]
    fn retired_jwt_secrets_verify_for_one_token_lifetime() {
        let file = KeyFile {
            token_keys: vec![TokenCipher::generate_key()],
            jwt_secrets: vec![
                JwtSecretEntry { secret: "new".into(), retired_at: None },
                JwtSecretEntry { secret: "old".into(), retired_at: Some(1_000) },
            ],
            hash_key: Some("h".into()),
        };
        let configured = Configured { jwt_secret: None, hash_key: None, token_keys: None };
        let old_token = JwtKeys::new(b"old").issue("u-1", Some("sandbox"), None).unwrap();
        let within = assemble(&configured, &file, 1_000 + TOKEN_LIFETIME.num_seconds() - 1).unwrap();
        assert_eq!(within.jwt.verify(&old_token).map(|it| it.id).as_deref(), Some("u-1"));
        let new_token = within.jwt.issue("u-2", None, None).unwrap();
        assert!(JwtKeys::new(b"new").verify(&new_token).is_some());
        let after = assemble(&configured, &file, 1_000 + TOKEN_LIFETIME.num_seconds()).unwrap();
        assert_eq!(after.jwt.verify(&old_token), None);
    }
}
