//! Requests from RingCentral's server-side call logging service (user agent `SSCL`: duration `pending`, the raw
//! `rcExtensionId`, the cached note): one call logged by the browser and by SSCL makes one CRM record, and the
//! `SSCL` flag reads no other user's note.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_backends;
use crate::oauth_env::{OAuthEnv, in_an_hour};
use crate::support::{Backend, call_record, get, json_request, send};

both_backends!(
    browser_and_sscl_requests_for_one_call_make_one_record,
    concurrent_browser_and_sscl_creates_make_one_record,
    sscl_create_leaves_a_pending_browser_create_as_it_is,
    sscl_create_queued_after_the_browser_record_finds_it,
    sscl_reads_only_its_own_users_cached_note,
);

/// A request as the server-side logging service sends it: the JSON session token and `User-Agent: SSCL`.
fn sscl_request(method: Method, uri: &str, body: &Value) -> Request<Body> {
    let mut request = json_request(method, uri, body);
    request.headers_mut().insert("user-agent", "SSCL".parse().unwrap());
    request
}

/// SSCL's create for a call still going on: duration `pending`, the raw extension id at the top level.
fn sscl_create(session_id: &str) -> Value {
    let mut log_info = call_record(session_id, "+14155550123");
    log_info["duration"] = json!("pending");
    log_info.as_object_mut().unwrap().remove("customSubject");
    json!({"logInfo": log_info, "rcExtensionId": 62_001, "extensionNumber": "101", "contactId": 7, "contactName": "Grace"})
}

fn browser_create(session_id: &str) -> Value {
    json!({"logInfo": call_record(session_id, "+14155550123"), "contactId": 7, "contactName": "Grace", "note": "Typed"})
}

/// The create requests the mock CRM received, as JSON bodies.
async fn created_bodies(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|it| it.method.as_str() == "POST" && it.url.path() == "/activities")
        .map(|it| serde_json::from_slice(&it.body).unwrap())
        .collect()
}

async fn mount_create(server: &MockServer, delay: Duration) {
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "act-1"})).set_delay(delay))
        .mount(server)
        .await;
}

