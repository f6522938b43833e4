//! `AccountCache`: account data a connector reuses across requests (activity types, custom fields, pipelines),
//! per CRM account, for a while. Bounded, expiring, and single-flight: concurrent misses for one account wait for
//! one load instead of each asking the CRM.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::error::ConnectorError;

/// Values of type `V` by CRM account (a company id, a host name); cheap to clone `V` (wrap lists in `Arc`).
#[derive(Clone)]
pub struct AccountCache<V: Clone + Send + Sync + 'static> {
    entries: Cache<String, V>,
}

impl<V: Clone + Send + Sync + 'static> std::fmt::Debug for AccountCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountCache").field("accounts", &self.entries.entry_count()).finish()
    }
}

impl<V: Clone + Send + Sync + 'static> AccountCache<V> {
    /// Entries live `ttl` after they were loaded; beyond `max_accounts` the least used ones go first.
    pub fn new(ttl: Duration, max_accounts: u64) -> Self {
        Self { entries: Cache::builder().time_to_live(ttl).max_capacity(max_accounts).build() }
    }

    /// The account's value, loading it with `load` when it is missing or expired. Concurrent callers for the same
    /// account share one `load`; a failed load is not cached and every waiter gets its error.
    pub async fn get_or_load(
        &self,
        account: &str,
        load: impl Future<Output = Result<V, ConnectorError>>,
    ) -> Result<V, ConnectorError> {
        self.entries
            .try_get_with_by_ref(account, load)
            .await
            .map_err(|shared: Arc<ConnectorError>| shared.copy_for_waiter())
    }

    /// Loads the account's value again (an admin may just have changed it in the CRM) and keeps it.
    pub async fn reload(
        &self,
        account: &str,
        load: impl Future<Output = Result<V, ConnectorError>>,
    ) -> Result<V, ConnectorError> {
        let value = load.await?;
        self.entries.insert(account.to_owned(), value.clone()).await;
        Ok(value)
    }

    /// [`AccountCache::reload`] when `refresh` is set (the user asked for fresh data), else
    /// [`AccountCache::get_or_load`].
    pub async fn get_or_load_fresh(
        &self,
        account: &str,
        refresh: bool,
        load: impl Future<Output = Result<V, ConnectorError>>,
    ) -> Result<V, ConnectorError> {
        if refresh { self.reload(account, load).await } else { self.get_or_load(account, load).await }
    }

    /// The account's value if it is cached and fresh.
    pub async fn get(&self, account: &str) -> Option<V> {
        self.entries.get(account).await
    }

    /// The account's value, loaded again once when the cached one is not `usable`: a cached list that lacks what
    /// is asked for (an activity type, a custom field) may predate an admin's change in the CRM. A value loaded by
    /// this call is returned as it is, usable or not, so a miss costs at most one extra load.
    pub async fn get_or_reload_if<F>(
        &self,
        account: &str,
        load: impl Fn() -> F,
        usable: impl FnOnce(&V) -> bool,
    ) -> Result<V, ConnectorError>
    where
        F: Future<Output = Result<V, ConnectorError>>,
    {
        let Some(cached) = self.get(account).await else {
            return self.get_or_load(account, load()).await;
        };
        if usable(&cached) { Ok(cached) } else { self.reload(account, load()).await }
    }
}
