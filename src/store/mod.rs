//! The replicated state: the one `Command` enum, the deterministic `apply`, the in-memory
//! [`ClusterState`] that reads are served from, its redb tables, and the change feed.
//!
//! Depends on `types` only. The raft layer drives it: it hands committed batches to
//! [`Store::apply_batch`], persists with [`Store::persist`], and publishes.

use std::ops::Deref;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use redb::Database;

pub mod apply;
pub mod codec;
pub mod command;
pub mod endpoint;
pub mod error;
pub mod ipam;
pub mod local;
pub mod object;
pub mod records;
pub mod state;
pub mod tables;
pub mod watch;

pub use apply::{Action, Change};
pub use command::{
    Batch, BatchResult, Command, DesiredStateChange, TaskAssignment, TaskStatusUpdate,
};
pub use error::StoreError;
pub use object::{Kind, StoredObject};
pub use records::ServiceRecord;
pub use state::{ClusterRecord, ClusterState, LookupError, RootCa};
pub use watch::ChangeFeed;

/// The in-memory state, its tables, and the feed of its changes.
pub struct Store {
    inner: RwLock<Inner>,
    db: Arc<Database>,
    feed: ChangeFeed,
    /// Held while a checkpoint or a snapshot install writes the tables.
    checkpointing: Mutex<()>,
}

/// The state and the raft layer's metadata about it (last applied entry, membership), kept
/// under one lock so a snapshot sees both at the same point; and what changed since the
/// state was last written to its tables.
struct Inner {
    state: ClusterState,
    meta: Vec<u8>,
    /// Objects changed since the last checkpoint.
    dirty: std::collections::BTreeSet<(Kind, String)>,
    /// Log entries applied since the last checkpoint.
    entries_since_checkpoint: u64,
    /// When the last entry was applied.
    last_apply: Instant,
}

/// How many applied log entries may wait before the state is written to its tables while
/// writes keep coming. After a crash, openraft re-applies at most this many entries from the
/// (durable) log (measured: ~2,000 entries added up to ~80 ms to a restart). Writing the
/// tables apart from the log keeps every write to one small durable commit, the log entry;
/// writing them rarely during a burst keeps their cost (encoding and B-tree work, ~7 % of
/// shoal's CPU in a create burst when it was every 256 entries) off the writes, and an object
/// created and removed within the window is never written at all.
const CHECKPOINT_LIMIT: u64 = 4096;

/// Below [`CHECKPOINT_LIMIT`], the tables are written once applies have paused this long.
pub const CHECKPOINT_QUIET: Duration = Duration::from_millis(100);

/// A read view of the state; applies wait while it is held.
pub struct StateRef<'a>(RwLockReadGuard<'a, Inner>);

