//! End to end with Insightly: the real `callbridge serve` binary over TCP, its Insightly traffic sent to a stateful
//! wiremock Insightly with `CALLBRIDGE_INSIGHTLY_BASE_URL`, driven like the App Connect extension drives it: API-key
//! login, contact lookup, call log create, duplicate create, update with a recording link and an AI note, read back,
//! disposition, an SMS conversation and its append, and logout. Each step asserts what Insightly received.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use callbridge_tests::load::server::{ServerOptions, SpawnedServer, build_debug_server};
use common::{assert_duplicate_create_is_refused, json_of, received, update_with_recording_and_ai_note};
use serde_json::{Value, json};
use wiremock::matchers::{any, header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const API_KEY: &str = "e2e-insightly-key";
/// `Basic base64("e2e-insightly-key:")`.
const AUTH: &str = "Basic ZTJlLWluc2lnaHRseS1rZXk6";
const SESSION_ID: &str = "931929965510";
const EVENT_PATH: &str = "/v3.1/Events/9001";

/// The events the mock Insightly holds, by id, with their links; link ids count up from 500.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<(Vec<Value>, u64)>>);

impl Events {
    fn get(&self, id: u64) -> Option<Value> {
        self.0.lock().unwrap().0.iter().find(|it| it["EVENT_ID"] == id).cloned()
    }

    fn with<T>(&self, id: u64, change: impl FnOnce(&mut Value, &mut u64) -> T) -> Option<T> {
        let mut guard = self.0.lock().unwrap();
        let (events, next_link) = &mut *guard;
        events.iter_mut().find(|it| it["EVENT_ID"] == id).map(|event| change(event, next_link))
    }

    /// Stores a new event as Insightly does: an id, and ids for the links that came with it.
    fn create(&self, mut event: Value) -> Value {
        let mut guard = self.0.lock().unwrap();
        let (events, next_link) = &mut *guard;
        event["EVENT_ID"] = json!(9001 + events.len() as u64);
        for link in event["LINKS"].as_array_mut().into_iter().flatten() {
            *next_link += 1;
            link["LINK_ID"] = json!(500 + *next_link);
        }
        events.push(event.clone());
        event
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({ "Message": "Not Found" }))
}

/// The id in `/v3.1/Events/<id>[/...]`.
fn event_id(request: &Request) -> u64 {
    request.url.path().split('/').nth(3).and_then(|it| it.parse().ok()).unwrap_or(0)
}

/// Mounts a stateful Insightly: the user, searches, linked records, and events with links.
async fn mount_insightly(server: &MockServer, events: &Events) {
    let get = |api_path: &str| Mock::given(method("GET")).and(path(api_path)).and(header("authorization", AUTH));
    get("/v3.1/Users/Me")
        .respond_with(ok(json!({
            "USER_ID": 12345, "FIRST_NAME": "Grace", "LAST_NAME": "Hopper",
            "TIMEZONE_ID": "Tokyo Standard Time", "EMAIL_ADDRESS": "grace@example.com"
        })))
        // Login, then the sender's name for a new SMS log and for its append.
        .expect(3)
        .mount(server)
        .await;
    for (collection, field, answer) in [
        (
            "Contacts",
            "PHONE",
            json!([{
                "CONTACT_ID": 101, "FIRST_NAME": "Ada", "LAST_NAME": "Lovelace", "TITLE": "Analyst",
                "PHONE": "4155550100", "DATE_CREATED_UTC": "2023-01-05 09:00:00", "DATE_UPDATED_UTC": "2024-04-01 10:30:00",
                "CUSTOMFIELDS": [],
                "LINKS": [{ "LINK_ID": 70, "LINK_OBJECT_NAME": "Organisation", "LINK_OBJECT_ID": 5 }]
            }]),
        ),
        ("Contacts", "PHONE_MOBILE", json!([])),
        ("Leads", "PHONE", json!([])),
        ("Leads", "MOBILE", json!([])),
    ] {
        get(&format!("/v3.1/{collection}/Search"))
            .and(query_param("field_name", field))
            .and(query_param("field_value", "4155550100"))
            .and(query_param("brief", "false"))
            .respond_with(ok(answer))
            .expect(1)
            .mount(server)
            .await;
    }
    get("/v3.1/Organisations/5")
        .respond_with(ok(json!({ "ORGANISATION_ID": 5, "ORGANISATION_NAME": "Analytical Engines" })))
        .expect(1)
        .mount(server)
        .await;
    get("/v3.1/Contacts/101")
        .respond_with(ok(json!({ "CONTACT_ID": 101, "FIRST_NAME": "Ada", "LAST_NAME": "Lovelace" })))
        .mount(server)
        .await;
    let stored = events.clone();
    Mock::given(method("POST"))
        .and(path("/v3.1/Events"))
        .and(header("authorization", AUTH))
        .respond_with(move |request: &Request| ok(stored.create(serde_json::from_slice(&request.body).unwrap())))
        .mount(server)
        .await;
    let stored = events.clone();
    Mock::given(method("PUT"))
        .and(path("/v3.1/Events"))
        .and(header("authorization", AUTH))
        .respond_with(move |request: &Request| {
            let changes: Value = serde_json::from_slice(&request.body).unwrap();
            let id = changes["EVENT_ID"].as_u64().unwrap_or(0);
            let updated = stored.with(id, |event, _| {
                for (key, value) in changes.as_object().unwrap() {
                    event[key] = value.clone();
                }
                event.clone()
            });
            updated.map_or_else(not_found, ok)
        })
        .mount(server)
        .await;
    let stored = events.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/v3\.1/Events/\d+$"))
        .and(header("authorization", AUTH))
        .respond_with(move |request: &Request| stored.get(event_id(request)).map_or_else(not_found, ok))
        .mount(server)
        .await;
    let stored = events.clone();
    Mock::given(method("POST"))
        .and(path_regex(r"^/v3\.1/Events/\d+/Links$"))
        .and(header("authorization", AUTH))
        .respond_with(move |request: &Request| {
            let mut link: Value = serde_json::from_slice(&request.body).unwrap();
            let added = stored.with(event_id(request), |event, next_link| {
                *next_link += 1;
                link["LINK_ID"] = json!(500 + *next_link);
                event["LINKS"].as_array_mut().unwrap().push(link.clone());
                link.clone()
            });
            added.map_or_else(not_found, ok)
        })
        .mount(server)
        .await;
    let stored = events.clone();
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v3\.1/Events/\d+/Links/\d+$"))
        .and(header("authorization", AUTH))
        .respond_with(move |request: &Request| {
            let link_id: u64 = request.url.path().rsplit('/').next().unwrap().parse().unwrap();
            let removed = stored.with(event_id(request), |event, _| {
                let links = event["LINKS"].as_array_mut().unwrap();
                let before = links.len();
                links.retain(|it| it["LINK_ID"] != link_id);
                before != links.len()
            });
            if removed == Some(true) { ResponseTemplate::new(202) } else { not_found() }
        })
        .mount(server)
        .await;
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(500).set_body_string(format!("no mock for {} {}", request.method, request.url.path()))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

/// The requests Insightly received as `METHOD path`, in order, without searches and reads of linked records.
async fn writes(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .filter(|it| it.method.as_str() != "GET")
        .map(|it| format!("{} {}", it.method, it.url.path()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insightly_logging_from_api_key_login_to_logout() {
    let insightly = MockServer::start().await;
    let events = Events::default();
    mount_insightly(&insightly, &events).await;
    let server = SpawnedServer::start(&ServerOptions {
        binary: build_debug_server().unwrap(),
        database_url: None,
        crm_url: insightly.uri(),
        log_filter: "info".into(),
    })
    .await
    .unwrap();
    let base = server.base_url().to_owned();
    #[expect(clippy::disallowed_methods, reason = "the test is a client of the server, not a connector")]
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();

    // 1. API-key login with the API URL copied from Insightly's User Settings.
    let login_body = json!({
        "platform": "insightly",
        "apiKey": API_KEY,
        "hostname": "crm.na1.insightly.com",
        "additionalInfo": { "apiKey": API_KEY, "apiUrl": "https://api.na1.insightly.com/v3.1/" }
    });
    let login = json_of(http.post(format!("{base}/apiKeyLogin")).json(&login_body).send().await.unwrap()).await;
    assert_eq!(login["name"], "Grace Hopper", "{login}");
    assert_eq!(login["returnMessage"]["message"], "Connected to Insightly.");
    let jwt = login["jwtToken"].as_str().expect("a session token").to_owned();

    // 2. Contact lookup: the `+` arrives as a space; Insightly is searched for the national number.
    let found =
        json_of(http.get(format!("{base}/contact?jwtToken={jwt}&phoneNumber= 14155550100")).send().await.unwrap())
            .await;
    assert_eq!(found["successful"], true, "{found}");
    let contact = &found["contact"][0];
    assert_eq!((contact["id"].clone(), contact["type"].clone()), (json!(101), json!("Contact")));
    assert_eq!(contact["additionalInfo"], json!({ "organisation": [{ "const": "5", "title": "Analytical Engines" }] }));
    assert_eq!(found["contact"][1]["id"], "createNewContact");

    // 3. Create the call log: one event, its links in the same request.
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
        "contactType": "Contact",
        "contactName": "Ada Lovelace",
        "note": "Wants a quote <today> & delivery by Friday",
        "additionalSubmission": { "organisation": "5" }
    });
    let created =
        json_of(http.post(format!("{base}/callLog?jwtToken={jwt}")).json(&create_body).send().await.unwrap()).await;
    assert_eq!((created["successful"].clone(), created["logId"].clone()), (json!(true), json!(9001)), "{created}");
    assert_eq!(created["returnMessage"]["message"], "Call logged");
    let posted = received(&insightly, "POST", "/v3.1/Events").await;
    assert_eq!(posted.len(), 1);
    let details_after_create = posted[0]["DETAILS"].as_str().unwrap().to_owned();
    assert_eq!(details_after_create, EXPECTED_DETAILS_AFTER_CREATE);
    let mut expected = json!({
        "TITLE": "Inbound Call from Ada Lovelace",
        "DETAILS": EXPECTED_DETAILS_AFTER_CREATE,
        "START_DATE_UTC": "2024-05-01T07:30:00.000Z",
        "END_DATE_UTC": "2024-05-01T07:35:00.000Z",
        "LINKS": [
            { "LINK_OBJECT_NAME": "Contact", "LINK_OBJECT_ID": 101 },
            { "LINK_OBJECT_NAME": "Organisation", "LINK_OBJECT_ID": 5 }
        ]
    });
    // The record key the host passes goes into LOCATION when there is one.
    if let Some(location) = posted[0].get("LOCATION") {
        expected["LOCATION"] = location.clone();
        assert!(location.as_str().unwrap().starts_with("callbridge:"), "{location}");
    }
    assert_eq!(posted[0], expected);

    // 4. The same session again: nothing new in Insightly.
    assert_duplicate_create_is_refused(&http, &base, &jwt, &create_body, SESSION_ID).await;
    assert_eq!(received(&insightly, "POST", "/v3.1/Events").await.len(), 1);

    // 5. Update with the recording link and an AI note: the body is recomposed in place and PUT back.
    let update_body = update_with_recording_and_ai_note(SESSION_ID, 300);
    let updated =
        json_of(http.patch(format!("{base}/callLog?jwtToken={jwt}")).json(&update_body).send().await.unwrap()).await;
    assert_eq!(updated["successful"], true, "{updated}");
    let put = received(&insightly, "PUT", "/v3.1/Events").await;
    assert_eq!(
        put,
        [json!({
            "EVENT_ID": 9001,
            "DETAILS": EXPECTED_DETAILS_AFTER_UPDATE,
            "TITLE": "Inbound Call from Ada Lovelace",
            "START_DATE_UTC": "2024-05-01T07:30:00.000Z",
            "END_DATE_UTC": "2024-05-01T07:35:00.000Z"
        })]
    );

    // 6. Read back with details: note, subject, contact and dispositions from the event and its links.
    let logs = json_of(
        http.get(format!("{base}/callLog?jwtToken={jwt}&sessionIds={SESSION_ID}&requireDetails=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let log = &logs["logs"][0];
    assert_eq!((log["matched"].clone(), log["logId"].clone()), (json!(true), json!(9001)), "{logs}");
    assert_eq!(log["logData"]["note"], "Wants a quote <today> & delivery by Friday");
    assert_eq!(log["logData"]["subject"], "Inbound Call from Ada Lovelace");
    assert_eq!(log["logData"]["dispositions"], json!({ "organisation": "5" }));

    // 7. Disposition: another organisation replaces the linked one (delete, then create), and a project is added.
    let disposition = json!({ "sessionId": SESSION_ID, "dispositions": { "organisation": "8", "project": 7 } });
    let disposed =
        json_of(http.put(format!("{base}/callDisposition?jwtToken={jwt}")).json(&disposition).send().await.unwrap())
            .await;
    assert_eq!(disposed["successful"], true, "{disposed}");
    let links: Vec<(String, u64)> = events.get(9001).unwrap()["LINKS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| (it["LINK_OBJECT_NAME"].as_str().unwrap().to_owned(), it["LINK_OBJECT_ID"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        links,
        [("Contact".to_owned(), 101), ("Organisation".to_owned(), 8), ("Project".to_owned(), 7)],
        "the organisation link was replaced"
    );

    // 8. An SMS conversation: the first message makes an event linked to the contact, the reply is appended to it.
    let sms = |messages: Value| {
        json!({
            "logInfo": {
                "conversationId": "c-77",
                "conversationLogId": "c-77-2024-05-01",
                "messages": messages,
                "correspondents": [{ "phoneNumber": "+14155550100", "name": "Ada Lovelace" }]
            },
            "contactId": "101",
            "contactType": "Contact",
            "contactName": "Ada Lovelace",
            "additionalSubmission": {}
        })
    };
    let first = json!({
        "id": "m-1", "direction": "Inbound", "subject": "Is the quote ready?",
        "creationTime": "2024-05-01T08:00:00.000Z",
        "from": { "phoneNumber": "+14155550100" }, "to": [{ "phoneNumber": "+16505557040" }]
    });
    let reply = json!({
        "id": "m-2", "direction": "Outbound", "subject": "Yes, sending it now.",
        "creationTime": "2024-05-01T08:05:00.000Z",
        "from": { "phoneNumber": "+16505557040" }, "to": [{ "phoneNumber": "+14155550100" }]
    });
    let logged = json_of(
        http.post(format!("{base}/messageLog?jwtToken={jwt}")).json(&sms(json!([first.clone()]))).send().await.unwrap(),
    )
    .await;
    assert_eq!((logged["successful"].clone(), logged["logIds"].clone()), (json!(true), json!(["m-1"])), "{logged}");
    let posted = received(&insightly, "POST", "/v3.1/Events").await;
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[1]["TITLE"], "SMS conversation with Ada Lovelace - 24/05/01");
    assert_eq!(posted[1]["DETAILS"], EXPECTED_SMS_BODY);
    assert_eq!(
        (posted[1]["START_DATE_UTC"].clone(), posted[1]["END_DATE_UTC"].clone()),
        (json!("2024-05-01T08:00:00.000Z"), json!("2024-05-01T08:00:00.000Z"))
    );
    assert_eq!(posted[1]["LINKS"], json!([{ "LINK_OBJECT_NAME": "Contact", "LINK_OBJECT_ID": 101 }]));
    // The extension sends the conversation again, newest first; only the reply is new. The answer names every
    // message of the request that is logged, the earlier one included, so a retry after a lost answer learns it too.
    let appended = json_of(
        http.post(format!("{base}/messageLog?jwtToken={jwt}")).json(&sms(json!([reply, first]))).send().await.unwrap(),
    )
    .await;
    assert_eq!(appended["logIds"], json!(["m-1", "m-2"]), "{appended}");
    let conversation = events.get(9002).unwrap();
    assert_eq!(conversation["DETAILS"], EXPECTED_SMS_BODY_APPENDED);
    assert_eq!(conversation["END_DATE_UTC"], "2024-05-01T08:05:00.000Z");

    // 9. Logout: local only, and the session no longer reaches Insightly.
    let logout = json_of(http.post(format!("{base}/unAuthorize?jwtToken={jwt}")).send().await.unwrap()).await;
    assert_eq!(logout["message"], "Logged out of Insightly", "{logout}");
    // Logout ended the session: its token is refused before anything reaches Insightly.
    let after = http.get(format!("{base}/contact?jwtToken={jwt}&phoneNumber=%2B14155550100")).send().await.unwrap();
    assert_eq!(after.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(after.text().await.unwrap(), "Please go to Settings and authorize CRM platform");

    assert_eq!(
        writes(&insightly).await,
        [
            "POST /v3.1/Events",
            "PUT /v3.1/Events",
            format!("DELETE {EVENT_PATH}/Links/502").as_str(),
            format!("POST {EVENT_PATH}/Links").as_str(),
            format!("POST {EVENT_PATH}/Links").as_str(),
            "POST /v3.1/Events",
            "PUT /v3.1/Events",
        ]
    );
    let log_tail = server.log_tail();
    server.stop().await.unwrap();
    assert!(!log_tail.contains(API_KEY), "the API key leaked into the server log");
    // Every mock's `.expect` is verified when the mock server drops.
}

/// The composed plain-text body of the new log, in the user's time zone (Tokyo, +9).
const EXPECTED_DETAILS_AFTER_CREATE: &str = "- Note: Wants a quote <today> & delivery by Friday\n\
- Date/Time: 2024-05-01 04:30:00 PM\n- Duration: 5 minutes\n- Result: Call connected\n";
/// The same body updated in place: the note kept, the recording link and the AI note added.
const EXPECTED_DETAILS_AFTER_UPDATE: &str = "- Note: Wants a quote <today> & delivery by Friday\n\
- Date/Time: 2024-05-01 04:30:00 PM\n- Duration: 5 minutes\n- Result: Call connected\n\
- Call recording link: https://media.ringcentral.com/restapi/v1.0/account/1/recording/7/content\n\n\
- AI Note:\nCustomer wants delivery by Friday.\nSend the quote today.\n--- END\n";
/// The new SMS conversation, in the user's time zone (Tokyo, +9).
const EXPECTED_SMS_BODY: &str = concat!(
    "\nConversation summary\nWednesday, May 01, 2024\nParticipants\n",
    "    Grace Hopper\n    Ada Lovelace\n    Ada Lovelace\n\n",
    "Conversation(1 messages)\nBEGIN\n------------\nAda Lovelace (+14155550100) 05:00 PM\nIs the quote ready?\n\n",
    "------------\nEND\n\n--- Created via RingCentral App Connect"
);
/// The conversation with the reply appended and the count raised.
const EXPECTED_SMS_BODY_APPENDED: &str = concat!(
    "\nConversation summary\nWednesday, May 01, 2024\nParticipants\n",
    "    Grace Hopper\n    Ada Lovelace\n    Ada Lovelace\n\n",
    "Conversation(2 messages)\nBEGIN\n------------\nAda Lovelace (+14155550100) 05:00 PM\nIs the quote ready?\n\n",
    "Grace Hopper 05:05 PM\nYes, sending it now.\n\n",
    "------------\nEND\n\n--- Created via RingCentral App Connect"
);
