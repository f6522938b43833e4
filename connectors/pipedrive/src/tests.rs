//! Unit tests: error mapping, the duration quirk, note parsing, HTML escaping, the SMS layout and configuration.

use callbridge_core::http::{HttpClient, HttpSettings, StatusCode};
use callbridge_core::{CallDuration, ConnectorConfig, ErrorKind, Operation};
use serde_json::{Value, json};

use crate::client::parse_error;
use crate::config::PipedriveConfig;
use crate::connector::{OPERATIONS, manifest, pipedrive_duration};

fn connector_config() -> ConnectorConfig {
    ConnectorConfig::new(HttpClient::new(&HttpSettings::default()).unwrap())
}

#[test]
fn parse_error_reads_pipedrive_error_body() {
    let body =
        br#"{"success":false,"error":"Unauthorized","error_info":"Please check developers.pipedrive.com","data":null}"#;
    let error = parse_error(StatusCode::UNAUTHORIZED, body);
    assert_eq!(error.message(), "pipedrive answered 401: Unauthorized (Please check developers.pipedrive.com)");

    let error = parse_error(StatusCode::UNPROCESSABLE_ENTITY, br#"{"success":false,"error":"Invalid deal_id"}"#);
    assert_eq!(error.message(), "pipedrive answered 422: Invalid deal_id");

    let error = parse_error(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
    assert_eq!(error.message(), "pipedrive answered 502: <html>bad gateway</html>");

    let error = parse_error(StatusCode::SERVICE_UNAVAILABLE, b"");
    assert_eq!(error.message(), "pipedrive answered 503: Service Unavailable");

    let long = "x".repeat(1000);
    let error = parse_error(StatusCode::INTERNAL_SERVER_ERROR, long.as_bytes());
    assert_eq!(error.message().len(), "pipedrive answered 500: ".len() + 300 + 3);
}

#[test]
fn duration_keeps_the_reference_quirk() {
    let seconds = |n: u64| Some(CallDuration::Seconds(n.into()));
    assert_eq!(pipedrive_duration(seconds(0).as_ref()), "00:01");
    assert_eq!(pipedrive_duration(seconds(59).as_ref()), "00:01");
    assert_eq!(pipedrive_duration(seconds(60).as_ref()), "00:02");
    assert_eq!(pipedrive_duration(seconds(300).as_ref()), "00:06");
    assert_eq!(pipedrive_duration(seconds(3599).as_ref()), "00:60");
    assert_eq!(pipedrive_duration(seconds(3600).as_ref()), "01:01");
    assert_eq!(pipedrive_duration(seconds(4500).as_ref()), "01:16");
    assert_eq!(pipedrive_duration(Some(&CallDuration::Seconds(serde_json::Number::from_f64(90.7).unwrap()))), "00:02");
    assert_eq!(pipedrive_duration(Some(&CallDuration::Text("pending".into()))), "00:00");
    assert_eq!(pipedrive_duration(Some(&CallDuration::Text("300".into()))), "00:00");
    assert_eq!(pipedrive_duration(None), "00:00");
}

#[test]
fn config_defaults_and_overrides() {
    let config = PipedriveConfig::from_connector_config(&connector_config()).unwrap();
    assert_eq!(config.client_id, None);
    assert_eq!(config.token_url, "https://oauth.pipedrive.com/oauth/token");
    assert_eq!(config.redirect_uri, "https://unified-crm-extension.labs.ringcentral.com/pipedrive-redirect");
    let error = config.client_credentials().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert_eq!(error.message(), "client_id is not configured: set PIPEDRIVE_CLIENT_ID");

    let mut with_public_url = connector_config().with_value("client_id", "id").with_value("client_secret", "s3cret");
    with_public_url.public_url = Some("https://calls.example.com/".into());
    let config = PipedriveConfig::from_connector_config(&with_public_url).unwrap();
    assert_eq!(config.redirect_uri, "https://calls.example.com/pipedrive-redirect");
    assert!(!format!("{config:?}").contains("s3cret"), "Debug must not print the client secret");

    let explicit = with_public_url
        .with_value("redirect_uri", "https://other.example/cb")
        .with_value("access_token_uri", "https://token.example/t");
    let config = PipedriveConfig::from_connector_config(&explicit).unwrap();
    assert_eq!(config.redirect_uri, "https://other.example/cb");
    assert_eq!(config.token_url, "https://token.example/t");

    // Other tooling may use PIPEDRIVE_* variables too: an unknown key is ignored (and logged), not fatal.
    let stray = connector_config().with_value("api_token", "x");
    assert!(PipedriveConfig::from_connector_config(&stray).is_ok());

    let relative = connector_config().with_value("redirect_uri", "/pipedrive-redirect");
    let error = PipedriveConfig::from_connector_config(&relative).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.message().starts_with("CALLBRIDGE_PIPEDRIVE_REDIRECT_URI is not valid"), "{}", error.message());
}

#[test]
fn operations_are_sorted_and_unique() {
    assert!(OPERATIONS.windows(2).all(|pair| pair[0] < pair[1]));
    assert!(!OPERATIONS.contains(&Operation::RefreshToken), "Pipedrive uses the standard refresh grant");
}

#[test]
fn manifest_names_the_platform_and_keeps_the_secret_out() {
    let config = PipedriveConfig::from_connector_config(
        &connector_config().with_value("client_id", "my-client").with_value("client_secret", "s3cret"),
    )
    .unwrap();
    let entry = manifest(&config).to_json();
    assert!(!entry.to_string().contains("s3cret"));
    assert_eq!(entry["auth"]["oauth"]["clientId"], "my-client");
    assert_eq!(entry["auth"]["oauth"].get("scope"), None);
    let fields: Vec<&Value> = entry["page"]["messageLog"]["additionalFields"].as_array().unwrap().iter().collect();
    assert_eq!(
        fields.iter().map(|it| it["const"].as_str().unwrap()).collect::<Vec<_>>(),
        ["deals", "leadWarning", "leads"]
    );

    let empty = manifest(&PipedriveConfig::from_connector_config(&connector_config()).unwrap()).to_json();
    assert_eq!(empty["auth"]["oauth"]["clientId"], "");
}

#[test]
fn landing_page_has_both_halves() {
    let page = |installed| String::from_utf8(crate::redirect::landing_page(installed).body.to_vec()).unwrap();
    let thanks = page(false);
    assert!(thanks.contains("Thank you for installing"));
    assert!(thanks.contains("https://www.pipedrive.com/en/marketplace"));
    let steps = page(true);
    assert!(steps.contains("<ol>"));
    assert!(!steps.contains("Thank you for installing"));
}

/// The typed manifest serialises to exactly the JSON the hand-written one did (scope set, so every key shows).
#[test]
fn manifest_json_is_what_the_extension_got_before() {
    let config = PipedriveConfig::from_connector_config(
        &connector_config().with_value("client_id", "my-client").with_value("scope", "base deals:full"),
    )
    .unwrap();
    let expected = {
        let additional_fields = json!([
            { "const": "deals", "title": "Deal", "type": "selection", "contactDependent": true },
            {
                "const": "leadWarning",
                "title": "Lead warning",
                "type": "warning",
                "description": "Lead assignment will be overridden by Deal assignment if any"
            },
            { "const": "leads", "title": "Lead", "type": "selection", "contactDependent": true },
        ]);
        let mut oauth = json!({
            "authUrl": crate::config::AUTHORIZE_URL,
            "clientId": config.client_id.clone().unwrap_or_default(),
            "redirectUri": config.redirect_uri,
        });
        if let (Some(scope), Some(oauth)) = (&config.scope, oauth.as_object_mut()) {
            oauth.insert(
                "scope".to_owned(),
                json!(format!("scope={}", scope.split_whitespace().collect::<Vec<_>>().join("+"))),
            );
        }
        json!({
            "name": crate::NAME,
            "displayName": "Pipedrive",
            "urlIdentifier": "*.pipedrive.com",
            "environment": {
                "type": "dynamic",
                "urlIdentifier": "*.pipedrive.com",
                "instructions": ["Login to your Pipedrive account", "Copy the whole url and paste it here"]
            },
            "embedUrls": ["https://*.pipedrive.com/*"],
            "auth": { "type": "oauth", "oauth": oauth },
            "canOpenLogPage": false,
            "contactPageUrl": "https://{hostname}/person/{contactId}",
            "logPageUrl": "https://{hostname}/activities/{logId}",
            "serverSideLogging": { "useAdminAssignedUserToken": false, "enableUserMapping": true },
            "settings": [],
            "adminSettings": [
                {
                    "id": "pipedriveCallActivityType",
                    "type": "option",
                    "name": "Call activity type",
                    "description": "The activity type calls are logged as. Without one, the first active type whose name contains \"call\" is used.",
                    "accountDataKey": "activityTypes"
                },
                {
                    "id": "pipedriveSMSActivityType",
                    "type": "option",
                    "name": "SMS activity type",
                    "description": "The activity type messages are logged as. Without one, the first active type whose name contains \"sms\" is used.",
                    "accountDataKey": "activityTypes"
                }
            ],
            "page": {
                "callLog": { "additionalFields": additional_fields },
                "messageLog": { "additionalFields": additional_fields },
                "useContactSearch": true
            }
        })
    };
    assert_eq!(manifest(&config).to_json(), expected);
}
