//! System endpoints: `/_ping`, `/version`, `/info`. (`/events` lives in `events.rs`.)
//!
//! `/version` and `/info` are the engine's own answers with shoal's parts put in: shoal as a
//! component and its API range in `/version`, shoal's `Swarm` section in `/info`.

use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::json_response;
use crate::api::state::AppState;
use crate::types::api_version;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_ping", get(ping).head(ping_head))
        .route("/version", get(version))
        .route("/info", get(info))
}

static SWARM: HeaderName = HeaderName::from_static("swarm");

/// `GET /_ping` (and `HEAD`): `OK`, with the negotiation headers and the swarm state.
#[utoipa::path(operation_id = "SystemPing", get, path = "/_ping", tag = "System",
    responses((status = 200, body = String, description = "OK; headers API-Version, Swarm, Ostype, Docker-Experimental")))]
pub async fn ping(State(state): State<AppState>) -> Response {
    ping_response(&state, "OK")
}

async fn ping_head(State(state): State<AppState>) -> Response {
    ping_response(&state, "")
}

fn ping_response(state: &AppState, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        SWARM.clone(),
        HeaderValue::from_static(state.control.swarm_header()),
    );
    response
}

/// `GET /version`: the engine's versions, shoal as one more component, shoal's API range.
#[utoipa::path(operation_id = "SystemVersion", get, path = "/version", tag = "System",
    responses((status = 200, description = "the engine's /version with shoal added", body = Object)))]
pub async fn version(State(state): State<AppState>) -> Response {
    let mut version = match state.engine.get_json("/version").await {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) | Err(_) => json!({
            "Platform": {"Name": ""},
            "Components": [],
            "Version": "",
            "Os": "linux",
            "Arch": std::env::consts::ARCH,
        }),
    };
    let shoal = json!({
        "Name": "shoal",
        "Version": env!("CARGO_PKG_VERSION"),
        "Details": {
            "ApiVersion": api_version::MAX.to_string(),
            "MinAPIVersion": api_version::MIN.to_string(),
        },
    });
    if let Some(map) = version.as_object_mut() {
        match map.get_mut("Components") {
            Some(Value::Array(components)) => components.push(shoal),
            _ => {
                map.insert("Components".into(), Value::Array(vec![shoal]));
            }
        }
        map.insert("ApiVersion".into(), json!(api_version::MAX.to_string()));
        map.insert("MinAPIVersion".into(), json!(api_version::MIN.to_string()));
    }
    json_response(StatusCode::OK, &version)
}

/// `GET /info`: the engine's information with shoal's `Swarm` section.
#[utoipa::path(operation_id = "SystemInfo", get, path = "/info", tag = "System",
    responses((status = 200, description = "the engine's /info with shoal's Swarm section", body = Object),
        (status = 500, description = "the engine cannot be reached")))]
pub async fn info(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut info = state
        .engine
        .get_json("/info")
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let swarm = serde_json::to_value(state.control.swarm_info())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(map) = info.as_object_mut() {
        map.insert("Swarm".into(), swarm);
    }
    Ok(json_response(StatusCode::OK, &info))
}
