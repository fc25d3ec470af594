//! Nodes: `GET /nodes`, `GET /nodes/{id}` and the `NodeSpec` body of `POST /nodes/{id}/update`.
//!
//! A node is a member of the swarm: its spec (role, availability, labels) is what users change;
//! its description (hostname, platform, resources, engine) and status are reported by its
//! agent; `ManagerStatus` is present on managers only. Depends on `meta` and `enums`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::{empty_as_none, string_enum};
use super::meta::{is_false, is_zero_i64, TLSInfo, Timestamp, Version};
use super::task_spec::GenericResource;

string_enum! {
    /// Whether a node is a manager (runs Raft and the control plane) or only a worker.
    pub enum NodeRole as "Role" {
        Worker = "worker",
        Manager = "manager",
    }
}

string_enum! {
    /// Whether the scheduler may place tasks on a node.
    pub enum NodeAvailability as "Availability" {
        /// Tasks may be scheduled here.
        Active = "active",
        /// No new tasks; existing ones keep running.
        Pause = "pause",
        /// No tasks: existing ones are moved elsewhere.
        Drain = "drain",
    }
}

string_enum! {
    /// The state of a node as the managers see it.
    #[derive(Default)]
    pub enum NodeState as "NodeState" {
        #[default]
        Unknown = "unknown",
        Down = "down",
        Ready = "ready",
        Disconnected = "disconnected",
    }
}

string_enum! {
    /// Whether a manager is reachable by the other managers.
    #[derive(Default)]
    pub enum Reachability as "Reachability" {
        #[default]
        Unknown = "unknown",
        Unreachable = "unreachable",
        Reachable = "reachable",
    }
}

/// A swarm node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Node {
    #[serde(rename = "ID")]
    pub id: String,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub spec: NodeSpec,
    pub description: NodeDescription,
    pub status: NodeStatus,
    /// Present on managers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_status: Option<ManagerStatus>,
}

/// What users set on a node (`docker node update`). The CLI always sends the whole spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Always emitted, `{}` when empty.
    pub labels: BTreeMap<String, String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub role: Option<NodeRole>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub availability: Option<NodeAvailability>,
}

/// What a node's agent reports about its machine and engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeDescription {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    pub platform: Platform,
    pub resources: Resources,
    pub engine: EngineDescription,
    #[serde(rename = "TLSInfo")]
    pub tls_info: TLSInfo,
    #[serde(rename = "CSIInfo", skip_serializing_if = "Vec::is_empty")]
    pub csi_info: Vec<NodeCSIInfo>,
}

/// An operating system and architecture (`x86_64`/`linux`); also a placement platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Platform {
    #[serde(rename = "Architecture", skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    #[serde(rename = "OS", skip_serializing_if = "String::is_empty")]
    pub os: String,
}

/// CPU, memory and generic resources: a node's capacity, or a task's reservation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Resources {
    #[serde(rename = "NanoCPUs", skip_serializing_if = "is_zero_i64")]
    pub nano_cpus: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub memory_bytes: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generic_resources: Vec<GenericResource>,
}

/// The node's Docker engine. UIs rely on `Plugins` being an array.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct EngineDescription {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub engine_version: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<PluginDescription>,
}

/// A plugin available on the engine (`{"Type":"Network","Name":"overlay"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct PluginDescription {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub r#type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// A CSI plugin's view of the node (API 1.42+).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeCSIInfo {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub plugin_name: String,
    #[serde(rename = "NodeID", skip_serializing_if = "String::is_empty")]
    pub node_id: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_volumes_per_node: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessible_topology: Option<Topology>,
}

/// Topology segments of a CSI node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Topology {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub segments: BTreeMap<String, String>,
}

/// A node's state and the address it is seen from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeStatus {
    pub state: NodeState,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub addr: String,
}

/// A manager's Raft standing. `Addr` is `ip:port` of the cluster port (the CLI prints it in
/// the join command).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ManagerStatus {
    /// Omitted when false, as the engine does.
    #[serde(skip_serializing_if = "is_false")]
    pub leader: bool,
    pub reachability: Reachability,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub addr: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn node_update_body_decodes() {
        let spec: NodeSpec =
            decode::from_str(r#"{"Labels":{"foo":"bar"},"Role":"manager","Availability":"drain"}"#)
                .unwrap();
        assert_eq!(spec.role, Some(NodeRole::Manager));
        assert_eq!(spec.availability, Some(NodeAvailability::Drain));
        assert_eq!(spec.labels["foo"], "bar");
    }

    #[test]
    fn bad_role_uses_engine_wording() {
        let err = decode::from_str::<NodeSpec>(r#"{"Role":"boss"}"#).unwrap_err();
        assert_eq!(err.to_string(), "invalid Role: \"boss\"");
    }

    #[test]
    fn empty_spec_keeps_labels_object() {
        let json = serde_json::to_string(&NodeSpec::default()).unwrap();
        assert_eq!(json, r#"{"Labels":{}}"#);
    }
}
