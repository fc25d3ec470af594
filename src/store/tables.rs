//! The state machine's redb tables: every replicated object under (kind, id), and the
//! state machine's own metadata (last applied log id, membership) as opaque bytes from `raft`.
//!
//! Applies are written without an fsync: the Raft log is the durable record, and after a crash
//! openraft re-applies the entries after the last persisted `last_applied`. Snapshots and
//! installs are written durably, so log entries are only purged once the state they built is
//! on disk.

use std::sync::Arc;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use super::codec::{self, CodecError};
use super::object::{Kind, StoredObject};
use super::records::ServiceRecord;
use super::state::{ClusterRecord, ClusterState};
use crate::types::config::Config;
use crate::types::network::Network;
use crate::types::node::Node;
use crate::types::secret::Secret;
use crate::types::task::Task;

const OBJECTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("objects");
const SM_META: TableDefinition<&str, &[u8]> = TableDefinition::new("state_machine");
const APPLIED: &str = "applied";
const CLUSTER_ID: &str = "cluster";

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("database: {0}")]
    Db(String),
    #[error("stored {kind} {id}: {source}")]
    Codec {
        kind: String,
        id: String,
        source: CodecError,
    },
}

fn db<E: std::fmt::Display>(e: E) -> TableError {
    TableError::Db(e.to_string())
}

/// Reads every object and the metadata the raft layer stored with the last apply.
pub fn load(db_handle: &Database) -> Result<(ClusterState, Option<Vec<u8>>), TableError> {
    let txn = db_handle.begin_read().map_err(db)?;
    let mut state = ClusterState::default();
    let objects = match txn.open_table(OBJECTS) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok((state, None)),
        Err(e) => return Err(db(e)),
    };
    for item in objects.iter().map_err(db)? {
        let (key, value) = item.map_err(db)?;
        let (kind, id) = key.value();
        let bytes = value.value();
        let codec_error = |source| TableError::Codec {
            kind: kind.to_string(),
            id: id.to_string(),
            source,
        };
        match kind {
            "cluster" => {
                let record: ClusterRecord = codec::decode(bytes).map_err(codec_error)?;
                state.cluster = Some(Arc::new(record));
            }
            "node" => insert::<Node>(&mut state, bytes).map_err(codec_error)?,
            "service" => insert::<ServiceRecord>(&mut state, bytes).map_err(codec_error)?,
            "task" => insert::<Task>(&mut state, bytes).map_err(codec_error)?,
            "secret" => insert::<Secret>(&mut state, bytes).map_err(codec_error)?,
            "config" => insert::<Config>(&mut state, bytes).map_err(codec_error)?,
            "network" => insert::<Network>(&mut state, bytes).map_err(codec_error)?,
            other => tracing::warn!(kind = other, id, "ignoring stored object of unknown kind"),
        }
    }
    let meta = match txn.open_table(SM_META) {
        Ok(table) => table.get(APPLIED).map_err(db)?.map(|v| v.value().to_vec()),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(db(e)),
    };
    Ok((state, meta))
}

fn insert<T: StoredObject>(state: &mut ClusterState, bytes: &[u8]) -> Result<(), CodecError> {
    let object: T = codec::decode(bytes)?;
    T::map_mut(state).insert(object.id().to_string(), Arc::new(object));
    Ok(())
}

/// Turns one object into its stored bytes.
type Encoder = Box<dyn FnOnce() -> Result<Vec<u8>, CodecError> + Send>;

/// One object a checkpoint writes: taken from the state under its lock (an `Arc` clone), and
/// encoded and written after the lock is released.
pub struct DirtyObject {
    kind: Kind,
    key: String,
    /// `None`: the object was removed.
    encode: Option<Encoder>,
}

