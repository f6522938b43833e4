//! Insightly against a wiremock of its REST API v3.1: login, contacts and leads, call logs as events with links,
//! dispositions, message logs, reconciliation lookups and error answers. Each test asserts the exact requests
//! Insightly receives.

mod auth;
mod call_log;
mod conformance;
mod contacts;
mod errors;
mod message_log;
mod support;
