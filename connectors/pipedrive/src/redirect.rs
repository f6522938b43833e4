//! `/pipedrive-redirect`: the page a Pipedrive Marketplace install lands on, and Pipedrive's uninstall callback.
//!
//! Pipedrive sends the user here after they install the app from its Marketplace (`GET`, with `code` in the query)
//! and calls the same path when an account removes the app (`DELETE`, authenticated with the app's client
//! credentials). On uninstall we revoke the user's tokens and delete the user, so nothing outlives the install.

use std::sync::Arc;

use base64::Engine as _;
use callbridge_core::http::{Method, StatusCode};
use callbridge_core::{ConnectorRoute, HostServices, RouteHandler, RouteRequest, RouteResponse, async_trait};
use serde_json::Value;
use tracing::{info, warn};

use crate::NAME;
use crate::client::PipedriveClient;
use crate::config::{PipedriveConfig, REDIRECT_PATH};
use crate::connector::revoke_tokens;

/// The two routes, sharing the connector's configuration and client.
pub(crate) fn routes(config: PipedriveConfig, client: PipedriveClient) -> Vec<ConnectorRoute> {
    vec![
        ConnectorRoute { method: Method::GET, path: REDIRECT_PATH, handler: Arc::new(LandingPage) },
        ConnectorRoute { method: Method::DELETE, path: REDIRECT_PATH, handler: Arc::new(Uninstall { config, client }) },
    ]
}

/// `GET /pipedrive-redirect`: a static page; which half shows depends on whether Pipedrive sent a `code`.
#[derive(Debug)]
struct LandingPage;

#[async_trait]
impl RouteHandler for LandingPage {
    async fn handle(&self, _host: &dyn HostServices, request: RouteRequest) -> RouteResponse {
        let has_code = url::form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
            .any(|(key, value)| key == "code" && !value.is_empty());
        RouteResponse::html(StatusCode::OK, landing_page(has_code))
    }
}

/// The landing page. After a Marketplace install (`code` present) it explains how to finish the connection in the
/// extension; opened on its own it thanks the visitor and points at the Marketplace listing.
pub(crate) fn landing_page(installed: bool) -> String {
    let body = if installed {
        "<h1>Pipedrive is almost connected</h1>\
         <p>Finish the connection in the RingCentral App Connect extension:</p>\
         <ol>\
         <li>Install the RingCentral App Connect extension in your browser, if you have not yet.</li>\
         <li>Open Pipedrive in a browser tab and open the extension.</li>\
         <li>Sign in to RingCentral, then choose <b>Connect</b> next to Pipedrive.</li>\
         </ol>\
         <p>You can close this tab.</p>"
    } else {
        "<h1>Thank you for installing RingCentral App Connect for Pipedrive</h1>\
         <p>To connect Pipedrive, open the app in the \
         <a href=\"https://www.pipedrive.com/en/marketplace\">Pipedrive Marketplace</a> and choose \
         <b>Install now</b>.</p>"
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>RingCentral App Connect for Pipedrive</title>\
         <style>body{{font-family:sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}</style>\
         </head><body>{body}</body></html>"
    )
}

/// `DELETE /pipedrive-redirect`: Pipedrive's notice that a user removed the app.
#[derive(Debug)]
struct Uninstall {
    config: PipedriveConfig,
    client: PipedriveClient,
}

#[async_trait]
impl RouteHandler for Uninstall {
    async fn handle(&self, host: &dyn HostServices, request: RouteRequest) -> RouteResponse {
        if !self.is_pipedrive(&request) {
            return RouteResponse::text(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
        let Some(pipedrive_user_id) = user_id(&request.body) else {
            return RouteResponse::text(StatusCode::BAD_REQUEST, "Missing user_id");
        };
        let user_id = format!("{pipedrive_user_id}-{NAME}");
        let user = match host.find_user(&user_id).await {
            Ok(Some(user)) => user,
            // Nothing stored for this user: the uninstall is already complete as far as we are concerned.
            Ok(None) => return RouteResponse::text(StatusCode::OK, "User deleted"),
            Err(error) => {
                warn!(connector = NAME, %error, "Looking up the uninstalling user failed.");
                return RouteResponse::text(StatusCode::INTERNAL_SERVER_ERROR, "Error deleting user");
            }
        };
        let revoked = match host.context_for(user).await {
            Ok(ctx) => revoke_tokens(&self.client, &self.config, &ctx.user).await,
            Err(error) => Err(error),
        };
        if let Err(error) = revoked {
            warn!(connector = NAME, %error, "Revoking the uninstalling user's tokens failed; the user is kept.");
            return RouteResponse::text(StatusCode::INTERNAL_SERVER_ERROR, "Error revoking tokens");
        }
        match host.delete_user(&user_id).await {
            Ok(_) => {
                info!(connector = NAME, user_id = %user_id, "Deleted a user who uninstalled the Pipedrive app.");
                RouteResponse::text(StatusCode::OK, "User deleted")
            }
            Err(error) => {
                warn!(connector = NAME, %error, "Deleting the uninstalling user failed.");
                RouteResponse::text(StatusCode::INTERNAL_SERVER_ERROR, "Error deleting user")
            }
        }
    }
}

impl Uninstall {
    /// True when the request carries `Basic base64(client_id:client_secret)` of our Pipedrive app.
    fn is_pipedrive(&self, request: &RouteRequest) -> bool {
        let Ok((client_id, client_secret)) = self.config.client_credentials() else {
            warn!(connector = NAME, "An uninstall callback arrived but no client credentials are configured.");
            return false;
        };
        let presented = request
            .headers
            .get("authorization")
            .and_then(|it| it.to_str().ok())
            .and_then(|it| it.strip_prefix("Basic "))
            .and_then(|it| base64::engine::general_purpose::STANDARD.decode(it.trim()).ok());
        let expected = format!("{client_id}:{}", client_secret.expose());
        presented.is_some_and(|presented| constant_time_eq(&presented, expected.as_bytes()))
    }
}

/// The uninstalling user's Pipedrive id from `{"user_id": 123, ...}` (a number or a numeric string).
fn user_id(body: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(body).ok()?;
    let id = match body.get("user_id")? {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.trim().to_owned(),
        _ => return None,
    };
    (!id.is_empty() && id.bytes().all(|it| it.is_ascii_digit())).then_some(id)
}

/// Compares secrets without an early exit, so response time says nothing about how much of a guess was right.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |acc, (l, r)| acc | (l ^ r)) == 0
}
