//! Delivery after the load: waits until every create and update the server accepted is in the mock CRM (or a
//! deadline passes) and measures how long that took; after a CRM outage this is the recovery time.
//!
//! A queued create ("Saved. ... will be logged as soon as it is") counts as accepted like a logged one: the
//! server promised it. Each update carries its own subject, so the mock's record of applied subjects tells whether
//! that update reached the CRM, when, and how often.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::load::mock::{Deliveries, MockPipedrive};

/// What the server accepted during the run, with when it answered.
#[derive(Clone, Debug, Default)]
pub struct Accepted {
    /// `(session, answered at)` of the first accepted create of each session.
    pub creates: Vec<(String, Instant)>,
    /// `(session, subject, answered at)` of every accepted update.
    pub updates: Vec<(String, String, Instant)>,
}

/// The outage the mock CRM played.
#[derive(Clone, Copy, Debug)]
pub struct OutageWindow {
    pub start: Instant,
    pub end: Instant,
    /// From the start of the measured window.
    pub offset_s: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OutageReport {
    /// From the start of the measured window.
    pub start_s: f64,
    pub length_s: f64,
    /// CRM requests the mock refused with 503 during the outage.
    pub refused_requests: u64,
    /// From the outage's end to the last accepted create or update reaching the CRM (0 when all arrived before).
    pub last_delivery_after_end_s: f64,
}

/// Whether everything accepted reached the CRM once, and how long it took.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeliveryReport {
    pub creates_accepted: usize,
    pub updates_accepted: usize,
    pub undelivered_creates: usize,
    pub undelivered_updates: usize,
    /// Updates the CRM applied more than once.
    pub updates_applied_twice: usize,
    /// The longest time from a create's answer to its record in the CRM (0 when it was there before the answer).
    pub max_create_lag_s: f64,
    /// The same for updates.
    pub max_update_lag_s: f64,
    /// How long the driver waited after the load for the last deliveries.
    pub settled_after_s: f64,
    pub outage: Option<OutageReport>,
}

impl DeliveryReport {
    pub fn passed(&self) -> bool {
        self.undelivered_creates == 0 && self.undelivered_updates == 0 && self.updates_applied_twice == 0
    }

    fn pending(&self) -> usize {
        self.undelivered_creates + self.undelivered_updates
    }
}

/// Compares what was accepted with what the CRM holds: `deliveries` maps a session to when its activity was
/// created and the subjects of the updates applied to it, with their times.
pub fn measure(accepted: &Accepted, deliveries: &Deliveries, outage: Option<OutageWindow>) -> DeliveryReport {
    let mut report = DeliveryReport {
        creates_accepted: accepted.creates.len(),
        updates_accepted: accepted.updates.len(),
        ..DeliveryReport::default()
    };
    let mut last_delivery: Option<Instant> = None;
    let mut delivered = |answered: Instant, landed: Instant, max_lag: &mut f64| {
        *max_lag = max_lag.max(landed.saturating_duration_since(answered).as_secs_f64());
        last_delivery = last_delivery.max(Some(landed));
    };
    for (session, answered) in &accepted.creates {
        match deliveries.get(session) {
            Some((created_at, _)) => delivered(*answered, *created_at, &mut report.max_create_lag_s),
            None => report.undelivered_creates += 1,
        }
    }
    for (session, subject, answered) in &accepted.updates {
        let mut applied = deliveries
            .get(session)
            .into_iter()
            .flat_map(|(_, updates)| updates)
            .filter(|(applied, _)| applied == subject)
            .map(|(_, at)| *at);
        match applied.next() {
            Some(first) => delivered(*answered, first, &mut report.max_update_lag_s),
            None => report.undelivered_updates += 1,
        }
        if applied.next().is_some() {
            report.updates_applied_twice += 1;
        }
    }
    report.outage = outage.map(|window| OutageReport {
        start_s: window.offset_s,
        length_s: window.end.saturating_duration_since(window.start).as_secs_f64(),
        refused_requests: 0,
        last_delivery_after_end_s: last_delivery
            .map(|last| last.saturating_duration_since(window.end).as_secs_f64())
            .unwrap_or_default(),
    });
    report
}

/// Waits (polling the mock, at most `timeout`) until everything accepted is in the CRM, then measures.
pub async fn settle(
    mock: &MockPipedrive,
    accepted: &Accepted,
    outage: Option<OutageWindow>,
    timeout: Duration,
) -> DeliveryReport {
    let started = Instant::now();
    loop {
        let mut report = measure(accepted, &mock.deliveries(), outage);
        if report.pending() == 0 || started.elapsed() >= timeout {
            report.settled_after_s = started.elapsed().as_secs_f64();
            if let Some(outage) = report.outage.as_mut() {
                outage.refused_requests = mock.outage_refusals();
            }
            return report;
        }
        // The engine retries on its own schedule; this only decides how soon the driver notices.
        // sleep-ok: the poll interval of a wait with a deadline (`timeout`)
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
