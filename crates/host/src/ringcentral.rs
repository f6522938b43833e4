//! The RingCentral API client: who a RingCentral access token belongs to (extension, account, admin role) and the
//! account's extensions, for the admin plane. It runs on the host's one HTTP client; its origin comes from
//! configuration (`CALLBRIDGE_RINGCENTRAL_BASE_URL`, else `RINGCENTRAL_SERVER`), so tests use a mock RingCentral.

use callbridge_core::Secret;
use callbridge_core::http::HttpClient;
use callbridge_core::values::id_text;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// RingCentral's production API origin.
pub const DEFAULT_ORIGIN: &str = "https://platform.ringcentral.com";
/// Extensions asked for per page (RingCentral's largest page).
const PAGE_SIZE: u32 = 1000;
/// At most this many pages are read: 100 000 extensions, far beyond any account, bounds a looping `paging`.
const MAX_PAGES: u32 = 100;

/// Why RingCentral gave no answer we can use.
#[derive(Debug, thiserror::Error)]
pub enum RingCentralError {
    /// RingCentral refused the token (401 or 403): it is invalid, expired or lacks the permission.
    #[error("RingCentral refused the access token")]
    Refused,
    /// RingCentral could not be reached or answered something else.
    #[error("RingCentral is unavailable: {0}")]
    Unavailable(String),
}

/// The user a RingCentral access token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The raw RingCentral extension id.
    pub extension_id: String,
    /// The raw RingCentral account id.
    pub account_id: String,
    /// The extension has RingCentral's `Admin` permission.
    pub is_admin: bool,
}

/// One extension of the account, as the admin's user mapping shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    pub extension_id: String,
    pub name: String,
    pub email: Option<String>,
    pub extension_number: Option<String>,
}

/// The RingCentral API on one origin.
#[derive(Clone, Debug)]
pub struct RingCentral {
    http: HttpClient,
    origin: Url,
}

/// `GET /restapi/v1.0/account/~/extension/~`: the parts we read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExtensionInfo {
    id: Value,
    account: Option<AccountRef>,
    permissions: Option<Permissions>,
}

#[derive(Deserialize)]
struct AccountRef {
    id: Value,
}

#[derive(Deserialize)]
struct Permissions {
    admin: Option<Permission>,
}

#[derive(Deserialize)]
struct Permission {
    enabled: Option<bool>,
}

/// A page of `GET /restapi/v1.0/account/~/extension`.
#[derive(Deserialize)]
struct ExtensionPage {
    #[serde(default)]
    records: Vec<ExtensionRecord>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExtensionRecord {
    id: Value,
    extension_number: Option<Value>,
    name: Option<String>,
    contact: Option<Contact>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Contact {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paging {
    page: Option<u32>,
    total_pages: Option<u32>,
}

impl RingCentral {
    pub fn new(http: HttpClient, origin: Url) -> Self {
        Self { http, origin }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin.as_str().trim_end_matches('/'))
    }

    /// Who `token` belongs to: their extension, account and whether they are an admin.
    pub async fn caller(&self, token: &Secret) -> Result<Caller, RingCentralError> {
        let info: ExtensionInfo = self.get(&self.url("/restapi/v1.0/account/~/extension/~"), token, &[]).await?;
        let account_id = info.account.map(|it| id_text(&it.id)).unwrap_or_default();
        let extension_id = id_text(&info.id);
        if account_id.is_empty() || extension_id.is_empty() {
            return Err(RingCentralError::Unavailable("the extension has no id or account id".to_owned()));
        }
        let is_admin = info.permissions.and_then(|it| it.admin).and_then(|it| it.enabled).unwrap_or(false);
        Ok(Caller { extension_id, account_id, is_admin })
    }

    /// Every extension of the caller's account, page by page.
    pub async fn extensions(&self, token: &Secret) -> Result<Vec<Extension>, RingCentralError> {
        let url = self.url("/restapi/v1.0/account/~/extension");
        let mut extensions = Vec::new();
        for page in 1..=MAX_PAGES {
            let (page_text, per_page) = (page.to_string(), PAGE_SIZE.to_string());
            let query = [("page", page_text.as_str()), ("perPage", per_page.as_str())];
            let answer: ExtensionPage = self.get(&url, token, &query).await?;
            let received = answer.records.len();
            extensions.extend(answer.records.into_iter().map(Extension::from));
            let last = match answer.paging {
                Some(Paging { page: Some(current), total_pages: Some(total) }) => current >= total,
                // Without paging, a short page is the last one.
                _ => received < PAGE_SIZE as usize,
            };
            if last || received == 0 {
                break;
            }
        }
        Ok(extensions)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        token: &Secret,
        query: &[(&str, &str)],
    ) -> Result<T, RingCentralError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .query(query)
            .send()
            .await
            .map_err(|error| RingCentralError::Unavailable(error.to_string()))?;
        match response.status().as_u16() {
            200..=299 => response.json().map_err(|error| RingCentralError::Unavailable(error.to_string())),
            401 | 403 => Err(RingCentralError::Refused),
            status => Err(RingCentralError::Unavailable(format!("HTTP {status}"))),
        }
    }
}

impl From<ExtensionRecord> for Extension {
    fn from(record: ExtensionRecord) -> Self {
        let contact = record.contact;
        let full_name = contact.as_ref().map(|it| {
            let parts = [it.first_name.as_deref(), it.last_name.as_deref()];
            parts.into_iter().flatten().filter(|it| !it.is_empty()).collect::<Vec<_>>().join(" ")
        });
        let name = record.name.filter(|it| !it.is_empty()).or(full_name).unwrap_or_default();
        Extension {
            extension_id: id_text(&record.id),
            name,
            email: contact.and_then(|it| it.email).filter(|it| !it.is_empty()),
            extension_number: record.extension_number.as_ref().map(id_text).filter(|it| !it.is_empty()),
        }
    }
}

/// The RingCentral access token of a request: header `X-RC-Access-Token`, else query `rcAccessToken` (what the
/// extension sends), with a leading `Bearer ` removed.
pub fn request_token(headers: &axum::http::HeaderMap, query: &crate::extract::QueryParams) -> Option<Secret> {
    let header = headers.get("x-rc-access-token").and_then(|it| it.to_str().ok());
    let raw = header.or_else(|| query.get("rcAccessToken"))?.trim();
    let token = raw.strip_prefix("Bearer ").unwrap_or(raw).trim();
    // The extension sends the literal `undefined` when it has no token; a token is short.
    (!token.is_empty() && token != "undefined" && token.len() <= 4096).then(|| Secret::new(token.to_owned()))
}
