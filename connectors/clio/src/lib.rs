//! Clio connector: calls and messages logged as Clio communications (with time entries), matters as dispositions.
#![doc = include_str!("../README.md")]

mod api;
mod call_log;
mod client;
mod config;
mod connector;
mod contacts;
mod documents;
mod manifest;
mod message_log;
mod settings;
#[cfg(test)]
mod tests;

/// The platform name App Connect uses for Clio; equal to this crate's folder name.
pub const NAME: &str = "clio";

callbridge_core::register_connector! {
    callbridge_core::ConnectorDescriptor { name: NAME, display_name: "Clio", build: connector::build }
}
