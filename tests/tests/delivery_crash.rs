//! Durable delivery through the real binary: `callbridge serve` is killed with SIGKILL while a fake Pipedrive holds
//! a create or an update, restarted on the same database, and the extension's retries are replayed; then two
//! instances share one PostgreSQL queue through a CRM outage. Each test asserts what Pipedrive holds at the end:
//! one activity per call, written once, carrying the latest note, recording link and disposition.

#[path = "support/database.rs"]
mod database;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callbridge_tests::load::server::{ServerOptions, SpawnedServer, build_debug_server};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::database::Database;

const ACCESS_TOKEN: &str = "crash-access-token";
/// How long a dead instance's claim on a job lasts: short, so a restart takes the job over within the test.
const LEASE_SECS: &str = "2";
const WAIT: Duration = Duration::from_secs(40);
/// Kills per test: one where Pipedrive applied the held write, one where it never got it.
const ROUNDS: usize = 2;

/// The activity write the fake Pipedrive holds until the server is dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Write {
    Create,
    Update,
}

/// A held write: which one, and whether Pipedrive applies it before holding (the CRM did it, the answer was lost)
/// or not at all (the request never got through).
#[derive(Default)]
struct Hold {
    armed: Mutex<Option<(Write, bool)>>,
    arrived: AtomicUsize,
    released: AtomicBool,
}

#[derive(Default)]
struct Activities {
    by_id: BTreeMap<u64, Value>,
    /// Creates Pipedrive applied, per record marker (`public_description`).
    creates: BTreeMap<String, usize>,
    /// Updates Pipedrive applied, per activity.
    updates: BTreeMap<u64, usize>,
    /// Reconciliation lookups (`GET /api/v2/activities`).
    lookups: usize,
}

/// A stateful Pipedrive: OAuth, the user, one person, activity types, and activities that remember their writes.
#[derive(Clone, Default)]
struct FakePipedrive {
    activities: Arc<Mutex<Activities>>,
    hold: Arc<Hold>,
    /// Answers 503 to everything about activities.
    down: Arc<AtomicBool>,
}

fn ok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": data }))
}

fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503).set_body_json(json!({ "success": false, "error": "Service unavailable" }))
}

impl Respond for FakePipedrive {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        if path == "/oauth/token" {
            return ResponseTemplate::new(200).set_body_json(json!({
                "access_token": ACCESS_TOKEN, "refresh_token": "crash-refresh-token", "token_type": "Bearer",
                "expires_in": 3599, "scope": "base", "api_domain": "https://acme.pipedrive.com"
            }));
        }
        let authorized = request.headers.get("authorization").and_then(|it| it.to_str().ok());
        if authorized != Some(format!("Bearer {ACCESS_TOKEN}").as_str()) {
            return ResponseTemplate::new(401);
        }
        match (request.method.as_str(), path) {
            ("GET", "/v1/users/me") => ok(json!({
                "id": 12345, "name": "Grace Hopper", "timezone_name": "UTC", "timezone_offset": "+00:00",
                "company_id": 777, "company_name": "Acme", "company_domain": "acme"
            })),
            ("GET", "/api/v2/persons/101") => ok(json!({ "id": 101, "name": "Ada Lovelace", "org_id": 55 })),
            ("GET", "/v1/activityTypes") => {
                ok(json!([{ "id": 3, "name": "Phone Call", "key_string": "call", "active_flag": true }]))
            }
            _ if path.starts_with("/api/v2/activities") => self.activity(request),
            (method, path) => ResponseTemplate::new(500).set_body_string(format!("no mock for {method} {path}")),
        }
    }
}

