//! PostgreSQL's delivery batches: one task of the store's for enqueues and one for completions, each writing what
//! was submitted while its previous batch ran in one statement (`enqueue_delivery_ops` and `complete_delivery_ops`,
//! migration 0005). Under load many requests share one round trip and one commit; alone, a write goes at once.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::jobs::{
    Completion, Enqueued, JobSubject, LeasedJob, PreparedEnqueue, Then, complete_on_postgres, enqueue_on_postgres,
};
use super::{ClockOffset, STORE_BATCH_DURATION, StoreError};

/// The most operations one statement enqueues, and the most it completes.
const ENQUEUE_BATCH: usize = 64;
const COMPLETION_BATCH: usize = 64;

type EnqueueRequest = (PreparedEnqueue, Then<(Enqueued, Option<LeasedJob>)>);
type CompletionRequest = (JobSubject, Completion, Then<bool>);

/// The two writer tasks, started at the first write; each ends when the last clone of the store is gone.
#[derive(Debug, Default)]
pub(super) struct PostgresBatches {
    enqueues: OnceLock<mpsc::UnboundedSender<EnqueueRequest>>,
    completions: OnceLock<mpsc::UnboundedSender<CompletionRequest>>,
}

impl PostgresBatches {
    pub(super) fn enqueue(
        &self,
        pool: &PgPool,
        clock: &Arc<ClockOffset>,
        item: PreparedEnqueue,
        then: Then<(Enqueued, Option<LeasedJob>)>,
    ) {
        let writer = self.enqueues.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(write_enqueues(pool.clone(), Arc::clone(clock), receiver));
            sender
        });
        if let Err(mpsc::error::SendError((_, then))) = writer.send((item, then)) {
            then(Err(stopped()));
        }
    }

    pub(super) fn complete(
        &self,
        pool: &PgPool,
        clock: &Arc<ClockOffset>,
        subject: JobSubject,
        completion: Completion,
        then: Then<bool>,
    ) {
        let writer = self.completions.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(write_completions(pool.clone(), Arc::clone(clock), receiver));
            sender
        });
        if let Err(mpsc::error::SendError((_, _, then))) = writer.send((subject, completion, then)) {
            then(Err(stopped()));
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Batch("the PostgreSQL batch writer has stopped".to_owned())
}

/// The enqueue writer: takes whatever operations are waiting (up to [`ENQUEUE_BATCH`]), adds them in one
/// statement, answers each, and goes again.
async fn write_enqueues(pool: PgPool, clock: Arc<ClockOffset>, mut receiver: mpsc::UnboundedReceiver<EnqueueRequest>) {
    let mut batch = Vec::with_capacity(ENQUEUE_BATCH);
    while receiver.recv_many(&mut batch, ENQUEUE_BATCH).await > 0 {
        // The one lock order of job rows (stable: one subject's operations keep theirs).
        batch.sort_by(|(a, _), (b, _)| a.item.subject.lock_order().cmp(&b.item.subject.lock_order()));
        let (items, thens): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        let started = Instant::now();
        let outcomes = match clock.now_ms(&pool).await {
            Ok(now) => enqueue_on_postgres(&pool, &items, now).await,
            Err(error) => Err(error),
        };
        record_duration(started);
        answer(thens, outcomes.map(|it| it.into_iter().map(Ok).collect()));
    }
}

/// The completion writer: takes whatever completions are waiting (up to [`COMPLETION_BATCH`]), records them in one
/// statement, answers each, and goes again.
async fn write_completions(
    pool: PgPool,
    clock: Arc<ClockOffset>,
    mut receiver: mpsc::UnboundedReceiver<CompletionRequest>,
) {
    let mut batch = Vec::with_capacity(COMPLETION_BATCH);
    while receiver.recv_many(&mut batch, COMPLETION_BATCH).await > 0 {
        // The one lock order of job rows, the enqueue writers' too (a completion batch sorted by job id deadlocked
        // against another instance's enqueue batch).
        batch.sort_by(|(a, ..), (b, ..)| a.lock_order().cmp(&b.lock_order()));
        let (completions, thens): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|(_, completion, then)| (completion, then)).unzip();
        let started = Instant::now();
        let outcomes = match clock.now_ms(&pool).await {
            Ok(now) => complete_on_postgres(&pool, &completions, now).await,
            Err(error) => Err(error),
        };
        record_duration(started);
        answer(thens, outcomes);
    }
}

/// Records how long a batch's statement took (its clock reading included).
fn record_duration(started: Instant) {
    metrics::histogram!(STORE_BATCH_DURATION, "backend" => "postgres").record(started.elapsed());
}

/// Gives each submitter its outcome, or the batch's failure.
fn answer<T>(thens: Vec<Then<T>>, outcomes: Result<Vec<Result<T, StoreError>>, StoreError>) {
    match outcomes {
        Ok(outcomes) => {
            for (then, outcome) in thens.into_iter().zip(outcomes) {
                then(outcome);
            }
        }
        Err(error) => {
            let text = error.to_string();
            for then in thens {
                then(Err(StoreError::Batch(text.clone())));
            }
        }
    }
}
