//! callbridge-core: the contract between the callbridge host and its CRM connectors.
//!
//! It holds the App Connect schemas, the [`Connector`] trait, the registry connectors add themselves to, the
//! call-log composer, phone-number helpers, and [`http::HttpClient`], the only way a connector talks to its CRM.
//! It does no I/O except through that client, and the composer is pure.
//!
//! It is also the connector SDK: what two connectors would both write lives here. [`rest::RestClient`] is a JSON
//! REST client (API root, the user's `Authorization`, the connector's error reading, `{"data": ...}` envelopes);
//! [`oauth`] revokes tokens and serves a marketplace's uninstall callback; [`cache::AccountCache`] keeps account
//! data such as activity types; [`manifest`] builds the typed manifest; [`values`] reads ids and the extension's
//! selections; [`settings`] reads typed connector settings; [`testing`] (feature `testing`) is the conformance
//! suite every connector runs.

pub mod auth;
pub mod cache;
pub mod compose;
pub mod connector;
pub mod error;
pub mod http;
pub mod manifest;
pub mod oauth;
pub mod phone;
pub mod registry;
pub mod rest;
pub mod schema;
pub mod secret;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;
pub mod values;

pub use async_trait::async_trait;
pub use compose::{ComposeInput, LogFormat, compose};
pub use connector::*;
pub use error::{ConnectorError, ErrorKind};
pub use manifest::PlatformManifest;
pub use registry::ConnectorDescriptor;
pub use schema::*;
pub use secret::Secret;

#[doc(hidden)]
pub mod __private {
    // Connectors register through `register_connector!`, never through `inventory` directly.
    pub use inventory;
}
