//! SQLite's delivery batches (the enqueue writer's and the completion writer's transactions) on a connection of
//! their own, run whole on a thread of tokio's blocking pool.
//!
//! sqlx's SQLite driver runs each connection on a thread of its own and hands it every statement and every result
//! through channels: two thread wake-ups per statement, and a delivery batch runs two to four statements per
//! operation between its BEGIN and COMMIT. Here a batch is one hand-off there and back. The statements are the ones
//! PostgreSQL runs in `enqueue_delivery_ops` and `complete_delivery_ops` (its migration 0005), in the same order;
//! the tests run both back ends against the same cases.
//!
//! The connection writes beside sqlx's writer connection: the store's writers take one turn
//! ([`super::SqliteWrites::turn`]) before either, so they never wait on each other inside SQLite.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use super::jobs::{Completion, EnqueueStep, OpKind};
use super::{SQLITE_BUSY_TIMEOUT, SQLITE_CACHE_KIB, StoreError};

/// The batch connection (`None` once the store is closed); cloning shares it.
#[derive(Clone)]
pub(super) struct BatchConnection(Arc<Mutex<Option<Connection>>>);

impl std::fmt::Debug for BatchConnection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("BatchConnection")
    }
}

impl BatchConnection {
    /// Opens the database file the pools opened (it exists and is in WAL mode by now) with the writer
    /// connection's settings: every commit synced, the same busy timeout and page cache, foreign keys on.
    pub(super) fn open(path: &Path) -> Result<BatchConnection, StoreError> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "cache_size", -SQLITE_CACHE_KIB)?;
        connection.pragma_update(None, "foreign_keys", true)?;
        Ok(BatchConnection(Arc::new(Mutex::new(Some(connection)))))
    }

    /// Runs `work` in one `IMMEDIATE` transaction on a blocking thread and commits it; an error rolls it back.
    /// Take the writers' turn first.
    pub(super) async fn transaction<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.0);
        let run = tokio::task::spawn_blocking(move || {
            // A panic inside `work` dropped its transaction, which rolled back: the connection is sound.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            let connection = connection.as_mut().ok_or(sqlx::Error::PoolClosed)?;
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let output = work(&tx)?;
            tx.commit()?;
            Ok(output)
        });
        run.await.map_err(|error| StoreError::Batch(format!("the SQLite batch did not finish: {error}")))?
    }

    /// Closes the connection once a batch it runs has ended; later batches fail as on a closed pool.
    pub(super) async fn close(&self) {
        let connection = Arc::clone(&self.0);
        let _ =
            tokio::task::spawn_blocking(move || connection.lock().unwrap_or_else(PoisonError::into_inner).take()).await;
    }

    #[cfg(test)]
    pub(super) fn cache_size(&self) -> Option<i64> {
        let connection = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        connection.as_ref()?.pragma_query_value(None, "cache_size", |row| row.get(0)).ok()
    }
}

/// One operation of an enqueue batch, owned, for the blocking thread.
pub(super) struct SqliteEnqueue {
    pub new_id: String,
    pub user_id: String,
    pub platform: String,
    pub kind: &'static str,
    pub key: String,
    pub lease_owner: Option<String>,
    pub lease_expires_ms: Option<i64>,
    pub op: OpKind,
    pub sealed: String,
    pub fingerprint: String,
}

