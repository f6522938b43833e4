//! Users: one RingCentral user's connection to a CRM, with the CRM tokens sealed by the store's cipher.

use callbridge_core::schema::{TimezoneOffset, User, UserSettings};
use callbridge_core::secret::Secret;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{Store, StoreError, from_ms, now_ms, parse_json, to_json, to_ms, with_pool, with_tx, with_writer};
use crate::crypto::{CryptoError, TokenCipher};

/// How many times [`Store::upsert_user`] starts over when a logout deletes the row between its insert and its
/// lock (the only way a pass can fail: concurrent logins wait for each other on the row lock).
const UPSERT_ATTEMPTS: u32 = 3;

/// The columns a [`UserRecord`] reads, for the queries that read one (here and with a session).
macro_rules! user_columns {
    () => {
        "id, platform, hostname, timezone_name, timezone_offset, access_token, refresh_token, token_expiry_ms,
         platform_additional_info, user_settings, rc_account_id, hashed_rc_extension_id"
    };
}
pub(super) use user_columns;

#[derive(sqlx::FromRow)]
pub(super) struct UserRecord {
    id: String,
    platform: String,
    hostname: String,
    timezone_name: Option<String>,
    timezone_offset: Option<String>,
    access_token: String,
    refresh_token: Option<String>,
    token_expiry_ms: Option<i64>,
    platform_additional_info: String,
    user_settings: String,
    rc_account_id: Option<String>,
    hashed_rc_extension_id: Option<String>,
}

impl UserRecord {
    /// The record from a row of [`user_columns`] read by SQLite's inline reads (sqlx reads it by `FromRow`).
    pub(super) fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(UserRecord {
            id: row.get("id")?,
            platform: row.get("platform")?,
            hostname: row.get("hostname")?,
            timezone_name: row.get("timezone_name")?,
            timezone_offset: row.get("timezone_offset")?,
            access_token: row.get("access_token")?,
            refresh_token: row.get("refresh_token")?,
            token_expiry_ms: row.get("token_expiry_ms")?,
            platform_additional_info: row.get("platform_additional_info")?,
            user_settings: row.get("user_settings")?,
            rc_account_id: row.get("rc_account_id")?,
            hashed_rc_extension_id: row.get("hashed_rc_extension_id")?,
        })
    }
}

/// A user's row as read, its tokens still sealed: read with the request's session
/// ([`Store::session_user`]) and opened ([`Store::open_user`]) only by a handler that needs the user.
pub struct SealedUser(pub(super) UserRecord);

impl std::fmt::Debug for SealedUser {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SealedUser").field("id", &self.0.id).finish_non_exhaustive()
    }
}

/// The associated data a token is sealed with: its column and its owner, so it opens nowhere else.
fn token_context(column: &str, user_id: &str) -> Vec<u8> {
    format!("users.{column}:{user_id}").into_bytes()
}

/// Seals a token; an empty token is stored as it is (`''`), meaning "none".
fn seal(cipher: &TokenCipher, column: &str, user_id: &str, token: &Secret) -> Result<String, StoreError> {
    if token.is_empty() {
        return Ok(String::new());
    }
    Ok(cipher.encrypt(token, &token_context(column, user_id))?)
}

fn open(cipher: &TokenCipher, column: &str, user_id: &str, stored: &str) -> Result<Secret, StoreError> {
    if stored.is_empty() {
        return Ok(Secret::default());
    }
    Ok(cipher.decrypt(stored, &token_context(column, user_id))?)
}

/// A user's columns as they are written, tokens already sealed.
struct UserColumns {
    timezone_offset: Option<String>,
    access_token: String,
    refresh_token: Option<String>,
    token_expiry_ms: Option<i64>,
    platform_additional_info: String,
    user_settings: String,
}

impl UserColumns {
    fn of(cipher: &TokenCipher, user: &User) -> Result<Self, StoreError> {
        let refresh_token = match &user.refresh_token {
            Some(token) if !token.is_empty() => Some(seal(cipher, "refresh_token", &user.id, token)?),
            _ => None,
        };
        Ok(Self {
            timezone_offset: user.timezone_offset.as_ref().map(|it| to_json("timezone_offset", it)).transpose()?,
            access_token: seal(cipher, "access_token", &user.id, &user.access_token)?,
            refresh_token,
            token_expiry_ms: user.token_expiry.map(to_ms),
            platform_additional_info: to_json("platform_additional_info", &user.platform_additional_info)?,
            user_settings: to_json("user_settings", &user.user_settings)?,
        })
    }
}

