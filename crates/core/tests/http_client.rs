//! `HttpClient` against a wiremock CRM (and a CRM that resets the connection): retries, `Retry-After`, the budget,
//! the POST rule, the override origin, rate-limit headers and the call observer.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callbridge_core::ErrorKind;
use callbridge_core::http::{
    CallObservation, CallOutcome, HttpClient, HttpSettings, RateLimit, RetryPolicy, StatusCode, TransportFailure,
    parse_retry_after,
};
use url::Url;
use wiremock::matchers::{any, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Millisecond backoffs so that retries do not slow the suite down; the budget is generous unless a test narrows it.
fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        budget: Duration::from_secs(10),
    }
}

fn client_with(retry: RetryPolicy) -> HttpClient {
    HttpClient::new(&HttpSettings { retry, ..HttpSettings::default() }).unwrap()
}

/// A client plus the list its observer fills.
fn observed_client(retry: RetryPolicy) -> (HttpClient, Arc<Mutex<Vec<CallObservation>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let client = client_with(retry).with_observer(Arc::new(move |call: &CallObservation| {
        sink.lock().unwrap().push(call.clone());
    }));
    (client, seen)
}

/// Answers 500 naming the request when no mock matched, so a missing expectation is easy to read.
async fn mount_fallback(server: &MockServer) {
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(500).set_body_string(format!("no mock for {} {}", request.method, request.url.path()))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

async fn requests_received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn retries_a_429_after_its_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/persons"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/persons"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;

    let started = Instant::now();
    let response = client_with(policy(4)).get(&format!("{}/v1/persons", server.uri())).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_secs(1), "waited only {:?}", started.elapsed());
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn retries_a_503_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/deals"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/deals"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"ok":true}"#))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;

    let (client, seen) = observed_client(policy(4));
    let response = client.get(&format!("{}/v1/deals", server.uri())).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<serde_json::Value>().unwrap(), serde_json::json!({"ok": true}));
    assert_eq!(requests_received(&server).await, 3);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "one observation per call, not per attempt");
    assert_eq!(seen[0].attempts, 3);
    assert_eq!(seen[0].outcome, CallOutcome::Status(StatusCode::OK));
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_returns_the_last_response() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(504)).expect(3).mount(&server).await;

    let response = client_with(policy(3)).get(&format!("{}/v1/x", server.uri())).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(requests_received(&server).await, 3);
}

#[tokio::test]
async fn stops_within_its_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "1"))
        .mount(&server)
        .await;
    // Attempt 1 at 0 s, its 1 s wait ends within the 1.5 s budget; attempt 2 at about 1 s, whose wait would end
    // at about 2 s, past the budget: so two requests, and the 503 comes back without a second wait.
    let retry = RetryPolicy { budget: Duration::from_millis(1500), ..policy(10) };

    let started = Instant::now();
    let response = client_with(retry).get(&format!("{}/v1/x", server.uri())).send().await.unwrap();
    let elapsed = started.elapsed();

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(requests_received(&server).await, 2);
    assert!(elapsed >= Duration::from_secs(1), "the Retry-After wait was skipped: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "waited past the budget: {elapsed:?}");
}

#[tokio::test]
async fn does_not_wait_for_a_retry_after_longer_than_the_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;

    let started = Instant::now();
    let response = client_with(policy(5)).get(&format!("{}/v1/x", server.uri())).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(requests_received(&server).await, 1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn never_retries_a_400() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_string(r#"{"error":"bad term"}"#))
        .expect(1)
        .mount(&server)
        .await;

    let response = client_with(policy(5)).get(&format!("{}/v1/x", server.uri())).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.text(), r#"{"error":"bad term"}"#);
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn never_retries_a_500() {
    let server = MockServer::start().await;
    Mock::given(method("PUT")).respond_with(ResponseTemplate::new(500)).expect(1).mount(&server).await;

    let response = client_with(policy(5)).put(&format!("{}/v1/x", server.uri())).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn does_not_replay_a_post_on_502_or_504() {
    for status in [502, 504] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/activities"))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;

        let response = client_with(policy(5))
            .post(&format!("{}/v1/activities", server.uri()))
            .json(&serde_json::json!({"subject": "Inbound call"}))
            .send()
            .await
            .unwrap();

        assert_eq!(response.status().as_u16(), status);
        assert_eq!(requests_received(&server).await, 1, "a POST was replayed on {status}");
    }
}

#[tokio::test]
async fn does_not_replay_a_post_on_503_with_or_without_retry_after() {
    // A CRM can create the record and then answer 503: only the caller can tell whether repeating is safe.
    for retry_after in [None, Some("0")] {
        let server = MockServer::start().await;
        let mut answer = ResponseTemplate::new(503);
        if let Some(value) = retry_after {
            answer = answer.insert_header("retry-after", value);
        }
        Mock::given(method("POST")).respond_with(answer).mount(&server).await;

        let response = client_with(policy(5)).post(&format!("{}/v1/activities", server.uri())).send().await.unwrap();

        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(requests_received(&server).await, 1, "Retry-After {retry_after:?}");
    }
}

#[tokio::test]
async fn retries_a_post_the_crm_refused_with_429() {
    for status in [429] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "0"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"id":7}"#))
            .mount(&server)
            .await;

        let response = client_with(policy(3))
            .post(&format!("{}/v1/activities", server.uri()))
            .json(&serde_json::json!({"subject": "Inbound call"}))
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), StatusCode::CREATED, "after a {status}");
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 2);
        // The retry carries the same body and content type.
        assert_eq!(requests[1].body, requests[0].body);
        assert_eq!(requests[1].headers.get("content-type").unwrap(), "application/json");
    }
}

