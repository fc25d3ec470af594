//! `/swarm`: init, join, leave, inspect, update, unlock key, unlock.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::ApiError;
use super::extract::{empty, ok, parse_version, DockerJson, OptionalJson, Query, Reply};
use super::state::AppState;
use crate::control::swarm::Rotate;
use crate::types::swarm::{InitRequest, JoinRequest, SwarmSpec, UnlockRequest};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/swarm", get(inspect))
        .route("/swarm/init", post(init))
        .route("/swarm/join", post(join))
        .route("/swarm/leave", post(leave))
        .route("/swarm/update", post(update))
        .route("/swarm/unlockkey", get(unlock_key))
        .route("/swarm/unlock", post(unlock))
}

/// `GET /swarm`
#[utoipa::path(operation_id = "SwarmInspect", get, path = "/swarm", tag = "Swarm",
    responses((status = 200, body = crate::types::swarm::Swarm), (status = 503, description = "not a manager")))]
pub async fn inspect(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(ok(state.control.inspect_swarm()?).into_response())
}

/// `POST /swarm/init`: answers the new node's ID as a JSON string.
#[utoipa::path(operation_id = "SwarmInit", post, path = "/swarm/init", tag = "Swarm", request_body = InitRequest,
    responses((status = 200, body = String), (status = 400), (status = 503, description = "already part of a swarm")))]
pub async fn init(
    State(state): State<AppState>,
    OptionalJson(request): OptionalJson<InitRequest>,
) -> Result<Reply<String>, ApiError> {
    let node_id = state.control.init_swarm(request).await?;
    Ok(ok(node_id))
}

/// `POST /swarm/join`
#[utoipa::path(operation_id = "SwarmJoin", post, path = "/swarm/join", tag = "Swarm", request_body = JoinRequest,
    responses((status = 200), (status = 501, description = "joining is not supported yet"), (status = 503)))]
pub async fn join(
    State(state): State<AppState>,
    OptionalJson(request): OptionalJson<JoinRequest>,
) -> Result<Response, ApiError> {
    state.control.join_swarm(request).await?;
    Ok(empty(StatusCode::OK))
}

/// `POST /swarm/leave?force=1`
#[utoipa::path(operation_id = "SwarmLeave", post, path = "/swarm/leave", tag = "Swarm",
    params(("force" = Option<bool>, Query, description = "leave even as the last manager")),
    responses((status = 200), (status = 503)))]
pub async fn leave(State(state): State<AppState>, query: Query) -> Result<Response, ApiError> {
    state.control.leave_swarm(query.flag("force")).await?;
    Ok(empty(StatusCode::OK))
}

/// `POST /swarm/update?version=N&rotateWorkerToken=..&rotateManagerToken=..&rotateManagerUnlockKey=..`
#[utoipa::path(operation_id = "SwarmUpdate", post, path = "/swarm/update", tag = "Swarm", request_body = SwarmSpec,
    params(("version" = u64, Query), ("rotateWorkerToken" = Option<bool>, Query),
        ("rotateManagerToken" = Option<bool>, Query), ("rotateManagerUnlockKey" = Option<bool>, Query)),
    responses((status = 200), (status = 400), (status = 500, description = "update out of sequence"), (status = 503)))]
pub async fn update(
    State(state): State<AppState>,
    query: Query,
    DockerJson(spec): DockerJson<SwarmSpec>,
) -> Result<Response, ApiError> {
    let version = parse_version(query.get("version"), "swarm")?;
    // Refused before anything changes, with the engine's shorter message.
    let rotate_flag = |key: &str| {
        query
            .strict_flag(key)
            .map_err(|value| ApiError::invalid(format!("invalid value for {key}: {value}")))
    };
    let rotate = Rotate {
        worker_token: rotate_flag("rotateWorkerToken")?,
        manager_token: rotate_flag("rotateManagerToken")?,
        manager_unlock_key: rotate_flag("rotateManagerUnlockKey")?,
    };
    state.control.update_swarm(version, spec, rotate).await?;
    Ok(empty(StatusCode::OK))
}

/// `GET /swarm/unlockkey`
#[utoipa::path(operation_id = "SwarmUnlockkey", get, path = "/swarm/unlockkey", tag = "Swarm",
    responses((status = 200, body = crate::types::swarm::UnlockKeyResponse), (status = 503)))]
pub async fn unlock_key(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(ok(state.control.unlock_key()?).into_response())
}

/// `POST /swarm/unlock`
#[utoipa::path(operation_id = "SwarmUnlock", post, path = "/swarm/unlock", tag = "Swarm", request_body = UnlockRequest,
    responses((status = 200), (status = 400), (status = 401, description = "wrong key"), (status = 409, description = "not locked")))]
pub async fn unlock(
    State(state): State<AppState>,
    DockerJson(request): DockerJson<UnlockRequest>,
) -> Result<Response, ApiError> {
    state.control.unlock_swarm(&request.unlock_key).await?;
    Ok(empty(StatusCode::OK))
}
