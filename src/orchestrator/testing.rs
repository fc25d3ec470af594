//! A small world for orchestrator tests: a cluster state driven through the real `apply`,
//! a manual clock, and helpers that play the scheduler and the agents.

use std::sync::Arc;

use super::{commands, reconcile, Action, Memory, Nanos, Plan};
use crate::store::apply::apply;
use crate::store::{ClusterState, Command, ServiceRecord, TaskAssignment, TaskStatusUpdate};
use crate::types::meta::{Timestamp, Version};
use crate::types::node::{Node, NodeAvailability, NodeRole, NodeSpec, NodeState, NodeStatus};
use crate::types::service::{GlobalService, ReplicatedJob, Service, ServiceMode, ServiceSpec};
use crate::types::task::{Task, TaskState, TaskStatus};
use crate::types::task_spec::{RestartPolicy, RestartPolicyCondition, TaskSpec};

pub struct World {
    pub state: ClusterState,
    pub now: Nanos,
    pub memory: Memory,
    index: u64,
}

pub fn created(plan: &Plan) -> Vec<Task> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::Create(t) => Some((**t).clone()),
            _ => None,
        })
        .collect()
}

pub fn desired_changes(plan: &Plan, desired: TaskState) -> Vec<String> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::SetDesired {
                task_id,
                desired: d,
            } if *d == desired => Some(task_id.clone()),
            _ => None,
        })
        .collect()
}

impl World {
    pub fn new() -> Self {
        let mut world = World {
            state: ClusterState::default(),
            now: 1_800_000_000_000_000_000,
            memory: Memory::default(),
            index: 1,
        };
        world.add_node("node1");
        world
    }

    fn ts(&self) -> Timestamp {
        Timestamp::from_unix_nanos(i128::from(self.now)).unwrap_or_default()
    }

    fn run(&mut self, command: Command) {
        self.index += 1;
        // Apply like the store does; refusals are not expected here.
        apply(&mut self.state, self.index, command).expect("apply");
        self.now += 1_000;
    }

    pub fn add_node(&mut self, id: &str) {
        let node = Node {
            id: id.into(),
            spec: NodeSpec {
                role: Some(NodeRole::Manager),
                availability: Some(NodeAvailability::Active),
                ..Default::default()
            },
            status: NodeStatus {
                state: NodeState::Ready,
                ..Default::default()
            },
            ..Default::default()
        };
        self.state.nodes.insert(id.into(), Arc::new(node));
    }

    pub fn drain(&mut self, id: &str) {
        let mut node = Node::clone(&self.state.nodes[id]);
        node.spec.availability = Some(NodeAvailability::Drain);
        self.state.nodes.insert(id.into(), Arc::new(node));
    }

    fn service(&mut self, name: &str, mode: ServiceMode) -> String {
        let id = format!("svc-{name}");
        let spec = ServiceSpec {
            name: name.into(),
            task_template: TaskSpec {
                container_spec: Some(crate::types::container_spec::ContainerSpec {
                    image: format!("{name}:v1"),
                    ..Default::default()
                }),
                ..Default::default()
            },
            mode,
            ..Default::default()
        };
        let service = Service {
            id: id.clone(),
            version: Version::default(),
            created_at: self.ts(),
            updated_at: self.ts(),
            spec,
            ..Default::default()
        };
        self.run(Command::CreateService {
            service: Box::new(ServiceRecord::new(service)),
        });
        id
    }

    pub fn replicated(&mut self, name: &str, replicas: u64) -> String {
        self.service(name, ServiceMode::replicated(replicas))
    }

    pub fn global(&mut self, name: &str) -> String {
        self.service(
            name,
            ServiceMode {
                global: Some(GlobalService {}),
                ..Default::default()
            },
        )
    }

    pub fn replicated_job(&mut self, name: &str, max_concurrent: u64, total: u64) -> String {
        let id = self.service(
            name,
            ServiceMode {
                replicated_job: Some(ReplicatedJob {
                    max_concurrent: Some(max_concurrent),
                    total_completions: Some(total),
                }),
                ..Default::default()
            },
        );
        self.edit(&id, |s| {
            s.job_status = Some(crate::types::service::JobStatus::default());
        });
        id
    }

    fn edit(&mut self, id: &str, change: impl FnOnce(&mut Service)) {
        let mut record = ServiceRecord::clone(&self.state.services[id]);
        change(&mut record.service);
        self.state.services.insert(id.into(), Arc::new(record));
    }

    pub fn scale(&mut self, id: &str, replicas: u64) {
        self.edit(id, |s| s.spec.mode = ServiceMode::replicated(replicas));
    }

