//! Call-log mappings: which CRM record logs a user's call session.
//!
//! A mapping is written only when the CRM record exists, by the delivery engine in the transaction that finishes
//! the create (`Store::complete_op` in jobs.rs); "one CRM record per call" is the engine's job, not this table's.
//! A row without a CRM id is a pending claim left by a version before the engine: lookups skip it, the engine's
//! completion fills it in and `Store::delete_user` removes it.

use chrono::{DateTime, Utc};

use super::{Backend, Store, StoreError, from_ms, with_pool};

/// The identity of one call's log for one user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallLogKey {
    pub user_id: String,
    pub session_id: String,
    /// `''` when the client sent none.
    pub extension_number: String,
    /// `''` when the client sent none.
    pub hashed_extension_id: String,
}

/// A call-log mapping as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct CallLogRow {
    pub record_id: String,
    pub key: CallLogKey,
    pub platform: String,
    /// The CRM activity's id; `None` in a pending claim left by an earlier version (see the module docs).
    pub third_party_log_id: Option<String>,
    pub contact_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CallLogRecord {
    user_id: String,
    session_id: String,
    extension_number: String,
    hashed_extension_id: String,
    record_id: String,
    platform: String,
    contact_id: Option<String>,
    third_party_log_id: Option<String>,
    created_at_ms: i64,
}

impl CallLogRecord {
    /// The record from a row read by SQLite's inline reads (sqlx reads it by `FromRow`).
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(CallLogRecord {
            user_id: row.get("user_id")?,
            session_id: row.get("session_id")?,
            extension_number: row.get("extension_number")?,
            hashed_extension_id: row.get("hashed_extension_id")?,
            record_id: row.get("record_id")?,
            platform: row.get("platform")?,
            contact_id: row.get("contact_id")?,
            third_party_log_id: row.get("third_party_log_id")?,
            created_at_ms: row.get("created_at_ms")?,
        })
    }
}

impl TryFrom<CallLogRecord> for CallLogRow {
    type Error = StoreError;

    fn try_from(record: CallLogRecord) -> Result<Self, StoreError> {
        Ok(CallLogRow {
            record_id: record.record_id,
            key: CallLogKey {
                user_id: record.user_id,
                session_id: record.session_id,
                extension_number: record.extension_number,
                hashed_extension_id: record.hashed_extension_id,
            },
            platform: record.platform,
            third_party_log_id: record.third_party_log_id,
            contact_id: record.contact_id,
            created_at: from_ms("call_logs.created_at_ms", record.created_at_ms)?,
        })
    }
}

impl Store {
    /// The user's logged rows for these sessions (pending claims left out), ordered by session id, hashed
    /// extension id, extension number (byte order on both back ends).
    pub async fn find_call_logs(&self, user_id: &str, session_ids: &[String]) -> Result<Vec<CallLogRow>, StoreError> {
        if session_ids.is_empty() {
            return Ok(Vec::new());
        }
        let records: Vec<CallLogRecord> = match &self.backend {
            Backend::Sqlite { inline_reads, .. } => {
                let session_ids = serde_json::Value::from(session_ids).to_string();
                inline_reads.read(|connection| {
                    connection
                        .prepare_cached(
                            "SELECT user_id, session_id, extension_number, hashed_extension_id, record_id, platform,
                                 contact_id, third_party_log_id, created_at_ms
                             FROM call_logs
                             WHERE user_id = ?1 AND session_id IN (SELECT value FROM json_each(?2))
                                 AND third_party_log_id IS NOT NULL
                             ORDER BY session_id, hashed_extension_id, extension_number",
                        )?
                        .query_map(rusqlite::params![user_id, session_ids], CallLogRecord::from_sqlite)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })?
            }
            Backend::Postgres(pool) => {
                sqlx::query_as(
                    r#"SELECT user_id, session_id, extension_number, hashed_extension_id, record_id, platform,
                         contact_id, third_party_log_id, created_at_ms
                     FROM call_logs
                     WHERE user_id = $1 AND session_id = ANY($2) AND third_party_log_id IS NOT NULL
                     ORDER BY session_id COLLATE "C", hashed_extension_id COLLATE "C",
                         extension_number COLLATE "C""#,
                )
                .bind(user_id)
                .bind(session_ids)
                .fetch_all(pool)
                .await?
            }
        };
        records.into_iter().map(CallLogRow::try_from).collect()
    }

    /// The logged row with exactly this identity; `None` when there is none or it is still pending.
    pub async fn find_call_log(&self, key: &CallLogKey) -> Result<Option<CallLogRow>, StoreError> {
        let record: Option<CallLogRecord> = with_pool!(self, pool => sqlx::query_as(
            "SELECT user_id, session_id, extension_number, hashed_extension_id, record_id, platform, contact_id,
                 third_party_log_id, created_at_ms
             FROM call_logs
             WHERE user_id = $1 AND session_id = $2 AND extension_number = $3 AND hashed_extension_id = $4",
        )
        .bind(&key.user_id)
        .bind(&key.session_id)
        .bind(&key.extension_number)
        .bind(&key.hashed_extension_id)
        .fetch_optional(pool)
        .await?);
        Ok(record.map(CallLogRow::try_from).transpose()?.filter(|row| row.third_party_log_id.is_some()))
    }
}
