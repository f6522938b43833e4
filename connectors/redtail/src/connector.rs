//! `Redtail`: the `Connector` implementation, mapping App Connect's operations onto Redtail contacts, activity
//! categories and completed activities.

use std::sync::Arc;

use base64::Engine as _;
use callbridge_core::compose::{agent_note, escape_html};
use callbridge_core::phone::{apply_overriding_formats, national_number, parse_e164, restore_plus};
use callbridge_core::{
    AuthType, CallLogCreated, CallLogDetails, CallLogUpdated, Connector, ConnectorConfig, ConnectorError, ContactInfo,
    ContactMatches, CreateCallLogRequest, CreateContactRequest, CreateMessageLogRequest, CreatedContact, CrmUser,
    DispositionRequest, DispositionResult, ErrorKind, FindContactRequest, GetCallLogRequest, LogFormat,
    MessageLogCreated, MessageLogUpdated, Operation, PlatformManifest, PlatformUserInfo, RequestContext, ReturnMessage,
    Secret, Unauthorized, UpdateCallLogRequest, UpdateMessageLogRequest, User, UserInfo, UserInfoRequest, UserSettings,
    async_trait,
};
use serde_json::{Map, Value, json};

use crate::NAME;
use crate::api::{
    ActivityUpdate, Attendee, Category, Contact, LinkedContactRef, NewActivity, NewContact, NewNote, NewPhone,
    join_names,
};
use crate::body::{custom_offset, with_date_time};
use crate::client::{RedtailClient, login_authorization, user_key_authorization};
use crate::config::RedtailConfig;
use crate::manifest::{CATEGORY_FIELD, DEFAULT_CATEGORY, DEFAULT_CATEGORY_SETTING};
use crate::reconcile::record_marker;
use crate::time::{CallTimes, iso};

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

/// Redtail's activity type for calls and messages: "Phone Call".
pub(crate) const PHONE_CALL_ACTIVITY: u8 = 3;

/// Builds the connector from its settings; the registry calls it through the descriptor in `lib.rs`.
pub(crate) fn build(config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(Redtail::new(&config)?))
}

/// The Redtail connector: one value serves every user.
#[derive(Debug)]
pub struct Redtail {
    pub(crate) client: RedtailClient,
    pub(crate) config: RedtailConfig,
}

impl Redtail {
    pub(crate) fn new(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        let settings = RedtailConfig::from_connector_config(config)?;
        Ok(Self { client: RedtailClient::new(config.http.clone(), settings.api_server.clone()), config: settings })
    }

    /// The database's categories that are not deleted, as the options of the `category` field.
    async fn category_options(&self, auth: &Secret) -> Result<Value, ConnectorError> {
        let categories = self.client.categories(auth).await?;
        Ok(category_options(&categories))
    }

    /// The `defaultCategory` setting with the database's current categories as its options, for the host to store
    /// after a call log (the reference does this after every create). The user's chosen value and
    /// `customizable` flag are only filled when the user has none, so the host's field-wise merge keeps them.
    /// A failing read is logged and stores nothing: the call is logged either way.
    async fn default_category_update(&self, ctx: &RequestContext, auth: &Secret) -> Option<UserSettings> {
        let categories = match self.client.categories(auth).await {
            Ok(categories) => categories,
            Err(error) => {
                tracing::warn!(connector = NAME, %error, "Reading Redtail's categories for the default category failed.");
                return None;
            }
        };
        let options: Vec<Value> = categories
            .iter()
            .filter(|it| !it.deleted)
            .map(|it| json!({ "id": numeric_or_text(&it.id.0), "name": it.name }))
            .collect();
        let stored = ctx.user.user_settings.0.get(DEFAULT_CATEGORY_SETTING);
        let mut setting = Map::new();
        if stored.and_then(|it| it.get("value")).is_none_or(Value::is_null) {
            setting.insert("value".to_owned(), json!(DEFAULT_CATEGORY));
        }
        if stored.and_then(|it| it.get("customizable")).is_none_or(Value::is_null) {
            setting.insert("customizable".to_owned(), Value::Bool(true));
        }
        setting.insert("options".to_owned(), Value::Array(options));
        let mut update = Map::new();
        update.insert(DEFAULT_CATEGORY_SETTING.to_owned(), Value::Object(setting));
        Some(UserSettings(update))
    }

