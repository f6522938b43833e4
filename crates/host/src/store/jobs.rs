//! The delivery queue: one job per call session or conversation, with its pending operations in order.
//!
//! A job row is leased by one runner at a time (a request making its immediate attempt, or a worker of any
//! instance). Leases expire, so the job of an instance that died is taken over; runners renew theirs while they
//! work. On PostgreSQL a worker picks a due job with `FOR UPDATE SKIP LOCKED`, so any number of instances share
//! the queue without waiting on each other; SQLite has one writer, which serialises the pick.
//!
//! Every decision is one statement or one transaction whose affected-row count says who won. Operation payloads
//! are sealed with the store's cipher: a queued update can carry a recording link with a RingCentral token.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::sqlite_batches;
use super::{Backend, Store, StoreError, duration_ms, from_ms, with_pool, with_tx, with_writer};
use crate::store::CallLogKey;

/// What a job delivers: one call session's log, or one conversation's message log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Call,
    Message,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Call => "call",
            JobKind::Message => "message",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "call" => Ok(JobKind::Call),
            "message" => Ok(JobKind::Message),
            _ => Err(StoreError::CorruptValue("delivery_jobs.kind")),
        }
    }
}

/// One operation of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    CreateCall,
    UpdateCall,
    Disposition,
    MessageLog,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::CreateCall => "create_call",
            OpKind::UpdateCall => "update_call",
            OpKind::Disposition => "disposition",
            OpKind::MessageLog => "message_log",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "create_call" => Ok(OpKind::CreateCall),
            "update_call" => Ok(OpKind::UpdateCall),
            "disposition" => Ok(OpKind::Disposition),
            "message_log" => Ok(OpKind::MessageLog),
            _ => Err(StoreError::CorruptValue("delivery_ops.op")),
        }
    }

    /// Creates merge with a pending create of the same job whatever their payload: there is one record to make.
    pub(super) fn merges_with_any_pending(self) -> bool {
        matches!(self, OpKind::CreateCall)
    }
}

/// A job's state; see the migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Idle,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Idle => "idle",
            JobState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "queued" => Ok(JobState::Queued),
            "idle" => Ok(JobState::Idle),
            "failed" => Ok(JobState::Failed),
            _ => Err(StoreError::CorruptValue("delivery_jobs.state")),
        }
    }
}

/// Which job an operation belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSubject {
    pub user_id: String,
    pub platform: String,
    pub kind: JobKind,
    /// The call session or the conversation: one job each.
    pub key: String,
}

impl JobSubject {
    /// The job of one call session: its create, updates and dispositions, whatever identity each request names.
    pub fn call(user_id: &str, platform: &str, session_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            platform: platform.to_owned(),
            kind: JobKind::Call,
            key: session_id.to_owned(),
        }
    }

    /// The order in which a transaction that writes several jobs takes their rows. The enqueue and completion
    /// batches ([`Store::enqueue_many`], [`Store::complete_ops`]) of every instance take them in this one order,
    /// so that no two wait on each other's rows (PostgreSQL would abort one of them as a deadlock, failing every
    /// operation in it). A job's subject is known before its row is (the enqueue finds or makes the row by it).
    pub fn lock_order(&self) -> (&str, &str, &str) {
        (&self.user_id, self.kind.as_str(), &self.key)
    }

    /// The job of one conversation's message log.
    pub fn message(user_id: &str, platform: &str, conversation: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            platform: platform.to_owned(),
            kind: JobKind::Message,
            key: conversation.to_owned(),
        }
    }
}

/// An operation to add to a job.
#[derive(Clone, Debug)]
pub struct NewOp {
    pub kind: OpKind,
    /// Plain JSON; sealed before it is stored.
    pub payload: String,
    /// Equal for identical requests: an identical repeat of the job's newest pending operation merges into it.
    pub fingerprint: String,
}

/// The outcome of [`Store::enqueue`].
#[derive(Clone, Debug, PartialEq)]
pub struct Enqueued {
    pub job_id: String,
    /// The operation that will carry the request: a new one, or the pending one it merged into.
    pub op_id: i64,
    pub merged: bool,
    /// When the job may run next; later than now while it backs off from a CRM that is down.
    pub next_attempt_at: DateTime<Utc>,
    /// Failed attempts of the job's head operation so far: more than none while it backs off.
    pub attempts: u32,
}

/// Whether a job with these failed attempts and next attempt time is backing off at `now` (the store's shared
/// clock). A job that has not failed is never backing off: its next attempt time is when it was queued, by the
/// clock of the instance that queued it, which another instance's clock may put a moment in the future.
pub fn backing_off(attempts: u32, next_attempt_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    attempts > 0 && next_attempt_at > now
}

