//! The client's must-pass checklist (app-connect-client.md section 10), one test per item. Items covered in depth
//! elsewhere are asserted here again in the shape the extension relies on.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::oauth_env::{OAuthEnv, an_hour_ago};
use crate::support::{Backend, call_record, get, json_request, sandbox_app, sandbox_login, send, unique_key};

both_backends!(
    item_01_query_token_auth,
    item_02_cors_preflight,
    item_03_phone_number_plus_restored,
    item_04_oauth_callback_unencoded,
    item_05_business_failures_are_200,
    item_06_contact_list_ends_with_placeholder,
    item_07_call_log_lookup_shape,
    item_08_create_is_idempotent_and_lenient,
    item_09_message_log_ids_are_an_array,
    item_10_user_settings_always_answered,
    item_11_admin_settings_refused_for_non_admins,
    item_12_contact_creation_and_search_shapes,
    item_13_manifest_for_custom_manifest_url,
    item_14_revoked_session_is_visible,
);

async fn item_01_query_token_auth(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    assert_eq!(send(&app, get(&format!("/user/settings?jwtToken={jwt}"))).await.status, StatusCode::OK);
    for token in ["undefined", "", "not-a-jwt"] {
        let answer = send(&app, get(&format!("/callLog?jwtToken={token}&sessionIds=1"))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
        assert_eq!(answer.text(), "Please go to Settings and authorize CRM platform");
    }
    let answer = send(&app, get("/callLog?sessionIds=1")).await;
    assert_eq!(answer.text(), "Please go to Settings and authorize CRM platform");
}

async fn item_02_cors_preflight(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/callDisposition?jwtToken=x")
        .header("origin", "chrome-extension://abc")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type,rc-extension-id,rc-account-id,developer-author-name")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, preflight).await;
    assert!(answer.status.is_success());
    assert_eq!(answer.headers["access-control-allow-origin"], "*");
    assert!(answer.headers["access-control-allow-methods"].to_str().unwrap().contains("PUT"));
}

async fn item_03_phone_number_plus_restored(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    for phone in ["+16505550100", "%2B16505550100", "+1%20650-555-0100"] {
        let found = send(
            &app,
            get(&format!("/contact?jwtToken={jwt}&phoneNumber={phone}&overridingFormat=&isExtension=false")),
        )
        .await
        .ok_json();
        assert_eq!(found["contact"][0]["name"], "Ada Lovelace", "{phone}: {found}");
    }
}

async fn item_04_oauth_callback_unencoded(backend: Backend) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let env = OAuthEnv::new(backend).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "a", "refresh_token": "r", "expires_in": "3600"})),
        )
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": uuid::Uuid::new_v4().to_string(), "name": "Ann"})),
        )
        .mount(&env.server)
        .await;
    let uri = "/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/redirect.html?code=AbC&state=platform=mockcrm&hostname=crm.test&rcAccountId=1";
    let answer = send(&env.app, get(uri)).await.ok_json();
    assert!(answer["jwtToken"].is_string());
    assert_eq!(answer["name"], "Ann");
    assert!(answer["returnMessage"]["message"].is_string());
}

async fn item_05_business_failures_are_200(backend: Backend) {
    use crate::oauth_env::in_an_hour;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access", "refresh", in_an_hour()).await;
    // The CRM refuses the record: the extension gets a 200 with App Connect's message.
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(422))
        .mount(&env.server)
        .await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "7"});
    let answer =
        send(&env.app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(answer["successful"], false);
    let message = &answer["returnMessage"];
    assert_eq!(message["message"], "Error creating call log");
    assert!(["success", "warning", "error"].contains(&message["messageType"].as_str().unwrap()));
    assert_eq!(message["ttl"], 5000);
    let details = message["details"].as_array().unwrap();
    assert_eq!(details[0]["title"], "Details");
    assert_eq!(details[0]["items"][0]["id"], "1");
    assert_eq!(details[0]["items"][0]["type"], "text");
    assert!(details[0]["items"][0]["text"].as_str().unwrap().contains("CREATE logs"));
    let missing_contact = json!({"logInfo": call_record(&session_id, "+14155550123")});
    let answer = send(&env.app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &missing_contact))
        .await
        .ok_json();
    assert_eq!(answer["returnMessage"]["message"], "Contact not found for number +14155550123");
}

async fn item_06_contact_list_ends_with_placeholder(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    for phone in ["+14155550123", "+19995550000"] {
        let found = send(&app, get(&format!("/contact?jwtToken={jwt}&phoneNumber={phone}"))).await.ok_json();
        let contacts = found["contact"].as_array().unwrap();
        assert_eq!(found["successful"], true);
        assert!(!contacts.is_empty());
        let last = contacts.last().unwrap();
        assert_eq!((last["id"].clone(), last["isNewContact"].clone()), (json!("createNewContact"), json!(true)));
    }
    let none = send(&app, get(&format!("/contact?jwtToken={jwt}&phoneNumber=+19995550000"))).await.ok_json();
    assert_eq!(none["returnMessage"]["message"], "Contact not found");
}

async fn item_07_call_log_lookup_shape(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let logged = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&logged, "+14155550123"), "contactId": "c-2", "note": "hello"});
    let log_id =
        send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json()["logId"]
            .clone();
    let ids = format!("{logged},u1,u2,u3,u4,u5,u6");
    let answer =
        send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={ids}&requireDetails=false"))).await.ok_json();
    let logs = answer["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 5);
    assert_eq!(logs[0], json!({"sessionId": logged, "matched": true, "logId": log_id}));
    assert_eq!(logs[1], json!({"sessionId": "u1", "matched": false}));
    let answer =
        send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={logged}&requireDetails=true"))).await.ok_json();
    let data = &answer["logs"][0]["logData"];
    assert!(data["subject"].is_string() && data["note"].as_str().unwrap().contains("hello"), "{answer}");
    assert!(data.get("dispositions").is_some(), "{answer}");
}

