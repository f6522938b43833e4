//! The delivery engine through the routes: a crashed instance's work is taken over and reconciled, an outage
//! queues creates and updates and delivers each once when the CRM is back, concurrent edits of one call are
//! applied one after the other, and concurrent identical message logs make one record.

use std::time::Duration;

use axum::http::Method;
use callbridge_host::delivery::{CallCreatePayload, CallEditPayload, CallIdentity};
use callbridge_host::store::{CallLogKey, CompletedCallLog, JobSubject, NewOp, OpKind};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_backends;
use crate::oauth_env::{OAuthEnv, in_an_hour};
use crate::support::{Backend, call_record, get, json_request, sandbox_app, sandbox_login, send, unique_key};

both_backends!(
    an_instance_that_died_mid_create_is_taken_over_and_its_record_found,
    an_instance_that_died_mid_update_is_finished_by_the_next_runner,
    an_outage_queues_creates_and_updates_and_delivers_each_once,
    a_queued_create_reads_back_with_what_it_will_write,
    two_concurrent_updates_of_one_call_keep_both_edits,
    twenty_identical_message_logs_make_one_record,
    a_run_slower_than_its_lease_keeps_it_and_creates_once,
);

/// Waits (bounded) until `count` requests of `http_method` to `request_path` reached the mock.
async fn until_received(server: &MockServer, http_method: &str, request_path: &str, count: usize) -> Vec<Value> {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let requests: Vec<Value> = server
                .received_requests()
                .await
                .unwrap()
                .into_iter()
                .filter(|it| it.method.as_str() == http_method && it.url.path() == request_path)
                .map(|it| serde_json::from_slice(&it.body).unwrap_or(Value::Null))
                .collect();
            if requests.len() >= count {
                return requests;
            }
            // sleep-ok: poll interval of a wait bounded by the timeout around it
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{http_method} {request_path} was not received {count} times"))
}

/// A queued create of `session_id` (contact 7), as a request of another instance would have queued it.
fn create_op(session_id: &str) -> NewOp {
    let payload = CallCreatePayload {
        facts: Default::default(),
        call: CallIdentity {
            session_id: session_id.to_owned(),
            extension_number: String::new(),
            hashed_extension_id: String::new(),
        },
        contact_id: "7".to_owned(),
        body: serde_json::from_value(json!({"logInfo": call_record(session_id, "+14155550123"), "contactId": "7"}))
            .unwrap(),
    };
    let payload = serde_json::to_string(&payload).unwrap();
    NewOp { kind: OpKind::CreateCall, payload, fingerprint: "f".to_owned() }
}

/// What a `kill -9` leaves in the store of an instance (without a worker, so nothing else runs the job): the
/// operation accepted, a create marked as sent, the job leased by a runner that is gone.
async fn leave_as_a_crash_would(env: &OAuthEnv, subject: &JobSubject, op: NewOp) {
    let store = &env.state.store;
    // An earlier request's run may still hold the job (it looks for more work before it lets go): wait until it
    // is done, or it would take the operation below itself.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !env.state.engine.tasks().is_empty() {
            // sleep-ok: poll interval of a wait bounded by the timeout around it
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the earlier run ends");
    let enqueued = store.enqueue(subject, &op).await.unwrap();
    let lease = Duration::from_millis(300);
    // An earlier request's run may still be releasing the job.
    let dead = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(job) = store.lease_job(&enqueued.job_id, "dead-instance/run", lease).await.unwrap() {
                return job;
            }
            // sleep-ok: poll interval of a wait bounded by the timeout around it
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the job's lease comes free");
    if op.kind == OpKind::CreateCall {
        store.mark_op_sent(enqueued.op_id, true).await.unwrap();
    }
    assert_eq!(dead.id, enqueued.job_id);
}

