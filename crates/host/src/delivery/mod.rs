//! The delivery engine: every accepted create, update, disposition and message log reaches the CRM exactly once,
//! through crashes, timeouts and CRM outages.
//!
//! A request validates, then [`submit`]s its operation: the operation is written to its session's job in the
//! store first ([`crate::store::JobSubject`]), then attempted at once by a task detached from the request, which
//! waits a bounded time for the outcome (so the happy path answers as it always did). Whatever happens next, the
//! job survives and a worker of any instance finishes it ([`spawn_worker`]). One runner holds a job's lease at
//! a time and applies its operations in order, so the edits of one call never race.
//!
//! - A temporary failure (CRM unreachable, 429, 5xx, timeout) backs off, honouring `Retry-After`, and tries again
//!   until the oldest pending operation is older than the maximum age (24 h by default); then the job fails.
//! - A permanent failure (401, 403, 404, 422 ...) fails the job at once with the reference's message, which the
//!   next read of the session shows. A new request for the session, or `callbridge jobs retry`, revives it.
//! - A create whose outcome is unknown (the write may have reached the CRM: timeout, reset, 5xx, a crash
//!   mid-request) is marked before it is sent; the next attempt asks the connector for the record it made
//!   ([`callbridge_core::Operation::FindCreatedRecord`]) before creating again. A connector that cannot look
//!   fails the job instead: an operator checks the CRM and retries. Nothing is ever created blindly twice.

mod call;
mod leases;
mod message;
pub mod outcome;
mod preview;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callbridge_core::{Operation, ReturnMessage, User};
use chrono::Utc;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use call::{CallCreatePayload, CallEditPayload, CallIdentity, DispositionPayload, record_key};
pub use message::{MessageLogPayload, log_contact};
pub use outcome::{AttemptFailure, Delivered, DeliveryOutcome, Refusal};
pub use preview::queued_call_details;

use crate::state::AppState;
use crate::store::{
    CallLogKey, CallLogRow, CompletedCallLog, Completion, Enqueue, Enqueued, JobOp, JobState, JobSubject, LeasedJob,
    NewOp, OpKind, StoreError, backing_off,
};

pub const DELIVERY_JOBS: &str = "callbridge_delivery_jobs";
pub const DELIVERY_OPERATIONS: &str = "callbridge_delivery_operations_total";
pub const DELIVERY_LATENCY: &str = "callbridge_delivery_latency_seconds";

/// The engine's timings; tests shorten them.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// An operation still pending this long after it was accepted fails (`CALLBRIDGE_DELIVERY_MAX_AGE_SECS`).
    pub max_age: Duration,
    /// A runner's lease on a job; renewed while it works, taken over when its instance died.
    pub lease_ttl: Duration,
    /// How long a request waits for its immediate attempt before answering "saved, will be logged".
    pub immediate_wait: Duration,
    /// How often an idle worker looks for due jobs, and a waiting request for its operation.
    pub poll_interval: Duration,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Jobs one instance's worker runs at the same time.
    pub concurrency: usize,
    /// A job with nothing left to do is deleted this long after its last change
    /// (`CALLBRIDGE_DELIVERY_RETENTION_SECS`).
    pub idle_retention: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(24 * 3600),
            // Longer than one CRM call with its retry budget; renewed once a third of it has passed (`leases.rs`).
            lease_ttl: Duration::from_secs(60),
            immediate_wait: Duration::from_secs(25),
            poll_interval: Duration::from_millis(500),
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            concurrency: 8,
            // Kept a while for an operator looking into a delivery; the call and message mappings say what is logged.
            idle_retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What became of an enqueue: the operation in its job, the receiver its outcome will be sent to, and whether the
/// enqueue leased the job (its run has then started).
struct Enqueuing {
    enqueued: Enqueued,
    receiver: oneshot::Receiver<DeliveryOutcome>,
    leased: bool,
}

