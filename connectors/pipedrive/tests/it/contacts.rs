//! Contact lookup by phone and by name, with deals and leads as options, and contact creation.

use callbridge_core::{ContactInfo, CreateContactRequest, FindContactRequest, MessageType};
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_json, query_param};

use crate::support::{ctx, fixture, mount_fallback, ok, pipedrive, start};

const LEAD_ID: &str = "adf21080-0e10-11eb-879b-05d71fb426ec";

fn by_phone(number: &str) -> FindContactRequest {
    FindContactRequest { phone_number: number.into(), ..FindContactRequest::default() }
}

#[tokio::test]
async fn finds_persons_by_national_number_with_open_deals_and_leads() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/search")
        .and(query_param("term", "4155550100"))
        .and(query_param("fields", "phone"))
        .respond_with(ok(fixture!("persons_search.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/api/v2/deals")
        .and(query_param("person_id", "101"))
        .and(query_param("status", "open"))
        .respond_with(ok(fixture!("deals.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/v1/leads")
        .and(query_param("person_id", "101"))
        .respond_with(
            ok(fixture!("leads.json"))
                .insert_header("x-ratelimit-remaining", "39")
                .insert_header("x-ratelimit-limit", "40")
                .insert_header("x-ratelimit-reset", "2"),
        )
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    // The `+` arrived as a space, as it does in App Connect's unencoded query strings.
    let found = harness.connector.find_contact(&ctx(), by_phone(" 14155550100")).await.unwrap();
    assert!(found.successful);
    assert_eq!(found.return_message, None);
    assert_eq!(found.contacts.len(), 2);
    assert_eq!(
        serde_json::to_value(&found.contacts[0]).unwrap(),
        json!({
            "id": "101",
            "name": "Ada Lovelace",
            "phone": "+14155550100",
            "type": "contact",
            "createdDate": "2023-01-05T09:00:00Z",
            "mostRecentActivityDate": "2024-04-01T10:30:00Z",
            "additionalInfo": {
                "deals": [{ "const": 201, "title": "Engine order" }, { "const": 202, "title": "Service contract" }],
                "leads": [{ "const": LEAD_ID, "title": "Difference engine lead" }]
            },
            "organization": "Analytical Engines"
        })
    );
    assert_eq!(found.contacts[1], ContactInfo::create_new_placeholder());
    let rate_limit = found.rate_limit.unwrap();
    assert_eq!(
        (rate_limit.remaining.as_deref(), rate_limit.limit.as_deref(), rate_limit.reset.as_deref()),
        (Some("39"), Some("40"), Some("2"))
    );
}

#[tokio::test]
async fn a_failing_leads_lookup_still_shows_the_contact() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/search")
        .respond_with(ok(fixture!("persons_search.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/api/v2/deals")
        .respond_with(ok(fixture!("empty_data.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/v1/leads")
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({ "success": false, "error": "internal" })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let found = harness.connector.find_contact(&ctx(), by_phone("+14155550100")).await.unwrap();
    assert!(found.successful);
    assert_eq!(found.contacts[0].name, "Ada Lovelace");
    // Neither list has entries, so neither key is there.
    assert_eq!(found.contacts[0].additional_info, Some(json!({})));
    assert!(found.contacts[1].is_new_contact == Some(true));
}

#[tokio::test]
async fn no_match_still_offers_contact_creation() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/search")
        .and(query_param("term", "2071838750"))
        .respond_with(ok(fixture!("persons_search_empty.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let found = harness.connector.find_contact(&ctx(), by_phone("+442071838750")).await.unwrap();
    assert!(found.successful);
    assert_eq!(found.contacts, [ContactInfo::create_new_placeholder()]);
}

#[tokio::test]
async fn an_unparseable_number_is_searched_as_sent() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/search")
        .and(query_param("term", "+999"))
        .respond_with(ok(fixture!("persons_search_empty.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let found = harness.connector.find_contact(&ctx(), by_phone("+999")).await.unwrap();
    assert_eq!(found.contacts.len(), 1);
}

#[tokio::test]
async fn internal_extension_numbers_are_refused_without_asking_pipedrive() {
    let harness = start().await;
    mount_fallback(&harness.server).await;

    let found = harness.connector.find_contact(&ctx(), by_phone("101")).await.unwrap();
    assert!(!found.successful);
    assert!(found.contacts.is_empty());
    let message = found.return_message.unwrap();
    assert_eq!(message.message, "Logging against internal extension number is not supported.");
    assert_eq!((message.message_type, message.ttl), (MessageType::Warning, 3000));

    let extension = FindContactRequest { is_extension: true, ..by_phone("+14155550100") };
    let found = harness.connector.find_contact(&ctx(), extension).await.unwrap();
    assert!(!found.successful);
    assert!(found.contacts.is_empty());
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn finds_persons_by_name() {
    let harness = start().await;
    pipedrive("GET", "/api/v2/persons/search")
        .and(query_param("term", "Ada Love"))
        .and(query_param("fields", "name"))
        .respond_with(ok(fixture!("persons_search.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/api/v2/deals")
        .and(query_param("person_id", "101"))
        .respond_with(ok(fixture!("deals.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    pipedrive("GET", "/v1/leads")
        .and(query_param("person_id", "101"))
        .respond_with(ok(fixture!("empty_data.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let found = harness.connector.find_contact_with_name(&ctx(), "Ada Love").await.unwrap();
    assert!(found.successful);
    assert_eq!(found.contacts.len(), 1, "no create-new placeholder in a name search");
    let contact = &found.contacts[0];
    assert_eq!((contact.id.as_str(), contact.name.as_str(), contact.phone.as_deref()), ("101", "Ada Lovelace", None));
    assert_eq!(
        contact.additional_info,
        Some(
            json!({ "deals": [{ "const": 201, "title": "Engine order" }, { "const": 202, "title": "Service contract" }] })
        )
    );
}

#[tokio::test]
async fn creates_a_person_with_name_and_phone() {
    let harness = start().await;
    pipedrive("POST", "/v1/persons")
        .and(body_json(json!({ "name": "Charles Babbage", "phone": "+442071838750" })))
        .respond_with(ok(fixture!("person_created.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = CreateContactRequest {
        phone_number: " 442071838750".into(),
        new_contact_name: "Charles Babbage".into(),
        ..CreateContactRequest::default()
    };
    let created = harness.connector.create_contact(&ctx(), request).await.unwrap();
    assert_eq!((created.contact.id.as_str(), created.contact.name.as_str()), ("102", "Charles Babbage"));
    let message = created.return_message.unwrap();
    assert_eq!(
        (message.message.as_str(), message.message_type, message.ttl),
        ("Contact created.", MessageType::Success, 2000)
    );
}
