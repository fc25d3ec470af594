//! `/tasks`: list and inspect. (Task logs come with the agent.)

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::ApiError;
use super::extract::{ok, QueryFilters};
use super::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list))
        .route("/tasks/{id}", get(inspect))
}

/// `GET /tasks?filters=..`
#[utoipa::path(get, path = "/tasks", tag = "Task",
    params(("filters" = Option<String>, Query,
        description = "desired-state, id, label (the service's labels), name, node, service (ID or name), _up-to-date, runtime")),
    responses((status = 200, body = Vec<crate::types::task::Task>), (status = 400), (status = 404), (status = 503)))]
pub async fn list(
    State(state): State<AppState>,
    QueryFilters(filters): QueryFilters,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.list_tasks(&filters)?).into_response())
}

/// `GET /tasks/{id}`
#[utoipa::path(get, path = "/tasks/{id}", tag = "Task",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::types::task::Task), (status = 404), (status = 503)))]
pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.inspect_task(&id)?).into_response())
}
