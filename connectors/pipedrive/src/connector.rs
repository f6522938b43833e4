//! `Pipedrive`: the `Connector` implementation, mapping App Connect's operations onto Pipedrive persons, deals,
//! leads and activities.

use std::sync::Arc;

use callbridge_core::PlatformManifest;
use callbridge_core::compose::message::{Layout, append_entry_once, parse_time};
use callbridge_core::compose::{LogFormat, agent_note, user_offset};
use callbridge_core::http::RateLimit;
use callbridge_core::manifest::{
    Environment, Field, FieldKind, LogPage, ManifestAuth, OAuthManifest, Pages, ServerSideLogging, SettingItem,
    SettingKind,
};
use callbridge_core::phone::{national_number, restore_plus};
use callbridge_core::values::{id_text, is_truthy};
use callbridge_core::{
    AuthType, CallDuration, CallLogCreated, CallLogDetails, CallLogUpdated, Connector, ConnectorConfig, ConnectorError,
    ConnectorRoute, ContactInfo, ContactMatches, CreateCallLogRequest, CreateContactRequest, CreateMessageLogRequest,
    CreatedContact, CrmUser, DispositionRequest, DispositionResult, ErrorKind, FindContactRequest, GetCallLogRequest,
    MessageLogCreated, MessageLogUpdated, MessageType, OAuthInfo, OAuthInfoRequest, Operation, PlatformUserInfo,
    RequestContext, ReturnMessage, Unauthorized, UpdateCallLogRequest, UpdateMessageLogRequest, User, UserInfo,
    UserInfoRequest, async_trait,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tracing::warn;

use crate::NAME;
use crate::activity_types::{ActivityKind, ActivityTypeCache, DEFAULT_TTL};
use crate::api::FoundPerson;
use crate::client::{GLOBAL_USER_URL, PipedriveClient, base, numeric_id};
use crate::config::{AUTHORIZE_URL, PipedriveConfig};

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

/// The account data key of the admin settings that choose activity types.
const ACTIVITY_TYPES_KEY: &str = "activityTypes";
const NO_CALL_TYPE: &str = "Call logging requires an active activity type containing the word \"call\" (case insensitive), or one explicitly assigned by an admin under Admin > Account settings.";
const NO_SMS_TYPE: &str = "Message logging requires an active activity type containing the word \"sms\" (case insensitive), or one explicitly assigned by an admin under Admin > Account settings.";
const USER_INFO_FAILED_DETAIL: &str = "Pipedrive was unable to fetch information for the currently logged in user. Please check your permissions in Pipedrive and make sure you have permission to access and read user information.";

/// Builds the connector; missing credentials are reported at login, not here.
pub(crate) fn build(config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(Pipedrive::new(&config)?))
}

/// The Pipedrive connector: one value serves every user.
#[derive(Debug)]
pub struct Pipedrive {
    config: PipedriveConfig,
    client: PipedriveClient,
    activity_types: ActivityTypeCache,
}