/// The objects named by `keys` as they are in `state` now (removed ones as removals).
pub fn dirty_objects<'a>(
    state: &ClusterState,
    keys: impl Iterator<Item = (Kind, &'a str)>,
) -> Vec<DirtyObject> {
    fn take<T: StoredObject>(state: &ClusterState, id: &str) -> Option<Encoder> {
        let object = state.get::<T>(id)?.clone();
        Some(Box::new(move || codec::encode(object.as_ref())))
    }
    keys.map(|(kind, id)| {
        let (key, encode) = match kind {
            Kind::Cluster => {
                let cluster = state.cluster.clone();
                let encode =
                    cluster.map(|c| -> Encoder { Box::new(move || codec::encode(c.as_ref())) });
                (CLUSTER_ID.to_string(), encode)
            }
            Kind::Node => (id.to_string(), take::<Node>(state, id)),
            Kind::Service => (id.to_string(), take::<ServiceRecord>(state, id)),
            Kind::Task => (id.to_string(), take::<Task>(state, id)),
            Kind::Secret => (id.to_string(), take::<Secret>(state, id)),
            Kind::Config => (id.to_string(), take::<Config>(state, id)),
            Kind::Network => (id.to_string(), take::<Network>(state, id)),
        };
        DirtyObject { kind, key, encode }
    })
    .collect()
}

/// Writes `objects` and `meta` in one transaction; with `durable` false it is not fsynced (the
/// next durable commit of the log carries it to disk).
pub fn write_objects(
    db_handle: &Database,
    objects: Vec<DirtyObject>,
    meta: &[u8],
    durable: bool,
) -> Result<(), TableError> {
    let mut txn = db_handle.begin_write().map_err(db)?;
    if !durable {
        txn.set_durability(Durability::None).map_err(db)?;
    }
    {
        let mut table = txn.open_table(OBJECTS).map_err(db)?;
        for object in objects {
            let kind = object.kind.as_str();
            match object.encode {
                Some(encode) => {
                    let bytes = encode().map_err(|source| TableError::Codec {
                        kind: kind.to_string(),
                        id: object.key.clone(),
                        source,
                    })?;
                    table
                        .insert((kind, object.key.as_str()), bytes.as_slice())
                        .map_err(db)?;
                }
                None => {
                    table.remove((kind, object.key.as_str())).map_err(db)?;
                }
            }
        }
        let mut sm_meta = txn.open_table(SM_META).map_err(db)?;
        sm_meta.insert(APPLIED, meta).map_err(db)?;
    }
    txn.commit().map_err(db)
}

/// Replaces every object with `state` and writes `meta`, durably (snapshot install, leave).
pub fn replace_all(
    db_handle: &Database,
    state: &ClusterState,
    meta: &[u8],
) -> Result<(), TableError> {
    let txn = db_handle.begin_write().map_err(db)?;
    {
        let mut objects = txn.open_table(OBJECTS).map_err(db)?;
        objects.retain(|_, _| false).map_err(db)?;
        let codec_error = |kind: &str, id: &str, source| TableError::Codec {
            kind: kind.to_string(),
            id: id.to_string(),
            source,
        };
        if let Some(cluster) = &state.cluster {
            let bytes = codec::encode(cluster.as_ref())
                .map_err(|e| codec_error("cluster", CLUSTER_ID, e))?;
            objects
                .insert(("cluster", CLUSTER_ID), bytes.as_slice())
                .map_err(db)?;
        }
        put_all::<Node>(&mut objects, state)?;
        put_all::<ServiceRecord>(&mut objects, state)?;
        put_all::<Task>(&mut objects, state)?;
        put_all::<Secret>(&mut objects, state)?;
        put_all::<Config>(&mut objects, state)?;
        put_all::<Network>(&mut objects, state)?;
        let mut sm_meta = txn.open_table(SM_META).map_err(db)?;
        sm_meta.insert(APPLIED, meta).map_err(db)?;
    }
    txn.commit().map_err(db)
}

fn put_all<T: StoredObject>(
    objects: &mut redb::Table<(&str, &str), &[u8]>,
    state: &ClusterState,
) -> Result<(), TableError> {
    let kind = T::KIND.as_str();
    for (id, object) in T::map(state) {
        let bytes = codec::encode(object.as_ref()).map_err(|source| TableError::Codec {
            kind: kind.to_string(),
            id: id.clone(),
            source,
        })?;
        objects
            .insert((kind, id.as_str()), bytes.as_slice())
            .map_err(db)?;
    }
    Ok(())
}

/// Makes every earlier non-durable write durable (an empty durable commit).
pub fn sync(db_handle: &Database) -> Result<(), TableError> {
    let txn = db_handle.begin_write().map_err(db)?;
    txn.commit().map_err(db)
}
