//! Contact lookup: by phone number (E.164 and the user's own formats) and by name, each contact with the matters
//! it is the client of or related to, offered as the call's contact-dependent `matters` field.

use callbridge_core::http::RateLimit;
use callbridge_core::{ConnectorError, ContactInfo, ContactMatches, FindContactRequest, RequestContext};
use serde_json::{Map, Value, json};

use crate::api::{Contact, Matter};
use crate::client::{ClioClient, id_text};
use crate::settings;

const PHONE_SEARCH_FIELDS: &str = "type,id,name,created_at,updated_at";
const NAME_SEARCH_FIELDS: &str = "id,name,created_at,updated_at,primary_email_address,primary_phone_number";

/// Contacts whose numbers match the caller's, searched as E.164 and in each of the user's formats.
pub(crate) async fn find_by_phone(
    client: &ClioClient,
    ctx: &RequestContext,
    request: &FindContactRequest,
) -> Result<ContactMatches, ConnectorError> {
    if request.is_extension {
        return Ok(ContactMatches { successful: false, ..ContactMatches::default() });
    }
    let host = &ctx.user.hostname;
    let (phone, queries) = request.phone_queries();
    let see_closed = settings::flag(&ctx.user.user_settings, settings::SEE_CLOSED_MATTERS, false);
    let mut rate_limit: Option<RateLimit> = None;
    let mut contacts: Vec<ContactInfo> = Vec::new();
    for query in &queries {
        let found = client.search_contacts(host, &ctx.auth_header, query, PHONE_SEARCH_FIELDS).await?;
        rate_limit = found.rate_limit.or(rate_limit);
        for contact in found.body {
            let id = id_text(&contact.id);
            if contacts.iter().any(|it| it.id == id) {
                continue;
            }
            let mut matters = client.client_matters(host, &ctx.auth_header, &id).await?;
            matters.extend(client.related_matters(host, &ctx.auth_header, &id, true).await?);
            let mut info = Map::new();
            let options = matter_options(matters, see_closed, true);
            if !options.is_empty() {
                info.insert("matters".to_owned(), Value::Array(options));
            }
            info.insert("logTimeEntry".to_owned(), json!(settings::log_time_entry_default(&ctx.user.user_settings)));
            info.insert("billableStatus".to_owned(), settings::billable_options());
            contacts.push(ContactInfo {
                id,
                name: contact.name.unwrap_or_default(),
                phone: Some(phone.clone()),
                kind: contact.kind,
                created_date: contact.created_at,
                most_recent_activity_date: contact.updated_at,
                additional_info: Some(Value::Object(info)),
                ..ContactInfo::default()
            });
        }
    }
    contacts.push(ContactInfo {
        additional_info: Some(json!({ "logTimeEntry": true })),
        ..ContactInfo::create_new_placeholder()
    });
    Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit })
}

/// Contacts whose name matches, those with an email address first.
pub(crate) async fn find_by_name(
    client: &ClioClient,
    ctx: &RequestContext,
    name: &str,
) -> Result<ContactMatches, ConnectorError> {
    let host = &ctx.user.hostname;
    let found = client.search_contacts(host, &ctx.auth_header, name, NAME_SEARCH_FIELDS).await?;
    let mut contacts = Vec::with_capacity(found.body.len());
    for contact in found.body {
        contacts.push(named_contact(client, ctx, contact).await?);
    }
    // A stable sort: contacts with an email keep their order, ahead of those without.
    contacts.sort_by_key(|it| it.email.as_deref().is_none_or(str::is_empty));
    Ok(ContactMatches { successful: true, contacts, return_message: None, rate_limit: found.rate_limit })
}

async fn named_contact(
    client: &ClioClient,
    ctx: &RequestContext,
    contact: Contact,
) -> Result<ContactInfo, ConnectorError> {
    let host = &ctx.user.hostname;
    let id = id_text(&contact.id);
    let mut matters = client.client_matters(host, &ctx.auth_header, &id).await?;
    matters.extend(client.related_matters(host, &ctx.auth_header, &id, false).await?);
    let mut info = Map::new();
    let options = matter_options(matters, false, false);
    if !options.is_empty() {
        info.insert("matters".to_owned(), Value::Array(options));
    }
    info.insert("logTimeEntry".to_owned(), json!(settings::log_time_entry_default(&ctx.user.user_settings)));
    info.insert("billableStatus".to_owned(), settings::billable_options());
    Ok(ContactInfo {
        id,
        name: contact.name.unwrap_or_default(),
        phone: contact.primary_phone_number,
        kind: Some("contact".to_owned()),
        email: contact.primary_email_address,
        created_date: contact.created_at,
        most_recent_activity_date: contact.updated_at,
        additional_info: Some(Value::Object(info)),
        ..ContactInfo::default()
    })
}

/// The matters as `{const, title, description, status}` options, each once, closed ones only when asked for.
///
/// `with_status` prefixes the description with the matter's status, as the phone lookup shows it.
pub(crate) fn matter_options(matters: Vec<Matter>, see_closed: bool, with_status: bool) -> Vec<Value> {
    let mut options: Vec<Value> = Vec::with_capacity(matters.len());
    for matter in matters {
        let status = matter.status.unwrap_or_default();
        if status == "Closed" && !see_closed {
            continue;
        }
        if options.iter().any(|it| it["const"] == matter.id) {
            continue;
        }
        let description = matter.description.unwrap_or_default();
        let description = if with_status { format!("{status} - {description}") } else { description };
        options.push(json!({
            "const": matter.id,
            "title": matter.display_number.unwrap_or_default(),
            "description": description,
            "status": status,
        }));
    }
    options
}
