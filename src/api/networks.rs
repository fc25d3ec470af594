//! `/networks`: swarm-scoped networks served from the store, merged with the local dockerd's.
//!
//! On a node that is not an active manager every request goes to dockerd untouched, so its
//! answers are the engine's own for a node outside a swarm. On a manager: create sends
//! overlay (or swarm-scoped) requests to `control` and re-sends any other body to dockerd as
//! read; list merges dockerd's answer with the swarm networks; inspect and remove resolve the
//! reference among both, and leave to dockerd what is its own. Connect, disconnect and prune
//! are dockerd's (prune never sees swarm networks, which dockerd does not have).

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;

use super::error::ApiError;
use super::extract::{empty, ok, Query, Reply};
use super::proxy::{self, forward_to};
use super::state::AppState;
use super::RequestedVersion;
use crate::control::networks::{self, CreateRoute, ResolveMode, Resolved};
use crate::types::api_version::ApiVersion;
use crate::types::decode;
use crate::types::filters::Filters;
use crate::types::meta::parse_go_bool;
use crate::types::network_resource::{NetworkCreateRequest, NetworkResource};

/// Largest body read from a create request or from dockerd's list.
const MAX_BODY: usize = 16 << 20;

/// `EnableIPv4` appears in network answers from API 1.48 on.
const ENABLE_IPV4_SINCE: ApiVersion = ApiVersion::new(1, 48);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/networks", get(list).fallback(proxy::forward))
        .route("/networks/create", post(create).fallback(proxy::forward))
        .route("/networks/prune", post(proxy::forward))
        .route(
            "/networks/{id}",
            get(inspect).delete(remove).fallback(proxy::forward),
        )
}

/// `GET /networks`: the swarm networks (filtered here), then dockerd's (filtered by dockerd).
#[utoipa::path(get, path = "/networks", tag = "Network",
    params(("filters" = Option<String>, Query,
        description = "JSON map of filters: dangling, driver, id, label, name, scope, type")),
    responses((status = 200, body = Vec<NetworkResource>,
        description = "swarm networks first, then the engine's local ones"),
        (status = 400, description = "invalid filter")))]
pub async fn list(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let raw = query_param(request.uri(), "filters").unwrap_or_default();
    let filters = Filters::parse(&raw).map_err(|e| ApiError::invalid(e.to_string()))?;
    networks::validate_list_filters(&filters).map_err(|e| ApiError::invalid(e.to_string()))?;
    if state.control.manager().is_err() {
        return forward_to(&state.engine, request).await;
    }
    let version = requested_version(&request);
    let answer = forward_to(&state.engine, request).await?;
    if !answer.status().is_success() {
        return Ok(answer);
    }
    let body = read_body(answer.into_body()).await?;
    let local: Vec<serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| ApiError::internal(format!("unreadable network list from the engine: {e}")))?;
    let mut swarm = state.control.list_networks(&filters)?;
    for network in &mut swarm {
        stamp_version(network, version);
    }
    Ok(ok(networks::merge_lists(swarm, local)?).into_response())
}

/// `POST /networks/create`: a swarm network for the overlay driver (or `Scope: "swarm"`),
/// otherwise dockerd's.
#[utoipa::path(post, path = "/networks/create", tag = "Network", request_body = NetworkCreateRequest,
    responses((status = 201, body = crate::types::network_resource::NetworkCreateResponse),
        (status = 400, description = "invalid name, driver, IPAM or subnet overlap"),
        (status = 403, description = "predefined name or label"),
        (status = 409, description = "network with name X already exists; a second ingress network"),
        (status = 501, description = "ingress network with a driver other than overlay")))]
pub async fn create(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(body).await?;
    let decoded = decode::from_slice::<NetworkCreateRequest>(&bytes);
    let swarm_request = match decoded {
        Ok(request) if state.control.manager().is_ok() => {
            // The engine refuses a swarm network's name for local networks too.
            state.control.check_network_name_free(&request.name)?;
            match networks::create_route(&request) {
                CreateRoute::Swarm => request,
                CreateRoute::Engine => return forward_body(&state, parts, bytes).await,
            }
        }
        // dockerd's network, or a body only dockerd can word the error for.
        _ => return forward_body(&state, parts, bytes).await,
    };
    let created = state.control.create_network(swarm_request).await?;
    Ok(Reply(StatusCode::CREATED, created).into_response())
}

