//! `Insightly`: the `Connector` implementation, mapping App Connect's operations onto Insightly users, contacts,
//! leads and events (see `contacts.rs`, `events.rs` and `message_log.rs` for the areas).

use std::sync::Arc;

use callbridge_core::manifest::{
    ApiKeyManifest, AuthPage, ContactType, Environment, Field, FieldKind, LogPage, ManifestAuth, Pages, SettingItem,
    SettingKind, SettingsGroup,
};
use callbridge_core::{
    AuthType, CallLogCreated, CallLogDetails, CallLogUpdated, Connector, ConnectorConfig, ConnectorError,
    ContactMatches, CreateCallLogRequest, CreateContactRequest, CreateMessageLogRequest, CreatedContact, CrmUser,
    DispositionRequest, DispositionResult, ErrorKind, FindContactRequest, GetCallLogRequest, MessageLogCreated,
    MessageLogUpdated, Operation, PlatformManifest, PlatformUserInfo, RequestContext, ReturnMessage, Secret,
    Unauthorized, UpdateCallLogRequest, UpdateMessageLogRequest, UserInfo, UserInfoRequest, async_trait,
};
use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::NAME;
use crate::client::{InsightlyClient, UserApi, api_base};
use crate::config::InsightlyConfig;
use crate::contacts::{self, EXTRA_CONTACT_FIELDS, EXTRA_LEAD_FIELDS, join_name};
use crate::timezone::user_zone;
use crate::{events, message_log};

/// What this connector implements, in `Operation` order.
const OPERATIONS: &[Operation] = &[
    Operation::GetBasicAuth,
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

/// The user-info key holding the user's API root (`https://api.<pod>.insightly.com/v3.1`).
const API_URL_KEY: &str = "apiUrl";
const LOGIN_FAILED_DETAIL: &str = "Please check your API key and try again.";

/// Builds the connector from its settings; the registry calls it through the descriptor in `lib.rs`.
pub(crate) fn build(config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(Insightly::new(&config)?))
}

/// The Insightly connector: one value serves every user.
#[derive(Debug)]
pub struct Insightly {
    config: InsightlyConfig,
    client: InsightlyClient,
}

impl Insightly {
    pub(crate) fn new(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: InsightlyConfig::from_connector_config(config)?,
            client: InsightlyClient::new(config.http.clone()),
        })
    }

    /// The user's requests, to the API root saved at login.
    fn api<'a>(&'a self, ctx: &'a RequestContext) -> Result<UserApi<'a>, ConnectorError> {
        let api_url = ctx.user.platform_additional_info.get(API_URL_KEY).and_then(Value::as_str).ok_or_else(|| {
            ConnectorError::new(ErrorKind::Unauthorized, "the user has no Insightly API URL; log in again")
        })?;
        Ok(self.client.for_user(api_base(api_url, &self.config.api_version)?, &ctx.auth_header))
    }
}

/// The login warning App Connect shows when the API key or URL does not work.
fn could_not_load_user() -> ReturnMessage {
    ReturnMessage::warning("Could not load user information", 3000).with_details("Details", &[LOGIN_FAILED_DETAIL])
}

