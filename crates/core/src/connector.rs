//! The `Connector` trait every CRM implements, with the typed request and result of each operation.
//!
//! The host does everything that is the same for every CRM (users, tokens, the store, exactly-once claims,
//! composing the log body) and calls a connector only for what differs: talking to the CRM.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::compose::LogFormat;
use crate::error::ConnectorError;
use crate::http::{HttpClient, RateLimit};
use crate::manifest::PlatformManifest;
use crate::schema::{
    AdditionalSubmission, CallDuration, CallLeg, CallRecord, ContactInfo, ReturnMessage, StartTime, User,
};
use crate::secret::Secret;

/// How users authenticate to the CRM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthType {
    #[serde(rename = "oauth")]
    OAuth,
    #[serde(rename = "apiKey")]
    ApiKey,
}

impl AuthType {
    /// The wire name: `oauth` or `apiKey`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::OAuth => "oauth",
            AuthType::ApiKey => "apiKey",
        }
    }
}

/// How the CRM types its record ids in JSON. App Connect passes a CRM's ids to the extension as the CRM wrote
/// them, and the extension stores and compares them as they came (`contactId`, `logId`): a server that answers
/// `"101"` where App Connect answered `101` makes the extension's stored ids unequal to the new ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdType {
    /// Ids are strings (or the connector makes its own).
    #[default]
    Text,
    /// Ids are JSON numbers: the host answers an all-digit contact or log id as a number.
    Number,
}

/// The operations a connector may implement; App Connect calls them "interfaces".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    GetOauthInfo,
    GetBasicAuth,
    GetUserInfo,
    FindContact,
    FindContactWithName,
    CreateContact,
    CreateCallLog,
    GetCallLog,
    UpdateCallLog,
    UpsertCallDisposition,
    CreateMessageLog,
    UpdateMessageLog,
    Unauthorize,
    GetUserList,
    /// The connector refreshes OAuth tokens itself instead of the host's standard refresh-token grant.
    RefreshToken,
    /// The connector can find the record an earlier create wrote for a [`RecordKey`] (reconciliation after an
    /// ambiguous outcome); see [`Connector::find_created_call_log`]. Not an App Connect interface.
    FindCreatedRecord,
}

impl Operation {
    pub const ALL: [Operation; 16] = [
        Operation::GetOauthInfo,
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
        Operation::RefreshToken,
        Operation::FindCreatedRecord,
    ];

    /// App Connect's interface name, as `/implementedInterfaces` reports it.
    pub fn interface_name(self) -> &'static str {
        match self {
            Operation::GetOauthInfo => "getOauthInfo",
            Operation::GetBasicAuth => "getBasicAuth",
            Operation::GetUserInfo => "getUserInfo",
            Operation::FindContact => "findContact",
            Operation::FindContactWithName => "findContactWithName",
            Operation::CreateContact => "createContact",
            Operation::CreateCallLog => "createCallLog",
            Operation::GetCallLog => "getCallLog",
            Operation::UpdateCallLog => "updateCallLog",
            Operation::UpsertCallDisposition => "upsertCallDisposition",
            Operation::CreateMessageLog => "createMessageLog",
            Operation::UpdateMessageLog => "updateMessageLog",
            Operation::Unauthorize => "unAuthorize",
            Operation::GetUserList => "getUserList",
            Operation::RefreshToken => "checkAndRefreshAccessToken",
            Operation::FindCreatedRecord => "findCreatedRecord",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface_name())
    }
}

/// What a connector's build function receives: its settings and its HTTP client.
#[derive(Clone, Debug)]
pub struct ConnectorConfig {
    /// Settings by lower-case key (`client_id`, `client_secret`, `redirect_uri`, ...). The host fills them
    /// from `CALLBRIDGE_<NAME>_<KEY>` and App Connect's `<NAME>_<KEY>` environment variables.
    pub values: BTreeMap<String, Secret>,
    /// The HTTP client to use for every request to the CRM, base-URL override already applied.
    pub http: HttpClient,
    /// The server's public URL (`CALLBRIDGE_PUBLIC_URL`), for redirect URIs and links.
    pub public_url: Option<String>,
}

