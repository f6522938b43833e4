//! SQLite's delivery batches: the enqueues and completions of the delivery engine, written by a thread of their
//! own on a connection of their own, many in one transaction.
//!
//! sqlx's SQLite driver runs each connection on a thread of its own and hands it every statement and every result
//! through channels: two thread wake-ups per statement, and a delivery write runs two to four statements between its
//! BEGIN and COMMIT. Here the thread that owns the connection takes the writes from a channel itself: a request's
//! enqueue, or a run's completion, is one wake-up of this thread, and a transaction's answers run in one task of the
//! runtime. What arrives while a transaction commits goes into the next one, enqueues and completions together: one
//! commit and one sync of the file for all of them. Each write runs in a savepoint, so one whose statements fail (a
//! constraint, a value out of range) is rolled back and fails alone; a failed commit fails them all.
//!
//! The statements are the ones PostgreSQL runs in `enqueue_delivery_ops` and `complete_delivery_ops` (its
//! migration 0005), in the same order; the tests run both back ends against the same cases. The thread writes
//! beside sqlx's writer connection: the store's writers take one turn ([`super::SqliteWrites::turn`]) before
//! either, so they never wait on each other inside SQLite.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use super::jobs::{Completion, EnqueueStep, OpKind, PreparedEnqueue, Then};
use super::{SQLITE_BUSY_TIMEOUT, SQLITE_CACHE_KIB, STORE_BATCH_DURATION, StoreError, now_ms};

/// The most writes one transaction holds.
const WRITES_PER_TRANSACTION: usize = 128;

/// How long the thread waits for more writes before a transaction when the last one held several: this much per
/// write the last one held, up to the bound.
const GATHER_PER_WRITE: std::time::Duration = std::time::Duration::from_micros(150);
const GATHER_AT_MOST: std::time::Duration = std::time::Duration::from_millis(2);

/// The store's end of the writer thread's channel.
pub(super) struct BatchWriter(Sender<Message>);

impl std::fmt::Debug for BatchWriter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("BatchWriter")
    }
}

enum Message {
    Write(Box<dyn Write>),
    Connection(WithConnection),
}

/// Work on the thread with the connection (`None` once closed), between two transactions: closing it, tests
/// inspecting it.
type WithConnection = Box<dyn FnOnce(&mut Option<Connection>) + Send>;

/// A write waiting for its transaction: its statements, then its answer.
trait Write: Send {
    /// Runs the write's statements on `connection`, inside the transaction; `now` is the transaction's time.
    fn write(&mut self, connection: &Connection, now: i64) -> Result<(), StoreError>;
    /// Tells the submitter: `Ok` once the transaction committed, else why the write failed.
    fn answer(self: Box<Self>, outcome: Result<(), StoreError>);
}

/// A write of several items in one savepoint, and its submitter's answer.
struct Items<I, O> {
    items: Vec<I>,
    statements: fn(&Connection, &[I], i64) -> Result<O, StoreError>,
    written: Option<O>,
    then: Then<O>,
}

impl<I: Send, O: Send> Write for Items<I, O> {
    fn write(&mut self, connection: &Connection, now: i64) -> Result<(), StoreError> {
        self.written = Some((self.statements)(connection, &self.items, now)?);
        Ok(())
    }

    fn answer(self: Box<Self>, outcome: Result<(), StoreError>) {
        let Items { written, then, .. } = *self;
        then(outcome.and_then(|()| written.ok_or_else(|| StoreError::Batch("the write did not run".to_owned()))));
    }
}

