//! Exactly-once under concurrency: one CRM record for 50 simultaneous creates of one call, and one token request
//! for 50 simultaneous requests on an expired token, within one instance and split across two instances that
//! share the database.

use std::time::Duration;

use axum::Router;
use axum::http::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::both_backends;
use crate::oauth_env::{OAuthEnv, an_hour_ago, in_an_hour};
use crate::support::{Backend, call_record, get, json_request, send};

const CONCURRENT: usize = 50;

both_backends!(
    fifty_creates_make_one_crm_record,
    fifty_creates_across_two_instances_make_one_crm_record,
    fifty_requests_on_an_expired_token_refresh_once,
    fifty_requests_across_two_instances_refresh_once,
    connector_with_its_own_refresh_is_used_once,
    client_hanging_up_loses_neither_record_nor_tokens,
    lease_of_a_crashed_instance_is_taken_over,
);

/// Sends `CONCURRENT` creates of one session, alternating between `apps`, and returns the JSON answers.
async fn concurrent_creates(apps: &[Router], jwt: &str, session_id: &str) -> Vec<Value> {
    let body = json!({"logInfo": call_record(session_id, "+14155550123"), "contactId": "7", "note": "once"});
    let mut tasks = JoinSet::new();
    for idx in 0..CONCURRENT {
        let app = apps[idx % apps.len()].clone();
        let request = json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &body);
        tasks.spawn(async move { send(&app, request).await.ok_json() });
    }
    tasks.join_all().await
}

/// Concurrent creates merge into one queued create: those that joined it learn its record's id, later ones
/// that the session is logged. The mock's `expect(1)` checks the CRM saw one create.
fn assert_exactly_one_created(answers: &[Value], session_id: &str) {
    let created: Vec<&Value> = answers.iter().filter(|it| it["successful"] == true).collect();
    assert!(!created.is_empty(), "{answers:#?}");
    for answer in created {
        assert_eq!(answer["logId"], "act-1", "{answer}");
    }
    let existing = format!("Existing log for session {session_id}");
    for refused in answers.iter().filter(|it| it["successful"] != true) {
        assert_eq!(refused["returnMessage"]["message"], existing.as_str(), "{refused}");
    }
}

async fn mount_slow_create(env: &OAuthEnv) {
    // The CRM takes a while, so all 50 requests are in flight while the first one is at the CRM.
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "act-1"})).set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&env.server)
        .await;
}

async fn fifty_creates_make_one_crm_record(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    mount_slow_create(&env).await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let answers = concurrent_creates(std::slice::from_ref(&env.app), &jwt, &session_id).await;
    assert_exactly_one_created(&answers, &session_id);
    env.server.verify().await;
}

async fn fifty_creates_across_two_instances_make_one_crm_record(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_second_state, second_app) = env.second_instance().await;
    let (_id, jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    mount_slow_create(&env).await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let answers = concurrent_creates(&[env.app.clone(), second_app], &jwt, &session_id).await;
    assert_exactly_one_created(&answers, &session_id);
    env.server.verify().await;
}

async fn mount_refresh(env: &OAuthEnv) {
    mount_refresh_expecting(env, CONCURRENT as u64).await;
}

async fn mount_refresh_expecting(env: &OAuthEnv, lookups: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=refresh-old"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "access-new", "refresh_token": "refresh-new", "expires_in": 3600, "token_type": "bearer"}))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(header("authorization", "Bearer access-new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "7", "name": "Grace Hopper"}])))
        .expect(lookups)
        .mount(&env.server)
        .await;
}

async fn concurrent_lookups(apps: &[Router], jwt: &str) -> Vec<Value> {
    concurrent_lookups_n(apps, jwt, CONCURRENT).await
}

