//! `Pipedrive`: the `Connector` implementation, mapping App Connect's operations onto Pipedrive persons, deals,
//! leads and activities.

use std::sync::Arc;
use std::time::Duration;

use callbridge_core::PlatformManifest;
use callbridge_core::cache::AccountCache;
use callbridge_core::compose::message::{Layout, append_entry_once};
use callbridge_core::compose::{LogFormat, agent_note, user_offset};
use callbridge_core::connector::RecordKey;
use callbridge_core::manifest::{
    Environment, Field, FieldKind, ManifestAuth, OAuthManifest, Pages, ServerSideLogging, SettingItem, SettingKind,
};
use callbridge_core::oauth::{revoke_tokens, scopes};
use callbridge_core::phone::{national_number, restore_plus};
use callbridge_core::rest::RestClient;
use callbridge_core::values::{id_number, id_text, is_truthy, selected_id};
use callbridge_core::{
    AuthType, CallDuration, CallLogCreated, CallLogDetails, CallLogUpdated, Choice, Connector, ConnectorConfig,
    ConnectorError, ConnectorRoute, ContactInfo, ContactMatches, CreateCallLogRequest, CreateContactRequest,
    CreateMessageLogRequest, CreatedContact, CrmUser, DispositionRequest, DispositionResult, FindContactRequest,
    GetCallLogRequest, IdType, LogContact, MessageLogCreated, MessageLogUpdated, OAuthInfo, OAuthInfoRequest,
    Operation, PlatformUserInfo, RequestContext, ReturnMessage, Unauthorized, UpdateCallLogRequest,
    UpdateMessageLogRequest, UserInfo, UserInfoRequest, async_trait,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tracing::warn;

use crate::NAME;
use crate::activity_types::{ActivityKind, ActivityTypes, CALL, SMS, active_types};
use crate::api::{
    AccountUser, ActivityUpdate, Created, CurrentUser, DealOrLead, Due, FoundPerson, NewActivity, Participant, Person,
    Related, SearchResult,
};
use crate::client::{Api, GLOBAL_USER_URL, parse_error};
use crate::config::{AUTHORIZE_URL, PipedriveConfig, REVOKE_URL};

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
const USER_INFO_FAILED_DETAIL: &str = "Pipedrive was unable to fetch information for the currently logged in user. Please check your permissions in Pipedrive and make sure you have permission to access and read user information.";

/// Builds the connector; missing credentials are reported at login, not here.
pub(crate) fn build(config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(Pipedrive::new(&config)?))
}

/// The Pipedrive connector: one value serves every user; clones share the client and the cache.
#[derive(Clone, Debug)]
pub struct Pipedrive {
    pub(crate) config: PipedriveConfig,
    rest: RestClient,
    activity_types: ActivityTypes,
}

impl Pipedrive {
    pub(crate) fn new(config: &ConnectorConfig) -> Result<Self, ConnectorError> {
        Ok(Self {
            config: PipedriveConfig::from_connector_config(config)?,
            rest: RestClient::new(config.http.clone(), "https://api.pipedrive.com", parse_error),
            // Active activity types by company, trusted for a day; beyond 10,000 companies the least used go first.
            activity_types: AccountCache::new(Duration::from_secs(24 * 60 * 60), 10_000),
        })
    }

    fn api(&self, ctx: &RequestContext) -> Result<Api, ConnectorError> {
        Api::for_user(&self.rest, ctx)
    }

