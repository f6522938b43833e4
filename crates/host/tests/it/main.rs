//! Integration tests of the callbridge server: every route through `app(state).oneshot(..)` with the sandbox
//! connector and a wiremock-backed OAuth connector, on SQLite and (when configured) PostgreSQL, plus one run of
//! the real binary over TCP.

mod admin;
mod auth;
mod bad_input;
mod binary;
mod call_log;
mod checklist;
mod concurrency;
mod delivery;
mod extension_routes;
mod limits;
mod logs;
mod messages;
mod mock_crm;
mod oauth_env;
mod ops;
mod reset_proxy;
mod session_auth;
mod sessions;
mod settings;
mod sscl;
mod startup;
mod support;
