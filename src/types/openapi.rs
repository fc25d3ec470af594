//! Every wire type's schema in one OpenAPI fragment, for the API layer to merge into the
//! document it generates (`WireSchemas::openapi()`); nested types are collected from the
//! top-level ones listed here. Depends on the wire types only.

use utoipa::OpenApi;

use super::config::{Config, ConfigSpec};
use super::event::EventMessage;
use super::meta::{TLSInfo, Timestamp, Version};
use super::network::{Network, NetworkAttachment};
use super::network_resource::{NetworkCreateRequest, NetworkCreateResponse, NetworkResource};
use super::node::{Node, NodeSpec};
use super::secret::{IdResponse, Secret, SecretSpec};
use super::service::{
    RegistryAuthSource, Service, ServiceCreateResponse, ServiceSpec, ServiceUpdateResponse,
};
use super::swarm::{
    ClusterInfo, InitRequest, JoinRequest, Swarm, SwarmInfo, SwarmSpec, UnlockKeyResponse,
    UnlockRequest,
};
use super::task::{Task, TaskState};

/// The schemas of the Engine API wire model.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Version,
    Timestamp,
    TLSInfo,
    ClusterInfo,
    Swarm,
    SwarmSpec,
    SwarmInfo,
    InitRequest,
    JoinRequest,
    UnlockRequest,
    UnlockKeyResponse,
    Node,
    NodeSpec,
    Service,
    ServiceSpec,
    ServiceCreateResponse,
    ServiceUpdateResponse,
    RegistryAuthSource,
    Task,
    TaskState,
    Secret,
    SecretSpec,
    IdResponse,
    Config,
    ConfigSpec,
    Network,
    NetworkAttachment,
    NetworkResource,
    NetworkCreateRequest,
    NetworkCreateResponse,
    EventMessage,
)))]
pub struct WireSchemas;

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                        _ => refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = serde_json::to_value(WireSchemas::openapi()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(schemas.contains_key(name), "dangling {r}");
        }
        // Spot checks of names and shapes.
        let spec = &schemas["ContainerSpec"]["properties"];
        assert!(spec.get("Healthcheck").is_some());
        assert!(spec.get("DNSConfig").is_some());
        assert_eq!(schemas["Timestamp"]["type"], "string");
        assert_eq!(schemas["Timestamp"]["format"], "date-time");
        let states = schemas["TaskState"]["enum"].as_array().unwrap();
        assert_eq!(states.len(), 15);
        assert_eq!(states[0], "new");
        assert_eq!(
            schemas["NodeRole"]["enum"],
            serde_json::json!(["worker", "manager"])
        );
        // Aliases must not leak into the document as bogus components.
        assert!(!schemas.contains_key("BTreeMap") && !schemas.contains_key("i64"));
    }
}
