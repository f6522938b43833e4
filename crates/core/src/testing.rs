//! The connector conformance suite: the rules every connector keeps, checked against a wiremock CRM with one macro
//! call, [`conformance_suite!`](crate::conformance_suite). Enabled by the `testing` feature (dev-dependencies only).
//!
//! A connector passes a small [`ConformanceFixture`]: how to build it, a user's request context, and the CRM's
//! answers to the few requests the suite makes, as data. The suite mounts those answers itself, so it can change
//! them (unknown fields everywhere) or replace them (every error status) without knowing the CRM. Each rule is its
//! own test named `conformance_<rule>`; a broken rule fails with a message naming it.

use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value};
use wiremock::matchers::{any, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use crate::connector::{
    AuthType, Connector, ConnectorConfig, CreateCallLogRequest, FindContactRequest, LogContact, OAuthInfo,
    OAuthInfoRequest, Operation, RecordKey, RequestContext, UserInfoRequest,
};
use crate::error::{ConnectorError, ErrorKind};
use crate::http::{HttpClient, HttpSettings, RetryPolicy};
use crate::schema::CallRecord;
use crate::secret::Secret;

/// A key the suite adds to every JSON object of a CRM answer, to prove the connector tolerates unknown fields.
pub const UNKNOWN_FIELD: &str = "callbridgeConformanceUnknownField";

/// One canned CRM answer: `method path` (query ignored) answers `status` with `body`.
#[derive(Clone, Debug)]
pub struct Answer {
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// A `200 OK` with a JSON body.
    pub fn ok(method: &'static str, path: impl Into<String>, body: Value) -> Self {
        Self { method, path: path.into(), status: 200, body }
    }

    fn mock(&self, body: Value) -> Mock {
        Mock::given(method(self.method))
            .and(path(self.path.as_str()))
            .respond_with(ResponseTemplate::new(self.status).set_body_json(body))
    }
}

/// The CRM answers for the reconciliation rule: create a call log, then look it up by its [`RecordKey`].
#[derive(Clone, Debug, Default)]
pub struct ReconciliationAnswers {
    /// The answers to what `create_call_log` sends.
    pub create: Vec<Answer>,
    /// The lookup's answer when the CRM holds the record: served only to a request that carries the key.
    pub found: Vec<Answer>,
    /// The lookup's answer when it does not.
    pub not_found: Vec<Answer>,
    /// The id of the record `create` writes and `found` describes.
    pub log_id: String,
}

/// What a connector gives the suite. Only [`ConformanceFixture::connector_name`] and
/// [`ConformanceFixture::context`] are required; an HTTP connector also gives [`ConformanceFixture::find_contact`].
pub trait ConformanceFixture: Default + Send + Sync + 'static {
    /// The registry name.
    fn connector_name(&self) -> &'static str;

    /// The settings the connector needs to build (client id, ...).
    fn configure(&self, config: ConnectorConfig) -> ConnectorConfig {
        config
    }

    /// Builds the connector; by default through the registry, as the host does.
    fn build(&self, config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
        let descriptor =
            crate::registry::get(self.connector_name()).map_err(|it| ConnectorError::config(it.to_string()))?;
        (descriptor.build)(config)
    }

    /// A logged-in user's request context.
    fn context(&self) -> RequestContext;

    /// False for a connector that does not talk HTTP (the sandbox): the error and unknown-field rules do not apply.
    fn speaks_http(&self) -> bool {
        true
    }

    /// The phone number the suite looks up.
    fn phone_number(&self) -> &'static str {
        "+14155550100"
    }

    /// The CRM's answers to `find_contact(phone_number)` finding one contact.
    fn find_contact(&self) -> Vec<Answer> {
        Vec::new()
    }

    /// The `additionalSubmission` and settings keys the connector reads: each must be named in its manifest.
    fn fields_read(&self) -> &'static [&'static str] {
        &[]
    }

    /// The contact a call log is written against in the reconciliation rule.
    fn log_contact(&self) -> LogContact {
        LogContact {
            id: "1".into(),
            phone_number: Some(self.phone_number().into()),
            kind: "contact".into(),
            name: "Ada".into(),
        }
    }

    /// The answers for the reconciliation rule; checked only when the connector lists `FindCreatedRecord`.
    fn reconciliation(&self) -> ReconciliationAnswers {
        ReconciliationAnswers::default()
    }
}

