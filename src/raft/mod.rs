//! openraft glue, and nothing else: the type configuration, the redb log store, the state
//! machine adapter over `store`, and the network between managers.
//!
//! A Raft entry carries a [`Batch`](crate::store::Batch) of commands: the proposer groups
//! concurrent writes so one fsync commits many of them.

// openraft's storage traits return its `StorageError`, which is large; boxing it is not ours
// to choose.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::Arc;

use openraft::{BasicNode, Config, SnapshotPolicy};
use redb::Database;

use crate::store::{Batch, BatchResult, Store};

pub mod log_store;
pub mod network;
pub mod state_machine;
pub mod wal;

pub use log_store::LogStore;
pub use state_machine::StateMachine;

pub type NodeId = u64;

openraft::declare_raft_types!(
    /// shoal's Raft types: entries carry command batches, answers carry their results.
    pub TypeConfig:
        D = Batch,
        R = BatchResult,
        NodeId = NodeId,
        Node = BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type RaftError<E = openraft::error::Infallible> = openraft::error::RaftError<NodeId, E>;
pub type ClientWriteError = openraft::error::ClientWriteError<NodeId, BasicNode>;

/// The engine's default snapshot interval (`docker info`: "Snapshot Interval: 10000").
pub const SNAPSHOT_INTERVAL: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("raft configuration: {0}")]
    Config(String),
    #[error("raft storage: {0}")]
    Storage(String),
    #[error("raft: {0}")]
    Raft(String),
}

/// The thread every Raft node of this process runs on, with its own single-threaded runtime;
/// the proposer runs there too.
///
/// The Raft core appends each entry and waits for its fsync before it takes the next; on its
/// own thread that wait blocks nothing else, so the API keeps reading the next writes (they
/// make the next batch) without handing the runtime's worker to another thread for every
/// sync. Measured on two cores: four concurrent service-create clients +20-30 %, sequential
/// unchanged.
pub fn runtime() -> Result<tokio::runtime::Handle, StartError> {
    static HANDLE: std::sync::Mutex<Option<tokio::runtime::Handle>> = std::sync::Mutex::new(None);
    let mut handle = HANDLE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(handle) = handle.as_ref() {
        return Ok(handle.clone());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("shoal-raft-io")
        .build()
        .map_err(|e| StartError::Raft(format!("cannot start the raft runtime: {e}")))?;
    let started = runtime.handle().clone();
    std::thread::Builder::new()
        .name("shoal-raft".into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .map_err(|e| StartError::Raft(format!("cannot start the raft thread: {e}")))?;
    *handle = Some(started.clone());
    Ok(started)
}

/// Starts this manager's Raft node over `db` and `store`. With `bootstrap`, it initialises a
/// new single-voter cluster (`swarm init`).
pub async fn start(
    db: Arc<Database>,
    wal_dir: &std::path::Path,
    store: Arc<Store>,
    raft_id: NodeId,
    addr: String,
    bootstrap: bool,
    applied_meta: Option<Vec<u8>>,
) -> Result<Raft, StartError> {
    let config = Config {
        cluster_name: "shoal".into(),
        heartbeat_interval: 250,
        election_timeout_min: 1_000,
        election_timeout_max: 2_000,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(SNAPSHOT_INTERVAL),
        max_in_snapshot_log_to_keep: 500,
        ..Default::default()
    };
    let config = Arc::new(
        config
            .validate()
            .map_err(|e| StartError::Config(e.to_string()))?,
    );
    let log_store =
        LogStore::open(db.clone(), wal_dir).map_err(|e| StartError::Storage(e.to_string()))?;
    let state_machine = StateMachine::new(db, store, applied_meta)
        .map_err(|e| StartError::Storage(e.to_string()))?;
    // Raft::new spawns the core and its state-machine worker on the runtime it runs in.
    let raft = runtime()?
        .spawn(Raft::new(
            raft_id,
            config,
            network::Network,
            log_store,
            state_machine,
        ))
        .await
        .map_err(|e| StartError::Raft(e.to_string()))?
        .map_err(|e| StartError::Raft(e.to_string()))?;
    if bootstrap {
        let members = BTreeMap::from([(raft_id, BasicNode { addr })]);
        raft.initialize(members)
            .await
            .map_err(|e| StartError::Raft(e.to_string()))?;
    }
    Ok(raft)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use openraft::testing::{StoreBuilder, Suite};
    use openraft::StorageError;

    use super::{LogStore, NodeId, StateMachine, TypeConfig};
    use crate::store::Store;

    /// Builds a fresh log store and state machine over a new redb file.
    struct RedbBuilder;

    impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for RedbBuilder {
        async fn build(
            &self,
        ) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError<NodeId>> {
            let dir = tempfile::tempdir().expect("temp dir");
            let db = Arc::new(redb::Database::create(dir.path().join("t.redb")).expect("db"));
            let log_store = LogStore::open(db.clone(), &dir.path().join("log"))?;
            let (store, meta) = Store::open(db.clone()).expect("store");
            let state_machine = StateMachine::new(db, Arc::new(store), meta)?;
            Ok((dir, log_store, state_machine))
        }
    }

    /// openraft's own storage suite, against the redb log store and the state machine.
    #[test]
    fn passes_openraft_storage_suite() {
        Suite::test_all(RedbBuilder).expect("storage suite");
    }
}
