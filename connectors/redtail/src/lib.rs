//! Redtail connector: logs calls and messages as completed Redtail activities, with categories as dispositions.
#![doc = include_str!("../README.md")]

mod api;
mod body;
mod client;
mod config;
mod connector;
mod manifest;
mod message_log;
mod reconcile;
#[cfg(test)]
mod tests;
mod time;

/// The platform name App Connect uses for Redtail; equal to this crate's folder name.
pub const NAME: &str = "redtail";

callbridge_core::register_connector! {
    callbridge_core::ConnectorDescriptor { name: NAME, display_name: "Redtail", build: connector::build }
}
