//! Unit tests: the `parse_error` table, ids in paths, configuration and the connector's static answers.

use callbridge_core::http::{HttpClient, HttpSettings, StatusCode};
use callbridge_core::{Connector, ConnectorConfig, ErrorKind, Operation, Secret};

use crate::NAME;
use crate::client::{parse_error, path_id};
use crate::config::ClioConfig;
use crate::connector::Clio;

fn connector_config() -> ConnectorConfig {
    ConnectorConfig::new(HttpClient::new(&HttpSettings::default()).unwrap())
}

#[test]
fn parse_error_maps_each_status_class() {
    #[rustfmt::skip]
    let table = [
        (400, ErrorKind::Rejected, false),
        (401, ErrorKind::Unauthorized, false),
        (403, ErrorKind::Unauthorized, false),
        (404, ErrorKind::NotFound, false),
        (409, ErrorKind::Rejected, false),
        (422, ErrorKind::Rejected, false),
        (429, ErrorKind::RateLimited, true),
        (500, ErrorKind::Upstream, true),
        (502, ErrorKind::Upstream, true),
        (503, ErrorKind::Upstream, true),
    ];
    for (status, kind, temporary) in table {
        let error = parse_error(StatusCode::from_u16(status).unwrap(), br#"{"message":"nope"}"#);
        assert_eq!((error.kind(), error.is_temporary(), error.status()), (kind, temporary, Some(status)), "{status}");
        assert_eq!(error.message(), format!("{NAME} answered {status}: nope"));
    }
}

#[test]
fn parse_error_reads_bodies_that_are_not_the_error_json() {
    let error = parse_error(StatusCode::BAD_GATEWAY, b"<html>Bad gateway</html>");
    assert_eq!(error.message(), format!("{NAME} answered 502: <html>Bad gateway</html>"));
    let error = parse_error(StatusCode::NOT_FOUND, b"");
    assert_eq!(error.message(), format!("{NAME} answered 404: Not Found"));
    let long = "x".repeat(1000);
    let error = parse_error(StatusCode::INTERNAL_SERVER_ERROR, long.as_bytes());
    assert!(error.message().len() < 400, "{}", error.message().len());
}

#[test]
fn path_ids_cannot_change_the_path() {
    assert_eq!(path_id(" 42 ").unwrap(), "42");
    assert_eq!(path_id("act_9-b").unwrap(), "act_9-b");
    for id in ["", "../me", "1/2", "1?x=2", "a b", "%2e"] {
        assert_eq!(path_id(id).unwrap_err().kind(), ErrorKind::Rejected, "{id:?}");
    }
}

#[test]
fn config_defaults_and_overrides_the_api_url() {
    let config = ClioConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(config.api_url, crate::config::DEFAULT_API_URL);
    let config = connector_config().with_value("api_url", "https://eu.example.com/api/ ");
    assert_eq!(ClioConfig::from_connector_config(&config).unwrap().api_url, "https://eu.example.com/api");
    // The host's origin override arrives as `base_url`; it is known, not an error.
    let config = connector_config().with_value("base_url", "http://127.0.0.1:9000");
    assert!(ClioConfig::from_connector_config(&config).is_ok());
}

#[test]
fn config_ignores_unknown_keys_and_refuses_bad_urls() {
    let config = connector_config().with_value("api_ulr", "https://typo.example.com");
    assert_eq!(ClioConfig::from_connector_config(&config).unwrap().api_url, crate::config::DEFAULT_API_URL);
    for bad in ["ftp://x", "not a url", "/v1"] {
        let error = ClioConfig::from_connector_config(&connector_config().with_value("api_url", bad)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{bad}");
        assert!(error.message().contains("CLIO_API_URL"), "{error}");
    }
}

#[test]
fn the_connector_describes_itself() {
    let connector = Clio::new(&connector_config()).unwrap();
    assert_eq!(connector.name(), NAME);
    assert_eq!(connector.manifest()["name"], NAME);
    let operations = connector.operations();
    assert!(operations.windows(2).all(|pair| pair[0] < pair[1]), "operations are sorted and unique");
    for required in [Operation::GetUserInfo, Operation::FindContact, Operation::CreateCallLog, Operation::UpdateCallLog]
    {
        assert!(operations.contains(&required), "{required}");
    }
}

#[test]
fn basic_auth_encodes_the_api_key_as_the_user_name() {
    let connector = Clio::new(&connector_config()).unwrap();
    // base64("key-123:")
    assert_eq!(connector.basic_auth(&Secret::new("key-123")).unwrap().expose(), "a2V5LTEyMzo=");
}