/// The engine's in-process parts: requests waiting for their operations, the tasks to wait for at shutdown, and
/// the leases its runs hold.
#[derive(Default)]
pub struct Engine {
    waiters: Mutex<HashMap<i64, Vec<oneshot::Sender<DeliveryOutcome>>>>,
    tasks: TaskTracker,
    leases: leases::HeldLeases,
}

/// How many times a delivered operation's recording is tried, and the pause before the second try (doubling).
const RECORD_ATTEMPTS: u32 = 3;
const RECORD_RETRY_PAUSE: Duration = Duration::from_millis(50);

impl Engine {
    fn wait_for(&self, op_id: i64) -> oneshot::Receiver<DeliveryOutcome> {
        let (sender, receiver) = oneshot::channel();
        self.waiters.lock().unwrap_or_else(|it| it.into_inner()).entry(op_id).or_default().push(sender);
        receiver
    }

    fn notify(&self, op_id: i64, outcome: &DeliveryOutcome) {
        let senders = self.waiters.lock().unwrap_or_else(|it| it.into_inner()).remove(&op_id);
        for sender in senders.into_iter().flatten() {
            // A request that stopped waiting has dropped its receiver; nothing to tell it.
            let _ = sender.send(outcome.clone());
        }
    }

    /// Forgets the waiters of an operation whose requests have all given up.
    fn forget(&self, op_id: i64) {
        let mut waiters = self.waiters.lock().unwrap_or_else(|it| it.into_inner());
        if let Some(senders) = waiters.get_mut(&op_id) {
            senders.retain(|it| !it.is_closed());
            if senders.is_empty() {
                waiters.remove(&op_id);
            }
        }
    }

    /// The runs and workers in flight, for graceful shutdown.
    pub fn tasks(&self) -> &TaskTracker {
        &self.tasks
    }
}

/// Adds an operation to its job ([`Store::enqueue_batched`]: under load one commit for many requests). Once
/// the batch has committed, the callback handed to the store registers the operation's waiter and starts the run of
/// a job the enqueue leased, whether or not the request still waits: a request that goes away meanwhile leaves no
/// lease behind without its run.
async fn enqueue(state: &AppState, item: Enqueue, reads: Option<RequestReads>) -> Result<Enqueuing, StoreError> {
    let (reply, outcome) = oneshot::channel();
    let owner = item.lease.as_ref().map(|(owner, _)| owner.clone());
    let for_run = state.clone();
    state.store.enqueue_batched(
        item,
        Box::new(move |enqueued| {
            let enqueuing = enqueued.map(|(enqueued, leased)| {
                let receiver = for_run.engine.wait_for(enqueued.op_id);
                let was_leased = leased.is_some();
                if let (Some(job), Some(owner)) = (leased, owner) {
                    spawn_run(&for_run, job, owner, reads);
                }
                Enqueuing { enqueued, receiver, leased: was_leased }
            });
            // A request that went away has nobody to tell; its run goes on.
            let _ = reply.send(enqueuing);
        }),
    );
    outcome.await.unwrap_or_else(|_| Err(StoreError::Batch("the enqueue was dropped unanswered".to_owned())))
}

/// Records a finished operation ([`Store::complete_batched`]: under load one commit for many completions). Once it
/// is recorded, the callback tells the requests waiting for the operation `outcome` at once, without waiting for
/// the run's task to come round.
async fn complete(
    state: &AppState,
    subject: &JobSubject,
    completion: Completion,
    outcome: &DeliveryOutcome,
) -> Result<bool, StoreError> {
    let (reply, recorded) = oneshot::channel();
    let (for_waiters, op_id, outcome) = (state.clone(), completion.op_id, outcome.clone());
    state.store.complete_batched(
        subject,
        completion,
        Box::new(move |result| {
            if result.is_ok() {
                for_waiters.engine.notify(op_id, &outcome);
            }
            // A run that is gone has nobody to tell.
            let _ = reply.send(result);
        }),
    );
    recorded.await.unwrap_or_else(|_| Err(StoreError::Batch("the completion was dropped unanswered".to_owned())))
}

