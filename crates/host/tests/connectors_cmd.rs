//! `callbridge connectors`: the binary lists every registered connector, as a table and as JSON.

use std::process::Command;

use serde_json::Value;

fn callbridge(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_callbridge")).args(args).output().unwrap();
    assert!(output.status.success(), "callbridge {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_table_lists_the_sandbox() {
    let table = callbridge(&["connectors"]);
    let sandbox = table.lines().find(|line| line.starts_with("sandbox ")).unwrap_or_else(|| panic!("{table}"));
    assert!(sandbox.contains("Sandbox CRM"), "{sandbox}");
    assert!(sandbox.contains("apiKey"), "{sandbox}");
    assert!(sandbox.contains("findContact"), "{sandbox}");
    // One line per linked connector.
    assert_eq!(table.lines().count(), callbridge_host::connectors::LINKED.len(), "{table}");
}

#[test]
fn json_lists_every_linked_connector_with_what_it_implements() {
    let listed: Value = serde_json::from_str(&callbridge(&["connectors", "--json"])).unwrap();
    let listed = listed.as_array().unwrap();
    let names: Vec<&str> = listed.iter().map(|it| it["name"].as_str().unwrap()).collect();
    let mut linked = callbridge_host::connectors::LINKED.to_vec();
    linked.sort_unstable();
    assert_eq!(names, linked, "sorted by name, one entry per linked connector");

    let sandbox = listed.iter().find(|it| it["name"] == "sandbox").unwrap();
    assert_eq!(sandbox["displayName"], "Sandbox CRM");
    assert_eq!(sandbox["authType"], "apiKey");
    assert_eq!(sandbox["logFormat"], "text/plain");
    let operations: Vec<&str> =
        sandbox["operations"].as_array().unwrap().iter().map(|it| it.as_str().unwrap()).collect();
    for operation in ["getUserInfo", "findContact", "createCallLog", "updateCallLog", "unAuthorize"] {
        assert!(operations.contains(&operation), "{operation} missing from {operations:?}");
    }
}