/// `GET /networks/{id}?verbose=..&scope=..`: by ID, name or ID prefix among swarm and local
/// networks.
#[utoipa::path(get, path = "/networks/{id}", tag = "Network",
    params(("id" = String, Path, description = "ID, name or ID prefix"),
        ("verbose" = Option<bool>, Query, description = "accepted; swarm networks have no more detail"),
        ("scope" = Option<String>, Query, description = "swarm or local")),
    responses((status = 200, body = NetworkResource),
        (status = 400, description = "ambiguous reference or bad verbose value"),
        (status = 404, description = "network X not found")))]
pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
    request: Request,
) -> Result<Response, ApiError> {
    if !state.control.may_be_swarm_network(&id) {
        return forward_to(&state.engine, request).await;
    }
    if let Some(verbose) = query.get("verbose").filter(|v| !v.is_empty()) {
        if parse_go_bool(verbose).is_none() {
            return Err(ApiError::invalid(format!(
                "invalid value for verbose: {verbose}: strconv.ParseBool: parsing \"{verbose}\": invalid syntax"
            )));
        }
    }
    let scope = query.get("scope");
    match state
        .control
        .resolve_network(&id, ResolveMode::Inspect { scope })
        .await?
    {
        Resolved::Local(local_id) => forward_to(&state.engine, retarget(request, &local_id)?).await,
        Resolved::Swarm(network) => {
            let mut resource = networks::to_resource(&network);
            stamp_version(&mut resource, requested_version(&request));
            Ok(ok(resource).into_response())
        }
    }
}

/// `DELETE /networks/{id}`: removes a swarm network (204), or passes the request to dockerd.
#[utoipa::path(delete, path = "/networks/{id}", tag = "Network",
    params(("id" = String, Path, description = "ID, name or ID prefix")),
    responses((status = 204),
        (status = 400, description = "in use by a service or task; ambiguous reference"),
        (status = 404, description = "network X not found")))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    if !state.control.may_be_swarm_network(&id) {
        return forward_to(&state.engine, request).await;
    }
    match state
        .control
        .resolve_network(&id, ResolveMode::Remove)
        .await?
    {
        Resolved::Local(local_id) => forward_to(&state.engine, retarget(request, &local_id)?).await,
        Resolved::Swarm(network) => {
            state.control.remove_network(&network.id).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
    }
}

/// Sends a request whose body was read to dockerd, with that body.
async fn forward_body(
    state: &AppState,
    parts: http::request::Parts,
    bytes: bytes::Bytes,
) -> Result<Response, ApiError> {
    forward_to(&state.engine, Request::from_parts(parts, Body::from(bytes))).await
}

fn requested_version(request: &Request) -> ApiVersion {
    request
        .extensions()
        .get::<RequestedVersion>()
        .copied()
        .unwrap_or_default()
        .effective()
}

/// Newer engines report `EnableIPv4: true` for every swarm network.
fn stamp_version(network: &mut NetworkResource, version: ApiVersion) {
    if version >= ENABLE_IPV4_SINCE {
        network.enable_ipv4 = Some(true);
    }
}

/// The same request aimed at `/networks/<full id>` (query kept), for dockerd.
fn retarget(mut request: Request, id: &str) -> Result<Request, ApiError> {
    let path = match request.uri().query() {
        Some(query) => format!("/networks/{id}?{query}"),
        None => format!("/networks/{id}"),
    };
    *request.uri_mut() = path
        .parse()
        .map_err(|e: http::uri::InvalidUri| ApiError::internal(e.to_string()))?;
    Ok(request)
}

async fn read_body(body: Body) -> Result<bytes::Bytes, ApiError> {
    http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|e| ApiError::invalid(format!("cannot read the body: {e}")))
}

fn query_param(uri: &Uri, key: &str) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}
