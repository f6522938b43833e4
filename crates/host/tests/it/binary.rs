//! The real binary over TCP: with no configuration at all it creates its SQLite file and secrets, serves the
//! sandbox, keeps its secrets across restarts, and stops cleanly on SIGTERM.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on right now.
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// One HTTP/1.1 exchange; returns the status and the raw body.
fn http(addr: SocketAddr, method: &str, target: &str, body: &str) -> Option<(u16, String)> {
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
    Command::new(env!("CARGO_BIN_EXE_callbridge"))
        .arg("serve")
        .current_dir(dir)
        .env("CALLBRIDGE_ADDR", addr.to_string())
        .env("CALLBRIDGE_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("APP_SERVER_SECRET_KEY")
        .env_remove("HASH_KEY")
        .env_remove("CALLBRIDGE_TOKEN_KEY")
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
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM, waits for a clean exit and returns what the server logged.
fn stop(mut child: Child) -> String {
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
