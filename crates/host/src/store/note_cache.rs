//! The note cache: notes the client saves for a call before its log exists (`POST /callLog/cacheNote`).

use std::time::Duration;

use super::{Store, StoreError, duration_ms, with_pool, with_writer};

impl Store {
    /// Saves (or replaces) the user's note for a session, readable for `ttl`. Expired notes are purged here.
    pub async fn put_cached_note(
        &self,
        user_id: &str,
        session_id: &str,
        note: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let now = self.shared_now_ms().await?;
        with_writer!(self, pool => { sqlx::query("DELETE FROM note_cache WHERE expires_at_ms <= $1")
            .bind(now)
            .execute(pool)
            .await?; });
        with_writer!(self, pool => { sqlx::query(
            "INSERT INTO note_cache (user_id, session_id, note, expires_at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, session_id) DO UPDATE SET note = excluded.note,
                 expires_at_ms = excluded.expires_at_ms",
        )
        .bind(user_id)
        .bind(session_id)
        .bind(note)
        .bind(now.saturating_add(duration_ms(ttl)))
        .execute(pool)
        .await?; });
        Ok(())
    }

    /// The user's unexpired note for a session.
    pub async fn cached_note(&self, user_id: &str, session_id: &str) -> Result<Option<String>, StoreError> {
        let now = self.shared_now_ms().await?;
        Ok(with_pool!(self, pool => sqlx::query_scalar(
            "SELECT note FROM note_cache WHERE user_id = $1 AND session_id = $2 AND expires_at_ms > $3",
        )
        .bind(user_id)
        .bind(session_id)
        .bind(now)
        .fetch_optional(pool)
        .await?))
    }
}
