//! The auth hook with a session scheme, Bullhorn's `BhRestToken` style: `Connector::authorization` trades the
//! user's stored credential for a session (`POST /rest-services/login`), kept in `callbridge_core::auth::Sessions`;
//! requests send it in a `BhRestToken` header, and a 401 (the session ended) logs in again and retries once. All
//! through the real `/apiKeyLogin` and `/contact` routes against a wiremock CRM.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use callbridge_core::auth::Sessions;
use callbridge_core::http::{HttpClient, StatusCode};
use callbridge_core::{
    AuthType, CallLogCreated, CallLogUpdated, Connector, ConnectorError, ContactInfo, ContactMatches,
    CreateCallLogRequest, FindContactRequest, Operation, PlatformManifest, PlatformUserInfo, RequestContext, Secret,
    Unauthorized, UpdateCallLogRequest, User, UserInfo, UserInfoRequest, async_trait,
};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Backend, TestDb, get, json_request, send, state_with};

const NAME: &str = "bhcrm";

/// A CRM whose API takes a session token that its login endpoint hands out for the user's API key.
struct SessionCrm {
    http: HttpClient,
    base: String,
    sessions: Sessions,
}

impl SessionCrm {
    /// `POST /rest-services/login?api_key=...`: a new session for the key.
    async fn login(&self, api_key: &Secret) -> Result<Secret, ConnectorError> {
        let url = format!("{}/rest-services/login", self.base);
        let response = self.http.post(&url).query(&[("api_key", api_key.expose())]).send().await?;
        let session: Value = response.error_for_status(parse_error)?.json()?;
        Ok(Secret::new(session["BhRestToken"].as_str().unwrap_or_default()))
    }
}

fn parse_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    ConnectorError::from_status(status.as_u16(), String::from_utf8_lossy(body).into_owned())
}

#[async_trait]
impl Connector for SessionCrm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn auth_type(&self) -> AuthType {
        AuthType::ApiKey
    }

    fn operations(&self) -> &'static [Operation] {
        &[Operation::GetBasicAuth, Operation::GetUserInfo, Operation::FindContact, Operation::Unauthorize]
    }

    fn manifest(&self) -> PlatformManifest {
        PlatformManifest {
            name: NAME.to_owned(),
            display_name: "Session CRM".to_owned(),
            ..PlatformManifest::default()
        }
    }

    fn basic_auth(&self, api_key: &Secret) -> Result<Secret, ConnectorError> {
        Ok(api_key.clone())
    }

    async fn authorization(&self, user: &User) -> Result<Secret, ConnectorError> {
        self.sessions.get(&user.id, self.login(&user.access_token)).await
    }

    async fn user_info(&self, _request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        Ok(UserInfo {
            user: PlatformUserInfo {
                id: format!("ada-{NAME}"),
                name: "Ada".to_owned(),
                timezone_offset: Some("0".to_owned()),
                ..PlatformUserInfo::default()
            },
            return_message: None,
        })
    }

    async fn find_contact(
        &self,
        ctx: &RequestContext,
        request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError> {
        let search = |session: Secret| {
            let request = self
                .http
                .get(&format!("{}/search/Candidate", self.base))
                .query(&[("phone", request.phone_number.as_str())])
                .header("BhRestToken", session.expose());
            async move { request.send().await?.error_for_status(parse_error)?.json::<Vec<Value>>() }
        };
        let login = self.login(&ctx.user.access_token);
        let found = self.sessions.retry_after_relogin(&ctx.user.id, &ctx.auth_header, login, search).await?;
        let contacts = found
            .iter()
            .map(|it| ContactInfo {
                id: it["id"].to_string(),
                name: it["name"].as_str().unwrap_or_default().to_owned(),
                ..ContactInfo::default()
            })
            .collect();
        Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit: None })
    }

    async fn create_call_log(
        &self,
        _ctx: &RequestContext,
        _request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::CreateCallLog))
    }

    async fn update_call_log(
        &self,
        _ctx: &RequestContext,
        _request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::UpdateCallLog))
    }

    async fn unauthorize(&self, _ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        Ok(Unauthorized::default())
    }
}

