//! What a task runs and under which constraints: `ServiceSpec.TaskTemplate` (and each task's
//! `Spec`): the container (or plugin, or network attachment), resources, restart policy,
//! placement, networks, log driver.
//!
//! `ForceUpdate` is always emitted as an integer. Depends on `meta`, `enums`, `node`
//! (`Resources`, `Platform`), `container_spec`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::container_spec::ContainerSpec;
use super::enums::{empty_as_none, string_enum};
use super::meta::{is_false, is_zero_i64, is_zero_u64, Driver};
use super::node::{Platform, Resources};

/// The template of a service's tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct TaskSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_spec: Option<ContainerSpec>,
    /// A plugin to install (`Runtime: "plugin"`); keys are lower-case on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_spec: Option<RuntimeSpec>,
    /// Internal: a network attachment task of a plain container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_attachment_spec: Option<NetworkAttachmentSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// Networks to attach; `Target` is a name or ID on input, an ID once stored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkAttachmentConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_driver: Option<Driver>,
    /// A counter that forces a redeploy when it changes (`docker service update --force`).
    pub force_update: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub runtime: Option<RuntimeType>,
}

string_enum! {
    /// What kind of task a spec describes.
    pub enum RuntimeType as "runtime" {
        Container = "container",
        Plugin = "plugin",
        Attachment = "attachment",
    }
}

/// A plugin task. The engine encodes these keys in lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase", default)]
pub struct RuntimeSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub privileges: Vec<RuntimePrivilege>,
    #[serde(skip_serializing_if = "is_false")]
    pub disabled: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
}

/// A privilege a plugin asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase", default)]
pub struct RuntimePrivilege {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub value: Vec<String>,
}

/// The container a network attachment task belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAttachmentSpec {
    #[serde(rename = "ContainerID")]
    pub container_id: String,
}

/// Limits and reservations. `Limits: {}` and `Reservations: {}` are kept as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ResourceRequirements {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Resources>,
    /// API 1.52: swap limit in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swap_bytes: Option<i64>,
    /// API 1.52: memory swappiness (0-100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_swappiness: Option<i64>,
}

/// Upper bounds of a task's resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Limit {
    #[serde(rename = "NanoCPUs", skip_serializing_if = "is_zero_i64")]
    pub nano_cpus: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub memory_bytes: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub pids: i64,
}

/// A user-defined resource (GPUs, ...): named (`gpu=uuid`) or discrete (`gpu=2`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenericResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_resource_spec: Option<NamedGenericResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discrete_resource_spec: Option<DiscreteGenericResource>,
}

/// A named generic resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NamedGenericResource {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// A counted generic resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct DiscreteGenericResource {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub value: i64,
}

string_enum! {
    /// When to restart a task's container.
    pub enum RestartPolicyCondition as "RestartCondition" {
        None = "none",
        OnFailure = "on-failure",
        Any = "any",
    }
}

/// The restart policy (engine defaults: `any`, 5 s delay, unlimited attempts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub condition: Option<RestartPolicyCondition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<i64>,
}

/// Where tasks may run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Placement {
    /// `node.role==manager`, `node.labels.zone!=z1`, ...
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preferences: Vec<PlacementPreference>,
    /// Maximum tasks of the service per node; 0 is unlimited.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub max_replicas: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Platform>,
}

/// A scheduling preference; `Spread` is always emitted (`null` when unset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct PlacementPreference {
    pub spread: Option<SpreadOver>,
}

/// Spread tasks evenly over the values of a node attribute (`node.labels.zone`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SpreadOver {
    pub spread_descriptor: String,
}

/// A network a task attaches to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAttachmentConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn force_update_is_always_an_integer() {
        assert_eq!(
            serde_json::to_string(&TaskSpec::default()).unwrap(),
            r#"{"ForceUpdate":0}"#
        );
    }

    #[test]
    fn plugin_spec_uses_lowercase_keys() {
        let text = r#"{"PluginSpec":{"name":"p","remote":"r","privileges":[{"name":"network","value":["host"]}],"disabled":true,"env":["A=1"]},"ForceUpdate":1,"Runtime":"plugin"}"#;
        let spec: TaskSpec = decode::from_str(text).unwrap();
        assert_eq!(spec.runtime, Some(RuntimeType::Plugin));
        assert_eq!(serde_json::to_string(&spec).unwrap(), text);
    }

    #[test]
    fn placement_and_resources_round_trip() {
        let text = r#"{"Resources":{"Limits":{"NanoCPUs":1,"MemoryBytes":2,"Pids":3},"Reservations":{"NanoCPUs":4,"GenericResources":[{"DiscreteResourceSpec":{"Kind":"gpu","Value":2}},{"NamedResourceSpec":{"Kind":"gpu","Value":"u"}}]},"SwapBytes":5,"MemorySwappiness":6},"RestartPolicy":{"Condition":"on-failure","Delay":1,"MaxAttempts":0,"Window":2},"Placement":{"Constraints":["node.role==manager"],"Preferences":[{"Spread":{"SpreadDescriptor":"node.labels.zone"}}],"MaxReplicas":2,"Platforms":[{"Architecture":"amd64","OS":"linux"}]},"Networks":[{"Target":"n","Aliases":["a"],"DriverOpts":{"k":"v"}}],"LogDriver":{"Name":"json-file","Options":{"max-size":"1m"}},"ForceUpdate":0}"#;
        let spec: TaskSpec = decode::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&spec).unwrap(), text);
    }
}