impl BatchWriter {
    /// Opens the database file the pools opened (it exists and is in WAL mode by now) with the writer
    /// connection's settings (every commit synced, the same busy timeout and page cache, foreign keys on) and
    /// starts the thread that writes on it, taking `turn` before each transaction. The thread ends when the writer
    /// is dropped (with the last clone of the store), once it has written what was queued.
    pub(super) fn open(path: &Path, turn: Arc<tokio::sync::Mutex<()>>) -> Result<BatchWriter, StoreError> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "cache_size", -SQLITE_CACHE_KIB)?;
        connection.pragma_update(None, "foreign_keys", true)?;
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread =
            WriterThread { connection: Some(connection), turn, runtime: tokio::runtime::Handle::try_current().ok() };
        std::thread::Builder::new()
            .name("sqlite-batches".to_owned())
            .spawn(move || thread.run(&receiver))
            .map_err(StoreError::Io)?;
        Ok(BatchWriter(sender))
    }

    /// Queues a write of `items`: `statements` runs them in the next transaction, and `then` gets its output.
    pub(super) fn write<I, O>(
        &self,
        items: Vec<I>,
        statements: fn(&Connection, &[I], i64) -> Result<O, StoreError>,
        then: Then<O>,
    ) where
        I: Send + 'static,
        O: Send + 'static,
    {
        let write = Box::new(Items { items, statements, written: None, then });
        if let Err(std::sync::mpsc::SendError(Message::Write(write))) = self.0.send(Message::Write(write)) {
            write.answer(Err(StoreError::Batch("the SQLite batch writer has stopped".to_owned())));
        }
    }

    /// Runs `work` on the writer's thread with its connection, between two transactions, and returns its output.
    async fn with_connection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Option<Connection>) -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, output) = tokio::sync::oneshot::channel();
        let message = Message::Connection(Box::new(move |connection| {
            let _ = reply.send(work(connection));
        }));
        self.0.send(message).ok()?;
        output.await.ok()
    }

    /// Closes the connection once the writes queued before have been written; later writes fail as on a closed
    /// pool.
    pub(super) async fn close(&self) {
        self.with_connection(|connection| drop(connection.take())).await;
    }
}

/// What the writer thread holds: its connection (`None` once closed), the writers' turn, and the runtime its
/// answers run on.
struct WriterThread {
    connection: Option<Connection>,
    turn: Arc<tokio::sync::Mutex<()>>,
    runtime: Option<tokio::runtime::Handle>,
}

impl WriterThread {
    /// Takes what is queued (up to [`WRITES_PER_TRANSACTION`] writes), writes it in one transaction, answers, and
    /// goes again until every sender is gone.
    fn run(mut self, receiver: &Receiver<Message>) {
        let mut writes: Vec<Box<dyn Write>> = Vec::with_capacity(WRITES_PER_TRANSACTION);
        let mut last_transaction = 0;
        while let Ok(first) = receiver.recv() {
            if last_transaction > 1 {
                // Under load, let more writes arrive before the commit: each commit syncs the file, which costs
                // CPU time as well as waiting, and saturated, a thread that commits as soon as anything is queued
                // ends up syncing for few writes at a time. The busier, the longer (up to a bound).
                let writes = u32::try_from(last_transaction).unwrap_or(u32::MAX);
                std::thread::sleep(GATHER_PER_WRITE.saturating_mul(writes).min(GATHER_AT_MOST));
            }
            let mut next = Some(first);
            while let Some(message) = next.take() {
                match message {
                    Message::Write(write) => writes.push(write),
                    Message::Connection(work) => {
                        // In order: the writes queued before it first.
                        self.write_and_answer(&mut writes);
                        let _ = catch_unwind(AssertUnwindSafe(|| work(&mut self.connection)));
                    }
                }
                if writes.len() < WRITES_PER_TRANSACTION {
                    next = receiver.try_recv().ok();
                }
            }
            last_transaction = writes.len();
            self.write_and_answer(&mut writes);
        }
    }

    /// Writes `writes` in one transaction, each in a savepoint of its own, and answers each.
    fn write_and_answer(&mut self, writes: &mut Vec<Box<dyn Write>>) {
        if writes.is_empty() {
            return;
        }
        let outcomes: Vec<Result<(), StoreError>> = match self.connection.as_mut() {
            None => writes.iter().map(|_| Err(sqlx::Error::PoolClosed.into())).collect(),
            Some(connection) => {
                let started = Instant::now();
                let _turn = self.turn.blocking_lock();
                // A panic in a write dropped its transaction, which rolled back: the connection is sound.
                let outcomes = catch_unwind(AssertUnwindSafe(|| write_all(connection, writes)))
                    .unwrap_or_else(|_| Err(StoreError::Batch("a SQLite batch panicked".to_owned())))
                    .unwrap_or_else(|error| {
                        let text = error.to_string();
                        writes.iter().map(|_| Err(StoreError::Batch(text.clone()))).collect()
                    });
                metrics::histogram!(STORE_BATCH_DURATION, "backend" => "sqlite").record(started.elapsed());
                outcomes
            }
        };
        let answers: Vec<_> = writes.drain(..).zip(outcomes).collect();
        match &self.runtime {
            // One task of the runtime answers the transaction's writes: one wake-up of a worker per transaction, and
            // what the answers start (the runs of the jobs the enqueues leased, the tasks they wake) is scheduled
            // from that worker, not pushed across threads one by one. The thread goes on to the next transaction.
            Some(runtime) => drop(runtime.spawn(async move { answer(answers) })),
            None => answer(answers),
        }
    }
}

