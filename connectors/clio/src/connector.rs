//! `Clio`: the `Connector` implementation. Contacts, call logs and message logs live in their own modules; this
//! file wires them up and holds login, logout and the user list.

use std::str::FromStr;
use std::sync::Arc;

use callbridge_core::PlatformManifest;
use callbridge_core::phone::restore_plus;
use callbridge_core::{
    AuthType, CallLogCreated, CallLogDetails, CallLogUpdated, Connector, ConnectorConfig, ConnectorError, ContactInfo,
    ContactMatches, CreateCallLogRequest, CreateContactRequest, CreateMessageLogRequest, CreatedContact, CrmUser,
    DispositionRequest, DispositionResult, ErrorKind, FindContactRequest, GetCallLogRequest, MessageLogCreated,
    MessageLogUpdated, OAuthInfo, OAuthInfoRequest, Operation, PlatformUserInfo, RequestContext, ReturnMessage,
    Unauthorized, UpdateCallLogRequest, UpdateMessageLogRequest, UserInfo, UserInfoRequest, async_trait,
};
use chrono::{Offset, Utc};
use serde_json::json;

use crate::NAME;
use crate::client::{ClioClient, id_text};
use crate::config::{ClioConfig, Region};
use crate::{call_log, contacts, manifest, message_log};

/// What this connector implements, in `Operation` order.
pub(crate) const OPERATIONS: &[Operation] = &[
    Operation::GetOauthInfo,
    Operation::GetUserInfo,
    Operation::FindContact,
    Operation::FindContactWithName,
    Operation::CreateContact,
    Operation::CreateCallLog,
    Operation::GetCallLog,
    Operation::UpdateCallLog,
    Operation::UpsertCallDisposition,
    Operation::CreateMessageLog,
    Operation::UpdateMessageLog,
    Operation::Unauthorize,
    Operation::GetUserList,
    Operation::FindCreatedRecord,
];

/// Builds the connector; missing OAuth apps are reported at login, not here.
pub(crate) fn build(config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(Clio {
        config: ClioConfig::from_connector_config(&config)?,
        client: ClioClient::new(config.http.clone()),
    }))
}

/// The Clio connector: one value serves every user.
#[derive(Debug)]
pub struct Clio {
    config: ClioConfig,
    client: ClioClient,
}

/// The region of a hostname the extension or the store gave us: empty means the US, anything not Clio's is refused.
fn region_of(hostname: &str) -> Result<Region, ConnectorError> {
    if hostname.trim().is_empty() {
        return Ok(Region::Us);
    }
    Region::of_host(hostname)
        .ok_or_else(|| ConnectorError::new(ErrorKind::Rejected, format!("`{hostname}` is not a Clio host")))
}

