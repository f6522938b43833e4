//! callbridge-core: the contract between the callbridge host and its CRM connectors.
//!
//! It holds the App Connect schemas, the [`Connector`] trait, the registry connectors add themselves to, the
//! call-log composer, phone-number helpers, and [`http::HttpClient`], the only way a connector talks to its CRM.
//! It does no I/O except through that client, and the composer is pure.

pub mod auth;
pub mod cache;
pub mod compose;
pub mod connector;
pub mod error;
pub mod http;
pub mod manifest;
pub mod phone;
pub mod registry;
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
