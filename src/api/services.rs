//! `/services`: create, list, inspect, update (and rollback), remove.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::ApiError;
use super::extract::{empty, ok, parse_version, DockerJson, Query, QueryFilters, Reply};
use super::state::AppState;
use crate::control::services::ServiceUpdate;
use crate::types::service::{
    RegistryAuthSource, ServiceCreateResponse, ServiceSpec, ServiceUpdateResponse,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(list))
        .route("/services/create", post(create))
        .route("/services/{id}", get(inspect).delete(remove))
        .route("/services/{id}/update", post(update))
        .route("/services/{id}/logs", get(logs))
}

/// `GET /services/{id}/logs`: the logs of the service's task containers, stdcopy-framed and
/// chunked, without a Content-Type (as the engine answers).
#[utoipa::path(operation_id = "ServiceLogs", get, path = "/services/{id}/logs", tag = "Service",
    params(("id" = String, Path), ("follow" = Option<bool>, Query), ("stdout" = Option<bool>, Query),
        ("stderr" = Option<bool>, Query), ("since" = Option<String>, Query), ("timestamps" = Option<bool>, Query),
        ("tail" = Option<String>, Query), ("details" = Option<bool>, Query)),
    responses((status = 200, description = "stdcopy frames"), (status = 400), (status = 404)))]
pub async fn logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> Result<Response, ApiError> {
    let options = super::tasks::log_options(&query)?;
    let body = state
        .control
        .task_logs(crate::control::logs::LogSource::Service(id), options)?;
    Ok(super::tasks::log_response(body))
}

/// The `X-Registry-Auth` header, kept as sent for the agent's pulls.
fn registry_auth(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-registry-auth")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|v| !v.is_empty())
}

/// `POST /services/create`
#[utoipa::path(operation_id = "ServiceCreate", post, path = "/services/create", tag = "Service", request_body = ServiceSpec,
    params(("X-Registry-Auth" = Option<String>, Header, description = "base64url JSON registry credentials, kept for pulls")),
    responses((status = 201, body = ServiceCreateResponse), (status = 400), (status = 409, description = "name taken"),
        (status = 503, description = "not a manager")))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    DockerJson(spec): DockerJson<ServiceSpec>,
) -> Result<Reply<ServiceCreateResponse>, ApiError> {
    let created = state
        .control
        .create_service(spec, registry_auth(&headers))
        .await?;
    Ok(Reply(StatusCode::CREATED, created))
}

/// `GET /services?filters=..&status=true`
#[utoipa::path(operation_id = "ServiceList", get, path = "/services", tag = "Service",
    params(("filters" = Option<String>, Query, description = "id, label, mode, name, runtime"),
        ("status" = Option<bool>, Query, description = "add ServiceStatus")),
    responses((status = 200, body = Vec<crate::types::service::Service>), (status = 400), (status = 503)))]
pub async fn list(
    State(state): State<AppState>,
    QueryFilters(filters): QueryFilters,
    query: Query,
) -> Result<Response, ApiError> {
    let status = query.parsed_flag("status")?;
    let services = state.control.list_services(&filters, status)?;
    Ok(ok(services).into_response())
}

/// `GET /services/{id}?insertDefaults=true`
#[utoipa::path(operation_id = "ServiceInspect", get, path = "/services/{id}", tag = "Service",
    params(("id" = String, Path, description = "ID, name or unique ID prefix"),
        ("insertDefaults" = Option<bool>, Query)),
    responses((status = 200, body = crate::types::service::Service), (status = 400), (status = 404), (status = 503)))]
pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> Result<Response, ApiError> {
    let insert_defaults = query.parsed_flag("insertDefaults")?;
    let service = state.control.inspect_service(&id, insert_defaults)?;
    Ok(ok(service).into_response())
}

/// `POST /services/{id}/update?version=N&registryAuthFrom=spec&rollback=previous`
#[utoipa::path(operation_id = "ServiceUpdate", post, path = "/services/{id}/update", tag = "Service", request_body = ServiceSpec,
    params(("id" = String, Path), ("version" = u64, Query),
        ("registryAuthFrom" = Option<String>, Query, description = "spec or previous-spec"),
        ("rollback" = Option<String>, Query, description = "previous"),
        ("X-Registry-Auth" = Option<String>, Header)),
    responses((status = 200, body = ServiceUpdateResponse), (status = 400), (status = 404),
        (status = 500, description = "update out of sequence"), (status = 501, description = "rename or mode change")))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Query,
    DockerJson(spec): DockerJson<ServiceSpec>,
) -> Result<Reply<ServiceUpdateResponse>, ApiError> {
    let version = parse_version(query.get("version"), "service")?;
    let registry_auth_from = match query.get("registryAuthFrom") {
        None | Some("") => None,
        Some("spec") => Some(RegistryAuthSource::Spec),
        Some("previous-spec") => Some(RegistryAuthSource::PreviousSpec),
        Some(_) => return Err(ApiError::internal("unsupported registryAuthFrom value")),
    };
    let updated = state
        .control
        .update_service(
            &id,
            ServiceUpdate {
                version,
                spec,
                registry_auth: registry_auth(&headers),
                registry_auth_from,
                rollback: query.get("rollback").map(str::to_string),
            },
        )
        .await?;
    Ok(ok(updated))
}

/// `DELETE /services/{id}`: 200 with an empty body, as the engine answers.
#[utoipa::path(operation_id = "ServiceDelete", delete, path = "/services/{id}", tag = "Service",
    params(("id" = String, Path)),
    responses((status = 200), (status = 404), (status = 503)))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.control.remove_service(&id).await?;
    Ok(empty(StatusCode::OK))
}