impl Deref for StateRef<'_> {
    type Target = ClusterState;

    fn deref(&self) -> &ClusterState {
        &self.0.state
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Loads the state from `db`; returns the store and the raft layer's metadata bytes.
    pub fn open(db: Arc<Database>) -> Result<(Self, Option<Vec<u8>>), tables::TableError> {
        let (mut state, meta) = tables::load(&db)?;
        state.rebuild_names();
        let inner = Inner {
            state,
            meta: meta.clone().unwrap_or_default(),
            dirty: Default::default(),
            entries_since_checkpoint: 0,
            last_apply: Instant::now(),
        };
        Ok((
            Self {
                inner: RwLock::new(inner),
                db,
                feed: ChangeFeed::new(),
                checkpointing: Mutex::new(()),
            },
            meta,
        ))
    }

    /// A read view of the state. Hold it briefly: applies wait for it.
    pub fn read(&self) -> StateRef<'_> {
        StateRef(self.inner.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Applies a committed batch at log `index` to memory, and records `meta` (the raft
    /// layer's description of the state after it). Each command succeeds or fails on its own;
    /// failed ones change nothing. The batch is consumed: its objects move into the state
    /// instead of being copied (on the Raft thread, where every microsecond of an entry is
    /// paid by every concurrent writer).
    pub fn apply_batch(
        &self,
        index: u64,
        batch: Batch,
        meta: Vec<u8>,
    ) -> (BatchResult, Vec<Change>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.meta = meta;
        inner.entries_since_checkpoint += 1;
        inner.last_apply = Instant::now();
        let mut results = Vec::with_capacity(batch.len());
        let mut changes = Vec::new();
        for command in batch {
            match apply::apply(&mut inner.state, index, command) {
                Ok(mut applied) => {
                    changes.append(&mut applied);
                    results.push(Ok(()));
                }
                Err(error) => results.push(Err(error)),
            }
        }
        for change in &changes {
            inner.dirty.insert((change.kind, change.id.clone()));
        }
        (results, changes)
    }

    /// Records new raft metadata for entries that change no object (blank, membership).
    pub fn set_meta(&self, meta: Vec<u8>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.meta = meta;
        inner.entries_since_checkpoint += 1;
        inner.last_apply = Instant::now();
    }

    /// Writes have kept coming for [`CHECKPOINT_LIMIT`] entries: write the tables now.
    pub fn checkpoint_due(&self) -> bool {
        self.unwritten_entries() >= CHECKPOINT_LIMIT
    }

    /// Log entries applied since the last checkpoint.
    pub fn unwritten_entries(&self) -> u64 {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .entries_since_checkpoint
    }

    /// Something was applied since the last checkpoint, and nothing for `quiet`.
    pub fn idle_checkpoint_due(&self, quiet: Duration) -> bool {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.entries_since_checkpoint > 0 && inner.last_apply.elapsed() >= quiet
    }

    /// Writes every object changed since the last checkpoint, and the raft metadata. The
    /// objects are taken under the state's lock and encoded and written after it is released,
    /// so reads and applies do not wait for the disk; checkpoints themselves run one at a time,
    /// so an older one never lands after a newer one.
    pub fn checkpoint(&self, durable: bool) -> Result<(), tables::TableError> {
        let _one_at_a_time = self.checkpointing.lock().unwrap_or_else(|e| e.into_inner());
        let (dirty, objects, meta) = {
            let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
            if inner.entries_since_checkpoint == 0 && inner.dirty.is_empty() && !durable {
                return Ok(());
            }
            let dirty = std::mem::take(&mut inner.dirty);
            inner.entries_since_checkpoint = 0;
            let keys = dirty.iter().map(|(kind, id)| (*kind, id.as_str()));
            let objects = tables::dirty_objects(&inner.state, keys);
            (dirty, objects, inner.meta.clone())
        };
        let written = tables::write_objects(&self.db, objects, &meta, durable);
        if written.is_err() {
            // Keep them dirty: the next checkpoint tries again.
            let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
            inner.dirty.extend(dirty);
            inner.entries_since_checkpoint = inner.entries_since_checkpoint.max(1);
        }
        written
    }

    /// Publishes applied changes to the feed.
    pub fn publish(&self, index: u64, changes: Vec<Change>) {
        self.feed.publish(index, changes);
    }

    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// The whole state as bytes, for a Raft snapshot, and the raft metadata at that point.
    pub fn snapshot(&self) -> Result<(Vec<u8>, Vec<u8>), codec::CodecError> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        Ok((codec::encode(&inner.state)?, inner.meta.clone()))
    }

    /// Replaces the whole state with a snapshot's (durably).
    pub fn install(&self, bytes: &[u8], meta: &[u8]) -> Result<(), tables::TableError> {
        let mut installed: ClusterState =
            codec::decode(bytes).map_err(|source| tables::TableError::Codec {
                kind: "snapshot".into(),
                id: String::new(),
                source,
            })?;
        installed.rebuild_names();
        let _one_at_a_time = self.checkpointing.lock().unwrap_or_else(|e| e.into_inner());
        tables::replace_all(&self.db, &installed, meta)?;
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = Inner {
            state: installed,
            meta: meta.to_vec(),
            dirty: Default::default(),
            entries_since_checkpoint: 0,
            last_apply: Instant::now(),
        };
        Ok(())
    }

    /// Saves what this node remembers about itself (durably).
    pub fn save_local(&self, node: &local::LocalNode) -> Result<(), tables::TableError> {
        local::save(&self.db, node)
    }

    /// Writes everything applied so far, durably (snapshots, shutdown).
    pub fn sync(&self) -> Result<(), tables::TableError> {
        self.checkpoint(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::secret::{Secret, SecretSpec};

    fn create_secret(id: &str) -> Command {
        Command::CreateSecret {
            secret: Box::new(Secret {
                id: id.into(),
                spec: SecretSpec {
                    name: format!("name-{id}"),
                    ..SecretSpec::default()
                },
                ..Secret::default()
            }),
        }
    }

    #[test]
    fn a_checkpoint_writes_what_changed_and_a_reopened_store_reads_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.redb");
        let db = Arc::new(Database::create(&path).expect("db"));
        let (store, _) = Store::open(db.clone()).expect("open");
        let mut index = 0;
        for i in 0..CHECKPOINT_LIMIT {
            index += 1;
            let (results, _) =
                store.apply_batch(index, vec![create_secret(&format!("s{i}"))], vec![]);
            assert!(results.iter().all(Result::is_ok));
        }
        assert!(store.checkpoint_due());
        index += 1;
        let remove = Command::RemoveSecret {
            id: "s0".into(),
            at: 1,
        };
        let (results, _) = store.apply_batch(index, vec![remove], b"meta".to_vec());
        assert!(results.iter().all(Result::is_ok));
        store.checkpoint(false).expect("checkpoint");
        assert!(!store.checkpoint_due());
        drop(store);
        drop(db);

        let db = Arc::new(Database::create(&path).expect("reopen"));
        let (reopened, meta) = Store::open(db).expect("open again");
        assert_eq!(meta.as_deref(), Some(&b"meta"[..]));
        let state = reopened.read();
        assert_eq!(state.secrets.len(), CHECKPOINT_LIMIT as usize - 1);
        assert!(!state.secrets.contains_key("s0"));
        assert!(state.secrets.contains_key("s1"));
    }

    #[test]
    fn the_tables_are_written_once_applies_pause() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(Database::create(dir.path().join("state.redb")).expect("db"));
        let (store, _) = Store::open(db).expect("open");
        assert!(
            !store.idle_checkpoint_due(Duration::ZERO),
            "nothing applied yet"
        );
        let (results, _) = store.apply_batch(1, vec![create_secret("s1")], vec![]);
        assert!(results.iter().all(Result::is_ok));
        assert!(!store.checkpoint_due(), "one entry is far below the limit");
        assert!(!store.idle_checkpoint_due(Duration::from_secs(3600)));
        assert!(store.idle_checkpoint_due(Duration::ZERO));
        store.checkpoint(false).expect("checkpoint");
        assert!(
            !store.idle_checkpoint_due(Duration::ZERO),
            "written already"
        );
    }
}