impl ConnectorConfig {
    pub fn new(http: HttpClient) -> Self {
        Self { values: BTreeMap::new(), http, public_url: None }
    }

    pub fn with_value(mut self, key: &str, value: impl Into<Secret>) -> Self {
        self.values.insert(key.to_owned(), value.into());
        self
    }

    /// A setting, or `None` when it is missing or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(Secret::expose).filter(|it| !it.is_empty())
    }

    /// The settings as the connector's serde struct `T` (see [`crate::settings`]): unknown keys are logged, and a
    /// bad value is a configuration error naming its variable, which stops the server at start-up.
    pub fn settings<T: serde::de::DeserializeOwned>(&self, connector: &str) -> Result<T, ConnectorError> {
        crate::settings::read(connector, &self.values)
    }

    /// A setting that must be there; the error names the environment variable that sets it.
    pub fn require(&self, connector: &str, key: &str) -> Result<&str, ConnectorError> {
        self.get(key).ok_or_else(|| crate::settings::missing(connector, key))
    }
}

/// What every CRM-touching call gets: the user, the prepared `Authorization` value and account context.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub user: User,
    /// What [`Connector::authorization`] made for the user: `Bearer <token>` for OAuth connectors and
    /// `Basic <credential>` for API-key ones unless the connector has its own scheme.
    pub auth_header: Secret,
    /// The RingCentral account id, hashed (`rc-account-id`).
    pub hashed_account_id: Option<String>,
    /// The account's admin settings (`settingId -> {value}`), e.g. an admin-chosen activity type.
    pub admin_settings: crate::schema::UserSettings,
    /// True when server-side call logging (user agent `SSCL`) sent the request.
    pub is_from_sscl: bool,
    /// The CRM user the log belongs to when an admin assigned it to someone else (`isAssignedToUser`, resolved by
    /// the host through the assigned user's own login or the account's user mappings). `None`: the session's user.
    /// Connectors that support assignment set the record's owner from it.
    pub assigned_crm_user_id: Option<String>,
}

impl RequestContext {
    /// The CRM user an admin assigned the log to (trimmed; `None` when there is no assignment).
    pub fn assigned_user(&self) -> Option<&str> {
        self.assigned_crm_user_id.as_deref().map(str::trim).filter(|it| !it.is_empty())
    }

    /// Whose record a new log is: the assigned CRM user, else the session's own ([`User::crm_user_id`]).
    pub fn owner_crm_user_id(&self) -> &str {
        self.assigned_user().unwrap_or_else(|| self.user.crm_user_id())
    }
}

/// Input to [`Connector::oauth_info`].
#[derive(Clone, Debug, Default)]
pub struct OAuthInfoRequest {
    pub hostname: Option<String>,
    /// The token URL the extension sent (some CRMs have one per region).
    pub token_url: Option<String>,
}

/// How the host runs the OAuth code exchange and refresh for a connector.
#[derive(Clone, Debug)]
pub struct OAuthInfo {
    pub client_id: String,
    pub client_secret: Secret,
    /// The token endpoint (`accessTokenUri`).
    pub token_url: String,
    pub redirect_uri: String,
    pub authorization_url: Option<String>,
    pub scopes: Vec<String>,
    /// Replaces the hostname the user connected with.
    pub hostname: Option<String>,
}

impl OAuthInfo {
    /// The usual case: the app's credentials, its token and redirect URLs, its authorize page; no scopes.
    pub fn new(
        app: crate::oauth::ClientCredentials,
        token_url: &str,
        redirect_uri: &str,
        authorization_url: &str,
    ) -> Self {
        Self {
            client_id: app.client_id,
            client_secret: app.client_secret,
            token_url: token_url.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            authorization_url: Some(authorization_url.to_owned()),
            scopes: Vec::new(),
            hostname: None,
        }
    }
}

