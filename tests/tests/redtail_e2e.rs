//! End to end with Redtail: the real `callbridge serve` binary over TCP, its Redtail traffic sent to a wiremock
//! Redtail with `CALLBRIDGE_REDTAIL_BASE_URL`, driven like the App Connect extension drives it: username/password
//! login, contact lookup, call log create, duplicate create (also two at once), update with a recording link and an AI note, read
//! back, category disposition, an SMS log and its append, and logout. Each step asserts what Redtail received.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use callbridge_tests::load::server::{ServerOptions, SpawnedServer, build_debug_server};
use common::{assert_duplicate_create_is_refused, json_of, update_with_recording_and_ai_note};
use serde_json::{Value, json};
use wiremock::matchers::{any, header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const API: &str = "/api/public/v1";
const API_KEY: &str = "e2e-partner-key";
const USER_KEY: &str = "e2e-user-key";
/// `Basic base64("e2e-partner-key:ada:pa:ss word")`: the login.
const LOGIN_AUTH: &str = "Basic ZTJlLXBhcnRuZXIta2V5OmFkYTpwYTpzcyB3b3Jk";
/// `Userkeyauth base64("e2e-partner-key:e2e-user-key")`: every request after it.
const USER_AUTH: &str = "Userkeyauth ZTJlLXBhcnRuZXIta2V5OmUyZS11c2VyLWtleQ==";
const SESSION_ID: &str = "931929965510";

/// The activities the mock Redtail holds, by id: what was POSTed, with later PUTs and PATCHes applied.
#[derive(Clone, Default)]
struct Activities(Arc<Mutex<BTreeMap<u64, Value>>>);

impl Activities {
    fn get(&self, id: u64) -> Option<Value> {
        self.0.lock().unwrap().get(&id).cloned()
    }
}

fn activity_id(request: &Request) -> u64 {
    request.url.path().rsplit('/').next().and_then(|it| it.parse().ok()).unwrap_or(0)
}

/// Mounts a stateful Redtail: authentication, contact search, categories, and activities that remember what they
/// were sent (ids from 5550 up).
async fn mount_redtail(server: &MockServer, activities: &Activities) {
    let with_user_key = |http_method: &str, request_path: String| {
        Mock::given(method(http_method)).and(path(request_path)).and(header("authorization", USER_AUTH))
    };
    Mock::given(method("GET"))
        .and(path(format!("{API}/authentication")))
        .and(header("authorization", LOGIN_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "authenticated_user": { "id": 301, "user_key": USER_KEY, "first_name": "Ada", "last_name": "Lovelace" }
        })))
        .expect(1)
        .mount(server)
        .await;
    with_user_key("GET", format!("{API}/contacts/search_basic"))
        .and(query_param("phone_number", "4155551234"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "contacts": [{
            "id": 9001, "first_name": "Jane", "last_name": "Doe", "job_title": "Treasurer",
            "created_at": "2023-04-01T10:00:00.000Z", "updated_at": "2024-01-10T08:00:00.000Z"
        }] })))
        .expect(1)
        .mount(server)
        .await;
    with_user_key("GET", format!("{API}/lists/categories"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "categories": [
            { "id": 1, "name": "Client Service", "deleted": false },
            { "id": 2, "name": "Phone Call", "deleted": false },
            { "id": 9, "name": "Old", "deleted": true }
        ] })))
        // The lookup's category options, then the default-category options after each call log (two sessions).
        .expect(3)
        .mount(server)
        .await;
    let stored = activities.clone();
    with_user_key("POST", format!("{API}/activities"))
        .respond_with(move |request: &Request| {
            let mut created: Value = serde_json::from_slice(&request.body).unwrap();
            let mut all = stored.0.lock().unwrap();
            let id = 5550 + all.len() as u64;
            created["id"] = json!(id);
            created["completed"] = json!(false);
            all.insert(id, created.clone());
            ResponseTemplate::new(201).set_body_json(json!({ "activity": created }))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(format!(r"^{API}/activities/\d+/notes$")))
        .and(header("authorization", USER_AUTH))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "note": { "id": 77 } })))
        .mount(server)
        .await;
    for verb in ["PUT", "PATCH"] {
        let stored = activities.clone();
        Mock::given(method(verb))
            .and(path_regex(format!(r"^{API}/activities/\d+$")))
            .and(header("authorization", USER_AUTH))
            .respond_with(move |request: &Request| {
                let changes: Value = serde_json::from_slice(&request.body).unwrap();
                let mut all = stored.0.lock().unwrap();
                let Some(activity) = all.get_mut(&activity_id(request)) else {
                    return ResponseTemplate::new(404).set_body_json(json!({ "message": "Activity not found" }));
                };
                for (key, value) in changes.as_object().unwrap() {
                    activity[key] = value.clone();
                }
                ResponseTemplate::new(200).set_body_json(json!({ "activity": activity.clone() }))
            })
            .mount(server)
            .await;
    }
    let stored = activities.clone();
    Mock::given(method("GET"))
        .and(path_regex(format!(r"^{API}/activities/\d+$")))
        .and(header("authorization", USER_AUTH))
        .and(header("include", "linked_contacts"))
        .respond_with(move |request: &Request| match stored.get(activity_id(request)) {
            Some(mut activity) => {
                activity["linked_contacts"] = json!([{ "contact_id": 9001, "first_name": "Jane", "last_name": "Doe" }]);
                ResponseTemplate::new(200).set_body_json(json!({ "activity": activity }))
            }
            None => ResponseTemplate::new(404).set_body_json(json!({ "message": "Activity not found" })),
        })
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