#[async_trait]
impl Connector for Insightly {
    fn name(&self) -> &'static str {
        NAME
    }

    fn auth_type(&self) -> AuthType {
        AuthType::ApiKey
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }

    /// Insightly's CONTACT_ID, LEAD_ID and EVENT_ID are JSON numbers, and App Connect answers them as such.
    fn id_type(&self) -> callbridge_core::IdType {
        callbridge_core::IdType::Number
    }

    fn manifest(&self) -> PlatformManifest {
        manifest()
    }

    /// Insightly takes the API key as the Basic user name with an empty password: `base64("<api key>:")`.
    fn basic_auth(&self, api_key: &Secret) -> Result<Secret, ConnectorError> {
        Ok(callbridge_core::auth::api_key_as_username(api_key))
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        let failed = |error: ConnectorError| error.with_return_message(could_not_load_user());
        let api_url = request.additional_info.get(API_URL_KEY).and_then(Value::as_str).unwrap_or_default();
        let base = api_base(api_url, &self.config.api_version).map_err(failed)?;
        let api = self.client.for_user(base.clone(), &request.auth_header);
        let me = api.me().await.map_err(failed)?;
        let id =
            me.user_id.ok_or_else(|| failed(ConnectorError::upstream("insightly returned a user without an id")))?;
        let zone = user_zone(me.timezone_id.as_deref().unwrap_or_default(), Utc::now());
        let name = join_name(me.first_name.as_deref(), me.last_name.as_deref());
        Ok(UserInfo {
            user: PlatformUserInfo {
                id: format!("{id}-{NAME}"),
                name,
                timezone_name: Some(zone.name),
                timezone_offset: Some(zone.offset_hours),
                platform_additional_info: Map::from_iter([(API_URL_KEY.to_owned(), json!(base))]),
                overriding_hostname: None,
                overriding_api_key: None,
            },
            return_message: Some(ReturnMessage::success("Connected to Insightly.", 1000)),
        })
    }

    async fn find_contact(
        &self,
        ctx: &RequestContext,
        request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError> {
        // App Connect asks about internal extension numbers too; they are never CRM records.
        if request.is_extension {
            return Ok(ContactMatches::default());
        }
        contacts::find_by_phone(&self.api(ctx)?, &ctx.user.user_settings, &request).await
    }

    async fn find_contact_with_name(&self, ctx: &RequestContext, name: &str) -> Result<ContactMatches, ConnectorError> {
        contacts::find_by_name(&self.api(ctx)?, name).await
    }

    async fn create_contact(
        &self,
        ctx: &RequestContext,
        request: CreateContactRequest,
    ) -> Result<CreatedContact, ConnectorError> {
        contacts::create(&self.api(ctx)?, &request).await
    }

    async fn create_call_log(
        &self,
        ctx: &RequestContext,
        request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError> {
        events::create(&self.api(ctx)?, &request, events::assigned_owner(ctx)?).await
    }

    async fn find_created_call_log(
        &self,
        ctx: &RequestContext,
        request: &CreateCallLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        events::find_created(&self.api(ctx)?, &request.record_key).await
    }

    async fn get_call_log(
        &self,
        ctx: &RequestContext,
        request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        events::get(&self.api(ctx)?, &request.log_id).await
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        events::update(&self.api(ctx)?, &request, events::assigned_owner(ctx)?).await
    }

    async fn upsert_call_disposition(
        &self,
        ctx: &RequestContext,
        request: DispositionRequest,
    ) -> Result<DispositionResult, ConnectorError> {
        events::upsert_disposition(&self.api(ctx)?, &request).await
    }

    async fn create_message_log(
        &self,
        ctx: &RequestContext,
        request: CreateMessageLogRequest,
    ) -> Result<MessageLogCreated, ConnectorError> {
        message_log::create(&self.api(ctx)?, ctx, &request).await
    }

    async fn find_created_message_log(
        &self,
        ctx: &RequestContext,
        request: &CreateMessageLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        events::find_created(&self.api(ctx)?, &request.record_key).await
    }

    async fn update_message_log(
        &self,
        ctx: &RequestContext,
        request: UpdateMessageLogRequest,
    ) -> Result<MessageLogUpdated, ConnectorError> {
        message_log::update(&self.api(ctx)?, ctx, &request).await
    }

    /// Insightly API keys cannot be revoked through the API; the host forgets the key.
    async fn unauthorize(&self, _ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        Ok(Unauthorized { return_message: Some(ReturnMessage::success("Logged out of Insightly", 1000)) })
    }

    async fn user_list(&self, ctx: &RequestContext) -> Result<Vec<CrmUser>, ConnectorError> {
        let users = self.api(ctx)?.users().await?;
        Ok(users
            .into_iter()
            .filter_map(|user| {
                let name = join_name(user.first_name.as_deref(), user.last_name.as_deref());
                Some(CrmUser { id: user.user_id?.to_string(), name, email: user.email_address })
            })
            .collect())
    }
}

/// The platform entry of the manifest.
pub(crate) fn manifest() -> PlatformManifest {
    let linked_fields = || {
        [("organisation", "Organisation"), ("opportunity", "Opportunity"), ("project", "Project")]
            .map(|(id, title)| Field::new(id, title, FieldKind::Selection).contact_dependent())
            .to_vec()
    };
    let api_url = Field::new(API_URL_KEY, "API URL", FieldKind::String)
        .description("For example https://api.na1.insightly.com/v3.1")
        .required();
    let setting = |id: &str, kind: SettingKind, name: &str, extra: Value| SettingItem {
        id: id.to_owned(),
        kind,
        name: name.to_owned(),
        description: None,
        account_data_key: None,
        default_value: None,
        extra: extra.as_object().cloned().unwrap_or_default(),
    };
    let extra_fields = |id: &str, name: &str| {
        setting(
            id,
            SettingKind::InputField,
            name,
            json!({ "description": "Custom field names, separated by commas", "placeholder": "e.g. Work_Cell__c" }),
        )
    };
    PlatformManifest {
        name: NAME.to_owned(),
        display_name: "Insightly".to_owned(),
        url_identifier: Some("*.insightly.com".to_owned()),
        environment: Some(Environment::Dynamic {
            url_identifier: "*.insightly.com".to_owned(),
            instructions: vec![
                "Log in to Insightly".to_owned(),
                "Copy the whole URL of any Insightly page and paste it here".to_owned(),
            ],
        }),
        embed_urls: vec!["https://*.insightly.com/*".to_owned()],
        auth: ManifestAuth::ApiKey {
            api_key: ApiKeyManifest {
                page: AuthPage {
                    title: "Insightly".to_owned(),
                    warning: Some(
                        "Copy your API key and API URL from Insightly: User Settings, section API.".to_owned(),
                    ),
                    content: vec![Field::new("apiKey", "API key", FieldKind::String).required(), api_url],
                },
            },
        },
        can_open_log_page: true,
        contact_page_url: Some(
            "https://{hostname}/list/{contactType}/?blade=/details/{contactType}/{contactId}".to_owned(),
        ),
        log_page_url: Some("https://{hostname}/list/Event/?blade=/details/Event/{logId}".to_owned()),
        contact_types: [("Lead", "lead"), ("Contact", "contact")]
            .map(|(display, value)| ContactType { display: display.to_owned(), value: value.to_owned() })
            .to_vec(),
        settings: vec![SettingsGroup {
            id: "insightlyOptions".to_owned(),
            name: "Insightly options".to_owned(),
            kind: "section".to_owned(),
            items: vec![
                setting(
                    "insightlyPhoneFieldsWarning",
                    SettingKind::Warning,
                    "Phone fields",
                    json!({ "value": "Insightly matches phone numbers exactly as stored. Name custom fields that hold phone numbers, separated by commas." }),
                ),
                extra_fields(EXTRA_CONTACT_FIELDS, "Extra phone fields for contacts"),
                extra_fields(EXTRA_LEAD_FIELDS, "Extra phone fields for leads"),
            ],
        }],
        page: Pages {
            call_log: Some(LogPage { additional_fields: linked_fields() }),
            message_log: Some(LogPage { additional_fields: linked_fields() }),
            ..Pages::default()
        },
        ..PlatformManifest::default()
    }
}