async fn item_08_create_is_idempotent_and_lenient(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let mut record = call_record(&session_id, "+14155550123");
    record["delegationType"] = json!("Coworker");
    record["queueCall"] = json!(false);
    let create = json!({"logInfo": record, "contactId": "c-2", "overridingFormat": []});
    let first = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(first["successful"], true, "{first}");
    let second = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(second["successful"], false);
    assert!(second["returnMessage"]["message"].as_str().unwrap().starts_with("Existing log"));
    let numeric = format!("s-{}", uuid::Uuid::new_v4().simple());
    let create = json!({"logInfo": call_record(&numeric, "+14155550123"), "contactId": 12345});
    let answer = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    // A numeric contact id (what `GET /contact` returns for CRMs with numeric ids) is accepted.
    assert_eq!(answer["successful"], true, "{answer}");
}

async fn item_09_message_log_ids_are_an_array(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let conversation = format!("conv-{}", uuid::Uuid::new_v4().simple());
    let body = json!({
        "logInfo": {
            "conversationId": conversation, "conversationLogId": format!("{conversation}-day"), "type": "SMS",
            "messages": [{"id": format!("{conversation}-m1"), "direction": "Inbound", "subject": "Hello", "creationTime": "2024-05-01T10:00:00Z",
                          "from": {"phoneNumber": "+14155550123"}, "to": [{"phoneNumber": "+16505550999"}]}],
            "correspondents": [{"phoneNumber": "+14155550123"}],
        },
        "contactId": "c-2", "contactType": "contact", "contactName": "Grace Hopper", "additionalSubmission": {},
    });
    let answer = send(&app, json_request(Method::POST, &format!("/messageLog?jwtToken={jwt}"), &body)).await.ok_json();
    assert_eq!(answer["successful"], true, "{answer}");
    assert_eq!(answer["logIds"].as_array().unwrap().len(), 1);
    let again = send(&app, json_request(Method::POST, &format!("/messageLog?jwtToken={jwt}"), &body)).await.ok_json();
    assert!(again["logIds"].is_array(), "{again}");
    let empty = json!({"logInfo": {"messages": [], "correspondents": []}, "contactId": "c-2"});
    let answer = send(&app, json_request(Method::POST, &format!("/messageLog?jwtToken={jwt}"), &empty)).await.ok_json();
    assert!(answer["logIds"].is_array(), "{answer}");
}

async fn item_10_user_settings_always_answered(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    assert_eq!(send(&app, get(&format!("/user/settings?jwtToken={jwt}"))).await.ok_json(), json!({}));
    let body = json!({"userSettings": {"anything": {"value": [1, {"deep": true}]}, "info": {"value": "UI only"}}});
    let answer =
        send(&app, json_request(Method::POST, &format!("/user/settings?jwtToken={jwt}"), &body)).await.ok_json();
    assert_eq!(answer, body);
}

async fn item_11_admin_settings_refused_for_non_admins(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let answer = send(&app, get(&format!("/admin/settings?jwtToken={jwt}&rcAccessToken=rc-token"))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

async fn item_12_contact_creation_and_search_shapes(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let body = json!({"phoneNumber": "+15105550111", "newContactName": "Katherine Johnson", "newContactType": "contact", "additionalSubmission": {}});
    let created = send(&app, json_request(Method::POST, &format!("/contact?jwtToken={jwt}"), &body)).await.ok_json();
    assert_eq!(created["successful"], true);
    assert!(created["contact"]["id"].is_string(), "{created}");
    // Unencoded name with spaces and an ampersand.
    let found =
        send(&app, get(&format!("/custom/contact/search?jwtToken={jwt}&name=Katherine%20Johnson"))).await.ok_json();
    assert_eq!(found["contact"][0]["name"], "Katherine Johnson");
    let none = send(&app, get(&format!("/custom/contact/search?jwtToken={jwt}&name=Smith%20&%20Sons"))).await.ok_json();
    assert_eq!(none["contact"], json!([]));
    assert_eq!(none["returnMessage"]["message"], "No contact found with name Smith & Sons ");
    assert!(none["returnMessage"]["messageType"].is_string() && none["returnMessage"]["ttl"].is_number());
}

async fn item_13_manifest_for_custom_manifest_url(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let manifest = send(&app, get("/crmManifest")).await.ok_json();
    assert_eq!(manifest["serverUrl"], "https://callbridge.test");
    assert_eq!(manifest["redirectUri"], "https://ringcentral.github.io/ringcentral-embeddable/redirect.html");
    assert!(!manifest["author"]["name"].as_str().unwrap().is_empty());
    assert!(manifest["version"].is_string());
    for (key, platform) in manifest["platforms"].as_object().unwrap() {
        assert_eq!(platform["name"], key.as_str());
    }
}

async fn item_14_revoked_session_is_visible(backend: Backend) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("old", "revoked", an_hour_ago()).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_string("error=invalid_grant&error_description=revoked"))
        .mount(&env.server)
        .await;
    let answer = send(&env.app, get(&format!("/callLog?jwtToken={jwt}&sessionIds=1&requireDetails=false"))).await;
    // A lookup without details needs no CRM call, so it still answers.
    assert_eq!(answer.status, StatusCode::OK);
    let answer = send(&env.app, get(&format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let body = answer.json();
    assert_eq!(body["successful"], false);
    assert_eq!(body["returnMessage"]["message"], "User session expired. Please connect again.");
    assert_eq!(body["errorCode"], "CRM_SESSION_REVOKED");
}
