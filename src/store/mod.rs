//! The replicated state: the one `Command` enum, the deterministic `apply`, the in-memory
//! [`ClusterState`] that reads are served from, its redb tables, and the change feed.
//!
//! Depends on `types` only. The raft layer drives it: it hands committed batches to
//! [`Store::apply_batch`], persists with [`Store::persist`], and publishes.

use std::ops::Deref;
use std::sync::{Arc, RwLock, RwLockReadGuard};

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
pub use command::{Batch, BatchResult, Command};
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
}

/// The state and the raft layer's metadata about it (last applied entry, membership), kept
/// under one lock so a snapshot sees both at the same point.
struct Inner {
    state: ClusterState,
    meta: Vec<u8>,
}

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
        let (state, meta) = tables::load(&db)?;
        let inner = Inner {
            state,
            meta: meta.clone().unwrap_or_default(),
        };
        Ok((
            Self {
                inner: RwLock::new(inner),
                db,
                feed: ChangeFeed::new(),
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
    /// failed ones change nothing.
    pub fn apply_batch(
        &self,
        index: u64,
        batch: &Batch,
        meta: Vec<u8>,
    ) -> (BatchResult, Vec<Change>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.meta = meta;
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
        (results, changes)
    }

    /// Records new raft metadata for entries that change no object (blank, membership).
    pub fn set_meta(&self, meta: Vec<u8>) {
        self.inner.write().unwrap_or_else(|e| e.into_inner()).meta = meta;
    }

    /// Writes the objects named by `changes` as they are now, and the raft metadata (no
    /// fsync; see `tables`).
    pub fn persist(&self, changes: &[Change]) -> Result<(), tables::TableError> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        tables::write_changes(&self.db, &inner.state, changes, &inner.meta)
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
        let installed: ClusterState =
            codec::decode(bytes).map_err(|source| tables::TableError::Codec {
                kind: "snapshot".into(),
                id: String::new(),
                source,
            })?;
        tables::replace_all(&self.db, &installed, meta)?;
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = Inner {
            state: installed,
            meta: meta.to_vec(),
        };
        Ok(())
    }

    /// Saves what this node remembers about itself (durably).
    pub fn save_local(&self, node: &local::LocalNode) -> Result<(), tables::TableError> {
        local::save(&self.db, node)
    }

    /// Makes all earlier writes durable.
    pub fn sync(&self) -> Result<(), tables::TableError> {
        tables::sync(&self.db)
    }
}