async fn an_instance_that_died_mid_create_is_taken_over_and_its_record_found(backend: Backend) {
    let env = OAuthEnv::without_worker(backend).await;
    let (user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    // The dead instance's POST reached the CRM, which holds the record under the create's key.
    Mock::given(method("GET"))
        .and(path("/activities"))
        .and(query_param("recordKey", callbridge_host::delivery::record_key(&user_id, "call", "s-crash").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "act-crashed"}])))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&env.server)
        .await;
    let subject = JobSubject::call(&user_id, "mockcrm", "s-crash");
    leave_as_a_crash_would(&env, &subject, create_op("s-crash")).await;
    // The restarted instance: the session reads as logged, and the extension's retry merges into the job, which
    // is taken over once the dead lease expires and reconciled instead of created again.
    let (_restarted, app) = env.second_instance().await;
    let lookup = send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds=s-crash"))).await.ok_json();
    assert_eq!(lookup["logs"][0]["matched"], true, "{lookup}");
    let retry = json!({"logInfo": call_record("s-crash", "+14155550123"), "contactId": "7"});
    let retried = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &retry)).await.ok_json();
    assert_eq!(retried["successful"], true, "{retried}");
    assert_eq!(retried["logId"], "act-crashed", "{retried}");
}

async fn an_instance_that_died_mid_update_is_finished_by_the_next_runner(backend: Backend) {
    let env = OAuthEnv::without_worker(backend).await;
    let (user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "act-5"})))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/activities/act-5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "act-5", "body": "- Note: first"})))
        .mount(&env.server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/activities/act-5"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&env.server)
        .await;
    let create = json!({"logInfo": call_record("s-upd", "+14155550123"), "contactId": "7", "note": "first"});
    let created =
        send(&env.app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(created["logId"], "act-5");

    let payload = CallEditPayload {
        facts: Default::default(),
        call: CallIdentity {
            session_id: "s-upd".to_owned(),
            extension_number: String::new(),
            hashed_extension_id: String::new(),
        },
        body: serde_json::from_value(json!({"sessionId": "s-upd", "note": "written after the crash"})).unwrap(),
    };
    let payload = serde_json::to_string(&payload).unwrap();
    let subject = JobSubject::call(&user_id, "mockcrm", "s-upd");
    leave_as_a_crash_would(&env, &subject, NewOp { kind: OpKind::UpdateCall, payload, fingerprint: "u".to_owned() })
        .await;
    let (_restarted, _app) = env.second_instance().await;
    let puts = until_received(&env.server, "PUT", "/activities/act-5", 1).await;
    assert!(puts[0]["body"].as_str().unwrap().contains("written after the crash"), "{puts:?}");
}

/// A run whose CRM call outlasts its lease time keeps the lease, renewed meanwhile: the workers of this instance
/// and of another, looking for due jobs all along, do not take the job over and create the record again.
async fn a_run_slower_than_its_lease_keeps_it_and_creates_once(backend: Backend) {
    let ttl = Duration::from_millis(300);
    let env = OAuthEnv::with_lease_ttl(backend, ttl).await;
    let (_other_instance, _) = env.second_instance().await;
    let (_user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "act-slow"})).set_delay(ttl * 4))
        .expect(1)
        .mount(&env.server)
        .await;
    let create = json!({"logInfo": call_record("s-slow", "+14155550123"), "contactId": "7"});
    let saved =
        send(&env.app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(saved["successful"], true, "{saved}");
    assert_eq!(saved["logId"], "act-slow", "{saved}");
    // A runner that took the expired lease over would have looked for the record (the create was marked sent)
    // or sent it again while the first one waited: the CRM saw the one create and nothing else.
    let seen: Vec<String> = env
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|it| format!("{} {}", it.method, it.url.path()))
        .collect();
    assert_eq!(seen, ["POST /activities"]);
}

