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
use crate::control::networks::{self, CreateRoute, ResolveMode, Resolved};
use crate::types::decode;
use crate::types::filters::Filters;
use crate::types::network_resource::{NetworkCreateRequest, NetworkResource};

/// Largest body read from a create request or from dockerd's list.
const MAX_BODY: usize = 16 << 20;

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
#[utoipa::path(operation_id = "NetworkList", get, path = "/networks", tag = "Network",
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
    let answer = forward_to(&state.engine, request).await?;
    if !answer.status().is_success() {
        return Ok(answer);
    }
    let body = read_body(answer.into_body()).await?;
    let local: Vec<serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| ApiError::internal(format!("unreadable network list from the engine: {e}")))?;
    let swarm = state.control.list_networks(&filters)?;
    Ok(ok(networks::merge_lists(swarm, local)?).into_response())
}

/// `POST /networks/create`: a swarm network for the overlay driver (or `Scope: "swarm"`),
/// otherwise dockerd's.
#[utoipa::path(operation_id = "NetworkCreate", post, path = "/networks/create", tag = "Network", request_body = NetworkCreateRequest,
    responses((status = 201, body = crate::types::network_resource::NetworkCreateResponse),
        (status = 400, description = "invalid name, driver, IPAM or subnet overlap"),
        (status = 403, description = "predefined name or label"),
        (status = 409, description = "network with name X already exists; a second ingress network"),
        (status = 500, description = "an empty name, as the engine answers it"),
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
#[utoipa::path(operation_id = "NetworkInspect", get, path = "/networks/{id}", tag = "Network",
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
    query.parsed_flag("verbose")?;
    let scope = query.get("scope");
    match state
        .control
        .resolve_network(&id, ResolveMode::Inspect { scope })
        .await?
    {
        Resolved::Local(local_id) => forward_to(&state.engine, retarget(request, &local_id)?).await,
        Resolved::Swarm(network) => Ok(ok(networks::to_resource(&network)).into_response()),
    }
}

