//! The SDK's conformance suite against a wiremock Insightly (`conformance_*` tests).

use callbridge_core::RequestContext;
use callbridge_core::testing::{Answer, ConformanceFixture, ReconciliationAnswers};
use serde_json::json;

use crate::support::{ctx, fixture};

#[derive(Default)]
struct Insightly;

impl ConformanceFixture for Insightly {
    fn connector_name(&self) -> &'static str {
        connector_insightly::NAME
    }

    fn context(&self) -> RequestContext {
        ctx()
    }

    fn find_contact(&self) -> Vec<Answer> {
        vec![
            Answer::ok("GET", "/v3.1/Contacts/Search", fixture!("contacts_search.json")),
            Answer::ok("GET", "/v3.1/Leads/Search", fixture!("leads_search.json")),
            Answer::ok("GET", "/v3.1/Organisations/5", fixture!("organisation.json")),
            Answer::ok("GET", "/v3.1/Opportunities/6", fixture!("opportunity.json")),
        ]
    }

    fn fields_read(&self) -> &'static [&'static str] {
        &[
            "organisation",
            "opportunity",
            "project",
            "insightlyExtraPhoneFieldNameForContact",
            "insightlyExtraPhoneFieldNameForLead",
        ]
    }

    fn reconciliation(&self) -> ReconciliationAnswers {
        ReconciliationAnswers {
            create: vec![Answer::ok("POST", "/v3.1/Events", fixture!("event.json"))],
            found: vec![Answer::ok("GET", "/v3.1/Events/Search", json!([{ "EVENT_ID": 9001 }]))],
            not_found: vec![Answer::ok("GET", "/v3.1/Events/Search", json!([]))],
            log_id: "9001".into(),
        }
    }
}

callbridge_core::conformance_suite!(Insightly);
