//! Finding and creating Insightly contacts and leads: by phone across their several phone fields (and the custom
//! fields a user names in settings), by name, each hit with its linked organisations, opportunities and projects as
//! the options the extension offers.

use callbridge_core::phone::{apply_overriding_formats, national_number, restore_plus};
use callbridge_core::{
    ConnectorError, ContactInfo, ContactMatches, CreateContactRequest, CreatedContact, ErrorKind, FindContactRequest,
    ReturnMessage, UserSettings,
};
use serde_json::{Map, Value, json};
use tracing::warn;

use crate::NAME;
use crate::api::{NewPerson, Person};
use crate::client::{PersonKind, UserApi};

/// User settings: comma-separated names of custom fields that also hold phone numbers.
pub(crate) const EXTRA_CONTACT_FIELDS: &str = "insightlyExtraPhoneFieldNameForContact";
pub(crate) const EXTRA_LEAD_FIELDS: &str = "insightlyExtraPhoneFieldNameForLead";

/// What a link to another record offers as a log option: the `LINK_OBJECT_NAME`, the option key in
/// `additionalInfo` (the call page field's `const`), the collection to read it from and its name field.
pub(crate) const LINKED_OPTIONS: [(&str, &str, &str, &str); 3] = [
    ("Organisation", "organisation", "Organisations", "ORGANISATION_NAME"),
    ("Opportunity", "opportunity", "Opportunities", "OPPORTUNITY_NAME"),
    ("Project", "project", "Projects", "PROJECT_NAME"),
];

/// A field a number is searched in.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PhoneField<'a> {
    /// `PHONE`, `PHONE_MOBILE` (contacts), `MOBILE` (leads).
    Standard(&'static str),
    /// A custom field named in the user's settings.
    Custom(&'a str),
}

impl PhoneField<'_> {
    fn name(&self) -> &str {
        match self {
            PhoneField::Standard(name) => name,
            PhoneField::Custom(name) => name,
        }
    }

    /// The value of this field in a hit: the number as the CRM stores it.
    fn value_in(&self, person: &Person) -> Option<String> {
        match self {
            PhoneField::Standard("PHONE") => person.phone.clone(),
            PhoneField::Standard("PHONE_MOBILE") => person.phone_mobile.clone(),
            PhoneField::Standard(_) => person.mobile.clone(),
            PhoneField::Custom(name) => {
                person.customfields.iter().find(|it| it.field_name.as_deref() == Some(*name)).map(|it| {
                    match &it.field_value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    }
                })
            }
        }
    }
}

/// The fields searched for one kind: the standard ones, then the user's custom ones.
fn phone_fields(kind: PersonKind, settings: &UserSettings) -> Vec<PhoneField<'_>> {
    let (standard, setting) = match kind {
        PersonKind::Contact => (["PHONE", "PHONE_MOBILE"], EXTRA_CONTACT_FIELDS),
        PersonKind::Lead => (["PHONE", "MOBILE"], EXTRA_LEAD_FIELDS),
    };
    let custom = settings.text(setting).unwrap_or_default().split(',').map(str::trim).filter(|it| !it.is_empty());
    standard.into_iter().map(PhoneField::Standard).chain(custom.map(PhoneField::Custom)).collect()
}

/// The numbers to search for: the national number, or the user's formats of it. `None` when the number is not
/// E.164, which is searched for nothing.
fn search_numbers(phone: &str, overriding_format: Option<&str>) -> Option<Vec<String>> {
    let national = national_number(phone)?;
    Some(match overriding_format.map(str::trim).filter(|it| !it.is_empty()) {
        Some(formats) => apply_overriding_formats(&national, formats),
        None => vec![national],
    })
}

/// One hit: the kind, the record and the number it matched.
struct Hit {
    kind: PersonKind,
    person: Person,
    phone: Option<String>,
}

impl Hit {
    fn id(&self) -> Option<u64> {
        match self.kind {
            PersonKind::Contact => self.person.contact_id,
            PersonKind::Lead => self.person.lead_id,
        }
    }
}

