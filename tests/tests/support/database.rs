//! The database end-to-end tests start servers on: a SQLite file, or a private schema of the PostgreSQL server of
//! `CALLBRIDGE_TEST_POSTGRES_URL`, dropped afterwards. Included by the test files that need it (`#[path]`).

/// The database the servers share: a SQLite file, or a private PostgreSQL schema dropped afterwards.
pub struct Database {
    pub url: String,
    postgres_schema: Option<(String, String)>,
}

impl Database {
    pub async fn new(postgres: bool, dir: &tempfile::TempDir) -> Database {
        if !postgres {
            let url = dir.path().join("callbridge.db").display().to_string();
            return Database { url, postgres_schema: None };
        }
        let base = callbridge_host::config::test_postgres_url().expect("CALLBRIDGE_TEST_POSTGRES_URL");
        let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let schema = format!("e2e_{}_{unique}", std::process::id());
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.unwrap();
        admin.close().await;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        Database { url, postgres_schema: Some((base, schema)) }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let Some((base, schema)) = self.postgres_schema.take() else { return };
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&base).await.ok()?;
                let statement = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                let result = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&admin).await;
                admin.close().await;
                result.ok()
            })
        });
        // A schema that cannot be dropped now is only litter; the test result stands.
        drop(dropped.join());
    }
}