/// What the submitting request read of its subject just before the enqueue. The run uses it for the request's
/// own operation when the enqueue leased the job and that operation is the only one, instead of reading it again.
pub struct RequestReads {
    pub user: User,
    /// The call's logged row, as the request's identity matched it (updates and dispositions).
    pub logged: Option<CallLogRow>,
}

/// Records a delivered operation and tells its waiting requests `outcome`, trying again after a database failure (a
/// deadlock, a dropped connection): the CRM already has the write, and until it is recorded the job stays leased, its
/// request is answered as queued, and the next attempt would look for the record (a create) or send the write again (an
/// update). Trying a completion again that did commit changes nothing: its operation is gone, and with the job's last
/// operation its lease too ([`StoreError::LeaseLost`]).
async fn record_delivered(
    state: &AppState,
    subject: &JobSubject,
    completion: Completion,
    outcome: &DeliveryOutcome,
) -> Result<bool, StoreError> {
    let mut pause = RECORD_RETRY_PAUSE;
    for _ in 1..RECORD_ATTEMPTS {
        match complete(state, subject, completion.clone(), outcome).await {
            Err(error) if !matches!(error, StoreError::LeaseLost(_)) => {
                tracing::warn!(%error, job = completion.job_id, "Recording a delivered operation failed; trying again.");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            result => return result,
        }
    }
    complete(state, subject, completion, outcome).await
}

/// Writes the operation to its job, attempts it at once and waits (a bounded time) for what became of it.
pub async fn submit(
    state: &AppState,
    subject: &JobSubject,
    op: NewOp,
    reads: Option<RequestReads>,
) -> Result<(Enqueued, DeliveryOutcome), StoreError> {
    let lease = Some((lease_owner(state), state.tunables.delivery.lease_ttl));
    let item = Enqueue { subject: subject.clone(), op, lease };
    let Enqueuing { enqueued, mut receiver, leased } = enqueue(state, item, reads).await?;
    let engine = &state.engine;
    if leased {
        // Leased with the enqueue, and its run started when the enqueue committed: a client hanging up cannot
        // interrupt the run, which has a task of its own.
    } else if backing_off(enqueued.attempts, enqueued.next_attempt_at, state.store.shared_now().await?) {
        // The job is backing off from a CRM that is down: the worker tries again when it is due.
        engine.forget(enqueued.op_id);
        return Ok((enqueued, DeliveryOutcome::Queued));
    } else {
        // A live runner holds the job and will come to this operation; if it has just let go, lease it here.
        start_run(state, &enqueued.job_id);
    }
    let settings = &state.tunables.delivery;
    let deadline = Instant::now() + settings.immediate_wait;
    // Checks the store too: another instance may be the one running the job.
    let poll = settings.poll_interval.min(Duration::from_millis(100));
    let outcome = loop {
        tokio::select! {
            outcome = &mut receiver => break outcome.unwrap_or(DeliveryOutcome::Queued),
            () = tokio::time::sleep(poll) => {}
        }
        if Instant::now() >= deadline {
            break DeliveryOutcome::Queued;
        }
        if let Some(outcome) = observe(state, subject, enqueued.op_id).await? {
            // This process may have finished it in the meantime: its own answer is the richer one.
            break receiver.try_recv().unwrap_or(outcome);
        }
    };
    engine.forget(enqueued.op_id);
    Ok((enqueued, outcome))
}

/// What the store says of a pending operation of `subject`'s job: `None` while it is still to be run now.
async fn observe(state: &AppState, subject: &JobSubject, op_id: i64) -> Result<Option<DeliveryOutcome>, StoreError> {
    if !state.store.op_pending(op_id).await? {
        return Ok(Some(DeliveryOutcome::DeliveredElsewhere));
    }
    let Some(job) = state.store.job_for(subject).await? else { return Ok(Some(DeliveryOutcome::Queued)) };
    if job.state == JobState::Failed {
        return Ok(Some(DeliveryOutcome::Refused(stored_refusal(job.last_message.as_deref()))));
    }
    // The job's times are the store's shared clock's: compare them with that clock, not this machine's.
    if backing_off(job.attempts, job.next_attempt_at, state.store.shared_now().await?) {
        return Ok(Some(DeliveryOutcome::Queued));
    }
    // Due and maybe unleased (its runner finished just before this operation arrived): run it.
    start_run(state, &job.id);
    Ok(None)
}

/// The refusal a failed job stored for the user.
pub fn stored_refusal(stored: Option<&str>) -> Refusal {
    stored.and_then(|it| serde_json::from_str(it).ok()).unwrap_or_else(|| Refusal::Message {
        message: ReturnMessage::warning("This log could not be saved to the CRM.", 5000),
    })
}

/// Runs the job in a task of its own if its lease is free: a client hanging up cannot interrupt a CRM write.
fn start_run(state: &AppState, job_id: &str) {
    let (state, job_id) = (state.clone(), job_id.to_owned());
    state.engine.tasks.clone().spawn(async move {
        let owner = lease_owner(&state);
        match state.store.lease_job(&job_id, &owner, state.tunables.delivery.lease_ttl).await {
            Ok(Some(job)) => run_leased(&state, job, &owner, None).await,
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "Leasing a delivery job failed."),
        }
    });
}

