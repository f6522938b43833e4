//! The SDK's conformance suite against a wiremock Pipedrive (`conformance_*` tests).

use callbridge_core::testing::{Answer, ConformanceFixture, ReconciliationAnswers};
use callbridge_core::{ConnectorConfig, LogContact, RequestContext};
use serde_json::json;

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

    fn log_contact(&self) -> LogContact {
        LogContact {
            id: "101".into(),
            phone_number: Some(self.phone_number().into()),
            kind: "Person".into(),
            name: "Ada".into(),
        }
    }

    /// Pipedrive cannot be asked for a marker: the lookup lists the person's newest activities (the same list for
    /// every key) and the connector picks the one whose `public_description` carries the key.
    fn reconciliation(&self) -> ReconciliationAnswers {
        let newest = json!({"success": true, "data": [
            {"id": 402, "public_description": "callbridge:another-key"},
            {"id": 401, "public_description": "callbridge:conformance-written-key"},
        ], "additional_data": {"next_cursor": null}});
        ReconciliationAnswers {
            create: vec![
                Answer::ok("GET", "/api/v2/persons/101", fixture!("person.json")),
                Answer::ok("GET", "/v1/activityTypes", fixture!("activity_types.json")),
                Answer::ok("POST", "/api/v2/activities", fixture!("activity_created.json")),
            ],
            found: Vec::new(),
            not_found: vec![Answer::ok("GET", "/api/v2/activities", newest)],
            log_id: "401".into(),
        }
    }
}

callbridge_core::conformance_suite!(Pipedrive);