    /// Contacts found by one `search_basic` criterion, with the category options every log form needs.
    async fn search(
        &self,
        auth: &Secret,
        found: Vec<Contact>,
        phone: Option<&str>,
    ) -> Result<Vec<ContactInfo>, ConnectorError> {
        let options = self.category_options(auth).await?;
        let mut contacts: Vec<ContactInfo> = found
            .into_iter()
            .map(|contact| ContactInfo {
                name: contact.display_name(),
                id: contact.id.0,
                phone: phone.map(str::to_owned),
                kind: Some("contact".to_owned()),
                title: Some(contact.job_title.unwrap_or_default()),
                created_date: contact.created_at,
                most_recent_activity_date: contact.updated_at,
                additional_info: Some(json!({ "category": options })),
                ..ContactInfo::default()
            })
            .collect();
        if phone.is_some() {
            contacts.push(ContactInfo {
                additional_info: Some(json!({ "category": options })),
                ..ContactInfo::create_new_placeholder()
            });
        }
        Ok(contacts)
    }
}

#[async_trait]
impl Connector for Redtail {
    fn name(&self) -> &'static str {
        NAME
    }

    fn auth_type(&self) -> AuthType {
        AuthType::ApiKey
    }

    fn log_format(&self) -> Option<LogFormat> {
        Some(LogFormat::Html)
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }

    /// Redtail's contact and activity ids are JSON numbers, and App Connect answers them as such.
    fn id_type(&self) -> callbridge_core::IdType {
        callbridge_core::IdType::Number
    }

    fn manifest(&self) -> PlatformManifest {
        crate::manifest::manifest()
    }

    /// As the reference: the key base64-encoded; requests use [`Connector::authorization`]'s scheme instead.
    fn basic_auth(&self, api_key: &Secret) -> Result<Secret, ConnectorError> {
        Ok(Secret::new(base64::engine::general_purpose::STANDARD.encode(api_key.expose())))
    }

    /// `Userkeyauth`, from the partner key and the user key the login stored as the user's access token: Redtail
    /// takes no `Basic` header on its API.
    async fn authorization(&self, user: &User) -> Result<Secret, ConnectorError> {
        if user.access_token.is_empty() {
            return Err(ConnectorError::new(ErrorKind::Unauthorized, "the user has no Redtail user key"));
        }
        Ok(user_key_authorization(self.config.api_key()?, &user.access_token))
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        let api_key = self.config.api_key().map_err(|error| {
            let text = "Redtail is not configured on this server: set REDTAIL_API_KEY.";
            error.with_return_message(ReturnMessage::warning(text, 5000))
        })?;
        let field =
            |name: &str| request.additional_info.get(name).and_then(Value::as_str).map(str::trim).unwrap_or_default();
        let (username, password) = (field("username"), field("password"));
        if username.is_empty() || password.is_empty() {
            return Err(ConnectorError::new(ErrorKind::Unauthorized, "a username and a password are required")
                .with_return_message(could_not_load_user()));
        }
        let auth = login_authorization(api_key, username, password);
        let user =
            self.client.authenticate(&auth).await.map_err(|error| error.with_return_message(could_not_load_user()))?;
        if user.user_key.trim().is_empty() {
            return Err(
                ConnectorError::upstream("Redtail answered no user key").with_return_message(could_not_load_user())
            );
        }
        let mut info = Map::new();
        info.insert("userResponse".to_owned(), Value::Object(user.profile));
        // The host keeps the login form's fields; the password must not be one of them.
        info.insert("password".to_owned(), Value::Null);
        Ok(UserInfo {
            user: PlatformUserInfo {
                id: format!("{username}-{NAME}"),
                name: username.to_owned(),
                timezone_name: Some(String::new()),
                timezone_offset: None,
                platform_additional_info: info,
                overriding_hostname: None,
                overriding_api_key: Some(Secret::new(user.user_key)),
            },
            return_message: Some(ReturnMessage::success("Connected to Redtail.", 3000)),
        })
    }

    async fn find_contact(
        &self,
        ctx: &RequestContext,
        request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError> {
        if request.is_extension {
            return Ok(ContactMatches::default());
        }
        let auth = ctx.auth_header.clone();
        let phone = restore_plus(&request.phone_number).trim().to_owned();
        let national = national_number(&phone).unwrap_or_else(|| phone.clone());
        let mut terms = vec![national.clone()];
        if let Some(formats) = &request.overriding_format {
            terms.extend(apply_overriding_formats(&national, formats).into_iter().filter(|it| *it != national));
        }
        let mut found: Vec<Contact> = Vec::new();
        for term in &terms {
            for contact in self.client.search_contacts(&auth, "phone_number", term).await? {
                // Several formats can find the same contact; show it once.
                if !found.iter().any(|it| it.id == contact.id) {
                    found.push(contact);
                }
            }
        }
        let contacts = self.search(&auth, found, Some(&phone)).await?;
        Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit: None })
    }

    async fn find_contact_with_name(&self, ctx: &RequestContext, name: &str) -> Result<ContactMatches, ConnectorError> {
        let auth = ctx.auth_header.clone();
        let found = self.client.search_contacts(&auth, "name", name.trim()).await?;
        let contacts = self.search(&auth, found, None).await?;
        Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit: None })
    }

    async fn create_contact(
        &self,
        ctx: &RequestContext,
        request: CreateContactRequest,
    ) -> Result<CreatedContact, ConnectorError> {
        let auth = ctx.auth_header.clone();
        let phone = restore_plus(&request.phone_number).trim().to_owned();
        let parts = parse_e164(&phone).ok_or_else(|| {
            ConnectorError::new(ErrorKind::Rejected, format!("`{phone}` is not an E.164 phone number"))
        })?;
        let tokens: Vec<&str> = request.new_contact_name.split_whitespace().collect();
        let (first_name, last_name) = match tokens.as_slice() {
            [] => return Err(ConnectorError::new(ErrorKind::Rejected, "the new contact has no name")),
            [only] => ("", *only),
            [first, second, ..] => (*first, *second),
        };
        let contact = NewContact {
            kind: "Crm::Contact::Individual",
            first_name,
            last_name,
            phones: [NewPhone { phone_type: 6, number: &parts.national_number, country_code: parts.country_code }],
        };
        let created = self.client.create_contact(&auth, &contact).await?;
        Ok(CreatedContact {
            contact: ContactInfo {
                id: created.id.0,
                name: join_names([&Some(first_name.to_owned()), &Some(last_name.to_owned())]),
                kind: Some("contact".to_owned()),
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
        let auth = ctx.auth_header.clone();
        let call = &request.call_log;
        let times = CallTimes::of(call.start_time.as_ref(), call.duration.as_ref())?;
        let subject = call.subject(&request.contact.name);
        let description = match custom_offset(&ctx.user.user_settings) {
            Some(offset) => with_date_time(&request.composed_log_details, times.start, offset),
            None => request.composed_log_details.clone(),
        };
        let category = category_id(request.additional_submission.get(CATEGORY_FIELD))?;
        let activity = NewActivity {
            subject: &subject,
            description: &description,
            start_date: iso(times.start),
            end_date: iso(times.end),
            activity_code_id: PHONE_CALL_ACTIVITY,
            category_id: Some(category.clone()),
            repeats: "never",
            linked_contacts: [LinkedContactRef { contact_id: numeric_or_text(&request.contact.id) }],
            attendees: assigned_attendees(ctx),
            location: record_marker(&request.record_key),
        };
        let created = self.client.create_activity(&auth, &activity).await?;
        let log_id = created.id.0;
        // From here on the activity exists: a failing note or completion is reported, never turned into an error
        // that would make the user log the call a second time.
        let note = request.note.as_deref().map(str::trim).filter(|it| !it.is_empty());
        let note_added = match note {
            Some(note) => {
                let note = NewNote { category_id: &category, note_type: 1, body: &escape_html(note) };
                self.client
                    .add_note(&auth, &log_id, &note)
                    .await
                    .inspect_err(|error| warn_after_create(&log_id, error))
                    .is_ok()
            }
            None => true,
        };
        let completed =
            complete(&self.client, &auth, &log_id).await.inspect_err(|error| warn_after_create(&log_id, error)).is_ok();
        let return_message =
            if note_added && completed { ReturnMessage::success("Call logged", 2000) } else { incomplete_log() };
        let settings_update = self.default_category_update(ctx, &auth).await;
        Ok(CallLogCreated { log_id, return_message: Some(return_message), settings_update })
    }

    async fn find_created_call_log(
        &self,
        ctx: &RequestContext,
        request: &CreateCallLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        let times = CallTimes::of(request.call_log.start_time.as_ref(), request.call_log.duration.as_ref())?;
        crate::reconcile::find_created(self, ctx, &request.record_key, times.start).await
    }

    async fn get_call_log(
        &self,
        ctx: &RequestContext,
        request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        let auth = ctx.auth_header.clone();
        let (activity, raw) = self.client.activity(&auth, &request.log_id).await?;
        let body = activity.description.unwrap_or_default();
        Ok(CallLogDetails {
            subject: activity.subject,
            note: Some(agent_note(&body, LogFormat::Html).unwrap_or_default()),
            full_body: Some(body),
            full_log_response: raw,
            contact_name: activity.linked_contacts.first().map(|it| it.display_name()),
            dispositions: Some(json!({ "category": activity.category_id })),
        })
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        let auth = ctx.auth_header.clone();
        let times =
            request.start_time.as_ref().and_then(|start| CallTimes::of(Some(start), request.duration.as_ref()).ok());
        let description = match (custom_offset(&ctx.user.user_settings), &times) {
            (Some(offset), Some(times)) => with_date_time(&request.composed_log_details, times.start, offset),
            _ => request.composed_log_details.clone(),
        };
        let update = ActivityUpdate {
            subject: request.subject.as_deref().map(str::trim).filter(|it| !it.is_empty()),
            description: Some(&description),
            start_date: times.as_ref().map(|it| iso(it.start)),
            end_date: times.as_ref().map(|it| iso(it.end)),
            attendees: assigned_attendees(ctx),
            ..ActivityUpdate::default()
        };
        self.client.put_activity(&auth, &request.log_id, &update).await?;
        Ok(CallLogUpdated {
            updated_note: request.note,
            return_message: Some(ReturnMessage::success("Call log updated.", 2000)),
        })
    }

    /// The category is the disposition. Without one there is nothing to write (the reference sends an empty PUT).
    async fn upsert_call_disposition(
        &self,
        ctx: &RequestContext,
        request: DispositionRequest,
    ) -> Result<DispositionResult, ConnectorError> {
        let Some(category) = request.dispositions.get(CATEGORY_FIELD).filter(|it| !is_blank(it)) else {
            return Ok(DispositionResult::default());
        };
        let auth = ctx.auth_header.clone();
        let update = ActivityUpdate { category_id: Some(category_id(Some(category))?), ..ActivityUpdate::default() };
        self.client.put_activity(&auth, &request.log_id, &update).await?;
        Ok(DispositionResult { log_id: Some(request.log_id), return_message: None })
    }

    async fn create_message_log(
        &self,
        ctx: &RequestContext,
        request: CreateMessageLogRequest,
    ) -> Result<MessageLogCreated, ConnectorError> {
        crate::message_log::create(self, ctx, request).await
    }

    async fn find_created_message_log(
        &self,
        ctx: &RequestContext,
        request: &CreateMessageLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        let start = crate::message_log::message_time(&request.message);
        crate::reconcile::find_created(self, ctx, &request.record_key, start).await
    }

    async fn update_message_log(
        &self,
        ctx: &RequestContext,
        request: UpdateMessageLogRequest,
    ) -> Result<MessageLogUpdated, ConnectorError> {
        crate::message_log::append(self, ctx, request).await
    }

    /// A user key cannot be revoked through the API; the host forgets it.
    async fn unauthorize(&self, _ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        Ok(Unauthorized { return_message: Some(ReturnMessage::success("Logged out of Redtail", 1000)) })
    }

    async fn user_list(&self, ctx: &RequestContext) -> Result<Vec<CrmUser>, ConnectorError> {
        let auth = ctx.auth_header.clone();
        let users = self.client.database_users(&auth).await?;
        Ok(users
            .into_iter()
            .map(|it| CrmUser { id: it.id.0, name: join_names([&it.first_name, &it.last_name]), email: None })
            .collect())
    }
}

/// The admin-assigned user as the activity's attendee (§0.5: Redtail's owner is its user attendee). `None` logs
/// the activity as the session's user.
pub(crate) fn assigned_attendees(ctx: &RequestContext) -> Option<[Attendee; 1]> {
    let user_id = ctx.assigned_user()?;
    Some([Attendee { kind: "Crm::Activity::Attendee::User", user_id: numeric_or_text(user_id) }])
}

/// Marks an activity completed, as every call and message log is.
pub(crate) async fn complete(client: &RedtailClient, auth: &Secret, activity_id: &str) -> Result<(), ConnectorError> {
    let update = ActivityUpdate { completed: Some(true), ..ActivityUpdate::default() };
    client.put_activity(auth, activity_id, &update).await.map(drop)
}

pub(crate) fn warn_after_create(activity_id: &str, error: &ConnectorError) {
    tracing::warn!(connector = NAME, activity_id, %error, "Redtail refused a step after creating the activity.");
}

/// What the user sees when the activity exists but its note or completion did not go through.
pub(crate) fn incomplete_log() -> ReturnMessage {
    ReturnMessage::warning("Logged, but Redtail did not take every detail", 5000)
        .with_details("Details", &["The activity exists in Redtail; please check its note and completion there."])
}

/// The `category` options of the log forms: the categories that are not deleted.
fn category_options(categories: &[Category]) -> Value {
    categories.iter().filter(|it| !it.deleted).map(|it| json!({ "const": it.id.0, "title": it.name })).collect()
}

/// A category id as Redtail takes it, a number: from the form's value (a number, or its text), or the default.
pub(crate) fn category_id(value: Option<&Value>) -> Result<Value, ConnectorError> {
    let parsed = match value {
        None => Some(DEFAULT_CATEGORY),
        Some(value) if is_blank(value) => Some(DEFAULT_CATEGORY),
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) => text.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    parsed.map(|it| json!(it)).ok_or_else(|| {
        let shown = value.map(Value::to_string).unwrap_or_default();
        ConnectorError::new(ErrorKind::Rejected, format!("`{shown}` is not a Redtail category id"))
    })
}

fn is_blank(value: &Value) -> bool {
    value.is_null() || value.as_str().is_some_and(|it| it.trim().is_empty())
}

/// A contact id as Redtail takes it: a number when it is one.
pub(crate) fn numeric_or_text(id: &str) -> Value {
    id.trim().parse::<u64>().map_or_else(|_| json!(id), |number| json!(number))
}

/// What the extension shows when login fails.
fn could_not_load_user() -> ReturnMessage {
    ReturnMessage::warning("Could not load user information", 3000)
        .with_details("Details", &["Please check your credentials."])
}