/// The rules, one test each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `operations()` is sorted, unique, holds what App Connect needs, and its auth operation fits `auth_type()`.
    OperationsListed,
    /// Every operation not listed answers `Unsupported`, without calling the CRM.
    UnlistedOperationsUnsupported,
    /// 401, 403, 404, 422, 429 (with `Retry-After`) and 5xx map to the right kind, temporary flag and message.
    ErrorStatusesMapped,
    /// Unknown JSON fields in CRM answers are ignored.
    UnknownFieldsTolerated,
    /// The manifest is well formed, names the connector, matches its auth type and names every field it reads.
    ManifestValid,
    /// `find_created_call_log` finds what `create_call_log` wrote under the same key, and nothing for another.
    ReconciliationFindsCreated,
}

impl Rule {
    pub const ALL: [Rule; 6] = [
        Rule::OperationsListed,
        Rule::UnlistedOperationsUnsupported,
        Rule::ErrorStatusesMapped,
        Rule::UnknownFieldsTolerated,
        Rule::ManifestValid,
        Rule::ReconciliationFindsCreated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::OperationsListed => "operations are listed",
            Rule::UnlistedOperationsUnsupported => "unlisted operations answer Unsupported",
            Rule::ErrorStatusesMapped => "CRM error statuses are mapped",
            Rule::UnknownFieldsTolerated => "unknown fields in CRM answers are tolerated",
            Rule::ManifestValid => "the manifest is valid",
            Rule::ReconciliationFindsCreated => "reconciliation finds the created record",
        }
    }
}

/// Runs `future` to completion on a fresh runtime; the macro's tests are plain `#[test]`s.
#[doc(hidden)]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(future)
}

/// Checks one rule; `Err` says what is broken, prefixed with the rule's name.
pub async fn check<F: ConformanceFixture>(fixture: &F, rule: Rule) -> Result<(), String> {
    let server = MockServer::start().await;
    let http = HttpClient::new(&HttpSettings::default())
        .map_err(|error| error.to_string())?
        .with_origin_override(url::Url::parse(&server.uri()).ok())
        .with_retry(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    let connector = fixture.build(fixture.configure(ConnectorConfig::new(http))).map_err(|error| error.to_string())?;
    let suite = Suite { fixture, connector: connector.as_ref(), server: &server };
    let outcome = match rule {
        Rule::OperationsListed => suite.operations_listed(),
        Rule::UnlistedOperationsUnsupported => suite.unlisted_operations_unsupported().await,
        Rule::ErrorStatusesMapped => suite.error_statuses_mapped().await,
        Rule::UnknownFieldsTolerated => suite.unknown_fields_tolerated().await,
        Rule::ManifestValid => suite.manifest_valid(),
        Rule::ReconciliationFindsCreated => suite.reconciliation_finds_created().await,
    };
    outcome.map_err(|detail| format!("conformance rule `{}` is broken for {}: {detail}", rule.name(), connector.name()))
}

/// Checks one rule and panics with what is broken; what the macro's tests call.
pub fn assert_rule<F: ConformanceFixture>(rule: Rule) {
    if let Err(message) = block_on(check(&F::default(), rule)) {
        panic!("{message}");
    }
}

/// One `#[test]` per conformance rule for a connector's fixture, named `conformance_<rule>`.
///
/// ```ignore
/// callbridge_core::conformance_suite!(PipedriveFixture);
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($fixture:ty) => {
        type ConformanceFixtureUnderTest = $fixture;
        mod conformance {
            use $crate::testing::{Rule, assert_rule};
            type Fixture = super::ConformanceFixtureUnderTest;
            #[test]
            fn conformance_operations_listed() {
                assert_rule::<Fixture>(Rule::OperationsListed);
            }
            #[test]
            fn conformance_unlisted_operations_unsupported() {
                assert_rule::<Fixture>(Rule::UnlistedOperationsUnsupported);
            }
            #[test]
            fn conformance_error_statuses_mapped() {
                assert_rule::<Fixture>(Rule::ErrorStatusesMapped);
            }
            #[test]
            fn conformance_unknown_fields_tolerated() {
                assert_rule::<Fixture>(Rule::UnknownFieldsTolerated);
            }
            #[test]
            fn conformance_manifest_valid() {
                assert_rule::<Fixture>(Rule::ManifestValid);
            }
            #[test]
            fn conformance_reconciliation_finds_created() {
                assert_rule::<Fixture>(Rule::ReconciliationFindsCreated);
            }
        }
    };
}

