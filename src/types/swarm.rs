//! The swarm itself: `GET /swarm`, the `SwarmSpec` of `POST /swarm/update`, the bodies of
//! `/swarm/init`, `/swarm/join`, `/swarm/unlock`, `/swarm/unlockkey`, and the `Swarm` section
//! of `GET /info`.
//!
//! `ClusterInfo` is what every node may see; `Swarm` adds the join tokens (managers only).
//! Go embeds one in the other; here the fields are repeated (no `flatten`, so the Go-style
//! decoder sees every key) and `Swarm::cluster_info` converts. Depends on `meta`, `node`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::{empty_as_none, none_as_empty, string_enum};
use super::meta::{is_zero_i64, is_zero_u64, Driver, TLSInfo, Timestamp, Version};
use super::node::NodeAvailability;

/// Information about the cluster, as `/info` shows it under `Swarm.Cluster`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ClusterInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub spec: SwarmSpec,
    #[serde(rename = "TLSInfo")]
    pub tls_info: TLSInfo,
    pub root_rotation_in_progress: bool,
    /// Subnets for overlay networks; the engine emits `null` when unset.
    pub default_addr_pool: Option<Vec<String>>,
    pub subnet_size: u32,
    pub data_path_port: u32,
}

/// `GET /swarm`: the cluster plus its join tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Swarm {
    #[serde(rename = "ID")]
    pub id: String,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub spec: SwarmSpec,
    #[serde(rename = "TLSInfo")]
    pub tls_info: TLSInfo,
    pub root_rotation_in_progress: bool,
    pub default_addr_pool: Option<Vec<String>>,
    pub subnet_size: u32,
    pub data_path_port: u32,
    pub join_tokens: JoinTokens,
}

impl Swarm {
    /// Adds the join tokens to the cluster information.
    pub fn new(cluster: ClusterInfo, join_tokens: JoinTokens) -> Self {
        Swarm {
            id: cluster.id,
            version: cluster.version,
            created_at: cluster.created_at,
            updated_at: cluster.updated_at,
            spec: cluster.spec,
            tls_info: cluster.tls_info,
            root_rotation_in_progress: cluster.root_rotation_in_progress,
            default_addr_pool: cluster.default_addr_pool,
            subnet_size: cluster.subnet_size,
            data_path_port: cluster.data_path_port,
            join_tokens,
        }
    }

    /// The cluster information without the tokens.
    pub fn cluster_info(&self) -> ClusterInfo {
        ClusterInfo {
            id: self.id.clone(),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            spec: self.spec.clone(),
            tls_info: self.tls_info.clone(),
            root_rotation_in_progress: self.root_rotation_in_progress,
            default_addr_pool: self.default_addr_pool.clone(),
            subnet_size: self.subnet_size,
            data_path_port: self.data_path_port,
        }
    }
}

/// The tokens a node presents to join as a worker or as a manager (`SWMTKN-1-...`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct JoinTokens {
    pub worker: String,
    pub manager: String,
}

/// The cluster settings users change with `docker swarm update` (the body of
/// `POST /swarm/update`, and `Spec` in `/swarm/init`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SwarmSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub orchestration: OrchestrationConfig,
    pub raft: RaftConfig,
    pub dispatcher: DispatcherConfig,
    #[serde(rename = "CAConfig")]
    pub ca_config: CAConfig,
    pub task_defaults: TaskDefaults,
    pub encryption_config: EncryptionConfig,
}

/// Orchestration settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct OrchestrationConfig {
    /// How many finished tasks to keep per slot (engine default 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_history_retention_limit: Option<i64>,
}

/// Raft settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct RaftConfig {
    /// Log entries between snapshots (engine default 10000).
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub snapshot_interval: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_old_snapshots: Option<u64>,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub log_entries_for_slow_followers: u64,
    /// Ticks without a leader before an election (engine default 10).
    pub election_tick: i64,
    /// Ticks between heartbeats (engine default 1).
    pub heartbeat_tick: i64,
}

/// Dispatcher settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct DispatcherConfig {
    /// Agent heartbeat period (engine default 5 s).
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub heartbeat_period: i64,
}

/// Certificate authority settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct CAConfig {
    /// Validity of node certificates (engine default 90 days).
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub node_cert_expiry: i64,
    #[serde(rename = "ExternalCAs", skip_serializing_if = "Vec::is_empty")]
    pub external_cas: Vec<ExternalCA>,
    /// A PEM certificate to use as the new signing CA (root rotation).
    #[serde(rename = "SigningCACert", skip_serializing_if = "String::is_empty")]
    pub signing_ca_cert: String,
    #[serde(rename = "SigningCAKey", skip_serializing_if = "String::is_empty")]
    pub signing_ca_key: String,
    /// Bump to force a root rotation.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub force_rotate: u64,
}

