//! Redtail against a wiremock of its public API: every operation, the exact requests Redtail receives, and one test
//! per error class.

mod auth;
mod call_log;
mod conformance;
mod contacts;
mod errors;
mod faults;
mod message_log;
mod reconcile;
mod support;
