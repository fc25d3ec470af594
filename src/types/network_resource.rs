//! The `/networks` shape (`GET /networks`, `GET /networks/{id}`) shared with dockerd's local
//! networks, and the body and answer of `POST /networks/create`.
//!
//! Unlike swarm objects this shape keeps Go's `null`s: a swarm network has `Containers: null`,
//! `Labels: null` when it has none, and `IPAM.Options: null`; local networks have `{}`. The
//! answer to create is `{"Id":"...","Warning":""}` (note `Id`). Depends on `meta`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::meta::Timestamp;

/// A network as `/networks` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkResource {
    pub name: String,
    /// A 25-character swarm ID, or 64 hex digits for local networks.
    #[serde(rename = "Id")]
    pub id: String,
    pub created: Timestamp,
    /// `swarm` or `local`.
    pub scope: String,
    pub driver: String,
    /// API 1.47+; omitted when unset so 1.41-era answers round-trip.
    #[serde(rename = "EnableIPv4", skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: NetworkIPAM,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    /// Always emitted (`{"Network":""}`).
    pub config_from: NetworkConfigReference,
    pub config_only: bool,
    /// `null` for swarm networks on a manager without local endpoints.
    pub containers: Option<BTreeMap<String, EndpointResource>>,
    pub options: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PeerInfo>,
    /// Verbose inspect only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<BTreeMap<String, ServiceInfo>>,
    /// API 1.52 inspect: IPAM usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<NetworkStatus>,
}

/// IP address management of a network (`/networks` shape).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkIPAM {
    pub driver: String,
    /// `null` when unset.
    pub options: Option<BTreeMap<String, String>>,
    /// Always emitted, `[]` when empty.
    pub config: Vec<NetworkIPAMConfig>,
}

/// One subnet (`/networks` shape; note `IPRange`, where the swarm shape says `Range`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkIPAMConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subnet: String,
    #[serde(rename = "IPRange", skip_serializing_if = "String::is_empty")]
    pub ip_range: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    #[serde(
        rename = "AuxiliaryAddresses",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub auxiliary_addresses: BTreeMap<String, String>,
}

/// The config-only network a network takes its configuration from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConfigReference {
    pub network: String,
}

/// A container's endpoint on a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointResource {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// A node taking part in an overlay network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct PeerInfo {
    pub name: String,
    #[serde(rename = "IP")]
    pub ip: String,
}

/// A service's load balancing on a network (verbose inspect).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceInfo {
    #[serde(rename = "VIP")]
    pub vip: String,
    pub ports: Vec<String>,
    #[serde(rename = "LocalLBIndex")]
    pub local_lb_index: i64,
    pub tasks: Vec<NetworkTask>,
}

/// A task behind a service's VIP (verbose inspect).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkTask {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    #[serde(rename = "EndpointIP")]
    pub endpoint_ip: String,
    pub info: BTreeMap<String, String>,
}

/// IPAM usage of a network (API 1.52).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkStatus {
    #[serde(rename = "IPAM")]
    pub ipam: IPAMStatus,
}

/// Address usage per subnet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct IPAMStatus {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub subnets: BTreeMap<String, SubnetStatus>,
}

/// Address usage of one subnet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SubnetStatus {
    #[serde(rename = "IPsInUse")]
    pub ips_in_use: u64,
    #[serde(rename = "DynamicIPsAvailable")]
    pub dynamic_ips_available: u64,
}

/// The body of `POST /networks/create`. The CLI sends `CheckDuplicate: true`, `Scope: ""`,
/// `IPAM`/`Options`/`ConfigFrom` possibly `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateRequest {
    pub name: String,
    /// Deprecated (always on in newer engines); kept when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_duplicate: Option<bool>,
    pub driver: String,
    pub scope: String,
    #[serde(rename = "EnableIPv4", skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    #[serde(rename = "EnableIPv6", skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    #[serde(rename = "IPAM")]
    pub ipam: Option<NetworkIPAM>,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_only: bool,
    pub config_from: Option<NetworkConfigReference>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// The answer of `POST /networks/create` (201).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct NetworkCreateResponse {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Warning")]
    pub warning: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn stack_create_body_with_nulls() {
        let req: NetworkCreateRequest = decode::from_str(
            r#"{"Driver":"overlay","Scope":"","IPAM":null,"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":null,"Labels":{"com.docker.stack.namespace":"webdb"},"Name":"webdb_backend","CheckDuplicate":true}"#,
        )
        .unwrap();
        assert_eq!(req.name, "webdb_backend");
        assert_eq!(req.ipam, None);
        assert_eq!(req.check_duplicate, Some(true));
        assert_eq!(req.labels["com.docker.stack.namespace"], "webdb");
    }

    #[test]
    fn create_response_says_id_not_id() {
        let r = NetworkCreateResponse {
            id: "flmd2a8he57crrurl02e2njzg".into(),
            warning: String::new(),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"Id":"flmd2a8he57crrurl02e2njzg","Warning":""}"#
        );
    }
}
