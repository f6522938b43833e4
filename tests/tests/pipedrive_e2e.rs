//! End to end with Pipedrive: the real `callbridge serve` binary over TCP, its Pipedrive traffic sent to a wiremock
//! Pipedrive with `CALLBRIDGE_PIPEDRIVE_BASE_URL`, driven like the App Connect extension drives it: OAuth callback,
//! contact lookup, call log create, duplicate create, update with a recording link and an AI note, get with
//! details, disposition, and Pipedrive's uninstall callback. Each step asserts the exact activity body Pipedrive
//! receives.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use callbridge_tests::load::server::{CLIENT_ID, CLIENT_SECRET, ServerOptions, SpawnedServer, build_debug_server};
use common::{assert_duplicate_create_is_refused, json_of, received, update_with_recording_and_ai_note};
use serde_json::{Value, json};
use wiremock::matchers::{
    any, basic_auth, body_string, body_string_contains, header, method, path, path_regex, query_param,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCESS_TOKEN: &str = "e2e-access-token";
const BEARER: &str = "Bearer e2e-access-token";
const SESSION_ID: &str = "931929965510";
const LEAD_ID: &str = "adf21080-0e10-11eb-879b-05d71fb426ec";

/// The one activity the mock Pipedrive holds: what was POSTed, with later PATCHes applied, read back by GET.
#[derive(Clone, Default)]
struct Activity(Arc<Mutex<Option<Value>>>);

impl Activity {
    fn current(&self) -> Option<Value> {
        self.0.lock().unwrap().clone()
    }
}

/// Mounts a stateful Pipedrive: OAuth token endpoint, users/me, person search with deals and leads, persons,
/// activity types, and activities that remember what they were sent.
async fn mount_pipedrive(server: &MockServer, activity: &Activity) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(basic_auth(CLIENT_ID, CLIENT_SECRET))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=e2e-auth-code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "refresh_token": "e2e-refresh-token",
            "token_type": "Bearer",
            "expires_in": 3599,
            "scope": "base,activities:full,contacts:full",
            "api_domain": "https://acme.pipedrive.com"
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/users/me"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "data": {
                "id": 12345,
                "name": "Grace Hopper",
                "timezone_name": "Europe/Berlin",
                "timezone_offset": "+02:00",
                "company_id": 777,
                "company_name": "Acme GmbH",
                "company_domain": "acme"
            }
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/persons/search"))
        .and(query_param("term", "4155550100"))
        .and(query_param("fields", "phone"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "data": { "items": [{ "result_score": 0.9, "item": {
                "id": 101,
                "name": "Ada Lovelace",
                "phones": ["+14155550100"],
                "organization": { "id": 55, "name": "Analytical Engines" },
                "add_time": "2023-01-05T09:00:00Z",
                "update_time": "2024-04-01T10:30:00Z"
            } }] }
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/deals"))
        .and(query_param("person_id", "101"))
        .and(query_param("status", "open"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "data": [{ "id": 201, "title": "Engine order" }, { "id": 202, "title": "Service contract" }]
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/leads"))
        .and(query_param("person_id", "101"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "data": [{ "id": LEAD_ID, "title": "Difference engine lead" }]
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/persons/101"))
        .and(header("authorization", BEARER))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "success": true, "data": { "id": 101, "name": "Ada Lovelace", "org_id": 55 } })),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/activityTypes"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "data": [
                { "id": 1, "name": "Meeting", "key_string": "meeting", "active_flag": true },
                { "id": 3, "name": "Phone Call", "key_string": "call", "active_flag": true }
            ]
        })))
        .expect(1)
        .mount(server)
        .await;
    let stored = activity.clone();
    Mock::given(method("POST"))
        .and(path("/api/v2/activities"))
        .and(header("authorization", BEARER))
        .respond_with(move |request: &Request| {
            let mut created: Value = serde_json::from_slice(&request.body).unwrap();
            created["id"] = json!(401);
            *stored.0.lock().unwrap() = Some(created.clone());
            ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": created }))
        })
        .expect(1)
        .mount(server)
        .await;
    let stored = activity.clone();
    Mock::given(method("PATCH"))
        .and(path("/api/v2/activities/401"))
        .and(header("authorization", BEARER))
        .respond_with(move |request: &Request| {
            let changes: Value = serde_json::from_slice(&request.body).unwrap();
            let mut guard = stored.0.lock().unwrap();
            let Some(activity) = guard.as_mut() else {
                return ResponseTemplate::new(404).set_body_json(json!({ "success": false, "error": "not found" }));
            };
            for (key, value) in changes.as_object().unwrap() {
                activity[key] = value.clone();
            }
            ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": activity.clone() }))
        })
        .mount(server)
        .await;
    let stored = activity.clone();
    Mock::given(method("GET"))
        .and(path("/api/v2/activities/401"))
        .and(header("authorization", BEARER))
        .respond_with(move |_: &Request| match stored.current() {
            Some(activity) => ResponseTemplate::new(200).set_body_json(json!({
                "success": true,
                "data": activity,
                "related_objects": { "person": { "101": { "id": 101, "name": "Ada Lovelace" } } }
            })),
            None => ResponseTemplate::new(404).set_body_json(json!({ "success": false, "error": "not found" })),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipedrive_call_logging_from_oauth_to_disposition() {
    let pipedrive = MockServer::start().await;
    let activity = Activity::default();
    mount_pipedrive(&pipedrive, &activity).await;
    let server = SpawnedServer::start(&ServerOptions {
        binary: build_debug_server().unwrap(),
        database_url: None,
        crm_url: pipedrive.uri(),
        log_filter: "info".into(),
    })
    .await
    .unwrap();
    let base = server.base_url().to_owned();
    #[expect(clippy::disallowed_methods, reason = "the test is a client of the server, not a connector")]
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();

    // 1. OAuth callback from a Marketplace install (hostname `temp`), sent unencoded as the extension sends it.
    let callback = format!(
        "{base}/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/redirect.html?code=e2e-auth-code&state=platform%3Dpipedrive&hostname=temp&rcAccountId=37439510"
    );
    let login = json_of(http.get(&callback).send().await.unwrap()).await;
    assert_eq!(login["name"], "Grace Hopper", "{login}");
    assert_eq!(login["returnMessage"]["message"], "Connected to Pipedrive.");
    let jwt = login["jwtToken"].as_str().expect("a session token").to_owned();
    let token_form = received_form(&pipedrive, "/oauth/token").await;
    assert!(token_form.contains(&("redirect_uri".to_owned(), format!("{base}/pipedrive-redirect"))), "{token_form:?}");
    let hostname = http.get(format!("{base}/hostname?jwtToken={jwt}")).send().await.unwrap().text().await.unwrap();
    assert_eq!(hostname, "acme.pipedrive.com");

    // 2. Contact lookup: the `+` arrives as a space.
    let found =
        json_of(http.get(format!("{base}/contact?jwtToken={jwt}&phoneNumber= 14155550100")).send().await.unwrap())
            .await;
    assert_eq!(found["successful"], true, "{found}");
    let contact = &found["contact"][0];
    assert_eq!((contact["id"].clone(), contact["name"].clone()), (json!(101), json!("Ada Lovelace")));
    assert_eq!(
        contact["additionalInfo"],
        json!({
            "deals": [{ "const": 201, "title": "Engine order" }, { "const": 202, "title": "Service contract" }],
            "leads": [{ "const": LEAD_ID, "title": "Difference engine lead" }]
        })
    );
    assert_eq!(found["contact"][1]["id"], "createNewContact");

    // 3. Create the call log.
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
        "contactType": "contact",
        "contactName": "Ada Lovelace",
        "note": "Wants a quote <today> & delivery by Friday",
        "additionalSubmission": { "deals": 201 }
    });
    let created =
        json_of(http.post(format!("{base}/callLog?jwtToken={jwt}")).json(&create_body).send().await.unwrap()).await;
    assert_eq!((created["successful"].clone(), created["logId"].clone()), (json!(true), json!(401)), "{created}");
    assert_eq!(created["returnMessage"]["message"], "Call logged");
    let posted = received(&pipedrive, "POST", "/api/v2/activities").await;
    assert_eq!(posted.len(), 1);
    let note_after_create = posted[0]["note"].as_str().unwrap().to_owned();
    // The record key the server finds the activity by after an unknown outcome: opaque, stable per session.
    let marker = posted[0]["public_description"].as_str().unwrap().to_owned();
    assert!(marker.starts_with("callbridge:cb1") && !marker.contains("s864960121"), "{marker}");
    assert_eq!(
        posted[0],
        json!({
            "owner_id": 12345,
            "subject": "Inbound Call from Ada Lovelace",
            "duration": "00:06",
            "deal_id": 201,
            "org_id": 55,
            "note": note_after_create,
            "done": true,
            "due_date": "2024-05-01",
            "due_time": "07:30",
            "participants": [{ "person_id": 101, "primary": true }],
            "type": "call",
            "public_description": marker,
        })
    );
    assert_eq!(note_after_create, EXPECTED_NOTE_AFTER_CREATE);

    // 4. The same session again: nothing new in Pipedrive.
    assert_duplicate_create_is_refused(&http, &base, &jwt, &create_body, SESSION_ID).await;
    assert_eq!(received(&pipedrive, "POST", "/api/v2/activities").await.len(), 1);

    // 5. Update with the recording link and an AI note.
    let update_body = update_with_recording_and_ai_note(SESSION_ID, 300);
    let updated =
        json_of(http.patch(format!("{base}/callLog?jwtToken={jwt}")).json(&update_body).send().await.unwrap()).await;
    assert_eq!(updated["successful"], true, "{updated}");
    let patched = received(&pipedrive, "PATCH", "/api/v2/activities/401").await;
    assert_eq!(patched.len(), 1);
    assert_eq!(patched[0], json!({ "note": EXPECTED_NOTE_AFTER_UPDATE, "duration": "00:06" }));

    // 6. Get with details: the agent note comes back unescaped, with subject and dispositions.
    let logs = json_of(
        http.get(format!("{base}/callLog?jwtToken={jwt}&sessionIds={SESSION_ID}&requireDetails=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let log = &logs["logs"][0];
    assert_eq!(
        (log["sessionId"].clone(), log["matched"].clone(), log["logId"].clone()),
        (json!(SESSION_ID), json!(true), json!(401))
    );
    assert_eq!(log["logData"]["note"], "Wants a quote <today> & delivery by Friday");
    assert_eq!(log["logData"]["subject"], "Inbound Call from Ada Lovelace");
    assert_eq!(log["logData"]["dispositions"], json!({ "deals": 201, "leads": null }));

    // 7. Disposition: move the activity to the other deal; the lead is cleared.
    let disposition = json!({ "sessionId": SESSION_ID, "dispositions": { "deals": 202 } });
    let disposed =
        json_of(http.put(format!("{base}/callDisposition?jwtToken={jwt}")).json(&disposition).send().await.unwrap())
            .await;
    assert_eq!(disposed["successful"], true, "{disposed}");
    let patched = received(&pipedrive, "PATCH", "/api/v2/activities/401").await;
    assert_eq!(patched.len(), 2);
    assert_eq!(patched[1], json!({ "deal_id": 202, "lead_id": null }));
    assert_eq!(activity.current().unwrap()["deal_id"], 202);

    // 8. The Marketplace pages the connector contributes, served by the host without it naming Pipedrive.
    let page = http.get(format!("{base}/pipedrive-redirect?code=abc")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("almost connected"));
    let refused = http
        .delete(format!("{base}/pipedrive-redirect"))
        .basic_auth(CLIENT_ID, Some("wrong-secret"))
        .json(&json!({ "user_id": 12345 }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    for token in ["e2e-refresh-token", ACCESS_TOKEN] {
        Mock::given(method("POST"))
            .and(path("/oauth/revoke"))
            .and(basic_auth(CLIENT_ID, CLIENT_SECRET))
            .and(body_string(format!("token={token}")))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&pipedrive)
            .await;
    }
    let uninstalled = http
        .delete(format!("{base}/pipedrive-redirect"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .json(&json!({ "client_id": CLIENT_ID, "company_id": 777, "user_id": 12345 }))
        .send()
        .await
        .unwrap();
    assert_eq!(uninstalled.status(), 200);
    assert_eq!(uninstalled.text().await.unwrap(), "User deleted");
    // The uninstalled user's session token opens nothing any more, and no CRM is asked.
    let after = http.get(format!("{base}/contact?jwtToken={jwt}&phoneNumber=%2B14155550100")).send().await.unwrap();
    assert_eq!(after.status(), 400);
    assert_eq!(after.text().await.unwrap(), "Please go to Settings and authorize CRM platform");
    let searches = pipedrive.received_requests().await.unwrap();
    assert_eq!(searches.iter().filter(|it| it.url.path() == "/api/v2/persons/search").count(), 1);

    let log_tail = server.log_tail();
    server.stop().await.unwrap();
    assert!(!log_tail.contains(ACCESS_TOKEN), "the access token leaked into the server log");
    // Every mock's `.expect` is verified when the mock server drops.
}

/// The form fields of the last request to `request_path`.
async fn received_form(server: &MockServer, request_path: &str) -> Vec<(String, String)> {
    let requests = server.received_requests().await.unwrap();
    let request = requests.iter().rev().find(|it| it.url.path() == request_path).expect("the request was made");
    url::form_urlencoded::parse(&request.body).into_owned().collect()
}

/// The composed HTML body of the new log: the agent note escaped, the call details in the user's time zone (+02:00).
const EXPECTED_NOTE_AFTER_CREATE: &str = "<b>Agent notes</b><br>Wants a quote &lt;today&gt; &amp; delivery by Friday<br><br>\
<b>Call details</b><br><li><b>Date/time</b>: 2024-05-01 09:30:00 AM</li><li><b>Duration</b>: 5 minutes</li>\
<li><b>Result</b>: Call connected</li>";
/// The same body updated in place: the agent note kept, the recording link and the AI note added.
const EXPECTED_NOTE_AFTER_UPDATE: &str = "<b>Agent notes</b><br>Wants a quote &lt;today&gt; &amp; delivery by Friday<br><br>\
<b>Call details</b><br><li><b>Date/time</b>: 2024-05-01 09:30:00 AM</li><li><b>Duration</b>: 5 minutes</li>\
<li><b>Result</b>: Call connected</li><li><b>Call recording link</b>: <a target=\"_blank\" \
href=\"https://media.ringcentral.com/restapi/v1.0/account/1/recording/7/content\">open</a></li>\
<div><b>AI Note</b><br>Customer wants delivery by Friday.<br>Send the quote today.</div><br>";

/// Pipedrive activities that remember what they were sent, numbered from 501.
#[derive(Clone, Default)]
struct Activities(Arc<Mutex<Vec<Value>>>);

impl Activities {
    fn get(&self, id: u64) -> Option<Value> {
        self.0.lock().unwrap().iter().find(|it| it["id"] == json!(id)).cloned()
    }
}

/// Mounts the Pipedrive a message log needs: OAuth, users/me, the person, activity types with an SMS type, and
/// activities to create, read and patch.
async fn mount_pipedrive_messages(server: &MockServer, activities: &Activities) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN, "refresh_token": "e2e-refresh-token", "token_type": "Bearer",
            "expires_in": 3599, "api_domain": "https://acme.pipedrive.com"
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/users/me"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": {
            "id": 12345, "name": "Grace Hopper", "timezone_name": "Europe/Berlin", "timezone_offset": "+02:00",
            "company_id": 777, "company_name": "Acme GmbH", "company_domain": "acme"
        } })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/persons/101"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true,
            "data": { "id": 101, "name": "Ada Lovelace", "org_id": 55 } })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/activityTypes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": [
            { "id": 3, "name": "Phone Call", "key_string": "call", "active_flag": true },
            { "id": 9, "name": "SMS message", "key_string": "sms_message", "active_flag": true }
        ] })))
        .mount(server)
        .await;
    let stored = activities.clone();
    Mock::given(method("POST"))
        .and(path("/api/v2/activities"))
        .and(header("authorization", BEARER))
        .respond_with(move |request: &Request| {
            let mut created: Value = serde_json::from_slice(&request.body).unwrap();
            let mut all = stored.0.lock().unwrap();
            created["id"] = json!(501 + all.len());
            all.push(created.clone());
            ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": created }))
        })
        .mount(server)
        .await;
    let stored = activities.clone();
    Mock::given(path_regex(r"^/api/v2/activities/\d+$"))
        .and(header("authorization", BEARER))
        .respond_with(move |request: &Request| {
            let id: u64 = request.url.path().rsplit('/').next().unwrap().parse().unwrap();
            let mut all = stored.0.lock().unwrap();
            let Some(activity) = all.iter_mut().find(|it| it["id"] == json!(id)) else {
                return ResponseTemplate::new(404).set_body_json(json!({ "success": false, "error": "not found" }));
            };
            if request.method.as_str() == "PATCH" {
                let changes: Value = serde_json::from_slice(&request.body).unwrap();
                for (key, value) in changes.as_object().unwrap() {
                    activity[key] = value.clone();
                }
            }
            ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": activity.clone() }))
        })
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipedrive_logs_voicemail_fax_mms_and_shared_sms_as_what_they_are() {
    let pipedrive = MockServer::start().await;
    let activities = Activities::default();
    mount_pipedrive_messages(&pipedrive, &activities).await;
    let server = SpawnedServer::start(&ServerOptions {
        binary: build_debug_server().unwrap(),
        database_url: None,
        crm_url: pipedrive.uri(),
        log_filter: "info".into(),
    })
    .await
    .unwrap();
    let base = server.base_url().to_owned();
    #[expect(clippy::disallowed_methods, reason = "the test is a client of the server, not a connector")]
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
    let callback = format!(
        "{base}/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/redirect.html?code=e2e-auth-code&state=platform%3Dpipedrive&hostname=temp"
    );
    let jwt = json_of(http.get(&callback).send().await.unwrap()).await["jwtToken"].as_str().unwrap().to_owned();
    let log = |conversation: &str, messages: Value, extra: Value| {
        let mut log_info = json!({
            "conversationId": conversation, "conversationLogId": conversation, "rcAccessToken": "rc-token",
            "messages": messages, "correspondents": [{ "phoneNumber": "+14155550100" }],
        });
        log_info.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let body = json!({ "logInfo": log_info, "contactId": 101, "contactName": "Ada Lovelace" });
        let request = http.post(format!("{base}/messageLog?jwtToken={jwt}")).json(&body);
        async move {
            let answer = json_of(request.send().await.unwrap()).await;
            assert_eq!(answer["successful"], true, "{answer}");
            answer
        }
    };
    let note = |id: u64| activities.get(id).expect("the activity")["note"].as_str().unwrap().to_owned();

    // A voicemail: its own activity, with the recording link and the transcript, in the user's time zone.
    log(
        "vm",
        json!([{ "id": "vm-1", "direction": "Inbound", "creationTime": "2024-05-01T07:30:00Z",
        "transcript": "Call me back",
        "attachments": [{ "type": "AudioRecording", "uri": "https://media.rc.test/vm/1",
            "link": "https://ringcentral.github.io/ringcentral-media-reader/?media=vm1" }] }]),
        json!({}),
    )
    .await;
    let voicemail = activities.get(501).unwrap();
    assert_eq!(voicemail["subject"], "Voicemail left by Ada Lovelace - 24/05/01");
    assert_eq!(
        voicemail["note"],
        "<br><b>Voicemail left by Ada Lovelace - 24/05/01</b><br>Voicemail recording link: \
         https://ringcentral.github.io/ringcentral-media-reader/?media=vm1 <br>Transcript: Call me back<br><br>\
         --- Created via RingCentral App Connect"
    );
    assert_eq!((voicemail["type"].clone(), voicemail["owner_id"].clone()), (json!("sms_message"), json!(12345)));

    // A fax: the document link, status and pages; never the download link with the RingCentral token.
    log(
        "fax",
        json!([{ "id": "fax-1", "direction": "Inbound", "creationTime": "2024-05-01T08:00:00Z",
        "messageStatus": "Received", "faxPageCount": 4,
        "attachments": [{ "type": "RenderedDocument", "uri": "https://media.rc.test/fax/1",
            "link": "https://app.rc.test/fax/1" }] }]),
        json!({}),
    )
    .await;
    assert_eq!(activities.get(502).unwrap()["subject"], "Fax document sent from Ada Lovelace - 24/05/01");
    assert!(
        note(502).ends_with(
            "Fax document link: https://app.rc.test/fax/1 <br>Fax status: Received<br>Fax pages: 4<br><br>\
             --- Created via RingCentral App Connect"
        ),
        "{}",
        note(502)
    );
    assert!(!note(502).contains("rc-token"));

    // An MMS starts the day's conversation; the next message is appended to the same activity.
    let picture = json!({ "id": "mms-1", "direction": "Inbound", "creationTime": "2024-05-01T09:00:00Z",
        "subject": "Our new sign", "attachments": [{ "type": "MmsAttachment", "contentType": "image/png",
            "uri": "https://media.rc.test/i/1" }] });
    log("day", json!([picture.clone()]), json!({})).await;
    assert!(
        note(503).contains(
            "<li>Ada Lovelace (+14155550100) 11:00 AM<br><b>Our new sign</b><br>Image: \
             https://ringcentral.github.io/ringcentral-media-reader/?media=https%3A%2F%2Fmedia.rc.test%2Fi%2F1</li>"
        ),
        "{}",
        note(503)
    );
    let reply = json!({ "id": "sms-2", "direction": "Outbound", "creationTime": "2024-05-01T09:05:00Z",
        "subject": "Looks great" });
    let both = json!([reply, picture]);
    let answer = log("day", both.clone(), json!({})).await;
    assert_eq!(answer["logIds"], json!(["mms-1", "sms-2"]));
    let conversation = note(503);
    assert!(conversation.contains("Conversation(2 messages)"), "{conversation}");
    assert!(
        conversation.contains(
            "https%3A%2F%2Fmedia.rc.test%2Fi%2F1</li><li>Grace Hopper 11:05 AM<br><b>Looks great</b></li></ul>"
        ),
        "{conversation}"
    );
    log("day", both, json!({})).await;
    assert_eq!(note(503), conversation, "a repeated request changes nothing");

    // A shared conversation: one activity with the composed summary, owner, assignment and note.
    let shared = json!({
        "owner": { "name": "Grace Hopper", "extensionType": "User" },
        "assignee": { "name": "Grace Hopper" },
        "creationTime": "2024-05-01T10:00:00Z",
        "entities": [
            { "recordType": "AliveMessage", "creationTime": "2024-05-01T10:00:00Z", "direction": "Inbound", "text": "Any news?" },
            { "recordType": "AliveNote", "creationTime": "2024-05-01T10:10:00Z", "author": { "name": "Grace Hopper" },
              "text": "Promised a call" },
        ],
    });
    log(
        "shared",
        json!([{ "id": "sh-1", "direction": "Inbound", "subject": "Any news?",
        "creationTime": "2024-05-01T10:00:00Z", "lastModifiedTime": "2024-05-01T10:00:00Z" }]),
        shared,
    )
    .await;
    let activity = activities.get(504).unwrap();
    assert_eq!(activity["subject"], "SMS conversation with Ada Lovelace");
    let body = activity["note"].as_str().unwrap();
    for expected in [
        "<li>Ada Lovelace (customer)</li><li>Grace Hopper</li>",
        "<div>Owner: <b>Grace Hopper</b></div>",
        "<p><b>Grace Hopper</b> left a note on 2024-05-01 12:10 PM:<br>Promised a call</p>",
        "<p><b>Ada Lovelace</b> said on 2024-05-01 12:00 PM:<br>Any news?</p>",
    ] {
        assert!(body.contains(expected), "{expected:?} missing from {body}");
    }
    assert_eq!(activities.0.lock().unwrap().len(), 4, "one activity per voicemail, fax and conversation");
    server.stop().await.unwrap();
}
