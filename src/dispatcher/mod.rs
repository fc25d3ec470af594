//! The dispatcher: the managers' side of agent sessions.
//!
//! An agent opens a session for its node; the dispatcher streams the node's assignments (its
//! tasks, with the secrets, configs and registry credentials they need) as they change,
//! commits the agent's status reports, and watches heartbeats: a node whose agent falls silent
//! for three heartbeat periods is marked down (its tasks are then rescheduled by the
//! orchestrators). Today sessions are in-process (`LocalDispatcher`); the cluster port will
//! carry the same calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::control::Manager;
use crate::store::watch::ChangeCursor;
use crate::store::{ClusterState, Command, Kind, TaskStatusUpdate};
use crate::types::dispatch::{
    Assignment, AssignmentChange, Assignments, DispatchError, Dispatcher, DispatcherSession,
    StatusReport,
};
use crate::types::node::{NodeDescription, NodeState, NodeStatus};
use crate::types::task::{Task, TaskState};

/// The engine's default heartbeat period.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);
/// Missed periods before a node is marked down.
const MISSED_HEARTBEATS: u32 = 3;

/// Sessions of this manager, keyed by node.
#[derive(Clone)]
pub struct LocalDispatcher {
    manager: Arc<Manager>,
    clock: SharedClock,
    heartbeats: Arc<Mutex<HashMap<String, Instant>>>,
    started: Instant,
}

impl LocalDispatcher {
    pub fn new(manager: Arc<Manager>, clock: SharedClock) -> Self {
        Self {
            manager,
            clock,
            heartbeats: Arc::new(Mutex::new(HashMap::new())),
            started: Instant::now(),
        }
    }

    fn heartbeat_period(&self) -> Duration {
        let state = self.manager.store.read();
        state
            .cluster
            .as_ref()
            .map(|c| c.info.spec.dispatcher.heartbeat_period)
            .filter(|p| *p > 0)
            .map(|p| Duration::from_nanos(p as u64))
            .unwrap_or(DEFAULT_HEARTBEAT)
    }

    fn beat(&self, node_id: &str) {
        self.heartbeats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(node_id.to_string(), Instant::now());
    }

    /// Marks `node_id` ready if it is not.
    async fn mark(&self, node_id: &str, state: NodeState, message: &str) {
        let status = {
            let current = self
                .manager
                .store
                .read()
                .get::<crate::types::node::Node>(node_id);
            match current {
                Some(node) if node.status.state != state => NodeStatus {
                    state,
                    message: message.to_string(),
                    addr: node.status.addr.clone(),
                },
                _ => return,
            }
        };
        let command = Command::SetNodeStatus {
            node_id: node_id.to_string(),
            status,
            at: self.clock.now_nanos(),
        };
        if let Err(error) = self.manager.propose(command).await {
            tracing::warn!(node.id = node_id, %error, "could not record the node's status");
        }
    }

    /// Marks nodes whose agents stopped heartbeating as down, until cancelled.
    pub async fn watch_heartbeats(self, cancel: CancellationToken) {
        loop {
            let period = self.heartbeat_period();
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(period) => {}
            }
            if !self.manager.is_leader() {
                continue;
            }
            let deadline = period * MISSED_HEARTBEATS;
            let silent: Vec<String> = {
                let beats = self.heartbeats.lock().unwrap_or_else(|e| e.into_inner());
                let state = self.manager.store.read();
                state
                    .nodes
                    .values()
                    .filter(|n| n.status.state == NodeState::Ready)
                    .filter(|n| {
                        let last = beats.get(&n.id).copied().unwrap_or(self.started);
                        last.elapsed() > deadline
                    })
                    .map(|n| n.id.clone())
                    .collect()
            };
            for node_id in silent {
                tracing::warn!(node.id = %node_id, "no heartbeat: marking the node down");
                self.mark(&node_id, NodeState::Down, "heartbeat failure")
                    .await;
            }
        }
    }
}

impl Dispatcher for LocalDispatcher {
    type Session = LocalSession;

    async fn open_session(
        &self,
        node_id: &str,
        _description: NodeDescription,
    ) -> Result<LocalSession, DispatchError> {
        if self
            .manager
            .store
            .read()
            .get::<crate::types::node::Node>(node_id)
            .is_none()
        {
            return Err(DispatchError::UnknownNode(node_id.to_string()));
        }
        self.beat(node_id);
        self.mark(node_id, NodeState::Ready, "").await;
        Ok(LocalSession {
            dispatcher: self.clone(),
            node_id: node_id.to_string(),
            progress: tokio::sync::Mutex::new(Progress {
                changes: self.manager.store.feed().cursor(),
                sent: HashMap::new(),
                first: true,
            }),
        })
    }
}

