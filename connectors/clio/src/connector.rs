//! `Clio`: the `Connector` implementation, mapping App Connect's operations onto Clio contacts and
//! activities.

use std::sync::Arc;

use base64::Engine as _;
use callbridge_core::http::RateLimit;
use callbridge_core::phone::{apply_overriding_formats, national_number, restore_plus};
use callbridge_core::{
    AuthType, CallLogCreated, CallLogDetails, CallLogUpdated, Connector, ConnectorConfig, ConnectorError, ContactInfo,
    ContactMatches, CreateCallLogRequest, ErrorKind, FindContactRequest, GetCallLogRequest, Operation,
    PlatformUserInfo, RequestContext, ReturnMessage, Secret, Unauthorized, UpdateCallLogRequest, UserInfo,
    UserInfoRequest, async_trait,
};
use serde_json::{Value, json};

use crate::NAME;
use crate::api::{Activity, ActivityUpdate, NewActivity};
use crate::client::ClioClient;
use crate::config::ClioConfig;

/// What this connector implements, in `Operation` order.
const OPERATIONS: &[Operation] = &[
    Operation::GetBasicAuth,
    Operation::GetUserInfo,
    Operation::FindContact,
    Operation::CreateCallLog,
    Operation::GetCallLog,
    Operation::UpdateCallLog,
    Operation::Unauthorize,
];

/// Builds the connector from its settings; the registry calls it through the descriptor in `lib.rs`.
pub(crate) fn build(config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(Clio::new(&config)?))
}

/// The Clio connector: one value serves every user.
#[derive(Debug)]
pub struct Clio {
    client: ClioClient,
}

impl Clio {
    pub(crate) fn new(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        let settings = ClioConfig::from_connector_config(config)?;
        Ok(Self { client: ClioClient::new(config.http.clone(), settings.api_url) })
    }
}

