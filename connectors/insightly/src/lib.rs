//! Insightly connector: finds contacts and leads by phone or name, and logs calls and messages as events linked to
//! them.
#![doc = include_str!("../README.md")]

mod api;
mod client;
mod config;
mod connector;
mod contacts;
mod events;
mod message_log;
#[cfg(test)]
mod tests;
mod timezone;

/// The platform name App Connect uses for Insightly.
pub const NAME: &str = "insightly";

callbridge_core::register_connector! {
    callbridge_core::ConnectorDescriptor { name: NAME, display_name: "Insightly", build: connector::build }
}
