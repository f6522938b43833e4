//! The registry: `register_connector!` works from another crate, names are sorted, lookups name the known
//! connectors, and `validate` enforces the name rules.

use std::sync::Arc;

use callbridge_core::http::{HttpClient, HttpSettings};
use callbridge_core::registry::{self, RegistryError, UnknownConnector};
use callbridge_core::{
    AuthType, CallLogCreated, CallLogUpdated, Connector, ConnectorConfig, ConnectorDescriptor, ConnectorError,
    ContactMatches, CreateCallLogRequest, FindContactRequest, Operation, RequestContext, Unauthorized,
    UpdateCallLogRequest, UserInfo, UserInfoRequest,
};

/// The smallest connector there is: it answers nothing, but it registers like a real one.
struct Probe {
    name: &'static str,
}

#[callbridge_core::async_trait]
impl Connector for Probe {
    fn name(&self) -> &'static str {
        self.name
    }

    fn auth_type(&self) -> AuthType {
        AuthType::ApiKey
    }

    fn operations(&self) -> &'static [Operation] {
        &[Operation::FindContact, Operation::CreateCallLog, Operation::UpdateCallLog]
    }

    fn manifest(&self) -> callbridge_core::PlatformManifest {
        callbridge_core::PlatformManifest { name: self.name.to_owned(), ..Default::default() }
    }

    async fn user_info(&self, _request: UserInfoRequest) -> Result<UserInfo, ConnectorError> {
        Err(ConnectorError::unsupported(Operation::GetUserInfo))
    }

    async fn find_contact(
        &self,
        _ctx: &RequestContext,
        _request: FindContactRequest,
    ) -> Result<ContactMatches, ConnectorError> {
        Ok(ContactMatches { successful: true, ..ContactMatches::default() })
    }

    async fn create_call_log(
        &self,
        _ctx: &RequestContext,
        _request: CreateCallLogRequest,
    ) -> Result<CallLogCreated, ConnectorError> {
        Err(ConnectorError::upstream("the probe keeps no logs"))
    }

    async fn update_call_log(
        &self,
        _ctx: &RequestContext,
        _request: UpdateCallLogRequest,
    ) -> Result<CallLogUpdated, ConnectorError> {
        Err(ConnectorError::upstream("the probe keeps no logs"))
    }

    async fn unauthorize(&self, _ctx: &RequestContext) -> Result<Unauthorized, ConnectorError> {
        Ok(Unauthorized::default())
    }
}

fn build_zeta(_config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(Probe { name: "zeta_probe" }))
}

fn build_alpha(config: ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    config.require("alpha_probe", "api_key")?;
    Ok(Arc::new(Probe { name: "alpha_probe" }))
}

// Registered in reverse order, so that the sorted result proves `all()` sorts.
callbridge_core::register_connector! {
    ConnectorDescriptor { name: "zeta_probe", display_name: "Zeta probe", build: build_zeta }
}

callbridge_core::register_connector! {
    ConnectorDescriptor { name: "alpha_probe", display_name: "Alpha probe", build: build_alpha }
}

fn config() -> ConnectorConfig {
    ConnectorConfig::new(HttpClient::new(&HttpSettings::default()).unwrap())
}

#[test]
fn the_macro_registers_connectors_and_names_are_sorted() {
    assert_eq!(registry::names(), ["alpha_probe", "zeta_probe"]);
    let display_names: Vec<_> = registry::all().iter().map(|it| it.display_name).collect();
    assert_eq!(display_names, ["Alpha probe", "Zeta probe"]);
}

#[test]
fn the_registered_names_pass_validation() {
    assert_eq!(registry::validate(&registry::names()), Ok(()));
}

#[test]
fn get_finds_a_registered_connector_and_builds_it() {
    let descriptor = registry::get("zeta_probe").unwrap();
    assert_eq!(descriptor.name, "zeta_probe");
    let connector = (descriptor.build)(config()).unwrap();
    assert_eq!(connector.name(), "zeta_probe");
    assert_eq!(connector.operations(), [Operation::FindContact, Operation::CreateCallLog, Operation::UpdateCallLog]);
    assert!(format!("{descriptor:?}").contains("Zeta probe"));
}

#[test]
fn a_build_function_reports_missing_configuration() {
    let descriptor = registry::get("alpha_probe").unwrap();
    let error = (descriptor.build)(config()).err().unwrap();
    assert_eq!(error.to_string(), "config: api_key is not configured: set ALPHA_PROBE_API_KEY");
    assert!((descriptor.build)(config().with_value("api_key", "k")).is_ok());
}

#[test]
fn get_of_an_unknown_name_lists_the_known_names() {
    let error = registry::get("pipedrive").unwrap_err();
    assert_eq!(error, UnknownConnector { name: "pipedrive".into(), known: vec!["alpha_probe", "zeta_probe"] });
    assert_eq!(error.to_string(), "unknown connector `pipedrive`; known connectors: alpha_probe, zeta_probe");
}

#[test]
fn validate_accepts_good_names() {
    assert_eq!(registry::validate(&[]), Ok(()));
    assert_eq!(registry::validate(&["pipedrive", "clio", "google_sheets", "a", "net2suite", "x_"]), Ok(()));
}

#[test]
fn validate_rejects_malformed_names() {
    for name in ["Pipedrive", "1crm", "my-crm", "", "_crm", "crm name", "crm.io", "ßcrm", "crmé"] {
        assert_eq!(
            registry::validate(&["clio", name]),
            Err(RegistryError::MalformedName(name.to_owned())),
            "{name:?} was accepted"
        );
        assert!(!registry::is_valid_name(name), "{name:?}");
    }
}

#[test]
fn validate_rejects_duplicates() {
    assert_eq!(registry::validate(&["clio", "pipedrive", "clio"]), Err(RegistryError::Duplicate("clio".to_owned())));
    assert_eq!(
        RegistryError::Duplicate("clio".to_owned()).to_string(),
        "connector name `clio` is registered more than once"
    );
    assert_eq!(
        RegistryError::MalformedName("my-crm".to_owned()).to_string(),
        "connector name `my-crm` must match ^[a-z][a-z0-9_]*$"
    );
}
