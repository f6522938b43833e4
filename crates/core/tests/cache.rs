//! `AccountCache`: one load for concurrent misses, per-account entries, failures not cached, expiry and reload.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use callbridge_core::cache::AccountCache;
use callbridge_core::{ConnectorError, ErrorKind};
use tokio::sync::Barrier;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_for_one_account_load_once() {
    let cache = AccountCache::<Arc<Vec<u32>>>::new(Duration::from_secs(60), 100);
    let loads = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (cache, loads, gate) = (cache.clone(), loads.clone(), gate.clone());
            tokio::spawn(async move {
                gate.wait().await;
                cache
                    .get_or_load("acme", async {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        Ok(Arc::new(vec![1, 2]))
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(*task.await.unwrap().unwrap(), vec![1, 2]);
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let other = cache.get_or_load("globex", async { Ok(Arc::new(vec![3])) }).await.unwrap();
    assert_eq!(*other, vec![3], "accounts do not share entries");
}

#[tokio::test]
async fn a_failed_load_reaches_the_caller_and_is_not_kept() {
    let cache = AccountCache::<u32>::new(Duration::from_secs(60), 100);
    let failed = cache.get_or_load("acme", async { Err(ConnectorError::from_status(503, "down")) }).await.unwrap_err();
    assert_eq!((failed.kind(), failed.is_temporary(), failed.status()), (ErrorKind::Upstream, true, Some(503)));
    assert_eq!(cache.get("acme").await, None);
    assert_eq!(cache.get_or_load("acme", async { Ok(7) }).await.unwrap(), 7);
    assert_eq!(cache.reload("acme", async { Ok(8) }).await.unwrap(), 8);
    assert_eq!(cache.get_or_load("acme", async { Ok(9) }).await.unwrap(), 8, "reload keeps the new value");
}

#[tokio::test]
async fn entries_expire_after_their_ttl() {
    let cache = AccountCache::<u32>::new(Duration::from_millis(50), 100);
    cache.get_or_load("acme", async { Ok(1) }).await.unwrap();
    // Bounded poll on the condition under test, not a fixed sleep.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while cache.get("acme").await.is_some() {
        assert!(tokio::time::Instant::now() < deadline, "the entry never expired");
        // sleep-ok: poll interval of a wait bounded by the deadline above
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(cache.get_or_load("acme", async { Ok(2) }).await.unwrap(), 2);
}

#[tokio::test]
async fn an_unusable_cached_value_is_loaded_again_once() {
    let cache = AccountCache::<Vec<&str>>::new(Duration::from_secs(60), 10);
    let loads = AtomicUsize::new(0);
    let load = |value: Vec<&'static str>| {
        let loads = &loads;
        move || {
            let value = value.clone();
            async move {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok(value)
            }
        }
    };
    let has_sms = |it: &Vec<&str>| it.contains(&"sms");
    // A first load is kept even when it lacks what is wanted: no second request for a fresh list.
    assert_eq!(cache.get_or_reload_if("a", load(vec!["call"]), has_sms).await.unwrap(), vec!["call"]);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    // Cached and usable: no load.
    let has_call = |it: &Vec<&str>| it.contains(&"call");
    assert_eq!(cache.get_or_reload_if("a", load(vec!["x"]), has_call).await.unwrap(), vec!["call"]);
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    // Cached but unusable: loaded again and kept.
    assert_eq!(cache.get_or_reload_if("a", load(vec!["call", "sms"]), has_sms).await.unwrap(), vec!["call", "sms"]);
    assert_eq!(loads.load(Ordering::SeqCst), 2);
    assert_eq!(cache.get("a").await.unwrap(), vec!["call", "sms"]);
}
