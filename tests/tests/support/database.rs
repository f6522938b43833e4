//! The database end-to-end tests start servers on: a SQLite file, or a private schema of the PostgreSQL server of
//! `CALLBRIDGE_TEST_POSTGRES_URL`, dropped afterwards. Included by the test files that need it (`#[path]`).

use callbridge_host::test_schema::TestSchema;

/// The database the servers share: a SQLite file, or a private PostgreSQL schema dropped afterwards.
pub struct Database {
    pub url: String,
    _postgres_schema: Option<TestSchema>,
}

impl Database {
    pub async fn new(postgres: bool, dir: &tempfile::TempDir) -> Database {
        if !postgres {
            let url = dir.path().join("callbridge.db").display().to_string();
            return Database { url, _postgres_schema: None };
        }
        let schema = TestSchema::create("e2e_").await;
        Database { url: schema.url().to_owned(), _postgres_schema: Some(schema) }
    }
}
