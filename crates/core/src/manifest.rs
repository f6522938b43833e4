//! The typed platform manifest: what a connector tells the App Connect extension about its CRM (pages, fields,
//! settings, auth), served under `platforms.<name>` of `GET /crmManifest`.
//!
//! Typed so that a misspelt key or a wrong shape is a compile error, not a form the extension silently ignores.
//! Field names and meanings follow App Connect's client (spec `app-connect-client.md` section 2). The rarely used
//! UI switches the client reads go into [`PlatformManifest::extra`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::connector::AuthType;

/// One platform's entry in the manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformManifest {
    /// The platform name; must equal the connector's registry name (the extension uses it as the key).
    pub name: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Platform detection: a pattern with `*` matched against the CRM page's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Where the content script adds click-to-dial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embed_urls: Vec<String>,
    pub auth: ManifestAuth,
    #[serde(default)]
    pub can_open_log_page: bool,
    /// `{hostname}`, `{contactId}`, `{contactType}` are substituted by the extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_page_url: Option<String>,
    /// `{hostname}` and `{logId}` are substituted by the extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_page_url: Option<String>,
    /// The new-contact type picker.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_types: Vec<ContactType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_logging: Option<ServerSideLogging>,
    /// Custom user settings, by group; item ids become `userSettings` keys.
    #[serde(default)]
    pub settings: Vec<SettingsGroup>,
    /// Account settings an admin sets for every user (`admin_settings` in the request context).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_settings: Vec<SettingItem>,
    pub page: Pages,
    /// Further switches the client reads (`documentationUrl`, `requestConfig`, `override`, ...), as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How the extension finds the user's CRM instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Environment {
    /// One address for everyone.
    Fixed { url: String },
    /// The user pastes their instance's URL, which must match `url_identifier`.
    #[serde(rename_all = "camelCase")]
    Dynamic { url_identifier: String, instructions: Vec<String> },
    /// The user picks one of `selections`.
    Selectable { selections: Vec<Value> },
}

/// The login method and its form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ManifestAuth {
    #[serde(rename = "oauth")]
    OAuth { oauth: OAuthManifest },
    #[serde(rename = "apiKey")]
    ApiKey {
        #[serde(rename = "apiKey")]
        api_key: ApiKeyManifest,
    },
}

impl Default for ManifestAuth {
    fn default() -> Self {
        ManifestAuth::ApiKey { api_key: ApiKeyManifest::default() }
    }
}

impl ManifestAuth {
    /// An API-key login whose form is one required `apiKey` text field.
    pub fn api_key(title: &str, description: &str) -> Self {
        let field = Field::new("apiKey", "API key", FieldKind::String).description(description).required();
        ManifestAuth::ApiKey {
            api_key: ApiKeyManifest { page: AuthPage { title: title.to_owned(), warning: None, content: vec![field] } },
        }
    }

    pub fn auth_type(&self) -> AuthType {
        match self {
            ManifestAuth::OAuth { .. } => AuthType::OAuth,
            ManifestAuth::ApiKey { .. } => AuthType::ApiKey,
        }
    }
}

/// What the extension needs to start an OAuth authorisation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthManifest {
    pub auth_url: String,
    pub client_id: String,
    /// A raw query fragment such as `scope=a+b`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_state: Option<String>,
    /// Used by the extension only as Pipedrive's install URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// The API-key login form; every value is sent back as `additionalInfo`, the `apiKey` field as the key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyManifest {
    pub page: AuthPage,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthPage {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    pub content: Vec<Field>,
}

/// The extension's pages a connector adds fields to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pages {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_log: Option<LogPage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_log: Option<LogPage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_contact: Option<LogPage>,
    /// Offers "Search contacts" (`/custom/contact/search`).
    #[serde(default)]
    pub use_contact_search: bool,
}

/// A form's extra fields; their values arrive as `additionalSubmission[const]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    pub additional_fields: Vec<Field>,
}

