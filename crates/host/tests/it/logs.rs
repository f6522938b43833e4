//! Log lines of work detached from a request (a token refresh runs in its own task, so that a client hanging up
//! cannot cancel it) still carry the request's span and id.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::oauth_env::{OAuthEnv, an_hour_ago};
use crate::support::{Backend, send};

/// A log sink the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread: the subscriber set for this test sees every task, the detached one included.
#[tokio::test(flavor = "current_thread")]
async fn a_detached_refresh_logs_under_the_request_id() {
    // tracing caches each call site's interest for the whole process. While one subscriber is registered, a call
    // site first reached on another test's thread (which has none) is cached there as disabled for every thread,
    // this test's request span included (tracing-core's single-subscriber shortcut). With two registered, a new
    // call site's interest is asked of both, so this test's subscriber still sees its spans.
    let _second_subscriber = tracing::Dispatch::new(tracing_subscriber::registry());
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || sink.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let env = OAuthEnv::new(Backend::Sqlite).await;
    let (_user_id, jwt) = env.seed_user("access-1", "refresh-1", an_hour_ago()).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .expect(1)
        .mount(&env.server)
        .await;
    let request = Request::get(format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"))
        .header("x-request-id", "req-detached-4711")
        .body(Body::empty())
        .unwrap();
    send(&env.app, request).await;
    env.server.verify().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs.lines().find(|it| it.contains("CRM refused the refresh token")).unwrap_or_else(|| panic!("{logs}"));
    assert!(line.contains("req-detached-4711"), "the detached task lost the request id: {line}");
}
