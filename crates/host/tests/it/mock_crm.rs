//! `mockcrm`: an OAuth connector defined by the tests, talking through `HttpClient` to a wiremock server that plays
//! both its CRM API and its OAuth token endpoint.

use std::sync::Arc;

use callbridge_core::connector::{
    ConnectorRoute, HostServices, OAuthInfo, OAuthInfoRequest, RouteHandler, RouteRequest, RouteResponse,
};
use callbridge_core::http::{HttpClient, Method, StatusCode};
use callbridge_core::manifest::{ManifestAuth, OAuthManifest};
use callbridge_core::{
    AuthType, CallLogCreated, CallLogDetails, CallLogUpdated, Connector, ConnectorError, ContactInfo, ContactMatches,
    CreateCallLogRequest, DispositionRequest, DispositionResult, FindContactRequest, GetCallLogRequest, Operation,
    PlatformManifest, PlatformUserInfo, RequestContext, Secret, TokenSet, Unauthorized, UpdateCallLogRequest, UserInfo,
    UserInfoRequest, async_trait,
};
use serde_json::{Value, json};

pub const NAME: &str = "mockcrm";
pub const CLIENT_ID: &str = "mock-client-id";
pub const CLIENT_SECRET: &str = "mock-client-secret";
pub const REDIRECT_URI: &str = "https://ringcentral.github.io/ringcentral-embeddable/redirect.html";

pub struct MockCrm {
    http: HttpClient,
    base: String,
    /// Refreshes tokens itself (`POST /custom/refresh`) instead of the host's standard grant.
    own_refresh: bool,
}

impl MockCrm {
    pub fn connector(http: HttpClient, base: &str) -> Arc<dyn Connector> {
        Arc::new(MockCrm { http, base: base.trim_end_matches('/').to_owned(), own_refresh: false })
    }

    pub fn with_own_refresh(http: HttpClient, base: &str) -> Arc<dyn Connector> {
        Arc::new(MockCrm { http, base: base.trim_end_matches('/').to_owned(), own_refresh: true })
    }
}

fn parse_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    ConnectorError::from_status(status.as_u16(), format!("mock CRM said {}", String::from_utf8_lossy(body)))
}

const OPERATIONS: &[Operation] = &[
    Operation::GetOauthInfo,
    Operation::GetUserInfo,
    Operation::FindContact,
    Operation::CreateCallLog,
    Operation::GetCallLog,
    Operation::UpdateCallLog,
    Operation::UpsertCallDisposition,
    Operation::Unauthorize,
    Operation::FindCreatedRecord,
];

const OPERATIONS_WITH_OWN_REFRESH: &[Operation] = &[
    Operation::GetOauthInfo,
    Operation::GetUserInfo,
    Operation::FindContact,
    Operation::CreateCallLog,
    Operation::GetCallLog,
    Operation::UpdateCallLog,
    Operation::UpsertCallDisposition,
    Operation::Unauthorize,
    Operation::RefreshToken,
    Operation::FindCreatedRecord,
];

