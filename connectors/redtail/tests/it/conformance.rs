//! The SDK's conformance suite against a wiremock Redtail (`conformance_*` tests).

use callbridge_core::testing::{Answer, ConformanceFixture, ReconciliationAnswers};
use callbridge_core::{ConnectorConfig, RequestContext};
use serde_json::json;

use crate::support::{API, API_KEY, ctx, fixture};

#[derive(Default)]
struct Redtail;

impl ConformanceFixture for Redtail {
    fn connector_name(&self) -> &'static str {
        connector_redtail::NAME
    }

    fn configure(&self, config: ConnectorConfig) -> ConnectorConfig {
        config.with_value("api_key", API_KEY)
    }

    fn context(&self) -> RequestContext {
        ctx()
    }

    fn find_contact(&self) -> Vec<Answer> {
        vec![
            Answer::ok("GET", format!("{API}/contacts/search_basic"), fixture!("contacts_search.json")),
            Answer::ok("GET", format!("{API}/lists/categories"), fixture!("categories.json")),
        ]
    }

    fn fields_read(&self) -> &'static [&'static str] {
        &["category", "redtailCustomTimezone"]
    }

    /// Redtail cannot be asked for a marker, so the lookup's request never carries the key: the day's activity
    /// list is the same for every key, and the connector picks the marked one out of it.
    fn reconciliation(&self) -> ReconciliationAnswers {
        let day = json!({ "activities": [
            { "id": 5001, "completed": true, "location": "" },
            { "id": 5550, "completed": true, "location": "callbridge:conformance-written-key" }
        ], "meta": { "total_pages": 1 } });
        ReconciliationAnswers {
            create: vec![
                Answer::ok("POST", format!("{API}/activities"), fixture!("activity_created.json")),
                Answer::ok("PUT", format!("{API}/activities/5550"), fixture!("activity_completed.json")),
            ],
            found: Vec::new(),
            not_found: vec![Answer::ok("GET", format!("{API}/activities"), day)],
            log_id: "5550".into(),
        }
    }
}

callbridge_core::conformance_suite!(Redtail);
