//! The OpenAPI description of the endpoints shoal serves itself (not the passthrough ones),
//! generated from the handlers and `types/`. Served at `/openapi.json`; the committed copy in
//! `openapi/shoal.json` is the contract, and a test fails when the two drift apart.

use axum::response::Response;
use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;

use super::extract::json_response;
use super::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shoal",
        description = "Docker Engine API swarm endpoints served by shoal. Every other endpoint is passed through to the local dockerd unchanged.",
        version = "1.52"
    ),
    paths(
        super::system::ping,
        super::system::version,
        super::system::info,
        super::events::events,
        super::swarm::inspect,
        super::swarm::init,
        super::swarm::join,
        super::swarm::leave,
        super::swarm::update,
        super::swarm::unlock_key,
        super::swarm::unlock,
        super::services::create,
        super::services::list,
        super::services::inspect,
        super::services::update,
        super::services::remove,
        super::nodes::list,
        super::nodes::inspect,
        super::nodes::update,
        super::nodes::remove,
        super::tasks::list,
        super::tasks::inspect,
        super::tasks::logs,
        super::services::logs,
        super::networks::list,
        super::networks::create,
        super::networks::inspect,
        super::networks::remove,
        super::secrets::list,
        super::secrets::create,
        super::secrets::inspect,
        super::secrets::update,
        super::secrets::remove,
        super::configs::list,
        super::configs::create,
        super::configs::inspect,
        super::configs::update,
        super::configs::remove,
    )
)]
pub struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(serve))
}

async fn serve() -> Response {
    json_response(axum::http::StatusCode::OK, &ApiDoc::openapi())
}

/// The spec as committed: pretty JSON with a trailing newline.
pub fn render() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    /// Regenerate with `SHOAL_WRITE_OPENAPI=1 cargo test --lib openapi`.
    #[test]
    fn committed_spec_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/shoal.json");
        let generated = super::render();
        if std::env::var_os("SHOAL_WRITE_OPENAPI").is_some() {
            std::fs::write(path, &generated).expect("write openapi/shoal.json");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi/shoal.json is out of date: run `SHOAL_WRITE_OPENAPI=1 cargo test --lib openapi` and commit it"
        );
    }
}
