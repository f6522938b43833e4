//! Call logging end to end: the sandbox flow, exactly-once creates through CRM faults (503, 504, a late answer, a
//! reset connection), update safety, user scoping and the revoked-session answer.

use axum::http::{Method, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::both_backends;
use crate::oauth_env::{OAuthEnv, an_hour_ago, in_an_hour};
use crate::support::{Backend, call_record, get, json_request, sandbox_app, sandbox_login, send, unique_key};

both_backends!(
    sandbox_flow_logs_once_updates_and_reads_back,
    cached_note_is_used_when_the_create_has_none,
    users_cannot_see_update_or_block_each_others_logs,
    create_the_crm_refused_with_503_is_looked_for_then_made_once,
    create_the_crm_made_before_failing_is_found_not_repeated,
    create_the_crm_answers_after_the_timeout_is_found_not_repeated,
    create_the_crm_made_before_resetting_the_connection_is_found_not_repeated,
    create_the_crm_rejects_fails_at_once_with_the_reference_text,
    update_whose_fetch_fails_reports_it_and_writes_nothing,
    update_recomposes_from_the_body_the_crm_holds,
    invalid_grant_answers_session_revoked,
);

async fn sandbox_flow_logs_once_updates_and_reads_back(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;

    // The extension sends `+` unencoded, so it arrives as a space.
    let found = send(
        &app,
        get(&format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123&overridingFormat=&isExtension=false")),
    )
    .await
    .ok_json();
    assert_eq!(found["successful"], true);
    assert_eq!(found["contact"][0]["id"], "c-2");
    assert_eq!(found["contact"].as_array().unwrap().last().unwrap()["id"], "createNewContact");

    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let lookup = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}&requireDetails=false")))
        .await
        .ok_json();
    assert_eq!(lookup["logs"], json!([{"sessionId": session_id, "matched": false}]));

    let create = json!({
        "logInfo": call_record(&session_id, "+14155550123"),
        "contactId": "c-2", "contactName": "Grace Hopper", "contactType": "contact",
        "note": "Discussed pricing", "additionalSubmission": {}, "overridingFormat": [],
    });
    let created = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(created["successful"], true, "{created}");
    let log_id = created["logId"].as_str().unwrap().to_owned();

    let again = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(
        again,
        json!({"successful": false, "returnMessage": {"message": format!("Existing log for session {session_id}"), "messageType": "warning", "ttl": 3000}})
    );

    let lookup = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}&requireDetails=false")))
        .await
        .ok_json();
    assert_eq!(
        lookup,
        json!({"successful": true, "logs": [{"sessionId": session_id, "matched": true, "logId": log_id}]})
    );

    let update = json!({"sessionId": session_id, "note": "Follow up on Friday", "subject": "Pricing call", "duration": 120, "result": "Call connected"});
    let updated = send(&app, json_request(Method::PATCH, &format!("/callLog?jwtToken={jwt}"), &update)).await.ok_json();
    assert_eq!(updated["successful"], true, "{updated}");
    assert_eq!(updated["logId"], log_id.as_str());

    let details = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}&requireDetails=true")))
        .await
        .ok_json();
    let log_data = &details["logs"][0]["logData"];
    assert_eq!(details["logs"][0]["matched"], true);
    assert!(log_data["note"].as_str().unwrap().contains("Follow up on Friday"), "{details}");
    assert!(!log_data["note"].as_str().unwrap().contains("Discussed pricing"), "the note was replaced: {details}");

    let disposition = json!({"sessionId": session_id, "dispositions": {"category": "sales", "note": "Follow up on Friday"}, "additionalSubmission": {}});
    let disposed = send(&app, json_request(Method::PUT, &format!("/callDisposition?jwtToken={jwt}"), &disposition))
        .await
        .ok_json();
    assert_eq!(disposed["successful"], true, "{disposed}");
    let details = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}&requireDetails=true")))
        .await
        .ok_json();
    assert_eq!(details["logs"][0]["logData"]["dispositions"]["category"], "sales", "{details}");
}

async fn cached_note_is_used_when_the_create_has_none(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let cached = send(
        &app,
        json_request(
            Method::POST,
            &format!("/callLog/cacheNote?jwtToken={jwt}"),
            &json!({"sessionId": session_id, "note": "Typed during the call"}),
        ),
    )
    .await
    .ok_json();
    assert_eq!(cached, json!({"successful": true, "returnMessage": "Note cache saved"}));
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "c-2"});
    let created = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(created["successful"], true, "{created}");
    let details = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}&requireDetails=true")))
        .await
        .ok_json();
    assert!(details["logs"][0]["logData"]["note"].as_str().unwrap().contains("Typed during the call"), "{details}");
}

