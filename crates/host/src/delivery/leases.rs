//! The job leases this instance's runs hold, kept alive by one task for the whole instance: a run registers its
//! lease and drops the registration when it ends, instead of starting (and aborting) a renewal task of its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::state::AppState;

/// The leases held by this instance's runs, and whether their renewer has started.
#[derive(Debug, Default)]
pub(super) struct HeldLeases {
    held: Mutex<HashMap<u64, Held>>,
    next_id: AtomicU64,
    renewer: OnceLock<()>,
}

#[derive(Debug)]
struct Held {
    job_id: String,
    owner: String,
    /// When the lease was taken or last renewed.
    renewed_at: Instant,
}

/// A run's registration; dropping it stops the renewals.
pub(super) struct LeaseHold<'a> {
    leases: &'a HeldLeases,
    id: u64,
}

impl Drop for LeaseHold<'_> {
    fn drop(&mut self) {
        self.leases.held().remove(&self.id);
    }
}

impl HeldLeases {
    /// Keeps `owner`'s lease of `job_id`, just taken, alive until the returned hold is dropped.
    pub(super) fn hold<'a>(&'a self, state: &AppState, job_id: &str, owner: &str) -> LeaseHold<'a> {
        self.renewer.get_or_init(|| {
            tokio::spawn(renew(state.clone()));
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let held = Held { job_id: job_id.to_owned(), owner: owner.to_owned(), renewed_at: Instant::now() };
        self.held().insert(id, held);
        LeaseHold { leases: self, id }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Held>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The leases last renewed at least `age` ago.
    fn due(&self, age: Duration) -> Vec<(u64, String, String)> {
        self.held()
            .iter()
            .filter(|(_, held)| held.renewed_at.elapsed() >= age)
            .map(|(id, held)| (*id, held.job_id.clone(), held.owner.clone()))
            .collect()
    }
}

/// The renewer: every sixth of the lease time, renews the leases last renewed a third of it ago or more, so a
/// lease held by a live run never comes within half its time of expiring.
async fn renew(state: AppState) {
    let ttl = state.tunables.delivery.lease_ttl;
    let leases = &state.engine.leases;
    loop {
        tokio::time::sleep(ttl / 6).await;
        for (id, job_id, owner) in leases.due(ttl / 3) {
            match state.store.renew_job_lease(&job_id, &owner, ttl).await {
                Ok(true) => {
                    if let Some(held) = leases.held().get_mut(&id) {
                        held.renewed_at = Instant::now();
                    }
                }
                // Another runner took the job over (this one stalled past its lease): the run learns it when it
                // records its work, which the lease's new holder then does not repeat.
                Ok(false) => {
                    leases.held().remove(&id);
                }
                Err(error) => tracing::warn!(%error, job = job_id, "Renewing a delivery lease failed."),
            }
        }
    }
}