/// [`super::Store::enqueue_many`]'s statements, in the transaction `tx`.
pub(super) fn enqueue(
    tx: &rusqlite::Transaction<'_>,
    batch: &[SqliteEnqueue],
    now: i64,
) -> Result<Vec<EnqueueStep>, StoreError> {
    let mut steps = Vec::with_capacity(batch.len());
    for item in batch {
        // The upsert locks the job row until commit, so concurrent enqueuers of one job take turns and operation
        // ids follow commit order. It leases the job too when asked and the job is due (it was not backing off, or
        // it had stopped) and no live runner holds it: `delivery_jobs.*` are the values before the update,
        // `excluded.*` the new row's.
        let (job_id, next_attempt_ms, attempts, lease_owner) = tx
            .prepare_cached(
                "INSERT INTO delivery_jobs (id, user_id, platform, kind, subject_key, state, attempts,
                     next_attempt_at_ms, created_at_ms, updated_at_ms, lease_owner, lease_expires_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?6, ?6, ?7, ?8)
                 ON CONFLICT (user_id, kind, subject_key) DO UPDATE
                 SET attempts = CASE WHEN delivery_jobs.state = 'queued' THEN delivery_jobs.attempts ELSE 0 END,
                     next_attempt_at_ms = CASE WHEN delivery_jobs.state = 'queued'
                         THEN delivery_jobs.next_attempt_at_ms ELSE excluded.next_attempt_at_ms END,
                     lease_owner = CASE WHEN excluded.lease_owner IS NOT NULL
                             AND (delivery_jobs.state <> 'queued' OR delivery_jobs.next_attempt_at_ms <= ?6)
                             AND (delivery_jobs.lease_owner IS NULL OR delivery_jobs.lease_expires_at_ms < ?6)
                         THEN excluded.lease_owner ELSE delivery_jobs.lease_owner END,
                     lease_expires_at_ms = CASE WHEN excluded.lease_owner IS NOT NULL
                             AND (delivery_jobs.state <> 'queued' OR delivery_jobs.next_attempt_at_ms <= ?6)
                             AND (delivery_jobs.lease_owner IS NULL OR delivery_jobs.lease_expires_at_ms < ?6)
                         THEN excluded.lease_expires_at_ms ELSE delivery_jobs.lease_expires_at_ms END,
                     state = 'queued', platform = excluded.platform, updated_at_ms = excluded.updated_at_ms
                 RETURNING id, next_attempt_at_ms, attempts, lease_owner",
            )?
            .query_row(
                params![
                    item.new_id,
                    item.user_id,
                    item.platform,
                    item.kind,
                    item.key,
                    now,
                    item.lease_owner,
                    item.lease_expires_ms
                ],
                |row| Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?, row.get::<_, Option<String>>(3)?)),
            )?;
        // A job made just now has no operation to merge with.
        let merge_with: Option<i64> = if job_id == item.new_id {
            None
        } else if item.op.merges_with_any_pending() {
            tx.prepare_cached("SELECT id FROM delivery_ops WHERE job_id = ?1 AND op = ?2 ORDER BY id LIMIT 1")?
                .query_row(params![job_id, item.op.as_str()], |row| row.get(0))
                .optional()?
        } else {
            tx.prepare_cached(
                "SELECT id FROM delivery_ops WHERE job_id = ?1 AND op = ?2 AND fingerprint = ?3
                     AND id = (SELECT MAX(id) FROM delivery_ops WHERE job_id = ?1)",
            )?
            .query_row(params![job_id, item.op.as_str(), item.fingerprint], |row| row.get(0))
            .optional()?
        };
        // A call's create is about to be sent by the lease holder: it is marked sent in this commit rather than in
        // one more. A mark already there is an earlier attempt's, whose outcome is unknown: it stays, and the run
        // reconciles before creating.
        let leased = item.lease_owner.is_some() && item.lease_owner == lease_owner;
        let mark_sent = leased && item.op == OpKind::CreateCall;
        let (op_id, merged, marked, alone) = match merge_with {
            Some(op_id) => {
                // The newer request is the more complete one (a create repeated with the final call data).
                tx.prepare_cached("UPDATE delivery_ops SET payload = ?2, fingerprint = ?3 WHERE id = ?1")?
                    .execute(params![op_id, item.sealed, item.fingerprint])?;
                let marked = mark_sent
                    && tx
                        .prepare_cached("UPDATE delivery_ops SET sent_at_ms = ?2 WHERE id = ?1 AND sent_at_ms IS NULL")?
                        .execute(params![op_id, now])?
                        == 1;
                (op_id, true, marked, false)
            }
            None => {
                // `alone`: no operation of the job is older (the comparison leaves the new row out).
                let (op_id, alone) = tx
                    .prepare_cached(
                        "INSERT INTO delivery_ops (job_id, op, payload, fingerprint, enqueued_at_ms, sent_at_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 THEN ?5 END)
                         RETURNING id, NOT EXISTS (SELECT 1 FROM delivery_ops o
                             WHERE o.job_id = ?1 AND o.id < delivery_ops.id) AS alone",
                    )?
                    .query_row(
                        params![job_id, item.op.as_str(), item.sealed, item.fingerprint, now, mark_sent],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )?;
                (op_id, false, mark_sent, alone)
            }
        };
        steps.push(EnqueueStep { job_id, next_attempt_ms, attempts, lease_owner, op_id, merged, marked, alone });
    }
    Ok(steps)
}

