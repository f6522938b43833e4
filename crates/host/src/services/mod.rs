//! The host's services: what handlers do after parsing a request, independent of HTTP.

pub mod admin;
pub mod answers;
pub mod auth_context;
pub mod call_log;
pub mod contact;
pub mod login;
pub mod message_log;
pub mod reply;
