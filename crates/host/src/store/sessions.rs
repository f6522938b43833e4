//! Sessions: one row per signed-in session token (`sid` in the token), so that logging out ends a session for good
//! and a token whose user is gone opens nothing.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, named_params};

use super::users::{SealedUser, UserRecord, user_columns};
use super::{Backend, Store, StoreError, now_ms, to_ms, with_writer};

impl Store {
    /// Records a new session of `user_id` valid until `expires_at`; expired sessions of the user are swept.
    pub async fn start_session(&self, id: &str, user_id: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        let now = now_ms();
        with_writer!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at_ms < $2")
                .bind(user_id)
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query("INSERT INTO sessions (id, user_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(user_id)
                .bind(now)
                .bind(to_ms(expires_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Moves a session's expiry (the token was renewed); an ended session stays ended.
    pub async fn extend_session(&self, id: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        with_writer!(self, pool => sqlx::query("UPDATE sessions SET expires_at_ms = $2 WHERE id = $1")
            .bind(id)
            .bind(to_ms(expires_at))
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// The user of a token of `user_id` issued at `issued_at` (Unix seconds) with session `sid`, read sealed, if
    /// the token may still be used: its session row exists and its user too; a token without a session (from
    /// before sessions existed) while its user exists and has not logged out since it was issued. `None`: the
    /// session has ended. One statement checks the session and reads the user, which nearly every route needs.
    pub async fn session_user(
        &self,
        user_id: &str,
        sid: Option<&str>,
        issued_at: i64,
    ) -> Result<Option<SealedUser>, StoreError> {
        const WITH_SESSION: &str = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users
             WHERE id = $2 AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = $1 AND s.user_id = users.id)"
        );
        const WITHOUT_SESSION: &str =
            concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1 AND sessions_not_before_ms <= $2");
        let record: Option<UserRecord> = match (&self.backend, sid) {
            (Backend::Sqlite { inline_reads, .. }, Some(sid)) => inline_reads.read(|connection| {
                connection
                    .prepare_cached(WITH_SESSION)?
                    .query_row(named_params! { "$1": sid, "$2": user_id }, UserRecord::from_sqlite)
                    .optional()
            })?,
            (Backend::Sqlite { inline_reads, .. }, None) => inline_reads.read(|connection| {
                connection
                    .prepare_cached(WITHOUT_SESSION)?
                    .query_row(
                        named_params! { "$1": user_id, "$2": issued_at.saturating_mul(1000) },
                        UserRecord::from_sqlite,
                    )
                    .optional()
            })?,
            (Backend::Postgres(pool), Some(sid)) => {
                sqlx::query_as(WITH_SESSION).bind(sid).bind(user_id).fetch_optional(pool).await?
            }
            (Backend::Postgres(pool), None) => {
                sqlx::query_as(WITHOUT_SESSION)
                    .bind(user_id)
                    .bind(issued_at.saturating_mul(1000))
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(record.map(SealedUser))
    }

    /// Ends one session (`Some(sid)`), or, with `all`, every session of the user; tokens without a session id are
    /// ended by either (they cannot be told apart). Returns how many sessions ended.
    pub async fn end_sessions(&self, user_id: &str, sid: Option<&str>, all: bool) -> Result<u64, StoreError> {
        let ended = with_writer!(self, pool => {
            sqlx::query("UPDATE users SET sessions_not_before_ms = $2 WHERE id = $1")
                .bind(user_id)
                .bind(now_ms())
                .execute(pool)
                .await?;
            let statement = if all {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id)
            } else {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2").bind(user_id).bind(sid)
            };
            statement.execute(pool).await?.rows_affected()
        });
        Ok(ended)
    }
}
