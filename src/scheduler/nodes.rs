//! What one scheduling round knows about each node: whether it takes new tasks, what its
//! placed tasks leave of its resources, which host ports they hold, and how many tasks (of each
//! service) it runs. Built once per round from the state and updated as the round places tasks.
//!
//! A task weighs on its node from `assigned` to `running`: it holds resources and host ports
//! whatever its desired state, and it counts towards the spread (and `MaxReplicas`) while it is
//! still wanted (desired state at most `complete`), as swarm's scheduler counts it.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::types::endpoint::{PortConfig, PortProtocol, PublishMode};
use crate::types::node::{Node, NodeAvailability, NodeState};
use crate::types::task::{Task, TaskState};
use crate::types::task_spec::{GenericResource, TaskSpec};

/// A service's position in the round's service list (cheaper to hash than its ID).
pub type ServiceIndex = usize;

/// A published port a task holds on its node: protocol and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPort {
    pub protocol: PortProtocol,
    pub port: u32,
}

impl HostPort {
    /// The host-mode published port of `config`, if it has one (0 asks for a dynamic port,
    /// which never conflicts).
    pub fn of(config: &PortConfig) -> Option<HostPort> {
        (config.publish_mode == Some(PublishMode::Host) && config.published_port != 0).then(|| {
            HostPort {
                protocol: config.protocol.unwrap_or(PortProtocol::Tcp),
                port: config.published_port,
            }
        })
    }
}

/// One node as the scheduler sees it during a round.
#[derive(Debug)]
pub struct NodeInfo<'a> {
    pub node: &'a Node,
    /// Ready and active: the only nodes that take new tasks.
    pub available: bool,
    /// Unreserved CPU (nanoseconds per second) and memory; negative when over-committed.
    pub nano_cpus: i64,
    pub memory_bytes: i64,
    /// Unreserved generic resources per kind (named ones count one each).
    pub generic: BTreeMap<&'a str, i64>,
    pub host_ports: HashSet<HostPort>,
    /// Tasks still wanted on the node, of every service.
    pub active: u32,
    /// The same per service.
    pub per_service: HashMap<ServiceIndex, u32>,
}

/// The kind and amount of a generic resource.
pub fn generic_amount(resource: &GenericResource) -> Option<(&str, i64)> {
    if let Some(discrete) = &resource.discrete_resource_spec {
        return Some((discrete.kind.as_str(), discrete.value));
    }
    resource
        .named_resource_spec
        .as_ref()
        .map(|named| (named.kind.as_str(), 1))
}

/// CPU, memory and generic resources a task spec reserves.
pub fn reservations(spec: &TaskSpec) -> Option<&crate::types::node::Resources> {
    spec.resources.as_ref()?.reservations.as_ref()
}

impl<'a> NodeInfo<'a> {
    pub fn new(node: &'a Node) -> Self {
        let resources = &node.description.resources;
        let mut generic: BTreeMap<&str, i64> = BTreeMap::new();
        for resource in &resources.generic_resources {
            if let Some((kind, amount)) = generic_amount(resource) {
                *generic.entry(kind).or_default() += amount;
            }
        }
        NodeInfo {
            node,
            available: node.status.state == NodeState::Ready
                && node.spec.availability.unwrap_or(NodeAvailability::Active)
                    == NodeAvailability::Active,
            nano_cpus: resources.nano_cpus,
            memory_bytes: resources.memory_bytes,
            generic,
            host_ports: HashSet::new(),
            active: 0,
            per_service: HashMap::new(),
        }
    }

    /// Records a task on this node: its reservations, its host ports, and (when `counts`)
    /// one more task of `service`.
    pub fn add(
        &mut self,
        service: Option<ServiceIndex>,
        spec: &TaskSpec,
        ports: impl IntoIterator<Item = HostPort>,
        counts: bool,
    ) {
        if let Some(reserved) = reservations(spec) {
            let generic = reserved.generic_resources.iter().filter_map(generic_amount);
            self.reserve(reserved.nano_cpus, reserved.memory_bytes, generic);
        }
        self.host_ports.extend(ports);
        if counts {
            self.count(service);
        }
    }

