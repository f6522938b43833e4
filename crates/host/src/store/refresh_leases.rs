//! Refresh leases: at most one token refresh per user at a time, across every instance sharing the database.

use std::time::Duration;

use super::{Store, StoreError, duration_ms, with_writer};

impl Store {
    /// Takes the user's refresh lease for `ttl` if it is free, expired, or already `holder`'s (which extends it).
    /// Returns whether `holder` holds it now. One statement decides, so of many contenders for a free or expired
    /// lease exactly one gets `true`. Give every refresh attempt its own `holder` value.
    pub async fn try_acquire_refresh_lease(
        &self,
        user_id: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = self.shared_now_ms().await?;
        let acquired = with_writer!(self, pool => sqlx::query(
            "INSERT INTO refresh_leases (user_id, holder, expires_at_ms, acquired_at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms,
                 acquired_at_ms = excluded.acquired_at_ms
             WHERE refresh_leases.expires_at_ms <= $4 OR refresh_leases.holder = excluded.holder",
        )
        .bind(user_id)
        .bind(holder)
        .bind(now.saturating_add(duration_ms(ttl)))
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(acquired == 1)
    }

    /// Gives the lease back if `holder` still holds it (after an expiry someone else may).
    pub async fn release_refresh_lease(&self, user_id: &str, holder: &str) -> Result<(), StoreError> {
        with_writer!(self, pool => { sqlx::query("DELETE FROM refresh_leases WHERE user_id = $1 AND holder = $2")
            .bind(user_id)
            .bind(holder)
            .execute(pool)
            .await?; });
        Ok(())
    }
}