/// Input to [`Connector::user_info`] at login.
#[derive(Clone, Debug, Default)]
pub struct UserInfoRequest {
    pub auth_header: Secret,
    pub hostname: String,
    /// The API key, for API-key connectors.
    pub api_key: Option<Secret>,
    /// The auth page's form fields (API-key login) or the OAuth callback's query parameters.
    pub additional_info: Map<String, Value>,
    /// The raw token response of the OAuth code exchange.
    pub token_response: Option<Value>,
}

/// The CRM user behind a login.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformUserInfo {
    /// Becomes `users.id` and the JWT `id`; by convention `<crm user id>-<platform>`.
    pub id: String,
    pub name: String,
    pub timezone_name: Option<String>,
    pub timezone_offset: Option<String>,
    pub platform_additional_info: Map<String, Value>,
    pub overriding_hostname: Option<String>,
    pub overriding_api_key: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct UserInfo {
    pub user: PlatformUserInfo,
    pub return_message: Option<ReturnMessage>,
}

/// Input to [`Connector::find_contact`].
#[derive(Clone, Debug, Default)]
pub struct FindContactRequest {
    /// E.164, with a leading `+` already restored.
    pub phone_number: String,
    /// Comma-separated user formats such as `(***) ***-****`.
    pub overriding_format: Option<String>,
    pub is_extension: bool,
    pub force_refresh_account_data: bool,
}

impl FindContactRequest {
    /// The caller's number (its `+` restored, trimmed) and what to search a CRM for: that number, then each of the
    /// user's overriding formats of its national number (`(650) 555-0100`), every query once.
    pub fn phone_queries(&self) -> (String, Vec<String>) {
        let phone = crate::phone::restore_plus(&self.phone_number).trim().to_owned();
        let mut queries = vec![phone.clone()];
        if let (Some(national), Some(formats)) = (crate::phone::national_number(&phone), &self.overriding_format) {
            let formatted = crate::phone::apply_overriding_formats(&national, formats);
            queries.extend(formatted.into_iter().filter(|it| *it != phone));
        }
        (phone, queries)
    }
}

/// Contacts found by phone or by name.
#[derive(Clone, Debug, Default)]
pub struct ContactMatches {
    /// False when the lookup itself was refused (an internal extension number, ...); no match is still `true`.
    pub successful: bool,
    pub contacts: Vec<ContactInfo>,
    pub return_message: Option<ReturnMessage>,
    pub rate_limit: Option<RateLimit>,
}

impl ContactMatches {
    /// The answer to a lookup of a number without a `+` (an internal extension): not a CRM contact.
    pub fn internal_extension() -> Self {
        Self {
            successful: false,
            return_message: Some(ReturnMessage::warning(
                "Logging against internal extension number is not supported.",
                3000,
            )),
            ..Self::default()
        }
    }
}

/// Input to [`Connector::create_contact`].
#[derive(Clone, Debug, Default)]
pub struct CreateContactRequest {
    pub phone_number: String,
    pub new_contact_name: String,
    pub new_contact_type: Option<String>,
    pub additional_submission: AdditionalSubmission,
}

#[derive(Clone, Debug)]
pub struct CreatedContact {
    pub contact: ContactInfo,
    pub return_message: Option<ReturnMessage>,
}

/// The contact a log is written against.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogContact {
    pub id: String,
    /// The other party's number (not the RingCentral user's).
    pub phone_number: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
}

/// RingSense (ACE) artefacts of a call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RingSense {
    pub transcript: Option<String>,
    pub summary: Option<String>,
    /// A number or a string, shown as the extension sent it.
    pub ai_score: Option<Value>,
    pub bulleted_summary: Option<String>,
    pub link: Option<String>,
}

/// A stable identity for one record the host asks a connector to create: the same on every attempt to create it
/// (retries, a worker finishing the job after a crash), different for every other record.
///
/// A connector that lists [`Operation::FindCreatedRecord`] stores it with the record (a marker in a field the CRM
/// lets it search, or the CRM's own external-id or idempotency feature), so that the `find_created_*` operations
/// can tell, after an outcome that may or may not have reached the CRM, whether the record exists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordKey(pub String);

