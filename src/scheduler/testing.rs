//! A small cluster for scheduler tests: nodes, services and tasks built directly, plans
//! applied through the real `apply`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{commands, schedule, Plan};
use crate::store::apply::apply;
use crate::store::{ClusterState, ServiceRecord};
use crate::types::meta::Timestamp;
use crate::types::node::{
    Node, NodeAvailability, NodeRole, NodeSpec, NodeState, NodeStatus, Platform, Resources,
};
use crate::types::service::{Service, ServiceMode, ServiceSpec};
use crate::types::task::{Task, TaskState, TaskStatus};
use crate::types::task_spec::{Placement, ResourceRequirements, TaskSpec};

pub const GIB: i64 = 1 << 30;
pub const CPU: i64 = 1_000_000_000;

pub struct Cluster {
    pub state: ClusterState,
    pub now: i64,
    index: u64,
    next_task: u64,
}

impl Cluster {
    pub fn new() -> Self {
        Cluster {
            state: ClusterState::default(),
            now: 1_800_000_000_000_000_000,
            index: 1,
            next_task: 0,
        }
    }

    /// A cluster of ready, active nodes `n1..=nN` (4 CPUs, 8 GiB, linux/amd64).
    pub fn with_nodes(count: usize) -> Self {
        let mut cluster = Cluster::new();
        for i in 1..=count {
            cluster.add_node(&format!("n{i}"));
        }
        cluster
    }

    pub fn add_node(&mut self, id: &str) {
        let mut node = Node {
            id: id.into(),
            spec: NodeSpec {
                role: Some(NodeRole::Worker),
                availability: Some(NodeAvailability::Active),
                ..Default::default()
            },
            status: NodeStatus {
                state: NodeState::Ready,
                addr: "10.0.0.1".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        node.description.hostname = format!("host-{id}");
        node.description.platform = Platform {
            architecture: "x86_64".into(),
            os: "linux".into(),
        };
        node.description.resources = Resources {
            nano_cpus: 4 * CPU,
            memory_bytes: 8 * GIB,
            generic_resources: Vec::new(),
        };
        self.state.nodes.insert(id.into(), Arc::new(node));
    }

    pub fn edit_node(&mut self, id: &str, change: impl FnOnce(&mut Node)) {
        let node = self.state.nodes.get_mut(id).expect("fixture node");
        change(Arc::make_mut(node));
    }

    pub fn label(&mut self, id: &str, key: &str, value: &str) {
        self.edit_node(id, |n| {
            n.spec.labels.insert(key.into(), value.into());
        });
    }

    pub fn engine_label(&mut self, id: &str, key: &str, value: &str) {
        self.edit_node(id, |n| {
            n.description.engine.labels.insert(key.into(), value.into());
        });
    }

    pub fn availability(&mut self, id: &str, availability: NodeAvailability) {
        self.edit_node(id, |n| n.spec.availability = Some(availability));
    }

    /// A replicated service `svc-<name>` whose task template `template` may adjust.
    pub fn service(&mut self, name: &str, template: impl FnOnce(&mut TaskSpec)) -> String {
        let id = format!("svc-{name}");
        let mut spec = ServiceSpec {
            name: name.into(),
            mode: ServiceMode::replicated(1),
            ..Default::default()
        };
        template(&mut spec.task_template);
        let service = Service {
            id: id.clone(),
            spec,
            ..Default::default()
        };
        self.state
            .services
            .insert(id.clone(), Arc::new(ServiceRecord::new(service)));
        id
    }

    pub fn edit_service(&mut self, id: &str, change: impl FnOnce(&mut Service)) {
        let record = self.state.services.get_mut(id).expect("fixture service");
        change(&mut Arc::make_mut(record).service);
    }

    fn task(&mut self, service: &str, slot: i64, node: &str, state: TaskState) -> String {
        self.next_task += 1;
        let id = format!("t{:05}", self.next_task);
        let spec = self.state.services[service]
            .service
            .spec
            .task_template
            .clone();
        let task = Task {
            id: id.clone(),
            service_id: service.into(),
            slot,
            node_id: node.into(),
            spec,
            status: TaskStatus {
                state,
                message: "pending task scheduling".into(),
                ..Default::default()
            },
            desired_state: TaskState::Running,
            ..Default::default()
        };
        self.state.tasks.insert(id.clone(), Arc::new(task));
        id
    }

    /// `count` new tasks of `service` waiting for a node (slots 1..=count).
    pub fn pending(&mut self, service: &str, count: usize) -> Vec<String> {
        (1..=count as i64)
            .map(|slot| self.task(service, slot, "", TaskState::Pending))
            .collect()
    }

    /// A waiting task created for `node` (a global service's).
    pub fn preassigned(&mut self, service: &str, node: &str) -> String {
        self.task(service, 0, node, TaskState::Pending)
    }

    /// A task of `service` already in `state` on `node`.
    pub fn placed(&mut self, service: &str, node: &str, state: TaskState) -> String {
        self.task(service, 0, node, state)
    }

    pub fn edit_task(&mut self, id: &str, change: impl FnOnce(&mut Task)) {
        let task = self.state.tasks.get_mut(id).expect("fixture task");
        change(Arc::make_mut(task));
    }

    pub fn schedule(&self) -> Plan {
        schedule(&self.state)
    }

    /// Schedules and applies the plan as the store would.
    pub fn round(&mut self) -> Plan {
        let plan = self.schedule();
        for command in commands(plan.clone(), self.now) {
            self.index += 1;
            apply(&mut self.state, self.index, command).expect("apply");
        }
        self.now += 1_000;
        plan
    }

    /// Where the plan put each task.
    pub fn placements(plan: &Plan) -> BTreeMap<String, String> {
        plan.assignments
            .iter()
            .map(|a| (a.task_id.clone(), a.node_id.clone()))
            .collect()
    }

    /// How many tasks the plan put on each node.
    pub fn per_node(plan: &Plan) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for a in &plan.assignments {
            *counts.entry(a.node_id.clone()).or_default() += 1;
        }
        counts
    }

    /// The explanations the plan gives, per task.
    pub fn errors(plan: &Plan) -> BTreeMap<String, String> {
        plan.unplaced
            .iter()
            .map(|u| (u.task_id.clone(), u.status.err.clone()))
            .collect()
    }

    pub fn timestamp(&self) -> Timestamp {
        Timestamp::from_unix_nanos(i128::from(self.now)).unwrap_or_default()
    }
}

/// Placement constraints for a template.
pub fn constraints(spec: &mut TaskSpec, exprs: &[&str]) {
    placement(spec).constraints = exprs.iter().map(|e| e.to_string()).collect();
}

pub fn placement(spec: &mut TaskSpec) -> &mut Placement {
    spec.placement.get_or_insert_with(Placement::default)
}

/// Reservations for a template.
pub fn reserve(spec: &mut TaskSpec, nano_cpus: i64, memory_bytes: i64) {
    spec.resources = Some(ResourceRequirements {
        reservations: Some(Resources {
            nano_cpus,
            memory_bytes,
            generic_resources: Vec::new(),
        }),
        ..Default::default()
    });
}
