//! `/tasks`: list and inspect. (Task logs come with the agent.)

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::ApiError;
use super::extract::{ok, Query, QueryFilters};
use super::state::AppState;
use crate::control::logs::{LogOptions, LogSource};
use crate::types::meta::go_strconv_error;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list))
        .route("/tasks/{id}", get(inspect))
        .route("/tasks/{id}/logs", get(logs))
}

/// `GET /tasks/{id}/logs`: like the service's, for one task.
#[utoipa::path(operation_id = "TaskLogs", get, path = "/tasks/{id}/logs", tag = "Task",
    params(("id" = String, Path), ("follow" = Option<bool>, Query), ("stdout" = Option<bool>, Query),
        ("stderr" = Option<bool>, Query), ("since" = Option<String>, Query), ("timestamps" = Option<bool>, Query),
        ("tail" = Option<String>, Query), ("details" = Option<bool>, Query)),
    responses((status = 200, description = "stdcopy frames"), (status = 400), (status = 404)))]
pub async fn logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> Result<Response, ApiError> {
    let options = log_options(&query)?;
    let body = state.control.task_logs(LogSource::Task(id), options)?;
    Ok(log_response(body))
}

/// The log options of the query, with the engine's checks.
pub fn log_options(query: &Query) -> Result<LogOptions, ApiError> {
    if !query.flag("stdout") && !query.flag("stderr") {
        return Err(ApiError::invalid(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let tail = match query.get("tail") {
        None | Some("") | Some("all") => None,
        Some(tail) => match tail.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n as u64),
            Ok(_) => return Err(ApiError::internal("negative tail values not supported")),
            Err(_) => {
                return Err(ApiError::internal(
                    "tail value must be a positive integer or \"all\"",
                ))
            }
        },
    };
    let since = query.get("since").filter(|s| !s.is_empty());
    if let Some(since) = since {
        check_timestamp(since).map_err(|reason| {
            ApiError::internal(format!("could not parse since timestamp: {reason}"))
        })?;
    }
    Ok(LogOptions {
        follow: query.flag("follow"),
        stdout: query.flag("stdout"),
        stderr: query.flag("stderr"),
        timestamps: query.flag("timestamps"),
        details: query.flag("details"),
        since: since.map(str::to_string),
        tail,
    })
}

/// Checks a `since` value the way the engine reads it: `seconds[.fraction]`, each part a
/// base-10 integer; `Err` is Go's `strconv.ParseInt` text for the part it refuses.
fn check_timestamp(value: &str) -> Result<(), String> {
    for part in value.splitn(2, '.') {
        if let Err(error) = part.parse::<i64>() {
            let out_of_range = matches!(
                error.kind(),
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
            );
            return Err(go_strconv_error("ParseInt", part, out_of_range));
        }
    }
    Ok(())
}

/// A log stream: chunked, no Content-Type (as the engine answers).
pub fn log_response(body: axum::body::Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = axum::http::StatusCode::OK;
    response
}

/// `GET /tasks?filters=..`
#[utoipa::path(operation_id = "TaskList", get, path = "/tasks", tag = "Task",
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
#[utoipa::path(operation_id = "TaskInspect", get, path = "/tasks/{id}", tag = "Task",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::types::task::Task), (status = 404), (status = 503)))]
pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(state.control.inspect_task(&id)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::check_timestamp;

    #[test]
    fn since_takes_seconds_and_an_optional_fraction() {
        assert_eq!(check_timestamp("1700000000"), Ok(()));
        assert_eq!(check_timestamp("1700000000.123456789"), Ok(()));
        assert_eq!(
            check_timestamp("abc"),
            Err("strconv.ParseInt: parsing \"abc\": invalid syntax".into())
        );
        assert_eq!(
            check_timestamp("1.x"),
            Err("strconv.ParseInt: parsing \"x\": invalid syntax".into())
        );
        assert_eq!(
            check_timestamp("99999999999999999999"),
            Err("strconv.ParseInt: parsing \"99999999999999999999\": value out of range".into())
        );
    }
}