/// Login answers `first` once, then `second`; the search takes only `second` and refuses `first` with 401.
async fn crm_where_the_first_session_ends(server: &MockServer, first: &str, second: &str) {
    let session = |token: &str| ResponseTemplate::new(200).set_body_json(json!({ "BhRestToken": token }));
    let login = || Mock::given(method("POST")).and(path("/rest-services/login")).and(query_param("api_key", API_KEY));
    login().respond_with(session(first)).up_to_n_times(1).with_priority(1).mount(server).await;
    login().respond_with(session(second)).with_priority(2).mount(server).await;
    let search = || Mock::given(method("GET")).and(path("/search/Candidate"));
    search()
        .and(header("BhRestToken", first))
        .respond_with(ResponseTemplate::new(401).set_body_string("session expired"))
        .mount(server)
        .await;
    search()
        .and(header("BhRestToken", second))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{ "id": 7, "name": "Grace" }])))
        .mount(server)
        .await;
}

const API_KEY: &str = "bh-api-key-1";

async fn requests_to(server: &MockServer, request_path: &str) -> Vec<wiremock::Request> {
    let requests = server.received_requests().await.unwrap();
    requests.into_iter().filter(|it| it.url.path() == request_path).collect()
}

#[tokio::test]
async fn a_session_scheme_logs_in_once_and_relogs_in_once_on_401() {
    let server = MockServer::start().await;
    crm_where_the_first_session_ends(&server, "session-1", "session-2").await;
    let db = TestDb::new(Backend::Sqlite).await;
    let connector = Arc::new(SessionCrm {
        http: crate::support::test_http(),
        base: server.uri(),
        sessions: Sessions::new(Duration::from_secs(600), 100),
    });
    let app = callbridge_host::app(state_with(db.store().await, vec![connector]));
    let login = json!({ "platform": NAME, "apiKey": API_KEY, "hostname": "bh.test" });
    let jwt = send(&app, json_request(Method::POST, "/apiKeyLogin", &login)).await.ok_json()["jwtToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // The first lookup logs in (session-1), is refused, logs in again (session-2) and retries once.
    let lookup = || get(&format!("/contact?jwtToken={jwt}&phoneNumber=%2B14155550123"));
    let found = send(&app, lookup()).await.ok_json();
    assert_eq!(found["contact"][0]["name"], "Grace", "{found}");
    assert_eq!(requests_to(&server, "/rest-services/login").await.len(), 2);
    let searches = requests_to(&server, "/search/Candidate").await;
    let sessions: Vec<_> = searches.iter().map(|it| it.headers["bhresttoken"].to_str().unwrap().to_owned()).collect();
    assert_eq!(sessions, ["session-1", "session-2"]);

    // The renewed session is kept: the next lookup neither logs in nor retries.
    assert_eq!(send(&app, lookup()).await.ok_json()["contact"][0]["name"], "Grace");
    assert_eq!(requests_to(&server, "/rest-services/login").await.len(), 2);
    assert_eq!(requests_to(&server, "/search/Candidate").await.len(), 3);
}

#[tokio::test]
async fn a_credential_the_crm_refuses_is_retried_once_not_in_a_loop() {
    let server = MockServer::start().await;
    // Every session is refused: the key itself is no longer valid.
    crm_where_the_first_session_ends(&server, "session-1", "session-1").await;
    let db = TestDb::new(Backend::Sqlite).await;
    let connector = Arc::new(SessionCrm {
        http: crate::support::test_http(),
        base: server.uri(),
        sessions: Sessions::new(Duration::from_secs(600), 100),
    });
    let app = callbridge_host::app(state_with(db.store().await, vec![connector]));
    let login = json!({ "platform": NAME, "apiKey": API_KEY, "hostname": "bh.test" });
    let jwt = send(&app, json_request(Method::POST, "/apiKeyLogin", &login)).await.ok_json()["jwtToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = send(&app, get(&format!("/contact?jwtToken={jwt}&phoneNumber=%2B14155550123"))).await;
    assert_eq!(answer.json()["successful"], false, "{}", answer.text());
    assert_eq!(requests_to(&server, "/rest-services/login").await.len(), 2);
    assert_eq!(requests_to(&server, "/search/Candidate").await.len(), 2);
}