/// One form field. The options of a `selection` come from the contact's `additionalInfo[const]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    #[serde(rename = "const")]
    pub id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contact_dependent: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<Value>,
    /// `contactTypeDependent`, `pattern`, `allowCustomValue`, `defaultSettingId`, `uiSchema`, ...
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Field {
    pub fn new(id: &str, title: &str, kind: FieldKind) -> Self {
        Self {
            id: id.to_owned(),
            title: title.to_owned(),
            kind,
            description: None,
            contact_dependent: false,
            required: false,
            default_value: None,
            extra: Map::new(),
        }
    }

    pub fn description(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    /// Options come from the selected contact.
    pub fn contact_dependent(mut self) -> Self {
        self.contact_dependent = true;
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldKind {
    Selection,
    Checkbox,
    InputField,
    Warning,
    /// Auth-page text input.
    String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContactType {
    pub display: String,
    pub value: String,
}

/// Admin server-side call logging.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSideLogging {
    #[serde(default)]
    pub use_admin_assigned_user_token: bool,
    #[serde(default)]
    pub enable_user_mapping: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A group of user settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsGroup {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub items: Vec<SettingItem>,
}

/// A user or admin setting; its `id` is the key in `userSettings` / `admin_settings`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingItem {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: SettingKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The account-data list an `option` setting offers (`activityTypes`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_data_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<Value>,
    /// `options`, `placeHolder`, `multiple`, `required`, ...
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SettingKind {
    InputField,
    Boolean,
    Warning,
    Option,
}

impl Environment {
    /// A CRM with a host per company (`*.pipedrive.com`): the user pastes their CRM's URL, following `instructions`.
    pub fn dynamic(url_identifier: &str, instructions: &[&str]) -> Self {
        let instructions = instructions.iter().map(|it| (*it).to_owned()).collect();
        Environment::Dynamic { url_identifier: url_identifier.to_owned(), instructions }
    }
}

impl OAuthManifest {
    /// The OAuth entry: `scope` is the configured space-separated list, sent as `scope=a+b` (the query fragment
    /// the extension appends to the authorize URL).
    pub fn new(auth_url: &str, client_id: Option<&str>, scope: Option<&str>, redirect_uri: &str) -> Self {
        Self {
            auth_url: auth_url.to_owned(),
            client_id: client_id.unwrap_or_default().to_owned(),
            scope: scope.map(|it| format!("scope={}", it.split_whitespace().collect::<Vec<_>>().join("+"))),
            custom_state: None,
            redirect_uri: Some(redirect_uri.to_owned()),
        }
    }
}

impl Pages {
    /// The same additional fields on the call-log and the message-log page (deals, matters, ...).
    pub fn logs(additional_fields: Vec<Field>) -> Self {
        let page = Some(LogPage { additional_fields });
        Pages { call_log: page.clone(), message_log: page, ..Pages::default() }
    }
}

impl SettingItem {
    pub fn new(id: &str, kind: SettingKind, name: &str) -> Self {
        Self {
            id: id.to_owned(),
            kind,
            name: name.to_owned(),
            description: None,
            account_data_key: None,
            default_value: None,
            extra: Map::new(),
        }
    }

    pub fn description(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    /// Options the extension loads from the connector's `account_data` under `key` (activity types, categories).
    pub fn account_data(mut self, key: &str) -> Self {
        self.account_data_key = Some(key.to_owned());
        self
    }
}

impl PlatformManifest {
    /// A manifest with its name, display name and auth; the rest is filled in with struct-update syntax.
    pub fn new(name: &str, display_name: &str, auth: ManifestAuth) -> Self {
        Self { name: name.to_owned(), display_name: display_name.to_owned(), auth, ..Self::default() }
    }

    /// Every key a connector may read from a request: the log and contact form fields (`additionalSubmission`),
    /// the user settings and the admin settings.
    pub fn field_ids(&self) -> impl Iterator<Item = &str> {
        let pages = [&self.page.call_log, &self.page.message_log, &self.page.new_contact];
        let form = pages.into_iter().flatten().flat_map(|page| &page.additional_fields).map(|it| it.id.as_str());
        let settings = self.settings.iter().flat_map(|group| &group.items).chain(&self.admin_settings);
        form.chain(settings.map(|it| it.id.as_str()))
    }

    /// The wire JSON.
    pub fn to_json(&self) -> Value {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