/// One agent's session.
pub struct LocalSession {
    dispatcher: LocalDispatcher,
    node_id: String,
    progress: tokio::sync::Mutex<Progress>,
}

/// What a session has sent so far.
struct Progress {
    changes: ChangeCursor,
    /// Task ID -> the desired state last sent (the rest of a task does not change once it is
    /// on a node, but for its status, which the agent itself reports).
    sent: HashMap<String, TaskState>,
    first: bool,
}

impl Progress {
    /// What changed for `node_id` since the last message.
    fn diff(&mut self, node_id: &str, state: &ClusterState) -> Assignments {
        let mut changes = Vec::new();
        let mut current: HashMap<String, TaskState> = HashMap::new();
        for task in state.tasks.values().filter(|t| t.node_id == node_id) {
            if !on_node(task) {
                continue;
            }
            current.insert(task.id.clone(), task.desired_state);
            if self.sent.get(&task.id) == Some(&task.desired_state) && !self.first {
                continue;
            }
            if let Some(assignment) = assignment(state, task) {
                changes.push(AssignmentChange::Update(Box::new(assignment)));
            }
        }
        for task_id in self.sent.keys() {
            if !current.contains_key(task_id) {
                changes.push(AssignmentChange::Remove {
                    task_id: task_id.clone(),
                });
            }
        }
        let complete = self.first;
        self.first = false;
        self.sent = current;
        Assignments { complete, changes }
    }
}

/// Whether the node's agent must know about the task: every task placed on the node, until
/// it is removed from the store (the container of a finished task stays, for its logs, as
/// the engine's does).
fn on_node(task: &Task) -> bool {
    task.status.state >= TaskState::Assigned
}

fn assignment(state: &ClusterState, task: &Task) -> Option<Assignment> {
    let record = state.services.get(&task.service_id);
    let container = task.spec.container_spec.as_ref();
    let secrets = container
        .into_iter()
        .flat_map(|c| c.secrets.iter())
        .filter_map(|r| state.secrets.get(&r.secret_id))
        .map(|s| (**s).clone())
        .collect();
    let configs = container
        .into_iter()
        .flat_map(|c| c.configs.iter())
        .filter_map(|r| state.configs.get(&r.config_id))
        .map(|c| (**c).clone())
        .collect();
    Some(Assignment {
        task: task.clone(),
        service_name: record
            .map(|r| r.service.spec.name.clone())
            .unwrap_or_default(),
        service_labels: record
            .map(|r| r.service.spec.labels.clone())
            .unwrap_or_default(),
        registry_auth: record.and_then(|r| r.registry_auth.clone()),
        secrets,
        configs,
        endpoint_ports: record
            .map(|r| r.service.endpoint.ports.clone())
            .unwrap_or_default(),
    })
}

impl DispatcherSession for LocalSession {
    async fn next_assignments(&self) -> Result<Assignments, DispatchError> {
        let mut progress = self.progress.lock().await;
        loop {
            let manager = self.dispatcher.manager.clone();
            let message = {
                let state = manager.store.read();
                progress.diff(&self.node_id, &state)
            };
            if message.complete || !message.changes.is_empty() {
                return Ok(message);
            }
            // Only task changes alter what a node runs (the rest of an assignment is read
            // when its task is sent).
            loop {
                if !progress.changes.wait().await {
                    return Err(DispatchError::SessionEnded);
                }
                let pending = progress.changes.take();
                if pending.lagged || pending.changes.iter().any(|c| c.kind == Kind::Task) {
                    break;
                }
            }
        }
    }

    async fn report(&self, reports: Vec<StatusReport>) -> Result<(), DispatchError> {
        if reports.is_empty() {
            return Ok(());
        }
        let updates = reports
            .into_iter()
            .map(|r| TaskStatusUpdate {
                task_id: r.task_id,
                status: r.status,
            })
            .collect();
        self.dispatcher
            .manager
            .propose(Command::UpdateTaskStatus { reports: updates })
            .await
            .map_err(|e| DispatchError::Unavailable(e.to_string()))
    }

    async fn heartbeat(&self) -> Result<Duration, DispatchError> {
        self.dispatcher.beat(&self.node_id);
        self.dispatcher
            .mark(&self.node_id, NodeState::Ready, "")
            .await;
        Ok(self.dispatcher.heartbeat_period())
    }
}
