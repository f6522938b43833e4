//! What OAuth connectors share beyond the host's code exchange: revoking a user's tokens at logout
//! ([`revoke_tokens`], RFC 7009), reading a configured scope list, and the uninstall callback a CRM's app
//! marketplace calls when an account removes the app ([`uninstall_route`]).

use std::sync::Arc;

use base64::Engine as _;
use tracing::{info, warn};

use crate::connector::{Connector, ConnectorRoute, HostServices, RouteHandler, RouteRequest, RouteResponse};
use crate::error::ConnectorError;
use crate::http::{Method, StatusCode};
use crate::rest::RestClient;
use crate::schema::User;
use crate::secret::Secret;

/// The app's client id and secret, as a CRM checks them on revocation and sends them with callbacks.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

/// Revokes the user's refresh and access tokens at `url` (`POST`, form `token=...`, HTTP Basic with the app's
/// client credentials), the refresh token first: it could mint new access tokens. Empty tokens are skipped.
pub async fn revoke_tokens(
    rest: &RestClient,
    url: &str,
    app: &ClientCredentials,
    user: &User,
) -> Result<(), ConnectorError> {
    let refresh_token = user.refresh_token.as_ref().filter(|it| !it.is_empty());
    let access_token = Some(&user.access_token).filter(|it| !it.is_empty());
    for token in [refresh_token, access_token].into_iter().flatten() {
        let request = rest.post(url).basic_auth(&app.client_id, &app.client_secret).form(&[("token", token.expose())]);
        rest.execute(request).await?;
    }
    Ok(())
}

/// A configured scope setting (`"a b"`) as the list of scopes; none when unset.
pub fn scopes(setting: Option<&str>) -> Vec<String> {
    setting.map(|it| it.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
}

/// `DELETE <path>`: the CRM's notice that a user removed the app. The request must carry HTTP Basic with the app's
/// client credentials and a JSON body `{"user_id": <CRM user id>}` (a number or a numeric string). The user
/// `<id>-<connector name>` is logged out through [`Connector::unauthorize`] (which revokes their tokens) and then
/// deleted, so nothing outlives the install; a failed revocation keeps the user, so the operator can retry.
/// Without configured credentials every callback is refused.
pub fn uninstall_route(
    path: &'static str,
    app: Option<ClientCredentials>,
    connector: Arc<dyn Connector>,
) -> ConnectorRoute {
    ConnectorRoute { method: Method::DELETE, path, handler: Arc::new(Uninstall { app, connector }) }
}

struct Uninstall {
    app: Option<ClientCredentials>,
    connector: Arc<dyn Connector>,
}

#[crate::async_trait]
impl RouteHandler for Uninstall {
    async fn handle(&self, host: &dyn HostServices, request: RouteRequest) -> RouteResponse {
        let name = self.connector.name();
        let text = RouteResponse::text;
        let Some(app) = &self.app else {
            warn!(connector = name, "An uninstall callback arrived but no client credentials are configured.");
            return text(StatusCode::UNAUTHORIZED, "Unauthorized");
        };
        if !presents_basic(&request, app) {
            return text(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
        let Some(crm_user_id) = body_user_id(&request.body) else {
            return text(StatusCode::BAD_REQUEST, "Missing user_id");
        };
        let user_id = format!("{crm_user_id}-{name}");
        let user = match host.find_user(&user_id).await {
            Ok(Some(user)) => user,
            // Nothing stored for this user: the uninstall is already complete as far as we are concerned.
            Ok(None) => return text(StatusCode::OK, "User deleted"),
            Err(error) => {
                warn!(connector = name, %error, "Looking up the uninstalling user failed.");
                return text(StatusCode::INTERNAL_SERVER_ERROR, "Error deleting user");
            }
        };
        let revoked = match host.context_for(user).await {
            Ok(ctx) => self.connector.unauthorize(&ctx).await.map(drop),
            Err(error) => Err(error),
        };
        if let Err(error) = revoked {
            warn!(connector = name, %error, "Revoking the uninstalling user's tokens failed; the user is kept.");
            return text(StatusCode::INTERNAL_SERVER_ERROR, "Error revoking tokens");
        }
        match host.delete_user(&user_id).await {
            Ok(_) => {
                info!(connector = name, user_id = %user_id, "Deleted a user who uninstalled the app.");
                text(StatusCode::OK, "User deleted")
            }
            Err(error) => {
                warn!(connector = name, %error, "Deleting the uninstalling user failed.");
                text(StatusCode::INTERNAL_SERVER_ERROR, "Error deleting user")
            }
        }
    }
}

/// True when the request carries `Basic base64(client_id:client_secret)` of the app.
fn presents_basic(request: &RouteRequest, app: &ClientCredentials) -> bool {
    let presented = request
        .headers
        .get("authorization")
        .and_then(|it| it.to_str().ok())
        .and_then(|it| it.strip_prefix("Basic "))
        .and_then(|it| base64::engine::general_purpose::STANDARD.decode(it.trim()).ok());
    let expected = format!("{}:{}", app.client_id, app.client_secret.expose());
    presented.is_some_and(|presented| constant_time_eq(&presented, expected.as_bytes()))
}

/// The CRM user id from `{"user_id": 123, ...}` (a number or a numeric string).
fn body_user_id(body: &[u8]) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    let id = match body.get("user_id")? {
        serde_json::Value::Number(number) => number.to_string(),
        serde_json::Value::String(text) => text.trim().to_owned(),
        _ => return None,
    };
    (!id.is_empty() && id.bytes().all(|it| it.is_ascii_digit())).then_some(id)
}

/// Compares secrets without an early exit, so response time says nothing about how much of a guess was right.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |acc, (l, r)| acc | (l ^ r)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_bodies_and_credentials() {
        assert_eq!(body_user_id(br#"{"user_id": 12}"#).as_deref(), Some("12"));
        assert_eq!(body_user_id(br#"{"user_id": " 12 "}"#).as_deref(), Some("12"));
        for bad in [&br#"{"user_id": "1/2"}"#[..], br#"{"user_id": null}"#, b"{}", b"not json", br#"{"user_id":""}"#] {
            assert_eq!(body_user_id(bad), None);
        }
        assert!(constant_time_eq(b"id:secret", b"id:secret"));
        assert!(!constant_time_eq(b"id:secret", b"id:secreT") && !constant_time_eq(b"id:secret", b"id:secret2"));
        assert_eq!(scopes(Some(" a  b ")), vec!["a", "b"]);
        assert!(scopes(None).is_empty());
    }
}