/// Runs a job `owner` already leased in a task of its own, tracked for graceful shutdown.
fn spawn_run(state: &AppState, job: LeasedJob, owner: String, reads: Option<RequestReads>) {
    let state = state.clone();
    state.engine.tasks.clone().spawn(async move { run_leased(&state, job, &owner, reads).await });
}

/// A lease holder's name: this instance and one run, so a run can tell its lease from a later one's.
fn lease_owner(state: &AppState) -> String {
    format!("{}/{}", state.instance_id, uuid::Uuid::new_v4().simple())
}

/// How often a worker deletes the jobs past their retention.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Starts the worker that finishes queued jobs until `shutdown` is cancelled; in-flight runs are tracked by the
/// engine's task tracker, which graceful shutdown waits for.
pub fn spawn_worker(state: &AppState, shutdown: CancellationToken) {
    let state = state.clone();
    let tasks = state.engine.tasks.clone();
    tasks.spawn(async move {
        let settings = state.tunables.delivery.clone();
        let slots = Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1)));
        let mut last_gauge = Instant::now() - Duration::from_secs(3600);
        let mut last_purge = Instant::now() - PURGE_EVERY;
        loop {
            if last_gauge.elapsed() >= Duration::from_secs(5) {
                record_job_gauges(&state).await;
                last_gauge = Instant::now();
            }
            if last_purge.elapsed() >= PURGE_EVERY {
                match state.store.purge_idle_jobs(settings.idle_retention).await {
                    Ok(purged) if purged > 0 => tracing::debug!(purged, "Deleted finished delivery jobs."),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "Deleting finished delivery jobs failed."),
                }
                last_purge = Instant::now();
            }
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot,
                () = shutdown.cancelled() => break,
            };
            let Ok(slot) = slot else { break };
            let owner = lease_owner(&state);
            match state.store.lease_due_job(&owner, settings.lease_ttl).await {
                Ok(Some(job)) => {
                    let state = state.clone();
                    state.engine.tasks.clone().spawn(async move {
                        run_leased(&state, job, &owner, None).await;
                        drop(slot);
                    });
                    continue;
                }
                Ok(None) => drop(slot),
                Err(error) => {
                    drop(slot);
                    tracing::warn!(%error, "Looking for due delivery jobs failed.");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(settings.poll_interval) => {}
                () = shutdown.cancelled() => break,
            }
        }
        tracing::info!("Delivery worker stopped; unfinished jobs stay queued for the next start.");
    });
}

