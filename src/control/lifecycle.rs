//! Starting, stopping and resetting this node's manager.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use redb::Database;
use tokio_util::sync::CancellationToken;

use super::{Control, ControlError, ControlResult, Manager, Proposer, Rendered, Slot};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::engine::EngineClient;
use crate::store::local::{self, LocalNode};
use crate::store::Store;

/// redb's page cache: the state lives in memory already, so keep this small.
const DB_CACHE_BYTES: usize = 8 << 20;
/// How long a new manager may take to become leader.
const LEADER_TIMEOUT: Duration = Duration::from_secs(15);

impl Control {
    /// Restores whatever this node was before it stopped: nothing, a locked manager, or an
    /// active one.
    pub async fn start(
        config: &Config,
        engine: Arc<EngineClient>,
        clock: SharedClock,
    ) -> ControlResult<Arc<Self>> {
        std::fs::create_dir_all(&config.data_root).map_err(|e| {
            ControlError::Internal(format!(
                "cannot create data root {}: {e}",
                config.data_root.display()
            ))
        })?;
        let control = Arc::new(Control {
            engine,
            clock,
            data_root: config.data_root.clone(),
            slot: RwLock::new(Slot::Inactive),
            lifecycle: tokio::sync::Mutex::new(()),
            manager_changes: tokio::sync::watch::Sender::new(0),
            streams_closing: CancellationToken::new(),
        });
        let path = control.database_path();
        if !path.exists() {
            return Ok(control);
        }
        let db = open_database(&path)?;
        let local = local::load(&db).map_err(|e| ControlError::Internal(e.to_string()))?;
        let Some(local) = local else {
            // An init that never finished: nothing of it was acknowledged.
            drop(db);
            control.erase_state()?;
            return Ok(control);
        };
        if local.unlock_key_digest.is_some() {
            tracing::info!(node.id = %local.node_id, "swarm is locked: waiting for `docker swarm unlock`");
            control.set_slot(Slot::Locked(Arc::new(local)));
            return Ok(control);
        }
        let manager = control.start_manager(db, local, false).await?;
        control.set_slot(Slot::Active(manager.clone()));
        // Hostname, resources and engine version may have changed while shoal was down.
        let refresher = control.clone();
        let refreshed = manager.clone();
        let worker = tokio::spawn(async move {
            if let Err(error) = refresher.refresh_local_node(&refreshed).await {
                tracing::warn!(%error, "could not refresh this node's description");
            }
        });
        manager.workers.lock().await.push(worker);
        Ok(control)
    }

    /// Stops the manager, if any (daemon shutdown; state is kept).
    pub async fn shutdown(&self) {
        self.end_streams();
        let _guard = self.lifecycle.lock().await;
        if let Slot::Active(manager) = self.slot() {
            manager.stop().await;
        }
    }

    /// Opens the database and starts Raft, the proposer and the manager's loops.
    pub(super) async fn start_manager(
        &self,
        db: Arc<Database>,
        local: LocalNode,
        bootstrap: bool,
    ) -> ControlResult<Arc<Manager>> {
        let started = std::time::Instant::now();
        let (store, applied_meta) =
            Store::open(db.clone()).map_err(|e| ControlError::Internal(e.to_string()))?;
        let store = Arc::new(store);
        tracing::info!(
            objects = store.read().object_count(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "cluster state loaded"
        );
        let raft = crate::raft::start(
            db,
            &self.wal_path(),
            store.clone(),
            local.raft_id,
            local.manager_addr(),
            bootstrap,
            applied_meta,
        )
        .await
        .map_err(|e| ControlError::Internal(e.to_string()))?;
        let cancel = CancellationToken::new();
        let raft_runtime =
            crate::raft::runtime().map_err(|e| ControlError::Internal(e.to_string()))?;
        let (proposer, proposer_worker) =
            Proposer::start(raft.clone(), cancel.clone(), &raft_runtime);
        let checkpointer = tokio::spawn(crate::raft::state_machine::checkpoint_when_idle(
            store.clone(),
            cancel.clone(),
        ));
        let manager = Arc::new(Manager {
            local,
            store,
            raft,
            proposer,
            cancel,
            workers: tokio::sync::Mutex::new(vec![proposer_worker, checkpointer]),
            rendered: Rendered::default(),
        });
        if !bootstrap {
            if let Err(error) = manager.wait_until_replayed().await {
                tracing::warn!(%error, "serving before the log is replayed: reads may miss recent writes");
            }
        }
        Ok(manager)
    }

    /// Deletes this node's swarm state from disk.
    pub(super) fn erase_state(&self) -> ControlResult<()> {
        let failed = |e: std::io::Error| {
            ControlError::Internal(format!("cannot remove the swarm state: {e}"))
        };
        match std::fs::remove_dir_all(self.wal_path()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(failed(e)),
        }
        match std::fs::remove_file(self.database_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed(e)),
        }
    }

    pub(super) fn open_new_database(&self) -> ControlResult<Arc<Database>> {
        self.erase_state()?;
        open_database(&self.database_path())
    }
}

impl Manager {
    /// Waits until this manager leads (a new or restarted single-manager cluster elects
    /// itself at once).
    pub(super) async fn wait_for_leadership(&self) -> ControlResult<()> {
        let id = self.local.raft_id;
        self.raft
            .wait(Some(LEADER_TIMEOUT))
            .current_leader(id, "become leader")
            .await
            .map(|_| ())
            .map_err(|e| ControlError::Unavailable(format!("no leader was elected: {e}")))
    }

    /// Waits until every entry the log held at start is applied, so that the first reads
    /// after a restart see every acknowledged write: the store opens at its last checkpoint,
    /// and the entries after it are applied once this manager leads again and commits them.
    async fn wait_until_replayed(&self) -> ControlResult<()> {
        self.wait_for_leadership().await?;
        // Read after leadership: until the core first reports, the metrics are blank.
        let last_log = self.raft.metrics().borrow().last_log_index;
        self.raft
            .wait(Some(LEADER_TIMEOUT))
            .applied_index_at_least(last_log, "apply the log's entries")
            .await
            .map(|_| ())
            .map_err(|e| ControlError::Unavailable(format!("the log was not replayed: {e}")))
    }

    /// Stops the loops and Raft. The database closes when the last handle is dropped.
    pub(super) async fn stop(&self) {
        self.cancel.cancel();
        let workers = std::mem::take(&mut *self.workers.lock().await);
        for worker in workers {
            let _ = worker.await;
        }
        if let Err(error) = self.raft.shutdown().await {
            tracing::warn!(%error, "raft did not shut down cleanly");
        }
        // What was applied since the last checkpoint, so the next start replays nothing.
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.sync()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not write the state on shutdown"),
            Err(error) => tracing::warn!(%error, "could not write the state on shutdown"),
        }
    }
}

/// Opens the database of an existing cluster.
pub(super) fn open_existing(path: &std::path::Path) -> ControlResult<Arc<Database>> {
    open_database(path)
}

fn open_database(path: &std::path::Path) -> ControlResult<Arc<Database>> {
    Database::builder()
        .set_cache_size(DB_CACHE_BYTES)
        .create(path)
        .map(Arc::new)
        .map_err(|e| ControlError::Internal(format!("cannot open {}: {e}", path.display())))
}
