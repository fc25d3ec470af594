//! Whether a node can take a task, and why not: the checks swarm's scheduler runs, in its
//! order, each with the explanation the engine shows in `no suitable node (...)`.
//!
//! A [`Demand`] is what a group of identical tasks asks of a node, worked out once per group
//! (constraints parsed, ports and reservations gathered); [`first_failure`] runs the checks
//! against one [`NodeInfo`]. Pure; depends on `types` and [`super::nodes`].

use super::nodes::{reservations, HostPort, NodeInfo, ServiceIndex};
use crate::store::ServiceRecord;
use crate::types::constraint::{parse_all, Constraint};
use crate::types::mount::MountType;
use crate::types::node::Platform;
use crate::types::task::Task;
use crate::types::task_spec::PlacementPreference;

/// The checks, in the order swarm runs them; a node fails on the first that fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Filter {
    /// The node is ready and active.
    Ready,
    /// Its unreserved CPU, memory and generic resources cover the task's reservations.
    Resources,
    /// It has the volume, network and log plugins the task uses.
    Plugins,
    /// It satisfies the placement constraints.
    Constraints,
    /// Its platform is one the task supports.
    Platform,
    /// None of the task's host-mode published ports is taken on it.
    HostPorts,
    /// It runs fewer than `MaxReplicas` tasks of the service.
    MaxReplicas,
}

impl Filter {
    pub const ALL: [Filter; 7] = [
        Filter::Ready,
        Filter::Resources,
        Filter::Plugins,
        Filter::Constraints,
        Filter::Platform,
        Filter::HostPorts,
        Filter::MaxReplicas,
    ];

    /// Why `nodes` nodes failed this check, in the engine's words.
    pub fn explain(self, nodes: usize) -> String {
        let what = match self {
            Filter::Ready => {
                return if nodes == 1 {
                    "1 node not available for new tasks".into()
                } else {
                    format!("{nodes} nodes not available for new tasks")
                };
            }
            Filter::MaxReplicas => return "max replicas per node limit exceed".into(),
            Filter::Resources => "insufficient resources on",
            Filter::Plugins => "missing plugin on",
            Filter::Constraints => "scheduling constraints not satisfied on",
            Filter::Platform => "unsupported platform on",
            Filter::HostPorts => "host-mode port already in use on",
        };
        if nodes == 1 {
            format!("{what} 1 node")
        } else {
            format!("{what} {nodes} nodes")
        }
    }
}

/// How many nodes failed on each check.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Failures([usize; Filter::ALL.len()]);

impl Failures {
    pub fn count(&mut self, filter: Filter) {
        self.0[filter as usize] += 1;
    }

