//! What the agent asks of the local dockerd to run tasks: the [`Engine`] trait, and its
//! implementation on [`EngineClient`] with `bollard` (container create bodies are bollard's
//! models, so the translation in `agent/container.rs` is checked by bollard's types).

use std::collections::HashMap;
use std::future::Future;

use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig,
    NetworkConnectRequest, NetworkCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, ListContainersOptions, ListNetworksOptions,
    RemoveContainerOptions, StopContainerOptions,
};
use futures::StreamExt;
use http::Request;
use http_body_util::BodyExt;

use super::{EngineClient, EngineError};

/// The label every task container carries (swarm's marker).
pub const TASK_LABEL: &str = "com.docker.swarm.task";
/// The label of the node a task container belongs to.
pub const NODE_LABEL: &str = "com.docker.swarm.node.id";
/// The label shoal puts on the engine networks it creates for swarm networks.
pub const NETWORK_LABEL: &str = "io.shoal.network.id";
/// The label naming the node that created an engine network.
pub const NETWORK_NODE_LABEL: &str = "io.shoal.node.id";

/// A container as the agent needs to see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    pub status: String,
    pub pid: i64,
    pub exit_code: i64,
    /// The engine's error (e.g. the start failed).
    pub error: String,
    /// `starting`, `healthy`, `unhealthy`, or `None` without a healthcheck.
    pub health: Option<String>,
    pub oom_killed: bool,
}

impl ContainerState {
    pub fn is_running(&self) -> bool {
        matches!(self.status.as_str(), "running" | "paused" | "restarting")
    }
}

/// A task container found on the engine (for adoption after a restart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskContainer {
    pub id: String,
    pub name: String,
    pub labels: HashMap<String, String>,
}

/// An engine network standing for a swarm network on this node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalNetwork {
    pub name: String,
    pub subnet: String,
    pub gateway: String,
    pub internal: bool,
    pub labels: HashMap<String, String>,
}

