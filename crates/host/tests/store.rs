//! The store against real databases: every test runs on a fresh SQLite file and, when
//! `CALLBRIDGE_TEST_POSTGRES_URL` is set, on PostgreSQL too (each test in its own schema of the shared database).

use std::time::Duration;

use callbridge_core::schema::{TimezoneOffset, User, UserSettings};
use callbridge_core::secret::Secret;
use callbridge_host::crypto::TokenCipher;
use callbridge_host::store::{
    AdminConfig, CallLogKey, CompletedCallLog, Completion, Enqueue, JobFilter, JobState, JobSubject, MessageLogRow,
    NewOp, OpKind, SettingsChange, Store, StoreError,
};
use chrono::DateTime;
use serde_json::json;
use tokio::task::JoinSet;

/// One database the tests run against: a SQLite file in a temp dir, or a private schema in PostgreSQL.
struct TestDb {
    label: &'static str,
    url: String,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the base URL and the schema to drop at the end.
    postgres_schema: Option<(String, String)>,
}

/// The cipher every store in these tests uses unless a test says otherwise.
fn test_cipher() -> TokenCipher {
    TokenCipher::from_base64_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap()
}

async fn databases() -> Vec<TestDb> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callbridge.db");
    let mut dbs = vec![TestDb {
        label: "sqlite",
        url: format!("sqlite://{}", path.display()),
        _dir: Some(dir),
        postgres_schema: None,
    }];
    if let Some(base) = callbridge_host::config::test_postgres_url() {
        let now = chrono::Utc::now().timestamp();
        let schema = format!("{SCHEMA_PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        drop_abandoned_schemas(&admin, now).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.unwrap();
        admin.close().await;
        let separator = if base.contains('?') { '&' } else { '?' };
        dbs.push(TestDb {
            label: "postgres",
            url: format!("{base}{separator}options=-c%20search_path%3D{schema}"),
            _dir: None,
            postgres_schema: Some((base, schema)),
        });
    }
    dbs
}

/// Test schemas are named `<prefix><unix seconds>_<uuid>`; a test that fails leaves its schema behind.
const SCHEMA_PREFIX: &str = "store_test_";

/// Drops test schemas more than an hour old, left behind by failed runs, so the shared database stays tidy.
async fn drop_abandoned_schemas(admin: &sqlx::PgPool, now: i64) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, 'store_test_')")
            .fetch_all(admin)
            .await
            .unwrap();
    for name in names {
        let created = name.strip_prefix(SCHEMA_PREFIX).and_then(|rest| rest.split('_').next()?.parse::<i64>().ok());
        if created.is_some_and(|created| now - created > 3600) {
            // Another run may be dropping the same schema: losing that race is fine.
            let _ =
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE"))).execute(admin).await;
        }
    }
}

impl TestDb {
    /// A migrated store with the test cipher: one server instance.
    async fn open(&self) -> Store {
        self.open_with(Some(test_cipher())).await
    }

    async fn open_with(&self, cipher: Option<TokenCipher>) -> Store {
        let store = Store::connect(&self.url).await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(store.backend_name(), self.label);
        match cipher {
            Some(cipher) => store.with_cipher(cipher),
            None => store,
        }
    }