impl RecordKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Input to [`Connector::create_call_log`].
#[derive(Clone, Debug, Default)]
pub struct CreateCallLogRequest {
    /// What identifies this record on every attempt; see [`RecordKey`].
    pub record_key: RecordKey,
    pub contact: LogContact,
    pub call_log: CallRecord,
    pub note: Option<String>,
    pub additional_submission: AdditionalSubmission,
    pub ai_note: Option<String>,
    pub transcript: Option<String>,
    pub voicemail_link: Option<String>,
    pub voicemail_message_id: Option<String>,
    pub ring_sense: RingSense,
    /// The log body the host composed in the connector's [`LogFormat`]; empty for custom formats.
    pub composed_log_details: String,
}

#[derive(Clone, Debug)]
pub struct CallLogCreated {
    /// The CRM record's id.
    pub log_id: String,
    pub return_message: Option<ReturnMessage>,
    /// Settings the host merges into the user's stored settings after the record is made, e.g. the options of a
    /// setting the CRM fills at run time (Redtail's categories for `defaultCategory`). `None`: nothing to store.
    pub settings_update: Option<crate::schema::UserSettings>,
}

/// Input to [`Connector::get_call_log`].
#[derive(Clone, Debug, Default)]
pub struct GetCallLogRequest {
    /// The CRM record's id.
    pub log_id: String,
    pub session_id: String,
    pub telephony_session_id: Option<String>,
    pub contact_id: Option<String>,
}

/// A call log as the CRM holds it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLogDetails {
    pub subject: Option<String>,
    /// The agent note parsed back out of the body.
    pub note: Option<String>,
    /// The whole body: the base the host recomposes from on update.
    pub full_body: Option<String>,
    /// The CRM's whole record, handed back to `update_call_log` so it need not fetch again.
    pub full_log_response: Value,
    pub contact_name: Option<String>,
    pub dispositions: Option<Value>,
}

/// Input to [`Connector::update_call_log`].
#[derive(Clone, Debug, Default)]
pub struct UpdateCallLogRequest {
    /// The CRM record's id.
    pub log_id: String,
    pub session_id: String,
    pub contact_id: Option<String>,
    pub recording_link: Option<String>,
    /// May embed a RingCentral token: treat as a secret.
    pub recording_download_link: Option<Secret>,
    pub voicemail_link: Option<String>,
    pub voicemail_message_id: Option<String>,
    pub subject: Option<String>,
    pub note: Option<String>,
    pub start_time: Option<StartTime>,
    pub duration: Option<CallDuration>,
    pub result: Option<String>,
    pub ai_note: Option<String>,
    pub transcript: Option<String>,
    pub legs: Vec<CallLeg>,
    pub ring_sense: RingSense,
    pub additional_submission: AdditionalSubmission,
    pub composed_log_details: String,
    /// What `get_call_log` returned as `full_log_response`.
    pub existing_log_details: Option<Value>,
}

#[derive(Clone, Debug, Default)]
pub struct CallLogUpdated {
    pub updated_note: Option<String>,
    pub return_message: Option<ReturnMessage>,
}

/// Input to [`Connector::upsert_call_disposition`].
#[derive(Clone, Debug, Default)]
pub struct DispositionRequest {
    pub log_id: String,
    pub dispositions: Map<String, Value>,
}

#[derive(Clone, Debug, Default)]
pub struct DispositionResult {
    /// `None` when there was nothing to do.
    pub log_id: Option<String>,
    pub return_message: Option<ReturnMessage>,
}

/// A RingCentral message (SMS, voicemail, fax) as the extension sends it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(default, deserialize_with = "crate::schema::lenient_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub creation_time: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub from: Option<Value>,
    #[serde(default)]
    pub to: Option<Value>,
    #[serde(default)]
    pub message_status: Option<String>,
    #[serde(default)]
    pub fax_page_count: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A shared-SMS conversation's prepared subject and body, which replace the per-message template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedSmsContent {
    pub subject: String,
    pub body: String,
    pub conversation_created_date: Option<String>,
}

