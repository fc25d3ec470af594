//! The openraft state machine over [`Store`]: apply committed batches, persist what they
//! changed, publish it, and build or install snapshots.

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, Entry, EntryPayload, ErrorSubject, ErrorVerb, LogId, OptionalSend,
    RaftSnapshotBuilder, SnapshotMeta, StorageError, StorageIOError, StoredMembership,
};
use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

use super::log_store::blocking;
use super::{NodeId, TypeConfig};
use crate::store::{codec, BatchResult, Change, Store, CHECKPOINT_QUIET};

/// The current snapshot: its meta and its data.
const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_snapshot");
const SNAPSHOT_META: &str = "meta";
const SNAPSHOT_DATA: &str = "data";

/// What the state machine remembers besides the objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Applied {
    last_applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, BasicNode>,
}

/// The state machine handed to openraft. Clones share the store.
#[derive(Clone)]
pub struct StateMachine {
    db: Arc<Database>,
    store: Arc<Store>,
    applied: Applied,
    /// A checkpoint is being written in the background.
    checkpointing: Arc<AtomicBool>,
}

impl StateMachine {
    /// Wraps `store`, whose last persisted raft metadata is `applied_meta`.
    pub fn new(
        db: Arc<Database>,
        store: Arc<Store>,
        applied_meta: Option<Vec<u8>>,
    ) -> Result<Self, StorageError<NodeId>> {
        let applied = match applied_meta {
            Some(bytes) => codec::decode(&bytes).map_err(|e| sm_error(ErrorVerb::Read, &e))?,
            None => Applied::default(),
        };
        Ok(Self {
            db,
            store,
            applied,
            checkpointing: Arc::new(AtomicBool::new(false)),
        })
    }

    fn save_snapshot(&self, snapshot: &StoredSnapshot) -> Result<(), StorageError<NodeId>> {
        let meta = codec::encode(&snapshot.meta).map_err(|e| snap_error(ErrorVerb::Write, &e))?;
        let txn = self
            .db
            .begin_write()
            .map_err(|e| snap_error(ErrorVerb::Write, &e))?;
        {
            let mut table = txn
                .open_table(SNAPSHOT)
                .map_err(|e| snap_error(ErrorVerb::Write, &e))?;
            table
                .insert(SNAPSHOT_META, meta.as_slice())
                .map_err(|e| snap_error(ErrorVerb::Write, &e))?;
            table
                .insert(SNAPSHOT_DATA, snapshot.data.as_slice())
                .map_err(|e| snap_error(ErrorVerb::Write, &e))?;
        }
        txn.commit().map_err(|e| snap_error(ErrorVerb::Write, &e))
    }

    fn load_snapshot(&self) -> Result<Option<StoredSnapshot>, StorageError<NodeId>> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| snap_error(ErrorVerb::Read, &e))?;
        let table = match txn.open_table(SNAPSHOT) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(snap_error(ErrorVerb::Read, &e)),
        };
        let meta = table
            .get(SNAPSHOT_META)
            .map_err(|e| snap_error(ErrorVerb::Read, &e))?;
        let data = table
            .get(SNAPSHOT_DATA)
            .map_err(|e| snap_error(ErrorVerb::Read, &e))?;
        let (Some(meta), Some(data)) = (meta, data) else {
            return Ok(None);
        };
        let meta = codec::decode(meta.value()).map_err(|e| snap_error(ErrorVerb::Read, &e))?;
        Ok(Some(StoredSnapshot {
            meta,
            data: data.value().to_vec(),
        }))
    }

    /// While writes keep coming, every few thousand entries, writes the changed objects to the
    /// tables (without fsync), on the blocking pool: applies go on meanwhile. A failed
    /// checkpoint keeps its objects dirty for the next one; the durable one before a snapshot
    /// reports failures. Between bursts, [`checkpoint_when_idle`] writes them.
    fn checkpoint_if_due(&self) {
        if !self.store.checkpoint_due() || self.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.store.clone();
        let checkpointing = self.checkpointing.clone();
        let write = move || {
            if let Err(error) = store.checkpoint(false) {
                tracing::warn!(%error, "checkpoint of the cluster state failed; will retry");
            }
            checkpointing.store(false, Ordering::Release);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(write)),
            Err(_) => write(),
        }
    }
}

