//! Clio's platform entry for `/crmManifest`: the region picker and each region's OAuth app, the contact and log
//! pages, the call and message form fields, and the `clioOptions` settings.

use callbridge_core::PlatformManifest;
use callbridge_core::manifest::{
    ContactType, Environment, Field, FieldKind, LogPage, ManifestAuth, OAuthManifest, Pages, ServerSideLogging,
    SettingItem, SettingKind, SettingsGroup,
};
use serde_json::{Map, Value, json};

use crate::NAME;
use crate::config::{ClioConfig, Region};
use crate::settings;

/// The platform entry of the manifest.
pub(crate) fn manifest(config: &ClioConfig) -> PlatformManifest {
    let authorize_url = |region: Region| format!("https://{}/oauth/authorize", region.host());
    // The extension swaps the OAuth app when the user picks another region's host.
    let overrides: Vec<Value> = [Region::Eu, Region::Ca, Region::Au]
        .into_iter()
        .map(|region| {
            json!({
                "triggerType": "hostname",
                "triggerValue": region.host(),
                "overrideObjects": [
                    { "path": "auth.oauth.authUrl", "value": authorize_url(region) },
                    { "path": "auth.oauth.clientId", "value": config.client_id(region) }
                ]
            })
        })
        .collect();
    let selection = |region: Region, name: &str| json!({ "const": format!("https://{}", region.host()), "name": name });
    let matters = Field::new("matters", "Matter", FieldKind::Selection).contact_dependent();
    let mut billable_status = Field::new("billableStatus", "Billable status", FieldKind::Selection);
    billable_status.extra.insert("defaultSettingId".to_owned(), json!(settings::DEFAULT_NON_BILLABLE_TICK));
    billable_status.extra.insert("options".to_owned(), settings::billable_options());
    PlatformManifest {
        name: NAME.to_owned(),
        display_name: "Clio".to_owned(),
        url_identifier: Some("*.clio.com".to_owned()),
        environment: Some(Environment::Selectable {
            selections: vec![
                selection(Region::Us, "US"),
                selection(Region::Eu, "EU"),
                selection(Region::Au, "AU"),
                selection(Region::Ca, "CA"),
            ],
        }),
        auth: ManifestAuth::OAuth {
            oauth: OAuthManifest {
                auth_url: authorize_url(Region::Us),
                client_id: config.client_id(Region::Us).to_owned(),
                redirect_uri: Some(config.redirect_uri.clone()),
                ..OAuthManifest::default()
            },
        },
        can_open_log_page: true,
        contact_page_url: Some("https://{hostname}/nc/#/contacts/{contactId}".to_owned()),
        log_page_url: Some("https://{hostname}/nc/#/contacts/{contactId}/communications".to_owned()),
        contact_types: ["Person", "Company"]
            .map(|it| ContactType { display: it.to_owned(), value: it.to_owned() })
            .to_vec(),
        server_side_logging: Some(ServerSideLogging {
            use_admin_assigned_user_token: true,
            enable_user_mapping: true,
            extra: Map::new(),
        }),
        settings: vec![SettingsGroup {
            id: "clioOptions".to_owned(),
            name: "Clio options".to_owned(),
            kind: "section".to_owned(),
            items: vec![
                billable_choice(settings::DEFAULT_NON_BILLABLE_TICK, "Default billable status for call time entries"),
                billable_choice(settings::SMS_DEFAULT_BILLABLE, "Default billable status for SMS time entries"),
                setting(
                    settings::SMS_TIME_TRACKING_ENABLED,
                    SettingKind::Boolean,
                    "Track time spent on outbound SMS",
                    json!(false),
                ),
                setting(
                    settings::TIME_ENTRIES_ENABLED,
                    SettingKind::Boolean,
                    "Create a time entry for each logged call",
                    json!(true),
                ),
                setting(
                    settings::SMS_MINIMUM_DURATION,
                    SettingKind::InputField,
                    "Minimum SMS time entry (seconds)",
                    json!("30"),
                ),
                setting(settings::SEE_CLOSED_MATTERS, SettingKind::Boolean, "Show closed matters", json!(false)),
            ],
        }],
        page: Pages {
            call_log: Some(LogPage { additional_fields: vec![matters.clone(), billable_status] }),
            message_log: Some(LogPage { additional_fields: vec![matters] }),
            new_contact: None,
            use_contact_search: true,
        },
        extra: Map::from_iter([
            ("override".to_owned(), Value::Array(overrides)),
            ("trackSmsTypingDuration".to_owned(), json!(true)),
        ]),
        ..PlatformManifest::default()
    }
}

fn setting(id: &str, kind: SettingKind, name: &str, default_value: Value) -> SettingItem {
    SettingItem {
        id: id.to_owned(),
        kind,
        name: name.to_owned(),
        description: None,
        account_data_key: None,
        default_value: Some(default_value),
        extra: Map::new(),
    }
}

/// A billable / non-billable choice, billable by default.
fn billable_choice(id: &str, name: &str) -> SettingItem {
    let mut item = setting(id, SettingKind::Option, name, json!("billable"));
    let options = json!([{ "id": "billable", "name": "Billable" }, { "id": "non-billable", "name": "Non-billable" }]);
    item.extra.insert("options".to_owned(), options);
    item
}