string_enum! {
    /// The protocol of an external CA.
    #[derive(Default)]
    pub enum ExternalCAProtocol as "Protocol" {
        #[default]
        Cfssl = "cfssl",
    }
}

/// A certificate signer outside the swarm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExternalCA {
    pub protocol: ExternalCAProtocol,
    #[serde(rename = "URL")]
    pub url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    #[serde(rename = "CACert")]
    pub ca_cert: String,
}

/// Defaults for tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct TaskDefaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_driver: Option<Driver>,
}

/// Encryption at rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct EncryptionConfig {
    /// Lock managers' keys with an unlock key (autolock).
    pub auto_lock_managers: bool,
}

/// The body of `POST /swarm/init`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct InitRequest {
    pub listen_addr: String,
    pub advertise_addr: String,
    pub data_path_addr: String,
    pub data_path_port: u32,
    pub force_new_cluster: bool,
    pub spec: SwarmSpec,
    pub auto_lock_managers: bool,
    #[serde(serialize_with = "none_as_empty", deserialize_with = "empty_as_none")]
    #[schema(value_type = Option<NodeAvailability>)]
    pub availability: Option<NodeAvailability>,
    pub default_addr_pool: Vec<String>,
    pub subnet_size: u32,
}

/// The body of `POST /swarm/join`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct JoinRequest {
    pub listen_addr: String,
    pub advertise_addr: String,
    pub data_path_addr: String,
    pub remote_addrs: Vec<String>,
    pub join_token: String,
    #[serde(serialize_with = "none_as_empty", deserialize_with = "empty_as_none")]
    #[schema(value_type = Option<NodeAvailability>)]
    pub availability: Option<NodeAvailability>,
}

/// The body of `POST /swarm/unlock`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct UnlockRequest {
    pub unlock_key: String,
}

/// The answer of `GET /swarm/unlockkey` (`""` when autolock is off).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct UnlockKeyResponse {
    pub unlock_key: String,
}

/// The query of `POST /swarm/update` (`version` is required; the CLI always sends all three
/// rotate flags). Parse with [`crate::types::meta::parse_version_query`] and
/// [`crate::types::meta::parse_go_bool`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SwarmUpdateQuery {
    pub version: u64,
    pub rotate_worker_token: bool,
    pub rotate_manager_token: bool,
    pub rotate_manager_unlock_key: bool,
}

string_enum! {
    /// This node's membership of a swarm, as `/info` reports it.
    #[derive(Default)]
    pub enum LocalNodeState as "LocalNodeState" {
        #[default]
        Inactive = "inactive",
        Pending = "pending",
        Active = "active",
        Error = "error",
        Locked = "locked",
    }
}

/// A manager known to this node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Peer {
    #[serde(rename = "NodeID")]
    pub node_id: String,
    pub addr: String,
}

/// The `Swarm` section of `GET /info`. The CLI decides whether the node is a manager from
/// `ControlAvailable`, and finds "self" from `NodeID`.
///
/// Out of a swarm it is `{"NodeID":"","NodeAddr":"","LocalNodeState":"inactive",
/// "ControlAvailable":false,"Error":"","RemoteManagers":null}` ([`SwarmInfo::inactive`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SwarmInfo {
    #[serde(rename = "NodeID")]
    pub node_id: String,
    pub node_addr: String,
    pub local_node_state: LocalNodeState,
    pub control_available: bool,
    pub error: String,
    /// `null` when not in a swarm.
    pub remote_managers: Option<Vec<Peer>>,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub nodes: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub managers: i64,
    /// Present on managers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl SwarmInfo {
    /// The section of a node that is not part of a swarm.
    pub fn inactive() -> Self {
        SwarmInfo::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn inactive_shape() {
        let json = serde_json::to_value(SwarmInfo::inactive()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                "ControlAvailable": false, "Error": "", "RemoteManagers": null
            })
        );
    }

    #[test]
    fn init_with_empty_availability() {
        let req: InitRequest = decode::from_str(
            r#"{"ListenAddr":"0.0.0.0:2377","Availability":"","Spec":{"Labels":null},"DefaultAddrPool":[]}"#,
        )
        .unwrap();
        assert_eq!(req.availability, None);
        assert!(req.spec.labels.is_empty());
        let back = serde_json::to_value(&req).unwrap();
        assert_eq!(back["Availability"], "");
    }

    #[test]
    fn swarm_and_cluster_info_convert() {
        let cluster = ClusterInfo {
            id: "x".into(),
            subnet_size: 24,
            ..ClusterInfo::default()
        };
        let swarm = Swarm::new(cluster.clone(), JoinTokens::default());
        assert_eq!(swarm.cluster_info(), cluster);
    }
}
