//! `/pipedrive-redirect`: the page a Pipedrive Marketplace install lands on (`GET`, with `code` in the query), and
//! Pipedrive's uninstall callback on the same path (`DELETE`, the core `oauth::uninstall_route`).

use std::sync::Arc;

use callbridge_core::oauth::uninstall_route;
use callbridge_core::{Connector, ConnectorRoute, RouteRequest, RouteResponse};

use crate::config::REDIRECT_PATH;
use crate::connector::Pipedrive;

pub(crate) fn routes(connector: &Pipedrive) -> Vec<ConnectorRoute> {
    let app = connector.config.client_credentials().ok();
    let landing_page = |request: &RouteRequest| landing_page(request.query_param("code").is_some());
    vec![
        ConnectorRoute::get(REDIRECT_PATH, landing_page),
        uninstall_route(REDIRECT_PATH, app, Arc::new(connector.clone()) as Arc<dyn Connector>),
    ]
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
