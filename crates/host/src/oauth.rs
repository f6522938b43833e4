//! The OAuth 2.0 token endpoint calls the host makes for connectors: the authorization-code exchange at login and
//! the refresh-token grant (RFC 6749 sections 4.1.3 and 6).
//!
//! Like App Connect's OAuth client, the client credentials go in an `Authorization: Basic` header when there is a
//! secret (RFC 6749 section 2.3.1), and `client_id` goes in the form when there is none.

use callbridge_core::connector::OAuthInfo;
use callbridge_core::http::HttpClient;
use callbridge_core::{ConnectorError, Secret};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// What a token endpoint granted.
#[derive(Clone, Debug)]
pub struct GrantedTokens {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The whole response, for connectors that read extra fields (`api_domain`, ...). Holds secrets: never log it.
    pub raw: Map<String, Value>,
}

impl std::fmt::Debug for GrantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GrantError::InvalidGrant => f.write_str("InvalidGrant"),
            GrantError::Failed(error) => write!(f, "Failed({error})"),
        }
    }
}

/// Why a grant failed.
#[derive(thiserror::Error)]
pub enum GrantError {
    /// The code or refresh token is invalid, expired or revoked (`error=invalid_grant`).
    #[error("the token endpoint answered invalid_grant")]
    InvalidGrant,
    #[error(transparent)]
    Failed(ConnectorError),
}

/// Exchanges an authorization code for tokens.
pub async fn exchange_code(
    http: &HttpClient,
    oauth: &OAuthInfo,
    code: &str,
    redirect_uri: &str,
) -> Result<GrantedTokens, GrantError> {
    token_request(
        http,
        oauth,
        vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)],
    )
    .await
}

/// Trades a refresh token for new tokens.
pub async fn refresh(
    http: &HttpClient,
    oauth: &OAuthInfo,
    refresh_token: &Secret,
) -> Result<GrantedTokens, GrantError> {
    token_request(http, oauth, vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose())]).await
}

async fn token_request(
    http: &HttpClient,
    oauth: &OAuthInfo,
    mut form: Vec<(&str, &str)>,
) -> Result<GrantedTokens, GrantError> {
    let mut request = http.post(&oauth.token_url).header("accept", "application/json");
    if oauth.client_secret.is_empty() {
        form.push(("client_id", &oauth.client_id));
    } else {
        request = request.basic_auth(&oauth.client_id, &oauth.client_secret);
    }
    let response = request.form(&form).send().await.map_err(GrantError::Failed)?;
    let status = response.status();
    let body = parse_token_body(response.body());
    let error_code = body.get("error").and_then(Value::as_str).unwrap_or_default();
    if error_code == "invalid_grant" {
        return Err(GrantError::InvalidGrant);
    }
    let access_token = body.get("access_token").and_then(Value::as_str).filter(|it| !it.is_empty());
    let Some(access_token) = access_token.filter(|_| status.is_success()) else {
        let reason = if error_code.is_empty() { "no access_token in the response" } else { error_code };
        return Err(GrantError::Failed(ConnectorError::from_status(
            status.as_u16(),
            format!("the OAuth token endpoint refused the grant: {reason}"),
        )));
    };
    let expires_in = match body.get("expires_in") {
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    let expires_at = expires_in
        .filter(|it| it.is_finite() && *it >= 0.0 && *it < 1e10)
        .map(|seconds| Utc::now() + chrono::Duration::milliseconds((seconds * 1000.0) as i64));
    Ok(GrantedTokens {
        access_token: Secret::new(access_token),
        refresh_token: body.get("refresh_token").and_then(Value::as_str).filter(|it| !it.is_empty()).map(Secret::new),
        expires_at,
        raw: body,
    })
}

/// A token response as a JSON object; some providers answer form-encoded (RFC 6749 predates the JSON habit).
fn parse_token_body(body: &[u8]) -> Map<String, Value> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        return map;
    }
    url::form_urlencoded::parse(body)
        .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoded_token_bodies_are_read() {
        let body = parse_token_body(b"access_token=abc&expires_in=3600&error=");
        assert_eq!(body["access_token"], "abc");
        assert_eq!(body["expires_in"], "3600");
        let body = parse_token_body(br#"{"error":"invalid_grant"}"#);
        assert_eq!(body["error"], "invalid_grant");
    }
}
