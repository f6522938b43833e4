//! `/pipedrive-redirect`: the landing page and Pipedrive's uninstall callback, against an in-memory host.

use std::collections::BTreeMap;
use std::sync::Mutex;

use callbridge_core::http::{HeaderMap, HeaderValue, Method, StatusCode};
use callbridge_core::{
    ConnectorError, ConnectorRoute, HostServices, RequestContext, RouteRequest, RouteResponse, Secret, User,
    UserSettings, async_trait,
};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{ACCESS_TOKEN, CLIENT_BASIC, Harness, REFRESH_TOKEN, mount_fallback, start, user};

/// A host that keeps users in memory and hands out contexts without refreshing anything.
struct MemoryHost {
    users: Mutex<BTreeMap<String, User>>,
}

impl MemoryHost {
    fn with_test_user() -> Self {
        let user = user();
        Self { users: Mutex::new(BTreeMap::from([(user.id.clone(), user)])) }
    }

    fn has(&self, id: &str) -> bool {
        self.users.lock().unwrap().contains_key(id)
    }
}

#[async_trait]
impl HostServices for MemoryHost {
    async fn find_user(&self, user_id: &str) -> Result<Option<User>, ConnectorError> {
        Ok(self.users.lock().unwrap().get(user_id).cloned())
    }

    async fn context_for(&self, user: User) -> Result<RequestContext, ConnectorError> {
        let auth_header = Secret::new(format!("Bearer {}", user.access_token.expose()));
        Ok(RequestContext {
            user,
            auth_header,
            hashed_account_id: None,
            admin_settings: UserSettings::default(),
            is_from_sscl: false,
            assigned_crm_user_id: None,
        })
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, ConnectorError> {
        Ok(self.users.lock().unwrap().remove(user_id).is_some())
    }
}

fn route(harness: &Harness, route_method: Method) -> ConnectorRoute {
    harness
        .connector
        .routes()
        .into_iter()
        .find(|it| it.method == route_method && it.path == "/pipedrive-redirect")
        .unwrap()
}

fn request(authorization: Option<&str>, query: Option<&str>, body: &str) -> RouteRequest {
    let mut headers = HeaderMap::new();
    if let Some(value) = authorization {
        headers.insert("authorization", HeaderValue::from_str(value).unwrap());
    }
    RouteRequest { headers, query: query.map(str::to_owned), body: body.as_bytes().to_vec().into() }
}

fn text(response: &RouteResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

async fn mount_revoke(harness: &Harness, status: u16) {
    for token in [REFRESH_TOKEN, ACCESS_TOKEN] {
        Mock::given(method("POST"))
            .and(path("/oauth/revoke"))
            .and(header("authorization", CLIENT_BASIC))
            .and(body_string(format!("token={token}")))
            .respond_with(ResponseTemplate::new(status))
            .expect(if status == 200 || token == REFRESH_TOKEN { 1 } else { 0 })
            .mount(&harness.server)
            .await;
    }
    mount_fallback(&harness.server).await;
}

#[tokio::test]
async fn the_landing_page_depends_on_the_code() {
    let harness = start().await;
    let host = MemoryHost::with_test_user();
    let page = route(&harness, Method::GET).handler.handle(&host, request(None, None, "")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type.starts_with("text/html"));
    assert!(text(&page).contains("Thank you for installing"));

    let page = route(&harness, Method::GET).handler.handle(&host, request(None, Some("code=abc&state=x"), "")).await;
    assert!(text(&page).contains("almost connected"));
}

#[tokio::test]
async fn uninstall_revokes_the_tokens_and_deletes_the_user() {
    let harness = start().await;
    mount_revoke(&harness, 200).await;
    let host = MemoryHost::with_test_user();

    let response = route(&harness, Method::DELETE)
        .handler
        .handle(&host, request(Some(CLIENT_BASIC), None, r#"{"client_id":"x","company_id":777,"user_id":12345}"#))
        .await;
    assert_eq!((response.status, text(&response).as_str()), (StatusCode::OK, "User deleted"));
    assert!(!host.has("12345-pipedrive"));
}

#[tokio::test]
async fn uninstall_with_wrong_credentials_is_refused() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let host = MemoryHost::with_test_user();
    let delete = route(&harness, Method::DELETE);
    for authorization in
        [None, Some("Basic d3Jvbmc6Y3JlZGVudGlhbHM="), Some("Bearer test-client-secret"), Some("Basic !!!")]
    {
        let response = delete.handler.handle(&host, request(authorization, None, r#"{"user_id":12345}"#)).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{authorization:?}");
    }
    assert!(host.has("12345-pipedrive"));
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn uninstall_without_user_id_is_a_bad_request() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let host = MemoryHost::with_test_user();
    let delete = route(&harness, Method::DELETE);
    for body in ["", "{}", r#"{"user_id":null}"#, r#"{"user_id":"../x"}"#, "not json"] {
        let response = delete.handler.handle(&host, request(Some(CLIENT_BASIC), None, body)).await;
        assert_eq!(
            (response.status, text(&response).as_str()),
            (StatusCode::BAD_REQUEST, "Missing user_id"),
            "{body:?}"
        );
    }
    assert!(host.has("12345-pipedrive"));
}

#[tokio::test]
async fn uninstall_of_an_unknown_user_succeeds_without_revoking() {
    let harness = start().await;
    mount_fallback(&harness.server).await;
    let host = MemoryHost::with_test_user();
    let response = route(&harness, Method::DELETE)
        .handler
        .handle(&host, request(Some(CLIENT_BASIC), None, r#"{"user_id":"999"}"#))
        .await;
    assert_eq!((response.status, text(&response).as_str()), (StatusCode::OK, "User deleted"));
    assert!(host.has("12345-pipedrive"));
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_revoke_keeps_the_user() {
    let harness = start().await;
    mount_revoke(&harness, 500).await;
    let host = MemoryHost::with_test_user();
    let response = route(&harness, Method::DELETE)
        .handler
        .handle(&host, request(Some(CLIENT_BASIC), None, r#"{"user_id":12345}"#))
        .await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(host.has("12345-pipedrive"));
}
