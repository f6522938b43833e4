//! Message-log mappings (RingCentral message or conversation -> CRM activity), scoped by user.

use super::{Store, StoreError, now_ms, with_pool, with_writer};

/// A message-log mapping as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageLogRow {
    /// RingCentral's message id (with a `-<contactId>` suffix for group SMS, or the conversation log id for
    /// shared SMS).
    pub id: String,
    pub user_id: String,
    pub platform: String,
    pub conversation_id: Option<String>,
    pub conversation_log_id: Option<String>,
    pub third_party_log_id: String,
}

impl Store {
    /// The user's mapping for this message id.
    pub async fn message_log(&self, user_id: &str, message_id: &str) -> Result<Option<MessageLogRow>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_as(
            "SELECT id, user_id, platform, conversation_id, conversation_log_id, third_party_log_id
             FROM message_logs WHERE user_id = $1 AND id = $2",
        )
        .bind(user_id)
        .bind(message_id)
        .fetch_optional(pool)
        .await?))
    }

    /// The user's first (oldest) mapping in this conversation log, whose CRM activity later messages join.
    pub async fn message_log_by_conversation(
        &self,
        user_id: &str,
        conversation_log_id: &str,
    ) -> Result<Option<MessageLogRow>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_as(
            "SELECT id, user_id, platform, conversation_id, conversation_log_id, third_party_log_id
             FROM message_logs WHERE user_id = $1 AND conversation_log_id = $2
             ORDER BY created_at_ms, id LIMIT 1",
        )
        .bind(user_id)
        .bind(conversation_log_id)
        .fetch_optional(pool)
        .await?))
    }

    /// Stores a new mapping; [`StoreError::AlreadyExists`] when the user already has one for this message id.
    pub async fn insert_message_log(&self, row: &MessageLogRow) -> Result<(), StoreError> {
        let inserted = with_writer!(self, pool => sqlx::query(
            "INSERT INTO message_logs (user_id, id, platform, conversation_id, conversation_log_id,
                 third_party_log_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (user_id, id) DO NOTHING",
        )
        .bind(&row.user_id)
        .bind(&row.id)
        .bind(&row.platform)
        .bind(&row.conversation_id)
        .bind(&row.conversation_log_id)
        .bind(&row.third_party_log_id)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        if inserted == 0 {
            return Err(StoreError::AlreadyExists(format!("message log {}", row.id)));
        }
        Ok(())
    }
}
