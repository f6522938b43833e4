//! Unit tests: the `parse_error` table, ids and API URLs, configuration, the time-zone table, note parsing, links
//! and the connector's static answers.

use callbridge_core::http::{HttpClient, HttpSettings, StatusCode};
use callbridge_core::{Connector, ConnectorConfig, ErrorKind, LogContact, Operation, RecordKey, Secret};
use chrono::{TimeZone, Utc};
use serde_json::{Map, Value, json};

use crate::NAME;
use crate::api::{Link, NewLink};
use crate::client::{api_base, numeric_id, parse_error};
use crate::config::InsightlyConfig;
use crate::connector::Insightly;
use crate::events::{chosen_links, dispositions_of, insightly_time, key_location, log_links};
use crate::timezone::{UserZone, iana_name, table, user_zone};

fn connector_config() -> ConnectorConfig {
    ConnectorConfig::new(HttpClient::new(&HttpSettings::default()).unwrap())
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
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
        let error = parse_error(StatusCode::from_u16(status).unwrap(), br#"{"Message":"nope"}"#);
        assert_eq!((error.kind(), error.is_temporary(), error.status()), (kind, temporary, Some(status)), "{status}");
        assert_eq!(error.message(), format!("{NAME} answered {status}: nope"));
    }
}

#[test]
fn parse_error_reads_bodies_that_are_not_the_error_json() {
    let error = parse_error(StatusCode::BAD_REQUEST, br#"{"message":"lower case"}"#);
    assert_eq!(error.message(), format!("{NAME} answered 400: lower case"));
    let error = parse_error(StatusCode::BAD_GATEWAY, b"<html>Bad gateway</html>");
    assert_eq!(error.message(), format!("{NAME} answered 502: <html>Bad gateway</html>"));
    let error = parse_error(StatusCode::NOT_FOUND, b"");
    assert_eq!(error.message(), format!("{NAME} answered 404: Not Found"));
    let long = "x".repeat(1000);
    let error = parse_error(StatusCode::INTERNAL_SERVER_ERROR, long.as_bytes());
    assert!(error.message().len() < 400, "{}", error.message().len());
}

#[test]
fn ids_in_paths_are_numbers() {
    assert_eq!(numeric_id(" 42 ", "event").unwrap(), 42);
    for id in ["", "../me", "1/2", "1?x=2", "-1", "a"] {
        assert_eq!(numeric_id(id, "event").unwrap_err().kind(), ErrorKind::Rejected, "{id:?}");
    }
}

#[test]
fn api_urls_keep_the_insightly_origin_and_take_the_configured_version() {
    for url in
        ["https://api.na1.insightly.com/v3.1", "https://api.na1.insightly.com/v3.1/", "https://api.na1.insightly.com"]
    {
        assert_eq!(api_base(url, "v3.1").unwrap(), "https://api.na1.insightly.com/v3.1", "{url}");
    }
    assert_eq!(
        api_base(" https://api.eu1.insightly.com/v2.3/ ", "v3.1").unwrap(),
        "https://api.eu1.insightly.com/v3.1"
    );
    for url in [
        "",
        "http://api.na1.insightly.com/v3.1",
        "https://evil.example.com/v3.1",
        "https://insightly.com.evil.example/v3.1",
        "https://user@api.na1.insightly.com/v3.1",
        "https://api.na1.insightly.com:8443/v3.1",
        "https://127.0.0.1/v3.1",
        "not a url",
    ] {
        assert_eq!(api_base(url, "v3.1").unwrap_err().kind(), ErrorKind::Rejected, "{url:?}");
    }
}

#[test]
fn config_defaults_and_checks_the_api_version() {
    let config = InsightlyConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(config.api_version, "v3.1");
    let config = connector_config().with_value("api_version", " v3.0/ ");
    assert_eq!(InsightlyConfig::from_connector_config(&config).unwrap().api_version, "v3.0");
    // The host's origin override arrives as `base_url`, an unknown key only warns.
    for key in ["base_url", "api_verison"] {
        let config = connector_config().with_value(key, "http://127.0.0.1:9000");
        assert!(InsightlyConfig::from_connector_config(&config).is_ok(), "{key}");
    }
    for bad in ["3.1", "v", "v3.1/../x", "v3?x", "vx"] {
        let error =
            InsightlyConfig::from_connector_config(&connector_config().with_value("api_version", bad)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{bad}");
        assert!(error.message().contains("INSIGHTLY_API_VERSION"), "{error}");
    }
}

#[test]
fn the_time_zone_table_is_sorted_and_every_zone_exists() {
    assert!(table().windows(2).all(|pair| pair[0].0 < pair[1].0), "sorted for the binary search");
    for (windows, iana) in table() {
        assert!(iana.parse::<chrono_tz::Tz>().is_ok(), "{windows} -> {iana}");
    }
    assert_eq!(iana_name("Eastern Standard Time"), "America/New_York");
    assert_eq!(iana_name("Europe/Paris"), "Europe/Paris");
}

#[test]
fn user_zones_carry_the_offset_of_the_day() {
    let winter = Utc.with_ymd_and_hms(2024, 1, 15, 12, 0, 0).unwrap();
    let summer = Utc.with_ymd_and_hms(2024, 7, 15, 12, 0, 0).unwrap();
    let zone = |id: &str, at| user_zone(id, at);
    assert_eq!(
        zone("Eastern Standard Time", winter),
        UserZone { name: "America/New_York".into(), offset_hours: "-5".into() }
    );
    assert_eq!(zone("Eastern Standard Time", summer).offset_hours, "-4");
    assert_eq!(zone("India Standard Time", summer).offset_hours, "5.5");
    assert_eq!(
        zone("Nowhere Standard Time", summer),
        UserZone { name: "Nowhere Standard Time".into(), offset_hours: "0".into() }
    );
}

#[test]
fn links_of_a_log_follow_the_contact_type() {
    let contact = |kind: &str| LogContact { id: "101".into(), kind: kind.into(), ..LogContact::default() };
    let submission = object(json!({ "organisation": "5", "opportunity": 6, "project": "", "other": 1 }));
    let link = |name: &str, id| NewLink { link_object_name: name.into(), link_object_id: id };
    assert_eq!(
        log_links(&contact("Contact"), &submission).unwrap(),
        [link("Contact", 101), link("Organisation", 5), link("Opportunity", 6)]
    );
    assert_eq!(log_links(&contact("lead"), &submission).unwrap(), [link("Lead", 101)]);
    assert_eq!(log_links(&contact("Deal"), &submission).unwrap_err().kind(), ErrorKind::Rejected);
    // App Connect's message page spelling is not a field of this manifest.
    let submission = object(json!({ "organisation": 7, "organization": 5, "project": "none" }));
    assert_eq!(chosen_links(&submission), [link("Organisation", 7)]);
}

#[test]
fn dispositions_are_the_links_to_organisations_opportunities_and_projects() {
    let link =
        |name: &str, id| Link { link_id: Some(1), link_object_name: Some(name.into()), link_object_id: Some(id) };
    let links = [link("Contact", 101), link("Organisation", 5), link("OPPORTUNITY", 6), link("Lead", 9)];
    assert_eq!(Value::Object(dispositions_of(&links)), json!({ "organisation": "5", "opportunity": "6" }));
}

#[test]
fn record_keys_go_into_the_location() {
    assert_eq!(key_location(&RecordKey("u1:s-1".into())).as_deref(), Some("callbridge:u1:s-1"));
    assert_eq!(key_location(&RecordKey(" ".into())), None);
    assert_eq!(insightly_time(Utc.with_ymd_and_hms(2024, 2, 1, 12, 0, 0).unwrap()), "2024-02-01T12:00:00.000Z");
}

#[test]
fn the_connector_describes_itself() {
    let connector = Insightly::new(&connector_config()).unwrap();
    assert_eq!(connector.name(), NAME);
    let manifest = connector.manifest().to_json();
    assert_eq!(manifest["name"], NAME);
    assert_eq!(manifest["auth"]["type"], "apiKey");
    let operations = connector.operations();
    assert!(operations.windows(2).all(|pair| pair[0] < pair[1]), "operations are sorted and unique");
    assert!(operations.contains(&Operation::FindCreatedRecord));
    // Every contact-dependent field of the call page is a key `find_contact` fills.
    let consts: Vec<&str> = manifest["page"]["callLog"]["additionalFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| it["const"].as_str().unwrap())
        .collect();
    assert_eq!(consts, ["organisation", "opportunity", "project"]);
}

#[test]
fn basic_auth_encodes_the_api_key_as_the_user_name() {
    let connector = Insightly::new(&connector_config()).unwrap();
    // base64("key-123:")
    assert_eq!(connector.basic_auth(&Secret::new("key-123")).unwrap().expose(), "a2V5LTEyMzo=");
}
