//! The Raft log and vote, in redb.
//!
//! Appends are durable before their callback fires (one fsync per append: the proposer
//! batches many commands into one entry, so one fsync commits many writes).

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{
    AnyError, Entry, ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftLogId, RaftLogReader,
    StorageError, StorageIOError, Vote,
};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use super::{NodeId, TypeConfig};
use crate::store::codec;

/// Log entries by index.
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");
/// `vote`, `last_purged`.
const RAFT_META: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_meta");

const VOTE: &str = "vote";
const LAST_PURGED: &str = "last_purged";

/// The Raft log storage. Cheap to clone: it shares the database.
#[derive(Clone)]
pub struct LogStore {
    db: Arc<Database>,
}

impl LogStore {
    pub fn new(db: Arc<Database>) -> Result<Self, StorageError<NodeId>> {
        let txn = db.begin_write().map_err(|e| write_logs(&e))?;
        txn.open_table(LOG).map_err(|e| write_logs(&e))?;
        txn.open_table(RAFT_META).map_err(|e| write_logs(&e))?;
        txn.commit().map_err(|e| write_logs(&e))?;
        Ok(Self { db })
    }

    fn read_meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StorageError<NodeId>> {
        let txn = self.db.begin_read().map_err(|e| read_logs(&e))?;
        let table = txn.open_table(RAFT_META).map_err(|e| read_logs(&e))?;
        let Some(value) = table.get(key).map_err(|e| read_logs(&e))? else {
            return Ok(None);
        };
        codec::decode(value.value())
            .map(Some)
            .map_err(|e| read_logs(&e))
    }

    fn write_meta<T: serde::Serialize>(
        &self,
        key: &str,
        value: &T,
        durability: Durability,
    ) -> Result<(), StorageError<NodeId>> {
        let bytes = codec::encode(value).map_err(|e| write_logs(&e))?;
        let mut txn = self.db.begin_write().map_err(|e| write_logs(&e))?;
        txn.set_durability(durability).map_err(|e| write_logs(&e))?;
        {
            let mut table = txn.open_table(RAFT_META).map_err(|e| write_logs(&e))?;
            table
                .insert(key, bytes.as_slice())
                .map_err(|e| write_logs(&e))?;
        }
        txn.commit().map_err(|e| write_logs(&e))
    }

    fn last_entry_log_id(&self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        let txn = self.db.begin_read().map_err(|e| read_logs(&e))?;
        let table = txn.open_table(LOG).map_err(|e| read_logs(&e))?;
        let Some((_, value)) = table.last().map_err(|e| read_logs(&e))? else {
            return Ok(None);
        };
        let entry: Entry<TypeConfig> = codec::decode(value.value()).map_err(|e| read_logs(&e))?;
        Ok(Some(*entry.get_log_id()))
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let txn = self.db.begin_read().map_err(|e| read_logs(&e))?;
        let table = txn.open_table(LOG).map_err(|e| read_logs(&e))?;
        let start = range.start_bound().cloned();
        let end = range.end_bound().cloned();
        let mut entries = Vec::new();
        for item in table
            .range::<u64>((start, end))
            .map_err(|e| read_logs(&e))?
        {
            let (_, value) = item.map_err(|e| read_logs(&e))?;
            entries.push(codec::decode(value.value()).map_err(|e| read_logs(&e))?);
        }
        Ok(entries)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let last_purged_log_id: Option<LogId<NodeId>> = self.read_meta(LAST_PURGED)?;
        let last_log_id = self.last_entry_log_id()?.or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let store = self.clone();
        let vote = *vote;
        blocking(move || store.write_meta(VOTE, &vote, Durability::Immediate))
            .await
            .map_err(|e| StorageIOError::write_vote(AnyError::new(&e)))?
            .map_err(|e| StorageIOError::write_vote(AnyError::new(&e)).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        self.read_meta(VOTE)
    }

    // `save_committed`/`read_committed` keep openraft's defaults (nothing saved): writing the
    // committed index on every commit would add a page to every durable commit, and after a
    // restart the single manager re-elects itself and commits its log within milliseconds.

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut encoded = Vec::new();
        for entry in entries {
            let bytes = codec::encode(&entry).map_err(|e| write_logs(&e))?;
            encoded.push((entry.get_log_id().index, bytes));
        }
        let db = self.db.clone();
        let result = blocking(move || -> Result<(), StorageError<NodeId>> {
            let txn = db.begin_write().map_err(|e| write_logs(&e))?;
            {
                let mut table = txn.open_table(LOG).map_err(|e| write_logs(&e))?;
                for (index, bytes) in &encoded {
                    table
                        .insert(*index, bytes.as_slice())
                        .map_err(|e| write_logs(&e))?;
                }
            }
            txn.commit().map_err(|e| write_logs(&e))
        })
        .await
        .map_err(|e| write_logs(&e))
        .and_then(|r| r);
        match result {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(error) => {
                callback.log_io_completed(Err(std::io::Error::other(error.to_string())));
                Err(error)
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let db = self.db.clone();
        blocking(move || -> Result<(), StorageError<NodeId>> {
            let txn = db.begin_write().map_err(|e| write_logs(&e))?;
            {
                let mut table = txn.open_table(LOG).map_err(|e| write_logs(&e))?;
                table
                    .retain_in::<u64, _>(log_id.index.., |_, _| false)
                    .map_err(|e| write_logs(&e))?;
            }
            txn.commit().map_err(|e| write_logs(&e))
        })
        .await
        .map_err(|e| write_logs(&e))?
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let db = self.db.clone();
        let purged = codec::encode(&Some(log_id)).map_err(|e| write_logs(&e))?;
        blocking(move || -> Result<(), StorageError<NodeId>> {
            let txn = db.begin_write().map_err(|e| write_logs(&e))?;
            {
                let mut meta = txn.open_table(RAFT_META).map_err(|e| write_logs(&e))?;
                meta.insert(LAST_PURGED, purged.as_slice())
                    .map_err(|e| write_logs(&e))?;
                let mut table = txn.open_table(LOG).map_err(|e| write_logs(&e))?;
                table
                    .retain_in::<u64, _>(
                        (Bound::Unbounded, Bound::Included(log_id.index)),
                        |_, _| false,
                    )
                    .map_err(|e| write_logs(&e))?;
            }
            txn.commit().map_err(|e| write_logs(&e))
        })
        .await
        .map_err(|e| write_logs(&e))?
    }
}

/// Runs blocking redb work off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(work).await
}

fn write_logs(e: &dyn std::error::Error) -> StorageError<NodeId> {
    StorageIOError::new(ErrorSubject::Logs, ErrorVerb::Write, AnyError::error(e)).into()
}

fn read_logs(e: &dyn std::error::Error) -> StorageError<NodeId> {
    StorageIOError::new(ErrorSubject::Logs, ErrorVerb::Read, AnyError::error(e)).into()
}
