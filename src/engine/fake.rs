//! A recording engine for unit tests of the agent: it keeps containers and networks in memory,
//! records every call, and lets a test end a container (`exit`) or fail the next call of a kind
//! (`fail_next`).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use bollard::models::ContainerCreateBody;
use tokio::sync::watch;

use super::{ContainerState, Engine, EngineError, LocalNetwork, TaskContainer};

#[derive(Debug, Clone)]
pub struct FakeContainer {
    pub name: String,
    pub body: ContainerCreateBody,
    pub state: ContainerState,
    /// Networks joined after create, with their aliases.
    pub connected: Vec<(String, Vec<String>)>,
}

#[derive(Default)]
struct Inner {
    images: HashSet<String>,
    containers: HashMap<String, FakeContainer>,
    networks: HashMap<String, LocalNetwork>,
    calls: Vec<String>,
    failures: HashMap<&'static str, EngineError>,
    next_id: u64,
}

pub struct FakeEngine {
    inner: Mutex<Inner>,
    /// Bumped whenever a container stops, to wake waiters.
    stops: watch::Sender<u64>,
}

impl Default for FakeEngine {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            stops: watch::channel(0).0,
        }
    }
}

impl FakeEngine {
    pub fn with_images(images: &[&str]) -> Self {
        let engine = Self::default();
        engine.lock().images = images.iter().map(|i| i.to_string()).collect();
        engine
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, kind: &'static str, detail: &str) -> Result<(), EngineError> {
        let mut inner = self.lock();
        inner.calls.push(format!("{kind} {detail}"));
        match inner.failures.remove(kind) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Every call so far, as `"kind detail"`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// The next call of `kind` (e.g. `"start"`) fails with `error`.
    pub fn fail_next(&self, kind: &'static str, error: EngineError) {
        self.lock().failures.insert(kind, error);
    }

    pub fn containers(&self) -> Vec<FakeContainer> {
        let mut all: Vec<_> = self.lock().containers.values().cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    pub fn networks(&self) -> Vec<LocalNetwork> {
        self.lock().networks.values().cloned().collect()
    }

    /// The container's process ends with `code`.
    pub fn exit(&self, name_or_id: &str, code: i64) {
        let mut inner = self.lock();
        if let Some(c) = find(&mut inner, name_or_id) {
            c.state.status = "exited".into();
            c.state.exit_code = code;
            c.state.pid = 0;
        }
        drop(inner);
        self.stops.send_modify(|n| *n += 1);
    }

    /// The container's healthcheck reports `status`.
    pub fn set_health(&self, name_or_id: &str, status: &str) {
        if let Some(c) = find(&mut self.lock(), name_or_id) {
            c.state.health = Some(status.to_string());
        }
    }
}

fn find<'a>(inner: &'a mut Inner, name_or_id: &str) -> Option<&'a mut FakeContainer> {
    inner
        .containers
        .iter_mut()
        .find(|(id, c)| *id == name_or_id || c.name == name_or_id)
        .map(|(_, c)| c)
}

fn missing(what: &str) -> EngineError {
    EngineError::Status {
        status: 404,
        message: format!("No such container: {what}"),
    }
}

impl Engine for FakeEngine {
    async fn image_present(&self, image: &str) -> Result<bool, EngineError> {
        self.record("image_present", image)?;
        Ok(self.lock().images.contains(image))
    }

    async fn pull_image(&self, image: &str, _auth: Option<&str>) -> Result<(), EngineError> {
        self.record("pull", image)?;
        self.lock().images.insert(image.to_string());
        Ok(())
    }