async fn users_cannot_see_update_or_block_each_others_logs(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let alice = sandbox_login(&app, &unique_key()).await;
    let bob = sandbox_login(&app, &unique_key()).await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create =
        json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "c-2", "note": "Alice's note"});
    let created =
        send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={alice}"), &create)).await.ok_json();
    let alice_log = created["logId"].as_str().unwrap().to_owned();

    // Bob can neither read...
    for details in ["false", "true"] {
        let lookup =
            send(&app, get(&format!("/callLog?jwtToken={bob}&sessionIds={session_id}&requireDetails={details}")))
                .await
                .ok_json();
        assert_eq!(lookup["logs"], json!([{"sessionId": session_id, "matched": false}]));
    }
    // ...nor update nor dispose of Alice's log...
    let update = json!({"sessionId": session_id, "note": "Bob was here"});
    let updated = send(&app, json_request(Method::PATCH, &format!("/callLog?jwtToken={bob}"), &update)).await.ok_json();
    assert_eq!(updated["successful"], false);
    assert_eq!(updated["returnMessage"]["message"], "Cannot find log");
    let disposition = json!({"sessionId": session_id, "dispositions": {"category": "spam"}});
    let disposed = send(&app, json_request(Method::PUT, &format!("/callDisposition?jwtToken={bob}"), &disposition))
        .await
        .ok_json();
    assert_eq!(disposed["returnMessage"]["message"], "Cannot find log");
    // ...nor block his own log of the same call.
    let bobs = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={bob}"), &create)).await.ok_json();
    assert_eq!(bobs["successful"], true, "{bobs}");

    let alice_view = send(&app, get(&format!("/callLog?jwtToken={alice}&sessionIds={session_id}&requireDetails=true")))
        .await
        .ok_json();
    assert_eq!(alice_view["logs"][0]["logId"], alice_log.as_str());
    let note = alice_view["logs"][0]["logData"]["note"].as_str().unwrap();
    assert!(note.contains("Alice's note") && !note.contains("Bob"), "{alice_view}");
    assert!(alice_view["logs"][0]["logData"]["dispositions"].get("category").is_none(), "{alice_view}");
}

/// The answer to a create the CRM has not confirmed yet.
const QUEUED: &str = "Saved. Mock CRM is not reachable right now; this call will be logged as soon as it is.";

/// A fresh session and its create request, for contact 7.
fn new_call() -> (String, Value) {
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": 7});
    (session_id, create)
}

/// `POST /callLog` with `body`, as the extension sends it; the answer's JSON.
async fn post_call(app: &axum::Router, jwt: &str, body: &Value) -> Value {
    send(app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), body)).await.ok_json()
}

/// Polls `GET /callLog` until the session is logged with a CRM id, and returns it.
async fn logged_id(app: &axum::Router, jwt: &str, session_id: &str) -> String {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let lookup = send(app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}"))).await.ok_json();
            if let Some(id) = lookup["logs"][0]["logId"].as_str() {
                return id.to_owned();
            }
            assert_eq!(lookup["logs"][0]["matched"], true, "a queued create reads as logged: {lookup}");
            // sleep-ok: poll interval of a wait bounded by the timeout around it
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the worker delivers the queued create")
}

async fn create_the_crm_refused_with_503_is_looked_for_then_made_once(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0").set_body_string("down"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&env.server)
        .await;
    // The 503 may have hidden a record: the engine looks for it (none) before creating again.
    Mock::given(method("GET"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1..)
        .mount(&env.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "act-1"})))
        .expect(1)
        .mount(&env.server)
        .await;
    let (session_id, mut create) = new_call();
    create["contactName"] = json!("Grace");

    let saved = post_call(&env.app, &jwt, &create).await;
    assert_eq!(saved["successful"], true, "{saved}");
    assert_eq!(saved["returnMessage"]["message"], QUEUED);
    assert_eq!(logged_id(&env.app, &jwt, &session_id).await, "act-1");
    // The extension's retry finds the session logged.
    let retried = post_call(&env.app, &jwt, &create).await;
    assert_eq!(retried["returnMessage"]["message"], format!("Existing log for session {session_id}"));
}

