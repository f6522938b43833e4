//! The real binary over TCP: with no configuration at all it creates its SQLite file and its key file (both 0600),
//! serves the sandbox, keeps its secrets across restarts, and stops cleanly on SIGTERM. The database alone yields
//! no secret; secrets an earlier version stored in the database move out; keys rotate; connectors can be chosen.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::free_addr;

/// One HTTP/1.1 exchange; returns the status and the raw body.
pub(crate) fn http(addr: SocketAddr, method: &str, target: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Some((status, body))
}

fn start(dir: &Path, addr: SocketAddr) -> Child {
    start_with(dir, addr, &[])
}

/// The binary with the secrets and database variables cleared, run in `dir`.
fn callbridge(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_callbridge"));
    command.current_dir(dir);
    for variable in [
        "DATABASE_URL",
        "APP_SERVER_SECRET_KEY",
        "APP_SERVER_SECRET_KEY_FILE",
        "HASH_KEY",
        "HASH_KEY_FILE",
        "CALLBRIDGE_TOKEN_KEY",
        "CALLBRIDGE_TOKEN_KEY_FILE",
        "CALLBRIDGE_KEY_FILE",
        "CALLBRIDGE_CONNECTORS",
    ] {
        command.env_remove(variable);
    }
    command
}

fn start_with(dir: &Path, addr: SocketAddr, env: &[(&str, &str)]) -> Child {
    callbridge(dir)
        .arg("serve")
        .envs(env.iter().copied())
        .current_dir(dir)
        .env("CALLBRIDGE_ADDR", addr.to_string())
        .env("CALLBRIDGE_LOG", "info")
        .env_remove("CALLBRIDGE_PUBLIC_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_until_alive(addr: SocketAddr, child: &mut Child) {
    let started = Instant::now();
    loop {
        if let Some((200, body)) = http(addr, "GET", "/isAlive", "") {
            assert_eq!(body, "OK");
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("callbridge exited early with {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "callbridge did not come up");
        // sleep-ok: poll interval of a wait bounded by the deadline above
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM, waits for a clean exit and returns what the server logged.
pub(crate) fn stop(mut child: Child) -> String {
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(exit.success(), "exit {exit}; log:\n{log}");
    log
}

#[test]
fn zero_config_start_serves_the_sandbox_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let mut child = start(dir.path(), addr);
    wait_until_alive(addr, &mut child);
    assert!(dir.path().join("callbridge.db").exists());

    let (status, manifest) = http(addr, "GET", "/crmManifest", "").unwrap();
    assert_eq!(status, 200);
    assert!(manifest.contains(&format!("\"serverUrl\":\"http://{addr}\"")), "{manifest}");
    assert!(manifest.contains("\"sandbox\""), "{manifest}");

    let api_key = "binary-test-api-key-4711";
    let login = format!(r#"{{"platform":"sandbox","apiKey":"{api_key}","hostname":"sandbox.test"}}"#);
    let (status, answer) = http(addr, "POST", "/apiKeyLogin", &login).unwrap();
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let jwt = answer["jwtToken"].as_str().unwrap().to_owned();
    let (status, found) = http(addr, "GET", &format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"), "").unwrap();
    assert_eq!(status, 200);
    assert!(found.contains("Grace Hopper"), "{found}");

    let log = stop(child);
    assert!(log.contains("Generated a secret"), "{log}");
    for secret in [api_key, jwt.as_str(), "4155550123"] {
        assert!(!log.contains(secret), "the log shows a secret or a phone number:\n{log}");
    }

    // The secrets were stored: after a restart the old session token still works, and nothing is generated.
    let addr = free_addr();
    let mut child = start(dir.path(), addr);
    wait_until_alive(addr, &mut child);
    let (status, settings) = http(addr, "GET", &format!("/user/settings?jwtToken={jwt}"), "").unwrap();
    assert_eq!((status, settings.as_str()), (200, "{}"));
    let log = stop(child);
    assert!(!log.contains("Generated a secret"), "{log}");
}

#[test]
fn migrate_creates_the_database_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("migrated.db");
    let output =
        Command::new(env!("CARGO_BIN_EXE_callbridge")).arg("migrate").env("DATABASE_URL", &database).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(database.exists());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Database migrations applied."));
    let output = Command::new(env!("CARGO_BIN_EXE_callbridge"))
        .args(["migrate", "--database-url", "mysql://nope"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported database url"));
}

/// Logs into the sandbox of the server at `addr`; returns the session token.
fn login(addr: SocketAddr, api_key: &str) -> String {
    let login = format!(r#"{{"platform":"sandbox","apiKey":"{api_key}","hostname":"sandbox.test"}}"#);
    let (status, answer) = http(addr, "POST", "/apiKeyLogin", &login).unwrap();
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    answer["jwtToken"].as_str().unwrap().to_owned()
}

/// The status of `GET /user/settings` with `jwt`.
fn settings_status(addr: SocketAddr, jwt: &str) -> u16 {
    http(addr, "GET", &format!("/user/settings?jwtToken={jwt}"), "").unwrap().0
}

/// A server started in `dir` and answering, with its address.
pub(crate) fn serving(dir: &Path, env: &[(&str, &str)]) -> (SocketAddr, Child) {
    let addr = free_addr();
    let mut child = start_with(dir, addr, env);
    wait_until_alive(addr, &mut child);
    (addr, child)
}

/// Asserts that a contact lookup with `jwt` (which opens the user's sealed API key) finds the sandbox contact.
fn assert_contact_found(addr: SocketAddr, jwt: &str) {
    let (status, found) = http(addr, "GET", &format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"), "").unwrap();
    assert!(status == 200 && found.contains("Grace Hopper"), "{status}: {found}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn key_file(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("callbridge.keys")).unwrap()).unwrap()
}

/// Every byte SQLite keeps for the database: the file and its write-ahead log.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in ["callbridge.db", "callbridge.db-wal", "callbridge.db-shm"] {
        bytes.extend(std::fs::read(dir.join(name)).unwrap_or_default());
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|it| it == needle)
}

/// Runs a statement on the (stopped) server's database.
fn sql(dir: &Path, statement: &str) -> Vec<(String, String)> {
    let url = format!("sqlite://{}", dir.join("callbridge.db").display());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(statement.to_owned())).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    })
}

#[cfg(unix)]
#[test]
fn the_database_alone_yields_no_secret_and_its_files_are_private() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let (addr, child) = serving(dir.path(), &[]);
    let api_key = "private-api-key-5e3f9a";
    let jwt = login(addr, api_key);
    // Written while serving: the write-ahead log and shared-memory files exist now.
    for name in ["callbridge.db", "callbridge.db-wal", "callbridge.db-shm", "callbridge.keys"] {
        assert_eq!(mode(&dir.path().join(name)), 0o600, "{name}");
    }
    let log = stop(child);
    assert!(log.contains("Created the key file") && log.contains("callbridge.keys"), "{log}");

    let keys = key_file(dir.path());
    let token_key = keys["token_keys"][0].as_str().unwrap();
    let jwt_secret = keys["jwt_secrets"][0]["secret"].as_str().unwrap();
    let hash_key = keys["hash_key"].as_str().unwrap();
    let database = database_bytes(dir.path());
    let raw_token_key = base64::engine::general_purpose::STANDARD.decode(token_key).unwrap();
    for secret in [token_key.as_bytes(), &raw_token_key, jwt_secret.as_bytes(), hash_key.as_bytes(), api_key.as_bytes()]
    {
        assert!(!contains(&database, secret), "the database holds a secret");
    }

    // A copy of the database without the key file: a server refuses to run on it rather than start with new keys
    // (its tokens cannot be opened with them).
    let stolen = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("callbridge.db"), stolen.path().join("callbridge.db")).unwrap();
    let output =
        callbridge(stolen.path()).arg("serve").env("CALLBRIDGE_ADDR", free_addr().to_string()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be opened with these token keys"), "{stderr}");

    // The real key file still opens everything after a restart.
    let (addr, child) = serving(dir.path(), &[]);
    assert_eq!(settings_status(addr, &jwt), 200);
    assert_contact_found(addr, &jwt);
    stop(child);
}

#[test]
fn secrets_an_earlier_version_stored_in_the_database_move_to_the_key_file() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let (addr, child) = serving(dir.path(), &[]);
    let jwt = login(addr, "moved-api-key-77");
    stop(child);

    // Rebuild the old layout: secrets in `server_secrets`, tokens as `v1:` without a key id, no key file.
    let keys = key_file(dir.path());
    let (token_key, jwt_secret) =
        (keys["token_keys"][0].as_str().unwrap(), keys["jwt_secrets"][0]["secret"].as_str().unwrap());
    let hash_key = keys["hash_key"].as_str().unwrap();
    sql(
        dir.path(),
        &format!(
            "INSERT INTO server_secrets (name, value, created_at_ms) VALUES ('token_key', '{token_key}', 0),
             ('app_server_secret_key', '{jwt_secret}', 0), ('hash_key', '{hash_key}', 0) RETURNING name, value"
        ),
    );
    sql(dir.path(), "UPDATE users SET access_token = 'v1:' || substr(access_token, 21) RETURNING id, access_token");
    std::fs::remove_file(dir.path().join("callbridge.keys")).unwrap();
    // A token of the old server had no session id.
    let claims = callbridge_host::jwt::JwtKeys::new(jwt_secret.as_bytes()).verify(&jwt).unwrap();
    let old_token = callbridge_host::jwt::JwtKeys::new(jwt_secret.as_bytes())
        .issue(&claims.id, claims.platform.as_deref(), None)
        .unwrap();

    let (addr, child) = serving(dir.path(), &[]);
    assert_eq!(settings_status(addr, &old_token), 200);
    assert_contact_found(addr, &old_token);
    let log = stop(child);
    assert!(log.contains("Moving a secret from the database to the key file"), "{log}");
    assert_eq!(key_file(dir.path()), keys, "the moved secrets are the old ones");
    assert!(sql(dir.path(), "SELECT name, value FROM server_secrets").is_empty());
    let raw_token_key = base64::engine::general_purpose::STANDARD.decode(token_key).unwrap();
    let database = database_bytes(dir.path());
    assert!(!contains(&database, token_key.as_bytes()) && !contains(&database, &raw_token_key));
}

#[test]
fn keys_rotate_reseals_tokens_and_jwt_rotation_keeps_or_cuts_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, child) = serving(dir.path(), &[]);
    let jwt = login(addr, "rotated-api-key-31");

    let rotate = |args: &[&str]| {
        let output = callbridge(dir.path()).args(["keys", "rotate"]).args(args).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // Rotated while the server runs: it reads the key file again when it meets a token sealed under the new key.
    let summary = rotate(&[]);
    assert!(summary.contains("1 stored tokens sealed again"), "{summary}");
    assert_contact_found(addr, &jwt);
    let log = stop(child);
    assert!(log.contains("Reloaded the token keys"), "{log}");
    let keys = key_file(dir.path());
    assert_eq!(keys["token_keys"].as_array().unwrap().len(), 2);
    let tokens = sql(dir.path(), "SELECT id, access_token FROM users");
    let new_id = summary.split("Token key ").nth(1).unwrap().split(' ').next().unwrap();
    assert!(tokens.iter().all(|(_, token)| token.starts_with(&format!("v2:{new_id}:"))), "{tokens:?}");

    // A new JWT secret: old tokens keep working until they expire, new ones are signed with the new secret.
    rotate(&["--jwt"]);
    let (addr, child) = serving(dir.path(), &[]);
    assert_eq!(settings_status(addr, &jwt), 200);
    assert_contact_found(addr, &jwt);
    let fresh = login(addr, "rotated-api-key-31");
    stop(child);

    // A cut-over refuses everything signed before it.
    rotate(&["--jwt", "--cut-over"]);
    let (addr, child) = serving(dir.path(), &[]);
    assert_eq!((settings_status(addr, &jwt), settings_status(addr, &fresh)), (400, 400));
    let newest = login(addr, "rotated-api-key-31");
    assert_eq!(settings_status(addr, &newest), 200);
    stop(child);
}

#[test]
fn callbridge_connectors_chooses_what_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, child) = serving(dir.path(), &[("CALLBRIDGE_CONNECTORS", "-sandbox")]);
    let login = r#"{"platform":"sandbox","apiKey":"k","hostname":"sandbox.test"}"#;
    let (status, answer) = http(addr, "POST", "/apiKeyLogin", login).unwrap();
    assert_ne!(status, 200, "{answer}");
    let (_, manifest) = http(addr, "GET", "/crmManifest", "").unwrap();
    assert!(!manifest.contains("\"sandbox\""), "{manifest}");
    stop(child);

    let output = callbridge(dir.path()).arg("serve").env("CALLBRIDGE_CONNECTORS", "hubspot-nope").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown connector `hubspot-nope`"));
    let help = callbridge(dir.path()).args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("CALLBRIDGE_CONNECTORS"));
}

