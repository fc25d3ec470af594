//! The Engine API over HTTP: one router per Docker resource, everything else passed through.
//!
//! Handlers extract, call `control`, and map the result; they hold no business logic. The
//! outer layer strips the `/vX.Y` prefix (recording it as [`RequestedVersion`]) before routing,
//! so routes are written unversioned, and stamps the engine's headers on every response.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::types::api_version::{self, ApiVersion};

pub mod configs;
pub mod error;
pub mod events;
pub mod extract;
pub mod networks;
pub mod nodes;
pub mod openapi;
pub mod proxy;
pub mod secrets;
pub mod serve;
pub mod services;
pub mod state;
pub mod swarm;
pub mod system;
pub mod tasks;

pub use error::ApiError;
pub use state::AppState;

/// The version prefix the client used, if any (`/v1.41/...` -> 1.41).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestedVersion {
    pub prefix: Option<ApiVersion>,
}

impl RequestedVersion {
    /// The version the request is served at: its prefix, or shoal's own for unversioned paths.
    pub fn effective(self) -> ApiVersion {
        self.prefix.unwrap_or(api_version::MAX)
    }
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(system::router())
        .merge(swarm::router())
        .merge(events::router())
        .merge(networks::router())
        .merge(services::router())
        .merge(nodes::router())
        .merge(tasks::router())
        .merge(secrets::router())
        .merge(configs::router())
        .merge(openapi::router())
        .method_not_allowed_fallback(page_not_found)
        .fallback(proxy::forward)
        .with_state(state);
    Router::new()
        .fallback_service(routes)
        .layer(middleware::from_fn(versioned))
}

async fn page_not_found() -> ApiError {
    ApiError::page_not_found()
}

static API_VERSION: HeaderName = HeaderName::from_static("api-version");
static DOCKER_EXPERIMENTAL: HeaderName = HeaderName::from_static("docker-experimental");
static OSTYPE: HeaderName = HeaderName::from_static("ostype");

/// Strips and checks the version prefix, then stamps shoal's headers on the response.
async fn versioned(mut request: Request, next: Next) -> Response {
    let split = api_version::split_prefix(request.uri().path());
    let mut requested = RequestedVersion::default();
    if let Some(raw) = split.raw_version {
        match api_version::check(raw) {
            Ok(version) => requested.prefix = Some(version),
            Err(error @ api_version::VersionError::TooOld(_)) => {
                let error =
                    ApiError::plain_text(error::ErrorKind::InvalidParameter, error.message());
                return with_headers(error.into_response());
            }
            Err(error) => {
                return with_headers(ApiError::invalid(error.message()).into_response());
            }
        }
        let rest = match request.uri().query() {
            Some(query) => format!("{}?{query}", split.rest),
            None => split.rest.to_string(),
        };
        let mut parts = request.uri().clone().into_parts();
        parts.path_and_query = rest.parse().ok();
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request.extensions_mut().insert(requested);
    with_headers(next.run(request).await)
}

fn with_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        API_VERSION.clone(),
        HeaderValue::from_static(const_format_version()),
    );
    headers.insert(
        DOCKER_EXPERIMENTAL.clone(),
        HeaderValue::from_static("false"),
    );
    headers.insert(OSTYPE.clone(), HeaderValue::from_static("linux"));
    headers.insert(
        axum::http::header::SERVER,
        HeaderValue::from_static(concat!("shoal/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    response
}

/// `API-Version` as a static string; checked against [`api_version::MAX`] by a test.
const fn const_format_version() -> &'static str {
    "1.52"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertised_header_matches_max() {
        assert_eq!(const_format_version(), api_version::MAX.to_string());
    }
}