async fn create_the_crm_made_before_failing_is_found_not_repeated(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    // The CRM creates the record, then answers 504: exactly one POST, and the record is found by its key.
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(504))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "act-7"}])))
        .expect(1)
        .mount(&env.server)
        .await;
    let (session_id, create) = new_call();
    let saved = post_call(&env.app, &jwt, &create).await;
    assert_eq!(saved["successful"], true, "{saved}");
    assert_eq!(logged_id(&env.app, &jwt, &session_id).await, "act-7");
    let requests = env.server.received_requests().await.unwrap();
    let key = |request: &wiremock::Request| {
        if request.method.as_str() == "POST" {
            serde_json::from_slice::<Value>(&request.body).unwrap()["recordKey"].as_str().unwrap().to_owned()
        } else {
            request.url.query_pairs().find(|(name, _)| name == "recordKey").unwrap().1.into_owned()
        }
    };
    let keys: Vec<String> = requests.iter().filter(|it| it.url.path() == "/activities").map(key).collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the search uses the key the create carried");
}

// PostgreSQL only: a sequence counts outside transactions, so a trigger can fail the first completion and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_create_whose_recording_the_database_fails_once_is_recorded_on_the_next_try() {
    if !Backend::postgres_configured() {
        return;
    }
    let env = OAuthEnv::new(Backend::Postgres).await;
    // The completion's transaction deletes the finished operation: fail the first such delete, as a deadlock or a
    // dropped connection would fail the whole transaction after the CRM has the record.
    env.db
        .execute_postgres(
            "CREATE SEQUENCE completion_failures;
             CREATE FUNCTION fail_first_completion() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF nextval('completion_failures') = 1 THEN
                     RAISE EXCEPTION 'injected failure of the first completion';
                 END IF;
                 RETURN OLD;
             END $$;
             CREATE TRIGGER fail_first_completion BEFORE DELETE ON delivery_ops
                 FOR EACH ROW EXECUTE FUNCTION fail_first_completion();",
        )
        .await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "act-21"})))
        .expect(1)
        .mount(&env.server)
        .await;
    let (session_id, create) = new_call();

    let saved = post_call(&env.app, &jwt, &create).await;
    assert_eq!(saved["logId"], "act-21", "the create is answered with its record: {saved}");
    // Recorded now, not after the lease of the failed recording expires (a minute) and a retry looks it up.
    let lookup = send(&env.app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}"))).await.ok_json();
    assert_eq!(lookup["logs"][0]["logId"], "act-21", "{lookup}");
    let requests = env.server.received_requests().await.unwrap();
    assert_eq!(requests.iter().filter(|it| it.url.path() == "/activities").count(), 1, "one CRM call, the create");
}

async fn create_the_crm_answers_after_the_timeout_is_found_not_repeated(backend: Backend) {
    let env = OAuthEnv::with_crm_timeout(backend, Duration::from_millis(300)).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    // The CRM makes the record but answers only after the client gave up: the outcome is unknown, so the retry
    // looks for the record by its key instead of posting again.
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "act-9"})).set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "act-9"}])))
        .expect(1)
        .mount(&env.server)
        .await;
    let (session_id, create) = new_call();
    let saved = post_call(&env.app, &jwt, &create).await;
    assert_eq!(saved["successful"], true, "{saved}");
    assert_eq!(logged_id(&env.app, &jwt, &session_id).await, "act-9");
}

async fn create_the_crm_made_before_resetting_the_connection_is_found_not_repeated(backend: Backend) {
    let env = OAuthEnv::behind_reset_proxy(backend).await;
    let proxy = env.reset_proxy.as_ref().unwrap();
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    // The mock CRM keeps the key of the record it makes and finds the record by that key, as a CRM would.
    let made: Arc<Mutex<Option<String>>> = Arc::default();
    let maker = Arc::clone(&made);
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(move |request: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            *maker.lock().unwrap() = body["recordKey"].as_str().map(str::to_owned);
            ResponseTemplate::new(201).set_body_json(json!({"id": "act-11"}))
        })
        .expect(1)
        .mount(&env.server)
        .await;
    let finder = Arc::clone(&made);
    Mock::given(method("GET"))
        .and(path("/activities"))
        .respond_with(move |request: &wiremock::Request| {
            let wanted = request.url.query_pairs().find(|(name, _)| name == "recordKey").map(|it| it.1.into_owned());
            let held = finder.lock().unwrap().clone();
            let found = if held.is_some() && held == wanted { json!([{"id": "act-11"}]) } else { json!([]) };
            ResponseTemplate::new(200).set_body_json(found)
        })
        .expect(1)
        .mount(&env.server)
        .await;
    // The CRM makes the record, then the connection is reset before its answer reaches the connector.
    proxy.arm("POST", "/activities");
    let (session_id, mut create) = new_call();
    create["contactName"] = json!("Grace");

    let saved = post_call(&env.app, &jwt, &create).await;
    assert_eq!(saved["successful"], true, "{saved}");
    assert_eq!(saved["returnMessage"]["message"], QUEUED);
    assert_eq!(proxy.resets(), 1, "the create reached the CRM and its connection was reset");
    // The retry looks the record up by the key the create carried and records it: no second POST.
    assert_eq!(logged_id(&env.app, &jwt, &session_id).await, "act-11");
    // The extension's retry finds the session logged.
    let retried = post_call(&env.app, &jwt, &create).await;
    assert_eq!(retried["returnMessage"]["message"], format!("Existing log for session {session_id}"));
    let posts = env.server.received_requests().await.unwrap();
    let posts = posts.iter().filter(|it| it.method.as_str() == "POST" && it.url.path() == "/activities").count();
    assert_eq!(posts, 1, "one record for the session");
}

