//! The account's activity types, cached per company, and the choice of the type a call or an SMS is logged as.
//!
//! Every call log needs the key of an activity type. Asking Pipedrive each time would double the requests of the
//! busiest operation, so the active types are kept per company for a day, as App Connect does, and fetched again
//! once when the wanted type is missing (an admin may have just created or renamed it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use callbridge_core::{ConnectorError, Secret};

use crate::api::ActivityType;
use crate::client::PipedriveClient;

/// How long a company's activity-type list is trusted.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// What is being logged: decides the admin setting and the keyword a type name must contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ActivityKind {
    Call,
    Sms,
}

impl ActivityKind {
    /// The admin setting that names the type explicitly.
    pub fn setting_id(self) -> &'static str {
        match self {
            ActivityKind::Call => "pipedriveCallActivityType",
            ActivityKind::Sms => "pipedriveSMSActivityType",
        }
    }

    /// The word, compared case-insensitively, that marks a type as fit when no admin chose one.
    pub fn keyword(self) -> &'static str {
        match self {
            ActivityKind::Call => "call",
            ActivityKind::Sms => "sms",
        }
    }
}

/// One company's active activity types and the instant they were fetched.
type CachedTypes = (Instant, Arc<Vec<ActivityType>>);

/// Active activity types by company.
#[derive(Debug)]
pub(crate) struct ActivityTypeCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, CachedTypes>>,
}

impl ActivityTypeCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The key of the type to log `kind` as, or `None` when the account has no fitting active type.
    ///
    /// Order: the admin-chosen type if it is active, then the first active type whose name contains the keyword.
    /// A cached list that has neither is fetched again once before giving up.
    pub async fn resolve(
        &self,
        client: &PipedriveClient,
        host: &str,
        auth: &Secret,
        company: &str,
        admin_choice: Option<&str>,
        kind: ActivityKind,
    ) -> Result<Option<String>, ConnectorError> {
        let (mut types, mut fresh) = match self.cached(company) {
            Some(types) => (types, false),
            None => (self.refresh(client, host, auth, company).await?, true),
        };
        let admin_choice = admin_choice.filter(|it| !it.is_empty());
        if let Some(choice) = admin_choice {
            if has_key(&types, choice) {
                return Ok(Some(choice.to_owned()));
            }
            if !fresh {
                types = self.refresh(client, host, auth, company).await?;
                fresh = true;
                if has_key(&types, choice) {
                    return Ok(Some(choice.to_owned()));
                }
            }
        }
        if let Some(found) = find_by_keyword(&types, kind) {
            return Ok(Some(found));
        }
        if fresh {
            return Ok(None);
        }
        types = self.refresh(client, host, auth, company).await?;
        Ok(find_by_keyword(&types, kind))
    }

    fn cached(&self, company: &str) -> Option<Arc<Vec<ActivityType>>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(company).filter(|(fetched_at, _)| fetched_at.elapsed() < self.ttl).map(|(_, types)| types.clone())
    }

    async fn refresh(
        &self,
        client: &PipedriveClient,
        host: &str,
        auth: &Secret,
        company: &str,
    ) -> Result<Arc<Vec<ActivityType>>, ConnectorError> {
        let types = client.activity_types(host, auth).await?;
        let active: Arc<Vec<ActivityType>> = Arc::new(types.into_iter().filter(|it| it.active_flag).collect());
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.insert(company.to_owned(), (Instant::now(), active.clone()));
        Ok(active)
    }
}

fn has_key(types: &[ActivityType], key: &str) -> bool {
    types.iter().any(|it| it.key_string == key)
}

fn find_by_keyword(types: &[ActivityType], kind: ActivityKind) -> Option<String> {
    let keyword = kind.keyword();
    types.iter().find(|it| it.name.to_lowercase().contains(keyword)).map(|it| it.key_string.clone())
}
