//! Operations and discovery routes: `/isAlive`, `/metrics`, `/crmManifest`, `/implementedInterfaces`, CORS.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::oauth_env::{OAuthEnv, in_an_hour};
use crate::support::{Backend, call_record, get, json_request, sandbox_app, sandbox_login, send, unique_key};

both_backends!(
    is_alive_and_metrics,
    manifest_lists_every_connector,
    implemented_interfaces,
    cors_for_the_extension,
    connector_routes_reach_only_their_users,
);

async fn is_alive_and_metrics(backend: Backend) {
    let backend_label = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let (_db, _state, app) = sandbox_app(backend).await;
    let alive = send(&app, get("/isAlive")).await;
    assert_eq!((alive.status, alive.text().as_str()), (StatusCode::OK, "OK"));
    assert!(alive.headers.get("x-request-id").is_some(), "every answer carries its request id");
    send(&app, get("/nowhere")).await;
    let jwt = sandbox_login(&app, &unique_key()).await;
    send(&app, get(&format!("/contact?jwtToken={jwt}&phoneNumber=+14155550123"))).await.ok_json();
    let create = serde_json::json!({"logInfo": call_record("s-metrics", "+14155550123"), "contactId": "c-2"});
    send(&app, json_request(Method::POST, &format!("/callLog?jwtToken={jwt}"), &create)).await.ok_json();
    let metrics = send(&app, get("/metrics")).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.text();
    assert!(text.contains(r#"callbridge_http_requests_total{method="GET",route="/isAlive",status="200"}"#), "{text}");
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(text.contains("callbridge_http_request_duration_seconds_bucket"), "{text}");
    assert!(
        text.contains(r#"callbridge_crm_calls_total{connector="sandbox",operation="findContact",outcome="ok"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"callbridge_crm_call_duration_seconds_bucket{connector="sandbox",operation="getUserInfo""#),
        "{text}"
    );
    assert!(text.contains(r#"callbridge_delivery_operations_total{op="create_call",outcome="delivered"}"#), "{text}");
    assert!(text.contains(r#"callbridge_delivery_latency_seconds_bucket{op="create_call""#), "{text}");
    assert!(text.contains(r#"callbridge_delivery_jobs{state="failed"}"#), "{text}");
    let batches = format!(r#"callbridge_store_batch_duration_seconds_count{{backend="{backend_label}"}}"#);
    assert!(text.contains(&batches), "{text}");
    assert!(!text.contains("4155550123") && !text.contains(&jwt), "metrics carry no numbers or tokens");
}

async fn manifest_lists_every_connector(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let manifest = send(&env.app, get("/crmManifest")).await.ok_json();
    assert_eq!(manifest["serverUrl"], "https://callbridge.test");
    assert_eq!(manifest["redirectUri"], "https://ringcentral.github.io/ringcentral-embeddable/redirect.html");
    assert_eq!(manifest["author"]["name"], "callbridge");
    assert!(manifest["version"].is_string());
    assert_eq!(manifest["platforms"]["sandbox"]["name"], "sandbox");
    assert_eq!(manifest["platforms"]["sandbox"]["auth"]["type"], "apiKey");
    assert_eq!(manifest["platforms"]["mockcrm"]["auth"]["type"], "oauth");
    let one = send(&env.app, get("/crmManifest?platformName=mockcrm")).await.ok_json();
    assert_eq!(one["platforms"].as_object().unwrap().keys().collect::<Vec<_>>(), ["mockcrm"]);
    let unknown = send(&env.app, get("/crmManifest?platformName=nope")).await;
    assert_eq!((unknown.status, unknown.text().as_str()), (StatusCode::BAD_REQUEST, "Platform not found"));
}

async fn implemented_interfaces(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let sandbox = send(&env.app, get("/implementedInterfaces?platform=sandbox")).await.ok_json();
    assert_eq!(sandbox["getBasicAuth"], true);
    assert!(sandbox.get("getOauthInfo").is_none());
    assert_eq!(sandbox["createMessageLog"], true);
    assert_eq!(sandbox["listAppointments"], false);
    let mock = send(&env.app, get("/implementedInterfaces?platform=mockcrm")).await.ok_json();
    assert_eq!(mock["getOauthInfo"], true);
    assert!(mock.get("getBasicAuth").is_none());
    assert_eq!((mock["getCallLog"].clone(), mock["createContact"].clone()), (json!(true), json!(false)));
    let missing = send(&env.app, get("/implementedInterfaces")).await;
    assert_eq!((missing.status, missing.text().as_str()), (StatusCode::BAD_REQUEST, "Please provide platform."));
    let unknown = send(&env.app, get("/implementedInterfaces?platform=nope")).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

async fn cors_for_the_extension(backend: Backend) {
    let (_db, _state, app) = sandbox_app(backend).await;
    let origin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
    for verb in ["PATCH", "PUT", "DELETE", "POST"] {
        let preflight = Request::builder()
            .method(Method::OPTIONS)
            .uri("/callLog")
            .header("origin", origin)
            .header("access-control-request-method", verb)
            .header(
                "access-control-request-headers",
                "content-type,rc-extension-id,rc-account-id,developer-author-name",
            )
            .body(Body::empty())
            .unwrap();
        let answer = send(&app, preflight).await;
        assert!(answer.status.is_success(), "{verb}: {}", answer.status);
        let header =
            |name: &str| answer.headers.get(name).map(|it| it.to_str().unwrap().to_lowercase()).unwrap_or_default();
        assert_eq!(header("access-control-allow-origin"), "*");
        assert!(header("access-control-allow-methods").contains(&verb.to_lowercase()), "{verb}");
        let allowed = header("access-control-allow-headers");
        for name in ["content-type", "rc-extension-id", "rc-account-id", "developer-author-name"] {
            assert!(allowed.contains(name), "{name} in {allowed}");
        }
    }
    let request = Request::get("/isAlive").header("origin", origin).body(Body::empty()).unwrap();
    let answer = send(&app, request).await;
    assert_eq!(answer.headers.get("access-control-allow-origin").unwrap(), "*");
    let exposed = answer.headers.get("access-control-expose-headers").unwrap().to_str().unwrap();
    assert!(exposed.contains("x-refreshed-jwt-token"), "{exposed}");
}

async fn connector_routes_reach_only_their_users(backend: Backend) {
    let env = OAuthEnv::new(backend).await;
    let (user_id, _jwt) = env.seed_user("access-1", "refresh-1", in_an_hour()).await;
    let uninstall = |body: String| Request::post("/mockcrm/uninstall").body(Body::from(body)).unwrap();
    let answer = send(&env.app, uninstall(user_id.clone())).await;
    assert_eq!((answer.status, answer.text()), (StatusCode::OK, format!("deleted {user_id}")));
    assert!(env.state.store.user(&user_id).await.unwrap().is_none());
    // Another connector's user is invisible to this connector's routes.
    let sandbox_jwt = sandbox_login(&env.app, &unique_key()).await;
    let sandbox_user = env.state.jwt.verify(&sandbox_jwt).unwrap().id;
    let answer = send(&env.app, uninstall(sandbox_user.clone())).await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::NOT_FOUND, "unknown user"));
    assert!(env.state.store.user(&sandbox_user).await.unwrap().is_some());
    // The connector's clashing `/isAlive` was skipped: the built-in one answers.
    let alive = send(&env.app, get("/isAlive")).await;
    assert_eq!((alive.status, alive.text().as_str()), (StatusCode::OK, "OK"));
}
