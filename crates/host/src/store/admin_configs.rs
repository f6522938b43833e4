//! Account-wide admin settings, keyed by the hashed RingCentral account id.

use callbridge_core::schema::UserSettings;
use serde_json::Value;

use super::{Store, StoreError, now_ms, parse_json, to_json, with_pool};

/// An account's admin configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct AdminConfig {
    /// `sha256hex("<rcAccountId>:<HASH_KEY>")`.
    pub id: String,
    /// Settings the admin manages for every user of the account.
    pub user_settings: UserSettings,
    /// `[{crmUserId, rcExtensionId}]` as the admin page sends it.
    pub user_mappings: Value,
}

impl Store {
    /// The account's admin configuration, if one was saved.
    pub async fn admin_config(&self, hashed_account_id: &str) -> Result<Option<AdminConfig>, StoreError> {
        let row: Option<(String, String, String)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT id, user_settings, user_mappings FROM admin_configs WHERE id = $1",
        )
        .bind(hashed_account_id)
        .fetch_optional(pool)
        .await?);
        let Some((id, user_settings, user_mappings)) = row else { return Ok(None) };
        Ok(Some(AdminConfig {
            id,
            user_settings: parse_json("admin_configs.user_settings", &user_settings)?,
            user_mappings: parse_json("admin_configs.user_mappings", &user_mappings)?,
        }))
    }

    /// Inserts or replaces the account's admin configuration.
    pub async fn put_admin_config(&self, config: &AdminConfig) -> Result<(), StoreError> {
        let user_settings = to_json("admin_configs.user_settings", &config.user_settings)?;
        let user_mappings = to_json("admin_configs.user_mappings", &config.user_mappings)?;
        with_pool!(self, pool => { sqlx::query(
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
        Ok(())
    }
}
