//! The account's activity types, cached per company, and the choice of the type a call or an SMS is logged as.
//!
//! Every call log needs the key of an activity type. Asking Pipedrive each time would double the requests of the
//! busiest operation, so the active types are kept per company for a day, as App Connect does, and fetched again
//! once when the wanted type is missing (an admin may have just created or renamed it).

use std::sync::Arc;
use std::time::Duration;

use callbridge_core::cache::AccountCache;
use callbridge_core::{ConnectorError, Secret};

use crate::api::ActivityType;
use crate::client::PipedriveClient;

/// How long a company's activity-type list is trusted.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How many companies' lists are kept; the least used go first beyond it.
const MAX_COMPANIES: u64 = 10_000;

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

/// Active activity types by company.
#[derive(Debug)]
pub(crate) struct ActivityTypeCache {
    types: AccountCache<Arc<Vec<ActivityType>>>,
}

impl ActivityTypeCache {
    pub fn new(ttl: Duration) -> Self {
        Self { types: AccountCache::new(ttl, MAX_COMPANIES) }
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
        let fresh = self.types.get(company).await.is_none();
        let types = self.types.get_or_load(company, active_types(client, host, auth)).await?;
        let pick = |types: &[ActivityType]| match admin_choice.filter(|it| !it.is_empty()) {
            Some(choice) if has_key(types, choice) => Some(choice.to_owned()),
            _ => find_by_keyword(types, kind),
        };
        match pick(&types) {
            // A stale list may lack a type the admin chose or created since: the admin's choice is retried fresh.
            Some(found) if fresh || admin_choice.is_none_or(|it| it.is_empty() || found == it) => Ok(Some(found)),
            found if fresh => Ok(found),
            _ => Ok(pick(&self.types.reload(company, active_types(client, host, auth)).await?)),
        }
    }
}

impl ActivityTypeCache {
    /// The company's active types (fetched again when `force_refresh`), for the admin's choice of type.
    pub async fn list(
        &self,
        client: &PipedriveClient,
        host: &str,
        auth: &Secret,
        company: &str,
        force_refresh: bool,
    ) -> Result<Arc<Vec<ActivityType>>, ConnectorError> {
        if force_refresh {
            self.types.reload(company, active_types(client, host, auth)).await
        } else {
            self.types.get_or_load(company, active_types(client, host, auth)).await
        }
    }
}

/// The company's active activity types.
async fn active_types(
    client: &PipedriveClient,
    host: &str,
    auth: &Secret,
) -> Result<Arc<Vec<ActivityType>>, ConnectorError> {
    let types = client.activity_types(host, auth).await?;
    Ok(Arc::new(types.into_iter().filter(|it| it.active_flag).collect()))
}

fn has_key(types: &[ActivityType], key: &str) -> bool {
    types.iter().any(|it| it.key_string == key)
}

fn find_by_keyword(types: &[ActivityType], kind: ActivityKind) -> Option<String> {
    let keyword = kind.keyword();
    types.iter().find(|it| it.name.to_lowercase().contains(keyword)).map(|it| it.key_string.clone())
}
