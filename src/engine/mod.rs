//! The one client of the local dockerd.
//!
//! `api/proxy.rs` sends client requests through [`EngineClient::send`] unchanged (but for the
//! version prefix); the `/info`, `/version` and `/events` handlers read the engine's own
//! answers through the JSON helpers; the agent runs tasks through the [`Engine`] trait, which
//! `EngineClient` implements with `bollard` (`tasks.rs`) and a recording fake implements for
//! unit tests (`fake.rs`). Nothing else in shoal talks to dockerd.

#[cfg(test)]
pub mod fake;
mod tasks;

pub use tasks::{
    ContainerState, Engine, LocalNetwork, TaskContainer, NETWORK_LABEL, NETWORK_NODE_LABEL,
    NODE_LABEL, TASK_LABEL,
};

use std::sync::RwLock;
use std::time::Duration;

use axum::body::Body;
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use hyperlocal::UnixConnector;

use crate::config::Endpoint;
use crate::types::api_version::ApiVersion;

/// The version assumed until the engine has answered `/version` (Docker 20.10's).
const FALLBACK_ENGINE_VERSION: ApiVersion = ApiVersion::new(1, 41);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot reach the Docker engine at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("the Docker engine answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the Docker engine sent an unreadable answer: {0}")]
    BadAnswer(String),
}

enum Transport {
    Unix(Client<UnixConnector, Body>),
    Tcp(Client<HttpConnector, Body>),
}

/// A connection pool to dockerd plus what shoal learned about it.
pub struct EngineClient {
    endpoint: Endpoint,
    transport: Transport,
    /// The engine's maximum API version, learned from `/version`.
    api_version: RwLock<Option<ApiVersion>>,
    /// The typed client at the engine's default version; [`Self::docker`] negotiates once.
    docker_default: bollard::Docker,
    docker: tokio::sync::OnceCell<bollard::Docker>,
}

impl std::fmt::Debug for EngineClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl EngineClient {
    /// Builds the client; does not contact the engine (shoal starts even if dockerd is down).
    pub fn new(endpoint: Endpoint) -> Result<Self, EngineError> {
        let unreachable = |reason: String| EngineError::Unreachable {
            endpoint: endpoint.to_string(),
            reason,
        };
        let (transport, docker) = match &endpoint {
            Endpoint::Unix(path) => {
                let client = Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(90))
                    .build(UnixConnector);
                let path = path.to_string_lossy();
                let docker =
                    bollard::Docker::connect_with_unix(&path, 120, bollard::API_DEFAULT_VERSION)
                        .map_err(|e| unreachable(e.to_string()))?;
                (Transport::Unix(client), docker)
            }
            Endpoint::Tcp(addr) => {
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                let client = Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(90))
                    .build(connector);
                let docker = bollard::Docker::connect_with_http(
                    &format!("tcp://{addr}"),
                    120,
                    bollard::API_DEFAULT_VERSION,
                )
                .map_err(|e| unreachable(e.to_string()))?;
                (Transport::Tcp(client), docker)
            }
        };
        Ok(Self {
            endpoint,
            transport,
            api_version: RwLock::new(None),
            docker_default: docker,
            docker: tokio::sync::OnceCell::new(),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The typed client, for the agent, speaking the engine's version (negotiated once; an
    /// engine that cannot be reached now is asked again next time).
    pub async fn docker(&self) -> Result<&bollard::Docker, EngineError> {
        self.docker
            .get_or_try_init(|| async {
                self.docker_default
                    .clone()
                    .negotiate_version()
                    .await
                    .map_err(|e| EngineError::Unreachable {
                        endpoint: self.endpoint.to_string(),
                        reason: e.to_string(),
                    })
            })
            .await
    }

    /// A URI addressing `path_and_query` on the engine.
    pub fn uri(&self, path_and_query: &str) -> Result<Uri, EngineError> {
        let uri: Uri = match &self.endpoint {
            Endpoint::Unix(socket) => hyperlocal::Uri::new(socket, path_and_query).into(),
            Endpoint::Tcp(addr) => format!("http://{addr}{path_and_query}")
                .parse()
                .map_err(|e: http::uri::InvalidUri| EngineError::BadAnswer(e.to_string()))?,
        };
        Ok(uri)
    }

    /// Sends a request as is; the caller has already set the URI with [`Self::uri`].
    pub async fn send(&self, request: Request<Body>) -> Result<Response<Incoming>, EngineError> {
        let result = match &self.transport {
            Transport::Unix(client) => client.request(request).await,
            Transport::Tcp(client) => client.request(request).await,
        };
        result.map_err(|e| EngineError::Unreachable {
            endpoint: self.endpoint.to_string(),
            reason: error_chain(&e),
        })
    }

    /// GETs `path_and_query` and reads the whole answer.
    async fn get_bytes(
        &self,
        path_and_query: &str,
    ) -> Result<(http::StatusCode, bytes::Bytes), EngineError> {
        let request = Request::get(self.uri(path_and_query)?)
            .body(Body::empty())
            .map_err(|e| EngineError::BadAnswer(e.to_string()))?;
        let response = self.send(request).await?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| EngineError::BadAnswer(e.to_string()))?
            .to_bytes();
        Ok((status, body))
    }

    /// GET a JSON document from the engine (e.g. `/info`), at the engine's own version.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, EngineError> {
        let version = self.api_version().await;
        let (status, body) = self.get_bytes(&format!("/v{version}{path}")).await?;
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(String::from))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
            return Err(EngineError::Status {
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&body).map_err(|e| EngineError::BadAnswer(e.to_string()))
    }

    /// The engine's maximum API version; asks the engine once, then remembers.
    pub async fn api_version(&self) -> ApiVersion {
        if let Some(version) = self.known_api_version() {
            return version;
        }
        match self.negotiate().await {
            Ok(version) => {
                if let Ok(mut slot) = self.api_version.write() {
                    *slot = Some(version);
                }
                version
            }
            Err(error) => {
                tracing::warn!(%error, "engine version unknown; assuming {FALLBACK_ENGINE_VERSION}");
                FALLBACK_ENGINE_VERSION
            }
        }
    }

    /// The engine's version if it has been learned already.
    pub fn known_api_version(&self) -> Option<ApiVersion> {
        self.api_version.read().ok().and_then(|v| *v)
    }

    async fn negotiate(&self) -> Result<ApiVersion, EngineError> {
        let (_, body) = self.get_bytes("/version").await?;
        let version: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| EngineError::BadAnswer(e.to_string()))?;
        version
            .get("ApiVersion")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| EngineError::BadAnswer("no ApiVersion in /version".into()))
    }
}

/// The whole cause chain of an error, for messages about an unreachable engine.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