    async fn create_container(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<String, EngineError> {
        self.record("create", name)?;
        let mut inner = self.lock();
        if inner.containers.values().any(|c| c.name == name) {
            return Err(EngineError::Status {
                status: 409,
                message: format!("Conflict. The container name \"/{name}\" is already in use"),
            });
        }
        inner.next_id += 1;
        let id = format!("c{:063}", inner.next_id);
        inner.containers.insert(
            id.clone(),
            FakeContainer {
                name: name.to_string(),
                body,
                state: ContainerState {
                    id: id.clone(),
                    status: "created".into(),
                    ..Default::default()
                },
                connected: Vec::new(),
            },
        );
        Ok(id)
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        _ipv4: Option<String>,
        aliases: Vec<String>,
    ) -> Result<(), EngineError> {
        self.record("connect", &format!("{network} {container}"))?;
        let mut inner = self.lock();
        let c = find(&mut inner, container).ok_or_else(|| missing(container))?;
        c.connected.push((network.to_string(), aliases));
        Ok(())
    }

    async fn start_container(&self, id: &str) -> Result<(), EngineError> {
        self.record("start", id)?;
        let mut inner = self.lock();
        let c = find(&mut inner, id).ok_or_else(|| missing(id))?;
        c.state.status = "running".into();
        c.state.pid = 4242;
        if c.body.healthcheck.is_some() {
            c.state.health = Some("starting".into());
        }
        Ok(())
    }

    async fn stop_container(&self, id: &str, _grace_secs: i64) -> Result<(), EngineError> {
        self.record("stop", id)?;
        let mut inner = self.lock();
        let c = find(&mut inner, id).ok_or_else(|| missing(id))?;
        if c.state.is_running() {
            c.state.status = "exited".into();
            c.state.exit_code = 143;
            c.state.pid = 0;
        }
        drop(inner);
        self.stops.send_modify(|n| *n += 1);
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> Result<(), EngineError> {
        self.record("remove", id)?;
        let mut inner = self.lock();
        let key = inner
            .containers
            .iter()
            .find(|(cid, c)| *cid == id || c.name == id)
            .map(|(cid, _)| cid.clone());
        if let Some(key) = key {
            inner.containers.remove(&key);
        }
        drop(inner);
        self.stops.send_modify(|n| *n += 1);
        Ok(())
    }

    async fn inspect_container(&self, id: &str) -> Result<Option<ContainerState>, EngineError> {
        let mut inner = self.lock();
        Ok(find(&mut inner, id).map(|c| c.state.clone()))
    }

    async fn wait_container(&self, id: &str) -> Result<i64, EngineError> {
        let mut stops = self.stops.subscribe();
        loop {
            {
                let mut inner = self.lock();
                match find(&mut inner, id) {
                    None => return Err(missing(id)),
                    Some(c) if !c.state.is_running() => return Ok(c.state.exit_code),
                    Some(_) => {}
                }
            }
            if stops.changed().await.is_err() {
                return Err(missing(id));
            }
        }
    }

    async fn list_task_containers(&self, node_id: &str) -> Result<Vec<TaskContainer>, EngineError> {
        let inner = self.lock();
        Ok(inner
            .containers
            .iter()
            .filter(|(_, c)| {
                c.body
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(super::tasks::NODE_LABEL))
                    .is_some_and(|n| n == node_id)
            })
            .map(|(id, c)| TaskContainer {
                id: id.clone(),
                name: c.name.clone(),
                labels: c.body.labels.clone().unwrap_or_default(),
            })
            .collect())
    }

    async fn list_networks(&self, label: &str) -> Result<Vec<LocalNetwork>, EngineError> {
        let (key, value) = label.split_once('=').unwrap_or((label, ""));
        Ok(self
            .lock()
            .networks
            .values()
            .filter(|n| {
                n.labels
                    .get(key)
                    .is_some_and(|v| value.is_empty() || v == value)
            })
            .cloned()
            .collect())
    }

    async fn create_network(&self, network: &LocalNetwork) -> Result<(), EngineError> {
        self.record("create_network", &network.name)?;
        self.lock()
            .networks
            .insert(network.name.clone(), network.clone());
        Ok(())
    }

    async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        self.record("remove_network", name)?;
        self.lock().networks.remove(name);
        Ok(())
    }
}
