//! Passthrough: every endpoint shoal does not own goes to the local dockerd.
//!
//! The request is forwarded unchanged except for the version prefix, which is lowered to the
//! engine's maximum when the client asked for more. Bodies stream both ways; a `101 Switching
//! Protocols` answer (attach, `exec -it`, build sessions) splices the two connections together.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use hyper_util::rt::TokioIo;

use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::api::RequestedVersion;
use crate::engine::EngineClient;

/// Path prefixes shoal owns: a request under them that no route of shoal's matched is a 404,
/// never passed on (the local dockerd must not see swarm requests: it would answer for its
/// own, different, swarm state, or join one).
const OWNED_PREFIXES: &[&str] = &[
    "/swarm",
    "/nodes",
    "/services",
    "/tasks",
    "/secrets",
    "/configs",
];

fn is_owned(path: &str) -> bool {
    OWNED_PREFIXES.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The fallback handler: forwards the request to dockerd.
pub async fn forward(State(state): State<AppState>, request: Request) -> Response {
    if is_owned(request.uri().path()) {
        return ApiError::page_not_found().into_response();
    }
    match forward_to(&state.engine, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// Forwards `request` to `engine`, lowering the version prefix as needed.
pub async fn forward_to(engine: &EngineClient, mut request: Request) -> Result<Response, ApiError> {
    let requested = request
        .extensions()
        .get::<RequestedVersion>()
        .copied()
        .unwrap_or_default();
    let path_and_query = match requested.prefix {
        Some(version) => {
            let engine_max = engine.api_version().await;
            let version = version.min(engine_max);
            format!("/v{version}{}", path_and_query(&request))
        }
        None => path_and_query(&request).to_string(),
    };
    *request.uri_mut() = engine
        .uri(&path_and_query)
        .map_err(|e| ApiError::internal(e.to_string()))?;

    let wants_upgrade = request
        .headers()
        .get(header::CONNECTION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("upgrade"));
    let client_upgrade = wants_upgrade.then(|| hyper::upgrade::on(&mut request));

    let mut response = engine.send(request).await.map_err(|e| {
        tracing::warn!(error = %e, "engine request failed");
        ApiError::internal(format!(
            "Cannot connect to the Docker daemon at {}. Is the docker daemon running?",
            engine.endpoint()
        ))
    })?;

    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(client_upgrade) = client_upgrade {
            let engine_upgrade = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                let (client, engine) = match tokio::try_join!(client_upgrade, engine_upgrade) {
                    Ok(pair) => pair,
                    Err(error) => {
                        tracing::debug!(%error, "upgrade failed");
                        return;
                    }
                };
                let mut client = TokioIo::new(client);
                let mut engine = TokioIo::new(engine);
                if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut engine).await {
                    tracing::debug!(%error, "upgraded connection ended");
                }
            });
        }
    }
    Ok(response.map(Body::new))
}

fn path_and_query(request: &Request) -> &str {
    request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn swarm_paths_are_never_passed_through() {
        for owned in [
            "/swarm",
            "/swarm/join",
            "/nodes/x",
            "/services",
            "/tasks/a/logs",
            "/secrets/create",
            "/configs",
        ] {
            assert!(super::is_owned(owned), "{owned}");
        }
        for passed in [
            "/containers/json",
            "/networks",
            "/servicesx",
            "/info",
            "/version",
        ] {
            assert!(!super::is_owned(passed), "{passed}");
        }
    }
}