/// [`super::Store::complete_ops`]'s statements, in the transaction `tx`: each job's state after its operation's
/// completion, none where the lease was lost and nothing changed.
pub(super) fn complete(
    tx: &rusqlite::Transaction<'_>,
    completions: &[Completion],
    now: i64,
) -> Result<Vec<Option<String>>, StoreError> {
    let mut states = Vec::with_capacity(completions.len());
    for completion in completions {
        let (job_id, owner, op_id) = (completion.job_id.as_str(), completion.owner.as_str(), completion.op_id);
        // The job row first, as every writer of a job takes it (the enqueue's upsert too), so that two transactions
        // never wait on each other's rows. Only the lease holder's completion counts. With this operation its
        // last, the job goes idle and the lease is given up in the same statement rather than in one more commit:
        // an enqueuer of this job waits on this row, so it either added its operation before (the job keeps its
        // lease) or leases the idle job after. SQLite's writer holds the whole database from `BEGIN IMMEDIATE`, so
        // nothing can commit between the lock and the `NOT EXISTS`.
        let state: Option<String> = tx
            .prepare_cached(
                "UPDATE delivery_jobs SET attempts = 0, last_error = NULL, last_message = NULL, updated_at_ms = ?4,
                     lease_owner = CASE WHEN state = 'queued' AND NOT EXISTS (SELECT 1 FROM delivery_ops o
                         WHERE o.job_id = ?1 AND o.id <> ?3) THEN NULL ELSE lease_owner END,
                     lease_expires_at_ms = CASE WHEN state = 'queued' AND NOT EXISTS (SELECT 1 FROM delivery_ops o
                         WHERE o.job_id = ?1 AND o.id <> ?3) THEN NULL ELSE lease_expires_at_ms END,
                     state = CASE WHEN state = 'queued' AND NOT EXISTS (SELECT 1 FROM delivery_ops o
                         WHERE o.job_id = ?1 AND o.id <> ?3) THEN 'idle' ELSE state END
                 WHERE id = ?1 AND lease_owner = ?2
                 RETURNING state",
            )?
            .query_row(params![job_id, owner, op_id, now], |row| row.get(0))
            .optional()?;
        if state.is_some() {
            if let Some((key, logged)) = &completion.call_log {
                tx.prepare_cached(
                    "INSERT INTO call_logs (user_id, session_id, extension_number, hashed_extension_id,
                         record_id, platform, contact_id, third_party_log_id, claim_token, claimed_at_ms,
                         created_at_ms, updated_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?9, ?9)
                     ON CONFLICT (user_id, session_id, extension_number, hashed_extension_id) DO UPDATE
                     SET third_party_log_id = excluded.third_party_log_id, claim_token = NULL,
                         record_id = excluded.record_id, contact_id = excluded.contact_id,
                         updated_at_ms = excluded.updated_at_ms
                     WHERE call_logs.third_party_log_id IS NULL",
                )?
                .execute(params![
                    key.user_id,
                    key.session_id,
                    key.extension_number,
                    key.hashed_extension_id,
                    logged.record_id,
                    logged.platform,
                    logged.contact_id,
                    logged.log_id,
                    now
                ])?;
            }
            tx.prepare_cached("DELETE FROM delivery_ops WHERE id = ?1 AND job_id = ?2")?
                .execute(params![op_id, job_id])?;
        }
        states.push(state);
    }
    Ok(states)
}