impl Pipedrive {
    pub(crate) fn new(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: PipedriveConfig::from_connector_config(config)?,
            client: PipedriveClient::new(config.http.clone()),
            activity_types: ActivityTypeCache::new(DEFAULT_TTL),
        })
    }

    /// The person as a contact, with their open deals and leads as the options the extension offers.
    async fn contact_with_options(
        &self,
        ctx: &RequestContext,
        person: FoundPerson,
        phone: Option<&str>,
        rate_limit: &mut Option<RateLimit>,
    ) -> Result<ContactInfo, ConnectorError> {
        let host = &ctx.user.hostname;
        let person_id = id_text(&person.id);
        let deals = self.client.open_deals(host, &ctx.auth_header, &person_id).await?;
        keep_latest(rate_limit, deals.rate_limit);
        // Leads are an add-on; an account without them (or a failing leads API) must not hide the contact.
        let leads = match self.client.leads(host, &ctx.auth_header, &person_id).await {
            Ok(leads) => {
                keep_latest(rate_limit, leads.rate_limit);
                leads.body
            }
            Err(error) => {
                warn!(connector = NAME, %error, "Listing a person's leads failed; showing the contact without leads.");
                Vec::new()
            }
        };
        let mut additional_info = Map::new();
        for (key, related) in [("deals", deals.body), ("leads", leads)] {
            if !related.is_empty() {
                let options = related
                    .into_iter()
                    .map(|it| json!({ "const": it.id, "title": it.title.unwrap_or_default() }))
                    .collect();
                additional_info.insert(key.to_owned(), Value::Array(options));
            }
        }
        let organization = person.organization.and_then(|it| it.name).unwrap_or_default();
        Ok(ContactInfo {
            id: person_id,
            name: person.name.unwrap_or_default(),
            phone: phone.map(str::to_owned),
            kind: Some("contact".to_owned()),
            created_date: person.add_time,
            most_recent_activity_date: person.update_time,
            additional_info: Some(Value::Object(additional_info)),
            extra: Map::from_iter([("organization".to_owned(), Value::String(organization))]),
            ..ContactInfo::default()
        })
    }

    /// The activity type to log `kind` as, or the reference's error when the account has none.
    async fn activity_type(&self, ctx: &RequestContext, kind: ActivityKind) -> Result<String, ConnectorError> {
        let company = company_key(&ctx.user);
        let admin_choice = ctx.admin_settings.text(kind.setting_id());
        let resolved = self
            .activity_types
            .resolve(&self.client, &ctx.user.hostname, &ctx.auth_header, &company, admin_choice, kind)
            .await?;
        resolved.ok_or_else(|| {
            let text = match kind {
                ActivityKind::Call => NO_CALL_TYPE,
                ActivityKind::Sms => NO_SMS_TYPE,
            };
            ConnectorError::new(ErrorKind::Rejected, format!("no active {} activity type", kind.keyword()))
                .with_return_message(ReturnMessage::new(MessageType::Error, text, 2000))
        })
    }

    /// The person's organisation, if they belong to one.
    async fn organization_of(&self, ctx: &RequestContext, person_id: &str) -> Result<Option<Value>, ConnectorError> {
        let person = self.client.person(&ctx.user.hostname, &ctx.auth_header, person_id).await?;
        Ok(person.body.org_id.filter(is_truthy))
    }
}