struct Suite<'a, F> {
    fixture: &'a F,
    connector: &'a dyn Connector,
    server: &'a MockServer,
}

/// The operations App Connect calls on every connector.
const REQUIRED: [Operation; 5] = [
    Operation::GetUserInfo,
    Operation::FindContact,
    Operation::CreateCallLog,
    Operation::UpdateCallLog,
    Operation::Unauthorize,
];

impl<F: ConformanceFixture> Suite<'_, F> {
    fn lists(&self, operation: Operation) -> bool {
        self.connector.operations().contains(&operation)
    }

    fn operations_listed(&self) -> Result<(), String> {
        let operations = self.connector.operations();
        if !operations.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(format!("{operations:?} is not sorted in `Operation` order without duplicates"));
        }
        if let Some(missing) = REQUIRED.iter().find(|it| !operations.contains(it)) {
            return Err(format!("{missing} is required but not listed"));
        }
        let (own, other) = match self.connector.auth_type() {
            AuthType::OAuth => (Operation::GetOauthInfo, Operation::GetBasicAuth),
            AuthType::ApiKey => (Operation::GetBasicAuth, Operation::GetOauthInfo),
        };
        if !operations.contains(&own) || operations.contains(&other) {
            return Err(format!("a {} connector lists {own} and not {other}", self.connector.auth_type().as_str()));
        }
        Ok(())
    }

    async fn unlisted_operations_unsupported(&self) -> Result<(), String> {
        // Any request to the CRM is a failure here: an unlisted operation must not reach it.
        mount_catch_all(
            self.server,
            ResponseTemplate::new(500).set_body_string("an unlisted operation called the CRM"),
        )
        .await;
        let ctx = self.fixture.context();
        let connector = self.connector;
        for operation in Operation::ALL.into_iter().filter(|it| !self.lists(*it)) {
            let outcome: Result<(), ConnectorError> = match operation {
                Operation::GetOauthInfo => connector.oauth_info(&OAuthInfoRequest::default()).map(drop),
                Operation::GetBasicAuth => connector.basic_auth(&Secret::new("key")).map(drop),
                Operation::GetUserInfo => connector.user_info(UserInfoRequest::default()).await.map(drop),
                Operation::FindContact => connector.find_contact(&ctx, FindContactRequest::default()).await.map(drop),
                Operation::FindContactWithName => connector.find_contact_with_name(&ctx, "Ada").await.map(drop),
                Operation::CreateContact => connector.create_contact(&ctx, Default::default()).await.map(drop),
                Operation::CreateCallLog => connector.create_call_log(&ctx, Default::default()).await.map(drop),
                Operation::GetCallLog => connector.get_call_log(&ctx, Default::default()).await.map(drop),
                Operation::UpdateCallLog => connector.update_call_log(&ctx, Default::default()).await.map(drop),
                Operation::UpsertCallDisposition => {
                    connector.upsert_call_disposition(&ctx, Default::default()).await.map(drop)
                }
                Operation::CreateMessageLog => connector.create_message_log(&ctx, Default::default()).await.map(drop),
                Operation::UpdateMessageLog => connector.update_message_log(&ctx, Default::default()).await.map(drop),
                Operation::Unauthorize => connector.unauthorize(&ctx).await.map(drop),
                Operation::GetUserList => connector.user_list(&ctx).await.map(drop),
                Operation::RefreshToken => connector.refresh_token(&ctx.user, &dummy_oauth_info()).await.map(drop),
                Operation::FindCreatedRecord => {
                    let call = connector.find_created_call_log(&ctx, &Default::default()).await.map(drop);
                    let message = connector.find_created_message_log(&ctx, &Default::default()).await.map(drop);
                    call.and(message)
                }
            };
            match outcome {
                Err(error) if error.kind() == ErrorKind::Unsupported => {}
                Err(error) => return Err(format!("{operation} is not listed but answered {error}")),
                Ok(()) => return Err(format!("{operation} is not listed but succeeded")),
            }
        }
        Ok(())
    }

    async fn error_statuses_mapped(&self) -> Result<(), String> {
        if !self.fixture.speaks_http() {
            return Ok(());
        }
        let platform = self.connector.name();
        // status, kind, temporary, the headline the extension shows for a failed contact lookup
        let table = [
            (401, ErrorKind::Unauthorized, false, "Authorization error"),
            (403, ErrorKind::Unauthorized, false, "Authorization error"),
            (404, ErrorKind::NotFound, false, "Authorization error"),
            (422, ErrorKind::Rejected, false, "Error finding contact"),
            (429, ErrorKind::RateLimited, true, "Rate limit exceeded"),
            (500, ErrorKind::Upstream, true, "Error finding contact"),
            (503, ErrorKind::Upstream, true, "Error finding contact"),
        ];
        for (status, kind, temporary, headline) in table {
            self.server.reset().await;
            let mut answer = ResponseTemplate::new(status)
                .set_body_json(serde_json::json!({ "error": "conformance", "message": "conformance" }));
            if status == 429 {
                answer = answer.insert_header("retry-after", "7");
            }
            mount_catch_all(self.server, answer).await;
            let error = match self.find_contact().await {
                Ok(()) => return Err(format!("a {status} answer to find_contact was taken as success")),
                Err(error) => error,
            };
            let shown = error.to_return_message(Operation::FindContact, platform).message;
            let got = (error.kind(), error.is_temporary(), error.status(), shown.as_str());
            if got != (kind, temporary, Some(status), headline) {
                return Err(format!(
                    "a {status} answer should be ({kind}, temporary {temporary}, status {status}, \"{headline}\"), \
                     got ({}, temporary {}, status {:?}, \"{}\"): {error}",
                    got.0, got.1, got.2, got.3
                ));
            }
            let seven_seconds = Some(std::time::Duration::from_secs(7));
            if status == 429 && error.retry_after() != seven_seconds {
                return Err(format!("a 429 with `Retry-After: 7` gave retry after {:?}", error.retry_after()));
            }
        }
        Ok(())
    }

    async fn unknown_fields_tolerated(&self) -> Result<(), String> {
        if !self.fixture.speaks_http() {
            return Ok(());
        }
        let answers = self.fixture.find_contact();
        if answers.is_empty() {
            return Err("the fixture gives no find_contact answers to add unknown fields to".into());
        }
        for answer in &answers {
            answer.mock(with_unknown_fields(answer.body.clone())).mount(self.server).await;
        }
        mount_catch_all(self.server, ResponseTemplate::new(500).set_body_string("no canned answer")).await;
        self.find_contact()
            .await
            .map_err(|error| format!("find_contact failed on answers with unknown fields: {error}"))
    }

    async fn find_contact(&self) -> Result<(), ConnectorError> {
        let request = FindContactRequest { phone_number: self.fixture.phone_number().into(), ..Default::default() };
        let matches = self.connector.find_contact(&self.fixture.context(), request).await?;
        if matches.successful {
            Ok(())
        } else {
            Err(ConnectorError::upstream("find_contact answered successful: false"))
        }
    }

    fn manifest_valid(&self) -> Result<(), String> {
        let manifest = self.connector.manifest();
        if manifest.name != self.connector.name() {
            return Err(format!(
                "the manifest names `{}`, the connector is `{}`",
                manifest.name,
                self.connector.name()
            ));
        }
        if manifest.display_name.trim().is_empty() {
            return Err("the manifest has no display name".into());
        }
        if manifest.auth.auth_type() != self.connector.auth_type() {
            return Err(format!("the manifest's auth is not {}", self.connector.auth_type().as_str()));
        }
        if let crate::manifest::ManifestAuth::OAuth { oauth } = &manifest.auth
            && url::Url::parse(&oauth.auth_url).is_err()
        {
            return Err(format!("the OAuth authUrl `{}` is not an absolute URL", oauth.auth_url));
        }
        let ids: Vec<&str> = manifest.field_ids().collect();
        if let Some(empty) = ids.iter().find(|it| it.trim().is_empty()) {
            return Err(format!("a field or setting has an empty id `{empty}`"));
        }
        for read in self.fixture.fields_read() {
            if !ids.contains(read) {
                return Err(format!("the connector reads `{read}`, which the manifest does not name"));
            }
        }
        let mut settings: Vec<&str> = manifest
            .settings
            .iter()
            .flat_map(|it| &it.items)
            .chain(&manifest.admin_settings)
            .map(|it| it.id.as_str())
            .collect();
        let count = settings.len();
        settings.sort_unstable();
        settings.dedup();
        if settings.len() != count {
            return Err("two settings share an id".into());
        }
        Ok(())
    }

    async fn reconciliation_finds_created(&self) -> Result<(), String> {
        if !self.lists(Operation::FindCreatedRecord) {
            return Ok(());
        }
        let answers = self.fixture.reconciliation();
        let ctx = self.fixture.context();
        let written = RecordKey("conformance-written-key".into());
        let request = |record_key: RecordKey| CreateCallLogRequest {
            record_key,
            contact: self.fixture.log_contact(),
            call_log: CallRecord {
                session_id: Some("conformance-session".into()),
                direction: Some("Inbound".into()),
                ..CallRecord::default()
            },
            composed_log_details: "conformance call".into(),
            ..CreateCallLogRequest::default()
        };
        for answer in &answers.create {
            answer.mock(answer.body.clone()).mount(self.server).await;
        }
        let created = self.connector.create_call_log(&ctx, request(written.clone())).await;
        let created = created.map_err(|error| format!("create_call_log failed: {error}"))?;
        if self.fixture.speaks_http() {
            let requests = self.server.received_requests().await.unwrap_or_default();
            if !requests.iter().any(|it| CarriesKey(written.0.clone()).matches(it)) {
                return Err("no request of create_call_log carried the record key".into());
            }
        } else {
            // Without a mock CRM the id the connector gave is the one to find.
            return self.expect_found(&ctx, request, &written, &created.log_id).await;
        }
        self.server.reset().await;
        for answer in &answers.found {
            Mock::given(method(answer.method))
                .and(path(answer.path.as_str()))
                .and(CarriesKey(written.0.clone()))
                .respond_with(ResponseTemplate::new(answer.status).set_body_json(&answer.body))
                .with_priority(1)
                .mount(self.server)
                .await;
        }
        for answer in &answers.not_found {
            answer.mock(answer.body.clone()).with_priority(2).mount(self.server).await;
        }
        self.expect_found(&ctx, request, &written, &answers.log_id).await
    }

    async fn expect_found(
        &self,
        ctx: &RequestContext,
        request: impl Fn(RecordKey) -> CreateCallLogRequest,
        written: &RecordKey,
        log_id: &str,
    ) -> Result<(), String> {
        let found = self.connector.find_created_call_log(ctx, &request(written.clone())).await;
        match found {
            Ok(Some(id)) if id == log_id => {}
            other => return Err(format!("the record created with key `{written}` was not found: {other:?}")),
        }
        let other = RecordKey("conformance-other-key".into());
        match self.connector.find_created_call_log(ctx, &request(other.clone())).await {
            Ok(None) => Ok(()),
            found => Err(format!("a lookup for the never-written key `{other}` answered {found:?}, not None")),
        }
    }
}

