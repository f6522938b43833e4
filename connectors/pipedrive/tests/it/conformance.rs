//! The SDK's conformance suite against a wiremock Pipedrive (`conformance_*` tests).

use callbridge_core::testing::{Answer, ConformanceFixture};
use callbridge_core::{ConnectorConfig, RequestContext};

use crate::support::{CLIENT_ID, CLIENT_SECRET, ctx, fixture};

#[derive(Default)]
struct Pipedrive;

impl ConformanceFixture for Pipedrive {
    fn connector_name(&self) -> &'static str {
        connector_pipedrive::NAME
    }

    fn configure(&self, config: ConnectorConfig) -> ConnectorConfig {
        config.with_value("client_id", CLIENT_ID).with_value("client_secret", CLIENT_SECRET)
    }

    fn context(&self) -> RequestContext {
        ctx()
    }

    fn find_contact(&self) -> Vec<Answer> {
        vec![
            Answer::ok("GET", "/api/v2/persons/search", fixture!("persons_search.json")),
            Answer::ok("GET", "/api/v2/deals", fixture!("deals.json")),
            Answer::ok("GET", "/v1/leads", fixture!("leads.json")),
        ]
    }

    fn fields_read(&self) -> &'static [&'static str] {
        &["deals", "leads", "pipedriveCallActivityType", "pipedriveSMSActivityType"]
    }
}

callbridge_core::conformance_suite!(Pipedrive);