    /// The checks that failed, most failures first (ties in check order), joined as the
    /// engine joins them; empty when nothing failed.
    pub fn explain(&self) -> String {
        let mut failed: Vec<(Filter, usize)> = Filter::ALL
            .iter()
            .map(|f| (*f, self.0[*f as usize]))
            .filter(|(_, n)| *n > 0)
            .collect();
        // Stable: equal counts keep the check order.
        failed.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        failed
            .iter()
            .map(|(f, n)| f.explain(*n))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a group of identical tasks (one service, one spec) asks of a node.
#[derive(Debug)]
pub struct Demand<'a> {
    pub service: ServiceIndex,
    /// Parsed once; `None` when the task has none (or, as swarm does, when they do not parse:
    /// they were validated when the service was written).
    constraints: Option<Vec<Constraint>>,
    nano_cpus: i64,
    memory_bytes: i64,
    generic: Vec<(&'a str, i64)>,
    /// Plugins by type (`Volume`, `Network`, `Log`) and name.
    plugins: Vec<(&'static str, &'a str)>,
    log_driver: Option<&'a str>,
    platforms: &'a [Platform],
    host_ports: Vec<HostPort>,
    pub max_replicas: u64,
    pub preferences: &'a [PlacementPreference],
}

impl<'a> Demand<'a> {
    /// The demand of `task`, a task of `record`.
    pub fn new(service: ServiceIndex, record: &ServiceRecord, task: &'a Task) -> Self {
        let placement = task.spec.placement.as_ref();
        let constraints = placement
            .filter(|p| !p.constraints.is_empty())
            .and_then(|p| parse_all(&p.constraints).ok());
        let reserved = reservations(&task.spec);
        let generic = reserved
            .map(|r| {
                r.generic_resources
                    .iter()
                    .filter_map(super::nodes::generic_amount)
                    .collect()
            })
            .unwrap_or_default();
        let mut plugins = Vec::new();
        if let Some(container) = &task.spec.container_spec {
            for mount in &container.mounts {
                let driver = mount
                    .volume_options
                    .as_ref()
                    .and_then(|v| v.driver_config.as_ref())
                    .map(|d| d.name.as_str())
                    .filter(|name| !name.is_empty() && *name != "local");
                if let (Some(MountType::Volume), Some(driver)) = (mount.r#type, driver) {
                    plugins.push(("Volume", driver));
                }
            }
        }
        for attachment in &task.networks_attachments {
            let driver = attachment.network.driver_state.name.as_str();
            if !driver.is_empty() {
                plugins.push(("Network", driver));
            }
        }
        let log_driver = task
            .spec
            .log_driver
            .as_ref()
            .map(|d| d.name.as_str())
            .filter(|name| !name.is_empty() && *name != "none");
        // A service's host ports, as its endpoint has them.
        let mut host_ports: Vec<HostPort> = record
            .service
            .endpoint
            .ports
            .iter()
            .filter_map(HostPort::of)
            .collect();
        host_ports.dedup();
        Demand {
            service,
            constraints,
            nano_cpus: reserved.map_or(0, |r| r.nano_cpus),
            memory_bytes: reserved.map_or(0, |r| r.memory_bytes),
            generic,
            plugins,
            log_driver,
            platforms: placement.map_or(&[], |p| p.platforms.as_slice()),
            host_ports,
            max_replicas: placement.map_or(0, |p| p.max_replicas),
            preferences: placement.map_or(&[], |p| p.preferences.as_slice()),
        }
    }

    /// Records one more task of this demand on `node`.
    pub fn place_on(&self, node: &mut NodeInfo<'_>) {
        node.reserve(
            self.nano_cpus,
            self.memory_bytes,
            self.generic.iter().copied(),
        );
        node.host_ports.extend(self.host_ports.iter().copied());
        node.count(Some(self.service));
    }

    /// The first check `node` fails for this demand, or `None` when it fits.
    pub fn first_failure(&self, node: &NodeInfo<'_>) -> Option<Filter> {
        if !node.available {
            return Some(Filter::Ready);
        }
        if !self.resources_fit(node) {
            return Some(Filter::Resources);
        }
        if !self.plugins_present(node) {
            return Some(Filter::Plugins);
        }
        if let Some(constraints) = &self.constraints {
            if !constraints.iter().all(|c| c.node_matches(node.node)) {
                return Some(Filter::Constraints);
            }
        }
        if !self.platforms.is_empty() && !self.platform_supported(&node.node.description.platform) {
            return Some(Filter::Platform);
        }
        if self.host_ports.iter().any(|p| node.host_ports.contains(p)) {
            return Some(Filter::HostPorts);
        }
        if self.max_replicas > 0 && u64::from(node.tasks_of(self.service)) >= self.max_replicas {
            return Some(Filter::MaxReplicas);
        }
        None
    }

    pub fn fits(&self, node: &NodeInfo<'_>) -> bool {
        self.first_failure(node).is_none()
    }

    fn resources_fit(&self, node: &NodeInfo<'_>) -> bool {
        self.nano_cpus <= node.nano_cpus
            && self.memory_bytes <= node.memory_bytes
            && self
                .generic
                .iter()
                .all(|(kind, amount)| node.generic.get(kind).is_some_and(|left| left >= amount))
    }

    /// A node that lists no plugins at all does not describe its engine; swarm lets it pass.
    /// A log driver is only required when the node lists log drivers.
    fn plugins_present(&self, node: &NodeInfo<'_>) -> bool {
        let listed = &node.node.description.engine.plugins;
        if listed.is_empty() || (self.plugins.is_empty() && self.log_driver.is_none()) {
            return true;
        }
        // Plugin names may carry the `:latest` tag the request leaves out.
        let find = |kind: &str, name: &str| {
            let mut kind_listed = false;
            for plugin in listed.iter().filter(|p| p.r#type == kind) {
                kind_listed = true;
                if plugin.name == name
                    || plugin
                        .name
                        .strip_prefix(name)
                        .is_some_and(|tag| tag == ":latest")
                {
                    return (true, true);
                }
            }
            (kind_listed, false)
        };
        if !self.plugins.iter().all(|(kind, name)| find(kind, name).1) {
            return false;
        }
        match self.log_driver {
            Some(driver) => {
                let (kind_listed, found) = find("Log", driver);
                found || !kind_listed
            }
            None => true,
        }
    }

    fn platform_supported(&self, node: &Platform) -> bool {
        let node_arch = normal_arch(&node.architecture);
        self.platforms.iter().any(|wanted| {
            let arch = normal_arch(&wanted.architecture);
            (arch.is_empty() || arch == node_arch) && (wanted.os.is_empty() || wanted.os == node.os)
        })
    }
}

/// `x86_64` is `amd64` and `aarch64` is `arm64`, as images and engines name them.
fn normal_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Counts, over `nodes`, the check each fails for `demand`.
pub fn failures(demand: &Demand<'_>, nodes: &[NodeInfo<'_>]) -> Failures {
    let mut failures = Failures::default();
    for node in nodes {
        if let Some(filter) = demand.first_failure(node) {
            failures.count(filter);
        }
    }
    failures
}

/// Whether two tasks of one service ask the same of nodes (and so schedule as one group).
pub fn same_demand(a: &Task, b: &Task) -> bool {
    fn mounts(t: &Task) -> Option<&Vec<crate::types::mount::Mount>> {
        t.spec.container_spec.as_ref().map(|c| &c.mounts)
    }
    fn drivers(t: &Task) -> impl Iterator<Item = &str> {
        t.networks_attachments
            .iter()
            .map(|n| n.network.driver_state.name.as_str())
    }
    a.spec.placement == b.spec.placement
        && a.spec.resources == b.spec.resources
        && a.spec.log_driver == b.spec.log_driver
        && mounts(a) == mounts(b)
        && drivers(a).eq(drivers(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::meta::Driver;
    use crate::types::node::{Node, NodeState, PluginDescription, Resources};
    use crate::types::task_spec::{DiscreteGenericResource, GenericResource, ResourceRequirements};

    #[test]
    fn explanations_are_the_engines() {
        let texts: Vec<String> = Filter::ALL.iter().map(|f| f.explain(1)).collect();
        assert_eq!(
            texts,
            [
                "1 node not available for new tasks",
                "insufficient resources on 1 node",
                "missing plugin on 1 node",
                "scheduling constraints not satisfied on 1 node",
                "unsupported platform on 1 node",
                "host-mode port already in use on 1 node",
                "max replicas per node limit exceed",
            ]
        );
        assert_eq!(
            Filter::Ready.explain(3),
            "3 nodes not available for new tasks"
        );
        assert_eq!(
            Filter::Platform.explain(2),
            "unsupported platform on 2 nodes"
        );
        assert_eq!(
            Filter::MaxReplicas.explain(5),
            "max replicas per node limit exceed"
        );
        let mut failures = Failures::default();
        assert_eq!(failures.explain(), "");
        failures.count(Filter::HostPorts);
        failures.count(Filter::Resources);
        failures.count(Filter::Resources);
        failures.count(Filter::Plugins);
        assert_eq!(
            failures.explain(),
            "insufficient resources on 2 nodes; missing plugin on 1 node; \
             host-mode port already in use on 1 node"
        );
    }

    fn ready_node(plugins: &[(&str, &str)]) -> Node {
        let mut node = Node::default();
        node.status.state = NodeState::Ready;
        node.description.engine.plugins = plugins
            .iter()
            .map(|(kind, name)| PluginDescription {
                r#type: kind.to_string(),
                name: name.to_string(),
            })
            .collect();
        node
    }

    fn check(task: &Task, node: &Node) -> Option<Filter> {
        let record = ServiceRecord::new(Default::default());
        Demand::new(0, &record, task).first_failure(&NodeInfo::new(node))
    }

    #[test]
    fn plugins_the_task_uses_must_be_on_the_node() {
        let mut task = Task::default();
        let mut overlay = crate::types::network::Network::default();
        overlay.driver_state.name = "overlay".into();
        task.networks_attachments
            .push(crate::types::network::NetworkAttachment {
                network: overlay,
                addresses: Vec::new(),
            });
        task.spec.log_driver = Some(Driver {
            name: "gelf".into(),
            options: Default::default(),
        });
        let full = ready_node(&[("Network", "overlay"), ("Log", "gelf")]);
        assert_eq!(check(&task, &full), None);
        let no_overlay = ready_node(&[("Network", "bridge"), ("Log", "gelf")]);
        assert_eq!(check(&task, &no_overlay), Some(Filter::Plugins));
        let other_logs = ready_node(&[("Network", "overlay"), ("Log", "json-file")]);
        assert_eq!(check(&task, &other_logs), Some(Filter::Plugins));
        // No log drivers listed at all: an older engine; not held against it.
        let no_logs = ready_node(&[("Network", "overlay")]);
        assert_eq!(check(&task, &no_logs), None);
        // Nothing listed: the engine is not described.
        assert_eq!(check(&task, &ready_node(&[])), None);
        // A volume plugin, found with its `:latest` tag.
        let mut task = Task::default();
        let mut container = crate::types::container_spec::ContainerSpec::default();
        container.mounts.push(crate::types::mount::Mount {
            r#type: Some(MountType::Volume),
            volume_options: Some(crate::types::mount::VolumeOptions {
                driver_config: Some(Driver {
                    name: "rexray".into(),
                    options: Default::default(),
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        task.spec.container_spec = Some(container);
        assert_eq!(
            check(&task, &ready_node(&[("Volume", "rexray:latest")])),
            None
        );
        assert_eq!(
            check(&task, &ready_node(&[("Volume", "local")])),
            Some(Filter::Plugins)
        );
    }

    #[test]
    fn generic_resources_are_counted() {
        let gpus = |value| GenericResource {
            discrete_resource_spec: Some(DiscreteGenericResource {
                kind: "gpu".into(),
                value,
            }),
            ..Default::default()
        };
        let mut task = Task::default();
        task.spec.resources = Some(ResourceRequirements {
            reservations: Some(Resources {
                generic_resources: vec![gpus(2)],
                ..Default::default()
            }),
            ..Default::default()
        });
        let mut node = ready_node(&[]);
        assert_eq!(check(&task, &node), Some(Filter::Resources));
        node.description.resources.generic_resources = vec![gpus(3)];
        assert_eq!(check(&task, &node), None);
        let record = ServiceRecord::new(Default::default());
        let demand = Demand::new(0, &record, &task);
        let mut info = NodeInfo::new(&node);
        demand.place_on(&mut info);
        assert_eq!(demand.first_failure(&info), Some(Filter::Resources));
    }

    #[test]
    fn tasks_of_one_spec_share_a_demand() {
        let a = Task::default();
        let mut b = Task {
            id: "other".into(),
            slot: 7,
            ..Default::default()
        };
        assert!(same_demand(&a, &b));
        b.spec.placement = Some(Default::default());
        assert!(!same_demand(&a, &b));
    }
}