/// The engine operations the agent uses. Errors keep the engine's status and message.
pub trait Engine: Send + Sync + 'static {
    fn image_present(&self, image: &str) -> impl Future<Output = Result<bool, EngineError>> + Send;

    /// Pulls `image` with `X-Registry-Auth` as the client sent it.
    fn pull_image(
        &self,
        image: &str,
        registry_auth: Option<&str>,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// Creates a container named `name`; answers its ID.
    fn create_container(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> impl Future<Output = Result<String, EngineError>> + Send;

    /// Connects a created container to one more network (API 1.41 takes one at create).
    fn connect_network(
        &self,
        network: &str,
        container: &str,
        ipv4: Option<String>,
        aliases: Vec<String>,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    fn start_container(&self, id: &str) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// Stops with the stop signal, then kills after `grace_secs`.
    fn stop_container(
        &self,
        id: &str,
        grace_secs: i64,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// Removes a container (forcibly, with its anonymous volumes); gone already is fine.
    fn remove_container(&self, id: &str) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// `None` when there is no such container.
    fn inspect_container(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<ContainerState>, EngineError>> + Send;

    /// Waits until the container is not running; answers its exit code.
    fn wait_container(&self, id: &str) -> impl Future<Output = Result<i64, EngineError>> + Send;

    /// Every task container of `node_id`, running or not.
    fn list_task_containers(
        &self,
        node_id: &str,
    ) -> impl Future<Output = Result<Vec<TaskContainer>, EngineError>> + Send;

    /// Engine networks carrying `label` (names and labels).
    fn list_networks(
        &self,
        label: &str,
    ) -> impl Future<Output = Result<Vec<LocalNetwork>, EngineError>> + Send;

    fn create_network(
        &self,
        network: &LocalNetwork,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// Removes a network; gone already is fine.
    fn remove_network(&self, name: &str) -> impl Future<Output = Result<(), EngineError>> + Send;
}

/// bollard's errors as the engine's.
fn engine_error(endpoint: &str, error: bollard::errors::Error) -> EngineError {
    match error {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => EngineError::Status {
            status: status_code,
            message,
        },
        other => EngineError::Unreachable {
            endpoint: endpoint.to_string(),
            reason: other.to_string(),
        },
    }
}

fn not_found(error: &EngineError) -> bool {
    matches!(error, EngineError::Status { status: 404, .. })
}

/// `X-Registry-Auth` (base64url JSON) as bollard's credentials; unreadable means none.
fn credentials(registry_auth: Option<&str>) -> Option<bollard::auth::DockerCredentials> {
    use base64::Engine as _;
    let text = registry_auth?.trim();
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl EngineClient {
    fn fail(&self, error: bollard::errors::Error) -> EngineError {
        engine_error(&self.endpoint.to_string(), error)
    }
}

impl Engine for EngineClient {
    async fn image_present(&self, image: &str) -> Result<bool, EngineError> {
        let docker = self.docker().await?;
        match docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = self.fail(e);
                if not_found(&e) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn pull_image(
        &self,
        image: &str,
        registry_auth: Option<&str>,
    ) -> Result<(), EngineError> {
        let docker = self.docker().await?;
        let options = CreateImageOptions {
            from_image: Some(image.to_string()),
            ..Default::default()
        };
        let mut progress = docker.create_image(Some(options), None, credentials(registry_auth));
        while let Some(item) = progress.next().await {
            let info = item.map_err(|e| self.fail(e))?;
            if let Some(error) = info.error_detail.and_then(|d| d.message) {
                return Err(EngineError::Status {
                    status: 500,
                    message: error,
                });
            }
        }
        Ok(())
    }

    async fn create_container(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<String, EngineError> {
        let docker = self.docker().await?;
        let options = CreateContainerOptions {
            name: Some(name.to_string()),
            ..Default::default()
        };
        let created = docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(created.id)
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        ipv4: Option<String>,
        aliases: Vec<String>,
    ) -> Result<(), EngineError> {
        let docker = self.docker().await?;
        let request = NetworkConnectRequest {
            container: container.to_string(),
            endpoint_config: Some(EndpointSettings {
                ipam_config: ipv4.map(|ip| EndpointIpamConfig {
                    ipv4_address: Some(ip),
                    ..Default::default()
                }),
                aliases: (!aliases.is_empty()).then_some(aliases),
                ..Default::default()
            }),
        };
        docker
            .connect_network(network, request)
            .await
            .map_err(|e| self.fail(e))
    }

    async fn start_container(&self, id: &str) -> Result<(), EngineError> {
        let docker = self.docker().await?;
        docker
            .start_container(id, None)
            .await
            .map_err(|e| self.fail(e))
    }

    async fn stop_container(&self, id: &str, grace_secs: i64) -> Result<(), EngineError> {
        let docker = self.docker().await?;
        let options = StopContainerOptions {
            t: Some(i32::try_from(grace_secs).unwrap_or(i32::MAX)),
            ..Default::default()
        };
        match docker.stop_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            // 304: already stopped.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(self.fail(e)),
        }
    }

    async fn remove_container(&self, id: &str) -> Result<(), EngineError> {
        let docker = self.docker().await?;
        let options = RemoveContainerOptions {
            v: true,
            force: true,
            ..Default::default()
        };
        match docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = self.fail(e);
                // Gone already, or being removed by someone else.
                if not_found(&e) || matches!(e, EngineError::Status { status: 409, .. }) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn inspect_container(&self, id: &str) -> Result<Option<ContainerState>, EngineError> {
        let docker = self.docker().await?;
        let inspected = match docker.inspect_container(id, None).await {
            Ok(inspected) => inspected,
            Err(e) => {
                let e = self.fail(e);
                return if not_found(&e) { Ok(None) } else { Err(e) };
            }
        };
        let state = inspected.state.unwrap_or_default();
        Ok(Some(ContainerState {
            id: inspected.id.unwrap_or_else(|| id.to_string()),
            status: state.status.map(|s| s.to_string()).unwrap_or_default(),
            pid: state.pid.unwrap_or(0),
            exit_code: state.exit_code.unwrap_or(0),
            error: state.error.unwrap_or_default(),
            health: state
                .health
                .and_then(|h| h.status)
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty() && s != "none"),
            oom_killed: state.oom_killed.unwrap_or(false),
        }))
    }

    async fn wait_container(&self, id: &str) -> Result<i64, EngineError> {
        // Raw, not bollard: its client times requests out, and a task may run for months.
        let version = self.api_version().await;
        let path = format!("/v{version}/containers/{id}/wait?condition=not-running");
        let request = Request::post(self.uri(&path)?)
            .body(axum::body::Body::empty())
            .map_err(|e| EngineError::BadAnswer(e.to_string()))?;
        let response = self.send(request).await?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| EngineError::Unreachable {
                endpoint: self.endpoint.to_string(),
                reason: e.to_string(),
            })?
            .to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if !status.is_success() {
            return Err(EngineError::Status {
                status: status.as_u16(),
                message: value
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        value
            .get("StatusCode")
            .and_then(|c| c.as_i64())
            .ok_or_else(|| EngineError::BadAnswer("no StatusCode in the wait answer".into()))
    }

    async fn list_task_containers(&self, node_id: &str) -> Result<Vec<TaskContainer>, EngineError> {
        let docker = self.docker().await?;
        let filters = HashMap::from([(
            "label".to_string(),
            vec![TASK_LABEL.to_string(), format!("{NODE_LABEL}={node_id}")],
        )]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let found = docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.fail(e))?;
        Ok(found
            .into_iter()
            .map(|c| TaskContainer {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .map(|n| n.trim_start_matches('/').to_string())
                    .unwrap_or_default(),
                labels: c.labels.unwrap_or_default(),
            })
            .collect())
    }

    async fn list_networks(&self, label: &str) -> Result<Vec<LocalNetwork>, EngineError> {
        let docker = self.docker().await?;
        let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
        let found = docker
            .list_networks(Some(ListNetworksOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(|e| self.fail(e))?;
        Ok(found
            .into_iter()
            .map(|n| {
                let config = n
                    .ipam
                    .and_then(|i| i.config)
                    .and_then(|c| c.into_iter().next())
                    .unwrap_or_default();
                LocalNetwork {
                    name: n.name.unwrap_or_default(),
                    subnet: config.subnet.unwrap_or_default(),
                    gateway: config.gateway.unwrap_or_default(),
                    internal: n.internal.unwrap_or(false),
                    labels: n.labels.unwrap_or_default(),
                }
            })
            .collect())
    }

    async fn create_network(&self, network: &LocalNetwork) -> Result<(), EngineError> {
        let docker = self.docker().await?;
        let config = IpamConfig {
            subnet: (!network.subnet.is_empty()).then(|| network.subnet.clone()),
            gateway: (!network.gateway.is_empty()).then(|| network.gateway.clone()),
            ..Default::default()
        };
        let request = NetworkCreateRequest {
            name: network.name.clone(),
            driver: Some("bridge".into()),
            internal: Some(network.internal),
            attachable: Some(true),
            ipam: Some(Ipam {
                config: (!network.subnet.is_empty()).then(|| vec![config]),
                ..Default::default()
            }),
            labels: Some(network.labels.clone()),
            ..Default::default()
        };
        docker
            .create_network(request)
            .await
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        let docker = self.docker().await?;
        match docker.remove_network(name).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = self.fail(e);
                if not_found(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
