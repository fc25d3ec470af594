//! The Raft log store: entries in the write-ahead log (`wal.rs`), the vote and the purge point
//! in redb.
//!
//! An append is durable before its callback fires: one synchronous (`O_DSYNC`) write per
//! append, done in place: the Raft core waits for it anyway, and it runs on a thread of its
//! own (see [`super::runtime`]), so the API goes on serving meanwhile. The proposer batches
//! concurrent commands into one entry, so one durable write commits many of them.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::{Arc, Mutex};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{
    AnyError, Entry, ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftLogId, RaftLogReader,
    StorageError, StorageIOError, Vote,
};
use redb::{Database, ReadableDatabase, TableDefinition};

use super::wal::Wal;
use super::{NodeId, TypeConfig};
use crate::store::codec;

/// `vote`, `last_purged`.
const RAFT_META: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_meta");

const VOTE: &str = "vote";
const LAST_PURGED: &str = "last_purged";

struct OpenLog {
    wal: Wal,
    last_purged: Option<LogId<NodeId>>,
    /// The last entry's id (entries carry their term; this saves decoding one).
    last: Option<LogId<NodeId>>,
    /// The most recently appended entries, decoded: the state machine applies each entry
    /// right after it is appended, and reading it back from here saves a read and a decode.
    recent: VecDeque<Entry<TypeConfig>>,
}

/// How many appended entries stay decoded in memory.
const RECENT: usize = 64;

impl OpenLog {
    /// Writes `encoded` durably and keeps the decoded `entries` at hand.
    fn append(
        &mut self,
        encoded: &[(u64, Vec<u8>)],
        entries: Vec<Entry<TypeConfig>>,
    ) -> Result<(), StorageError<NodeId>> {
        self.wal.append(encoded).map_err(|e| write_logs(&e))?;
        if let Some(last) = entries.last() {
            self.last = Some(*last.get_log_id());
        }
        for entry in entries {
            if self.recent.len() == RECENT {
                self.recent.pop_front();
            }
            self.recent.push_back(entry);
        }
        Ok(())
    }

    fn entry(&self, index: u64) -> Result<Entry<TypeConfig>, StorageError<NodeId>> {
        if let Some(first) = self.recent.front().map(|e| e.get_log_id().index) {
            if index >= first {
                if let Some(entry) = self.recent.get((index - first) as usize) {
                    return Ok(entry.clone());
                }
            }
        }
        decode_entry(&self.wal, index)
    }

    /// Drops cached entries from `index` on (truncate) or up to it (purge).
    fn forget_recent(&mut self, keep: impl Fn(u64) -> bool) {
        self.recent.retain(|e| keep(e.get_log_id().index));
    }
}

/// The Raft log storage. Cheap to clone: clones share the log.
#[derive(Clone)]
pub struct LogStore {
    db: Arc<Database>,
    log: Arc<Mutex<OpenLog>>,
}