    /// The persons found, each with their open deals and leads as the options the extension offers.
    async fn contacts(
        &self,
        ctx: &RequestContext,
        term: &str,
        field: &str,
        phone: Option<&str>,
    ) -> Result<ContactMatches, ConnectorError> {
        let api = self.api(ctx)?;
        let mut rate_limit = None;
        let found: SearchResult =
            api.get("/api/v2/persons/search", &[("term", term), ("fields", field)]).await?.into_body(&mut rate_limit);
        let mut contacts = Vec::new();
        for FoundPerson { id, name, add_time, update_time, organization } in found.items.into_iter().map(|it| it.item) {
            let person_id = id_text(&id);
            let deals_query = [("person_id", person_id.as_str()), ("status", "open")];
            let deals: Vec<Related> = api.get("/api/v2/deals", &deals_query).await?.into_body(&mut rate_limit);
            // Leads are an add-on; an account without them (or a failing leads API) must not hide the contact.
            let leads = match api.get("/v1/leads", &[("person_id", &person_id)]).await {
                Ok(leads) => leads.into_body(&mut rate_limit),
                Err(error) => {
                    warn!(connector = NAME, %error, "Listing a person's leads failed; showing the contact without leads.");
                    Vec::new()
                }
            };
            let choices =
                |it: Vec<Related>| it.into_iter().map(|it| Choice::new(it.id, it.title.unwrap_or_default())).collect();
            let organization = organization.and_then(|it| it.name).unwrap_or_default();
            contacts.push(ContactInfo {
                id: person_id,
                name: name.unwrap_or_default(),
                phone: phone.map(str::to_owned),
                kind: Some("contact".to_owned()),
                created_date: add_time,
                most_recent_activity_date: update_time,
                additional_info: Some(Choice::by_field([("deals", choices(deals)), ("leads", choices(leads))])),
                extra: Map::from_iter([("organization".to_owned(), Value::String(organization))]),
                ..ContactInfo::default()
            });
        }
        Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit })
    }

    /// The activity type to log `kind` as, or the reference's error when the account has none. A cached list
    /// without the admin's choice (or, with none, without a fitting type) is fetched again once.
    async fn activity_type(
        &self,
        ctx: &RequestContext,
        api: &Api,
        kind: ActivityKind,
    ) -> Result<String, ConnectorError> {
        let choice = ctx.admin_settings.text(kind.setting_id).filter(|it| !it.is_empty());
        let load = || active_types(api);
        let usable = |types: &Arc<Vec<_>>| kind.pick(types, choice, true).is_some();
        let types = self.activity_types.get_or_reload_if(&company_key(ctx), load, usable).await?;
        kind.pick(&types, choice, false).ok_or_else(|| kind.missing())
    }

    /// Creates the activity of a call or an SMS log: `activity` says what the log says, and this adds the owner,
    /// the person and their organisation, the deal or lead, the activity type and the record key.
    async fn create_activity(
        &self,
        ctx: &RequestContext,
        api: &Api,
        kind: ActivityKind,
        logged: (&LogContact, &Map<String, Value>, &RecordKey),
        activity: NewActivity,
    ) -> Result<String, ConnectorError> {
        let (contact, submission, key) = logged;
        let person_id = id_number(&contact.id, "Pipedrive person")?;
        let owner_id = owner_number(ctx)?;
        let org_id =
            api.get::<Person>(&format!("/api/v2/persons/{person_id}"), &[]).await?.body.org_id.filter(is_truthy);
        let activity = NewActivity {
            owner_id,
            link: deal_or_lead(submission),
            org_id,
            done: true,
            participants: [Participant { person_id, primary: true }],
            kind: self.activity_type(ctx, api, kind).await?,
            public_description: crate::reconcile::marker(key),
            ..activity
        };
        Ok(id_text(&api.post::<Created>("/api/v2/activities", &activity).await?.body.id))
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
    fn id_type(&self) -> IdType {
        IdType::Number
    }

    fn manifest(&self) -> PlatformManifest {
        manifest(&self.config)
    }

    fn oauth_info(&self, _request: &OAuthInfoRequest) -> Result<OAuthInfo, ConnectorError> {
        let app = self.config.client_credentials()?;
        let (token_url, redirect_uri) = (&self.config.token_url, &self.config.redirect_uri);
        Ok(OAuthInfo {
            scopes: scopes(self.config.scope.as_deref()),
            ..OAuthInfo::new(app, token_url, redirect_uri, AUTHORIZE_URL)
        })
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        let failed = |error: ConnectorError| {
            error.with_return_message(ReturnMessage::user_info_failed(&[USER_INFO_FAILED_DETAIL]))
        };
        let api = Api(self.rest.clone().with_auth(&request.auth_header));
        let me = api.get::<CurrentUser>(GLOBAL_USER_URL, &[]).await.map_err(failed)?.body;
        let id = id_text(&me.id);
        if id.is_empty() {
            return Err(failed(ConnectorError::upstream("pipedrive returned a user without an id")));
        }
        let company = [
            ("companyId", me.company_id),
            ("companyName", me.company_name.map(Value::String)),
            ("companyDomain", me.company_domain.clone().map(Value::String)),
        ];
        let company: Map<String, Value> =
            company.into_iter().filter_map(|(key, it)| Some((key.to_owned(), it?))).collect();
        // A Marketplace install knows no company host yet; the client sends `temp` and we learn it here.
        let overriding_hostname = match (request.hostname.as_str(), me.company_domain) {
            ("temp", Some(domain)) if !domain.is_empty() => Some(format!("{domain}.pipedrive.com")),
            _ => None,
        };
        Ok(UserInfo {
            user: PlatformUserInfo {
                id: format!("{id}-{NAME}"),
                name: me.name.unwrap_or_default(),
                timezone_name: me.timezone_name,
                timezone_offset: me.timezone_offset,
                platform_additional_info: company,
                overriding_hostname,
                ..PlatformUserInfo::default()
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
            return Ok(ContactMatches::internal_extension());
        }
        let term = national_number(&phone).unwrap_or_else(|| phone.clone());
        let mut found = self.contacts(ctx, &term, "phone", Some(&phone)).await?;
        found.contacts.push(ContactInfo::create_new_placeholder());
        Ok(found)
    }

    async fn find_contact_with_name(&self, ctx: &RequestContext, name: &str) -> Result<ContactMatches, ConnectorError> {
        self.contacts(ctx, name, "name", None).await
    }

    async fn create_contact(
        &self,
        ctx: &RequestContext,
        request: CreateContactRequest,
    ) -> Result<CreatedContact, ConnectorError> {
        let phone = restore_plus(&request.phone_number);
        let body = json!({ "name": request.new_contact_name, "phone": phone });
        let created: Created = self.api(ctx)?.post("/v1/persons", &body).await?.body;
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
        let api = self.api(ctx)?;
        let call = &request.call_log;
        let activity = NewActivity {
            subject: call.subject(&request.contact.name),
            duration: Some(pipedrive_duration(call.duration.as_ref())),
            note: request.composed_log_details.clone(),
            due: due(call.start_time.as_ref().and_then(|it| it.to_utc())),
            ..NewActivity::default()
        };
        let logged = (&request.contact, &request.additional_submission, &request.record_key);
        let log_id = self.create_activity(ctx, &api, CALL, logged, activity).await?;
        Ok(CallLogCreated {
            log_id,
            return_message: Some(ReturnMessage::success("Call logged", 2000)),
            settings_update: None,
        })
    }

    async fn find_created_call_log(
        &self,
        ctx: &RequestContext,
        request: &CreateCallLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        crate::reconcile::find(&self.api(ctx)?, ctx, &request.contact, &request.record_key).await
    }

    async fn find_created_message_log(
        &self,
        ctx: &RequestContext,
        request: &CreateMessageLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        crate::reconcile::find(&self.api(ctx)?, ctx, &request.contact, &request.record_key).await
    }

    async fn get_call_log(
        &self,
        ctx: &RequestContext,
        request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        let mut activity = self.api(ctx)?.activity(&request.log_id).await?.body;
        let data = activity["data"].take();
        let full_body = data["note"].as_str().unwrap_or_default().to_owned();
        // `related_objects.person` is keyed by person id; the activity has one.
        let persons = activity["related_objects"]["person"].as_object();
        let contact_name = persons.and_then(|it| it.values().next()).and_then(|it| it["name"].as_str());
        Ok(CallLogDetails {
            subject: data["subject"].as_str().map(str::to_owned),
            note: Some(agent_note(&full_body, LogFormat::Html).unwrap_or_default()),
            full_body: Some(full_body),
            contact_name: Some(contact_name.unwrap_or("Unknown").to_owned()),
            dispositions: Some(json!({ "deals": data["deal_id"], "leads": data["lead_id"] })),
            full_log_response: data,
        })
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        let update = ActivityUpdate {
            note: &request.composed_log_details,
            subject: request.subject.as_deref().filter(|it| !it.is_empty()),
            // An admin's assignment moves the activity to that user, as App Connect does.
            owner_id: ctx.assigned_user().map(|_| owner_number(ctx)).transpose()?,
            // As in App Connect, a zero or empty duration leaves the stored one alone.
            duration: request.duration.as_ref().filter(|it| it.is_set()).map(|it| pipedrive_duration(Some(it))),
            link: DealOrLead::default(),
        };
        self.api(ctx)?.update_activity(&request.log_id, &update).await?;
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
        // A deal wins over a lead, and setting one clears the other: an activity belongs to at most one.
        let body = match deal_or_lead(&request.dispositions) {
            DealOrLead { deal_id: Some(deal), .. } => json!({ "deal_id": deal, "lead_id": null }),
            DealOrLead { lead_id: Some(lead), .. } => json!({ "lead_id": lead, "deal_id": null }),
            _ => return Ok(DispositionResult::default()),
        };
        self.api(ctx)?.update_activity(&request.log_id, &body).await?;
        Ok(DispositionResult { log_id: Some(request.log_id), return_message: None })
    }

    async fn create_message_log(
        &self,
        ctx: &RequestContext,
        request: CreateMessageLogRequest,
    ) -> Result<MessageLogCreated, ConnectorError> {
        let api = self.api(ctx)?;
        // The ids are checked before any request, as for a call.
        let _ = (id_number(&request.contact.id, "Pipedrive person")?, owner_number(ctx)?);
        let user_name = api.get::<CurrentUser>("/v1/users/me", &[]).await?.body.name.unwrap_or_default();
        let layout = layout(ctx, &user_name, &request.contact);
        let (subject, note, logged_at) = match request.shared_log() {
            Some(shared) => {
                let began = shared.created_at().unwrap_or_else(|| layout.sent_at(&request.message));
                (shared.subject.clone(), shared.body.clone(), began)
            }
            None => {
                let (subject, note) =
                    layout.compose(LogFormat::Html, &request.media, &request.correspondents, &request.message);
                (subject, note, layout.sent_at(&request.message))
            }
        };
        let activity = NewActivity { subject, note, due: due(Some(logged_at)), ..NewActivity::default() };
        let logged = (&request.contact, &request.additional_submission, &request.record_key);
        let log_id = self.create_activity(ctx, &api, SMS, logged, activity).await?;
        Ok(MessageLogCreated { log_id, return_message: Some(ReturnMessage::success("Message logged", 1000)) })
    }

    async fn update_message_log(
        &self,
        ctx: &RequestContext,
        request: UpdateMessageLogRequest,
    ) -> Result<MessageLogUpdated, ConnectorError> {
        let api = self.api(ctx)?;
        let note = match request.shared_body() {
            Some(body) => body.to_owned(),
            None => {
                let user_name = api.get::<CurrentUser>(GLOBAL_USER_URL, &[]).await?.body.name.unwrap_or_default();
                let existing = api.activity(&request.log_id).await?.body;
                let layout = layout(ctx, &user_name, &request.contact);
                let entry = layout.entry_in(LogFormat::Html, &request.message, &request.media);
                append_entry_once(existing["data"]["note"].as_str().unwrap_or_default(), &entry, request.maybe_applied)
            }
        };
        let link = deal_or_lead(&request.additional_submission);
        api.update_activity(&request.log_id, &ActivityUpdate { note: &note, link, ..ActivityUpdate::default() })
            .await?;
        Ok(MessageLogUpdated::default())
    }

    async fn unauthorize(&self, ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        revoke_tokens(&self.rest, REVOKE_URL, &self.config.client_credentials()?, &ctx.user).await?;
        Ok(Unauthorized { return_message: Some(ReturnMessage::success("Logged out of Pipedrive", 1000)) })
    }

    async fn user_list(&self, ctx: &RequestContext) -> Result<Vec<CrmUser>, ConnectorError> {
        let users = self.api(ctx)?.get::<Vec<AccountUser>>("/api/v1/users", &[]).await?.body;
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
        let (api, company) = (self.api(ctx)?, company_key(ctx));
        let types = self.activity_types.get_or_load_fresh(&company, force_refresh, active_types(&api)).await?;
        Ok(Some(json!(types.iter().map(|it| Choice::new(it.key_string.clone(), &it.name)).collect::<Vec<_>>())))
    }

    fn routes(&self) -> Vec<ConnectorRoute> {
        crate::redirect::routes(self)
    }
}

/// The platform entry of the manifest.
pub(crate) fn manifest(config: &PipedriveConfig) -> PlatformManifest {
    let fields = vec![
        Field::new("deals", "Deal", FieldKind::Selection).contact_dependent(),
        Field::new("leadWarning", "Lead warning", FieldKind::Warning)
            .description("Lead assignment will be overridden by Deal assignment if any"),
        Field::new("leads", "Lead", FieldKind::Selection).contact_dependent(),
    ];
    let activity_type_setting = |kind: ActivityKind, name: &str, what: &str| {
        let keyword = kind.keyword;
        let description = format!(
            "The activity type {what} are logged as. Without one, the first active type whose name contains \"{keyword}\" is used."
        );
        SettingItem::new(kind.setting_id, SettingKind::Option, name)
            .description(&description)
            .account_data(ACTIVITY_TYPES_KEY)
    };
    let oauth =
        OAuthManifest::new(AUTHORIZE_URL, config.client_id.as_deref(), config.scope.as_deref(), &config.redirect_uri);
    PlatformManifest {
        url_identifier: Some("*.pipedrive.com".to_owned()),
        environment: Some(Environment::dynamic(
            "*.pipedrive.com",
            &["Login to your Pipedrive account", "Copy the whole url and paste it here"],
        )),
        embed_urls: vec!["https://*.pipedrive.com/*".to_owned()],
        contact_page_url: Some("https://{hostname}/person/{contactId}".to_owned()),
        log_page_url: Some("https://{hostname}/activities/{logId}".to_owned()),
        server_side_logging: Some(ServerSideLogging { enable_user_mapping: true, ..ServerSideLogging::default() }),
        admin_settings: vec![
            activity_type_setting(CALL, "Call activity type", "calls"),
            activity_type_setting(SMS, "SMS activity type", "messages"),
        ],
        page: Pages { use_contact_search: true, ..Pages::logs(fields) },
        ..PlatformManifest::new(NAME, "Pipedrive", ManifestAuth::OAuth { oauth })
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

/// The chosen deal, or the chosen lead when no deal was chosen.
fn deal_or_lead(submission: &Map<String, Value>) -> DealOrLead {
    match (submission.get("deals").and_then(selected_id), submission.get("leads").and_then(selected_id)) {
        (Some(deal), _) => DealOrLead { deal_id: Some(deal), lead_id: None },
        (None, lead) => DealOrLead { deal_id: None, lead_id: lead },
    }
}

fn due(at: Option<DateTime<Utc>>) -> Due {
    Due {
        due_date: at.map(|it| it.format("%Y-%m-%d").to_string()),
        due_time: at.map(|it| it.format("%H:%M").to_string()),
    }
}

/// The SMS layout for the logging user.
fn layout<'a>(ctx: &RequestContext, user_name: &'a str, contact: &'a LogContact) -> Layout<'a> {
    Layout { user_name, contact, offset: user_offset(ctx.user.timezone_offset.as_ref()), now: Utc::now() }
}

/// The activity's owner: the CRM user an admin assigned the log to, else the logging user (`<id>-pipedrive`).
pub(crate) fn owner_number(ctx: &RequestContext) -> Result<u64, ConnectorError> {
    id_number(ctx.owner_crm_user_id(), "Pipedrive user")
}

/// What the activity-type cache is keyed by: the Pipedrive company, else the host.
fn company_key(ctx: &RequestContext) -> String {
    let company = ctx.user.platform_additional_info.get("companyId").filter(|it| !it.is_null());
    company.map_or_else(|| ctx.user.hostname.clone(), id_text)
}
