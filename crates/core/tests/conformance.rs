//! The conformance suite itself: a small well-behaved HTTP connector passes every rule through the macro, and each
//! deliberately broken variant fails exactly the rule it breaks, with a message naming that rule.

use std::sync::Arc;

use callbridge_core::http::StatusCode;
use callbridge_core::manifest::{Field, FieldKind, LogPage, ManifestAuth, Pages};
use callbridge_core::testing::{Answer, ConformanceFixture, ReconciliationAnswers, Rule, block_on, check};
use callbridge_core::{
    AuthType, CallLogCreated, CallLogUpdated, Connector, ConnectorConfig, ConnectorError, ContactInfo, ContactMatches,
    CreateCallLogRequest, CreateContactRequest, CreatedContact, ErrorKind, FindContactRequest, Operation,
    PlatformManifest, PlatformUserInfo, RequestContext, Secret, Unauthorized, UpdateCallLogRequest, User, UserInfo,
    UserInfoRequest, UserSettings, async_trait,
};
use serde::Deserialize;
use serde_json::{Value, json};

const BASE: &str = "https://crm.example";

/// What a variant gets wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Breakage {
    OperationsUnsorted,
    CallsCrmForUnlistedOperation,
    RateLimitAsRejected,
    StrictJson,
    ManifestNamesAnotherPlatform,
    ReadsUndeclaredField,
    ForgetsRecordKey,
}

struct Example {
    http: callbridge_core::http::HttpClient,
    breakage: Option<Breakage>,
}

#[derive(Deserialize)]
struct Contact {
    id: Value,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictContact {
    id: Value,
    name: String,
}

#[derive(Deserialize)]
struct Created {
    id: Value,
}

impl Example {
    fn parse_error(&self) -> impl FnOnce(StatusCode, &[u8]) -> ConnectorError + '_ {
        move |status, body| {
            if self.breakage == Some(Breakage::RateLimitAsRejected) && status == StatusCode::TOO_MANY_REQUESTS {
                return ConnectorError::new(ErrorKind::Rejected, "slow down").with_status(429);
            }
            ConnectorError::from_crm_response("example", status, body, None)
        }
    }

    async fn get(&self, ctx: &RequestContext, url: &str, query: &[(&str, &str)]) -> Result<Value, ConnectorError> {
        let request = self.http.get(url).authorization(&ctx.auth_header).query(query);
        request.send().await?.error_for_status(self.parse_error())?.json()
    }
}

