//! `Sandbox`: the `Connector` implementation over the in-memory CRM.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use callbridge_core::PlatformManifest;
use callbridge_core::compose::message::{Layout, append_entry_in};
use callbridge_core::compose::user_offset;
use callbridge_core::manifest::{ContactType, Environment, LogPage, ManifestAuth, Pages};
use callbridge_core::{
    AuthType, CallLogCreated, CallLogDetails, CallLogUpdated, Connector, ConnectorConfig, ConnectorError, ContactInfo,
    ContactMatches, CreateCallLogRequest, CreateContactRequest, CreateMessageLogRequest, CreatedContact, CrmUser,
    DispositionRequest, DispositionResult, ErrorKind, FindContactRequest, GetCallLogRequest, LogContact, LogFormat,
    MessageLogCreated, MessageLogUpdated, Operation, PlatformUserInfo, RequestContext, ReturnMessage, Secret,
    Unauthorized, UpdateCallLogRequest, UpdateMessageLogRequest, UserInfo, UserInfoRequest,
};
use chrono::Utc;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::NAME;
use crate::crm::{Account, Activity, note_of};

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

/// The sandbox CRM: accounts by user id, created on first login.
#[derive(Debug, Default)]
pub struct Sandbox {
    accounts: Mutex<HashMap<String, Account>>,
    users: Mutex<HashMap<String, String>>,
}

/// The sandbox takes no settings; reading the empty set still warns about any `CALLBRIDGE_SANDBOX_*` variable.
#[derive(serde::Deserialize)]
struct NoSettings {}

pub(crate) fn build(config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    let NoSettings {} = config.settings(crate::NAME)?;
    Ok(Arc::new(Sandbox::default()))
}

/// The user id for an API key: a hash, so the key itself never shows up in ids, JWTs or logs.
fn user_id_for(api_key: &str) -> String {
    let digest = hex::encode(Sha256::digest(api_key.as_bytes()));
    format!("{}-{NAME}", &digest[..16])
}

impl Sandbox {
    fn accounts(&self) -> MutexGuard<'_, HashMap<String, Account>> {
        // A panic while holding the lock cannot leave an account half-changed in a way that matters for a sandbox.
        self.accounts.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the caller's account, creating it (seeded) on first use.
    fn with_account<T>(&self, ctx: &RequestContext, f: impl FnOnce(&mut Account) -> T) -> T {
        let mut accounts = self.accounts();
        f(accounts.entry(ctx.user.id.clone()).or_insert_with(Account::seeded))
    }
}

fn not_found(what: &str, id: &str) -> ConnectorError {
    ConnectorError::new(ErrorKind::NotFound, format!("{what} {id} does not exist")).with_status(404)
}

