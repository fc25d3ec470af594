//! What this node remembers about itself, outside Raft: its IDs, addresses, its certificate,
//! and whether the manager starts locked. Kept in the same redb file as the replicated state,
//! in a table of its own.

use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

use super::codec;
use super::tables::TableError;

const LOCAL: TableDefinition<&str, &[u8]> = TableDefinition::new("local_node");
const KEY: &str = "node";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalNode {
    /// The swarm node ID (25 characters of base36).
    pub node_id: String,
    /// This manager's Raft member ID.
    pub raft_id: u64,
    /// The address other nodes reach this one at (no port), as `NodeAddr` shows it.
    pub advertise_addr: String,
    /// The cluster port this manager listens on.
    pub listen_addr: String,
    /// Port of the cluster listener as advertised (`192.0.2.2:2377`).
    pub advertise_port: u16,
    pub data_path_addr: String,
    /// This node's certificate and key (PEM).
    pub cert_pem: String,
    pub key_pem: String,
    /// sha256 (hex) of the unlock key while autolock is on: the manager starts locked and
    /// `swarm unlock` must present the key.
    #[serde(default)]
    pub unlock_key_digest: Option<String>,
}

impl LocalNode {
    /// `ip:port` of the cluster listener, as `ManagerStatus.Addr` shows it.
    pub fn manager_addr(&self) -> String {
        if self.advertise_addr.contains(':') && !self.advertise_addr.starts_with('[') {
            format!("[{}]:{}", self.advertise_addr, self.advertise_port)
        } else {
            format!("{}:{}", self.advertise_addr, self.advertise_port)
        }
    }
}

pub fn load(db: &Database) -> Result<Option<LocalNode>, TableError> {
    let txn = db.begin_read().map_err(|e| TableError::Db(e.to_string()))?;
    let table = match txn.open_table(LOCAL) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(TableError::Db(e.to_string())),
    };
    let Some(value) = table.get(KEY).map_err(|e| TableError::Db(e.to_string()))? else {
        return Ok(None);
    };
    codec::decode(value.value())
        .map(Some)
        .map_err(|source| TableError::Codec {
            kind: "local node".into(),
            id: String::new(),
            source,
        })
}

/// Saves `node` durably.
pub fn save(db: &Database, node: &LocalNode) -> Result<(), TableError> {
    let bytes = codec::encode(node).map_err(|source| TableError::Codec {
        kind: "local node".into(),
        id: node.node_id.clone(),
        source,
    })?;
    let txn = db
        .begin_write()
        .map_err(|e| TableError::Db(e.to_string()))?;
    {
        let mut table = txn
            .open_table(LOCAL)
            .map_err(|e| TableError::Db(e.to_string()))?;
        table
            .insert(KEY, bytes.as_slice())
            .map_err(|e| TableError::Db(e.to_string()))?;
    }
    txn.commit().map_err(|e| TableError::Db(e.to_string()))
}
