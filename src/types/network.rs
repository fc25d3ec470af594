//! The swarm's own network object, as it appears in each task's `NetworksAttachments`
//! (`{"Network":{ID, Version, CreatedAt, UpdatedAt, Spec, DriverState, IPAMOptions},
//! "Addresses":[...]}`).
//!
//! The `/networks` endpoints use another shape, [`NetworkResource`](super::network_resource).
//! Depends on `meta`, `network_resource` (`ConfigReference`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::meta::{is_false, Driver, Timestamp, Version};
use super::network_resource::NetworkConfigReference;

/// A swarm-scoped network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Network {
    #[serde(rename = "ID")]
    pub id: String,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub spec: NetworkSpec,
    /// The driver and the options it settled on (`vxlanid_list`); always emitted.
    pub driver_state: Driver,
    /// The addressing as allocated.
    #[serde(rename = "IPAMOptions", skip_serializing_if = "Option::is_none")]
    pub ipam_options: Option<IPAMOptions>,
}

/// A swarm network as requested.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Always emitted, `{}` when empty.
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_configuration: Option<Driver>,
    #[serde(rename = "IPv6Enabled", skip_serializing_if = "is_false")]
    pub ipv6_enabled: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub internal: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub attachable: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub ingress: bool,
    #[serde(rename = "IPAMOptions", skip_serializing_if = "Option::is_none")]
    pub ipam_options: Option<IPAMOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_from: Option<NetworkConfigReference>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// IP address management of a swarm network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct IPAMOptions {
    /// Always emitted (`{}` when default, `{"Name":"default"}` once allocated).
    pub driver: Driver,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<IPAMConfig>,
}

/// One subnet of a swarm network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct IPAMConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subnet: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub range: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
}

/// A task's attachment to a network, with its addresses (`10.0.0.7/24`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAttachment {
    pub network: Network,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}