impl SharedSmsContent {
    /// When the shared conversation began, if the client said so in RFC 3339.
    pub fn created_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        crate::compose::message::parse_time(self.conversation_created_date.as_deref())
    }
}

impl CreateMessageLogRequest {
    /// A shared conversation's prepared log, when the client sent one with both a subject and a body: it is logged
    /// as it is instead of a composed one.
    pub fn shared_log(&self) -> Option<&SharedSmsContent> {
        self.shared_sms_log_content.as_ref().filter(|it| !it.body.is_empty() && !it.subject.is_empty())
    }
}

impl UpdateMessageLogRequest {
    /// A shared conversation's prepared body, which replaces the log's body instead of an appended entry.
    pub fn shared_body(&self) -> Option<&str> {
        self.shared_sms_log_content.as_ref().map(|it| it.body.as_str()).filter(|it| !it.is_empty())
    }
}

/// Links that come with a message (voicemail, fax, MMS), as `compose::message_media::media_of` derives them.
#[derive(Clone, Debug, Default)]
pub struct MessageMedia {
    pub recording_link: Option<String>,
    pub fax_doc_link: Option<String>,
    pub fax_download_link: Option<String>,
    pub image_link: Option<String>,
    pub image_download_link: Option<String>,
    pub image_content_type: Option<String>,
    pub video_link: Option<String>,
    /// A voicemail's transcript, when the extension sent one.
    pub transcript: Option<String>,
}

/// Input to [`Connector::create_message_log`].
#[derive(Clone, Debug, Default)]
pub struct CreateMessageLogRequest {
    /// What identifies this record on every attempt; see [`RecordKey`].
    pub record_key: RecordKey,
    pub contact: LogContact,
    pub correspondents: Vec<Value>,
    pub assignee_name: Option<String>,
    pub owner_name: Option<String>,
    pub shared_sms_log_content: Option<SharedSmsContent>,
    pub message: Message,
    pub additional_submission: AdditionalSubmission,
    pub media: MessageMedia,
}

#[derive(Clone, Debug)]
pub struct MessageLogCreated {
    pub log_id: String,
    pub return_message: Option<ReturnMessage>,
}

/// Input to [`Connector::update_message_log`]: append `message` to an existing conversation log.
#[derive(Clone, Debug, Default)]
pub struct UpdateMessageLogRequest {
    pub contact: LogContact,
    /// The CRM record's id.
    pub log_id: String,
    pub assignee_name: Option<String>,
    pub owner_name: Option<String>,
    pub shared_sms_log_content: Option<SharedSmsContent>,
    pub message: Message,
    pub additional_submission: AdditionalSubmission,
    pub media: MessageMedia,
    /// An earlier attempt at this append may have reached the CRM (a timeout, a reset, a 5xx, a crash): the
    /// connector appends only if the record does not hold this message's entry yet, so a retry never adds it twice.
    pub maybe_applied: bool,
}

#[derive(Clone, Debug, Default)]
pub struct MessageLogUpdated {
    pub return_message: Option<ReturnMessage>,
}

#[derive(Clone, Debug, Default)]
pub struct Unauthorized {
    pub return_message: Option<ReturnMessage>,
}

/// A CRM user, for admin user mapping.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CrmUser {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

