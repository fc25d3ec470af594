//! How a service is reached: `ServiceSpec.EndpointSpec` (resolution mode, published ports) and
//! the observed `Service.Endpoint` (ports as allocated, one virtual IP per network).
//!
//! Depends on `meta`, `enums`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::{empty_as_none, string_enum};
use super::meta::is_zero_u32;

string_enum! {
    /// How tasks of a service are found: one virtual IP, or DNS round robin.
    pub enum ResolutionMode as "ResolutionMode" {
        Vip = "vip",
        DnsRr = "dnsrr",
    }
}

string_enum! {
    /// Transport protocol of a port.
    pub enum PortProtocol as "Protocol" {
        Tcp = "tcp",
        Udp = "udp",
        Sctp = "sctp",
    }
}

string_enum! {
    /// Publish on every node through the routing mesh, or only on the task's node.
    pub enum PublishMode as "PublishMode" {
        Ingress = "ingress",
        Host = "host",
    }
}

/// The requested endpoint. Stacks send `{}` or ports without `Mode`; the engine stores
/// `Mode: "vip"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointSpec {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub mode: Option<ResolutionMode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortConfig>,
}

/// A port of a service (`-p 8080:8000`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub protocol: Option<PortProtocol>,
    /// Port inside the container.
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub target_port: u32,
    /// Port on the nodes; 0 asks for one from the dynamic range.
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub published_port: u32,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub publish_mode: Option<PublishMode>,
}

/// The endpoint as allocated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Endpoint {
    /// Always emitted (`{}` when the service has no endpoint spec).
    pub spec: EndpointSpec,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortConfig>,
    #[serde(rename = "VirtualIPs", skip_serializing_if = "Vec::is_empty")]
    pub virtual_ips: Vec<EndpointVirtualIP>,
}

/// The virtual IP of a service on one network (`10.0.0.5/24`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointVirtualIP {
    #[serde(rename = "NetworkID", skip_serializing_if = "String::is_empty")]
    pub network_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub addr: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn stack_endpoint_without_mode() {
        let spec: EndpointSpec = decode::from_str(
            r#"{"Ports":[{"Protocol":"tcp","TargetPort":8000,"PublishedPort":81,"PublishMode":"ingress"}]}"#,
        )
        .unwrap();
        assert_eq!(spec.mode, None);
        assert_eq!(spec.ports[0].publish_mode, Some(PublishMode::Ingress));
        let empty: EndpointSpec = decode::from_str("{}").unwrap();
        assert_eq!(empty, EndpointSpec::default());
    }
}
