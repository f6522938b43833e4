//! Server secrets generated on first start and kept in the database, so every instance uses the same ones.

use super::{Store, StoreError, now_ms, with_pool};

impl Store {
    /// The secret called `name`, generating and storing it first if there is none. Of several instances starting
    /// together exactly one value wins (an insert that does nothing on conflict, then a read), and all of them
    /// return it. Returns `(value, created_now)`; `generate` runs only when no value is stored yet.
    pub async fn secret_or_init(
        &self,
        name: &str,
        generate: impl FnOnce() -> String + Send,
    ) -> Result<(String, bool), StoreError> {
        if let Some(value) = self.server_secret(name).await? {
            return Ok((value, false));
        }
        let candidate = generate();
        let inserted = with_pool!(self, pool => sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&candidate)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        if inserted == 1 {
            return Ok((candidate, true));
        }
        // Another instance stored its value first; secrets are never deleted, so it is there to read.
        match self.server_secret(name).await? {
            Some(value) => Ok((value, false)),
            None => Err(StoreError::Contended(1)),
        }
    }

    async fn server_secret(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?))
    }
}
