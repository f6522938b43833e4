//! Routes connectors contribute (an install landing page, an uninstall callback), mounted as they declare them,
//! with a `HostServices` that lets them reach their own users and nothing else.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use callbridge_core::connector::{HostServices, RequestContext, RouteHandler, RouteRequest};
use callbridge_core::{ConnectorError, ErrorKind, User, async_trait};

use crate::error::{ApiError, MAX_BODY_BYTES};
use crate::routes::BUILT_IN_PATHS;
use crate::services::auth_context::{ContextError, RequestFacts, context_for};
use crate::state::AppState;

/// Adds every connector's routes to `router`. A route that would clash with a built-in route or another
/// connector's, or whose path axum cannot take, is skipped with an error in the log instead of failing start-up.
pub fn mount(mut router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, (MethodRouter<AppState>, Vec<String>)> = BTreeMap::new();
    for (platform, connector) in &state.connectors {
        for route in connector.routes() {
            let path = route.path;
            let valid_path = path.starts_with('/') && !path.contains(['{', '}', '*', ':', '?', '#']);
            if !valid_path || BUILT_IN_PATHS.contains(&path) {
                tracing::error!(connector = platform, path, "Connector route skipped: invalid or taken path.");
                continue;
            }
            let Ok(filter) = MethodFilter::try_from(route.method.clone()) else {
                tracing::error!(connector = platform, path, "Connector route skipped: unsupported method.");
                continue;
            };
            let (method_router, methods) = by_path.entry(path).or_insert_with(|| (MethodRouter::new(), Vec::new()));
            if methods.contains(&route.method.to_string()) {
                tracing::error!(connector = platform, path, "Connector route skipped: declared twice.");
                continue;
            }
            methods.push(route.method.to_string());
            let handler = route.handler.clone();
            let platform: &'static str = platform;
            let serve = move |State(state): State<AppState>, request: Request| {
                let handler = handler.clone();
                async move { serve_connector_route(state, platform, handler, request).await }
            };
            *method_router = std::mem::take(method_router).on(filter, serve);
        }
    }
    for (path, (method_router, _)) in by_path {
        router = router.route(path, method_router);
    }
    router
}

async fn serve_connector_route(
    state: AppState,
    platform: &'static str,
    handler: Arc<dyn RouteHandler>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let route_request = RouteRequest { headers: parts.headers, query: parts.uri.query().map(str::to_owned), body };
    let host = ConnectorHost { state, platform };
    let answer = handler.handle(&host, route_request).await;
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    if let Ok(content_type) = answer.content_type.parse() {
        response.headers_mut().insert(CONTENT_TYPE, content_type);
    }
    response
}

/// What a connector's route may do: only with users of its own platform.
struct ConnectorHost {
    state: AppState,
    platform: &'static str,
}

fn store_error(error: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::upstream(format!("database operation failed: {error}")).temporary(true)
}

#[async_trait]
impl HostServices for ConnectorHost {
    async fn find_user(&self, user_id: &str) -> Result<Option<User>, ConnectorError> {
        let user = self.state.store.user(user_id).await.map_err(store_error)?;
        Ok(user.filter(|it| it.platform == self.platform))
    }

    async fn context_for(&self, user: User) -> Result<RequestContext, ConnectorError> {
        if user.platform != self.platform {
            return Err(ConnectorError::new(ErrorKind::Unauthorized, "the user belongs to another connector"));
        }
        let entry =
            self.state.connector(self.platform).ok_or_else(|| ConnectorError::config("the connector is not served"))?;
        context_for(&self.state, entry, user, &RequestFacts::default()).await.map_err(|error| match error {
            ContextError::Revoked => ConnectorError::new(ErrorKind::Unauthorized, "the CRM session is revoked"),
            ContextError::UserGone => ConnectorError::new(ErrorKind::NotFound, "user not found"),
            ContextError::Connector(error) => error,
            ContextError::Store(error) => store_error(error),
        })
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, ConnectorError> {
        if self.find_user(user_id).await?.is_none() {
            return Ok(false);
        }
        self.state.store.delete_user(user_id).await.map_err(store_error)
    }
}
