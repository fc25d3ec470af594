//! What handlers call. Writes are validated (pure, filling the engine's defaults), turned into
//! a [`Command`](crate::store::Command) with IDs and timestamps chosen here, and proposed;
//! reads come straight from the store.
//!
//! [`Control`] also owns this node's swarm lifecycle: inactive, locked, or an active manager
//! ([`Manager`]: the store, Raft and the proposer of one cluster).

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::engine::EngineClient;
use crate::store::local::LocalNode;
use crate::store::{Command, Store};

mod addr;
mod defaults;
pub mod error;
pub mod events;
mod lifecycle;
pub mod logs;
mod names;
pub mod networks;
mod node_description;
pub mod nodes;
pub mod proposer;
pub mod rendered;
pub mod secrets_configs;
mod service_defaults;
mod service_spec;
pub mod services;
pub mod swarm;
pub mod tasks;
mod unsupported;

pub use error::{ControlError, ControlResult};
pub use proposer::Proposer;

/// The name of the cluster database under `--data-root`.
pub const DATABASE_FILE: &str = "swarm.redb";
/// The directory of the Raft log under `--data-root`.
pub const LOG_DIR: &str = "swarm-log";

/// Objects as listed: the stored `Arc`s, serialized as a JSON list without copying them.
pub struct Listed<T>(pub Vec<Arc<T>>);

impl<T: serde::Serialize> serde::Serialize for Listed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|item| item.as_ref()))
    }
}

/// This node's part in a swarm.
#[derive(Clone)]
enum Slot {
    Inactive,
    /// Autolock is on and the manager has not been given its key since it started.
    Locked(Arc<LocalNode>),
    Active(Arc<Manager>),
}

/// The control layer: the swarm lifecycle and the operations on swarm objects.
pub struct Control {
    engine: Arc<EngineClient>,
    clock: SharedClock,
    data_root: PathBuf,
    slot: RwLock<Slot>,
    /// Serializes init, join, leave and unlock.
    lifecycle: tokio::sync::Mutex<()>,
    /// Bumped whenever `slot` changes, for streams that follow the manager (`/events`).
    manager_changes: tokio::sync::watch::Sender<u64>,
    /// Cancelled when shutdown begins: long-lived responses (`/events`) end on it.
    streams_closing: CancellationToken,
}

/// An active manager of one cluster.
pub struct Manager {
    pub local: LocalNode,
    pub store: Arc<Store>,
    raft: crate::raft::Raft,
    proposer: Proposer,
    cancel: CancellationToken,
    workers: tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The JSON of listed objects, kept per object (see [`rendered`]).
    rendered: Rendered,
}

/// One [`RenderCache`](rendered::RenderCache) per kind whose lists get long.
#[derive(Default)]
struct Rendered {
    services: rendered::RenderCache<crate::store::records::ServiceRecord>,
    secrets: rendered::RenderCache<crate::types::secret::Secret>,
    configs: rendered::RenderCache<crate::types::config::Config>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("node_id", &self.local.node_id)
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// Commits one command.
    pub async fn propose(&self, command: Command) -> ControlResult<()> {
        Ok(self.proposer.propose(command).await?)
    }

    pub fn node_id(&self) -> &str {
        &self.local.node_id
    }

    /// A token cancelled when this manager stops: loops bound to it end with it.
    pub fn stopping(&self) -> CancellationToken {
        self.cancel.child_token()
    }

    /// Registers a loop the manager waits for when it stops.
    pub async fn add_worker(&self, worker: tokio::task::JoinHandle<()>) {
        self.workers.lock().await.push(worker);
    }

    /// Whether this manager leads the Raft group now.
    pub fn is_leader(&self) -> bool {
        self.raft.server_metrics().borrow().current_leader == Some(self.local.raft_id)
    }

    /// Waits until this manager gains or loses the lead (never, once Raft has stopped). The
    /// loops that only the leader runs look at everything when it gains it.
    pub async fn leadership_changed(&self) {
        let me = Some(self.local.raft_id);
        let leading = self.is_leader();
        // The server metrics change with the vote and the leader only, not with every write.
        let mut metrics = self.raft.server_metrics();
        if metrics
            .wait_for(|m| (m.current_leader == me) != leading)
            .await
            .is_err()
        {
            std::future::pending::<()>().await;
        }
    }
}

impl Control {
    pub fn engine(&self) -> &Arc<EngineClient> {
        &self.engine
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Now, in nanoseconds since the epoch.
    pub fn now(&self) -> i64 {
        self.clock.now_nanos()
    }

    /// Now, as a wire timestamp (for `CreatedAt`/`UpdatedAt` chosen before proposing).
    pub fn timestamp(&self) -> ControlResult<crate::types::Timestamp> {
        crate::types::Timestamp::from_unix_nanos(i128::from(self.now()))
            .map_err(|e| ControlError::Internal(e.to_string()))
    }

    fn slot(&self) -> Slot {
        self.slot.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_slot(&self, slot: Slot) {
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = slot;
        self.manager_changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The active manager, or the engine's 503 for swarm endpoints.
    pub fn manager(&self) -> ControlResult<Arc<Manager>> {
        match self.slot() {
            Slot::Active(manager) => Ok(manager),
            Slot::Locked(_) => Err(ControlError::Locked),
            Slot::Inactive => Err(ControlError::NotManager),
        }
    }

    /// The `Swarm` header of `/_ping`.
    pub fn swarm_header(&self) -> &'static str {
        match self.slot() {
            Slot::Inactive => "inactive",
            Slot::Locked(_) => "locked",
            Slot::Active(_) => "active/manager",
        }
    }

    fn database_path(&self) -> PathBuf {
        self.data_root.join(DATABASE_FILE)
    }

    /// Where the Raft log's segments live.
    fn wal_path(&self) -> PathBuf {
        self.data_root.join(LOG_DIR)
    }
}
