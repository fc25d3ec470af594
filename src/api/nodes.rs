//! `/nodes`: list, inspect, update, remove.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::ApiError;
use super::extract::{empty, ok, parse_version, DockerJson, Query, QueryFilters};
use super::state::AppState;
use crate::types::node::NodeSpec;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/nodes", get(list))
        .route("/nodes/{id}", get(inspect).delete(remove))
        .route("/nodes/{id}/update", post(update))
}

/// `GET /nodes?filters=..`
#[utoipa::path(operation_id = "NodeList", get, path = "/nodes", tag = "Node",
    params(("filters" = Option<String>, Query, description = "id, label, membership, name, node.label, role")),
    responses((status = 200, body = Vec<crate::types::node::Node>), (status = 400), (status = 503)))]
pub async fn list(
    State(state): State<AppState>,
    QueryFilters(filters): QueryFilters,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.list_nodes(&filters)?).into_response())
}

/// `GET /nodes/{id}`
#[utoipa::path(operation_id = "NodeInspect", get, path = "/nodes/{id}", tag = "Node",
    params(("id" = String, Path, description = "ID, name or unique ID prefix")),
    responses((status = 200, body = crate::types::node::Node), (status = 404), (status = 503)))]
pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.inspect_node(&id)?).into_response())
}

/// `POST /nodes/{id}/update?version=N`
#[utoipa::path(operation_id = "NodeUpdate", post, path = "/nodes/{id}/update", tag = "Node", request_body = NodeSpec,
    params(("id" = String, Path), ("version" = u64, Query)),
    responses((status = 200), (status = 400), (status = 404), (status = 500, description = "update out of sequence")))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
    DockerJson(spec): DockerJson<NodeSpec>,
) -> Result<Response, ApiError> {
    let version = parse_version(query.get("version"), "node")?;
    state.control.update_node(&id, version, spec).await?;
    Ok(empty(StatusCode::OK))
}

/// `DELETE /nodes/{id}?force=1`
#[utoipa::path(operation_id = "NodeDelete", delete, path = "/nodes/{id}", tag = "Node",
    params(("id" = String, Path), ("force" = Option<bool>, Query)),
    responses((status = 200), (status = 400), (status = 404)))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> Result<Response, ApiError> {
    state.control.remove_node(&id, query.flag("force")).await?;
    Ok(empty(StatusCode::OK))
}
