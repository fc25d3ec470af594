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

    /// Create or replace tasks (orchestrator, scheduler, agent reports); no version check:
    /// only the leader's loops write tasks, one writer per field.
    PutTasks {
        tasks: Vec<Task>,
    },
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
