//! Helpers every end-to-end test shares: reading what the mock CRM received and what the server answered.

use serde_json::Value;
use wiremock::MockServer;

/// The JSON bodies the mock CRM received for `method path`, in order (`null` for a body that is not JSON).
pub async fn received(server: &MockServer, http_method: &str, request_path: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|it| it.method.as_str() == http_method && it.url.path() == request_path)
        .map(|it| serde_json::from_slice(&it.body).unwrap_or(Value::Null))
        .collect()
}

/// The server's JSON answer, after asserting a 2xx status (the body is shown when it is not).
pub async fn json_of(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
}
