//! Unit tests: the `parse_error` table, ids in paths, hosts and regions, configuration, note parsing, settings and
//! the connector's static answers.

use callbridge_core::http::{HttpClient, HttpSettings, StatusCode};
use callbridge_core::{AdditionalSubmission, ConnectorConfig, ErrorKind, OAuthInfoRequest, Operation, UserSettings};
use serde_json::json;

use crate::NAME;
use crate::call_log::{communication_id, matter_of};
use crate::client::{base, numeric_id, parse_error};
use crate::config::{ClioConfig, Region};
use crate::connector::{OPERATIONS, build, offset_hours};
use crate::settings;

fn connector_config() -> ConnectorConfig {
    ConnectorConfig::new(HttpClient::new(&HttpSettings::default()).unwrap())
}

fn user_settings(value: serde_json::Value) -> UserSettings {
    UserSettings(value.as_object().unwrap().clone())
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
        let body = br#"{"error":{"type":"InvalidRequest","message":"nope"}}"#;
        let error = parse_error(StatusCode::from_u16(status).unwrap(), body);
        assert_eq!((error.kind(), error.is_temporary(), error.status()), (kind, temporary, Some(status)), "{status}");
        assert_eq!(error.message(), format!("{NAME} answered {status}: InvalidRequest: nope"));
    }
}

#[test]
fn parse_error_reads_the_rate_limit_body_and_bodies_that_are_not_json() {
    let error = parse_error(StatusCode::TOO_MANY_REQUESTS, br#"{"message":"Too Many Requests"}"#);
    assert_eq!(error.message(), format!("{NAME} answered 429: Too Many Requests"));
    let error = parse_error(StatusCode::BAD_GATEWAY, b"<html>Bad gateway</html>");
    assert_eq!(error.message(), format!("{NAME} answered 502: <html>Bad gateway</html>"));
    let error = parse_error(StatusCode::NOT_FOUND, b"");
    assert_eq!(error.message(), format!("{NAME} answered 404: Not Found"));
    let long = "x".repeat(1000);
    let error = parse_error(StatusCode::INTERNAL_SERVER_ERROR, long.as_bytes());
    assert!(error.message().len() < 400, "{}", error.message().len());
}

#[test]
fn ids_in_paths_are_digits_only() {
    assert_eq!(numeric_id(" 42 ", "contact").unwrap(), "42");
    for id in ["", "../me", "1/2", "1?x=2", "a b", "%2e", "12a", "123456789012345678901"] {
        assert_eq!(numeric_id(id, "contact").unwrap_err().kind(), ErrorKind::Rejected, "{id:?}");
    }
    assert_eq!(communication_id("301.5"), "301");
    assert_eq!(communication_id("301"), "301");
}

#[test]
fn only_the_four_clio_hosts_are_called() {
    assert_eq!(base("app.clio.com").unwrap(), "https://app.clio.com");
    assert_eq!(base("EU.app.clio.com").unwrap(), "https://eu.app.clio.com");
    assert_eq!(base("au.app.clio.com").unwrap(), "https://au.app.clio.com");
    assert_eq!(base("ca.app.clio.com").unwrap(), "https://ca.app.clio.com");
    for host in ["evil.com", "app.clio.com.evil.com", "evil.com/app.clio.com", "", "us.app.clio.com"] {
        assert!(base(host).is_err(), "{host:?}");
    }
}

#[test]
fn each_region_has_its_own_oauth_app_and_token_url() {
    let config = connector_config()
        .with_value("client_id", "us-id")
        .with_value("client_secret", "us-secret")
        .with_value("eu_client_id", "eu-id")
        .with_value("eu_client_secret", "eu-secret")
        .with_value("au_client_id", "au-id");
    let connector = build(config).unwrap();
    let info =
        |hostname: &str| connector.oauth_info(&OAuthInfoRequest { hostname: Some(hostname.into()), token_url: None });
    let us = info("app.clio.com").unwrap();
    assert_eq!((us.client_id.as_str(), us.client_secret.expose()), ("us-id", "us-secret"));
    assert_eq!(us.token_url, "https://app.clio.com/oauth/token");
    assert_eq!(us.redirect_uri, crate::config::DEFAULT_REDIRECT_URI);
    let eu = info("eu.app.clio.com").unwrap();
    assert_eq!((eu.client_id.as_str(), eu.token_url.as_str()), ("eu-id", "https://eu.app.clio.com/oauth/token"));
    // A region without its secret names the variable to set.
    let error = info("au.app.clio.com").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.message().contains("CLIO_AU_CLIENT_SECRET"), "{error}");
    let error = info("ca.app.clio.com").unwrap_err();
    assert!(error.message().contains("CLIO_CA_CLIENT_ID"), "{error}");
    assert_eq!(info("evil.example.com").unwrap_err().kind(), ErrorKind::Rejected);
}