/// A local port nothing listens on: bind, note the port, close.
fn refused_origin() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn retries_a_refused_connection_and_ends_in_a_temporary_upstream_error() {
    let (client, seen) = observed_client(policy(3));

    let error = client
        .get(&format!("{}/v1/persons/search?term=%2B16505550100&api_token=secret", refused_origin()))
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Upstream);
    assert!(error.is_temporary());
    let text = error.to_string();
    assert!(text.contains("/v1/persons/search"), "{text}");
    assert!(!text.contains("term") && !text.contains("secret"), "the query string leaked into the error: {text}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].attempts, 3);
    assert_eq!(seen[0].outcome, CallOutcome::Failed(TransportFailure::Connect));
}

#[tokio::test]
async fn retries_a_post_that_could_not_connect() {
    let (client, seen) = observed_client(policy(2));

    let error = client.post(&format!("{}/v1/activities", refused_origin())).send().await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Upstream);
    assert_eq!(seen.lock().unwrap()[0].attempts, 2, "nothing was sent, so the POST is safe to retry");
}

#[tokio::test]
async fn a_timed_out_post_is_not_replayed_but_a_get_is() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .mount(&server)
        .await;
    let settings =
        HttpSettings { request_timeout: Duration::from_millis(100), retry: policy(2), ..HttpSettings::default() };
    let client = HttpClient::new(&settings).unwrap();

    let error = client.post(&format!("{}/v1/activities", server.uri())).send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Upstream);
    assert_eq!(requests_received(&server).await, 1, "a POST that may have reached the CRM was replayed");

    client.get(&format!("{}/v1/activities", server.uri())).send().await.unwrap_err();
    assert_eq!(requests_received(&server).await, 3, "the GET was not retried after its timeout");
}

/// A CRM that reads each request in full and then resets the connection instead of answering (`SO_LINGER` zero
/// makes the close send a RST): the client cannot tell whether the request took effect. Returns its origin and the
/// request lines it received, each logged before its reset.
async fn resetting_crm() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                if let Some(request_line) = read_request(&mut stream).await {
                    log.lock().unwrap().push(request_line);
                }
                // A socket that cannot take the option still closes: the test then fails on the client's answer.
                drop(stream.set_zero_linger());
            });
        }
    });
    (origin, received)
}

/// Reads one HTTP/1.1 request, its head and its `Content-Length` body, and returns its request line; `None` when
/// the client closes first.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|it| it == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await.ok()? {
            0 => return None,
            read => data.extend_from_slice(&chunk[..read]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        match stream.read(&mut chunk).await.ok()? {
            0 => return None,
            read => data.extend_from_slice(&chunk[..read]),
        }
    }
    head.lines().next().map(str::to_owned)
}

#[tokio::test]
async fn does_not_replay_a_post_whose_connection_was_reset() {
    let (origin, received) = resetting_crm().await;
    let (client, seen) = observed_client(policy(5));

    for (attempt, request) in
        [client.post(&format!("{origin}/v1/activities")), client.patch(&format!("{origin}/v1/activities/7"))]
            .into_iter()
            .enumerate()
    {
        let error = request.json(&serde_json::json!({"subject": "Inbound call"})).send().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Upstream);
        assert!(error.is_temporary());
        assert!(error.outcome_unknown(), "the CRM may have acted before the reset: {error}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen[attempt].attempts, 1, "{error}");
        assert_eq!(seen[attempt].outcome, CallOutcome::Failed(TransportFailure::Other));
    }
    assert_eq!(
        *received.lock().unwrap(),
        ["POST /v1/activities HTTP/1.1", "PATCH /v1/activities/7 HTTP/1.1"],
        "a write whose connection reset after it was sent was replayed"
    );

    // Repeating a GET changes nothing: the client's rule retries it after a reset, up to its attempts.
    client.get(&format!("{origin}/v1/activities")).send().await.unwrap_err();
    let gets = received.lock().unwrap().iter().filter(|line| line.starts_with("GET ")).count();
    assert_eq!(gets, 5);
    assert_eq!(seen.lock().unwrap()[2].attempts, 5);
}

#[tokio::test]
async fn captures_rate_limit_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ratelimit-remaining", "79")
                .insert_header("x-ratelimit-limit", "80")
                .insert_header("x-ratelimit-reset", "2"),
        )
        .mount(&server)
        .await;

    let response = client_with(policy(1)).get(&format!("{}/v1/x", server.uri())).send().await.unwrap();

    assert_eq!(
        response.rate_limit(),
        Some(RateLimit { remaining: Some("79".into()), limit: Some("80".into()), reset: Some("2".into()) })
    );
    assert_eq!(
        serde_json::to_value(response.rate_limit().unwrap()).unwrap(),
        serde_json::json!({"ratelimitRemaining": "79", "ratelimitAmount": "80", "ratelimitReset": "2"})
    );
}