#[test]
fn connector_settings_are_typed_a_bad_value_stops_start_up_and_an_unknown_one_warns_once() {
    let dir = tempfile::tempdir().unwrap();
    let output = callbridge(dir.path())
        .arg("serve")
        .env("CALLBRIDGE_ADDR", free_addr().to_string())
        .env("CALLBRIDGE_PIPEDRIVE_ACCESS_TOKEN_URI", "not a url")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{log}");
    assert!(log.contains("CALLBRIDGE_PIPEDRIVE_ACCESS_TOKEN_URI is not valid"), "{log}");

    let (_, child) =
        serving(dir.path(), &[("CALLBRIDGE_PIPEDRIVE_CLIENT_IDD", "typo"), ("INSIGHTLY_API_VERISON", "v3")]);
    let log = stop(child);
    for variable in ["CALLBRIDGE_PIPEDRIVE_CLIENT_IDD", "CALLBRIDGE_INSIGHTLY_API_VERISON"] {
        assert_eq!(log.matches(variable).count(), 1, "{variable} is warned about once:\n{log}");
    }
    assert!(log.contains("Ignoring an unknown connector setting"), "{log}");
}

#[test]
fn configured_secrets_win_from_files_and_no_key_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let files = [
        ("CALLBRIDGE_TOKEN_KEY_FILE", "token", callbridge_host::crypto::TokenCipher::generate_key()),
        ("APP_SERVER_SECRET_KEY_FILE", "jwt", "configured-jwt-secret".to_owned()),
        ("HASH_KEY_FILE", "hash", "configured-hash-key".to_owned()),
    ];
    let mut env = Vec::new();
    for (variable, name, value) in &files {
        let path = secrets.path().join(name);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        env.push((*variable, path.display().to_string()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(variable, path)| (*variable, path.as_str())).collect();
    let (addr, child) = serving(dir.path(), &env);
    let jwt = login(addr, "configured-api-key-9");
    assert_contact_found(addr, &jwt);
    stop(child);
    assert!(!dir.path().join("callbridge.keys").exists());
    // The session token is signed with the configured secret.
    assert!(callbridge_host::jwt::JwtKeys::new(b"configured-jwt-secret").verify(&jwt).is_some());
    let (addr, child) = serving(dir.path(), &env);
    assert_contact_found(addr, &jwt);
    stop(child);
}

#[test]
fn jobs_lists_retries_and_drops_delivery_jobs() {
    use callbridge_host::store::{JobSubject, NewOp, OpKind, Store};
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("jobs.db").display().to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let job_id = runtime.block_on(async {
        let store = Store::connect(&database).await.unwrap();
        store.migrate().await.unwrap();
        let cipher = callbridge_host::crypto::TokenCipher::from_base64_key(
            &callbridge_host::crypto::TokenCipher::generate_key(),
        );
        let store = store.with_cipher(cipher.unwrap());
        let op = NewOp { kind: OpKind::CreateCall, payload: "{}".to_owned(), fingerprint: "f".to_owned() };
        let enqueued = store.enqueue(&JobSubject::call("u-7-mockcrm", "mockcrm", "s-1"), &op).await.unwrap();
        let job = store.lease_job(&enqueued.job_id, "runner", Duration::from_secs(30)).await.unwrap().unwrap();
        store.fail_job(&job.id, "runner", "rejected: bad contact (upstream status 422)", "{}").await.unwrap();
        store.close().await;
        enqueued.job_id
    });
    let jobs = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_callbridge"))
            .args(["jobs", "--database-url", &database])
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (ok, listed) = jobs(&["list", "--failed"]);
    assert!(ok, "{listed}");
    assert!(listed.contains(&job_id) && listed.contains("failed") && listed.contains("u-7-mockcrm"), "{listed}");
    assert!(listed.contains("upstream status 422") && listed.contains("1 job(s)"), "{listed}");
    assert!(jobs(&["retry", &job_id]).0);
    assert!(jobs(&["list", "--failed"]).1.contains("0 job(s)"));
    assert!(jobs(&[]).1.contains(&job_id), "a retried job is still pending");
    assert!(jobs(&["drop", &job_id]).0);
    assert!(jobs(&[]).1.contains("0 job(s)"));
    let (ok, refused) = jobs(&["retry", "no-such-job"]);
    assert!(!ok && refused.contains("no job no-such-job"), "{refused}");
}