/// Matches a request whose URL, headers or body contain the key.
struct CarriesKey(String);

impl Match for CarriesKey {
    fn matches(&self, request: &Request) -> bool {
        request.url.as_str().contains(&self.0)
            || String::from_utf8_lossy(&request.body).contains(&self.0)
            || request.headers.values().any(|it| it.to_str().is_ok_and(|it| it.contains(&self.0)))
    }
}

async fn mount_catch_all(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(any()).respond_with(answer).with_priority(u8::MAX).mount(server).await;
}

/// `value` with [`UNKNOWN_FIELD`] added to every object, nested ones included.
pub fn with_unknown_fields(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut object: Map<String, Value> =
                object.into_iter().map(|(key, value)| (key, with_unknown_fields(value))).collect();
            object.insert(UNKNOWN_FIELD.into(), serde_json::json!({ "nested": [1, "two", null] }));
            Value::Object(object)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(with_unknown_fields).collect()),
        other => other,
    }
}

fn dummy_oauth_info() -> OAuthInfo {
    OAuthInfo {
        client_id: "conformance".into(),
        client_secret: Secret::new("conformance"),
        token_url: "https://conformance.invalid/token".into(),
        redirect_uri: "https://conformance.invalid/redirect".into(),
        authorization_url: None,
        scopes: Vec::new(),
        hostname: None,
    }
}