#[async_trait]
impl Connector for Pipedrive {
    fn name(&self) -> &'static str {
        NAME
    }

    fn auth_type(&self) -> AuthType {
        AuthType::OAuth
    }

    fn log_format(&self) -> Option<LogFormat> {
        Some(LogFormat::Html)
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }

    /// Pipedrive's person and activity ids are JSON numbers, and App Connect answers them as such.
    fn id_type(&self) -> callbridge_core::IdType {
        callbridge_core::IdType::Number
    }

    fn manifest(&self) -> PlatformManifest {
        manifest(&self.config)
    }

    fn oauth_info(&self, _request: &OAuthInfoRequest) -> Result<OAuthInfo, ConnectorError> {
        let (client_id, client_secret) = self.config.client_credentials()?;
        Ok(OAuthInfo {
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
            token_url: self.config.token_url.clone(),
            redirect_uri: self.config.redirect_uri.clone(),
            authorization_url: Some(AUTHORIZE_URL.to_owned()),
            scopes: self
                .config
                .scope
                .as_deref()
                .map(|it| it.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            hostname: None,
        })
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        let failed = |error: ConnectorError| {
            error.with_return_message(
                ReturnMessage::warning("Could not load user information", 3000)
                    .with_details("Details", &[USER_INFO_FAILED_DETAIL]),
            )
        };
        let me = self.client.current_user(GLOBAL_USER_URL, &request.auth_header).await.map_err(failed)?.body;
        let id = id_text(&me.id);
        if id.is_empty() {
            return Err(failed(ConnectorError::upstream("pipedrive returned a user without an id")));
        }
        let mut additional_info = Map::new();
        for (key, value) in [
            ("companyId", me.company_id.clone()),
            ("companyName", me.company_name.clone().map(Value::String)),
            ("companyDomain", me.company_domain.clone().map(Value::String)),
        ] {
            if let Some(value) = value {
                additional_info.insert(key.to_owned(), value);
            }
        }
        // A Marketplace install knows no company host yet; the client sends `temp` and we learn it here.
        let overriding_hostname = match (request.hostname.as_str(), me.company_domain.as_deref()) {
            ("temp", Some(domain)) if !domain.is_empty() => Some(format!("{domain}.pipedrive.com")),
            _ => None,
        };
        Ok(UserInfo {
            user: PlatformUserInfo {
                id: format!("{id}-{NAME}"),
                name: me.name.unwrap_or_default(),
                timezone_name: me.timezone_name,
                timezone_offset: me.timezone_offset,
                platform_additional_info: additional_info,
                overriding_hostname,
                overriding_api_key: None,
            },
            return_message: Some(ReturnMessage::success("Connected to Pipedrive.", 1000)),
        })
    }

    async fn find_contact(
        &self,
        ctx: &RequestContext,
        request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError> {
        if request.is_extension {
            return Ok(ContactMatches { successful: false, ..ContactMatches::default() });
        }
        let phone = restore_plus(&request.phone_number);
        if !phone.contains('+') {
            return Ok(ContactMatches {
                successful: false,
                return_message: Some(ReturnMessage::warning(
                    "Logging against internal extension number is not supported.",
                    3000,
                )),
                ..ContactMatches::default()
            });
        }
        let term = national_number(&phone).unwrap_or_else(|| phone.clone());
        let found = self.client.search_persons(&ctx.user.hostname, &ctx.auth_header, &term, "phone").await?;
        let mut rate_limit = found.rate_limit;
        let mut contacts = Vec::with_capacity(found.body.items.len() + 1);
        for item in found.body.items {
            contacts.push(self.contact_with_options(ctx, item.item, Some(&phone), &mut rate_limit).await?);
        }
        contacts.push(ContactInfo::create_new_placeholder());
        Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit })
    }

    async fn find_contact_with_name(&self, ctx: &RequestContext, name: &str) -> Result<ContactMatches, ConnectorError> {
        let found = self.client.search_persons(&ctx.user.hostname, &ctx.auth_header, name, "name").await?;
        let mut rate_limit = found.rate_limit;
        let mut contacts = Vec::with_capacity(found.body.items.len());
        for item in found.body.items {
            contacts.push(self.contact_with_options(ctx, item.item, None, &mut rate_limit).await?);
        }
        Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit })
    }

    async fn create_contact(
        &self,
        ctx: &RequestContext,
        request: CreateContactRequest,
    ) -> Result<CreatedContact, ConnectorError> {
        let phone = restore_plus(&request.phone_number);
        let created = self
            .client
            .create_person(&ctx.user.hostname, &ctx.auth_header, &request.new_contact_name, &phone)
            .await?
            .body;
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
        let person_id = person_number(&request.contact.id)?;
        let owner_id = owner_number(ctx)?;
        let org_id = self.organization_of(ctx, &request.contact.id).await?;
        let activity_type = self.activity_type(ctx, ActivityKind::Call).await?;
        let call_log = &request.call_log;
        let subject = call_log.subject(&request.contact.name);
        let mut body = Map::new();
        body.insert("owner_id".to_owned(), json!(owner_id));
        body.insert("subject".to_owned(), json!(subject));
        body.insert("duration".to_owned(), json!(pipedrive_duration(call_log.duration.as_ref())));
        insert_deal_or_lead(&mut body, &request.additional_submission);
        if let Some(org_id) = org_id {
            body.insert("org_id".to_owned(), org_id);
        }
        body.insert("note".to_owned(), json!(request.composed_log_details));
        body.insert("done".to_owned(), json!(true));
        insert_due(&mut body, call_log.start_time.as_ref().and_then(|it| it.to_utc()));
        body.insert("participants".to_owned(), json!([{ "person_id": person_id, "primary": true }]));
        body.insert("type".to_owned(), json!(activity_type));
        crate::reconcile::mark(&mut body, &request.record_key);
        let created =
            self.client.create_activity(&ctx.user.hostname, &ctx.auth_header, &Value::Object(body)).await?.body;
        Ok(CallLogCreated {
            log_id: id_text(&created.id),
            return_message: Some(ReturnMessage::success("Call logged", 2000)),
            settings_update: None,
        })
    }

    async fn find_created_call_log(
        &self,
        ctx: &RequestContext,
        request: &CreateCallLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        let (person, owner) = (person_number(&request.contact.id)?, owner_number(ctx)?);
        crate::reconcile::find(&self.client, ctx, person, owner, &request.record_key).await
    }

    async fn find_created_message_log(
        &self,
        ctx: &RequestContext,
        request: &CreateMessageLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        let (person, owner) = (person_number(&request.contact.id)?, owner_number(ctx)?);
        crate::reconcile::find(&self.client, ctx, person, owner, &request.record_key).await
    }

    async fn get_call_log(
        &self,
        ctx: &RequestContext,
        request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        let activity = self.client.activity(&ctx.user.hostname, &ctx.auth_header, &request.log_id).await?.body;
        let data = activity.data;
        let full_body = data.get("note").and_then(Value::as_str).unwrap_or_default().to_owned();
        let contact_name = activity
            .related_objects
            .as_ref()
            .and_then(|it| it.get("person"))
            .and_then(Value::as_object)
            .and_then(|persons| persons.values().next())
            .and_then(|person| person.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("Unknown")
            .to_owned();
        Ok(CallLogDetails {
            subject: data.get("subject").and_then(Value::as_str).map(str::to_owned),
            note: Some(agent_note(&full_body, LogFormat::Html).unwrap_or_default()),
            full_body: Some(full_body),
            contact_name: Some(contact_name),
            dispositions: Some(json!({
                "deals": data.get("deal_id").cloned().unwrap_or(Value::Null),
                "leads": data.get("lead_id").cloned().unwrap_or(Value::Null),
            })),
            full_log_response: data,
        })
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        let mut body = Map::new();
        body.insert("note".to_owned(), json!(request.composed_log_details));
        if let Some(subject) = request.subject.as_deref().filter(|it| !it.is_empty()) {
            body.insert("subject".to_owned(), json!(subject));
        }
        // An admin's assignment moves the activity to that user, as App Connect does.
        if ctx.assigned_crm_user_id.is_some() {
            body.insert("owner_id".to_owned(), json!(owner_number(ctx)?));
        }
        // As in App Connect, a zero or empty duration leaves the stored one alone.
        if let Some(duration) = request.duration.as_ref().filter(|it| duration_is_set(it)) {
            body.insert("duration".to_owned(), json!(pipedrive_duration(Some(duration))));
        }
        self.client
            .update_activity(&ctx.user.hostname, &ctx.auth_header, &request.log_id, &Value::Object(body))
            .await?;
        Ok(CallLogUpdated {
            updated_note: Some(request.composed_log_details),
            return_message: Some(ReturnMessage::success("Call log updated.", 2000)),
        })
    }

    async fn upsert_call_disposition(
        &self,
        ctx: &RequestContext,
        request: DispositionRequest,
    ) -> Result<DispositionResult, ConnectorError> {
        let deal = request.dispositions.get("deals").and_then(submitted_id);
        let lead = request.dispositions.get("leads").and_then(submitted_id);
        // A deal wins over a lead, and setting one clears the other: an activity belongs to at most one.
        let body = match (deal, lead) {
            (Some(deal), _) => json!({ "deal_id": deal, "lead_id": null }),
            (None, Some(lead)) => json!({ "lead_id": lead, "deal_id": null }),
            (None, None) => return Ok(DispositionResult::default()),
        };
        self.client.update_activity(&ctx.user.hostname, &ctx.auth_header, &request.log_id, &body).await?;
        Ok(DispositionResult { log_id: Some(request.log_id), return_message: None })
    }

    async fn create_message_log(
        &self,
        ctx: &RequestContext,
        request: CreateMessageLogRequest,
    ) -> Result<MessageLogCreated, ConnectorError> {
        let host = &ctx.user.hostname;
        let person_id = person_number(&request.contact.id)?;
        let owner_id = owner_number(ctx)?;
        let me = self.client.current_user(&format!("{}/v1/users/me", base(host)?), &ctx.auth_header).await?.body;
        let user_name = me.name.unwrap_or_default();
        let org_id = self.organization_of(ctx, &request.contact.id).await?;
        let activity_type = self.activity_type(ctx, ActivityKind::Sms).await?;
        let layout = Layout {
            user_name: &user_name,
            contact: &request.contact,
            offset: user_offset(ctx.user.timezone_offset.as_ref()),
            now: Utc::now(),
        };
        let shared = request.shared_sms_log_content.as_ref().filter(|it| !it.body.is_empty() && !it.subject.is_empty());
        let (subject, note, logged_at) = match shared {
            Some(shared) => (
                shared.subject.clone(),
                shared.body.clone(),
                parse_time(shared.conversation_created_date.as_deref())
                    .unwrap_or_else(|| layout.sent_at(&request.message)),
            ),
            None => {
                let (subject, note) =
                    layout.compose(LogFormat::Html, &request.media, &request.correspondents, &request.message);
                (subject, note, layout.sent_at(&request.message))
            }
        };
        let mut body = Map::new();
        body.insert("owner_id".to_owned(), json!(owner_id));
        body.insert("subject".to_owned(), json!(subject));
        insert_deal_or_lead(&mut body, &request.additional_submission);
        if let Some(org_id) = org_id {
            body.insert("org_id".to_owned(), org_id);
        }
        body.insert("note".to_owned(), json!(note));
        body.insert("done".to_owned(), json!(true));
        insert_due(&mut body, Some(logged_at));
        body.insert("type".to_owned(), json!(activity_type));
        body.insert("participants".to_owned(), json!([{ "person_id": person_id, "primary": true }]));
        crate::reconcile::mark(&mut body, &request.record_key);
        let created = self.client.create_activity(host, &ctx.auth_header, &Value::Object(body)).await?.body;
        Ok(MessageLogCreated {
            log_id: id_text(&created.id),
            return_message: Some(ReturnMessage::success("Message logged", 1000)),
        })
    }

    async fn update_message_log(
        &self,
        ctx: &RequestContext,
        request: UpdateMessageLogRequest,
    ) -> Result<MessageLogUpdated, ConnectorError> {
        let host = &ctx.user.hostname;
        let shared_body =
            request.shared_sms_log_content.as_ref().map(|it| it.body.as_str()).filter(|it| !it.is_empty());
        let note = match shared_body {
            Some(body) => body.to_owned(),
            None => {
                let me = self.client.current_user(GLOBAL_USER_URL, &ctx.auth_header).await?.body;
                let existing = self.client.activity(host, &ctx.auth_header, &request.log_id).await?.body;
                let existing_note = existing.data.get("note").and_then(Value::as_str).unwrap_or_default();
                let user_name = me.name.unwrap_or_default();
                let layout = Layout {
                    user_name: &user_name,
                    contact: &request.contact,
                    offset: user_offset(ctx.user.timezone_offset.as_ref()),
                    now: Utc::now(),
                };
                append_entry_once(
                    existing_note,
                    &layout.entry_in(LogFormat::Html, &request.message, &request.media),
                    request.maybe_applied,
                )
            }
        };
        let mut body = Map::new();
        body.insert("note".to_owned(), json!(note));
        insert_deal_or_lead(&mut body, &request.additional_submission);
        self.client.update_activity(host, &ctx.auth_header, &request.log_id, &Value::Object(body)).await?;
        Ok(MessageLogUpdated::default())
    }

    async fn unauthorize(&self, ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        revoke_tokens(&self.client, &self.config, &ctx.user).await?;
        Ok(Unauthorized { return_message: Some(ReturnMessage::success("Logged out of Pipedrive", 1000)) })
    }

    async fn user_list(&self, ctx: &RequestContext) -> Result<Vec<CrmUser>, ConnectorError> {
        let users = self.client.account_users(&ctx.user.hostname, &ctx.auth_header).await?.body;
        Ok(users
            .into_iter()
            .filter(|it| it.is_deleted != Some(true))
            .map(|it| CrmUser { id: id_text(&it.id), name: it.name.unwrap_or_default(), email: it.email })
            .collect())
    }

    async fn account_data(
        &self,
        ctx: &RequestContext,
        key: &str,
        force_refresh: bool,
    ) -> Result<Option<Value>, ConnectorError> {
        if key != ACTIVITY_TYPES_KEY {
            return Ok(None);
        }
        let (host, company) = (&ctx.user.hostname, company_key(&ctx.user));
        let types = self.activity_types.list(&self.client, host, &ctx.auth_header, &company, force_refresh).await?;
        let options = types.iter().map(|it| json!({ "const": it.key_string, "title": it.name })).collect();
        Ok(Some(Value::Array(options)))
    }

    fn routes(&self) -> Vec<ConnectorRoute> {
        crate::redirect::routes(self.config.clone(), self.client.clone())
    }
}