/// Tokens from a refresh done by the connector itself ([`Operation::RefreshToken`]).
#[derive(Clone, Debug)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A CRM integration. One value per connector lives for the whole process and serves every user.
///
/// Optional operations default to [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported); a connector lists
/// what it implements in [`Connector::operations`], which is what the host trusts (`/implementedInterfaces`).
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The registry name (`pipedrive`); equal to the descriptor's and the crate folder's.
    fn name(&self) -> &'static str;

    fn auth_type(&self) -> AuthType;

    /// The body format the host composes call logs in; `None` means the connector writes its own body.
    fn log_format(&self) -> Option<LogFormat> {
        Some(LogFormat::PlainText)
    }

    /// The operations this connector implements (sorted, without duplicates).
    fn operations(&self) -> &'static [Operation];

    /// How the CRM's contact and log ids are typed in App Connect's answers.
    fn id_type(&self) -> IdType {
        IdType::Text
    }

    /// This connector's platform entry in the manifest served at `/crmManifest`.
    fn manifest(&self) -> PlatformManifest;

    fn oauth_info(&self, _request: &OAuthInfoRequest) -> Result<OAuthInfo, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::GetOauthInfo))
    }

    /// The credential for `Authorization: Basic ...`, without the `Basic ` prefix.
    fn basic_auth(&self, _api_key: &Secret) -> Result<Secret, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::GetBasicAuth))
    }

    /// The credential the user's CRM requests carry, handed to every operation as [`RequestContext::auth_header`];
    /// the host asks for it after refreshing OAuth tokens. The default is `Bearer <access token>` for OAuth and
    /// `Basic <basic_auth(api key)>` for API keys. Override it for another scheme (Redtail's `Userkeyauth`), or to
    /// trade the credential for a session (Bullhorn's `BhRestToken`) kept in [`crate::auth::Sessions`], whose
    /// `retry_after_relogin` logs in again and retries once when the CRM ends the session with a 401.
    async fn authorization(&self, user: &User) -> Result<Secret, ConnectorError> {
        match self.auth_type() {
            AuthType::OAuth => Ok(crate::auth::bearer(&user.access_token)),
            AuthType::ApiKey => Ok(crate::auth::basic(&self.basic_auth(&user.access_token)?)),
        }
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError>;

    async fn find_contact(
        &self,
        ctx: &RequestContext,
        request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError>;

    async fn find_contact_with_name(
        &self,
        _ctx: &RequestContext,
        _name: &str,
    ) -> Result<ContactMatches, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::FindContactWithName))
    }

    async fn create_contact(
        &self,
        _ctx: &RequestContext,
        _request: CreateContactRequest,
    ) -> Result<CreatedContact, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::CreateContact))
    }

    async fn create_call_log(
        &self,
        ctx: &RequestContext,
        request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError>;

    /// The id of the record an earlier `create_call_log` with the same [`RecordKey`] wrote, or `None` when the CRM
    /// has no such record. The host calls it before creating again after an outcome that may have reached the CRM
    /// (a timeout, a reset connection, a 5xx to the create, a crash mid-request), so a retry never makes a second
    /// record. Only called when [`Operation::FindCreatedRecord`] is listed.
    async fn find_created_call_log(
        &self,
        _ctx: &RequestContext,
        _request: &CreateCallLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::FindCreatedRecord))
    }

    async fn get_call_log(
        &self,
        _ctx: &RequestContext,
        _request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::GetCallLog))
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError>;

    async fn upsert_call_disposition(
        &self,
        _ctx: &RequestContext,
        _request: DispositionRequest,
    ) -> Result<DispositionResult, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::UpsertCallDisposition))
    }

    async fn create_message_log(
        &self,
        _ctx: &RequestContext,
        _request: CreateMessageLogRequest,
    ) -> Result<MessageLogCreated, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::CreateMessageLog))
    }

    /// As [`Connector::find_created_call_log`], for a message log (a conversation's record).
    async fn find_created_message_log(
        &self,
        _ctx: &RequestContext,
        _request: &CreateMessageLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::FindCreatedRecord))
    }

    async fn update_message_log(
        &self,
        _ctx: &RequestContext,
        _request: UpdateMessageLogRequest,
    ) -> Result<MessageLogUpdated, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::UpdateMessageLog))
    }

    /// Revokes the user's CRM credentials where the CRM supports it; the host then blanks the stored tokens.
    async fn unauthorize(&self, ctx: &RequestContext) -> Result<Unauthorized, ConnectorError>;

    async fn user_list(&self, _ctx: &RequestContext) -> Result<Vec<CrmUser>, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::GetUserList))
    }

    /// Account-wide data a setting's options come from (`GET /accountData?keys=`, the manifest's
    /// `accountDataKey`), e.g. Pipedrive's `activityTypes` as `[{const, title}]`. `None`: no data under `key`.
    /// `force_refresh` asks for the CRM's current data rather than a cached copy.
    async fn account_data(
        &self,
        _ctx: &RequestContext,
        _key: &str,
        _force_refresh: bool,
    ) -> Result<Option<Value>, ConnectorError> {
        Ok(None)
    }

    /// Refreshes the user's tokens the CRM's own way. Only called when [`Operation::RefreshToken`] is listed;
    /// otherwise the host runs the standard refresh-token grant against [`OAuthInfo::token_url`].
    async fn refresh_token(&self, _user: &User, _oauth: &OAuthInfo) -> Result<TokenSet, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::RefreshToken))
    }

    /// Extra HTTP routes this connector serves (a CRM's install landing page, its uninstall callback).
    fn routes(&self) -> Vec<ConnectorRoute> {
        Vec::new()
    }
}

