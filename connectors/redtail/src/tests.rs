//! Unit tests: the `parse_error` table, ids in paths, configuration, the two auth schemes, the body edits and the
//! connector's static answers.

use callbridge_core::http::{HttpClient, HttpSettings, StatusCode};
use callbridge_core::{Connector, ConnectorConfig, ErrorKind, Secret, UserSettings};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::NAME;
use crate::body::{custom_offset, with_date_time};
use crate::client::{login_authorization, parse_error, path_id, user_key_authorization};
use crate::config::{DEFAULT_API_SERVER, RedtailConfig};
use crate::connector::{Redtail, category_id};
use crate::time::{CallTimes, iso};

fn connector_config() -> ConnectorConfig {
    ConnectorConfig::new(HttpClient::new(&HttpSettings::default()).unwrap())
}

fn settings(value: serde_json::Value) -> UserSettings {
    UserSettings(json!({ "redtailCustomTimezone": { "value": value } }).as_object().unwrap().clone())
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
fn parse_error_reads_errors_objects_and_other_bodies() {
    let error = parse_error(StatusCode::UNPROCESSABLE_ENTITY, br#"{"errors":{"first_name":["is missing"]}}"#);
    assert_eq!(error.message(), format!(r#"{NAME} answered 422: {{"first_name":["is missing"]}}"#));
    let error = parse_error(StatusCode::BAD_GATEWAY, b"<html>Bad gateway</html>");
    assert_eq!(error.message(), format!("{NAME} answered 502: <html>Bad gateway</html>"));
    let error = parse_error(StatusCode::NOT_FOUND, b"");
    assert_eq!(error.message(), format!("{NAME} answered 404: Not Found"));
    let long = "x".repeat(1000);
    let error = parse_error(StatusCode::INTERNAL_SERVER_ERROR, long.as_bytes());
    assert!(error.message().len() < 400, "{}", error.message().len());
}

#[test]
fn path_ids_are_redtail_numbers_only() {
    assert_eq!(path_id(" 42 ").unwrap(), "42");
    for id in ["", "../me", "1/2", "1?x=2", "a b", "%2e", "act_9", "123456789012345678901"] {
        assert_eq!(path_id(id).unwrap_err().kind(), ErrorKind::Rejected, "{id:?}");
    }
}

#[test]
fn config_defaults_and_overrides_the_api_server() {
    let config = RedtailConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(config.api_server, DEFAULT_API_SERVER);
    assert!(config.api_key.is_none());
    assert_eq!(config.api_key().unwrap_err().kind(), ErrorKind::Config);
    assert!(config.api_key().unwrap_err().message().contains("REDTAIL_API_KEY"));
    let config = connector_config()
        .with_value("api_server", "https://review.crm.redtailtechnology.com/api/public/v1/ ")
        .with_value("api_key", "partner-key")
        .with_value("base_url", "http://127.0.0.1:9000");
    let config = RedtailConfig::from_connector_config(&config).unwrap();
    assert_eq!(config.api_server, "https://review.crm.redtailtechnology.com/api/public/v1");
    assert_eq!(config.api_key().unwrap().expose(), "partner-key");
    assert!(!format!("{config:?}").contains("partner-key"), "the key is redacted in Debug");
}

#[test]
fn config_ignores_unknown_keys_and_refuses_bad_urls() {
    let config = connector_config().with_value("api_srever", "https://typo.example.com");
    assert_eq!(RedtailConfig::from_connector_config(&config).unwrap().api_server, DEFAULT_API_SERVER);
    for bad in ["ftp://x", "not a url", "/v1"] {
        let error =
            RedtailConfig::from_connector_config(&connector_config().with_value("api_server", bad)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{bad}");
        assert!(error.message().contains("REDTAIL_API_SERVER"), "{error}");
    }
}

#[test]
fn the_connector_describes_itself() {
    let connector = Redtail::new(&connector_config()).unwrap();
    assert_eq!(connector.name(), NAME);
    let manifest = connector.manifest().to_json();
    assert_eq!(manifest["name"], NAME);
    assert_eq!(manifest["auth"]["type"], "apiKey");
    let fields: Vec<_> = manifest["auth"]["apiKey"]["page"]["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| it["const"].clone())
        .collect();
    assert_eq!(fields, [json!("redtailDescription"), json!("username"), json!("password")]);
    assert_eq!(manifest["page"]["callLog"]["additionalFields"][0]["const"], "category");
    assert_eq!(manifest["page"]["callLog"]["additionalFields"][0]["defaultSettingId"], "defaultCategory");
    let default_category = &manifest["settings"][0]["items"][0];
    assert_eq!(
        (&default_category["id"], &default_category["dynamicOptions"]),
        (&json!("defaultCategory"), &json!(true))
    );
    let timezones = manifest["settings"][0]["items"][1]["options"].as_array().unwrap();
    assert_eq!((timezones.len(), &timezones[0]["id"], &timezones[26]["name"]), (27, &json!("-12"), &json!("GMT+14")));
    let operations = connector.operations();
    assert!(operations.windows(2).all(|pair| pair[0] < pair[1]), "operations are sorted and unique");
    assert_eq!(operations.len(), 14);
}

#[test]
fn login_and_user_key_headers_follow_redtails_documented_schemes() {
    let key = Secret::new("partner");
    // base64("partner:ada:s3cret")
    assert_eq!(login_authorization(&key, "ada", "s3cret").expose(), "Basic cGFydG5lcjphZGE6czNjcmV0");
    // base64("partner:user-key-1")
    assert_eq!(
        user_key_authorization(&key, &Secret::new("user-key-1")).expose(),
        "Userkeyauth cGFydG5lcjp1c2VyLWtleS0x"
    );
    let connector = Redtail::new(&connector_config()).unwrap();
    // As the reference: base64 of the raw key, no colon.
    assert_eq!(connector.basic_auth(&Secret::new("apiKey")).unwrap().expose(), "YXBpS2V5");
}

#[tokio::test]
async fn the_auth_hook_makes_userkeyauth_from_the_stored_user_key() {
    let connector = Redtail::new(&connector_config().with_value("api_key", "partner")).unwrap();
    let mut user = callbridge_core::User { access_token: Secret::new("user-key-1"), ..Default::default() };
    let header = connector.authorization(&user).await.unwrap();
    assert_eq!(header.expose(), "Userkeyauth cGFydG5lcjp1c2VyLWtleS0x");
    user.access_token = Secret::default();
    assert_eq!(connector.authorization(&user).await.unwrap_err().kind(), ErrorKind::Unauthorized);
}

#[test]
fn the_custom_time_zone_rewrites_only_the_date_time_item() {
    let start: DateTime<Utc> = "2024-01-15T15:30:05Z".parse().unwrap();
    let body = "<b>Agent notes</b><br>hi<br><br><b>Call details</b><br><li><b>Date/time</b>: 2024-01-15 03:30:05 PM</li><li><b>Duration</b>: 1 minute</li>";
    let offset = custom_offset(&settings(json!("-5"))).unwrap();
    assert_eq!(with_date_time(body, start, offset), body.replace("2024-01-15 03:30:05 PM", "2024-01-15 10:30:05 AM"));
    assert_eq!(with_date_time("<li><b>Duration</b>: 1</li>", start, offset), "<li><b>Duration</b>: 1</li>");
    assert_eq!(custom_offset(&settings(json!("5.5"))).unwrap().local_minus_utc(), 19_800);
    assert_eq!(custom_offset(&settings(json!(3))).unwrap().local_minus_utc(), 10_800);
    for unusable in [json!("x"), json!(""), json!(30), json!(null)] {
        assert_eq!(custom_offset(&settings(unusable.clone())), None, "{unusable}");
    }
}

#[test]
fn category_ids_are_numbers_with_the_reference_default() {
    assert_eq!(category_id(None).unwrap(), json!(2));
    assert_eq!(category_id(Some(&json!(""))).unwrap(), json!(2));
    assert_eq!(category_id(Some(&json!("5"))).unwrap(), json!(5));
    assert_eq!(category_id(Some(&json!(7))).unwrap(), json!(7));
    for bad in [json!("five"), json!(-1), json!(true), json!([1])] {
        assert_eq!(category_id(Some(&bad)).unwrap_err().kind(), ErrorKind::Rejected, "{bad}");
    }
}

#[test]
fn call_times_end_after_the_duration() {
    let start = callbridge_core::StartTime::Text("2024-01-15T10:30:00Z".to_owned());
    let times = CallTimes::of(Some(&start), Some(&callbridge_core::CallDuration::Seconds(125.into()))).unwrap();
    assert_eq!(
        (iso(times.start).as_str(), iso(times.end).as_str()),
        ("2024-01-15T10:30:00.000Z", "2024-01-15T10:32:05.000Z")
    );
    let pending = CallTimes::of(Some(&start), Some(&callbridge_core::CallDuration::Text("pending".into()))).unwrap();
    assert_eq!(pending.start, pending.end);
    let unreadable = callbridge_core::StartTime::Text("yesterday".to_owned());
    assert_eq!(CallTimes::of(Some(&unreadable), None).unwrap_err().kind(), ErrorKind::Rejected);
    let now = CallTimes::of(None, None).unwrap();
    assert!((Utc::now() - now.start).num_seconds().abs() < 60, "no start time means now");
}
