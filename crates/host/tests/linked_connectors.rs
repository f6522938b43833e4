//! The host links every connector crate, and each registers under its folder's name (DESIGN.md invariant 4).
//!
//! `inventory` only sees crates that are linked; this test binary links the host library, whose `LINKED` list
//! refers to every connector crate, so the registry here holds what the `callbridge` binary holds.

use std::path::Path;

use callbridge_core::registry;

/// The folder names under `connectors/`, sorted.
fn connector_folders() -> Vec<String> {
    let connectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../connectors");
    let mut names: Vec<String> = std::fs::read_dir(&connectors)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().into_string().unwrap())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[test]
fn every_connector_folder_is_linked_and_registered_under_its_name() {
    let on_disk = connector_folders();
    assert!(!on_disk.is_empty(), "no connector folders found");
    assert_eq!(callbridge_host::connectors::LINKED, on_disk, "crates/host/src/connectors.rs `LINKED`");
    assert_eq!(registry::names(), on_disk, "the registry");
}

#[test]
fn the_registered_names_are_well_formed_and_unique() {
    assert_eq!(registry::validate(&registry::names()), Ok(()));
}

#[test]
fn every_registered_connector_reports_its_own_name() {
    let http = callbridge_core::http::HttpClient::new(&Default::default()).unwrap();
    for descriptor in registry::all() {
        // Connectors build without credentials (G5): they fail at login, not at start-up.
        let connector = (descriptor.build)(callbridge_core::ConnectorConfig::new(http.clone()))
            .unwrap_or_else(|error| panic!("connector `{}` does not build: {error}", descriptor.name));
        assert_eq!(connector.name(), descriptor.name);
        assert_eq!(connector.manifest().name, descriptor.name, "{}'s manifest", descriptor.name);
    }
}
