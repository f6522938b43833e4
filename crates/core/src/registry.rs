//! The connector registry: every connector crate submits one `ConnectorDescriptor` with `register_connector!`,
//! and the host finds connectors by name at run time.

use std::fmt;
use std::sync::Arc;

use crate::connector::{Connector, ConnectorConfig};
use crate::error::ConnectorError;

/// The static description of one connector; each connector crate registers exactly one.
pub struct ConnectorDescriptor {
    /// The platform name App Connect uses (`pipedrive`): `^[a-z][a-z0-9_]*$`, equal to the crate's folder.
    pub name: &'static str,
    /// The name people read (`Pipedrive`).
    pub display_name: &'static str,
    /// Builds the connector from its configuration. Missing credentials are not an error here: an OAuth
    /// connector without a client id still lists and serves its manifest, and fails at login with a clear message.
    pub build: fn(ConnectorConfig) -> Result<Arc<dyn Connector>, ConnectorError>,
}

impl fmt::Debug for ConnectorDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorDescriptor")
            .field("name", &self.name)
            .field("display_name", &self.display_name)
            .finish_non_exhaustive()
    }
}

inventory::collect!(ConnectorDescriptor);

/// Registers a connector's descriptor. Connector crates call it once in `lib.rs`:
///
/// ```ignore
/// callbridge_core::register_connector! {
///     callbridge_core::ConnectorDescriptor { name: NAME, display_name: "Acme", build: connector::build }
/// }
/// ```
#[macro_export]
macro_rules! register_connector {
    ($descriptor:expr) => {
        $crate::__private::inventory::submit! { $descriptor }
    };
}

/// The name was not registered; the message lists the names that are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown connector `{name}`; known connectors: {}", known.join(", "))]
pub struct UnknownConnector {
    pub name: String,
    pub known: Vec<&'static str>,
}

/// The registry breaks its rules: a name is malformed or registered twice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("connector name `{0}` must match ^[a-z][a-z0-9_]*$")]
    MalformedName(String),
    #[error("connector name `{0}` is registered more than once")]
    Duplicate(String),
}

/// Every registered descriptor, sorted by name (inventory's own order is unspecified).
pub fn all() -> Vec<&'static ConnectorDescriptor> {
    let mut descriptors: Vec<_> = inventory::iter::<ConnectorDescriptor>.into_iter().collect();
    descriptors.sort_by_key(|it| it.name);
    descriptors
}

/// Every registered name, sorted.
pub fn names() -> Vec<&'static str> {
    all().into_iter().map(|it| it.name).collect()
}

pub fn get(name: &str) -> Result<&'static ConnectorDescriptor, UnknownConnector> {
    let descriptors = all();
    descriptors.iter().find(|it| it.name == name).copied().ok_or_else(|| UnknownConnector {
        name: name.to_owned(),
        known: descriptors.iter().map(|it| it.name).collect(),
    })
}

/// Checks names for form and uniqueness; the host runs it at start-up over [`all`].
pub fn validate(names: &[&str]) -> Result<(), RegistryError> {
    let mut seen = std::collections::BTreeSet::new();
    for &name in names {
        if !is_valid_name(name) {
            return Err(RegistryError::MalformedName(name.to_owned()));
        }
        if !seen.insert(name) {
            return Err(RegistryError::Duplicate(name.to_owned()));
        }
    }
    Ok(())
}

/// `^[a-z][a-z0-9_]*$`: the form of connector names, crate folders and environment prefixes.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|it| it.is_ascii_lowercase() || it.is_ascii_digit() || it == '_')
}
