//! Secrets that earlier versions kept in the database (`server_secrets`): read once at start-up so they can move to
//! the key file, then deleted. Nothing writes that table any more.

use std::collections::BTreeMap;

use super::{Backend, Store, StoreError, with_pool, with_writer};

impl Store {
    /// The secrets an earlier version stored, by name (`app_server_secret_key`, `hash_key`, `token_key`).
    pub async fn legacy_secrets(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> =
            with_pool!(self, pool => sqlx::query_as("SELECT name, value FROM server_secrets").fetch_all(pool).await?);
        Ok(rows.into_iter().collect())
    }

    /// Deletes the stored secrets; call it only once they are safe elsewhere (or were never used). A deleted row's
    /// bytes stay in the file's free pages (and SQLite's write-ahead log) until overwritten, so the table is
    /// rewritten too: SQLite vacuums and empties its log, PostgreSQL rewrites the table (`VACUUM FULL`).
    pub async fn delete_legacy_secrets(&self) -> Result<u64, StoreError> {
        let deleted =
            with_writer!(self, pool => sqlx::query("DELETE FROM server_secrets").execute(pool).await?.rows_affected());
        match &self.backend {
            Backend::Sqlite { reads: pool, .. } => {
                sqlx::query("VACUUM").execute(pool).await?;
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
            }
            Backend::Postgres(pool) => {
                sqlx::query("VACUUM FULL server_secrets").execute(pool).await?;
            }
        }
        Ok(deleted)
    }
}