#[async_trait]
impl Connector for Sandbox {
    fn name(&self) -> &'static str {
        NAME
    }

    fn auth_type(&self) -> AuthType {
        AuthType::ApiKey
    }

    fn log_format(&self) -> Option<LogFormat> {
        Some(LogFormat::PlainText)
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }

    fn manifest(&self) -> PlatformManifest {
        let no_fields = Some(LogPage::default());
        PlatformManifest {
            name: NAME.to_owned(),
            display_name: "Sandbox CRM".to_owned(),
            environment: Some(Environment::Fixed { url: "https://sandbox.callbridge.invalid".to_owned() }),
            auth: ManifestAuth::api_key("Sandbox CRM", "Any non-empty text; each key is its own sandbox account."),
            contact_types: vec![ContactType { display: "Contact".to_owned(), value: "contact".to_owned() }],
            page: Pages {
                call_log: no_fields.clone(),
                message_log: no_fields,
                new_contact: None,
                use_contact_search: true,
            },
            ..PlatformManifest::default()
        }
    }

    fn basic_auth(&self, api_key: &Secret) -> Result<Secret, ConnectorError> {
        Ok(api_key.clone())
    }

    async fn user_info(&self, request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        let api_key = request.api_key.filter(|it| !it.expose().trim().is_empty()).ok_or_else(|| {
            ConnectorError::new(ErrorKind::Unauthorized, "an API key is required").with_return_message(
                ReturnMessage::warning("Could not load user information", 3000)
                    .with_details("Details", &["Please enter an API key. Any non-empty text works in the sandbox."]),
            )
        })?;
        let id = user_id_for(api_key.expose());
        let name = sandbox_user_name(&id);
        self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(id.clone(), name.clone());
        Ok(UserInfo {
            user: PlatformUserInfo {
                id,
                name,
                timezone_name: Some("UTC".to_owned()),
                timezone_offset: Some("0".to_owned()),
                ..PlatformUserInfo::default()
            },
            return_message: Some(ReturnMessage::success("Connected to Sandbox CRM.", 1000)),
        })
    }

    async fn find_contact(
        &self,
        ctx: &RequestContext,
        request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError> {
        if request.is_extension {
            return Ok(ContactMatches::internal_extension());
        }
        let mut contacts = self.with_account(ctx, |account| account.contacts_by_phone(&request.phone_number));
        contacts.push(ContactInfo::create_new_placeholder());
        Ok(ContactMatches { successful: true, contacts, ..ContactMatches::default() })
    }

    async fn find_contact_with_name(&self, ctx: &RequestContext, name: &str) -> Result<ContactMatches, ConnectorError> {
        let contacts = self.with_account(ctx, |account| account.contacts_by_name(name));
        Ok(ContactMatches { successful: true, contacts, ..ContactMatches::default() })
    }

    async fn create_contact(
        &self,
        ctx: &RequestContext,
        request: CreateContactRequest,
    ) -> Result<CreatedContact, ConnectorError> {
        if request.new_contact_name.trim().is_empty() {
            return Err(ConnectorError::new(ErrorKind::Rejected, "a contact needs a name").with_status(422));
        }
        let contact = self.with_account(ctx, |account| {
            let contact = ContactInfo {
                id: account.next_id("c"),
                name: request.new_contact_name.trim().to_owned(),
                phone: Some(request.phone_number.clone()),
                kind: Some(request.new_contact_type.clone().unwrap_or_else(|| "contact".to_owned())),
                ..ContactInfo::default()
            };
            account.contacts.push(contact.clone());
            contact
        });
        Ok(CreatedContact { contact, return_message: Some(ReturnMessage::success("Contact created.", 2000)) })
    }

    async fn create_call_log(
        &self,
        ctx: &RequestContext,
        request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError> {
        let subject = request.call_log.custom_subject.clone().unwrap_or_else(|| {
            let direction = if request.call_log.is_outbound() { "Outbound" } else { "Inbound" };
            let preposition = if request.call_log.is_outbound() { "to" } else { "from" };
            format!("{direction} Call {preposition} {}", request.contact.name)
        });
        let log_id = self.with_account(ctx, |account| {
            let id = account.next_id("log");
            let activity = Activity {
                id: id.clone(),
                subject,
                body: request.composed_log_details,
                contact_id: request.contact.id,
                record_key: request.record_key.0,
                ..Activity::default()
            };
            account.call_logs.insert(id.clone(), activity);
            id
        });
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
        Ok(self.with_account(ctx, |account| Account::created_with(&account.call_logs, request.record_key.as_str())))
    }

    async fn find_created_message_log(
        &self,
        ctx: &RequestContext,
        request: &CreateMessageLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        Ok(self.with_account(ctx, |account| Account::created_with(&account.message_logs, request.record_key.as_str())))
    }

    async fn get_call_log(
        &self,
        ctx: &RequestContext,
        request: GetCallLogRequest,
    ) -> Result<CallLogDetails, ConnectorError> {
        self.with_account(ctx, |account| {
            let activity =
                account.call_logs.get(&request.log_id).ok_or_else(|| not_found("call log", &request.log_id))?;
            let contact_name =
                account.contacts.iter().find(|it| it.id == activity.contact_id).map(|it| it.name.clone());
            Ok(CallLogDetails {
                subject: Some(activity.subject.clone()),
                note: note_of(&activity.body),
                full_body: Some(activity.body.clone()),
                full_log_response: json!({
                    "id": activity.id,
                    "subject": activity.subject,
                    "body": activity.body,
                    "contactId": activity.contact_id,
                }),
                contact_name: Some(contact_name.unwrap_or_else(|| "Unknown".to_owned())),
                dispositions: Some(Value::Object(activity.dispositions.clone())),
            })
        })
    }

    async fn update_call_log(
        &self,
        ctx: &RequestContext,
        request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        self.with_account(ctx, |account| {
            let activity =
                account.call_logs.get_mut(&request.log_id).ok_or_else(|| not_found("call log", &request.log_id))?;
            if let Some(subject) = request.subject.filter(|it| !it.is_empty()) {
                activity.subject = subject;
            }
            activity.body = request.composed_log_details;
            Ok(CallLogUpdated {
                updated_note: note_of(&activity.body),
                return_message: Some(ReturnMessage::success("Call log updated.", 3000)),
            })
        })
    }

    async fn upsert_call_disposition(
        &self,
        ctx: &RequestContext,
        request: DispositionRequest,
    ) -> Result<DispositionResult, ConnectorError> {
        if request.dispositions.is_empty() {
            return Ok(DispositionResult::default());
        }
        self.with_account(ctx, |account| {
            let activity =
                account.call_logs.get_mut(&request.log_id).ok_or_else(|| not_found("call log", &request.log_id))?;
            activity.dispositions.extend(request.dispositions);
            Ok(DispositionResult { log_id: Some(request.log_id), return_message: None })
        })
    }

    async fn create_message_log(
        &self,
        ctx: &RequestContext,
        request: CreateMessageLogRequest,
    ) -> Result<MessageLogCreated, ConnectorError> {
        let (subject, body) = match request.shared_sms_log_content {
            Some(shared) => (shared.subject, shared.body),
            None => {
                let user_name = sandbox_user_name(&ctx.user.id);
                let layout = layout(ctx, &user_name, &request.contact);
                layout.compose(LogFormat::PlainText, &request.media, &request.correspondents, &request.message)
            }
        };
        let log_id = self.with_account(ctx, |account| {
            let id = account.next_id("msg");
            let activity = Activity {
                id: id.clone(),
                subject,
                body,
                contact_id: request.contact.id,
                record_key: request.record_key.0,
                ..Activity::default()
            };
            account.message_logs.insert(id.clone(), activity);
            id
        });
        Ok(MessageLogCreated { log_id, return_message: Some(ReturnMessage::success("Message logged", 1000)) })
    }

    async fn update_message_log(
        &self,
        ctx: &RequestContext,
        request: UpdateMessageLogRequest,
    ) -> Result<MessageLogUpdated, ConnectorError> {
        let user_name = sandbox_user_name(&ctx.user.id);
        let entry =
            layout(ctx, &user_name, &request.contact).entry_in(LogFormat::PlainText, &request.message, &request.media);
        self.with_account(ctx, |account| {
            let activity = account
                .message_logs
                .get_mut(&request.log_id)
                .ok_or_else(|| not_found("message log", &request.log_id))?;
            activity.body = match request.shared_sms_log_content {
                Some(shared) => shared.body,
                // A retry after an unknown outcome: the earlier attempt may have appended it.
                None if request.maybe_applied && activity.body.contains(entry.as_str()) => activity.body.clone(),
                None => append_entry_in(LogFormat::PlainText, &activity.body, &entry),
            };
            Ok(MessageLogUpdated::default())
        })
    }

    async fn unauthorize(&self, _ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        Ok(Unauthorized { return_message: Some(ReturnMessage::success("Logged out of Sandbox CRM", 1000)) })
    }

    async fn user_list(&self, _ctx: &RequestContext) -> Result<Vec<CrmUser>, ConnectorError> {
        let users = self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut list: Vec<CrmUser> =
            users.iter().map(|(id, name)| CrmUser { id: id.clone(), name: name.clone(), email: None }).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }
}

/// The name the sandbox gives the user with this id (as at login).
fn sandbox_user_name(user_id: &str) -> String {
    format!("Sandbox user {}", user_id.get(..6).unwrap_or(user_id))
}

fn layout<'a>(ctx: &RequestContext, user_name: &'a str, contact: &'a LogContact) -> Layout<'a> {
    Layout { user_name, contact, offset: user_offset(ctx.user.timezone_offset.as_ref()), now: Utc::now() }
}

impl Sandbox {
    /// The subject and body of a message log, as the sandbox CRM holds it; for tests and inspection.
    pub fn message_log(&self, user_id: &str, log_id: &str) -> Option<(String, String)> {
        let accounts = self.accounts();
        let activity = accounts.get(user_id)?.message_logs.get(log_id)?;
        Some((activity.subject.clone(), activity.body.clone()))
    }
}
