//! A private schema of the test PostgreSQL server (`CALLBRIDGE_TEST_POSTGRES_URL`) for one test's servers and
//! stores, dropped when the test is done. Shared by the host's integration tests and the end-to-end tests.

/// A schema made for one test; [`TestSchema::url`] opens the server with it as the search path.
pub struct TestSchema {
    base: String,
    name: String,
    url: String,
}

impl TestSchema {
    /// Makes a schema named `<prefix><unique id>` on the test server.
    ///
    /// # Panics
    ///
    /// When `CALLBRIDGE_TEST_POSTGRES_URL` is not set or the schema cannot be made: a test only asks for one after
    /// checking that PostgreSQL is configured.
    pub async fn create(prefix: &str) -> TestSchema {
        let base = crate::config::test_postgres_url().expect("CALLBRIDGE_TEST_POSTGRES_URL");
        let name = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&base).await.expect("the test PostgreSQL server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).execute(&admin).await.expect("a test schema");
        admin.close().await;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{name}");
        TestSchema { base, name, url }
    }

    /// The server's URL with this schema as the search path.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&base).await.ok()?;
                let statement = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                let result = sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&admin).await;
                admin.close().await;
                result.ok()
            })
        });
        // A schema that cannot be dropped now is only litter; the test result stands.
        drop(dropped.join());
    }
}