    pub fn change_image(&mut self, id: &str, image: &str) {
        let image = image.to_string();
        self.edit(id, |s| {
            s.previous_spec = Some(s.spec.clone());
            if let Some(c) = &mut s.spec.task_template.container_spec {
                c.image = image;
            }
        });
    }

    fn restart_policy(&mut self, id: &str, change: impl FnOnce(&mut RestartPolicy)) {
        self.edit(id, |s| {
            let policy = s
                .spec
                .task_template
                .restart_policy
                .get_or_insert_with(RestartPolicy::default);
            change(policy);
        });
    }

    pub fn set_restart(&mut self, id: &str, condition: RestartPolicyCondition, delay: Nanos) {
        self.restart_policy(id, |p| {
            p.condition = Some(condition);
            p.delay = Some(delay);
        });
    }

    pub fn set_max_attempts(&mut self, id: &str, attempts: u64) {
        self.restart_policy(id, |p| p.max_attempts = Some(attempts));
    }

    pub fn set_retention(&mut self, limit: i64) {
        let mut cluster = crate::store::ClusterRecord {
            info: Default::default(),
            join_tokens: Default::default(),
            root_ca: crate::store::RootCa {
                cert_pem: String::new(),
                key_pem: String::new(),
            },
            unlock_key: String::new(),
        };
        cluster.info.spec.orchestration.task_history_retention_limit = Some(limit);
        self.state.cluster = Some(Arc::new(cluster));
    }

    pub fn remove_service(&mut self, id: &str) {
        self.run(Command::RemoveService {
            id: id.into(),
            at: self.now,
        });
    }

    pub fn reconcile(&self) -> Plan {
        reconcile(&self.state, self.now, &self.memory)
    }

    pub fn apply(&mut self, plan: &Plan) {
        for (slot, at) in &plan.restarts {
            self.memory
                .restarts
                .entry(slot.clone())
                .or_default()
                .push_back(*at);
        }
        for command in commands(plan, self.now) {
            self.run(command);
        }
    }

    /// Reconciles and applies until nothing more happens (at most a few rounds).
    pub fn settle(&mut self) {
        for _ in 0..10 {
            let plan = self.reconcile();
            if plan.actions.is_empty() {
                return;
            }
            self.apply(&plan);
            self.place_all_on("node1");
            self.run_all();
            self.stop_shut_down_tasks();
        }
    }

    pub fn advance(&mut self, by: Nanos) {
        self.now += by;
    }

    pub fn all_tasks(&self) -> Vec<Arc<Task>> {
        self.state.tasks.values().cloned().collect()
    }

    pub fn task(&self, id: &str) -> Arc<Task> {
        self.state.tasks[id].clone()
    }

    pub fn tasks_of_slot(&self, slot: i64) -> Vec<Arc<Task>> {
        self.state
            .tasks
            .values()
            .filter(|t| t.slot == slot)
            .cloned()
            .collect()
    }

    pub fn set_state(&mut self, id: &str, state: TaskState) {
        let status = TaskStatus {
            timestamp: self.ts(),
            state,
            ..Default::default()
        };
        self.run(Command::UpdateTaskStatus {
            reports: vec![TaskStatusUpdate {
                task_id: id.into(),
                status,
            }],
        });
    }

    /// Plays the scheduler: every waiting task goes to `node`.
    pub fn place_all_on(&mut self, node: &str) {
        let assignments = self
            .state
            .tasks
            .values()
            .filter(|t| t.status.state <= TaskState::Pending)
            .map(|t| TaskAssignment {
                task_id: t.id.clone(),
                node_id: node.into(),
            })
            .collect::<Vec<_>>();
        if !assignments.is_empty() {
            self.run(Command::AssignTasks {
                assignments,
                at: self.now,
            });
        }
    }

    /// Plays the agents: tasks wanted running (or complete) and not yet there start running.
    pub fn run_all(&mut self) {
        self.place_all_on("node1");
        let ids: Vec<String> = self
            .state
            .tasks
            .values()
            .filter(|t| {
                matches!(t.desired_state, TaskState::Running | TaskState::Complete)
                    && t.status.state < TaskState::Running
            })
            .map(|t| t.id.clone())
            .collect();
        for id in ids {
            self.set_state(&id, TaskState::Running);
        }
    }

    /// Plays the agents: tasks wanted shut down stop.
    pub fn stop_shut_down_tasks(&mut self) {
        let ids: Vec<String> = self
            .state
            .tasks
            .values()
            .filter(|t| {
                t.desired_state > TaskState::Running && t.status.state <= TaskState::Running
            })
            .map(|t| t.id.clone())
            .collect();
        for id in ids {
            self.set_state(&id, TaskState::Shutdown);
        }
    }
}
