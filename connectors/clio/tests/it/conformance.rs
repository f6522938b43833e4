//! The SDK's conformance suite against a wiremock Clio (`conformance_*` tests).

use callbridge_core::testing::{Answer, ConformanceFixture, ReconciliationAnswers};
use callbridge_core::{ConnectorConfig, LogContact, RequestContext};
use serde_json::json;

use crate::support::context;

#[derive(Default)]
struct Clio;

impl ConformanceFixture for Clio {
    fn connector_name(&self) -> &'static str {
        connector_clio::NAME
    }

    fn configure(&self, config: ConnectorConfig) -> ConnectorConfig {
        config.with_value("client_id", "us-id").with_value("client_secret", "us-secret")
    }

    fn context(&self) -> RequestContext {
        context()
    }

    fn find_contact(&self) -> Vec<Answer> {
        vec![
            Answer::ok(
                "GET",
                "/api/v4/contacts.json",
                json!({ "data": [{ "id": 101, "name": "Ada", "type": "Person" }] }),
            ),
            Answer::ok(
                "GET",
                "/api/v4/matters.json",
                json!({ "data": [{ "id": 201, "display_number": "1", "status": "Open" }] }),
            ),
            Answer::ok("GET", "/api/v4/relationships.json", json!({ "data": [], "meta": { "paging": {} } })),
        ]
    }

    fn fields_read(&self) -> &'static [&'static str] {
        &[
            "matters",
            "billableStatus",
            "clioDefaultNonBillableTick",
            "clioTimeEntriesEnabled",
            "clioSeeClosedMatters",
            "smsTimeTrackingEnabled",
            "smsTimeTrackingDefaultBillable",
            "smsTimeTrackingMinimumDuration",
        ]
    }

    fn log_contact(&self) -> LogContact {
        LogContact {
            id: "101".into(),
            phone_number: Some("+14155550100".into()),
            kind: "Person".into(),
            name: "Ada".into(),
        }
    }

    fn reconciliation(&self) -> ReconciliationAnswers {
        ReconciliationAnswers {
            create: vec![
                Answer::ok("POST", "/api/v4/communications.json", json!({ "data": { "id": 301 } })),
                Answer::ok("POST", "/api/v4/activities.json", json!({ "data": { "id": 401 } })),
            ],
            found: vec![Answer::ok("GET", "/api/v4/communications.json", json!({ "data": [{ "id": 301 }] }))],
            not_found: vec![Answer::ok("GET", "/api/v4/communications.json", json!({ "data": [] }))],
            log_id: "301".into(),
        }
    }
}

callbridge_core::conformance_suite!(Clio);