impl Store {
    /// Saves a user after a login. A new user is inserted as given. An existing user gets every column replaced
    /// (tokens included: a missing refresh token or expiry is cleared) except `user_settings`, which it keeps, and
    /// `platform_additional_info`, which is merged: existing keys stay, the new values win.
    pub async fn upsert_user(&self, user: &User) -> Result<(), StoreError> {
        let columns = UserColumns::of(self.cipher()?, user)?;
        // Holds the row while merging (PostgreSQL `FOR UPDATE`; SQLite's write lock), so a concurrent login's
        // keys are merged, never lost, and logins of one user simply take turns.
        let select = match self.backend_name() {
            "postgres" => "SELECT platform_additional_info FROM users WHERE id = $1 FOR UPDATE",
            _ => "SELECT platform_additional_info FROM users WHERE id = $1",
        };
        for _ in 0..UPSERT_ATTEMPTS {
            let now = now_ms();
            let done = with_tx!(self, tx => {
                let inserted = sqlx::query(
                    "INSERT INTO users (id, platform, hostname, timezone_name, timezone_offset, access_token,
                         refresh_token, token_expiry_ms, platform_additional_info, user_settings, rc_account_id,
                         hashed_rc_extension_id, created_at_ms, updated_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(&user.id)
                .bind(&user.platform)
                .bind(&user.hostname)
                .bind(&user.timezone_name)
                .bind(&columns.timezone_offset)
                .bind(&columns.access_token)
                .bind(&columns.refresh_token)
                .bind(columns.token_expiry_ms)
                .bind(&columns.platform_additional_info)
                .bind(&columns.user_settings)
                .bind(&user.rc_account_id)
                .bind(&user.hashed_rc_extension_id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let existing: Option<String> = if inserted == 1 {
                    None
                } else {
                    sqlx::query_scalar(select).bind(&user.id).fetch_optional(&mut *tx).await?
                };
                match (inserted, existing) {
                    (1, _) => true,
                    // Deleted since the insert found it: start over.
                    (_, None) => false,
                    (_, Some(existing)) => {
                        let mut merged: Map<String, Value> = parse_json("platform_additional_info", &existing)?;
                        merged.extend(user.platform_additional_info.iter().map(|(key, value)| (key.clone(), value.clone())));
                        sqlx::query(
                            "UPDATE users SET platform = $2, hostname = $3, timezone_name = $4, timezone_offset = $5,
                                 access_token = $6, refresh_token = $7, token_expiry_ms = $8,
                                 platform_additional_info = $9, rc_account_id = $10, hashed_rc_extension_id = $11,
                                 updated_at_ms = $12
                             WHERE id = $1",
                        )
                        .bind(&user.id)
                        .bind(&user.platform)
                        .bind(&user.hostname)
                        .bind(&user.timezone_name)
                        .bind(&columns.timezone_offset)
                        .bind(&columns.access_token)
                        .bind(&columns.refresh_token)
                        .bind(columns.token_expiry_ms)
                        .bind(to_json("platform_additional_info", &merged)?)
                        .bind(&user.rc_account_id)
                        .bind(&user.hashed_rc_extension_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        true
                    }
                }
            });
            if done {
                return Ok(());
            }
        }
        Err(StoreError::Contended(UPSERT_ATTEMPTS))
    }

    /// The user with `id`, tokens decrypted; `None` when there is no such user.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let record: Option<UserRecord> = with_pool!(self, pool => sqlx::query_as(
            concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1")
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        record.map(|record| self.open_user(&SealedUser(record))).transpose()
    }

    /// The user of a row read sealed, tokens decrypted.
    pub fn open_user(&self, sealed: &SealedUser) -> Result<User, StoreError> {
        let (cipher, record) = (self.cipher()?, &sealed.0);
        let timezone_offset: Option<TimezoneOffset> =
            record.timezone_offset.as_deref().map(|it| parse_json("timezone_offset", it)).transpose()?;
        let refresh_token =
            record.refresh_token.as_deref().map(|it| open(cipher, "refresh_token", &record.id, it)).transpose()?;
        let token_expiry: Option<DateTime<Utc>> =
            record.token_expiry_ms.map(|it| from_ms("token_expiry_ms", it)).transpose()?;
        Ok(User {
            access_token: open(cipher, "access_token", &record.id, &record.access_token)?,
            refresh_token,
            token_expiry,
            timezone_offset,
            platform_additional_info: parse_json("platform_additional_info", &record.platform_additional_info)?,
            user_settings: parse_json("user_settings", &record.user_settings)?,
            id: record.id.clone(),
            platform: record.platform.clone(),
            hostname: record.hostname.clone(),
            timezone_name: record.timezone_name.clone(),
            rc_account_id: record.rc_account_id.clone(),
            hashed_rc_extension_id: record.hashed_rc_extension_id.clone(),
        })
    }

    /// Stores refreshed tokens. `refresh: None` keeps the stored refresh token (OAuth servers that do not rotate
    /// refresh tokens omit it from the refresh answer); `expiry` is stored as given (`None`: unknown).
    pub async fn update_tokens(
        &self,
        id: &str,
        access: &Secret,
        refresh: Option<&Secret>,
        expiry: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let cipher = self.cipher()?;
        let access = seal(cipher, "access_token", id, access)?;
        let refresh = refresh.map(|it| seal(cipher, "refresh_token", id, it)).transpose()?;
        let updated = with_writer!(self, pool => sqlx::query(
            "UPDATE users SET access_token = $2, refresh_token = COALESCE($3, refresh_token), token_expiry_ms = $4,
                 updated_at_ms = $5
             WHERE id = $1",
        )
        .bind(id)
        .bind(&access)
        .bind(&refresh)
        .bind(expiry.map(to_ms))
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        if updated == 0 {
            return Err(StoreError::UserNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Forgets the user's CRM tokens (logout); the user and its settings stay.
    pub async fn clear_tokens(&self, id: &str) -> Result<(), StoreError> {
        let updated = with_writer!(self, pool => sqlx::query(
            "UPDATE users SET access_token = '', refresh_token = NULL, token_expiry_ms = NULL, updated_at_ms = $2
             WHERE id = $1",
        )
        .bind(id)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        if updated == 0 {
            return Err(StoreError::UserNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Replaces the user's settings.
    pub async fn update_user_settings(&self, id: &str, settings: &UserSettings) -> Result<(), StoreError> {
        let settings = to_json("user_settings", settings)?;
        let updated = with_writer!(self, pool => sqlx::query(
            "UPDATE users SET user_settings = $2, updated_at_ms = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(&settings)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        if updated == 0 {
            return Err(StoreError::UserNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Changes the user's settings atomically: `change` edits the stored map inside a transaction that holds the
    /// row (PostgreSQL `FOR UPDATE`; SQLite's write lock), so concurrent updates merge instead of overwriting each
    /// other. `change` refusing (a limit) writes nothing.
    pub async fn change_user_settings<E>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Map<String, Value>) -> Result<(), E> + Send,
    ) -> Result<SettingsChange<E>, StoreError> {
        let select = match self.backend_name() {
            "postgres" => "SELECT user_settings FROM users WHERE id = $1 FOR UPDATE",
            _ => "SELECT user_settings FROM users WHERE id = $1",
        };
        let outcome = with_tx!(self, tx => {
            let stored: Option<String> = sqlx::query_scalar(select).bind(id).fetch_optional(&mut *tx).await?;
            match stored {
                None => SettingsChange::UserNotFound,
                Some(stored) => {
                    let mut settings: Map<String, Value> = parse_json("user_settings", &stored)?;
                    match change(&mut settings) {
                        Err(refusal) => SettingsChange::Refused(refusal),
                        Ok(()) => {
                            let settings = UserSettings(settings);
                            sqlx::query("UPDATE users SET user_settings = $2, updated_at_ms = $3 WHERE id = $1")
                                .bind(id)
                                .bind(to_json("user_settings", &settings)?)
                                .bind(now_ms())
                                .execute(&mut *tx)
                                .await?;
                            SettingsChange::Changed(settings)
                        }
                    }
                }
            }
        });
        Ok(outcome)
    }

    /// Deletes the user with its sessions, refresh lease, pending call-log claims (left by versions before the
    /// delivery engine) and cached notes, all or nothing. Logged call logs stay: they point at CRM records that
    /// still exist. Returns whether the user existed.
    pub async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = with_tx!(self, tx => {
            sqlx::query("DELETE FROM refresh_leases WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM call_logs WHERE user_id = $1 AND third_party_log_id IS NULL")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM note_cache WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected()
        });
        Ok(deleted == 1)
    }
}

/// What [`Store::change_user_settings`] did.
#[derive(Debug)]
pub enum SettingsChange<E> {
    /// The settings as stored now.
    Changed(UserSettings),
    /// The change refused itself; nothing was written.
    Refused(E),
    UserNotFound,
}

/// What [`Store::reseal_tokens`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Values opened and sealed again under the current key.
    pub resealed: u64,
    /// Values already under the current key.
    pub current: u64,
    /// Values that changed under us (a refresh wrote a new token, sealed under the writer's current key).
    pub skipped: u64,
}

/// Users per page while re-sealing.
const RESEAL_PAGE: i64 = 500;

impl Store {
    /// Fails with [`CryptoError::UnknownKey`] if a stored token was sealed under a key the cipher does not have, or
    /// with an authentication error if a token from before key ids cannot be opened: a server started with
    /// another instance's keys, or a lost key file, is refused at start-up rather than failing each user later.
    pub async fn check_token_keys(&self) -> Result<(), StoreError> {
        let cipher = self.cipher()?;
        let in_use: Vec<String> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT DISTINCT substr(token, 4, 16) FROM
                 (SELECT access_token AS token FROM users UNION ALL SELECT refresh_token FROM users) AS tokens
             WHERE token LIKE 'v2:%'",
        )
        .fetch_all(pool)
        .await?);
        let known = cipher.key_ids();
        if let Some(unknown) = in_use.into_iter().find(|id| !known.contains(id)) {
            return Err(CryptoError::UnknownKey(unknown).into());
        }
        let legacy: Option<(String, String)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT id, access_token FROM users WHERE access_token LIKE 'v1:%' LIMIT 1",
        )
        .fetch_optional(pool)
        .await?);
        if let Some((id, stored)) = legacy {
            open(cipher, "access_token", &id, &stored)?;
        }
        Ok(())
    }

    /// Seals every stored token again under the cipher's current key (`callbridge keys rotate`). Each row is
    /// rewritten only if it still holds the value that was read, so a token refreshed meanwhile is left alone.
    pub async fn reseal_tokens(&self) -> Result<ResealReport, StoreError> {
        let cipher = self.cipher()?;
        let mut report = ResealReport::default();
        let mut after = String::new();
        loop {
            let page: Vec<(String, String, Option<String>)> = with_pool!(self, pool => sqlx::query_as(
                "SELECT id, access_token, refresh_token FROM users WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(&after)
            .bind(RESEAL_PAGE)
            .fetch_all(pool)
            .await?);
            let Some((last, _, _)) = page.last() else { return Ok(report) };
            after = last.clone();
            for (id, access, refresh) in page {
                for (column, stored) in [("access_token", Some(access)), ("refresh_token", refresh)] {
                    let Some(stored) = stored.filter(|it| !it.is_empty()) else { continue };
                    if cipher.is_current(&stored) {
                        report.current += 1;
                        continue;
                    }
                    let resealed = seal(cipher, column, &id, &open(cipher, column, &id, &stored)?)?;
                    // The column name comes from the fixed list above, never from input.
                    let statement = format!("UPDATE users SET {column} = $3 WHERE id = $1 AND {column} = $2");
                    let updated = with_writer!(self, pool => sqlx::query(sqlx::AssertSqlSafe(statement))
                        .bind(&id)
                        .bind(&stored)
                        .bind(&resealed)
                        .execute(pool)
                        .await?
                        .rows_affected());
                    if updated == 1 {
                        report.resealed += 1;
                    } else {
                        report.skipped += 1;
                    }
                }
            }
        }
    }
}