async fn create_the_crm_rejects_fails_at_once_with_the_reference_text(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(422).set_body_string("bad contact"))
        .expect(1)
        .mount(&env.server)
        .await;
    let (session_id, create) = new_call();
    let failed = post_call(&env.app, &jwt, &create).await;
    assert_eq!(failed["successful"], false);
    assert_eq!(failed["returnMessage"]["message"], "Error creating call log");
    assert_eq!(
        failed["returnMessage"]["details"][0]["items"][0]["text"],
        "Please check if your account has permission to CREATE logs."
    );
    // The next read says it once more, and the session is not logged.
    let lookup = send(&env.app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}"))).await.ok_json();
    assert_eq!(lookup["logs"][0]["matched"], false);
    assert_eq!(lookup["returnMessage"]["message"], "Error creating call log");
}

async fn update_whose_fetch_fails_reports_it_and_writes_nothing(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "act-9"})))
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/activities/act-9"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1..)
        .mount(&env.server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/activities/act-9"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&env.server)
        .await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "7"});
    post_call(&env.app, &jwt, &create).await;

    let update = json!({"sessionId": session_id, "note": "new note"});
    let updated =
        send(&env.app, json_request(Method::PATCH, &format!("/callLog?jwtToken={jwt}"), &update)).await.ok_json();
    // The CRM could not be read: the update waits (retried later) rather than overwrite the body.
    assert_eq!(updated["successful"], true, "{updated}");
    assert_eq!(
        updated["returnMessage"]["message"],
        "Saved. Mock CRM is not reachable right now; this change will be saved as soon as it is."
    );
}

async fn update_recomposes_from_the_body_the_crm_holds(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "act-5"})))
        .mount(&env.server)
        .await;
    let held = "- Note: old note\n- Contact Number: +14155550123 (kept from the CRM)\n";
    Mock::given(method("GET"))
        .and(path("/activities/act-5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "act-5", "body": held})))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/activities/act-5"))
        .and(body_string_contains("(kept from the CRM)"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&env.server)
        .await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "7"});
    post_call(&env.app, &jwt, &create).await;
    let update = json!({"sessionId": session_id, "note": "new note"});
    let updated =
        send(&env.app, json_request(Method::PATCH, &format!("/callLog?jwtToken={jwt}"), &update)).await.ok_json();
    let requests = env.server.received_requests().await.unwrap();
    let put = requests.iter().find(|it| it.method.as_str() == "PUT");
    assert_eq!(
        updated["successful"],
        true,
        "{updated} {:?}",
        put.map(|it| String::from_utf8_lossy(&it.body).into_owned())
    );
    assert_eq!(updated["logId"], "act-5");
}

async fn invalid_grant_answers_session_revoked(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("expired", "dead-refresh", an_hour_ago()).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("refresh_token=dead-refresh"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&env.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&env.server)
        .await;
    let expected = json!({
        "successful": false,
        "returnMessage": {"message": "User session expired. Please connect again.", "messageType": "warning", "ttl": 5000},
        "errorCode": "CRM_SESSION_REVOKED",
    });
    let found = send(&env.app, get(&format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"))).await;
    assert_eq!(found.status, StatusCode::UNAUTHORIZED);
    assert_eq!(found.json(), expected);

    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "7"});
    let created = send(&env.app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await;
    assert_eq!(created.status, StatusCode::UNAUTHORIZED);
    assert_eq!(created.json(), expected);
    // The job failed: nothing is recorded for the session.
    let lookup = send(&env.app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}"))).await.ok_json();
    assert_eq!(lookup["logs"][0]["matched"], false);
}