    /// Runs one statement with text binds on a connection of the test's own, beside the store.
    async fn raw_execute(&self, sql: &str, binds: &[&str]) -> u64 {
        match self.label {
            "sqlite" => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
                for bind in binds {
                    query = query.bind(*bind);
                }
                let affected = query.execute(&pool).await.unwrap().rows_affected();
                pool.close().await;
                affected
            }
            _ => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
                for bind in binds {
                    query = query.bind(*bind);
                }
                let affected = query.execute(&pool).await.unwrap().rows_affected();
                pool.close().await;
                affected
            }
        }
    }

    /// Reads one text value with a raw query.
    async fn raw_text(&self, sql: &str, binds: &[&str]) -> Option<String> {
        match self.label {
            "sqlite" => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()));
                for bind in binds {
                    query = query.bind(*bind);
                }
                let value = query.fetch_optional(&pool).await.unwrap();
                pool.close().await;
                value
            }
            _ => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()));
                for bind in binds {
                    query = query.bind(*bind);
                }
                let value = query.fetch_optional(&pool).await.unwrap();
                pool.close().await;
                value
            }
        }
    }

    async fn cleanup(self) {
        if let Some((base, schema)) = &self.postgres_schema {
            let admin = sqlx::PgPool::connect(base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&admin).await.unwrap();
            admin.close().await;
        }
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn user(id: &str) -> User {
    let mut platform_additional_info = serde_json::Map::new();
    platform_additional_info.insert("companyId".to_owned(), json!(42));
    User {
        id: id.to_owned(),
        platform: "sandbox".to_owned(),
        hostname: "crm.example.com".to_owned(),
        timezone_name: Some("Europe/Berlin".to_owned()),
        timezone_offset: Some(TimezoneOffset::Text("+01:00".to_owned())),
        access_token: Secret::new(format!("access-{id}")),
        refresh_token: Some(Secret::new(format!("refresh-{id}"))),
        token_expiry: DateTime::from_timestamp_millis(1_900_000_000_123),
        platform_additional_info,
        user_settings: UserSettings::default(),
        rc_account_id: Some("rc-account".to_owned()),
        hashed_rc_extension_id: Some("hashed-ext".to_owned()),
    }
}

fn key(user_id: &str, session_id: &str) -> CallLogKey {
    CallLogKey {
        user_id: user_id.to_owned(),
        session_id: session_id.to_owned(),
        extension_number: "101".to_owned(),
        hashed_extension_id: "h-101".to_owned(),
    }
}

const LONG: Duration = Duration::from_secs(600);

/// Records a logged call-log mapping the way the delivery engine does: the session's create operation is
/// enqueued, leased and completed with the CRM's id, which writes the mapping in the same transaction.
async fn record_call_log(store: &Store, key: &CallLogKey, log_id: &str) {
    let subject = JobSubject::call(&key.user_id, "sandbox", &key.session_id);
    let created = store.enqueue(&subject, &new_op(OpKind::CreateCall, "create")).await.unwrap();
    let job = store.lease_job(&created.job_id, "runner", LONG).await.unwrap().expect("a new operation is due");
    let logged = CompletedCallLog {
        record_id: format!("tel-{}", key.session_id),
        platform: "sandbox".to_owned(),
        contact_id: "contact-1".to_owned(),
        log_id: log_id.to_owned(),
    };
    store.complete_op(&job.id, "runner", created.op_id, Some((key, &logged))).await.unwrap();
}

/// Inserts a pending claim as versions before the delivery engine left them: a row without a CRM id.
async fn insert_legacy_pending_claim(db: &TestDb, key: &CallLogKey) {
    let inserted = db
        .raw_execute(
            "INSERT INTO call_logs (user_id, session_id, extension_number, hashed_extension_id, record_id, platform,
                 contact_id, third_party_log_id, claim_token, claimed_at_ms, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $4, 'tel-legacy', 'sandbox', 'contact-1', NULL, 'legacy-token', 0, 0, 0)",
            &[&key.user_id, &key.session_id, &key.extension_number, &key.hashed_extension_id],
        )
        .await;
    assert_eq!(inserted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrating_twice_is_a_no_op_and_keeps_data() {
    for db in databases().await {
        let store = db.open().await;
        let id = unique("u");
        store.upsert_user(&user(&id)).await.unwrap();
        store.migrate().await.unwrap();
        let reopened = db.open().await;
        reopened.migrate().await.unwrap();
        assert_eq!(reopened.user(&id).await.unwrap(), Some(user(&id)), "{}", db.label);
        let applied = db.raw_text("SELECT CAST(COUNT(*) AS TEXT) FROM _sqlx_migrations", &[]).await;
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).unwrap().count();
        assert_eq!(applied, Some(files.to_string()), "{}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_migrate_a_fresh_database() {
    for db in databases().await {
        let mut stores = Vec::new();
        for _ in 0..4 {
            let store = Store::connect(&db.url).await.unwrap().with_cipher(test_cipher());
            stores.push(store);
        }
        let mut tasks = JoinSet::new();
        for store in stores.clone() {
            tasks.spawn(async move { store.migrate().await });
        }
        while let Some(outcome) = tasks.join_next().await {
            outcome.unwrap().unwrap_or_else(|error| panic!("{}: {error}", db.label));
        }
        stores[0].upsert_user(&user(&unique("u"))).await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_in_memory_database_serves_concurrent_creates() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let store = store.with_cipher(test_cipher());
    let subject = job_subject(&unique("session"));
    let mut tasks = JoinSet::new();
    for idx in 0..50 {
        let (store, subject) = (store.clone(), subject.clone());
        tasks
            .spawn(async move { store.enqueue(&subject, &new_op(OpKind::CreateCall, &format!("create-{idx}"))).await });
    }
    let mut enqueued = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        enqueued.push(outcome.unwrap().unwrap());
    }
    // One create for the session: the first makes the operation, the 49 others merge into it.
    assert_eq!(enqueued.iter().filter(|it| !it.merged).count(), 1);
    assert!(enqueued.iter().all(|it| it.op_id == enqueued[0].op_id));
    assert_eq!(store.job_for(&subject).await.unwrap().unwrap().pending_ops, 1);
}

#[tokio::test]
async fn connect_accepts_bare_paths_and_rejects_unknown_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.db");
    let store = Store::connect(path.to_str().unwrap()).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    assert!(path.exists());
    store.ping().await.unwrap();

    let memory = Store::connect("sqlite::memory:").await.unwrap();
    memory.migrate().await.unwrap();
    memory.ping().await.unwrap();

    assert!(matches!(Store::connect("  ").await, Err(StoreError::UnsupportedUrl(_))));
    let error = Store::connect("mysql://root:hunter2@localhost/db").await.unwrap_err();
    assert!(matches!(error, StoreError::UnsupportedUrl(_)));
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn secrets_of_earlier_versions_are_read_then_deleted() {
    for db in databases().await {
        let store = db.open().await;
        assert!(store.legacy_secrets().await.unwrap().is_empty());
        db.raw_execute(
            "INSERT INTO server_secrets (name, value, created_at_ms) VALUES ('token_key', $1, 0), ('hash_key', 'h', 0)",
            &["k"],
        )
        .await;
        let legacy = store.legacy_secrets().await.unwrap();
        assert_eq!(legacy.get("token_key").map(String::as_str), Some("k"), "{}", db.label);
        assert_eq!(legacy.len(), 2);
        assert_eq!(store.delete_legacy_secrets().await.unwrap(), 2);
        assert!(store.legacy_secrets().await.unwrap().is_empty(), "{}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn users_round_trip_with_tokens_encrypted_at_rest() {
    for db in databases().await {
        let store = db.open().await;
        let id = unique("u");
        let original = user(&id);
        store.upsert_user(&original).await.unwrap();
        assert_eq!(store.user(&id).await.unwrap(), Some(original.clone()), "{}", db.label);
        assert_eq!(store.user(&unique("missing")).await.unwrap(), None);

        let raw_access = db.raw_text("SELECT access_token FROM users WHERE id = $1", &[&id]).await.unwrap();
        let raw_refresh = db.raw_text("SELECT refresh_token FROM users WHERE id = $1", &[&id]).await.unwrap();
        for raw in [&raw_access, &raw_refresh] {
            assert!(raw.starts_with("v2:"), "{raw}");
            assert!(!raw.contains(&id), "the token is stored in clear: {raw}");
        }

        // A store with another key, or none, cannot read the tokens.
        let wrong_key = db.open_with(Some(TokenCipher::from_base64_key(&TokenCipher::generate_key()).unwrap())).await;
        assert!(matches!(wrong_key.user(&id).await, Err(StoreError::Crypto(_))), "{}", db.label);
        let no_cipher = db.open_with(None).await;
        assert!(matches!(no_cipher.user(&id).await, Err(StoreError::NoCipher)));
        assert!(matches!(no_cipher.upsert_user(&user(&unique("u"))).await, Err(StoreError::NoCipher)));

        // A ciphertext copied to another user's row does not open there.
        let other = unique("u");
        store.upsert_user(&user(&other)).await.unwrap();
        db.raw_execute("UPDATE users SET access_token = $1 WHERE id = $2", &[&raw_access, &other]).await;
        assert!(matches!(store.user(&other).await, Err(StoreError::Crypto(_))), "{}", db.label);
        // Nor does an access token moved into the refresh-token column of its own row.
        db.raw_execute("UPDATE users SET refresh_token = access_token WHERE id = $1", &[&id]).await;
        assert!(matches!(store.user(&id).await, Err(StoreError::Crypto(_))), "{}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn upsert_keeps_settings_and_merges_additional_info() {
    for db in databases().await {
        let store = db.open().await;
        let id = unique("u");
        let mut first = user(&id);
        first.platform_additional_info.insert("tokenUrl".to_owned(), json!("https://a"));
        store.upsert_user(&first).await.unwrap();
        let settings = UserSettings(serde_json::from_value(json!({"addCallLogNote": {"value": false}})).unwrap());
        store.update_user_settings(&id, &settings).await.unwrap();

        let mut second = user(&id);
        second.hostname = "other.example.com".to_owned();
        second.access_token = Secret::new("api-key-2");
        second.refresh_token = None;
        second.token_expiry = None;
        second.timezone_offset = Some(TimezoneOffset::Number(330.into()));
        second.platform_additional_info =
            serde_json::from_value(json!({"tokenUrl": "https://b", "proxyId": "p"})).unwrap();
        second.user_settings = UserSettings(serde_json::from_value(json!({"ignored": {"value": 1}})).unwrap());
        store.upsert_user(&second).await.unwrap();

        let stored = store.user(&id).await.unwrap().unwrap();
        assert_eq!(stored.user_settings, settings, "{}", db.label);
        assert_eq!(
            serde_json::Value::Object(stored.platform_additional_info.clone()),
            json!({"companyId": 42, "tokenUrl": "https://b", "proxyId": "p"})
        );
        assert_eq!(stored.hostname, "other.example.com");
        assert_eq!(stored.access_token, Secret::new("api-key-2"));
        assert_eq!(stored.refresh_token, None);
        assert_eq!(stored.token_expiry, None);
        assert_eq!(stored.timezone_offset, Some(TimezoneOffset::Number(330.into())));
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logins_lose_no_additional_info_keys() {
    for db in databases().await {
        let store = db.open().await;
        let id = unique("u");
        store.upsert_user(&user(&id)).await.unwrap();
        let mut tasks = JoinSet::new();
        for idx in 0..20 {
            let store = store.clone();
            let mut login = user(&id);
            login.platform_additional_info = serde_json::Map::new();
            login.platform_additional_info.insert(format!("key{idx}"), json!(idx));
            tasks.spawn(async move { store.upsert_user(&login).await.unwrap() });
        }
        while let Some(outcome) = tasks.join_next().await {
            outcome.unwrap();
        }
        let stored = store.user(&id).await.unwrap().unwrap();
        assert_eq!(stored.platform_additional_info.len(), 21, "{}: {:?}", db.label, stored.platform_additional_info);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn token_updates_and_logout() {
    for db in databases().await {
        let store = db.open().await;
        let id = unique("u");
        store.upsert_user(&user(&id)).await.unwrap();
        let expiry = DateTime::from_timestamp_millis(2_000_000_000_456);

        // No new refresh token: the stored one stays.
        store.update_tokens(&id, &Secret::new("access-2"), None, expiry).await.unwrap();
        let stored = store.user(&id).await.unwrap().unwrap();
        assert_eq!(stored.access_token, Secret::new("access-2"));
        assert_eq!(stored.refresh_token, Some(Secret::new(format!("refresh-{id}"))));
        assert_eq!(stored.token_expiry, expiry);

        store.update_tokens(&id, &Secret::new("access-3"), Some(&Secret::new("refresh-3")), None).await.unwrap();
        let stored = store.user(&id).await.unwrap().unwrap();
        assert_eq!(stored.refresh_token, Some(Secret::new("refresh-3")));
        assert_eq!(stored.token_expiry, None);

        store.clear_tokens(&id).await.unwrap();
        let stored = store.user(&id).await.unwrap().unwrap();
        assert!(stored.access_token.is_empty());
        assert_eq!(stored.refresh_token, None);
        assert_eq!(stored.hostname, "crm.example.com");

        let missing = unique("missing");
        assert!(matches!(
            store.update_tokens(&missing, &Secret::new("a"), None, None).await,
            Err(StoreError::UserNotFound(_))
        ));
        assert!(matches!(store.clear_tokens(&missing).await, Err(StoreError::UserNotFound(_))));
        assert!(matches!(
            store.update_user_settings(&missing, &UserSettings::default()).await,
            Err(StoreError::UserNotFound(_))
        ));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn find_call_logs_orders_rows_and_skips_pending_ones() {
    for db in databases().await {
        let store = db.open().await;
        let user_id = unique("u");
        let (s1, s2, s3) = ("s-1".to_owned(), "s-2".to_owned(), "s-3".to_owned());
        let identities = [(&s2, "", ""), (&s1, "102", "b"), (&s1, "101", "b"), (&s1, "", ""), (&s1, "103", "a")];
        for (session_id, extension_number, hashed_extension_id) in identities {
            let key = CallLogKey {
                user_id: user_id.clone(),
                session_id: session_id.clone(),
                extension_number: extension_number.to_owned(),
                hashed_extension_id: hashed_extension_id.to_owned(),
            };
            record_call_log(&store, &key, &format!("crm-{session_id}-{extension_number}")).await;
        }
        let pending = CallLogKey { session_id: s3.clone(), ..key(&user_id, "") };
        insert_legacy_pending_claim(&db, &pending).await;

        let rows = store.find_call_logs(&user_id, &[s3.clone(), s2.clone(), s1.clone()]).await.unwrap();
        let order: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|row| {
                (row.key.session_id.as_str(), row.key.hashed_extension_id.as_str(), row.key.extension_number.as_str())
            })
            .collect();
        assert_eq!(
            order,
            [("s-1", "", ""), ("s-1", "a", "103"), ("s-1", "b", "101"), ("s-1", "b", "102"), ("s-2", "", "")],
            "{}",
            db.label
        );
        let logged = &rows[4];
        assert_eq!(logged.third_party_log_id.as_deref(), Some("crm-s-2-"));
        assert_eq!(logged.record_id, "tel-s-2");
        assert_eq!(logged.platform, "sandbox");
        assert_eq!(logged.contact_id.as_deref(), Some("contact-1"));
        assert!((chrono::Utc::now() - logged.created_at).num_minutes().abs() < 5);
        assert_eq!(store.find_call_log(&pending).await.unwrap(), None, "{}", db.label);
        assert!(store.find_call_logs(&user_id, &[]).await.unwrap().is_empty());

        // The engine's completion fills the pending row in, and never overwrites a logged one.
        record_call_log(&store, &pending, "crm-s-3").await;
        record_call_log(&store, &pending, "crm-again").await;
        let row = store.find_call_log(&pending).await.unwrap().unwrap();
        assert_eq!(row.third_party_log_id.as_deref(), Some("crm-s-3"), "{}", db.label);
        assert_eq!(row.record_id, "tel-s-3", "the completion's record id replaces the claim's");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn call_log_lookups_are_scoped_to_the_user() {
    for db in databases().await {
        let store = db.open().await;
        let session = unique("session");
        let key_a = key(&unique("a"), &session);
        let key_b = key(&unique("b"), &session);

        record_call_log(&store, &key_a, "crm-a").await;
        // B sees nothing of A's log of the same session, and logs the session for itself.
        assert!(store.find_call_logs(&key_b.user_id, std::slice::from_ref(&session)).await.unwrap().is_empty());
        assert_eq!(store.find_call_log(&key_b).await.unwrap(), None);
        record_call_log(&store, &key_b, "crm-b").await;

        let rows_b = store.find_call_logs(&key_b.user_id, std::slice::from_ref(&session)).await.unwrap();
        assert_eq!(rows_b.len(), 1, "{}", db.label);
        assert_eq!(rows_b[0].third_party_log_id.as_deref(), Some("crm-b"));
        let rows_a = store.find_call_logs(&key_a.user_id, std::slice::from_ref(&session)).await.unwrap();
        assert_eq!(rows_a.len(), 1);
        assert_eq!(rows_a[0].third_party_log_id.as_deref(), Some("crm-a"));
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refresh_lease_has_one_holder_at_a_time() {
    for db in databases().await {
        let stores = [db.open().await, db.open().await];
        let user_id = unique("u");

        let mut tasks = JoinSet::new();
        for idx in 0..50 {
            let store = stores[idx % 2].clone();
            let user_id = user_id.clone();
            tasks.spawn(async move {
                let holder = format!("holder-{idx}");
                let acquired = store.try_acquire_refresh_lease(&user_id, &holder, LONG).await.unwrap();
                (holder, acquired)
            });
        }
        let mut holders = Vec::new();
        while let Some(outcome) = tasks.join_next().await {
            let (holder, acquired) = outcome.unwrap();
            if acquired {
                holders.push(holder);
            }
        }
        assert_eq!(holders.len(), 1, "{}", db.label);
        let holder = holders.remove(0);

        // The holder may renew; others stay out; a release by a non-holder does nothing.
        assert!(stores[0].try_acquire_refresh_lease(&user_id, &holder, LONG).await.unwrap());
        assert!(!stores[1].try_acquire_refresh_lease(&user_id, "late", LONG).await.unwrap());
        stores[1].release_refresh_lease(&user_id, "late").await.unwrap();
        assert!(!stores[1].try_acquire_refresh_lease(&user_id, "late", LONG).await.unwrap());

        // Released: the next contender gets it.
        stores[0].release_refresh_lease(&user_id, &holder).await.unwrap();
        assert!(stores[1].try_acquire_refresh_lease(&user_id, "next", LONG).await.unwrap());

        // Expired (its holder died): exactly one of many takes it over.
        db.raw_execute(
            "UPDATE refresh_leases SET expires_at_ms = expires_at_ms - 3600000000 WHERE user_id = $1",
            &[&user_id],
        )
        .await;
        let mut tasks = JoinSet::new();
        for idx in 0..50 {
            let store = stores[idx % 2].clone();
            let user_id = user_id.clone();
            tasks.spawn(
                async move { store.try_acquire_refresh_lease(&user_id, &format!("t-{idx}"), LONG).await.unwrap() },
            );
        }
        let mut acquired = 0;
        while let Some(outcome) = tasks.join_next().await {
            acquired += usize::from(outcome.unwrap());
        }
        assert_eq!(acquired, 1, "{}", db.label);
        // The old holder's release does not free the new holder's lease.
        stores[0].release_refresh_lease(&user_id, "next").await.unwrap();
        assert!(!stores[0].try_acquire_refresh_lease(&user_id, "after", LONG).await.unwrap());

        // A short lease really expires with time.
        let other = unique("u");
        assert!(stores[0].try_acquire_refresh_lease(&other, "short", Duration::from_millis(50)).await.unwrap());
        // sleep-ok: the expiry of a lease is what is under test
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(stores[1].try_acquire_refresh_lease(&other, "after-expiry", LONG).await.unwrap());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn note_cache_is_per_user_and_expires() {
    for db in databases().await {
        let store = db.open().await;
        let (user_a, user_b, session) = (unique("a"), unique("b"), unique("session"));
        store.put_cached_note(&user_a, &session, "first", LONG).await.unwrap();
        store.put_cached_note(&user_a, &session, "second", LONG).await.unwrap();
        assert_eq!(store.cached_note(&user_a, &session).await.unwrap().as_deref(), Some("second"));
        assert_eq!(store.cached_note(&user_b, &session).await.unwrap(), None);

        store.put_cached_note(&user_b, &session, "short", Duration::from_millis(50)).await.unwrap();
        // sleep-ok: the expiry of a cached note is what is under test
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(store.cached_note(&user_b, &session).await.unwrap(), None, "{}", db.label);
        // Expired rows are purged on the next write.
        store.put_cached_note(&user_a, &unique("session"), "other", LONG).await.unwrap();
        let left = db.raw_text("SELECT note FROM note_cache WHERE user_id = $1", &[&user_b]).await;
        assert_eq!(left, None);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn delete_user_removes_its_lease_pending_claims_and_notes() {
    for db in databases().await {
        let store = db.open().await;
        let id = unique("u");
        store.upsert_user(&user(&id)).await.unwrap();
        assert!(store.try_acquire_refresh_lease(&id, "holder", LONG).await.unwrap());
        store.put_cached_note(&id, "s", "note", LONG).await.unwrap();
        let logged = key(&id, &unique("logged"));
        record_call_log(&store, &logged, "crm-1").await;
        let pending = key(&id, &unique("pending"));
        insert_legacy_pending_claim(&db, &pending).await;

        assert!(store.delete_user(&id).await.unwrap(), "{}", db.label);
        assert_eq!(store.user(&id).await.unwrap(), None);
        assert!(store.try_acquire_refresh_lease(&id, "other", LONG).await.unwrap());
        assert_eq!(store.cached_note(&id, "s").await.unwrap(), None);
        let pending_left = db
            .raw_text("SELECT record_id FROM call_logs WHERE user_id = $1 AND third_party_log_id IS NULL", &[&id])
            .await;
        assert_eq!(pending_left, None, "{}", db.label);
        // The logged mapping stays: its CRM record still exists.
        assert!(store.find_call_log(&logged).await.unwrap().is_some());
        assert!(!store.delete_user(&id).await.unwrap());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn message_logs_are_per_user() {
    for db in databases().await {
        let store = db.open().await;
        let (user_a, user_b) = (unique("a"), unique("b"));
        let row = |user_id: &str, id: &str, crm: &str| MessageLogRow {
            id: id.to_owned(),
            user_id: user_id.to_owned(),
            platform: "sandbox".to_owned(),
            conversation_id: Some("conv".to_owned()),
            conversation_log_id: Some("conv-log".to_owned()),
            third_party_log_id: crm.to_owned(),
        };
        store.insert_message_log(&row(&user_a, "m-1", "crm-1")).await.unwrap();
        store.insert_message_log(&row(&user_a, "m-2", "crm-2")).await.unwrap();
        assert!(matches!(
            store.insert_message_log(&row(&user_a, "m-1", "crm-x")).await,
            Err(StoreError::AlreadyExists(_))
        ));
        // Another user may log the same message id.
        store.insert_message_log(&row(&user_b, "m-1", "crm-b")).await.unwrap();

        assert_eq!(store.message_log(&user_a, "m-1").await.unwrap(), Some(row(&user_a, "m-1", "crm-1")));
        assert_eq!(store.message_log(&user_b, "m-1").await.unwrap(), Some(row(&user_b, "m-1", "crm-b")));
        assert_eq!(store.message_log(&user_b, "m-2").await.unwrap(), None);
        assert_eq!(
            store.message_log_by_conversation(&user_a, "conv-log").await.unwrap().map(|it| it.third_party_log_id),
            Some("crm-1".to_owned()),
            "{}",
            db.label
        );
        assert_eq!(store.message_log_by_conversation(&unique("c"), "conv-log").await.unwrap(), None);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn admin_configs_round_trip_and_replace() {
    for db in databases().await {
        let store = db.open().await;
        let id = unique("hashed-account");
        assert_eq!(store.admin_config(&id).await.unwrap(), None);
        let mut config = AdminConfig {
            id: id.clone(),
            user_settings: UserSettings(serde_json::from_value(json!({"a": {"value": 1}})).unwrap()),
            user_mappings: json!([{"crmUserId": "7", "rcExtensionId": ["1", "2"]}]),
            ..AdminConfig::default()
        };
        store.put_admin_config(&config).await.unwrap();
        assert_eq!(store.admin_config(&id).await.unwrap(), Some(config.clone()));
        config.user_mappings = json!([]);
        store.put_admin_config(&config).await.unwrap();
        assert_eq!(store.admin_config(&id).await.unwrap(), Some(config.clone()), "{}", db.label);
        // Each part has its own writer, and none overwrites another's.
        let logging = json!({"activityOwner": "12"}).as_object().unwrap().clone();
        store.put_server_logging_settings(&id, &logging).await.unwrap();
        let mappings = json!([{"crmUserId": "8", "rcExtensionId": "3"}]);
        store.put_user_mappings(&id, &mappings).await.unwrap();
        store.put_admin_config(&AdminConfig { user_mappings: mappings.clone(), ..config.clone() }).await.unwrap();
        let stored = store.admin_config(&id).await.unwrap().unwrap();
        assert_eq!((stored.server_logging_settings, stored.user_mappings), (logging, mappings), "{}", db.label);
        // Admin confirmations expire.
        assert!(!store.is_account_admin(&id, "u-1", std::time::Duration::from_secs(60)).await.unwrap());
        store.record_account_admin(&id, "u-1").await.unwrap();
        store.record_account_admin(&id, "u-1").await.unwrap();
        assert!(store.is_account_admin(&id, "u-1", std::time::Duration::from_secs(60)).await.unwrap());
        assert!(!store.is_account_admin(&id, "u-2", std::time::Duration::from_secs(60)).await.unwrap());
        assert!(!store.is_account_admin(&unique("other"), "u-1", std::time::Duration::from_secs(60)).await.unwrap());
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_settings_changes_all_survive() {
    for db in databases().await {
        let stores = [db.open().await, db.open().await];
        let id = unique("u");
        stores[0].upsert_user(&user(&id)).await.unwrap();
        let mut tasks = JoinSet::new();
        for index in 0..50 {
            let (store, id) = (stores[index % 2].clone(), id.clone());
            tasks.spawn(async move {
                let change = |settings: &mut serde_json::Map<String, serde_json::Value>| {
                    settings.insert(format!("key{index}"), json!({"value": index}));
                    Ok::<(), ()>(())
                };
                assert!(matches!(store.change_user_settings(&id, change).await.unwrap(), SettingsChange::Changed(_)));
            });
        }
        while let Some(outcome) = tasks.join_next().await {
            outcome.unwrap();
        }
        let settings = stores[0].user(&id).await.unwrap().unwrap().user_settings;
        assert_eq!(settings.0.len(), 50, "{}: {:?}", db.label, settings.0.keys());

        // A refused change writes nothing; a missing user is said so.
        let refused = stores[0].change_user_settings(&id, |settings| {
            settings.clear();
            Err("too big")
        });
        assert!(matches!(refused.await.unwrap(), SettingsChange::Refused("too big")));
        assert_eq!(stores[0].user(&id).await.unwrap().unwrap().user_settings.0.len(), 50);
        let missing = stores[0].change_user_settings(&unique("u"), |_| Ok::<(), ()>(())).await;
        assert!(matches!(missing.unwrap(), SettingsChange::UserNotFound));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn sessions_end_one_by_one_all_at_once_and_with_their_user() {
    for db in databases().await {
        let store = db.open().await;
        let id = unique("u");
        store.upsert_user(&user(&id)).await.unwrap();
        let later = chrono::Utc::now() + chrono::Duration::days(14);
        let (first, second, third) = (unique("s"), unique("s"), unique("s"));
        for sid in [&first, &second, &third] {
            store.start_session(sid, &id, later).await.unwrap();
        }
        let issued = chrono::Utc::now().timestamp() - 1;
        let state = |sid: Option<String>| {
            let (store, id) = (store.clone(), id.clone());
            async move {
                let user = store.session_user(&id, sid.as_deref(), issued).await.unwrap();
                user.map(|sealed| store.open_user(&sealed).unwrap().id)
            }
        };
        let (active, ended) = (Some(id.clone()), None);
        assert_eq!(state(Some(first.clone())).await, active, "{}", db.label);
        assert_eq!(state(None).await, active, "a token from before sessions");
        // Another user's session id does not open this user's.
        assert!(store.session_user(&unique("u"), Some(&first), issued).await.unwrap().is_none());
        assert_eq!(state(Some(unique("s"))).await, ended);

        assert_eq!(store.end_sessions(&id, Some(&first), false).await.unwrap(), 1);
        assert_eq!(state(Some(first.clone())).await, ended, "{}", db.label);
        assert_eq!(state(Some(second.clone())).await, active);
        assert_eq!(state(None).await, ended, "tokens without a session end with any logout");

        store.extend_session(&second, later + chrono::Duration::days(7)).await.unwrap();
        assert_eq!(store.end_sessions(&id, None, true).await.unwrap(), 2);
        assert_eq!(state(Some(second.clone())).await, ended);
        assert_eq!(state(Some(third.clone())).await, ended);

        // A session of a deleted user is ended even if its row were left behind.
        let fourth = unique("s");
        store.start_session(&fourth, &id, later).await.unwrap();
        db.raw_execute("DELETE FROM users WHERE id = $1", &[&id]).await;
        assert_eq!(state(Some(fourth)).await, ended, "{}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn resealing_moves_every_token_to_the_current_key() {
    for db in databases().await {
        let (old_key, new_key) = (TokenCipher::generate_key(), TokenCipher::generate_key());
        let old = db.open_with(Some(TokenCipher::from_base64_key(&old_key).unwrap())).await;
        let ids: Vec<String> = (0..3).map(|_| unique("u")).collect();
        for id in &ids {
            old.upsert_user(&user(id)).await.unwrap();
        }
        let new_only = db.open_with(Some(TokenCipher::from_base64_key(&new_key).unwrap())).await;
        assert!(matches!(new_only.check_token_keys().await, Err(StoreError::Crypto(_))), "{}", db.label);

        let ring =
            db.open_with(Some(TokenCipher::from_base64_keys([new_key.as_str(), old_key.as_str()]).unwrap())).await;
        ring.check_token_keys().await.unwrap();
        let report = ring.reseal_tokens().await.unwrap();
        assert_eq!((report.resealed, report.current, report.skipped), (6, 0, 0), "{}", db.label);
        assert_eq!(ring.reseal_tokens().await.unwrap().current, 6);

        // Every token now opens with the new key alone, and the old key alone is refused at start-up.
        new_only.check_token_keys().await.unwrap();
        for id in &ids {
            assert_eq!(new_only.user(id).await.unwrap(), Some(user(id)), "{}", db.label);
        }
        assert!(matches!(old.check_token_keys().await, Err(StoreError::Crypto(_))));
        db.cleanup().await;
    }
}

fn job_subject(session: &str) -> JobSubject {
    JobSubject::call("u-1", "sandbox", session)
}

fn new_op(kind: OpKind, payload: &str) -> NewOp {
    NewOp { kind, payload: payload.to_owned(), fingerprint: payload.to_owned() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delivery_jobs_keep_order_merge_repeats_and_have_one_runner() {
    for db in databases().await {
        let (first, second) = (db.open().await, db.open().await);
        let subject = job_subject("s-1");
        let create = first.enqueue(&subject, &new_op(OpKind::CreateCall, "create-a")).await.unwrap();
        assert!(!create.merged);
        // A repeated create merges whatever its payload; a repeated identical update merges; others queue.
        let again = second.enqueue(&subject, &new_op(OpKind::CreateCall, "create-b")).await.unwrap();
        assert_eq!((again.op_id, again.merged), (create.op_id, true), "{}", db.label);
        let update = first.enqueue(&subject, &new_op(OpKind::UpdateCall, "note-1")).await.unwrap();
        let repeat = first.enqueue(&subject, &new_op(OpKind::UpdateCall, "note-1")).await.unwrap();
        assert_eq!((repeat.op_id, repeat.merged), (update.op_id, true));
        let other = first.enqueue(&subject, &new_op(OpKind::UpdateCall, "note-2")).await.unwrap();
        assert!(other.op_id > update.op_id);

        // Two instances race for due jobs: exactly one gets the lease.
        let ttl = Duration::from_secs(30);
        let (a, b) = tokio::join!(first.lease_due_job("a", ttl), second.lease_due_job("b", ttl));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.is_some() as u8 + b.is_some() as u8, 1, "{}", db.label);
        let (job, owner, store) = match a {
            Some(job) => (job, "a", &first),
            None => (b.unwrap(), "b", &second),
        };
        assert!(first.lease_job(&job.id, "c", ttl).await.unwrap().is_none(), "a live lease is not taken");
        let ops = store.job_ops(&job).await.unwrap();
        let kinds: Vec<(OpKind, &str)> = ops.iter().map(|op| (op.kind, op.payload.as_str())).collect();
        assert_eq!(
            kinds,
            [(OpKind::CreateCall, "create-b"), (OpKind::UpdateCall, "note-1"), (OpKind::UpdateCall, "note-2")]
        );
        // Payloads are sealed at rest.
        let stored = db.raw_text("SELECT payload FROM delivery_ops ORDER BY id LIMIT 1", &[]).await.unwrap();
        assert!(stored.starts_with("v2:") && !stored.contains("create"), "{stored}");

        let key = CallLogKey {
            user_id: "u-1".to_owned(),
            session_id: "s-1".to_owned(),
            extension_number: "101".to_owned(),
            hashed_extension_id: String::new(),
        };
        let logged = CompletedCallLog {
            record_id: "r-1".to_owned(),
            platform: "sandbox".to_owned(),
            contact_id: "c-1".to_owned(),
            log_id: "log-1".to_owned(),
        };
        let lost = first.complete_op(&job.id, "intruder", ops[0].id, Some((&key, &logged))).await;
        assert!(matches!(lost, Err(StoreError::LeaseLost(_))), "{lost:?}");
        assert!(first.find_call_log(&key).await.unwrap().is_none(), "a lost lease records nothing");
        store.complete_op(&job.id, owner, ops[0].id, Some((&key, &logged))).await.unwrap();
        assert_eq!(first.find_call_log(&key).await.unwrap().unwrap().third_party_log_id.as_deref(), Some("log-1"));
        assert!(!first.op_pending(ops[0].id).await.unwrap());

        // A temporary failure backs off; a permanent one stops the job and says why.
        store.defer_job(&job.id, owner, chrono::Utc::now() + chrono::Duration::hours(1), "503").await.unwrap();
        assert!(first.lease_job(&job.id, "c", ttl).await.unwrap().is_none(), "not due yet");
        assert!(first.retry_job(&job.id).await.unwrap());
        let job = first.lease_job(&job.id, "c", ttl).await.unwrap().expect("due after retry");
        first.fail_job(&job.id, "c", "422 rejected", r#"{"message":"no"}"#).await.unwrap();
        let summary = first.job_for(&subject).await.unwrap().unwrap();
        assert_eq!((summary.state, summary.pending_ops), (JobState::Failed, 2));
        assert_eq!(first.list_jobs(JobFilter::Failed).await.unwrap().len(), 1);
        // A new request revives it; dropping empties it.
        first.enqueue(&subject, &new_op(OpKind::Disposition, "d")).await.unwrap();
        assert_eq!(first.job_for(&subject).await.unwrap().unwrap().state, JobState::Queued);
        assert!(first.drop_job(&summary.id).await.unwrap());
        assert!(first.list_jobs(JobFilter::Open).await.unwrap().is_empty());

        // A runner that died leaves its lease to expire; another takes the job over.
        first.enqueue(&subject, &new_op(OpKind::UpdateCall, "note-3")).await.unwrap();
        let short = Duration::from_millis(1);
        let dead = first.lease_due_job("dead", short).await.unwrap().expect("due");
        let taken = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Some(job) = second.lease_due_job("alive", ttl).await.unwrap() {
                    return job;
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the expired lease is taken over");
        assert_eq!(taken.id, dead.id);
        assert!(!first.renew_job_lease(&dead.id, "dead", ttl).await.unwrap());
        second.release_job(&taken.id, "alive").await.unwrap();
        first.close().await;
        second.close().await;
        db.cleanup().await;
    }
}

/// Two instances batch creates of the same sessions at once, then record their completions at once (on SQLite two
/// batch connections on one file, one waiting for the other in SQLite's busy handler): each session gets one
/// operation, which every create of it names, and one mapping.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_batching_at_once_give_each_session_one_operation_and_one_mapping() {
    for db in databases().await {
        let stores = [db.open().await, db.open().await];
        let mut sessions: Vec<String> = (0..8).map(|_| unique("s-")).collect();
        sessions.sort_by(|a, b| job_subject(a).lock_order().cmp(&job_subject(b).lock_order()));
        let mut batches = JoinSet::new();
        for round in 0..3 {
            for (instance, store) in stores.iter().enumerate() {
                let (store, sessions) = (store.clone(), sessions.clone());
                batches.spawn(async move {
                    let items: Vec<Enqueue> = sessions
                        .iter()
                        .map(|session| Enqueue {
                            subject: job_subject(session),
                            op: new_op(OpKind::CreateCall, &format!("create-{round}-{instance}")),
                            lease: None,
                        })
                        .collect();
                    store.enqueue_many(&items).await
                });
            }
        }
        let mut ops_by_session = std::collections::HashMap::<usize, Vec<(i64, bool)>>::new();
        while let Some(outcomes) = batches.join_next().await {
            for (index, (enqueued, _)) in outcomes.unwrap().unwrap().into_iter().enumerate() {
                ops_by_session.entry(index).or_default().push((enqueued.op_id, enqueued.merged));
            }
        }
        for (index, ops) in &ops_by_session {
            assert_eq!(ops.len(), 6, "{}", db.label);
            assert!(ops.iter().all(|(op_id, _)| *op_id == ops[0].0), "{}: {ops:?}", db.label);
            assert_eq!(ops.iter().filter(|(_, merged)| !merged).count(), 1, "{}: session {index}", db.label);
        }

        // Each instance leases half of the jobs and both record them at once.
        let ttl = Duration::from_secs(30);
        let mut completions = [Vec::new(), Vec::new()];
        for (index, session) in sessions.iter().enumerate() {
            let (instance, owner) = (index % 2, format!("runner-{}", index % 2));
            let job = stores[0].job_for(&job_subject(session)).await.unwrap().unwrap();
            let job = stores[instance].lease_job(&job.id, &owner, ttl).await.unwrap().expect("a free job");
            let key = key("u-1", session);
            let logged = CompletedCallLog {
                record_id: format!("r-{session}"),
                platform: "sandbox".to_owned(),
                contact_id: "c-1".to_owned(),
                log_id: format!("log-{session}"),
            };
            let op_id = ops_by_session[&index][0].0;
            completions[instance].push(Completion { job_id: job.id, owner, op_id, call_log: Some((key, logged)) });
        }
        let [first, second] = &completions;
        let (a, b) = tokio::join!(stores[0].complete_ops(first), stores[1].complete_ops(second));
        for outcome in a.unwrap().into_iter().chain(b.unwrap()) {
            assert!(!outcome.unwrap(), "{}: the job's last operation is done, and the job idle", db.label);
        }
        for session in &sessions {
            let row = stores[1].find_call_log(&key("u-1", session)).await.unwrap().expect("one mapping");
            assert_eq!(row.third_party_log_id, Some(format!("log-{session}")), "{}", db.label);
            assert_eq!(stores[0].job_for(&job_subject(session)).await.unwrap().unwrap().pending_ops, 0);
        }
        for store in &stores {
            store.close().await;
        }
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_jobs_are_purged_after_their_retention_and_pending_ones_never() {
    for db in databases().await {
        let store = db.open().await;
        let (done, pending) = (job_subject("s-done"), job_subject("s-pending"));
        let created = store.enqueue(&done, &new_op(OpKind::CreateCall, "create")).await.unwrap();
        let ttl = Duration::from_secs(30);
        let job = store.lease_job(&created.job_id, "runner", ttl).await.unwrap().expect("due");
        store.complete_op(&job.id, "runner", created.op_id, None).await.unwrap();
        store.release_job(&job.id, "runner").await.unwrap();
        assert_eq!(store.job_for(&done).await.unwrap().unwrap().state, JobState::Idle, "{}", db.label);
        store.enqueue(&pending, &new_op(OpKind::UpdateCall, "note")).await.unwrap();

        assert_eq!(store.purge_idle_jobs(Duration::from_secs(3600)).await.unwrap(), 0, "within the retention");
        // With no retention the idle job goes as soon as the clock has moved past its last change.
        let purged = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match store.purge_idle_jobs(Duration::ZERO).await.unwrap() {
                    0 => tokio::task::yield_now().await,
                    purged => return purged,
                }
            }
        })
        .await
        .expect("the idle job is purged");
        assert_eq!(purged, 1, "{}", db.label);
        assert!(store.job_for(&done).await.unwrap().is_none(), "{}", db.label);
        assert_eq!(store.job_for(&pending).await.unwrap().unwrap().state, JobState::Queued, "{}", db.label);
        // The session's next request makes its job again.
        store.enqueue(&done, &new_op(OpKind::UpdateCall, "later")).await.unwrap();
        assert_eq!(store.job_for(&done).await.unwrap().unwrap().pending_ops, 1);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_leases_and_marks_its_create_in_its_enqueue_and_the_last_completion_lets_go() {
    for db in databases().await {
        let store = db.open().await;
        let subject = job_subject("s-one-commit");
        let ttl = Duration::from_secs(30);
        let lease = Some(("request-a", ttl));
        let (created, leased) =
            store.enqueue_and_lease(&subject, &new_op(OpKind::CreateCall, "create"), lease).await.unwrap();
        let job = leased.expect("a free, due job is leased with the enqueue");
        assert_eq!(job.marked_create, Some(created.op_id), "{}", db.label);
        let ops = store.job_ops(&job).await.unwrap();
        assert!(ops[0].sent_at.is_some(), "the create is marked sent in the same commit: {}", db.label);

        // Held: another request's enqueue neither leases nor marks anything.
        let (update, other) = store
            .enqueue_and_lease(&subject, &new_op(OpKind::UpdateCall, "note"), Some(("request-b", ttl)))
            .await
            .unwrap();
        assert!(other.is_none(), "{}", db.label);
        assert!(store.complete_op(&job.id, "request-a", created.op_id, None).await.unwrap(), "the update is left");
        assert!(!store.complete_op(&job.id, "request-a", update.op_id, None).await.unwrap(), "{}", db.label);
        assert_eq!(store.job_for(&subject).await.unwrap().unwrap().state, JobState::Idle, "{}", db.label);

        // A create whose earlier attempt was sent keeps that mark: the next lease reconciles, it does not own it.
        let retry = job_subject("s-unknown-outcome");
        let first = store.enqueue(&retry, &new_op(OpKind::CreateCall, "create")).await.unwrap();
        store.mark_op_sent(first.op_id, true).await.unwrap();
        let (again, leased) =
            store.enqueue_and_lease(&retry, &new_op(OpKind::CreateCall, "create again"), lease).await.unwrap();
        assert_eq!(again.op_id, first.op_id, "merged into the pending create: {}", db.label);
        assert_eq!(leased.expect("due and free").marked_create, None, "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}