    /// Takes CPU, memory and generic resources away from what is left.
    pub fn reserve<'r>(
        &mut self,
        nano_cpus: i64,
        memory_bytes: i64,
        generic: impl IntoIterator<Item = (&'r str, i64)>,
    ) {
        self.nano_cpus = self.nano_cpus.saturating_sub(nano_cpus);
        self.memory_bytes = self.memory_bytes.saturating_sub(memory_bytes);
        for (kind, amount) in generic {
            if let Some(left) = self.generic.get_mut(kind) {
                *left = left.saturating_sub(amount);
            }
        }
    }

    /// One more task wanted on the node (of `service`, when it is one the round knows).
    pub fn count(&mut self, service: Option<ServiceIndex>) {
        self.active += 1;
        if let Some(service) = service {
            *self.per_service.entry(service).or_default() += 1;
        }
    }

    /// Tasks of `service` still wanted on this node.
    pub fn tasks_of(&self, service: ServiceIndex) -> u32 {
        self.per_service.get(&service).copied().unwrap_or(0)
    }
}

/// Whether a task already placed weighs on its node (see the module notes).
pub fn occupies_node(task: &Task) -> bool {
    !task.node_id.is_empty()
        && task.status.state >= TaskState::Assigned
        && task.status.state <= TaskState::Running
}

/// Whether a placed task counts towards its node's spread and `MaxReplicas`.
pub fn counts_on_node(task: &Task) -> bool {
    task.desired_state <= TaskState::Complete
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::node::Resources;
    use crate::types::task_spec::{DiscreteGenericResource, NamedGenericResource};

    #[test]
    fn host_ports_only_for_published_host_mode() {
        let port = |mode, published| PortConfig {
            publish_mode: mode,
            published_port: published,
            target_port: 80,
            ..Default::default()
        };
        assert_eq!(
            HostPort::of(&port(Some(PublishMode::Host), 8080)),
            Some(HostPort {
                protocol: PortProtocol::Tcp,
                port: 8080
            })
        );
        assert_eq!(HostPort::of(&port(Some(PublishMode::Host), 0)), None);
        assert_eq!(HostPort::of(&port(Some(PublishMode::Ingress), 8080)), None);
        assert_eq!(HostPort::of(&port(None, 8080)), None);
    }

    #[test]
    fn tasks_consume_what_they_reserve() {
        let mut node = Node::default();
        node.description.resources = Resources {
            nano_cpus: 4_000_000_000,
            memory_bytes: 1 << 30,
            generic_resources: vec![
                GenericResource {
                    discrete_resource_spec: Some(DiscreteGenericResource {
                        kind: "ssd".into(),
                        value: 2,
                    }),
                    ..Default::default()
                },
                GenericResource {
                    named_resource_spec: Some(NamedGenericResource {
                        kind: "gpu".into(),
                        value: "uuid-1".into(),
                    }),
                    ..Default::default()
                },
            ],
        };
        let mut info = NodeInfo::new(&node);
        assert!(!info.available, "a node that is not ready takes nothing");
        assert_eq!(info.generic.get("gpu"), Some(&1));
        let spec = TaskSpec {
            resources: Some(crate::types::task_spec::ResourceRequirements {
                reservations: Some(Resources {
                    nano_cpus: 1_500_000_000,
                    memory_bytes: 1 << 29,
                    generic_resources: vec![GenericResource {
                        discrete_resource_spec: Some(DiscreteGenericResource {
                            kind: "ssd".into(),
                            value: 1,
                        }),
                        ..Default::default()
                    }],
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        info.add(Some(3), &spec, [], true);
        info.add(Some(3), &spec, [], false);
        assert_eq!(info.nano_cpus, 1_000_000_000);
        assert_eq!(info.memory_bytes, 0);
        assert_eq!(info.generic.get("ssd"), Some(&0));
        assert_eq!((info.active, info.tasks_of(3), info.tasks_of(4)), (1, 1, 0));
    }
}
