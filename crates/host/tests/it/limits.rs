//! Bounded resources: stored data has byte limits (in process, both back ends), and through the real binary over
//! TCP: metrics labels stay bounded under junk methods, `/metrics` can be guarded or moved, slow-header, idle and
//! slow-body connections are closed, the connection limit queues clients until a slot frees, and rate limits
//! answer 429 with `Retry-After`.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::both_backends;
use crate::support::{Backend, free_addr, get, json_request, sandbox_app, sandbox_login, send, unique_key};

both_backends!(stored_data_is_bounded);

async fn stored_data_is_bounded(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let huge = "x".repeat(900_000);
    let login = json!({"platform": "sandbox", "apiKey": huge, "hostname": "sandbox.test"});
    let refused = send(&app, json_request(Method::POST, "/apiKeyLogin", &login)).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(refused.text(), "Request body is too large: the limit for /apiKeyLogin is 16 KiB.");

    let jwt = sandbox_login(&app, &unique_key()).await;
    let settings_uri = format!("/user/settings?jwtToken={jwt}");
    let post = |body: serde_json::Value| json_request(Method::POST, &settings_uri, &body);
    let big = send(&app, post(json!({"userSettings": {"big": {"value": "x".repeat(20_000)}}}))).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(big.text().contains("the limit is 16 KiB per setting"), "{}", big.text());
    // Settings accumulate over requests: the stored total is bounded too, and a refused write changes nothing.
    let mut refused_at = None;
    for round in 0..30 {
        let body = json!({"userSettings": {format!("s{round}"): {"value": "y".repeat(15_000)}}});
        let answer = send(&app, post(body)).await;
        if answer.status == StatusCode::PAYLOAD_TOO_LARGE {
            assert!(answer.text().contains("the limit is 256 KiB"), "{}", answer.text());
            refused_at = Some(round);
            break;
        }
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
    let refused_at = refused_at.expect("the settings total is bounded");
    let stored = send(&app, get(&settings_uri)).await;
    assert!(stored.body.len() <= 256 * 1024);
    let stored = stored.json();
    assert!(stored.get(format!("s{}", refused_at - 1)).is_some());
    assert!(stored.get(format!("s{refused_at}")).is_none(), "a refused write stores nothing");
    let many: serde_json::Map<_, _> = (0..600).map(|it| (format!("k{it}"), json!(1))).collect();
    let many = send(&app, post(json!({"userSettings": many, "settingKeysToRemove": stored.as_object().unwrap().keys().collect::<Vec<_>>()}))).await;
    assert_eq!(many.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(many.text().contains("at most 500"), "{}", many.text());

    let note_uri = format!("/callLog/cacheNote?jwtToken={jwt}");
    let note =
        send(&app, json_request(Method::POST, &note_uri, &json!({"sessionId": "1", "note": "n".repeat(100_000)})));
    let note = note.await;
    assert_eq!(note.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(note.text().contains("/callLog/cacheNote is 64 KiB"), "{}", note.text());
    let small = send(&app, json_request(Method::POST, &note_uri, &json!({"sessionId": "1", "note": "a short note"})));
    assert_eq!(small.await.status, StatusCode::OK);

    let message = json!({"logInfo": {"messages": [{"subject": "m".repeat(600_000)}]}});
    let message = send(&app, json_request(Method::POST, &format!("/messageLog?jwtToken={jwt}"), &message)).await;
    assert_eq!(message.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(message.text().contains("/messageLog is 512 KiB"), "{}", message.text());
}

/// A running `callbridge serve` on a fresh SQLite file; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `env` on top of a clean environment and waits until it answers `/isAlive`.
async fn start(env: &[(&str, String)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let mut command = Command::new(env!("CARGO_BIN_EXE_callbridge"));
    command
        .arg("serve")
        .current_dir(dir.path())
        .env("CALLBRIDGE_ADDR", addr.to_string())
        .env("CALLBRIDGE_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut server = Server { child: command.spawn().unwrap(), addr, _dir: dir };
    for _ in 0..600 {
        if let Ok(Some((200, _))) =
            tokio::time::timeout(Duration::from_secs(2), exchange(addr, "GET /isAlive", "")).await
        {
            return server;
        }
        assert!(server.child.try_wait().unwrap().is_none(), "callbridge exited during start-up");
        // sleep-ok: poll interval of a start-up wait bounded to 600 tries
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("callbridge did not come up");
}

/// One request on its own connection (`Connection: close`); the status and body, or None if the connection failed.
async fn exchange(addr: SocketAddr, request_line: &str, extra_headers: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let head = format!("{request_line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra_headers}\r\n");
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    parse_response(&String::from_utf8_lossy(&response))
}

fn parse_response(response: &str) -> Option<(u16, String)> {
    let status = response.split(' ').nth(1)?.parse().ok()?;
    Some((status, response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()))
}

/// Reads until the server closes the connection (at most `limit`); what it sent, or None if it stayed open.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(limit, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
    closed.ok().map(|()| String::from_utf8_lossy(&received).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn junk_methods_do_not_grow_metrics_and_metrics_need_the_token() {
    let server = start(&[
        ("CALLBRIDGE_METRICS_TOKEN", "metrics-secret".to_owned()),
        ("CALLBRIDGE_RATE_LIMIT_IP", "0".to_owned()),
    ])
    .await;
    let addr = server.addr;
    let auth = "Authorization: Bearer metrics-secret\r\n";
    assert_eq!(exchange(addr, "GET /metrics", "").await.unwrap().0, 401);
    assert_eq!(exchange(addr, "GET /metrics", "Authorization: Bearer wrong\r\n").await.unwrap().0, 401);
    // One junk request first, so its `other` series exists before the baseline is taken.
    exchange(addr, "JUNK0 /isAlive", "").await.unwrap();
    let (status, before) = exchange(addr, "GET /metrics", auth).await.unwrap();
    assert_eq!(status, 200);

    // 5,000 distinct junk methods (half of them long) on 8 kept-alive connections.
    let senders = (0..8).map(|connection| {
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buffer = vec![0u8; 64 * 1024];
            for index in 0..625 {
                let method = format!("JUNK{connection}X{index}{}", "Z".repeat((index % 2) * 2000));
                let path = if index % 3 == 0 { "/isAlive" } else { "/no/such/path" };
                let request = format!("{method} {path}?x={index} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                stream.write_all(request.as_bytes()).await.unwrap();
                let read = stream.read(&mut buffer).await.unwrap();
                let head = String::from_utf8_lossy(&buffer[..read]);
                assert!(head.starts_with("HTTP/1.1 4"), "{head}");
            }
        })
    });
    for sender in senders.collect::<Vec<_>>() {
        sender.await.unwrap();
    }
    let (_, after) = exchange(addr, "GET /metrics", auth).await.unwrap();
    assert!(!after.contains("JUNK") && !after.contains("/no/such/path"), "junk became a label value");
    let series = |text: &str| text.lines().filter(|line| !line.starts_with('#')).count();
    // The baseline answer and the 5,000 junk requests may add a handful of series (the `/metrics` route's own
    // histogram, the 405 of `/isAlive`), never one per method.
    assert!(series(&after) <= series(&before) + 40, "{} -> {} series", series(&before), series(&after));
    assert!(after.len() < before.len() * 2 + 8 * 1024, "{} -> {} bytes", before.len(), after.len());
    eprintln!("metrics after 5,000 junk methods: {} -> {} bytes", before.len(), after.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_have_an_address_of_their_own() {
    let metrics_addr = free_addr();
    let server = start(&[("CALLBRIDGE_METRICS_ADDR", metrics_addr.to_string())]).await;
    assert_eq!(exchange(server.addr, "GET /metrics", "").await.unwrap().0, 404);
    let (status, text) = exchange(metrics_addr, "GET /metrics", "").await.unwrap();
    assert_eq!(status, 200);
    assert!(text.contains("callbridge_http_requests_total"), "{text}");
    assert_eq!(exchange(metrics_addr, "GET /isAlive", "").await.unwrap().0, 404, "only metrics there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_header_idle_and_slow_body_connections_are_closed() {
    let server =
        start(&[("CALLBRIDGE_HEADER_TIMEOUT", "1".to_owned()), ("CALLBRIDGE_BODY_TIMEOUT", "1".to_owned())]).await;
    let addr = server.addr;
    let limit = Duration::from_secs(20);
    let mut tasks = Vec::new();
    for kind in ["slow-header", "idle", "kept-alive", "slow-body"].into_iter().cycle().take(200) {
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            match kind {
                "slow-header" => stream.write_all(b"GET /isAlive HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap(),
                "idle" => {}
                "kept-alive" => stream.write_all(b"GET /isAlive HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap(),
                _ => {
                    let head = "POST /apiKeyLogin HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{";
                    stream.write_all(head.as_bytes()).await.unwrap();
                }
            }
            let received = read_until_closed(&mut stream, limit).await;
            (kind, received)
        }));
    }
    // The server answers others while those connections hang.
    assert_eq!(exchange(addr, "GET /isAlive", "").await.unwrap().0, 200);
    let mut closed = 0;
    for task in tasks {
        let (kind, received) = task.await.unwrap();
        let received = received.unwrap_or_else(|| panic!("a {kind} connection stayed open"));
        match kind {
            "kept-alive" => assert!(received.starts_with("HTTP/1.1 200"), "{received}"),
            "slow-body" => {
                assert!(received.starts_with("HTTP/1.1 408"), "{received}");
                assert!(received.contains("the limit is 1 s"), "{received}");
            }
            _ => assert_eq!(received, "", "{kind}"),
        }
        closed += 1;
    }
    assert_eq!(closed, 200);
    assert_eq!(exchange(addr, "GET /isAlive", "").await.unwrap().0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_the_connection_limit_clients_wait_for_a_free_slot() {
    let server =
        start(&[("CALLBRIDGE_MAX_CONNECTIONS", "4".to_owned()), ("CALLBRIDGE_HEADER_TIMEOUT", "60".to_owned())]).await;
    let addr = server.addr;
    // Four kept-alive connections that have been answered once hold every slot.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /isAlive HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buffer = [0u8; 1024];
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
        held.push(stream);
    }
    let waiting = tokio::spawn(exchange(addr, "GET /isAlive", ""));
    // Bounded wait for an answer that must not come while every slot is held.
    // sleep-ok: an answer that must NOT come can only be waited for a while
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "a fifth connection was served beyond the limit of four");
    drop(held.pop());
    let answered = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("served once a slot freed");
    assert_eq!(answered.unwrap().unwrap().0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limits_answer_429_with_retry_after() {
    let server =
        start(&[("CALLBRIDGE_RATE_LIMIT_IP", "3".to_owned()), ("CALLBRIDGE_RATE_LIMIT_USER", "1".to_owned())]).await;
    let addr = server.addr;
    let login = r#"{"platform":"sandbox","apiKey":"rate-limit-key","hostname":"sandbox.test"}"#;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /apiKeyLogin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{login}",
        login.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(10)).await.unwrap();
    let (status, body) = parse_response(&answer).unwrap();
    assert_eq!(status, 200, "{body}");
    let jwt = serde_json::from_str::<serde_json::Value>(&body).unwrap()["jwtToken"].as_str().unwrap().to_owned();

    // Per user: a burst of 10, then 1 a second.
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let answer = exchange_raw(addr, &format!("GET /user/settings?jwtToken={jwt}")).await;
        statuses.push(parse_response(&answer).unwrap().0);
        if statuses.last() == Some(&429) {
            assert!(answer.to_ascii_lowercase().contains("\r\nretry-after: "), "{answer}");
            assert!(answer.contains("the limit is 1 a second per user"), "{answer}");
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses.iter().filter(|it| **it == 200).count() >= 9, "{statuses:?}");

    // Per client address: a burst of 30, then 3 a second.
    let mut limited = None;
    for _ in 0..40 {
        let answer = exchange_raw(addr, "GET /isAlive").await;
        if parse_response(&answer).unwrap().0 == 429 {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("the per-address limit answered 429");
    assert!(limited.contains("the limit is 3 a second per client address"), "{limited}");
    let retry_after = limited
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("retry-after: ").map(str::to_owned))
        .expect("Retry-After");
    assert!(retry_after.trim().parse::<u64>().unwrap() >= 1, "{retry_after}");
}

/// One request on its own connection; the whole raw answer.
async fn exchange_raw(addr: SocketAddr, request_line: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!("{request_line} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    read_until_closed(&mut stream, Duration::from_secs(10)).await.unwrap()
}