#[tokio::test]
async fn no_rate_limit_headers_means_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;

    let response = client_with(policy(1)).get(&format!("{}/v1/x", server.uri())).send().await.unwrap();

    assert_eq!(response.rate_limit(), None);
}

#[tokio::test]
async fn the_override_origin_receives_the_request_with_path_and_query_intact() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/x"))
        .and(query_param("q", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("redirected"))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let (client, seen) = observed_client(policy(1));
    let client = client.with_origin_override(Some(Url::parse(&server.uri()).unwrap()));

    let response = client.get("https://api.example.com/v1/x?q=1").send().await.unwrap();

    assert_eq!(response.text(), "redirected");
    assert_eq!(seen.lock().unwrap()[0].host, "127.0.0.1");
}

#[test]
fn resolve_replaces_scheme_host_and_port_and_keeps_path_and_query() {
    let client = client_with(policy(1));
    assert_eq!(
        client.resolve("https://api.example.com/v1/x?q=1").unwrap().as_str(),
        "https://api.example.com/v1/x?q=1"
    );

    let redirected = client.with_origin_override(Some(Url::parse("http://127.0.0.1:9000").unwrap()));
    assert_eq!(
        redirected.resolve("https://api.example.com/v1/x?q=1&r=%2B1").unwrap().as_str(),
        "http://127.0.0.1:9000/v1/x?q=1&r=%2B1"
    );
    // A default-port origin drops the CRM URL's explicit port too.
    let redirected = redirected.with_origin_override(Some(Url::parse("https://sandbox.example.org").unwrap()));
    assert_eq!(
        redirected.resolve("http://crm.example.com:8443/api/v4/contacts.json").unwrap().as_str(),
        "https://sandbox.example.org/api/v4/contacts.json"
    );
}

#[test]
fn resolve_rejects_an_invalid_url_as_a_config_error() {
    let error = client_with(policy(1)).resolve("not a url").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn a_request_that_does_not_build_fails_before_sending() {
    let error =
        client_with(policy(1)).get("http://127.0.0.1:1/v1/x").header("x-bad", "line\nbreak").send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.message().contains("x-bad"), "{error}");
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z").unwrap().to_utc();
    assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
    assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
    assert_eq!(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now), Some(Duration::from_secs(60)));
    assert_eq!(parse_retry_after("Wed Oct 21 07:28:05 2015", now), Some(Duration::from_secs(5)));
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO), "a past date");
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(parse_retry_after("-5", now), None);
}

#[tokio::test]
async fn honours_a_retry_after_given_as_an_http_date() {
    let server = MockServer::start().await;
    let retry_at = (chrono::Utc::now() + chrono::Duration::seconds(2)).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", retry_at.as_str()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;

    let started = Instant::now();
    let response = client_with(policy(2)).get(&format!("{}/v1/x", server.uri())).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    // The date has one-second resolution, so the wait is between one and two seconds.
    assert!(started.elapsed() >= Duration::from_millis(900), "waited only {:?}", started.elapsed());
    assert_eq!(requests_received(&server).await, 2);
}

#[test]
fn clones_keep_the_policy_and_the_override_is_per_clone() {
    let base = client_with(policy(7));
    let redirected = base.clone().with_origin_override(Some(Url::parse("http://127.0.0.1:9000").unwrap()));
    assert_eq!(base.origin_override(), None);
    assert_eq!(redirected.origin_override().map(Url::as_str), Some("http://127.0.0.1:9000/"));
    assert_eq!(redirected.retry_policy().max_attempts, 7);
    // Debug output shows the override but never headers or secrets.
    assert!(format!("{redirected:?}").contains("127.0.0.1:9000"));
}

#[tokio::test]
async fn sends_raw_bytes_with_only_the_callers_content_type_and_downloads_bytes_unchanged() {
    let server = MockServer::start().await;
    // Not UTF-8, so a text round trip would change it.
    let file: Vec<u8> = vec![0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0xfe, 0x80];
    Mock::given(method("GET"))
        .and(path("/media/1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(file.clone(), "application/pdf"))
        .mount(&server)
        .await;
    Mock::given(method("PUT")).and(path("/upload")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    mount_fallback(&server).await;
    let client = client_with(policy(1));

    let downloaded = client.get(&format!("{}/media/1", server.uri())).send().await.unwrap();
    assert_eq!(downloaded.body().as_ref(), file.as_slice());
    let uploaded = client
        .put(&format!("{}/upload", server.uri()))
        .header("content-type", "application/pdf")
        .bytes(downloaded.body().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::OK);

    let received = server.received_requests().await.unwrap();
    let put = received.iter().find(|it| it.method.as_str() == "PUT").unwrap();
    assert_eq!(put.body, file);
    let content_types: Vec<_> = put.headers.get_all("content-type").iter().collect();
    assert_eq!(content_types, ["application/pdf"], "one content type, the caller's");
}
