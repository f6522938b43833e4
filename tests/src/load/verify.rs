//! The exactly-once check: every call session the load created is one CRM activity and one logged session.
//!
//! Three witnesses are compared per session: what the driver was told (`successful:true` answers and their log
//! ids), what the CRM received (the mock's activity creates), and what the server says afterwards
//! (`GET /callLog` => `matched`, `logId`). A session whose creates all failed may be absent everywhere; anything
//! else that disagrees is a violation.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

/// What the driver knows about one session after the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionEvidence {
    pub session: String,
    /// Create requests sent for the session.
    pub attempts: u32,
    /// Log ids of the `successful:true` answers to those creates.
    pub acknowledged_log_ids: Vec<String>,
    /// Creates answered "saved, will be logged" (no log id yet): a promise like an acknowledgement.
    pub queued_acknowledgements: u32,
    /// Activity ids the CRM created for the session.
    pub crm_activity_ids: Vec<u64>,
    /// The server's `GET /callLog` answer after the run: `Some((matched, logId))`, `None` if it could not be read.
    pub server_record: Option<(bool, Option<String>)>,
}

impl SessionEvidence {
    /// The CRM has the session's one record, the server does not report it logged yet, and no create was answered
    /// with a log id: a create the client gave up on (or was told will be logged) that the server records when
    /// its delivery completes. Read such a session again before calling it a violation; a create answered
    /// `successful:true` must read back logged at once.
    pub fn recording_may_follow(&self) -> bool {
        self.acknowledged_log_ids.is_empty()
            && self.crm_activity_ids.len() == 1
            && matches!(self.server_record, Some((false, _)))
    }
}

/// How a session broke the exactly-once promise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ViolationKind {
    /// The CRM received more than one activity for the session.
    LoggedTwice { crm_creates: usize },
    /// Creates were answered `successful:true` with different records (repeats that merged into one create and
    /// name its one record are fine).
    AcknowledgedTwice { acknowledgements: usize },
    /// A create was answered `successful:true` but the CRM never received the activity.
    AcknowledgedButNotInCrm,
    /// The CRM holds the activity but the server does not report the session as logged: the next create would
    /// make a second record.
    InCrmButNotRecorded,
    /// The server reports the session as logged but the CRM never received it.
    RecordedButNotInCrm,
    /// The log id the server answered or reports is not the CRM's activity id.
    LogIdMismatch { crm: String, server: String },
    /// The CRM received an activity for a session the driver never created.
    UnknownSession { crm_creates: usize },
    /// The server's record of the session could not be read, so nothing can be claimed.
    Unverified,
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationKind::LoggedTwice { crm_creates } => write!(f, "logged {crm_creates} times in the CRM"),
            ViolationKind::AcknowledgedTwice { acknowledgements } => {
                write!(f, "{acknowledgements} creates answered successful:true")
            }
            ViolationKind::AcknowledgedButNotInCrm => {
                f.write_str("answered successful:true but never created in the CRM")
            }
            ViolationKind::InCrmButNotRecorded => {
                f.write_str("created in the CRM but the server reports it not logged")
            }
            ViolationKind::RecordedButNotInCrm => f.write_str("reported logged by the server but absent from the CRM"),
            ViolationKind::LogIdMismatch { crm, server } => write!(f, "server log id {server} but CRM activity {crm}"),
            ViolationKind::UnknownSession { crm_creates } => {
                write!(f, "{crm_creates} CRM activities for a session the load never sent")
            }
            ViolationKind::Unverified => f.write_str("the server's record could not be read"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub session: String,
    #[serde(flatten)]
    pub kind: ViolationKind,
}

/// The check's outcome, part of the load report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExactlyOnceReport {
    /// Sessions the load tried to create.
    pub sessions: usize,
    /// Sessions with exactly one CRM activity and a matching server record.
    pub logged_once: usize,
    /// Sessions whose creates all failed and that are absent from both the CRM and the server (allowed).
    pub never_logged: usize,
    /// Create requests in all (duplicates included).
    pub create_attempts: u64,
    /// CRM activities whose subject named no session (not load traffic).
    pub activities_without_session: u64,
    pub violations: Vec<Violation>,
}