/// Adds `hit` unless the same record is already there: a record whose number is in several searched fields (or
/// formats) is shown once.
fn push_unique(hits: &mut Vec<Hit>, hit: Hit) {
    if hit.id().is_some() && !hits.iter().any(|it| it.kind == hit.kind && it.id() == hit.id()) {
        hits.push(hit);
    }
}

pub(crate) async fn find_by_phone(
    api: &UserApi<'_>,
    settings: &UserSettings,
    request: &FindContactRequest,
) -> Result<ContactMatches, ConnectorError> {
    let phone = restore_plus(&request.phone_number).trim().to_owned();
    let numbers = search_numbers(&phone, request.overriding_format.as_deref()).unwrap_or_default();
    let mut hits = Vec::new();
    for number in &numbers {
        for kind in [PersonKind::Contact, PersonKind::Lead] {
            for field in phone_fields(kind, settings) {
                let found = match api.search(kind, field.name(), number).await {
                    Ok(found) => found,
                    // A custom field the account does not have must not hide the other matches.
                    Err(error) if matches!(field, PhoneField::Custom(_)) => {
                        warn!(connector = NAME, field = field.name(), %error, "Searching a custom phone field failed.");
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                for person in found {
                    let phone = field.value_in(&person);
                    push_unique(&mut hits, Hit { kind, person, phone });
                }
            }
        }
    }
    let mut contacts = Vec::with_capacity(hits.len() + 1);
    for hit in hits {
        contacts.push(contact_info(api, hit).await);
    }
    contacts.push(ContactInfo::create_new_placeholder());
    Ok(ContactMatches { successful: true, contacts, ..ContactMatches::default() })
}

/// Contacts and leads by first name and, when the query has more words, by last name; only those whose full name
/// contains the query are kept.
pub(crate) async fn find_by_name(api: &UserApi<'_>, query: &str) -> Result<ContactMatches, ConnectorError> {
    let query = query.trim();
    let (first, rest) = query.split_once(char::is_whitespace).map_or((query, ""), |(first, rest)| (first, rest.trim()));
    let wanted = query.to_lowercase();
    let mut hits = Vec::new();
    if !first.is_empty() {
        for kind in [PersonKind::Contact, PersonKind::Lead] {
            let mut searches = vec![("FIRST_NAME", first)];
            if !rest.is_empty() {
                searches.push(("LAST_NAME", rest));
            }
            for (field, value) in searches {
                for person in api.search(kind, field, value).await? {
                    if full_name(&person).to_lowercase().contains(&wanted) {
                        let phone = person.phone.clone();
                        push_unique(&mut hits, Hit { kind, person, phone });
                    }
                }
            }
        }
    }
    let mut contacts = Vec::with_capacity(hits.len());
    for hit in hits {
        contacts.push(contact_info(api, hit).await);
    }
    Ok(ContactMatches { successful: true, contacts, ..ContactMatches::default() })
}

pub(crate) async fn create(
    api: &UserApi<'_>,
    request: &CreateContactRequest,
) -> Result<CreatedContact, ConnectorError> {
    let kind = request.new_contact_type.as_deref().and_then(PersonKind::parse).ok_or_else(|| {
        ConnectorError::new(ErrorKind::Rejected, "a new Insightly record must be a contact or a lead")
            .with_return_message(ReturnMessage::warning(
                "Please choose Contact or Lead as the new contact's type.",
                3000,
            ))
    })?;
    let name = request.new_contact_name.trim();
    let (first, rest) = name.split_once(char::is_whitespace).map_or((name, ""), |(first, rest)| (first, rest.trim()));
    // Insightly requires a lead's last name; App Connect fills in `Lead` when only one name was typed.
    let last_name = match (rest.is_empty(), kind) {
        (false, _) => Some(rest),
        (true, PersonKind::Lead) => Some("Lead"),
        (true, PersonKind::Contact) => None,
    };
    let phone = restore_plus(&request.phone_number).trim().to_owned();
    let created = api.create_person(kind, &NewPerson { phone: &phone, first_name: first, last_name }).await?;
    let id = match kind {
        PersonKind::Contact => created.contact_id,
        PersonKind::Lead => created.lead_id,
    };
    let id =
        id.ok_or_else(|| ConnectorError::upstream(format!("insightly created a {} without an id", kind.label())))?;
    Ok(CreatedContact {
        contact: ContactInfo {
            id: id.to_string(),
            name: full_name(&created),
            kind: Some(kind.label().to_owned()),
            ..ContactInfo::default()
        },
        return_message: Some(ReturnMessage::success(format!("{} created.", kind.label()), 2000)),
    })
}

/// `FIRST LAST`, without the blanks of a missing part.
pub(crate) fn full_name(person: &Person) -> String {
    join_name(person.first_name.as_deref(), person.last_name.as_deref())
}

/// A first and a last name as one, without the blanks of a missing part.
pub(crate) fn join_name(first: Option<&str>, last: Option<&str>) -> String {
    [first, last].into_iter().flatten().map(str::trim).filter(|it| !it.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The hit as a contact, with its linked records as options.
async fn contact_info(api: &UserApi<'_>, hit: Hit) -> ContactInfo {
    let additional_info = linked_options(api, &hit.person).await;
    let id = hit.id().map(|it| it.to_string()).unwrap_or_default();
    let person = hit.person;
    ContactInfo {
        id,
        name: full_name(&person),
        phone: hit.phone,
        kind: Some(hit.kind.label().to_owned()),
        title: person.title,
        created_date: person.date_created_utc,
        most_recent_activity_date: person
            .last_activity_date_utc
            .filter(|it| !it.is_empty())
            .or(person.date_updated_utc),
        additional_info: Some(Value::Object(additional_info)),
        ..ContactInfo::default()
    }
}

/// `{organisation: [{const, title}], opportunity: [...], project: [...]}` from the record's links; kinds without a
/// link are left out. A linked record that cannot be read is skipped with a warning: the contact still shows.
async fn linked_options(api: &UserApi<'_>, person: &Person) -> Map<String, Value> {
    let mut options = Map::new();
    for link in &person.links {
        let (Some(name), Some(id)) = (link.link_object_name.as_deref(), link.link_object_id) else { continue };
        let Some((_, key, collection, name_field)) =
            LINKED_OPTIONS.iter().find(|(object, ..)| object.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        match api.record(collection, id).await {
            Ok(record) => {
                let title = record.get(*name_field).and_then(Value::as_str).unwrap_or_default();
                let entry = options.entry((*key).to_owned()).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = entry {
                    list.push(json!({ "const": id.to_string(), "title": title }));
                }
            }
            Err(error) => warn!(connector = NAME, collection, %error, "Reading a linked record failed; skipping it."),
        }
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_national_or_the_users_formats() {
        assert_eq!(search_numbers("+16505550100", None), Some(vec!["6505550100".to_owned()]));
        assert_eq!(
            search_numbers("+16505550100", Some("(***) ***-****, ***.***.****")),
            Some(vec!["(650) 555-0100".to_owned(), "650.555.0100".to_owned()])
        );
        assert_eq!(search_numbers("101", None), None);
        assert_eq!(search_numbers("not a number", Some("***")), None);
    }

    #[test]
    fn custom_fields_come_after_the_standard_ones() {
        let settings: UserSettings =
            serde_json::from_value(json!({ EXTRA_LEAD_FIELDS: { "value": " Work_Cell__c, ,Home__c" } })).unwrap();
        let names: Vec<String> =
            phone_fields(PersonKind::Lead, &settings).iter().map(|it| it.name().to_owned()).collect();
        assert_eq!(names, ["PHONE", "MOBILE", "Work_Cell__c", "Home__c"]);
        let names: Vec<String> =
            phone_fields(PersonKind::Contact, &settings).iter().map(|it| it.name().to_owned()).collect();
        assert_eq!(names, ["PHONE", "PHONE_MOBILE"]);
    }

    #[test]
    fn names_skip_missing_parts() {
        let person = Person { first_name: Some("Ada".into()), last_name: Some(" ".into()), ..Person::default() };
        assert_eq!(full_name(&person), "Ada");
        assert_eq!(full_name(&Person::default()), "");
    }
}
