//! Helpers every end-to-end test shares: reading what the mock CRM received and what the server answered, and the
//! steps of the extension's checklist that are the same for every CRM.

use serde_json::{Value, json};
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

/// The recording link every checklist's update sends.
pub const RECORDING_LINK: &str = "https://media.ringcentral.com/restapi/v1.0/account/1/recording/7/content";

/// The checklist's update of call `session_id`: the recording link, an AI note and the final call data.
pub fn update_with_recording_and_ai_note(session_id: &str, duration: u64) -> Value {
    json!({
        "sessionId": session_id,
        "recordingLink": RECORDING_LINK,
        "aiNote": "Customer wants delivery by Friday.\nSend the quote today.",
        "startTime": "2024-05-01T07:30:00.000Z",
        "duration": duration,
        "result": "Call connected",
        "direction": "Inbound"
    })
}

/// Posts `create_body` again for logged call `session_id` and asserts the extension is told it is logged already.
pub async fn assert_duplicate_create_is_refused(
    http: &reqwest::Client,
    base: &str,
    jwt: &str,
    create_body: &Value,
    session_id: &str,
) {
    let duplicate =
        json_of(http.post(format!("{base}/callLog?jwtToken={jwt}")).json(create_body).send().await.unwrap()).await;
    assert_eq!(duplicate["successful"], false, "{duplicate}");
    assert_eq!(duplicate["returnMessage"]["message"], format!("Existing log for session {session_id}"));
}