/// Revokes the user's refresh and access tokens at Pipedrive, refresh token first (it can mint new access tokens).
pub(crate) async fn revoke_tokens(
    client: &PipedriveClient,
    config: &PipedriveConfig,
    user: &User,
) -> Result<(), ConnectorError> {
    let (client_id, client_secret) = config.client_credentials()?;
    let refresh_token = user.refresh_token.as_ref().filter(|it| !it.is_empty());
    let access_token = Some(&user.access_token).filter(|it| !it.is_empty());
    for token in [refresh_token, access_token].into_iter().flatten() {
        client.revoke(client_id, client_secret, token).await?;
    }
    Ok(())
}

/// The platform entry of the manifest.
pub(crate) fn manifest(config: &PipedriveConfig) -> PlatformManifest {
    let additional_fields = vec![
        Field::new("deals", "Deal", FieldKind::Selection).contact_dependent(),
        Field::new("leadWarning", "Lead warning", FieldKind::Warning)
            .description("Lead assignment will be overridden by Deal assignment if any"),
        Field::new("leads", "Lead", FieldKind::Selection).contact_dependent(),
    ];
    let activity_type_setting = |kind: ActivityKind, name: &str, description: &str| SettingItem {
        id: kind.setting_id().to_owned(),
        kind: SettingKind::Option,
        name: name.to_owned(),
        description: Some(description.to_owned()),
        account_data_key: Some(ACTIVITY_TYPES_KEY.to_owned()),
        default_value: None,
        extra: Map::new(),
    };
    let log_page = Some(LogPage { additional_fields });
    PlatformManifest {
        name: NAME.to_owned(),
        display_name: "Pipedrive".to_owned(),
        url_identifier: Some("*.pipedrive.com".to_owned()),
        environment: Some(Environment::Dynamic {
            url_identifier: "*.pipedrive.com".to_owned(),
            instructions: vec![
                "Login to your Pipedrive account".to_owned(),
                "Copy the whole url and paste it here".to_owned(),
            ],
        }),
        embed_urls: vec!["https://*.pipedrive.com/*".to_owned()],
        auth: ManifestAuth::OAuth {
            oauth: OAuthManifest {
                auth_url: AUTHORIZE_URL.to_owned(),
                client_id: config.client_id.clone().unwrap_or_default(),
                scope: config
                    .scope
                    .as_ref()
                    .map(|it| format!("scope={}", it.split_whitespace().collect::<Vec<_>>().join("+"))),
                custom_state: None,
                redirect_uri: Some(config.redirect_uri.clone()),
            },
        },
        contact_page_url: Some("https://{hostname}/person/{contactId}".to_owned()),
        log_page_url: Some("https://{hostname}/activities/{logId}".to_owned()),
        server_side_logging: Some(ServerSideLogging { enable_user_mapping: true, ..ServerSideLogging::default() }),
        admin_settings: vec![
            activity_type_setting(
                ActivityKind::Call,
                "Call activity type",
                "The activity type calls are logged as. Without one, the first active type whose name contains \"call\" is used.",
            ),
            activity_type_setting(
                ActivityKind::Sms,
                "SMS activity type",
                "The activity type messages are logged as. Without one, the first active type whose name contains \"sms\" is used.",
            ),
        ],
        page: Pages { call_log: log_page.clone(), message_log: log_page, new_contact: None, use_contact_search: true },
        ..PlatformManifest::default()
    }
}

