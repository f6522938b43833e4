//! Contacts and leads by phone (every phone field, the user's formats and custom fields) and by name, their links
//! as options, and creating contacts and leads.

use callbridge_core::{ContactInfo, CreateContactRequest, ErrorKind, FindContactRequest};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_json, query_param};

use crate::support::{ctx, ctx_with_settings, fixture, insightly, mount_fallback, ok, searches, start};

/// Mounts a search of `collection` by `field` for `value` answering `body`, expected once.
async fn search(server: &wiremock::MockServer, collection: &str, field: &str, value: &str, body: Value) {
    insightly("GET", &format!("{collection}/Search"))
        .and(query_param("field_name", field))
        .and(query_param("field_value", value))
        .and(query_param("brief", "false"))
        .respond_with(ok(body))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn finds_contacts_and_leads_in_every_phone_field_with_their_links() {
    let harness = start().await;
    let server = &harness.server;
    search(server, "Contacts", "PHONE", "6505550100", fixture!("contacts_search.json")).await;
    search(server, "Contacts", "PHONE_MOBILE", "6505550100", fixture!("contacts_search.json")).await;
    insightly("GET", "Contacts/Search")
        .and(query_param("field_name", "Work_Cell__c"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({ "Message": "Invalid field name" })))
        .expect(1)
        .mount(server)
        .await;
    search(server, "Leads", "PHONE", "6505550100", json!([])).await;
    search(server, "Leads", "MOBILE", "6505550100", fixture!("leads_search.json")).await;
    insightly("GET", "Organisations/5").respond_with(ok(fixture!("organisation.json"))).expect(1).mount(server).await;
    insightly("GET", "Opportunities/6").respond_with(ok(fixture!("opportunity.json"))).expect(1).mount(server).await;
    mount_fallback(server).await;
    let ctx = ctx_with_settings(json!({ "insightlyExtraPhoneFieldNameForContact": { "value": "Work_Cell__c" } }));

    let request = FindContactRequest { phone_number: " 16505550100".into(), ..FindContactRequest::default() };
    let matches = harness.connector.find_contact(&ctx, request).await.unwrap();

    assert!(matches.successful);
    let contacts: Vec<Value> = matches.contacts.iter().map(|it| serde_json::to_value(it).unwrap()).collect();
    assert_eq!(
        contacts,
        [
            json!({
                "id": "101", "name": "Ada Lovelace", "phone": "6505550100", "type": "Contact", "title": "Analyst",
                "createdDate": "2023-01-05 09:00:00", "mostRecentActivityDate": "2024-04-01 10:30:00",
                "additionalInfo": {
                    "organisation": [{ "const": "5", "title": "Analytical Engines Ltd" }],
                    "opportunity": [{ "const": "6", "title": "Engine order" }]
                }
            }),
            json!({
                "id": "201", "name": "Charles Babbage", "phone": "6505550100", "type": "Lead",
                "createdDate": "2023-02-01 08:00:00", "mostRecentActivityDate": "2024-03-02 08:00:00",
                "additionalInfo": {}
            }),
            serde_json::to_value(ContactInfo::create_new_placeholder()).unwrap(),
        ]
    );
}

#[tokio::test]
async fn searches_each_of_the_users_formats() {
    let harness = start().await;
    insightly("GET", "Contacts/Search").respond_with(ok(json!([]))).expect(4).mount(&harness.server).await;
    insightly("GET", "Leads/Search").respond_with(ok(json!([]))).expect(4).mount(&harness.server).await;
    mount_fallback(&harness.server).await;

    let request = FindContactRequest {
        phone_number: "+16505550100".into(),
        // The second format has too few placeholders for the number and is skipped.
        overriding_format: Some("(***) ***-****,***-****,***.***.****".into()),
        ..FindContactRequest::default()
    };
    let matches = harness.connector.find_contact(&ctx(), request).await.unwrap();

    assert_eq!(matches.contacts.len(), 1, "only the create-new entry");
    assert_eq!(
        searches(&harness.server, "Contacts").await,
        ["PHONE=(650) 555-0100", "PHONE_MOBILE=(650) 555-0100", "PHONE=650.555.0100", "PHONE_MOBILE=650.555.0100"]
    );
    assert_eq!(
        searches(&harness.server, "Leads").await,
        ["PHONE=(650) 555-0100", "MOBILE=(650) 555-0100", "PHONE=650.555.0100", "MOBILE=650.555.0100"]
    );
}

#[tokio::test]
async fn a_number_that_is_not_e164_is_searched_for_nothing() {
    let harness = start().await;
    mount_fallback(&harness.server).await;

    let request = FindContactRequest { phone_number: "12345".into(), ..FindContactRequest::default() };
    let matches = harness.connector.find_contact(&ctx(), request).await.unwrap();

    assert!(matches.successful);
    assert_eq!(matches.contacts, [ContactInfo::create_new_placeholder()]);
    assert_eq!(serde_json::to_value(&matches.contacts[0]).unwrap()["additionalInfo"], Value::Null);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_extension_number_is_not_looked_up() {
    let harness = start().await;
    mount_fallback(&harness.server).await;

    let request =
        FindContactRequest { phone_number: "101".into(), is_extension: true, ..FindContactRequest::default() };
    let matches = harness.connector.find_contact(&ctx(), request).await.unwrap();

    assert!(!matches.successful);
    assert!(matches.contacts.is_empty());
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_standard_search_fails_the_lookup() {
    let harness = start().await;
    insightly("GET", "Contacts/Search")
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({ "Message": "An error has occurred." })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = FindContactRequest { phone_number: "+16505550100".into(), ..FindContactRequest::default() };
    let error = harness.connector.find_contact(&ctx(), request).await.unwrap_err();

    assert_eq!((error.kind(), error.is_temporary()), (ErrorKind::Upstream, true));
}

#[tokio::test]
async fn finds_by_first_and_last_name_and_keeps_whole_name_matches() {
    let harness = start().await;
    let server = &harness.server;
    let mut other_ada = fixture!("contacts_search.json");
    other_ada[0]["CONTACT_ID"] = json!(103);
    other_ada[0]["LAST_NAME"] = json!("Byron");
    other_ada[0]["LINKS"] = json!([]);
    let mut found = fixture!("contacts_search.json");
    found.as_array_mut().unwrap().extend(other_ada.as_array().unwrap().clone());
    search(server, "Contacts", "FIRST_NAME", "Ada", found).await;
    search(server, "Contacts", "LAST_NAME", "Lovelace", fixture!("contacts_search.json")).await;
    search(server, "Leads", "FIRST_NAME", "Ada", json!([])).await;
    search(server, "Leads", "LAST_NAME", "Lovelace", json!([])).await;
    insightly("GET", "Organisations/5").respond_with(ok(fixture!("organisation.json"))).expect(1).mount(server).await;
    insightly("GET", "Opportunities/6").respond_with(ok(fixture!("opportunity.json"))).expect(1).mount(server).await;
    mount_fallback(server).await;

    let matches = harness.connector.find_contact_with_name(&ctx(), "Ada Lovelace").await.unwrap();

    let found: Vec<(&str, &str)> = matches.contacts.iter().map(|it| (it.id.as_str(), it.name.as_str())).collect();
    assert_eq!(found, [("101", "Ada Lovelace")], "Ada Byron does not match, and Ada Lovelace is listed once");
    assert_eq!(matches.contacts[0].phone.as_deref(), Some("6505550100"));
}

#[tokio::test]
async fn creates_a_contact_and_a_lead() {
    let harness = start().await;
    insightly("POST", "Contacts")
        .and(body_json(json!({ "PHONE": "+16505550100", "FIRST_NAME": "Mary", "LAST_NAME": "Ann Evans" })))
        .respond_with(ok(json!({ "CONTACT_ID": 104, "FIRST_NAME": "Mary", "LAST_NAME": "Ann Evans" })))
        .expect(1)
        .mount(&harness.server)
        .await;
    insightly("POST", "Leads")
        .and(body_json(json!({ "PHONE": "+16505550100", "FIRST_NAME": "Cher", "LAST_NAME": "Lead" })))
        .respond_with(ok(json!({ "LEAD_ID": 202, "FIRST_NAME": "Cher", "LAST_NAME": "Lead" })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let request = |name: &str, kind: &str| CreateContactRequest {
        phone_number: " 16505550100".into(),
        new_contact_name: name.into(),
        new_contact_type: Some(kind.into()),
        ..CreateContactRequest::default()
    };

    let contact = harness.connector.create_contact(&ctx(), request(" Mary Ann Evans ", "contact")).await.unwrap();
    assert_eq!((contact.contact.id.as_str(), contact.contact.name.as_str()), ("104", "Mary Ann Evans"));
    assert_eq!(contact.contact.kind.as_deref(), Some("Contact"));
    assert_eq!(contact.return_message.unwrap().message, "Contact created.");

    let lead = harness.connector.create_contact(&ctx(), request("Cher", "Lead")).await.unwrap();
    assert_eq!((lead.contact.id.as_str(), lead.contact.name.as_str()), ("202", "Cher Lead"));
}

#[tokio::test]
async fn a_new_contact_without_a_type_is_refused_without_a_request() {
    let harness = start().await;
    mount_fallback(&harness.server).await;

    let request = CreateContactRequest {
        phone_number: "+16505550100".into(),
        new_contact_name: "Nobody".into(),
        ..CreateContactRequest::default()
    };
    let error = harness.connector.create_contact(&ctx(), request).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Rejected);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}
