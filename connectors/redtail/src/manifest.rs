//! Redtail's platform entry for `/crmManifest`: the username/password login page, the category field of the log
//! forms, and the custom time zone setting.

use serde_json::{Value, json};

use crate::NAME;
use crate::body::CUSTOM_TIMEZONE_SETTING;

pub(crate) fn manifest() -> Value {
    let category_field = json!({
        "const": "category",
        "title": "Category",
        "type": "selection",
        "contactDependent": false
    });
    let timezone_options: Vec<Value> =
        (-12..=14).map(|hours: i32| json!({ "id": hours.to_string(), "name": format!("GMT{hours:+}") })).collect();
    json!({
        "name": NAME,
        "displayName": "Redtail",
        "environment": { "type": "fixed", "url": "https://crm.redtailtechnology.com/" },
        "auth": {
            "type": "apiKey",
            "apiKey": {
                "page": {
                    "title": "Redtail",
                    "content": [
                        {
                            "const": "redtailDescription",
                            "title": "Connect with your Redtail username and password. They are exchanged once for a user key; the password is not stored.",
                            "type": "string",
                            "uiSchema": { "ui:field": "typography", "ui:variant": "body1" }
                        },
                        { "const": "username", "title": "Username", "type": "string", "required": true },
                        {
                            "const": "password",
                            "title": "Password",
                            "type": "string",
                            "required": true,
                            "uiSchema": { "ui:widget": "password" }
                        }
                    ]
                }
            }
        },
        "canOpenLogPage": true,
        "contactPageUrl": "https://{hostname}/contacts/{contactId}",
        "logPageUrl": "https://{hostname}/activities/{logId}",
        "disableDisposition": false,
        "contactTypes": [{ "display": "Contact", "value": "contact" }],
        "page": {
            "callLog": { "additionalFields": [category_field] },
            "messageLog": { "additionalFields": [category_field] }
        },
        "settings": [{
            "id": "redtailOptions",
            "type": "section",
            "name": "Redtail options",
            "items": [
                {
                    "id": CUSTOM_TIMEZONE_SETTING,
                    "type": "option",
                    "name": "Time zone of dates in logs",
                    "description": "Redtail does not tell callbridge your time zone; dates in logs are shown in this offset.",
                    "defaultValue": "0",
                    "options": timezone_options
                }
            ]
        }]
    })
}