impl FakePipedrive {
    fn activity(&self, request: &Request) -> ResponseTemplate {
        if self.down.load(Ordering::SeqCst) {
            return unavailable();
        }
        let id = request.url.path().strip_prefix("/api/v2/activities/").map(|it| it.parse::<u64>().unwrap());
        let write = match (request.method.as_str(), id) {
            ("POST", None) => Write::Create,
            ("PATCH", Some(_)) => Write::Update,
            ("GET", None) => {
                let mut activities = self.activities.lock().unwrap();
                activities.lookups += 1;
                return ok(activities.by_id.values().rev().cloned().collect());
            }
            ("GET", Some(id)) => {
                return match self.activities.lock().unwrap().by_id.get(&id) {
                    Some(activity) => ResponseTemplate::new(200).set_body_json(json!({
                        "success": true, "data": activity,
                        "related_objects": { "person": { "101": { "id": 101, "name": "Ada Lovelace" } } }
                    })),
                    None => ResponseTemplate::new(404).set_body_json(json!({ "success": false, "error": "not found" })),
                };
            }
            _ => return ResponseTemplate::new(405),
        };
        let held = self.take_hold(write);
        if held == Some(false) {
            self.wait_for_release();
            return unavailable();
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let answer = self.apply(id, body);
        if held == Some(true) {
            self.wait_for_release();
        }
        answer
    }

    fn apply(&self, id: Option<u64>, body: Value) -> ResponseTemplate {
        let mut activities = self.activities.lock().unwrap();
        let Some(id) = id else {
            let id = 401 + activities.by_id.len() as u64;
            let mut created = body;
            created["id"] = json!(id);
            let marker = created["public_description"].as_str().unwrap_or_default().to_owned();
            *activities.creates.entry(marker).or_default() += 1;
            activities.by_id.insert(id, created.clone());
            return ok(created);
        };
        let Some(activity) = activities.by_id.get_mut(&id) else {
            return ResponseTemplate::new(404).set_body_json(json!({ "success": false, "error": "not found" }));
        };
        for (key, value) in body.as_object().unwrap() {
            activity[key] = value.clone();
        }
        let updated = activity.clone();
        *activities.updates.entry(id).or_default() += 1;
        ok(updated)
    }

    fn take_hold(&self, write: Write) -> Option<bool> {
        let mut armed = self.hold.armed.lock().unwrap();
        let (held, apply_first) = (*armed)?;
        if held != write {
            return None;
        }
        *armed = None;
        self.hold.arrived.fetch_add(1, Ordering::SeqCst);
        Some(apply_first)
    }

    /// Blocks this request (the mock server runs on a thread of its own) until the test has killed the server.
    fn wait_for_release(&self) {
        let deadline = Instant::now() + WAIT;
        while !self.hold.released.load(Ordering::SeqCst) && Instant::now() < deadline {
            // sleep-ok: poll interval of a wait bounded by the deadline (a blocking mock thread)
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn arm(&self, write: Write, apply_first: bool) {
        self.hold.released.store(false, Ordering::SeqCst);
        self.hold.arrived.store(0, Ordering::SeqCst);
        *self.hold.armed.lock().unwrap() = Some((write, apply_first));
    }

    /// The activities whose subject names `session`'s caller.
    fn of_session(&self, session: &str) -> Vec<Value> {
        let activities = self.activities.lock().unwrap();
        let subject = format!("Inbound Call from Caller {session}");
        activities.by_id.values().filter(|it| it["subject"] == subject.as_str()).cloned().collect()
    }

    fn creates_of(&self, activity: &Value) -> usize {
        let marker = activity["public_description"].as_str().unwrap();
        self.activities.lock().unwrap().creates.get(marker).copied().unwrap_or(0)
    }

    fn updates_of(&self, activity: &Value) -> usize {
        let id = activity["id"].as_u64().unwrap();
        self.activities.lock().unwrap().updates.get(&id).copied().unwrap_or(0)
    }
}

/// One test's world: the fake Pipedrive, the database, and how to start a server on them.
struct Harness {
    crm: FakePipedrive,
    mock: MockServer,
    binary: PathBuf,
    database: Database,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Harness {
    async fn new(postgres: bool) -> Harness {
        let crm = FakePipedrive::default();
        let mock = MockServer::start().await;
        Mock::given(any()).respond_with(crm.clone()).mount(&mock).await;
        let dir = tempfile::tempdir().unwrap();
        let database = Database::new(postgres, &dir).await;
        #[expect(clippy::disallowed_methods, reason = "the test is a client of the server, not a connector")]
        let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build().unwrap();
        Harness { crm, mock, binary: build_debug_server().unwrap(), database, http, dir }
    }

    async fn start(&self) -> SpawnedServer {
        let key_file = self.dir.path().join("callbridge.keys").display().to_string();
        let options = ServerOptions {
            binary: self.binary.clone(),
            database_url: Some(self.database.url.clone()),
            crm_url: self.mock.uri(),
            log_filter: "info".into(),
        };
        // Every instance and restart shares the secrets, as instances sharing a database must.
        SpawnedServer::start_with_env(
            &options,
            &[("CALLBRIDGE_KEY_FILE", &key_file), ("CALLBRIDGE_DELIVERY_LEASE_SECS", LEASE_SECS)],
        )
        .await
        .unwrap()
    }

    /// Connects the Pipedrive user through the OAuth callback and returns the session token.
    async fn login(&self, server: &SpawnedServer) -> String {
        let callback = format!(
            "{}/oauth-callback?callbackUri=https://ringcentral.github.io/ringcentral-embeddable/redirect.html?code=crash-code&state=platform%3Dpipedrive&hostname=temp&rcAccountId=37439510",
            server.base_url()
        );
        let login = answer(self.http.get(callback)).await;
        login["jwtToken"].as_str().expect("a session token").to_owned()
    }

    fn create(&self, server: &SpawnedServer, jwt: &str, session: &str) -> reqwest::RequestBuilder {
        let body = json!({
            "logInfo": {
                "id": format!("id-{session}"), "sessionId": session, "telephonySessionId": format!("s-{session}"),
                "startTime": "2024-05-01T07:30:00.000Z", "duration": 300, "direction": "Inbound",
                "result": "Call connected",
                "from": { "phoneNumber": "+14155550100" }, "to": { "phoneNumber": "+16505557040" }
            },
            "contactId": 101, "contactType": "contact", "contactName": format!("Caller {session}"),
            "note": "first note", "additionalSubmission": { "deals": 201 }
        });
        self.http.post(format!("{}/callLog?jwtToken={jwt}", server.base_url())).json(&body)
    }

    fn update(&self, server: &SpawnedServer, jwt: &str, session: &str, note: &str) -> reqwest::RequestBuilder {
        let body = json!({
            "sessionId": session, "note": note, "recordingLink": recording_link(session),
            "startTime": "2024-05-01T07:30:00.000Z", "duration": 300, "result": "Call connected",
            "direction": "Inbound"
        });
        self.http.patch(format!("{}/callLog?jwtToken={jwt}", server.base_url())).json(&body)
    }

    fn disposition(&self, server: &SpawnedServer, jwt: &str, session: &str) -> reqwest::RequestBuilder {
        let body = json!({ "sessionId": session, "dispositions": { "deals": 202 } });
        self.http.put(format!("{}/callDisposition?jwtToken={jwt}", server.base_url())).json(&body)
    }

    /// Waits until `session`'s activity carries `note`, its recording link and, when asked, the disposition.
    async fn wait_for_final_state(&self, session: &str, note: &str, disposed: bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let activities = self.crm.of_session(session);
            if let [activity] = activities.as_slice() {
                let text = activity["note"].as_str().unwrap_or_default();
                if text.contains(note)
                    && text.contains(&recording_link(session))
                    && (!disposed || activity["deal_id"] == 202)
                {
                    return activity.clone();
                }
            }
            assert!(Instant::now() < deadline, "session {session} did not reach its final state: {activities:#?}");
            // sleep-ok: poll interval of a wait bounded by the deadline
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `request` in the background and waits until Pipedrive holds the write it causes.
    async fn send_until_held(&self, request: reqwest::RequestBuilder) -> tokio::task::JoinHandle<()> {
        let sent = tokio::spawn(async move {
            // The server dies while this waits: the answer is lost, as the extension's would be.
            let _ = request.send().await;
        });
        let deadline = Instant::now() + WAIT;
        while self.crm.hold.arrived.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "Pipedrive never received the write to hold");
            // sleep-ok: poll interval of a wait bounded by the deadline
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        sent
    }
}

fn recording_link(session: &str) -> String {
    format!("https://media.ringcentral.com/restapi/v1.0/account/1/recording/{session}/content")
}

/// Sends a request and returns its JSON answer, asserting App Connect's `successful: true` when it has one.
async fn answer(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"));
    assert_ne!(body["successful"], false, "{body}");
    body
}

/// Kills the server while Pipedrive holds a create (rounds alternate: applied before the hold, or not at all),
/// restarts it and replays the extension: the same create, an update, a disposition.
async fn kill_during_create(postgres: bool) {
    let harness = Harness::new(postgres).await;
    let mut server = harness.start().await;
    let jwt = harness.login(&server).await;
    for round in 0..ROUNDS {
        let session = format!("90000{round}");
        let applied_first = round % 2 == 0;
        let lookups_before = harness.crm.activities.lock().unwrap().lookups;
        harness.crm.arm(Write::Create, applied_first);
        let sent = harness.send_until_held(harness.create(&server, &jwt, &session)).await;
        server.kill().await.unwrap();
        harness.crm.hold.released.store(true, Ordering::SeqCst);
        sent.await.unwrap();

        server = harness.start().await;
        answer(harness.create(&server, &jwt, &session)).await;
        answer(harness.update(&server, &jwt, &session, "latest note")).await;
        answer(harness.disposition(&server, &jwt, &session)).await;

        let activity = harness.wait_for_final_state(&session, "latest note", true).await;
        assert_eq!(harness.crm.creates_of(&activity), 1, "round {round}: {activity}");
        let lookups = harness.crm.activities.lock().unwrap().lookups - lookups_before;
        assert!(lookups >= 1, "round {round}: the unknown create was not reconciled before creating again");
    }
    assert_eq!(harness.crm.activities.lock().unwrap().by_id.len(), ROUNDS);
    server.stop().await.unwrap();
}

/// Kills the server while Pipedrive holds an update (applied first or not at all), restarts it and replays the
/// extension: the same update, a newer one, a disposition.
async fn kill_during_update(postgres: bool) {
    let harness = Harness::new(postgres).await;
    let mut server = harness.start().await;
    let jwt = harness.login(&server).await;
    for round in 0..ROUNDS {
        let session = format!("91000{round}");
        answer(harness.create(&server, &jwt, &session)).await;
        harness.crm.arm(Write::Update, round % 2 == 0);
        let sent = harness.send_until_held(harness.update(&server, &jwt, &session, "note during the crash")).await;
        server.kill().await.unwrap();
        harness.crm.hold.released.store(true, Ordering::SeqCst);
        sent.await.unwrap();

        server = harness.start().await;
        answer(harness.update(&server, &jwt, &session, "note during the crash")).await;
        answer(harness.update(&server, &jwt, &session, "latest note")).await;
        answer(harness.disposition(&server, &jwt, &session)).await;

        let activity = harness.wait_for_final_state(&session, "latest note", true).await;
        assert_eq!(harness.crm.creates_of(&activity), 1, "round {round}: {activity}");
        assert!(!activity["note"].as_str().unwrap().contains("note during the crash"), "{activity}");
    }
    assert_eq!(harness.crm.activities.lock().unwrap().by_id.len(), ROUNDS);
    server.stop().await.unwrap();
}

/// Whether the PostgreSQL variants run: `test_postgres_url` panics when CI is set without the URL.
fn postgres_configured() -> bool {
    callbridge_host::config::test_postgres_url().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_create_sqlite() {
    kill_during_create(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_create_postgres() {
    if postgres_configured() {
        kill_during_create(true).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_update_sqlite() {
    kill_during_update(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_update_postgres() {
    if postgres_configured() {
        kill_during_update(true).await;
    }
}

/// Two instances on one PostgreSQL database share the queue through an outage: both accept creates and updates
/// while Pipedrive answers 503, then Pipedrive comes back and every call ends as one activity written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_queue_through_an_outage() {
    if !postgres_configured() {
        return;
    }
    let harness = Harness::new(true).await;
    let instances = [harness.start().await, harness.start().await];
    let jwt = harness.login(&instances[0]).await;
    harness.crm.down.store(true, Ordering::SeqCst);
    let sessions: Vec<String> = (0..6).map(|it| format!("70000{it}")).collect();
    for (index, session) in sessions.iter().enumerate() {
        let (first, second) = (&instances[index % 2], &instances[(index + 1) % 2]);
        let created = answer(harness.create(first, &jwt, session)).await;
        let message = created["returnMessage"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("not reachable"), "{created}");
        answer(harness.update(second, &jwt, session, &format!("note {session}"))).await;
    }
    harness.crm.down.store(false, Ordering::SeqCst);
    for session in &sessions {
        let activity = harness.wait_for_final_state(session, &format!("note {session}"), false).await;
        assert_eq!(harness.crm.creates_of(&activity), 1, "{activity}");
        assert_eq!(harness.crm.updates_of(&activity), 1, "{activity}");
    }
    assert_eq!(harness.crm.activities.lock().unwrap().by_id.len(), sessions.len());
    for server in instances {
        server.stop().await.unwrap();
    }
}