#[async_trait]
impl Connector for Clio {
    fn name(&self) -> &'static str {
        NAME
    }

    fn auth_type(&self) -> AuthType {
        AuthType::OAuth
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }

    /// Clio's contact and communication ids are JSON numbers, and App Connect answers them as such.
    fn id_type(&self) -> callbridge_core::IdType {
        callbridge_core::IdType::Number
    }

    fn manifest(&self) -> PlatformManifest {
        manifest::manifest(&self.config)
    }

    fn oauth_info(&self, request: &OAuthInfoRequest) -> Result<OAuthInfo, ConnectorError> {
        let region = region_of(request.hostname.as_deref().unwrap_or_default())?;
        let (client_id, client_secret) = self.config.client_credentials(region)?;
        Ok(OAuthInfo {
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
            token_url: format!("https://{}/oauth/token", region.host()),
            redirect_uri: self.config.redirect_uri.clone(),
            authorization_url: Some(format!("https://{}/oauth/authorize", region.host())),
            scopes: Vec::new(),
            hostname: None,
        })
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        let failed = |error: ConnectorError| {
            error.with_return_message(ReturnMessage::warning("Could not load user information", 3000))
        };
        let host = region_of(&request.hostname).map_err(failed)?.host();
        let me = self.client.who_am_i(host, &request.auth_header, "id,name,time_zone").await.map_err(failed)?.body;
        let id = id_text(&me.id);
        if id.is_empty() {
            return Err(failed(ConnectorError::upstream("clio returned a user without an id")));
        }
        Ok(UserInfo {
            user: PlatformUserInfo {
                id: format!("{id}-{NAME}"),
                name: me.name.unwrap_or_default(),
                timezone_offset: Some(offset_hours(me.time_zone.as_deref())),
                timezone_name: me.time_zone,
                overriding_hostname: (request.hostname != host).then(|| host.to_owned()),
                ..PlatformUserInfo::default()
            },
            return_message: Some(ReturnMessage::success("Connected to Clio.", 1000)),
        })
    }

    async fn find_contact(
        &self,
        ctx: &RequestContext,
        request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError> {
        contacts::find_by_phone(&self.client, ctx, &request).await
    }

    async fn find_contact_with_name(&self, ctx: &RequestContext, name: &str) -> Result<ContactMatches, ConnectorError> {
        contacts::find_by_name(&self.client, ctx, name).await
    }

    async fn create_contact(
        &self,
        ctx: &RequestContext,
        request: CreateContactRequest,
    ) -> Result<CreatedContact, ConnectorError> {
        // As in App Connect, the type defaults to Person only when the form sent none; an empty one goes through.
        let kind = request.new_contact_type.unwrap_or_else(|| "Person".to_owned());
        let body = json!({ "data": {
            "name": request.new_contact_name,
            "type": kind,
            "phone_numbers": [{ "name": "Work", "number": restore_plus(&request.phone_number), "default_number": true }]
        }});
        let created = self.client.create_contact(&ctx.user.hostname, &ctx.auth_header, &body).await?;
        Ok(CreatedContact {
            contact: ContactInfo {
                id: id_text(&created.id),
                name: created.name.unwrap_or(request.new_contact_name),
                ..ContactInfo::default()
            },
            return_message: Some(ReturnMessage::success("Contact created.", 2000)),
        })
    }

    async fn create_call_log(
        &self,
        ctx: &RequestContext,
        request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError> {
        call_log::create(&self.client, ctx, &request).await
    }

    async fn find_created_call_log(
        &self,
        ctx: &RequestContext,
        request: &CreateCallLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        call_log::find_created(&self.client, ctx, &request.record_key).await
    }

    async fn get_call_log(
        &self,
        ctx: &RequestContext,
        request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        call_log::get(&self.client, ctx, &request).await
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        call_log::update(&self.client, ctx, &request).await
    }

    async fn upsert_call_disposition(
        &self,
        ctx: &RequestContext,
        request: DispositionRequest,
    ) -> Result<DispositionResult, ConnectorError> {
        call_log::disposition(&self.client, ctx, &request).await
    }

    async fn create_message_log(
        &self,
        ctx: &RequestContext,
        request: CreateMessageLogRequest,
    ) -> Result<MessageLogCreated, ConnectorError> {
        message_log::create(&self.client, ctx, &request).await
    }

    async fn find_created_message_log(
        &self,
        ctx: &RequestContext,
        request: &CreateMessageLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        call_log::find_created(&self.client, ctx, &request.record_key).await
    }

    async fn update_message_log(
        &self,
        ctx: &RequestContext,
        request: UpdateMessageLogRequest,
    ) -> Result<MessageLogUpdated, ConnectorError> {
        message_log::update(&self.client, ctx, &request).await
    }

    async fn unauthorize(&self, ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        if !ctx.user.access_token.is_empty() {
            self.client.deauthorize(&ctx.user.hostname, &ctx.auth_header, &ctx.user.access_token).await?;
        }
        Ok(Unauthorized { return_message: Some(ReturnMessage::success("Logged out of Clio", 1000)) })
    }

    async fn user_list(&self, ctx: &RequestContext) -> Result<Vec<CrmUser>, ConnectorError> {
        let users = self.client.users(&ctx.user.hostname, &ctx.auth_header).await?;
        Ok(users
            .into_iter()
            .map(|it| {
                let name = it.name.filter(|it| !it.is_empty()).unwrap_or_else(|| {
                    [it.first_name, it.last_name].into_iter().flatten().collect::<Vec<_>>().join(" ")
                });
                CrmUser { id: id_text(&it.id), name, email: it.email }
            })
            .collect())
    }
}

/// The time zone's current UTC offset in hours, as App Connect stores it for Clio users (`-4`, `5.5`); `0` for a
/// missing or unknown zone.
pub(crate) fn offset_hours(time_zone: Option<&str>) -> String {
    let seconds = time_zone
        .and_then(|it| chrono_tz::Tz::from_str(it.trim()).ok())
        .map_or(0, |tz| Utc::now().with_timezone(&tz).offset().fix().local_minus_utc());
    let hours = f64::from(seconds) / 3600.0;
    if hours.fract() == 0.0 { format!("{}", hours as i64) } else { format!("{hours}") }
}
