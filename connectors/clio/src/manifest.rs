//! Clio's platform entry for `/crmManifest`: the region picker and each region's OAuth app, the contact and log
//! pages, the call and message form fields, and the `clioOptions` settings.

use serde_json::{Value, json};

use crate::NAME;
use crate::config::{ClioConfig, Region};
use crate::settings;

/// The platform entry of the manifest.
pub(crate) fn manifest(config: &ClioConfig) -> Value {
    let authorize_url = |region: Region| format!("https://{}/oauth/authorize", region.host());
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
    let billable_choice = |id: &str, name: &str| {
        json!({
            "id": id,
            "type": "option",
            "name": name,
            "options": [{ "id": "billable", "name": "Billable" }, { "id": "non-billable", "name": "Non-billable" }],
            "defaultValue": "billable"
        })
    };
    json!({
        "name": NAME,
        "displayName": "Clio",
        "urlIdentifier": "*.clio.com",
        "environment": {
            "type": "selectable",
            "selections": [
                { "const": format!("https://{}", Region::Us.host()), "name": "US" },
                { "const": format!("https://{}", Region::Eu.host()), "name": "EU" },
                { "const": format!("https://{}", Region::Au.host()), "name": "AU" },
                { "const": format!("https://{}", Region::Ca.host()), "name": "CA" }
            ]
        },
        "auth": {
            "type": "oauth",
            "oauth": {
                "authUrl": authorize_url(Region::Us),
                "clientId": config.client_id(Region::Us),
                "redirectUri": config.redirect_uri
            }
        },
        "override": overrides,
        "trackSmsTypingDuration": true,
        "contactTypes": [{ "display": "Person", "value": "Person" }, { "display": "Company", "value": "Company" }],
        "canOpenLogPage": true,
        "contactPageUrl": "https://{hostname}/nc/#/contacts/{contactId}",
        "logPageUrl": "https://{hostname}/nc/#/contacts/{contactId}/communications",
        "serverSideLogging": { "useAdminAssignedUserToken": true, "enableUserMapping": true },
        "settings": [{
            "id": "clioOptions",
            "type": "section",
            "name": "Clio options",
            "items": [
                billable_choice(settings::DEFAULT_NON_BILLABLE_TICK, "Default billable status for call time entries"),
                billable_choice(settings::SMS_DEFAULT_BILLABLE, "Default billable status for SMS time entries"),
                {
                    "id": settings::SMS_TIME_TRACKING_ENABLED,
                    "type": "boolean",
                    "name": "Track time spent on outbound SMS",
                    "defaultValue": false
                },
                {
                    "id": settings::TIME_ENTRIES_ENABLED,
                    "type": "boolean",
                    "name": "Create a time entry for each logged call",
                    "defaultValue": true
                },
                {
                    "id": settings::SMS_MINIMUM_DURATION,
                    "type": "inputField",
                    "name": "Minimum SMS time entry (seconds)",
                    "defaultValue": "30"
                },
                {
                    "id": settings::SEE_CLOSED_MATTERS,
                    "type": "boolean",
                    "name": "Show closed matters",
                    "defaultValue": false
                }
            ]
        }],
        "page": {
            "callLog": {
                "additionalFields": [
                    { "const": "matters", "title": "Matter", "type": "selection", "contactDependent": true },
                    {
                        "const": "billableStatus",
                        "title": "Billable status",
                        "type": "selection",
                        "contactDependent": false,
                        "defaultSettingId": settings::DEFAULT_NON_BILLABLE_TICK,
                        "options": [
                            { "const": "billable", "title": "Billable" },
                            { "const": "non-billable", "title": "Non-billable" }
                        ]
                    }
                ]
            },
            "messageLog": {
                "additionalFields": [
                    { "const": "matters", "title": "Matter", "type": "selection", "contactDependent": true }
                ]
            },
            "useContactSearch": true
        }
    })
}