/// The bytes of the SQLite database and its write-ahead log, where fresh rows are until a checkpoint.
fn database_bytes(database: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(database).unwrap();
    if let Ok(wal) = std::fs::read(format!("{}-wal", database.display())) {
        bytes.extend(wal);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|it| it == needle)
}

/// The JSON bodies Redtail received for `method path` (`path` below the API's base path), in order.
async fn received(server: &MockServer, http_method: &str, request_path: &str) -> Vec<Value> {
    common::received(server, http_method, &format!("{API}{request_path}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redtail_call_and_message_logging_from_login_to_logout() {
    let redtail = MockServer::start().await;
    let activities = Activities::default();
    mount_redtail(&redtail, &activities).await;
    let scratch = tempfile::tempdir().unwrap();
    let database = scratch.path().join("redtail-e2e.db");
    let options = ServerOptions {
        binary: build_debug_server().unwrap(),
        database_url: Some(database.display().to_string()),
        crm_url: redtail.uri(),
        log_filter: "info".into(),
    };
    let redtail_uri = redtail.uri();
    let env = [("CALLBRIDGE_REDTAIL_BASE_URL", redtail_uri.as_str()), ("REDTAIL_API_KEY", API_KEY)];
    let server = SpawnedServer::start_with_env(&options, &env).await.unwrap();
    let base = server.base_url().to_owned();
    #[expect(clippy::disallowed_methods, reason = "the test is a client of the server, not a connector")]
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();

    // 1. Login: the extension sends the literal `apiKey` and the form's username and password.
    let login_body = json!({
        "platform": "redtail",
        "apiKey": "apiKey",
        "hostname": "crm.redtailtechnology.com",
        "additionalInfo": { "apiKey": "apiKey", "username": "ada", "password": "pa:ss word" }
    });
    let login = json_of(http.post(format!("{base}/apiKeyLogin")).json(&login_body).send().await.unwrap()).await;
    assert_eq!(login["name"], "ada", "{login}");
    assert_eq!(login["returnMessage"]["message"], "Connected to Redtail.");
    let jwt = login["jwtToken"].as_str().expect("a session token").to_owned();
    // The user row keeps Redtail's user profile but neither the password nor the user key in the clear.
    let stored = database_bytes(&database);
    assert!(contains(&stored, b"userResponse"), "the user row was written");
    for secret in ["pa:ss word", USER_KEY] {
        assert!(!contains(&stored, secret.as_bytes()), "{secret} is stored in the clear");
    }

    // 2. Contact lookup by the national number; the `+` arrives as a space.
    let found =
        json_of(http.get(format!("{base}/contact?jwtToken={jwt}&phoneNumber= 14155551234")).send().await.unwrap())
            .await;
    assert_eq!(found["successful"], true, "{found}");
    let categories = json!([{ "const": "1", "title": "Client Service" }, { "const": "2", "title": "Phone Call" }]);
    let contact = &found["contact"][0];
    assert_eq!((contact["id"].clone(), contact["name"].clone()), (json!(9001), json!("Jane Doe")));
    assert_eq!(contact["additionalInfo"], json!({ "category": categories }));
    assert_eq!(found["contact"][1]["id"], "createNewContact");

    // The user picks a default category before any call is logged (the options are still empty).
    let chosen = json!({ "userSettings": { "defaultCategory": { "value": "1" } } });
    let saved = http.post(format!("{base}/user/settings?jwtToken={jwt}")).json(&chosen).send().await.unwrap();
    assert_eq!(saved.status(), reqwest::StatusCode::OK);

    // 3. Create the call log: an activity, the note on it, then its completion.
    let create_body = json!({
        "logInfo": {
            "id": "9582866AB878",
            "sessionId": SESSION_ID,
            "telephonySessionId": "s864960121",
            "startTime": "2024-05-01T07:30:00.000Z",
            "duration": 300,
            "direction": "Inbound",
            "result": "Call connected",
            "from": { "phoneNumber": "+14155551234", "name": "Jane Doe" },
            "to": { "phoneNumber": "+16505557040", "name": "Ada" }
        },
        "contactId": 9001,
        "contactType": "contact",
        "contactName": "Jane Doe",
        "note": "Wants a quote <today> & delivery by Friday",
        "additionalSubmission": { "category": "1" }
    });
    let created =
        json_of(http.post(format!("{base}/callLog?jwtToken={jwt}")).json(&create_body).send().await.unwrap()).await;
    assert_eq!((created["successful"].clone(), created["logId"].clone()), (json!(true), json!(5550)), "{created}");
    assert_eq!(created["returnMessage"]["message"], "Call logged");
    let posted = received(&redtail, "POST", "/activities").await;
    assert_eq!(posted.len(), 1);
    // The host's record key goes into `location`, where reconciliation finds the activity again.
    let mut activity = posted[0].clone();
    let marker = activity.as_object_mut().unwrap().remove("location").expect("a record-key marker");
    assert!(marker.as_str().is_some_and(|it| it.starts_with("callbridge:") && it.len() > 20), "{marker}");
    assert_eq!(
        activity,
        json!({
            "subject": "Inbound Call from Jane Doe",
            "description": EXPECTED_BODY_AFTER_CREATE,
            "start_date": "2024-05-01T07:30:00.000Z",
            "end_date": "2024-05-01T07:35:00.000Z",
            "activity_code_id": 3,
            "category_id": 1,
            "repeats": "never",
            "linked_contacts": [{ "contact_id": 9001 }]
        })
    );
    assert_eq!(
        received(&redtail, "POST", "/activities/5550/notes").await,
        [json!({ "category_id": 1, "note_type": 1, "body": "Wants a quote &lt;today&gt; &amp; delivery by Friday" })]
    );
    assert_eq!(received(&redtail, "PUT", "/activities/5550").await, [json!({ "completed": true })]);
    // Then Redtail's categories become the options of the default-category setting; the user's choice is kept.
    let settings = json_of(http.get(format!("{base}/user/settings?jwtToken={jwt}")).send().await.unwrap()).await;
    assert_eq!(
        settings["defaultCategory"],
        json!({
            "value": "1",
            "customizable": true,
            "options": [{ "id": 1, "name": "Client Service" }, { "id": 2, "name": "Phone Call" }]
        }),
        "{settings}"
    );

    // 4. The same session again: nothing new in Redtail.
    assert_duplicate_create_is_refused(&http, &base, &jwt, &create_body, SESSION_ID).await;
    assert_eq!(received(&redtail, "POST", "/activities").await.len(), 1);

    // 4b. Two concurrent creates of another session: exactly one activity.
    let mut other = create_body.clone();
    other["logInfo"]["sessionId"] = json!("931929965599");
    other["note"] = json!("");
    let send = || http.post(format!("{base}/callLog?jwtToken={jwt}")).json(&other).send();
    let (one, two) = tokio::join!(send(), send());
    let answers = [json_of(one.unwrap()).await, json_of(two.unwrap()).await];
    // A create that arrives while the first is in flight joins it and names the same record; one that arrives
    // after it finished is told the session is logged.
    let logged: Vec<&Value> = answers.iter().filter(|it| it["successful"] == true).map(|it| &it["logId"]).collect();
    assert!(!logged.is_empty() && logged.iter().all(|it| *it == logged[0]), "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|it| it["successful"] == true
                || it["returnMessage"]["message"] == "Existing log for session 931929965599"),
        "{answers:?}"
    );
    assert_eq!(received(&redtail, "POST", "/activities").await.len(), 2, "one activity for the second session");

    // 5. Update with the recording link and an AI note: read first, then the whole description replaced.
    let update_body = update_with_recording_and_ai_note(SESSION_ID, 300);
    let updated =
        json_of(http.patch(format!("{base}/callLog?jwtToken={jwt}")).json(&update_body).send().await.unwrap()).await;
    assert_eq!(updated["successful"], true, "{updated}");
    let puts = received(&redtail, "PUT", "/activities/5550").await;
    assert_eq!(puts.len(), 2);
    assert_eq!(
        puts[1],
        json!({
            "description": EXPECTED_BODY_AFTER_UPDATE,
            "start_date": "2024-05-01T07:30:00.000Z",
            "end_date": "2024-05-01T07:35:00.000Z"
        })
    );

    // 6. Read back: the agent note unescaped, the subject, the category as disposition.
    let logs = json_of(
        http.get(format!("{base}/callLog?jwtToken={jwt}&sessionIds={SESSION_ID}&requireDetails=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let log = &logs["logs"][0];
    assert_eq!((log["matched"].clone(), log["logId"].clone()), (json!(true), json!(5550)), "{logs}");
    assert_eq!(log["logData"]["note"], "Wants a quote <today> & delivery by Friday");
    assert_eq!(log["logData"]["subject"], "Inbound Call from Jane Doe");
    assert_eq!(log["logData"]["dispositions"], json!({ "category": 1 }));

    // 7. Disposition: the category changes.
    let disposition = json!({ "sessionId": SESSION_ID, "dispositions": { "category": 2 } });
    let disposed =
        json_of(http.put(format!("{base}/callDisposition?jwtToken={jwt}")).json(&disposition).send().await.unwrap())
            .await;
    assert_eq!(disposed["successful"], true, "{disposed}");
    assert_eq!(received(&redtail, "PUT", "/activities/5550").await[2], json!({ "category_id": 2 }));
    assert_eq!(activities.get(5550).unwrap()["category_id"], 2);
    assert_eq!(activities.get(5550).unwrap()["completed"], true);

    // 8. An SMS conversation: the first message makes a completed activity, the next is appended to it.
    let first = json!({ "id": "m-1", "direction": "Inbound", "subject": "Is Friday <ok>?",
        "creationTime": "2024-05-01T08:00:00.000Z", "messageStatus": "Received" });
    let second = json!({ "id": "m-2", "direction": "Outbound", "subject": "Friday works",
        "creationTime": "2024-05-01T08:10:00.000Z", "messageStatus": "Sent" });
    let message_body = |messages: Value| {
        json!({
            "logInfo": {
                "conversationId": "c-1",
                "conversationLogId": "c-1-20240501",
                "messages": messages,
                "correspondents": [{ "phoneNumber": "+14155551234", "name": "Jane Doe" }]
            },
            "contactId": 9001,
            "contactType": "contact",
            "contactName": "Jane Doe"
        })
    };
    let logged = json_of(
        http.post(format!("{base}/messageLog?jwtToken={jwt}"))
            .json(&message_body(json!([first])))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((logged["successful"].clone(), logged["logIds"].clone()), (json!(true), json!(["m-1"])), "{logged}");
    let posted = received(&redtail, "POST", "/activities").await;
    assert_eq!(posted.len(), 3);
    assert_eq!(posted[2]["subject"], "SMS conversation with Jane Doe - 24/05/01");
    assert_eq!(posted[2]["description"], EXPECTED_SMS_BODY);
    assert_eq!(
        (posted[2]["start_date"].clone(), posted[2]["end_date"].clone()),
        (json!("2024-05-01T08:00:00.000Z"), json!("2024-05-01T08:00:00.000Z"))
    );
    assert_eq!(received(&redtail, "PUT", "/activities/5552").await, [json!({ "completed": true })]);
    // The extension lists the newest first and resends what it logged before.
    let appended = json_of(
        http.post(format!("{base}/messageLog?jwtToken={jwt}"))
            .json(&message_body(json!([second, first])))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (appended["successful"].clone(), appended["logIds"].clone()),
        (json!(true), json!(["m-1", "m-2"])),
        "{appended}: every logged message of the request is named, the earlier one too"
    );
    assert_eq!(received(&redtail, "POST", "/activities").await.len(), 3, "the append made no new activity");
    let expected_after_append =
        EXPECTED_SMS_BODY.replace("Conversation(1 messages)", "Conversation(2 messages)").replace(
            "</li></ul>------------<br>END",
            "</li><li>ada 08:10 AM<br><b>Friday works</b></li></ul>------------<br>END",
        );
    assert_eq!(
        received(&redtail, "PATCH", "/activities/5552").await,
        [json!({ "description": expected_after_append, "end_date": "2024-05-01T08:10:00.000Z" })]
    );

    // 9. Logout: local to callbridge (a user key cannot be revoked), and the session can no longer reach Redtail.
    let logout = json_of(http.post(format!("{base}/unAuthorize?jwtToken={jwt}")).send().await.unwrap()).await;
    assert_eq!(logout["message"], "Logged out of Redtail", "{logout}");
    let requests_before = redtail.received_requests().await.unwrap().len();
    let after = http.get(format!("{base}/contact?jwtToken={jwt}&phoneNumber=%2B14155551234")).send().await.unwrap();
    // Logout ended the session: its token is refused.
    assert_eq!(after.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(after.text().await.unwrap(), "Please go to Settings and authorize CRM platform");
    assert_eq!(redtail.received_requests().await.unwrap().len(), requests_before, "Redtail was not asked");

    let log_tail = server.log_tail();
    server.stop().await.unwrap();
    for secret in [USER_KEY, "pa:ss word", API_KEY] {
        assert!(!log_tail.contains(secret), "{secret} leaked into the server log");
    }
    // Every mock's `.expect` is verified when the mock server drops.
}

/// The composed HTML body of the new log: the agent note escaped, call details in UTC (Redtail gives no time zone).
const EXPECTED_BODY_AFTER_CREATE: &str = "<b>Agent notes</b><br>Wants a quote &lt;today&gt; &amp; delivery by Friday<br><br>\
<b>Call details</b><br><li><b>Date/time</b>: 2024-05-01 07:30:00 AM</li><li><b>Duration</b>: 5 minutes</li>\
<li><b>Result</b>: Call connected</li>";
/// The same body updated in place: the note kept, the recording link and the AI note added.
const EXPECTED_BODY_AFTER_UPDATE: &str = "<b>Agent notes</b><br>Wants a quote &lt;today&gt; &amp; delivery by Friday<br><br>\
<b>Call details</b><br><li><b>Date/time</b>: 2024-05-01 07:30:00 AM</li><li><b>Duration</b>: 5 minutes</li>\
<li><b>Result</b>: Call connected</li><li><b>Call recording link</b>: <a target=\"_blank\" \
href=\"https://media.ringcentral.com/restapi/v1.0/account/1/recording/7/content\">open</a></li>\
<div><b>AI Note</b><br>Customer wants delivery by Friday.<br>Send the quote today.</div><br>";
/// The first message of the SMS conversation, in App Connect's layout, the sender's text escaped.
const EXPECTED_SMS_BODY: &str = "<br><b>SMS conversation with Jane Doe - 24/05/01</b><br><b>Conversation summary</b><br>\
Wednesday, May 01, 2024<br>Participants<br><ul><li><b>ada</b><br></li><li><b>Jane Doe</b></li><li><b>Jane Doe</b></li></ul><br>\
Conversation(1 messages)<br>BEGIN<br>------------<br><ul><li>Jane Doe (+14155551234) 08:00 AM<br><b>Is Friday &lt;ok&gt;?</b></li>\
</ul>------------<br>END<br><br>--- Created via RingCentral App Connect";
