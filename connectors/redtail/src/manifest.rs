//! Redtail's platform entry for `/crmManifest`: the username/password login page, the category field of the log
//! forms, and the custom time zone setting.

use callbridge_core::PlatformManifest;
use callbridge_core::manifest::{
    ApiKeyManifest, AuthPage, ContactType, Environment, Field, FieldKind, LogPage, ManifestAuth, Pages, SettingItem,
    SettingKind, SettingsGroup,
};
use serde_json::{Map, Value, json};

use crate::NAME;
use crate::body::CUSTOM_TIMEZONE_SETTING;

/// The log forms' field whose value is the activity's category.
pub(crate) const CATEGORY_FIELD: &str = "category";
/// The user setting naming the category a log form starts with; its options are the database's categories, stored
/// into the user's settings after each call log (see `Redtail::default_category_update`).
pub(crate) const DEFAULT_CATEGORY_SETTING: &str = "defaultCategory";
/// The category a log gets when the user picked none (the reference's default, "Phone Call" in a new database).
pub(crate) const DEFAULT_CATEGORY: u64 = 2;

pub(crate) fn manifest() -> PlatformManifest {
    let category = || {
        let mut field = Field::new(CATEGORY_FIELD, "Category", FieldKind::Selection);
        field.extra.insert("defaultSettingId".to_owned(), json!(DEFAULT_CATEGORY_SETTING));
        LogPage { additional_fields: vec![field] }
    };
    PlatformManifest {
        name: NAME.to_owned(),
        display_name: "Redtail".to_owned(),
        environment: Some(Environment::Fixed { url: "https://crm.redtailtechnology.com/".to_owned() }),
        auth: ManifestAuth::ApiKey { api_key: ApiKeyManifest { page: login_page() } },
        can_open_log_page: true,
        contact_page_url: Some("https://{hostname}/contacts/{contactId}".to_owned()),
        log_page_url: Some("https://{hostname}/activities/{logId}".to_owned()),
        contact_types: vec![ContactType { display: "Contact".to_owned(), value: "contact".to_owned() }],
        settings: vec![SettingsGroup {
            id: "redtailOptions".to_owned(),
            name: "Redtail options".to_owned(),
            kind: "section".to_owned(),
            items: vec![default_category_setting(), timezone_setting()],
        }],
        page: Pages { call_log: Some(category()), message_log: Some(category()), ..Pages::default() },
        extra: object(json!({ "disableDisposition": false })),
        ..PlatformManifest::default()
    }
}

/// Username and password; the extension sends them as `additionalInfo`, with the literal `apiKey` as the key.
fn login_page() -> AuthPage {
    let mut description = Field::new(
        "redtailDescription",
        "Connect with your Redtail username and password. They are exchanged once for a user key; the password is not stored.",
        FieldKind::String,
    );
    description.extra = object(json!({ "uiSchema": { "ui:field": "typography", "ui:variant": "body1" } }));
    let mut password = Field::new("password", "Password", FieldKind::String).required();
    password.extra = object(json!({ "uiSchema": { "ui:widget": "password" } }));
    AuthPage {
        title: "Redtail".to_owned(),
        warning: None,
        content: vec![description, Field::new("username", "Username", FieldKind::String).required(), password],
    }
}

/// The category new logs start with. Redtail's categories differ per database, so the options are filled at run
/// time (`dynamicOptions`): every call log stores the current list into the user's settings.
fn default_category_setting() -> SettingItem {
    SettingItem {
        id: DEFAULT_CATEGORY_SETTING.to_owned(),
        kind: SettingKind::Option,
        name: "Default category".to_owned(),
        description: Some("The category a call or message log starts with.".to_owned()),
        account_data_key: None,
        default_value: Some(json!(DEFAULT_CATEGORY)),
        extra: object(json!({ "dynamicOptions": true, "options": [] })),
    }
}

/// Offsets from GMT-12 to GMT+14 in whole hours, as the reference offers them.
fn timezone_setting() -> SettingItem {
    let options: Vec<Value> =
        (-12..=14).map(|hours: i32| json!({ "id": hours.to_string(), "name": format!("GMT{hours:+}") })).collect();
    SettingItem {
        id: CUSTOM_TIMEZONE_SETTING.to_owned(),
        kind: SettingKind::Option,
        name: "Time zone of dates in logs".to_owned(),
        description: Some(
            "Redtail does not tell callbridge your time zone; dates in logs are shown in this offset.".to_owned(),
        ),
        account_data_key: None,
        default_value: Some(json!("0")),
        extra: object(json!({ "options": options })),
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