/// A job leased by a runner.
#[derive(Clone, Debug, PartialEq)]
pub struct LeasedJob {
    pub id: String,
    pub subject: JobSubject,
    /// Failed attempts of the operation at the head of the queue so far.
    pub attempts: u32,
    /// The create whose sent mark this lease wrote with the enqueue (see [`Store::enqueue_and_lease`]): its mark
    /// is this run's own, not an earlier attempt's of unknown outcome.
    pub marked_create: Option<i64>,
    /// The job's pending operations when the lease came with an enqueue that knows them all (the new operation
    /// is the only one); `None`: read them with [`Store::job_ops`].
    pub known_ops: Option<Vec<JobOp>>,
    /// The job's row was made by the enqueue that leased it: nothing was ever delivered or pending for its
    /// subject before, so what the request read of the subject still holds.
    pub fresh: bool,
}

/// Leases job `$1` for owner `$2` until `$3` (now is `$4`) if it is queued, due and not held by a live runner;
/// returns what [`leased_of`] reads.
const LEASE_JOB: &str = "UPDATE delivery_jobs SET lease_owner = $2, lease_expires_at_ms = $3, updated_at_ms = $4
     WHERE id = $1 AND state = 'queued' AND next_attempt_at_ms <= $4
         AND (lease_owner IS NULL OR lease_expires_at_ms < $4)
     RETURNING id, user_id, platform, kind, subject_key, attempts";

/// A pending operation as stored, payload opened.
#[derive(Clone, Debug, PartialEq)]
pub struct JobOp {
    pub id: i64,
    pub kind: OpKind,
    pub payload: String,
    /// Set when an earlier attempt sent the CRM write and its outcome is unknown.
    pub sent_at: Option<DateTime<Utc>>,
    pub enqueued_at: DateTime<Utc>,
}

/// A job as operators and readers see it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSummary {
    pub id: String,
    pub subject: JobSubject,
    pub state: JobState,
    pub attempts: u32,
    pub pending_ops: i64,
    /// The operation that runs next.
    pub head_op: Option<OpKind>,
    /// When the oldest pending operation was accepted.
    pub oldest_op_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// JSON `returnMessage` for the user, set when the job failed.
    pub last_message: Option<String>,
}

const JOB_COLUMNS: &str = "j.id, j.user_id, j.platform, j.kind, j.subject_key, j.state, j.attempts, \
     j.next_attempt_at_ms, j.last_error, j.last_message, \
     (SELECT COUNT(*) FROM delivery_ops o WHERE o.job_id = j.id) AS pending_ops, \
     (SELECT MIN(o.enqueued_at_ms) FROM delivery_ops o WHERE o.job_id = j.id) AS oldest_op_ms, \
     (SELECT o.op FROM delivery_ops o WHERE o.job_id = j.id ORDER BY o.id LIMIT 1) AS head_op";

fn summary_of<R: sqlx::Row>(row: &R) -> Result<JobSummary, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let attempts: i32 = row.try_get("attempts")?;
    Ok(JobSummary {
        id: row.try_get("id")?,
        subject: JobSubject {
            user_id: row.try_get("user_id")?,
            platform: row.try_get("platform")?,
            kind: JobKind::parse(&row.try_get::<String, _>("kind")?)?,
            key: row.try_get("subject_key")?,
        },
        state: JobState::parse(&row.try_get::<String, _>("state")?)?,
        attempts: u32::try_from(attempts).unwrap_or_default(),
        pending_ops: row.try_get("pending_ops")?,
        head_op: row.try_get::<Option<String>, _>("head_op")?.map(|op| OpKind::parse(&op)).transpose()?,
        oldest_op_at: row
            .try_get::<Option<i64>, _>("oldest_op_ms")?
            .map(|ms| from_ms("delivery_ops.enqueued_at_ms", ms))
            .transpose()?,
        next_attempt_at: from_ms("delivery_jobs.next_attempt_at_ms", row.try_get("next_attempt_at_ms")?)?,
        last_error: row.try_get("last_error")?,
        last_message: row.try_get("last_message")?,
    })
}

fn leased_of<R: sqlx::Row>(row: &R) -> Result<LeasedJob, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let attempts: i32 = row.try_get("attempts")?;
    Ok(LeasedJob {
        id: row.try_get("id")?,
        subject: JobSubject {
            user_id: row.try_get("user_id")?,
            platform: row.try_get("platform")?,
            kind: JobKind::parse(&row.try_get::<String, _>("kind")?)?,
            key: row.try_get("subject_key")?,
        },
        attempts: u32::try_from(attempts).unwrap_or_default(),
        marked_create: None,
        known_ops: None,
        fresh: false,
    })
}

/// Which jobs [`Store::list_jobs`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobFilter {
    /// Queued with work to do, or failed.
    Open,
    Failed,
}

impl Store {
    fn seal_payload(&self, user_id: &str, payload: &str) -> Result<String, StoreError> {
        let associated = format!("delivery_ops.payload:{user_id}");
        Ok(self.cipher()?.encrypt(&callbridge_core::Secret::new(payload), associated.as_bytes())?)
    }