impl LogStore {
    /// Opens the log in `wal_dir`, with the vote and purge point in `db`.
    pub fn open(db: Arc<Database>, wal_dir: &Path) -> Result<Self, StorageError<NodeId>> {
        let txn = db.begin_write().map_err(|e| write_logs(&e))?;
        txn.open_table(RAFT_META).map_err(|e| write_logs(&e))?;
        txn.commit().map_err(|e| write_logs(&e))?;
        let mut wal = Wal::open(wal_dir).map_err(|e| read_logs(&e))?;
        let last_purged: Option<LogId<NodeId>> = read_meta(&db, LAST_PURGED)?;
        if let Some(purged) = last_purged {
            // Entries a snapshot covers may still sit in the segment that was active.
            wal.purge(purged.index).map_err(|e| write_logs(&e))?;
        }
        let last = match wal.last_index() {
            Some(index) => Some(*decode_entry(&wal, index)?.get_log_id()),
            None => None,
        };
        Ok(Self {
            db,
            log: Arc::new(Mutex::new(OpenLog {
                wal,
                last_purged,
                last,
                recent: VecDeque::with_capacity(RECENT),
            })),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn decode_entry(wal: &Wal, index: u64) -> Result<Entry<TypeConfig>, StorageError<NodeId>> {
    let bytes = wal
        .read(index)
        .map_err(|e| read_logs(&e))?
        .ok_or_else(|| read_logs(&std::io::Error::other(format!("log entry {index} missing"))))?;
    codec::decode(&bytes).map_err(|e| read_logs(&e))
}

fn read_meta<T: serde::de::DeserializeOwned>(
    db: &Database,
    key: &str,
) -> Result<Option<T>, StorageError<NodeId>> {
    let txn = db.begin_read().map_err(|e| read_logs(&e))?;
    let table = txn.open_table(RAFT_META).map_err(|e| read_logs(&e))?;
    let Some(value) = table.get(key).map_err(|e| read_logs(&e))? else {
        return Ok(None);
    };
    codec::decode(value.value())
        .map(Some)
        .map_err(|e| read_logs(&e))
}

fn write_meta<T: serde::Serialize>(
    db: &Database,
    key: &str,
    value: &T,
) -> Result<(), StorageError<NodeId>> {
    let bytes = codec::encode(value).map_err(|e| write_logs(&e))?;
    let txn = db.begin_write().map_err(|e| write_logs(&e))?;
    {
        let mut table = txn.open_table(RAFT_META).map_err(|e| write_logs(&e))?;
        table
            .insert(key, bytes.as_slice())
            .map_err(|e| write_logs(&e))?;
    }
    txn.commit().map_err(|e| write_logs(&e))
}

/// Runs rare, longer disk work (votes, truncation, purges, snapshots) on the blocking pool,
/// so the Raft thread goes on meanwhile.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(work).await
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let log = self.lock();
        let Some(last) = log.wal.last_index() else {
            return Ok(Vec::new());
        };
        let first = log.wal.first_index();
        let start = match range.start_bound() {
            Bound::Included(s) => *s,
            Bound::Excluded(s) => s.saturating_add(1),
            Bound::Unbounded => first,
        }
        .max(first);
        let end = match range.end_bound() {
            Bound::Included(e) => *e,
            Bound::Excluded(e) => match e.checked_sub(1) {
                Some(e) => e,
                None => return Ok(Vec::new()),
            },
            Bound::Unbounded => last,
        }
        .min(last);
        let mut entries = Vec::with_capacity(end.saturating_sub(start) as usize + 1);
        for index in start..=end {
            entries.push(log.entry(index)?);
        }
        Ok(entries)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let log = self.lock();
        Ok(LogState {
            last_purged_log_id: log.last_purged,
            last_log_id: log.last.or(log.last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let db = self.db.clone();
        let vote = *vote;
        blocking(move || write_meta(&db, VOTE, &vote))
            .await
            .map_err(|e| StorageIOError::write_vote(AnyError::new(&e)))?
            .map_err(|e| StorageIOError::write_vote(AnyError::new(&e)).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        read_meta(&self.db, VOTE)
    }

    // `save_committed`/`read_committed` keep openraft's defaults (nothing saved): after a
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
        let mut appended = Vec::new();
        for entry in entries {
            let bytes = codec::encode(&entry).map_err(|e| write_logs(&e))?;
            encoded.push((entry.get_log_id().index, bytes));
            appended.push(entry);
        }
        let result = self
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .append(&encoded, appended);
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
        let log = self.log.clone();
        blocking(move || -> Result<(), StorageError<NodeId>> {
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            log.wal.truncate(log_id.index).map_err(|e| write_logs(&e))?;
            log.forget_recent(|index| index < log_id.index);
            log.last = match log.wal.last_index() {
                Some(index) => Some(*decode_entry(&log.wal, index)?.get_log_id()),
                None => None,
            };
            Ok(())
        })
        .await
        .map_err(|e| write_logs(&e))?
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let db = self.db.clone();
        let log = self.log.clone();
        blocking(move || -> Result<(), StorageError<NodeId>> {
            // The purge point first: if we crash after it, reopening purges again.
            write_meta(&db, LAST_PURGED, &Some(log_id))?;
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            log.last_purged = Some(log_id);
            log.wal.purge(log_id.index).map_err(|e| write_logs(&e))?;
            log.forget_recent(|index| index > log_id.index);
            if log.wal.is_empty() {
                log.last = None;
            }
            Ok(())
        })
        .await
        .map_err(|e| write_logs(&e))?
    }
}

fn write_logs(e: &dyn std::error::Error) -> StorageError<NodeId> {
    StorageIOError::new(ErrorSubject::Logs, ErrorVerb::Write, AnyError::error(e)).into()
}

fn read_logs(e: &dyn std::error::Error) -> StorageError<NodeId> {
    StorageIOError::new(ErrorSubject::Logs, ErrorVerb::Read, AnyError::error(e)).into()
}