#[test]
fn the_manifest_swaps_the_oauth_app_per_region() {
    let config = connector_config().with_value("client_id", "us-id").with_value("ca_client_id", "ca-id");
    let manifest = build(config).unwrap().manifest().to_json();
    assert_eq!(manifest["name"], NAME);
    assert_eq!(manifest["auth"]["oauth"]["clientId"], "us-id");
    assert_eq!(manifest["auth"]["oauth"]["authUrl"], "https://app.clio.com/oauth/authorize");
    let ca =
        manifest["override"].as_array().unwrap().iter().find(|it| it["triggerValue"] == "ca.app.clio.com").unwrap();
    assert_eq!(
        ca["overrideObjects"],
        json!([
            { "path": "auth.oauth.authUrl", "value": "https://ca.app.clio.com/oauth/authorize" },
            { "path": "auth.oauth.clientId", "value": "ca-id" }
        ])
    );
    let fields = &manifest["page"]["callLog"]["additionalFields"];
    assert_eq!((fields[0]["const"].clone(), fields[1]["const"].clone()), (json!("matters"), json!("billableStatus")));
}

#[test]
fn config_refuses_a_bad_redirect_uri_and_ignores_unknown_keys() {
    let config = connector_config().with_value("client_idd", "typo").with_value("base_url", "http://127.0.0.1:9");
    assert_eq!(ClioConfig::from_connector_config(&config).unwrap().client_id(Region::Us), "");
    let error = ClioConfig::from_connector_config(&connector_config().with_value("redirect_uri", "not a url"));
    assert!(error.unwrap_err().message().contains("CLIO_REDIRECT_URI"));
}

#[test]
fn operations_are_sorted_and_include_the_required_ones() {
    assert!(OPERATIONS.windows(2).all(|pair| pair[0] < pair[1]), "operations are sorted and unique");
    for required in [Operation::GetUserInfo, Operation::FindContact, Operation::CreateCallLog, Operation::UpdateCallLog]
    {
        assert!(OPERATIONS.contains(&required), "{required}");
    }
}

#[test]
fn billable_status_comes_from_the_form_then_the_user_default() {
    let none = AdditionalSubmission::new();
    let form = |value: serde_json::Value| value.as_object().unwrap().clone();
    let empty = UserSettings::default();
    assert!(!settings::call_non_billable(&none, &empty), "billable by default");
    let non_billable_default = user_settings(json!({ "clioDefaultNonBillableTick": { "value": "non-billable" } }));
    assert!(settings::call_non_billable(&none, &non_billable_default));
    assert!(!settings::call_non_billable(&form(json!({ "billableStatus": "billable" })), &non_billable_default));
    assert!(settings::call_non_billable(&form(json!({ "billableStatus": "non-billable" })), &empty));
    assert!(settings::call_non_billable(&form(json!({ "nonBillable": true, "billableStatus": "billable" })), &empty));
}

#[test]
fn time_entry_switches_accept_text_booleans() {
    assert!(settings::time_entries_enabled(&UserSettings::default()));
    let off = user_settings(json!({ "clioTimeEntriesEnabled": { "value": "false" } }));
    assert!(!settings::time_entries_enabled(&off));
    let on = user_settings(json!({ "clioTimeEntriesEnabled": { "value": "true" } }));
    assert!(settings::time_entries_enabled(&on));
    let minimum = user_settings(json!({ "smsTimeTrackingMinimumDuration": { "value": "45" } }));
    assert_eq!(settings::sms_minimum_seconds(&minimum), 45.0);
    assert_eq!(settings::sms_minimum_seconds(&UserSettings::default()), 30.0);
}

#[test]
fn matters_arrive_as_numbers_or_numeric_text() {
    let form = |value: serde_json::Value| value.as_object().unwrap().clone();
    assert_eq!(matter_of(&form(json!({ "matters": 201 }))), Some(json!(201)));
    assert_eq!(matter_of(&form(json!({ "matters": "201" }))), Some(json!(201)));
    assert_eq!(matter_of(&form(json!({ "matters": "" }))), None);
    assert_eq!(matter_of(&form(json!({}))), None);
}

#[test]
fn offsets_are_hours_of_the_zone_now() {
    assert_eq!(offset_hours(Some("UTC")), "0");
    assert_eq!(offset_hours(Some("Asia/Kolkata")), "5.5");
    assert_eq!(offset_hours(Some("Not/AZone")), "0");
    assert_eq!(offset_hours(None), "0");
    let new_york = offset_hours(Some("America/New_York"));
    assert!(new_york == "-5" || new_york == "-4", "{new_york}");
}