/// `DELETE /networks/{id}`: removes a swarm network (204), or passes the request to dockerd.
#[utoipa::path(operation_id = "NetworkDelete", delete, path = "/networks/{id}", tag = "Network",
    params(("id" = String, Path, description = "ID, name or ID prefix")),
    responses((status = 204),
        (status = 400, description = "in use by a service or task; ambiguous reference"),
        (status = 403, description = "a predefined network (dockerd's answer)"),
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

/// In process: shoal's router over a real `Control` on a temporary data root, in front of a
/// fake dockerd on a unix socket that knows one local network and records what reaches it.
#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::http::Method;
    use serde_json::{json, Value};
    use tokio_util::sync::CancellationToken;
    use tower::ServiceExt;

    use super::*;
    use crate::api::serve::{self, Listener};
    use crate::clock::{SharedClock, SystemClock};
    use crate::config::{Config, Endpoint};
    use crate::control::Control;
    use crate::engine::EngineClient;

    const BRIDGE_ID: &str = "aef3284893a560669cb67a6fb485f4dcd7aebe1e014fc08c7b6d2308f6f64e40";

    /// What the fake dockerd received: method, path (version prefix stripped) and body.
    type Seen = Arc<Mutex<Vec<(Method, String, String)>>>;

    fn bridge() -> Value {
        json!({"Name": "bridge", "Id": BRIDGE_ID, "Created": "2026-11-22T02:51:21.68944365Z",
            "Scope": "local", "Driver": "bridge", "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": null, "Config": [{"Subnet": "172.17.0.0/16"}]},
            "Internal": false, "Attachable": false, "Ingress": false, "ConfigFrom": {"Network": ""},
            "ConfigOnly": false, "Containers": {}, "Options": {}, "Labels": {}})
    }

    async fn fake_dockerd(seen: Seen, request: Request) -> Response {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let path = match path.strip_prefix("/v1.41") {
            Some(rest) => rest.to_string(),
            None => path,
        };
        let query = request.uri().query().unwrap_or("").to_string();
        let body = read_body(request.into_body()).await.unwrap_or_default();
        seen.lock().unwrap().push((
            method.clone(),
            path.clone(),
            String::from_utf8_lossy(&body).into(),
        ));
        let reply = |status: StatusCode, value: Value| Reply(status, value).into_response();
        match (method.as_str(), path.as_str()) {
            ("GET", "/version") => reply(StatusCode::OK, json!({"ApiVersion": "1.41"})),
            ("GET", "/info") => reply(StatusCode::OK, json!({"Name": "fakehost", "NCPU": 2})),
            ("GET", "/networks") => {
                let filters =
                    query_param(&format!("/?{query}").parse().unwrap_or_default(), "filters")
                        .unwrap_or_default();
                let only_swarm = filters.contains("\"swarm\"");
                let list = if only_swarm {
                    json!([])
                } else {
                    json!([bridge()])
                };
                reply(StatusCode::OK, list)
            }
            ("POST", "/networks/create") => reply(
                StatusCode::CREATED,
                json!({"Id": "5897d4b781bdbdc9f1c2b25138df11819cda0001843a440c03c58260d440e3e4", "Warning": ""}),
            ),
            ("GET", p) if p == format!("/networks/{BRIDGE_ID}") || p == "/networks/bridge" => {
                reply(StatusCode::OK, bridge())
            }
            ("DELETE", _) => StatusCode::NO_CONTENT.into_response(),
            (_, p) => {
                let name = p.trim_start_matches("/networks/");
                reply(
                    StatusCode::NOT_FOUND,
                    json!({"message": format!("network {name} not found")}),
                )
            }
        }
    }

    struct Harness {
        router: Router,
        control: Arc<Control>,
        seen: Seen,
        stop: CancellationToken,
        _dir: tempfile::TempDir,
    }

    impl Harness {
        async fn start() -> Harness {
            let dir = tempfile::tempdir().unwrap();
            let socket = dir.path().join("docker.sock");
            let seen: Seen = Arc::default();
            let fake = {
                let seen = seen.clone();
                Router::new().fallback(move |request: Request| fake_dockerd(seen.clone(), request))
            };
            let stop = CancellationToken::new();
            let listener = Listener::bind(&Endpoint::Unix(socket.clone()))
                .await
                .unwrap();
            tokio::spawn(serve::serve(listener, fake, stop.clone()));

            let config = Config {
                hosts: Vec::new(),
                data_root: dir.path().join("data"),
                engine: Endpoint::Unix(socket),
                exec_root: std::env::temp_dir().join("shoal-exec"),
                log_level: "info".into(),
            };
            let engine = Arc::new(EngineClient::new(config.engine.clone()).unwrap());
            let clock: SharedClock = Arc::new(SystemClock);
            let control = Control::start(&config, engine.clone(), clock)
                .await
                .unwrap();
            let router = crate::api::router(crate::api::AppState {
                control: control.clone(),
                engine,
            });
            Harness {
                router,
                control,
                seen,
                stop,
                _dir: dir,
            }
        }

        async fn call(&self, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
            let request = Request::builder()
                .method(method)
                .uri(uri)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = read_body(response.into_body()).await.unwrap();
            let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (status, value)
        }

        fn forwarded(&self, method: &str, path: &str) -> Vec<String> {
            self.seen
                .lock()
                .unwrap()
                .iter()
                .filter(|(m, p, _)| m.as_str() == method && p == path)
                .map(|(_, _, body)| body.clone())
                .collect()
        }

        async fn stop(self) {
            self.control.shutdown().await;
            self.stop.cancel();
        }
    }

    const NET1: &str = r#"{"Driver":"overlay","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":true,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{},"Name":"net1","CheckDuplicate":true}"#;

    #[tokio::test]
    async fn networks_merge_swarm_and_local() {
        let h = Harness::start().await;

        // Outside a swarm, dockerd answers everything.
        let (status, _) = h.call("POST", "/v1.41/networks/create", NET1).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            h.forwarded("POST", "/networks/create"),
            vec![NET1.to_string()]
        );
        let (status, list) = h.call("GET", "/v1.41/networks", "").await;
        assert_eq!((status, list), (StatusCode::OK, json!([bridge()])));

        let (status, _) = h
            .call(
                "POST",
                "/v1.41/swarm/init",
                r#"{"AdvertiseAddr":"127.0.0.1"}"#,
            )
            .await;
        assert_eq!(status, StatusCode::OK);

        // Transcript 070.
        let (status, created) = h.call("POST", "/v1.41/networks/create", NET1).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["Id"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 25);
        assert_eq!(created["Warning"], "");
        assert_eq!(h.forwarded("POST", "/networks/create").len(), 1);

        // Transcript 071: swarm networks (by ID), then dockerd's.
        let (_, list) = h.call("GET", "/v1.41/networks", "").await;
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 3);
        assert_eq!(names[2], "bridge");
        let net1 = list
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["Name"] == "net1")
            .unwrap()
            .clone();
        assert_eq!(net1["Id"], id.as_str());
        assert_eq!(net1["Scope"], "swarm");
        assert_eq!(net1["Containers"], Value::Null);
        assert_eq!(net1["Labels"], Value::Null);
        assert_eq!(
            net1["IPAM"],
            json!({"Driver": "default", "Options": null, "Config": [{"Subnet": "10.0.1.0/24", "Gateway": "10.0.1.1"}]})
        );
        assert_eq!(
            net1["Options"],
            json!({"com.docker.network.driver.overlay.vxlanid_list": "4097"})
        );
        assert!(net1.get("EnableIPv4").is_none());

        // Transcript 073.
        let filtered = "/v1.41/networks?filters=%7B%22driver%22%3A%7B%22overlay%22%3Atrue%7D%2C%22scope%22%3A%7B%22swarm%22%3Atrue%7D%7D";
        let (_, list) = h.call("GET", filtered, "").await;
        assert_eq!(list.as_array().unwrap().len(), 2);
        let (status, error) = h
            .call(
                "GET",
                "/v1.41/networks?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D",
                "",
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["message"], "Invalid filter 'bogus'");

        // Transcript 072, by name and by ID prefix (any version: like the 20.10 engine, no
        // EnableIPv4, so swarm and local entries agree).
        let (status, inspected) = h.call("GET", "/v1.41/networks/net1", "").await;
        assert_eq!((status, &inspected), (StatusCode::OK, &net1));
        let (_, inspected) = h
            .call("GET", &format!("/v1.50/networks/{}", &id[..5]), "")
            .await;
        assert_eq!(inspected, net1);
        let (status, local) = h.call("GET", "/v1.41/networks/bridge", "").await;
        assert_eq!(
            (status, local["Id"].as_str()),
            (StatusCode::OK, Some(BRIDGE_ID))
        );

        // Transcript 075: duplicate names, swarm or local.
        let (status, error) = h.call("POST", "/v1.41/networks/create", NET1).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(error["message"], "network with name net1 already exists");
        let (status, _) = h
            .call(
                "POST",
                "/v1.41/networks/create",
                r#"{"Name":"net1","Driver":"bridge"}"#,
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, error) = h
            .call(
                "POST",
                "/v1.41/networks/create",
                r#"{"Name":"bridge","Driver":"overlay"}"#,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{error}");

        // A local network goes to dockerd with the body as sent.
        let mybridge = r#"{"Name": "mybridge", "Driver": "bridge", "CheckDuplicate": true}"#;
        let (status, _) = h.call("POST", "/v1.41/networks/create", mybridge).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(h.forwarded("POST", "/networks/create")[1], mybridge);

        // Transcript 074, then 098 (the 404 is dockerd's once the swarm has no such network).
        let (status, _) = h.call("DELETE", "/v1.41/networks/net1", "").await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, error) = h.call("GET", "/v1.41/networks/net1", "").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(error["message"], "network net1 not found");
        assert!(h.forwarded("DELETE", "/networks/net1").is_empty());

        // Prune and connect are dockerd's.
        let (status, _) = h.call("POST", "/v1.41/networks/prune", "").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(h.forwarded("POST", "/networks/prune").len(), 1);

        h.stop().await;
    }
}