/// Pipedrive's `HH:MM` duration as App Connect writes it, quirk included: minutes are the minutes past the hour
/// plus one (300 s is `00:06`, 4500 s is `01:16`), and anything but a JSON number is `00:00`.
pub(crate) fn pipedrive_duration(duration: Option<&CallDuration>) -> String {
    let seconds = match duration {
        Some(CallDuration::Seconds(number)) => number.as_f64().filter(|it| it.is_finite()).unwrap_or(0.0).max(0.0),
        _ => return "00:00".to_owned(),
    };
    let hours = (seconds / 3600.0).floor();
    let minutes = ((seconds % 3600.0) / 60.0).floor() + 1.0;
    format!("{:02}:{:02}", hours as u64, minutes as u64)
}

/// `deal_id`, or `lead_id` when no deal was chosen (an activity links to one of them).
fn insert_deal_or_lead(body: &mut Map<String, Value>, submission: &Map<String, Value>) {
    match (submission.get("deals").and_then(submitted_id), submission.get("leads").and_then(submitted_id)) {
        (Some(deal), _) => {
            body.insert("deal_id".to_owned(), deal);
        }
        (None, Some(lead)) => {
            body.insert("lead_id".to_owned(), lead);
        }
        (None, None) => {}
    }
}

/// `due_date` and `due_time`: the UTC date and time the call started or the message was sent.
fn insert_due(body: &mut Map<String, Value>, at: Option<DateTime<Utc>>) {
    if let Some(at) = at {
        body.insert("due_date".to_owned(), json!(at.format("%Y-%m-%d").to_string()));
        body.insert("due_time".to_owned(), json!(at.format("%H:%M").to_string()));
    }
}

