//! Contact lookup by phone (national number, the user's formats) and by name, and creating a contact.

use callbridge_core::{CreateContactRequest, FindContactRequest};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, query_param};

use crate::support::{bodies, ctx, fixture, mount_fallback, ok, redtail, start};

fn category_options() -> Value {
    json!([{ "const": "1", "title": "Client Service" }, { "const": "2", "title": "Phone Call" }])
}

#[tokio::test]
async fn finds_contacts_by_national_number_with_the_category_options() {
    let harness = start().await;
    redtail("GET", "/contacts/search_basic")
        .and(query_param("phone_number", "4155551234"))
        .respond_with(ok(fixture!("contacts_search.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("GET", "/lists/categories")
        .respond_with(ok(fixture!("categories.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    // The extension's unencoded `+` arrives as a space.
    let request = FindContactRequest { phone_number: " 14155551234".into(), ..FindContactRequest::default() };
    let found = harness.connector.find_contact(&ctx(), request).await.unwrap();

    assert!(found.successful);
    let contacts = serde_json::to_value(&found.contacts).unwrap();
    assert_eq!(
        contacts,
        json!([
            {
                "id": "9001", "name": "Jane Q Doe", "phone": "+14155551234", "type": "contact", "title": "Treasurer",
                "createdDate": "2023-04-01T10:00:00.000Z", "mostRecentActivityDate": "2024-01-10T08:00:00.000Z",
                "additionalInfo": { "category": category_options() }
            },
            {
                "id": "9002", "name": "Acme Family Trust", "phone": "+14155551234", "type": "contact", "title": "",
                "createdDate": "2022-02-02T00:00:00.000Z", "mostRecentActivityDate": "2022-02-03T00:00:00.000Z",
                "additionalInfo": { "category": category_options() }
            },
            {
                "id": "createNewContact", "name": "Create new contact...", "isNewContact": true,
                "additionalInfo": { "category": category_options() }
            }
        ])
    );
}

#[tokio::test]
async fn the_users_formats_are_searched_too_and_each_contact_shown_once() {
    let harness = start().await;
    redtail("GET", "/contacts/search_basic")
        .and(query_param("phone_number", "4155551234"))
        .respond_with(ok(fixture!("contacts_search.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("GET", "/contacts/search_basic")
        .and(query_param("phone_number", "(415) 555-1234"))
        .respond_with(ok(fixture!("contacts_search.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("GET", "/lists/categories")
        .respond_with(ok(fixture!("categories.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = FindContactRequest {
        phone_number: "+14155551234".into(),
        overriding_format: Some("(***) ***-****,**********".into()),
        ..FindContactRequest::default()
    };
    let found = harness.connector.find_contact(&ctx(), request).await.unwrap();

    let ids: Vec<_> = found.contacts.iter().map(|it| it.id.as_str()).collect();
    assert_eq!(ids, ["9001", "9002", "createNewContact"]);
}

#[tokio::test]
async fn no_match_still_offers_to_create_one_and_extensions_are_not_looked_up() {
    let harness = start().await;
    redtail("GET", "/contacts/search_basic")
        .respond_with(ok(fixture!("contacts_search_empty.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("GET", "/lists/categories")
        .respond_with(ok(fixture!("categories.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = FindContactRequest { phone_number: "+14155550000".into(), ..FindContactRequest::default() };
    let found = harness.connector.find_contact(&ctx(), request).await.unwrap();
    assert!(found.successful);
    assert_eq!(found.contacts.len(), 1);
    assert_eq!(found.contacts[0].is_new_contact, Some(true));

    let extension =
        FindContactRequest { phone_number: "101".into(), is_extension: true, ..FindContactRequest::default() };
    let found = harness.connector.find_contact(&ctx(), extension).await.unwrap();
    assert!(!found.successful && found.contacts.is_empty());
}

#[tokio::test]
async fn finds_contacts_by_name_without_the_create_entry() {
    let harness = start().await;
    redtail("GET", "/contacts/search_basic")
        .and(query_param("name", "John Doe"))
        .respond_with(ok(fixture!("contacts_search.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    redtail("GET", "/lists/categories")
        .respond_with(ok(fixture!("categories.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let found = harness.connector.find_contact_with_name(&ctx(), " John Doe ").await.unwrap();

    let names: Vec<_> = found.contacts.iter().map(|it| (it.name.as_str(), it.phone.is_none())).collect();
    assert_eq!(names, [("Jane Q Doe", true), ("Acme Family Trust", true)]);
}

#[tokio::test]
async fn creates_an_individual_with_the_national_number() {
    let harness = start().await;
    redtail("POST", "/contacts")
        .and(body_json(json!({
            "type": "Crm::Contact::Individual",
            "first_name": "John",
            "last_name": "Smith",
            "phones": [{ "phone_type": 6, "number": "2071838750", "country_code": 44 }]
        })))
        .respond_with(ok(fixture!("contact_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = CreateContactRequest {
        phone_number: "+442071838750".into(),
        new_contact_name: "John Smith".into(),
        ..CreateContactRequest::default()
    };
    let created = harness.connector.create_contact(&ctx(), request).await.unwrap();

    assert_eq!((created.contact.id.as_str(), created.contact.name.as_str()), ("9100", "John Smith"));
    assert_eq!(created.contact.kind.as_deref(), Some("contact"));
}

#[tokio::test]
async fn a_single_name_becomes_the_last_name() {
    let harness = start().await;
    redtail("POST", "/contacts")
        .respond_with(ok(fixture!("contact_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = CreateContactRequest {
        phone_number: "+14155551234".into(),
        new_contact_name: "Prince".into(),
        ..CreateContactRequest::default()
    };
    let created = harness.connector.create_contact(&ctx(), request).await.unwrap();

    let sent = bodies(&harness.server, "POST", "/contacts").await;
    assert_eq!((&sent[0]["first_name"], &sent[0]["last_name"]), (&json!(""), &json!("Prince")));
    assert_eq!(created.contact.name, "Prince");
}
