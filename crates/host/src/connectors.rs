//! Links every connector crate into the binary so that its `register_connector!` takes effect.
//!
//! `inventory` only sees crates that are linked, and a crate is linked only when something refers to it. This list
//! is maintained by `cargo xtask new-connector` (sorted); a test checks it against the folders under `connectors/`.

/// The name of every linked connector, sorted.
pub const LINKED: &[&str] = &[
    connector_clio::NAME,
    connector_insightly::NAME,
    connector_pipedrive::NAME,
    connector_redtail::NAME,
    connector_sandbox::NAME,
];