#[async_trait]
impl Connector for MockCrm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn auth_type(&self) -> AuthType {
        AuthType::OAuth
    }

    fn operations(&self) -> &'static [Operation] {
        if self.own_refresh { OPERATIONS_WITH_OWN_REFRESH } else { OPERATIONS }
    }

    async fn refresh_token(
        &self,
        user: &callbridge_core::User,
        _oauth: &OAuthInfo,
    ) -> Result<TokenSet, ConnectorError> {
        let refresh = user.refresh_token.as_ref().map(Secret::expose).unwrap_or_default();
        let response =
            self.http.post(&format!("{}/custom/refresh", self.base)).json(&json!({"token": refresh})).send().await?;
        let tokens: Value = response.error_for_status(parse_error)?.json()?;
        Ok(TokenSet {
            access_token: Secret::new(tokens["access"].as_str().unwrap_or_default()),
            refresh_token: tokens["refresh"].as_str().map(Secret::new),
            expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        })
    }

    fn manifest(&self) -> PlatformManifest {
        let oauth = OAuthManifest {
            auth_url: format!("{}/oauth/authorize", self.base),
            client_id: CLIENT_ID.to_owned(),
            ..OAuthManifest::default()
        };
        PlatformManifest {
            name: NAME.to_owned(),
            display_name: "Mock CRM".to_owned(),
            auth: ManifestAuth::OAuth { oauth },
            ..PlatformManifest::default()
        }
    }

    fn oauth_info(&self, _request: &OAuthInfoRequest) -> Result<OAuthInfo, ConnectorError> {
        Ok(OAuthInfo {
            client_id: CLIENT_ID.to_owned(),
            client_secret: Secret::new(CLIENT_SECRET),
            token_url: format!("{}/oauth/token", self.base),
            redirect_uri: REDIRECT_URI.to_owned(),
            authorization_url: None,
            scopes: Vec::new(),
            hostname: None,
        })
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        let response = self.http.get(&format!("{}/me", self.base)).authorization(&request.auth_header).send().await?;
        let me: Value = response.error_for_status(parse_error)?.json()?;
        Ok(UserInfo {
            user: PlatformUserInfo {
                id: format!("{}-{NAME}", me["id"].as_str().unwrap_or_default()),
                name: me["name"].as_str().unwrap_or_default().to_owned(),
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
        let response = self
            .http
            .get(&format!("{}/contacts", self.base))
            .query(&[("phone", &request.phone_number)])
            .authorization(&ctx.auth_header)
            .send()
            .await?;
        let found: Vec<Value> = response.error_for_status(parse_error)?.json()?;
        let mut contacts: Vec<ContactInfo> = found
            .iter()
            .map(|it| ContactInfo {
                id: it["id"].as_str().unwrap_or_default().to_owned(),
                name: it["name"].as_str().unwrap_or_default().to_owned(),
                ..ContactInfo::default()
            })
            .collect();
        contacts.push(ContactInfo::create_new_placeholder());
        Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit: None })
    }

    async fn create_call_log(
        &self,
        ctx: &RequestContext,
        request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError> {
        let response = self
            .http
            .post(&format!("{}/activities", self.base))
            .authorization(&ctx.auth_header)
            .json(&json!({
                "contactId": request.contact.id,
                "body": request.composed_log_details,
                "note": request.note,
                "recordKey": request.record_key,
            }))
            .send()
            .await?;
        let created: Value = response.error_for_status(parse_error)?.json()?;
        Ok(CallLogCreated {
            log_id: created["id"].as_str().unwrap_or_default().to_owned(),
            return_message: None,
            settings_update: None,
        })
    }

    /// `GET /activities?recordKey=<key>`: the activities the mock holds with that key.
    async fn find_created_call_log(
        &self,
        ctx: &RequestContext,
        request: &CreateCallLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        let response = self
            .http
            .get(&format!("{}/activities", self.base))
            .query(&[("recordKey", request.record_key.as_str())])
            .authorization(&ctx.auth_header)
            .send()
            .await?;
        let found: Value = response.error_for_status(parse_error)?.json()?;
        Ok(found.as_array().and_then(|it| it.first()).and_then(|it| it["id"].as_str()).map(str::to_owned))
    }

    async fn get_call_log(
        &self,
        ctx: &RequestContext,
        request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        let response = self
            .http
            .get(&format!("{}/activities/{}", self.base, request.log_id))
            .authorization(&ctx.auth_header)
            .send()
            .await?;
        let activity: Value = response.error_for_status(parse_error)?.json()?;
        Ok(CallLogDetails {
            subject: activity["subject"].as_str().map(str::to_owned),
            note: activity["note"].as_str().map(str::to_owned),
            full_body: activity["body"].as_str().map(str::to_owned),
            full_log_response: activity,
            ..CallLogDetails::default()
        })
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        let response = self
            .http
            .put(&format!("{}/activities/{}", self.base, request.log_id))
            .authorization(&ctx.auth_header)
            .json(&json!({"body": request.composed_log_details}))
            .send()
            .await?;
        response.error_for_status(parse_error)?;
        Ok(CallLogUpdated { updated_note: request.note, return_message: None })
    }

    async fn upsert_call_disposition(
        &self,
        ctx: &RequestContext,
        request: DispositionRequest,
    ) -> Result<DispositionResult, ConnectorError> {
        let response = self
            .http
            .put(&format!("{}/activities/{}/disposition", self.base, request.log_id))
            .authorization(&ctx.auth_header)
            .json(&request.dispositions)
            .send()
            .await?;
        response.error_for_status(parse_error)?;
        Ok(DispositionResult { log_id: Some(request.log_id), return_message: None })
    }

    fn routes(&self) -> Vec<ConnectorRoute> {
        vec![
            ConnectorRoute { method: Method::POST, path: "/mockcrm/uninstall", handler: Arc::new(Uninstall) },
            // Clashes with a built-in route: the host must skip it, not panic or shadow `/isAlive`.
            ConnectorRoute { method: Method::GET, path: "/isAlive", handler: Arc::new(Uninstall) },
        ]
    }

    async fn unauthorize(&self, ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        let response =
            self.http.post(&format!("{}/oauth/revoke", self.base)).authorization(&ctx.auth_header).send().await?;
        response.error_for_status(parse_error)?;
        Ok(Unauthorized { return_message: None })
    }
}

/// The CRM's uninstall callback: the body is the user id to forget.
struct Uninstall;

#[async_trait]
impl RouteHandler for Uninstall {
    async fn handle(&self, host: &dyn HostServices, request: RouteRequest) -> RouteResponse {
        let user_id = String::from_utf8_lossy(&request.body).trim().to_owned();
        let user = match host.find_user(&user_id).await {
            Ok(Some(user)) => user,
            Ok(None) => return RouteResponse::text(StatusCode::NOT_FOUND, "unknown user"),
            Err(error) => return RouteResponse::text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        };
        if let Err(error) = host.context_for(user).await {
            return RouteResponse::text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
        }
        match host.delete_user(&user_id).await {
            Ok(true) => RouteResponse::text(StatusCode::OK, format!("deleted {user_id}")),
            Ok(false) => RouteResponse::text(StatusCode::NOT_FOUND, "unknown user"),
            Err(error) => RouteResponse::text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        }
    }
}
