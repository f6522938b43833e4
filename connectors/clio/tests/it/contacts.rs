//! Contact lookup by phone (with the user's formats, matters and paged relationships), by name, and creation.

use callbridge_core::{CreateContactRequest, FindContactRequest};
use serde_json::json;
use wiremock::matchers::{body_json, query_param};

use crate::support::{clio, context, context_with, data, mount_fallback, received, start};

const PHONE_FIELDS: &str = "type,id,name,created_at,updated_at";
const MATTER_FIELDS: &str = "id,display_number,description,status";
const RELATIONSHIP_FIELDS: &str = "matter{id,display_number,description,status}";

#[tokio::test]
async fn finds_contacts_by_phone_in_every_format_with_their_matters() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/contacts.json")
        .and(query_param("query", "+14155550100"))
        .and(query_param("fields", PHONE_FIELDS))
        .respond_with(data(json!([{
            "id": 101, "name": "Ada Lovelace", "type": "Person",
            "created_at": "2023-01-05T09:00:00Z", "updated_at": "2024-04-01T10:30:00Z"
        }])))
        .expect(1)
        .mount(&server)
        .await;
    // The user's format finds Ada again (skipped) and a company.
    clio("GET", "/api/v4/contacts.json")
        .and(query_param("query", "(415) 555-0100"))
        .respond_with(data(json!([
            { "id": 101, "name": "Ada Lovelace", "type": "Person" },
            { "id": 102, "name": "Analytical Engines", "type": "Company" }
        ])))
        .expect(1)
        .mount(&server)
        .await;
    clio("GET", "/api/v4/matters.json")
        .and(query_param("client_id", "101"))
        .and(query_param("fields", MATTER_FIELDS))
        .respond_with(data(json!([
            { "id": 201, "display_number": "00001-Lovelace", "description": "Engine patent", "status": "Open" },
            { "id": 202, "display_number": "00002-Lovelace", "description": "Old case", "status": "Closed" }
        ])))
        .expect(1)
        .mount(&server)
        .await;
    clio("GET", "/api/v4/matters.json")
        .and(query_param("client_id", "102"))
        .respond_with(data(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    // Ada's relationships come in two pages; the second page's absolute URL is followed.
    clio("GET", "/api/v4/relationships.json")
        .and(query_param("contact_id", "101"))
        .and(query_param("fields", RELATIONSHIP_FIELDS))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "data": [{ "matter": { "id": 201, "display_number": "00001-Lovelace", "description": "Engine patent", "status": "Open" } }],
            "meta": { "paging": { "next": "https://app.clio.com/api/v4/relationships.json?contact_id=101&page_token=p2" } }
        })))
        .expect(1)
        .mount(&server)
        .await;
    clio("GET", "/api/v4/relationships.json")
        .and(query_param("page_token", "p2"))
        .respond_with(data(json!([{ "matter": { "id": 203, "display_number": "00003-Babbage", "description": "Witness", "status": "Pending" } }])))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    clio("GET", "/api/v4/relationships.json")
        .and(query_param("contact_id", "102"))
        .respond_with(data(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;

    let request = FindContactRequest {
        phone_number: " 14155550100".into(),
        overriding_format: Some("(***) ***-****, +1**********".into()),
        ..Default::default()
    };
    let found = connector.find_contact(&context(), request).await.unwrap();
    assert!(found.successful);
    let ids: Vec<&str> = found.contacts.iter().map(|it| it.id.as_str()).collect();
    assert_eq!(ids, ["101", "102", "createNewContact"]);
    let ada = &found.contacts[0];
    assert_eq!((ada.kind.as_deref(), ada.phone.as_deref()), (Some("Person"), Some("+14155550100")));
    assert_eq!(ada.most_recent_activity_date.as_deref(), Some("2024-04-01T10:30:00Z"));
    assert_eq!(
        ada.additional_info,
        Some(json!({
            "matters": [
                { "const": 201, "title": "00001-Lovelace", "description": "Open - Engine patent", "status": "Open" },
                { "const": 203, "title": "00003-Babbage", "description": "Pending - Witness", "status": "Pending" }
            ],
            "logTimeEntry": true,
            "billableStatus": [
                { "const": "billable", "title": "Billable" },
                { "const": "non-billable", "title": "Non-billable" }
            ]
        }))
    );
    assert_eq!(found.contacts[1].kind.as_deref(), Some("Company"));
    assert_eq!(found.contacts[2].additional_info, Some(json!({ "logTimeEntry": true })));
    assert!(found.rate_limit.is_some());
}

#[tokio::test]
async fn closed_matters_show_when_the_user_asks_for_them() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/contacts.json")
        .respond_with(data(json!([{ "id": 101, "name": "Ada Lovelace", "type": "Person" }])))
        .expect(1)
        .mount(&server)
        .await;
    clio("GET", "/api/v4/matters.json")
        .respond_with(data(json!([{ "id": 202, "display_number": "00002", "description": "Old", "status": "Closed" }])))
        .expect(1)
        .mount(&server)
        .await;
    clio("GET", "/api/v4/relationships.json").respond_with(data(json!([]))).expect(1).mount(&server).await;
    mount_fallback(&server).await;
    let ctx = context_with(json!({ "clioSeeClosedMatters": { "value": true } }));
    let request = FindContactRequest { phone_number: "+14155550100".into(), ..Default::default() };
    let found = connector.find_contact(&ctx, request).await.unwrap();
    assert_eq!(found.contacts[0].additional_info.as_ref().unwrap()["matters"][0]["const"], 202);
}