async fn record_job_gauges(state: &AppState) {
    match state.store.job_counts().await {
        Ok(counts) => {
            for known in [JobState::Queued, JobState::Failed] {
                let count = counts.iter().find(|(state, _)| state == known.as_str()).map_or(0, |(_, count)| *count);
                metrics::gauge!(DELIVERY_JOBS, "state" => known.as_str()).set(count as f64);
            }
        }
        Err(error) => tracing::warn!(%error, "Counting delivery jobs failed."),
    }
}

/// What applying an operation changes besides removing it.
pub(crate) struct Applied {
    pub delivered: Delivered,
    /// A created call log's mapping, recorded with the operation's removal.
    pub call_log: Option<(CallLogKey, CompletedCallLog)>,
}

/// Applies the leased job's operations in order until none is left or one fails. `reads` are the submitting
/// request's, good for the first operation when the enqueue knew it to be the only one.
async fn run_leased(state: &AppState, mut job: LeasedJob, owner: &str, reads: Option<RequestReads>) {
    let _lease = state.engine.leases.hold(state, &job.id, owner);
    let store = &state.store;
    let mut reads = reads.filter(|_| job.known_ops.is_some());
    loop {
        let read = match job.known_ops.take() {
            Some(ops) => Ok(ops),
            None => store.job_ops(&job).await,
        };
        let ops = match read {
            Ok(ops) => ops,
            Err(error) => {
                tracing::warn!(%error, job = job.id, "Reading a delivery job failed.");
                let retry_at = Utc::now() + chrono::Duration::from_std(backoff(state, 1)).unwrap_or_default();
                let _ = store.defer_job(&job.id, owner, retry_at, &error.to_string()).await;
                return;
            }
        };
        let Some(op) = ops.first() else {
            if let Err(error) = store.release_job(&job.id, owner).await {
                tracing::warn!(%error, "Releasing a delivery job failed; its lease will expire.");
            }
            return;
        };
        let settings = &state.tunables.delivery;
        let age = (Utc::now() - op.enqueued_at).to_std().unwrap_or_default();
        let result = if age > settings.max_age {
            Err(gave_up(state, &job, age))
        } else {
            apply(state, &job, op, reads.take()).await
        };
        match result {
            Ok(applied) => {
                let completion = Completion {
                    job_id: job.id.clone(),
                    owner: owner.to_owned(),
                    op_id: op.id,
                    call_log: applied.call_log,
                };
                let delivered = DeliveryOutcome::Delivered(applied.delivered);
                let more = match record_delivered(state, &job.subject, completion, &delivered).await {
                    Ok(more) => more,
                    Err(StoreError::LeaseLost(_)) => return,
                    Err(error) => {
                        // Applied in the CRM but not recorded: the next attempt, when the lease has expired, finds
                        // it (creates) or repeats an idempotent write.
                        tracing::error!(%error, job = job.id, "Recording a delivered operation failed.");
                        return;
                    }
                };
                count(op.kind, "delivered");
                metrics::histogram!(DELIVERY_LATENCY, "op" => op.kind.as_str()).record(age.as_secs_f64());
                if !more {
                    // The completion gave the lease up with the last operation.
                    return;
                }
                job.attempts = 0;
            }
            Err(AttemptFailure::Temporary { error, retry_after }) => {
                let wait = backoff(state, job.attempts + 1).max(retry_after.unwrap_or_default());
                let retry_at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::warn!(
                    job = job.id,
                    op = op.kind.as_str(),
                    error,
                    retry_in_ms = wait.as_millis() as u64,
                    "Delivery attempt failed; will retry."
                );
                if let Err(error) = store.defer_job(&job.id, owner, retry_at, &error).await {
                    tracing::warn!(%error, "Deferring a delivery job failed; its lease will expire.");
                }
                count(op.kind, "retried");
                notify_all(state, &ops, &DeliveryOutcome::Queued);
                return;
            }
            Err(AttemptFailure::Permanent { error, refusal }) => {
                tracing::warn!(job = job.id, op = op.kind.as_str(), error, "Delivery failed; the job stops.");
                let message = serde_json::to_string(&refusal).unwrap_or_default();
                if let Err(error) = store.fail_job(&job.id, owner, &error, &message).await {
                    tracing::warn!(%error, "Marking a delivery job failed did not work; its lease will expire.");
                }
                count(op.kind, "failed");
                notify_all(state, &ops, &DeliveryOutcome::Refused(refusal));
                return;
            }
        }
    }
}

