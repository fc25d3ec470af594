//! System endpoints: `/_ping`, `/version`, `/info`, `/events`.

use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::api::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/_ping", get(ping).head(ping_head))
}

static SWARM: HeaderName = HeaderName::from_static("swarm");

async fn ping(State(state): State<AppState>) -> Response {
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