async fn concurrent_lookups_n(apps: &[Router], jwt: &str, n: usize) -> Vec<Value> {
    let mut tasks = JoinSet::new();
    for idx in 0..n {
        let app = apps[idx % apps.len()].clone();
        let request = get(&format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"));
        tasks.spawn(async move { send(&app, request).await.ok_json() });
    }
    tasks.join_all().await
}

async fn assert_refreshed_once(env: &OAuthEnv, user_id: &str, answers: &[Value]) {
    for answer in answers {
        assert_eq!(answer["successful"], true, "{answer}");
        assert_eq!(answer["contact"][0]["id"], "7");
    }
    env.server.verify().await;
    let user = env.state.store.user(user_id).await.unwrap().unwrap();
    assert_eq!(user.access_token.expose(), "access-new");
    assert_eq!(user.refresh_token.unwrap().expose(), "refresh-new");
    assert!(user.token_expiry.unwrap() > chrono::Utc::now() + chrono::Duration::minutes(50));
}

async fn fifty_requests_on_an_expired_token_refresh_once(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (user_id, jwt) = env.seed_user("access-old", "refresh-old", an_hour_ago()).await;
    mount_refresh(&env).await;
    let answers = concurrent_lookups(std::slice::from_ref(&env.app), &jwt).await;
    assert_refreshed_once(&env, &user_id, &answers).await;
}

async fn fifty_requests_across_two_instances_refresh_once(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (_second_state, second_app) = env.second_instance().await;
    let (user_id, jwt) = env.seed_user("access-old", "refresh-old", an_hour_ago()).await;
    mount_refresh(&env).await;
    let answers = concurrent_lookups(&[env.app.clone(), second_app], &jwt).await;
    assert_refreshed_once(&env, &user_id, &answers).await;
}

async fn connector_with_its_own_refresh_is_used_once(backend: Backend) {
    let env = OAuthEnv::with_own_refresh(backend).await;
    let (user_id, jwt) = env.seed_user("access-old", "refresh-old", an_hour_ago()).await;
    Mock::given(method("POST"))
        .and(path("/custom/refresh"))
        .and(body_string_contains("refresh-old"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access": "access-new", "refresh": "refresh-new"}))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&env.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(header("authorization", "Bearer access-new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "7", "name": "Grace Hopper"}])))
        .expect(10)
        .mount(&env.server)
        .await;
    let mut tasks = JoinSet::new();
    for _ in 0..10 {
        let app = env.app.clone();
        let request = get(&format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"));
        tasks.spawn(async move { send(&app, request).await.ok_json() });
    }
    for answer in tasks.join_all().await {
        assert_eq!(answer["successful"], true, "{answer}");
    }
    env.server.verify().await;
    let user = env.state.store.user(&user_id).await.unwrap().unwrap();
    assert_eq!(user.access_token.expose(), "access-new");
}

async fn client_hanging_up_loses_neither_record_nor_tokens(backend: Backend) {
    use tower::ServiceExt as _;
    let env = OAuthEnv::new(backend).await;
    let (user_id, jwt) = env.seed_user("access-old", "refresh-old", an_hour_ago()).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(
                    json!({"access_token": "access-new", "refresh_token": "refresh-new", "expires_in": 3600}),
                )
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&env.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/activities"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "act-1"})).set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&env.server)
        .await;
    let session_id = format!("s-{}", uuid::Uuid::new_v4().simple());
    let body = json!({"logInfo": call_record(&session_id, "+14155550123"), "contactId": "7"});
    // The client gives up while the token endpoint is still answering.
    let request = json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &body);
    let gave_up = tokio::time::timeout(Duration::from_millis(100), env.app.clone().oneshot(request)).await;
    assert!(gave_up.is_err(), "the request should still have been running");
    // The rotated refresh token was kept, and the record was created once and mapped: wait (bounded) for both.
    let expected = json!({"sessionId": session_id, "matched": true, "logId": "act-1"});
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let user = env.state.store.user(&user_id).await.unwrap().unwrap();
        let lookup = send(&env.app, get(&format!("/callLog?jwtToken={jwt}&sessionIds={session_id}"))).await.ok_json();
        if user.refresh_token.as_ref().map(callbridge_core::Secret::expose) == Some("refresh-new")
            && lookup["logs"][0] == expected
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "refresh kept and log mapped: {lookup}");
        // sleep-ok: poll interval of a wait bounded by the deadline above
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    env.server.verify().await;
}

async fn lease_of_a_crashed_instance_is_taken_over(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (user_id, jwt) = env.seed_user("access-old", "refresh-old", an_hour_ago()).await;
    // An instance took the lease and died without releasing it.
    let crashed = env.state.store.try_acquire_refresh_lease(&user_id, "crashed-instance", Duration::from_secs(1)).await;
    assert!(crashed.unwrap());
    mount_refresh_expecting(&env, 5).await;
    let started = std::time::Instant::now();
    let answers = concurrent_lookups_n(std::slice::from_ref(&env.app), &jwt, 5).await;
    assert!(started.elapsed() >= Duration::from_millis(900), "the waiters respected the lease");
    for answer in &answers {
        assert_eq!(answer["successful"], true, "{answer}");
    }
    env.server.verify().await;
}
