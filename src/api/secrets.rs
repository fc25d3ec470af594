//! `/secrets`: create, list, inspect, update (labels only) and remove. A secret's `Data` is
//! never returned: `control` hands out redacted secrets only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use super::error::ApiError;
use super::extract::{empty, ok, parse_version, DockerJson, Query, QueryFilters, Reply};
use super::state::AppState;
use super::RequestedVersion;
use crate::types::secret::{IdResponse, Secret, SecretSpec};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/secrets", get(list))
        // `create` is a valid secret name too: GET and DELETE of that path reach the secret.
        .route(
            "/secrets/create",
            post(create)
                .get(|state: State<AppState>| inspect(state, Path("create".to_owned())))
                .delete(|state: State<AppState>| remove(state, Path("create".to_owned()))),
        )
        .route("/secrets/{id}", get(inspect).delete(remove))
        .route("/secrets/{id}/update", post(update))
}

/// `GET /secrets?filters=...`: ordered by ID; filters `id`, `name` (prefixes), `names`,
/// `label`.
#[utoipa::path(get, path = "/secrets", tag = "Secret", operation_id = "SecretList",
    params(("filters" = Option<String>, Query,
        description = "JSON map of `id`, `name` (prefix), `names` (exact), `label` (`key` or `key=value`)")),
    responses((status = 200, body = [Secret], description = "secrets without their Data"),
        (status = 400, description = "bad filters"), (status = 503, description = "not a manager")))]
pub async fn list(
    State(state): State<AppState>,
    QueryFilters(filters): QueryFilters,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.list_secrets(&filters)?).into_response())
}

/// `POST /secrets/create`
#[utoipa::path(post, path = "/secrets/create", tag = "Secret", operation_id = "SecretCreate", request_body = SecretSpec,
    responses((status = 201, body = IdResponse), (status = 400, description = "invalid spec"),
        (status = 409, description = "name taken"), (status = 503, description = "not a manager")))]
pub async fn create(
    State(state): State<AppState>,
    Extension(requested): Extension<RequestedVersion>,
    DockerJson(spec): DockerJson<SecretSpec>,
) -> Result<Reply<IdResponse>, ApiError> {
    let id = state
        .control
        .create_secret(spec, requested.effective())
        .await?;
    Ok(Reply(StatusCode::CREATED, IdResponse { id }))
}

/// `GET /secrets/{id}`: by ID, name or unique ID prefix.
#[utoipa::path(get, path = "/secrets/{id}", tag = "Secret", operation_id = "SecretInspect",
    params(("id" = String, Path, description = "ID, name or unique ID prefix")),
    responses((status = 200, body = Secret, description = "the secret without its Data"),
        (status = 404, description = "no such secret"), (status = 503, description = "not a manager")))]
pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.inspect_secret(&id)?).into_response())
}

/// `POST /secrets/{id}/update?version=N`: only `Labels` may change; the same `Data` may be
/// sent again.
#[utoipa::path(post, path = "/secrets/{id}/update", tag = "Secret", operation_id = "SecretUpdate", request_body = SecretSpec,
    params(("id" = String, Path, description = "ID, name or unique ID prefix"),
        ("version" = u64, Query, description = "the secret's current Version.Index")),
    responses((status = 200, description = "labels updated"),
        (status = 400, description = "bad version, or not a label-only change"),
        (status = 404, description = "no such secret"), (status = 500, description = "update out of sequence"),
        (status = 503, description = "not a manager")))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
    DockerJson(spec): DockerJson<SecretSpec>,
) -> Result<Response, ApiError> {
    let version = parse_version(query.get("version"), "secret")
        .map_err(|_| ApiError::invalid("invalid secret version"))?;
    state.control.update_secret(&id, version, spec).await?;
    Ok(empty(StatusCode::OK))
}

/// `DELETE /secrets/{id}`
#[utoipa::path(delete, path = "/secrets/{id}", tag = "Secret", operation_id = "SecretDelete",
    params(("id" = String, Path, description = "ID, name or unique ID prefix")),
    responses((status = 204, description = "removed"), (status = 400, description = "in use by a service"),
        (status = 404, description = "no such secret"), (status = 503, description = "not a manager")))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.control.remove_secret(&id).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
#[path = "secrets_configs_tests.rs"]
mod tests;