async fn an_outage_queues_creates_and_updates_and_delivers_each_once(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    // Down for the first attempts: refused before anything was made (a 429 is certain; nothing to look for).
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(3)
        .mount(&env.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "act-back"})))
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/activities/act-back"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "act-back", "body": "- Note: "})))
        .mount(&env.server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/activities/act-back"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&env.server)
        .await;

    let create = json!({"logInfo": call_record("s-out", "+14155550123"), "contactId": "7"});
    let saved =
        send(&env.app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(saved["successful"], true, "{saved}");
    // The recording link arrives while the CRM is still down: it queues behind the create.
    let update = json!({"sessionId": "s-out", "recordingLink": "https://rec.test/1"});
    let updated =
        send(&env.app, json_request(Method::PATCH, &format!("/callLog?jwtToken={jwt}"), &update)).await.ok_json();
    assert_eq!(updated["successful"], true, "{updated}");
    let puts = until_received(&env.server, "PUT", "/activities/act-back", 1).await;
    assert!(puts[0]["body"].as_str().unwrap().contains("https://rec.test/1"), "{puts:?}");
}

async fn a_queued_create_reads_back_with_what_it_will_write(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    // Down for the next hour: the create stays queued for the whole test.
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3600"))
        .mount(&env.server)
        .await;
    let create = json!({
        "logInfo": call_record("s-queued", "+14155550123"),
        "contactId": "7",
        "contactName": "Ada Lovelace",
        "note": "first note",
    });
    let saved =
        send(&env.app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert!(saved["returnMessage"]["message"].as_str().unwrap_or_default().starts_with("Saved."), "{saved}");
    let edit = json!({"sessionId": "s-queued", "note": "the agent's later note"});
    let edited =
        send(&env.app, json_request(Method::PATCH, &format!("/callLog?jwtToken={jwt}"), &edit)).await.ok_json();
    assert_eq!(edited["successful"], true, "{edited}");

    let read = send(&env.app, get(&format!("/callLog?jwtToken={jwt}&sessionIds=s-queued&requireDetails=true")))
        .await
        .ok_json();
    let log = &read["logs"][0];
    assert_eq!(log["matched"], true, "{read}");
    // The create's subject (the record's custom subject here); the update changed only the note.
    assert_eq!(log["logData"]["subject"], "Inbound Call from Grace Hopper", "{read}");
    assert_eq!(log["logData"]["note"], "the agent's later note", "{read}");
    assert_eq!(log["logData"]["contactName"], "Ada Lovelace", "{read}");
}

async fn two_concurrent_updates_of_one_call_keep_both_edits(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let create = json!({"logInfo": call_record("s-two", "+14155550123"), "contactId": "c-2"});
    let created = send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    assert_eq!(created["successful"], true, "{created}");
    let edits = [
        json!({"sessionId": "s-two", "note": "the agent's note"}),
        json!({"sessionId": "s-two", "recordingLink": "https://rec.test/two"}),
    ];
    let mut tasks = JoinSet::new();
    for edit in edits {
        let (app, request) = (app.clone(), json_request(Method::PATCH, &format!("/callLog?jwtToken={jwt}"), &edit));
        tasks.spawn(async move { send(&app, request).await.ok_json() });
    }
    for answer in tasks.join_all().await {
        assert_eq!(answer["successful"], true, "{answer}");
    }
    let read =
        send(&app, get(&format!("/callLog?jwtToken={jwt}&sessionIds=s-two&requireDetails=true"))).await.ok_json();
    let body = read["logs"][0]["logData"]["fullBody"].as_str().unwrap_or_default().to_owned();
    assert!(body.contains("the agent's note") && body.contains("https://rec.test/two"), "{read}");
}

async fn twenty_identical_message_logs_make_one_record(backend: Backend) {
    let (_db, state, app) = sandbox_app(backend).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    let conversation = |message_id: &str, conversation_id: &str| {
        json!({
            "logInfo": {
                "conversationId": conversation_id,
                "conversationLogId": format!("{conversation_id}-log"),
                "messages": [{"id": message_id, "direction": "Inbound", "subject": "hello",
                    "creationTime": "2024-05-01T07:30:00.000Z", "from": {"phoneNumber": "+14155550123"}}],
                "correspondents": [{"phoneNumber": "+14155550123"}],
            },
            "contactId": "c-2",
            "contactName": "Grace Hopper",
        })
    };
    let body = conversation("m-1", "conv-1");
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let (app, request) = (app.clone(), json_request(Method::POST, &format!("/messageLog?jwtToken={jwt}"), &body));
        tasks.spawn(async move { send(&app, request).await.ok_json() });
    }
    for answer in tasks.join_all().await {
        assert_eq!(answer["successful"], true, "{answer}");
        assert_eq!(answer["logIds"], json!(["m-1"]), "{answer}");
    }
    // The sandbox numbers its records: the next conversation's record is the second one made.
    let next =
        send(&app, json_request(Method::POST, &format!("/messageLog?jwtToken={jwt}"), &conversation("m-2", "conv-2")))
            .await
            .ok_json();
    assert_eq!(next["successful"], true, "{next}");
    let user_id = state.jwt.verify(&jwt).map(|claims| claims.id).unwrap();
    let first = state.store.message_log(&user_id, "m-1").await.unwrap().unwrap();
    let second = state.store.message_log(&user_id, "m-2").await.unwrap().unwrap();
    assert_eq!((first.third_party_log_id.as_str(), second.third_party_log_id.as_str()), ("msg-1", "msg-2"));
}

/// Each instance estimates the database's clock, so two instances' clocks differ by a few milliseconds: a job one
/// of them queued can carry a next attempt time a moment ahead of the other's clock without backing off. A create
/// that merges into it at the other instance waits for the record, as it does on one instance, rather than being
/// told that the CRM is unreachable (seen with two instances under load: one of two simultaneous creates was
/// answered "Saved. ... not reachable right now" while the other was told the record).
#[tokio::test]
async fn a_create_joining_a_job_queued_by_an_instance_with_a_clock_ahead_is_told_the_record() {
    if !Backend::postgres_configured() {
        return;
    }
    let env = OAuthEnv::without_worker(Backend::Postgres).await;
    let (user_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    let store = &env.state.store;
    // The other instance: its request queued the create and leased the job to make it, and its clock was ahead.
    let subject = JobSubject::call(&user_id, "mockcrm", "s-skew");
    let other = store.enqueue(&subject, &create_op("s-skew")).await.unwrap();
    let owner = "other-instance/run";
    store.lease_job(&other.job_id, owner, Duration::from_secs(30)).await.unwrap().expect("the job is free");
    env.db
        .execute_postgres(&format!(
            "UPDATE delivery_jobs SET next_attempt_at_ms = next_attempt_at_ms + 3000 WHERE id = '{}'",
            other.job_id
        ))
        .await;

    // This instance's create of the same session merges into the pending one and waits for its outcome.
    let create = json!({"logInfo": call_record("s-skew", "+14155550123"), "contactId": "7", "note": "this instance"});
    let app = env.app.clone();
    let uri = format!("/callLog?jwtToken={jwt}");
    let request = tokio::spawn(async move { send(&app, json_request(Method::POST, &uri, &create)).await.ok_json() });
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let job = store.job_for(&subject).await.unwrap().expect("the job");
            if store.pending_ops(&job).await.unwrap().iter().any(|op| op.payload.contains("this instance")) {
                return;
            }
            // sleep-ok: poll interval of a wait bounded by the timeout around it
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the request's create merges into the queued one");

    // The other instance's run made the record.
    let key = CallLogKey {
        user_id: user_id.clone(),
        session_id: "s-skew".to_owned(),
        extension_number: String::new(),
        hashed_extension_id: String::new(),
    };
    let logged = CompletedCallLog {
        record_id: "act-other".to_owned(),
        platform: "mockcrm".to_owned(),
        contact_id: "7".to_owned(),
        log_id: "act-other".to_owned(),
    };
    store.complete_op(&other.job_id, owner, other.op_id, Some((&key, &logged))).await.unwrap();
    let answer = request.await.unwrap();
    assert_eq!(answer["successful"], true, "{answer}");
    assert_eq!(answer["logId"], "act-other", "{answer}");
}
