//! Integration tests of the Pipedrive connector against a wiremock Pipedrive: one module per area.

mod auth;
mod call_log;
mod conformance;
mod contacts;
mod errors;
mod message_log;
mod routes;
mod support;
