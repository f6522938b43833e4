//! Account-wide admin settings, keyed by the hashed RingCentral account id, and the users RingCentral confirmed as
//! admins of an account.

use callbridge_core::schema::UserSettings;
use serde_json::{Map, Value};

use super::{Store, StoreError, now_ms, parse_json, to_json, with_pool, with_writer};

/// An account's admin configuration. Only these fields are ever stored: nothing a client sends reaches the row
/// except through them (App Connect spreads the whole request into its row).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdminConfig {
    /// `sha256hex("<rcAccountId>:<HASH_KEY>")`.
    pub id: String,
    /// Settings the admin manages for every user of the account.
    pub user_settings: UserSettings,
    /// `[{crmUserId, rcExtensionId}]` as the admin page sends it (`rcExtensionId` a string or an array).
    pub user_mappings: Value,
    /// The server-side logging service's additional field values (`{<const>: value}`).
    pub server_logging_settings: Map<String, Value>,
}

impl Store {
    /// The account's admin configuration, if one was saved; served from memory for up to
    /// [`super::ADMIN_CONFIG_TTL`] after a read (this instance's own writes replace it at once).
    pub async fn admin_config(&self, hashed_account_id: &str) -> Result<Option<AdminConfig>, StoreError> {
        if let Some(config) = self.admin_configs.get(hashed_account_id).await {
            return Ok(config);
        }
        let config = self.read_admin_config(hashed_account_id).await?;
        self.admin_configs.insert(hashed_account_id.to_owned(), config.clone()).await;
        Ok(config)
    }

    async fn read_admin_config(&self, hashed_account_id: &str) -> Result<Option<AdminConfig>, StoreError> {
        let row: Option<(String, String, String, String)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT id, user_settings, user_mappings, server_logging_settings FROM admin_configs WHERE id = $1",
        )
        .bind(hashed_account_id)
        .fetch_optional(pool)
        .await?);
        let Some((id, user_settings, user_mappings, server_logging_settings)) = row else { return Ok(None) };
        Ok(Some(AdminConfig {
            id,
            user_settings: parse_json("admin_configs.user_settings", &user_settings)?,
            user_mappings: parse_json("admin_configs.user_mappings", &user_mappings)?,
            server_logging_settings: parse_json("admin_configs.server_logging_settings", &server_logging_settings)?,
        }))
    }

    /// Inserts or replaces the account's user settings and user mappings; the server logging settings are kept.
    pub async fn put_admin_config(&self, config: &AdminConfig) -> Result<(), StoreError> {
        let user_settings = to_json("admin_configs.user_settings", &config.user_settings)?;
        let user_mappings = to_json("admin_configs.user_mappings", &config.user_mappings)?;
        with_writer!(self, pool => { sqlx::query(
            "INSERT INTO admin_configs (id, user_settings, user_mappings, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (id) DO UPDATE SET user_settings = excluded.user_settings,
                 user_mappings = excluded.user_mappings, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(&config.id)
        .bind(&user_settings)
        .bind(&user_mappings)
        .bind(now_ms())
        .execute(pool)
        .await?; });
        self.admin_configs.invalidate(&config.id).await;
        Ok(())
    }

    /// Replaces only the account's user mappings (creating the row if needed).
    pub async fn put_user_mappings(&self, hashed_account_id: &str, mappings: &Value) -> Result<(), StoreError> {
        let user_mappings = to_json("admin_configs.user_mappings", mappings)?;
        with_writer!(self, pool => { sqlx::query(
            "INSERT INTO admin_configs (id, user_mappings, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $3)
             ON CONFLICT (id) DO UPDATE SET user_mappings = excluded.user_mappings,
                 updated_at_ms = excluded.updated_at_ms",
        )
        .bind(hashed_account_id)
        .bind(&user_mappings)
        .bind(now_ms())
        .execute(pool)
        .await?; });
        self.admin_configs.invalidate(hashed_account_id).await;
        Ok(())
    }

    /// Replaces only the account's server logging settings (creating the row if needed).
    pub async fn put_server_logging_settings(
        &self,
        hashed_account_id: &str,
        settings: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        let settings = to_json("admin_configs.server_logging_settings", settings)?;
        with_writer!(self, pool => { sqlx::query(
            "INSERT INTO admin_configs (id, server_logging_settings, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $3)
             ON CONFLICT (id) DO UPDATE SET server_logging_settings = excluded.server_logging_settings,
                 updated_at_ms = excluded.updated_at_ms",
        )
        .bind(hashed_account_id)
        .bind(&settings)
        .bind(now_ms())
        .execute(pool)
        .await?; });
        self.admin_configs.invalidate(hashed_account_id).await;
        Ok(())
    }

    /// Records that RingCentral confirmed `user_id` as an admin of the account just now.
    pub async fn record_account_admin(&self, hashed_account_id: &str, user_id: &str) -> Result<(), StoreError> {
        with_writer!(self, pool => { sqlx::query(
            "INSERT INTO account_admins (account_id, user_id, verified_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (account_id, user_id) DO UPDATE SET verified_at_ms = excluded.verified_at_ms",
        )
        .bind(hashed_account_id)
        .bind(user_id)
        .bind(now_ms())
        .execute(pool)
        .await?; });
        Ok(())
    }

    /// True when RingCentral confirmed `user_id` as an admin of the account no longer than `max_age` ago.
    pub async fn is_account_admin(
        &self,
        hashed_account_id: &str,
        user_id: &str,
        max_age: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let since = now_ms() - i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let row: Option<(i64,)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT verified_at_ms FROM account_admins WHERE account_id = $1 AND user_id = $2 AND verified_at_ms >= $3",
        )
        .bind(hashed_account_id)
        .bind(user_id)
        .bind(since)
        .fetch_optional(pool)
        .await?);
        Ok(row.is_some())
    }
}
