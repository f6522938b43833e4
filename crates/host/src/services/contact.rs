//! Contact lookup by phone number and by name, and contact creation.

use axum::response::{IntoResponse, Response};
use callbridge_core::connector::{CreateContactRequest, FindContactRequest};
use callbridge_core::{AdditionalSubmission, ContactInfo, Operation, ReturnMessage};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::metrics::crm_call;
use crate::services::answers;
use crate::services::auth_context::{RequestFacts, context_for};
use crate::services::reply::{Reply, connector_failure, context_failure, database_failure, platform_entry, warning};
use crate::session::Session;
use crate::state::AppState;
use crate::telemetry::mask_phone;

/// The id of the "Create new contact..." entry; the extension compares it literally.
const CREATE_NEW_CONTACT: &str = "createNewContact";

/// The query of `GET /contact`, decoded.
#[derive(Debug, Default)]
pub struct FindContactQuery {
    /// With its leading `+` restored.
    pub phone_number: String,
    pub overriding_format: Option<String>,
    pub is_extension: bool,
    pub force_refresh: bool,
}

/// The body of `POST /contact`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateContactBody {
    /// Optional to the parser; the service refuses a body without it.
    #[schema(required = true)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub new_contact_name: Option<String>,
    #[serde(default)]
    pub new_contact_type: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub additional_submission: Option<AdditionalSubmission>,
}

/// `GET /contact`.
pub async fn find(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    query: FindContactQuery,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let user = match session.crm_user(&state.store, entry.connector.name()) {
        Ok(Some(user)) => user,
        Ok(None) => return Ok(warning("Contact not found", 5000)),
        Err(error) => return Ok(database_failure(&error)),
    };
    let ctx = match context_for(state, entry, user, facts).await {
        Ok(ctx) => ctx,
        Err(error) => return Ok(context_failure(&error, Operation::FindContact, entry)),
    };
    let connector = &entry.connector;
    tracing::debug!(phone = %mask_phone(&query.phone_number), "Looking up a contact.");
    let request = FindContactRequest {
        phone_number: query.phone_number.clone(),
        overriding_format: query.overriding_format,
        is_extension: query.is_extension,
        force_refresh_account_data: query.force_refresh,
    };
    let matches = match crm_call(connector.name(), Operation::FindContact, connector.find_contact(&ctx, request)).await
    {
        Ok(matches) => matches,
        Err(error) => return Ok(connector_failure(&error, Operation::FindContact, entry)),
    };
    let found_real_contact = matches.contacts.iter().any(|it| it.id != CREATE_NEW_CONTACT);
    let mut contacts = matches.contacts;
    // The extension reads the first entry of a successful answer and offers creation through the placeholder.
    if matches.successful && !contacts.iter().any(|it| it.id == CREATE_NEW_CONTACT) {
        contacts.push(ContactInfo::create_new_placeholder());
    }
    let return_message = if found_real_contact {
        matches.return_message
    } else {
        Some(matches.return_message.unwrap_or_else(|| {
            let detail = format!(
                "A contact with the phone number {} could not be found in your {} account.",
                query.phone_number, entry.display_name
            );
            ReturnMessage::warning("Contact not found", 5000).with_details("Details", &[&detail])
        }))
    };
    let contacts = answers::wire_contacts(entry, &contacts);
    Ok(Reply::new(matches.successful).message(return_message).field("contact", contacts).into_response())
}

/// `POST /contact`.
pub async fn create(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    body: CreateContactBody,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let phone_number = body
        .phone_number
        .map(|it| it.trim().to_owned())
        .filter(|it| !it.is_empty())
        .ok_or_else(|| ApiError::bad_request("Missing phoneNumber."))?;
    if phone_number.len() > crate::extract::MAX_QUERY_TEXT_LEN {
        return Err(ApiError::bad_request("Invalid phoneNumber: too long."));
    }
    let user = match session.crm_user(&state.store, entry.connector.name()) {
        Ok(Some(user)) => user,
        Ok(None) => return Ok(warning("User not found", 5000)),
        Err(error) => return Ok(database_failure(&error)),
    };
    let ctx = match context_for(state, entry, user, facts).await {
        Ok(ctx) => ctx,
        Err(error) => return Ok(context_failure(&error, Operation::CreateContact, entry)),
    };
    let request = CreateContactRequest {
        phone_number,
        new_contact_name: body.new_contact_name.unwrap_or_default(),
        new_contact_type: body.new_contact_type.filter(|it| !it.is_empty()),
        additional_submission: body.additional_submission.unwrap_or_default(),
    };
    let connector = &entry.connector;
    match crm_call(connector.name(), Operation::CreateContact, connector.create_contact(&ctx, request)).await {
        Ok(created) => {
            let contact = answers::wire_contact(entry, &created.contact);
            Ok(Reply::new(true).message(created.return_message).field("contact", contact).into_response())
        }
        Err(error) => Ok(connector_failure(&error, Operation::CreateContact, entry)),
    }
}

/// `GET /custom/contact/search`: always answers with a `contact` array, and a message when it is empty.
pub async fn search(
    state: &AppState,
    session: &Session,
    facts: &RequestFacts,
    name: String,
) -> Result<Response, ApiError> {
    let entry = platform_entry(state, session.platform()?)?;
    let empty: Vec<ContactInfo> = Vec::new();
    let user = match session.crm_user(&state.store, entry.connector.name()) {
        Ok(Some(user)) => user,
        Ok(None) => {
            let message = ReturnMessage::warning(format!("No contact found with name {name}"), 5000);
            return Ok(Reply::new(false).message(Some(message)).field("contact", empty).into_response());
        }
        Err(error) => return Ok(database_failure(&error)),
    };
    let ctx = match context_for(state, entry, user, facts).await {
        Ok(ctx) => ctx,
        Err(error) => return Ok(context_failure(&error, Operation::FindContactWithName, entry)),
    };
    let connector = &entry.connector;
    let call = connector.find_contact_with_name(&ctx, &name);
    match crm_call(connector.name(), Operation::FindContactWithName, call).await {
        Ok(matches) => {
            let return_message = if matches.contacts.is_empty() {
                Some(
                    matches
                        .return_message
                        .unwrap_or_else(|| ReturnMessage::warning(format!("No contact found with name {name} "), 5000)),
                )
            } else {
                matches.return_message
            };
            Ok(Reply::new(matches.successful)
                .message(return_message)
                .field("contact", answers::wire_contacts(entry, &matches.contacts))
                .into_response())
        }
        Err(error) => {
            let message = error.to_return_message(Operation::FindContactWithName, &entry.display_name);
            Ok(Reply::new(false).message(Some(message)).field("contact", empty).into_response())
        }
    }
}