#[async_trait]
impl Connector for Clio {
    fn name(&self) -> &'static str {
        NAME
    }

    fn auth_type(&self) -> AuthType {
        AuthType::ApiKey
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }

    fn manifest(&self) -> Value {
        json!({
            "name": NAME,
            "displayName": "Clio",
            "auth": {
                "type": "apiKey",
                "apiKey": {
                    "page": {
                        "title": "Clio",
                        "content": [{
                            "const": "apiKey",
                            "title": "API key",
                            "type": "string",
                            "description": "Your Clio API key.",
                            "required": true
                        }]
                    }
                }
            },
            "canOpenLogPage": false,
            "contactTypes": [{ "display": "Contact", "value": "contact" }],
            "page": {
                "callLog": { "additionalFields": [] },
                "messageLog": { "additionalFields": [] }
            },
            "settings": []
        })
    }

    /// The placeholder API takes `Authorization: Basic base64("<api key>:")`.
    fn basic_auth(&self, api_key: &Secret) -> Result<Secret, ConnectorError> {
        Ok(Secret::new(base64::engine::general_purpose::STANDARD.encode(format!("{}:", api_key.expose()))))
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        let auth = match request.api_key.as_ref().filter(|it| !it.expose().trim().is_empty()) {
            Some(api_key) => Secret::new(format!("Basic {}", self.basic_auth(api_key)?.expose())),
            None => request.auth_header.clone(),
        };
        if auth.is_empty() {
            return Err(ConnectorError::new(ErrorKind::Unauthorized, "an API key is required")
                .with_return_message(could_not_load_user()));
        }
        let me = self.client.me(&auth).await.map_err(|error| error.with_return_message(could_not_load_user()))?;
        Ok(UserInfo {
            user: PlatformUserInfo {
                id: format!("{}-{NAME}", me.body.id),
                name: me.body.name,
                timezone_name: me.body.timezone,
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
        // App Connect asks about internal extension numbers too; they are never CRM contacts.
        if request.is_extension {
            return Ok(ContactMatches::default());
        }
        // Restore the `+` before trimming: it may be the leading space.
        let phone_number = restore_plus(&request.phone_number).trim().to_owned();
        let mut queries = vec![phone_number.clone()];
        if let (Some(formats), Some(national)) = (&request.overriding_format, national_number(&phone_number)) {
            queries.extend(apply_overriding_formats(&national, formats));
        }
        let mut contacts: Vec<ContactInfo> = Vec::new();
        let mut rate_limit: Option<RateLimit> = None;
        for query in &queries {
            let reply = self.client.search_contacts(&ctx.auth_header, query).await?;
            rate_limit = reply.rate_limit.or(rate_limit);
            for contact in reply.body {
                // Several formats can find the same contact; show it once.
                if contacts.iter().any(|it| it.id == contact.id) {
                    continue;
                }
                contacts.push(ContactInfo {
                    id: contact.id,
                    name: contact.name,
                    phone: contact.phone.or_else(|| Some(phone_number.clone())),
                    kind: Some(contact.kind.unwrap_or_else(|| "contact".to_owned())),
                    created_date: contact.created_at,
                    most_recent_activity_date: contact.updated_at,
                    ..ContactInfo::default()
                });
            }
        }
        Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit })
    }

    async fn create_call_log(
        &self,
        ctx: &RequestContext,
        request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError> {
        let call = &request.call_log;
        let inbound = call.direction.as_deref().is_some_and(|it| it.eq_ignore_ascii_case("inbound"));
        let subject = match call.custom_subject.as_deref().filter(|it| !it.trim().is_empty()) {
            Some(custom) => custom.to_owned(),
            None if inbound => format!("Inbound Call from {}", request.contact.name),
            None => format!("Outbound Call to {}", request.contact.name),
        };
        let activity = NewActivity {
            kind: "call",
            contact_id: &request.contact.id,
            subject: &subject,
            body: &request.composed_log_details,
            direction: if inbound { "inbound" } else { "outbound" },
            started_at: call.start_time.as_ref().and_then(|it| it.to_utc()).map(|it| it.to_rfc3339()),
            duration_seconds: call.duration.as_ref().and_then(|it| it.seconds()).map(|it| it.max(0.0).round() as u64),
            external_id: call.session_id.as_deref().unwrap_or_default(),
        };
        let created = self.client.create_activity(&ctx.auth_header, &activity).await?;
        Ok(CallLogCreated {
            log_id: created.body.id,
            return_message: Some(ReturnMessage::success("Call logged", 2000)),
        })
    }

    async fn get_call_log(
        &self,
        ctx: &RequestContext,
        request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        let reply = self.client.activity(&ctx.auth_header, &request.log_id).await?;
        let activity: Activity = serde_json::from_value(reply.body.clone()).map_err(|error| {
            ConnectorError::upstream(format!("unexpected {NAME} activity {}", request.log_id)).with_source(error)
        })?;
        Ok(CallLogDetails {
            subject: activity.subject,
            // The placeholder API keeps the note inside the composed body; the host recomposes from `full_body`.
            note: None,
            full_body: activity.body,
            full_log_response: reply.body,
            contact_name: activity.contact_name,
            dispositions: None,
        })
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        let update = ActivityUpdate {
            subject: request.subject.as_deref().filter(|it| !it.trim().is_empty()),
            body: &request.composed_log_details,
        };
        self.client.update_activity(&ctx.auth_header, &request.log_id, &update).await?;
        Ok(CallLogUpdated {
            updated_note: request.note,
            return_message: Some(ReturnMessage::success("Call log updated.", 2000)),
        })
    }

    /// An API key cannot be revoked from here; the host forgets it.
    async fn unauthorize(&self, _ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        Ok(Unauthorized { return_message: Some(ReturnMessage::success("Logged out of Clio", 1000)) })
    }
}

/// What the extension shows when login fails.
fn could_not_load_user() -> ReturnMessage {
    ReturnMessage::warning("Could not load user information", 3000)
        .with_details("Details", &["Please check your API key and try again."])
}
