//! Clio connector: finds contacts by phone number and logs calls as activities.
#![doc = include_str!("../README.md")]

mod api;
mod client;
mod config;
mod connector;
#[cfg(test)]
mod tests;

/// The platform name App Connect uses for Clio; equal to this crate's folder name.
pub const NAME: &str = "clio";

callbridge_core::register_connector! {
    callbridge_core::ConnectorDescriptor { name: NAME, display_name: "Clio", build: connector::build }
}