/// How long the idle loop waits after a failed checkpoint.
const CHECKPOINT_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Writes what was applied since the last checkpoint once applies pause (see
/// [`Store::idle_checkpoint_due`]), until `cancel`: after a crash in a quiet moment, nothing
/// is replayed. Asleep while nothing is applied.
pub async fn checkpoint_when_idle(store: Arc<Store>, cancel: tokio_util::sync::CancellationToken) {
    let mut applied = store.feed().applied();
    loop {
        loop {
            // An apply after this wakes the wait below, so none is left unwritten.
            applied.borrow_and_update();
            if store.unwritten_entries() == 0 {
                break;
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(CHECKPOINT_QUIET) => {}
            }
            if !store.idle_checkpoint_due(CHECKPOINT_QUIET) {
                continue;
            }
            let writer = store.clone();
            let error = match tokio::task::spawn_blocking(move || writer.checkpoint(false)).await {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => error.to_string(),
                Err(error) => error.to_string(),
            };
            // The objects stay dirty; a full or failing disk is not retried ten times a second.
            tracing::warn!(%error, "checkpoint of the cluster state failed; will retry");
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(CHECKPOINT_RETRY) => {}
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = applied.changed() => if changed.is_err() { return },
        }
    }
}

struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, BasicNode>,
    data: Vec<u8>,
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        // State and metadata are read under one lock: the apply loop may move on meanwhile.
        let (data, meta) = self
            .store
            .snapshot()
            .map_err(|e| snap_error(ErrorVerb::Write, &e))?;
        let applied: Applied = if meta.is_empty() {
            Applied::default()
        } else {
            codec::decode(&meta).map_err(|e| snap_error(ErrorVerb::Write, &e))?
        };
        let last = applied.last_applied;
        let snapshot_id = match last {
            Some(log_id) => format!("{}-{}-{}", log_id.leader_id, log_id.index, data.len()),
            None => format!("empty-{}", data.len()),
        };
        let meta = SnapshotMeta {
            last_log_id: last,
            last_membership: applied.membership,
            snapshot_id,
        };
        let stored = StoredSnapshot { meta, data };
        let this = self.clone();
        let stored = blocking(move || -> Result<StoredSnapshot, StorageError<NodeId>> {
            // The snapshot lets openraft purge the log, so what it covers must be on disk.
            this.store
                .sync()
                .map_err(|e| sm_error(ErrorVerb::Write, &e))?;
            this.save_snapshot(&stored)?;
            Ok(stored)
        })
        .await
        .map_err(|e| snap_error(ErrorVerb::Write, &e))??;
        Ok(Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(stored.data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>), StorageError<NodeId>>
    {
        Ok((self.applied.last_applied, self.applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<BatchResult>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut results = Vec::new();
        let mut changes: Vec<Change> = Vec::new();
        for entry in entries {
            self.applied.last_applied = Some(entry.log_id);
            if let EntryPayload::Membership(membership) = &entry.payload {
                self.applied.membership =
                    StoredMembership::new(Some(entry.log_id), membership.clone());
            }
            let meta = codec::encode(&self.applied).map_err(|e| sm_error(ErrorVerb::Write, &e))?;
            match entry.payload {
                EntryPayload::Normal(batch) => {
                    let (result, mut changed) =
                        self.store.apply_batch(entry.log_id.index, batch, meta);
                    changes.append(&mut changed);
                    results.push(result);
                }
                EntryPayload::Blank | EntryPayload::Membership(_) => {
                    self.store.set_meta(meta);
                    results.push(Vec::new());
                }
            }
        }
        let Some(last) = self.applied.last_applied else {
            return Ok(results);
        };
        self.checkpoint_if_due();
        self.store.publish(last.index, changes);
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let applied = Applied {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
        };
        let applied_bytes =
            codec::encode(&applied).map_err(|e| snap_error(ErrorVerb::Write, &e))?;
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data: snapshot.into_inner(),
        };
        let this = self.clone();
        blocking(move || -> Result<(), StorageError<NodeId>> {
            this.store
                .install(&stored.data, &applied_bytes)
                .map_err(|e| snap_error(ErrorVerb::Write, &e))?;
            this.save_snapshot(&stored)
        })
        .await
        .map_err(|e| snap_error(ErrorVerb::Write, &e))??;
        self.applied = applied;
        let index = self.applied.last_applied.map(|l| l.index).unwrap_or(0);
        self.store.publish(index, Vec::new());
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        Ok(self.load_snapshot()?.map(|stored| Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(stored.data)),
        }))
    }
}

fn sm_error(verb: ErrorVerb, e: &dyn std::error::Error) -> StorageError<NodeId> {
    StorageIOError::new(ErrorSubject::StateMachine, verb, AnyError::error(e)).into()
}

fn snap_error(verb: ErrorVerb, e: &dyn std::error::Error) -> StorageError<NodeId> {
    StorageIOError::new(ErrorSubject::Snapshot(None), verb, AnyError::error(e)).into()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use super::checkpoint_when_idle;
    use crate::store::{Command, Store};
    use crate::types::secret::{Secret, SecretSpec};

    #[tokio::test]
    async fn the_idle_loop_writes_the_tables_once_applies_pause() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(redb::Database::create(dir.path().join("t.redb")).expect("db"));
        let (store, _) = Store::open(db).expect("store");
        let store = Arc::new(store);
        let cancel = CancellationToken::new();
        let idle = tokio::spawn(checkpoint_when_idle(store.clone(), cancel.clone()));
        let secret = Command::CreateSecret {
            secret: Box::new(Secret {
                id: "s1".into(),
                spec: SecretSpec {
                    name: "one".into(),
                    ..SecretSpec::default()
                },
                ..Secret::default()
            }),
        };
        // Applied before the loop first runs, and again once it sleeps.
        for index in 1..=2 {
            let (results, changes) = store.apply_batch(index, vec![secret.clone()], vec![]);
            assert_eq!(results.len(), 1);
            store.publish(index, changes);
            assert_eq!(store.unwritten_entries(), 1);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while store.unwritten_entries() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(
                store.unwritten_entries(),
                0,
                "entry {index} not written after the pause"
            );
        }
        cancel.cancel();
        idle.await.expect("the loop ends when cancelled");
    }
}
