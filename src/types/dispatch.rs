//! What a node's agent and the managers' dispatcher say to each other.
//!
//! The agent opens a session for its node, keeps it alive with heartbeats, receives the tasks
//! assigned to its node (with the secrets, configs and registry credentials they need) and
//! reports every change of their state. Today the session is in-process; the multi-node work
//! carries the same messages over the cluster port. These types and the [`Dispatcher`] trait
//! sit in `types` so that the agent (which must not depend on the store) and the dispatcher
//! (which must not depend on the agent) share them.

use std::future::Future;

use super::config::Config;
use super::node::NodeDescription;
use super::secret::Secret;
use super::task::{Task, TaskStatus};

/// A task this node must run (or stop), with everything needed to run it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The task as stored: its spec, slot, desired state, network attachments.
    pub task: Task,
    /// The service's name (container and task names are built from it).
    pub service_name: String,
    /// The service's labels (for templates such as `{{.Service.Labels}}`).
    pub service_labels: std::collections::BTreeMap<String, String>,
    /// `X-Registry-Auth` for pulling the task's image, as the client sent it.
    pub registry_auth: Option<String>,
    /// The secrets the task references, with their data.
    pub secrets: Vec<Secret>,
    /// The configs the task references, with their data.
    pub configs: Vec<Config>,
    /// The service's published ports as allocated (`mode=host` ones are bound on the task's
    /// container).
    pub endpoint_ports: Vec<super::endpoint::PortConfig>,
}

/// A change to this node's assignments.
#[derive(Debug, Clone, PartialEq)]
pub enum AssignmentChange {
    /// Run this task, or note a change of its desired state.
    Update(Box<Assignment>),
    /// The task is gone from the store (its container, if any, must go too).
    Remove { task_id: String },
}

/// One message of the assignments stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignments {
    /// With `complete`, the changes are the whole set: anything the agent runs that is not in
    /// it must be stopped. The first message of a session is complete.
    pub complete: bool,
    pub changes: Vec<AssignmentChange>,
}

/// A task's new observed state, from the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub task_id: String,
    pub status: TaskStatus,
}

/// Why the dispatcher refused a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    /// This node is not (or no longer) part of the cluster.
    #[error("node {0} is not known to the swarm")]
    UnknownNode(String),
    /// The session ended (manager stopping, a newer session for the node).
    #[error("the dispatcher session ended")]
    SessionEnded,
    /// No manager can take the call now.
    #[error("the dispatcher is unavailable: {0}")]
    Unavailable(String),
}

/// The managers' side, as an agent sees it.
pub trait Dispatcher: Send + Sync + 'static {
    type Session: DispatcherSession;

    /// Opens a session for `node_id`, describing the node as it is now.
    fn open_session(
        &self,
        node_id: &str,
        description: NodeDescription,
    ) -> impl Future<Output = Result<Self::Session, DispatchError>> + Send;
}

/// One agent's session with the dispatcher. Its calls may run concurrently (an agent waits
/// for assignments while it reports and heartbeats), so they all take `&self`.
pub trait DispatcherSession: Send + Sync + 'static {
    /// The next assignments message; waits until there is one. Only the desired state of a
    /// task changes after it is first sent, so a task comes again only when that changes.
    fn next_assignments(&self) -> impl Future<Output = Result<Assignments, DispatchError>> + Send;

    /// Reports task status changes (the dispatcher batches them into one write).
    fn report(
        &self,
        reports: Vec<StatusReport>,
    ) -> impl Future<Output = Result<(), DispatchError>> + Send;

    /// Tells the dispatcher the node is alive; returns how long until the next heartbeat is
    /// due (the cluster's `Dispatcher.HeartbeatPeriod`).
    fn heartbeat(&self) -> impl Future<Output = Result<std::time::Duration, DispatchError>> + Send;
}