impl ExactlyOnceReport {
    pub fn passed(&self) -> bool {
        self.violations.is_empty() && self.activities_without_session == 0
    }

    /// A few lines naming every violating session, for the terminal.
    pub fn failure_message(&self) -> String {
        let mut lines = vec![format!(
            "EXACTLY-ONCE CHECK FAILED: {} violation(s) among {} sessions",
            self.violations.len(),
            self.sessions
        )];
        let mut by_kind: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for violation in &self.violations {
            by_kind.entry(violation.kind.to_string()).or_default().push(&violation.session);
        }
        for (kind, sessions) in by_kind {
            const SHOWN: usize = 20;
            let more = sessions.len().saturating_sub(SHOWN);
            let listed = sessions.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
            let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
            lines.push(format!("  {} session(s) {kind}: {listed}{tail}", sessions.len()));
        }
        if self.activities_without_session > 0 {
            lines.push(format!(
                "  {} CRM activities carried no session id in their subject",
                self.activities_without_session
            ));
        }
        lines.join("\n")
    }
}

/// Compares the three witnesses. `crm_creates` holds every session the CRM received, including ones the driver
/// never sent (which are violations).
pub fn check(
    sessions: &[SessionEvidence],
    crm_creates: &HashMap<String, Vec<u64>>,
    activities_without_session: u64,
) -> ExactlyOnceReport {
    let mut report =
        ExactlyOnceReport { sessions: sessions.len(), activities_without_session, ..ExactlyOnceReport::default() };
    let mut known = std::collections::HashSet::with_capacity(sessions.len());
    for evidence in sessions {
        known.insert(evidence.session.as_str());
        report.create_attempts += u64::from(evidence.attempts);
        let violations = session_violations(evidence);
        if violations.is_empty() {
            if evidence.crm_activity_ids.is_empty() {
                report.never_logged += 1;
            } else {
                report.logged_once += 1;
            }
        }
        report
            .violations
            .extend(violations.into_iter().map(|kind| Violation { session: evidence.session.clone(), kind }));
    }
    let mut unknown: Vec<_> = crm_creates
        .iter()
        .filter(|(session, _)| !known.contains(session.as_str()))
        .map(|(session, ids)| Violation {
            session: session.clone(),
            kind: ViolationKind::UnknownSession { crm_creates: ids.len() },
        })
        .collect();
    unknown.sort_by(|a, b| a.session.cmp(&b.session));
    report.violations.extend(unknown);
    report
}

fn session_violations(evidence: &SessionEvidence) -> Vec<ViolationKind> {
    let mut violations = Vec::new();
    let crm = &evidence.crm_activity_ids;
    let acknowledged = &evidence.acknowledged_log_ids;
    if crm.len() > 1 {
        violations.push(ViolationKind::LoggedTwice { crm_creates: crm.len() });
    }
    let distinct: std::collections::BTreeSet<&String> = acknowledged.iter().collect();
    if distinct.len() > 1 {
        violations.push(ViolationKind::AcknowledgedTwice { acknowledgements: acknowledged.len() });
    }
    if (!acknowledged.is_empty() || evidence.queued_acknowledgements > 0) && crm.is_empty() {
        violations.push(ViolationKind::AcknowledgedButNotInCrm);
    }
    match &evidence.server_record {
        None => violations.push(ViolationKind::Unverified),
        Some((false, _)) if !crm.is_empty() => violations.push(ViolationKind::InCrmButNotRecorded),
        Some((true, _)) if crm.is_empty() => violations.push(ViolationKind::RecordedButNotInCrm),
        Some((true, server_log_id)) if crm.len() == 1 => {
            let crm_id = crm[0].to_string();
            match server_log_id {
                Some(server) if *server != crm_id => {
                    violations.push(ViolationKind::LogIdMismatch { crm: crm_id.clone(), server: server.clone() });
                }
                None => violations.push(ViolationKind::LogIdMismatch { crm: crm_id.clone(), server: "none".into() }),
                _ => {}
            }
        }
        Some(_) => {}
    }
    if crm.len() == 1 {
        let crm_id = crm[0].to_string();
        if let Some(answered) = acknowledged.iter().find(|id| **id != crm_id) {
            violations.push(ViolationKind::LogIdMismatch { crm: crm_id, server: answered.clone() });
        }
    }
    violations
}
