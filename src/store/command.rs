//! The one enum of cluster state changes. Every swarm write is a `Command` committed through
//! Raft; `apply` turns it into a change of [`ClusterState`](super::state::ClusterState).
//!
//! Commands carry finished objects: the proposer has already chosen IDs and timestamps and
//! filled defaults, so `apply` never reads a clock or a random source. Updates carry the
//! `Version.Index` the client saw; `apply` refuses them when the object has moved on.

use serde::{Deserialize, Serialize};

use super::error::StoreError;
use super::records::ServiceRecord;
use super::state::ClusterRecord;
use crate::types::config::Config;
use crate::types::network::Network;
use crate::types::node::Node;
use crate::types::secret::Secret;
use crate::types::task::Task;

/// A batch of commands committed as one Raft entry (one fsync); each is applied on its own.
pub type Batch = Vec<Command>;

/// What applying each command of a batch gave, in order.
pub type BatchResult = Vec<Result<(), StoreError>>;

/// Nanoseconds since the Unix epoch, chosen by the proposer.
pub type UnixNanos = i64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredStateChange {
    pub task_id: String,
    pub desired: crate::types::task::TaskState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAssignment {
    pub task_id: String,
    pub node_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStatusUpdate {
    pub task_id: String,
    pub status: crate::types::task::TaskStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// `swarm init`: the cluster, the first manager, and the networks every swarm has.
    CreateCluster {
        cluster: Box<ClusterRecord>,
        node: Box<Node>,
        networks: Vec<Network>,
    },
    /// `swarm update` and token/key rotation: the whole record, as the proposer computed it.
    UpdateCluster {
        expected_version: u64,
        cluster: Box<ClusterRecord>,
    },

    /// Replace a node (spec changes from `node update`, status from its agent).
    UpdateNode {
        expected_version: u64,
        node: Box<Node>,
    },
    RemoveNode {
        id: String,
        at: UnixNanos,
    },

    /// A new service; `apply` allocates its endpoint and sets its spec version.
    CreateService {
        service: Box<ServiceRecord>,
    },
    /// Replace a service the client saw at `expected_version`. With `new_spec` (a user's
    /// update) the spec version becomes this entry's index; a rollback carries the versions
    /// the proposer swapped.
    UpdateService {
        expected_version: u64,
        service: Box<ServiceRecord>,
        new_spec: bool,
    },
    RemoveService {
        id: String,
        at: UnixNanos,
    },

    /// A node's observed status (the dispatcher: heartbeats, a node going down).
    SetNodeStatus {
        node_id: String,
        status: crate::types::node::NodeStatus,
        at: UnixNanos,
    },

    /// A service's `UpdateStatus` (the updater); `None` clears it.
    SetUpdateStatus {
        service_id: String,
        update_status: Option<crate::types::service::UpdateStatus>,
        at: UnixNanos,
    },

    /// The updater's automatic rollback: the previous spec becomes current again and the
    /// update status says why.
    RollbackService {
        service_id: String,
        message: String,
        at: UnixNanos,
    },

    /// New tasks (an orchestrator's); `apply` gives them addresses on their networks.
    CreateTasks {
        tasks: Vec<Task>,
    },
    /// New desired states (an orchestrator's): applied only when they move forward
    /// (`ready` -> `running` -> `shutdown` -> `remove`).
    SetDesiredState {
        changes: Vec<DesiredStateChange>,
        at: UnixNanos,
    },
    /// Placements (the scheduler's): applied only to tasks still waiting for a node.
    AssignTasks {
        assignments: Vec<TaskAssignment>,
        at: UnixNanos,
    },
    /// Observed states (agents through the dispatcher; the scheduler's "no suitable node"):
    /// applied only when they move the task forward, or keep its state with a new message.
    UpdateTaskStatus {
        reports: Vec<TaskStatusUpdate>,
    },
    /// Tasks to forget (history beyond the retention limit, tasks of removed services).
    RemoveTasks {
        ids: Vec<String>,
        at: UnixNanos,
    },

    CreateSecret {
        secret: Box<Secret>,
    },
    UpdateSecret {
        expected_version: u64,
        secret: Box<Secret>,
    },
    RemoveSecret {
        id: String,
        at: UnixNanos,
    },

    CreateConfig {
        config: Box<Config>,
    },
    UpdateConfig {
        expected_version: u64,
        config: Box<Config>,
    },
    RemoveConfig {
        id: String,
        at: UnixNanos,
    },

    CreateNetwork {
        network: Box<Network>,
    },
    RemoveNetwork {
        id: String,
        at: UnixNanos,
    },
}