#[tokio::test]
async fn an_extension_number_is_not_looked_up() {
    let (server, connector) = start().await;
    mount_fallback(&server).await;
    let request = FindContactRequest { phone_number: "101".into(), is_extension: true, ..Default::default() };
    let found = connector.find_contact(&context(), request).await.unwrap();
    assert!(!found.successful && found.contacts.is_empty());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn finds_contacts_by_name_with_email_first() {
    let (server, connector) = start().await;
    clio("GET", "/api/v4/contacts.json")
        .and(query_param("query", "Ada L"))
        .and(query_param("fields", "id,name,created_at,updated_at,primary_email_address,primary_phone_number"))
        .respond_with(data(json!([
            { "id": 1, "name": "Ada One", "primary_email_address": "" },
            { "id": 2, "name": "Ada Two", "primary_email_address": "two@example.com", "primary_phone_number": "+14155550102" },
            { "id": 3, "name": "Ada Three" }
        ])))
        .expect(1)
        .mount(&server)
        .await;
    for id in ["1", "2", "3"] {
        clio("GET", "/api/v4/matters.json")
            .and(query_param("client_id", id))
            .respond_with(data(json!([])))
            .expect(1)
            .mount(&server)
            .await;
    }
    clio("GET", "/api/v4/relationships.json")
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "data": [{ "matter": { "id": 9, "display_number": "9", "description": "Closed one", "status": "Closed" } }],
            "meta": { "paging": { "next": "https://app.clio.com/api/v4/relationships.json?page_token=never" } }
        })))
        .expect(3)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let found = connector.find_contact_with_name(&context(), "Ada L").await.unwrap();
    let ids: Vec<&str> = found.contacts.iter().map(|it| it.id.as_str()).collect();
    assert_eq!(ids, ["2", "1", "3"]);
    let two = &found.contacts[0];
    assert_eq!((two.kind.as_deref(), two.phone.as_deref()), (Some("contact"), Some("+14155550102")));
    // Closed matters never show in a name search, and only the first page of relationships is read.
    assert!(two.additional_info.as_ref().unwrap().get("matters").is_none());
}

#[tokio::test]
async fn creates_a_contact_with_a_work_number() {
    let (server, connector) = start().await;
    clio("POST", "/api/v4/contacts.json")
        .and(body_json(json!({ "data": {
            "name": "Charles Babbage",
            "type": "Company",
            "phone_numbers": [{ "name": "Work", "number": "+14155550199", "default_number": true }]
        }})))
        .respond_with(data(json!({ "id": 104, "name": "Charles Babbage" })))
        .expect(1)
        .mount(&server)
        .await;
    mount_fallback(&server).await;
    let request = CreateContactRequest {
        phone_number: " 14155550199".into(),
        new_contact_name: "Charles Babbage".into(),
        new_contact_type: Some("Company".into()),
        ..Default::default()
    };
    let created = connector.create_contact(&context(), request).await.unwrap();
    assert_eq!((created.contact.id.as_str(), created.contact.name.as_str()), ("104", "Charles Babbage"));
    assert_eq!(received(&server, "POST", "/api/v4/contacts.json").await.len(), 1);
}
