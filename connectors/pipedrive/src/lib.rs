//! Pipedrive connector: finds persons with their open deals and leads, and logs calls and SMS as activities.
#![doc = include_str!("../README.md")]

mod activity_types;
mod api;
mod client;
mod config;
mod connector;
mod redirect;
#[cfg(test)]
mod tests;

/// The platform name App Connect uses for Pipedrive.
pub const NAME: &str = "pipedrive";

callbridge_core::register_connector! {
    callbridge_core::ConnectorDescriptor { name: NAME, display_name: "Pipedrive", build: connector::build }
}
