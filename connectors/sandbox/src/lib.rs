//! Sandbox connector: an in-memory CRM with seeded contacts, so the whole flow runs with no CRM account.
#![doc = include_str!("../README.md")]

mod connector;

pub use connector::Sandbox;
mod crm;
#[cfg(test)]
mod tests;

/// The registry name.
pub const NAME: &str = "sandbox";

callbridge_core::register_connector! {
    callbridge_core::ConnectorDescriptor { name: NAME, display_name: "Sandbox CRM", build: connector::build }
}
