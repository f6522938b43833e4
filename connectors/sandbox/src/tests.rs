//! Unit tests of the sandbox CRM: login, lookups, the call-log round trip and per-account isolation.

use callbridge_core::http::{HttpClient, HttpSettings};
use callbridge_core::{
    CallRecord, Connector, ConnectorConfig, CreateCallLogRequest, ErrorKind, FindContactRequest, GetCallLogRequest,
    LogContact, RequestContext, Secret, UpdateCallLogRequest, User, UserInfoRequest,
};

use crate::crm::note_of;

async fn sandbox() -> std::sync::Arc<dyn Connector> {
    let http = HttpClient::new(&HttpSettings::default()).unwrap();
    crate::connector::build(ConnectorConfig::new(http)).unwrap()
}

async fn login(connector: &dyn Connector, api_key: &str) -> RequestContext {
    let info = connector
        .user_info(UserInfoRequest { api_key: Some(Secret::new(api_key)), ..UserInfoRequest::default() })
        .await
        .unwrap();
    RequestContext {
        user: User { id: info.user.id, platform: "sandbox".to_owned(), ..User::default() },
        auth_header: Secret::new(format!("Basic {api_key}")),
        hashed_account_id: None,
        admin_settings: Default::default(),
        is_from_sscl: false,
        assigned_crm_user_id: None,
    }
}

fn create_request(contact_id: &str, body: &str) -> CreateCallLogRequest {
    CreateCallLogRequest {
        contact: LogContact { id: contact_id.to_owned(), name: "Ada Lovelace".to_owned(), ..LogContact::default() },
        call_log: CallRecord { direction: Some("Inbound".to_owned()), ..CallRecord::default() },
        composed_log_details: body.to_owned(),
        ..CreateCallLogRequest::default()
    }
}

#[tokio::test]
async fn login_derives_a_stable_id_that_hides_the_key() {
    let connector = sandbox().await;
    let first = login(connector.as_ref(), "my-secret-key").await;
    let again = login(connector.as_ref(), "my-secret-key").await;
    assert_eq!(first.user.id, again.user.id);
    assert!(first.user.id.ends_with("-sandbox"));
    assert!(!first.user.id.contains("secret"));

    let empty = connector.user_info(UserInfoRequest { api_key: Some(Secret::new("  ")), ..Default::default() }).await;
    assert_eq!(empty.unwrap_err().kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn finds_seeded_contacts_by_digits_and_offers_creation() {
    let connector = sandbox().await;
    let ctx = login(connector.as_ref(), "k").await;
    let request = FindContactRequest { phone_number: "+1 650-555-0100".to_owned(), ..FindContactRequest::default() };
    let found = connector.find_contact(&ctx, request).await.unwrap();
    let names: Vec<_> = found.contacts.iter().map(|it| it.name.as_str()).collect();
    assert_eq!(names, ["Ada Lovelace", "Create new contact..."]);

    let extension = FindContactRequest { phone_number: "101".to_owned(), is_extension: true, ..Default::default() };
    let refused = connector.find_contact(&ctx, extension).await.unwrap();
    assert!(!refused.successful);
    assert!(refused.contacts.is_empty());
}

#[tokio::test]
async fn call_log_round_trip_and_isolation() {
    let connector = sandbox().await;
    let alice = login(connector.as_ref(), "alice").await;
    let bob = login(connector.as_ref(), "bob").await;

    let created =
        connector.create_call_log(&alice, create_request("c-1", "- Note: hello\n- Summary: s\n")).await.unwrap();
    let details = connector
        .get_call_log(&alice, GetCallLogRequest { log_id: created.log_id.clone(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(details.note.as_deref(), Some("hello"));
    assert_eq!(details.subject.as_deref(), Some("Inbound Call from Ada Lovelace"));
    assert_eq!(details.contact_name.as_deref(), Some("Ada Lovelace"));

    let update = UpdateCallLogRequest {
        log_id: created.log_id.clone(),
        composed_log_details: "- Note: bye\n- Summary: s\n".to_owned(),
        ..Default::default()
    };
    let updated = connector.update_call_log(&alice, update).await.unwrap();
    assert_eq!(updated.updated_note.as_deref(), Some("bye"));

    // Bob's account does not hold Alice's log.
    let foreign =
        connector.get_call_log(&bob, GetCallLogRequest { log_id: created.log_id, ..Default::default() }).await;
    assert_eq!(foreign.unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn note_ends_at_the_next_field_not_at_label_like_text() {
    assert_eq!(note_of("- Note: a\n- todo: call back\n- Summary: s\n").as_deref(), Some("a\n- todo: call back"));
    assert_eq!(note_of("- Note: only\n").as_deref(), Some("only"));
    assert_eq!(note_of("- Summary: s\n"), None);
}

/// The SDK's conformance suite (`conformance_*` tests); the sandbox has no HTTP, so the HTTP rules do not apply.
#[derive(Default)]
struct SandboxFixture;

impl callbridge_core::testing::ConformanceFixture for SandboxFixture {
    fn connector_name(&self) -> &'static str {
        crate::NAME
    }

    fn context(&self) -> RequestContext {
        RequestContext {
            user: User { id: "conformance-sandbox".to_owned(), platform: "sandbox".to_owned(), ..User::default() },
            auth_header: Secret::new("Basic conformance"),
            hashed_account_id: None,
            admin_settings: Default::default(),
            is_from_sscl: false,
            assigned_crm_user_id: None,
        }
    }

    fn speaks_http(&self) -> bool {
        false
    }

    fn log_contact(&self) -> LogContact {
        LogContact { id: "c-1".to_owned(), name: "Ada Lovelace".to_owned(), ..LogContact::default() }
    }
}

callbridge_core::conformance_suite!(SandboxFixture);
#[tokio::test]
async fn a_created_record_is_found_by_its_key_and_only_in_its_account() {
    let connector = sandbox().await;
    let ctx = login(connector.as_ref(), "key-find").await;
    let other = login(connector.as_ref(), "key-find-other").await;
    let mut request = create_request("c-1", "- Note: hello");
    request.record_key = callbridge_core::connector::RecordKey("cb1-session-1".to_owned());
    assert_eq!(connector.find_created_call_log(&ctx, &request).await.unwrap(), None);
    let created = connector.create_call_log(&ctx, request.clone()).await.unwrap();
    assert_eq!(connector.find_created_call_log(&ctx, &request).await.unwrap(), Some(created.log_id));
    assert_eq!(connector.find_created_call_log(&other, &request).await.unwrap(), None);
    request.record_key = callbridge_core::connector::RecordKey("cb1-session-2".to_owned());
    assert_eq!(connector.find_created_call_log(&ctx, &request).await.unwrap(), None);
}