    fn open_payload(&self, user_id: &str, stored: &str) -> Result<String, StoreError> {
        let associated = format!("delivery_ops.payload:{user_id}");
        Ok(self.cipher()?.decrypt(stored, associated.as_bytes())?.expose().to_owned())
    }

    /// Adds an operation to the subject's job (made on first use), or merges it into a pending one: a create into
    /// the job's pending create, any other operation into an identical newest pending one. A failed or idle job
    /// becomes due now: the new request is the user asking again.
    pub async fn enqueue(&self, subject: &JobSubject, op: &NewOp) -> Result<Enqueued, StoreError> {
        Ok(self.enqueue_and_lease(subject, op, None).await?.0)
    }

    /// [`Store::enqueue`], and in the same commit a lease of the job for `lease`'s owner and time to live when the
    /// job is due and no live runner holds it (and, for a call's create, its sent mark): the request's immediate
    /// attempt then costs no commit of its own. A fresh job (its row made by this enqueue) or a leased job whose
    /// only pending operation is this one comes back with [`LeasedJob::known_ops`] filled, so the run need not read
    /// them back.
    ///
    /// Two or three statements: the job's upsert, which also takes the lease; for a job that existed, the lookup
    /// of a pending operation to merge with; the operation's insert (or merge), which also writes the sent mark.
    /// On PostgreSQL one function runs them ([`Store::enqueue_many`]): one round trip.
    pub async fn enqueue_and_lease(
        &self,
        subject: &JobSubject,
        op: &NewOp,
        lease: Option<(&str, Duration)>,
    ) -> Result<(Enqueued, Option<LeasedJob>), StoreError> {
        let item = Enqueue {
            subject: subject.clone(),
            op: op.clone(),
            lease: lease.map(|(owner, ttl)| (owner.to_owned(), ttl)),
        };
        let mut outcomes = self.enqueue_many(std::slice::from_ref(&item)).await?;
        outcomes.pop().ok_or_else(|| StoreError::Batch("no outcome for the enqueue".to_owned()))
    }

    /// [`Store::enqueue_and_lease`] for several operations in one transaction (one commit, one sync of the file),
    /// in the order given; operations of one job see each other. On PostgreSQL the batch is one statement, a call
    /// of `enqueue_delivery_ops` (migration 0005); on SQLite it goes with the writes of [`Store::enqueue_batched`].
    /// A database failure fails them all. Give them in [`JobSubject::lock_order`], so that two batches never wait
    /// on each other's job rows.
    pub async fn enqueue_many(&self, items: &[Enqueue]) -> Result<Vec<(Enqueued, Option<LeasedJob>)>, StoreError> {
        let prepared = items.iter().map(|item| self.prepare_enqueue(item.clone())).collect::<Result<Vec<_>, _>>()?;
        match &self.backend {
            Backend::Postgres(pool) => enqueue_on_postgres(pool, &prepared, self.shared_now_ms().await?).await,
            Backend::Sqlite { writes, .. } => {
                written(|then| writes.batches.write(prepared, enqueue_on_sqlite, then)).await
            }
        }
    }

    /// [`Store::enqueue_and_lease`] batched with the other enqueues submitted at the same time, with a lease asked
    /// for or not: `then` gets the outcome once the batch has committed, on the store's writer (see
    /// [`Then`]). On PostgreSQL a task of this store's writes what was submitted while its previous batch ran in
    /// one statement ([`postgres_batches`](super::postgres_batches)); on SQLite the batch writer's thread writes
    /// it in its next transaction, with the completions submitted meanwhile (`sqlite_batches.rs`). Under load
    /// many requests share one commit and one sync of the file; alone, an enqueue commits at once.
    pub fn enqueue_batched(&self, item: Enqueue, then: Then<(Enqueued, Option<LeasedJob>)>) {
        let prepared = match self.prepare_enqueue(item) {
            Ok(prepared) => prepared,
            Err(error) => return then(Err(error)),
        };
        match &self.backend {
            Backend::Postgres(pool) => self.postgres_batches.enqueue(pool, &self.clock, prepared, then),
            Backend::Sqlite { writes, .. } => {
                writes.batches.write(vec![prepared], enqueue_on_sqlite, only(then, "the enqueue"))
            }
        }
    }

    /// The operation's payload sealed, and the id its job gets if the enqueue makes it.
    fn prepare_enqueue(&self, item: Enqueue) -> Result<PreparedEnqueue, StoreError> {
        let sealed = self.seal_payload(&item.subject.user_id, &item.op.payload)?;
        Ok(PreparedEnqueue { item, sealed, new_id: uuid::Uuid::new_v4().simple().to_string() })
    }

