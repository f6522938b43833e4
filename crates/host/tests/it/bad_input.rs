//! Bad input gets a clear 4xx and changes nothing: malformed JSON, wrong types, missing fields, an unknown
//! platform, oversized bodies and absurd query values.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::support::{
    Backend, call_record, get, json_request, raw_request, sandbox_app, sandbox_login, send, unique_key,
};

both_backends!(
    malformed_bodies_change_nothing,
    unknown_platform_and_oversized_body,
    absurd_query_values,
    database_failures_are_reported_not_panicked,
);

async fn malformed_bodies_change_nothing(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let uri = format!("/callLog?jwtToken={jwt}");
    let cases: Vec<(Method, String)> = vec![
        (Method::POST, "{\"logInfo\": ".to_owned()),
        (Method::POST, "not json at all".to_owned()),
        (Method::POST, json!({"logInfo": "a string", "contactId": "c-2"}).to_string()),
        (Method::POST, json!({"contactId": "c-2", "note": "no logInfo"}).to_string()),
        (Method::POST, json!({"logInfo": {"direction": "Inbound"}, "contactId": "c-2"}).to_string()),
        (Method::POST, json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "c-2", "note": {"nested": true}}).to_string()),
        (Method::POST, json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "c-2", "additionalSubmission": [1, 2]}).to_string()),
        (Method::PATCH, json!({"note": "no session"}).to_string()),
        (Method::PATCH, json!({"sessionId": {"an": "object"}}).to_string()),
        (Method::PATCH, "[]".to_owned()),
    ];
    for (verb, body) in cases {
        let answer = send(&app, raw_request(verb.clone(), &uri, body.clone())).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{verb} {body}: {}", answer.text());
        let text = answer.text();
        assert!(text.starts_with("Invalid request body") || text.starts_with("Missing"), "{text}");
    }
    let answer = send(
        &app,
        raw_request(
            Method::PUT,
            &format!("/callDisposition?jwtToken={jwt}"),
            "{\"sessionId\": 5, \"dispositions\": 3}",
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer =
        send(&app, raw_request(Method::POST, &format!("/user/settings?jwtToken={jwt}"), "{\"userSettings\": \"all\"}"))
            .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = send(&app, raw_request(Method::POST, "/apiKeyLogin", "{\"platform\": [\"sandbox\"]}")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    // Nothing was logged and the settings are untouched.
    let lookup = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}"))).await.ok_json();
    assert_eq!(lookup["logs"][0]["matched"], false);
    assert_eq!(send(&app, get(&format!("/user/settings?jwtToken={jwt}"))).await.ok_json(), json!({}));
}

async fn unknown_platform_and_oversized_body(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let user_id = state.jwt.verify(&jwt).unwrap().id;
    let elsewhere = state.jwt.issue(&user_id, Some("nope"), None).unwrap();
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "c-2"});
    let answer = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={elsewhere}"), &create)).await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::BAD_REQUEST, "Unknown platform"));
    let answer = send(&app, get(&format!("/contact?jwtToken={elsewhere}&phoneNumber=+14155550123"))).await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::BAD_REQUEST, "Unknown platform"));

    let huge_note = "x".repeat(2 * 1024 * 1024);
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "c-2", "note": huge_note});
    let answer = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.text().contains("too large"), "{}", answer.text());
    let lookup = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}"))).await.ok_json();
    assert_eq!(lookup["logs"][0]["matched"], false);
}

async fn absurd_query_values(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    // 10,000 session ids: the first five are looked at, as App Connect does.
    let ids: Vec<String> = (0..10_000).map(|idx| format!("s{idx}")).collect();
    let answer = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={}", ids.join(",")))).await.ok_json();
    let logs = answer["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 5);
    assert_eq!(logs[4]["sessionId"], "s4");
    let long_id = "9".repeat(10_000);
    let answer = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={long_id}"))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = send(&app, get(&format!("/contact?jwtToken={jwt}&phoneNumber={long_id}"))).await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::BAD_REQUEST, "Invalid phoneNumber: too long."));
    let answer = send(&app, get(&format!("/contact?jwtToken={jwt}"))).await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::BAD_REQUEST, "Missing phoneNumber."));
    let answer = send(&app, get(&format!("/custom/contact/search?jwtToken={jwt}&name={long_id}"))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let create = json!({"logInfo": call_record(&long_id, "+14155550123"), "contactId": "c-2"});
    let answer = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds=,,,"))).await.ok_json();
    assert_eq!(answer["logs"], json!([]));
}

async fn database_failures_are_reported_not_panicked(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    state.store.close().await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "c-2"});
    // The session cannot be checked without the database: a 503, never a panic, and never taken as valid.
    let answer = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json()["returnMessage"]["message"], "Database operation failed");
    let answer = send(&app, get(&format!("/user/settings?jwtToken={jwt}"))).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json()["returnMessage"]["message"], "Database operation failed");
    assert_eq!(send(&app, get("/isAlive")).await.status, StatusCode::OK);
}
