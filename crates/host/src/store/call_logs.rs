//! Call-log mappings and the claim that makes "one CRM record per call" hold.
//!
//! Before the CRM is called, the caller claims the call's identity: a pending row goes in under the table's
//! primary key `(user_id, session_id, extension_number, hashed_extension_id)`. Exactly one claimer's statement
//! inserts it; the others see the row and answer "Existing log". The winner completes the row with the CRM's id,
//! or releases it when the CRM create failed so a retry can claim again. A pending row left behind by an instance
//! that died mid-create is taken over once it is older than the caller's `stale_after`, by one statement that only
//! matches while the row is still pending and still stale, so again exactly one claimer wins.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Backend, Store, StoreError, duration_ms, from_ms, now_ms, with_pool};

/// How many times a claim retries when the row it collided with disappears before it can be read.
const CLAIM_ATTEMPTS: u32 = 16;

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

/// What to record when claiming a call's identity.
#[derive(Clone, Debug)]
pub struct NewCallLogClaim {
    pub key: CallLogKey,
    /// RingCentral's telephonySessionId, or the call record id.
    pub record_id: String,
    pub platform: String,
    pub contact_id: String,
    /// A pending claim older than this is presumed abandoned (its instance died) and may be taken over. Make it
    /// longer than the slowest CRM create, retries included.
    pub stale_after: Duration,
}

/// The outcome of [`Store::claim_call_log`].
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// The caller holds the claim: create the CRM record, then complete or release with this token.
    Claimed { claim_token: String },
    /// The call is logged already, or another request is logging it right now (`third_party_log_id` is `None`).
    Existing(CallLogRow),
}

/// A call-log mapping as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct CallLogRow {
    pub record_id: String,
    pub key: CallLogKey,
    pub platform: String,
    /// The CRM activity's id; `None` while the row is a pending claim.
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

fn new_claim_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Store {
    /// Claims the call's identity before its CRM record is created; see the module docs.
    pub async fn claim_call_log(&self, claim: &NewCallLogClaim) -> Result<Claim, StoreError> {
        let key = &claim.key;
        for _ in 0..CLAIM_ATTEMPTS {
            let claim_token = new_claim_token();
            let now = self.shared_now_ms().await?;
            let stale_before = now.saturating_sub(duration_ms(claim.stale_after));
            // One statement: insert the pending row, or take over a pending row that went stale. When the row
            // exists and is logged or fresh, the WHERE fails and nothing changes (0 rows).
            let turn = self.sqlite_write_turn().await;
            let claimed = with_pool!(self, pool => sqlx::query(
                "INSERT INTO call_logs (user_id, session_id, extension_number, hashed_extension_id, record_id,
                     platform, contact_id, third_party_log_id, claim_token, claimed_at_ms, created_at_ms,
                     updated_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $9, $9)
                 ON CONFLICT (user_id, session_id, extension_number, hashed_extension_id) DO UPDATE
                 SET record_id = excluded.record_id, platform = excluded.platform,
                     contact_id = excluded.contact_id, claim_token = excluded.claim_token,
                     claimed_at_ms = excluded.claimed_at_ms, updated_at_ms = excluded.updated_at_ms
                 WHERE call_logs.third_party_log_id IS NULL AND call_logs.claimed_at_ms < $10",
            )
            .bind(&key.user_id)
            .bind(&key.session_id)
            .bind(&key.extension_number)
            .bind(&key.hashed_extension_id)
            .bind(&claim.record_id)
            .bind(&claim.platform)
            .bind(&claim.contact_id)
            .bind(&claim_token)
            .bind(now)
            .bind(stale_before)
            .execute(pool)
            .await?
            .rows_affected());
            drop(turn);
            if claimed == 1 {
                return Ok(Claim::Claimed { claim_token });
            }
            if let Some(existing) = self.call_log_any_state(key).await? {
                return Ok(Claim::Existing(existing));
            }
            // The row was released between our statement and this read: claim again.
        }
        Err(StoreError::Contended(CLAIM_ATTEMPTS))
    }

    /// Records the CRM's id on a claimed row. Fails with [`StoreError::ClaimLost`] when the claim is no longer
    /// ours (released, or taken over after going stale): the CRM record just made then has no mapping.
    pub async fn complete_call_log(
        &self,
        key: &CallLogKey,
        claim_token: &str,
        third_party_log_id: &str,
    ) -> Result<(), StoreError> {
        let turn = self.sqlite_write_turn().await;
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE call_logs SET third_party_log_id = $6, claim_token = NULL, updated_at_ms = $7
             WHERE user_id = $1 AND session_id = $2 AND extension_number = $3 AND hashed_extension_id = $4
                 AND claim_token = $5",
        )
        .bind(&key.user_id)
        .bind(&key.session_id)
        .bind(&key.extension_number)
        .bind(&key.hashed_extension_id)
        .bind(claim_token)
        .bind(third_party_log_id)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        drop(turn);
        if updated == 0 {
            return Err(StoreError::ClaimLost(key.session_id.clone()));
        }
        Ok(())
    }

    /// Drops a pending claim (the CRM create failed) so a later attempt can claim again. Does nothing when the
    /// claim is no longer ours.
    pub async fn release_call_log(&self, key: &CallLogKey, claim_token: &str) -> Result<(), StoreError> {
        let _turn = self.sqlite_write_turn().await;
        with_pool!(self, pool => { sqlx::query(
            "DELETE FROM call_logs
             WHERE user_id = $1 AND session_id = $2 AND extension_number = $3 AND hashed_extension_id = $4
                 AND claim_token = $5 AND third_party_log_id IS NULL",
        )
        .bind(&key.user_id)
        .bind(&key.session_id)
        .bind(&key.extension_number)
        .bind(&key.hashed_extension_id)
        .bind(claim_token)
        .execute(pool)
        .await?; });
        Ok(())
    }

    /// The user's logged rows for these sessions (pending claims left out), ordered by session id, hashed
    /// extension id, extension number (byte order on both back ends).
    pub async fn find_call_logs(&self, user_id: &str, session_ids: &[String]) -> Result<Vec<CallLogRow>, StoreError> {
        if session_ids.is_empty() {
            return Ok(Vec::new());
        }
        let records: Vec<CallLogRecord> = match &self.backend {
            Backend::Sqlite(pool) => {
                let session_ids = serde_json::Value::from(session_ids).to_string();
                sqlx::query_as(
                    "SELECT user_id, session_id, extension_number, hashed_extension_id, record_id, platform,
                         contact_id, third_party_log_id, created_at_ms
                     FROM call_logs
                     WHERE user_id = $1 AND session_id IN (SELECT value FROM json_each($2))
                         AND third_party_log_id IS NOT NULL
                     ORDER BY session_id, hashed_extension_id, extension_number",
                )
                .bind(user_id)
                .bind(session_ids)
                .fetch_all(pool)
                .await?
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
        Ok(self.call_log_any_state(key).await?.filter(|row| row.third_party_log_id.is_some()))
    }

    /// The row with exactly this identity, pending or logged.
    async fn call_log_any_state(&self, key: &CallLogKey) -> Result<Option<CallLogRow>, StoreError> {
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
        record.map(CallLogRow::try_from).transpose()
    }
}