    /// Deletes the jobs with nothing left to do (idle, no pending operation, no live lease) untouched for
    /// `retention`; returns how many. A session's next request makes its job again, and the call and message
    /// mappings that say what is logged live in their own tables, so nothing is forgotten.
    pub async fn purge_idle_jobs(&self, retention: Duration) -> Result<u64, StoreError> {
        let now = self.shared_now_ms().await?;
        // An enqueue holds the job row while it adds its operation and makes the job queued, so a job it revives
        // no longer matches `state = 'idle'` here (PostgreSQL re-checks a row it waited for).
        Ok(with_writer!(self, pool => sqlx::query(
            "DELETE FROM delivery_jobs WHERE state = 'idle' AND updated_at_ms < $1
                 AND (lease_owner IS NULL OR lease_expires_at_ms < $2)
                 AND NOT EXISTS (SELECT 1 FROM delivery_ops o WHERE o.job_id = delivery_jobs.id)",
        )
        .bind(now.saturating_sub(duration_ms(retention)))
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Leases this job for `owner` if it is queued, due and not leased by a live runner.
    pub async fn lease_job(&self, job_id: &str, owner: &str, ttl: Duration) -> Result<Option<LeasedJob>, StoreError> {
        let now = self.shared_now_ms().await?;
        let row = with_writer!(self, pool => sqlx::query(
            LEASE_JOB,
        )
        .bind(job_id)
        .bind(owner)
        .bind(now.saturating_add(duration_ms(ttl)))
        .bind(now)
        .fetch_optional(pool)
        .await?
        .map(|row| leased_of(&row))
        .transpose()?);
        Ok(row)
    }

    /// Leases the most overdue job with work to do, if any, for `owner`.
    pub async fn lease_due_job(&self, owner: &str, ttl: Duration) -> Result<Option<LeasedJob>, StoreError> {
        let now = self.shared_now_ms().await?;
        // Taken rows are skipped, not waited for: instances pick different jobs at the same moment.
        let lock = match self.backend {
            Backend::Sqlite { .. } => "",
            Backend::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE delivery_jobs SET lease_owner = $1, lease_expires_at_ms = $2, updated_at_ms = $3
             WHERE id = (
                 SELECT j.id FROM delivery_jobs j
                 WHERE j.state = 'queued' AND j.next_attempt_at_ms <= $3
                     AND (j.lease_owner IS NULL OR j.lease_expires_at_ms < $3)
                     AND EXISTS (SELECT 1 FROM delivery_ops o WHERE o.job_id = j.id)
                 ORDER BY j.next_attempt_at_ms LIMIT 1 {lock})
                 AND (lease_owner IS NULL OR lease_expires_at_ms < $3)
             RETURNING id, user_id, platform, kind, subject_key, attempts"
        );
        let row = with_writer!(self, pool => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(owner)
            .bind(now.saturating_add(duration_ms(ttl)))
            .bind(now)
            .fetch_optional(pool)
            .await?
            .map(|row| leased_of(&row))
            .transpose()?);
        Ok(row)
    }

    /// Extends `owner`'s lease; `false` when it has lost it (expired and taken over).
    pub async fn renew_job_lease(&self, job_id: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = self.shared_now_ms().await?;
        let renewed = with_writer!(self, pool => sqlx::query(
            "UPDATE delivery_jobs SET lease_expires_at_ms = $3 WHERE id = $1 AND lease_owner = $2",
        )
        .bind(job_id)
        .bind(owner)
        .bind(now.saturating_add(duration_ms(ttl)))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(renewed == 1)
    }

    /// The job's pending operations in order, payloads opened.
    pub async fn job_ops(&self, job: &LeasedJob) -> Result<Vec<JobOp>, StoreError> {
        self.ops_of(&job.id, &job.subject.user_id).await
    }

    /// The pending operations of a job read without its lease (what a queued session will become).
    pub async fn pending_ops(&self, job: &JobSummary) -> Result<Vec<JobOp>, StoreError> {
        self.ops_of(&job.id, &job.subject.user_id).await
    }

    async fn ops_of(&self, job_id: &str, user_id: &str) -> Result<Vec<JobOp>, StoreError> {
        let rows = with_pool!(self, pool => sqlx::query(
            "SELECT id, op, payload, sent_at_ms, enqueued_at_ms FROM delivery_ops WHERE job_id = $1 ORDER BY id",
        )
        .bind(job_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| -> Result<(i64, String, String, Option<i64>, i64), StoreError> {
            Ok((
                row.try_get("id")?,
                row.try_get("op")?,
                row.try_get("payload")?,
                row.try_get("sent_at_ms")?,
                row.try_get("enqueued_at_ms")?,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?);
        rows.into_iter()
            .map(|(id, op, payload, sent_at_ms, enqueued_at_ms)| {
                Ok(JobOp {
                    id,
                    kind: OpKind::parse(&op)?,
                    payload: self.open_payload(user_id, &payload)?,
                    sent_at: sent_at_ms.map(|ms| from_ms("delivery_ops.sent_at_ms", ms)).transpose()?,
                    enqueued_at: from_ms("delivery_ops.enqueued_at_ms", enqueued_at_ms)?,
                })
            })
            .collect()
    }

    /// Records, before the CRM write goes out, that it may reach the CRM (`sent`), or that the last one certainly
    /// did not (`!sent`, after a refused connection or a 4xx).
    pub async fn mark_op_sent(&self, op_id: i64, sent: bool) -> Result<(), StoreError> {
        let now = self.shared_now_ms().await?;
        with_writer!(self, pool => { sqlx::query("UPDATE delivery_ops SET sent_at_ms = $2 WHERE id = $1")
            .bind(op_id)
            .bind(sent.then_some(now))
            .execute(pool)
            .await?; });
        Ok(())
    }

    /// Removes a finished operation of `owner`'s job; with `call_log`, records the CRM id of the call's record in
    /// the same transaction, so a crash leaves either both or neither. `true` while the job has more operations;
    /// after its last one the job goes idle and the lease is given up. [`StoreError::LeaseLost`] when the lease
    /// went to another runner (nothing changes).
    pub async fn complete_op(
        &self,
        job_id: &str,
        owner: &str,
        op_id: i64,
        call_log: Option<(&CallLogKey, &CompletedCallLog)>,
    ) -> Result<bool, StoreError> {
        let completion = Completion {
            job_id: job_id.to_owned(),
            owner: owner.to_owned(),
            op_id,
            call_log: call_log.map(|(key, logged)| (key.clone(), logged.clone())),
        };
        let mut outcomes = self.complete_ops(std::slice::from_ref(&completion)).await?;
        outcomes.pop().unwrap_or_else(|| Err(StoreError::Batch("no outcome for the completion".to_owned())))
    }

    /// [`Store::complete_op`] for several operations of different jobs in one transaction (one commit, one sync
    /// of the file), each with its own outcome: one whose lease was lost changes nothing and does not stop the
    /// others. A database failure fails them all. Give them in their jobs' [`JobSubject::lock_order`], so that two
    /// batches never wait on each other's job rows. On PostgreSQL the batch is one statement, a call of
    /// `complete_delivery_ops` (migration 0005); on SQLite it goes with the writes of [`Store::complete_batched`].
    pub async fn complete_ops(&self, completions: &[Completion]) -> Result<Vec<Result<bool, StoreError>>, StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => complete_on_postgres(pool, completions, self.shared_now_ms().await?).await,
            Backend::Sqlite { writes, .. } => {
                written(|then| writes.batches.write(completions.to_vec(), complete_on_sqlite, then)).await
            }
        }
    }

    /// [`Store::complete_op`] batched with the other completions submitted at the same time (and on SQLite the
    /// enqueues too), as [`Store::enqueue_batched`] batches enqueues: `then` gets the outcome once the batch has
    /// committed, on the store's writer. `subject` is the job's, for the lock order.
    pub fn complete_batched(&self, subject: &JobSubject, completion: Completion, then: Then<bool>) {
        match &self.backend {
            Backend::Postgres(pool) => {
                self.postgres_batches.complete(pool, &self.clock, subject.clone(), completion, then)
            }
            Backend::Sqlite { writes, .. } => {
                let then: Then<Vec<Result<bool, StoreError>>> = Box::new(move |outcome| {
                    then(outcome.and_then(|mut it| it.pop().unwrap_or_else(|| Err(no_outcome("the completion")))))
                });
                writes.batches.write(vec![completion], complete_on_sqlite, then)
            }
        }
    }

    /// After a temporary failure: counts the attempt, sets when the job is due again, and gives up the lease.
    pub async fn defer_job(
        &self,
        job_id: &str,
        owner: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let now = self.shared_now_ms().await?;
        with_writer!(self, pool => { sqlx::query(
            "UPDATE delivery_jobs SET attempts = attempts + 1, next_attempt_at_ms = $3, last_error = $4,
                 lease_owner = NULL, lease_expires_at_ms = NULL, updated_at_ms = $5
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(job_id)
        .bind(owner)
        .bind(retry_at.timestamp_millis())
        .bind(error)
        .bind(now)
        .execute(pool)
        .await?; });
        Ok(())
    }

    /// Stops the job: its operations stay for an operator's retry (or the user's next request); `message` is the
    /// JSON `returnMessage` the next read of the session shows.
    pub async fn fail_job(&self, job_id: &str, owner: &str, error: &str, message: &str) -> Result<(), StoreError> {
        let now = self.shared_now_ms().await?;
        with_writer!(self, pool => { sqlx::query(
            "UPDATE delivery_jobs SET state = 'failed', attempts = attempts + 1, last_error = $3, last_message = $4,
                 lease_owner = NULL, lease_expires_at_ms = NULL, updated_at_ms = $5
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(job_id)
        .bind(owner)
        .bind(error)
        .bind(message)
        .bind(now)
        .execute(pool)
        .await?; });
        Ok(())
    }

    /// Gives the lease up; a job with nothing left to do goes idle.
    pub async fn release_job(&self, job_id: &str, owner: &str) -> Result<(), StoreError> {
        with_tx!(self, tx => {
            if matches!(self.backend, Backend::Postgres(_)) {
                // Wait for an enqueuer holding the row, so the check below (a new statement, a new snapshot)
                // sees the operation it added.
                sqlx::query("SELECT id FROM delivery_jobs WHERE id = $1 FOR UPDATE")
                    .bind(job_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE delivery_jobs SET lease_owner = NULL, lease_expires_at_ms = NULL,
                     state = CASE WHEN state = 'queued'
                         AND NOT EXISTS (SELECT 1 FROM delivery_ops o WHERE o.job_id = delivery_jobs.id)
                         THEN 'idle' ELSE state END
                 WHERE id = $1 AND lease_owner = $2",
            )
            .bind(job_id)
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// The subject's job, if it has one.
    pub async fn job_for(&self, subject: &JobSubject) -> Result<Option<JobSummary>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM delivery_jobs j WHERE j.user_id = $1 AND j.kind = $2 AND j.subject_key = $3"
        );
        Ok(with_pool!(self, pool => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&subject.user_id)
            .bind(subject.kind.as_str())
            .bind(&subject.key)
            .fetch_optional(pool)
            .await?
            .map(|row| summary_of(&row))
            .transpose()?))
    }

    /// True while the operation is pending.
    pub async fn op_pending(&self, op_id: i64) -> Result<bool, StoreError> {
        let found: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM delivery_ops WHERE id = $1",
        )
        .bind(op_id)
        .fetch_optional(pool)
        .await?);
        Ok(found.is_some())
    }

    /// Jobs for operators, oldest work first.
    pub async fn list_jobs(&self, filter: JobFilter) -> Result<Vec<JobSummary>, StoreError> {
        let condition = match filter {
            JobFilter::Open => {
                "j.state = 'failed' OR EXISTS (SELECT 1 FROM delivery_ops o WHERE o.job_id = j.id)".to_owned()
            }
            JobFilter::Failed => "j.state = 'failed'".to_owned(),
        };
        let sql = format!("SELECT {JOB_COLUMNS} FROM delivery_jobs j WHERE {condition} ORDER BY oldest_op_ms, j.id");
        let rows = with_pool!(self, pool => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(pool)
            .await?
            .iter()
            .map(summary_of)
            .collect::<Result<Vec<_>, _>>()?);
        Ok(rows)
    }

    /// Makes a job due now, failed or backing off; `false` when there is no such job. This is an operator's
    /// decision, so it also forgets that a create may have reached the CRM: the operator has checked that it
    /// did not (a connector that cannot look for its records stops there rather than create twice).
    pub async fn retry_job(&self, job_id: &str) -> Result<bool, StoreError> {
        let now = self.shared_now_ms().await?;
        let updated = with_tx!(self, tx => {
            sqlx::query("UPDATE delivery_ops SET sent_at_ms = NULL WHERE job_id = $1")
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE delivery_jobs SET state = 'queued', attempts = 0, next_attempt_at_ms = $2,
                     updated_at_ms = $2
                 WHERE id = $1",
            )
            .bind(job_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Drops a job's pending operations for good (an operator's decision); `false` when there is no such job.
    pub async fn drop_job(&self, job_id: &str) -> Result<bool, StoreError> {
        let dropped = with_tx!(self, tx => {
            sqlx::query("DELETE FROM delivery_ops WHERE job_id = $1").bind(job_id).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE delivery_jobs SET state = 'idle', attempts = 0, last_error = NULL, last_message = NULL
                 WHERE id = $1",
            )
            .bind(job_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        });
        Ok(dropped == 1)
    }

    /// How many jobs are in each state (idle jobs left out), for `/metrics`.
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_as(
            "SELECT state, COUNT(*) FROM delivery_jobs WHERE state <> 'idle' GROUP BY state ORDER BY state",
        )
        .fetch_all(pool)
        .await?))
    }
}

/// What the submitter of a batched write ([`Store::enqueue_batched`], [`Store::complete_batched`]) is told, once,
/// when the batch that holds the write has committed or failed. It runs in a task of the runtime with the other
/// answers of its batch (PostgreSQL's writer task, or the task SQLite's batch thread spawns per transaction), so it
/// must be quick and must not block: hand the outcome on, spawn what follows.
pub type Then<T> = Box<dyn FnOnce(Result<T, StoreError>) + Send>;

/// Waits for the outcome of a write that `submit` hands to the store's batch writer.
async fn written<T: Send + 'static>(submit: impl FnOnce(Then<T>)) -> Result<T, StoreError> {
    let (reply, outcome) = tokio::sync::oneshot::channel();
    submit(Box::new(move |it| {
        // A caller that went away has nobody to tell.
        let _ = reply.send(it);
    }));
    outcome.await.unwrap_or_else(|_| Err(StoreError::Batch("the batch writer has stopped".to_owned())))
}

/// `then` for the one outcome of a batch of one.
fn only<T: 'static>(then: Then<T>, what: &'static str) -> Then<Vec<T>> {
    Box::new(move |outcome| then(outcome.and_then(|mut it| it.pop().ok_or_else(|| no_outcome(what)))))
}

fn no_outcome(what: &str) -> StoreError {
    StoreError::Batch(format!("no outcome for {what}"))
}

/// An operation to add with [`Store::enqueue_many`], and the lease its submitter asks for (owner, time to live).
#[derive(Clone, Debug)]
pub struct Enqueue {
    pub subject: JobSubject,
    pub op: NewOp,
    pub lease: Option<(String, Duration)>,
}

impl Enqueue {
    /// The lease columns the job's upsert offers: the submitter as owner, and when its lease would expire.
    pub(super) fn lease_columns(&self, now: i64) -> (Option<&str>, Option<i64>) {
        match &self.lease {
            Some((owner, ttl)) => (Some(owner.as_str()), Some(now.saturating_add(duration_ms(*ttl)))),
            None => (None, None),
        }
    }

    /// Whether the job's lease owner after the upsert is this enqueue's submitter.
    fn leased_by(&self, lease_owner: Option<&str>) -> bool {
        matches!((&self.lease, lease_owner), (Some((owner, _)), Some(holder)) if owner == holder)
    }
}

/// An operation of a batch to enqueue: its payload sealed, and the id its job gets if the enqueue makes it.
pub(super) struct PreparedEnqueue {
    pub item: Enqueue,
    pub sealed: String,
    pub new_id: String,
}

/// What enqueueing one operation did, as either back end reports it.
pub(super) struct EnqueueStep {
    pub job_id: String,
    pub next_attempt_ms: i64,
    pub attempts: i32,
    /// The job's lease owner after the upsert.
    pub lease_owner: Option<String>,
    pub op_id: i64,
    pub merged: bool,
    /// The create's sent mark was written by this enqueue.
    pub marked: bool,
    /// No operation of the job is older than this one.
    pub alone: bool,
}

impl EnqueueStep {
    fn outcome(self, prepared: &PreparedEnqueue, now: i64) -> Result<(Enqueued, Option<LeasedJob>), StoreError> {
        let item = &prepared.item;
        let fresh = self.job_id == prepared.new_id;
        let attempts = u32::try_from(self.attempts).unwrap_or_default();
        let enqueued_at = from_ms("delivery_ops.enqueued_at_ms", now)?;
        let leased = item.leased_by(self.lease_owner.as_deref()).then(|| LeasedJob {
            id: self.job_id.clone(),
            subject: item.subject.clone(),
            attempts,
            marked_create: self.marked.then_some(self.op_id),
            known_ops: (fresh || self.alone).then(|| {
                vec![JobOp {
                    id: self.op_id,
                    kind: item.op.kind,
                    payload: item.op.payload.clone(),
                    sent_at: self.marked.then_some(enqueued_at),
                    enqueued_at,
                }]
            }),
            fresh,
        });
        let enqueued = Enqueued {
            job_id: self.job_id,
            op_id: self.op_id,
            merged: self.merged,
            next_attempt_at: from_ms("delivery_jobs.next_attempt_at_ms", self.next_attempt_ms)?,
            attempts,
        };
        Ok((enqueued, leased))
    }
}

/// [`Store::enqueue_many`] on SQLite: its statements (`sqlite_batches.rs`), in the batch writer's transaction;
/// `enqueue_delivery_ops` (PostgreSQL's migration 0005) runs the same ones.
fn enqueue_on_sqlite(
    connection: &rusqlite::Connection,
    prepared: &[PreparedEnqueue],
    now: i64,
) -> Result<Vec<(Enqueued, Option<LeasedJob>)>, StoreError> {
    let steps = sqlite_batches::enqueue(connection, prepared, now)?;
    prepared.iter().zip(steps).map(|(prepared, step)| step.outcome(prepared, now)).collect()
}

/// [`Store::enqueue_many`] on PostgreSQL: the batch in one statement, `enqueue_delivery_ops` (migration 0005),
/// which runs the statements of [`enqueue_on_sqlite`] inside the database: one round trip per batch
/// instead of four or five per operation.
pub(super) async fn enqueue_on_postgres(
    pool: &sqlx::PgPool,
    prepared: &[PreparedEnqueue],
    now: i64,
) -> Result<Vec<(Enqueued, Option<LeasedJob>)>, StoreError> {
    let texts = |field: for<'a> fn(&'a PreparedEnqueue) -> &'a str| prepared.iter().map(field).collect::<Vec<_>>();
    let leases: Vec<(Option<&str>, Option<i64>)> = prepared.iter().map(|it| it.item.lease_columns(now)).collect();
    let rows = sqlx::query(
        "SELECT item, job_id, next_attempt_at_ms, attempts, lease_owner, op_id, merged, marked, alone
         FROM enqueue_delivery_ops($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ORDER BY item",
    )
    .bind(now)
    .bind(texts(|it| &it.new_id))
    .bind(texts(|it| &it.item.subject.user_id))
    .bind(texts(|it| &it.item.subject.platform))
    .bind(texts(|it| it.item.subject.kind.as_str()))
    .bind(texts(|it| &it.item.subject.key))
    .bind(leases.iter().map(|(owner, _)| *owner).collect::<Vec<_>>())
    .bind(leases.iter().map(|(_, expires)| *expires).collect::<Vec<_>>())
    .bind(texts(|it| it.item.op.kind.as_str()))
    .bind(texts(|it| &it.sealed))
    .bind(texts(|it| &it.item.op.fingerprint))
    .bind(prepared.iter().map(|it| it.item.op.kind.merges_with_any_pending()).collect::<Vec<_>>())
    .fetch_all(pool)
    .await?;
    if rows.len() != prepared.len() {
        return Err(StoreError::Batch(format!("{} outcomes for {} enqueues", rows.len(), prepared.len())));
    }
    rows.iter()
        .zip(prepared)
        .map(|(row, prepared)| {
            let step = EnqueueStep {
                job_id: row.try_get("job_id")?,
                next_attempt_ms: row.try_get("next_attempt_at_ms")?,
                attempts: row.try_get("attempts")?,
                lease_owner: row.try_get("lease_owner")?,
                op_id: row.try_get("op_id")?,
                merged: row.try_get("merged")?,
                marked: row.try_get("marked")?,
                alone: row.try_get("alone")?,
            };
            step.outcome(prepared, now)
        })
        .collect()
}

/// A finished operation for [`Store::complete_ops`]: the job, its lease holder, the operation, and for a created
/// call log its mapping.
#[derive(Clone, Debug)]
pub struct Completion {
    pub job_id: String,
    pub owner: String,
    pub op_id: i64,
    pub call_log: Option<(CallLogKey, CompletedCallLog)>,
}

/// [`Store::complete_ops`] on SQLite: its statements (`sqlite_batches.rs`), in the batch writer's transaction;
/// `complete_delivery_ops` (PostgreSQL's migration 0005) runs the same ones, each job row locked by a statement of
/// its own first.
fn complete_on_sqlite(
    connection: &rusqlite::Connection,
    completions: &[Completion],
    now: i64,
) -> Result<Vec<Result<bool, StoreError>>, StoreError> {
    Ok(completion_outcomes(completions, sqlite_batches::complete(connection, completions, now)?))
}

/// Each completion's outcome from its job's state after it: whether the job has operations left; none: the lease
/// was lost and nothing changed.
fn completion_outcomes(completions: &[Completion], states: Vec<Option<String>>) -> Vec<Result<bool, StoreError>> {
    completions
        .iter()
        .zip(states)
        .map(|(completion, state)| match state {
            Some(state) => Ok(state != JobState::Idle.as_str()),
            None => Err(StoreError::LeaseLost(completion.job_id.clone())),
        })
        .collect()
}

/// [`Store::complete_ops`] on PostgreSQL: the batch in one statement, `complete_delivery_ops` (migration 0005),
/// which runs the statements of [`complete_on_sqlite`] inside the database: one round trip per batch
/// instead of six per operation.
pub(super) async fn complete_on_postgres(
    pool: &sqlx::PgPool,
    completions: &[Completion],
    now: i64,
) -> Result<Vec<Result<bool, StoreError>>, StoreError> {
    let texts = |field: for<'a> fn(&'a Completion) -> &'a str| completions.iter().map(field).collect::<Vec<_>>();
    let logs = |field: for<'a> fn(&'a (CallLogKey, CompletedCallLog)) -> &'a str| {
        completions.iter().map(|it| it.call_log.as_ref().map(field)).collect::<Vec<_>>()
    };
    let rows: Vec<(i32, Option<String>)> = sqlx::query_as(
        "SELECT item, state FROM complete_delivery_ops($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ORDER BY item",
    )
    .bind(now)
    .bind(texts(|it| &it.job_id))
    .bind(texts(|it| &it.owner))
    .bind(completions.iter().map(|it| it.op_id).collect::<Vec<_>>())
    .bind(logs(|(key, _)| &key.user_id))
    .bind(logs(|(key, _)| &key.session_id))
    .bind(logs(|(key, _)| &key.extension_number))
    .bind(logs(|(key, _)| &key.hashed_extension_id))
    .bind(logs(|(_, logged)| &logged.record_id))
    .bind(logs(|(_, logged)| &logged.platform))
    .bind(logs(|(_, logged)| &logged.contact_id))
    .bind(logs(|(_, logged)| &logged.log_id))
    .fetch_all(pool)
    .await?;
    if rows.len() != completions.len() {
        return Err(StoreError::Batch(format!("{} outcomes for {} completions", rows.len(), completions.len())));
    }
    Ok(completion_outcomes(completions, rows.into_iter().map(|(_, state)| state).collect()))
}

/// What [`Store::complete_op`] records for a created call log.
#[derive(Clone, Debug)]
pub struct CompletedCallLog {
    pub record_id: String,
    pub platform: String,
    pub contact_id: String,
    pub log_id: String,
}
