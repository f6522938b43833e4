//! `/pipedrive-redirect`: the page a Pipedrive Marketplace install lands on (`GET`, with `code` in the query), and
//! Pipedrive's uninstall callback on the same path (`DELETE`, the core `oauth::uninstall_route`).

use std::sync::Arc;

use callbridge_core::http::Method;
use callbridge_core::oauth::uninstall_route;
use callbridge_core::{
    Connector, ConnectorRoute, HostServices, RouteHandler, RouteRequest, RouteResponse, async_trait,
};

use crate::config::REDIRECT_PATH;
use crate::connector::Pipedrive;

pub(crate) fn routes(connector: &Pipedrive) -> Vec<ConnectorRoute> {
    let app = connector.config.client_credentials().ok();
    vec![
        ConnectorRoute { method: Method::GET, path: REDIRECT_PATH, handler: Arc::new(LandingPage) },
        uninstall_route(REDIRECT_PATH, app, Arc::new(connector.clone()) as Arc<dyn Connector>),
    ]
}

/// `GET /pipedrive-redirect`: a static page, one of two halves.
#[derive(Debug)]
struct LandingPage;

#[async_trait]
impl RouteHandler for LandingPage {
    async fn handle(&self, _host: &dyn HostServices, request: RouteRequest) -> RouteResponse {
        let installed = url::form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
            .any(|(key, value)| key == "code" && !value.is_empty());
        landing_page(installed)
    }
}

/// After a Marketplace install (`code` present) the page explains how to finish the connection in the extension;
/// opened on its own it points at the Marketplace listing.
pub(crate) fn landing_page(installed: bool) -> RouteResponse {
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
    RouteResponse::page("RingCentral App Connect for Pipedrive", body)
}