/// A chosen deal or lead id: numeric strings become numbers (Pipedrive's deal ids are integers), lead UUIDs stay
/// strings, and the empty values the extension sends for "none" mean nothing was chosen.
pub(crate) fn submitted_id(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) if text.trim().is_empty() || text == "none" => None,
        Value::String(text) => Some(text.trim().parse::<u64>().map_or_else(|_| json!(text.trim()), |it| json!(it))),
        Value::Number(_) if is_truthy(value) => Some(value.clone()),
        _ => None,
    }
}

fn duration_is_set(duration: &CallDuration) -> bool {
    match duration {
        CallDuration::Seconds(number) => number.as_f64().is_some_and(|it| it != 0.0),
        CallDuration::Text(text) => !text.is_empty(),
    }
}

/// The contact's person id as the number Pipedrive wants in `participants`.
fn person_number(contact_id: &str) -> Result<u64, ConnectorError> {
    numeric_id(contact_id, "person")?
        .parse::<u64>()
        .map_err(|_| ConnectorError::new(ErrorKind::Rejected, format!("`{contact_id}` is not a Pipedrive person id")))
}

/// The activity's owner: the CRM user an admin assigned the log to, else the logging user (the numeric part of
/// `<id>-pipedrive`).
fn owner_number(ctx: &RequestContext) -> Result<u64, ConnectorError> {
    if let Some(assigned) = &ctx.assigned_crm_user_id {
        return assigned
            .parse::<u64>()
            .map_err(|_| ConnectorError::new(ErrorKind::Rejected, format!("`{assigned}` is not a Pipedrive user id")));
    }
    let user = &ctx.user;
    user.crm_user_id().parse::<u64>().map_err(|_| {
        ConnectorError::new(
            ErrorKind::Unauthorized,
            format!("user id `{}` does not start with a Pipedrive user id", user.id),
        )
    })
}

/// What the activity-type cache is keyed by: the Pipedrive company, else the host.
fn company_key(user: &User) -> String {
    user.platform_additional_info
        .get("companyId")
        .filter(|it| !it.is_null())
        .map_or_else(|| user.hostname.clone(), id_text)
}

/// Keeps the most recent rate-limit headers: they describe the budget left after the last request.
fn keep_latest(current: &mut Option<RateLimit>, latest: Option<RateLimit>) {
    if latest.is_some() {
        *current = latest;
    }
}
