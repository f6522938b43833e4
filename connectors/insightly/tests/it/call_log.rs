//! Call logs as events: create with links in one request, the reconciliation lookup, read back, update, and
//! dispositions (delete then create links).

use callbridge_core::{
    CallDuration, CallRecord, CreateCallLogRequest, DispositionRequest, ErrorKind, GetCallLogRequest, LogContact,
    RecordKey, StartTime, UpdateCallLogRequest,
};
use serde_json::{Map, Value, json};
use wiremock::matchers::{body_json, query_param};

use crate::support::{ctx, fixture, insightly, mount_fallback, ok, received, start};

const BODY: &str = "- Note: wants a quote\n- Summary: Inbound Call from Ada Lovelace\n- Duration: 5 minutes\n";

fn submission(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

pub fn create_request(kind: &str, id: &str) -> CreateCallLogRequest {
    CreateCallLogRequest {
        record_key: RecordKey("rk-1".into()),
        contact: LogContact {
            id: id.into(),
            kind: kind.into(),
            name: "Ada Lovelace".into(),
            phone_number: Some("+16505550100".into()),
        },
        call_log: CallRecord {
            session_id: Some("931929965510".into()),
            direction: Some("Inbound".into()),
            start_time: Some(StartTime::Text("2024-05-01T07:30:00.000Z".into())),
            duration: Some(CallDuration::Seconds(300.into())),
            ..CallRecord::default()
        },
        composed_log_details: BODY.into(),
        additional_submission: submission(json!({ "organisation": "5", "opportunity": 6, "project": "7" })),
        ..CreateCallLogRequest::default()
    }
}

#[tokio::test]
async fn creates_an_event_linked_to_the_contact_and_the_chosen_records() {
    let harness = start().await;
    insightly("POST", "Events")
        .and(body_json(json!({
            "TITLE": "Inbound Call from Ada Lovelace",
            "DETAILS": BODY,
            "START_DATE_UTC": "2024-05-01T07:30:00.000Z",
            "END_DATE_UTC": "2024-05-01T07:35:00.000Z",
            "LOCATION": "callbridge:rk-1",
            "LINKS": [
                { "LINK_OBJECT_NAME": "Contact", "LINK_OBJECT_ID": 101 },
                { "LINK_OBJECT_NAME": "Organisation", "LINK_OBJECT_ID": 5 },
                { "LINK_OBJECT_NAME": "Opportunity", "LINK_OBJECT_ID": 6 },
                { "LINK_OBJECT_NAME": "Project", "LINK_OBJECT_ID": 7 }
            ]
        })))
        .respond_with(ok(fixture!("event.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let created = harness.connector.create_call_log(&ctx(), create_request("contact", "101")).await.unwrap();

    assert_eq!(created.log_id, "9001");
    assert_eq!(created.return_message.unwrap().message, "Call logged");
}

#[tokio::test]
async fn a_lead_log_links_only_the_lead_and_an_outbound_subject_names_the_callee() {
    let harness = start().await;
    insightly("POST", "Events").respond_with(ok(json!({ "EVENT_ID": 9002 }))).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;
    let mut request = create_request("Lead", "201");
    request.call_log.direction = Some("Outbound".into());
    request.call_log.duration = Some(CallDuration::Text("pending".into()));

    let created = harness.connector.create_call_log(&ctx(), request).await.unwrap();

    assert_eq!(created.log_id, "9002");
    let posted = received(&harness.server, "POST", "Events").await;
    assert_eq!(posted[0]["TITLE"], "Outbound Call to Ada Lovelace");
    assert_eq!(posted[0]["END_DATE_UTC"], "2024-05-01T07:30:00.000Z", "a pending call ends where it starts");
    assert_eq!(posted[0]["LINKS"], json!([{ "LINK_OBJECT_NAME": "Lead", "LINK_OBJECT_ID": 201 }]));
}

#[tokio::test]
async fn a_contact_that_is_not_an_insightly_record_is_refused_without_a_request() {
    let harness = start().await;
    mount_fallback(&harness.server).await;

    for (kind, id) in [("contact", "../Users"), ("deal", "101")] {
        let error = harness.connector.create_call_log(&ctx(), create_request(kind, id)).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Rejected, "{kind} {id}");
    }
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn finds_the_event_an_earlier_create_wrote() {
    let harness = start().await;
    insightly("GET", "Events/Search")
        .and(query_param("field_name", "LOCATION"))
        .and(query_param("field_value", "callbridge:rk-1"))
        .and(query_param("brief", "true"))
        .respond_with(ok(json!([{ "EVENT_ID": 9005, "LOCATION": "callbridge:rk-1" }, { "EVENT_ID": 9001 }])))
        .expect(1)
        .mount(&harness.server)
        .await;
    insightly("GET", "Events/Search")
        .and(query_param("field_value", "callbridge:rk-2"))
        .respond_with(ok(json!([])))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;
    let connector = &harness.connector;

    let request = create_request("contact", "101");
    assert_eq!(connector.find_created_call_log(&ctx(), &request).await.unwrap().as_deref(), Some("9001"));
    let request = CreateCallLogRequest { record_key: RecordKey("rk-2".into()), ..request };
    assert_eq!(connector.find_created_call_log(&ctx(), &request).await.unwrap(), None);
    let request = CreateCallLogRequest { record_key: RecordKey::default(), ..request };
    assert_eq!(connector.find_created_call_log(&ctx(), &request).await.unwrap_err().kind(), ErrorKind::Rejected);
}

#[tokio::test]
async fn reads_a_log_back_with_its_note_contact_and_dispositions() {
    let harness = start().await;
    insightly("GET", "Events/9001").respond_with(ok(fixture!("event.json"))).expect(1).mount(&harness.server).await;
    insightly("GET", "Contacts/101").respond_with(ok(fixture!("contact.json"))).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;

    let request = GetCallLogRequest { log_id: "9001".into(), ..GetCallLogRequest::default() };
    let details = harness.connector.get_call_log(&ctx(), request).await.unwrap();

    assert_eq!(details.subject.as_deref(), Some("Inbound Call from Ada Lovelace"));
    assert_eq!(details.note.as_deref(), Some("wants a quote"));
    assert_eq!(details.full_body.as_deref(), Some(BODY));
    assert_eq!(details.contact_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(details.dispositions, Some(json!({ "organisation": "5", "opportunity": "6" })));
    assert_eq!(details.full_log_response, fixture!("event.json"));
}

#[tokio::test]
async fn updates_the_event_with_a_put_of_its_fields() {
    let harness = start().await;
    insightly("PUT", "Events")
        .and(body_json(json!({
            "EVENT_ID": 9001,
            "DETAILS": "- Note: wants a quote\n- Call recording link: https://rc.example/rec/7\n",
            "TITLE": "Inbound Call from Ada Lovelace",
            "START_DATE_UTC": "2024-05-01T07:30:00.000Z",
            "END_DATE_UTC": "2024-05-01T07:36:40.000Z"
        })))
        .respond_with(ok(fixture!("event.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateCallLogRequest {
        log_id: "9001".into(),
        start_time: Some(StartTime::EpochMillis(1_714_548_600_000)),
        duration: Some(CallDuration::Seconds(400.into())),
        composed_log_details: "- Note: wants a quote\n- Call recording link: https://rc.example/rec/7\n".into(),
        existing_log_details: Some(fixture!("event.json")),
        ..UpdateCallLogRequest::default()
    };
    let updated = harness.connector.update_call_log(&ctx(), request).await.unwrap();

    assert_eq!(updated.return_message.unwrap().message, "Call log updated.");
}

#[tokio::test]
async fn an_update_without_the_existing_event_reads_it_first_and_keeps_its_dates() {
    let harness = start().await;
    insightly("GET", "Events/9001").respond_with(ok(fixture!("event.json"))).expect(1).mount(&harness.server).await;
    insightly("PUT", "Events")
        .and(body_json(json!({
            "EVENT_ID": 9001,
            "DETAILS": "- Note: new\n",
            "TITLE": "Follow-up",
            "START_DATE_UTC": "2024-05-01 07:30:00",
            "END_DATE_UTC": "2024-05-01 07:35:00"
        })))
        .respond_with(ok(fixture!("event.json")))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = UpdateCallLogRequest {
        log_id: "9001".into(),
        subject: Some("Follow-up".into()),
        composed_log_details: "- Note: new\n".into(),
        ..UpdateCallLogRequest::default()
    };
    harness.connector.update_call_log(&ctx(), request).await.unwrap();
}

#[tokio::test]
async fn a_disposition_replaces_links_of_other_records_and_keeps_the_right_ones() {
    let harness = start().await;
    insightly("GET", "Events/9001").respond_with(ok(fixture!("event.json"))).expect(1).mount(&harness.server).await;
    insightly("DELETE", "Events/9001/Links/81").respond_with(ok(json!(null))).expect(1).mount(&harness.server).await;
    insightly("POST", "Events/9001/Links")
        .and(body_json(json!({ "LINK_OBJECT_NAME": "Organisation", "LINK_OBJECT_ID": 8 })))
        .respond_with(ok(json!({ "LINK_ID": 90, "LINK_OBJECT_NAME": "Organisation", "LINK_OBJECT_ID": 8 })))
        .expect(1)
        .mount(&harness.server)
        .await;
    insightly("POST", "Events/9001/Links")
        .and(body_json(json!({ "LINK_OBJECT_NAME": "Project", "LINK_OBJECT_ID": 7 })))
        .respond_with(ok(json!({ "LINK_ID": 91, "LINK_OBJECT_NAME": "Project", "LINK_OBJECT_ID": 7 })))
        .expect(1)
        .mount(&harness.server)
        .await;
    mount_fallback(&harness.server).await;

    let request = DispositionRequest {
        log_id: "9001".into(),
        dispositions: submission(json!({ "organisation": "8", "opportunity": "6", "project": 7 })),
    };
    let result = harness.connector.upsert_call_disposition(&ctx(), request).await.unwrap();

    assert_eq!(result.log_id.as_deref(), Some("9001"));
}

#[tokio::test]
async fn a_disposition_without_choices_does_nothing() {
    let harness = start().await;
    mount_fallback(&harness.server).await;

    let request = DispositionRequest { log_id: "9001".into(), dispositions: submission(json!({ "project": "" })) };
    let result = harness.connector.upsert_call_disposition(&ctx(), request).await.unwrap();

    assert_eq!(result.log_id, None);
    assert!(harness.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_assigned_user_owns_the_created_and_updated_event() {
    let harness = start().await;
    insightly("POST", "Events").respond_with(ok(fixture!("event.json"))).expect(1).mount(&harness.server).await;
    insightly("PUT", "Events").respond_with(ok(fixture!("event.json"))).expect(1).mount(&harness.server).await;
    mount_fallback(&harness.server).await;
    let mut ctx = ctx();
    ctx.assigned_crm_user_id = Some("888".into());

    harness.connector.create_call_log(&ctx, create_request("contact", "101")).await.unwrap();
    let request = UpdateCallLogRequest {
        log_id: "9001".into(),
        composed_log_details: BODY.into(),
        existing_log_details: Some(fixture!("event.json")),
        ..UpdateCallLogRequest::default()
    };
    harness.connector.update_call_log(&ctx, request).await.unwrap();

    assert_eq!(received(&harness.server, "POST", "Events").await[0]["OWNER_USER_ID"], 888);
    assert_eq!(received(&harness.server, "PUT", "Events").await[0]["OWNER_USER_ID"], 888);

    // An assignee that is not an Insightly user id is refused before Insightly is asked again.
    ctx.assigned_crm_user_id = Some("ada@example.com".into());
    let error = harness.connector.create_call_log(&ctx, create_request("contact", "101")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rejected);
    assert_eq!(harness.server.received_requests().await.unwrap().len(), 2);
}
