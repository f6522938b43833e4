//! Clio against a wiremock of its API v4: each operation's exact requests, and one test per error class.

mod auth;
mod call_log;
mod conformance;
mod contacts;
mod documents;
mod errors;
mod faults;
mod message_log;
mod support;
