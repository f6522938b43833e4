//! End to end with Clio: the real `callbridge serve` binary over TCP, its Clio traffic sent to a wiremock Clio with
//! `CALLBRIDGE_CLIO_BASE_URL`, driven like the App Connect extension drives it: OAuth callback on the US host,
//! contact lookup with the user's number format, call log create, duplicate create, update with a recording link
//! and an AI note, read back, disposition, an SMS conversation logged and appended to, and logout. Each step asserts
//! what Clio received.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use callbridge_tests::load::server::{ServerOptions, SpawnedServer, build_debug_server};
use common::{
    RECORDING_LINK, assert_duplicate_create_is_refused, json_of, received, update_with_recording_and_ai_note,
};
use serde_json::{Value, json};
use wiremock::matchers::{any, basic_auth, body_string, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CLIENT_ID: &str = "clio-e2e-client";
const CLIENT_SECRET: &str = "clio-e2e-secret";
const ACCESS_TOKEN: &str = "clio-e2e-access-token";
const BEARER: &str = "Bearer clio-e2e-access-token";
const SESSION_ID: &str = "931929965510";

/// The records a mock Clio resource holds: what was POSTed, with later PATCHes merged in, by id.
#[derive(Clone, Default)]
struct Records(Arc<Mutex<BTreeMap<u64, Value>>>);

impl Records {
    fn get(&self, id: u64) -> Option<Value> {
        self.0.lock().unwrap().get(&id).cloned()
    }

    /// Mounts `POST <collection>.json` (ids from `first_id` up), `PATCH` and `GET <collection>/<id>.json`.
    async fn mount(&self, server: &MockServer, collection: &'static str, first_id: u64) {
        let records = self.clone();
        Mock::given(method("POST"))
            .and(path(format!("{collection}.json")))
            .and(header("authorization", BEARER))
            .respond_with(move |request: &Request| {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                let mut records = records.0.lock().unwrap();
                let id = first_id + records.len() as u64;
                let mut record = body["data"].clone();
                record["id"] = json!(id);
                records.insert(id, record);
                ResponseTemplate::new(200).set_body_json(json!({ "data": { "id": id } }))
            })
            .mount(server)
            .await;
        let records = self.clone();
        Mock::given(method("PATCH"))
            .and(header("authorization", BEARER))
            .and(wiremock::matchers::path_regex(format!(r"^{collection}/\d+\.json$")))
            .respond_with(move |request: &Request| {
                let id = record_id(request);
                let changes: Value = serde_json::from_slice(&request.body).unwrap();
                let mut records = records.0.lock().unwrap();
                let Some(record) = records.get_mut(&id) else { return ResponseTemplate::new(404) };
                for (key, value) in changes["data"].as_object().unwrap() {
                    record[key] = value.clone();
                }
                ResponseTemplate::new(200).set_body_json(json!({ "data": { "id": id } }))
            })
            .mount(server)
            .await;
        let records = self.clone();
        Mock::given(method("GET"))
            .and(header("authorization", BEARER))
            .and(wiremock::matchers::path_regex(format!(r"^{collection}/\d+\.json$")))
            .respond_with(move |request: &Request| match records.get(record_id(request)) {
                Some(record) => ResponseTemplate::new(200).set_body_json(json!({ "data": record })),
                None => ResponseTemplate::new(404)
                    .set_body_json(json!({ "error": { "type": "RecordNotFound", "message": "not found" } })),
            })
            .mount(server)
            .await;
    }
}

/// The numeric id in `/api/v4/<collection>/<id>.json`.
fn record_id(request: &Request) -> u64 {
    let file = request.url.path().rsplit('/').next().unwrap();
    file.trim_end_matches(".json").parse().unwrap()
}

/// Mounts Clio: the token endpoint, who_am_i, contact search with matters and relationships, contacts, stateful
/// communications and activities, deauthorize, and a fallback naming anything else.
async fn mount_clio(server: &MockServer, communications: &Records, activities: &Records) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(basic_auth(CLIENT_ID, CLIENT_SECRET))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=e2e-auth-code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "refresh_token": "clio-e2e-refresh-token",
            "token_type": "bearer",
            "expires_in": 604800
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/who_am_i.json"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "id": 12345, "name": "Grace Hopper", "time_zone": "Asia/Kolkata" }
        })))
        .mount(server)
        .await;
    for query in ["+14155550100", "(415) 555-0100"] {
        Mock::given(method("GET"))
            .and(path("/api/v4/contacts.json"))
            .and(query_param("query", query))
            .and(header("authorization", BEARER))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [{
                "id": 101, "name": "Ada Lovelace", "type": "Person",
                "created_at": "2023-01-05T09:00:00Z", "updated_at": "2024-04-01T10:30:00Z"
            }] })))
            .expect(1)
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/api/v4/matters.json"))
        .and(query_param("client_id", "101"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [
            { "id": 201, "display_number": "00001-Lovelace", "description": "Engine patent", "status": "Open" }
        ] })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/relationships.json"))
        .and(query_param("contact_id", "101"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [
            { "matter": { "id": 202, "display_number": "00002-Babbage", "description": "Witness", "status": "Open" } }
        ] })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/contacts/101.json"))
        .and(header("authorization", BEARER))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "data": { "id": 101, "name": "Ada Lovelace" } })),
        )
        .mount(server)
        .await;
    communications.mount(server, "/api/v4/communications", 301).await;
    activities.mount(server, "/api/v4/activities", 401).await;
    let listed = activities.clone();
    Mock::given(method("GET"))
        .and(path("/api/v4/activities"))
        .and(header("authorization", BEARER))
        .respond_with(move |request: &Request| {
            let communication: u64 = request
                .url
                .query_pairs()
                .find(|(key, _)| key == "communication_id")
                .and_then(|(_, value)| value.parse().ok())
                .unwrap();
            let records = listed.0.lock().unwrap();
            let found: Vec<Value> = records
                .values()
                .filter(|it| it["communication"]["id"] == communication)
                .map(|it| json!({ "id": it["id"], "quantity": it["quantity"] }))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "data": found }))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/deauthorize"))
        .and(header("authorization", BEARER))
        .and(body_string(format!("token={ACCESS_TOKEN}")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(500).set_body_string(format!("no mock for {} {}", request.method, request.url))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clio_call_and_message_logging_from_oauth_to_logout() {
    let clio = MockServer::start().await;
    let (communications, activities) = (Records::default(), Records::default());
    mount_clio(&clio, &communications, &activities).await;
    let options = ServerOptions {
        binary: build_debug_server().unwrap(),
        database_url: None,
        crm_url: clio.uri(),
        log_filter: "info".into(),
    };
    let env = [
        ("CALLBRIDGE_CLIO_BASE_URL", clio.uri()),
        ("CLIO_CLIENT_ID", CLIENT_ID.to_owned()),
        ("CLIO_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(key, value)| (*key, value.as_str())).collect();
    let server = SpawnedServer::start_with_env(&options, &env).await.unwrap();
    let base = server.base_url().to_owned();
    #[expect(clippy::disallowed_methods, reason = "the test is a client of the server, not a connector")]
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();

    // 1. The manifest offers the regions and the US app.
    let manifest = json_of(http.get(format!("{base}/crmManifest?platformName=clio")).send().await.unwrap()).await;
    let platform = &manifest["platforms"]["clio"];
    assert_eq!(platform["auth"]["oauth"]["clientId"], CLIENT_ID, "{manifest}");
    assert_eq!(platform["environment"]["selections"].as_array().map(Vec::len), Some(4));

    // 2. OAuth callback on the US host, sent unencoded as the extension sends it.
    let callback = format!(
        "{base}/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/redirect.html?code=e2e-auth-code&state=platform%3Dclio&hostname=app.clio.com&rcAccountId=37439510"
    );
    let login = json_of(http.get(&callback).send().await.unwrap()).await;
    assert_eq!(login["returnMessage"]["message"], "Connected to Clio.", "{login}");
    let jwt = login["jwtToken"].as_str().expect("a session token").to_owned();

    // 3. Contact lookup: the `+` arrives as a space; the user's format makes a second query.
    let lookup = format!("{base}/contact?jwtToken={jwt}&phoneNumber= 14155550100&overridingFormat=(***) ***-****");
    let found = json_of(http.get(&lookup).send().await.unwrap()).await;
    assert_eq!(found["successful"], true, "{found}");
    let contact = &found["contact"][0];
    assert_eq!((contact["id"].clone(), contact["type"].clone()), (json!(101), json!("Person")));
    let matters: Vec<Value> =
        contact["additionalInfo"]["matters"].as_array().unwrap().iter().map(|it| it["const"].clone()).collect();
    assert_eq!(matters, [json!(201), json!(202)]);
    assert_eq!(found["contact"].as_array().unwrap().len(), 2, "Ada once, then create-new: {found}");

    // 4. Create the call log: one communication and its non-billable time entry on matter 201.
    let create_body = json!({
        "logInfo": {
            "id": "9582866AB878",
            "sessionId": SESSION_ID,
            "telephonySessionId": "s864960121",
            "startTime": "2024-05-01T07:30:00.000Z",
            "duration": 300,
            "direction": "Inbound",
            "result": "Call connected",
            "from": { "phoneNumber": "+14155550100", "name": "Ada Lovelace" },
            "to": { "phoneNumber": "+16505557040", "name": "Grace Hopper" }
        },
        "contactId": 101,
        "contactType": "Person",
        "contactName": "Ada Lovelace",
        "note": "Wants a quote <today> & delivery by Friday",
        "additionalSubmission": { "matters": 201, "billableStatus": "non-billable" }
    });
    let created =
        json_of(http.post(format!("{base}/callLog?jwtToken={jwt}")).json(&create_body).send().await.unwrap()).await;
    assert_eq!((created["successful"].clone(), created["logId"].clone()), (json!(true), json!(301)), "{created}");
    let posted = received(&clio, "POST", "/api/v4/communications.json").await;
    assert_eq!(posted.len(), 1);
    let body_after_create = posted[0]["data"]["body"].as_str().unwrap().to_owned();
    // The record key goes with the communication when the host supplies one (durable delivery), never in the body.
    let mut expected_communication = json!({ "data": {
        "subject": "[Call] Inbound Call from Ada Lovelace [+14155550100]",
        "body": body_after_create,
        "type": "PhoneCommunication",
        "received_at": "2024-05-01T07:30:00Z",
        "senders": [{ "id": 101, "type": "Contact" }],
        "receivers": [{ "id": 12345, "type": "User" }],
        "notification_event_subscribers": [{ "user_id": 12345 }],
        "matter": { "id": 201 }
    }});
    if let Some(key) = posted[0]["data"]["external_properties"][0]["value"].as_str() {
        assert!(!key.is_empty() && !body_after_create.contains(key));
        expected_communication["data"]["external_properties"] =
            json!([{ "name": "callbridge_record_key", "value": key }]);
    }
    assert_eq!(posted[0], expected_communication);
    // Plain text, the note as typed (no HTML escaping), the time in the user's zone (Asia/Kolkata, +05:30).
    assert!(
        body_after_create.starts_with("- Note: Wants a quote <today> & delivery by Friday\n"),
        "{body_after_create}"
    );
    assert!(body_after_create.contains("01:00:00 PM") || body_after_create.contains("01:00 PM"), "{body_after_create}");
    let entries = received(&clio, "POST", "/api/v4/activities.json").await;
    assert_eq!(
        entries,
        [json!({ "data": {
            "communication": { "id": 301 },
            "quantity": 300,
            "date": "2024-05-01T07:30:00Z",
            "type": "TimeEntry",
            "non_billable": true,
            "note": body_after_create,
            "matter": { "id": 201 }
        }})]
    );

    // 5. The same session again: nothing new in Clio.
    assert_duplicate_create_is_refused(&http, &base, &jwt, &create_body, SESSION_ID).await;
    assert_eq!(received(&clio, "POST", "/api/v4/communications.json").await.len(), 1);

    // 6. Update with the recording link and an AI note: the body is recomposed in place, the time entry follows.
    let update_body = update_with_recording_and_ai_note(SESSION_ID, 320);
    let updated =
        json_of(http.patch(format!("{base}/callLog?jwtToken={jwt}")).json(&update_body).send().await.unwrap()).await;
    assert_eq!(updated["successful"], true, "{updated}");
    let stored = communications.get(301).unwrap();
    let body_after_update = stored["body"].as_str().unwrap().to_owned();
    assert!(
        body_after_update.starts_with("- Note: Wants a quote <today> & delivery by Friday\n"),
        "{body_after_update}"
    );
    assert!(body_after_update.contains(RECORDING_LINK), "{body_after_update}");
    assert!(
        body_after_update.contains("Customer wants delivery by Friday.\nSend the quote today."),
        "{body_after_update}"
    );
    let patched = received(&clio, "PATCH", "/api/v4/communications/301.json").await;
    assert_eq!(patched, [json!({ "data": { "body": body_after_update, "received_at": "2024-05-01T07:30:00Z" } })]);
    let entry_patches = received(&clio, "PATCH", "/api/v4/activities/401.json").await;
    assert_eq!(
        entry_patches,
        [json!({ "data": { "quantity": 320, "note": body_after_update, "date": "2024-05-01T07:30:00Z" } })]
    );

    // 7. Read back with details: the note, the contact's name and the matter.
    let logs = json_of(
        http.get(format!("{base}/callLog?jwtToken={jwt}&sessionIds={SESSION_ID}&requireDetails=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let log = &logs["logs"][0];
    assert_eq!((log["matched"].clone(), log["logId"].clone()), (json!(true), json!(301)), "{logs}");
    assert_eq!(log["logData"]["note"], "Wants a quote <today> & delivery by Friday");
    assert_eq!(log["logData"]["contactName"], "Ada Lovelace");
    assert_eq!(log["logData"]["dispositions"], json!({ "matters": 201 }));

    // 8. Disposition: move the communication to the related matter.
    let disposition = json!({ "sessionId": SESSION_ID, "dispositions": { "matters": 202 } });
    let disposed =
        json_of(http.put(format!("{base}/callDisposition?jwtToken={jwt}")).json(&disposition).send().await.unwrap())
            .await;
    assert_eq!(disposed["successful"], true, "{disposed}");
    assert_eq!(communications.get(301).unwrap()["matter"], json!({ "id": 202 }));

    // 9. An SMS conversation of two messages: the first creates the log, the second is appended to it.
    let sms = json!({
        "logInfo": {
            "conversationId": "conv-1",
            "conversationLogId": "conv-log-1",
            "correspondents": [{ "phoneNumber": "+14155550100", "name": "Ada Lovelace" }],
            "messages": [
                { "id": "m-2", "direction": "Inbound", "subject": "Friday works", "creationTime": "2024-05-01T08:05:00Z",
                  "from": { "phoneNumber": "+14155550100" }, "to": [{ "phoneNumber": "+16505557040" }] },
                { "id": "m-1", "direction": "Outbound", "subject": "Quote sent", "creationTime": "2024-05-01T08:00:00Z",
                  "from": { "phoneNumber": "+16505557040" }, "to": [{ "phoneNumber": "+14155550100" }] }
            ]
        },
        "contactId": "101",
        "contactType": "Person",
        "contactName": "Ada Lovelace"
    });
    let logged = json_of(http.post(format!("{base}/messageLog?jwtToken={jwt}")).json(&sms).send().await.unwrap()).await;
    assert_eq!(logged["successful"], true, "{logged}");
    let message_posts = received(&clio, "POST", "/api/v4/communications.json").await;
    assert_eq!(message_posts.len(), 2, "one communication for the call, one for the conversation");
    assert_eq!(message_posts[1]["data"]["subject"], "SMS conversation with Ada Lovelace - 05/01/2024");
    assert_eq!(message_posts[1]["data"]["senders"], json!([{ "id": 101, "type": "Contact" }]));
    let conversation = communications.get(302).unwrap()["body"].as_str().unwrap().to_owned();
    assert_eq!(conversation, EXPECTED_CONVERSATION);

    // 10. Logout revokes the token at Clio.
    let logout = json_of(http.post(format!("{base}/unAuthorize?jwtToken={jwt}")).send().await.unwrap()).await;
    assert_eq!(logout["message"], "Logged out of Clio", "{logout}");

    let log_tail = server.log_tail();
    server.stop().await.unwrap();
    assert!(!log_tail.contains(ACCESS_TOKEN), "the access token leaked into the server log");
    // Every mock's `.expect` is verified when the mock server drops.
}

/// The conversation after both messages, in the user's zone (+05:30): the count raised, the reply before the end.
const EXPECTED_CONVERSATION: &str = concat!(
    "\nConversation summary\nWednesday, May 01, 2024\nParticipants\n",
    "    Grace Hopper\n    Ada Lovelace\n    Ada Lovelace\n",
    "\nConversation(2 messages)\nBEGIN\n------------\n",
    "Grace Hopper 01:30 PM\nQuote sent\n",
    "Ada Lovelace (+14155550100) 01:35 PM\nFriday works\n",
    "------------\nEND\n\n--- Created via RingCentral App Connect",
);
