//! `/configs`: create, list, inspect, update (labels only) and remove. Unlike secrets, configs
//! are returned with their `Data`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use super::error::ApiError;
use super::extract::{empty, ok, parse_version, DockerJson, Query, QueryFilters, Reply};
use super::state::AppState;
use super::RequestedVersion;
use crate::types::config::{Config, ConfigSpec};
use crate::types::secret::IdResponse;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/configs", get(list))
        // `create` is a valid config name too: GET and DELETE of that path reach the config.
        .route(
            "/configs/create",
            post(create)
                .get(|state: State<AppState>| inspect(state, Path("create".to_owned())))
                .delete(|state: State<AppState>| remove(state, Path("create".to_owned()))),
        )
        .route("/configs/{id}", get(inspect).delete(remove))
        .route("/configs/{id}/update", post(update))
}

/// `GET /configs?filters=...`: ordered by ID; filters `id`, `name` (prefixes), `label`.
#[utoipa::path(get, path = "/configs", tag = "Config", operation_id = "ConfigList",
    params(("filters" = Option<String>, Query,
        description = "JSON map of `id`, `name` (prefix), `label` (`key` or `key=value`)")),
    responses((status = 200, body = [Config], description = "configs with their Data"),
        (status = 400, description = "bad filters"), (status = 503, description = "not a manager")))]
pub async fn list(
    State(state): State<AppState>,
    QueryFilters(filters): QueryFilters,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.list_configs(&filters)?).into_response())
}

/// `POST /configs/create`
#[utoipa::path(post, path = "/configs/create", tag = "Config", operation_id = "ConfigCreate", request_body = ConfigSpec,
    responses((status = 201, body = IdResponse), (status = 400, description = "invalid spec"),
        (status = 409, description = "name taken"), (status = 503, description = "not a manager")))]
pub async fn create(
    State(state): State<AppState>,
    Extension(requested): Extension<RequestedVersion>,
    DockerJson(spec): DockerJson<ConfigSpec>,
) -> Result<Reply<IdResponse>, ApiError> {
    let id = state
        .control
        .create_config(spec, requested.effective())
        .await?;
    Ok(Reply(StatusCode::CREATED, IdResponse { id }))
}

/// `GET /configs/{id}`: by ID, name or unique ID prefix.
#[utoipa::path(get, path = "/configs/{id}", tag = "Config", operation_id = "ConfigInspect",
    params(("id" = String, Path, description = "ID, name or unique ID prefix")),
    responses((status = 200, body = Config, description = "the config with its Data"),
        (status = 404, description = "no such config"), (status = 503, description = "not a manager")))]
pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.inspect_config(&id)?).into_response())
}

/// `POST /configs/{id}/update?version=N`: only `Labels` may change; the same `Data` may be
/// sent again.
#[utoipa::path(post, path = "/configs/{id}/update", tag = "Config", operation_id = "ConfigUpdate", request_body = ConfigSpec,
    params(("id" = String, Path, description = "ID, name or unique ID prefix"),
        ("version" = u64, Query, description = "the config's current Version.Index")),
    responses((status = 200, description = "labels updated"),
        (status = 400, description = "bad version, or not a label-only change"),
        (status = 404, description = "no such config"), (status = 500, description = "update out of sequence"),
        (status = 503, description = "not a manager")))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
    DockerJson(spec): DockerJson<ConfigSpec>,
) -> Result<Response, ApiError> {
    let version = parse_version(query.get("version"), "config")
        .map_err(|_| ApiError::invalid("invalid config version"))?;
    state.control.update_config(&id, version, spec).await?;
    Ok(empty(StatusCode::OK))
}

/// `DELETE /configs/{id}`
#[utoipa::path(delete, path = "/configs/{id}", tag = "Config", operation_id = "ConfigDelete",
    params(("id" = String, Path, description = "ID, name or unique ID prefix")),
    responses((status = 204, description = "removed"), (status = 400, description = "in use by a service"),
        (status = 404, description = "no such config"), (status = 503, description = "not a manager")))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.control.remove_config(&id).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