/// Gives each write its outcome.
fn answer(answers: Vec<(Box<dyn Write>, Result<(), StoreError>)>) {
    for (write, outcome) in answers {
        // One answer that panics must not keep the others from theirs.
        let _ = catch_unwind(AssertUnwindSafe(|| write.answer(outcome)));
    }
}

/// The transaction: `BEGIN IMMEDIATE`, each write in a savepoint (one that fails is rolled back alone and fails
/// alone), `COMMIT`. Returns each write's outcome; an error fails them all.
fn write_all(
    connection: &mut Connection,
    writes: &mut [Box<dyn Write>],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let now = now_ms();
    let mut tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let [write] = writes {
        // Alone in its transaction: a failure rolls the transaction back, without a savepoint's two statements.
        write.write(&tx, now)?;
        tx.commit()?;
        return Ok(vec![Ok(())]);
    }
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes.iter_mut() {
        let savepoint = tx.savepoint()?;
        match write.write(&savepoint, now) {
            Ok(()) => {
                savepoint.commit()?;
                outcomes.push(Ok(()));
            }
            // Dropping the savepoint rolls its statements back.
            Err(error) => outcomes.push(Err(error)),
        }
    }
    tx.commit()?;
    Ok(outcomes)
}

/// [`super::Store::enqueue_many`]'s statements, in the transaction `tx`.
pub(super) fn enqueue(tx: &Connection, batch: &[PreparedEnqueue], now: i64) -> Result<Vec<EnqueueStep>, StoreError> {
    let mut steps = Vec::with_capacity(batch.len());
    for PreparedEnqueue { item, sealed, new_id } in batch {
        let (offered_owner, lease_expires_ms) = item.lease_columns(now);
        let (subject, op) = (&item.subject, &item.op);
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
                    new_id,
                    subject.user_id,
                    subject.platform,
                    subject.kind.as_str(),
                    subject.key,
                    now,
                    offered_owner,
                    lease_expires_ms
                ],
                |row| Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?, row.get::<_, Option<String>>(3)?)),
            )?;
        // A job made just now has no operation to merge with.
        let merge_with: Option<i64> = if job_id == *new_id {
            None
        } else if op.kind.merges_with_any_pending() {
            tx.prepare_cached("SELECT id FROM delivery_ops WHERE job_id = ?1 AND op = ?2 ORDER BY id LIMIT 1")?
                .query_row(params![job_id, op.kind.as_str()], |row| row.get(0))
                .optional()?
        } else {
            tx.prepare_cached(
                "SELECT id FROM delivery_ops WHERE job_id = ?1 AND op = ?2 AND fingerprint = ?3
                     AND id = (SELECT MAX(id) FROM delivery_ops WHERE job_id = ?1)",
            )?
            .query_row(params![job_id, op.kind.as_str(), op.fingerprint], |row| row.get(0))
            .optional()?
        };
        // A call's create is about to be sent by the lease holder: it is marked sent in this commit rather than in
        // one more. A mark already there is an earlier attempt's, whose outcome is unknown: it stays, and the run
        // reconciles before creating.
        let leased = offered_owner.is_some() && offered_owner == lease_owner.as_deref();
        let mark_sent = leased && op.kind == OpKind::CreateCall;
        let (op_id, merged, marked, alone) = match merge_with {
            Some(op_id) => {
                // The newer request is the more complete one (a create repeated with the final call data).
                tx.prepare_cached("UPDATE delivery_ops SET payload = ?2, fingerprint = ?3 WHERE id = ?1")?
                    .execute(params![op_id, sealed, op.fingerprint])?;
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
                    .query_row(params![job_id, op.kind.as_str(), sealed, op.fingerprint, now, mark_sent], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?;
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
    tx: &Connection,
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

#[cfg(test)]
impl BatchWriter {
    pub(super) async fn cache_size(&self) -> Option<i64> {
        self.with_connection(|connection| {
            connection.as_ref()?.pragma_query_value(None, "cache_size", |row| row.get(0)).ok()
        })
        .await
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer on a fresh file with a table `t (x)`; the folder goes with the test.
    fn writer() -> (tempfile::TempDir, std::path::PathBuf, BatchWriter) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("batches.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)")
            .unwrap();
        let writer = BatchWriter::open(&path, Arc::default()).unwrap();
        (dir, path, writer)
    }

    fn insert(connection: &Connection, items: &[i64], _now: i64) -> Result<usize, StoreError> {
        for x in items {
            connection.execute("INSERT INTO t (x) VALUES (?1)", [x])?;
        }
        Ok(items.len())
    }

    /// Inserts, then fails: its insert must not stay.
    fn insert_then_fail(connection: &Connection, items: &[i64], now: i64) -> Result<usize, StoreError> {
        insert(connection, items, now)?;
        connection.execute("INSERT INTO missing_table (x) VALUES (1)", [])?;
        Ok(0)
    }

    fn insert_then_panic(connection: &Connection, items: &[i64], now: i64) -> Result<usize, StoreError> {
        insert(connection, items, now)?;
        panic!("a write that panics");
    }

    fn rows(path: &Path) -> Vec<i64> {
        let connection = Connection::open(path).unwrap();
        let mut statement = connection.prepare("SELECT x FROM t ORDER BY x").unwrap();
        statement.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// Holds the writer's thread until the returned sender is dropped, so that what is written meanwhile queues up
    /// and goes into one transaction.
    fn hold(writer: &BatchWriter) -> std::sync::mpsc::Sender<()> {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let work: WithConnection = Box::new(move |_| {
            let _ = held.recv();
        });
        writer.0.send(Message::Connection(work)).unwrap();
        release
    }

    fn submit(
        writer: &BatchWriter,
        items: Vec<i64>,
        statements: fn(&Connection, &[i64], i64) -> Result<usize, StoreError>,
    ) -> tokio::sync::oneshot::Receiver<Result<usize, StoreError>> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        writer.write(
            items,
            statements,
            Box::new(move |it| {
                let _ = reply.send(it);
            }),
        );
        outcome
    }

    /// Writes queued together share one transaction, each in a savepoint: one that fails is rolled back and fails
    /// alone, the others commit.
    #[tokio::test]
    async fn a_write_that_fails_in_a_shared_transaction_fails_alone() {
        let (_dir, path, writer) = writer();
        let release = hold(&writer);
        let first = submit(&writer, vec![1, 2], insert);
        let failing = submit(&writer, vec![3], insert_then_fail);
        let last = submit(&writer, vec![4], insert);
        drop(release);
        assert_eq!(first.await.unwrap().unwrap(), 2);
        let error = failing.await.unwrap().unwrap_err();
        assert!(error.to_string().contains("missing_table"), "{error}");
        assert_eq!(last.await.unwrap().unwrap(), 1);
        assert_eq!(rows(&path), [1, 2, 4]);
    }

    /// A write that panics fails its transaction's writes and writes nothing; the thread goes on with the next.
    #[tokio::test]
    async fn a_write_that_panics_fails_its_transaction_and_the_thread_goes_on() {
        let (_dir, path, writer) = writer();
        let release = hold(&writer);
        let before = submit(&writer, vec![1], insert);
        let panicking = submit(&writer, vec![2], insert_then_panic);
        drop(release);
        for outcome in [before.await.unwrap(), panicking.await.unwrap()] {
            let error = outcome.unwrap_err();
            assert!(error.to_string().contains("panicked"), "{error}");
        }
        assert_eq!(submit(&writer, vec![5], insert).await.unwrap().unwrap(), 1);
        assert_eq!(rows(&path), [5]);
    }

    /// Once closed, writes fail as on a closed pool, and nothing is written.
    #[tokio::test]
    async fn writes_after_close_fail_as_on_a_closed_pool() {
        let (_dir, path, writer) = writer();
        writer.close().await;
        let outcome = submit(&writer, vec![1], insert).await.unwrap();
        assert!(matches!(outcome, Err(StoreError::Database(sqlx::Error::PoolClosed))), "{outcome:?}");
        assert!(rows(&path).is_empty());
    }
}