/// An HTTP route a connector contributes; the host mounts it without knowing what it is for.
#[derive(Clone)]
pub struct ConnectorRoute {
    pub method: Method,
    /// An absolute path without parameters, e.g. `/pipedrive-redirect`.
    pub path: &'static str,
    pub handler: Arc<dyn RouteHandler>,
}

impl fmt::Debug for ConnectorRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorRoute").field("method", &self.method).field("path", &self.path).finish()
    }
}

/// A request to a [`ConnectorRoute`].
#[derive(Clone, Debug)]
pub struct RouteRequest {
    pub headers: HeaderMap,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub body: Bytes,
}

impl RouteRequest {
    /// The first non-empty value of the query parameter `name`, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = url::form_urlencoded::parse(self.query.as_deref().unwrap_or_default().as_bytes());
        query.filter(|(key, value)| key == name && !value.is_empty()).map(|(_, value)| value.into_owned()).next()
    }
}

impl ConnectorRoute {
    /// `GET path` answered from the request alone (a landing page), without the host's services.
    pub fn get(path: &'static str, answer: fn(&RouteRequest) -> RouteResponse) -> Self {
        Self { method: Method::GET, path, handler: Arc::new(PlainRoute(answer)) }
    }
}

struct PlainRoute(fn(&RouteRequest) -> RouteResponse);

#[async_trait]
impl RouteHandler for PlainRoute {
    async fn handle(&self, _host: &dyn HostServices, request: RouteRequest) -> RouteResponse {
        (self.0)(&request)
    }
}

/// The answer of a [`ConnectorRoute`].
#[derive(Clone, Debug)]
pub struct RouteResponse {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Bytes,
}

impl RouteResponse {
    pub fn text(status: StatusCode, body: impl Into<String>) -> Self {
        Self { status, content_type: "text/plain; charset=utf-8", body: Bytes::from(body.into()) }
    }

    pub fn html(status: StatusCode, body: impl Into<String>) -> Self {
        Self { status, content_type: "text/html; charset=utf-8", body: Bytes::from(body.into()) }
    }

    /// A small self-contained HTML page (a connector's landing page): `title` as text, `body` as HTML.
    pub fn page(title: &str, body: &str) -> Self {
        let title = crate::compose::escape_html(title);
        Self::html(
            StatusCode::OK,
            format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                 <title>{title}</title>\
                 <style>body{{font-family:sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}</style>\
                 </head><body>{body}</body></html>"
            ),
        )
    }
}

/// What the host lets a connector route do with its data.
#[async_trait]
pub trait HostServices: Send + Sync {
    /// The user with this id on this connector's platform, if any.
    async fn find_user(&self, user_id: &str) -> Result<Option<User>, ConnectorError>;

    /// A request context for the user, with tokens refreshed as for any other request.
    async fn context_for(&self, user: User) -> Result<RequestContext, ConnectorError>;

    /// Deletes the user and what the store keeps for them; returns whether a user was deleted.
    async fn delete_user(&self, user_id: &str) -> Result<bool, ConnectorError>;
}

#[async_trait]
pub trait RouteHandler: Send + Sync {
    async fn handle(&self, host: &dyn HostServices, request: RouteRequest) -> RouteResponse;
}