fn notify_all(state: &AppState, ops: &[JobOp], outcome: &DeliveryOutcome) {
    for op in ops {
        state.engine.notify(op.id, outcome);
    }
}

fn count(op: OpKind, outcome: &'static str) {
    metrics::counter!(DELIVERY_OPERATIONS, "op" => op.as_str(), "outcome" => outcome).increment(1);
}

/// The failure of an operation that stayed undeliverable past the maximum age.
fn gave_up(state: &AppState, job: &LeasedJob, age: Duration) -> AttemptFailure {
    let display = state.connector(&job.subject.platform).map_or(job.subject.platform.as_str(), |it| &it.display_name);
    let hours = age.as_secs() / 3600;
    AttemptFailure::refused(
        format!("gave up after {}s", age.as_secs()),
        ReturnMessage::warning(
            format!("{display} could not be reached for {hours} hours; this log was not saved. Please log it again."),
            5000,
        ),
    )
}

/// The wait before attempt `attempt + 1`: exponential from the initial backoff, capped, with equal jitter.
fn backoff(state: &AppState, attempt: u32) -> Duration {
    use rand::Rng as _;
    let settings = &state.tunables.delivery;
    let exponent = attempt.saturating_sub(1).min(20);
    let full = settings.initial_backoff.saturating_mul(1 << exponent).min(settings.max_backoff);
    let half = full / 2;
    half + half.mul_f64(rand::rng().random::<f64>())
}

/// Applies one operation; `reads`, when given, are the submitting request's reads for it.
async fn apply(
    state: &AppState,
    job: &LeasedJob,
    op: &JobOp,
    reads: Option<RequestReads>,
) -> Result<Applied, AttemptFailure> {
    let entry = state
        .connector(&job.subject.platform)
        .ok_or_else(|| AttemptFailure::refused("unknown platform", ReturnMessage::warning("Unknown platform", 5000)))?;
    let from_request = reads.is_some();
    let (user, logged) = match reads {
        Some(RequestReads { user, logged }) => (Some(user), logged),
        None => (state.store.user(&job.subject.user_id).await?, None),
    };
    let user = match user {
        Some(user) if user.platform == entry.connector.name() && !user.access_token.is_empty() => user,
        _ => return Err(AttemptFailure::refused("user not found", ReturnMessage::warning("User not found", 5000))),
    };
    // The request found the session unlogged and its enqueue made the session's job: nobody logged it in between.
    let known_unlogged = from_request && job.fresh;
    let parse = |operation: Operation| {
        move |error: serde_json::Error| {
            AttemptFailure::refused(
                format!("unreadable {} payload: {error}", operation.interface_name()),
                ReturnMessage::warning("This log could not be read back; please log it again.", 5000),
            )
        }
    };
    match op.kind {
        OpKind::CreateCall => {
            let payload = serde_json::from_str(&op.payload).map_err(parse(Operation::CreateCallLog))?;
            call::create(state, entry, user, op, job.marked_create == Some(op.id), known_unlogged, payload).await
        }
        OpKind::UpdateCall => {
            let payload = serde_json::from_str(&op.payload).map_err(parse(Operation::UpdateCallLog))?;
            call::update(state, entry, user, logged, payload).await
        }
        OpKind::Disposition => {
            let payload = serde_json::from_str(&op.payload).map_err(parse(Operation::UpsertCallDisposition))?;
            call::disposition(state, entry, user, logged, payload).await
        }
        OpKind::MessageLog => {
            let payload = serde_json::from_str(&op.payload).map_err(parse(Operation::CreateMessageLog))?;
            message::log(state, entry, user, op, payload).await
        }
    }
}