async fn browser_and_sscl_requests_for_one_call_make_one_record(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    mount_create(&env.server, Duration::ZERO).await;
    Mock::given(method("GET"))
        .and(path("/activities/act-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"body": "- Duration: pending\n"})))
        .mount(&env.server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/activities/act-1"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&env.server)
        .await;
    let uri = format!("/callLog?jwtToken={jwt}");

    // The browser first, then SSCL for the same call: SSCL finds it logged.
    let first = format!("s-{}", uuid::Uuid::new_v4().simple());
    let browser = send(&env.app, json_request(Method::POST, &uri, &browser_create(&first))).await.ok_json();
    assert_eq!(browser["logId"], "act-1", "{browser}");
    let sscl = send(&env.app, sscl_request(Method::POST, &uri, &sscl_create(&first))).await.ok_json();
    assert_eq!(sscl["returnMessage"]["message"], format!("Existing log for session {first}"), "{sscl}");
    // SSCL's end-of-call update, naming the raw extension id, reaches the browser's record.
    let update = json!({"sessionId": first, "rcExtensionId": "62001", "duration": 300, "result": "Call connected"});
    let updated = send(&env.app, sscl_request(Method::PATCH, &uri, &update)).await.ok_json();
    assert_eq!((updated["successful"].clone(), updated["logId"].clone()), (json!(true), json!("act-1")), "{updated}");

    // SSCL first (duration `pending`), then the browser: the browser finds it logged.
    let second = format!("s-{}", uuid::Uuid::new_v4().simple());
    let sscl = send(&env.app, sscl_request(Method::POST, &uri, &sscl_create(&second))).await.ok_json();
    assert_eq!(sscl["successful"], true, "{sscl}");
    let browser = send(&env.app, json_request(Method::POST, &uri, &browser_create(&second))).await.ok_json();
    assert_eq!(browser["returnMessage"]["message"], format!("Existing log for session {second}"), "{browser}");
    let lookup = send(&env.app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={second}"))).await.ok_json();
    assert_eq!(lookup["logs"], json!([{"sessionId": second, "matched": true, "logId": "act-1"}]));

    let created = created_bodies(&env.server).await;
    assert_eq!(created.len(), 2, "one record per call: {created:?}");
    assert!(created[1]["body"].as_str().unwrap().contains("Duration: pending"), "{created:?}");
}

async fn concurrent_browser_and_sscl_creates_make_one_record(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    // A slow CRM, so the second request arrives while the first one's create is in flight.
    mount_create(&env.server, Duration::from_millis(400)).await;
    let uri = format!("/callLog?jwtToken={jwt}");
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());

    let browser = tokio::spawn({
        let (app, request) = (env.app.clone(), json_request(Method::POST, &uri, &browser_create(&session_id)));
        async move { send(&app, request).await.ok_json() }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while created_bodies(&env.server).await.is_empty() {
        assert!(Instant::now() < deadline, "the browser's create never reached the CRM");
        // sleep-ok: the poll interval of a wait with a deadline
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sscl = send(&env.app, sscl_request(Method::POST, &uri, &sscl_create(&session_id))).await.ok_json();
    let browser = browser.await.unwrap();
    assert_eq!(browser["logId"], "act-1", "{browser}");
    // SSCL's create joined the one in flight: it answers with the same record, or finds the session logged.
    let joined = sscl["logId"] == "act-1";
    let found = sscl["returnMessage"]["message"] == format!("Existing log for session {session_id}");
    assert!(joined || found, "{sscl}");
    assert_eq!(created_bodies(&env.server).await.len(), 1);
}

async fn sscl_reads_only_its_own_users_cached_note(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_owner, owner_jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    let (_other, other_jwt) = env.seed_user("access-2", "refresh-2", in_an_hour()).await;
    mount_create(&env.server, Duration::ZERO).await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let note = json!({"sessionId": session_id, "note": "Private note"});
    let cached = send(&env.app, json_request(Method::POST, &format!("/callLog/cacheNote?jwtToken={owner_jwt}"), &note))
        .await
        .ok_json();
    assert_eq!(cached["successful"], true);

    // Another user's SSCL request for the same session id gets no note of the owner's.
    let other = send(
        &env.app,
        sscl_request(Method::POST, &format!("/callLog?jwtToken={other_jwt}"), &sscl_create(&session_id)),
    )
    .await
    .ok_json();
    assert_eq!(other["successful"], true, "{other}");
    let owner = send(
        &env.app,
        sscl_request(Method::POST, &format!("/callLog?jwtToken={owner_jwt}"), &sscl_create(&session_id)),
    )
    .await
    .ok_json();
    assert_eq!(owner["successful"], true, "{owner}");

    let created = created_bodies(&env.server).await;
    assert_eq!(created.len(), 2, "{created:?}");
    assert_eq!(created[0]["note"], Value::Null, "{created:?}");
    assert!(!created[0]["body"].as_str().unwrap().contains("Private note"), "{created:?}");
    assert_eq!(created[1]["note"], "Private note", "{created:?}");
}

/// The narrow race of the two creates: SSCL's passes the request-time check just before the browser's record is
/// written, so its create reaches the delivery engine as an operation of its own. The engine must find the
/// browser's record under the other identity, not make a second one.
async fn sscl_create_queued_after_the_browser_record_finds_it(backend: Backend) {
    use callbridge_host::delivery::{self, CallCreatePayload, CallIdentity, Delivered, DeliveryOutcome};
    use callbridge_host::services::auth_context::RequestFacts;
    use callbridge_host::store::{JobSubject, NewOp, OpKind};

    let env = OAuthEnv::new(backend).await;
    let (user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    mount_create(&env.server, Duration::ZERO).await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let uri = format!("/callLog?jwtToken={jwt}");
    let browser = send(&env.app, json_request(Method::POST, &uri, &browser_create(&session_id))).await.ok_json();
    assert_eq!(browser["logId"], "act-1", "{browser}");

    let payload = CallCreatePayload {
        facts: RequestFacts { hashed_account_id: None, is_from_sscl: true, assigned_crm_user_id: None },
        call: CallIdentity {
            session_id: session_id.clone(),
            extension_number: "101".to_owned(),
            hashed_extension_id: callbridge_host::hashing::hash_id("62001", crate::support::HASH_KEY),
        },
        contact_id: "7".to_owned(),
        body: serde_json::from_value(sscl_create(&session_id)).unwrap(),
    };
    let payload = serde_json::to_string(&payload).unwrap();
    let op = NewOp { kind: OpKind::CreateCall, fingerprint: format!("sscl-{session_id}"), payload };
    let subject = JobSubject::call(&user_id, "mockcrm", &session_id);
    let (_, outcome) = delivery::submit(&env.state, &subject, op, None).await.unwrap();
    match outcome {
        DeliveryOutcome::Delivered(Delivered::CallAlreadyLogged { log_id }) => assert_eq!(log_id, "act-1"),
        other => panic!("expected the browser's record, got {other:?}"),
    }
    assert_eq!(created_bodies(&env.server).await.len(), 1);
}

/// The extension's create waits for a rate-limited CRM; SSCL's create for the same call arrives meanwhile. It must
/// not replace the extension's request (its typed note) in the queue: the one record carries the note.
async fn sscl_create_leaves_a_pending_browser_create_as_it_is(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1").set_body_string("slow down"))
        .up_to_n_times(1)
        .mount(&env.server)
        .await;
    mount_create(&env.server, Duration::ZERO).await;
    let uri = format!("/callLog?jwtToken={jwt}");
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());

    let browser = tokio::spawn({
        let (app, request) = (env.app.clone(), json_request(Method::POST, &uri, &browser_create(&session_id)));
        async move { send(&app, request).await.ok_json() }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while created_bodies(&env.server).await.is_empty() {
        assert!(Instant::now() < deadline, "the browser's create never reached the CRM");
        // sleep-ok: the poll interval of a wait with a deadline
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sscl = send(&env.app, sscl_request(Method::POST, &uri, &sscl_create(&session_id))).await.ok_json();
    assert_eq!(sscl["returnMessage"]["message"], format!("Existing log for session {session_id}"), "{sscl}");
    // The CRM said "later": the extension is told its call is saved, and the worker creates the record.
    let browser = browser.await.unwrap();
    assert_eq!(browser["successful"], true, "{browser}");
    let created = loop {
        let created = created_bodies(&env.server).await;
        if created.len() >= 2 {
            break created;
        }
        assert!(Instant::now() < deadline, "the record was never created: {created:?}");
        // sleep-ok: the poll interval of a wait with a deadline
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(created.len(), 2, "the refused attempt and the record: {created:?}");
    assert_eq!(created[1]["note"], "Typed", "{created:?}");
    let lookup = send(&env.app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}"))).await.ok_json();
    assert_eq!(lookup["logs"][0]["matched"], true, "{lookup}");
}