#[async_trait]
impl Connector for Example {
    fn name(&self) -> &'static str {
        "example"
    }

    fn auth_type(&self) -> AuthType {
        AuthType::ApiKey
    }

    fn operations(&self) -> &'static [Operation] {
        if self.breakage == Some(Breakage::OperationsUnsorted) {
            return &[Operation::FindContact, Operation::GetBasicAuth, Operation::GetUserInfo];
        }
        &[
            Operation::GetBasicAuth,
            Operation::GetUserInfo,
            Operation::FindContact,
            Operation::CreateCallLog,
            Operation::UpdateCallLog,
            Operation::Unauthorize,
            Operation::FindCreatedRecord,
        ]
    }

    fn manifest(&self) -> PlatformManifest {
        let name = if self.breakage == Some(Breakage::ManifestNamesAnotherPlatform) { "other" } else { "example" };
        let matter = Field::new("matter", "Matter", FieldKind::Selection).contact_dependent();
        PlatformManifest {
            name: name.into(),
            display_name: "Example".into(),
            auth: ManifestAuth::api_key("Example", "Your API key."),
            page: Pages { call_log: Some(LogPage { additional_fields: vec![matter] }), ..Pages::default() },
            ..PlatformManifest::default()
        }
    }

    fn basic_auth(&self, api_key: &Secret) -> Result<Secret, ConnectorError> {
        Ok(api_key.clone())
    }

    async fn user_info(&self, _request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        Ok(UserInfo { user: PlatformUserInfo { id: "1-example".into(), ..Default::default() }, return_message: None })
    }

    async fn find_contact(
        &self,
        ctx: &RequestContext,
        request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError> {
        let found = self.get(ctx, &format!("{BASE}/contacts"), &[("phone", &request.phone_number)]).await?;
        let contacts = if self.breakage == Some(Breakage::StrictJson) {
            let found: Vec<StrictContact> = serde_json::from_value(found).map_err(unexpected)?;
            found.into_iter().map(|it| (it.id, it.name)).collect::<Vec<_>>()
        } else {
            let found: Vec<Contact> = serde_json::from_value(found).map_err(unexpected)?;
            found.into_iter().map(|it| (it.id, it.name)).collect()
        };
        let contacts = contacts
            .into_iter()
            .map(|(id, name)| ContactInfo { id: id.to_string(), name, ..ContactInfo::default() })
            .collect();
        Ok(ContactMatches { successful: true, contacts, ..ContactMatches::default() })
    }

    async fn create_contact(
        &self,
        ctx: &RequestContext,
        _request: CreateContactRequest,
    ) -> Result<CreatedContact, ConnectorError> {
        if self.breakage == Some(Breakage::CallsCrmForUnlistedOperation) {
            self.get(ctx, &format!("{BASE}/contacts"), &[]).await?;
        }
        Err(ConnectorError::unsupported(Operation::CreateContact))
    }

    async fn create_call_log(
        &self,
        ctx: &RequestContext,
        request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError> {
        if self.breakage == Some(Breakage::ReadsUndeclaredField) {
            let _ = request.additional_submission.get("billable");
        }
        let key = if self.breakage == Some(Breakage::ForgetsRecordKey) { "" } else { request.record_key.as_str() };
        let body = json!({ "contact": request.contact.id, "note": request.composed_log_details, "externalId": key });
        let response =
            self.http.post(&format!("{BASE}/logs")).authorization(&ctx.auth_header).json(&body).send().await?;
        let created: Created = response.error_for_status(self.parse_error())?.json()?;
        Ok(CallLogCreated { log_id: created.id.to_string(), return_message: None, settings_update: None })
    }

    async fn find_created_call_log(
        &self,
        ctx: &RequestContext,
        request: &CreateCallLogRequest,
    ) -> Result<Option<String>, ConnectorError> {
        let found = self.get(ctx, &format!("{BASE}/logs"), &[("externalId", request.record_key.as_str())]).await?;
        let found: Vec<Created> = serde_json::from_value(found).map_err(unexpected)?;
        Ok(found.into_iter().next().map(|it| it.id.to_string()))
    }

    async fn update_call_log(
        &self,
        _ctx: &RequestContext,
        _request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        Ok(CallLogUpdated::default())
    }

    async fn unauthorize(&self, _ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        Ok(Unauthorized::default())
    }
}

fn unexpected(error: serde_json::Error) -> ConnectorError {
    ConnectorError::upstream("unexpected answer").with_source(error)
}

#[derive(Default)]
struct ExampleFixture {
    breakage: Option<Breakage>,
}

impl ConformanceFixture for ExampleFixture {
    fn connector_name(&self) -> &'static str {
        "example"
    }

    fn build(&self, config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
        Ok(Arc::new(Example { http: config.http, breakage: self.breakage }))
    }

    fn context(&self) -> RequestContext {
        RequestContext {
            user: User { id: "1-example".into(), platform: "example".into(), ..User::default() },
            auth_header: Secret::new("Basic a2V5"),
            hashed_account_id: None,
            admin_settings: UserSettings::default(),
            is_from_sscl: false,
            assigned_crm_user_id: None,
        }
    }

    fn find_contact(&self) -> Vec<Answer> {
        vec![Answer::ok("GET", "/contacts", json!([{ "id": 7, "name": "Ada" }]))]
    }

    fn fields_read(&self) -> &'static [&'static str] {
        if self.breakage == Some(Breakage::ReadsUndeclaredField) { &["matter", "billable"] } else { &["matter"] }
    }

    fn reconciliation(&self) -> ReconciliationAnswers {
        ReconciliationAnswers {
            create: vec![Answer::ok("POST", "/logs", json!({ "id": 42 }))],
            found: vec![Answer::ok("GET", "/logs", json!([{ "id": 42 }]))],
            not_found: vec![Answer::ok("GET", "/logs", json!([]))],
            log_id: "42".into(),
        }
    }
}

callbridge_core::conformance_suite!(ExampleFixture);

/// Each broken variant fails its rule, and the message names the rule.
#[test]
fn conformance_each_broken_connector_fails_the_rule_it_breaks() {
    let cases = [
        (Breakage::OperationsUnsorted, Rule::OperationsListed),
        (Breakage::CallsCrmForUnlistedOperation, Rule::UnlistedOperationsUnsupported),
        (Breakage::RateLimitAsRejected, Rule::ErrorStatusesMapped),
        (Breakage::StrictJson, Rule::UnknownFieldsTolerated),
        (Breakage::ManifestNamesAnotherPlatform, Rule::ManifestValid),
        (Breakage::ReadsUndeclaredField, Rule::ManifestValid),
        (Breakage::ForgetsRecordKey, Rule::ReconciliationFindsCreated),
    ];
    for (breakage, rule) in cases {
        let fixture = ExampleFixture { breakage: Some(breakage) };
        let error = block_on(check(&fixture, rule)).expect_err(&format!("{breakage:?} passes {rule:?}"));
        assert!(error.contains(&format!("conformance rule `{}`", rule.name())), "{breakage:?}: {error}");
    }
}
