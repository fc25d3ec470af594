//! The scheduler: puts tasks waiting in `pending` on nodes.
//!
//! [`schedule`] is a pure function of the cluster state: it returns the placements to make
//! and, for tasks no node can take, why (the engine's `no suitable node (...)`, in the task's
//! `Status.Err`). [`run`] is the one runner: on the leader it schedules whenever the state
//! changes (a task created or finished, a node joining, coming up or changing its spec) and
//! proposes the plan as at most two commands. Like the orchestrators it is level-triggered: a
//! round looks at the whole state and never asks why it woke.
//!
//! A round, as swarm's scheduler does it:
//! 1. per-node info ([`nodes`]) from the tasks already placed;
//! 2. tasks created for a node (global services) are confirmed if that node fits, first;
//! 3. the other tasks, grouped by service and identical spec, go through the checks of
//!    [`filter`] once per group and node, then spread ([`spread`]) over the nodes that fit,
//!    each placement updating the counts the next one sees.
//!
//! Depends on `store` and `types`; the runner on `control` to read and propose.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::control::Manager;
use crate::store::command::UnixNanos;
use crate::store::watch::Pending;
use crate::store::{ClusterState, Command, Kind, ServiceRecord, TaskAssignment, TaskStatusUpdate};
use crate::types::meta::Timestamp;
use crate::types::task::{Task, TaskState, TaskStatus};

mod filter;
mod nodes;
mod spread;

use filter::{failures, same_demand, Demand};
use nodes::{counts_on_node, occupies_node, HostPort, NodeInfo, ServiceIndex};
use spread::Tree;

/// The start of every explanation of a task that could not be placed.
pub const NO_SUITABLE_NODE: &str = "no suitable node";

/// What a round decided.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    /// Tasks to place, in the order they were placed.
    pub assignments: Vec<TaskAssignment>,
    /// Tasks that stay `pending`, with the explanation in `Status.Err`; only those whose stored
    /// explanation differs. The status keeps the task's timestamp; [`commands`] stamps it.
    pub unplaced: Vec<TaskStatusUpdate>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.assignments.is_empty() && self.unplaced.is_empty()
    }
}

/// Whether the scheduler should place `task`: it waits in `pending` and is still wanted.
pub fn is_waiting(task: &Task) -> bool {
    task.status.state == TaskState::Pending && task.desired_state <= TaskState::Complete
}

/// The tasks of one round, sorted out.
struct Round<'a> {
    services: Vec<&'a ServiceRecord>,
    nodes: Vec<NodeInfo<'a>>,
    node_index: HashMap<&'a str, usize>,
    /// Waiting tasks created for a node, grouped.
    preassigned: Vec<Group<'a>>,
    /// Waiting tasks for the scheduler to place, grouped.
    unassigned: Vec<Group<'a>>,
}

/// Waiting tasks of one service that ask the same of nodes.
struct Group<'a> {
    service: ServiceIndex,
    tasks: Vec<&'a Task>,
}

impl<'a> Round<'a> {
    fn new(state: &'a ClusterState) -> Self {
        let services: Vec<&ServiceRecord> = state.services.values().map(|s| &**s).collect();
        let service_index: HashMap<&str, ServiceIndex> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.service.id.as_str(), i))
            .collect();
        let mut nodes: Vec<NodeInfo> = state.nodes.values().map(|n| NodeInfo::new(n)).collect();
        let node_index: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.node.id.as_str(), i))
            .collect();
        let mut preassigned = Vec::new();
        let mut unassigned = Vec::new();
        for task in state.tasks.values() {
            let service = service_index.get(task.service_id.as_str()).copied();
            if is_waiting(task) {
                // Tasks of a removed service are the reaper's.
                if let Some(service) = service {
                    if task.node_id.is_empty() {
                        unassigned.push((service, &**task));
                    } else {
                        preassigned.push((service, &**task));
                    }
                }
            } else if occupies_node(task) {
                let Some(node) = node_index.get(task.node_id.as_str()) else {
                    continue;
                };
                let endpoint_ports = service
                    .map(|s| services[s].service.endpoint.ports.as_slice())
                    .unwrap_or(&[]);
                let ports = endpoint_ports
                    .iter()
                    .chain(&task.status.port_status.ports)
                    .filter_map(HostPort::of);
                nodes[*node].add(service, &task.spec, ports, counts_on_node(task));
            }
        }
        Round {
            services,
            nodes,
            node_index,
            preassigned: group(preassigned),
            unassigned: group(unassigned),
        }
    }
}

/// Groups tasks by service (in service order) and demand; each group in slot, then ID order.
fn group<'a>(tasks: Vec<(ServiceIndex, &'a Task)>) -> Vec<Group<'a>> {
    let mut by_service: BTreeMap<ServiceIndex, Vec<Vec<&Task>>> = BTreeMap::new();
    for (service, task) in tasks {
        let groups = by_service.entry(service).or_default();
        match groups.iter_mut().find(|g| same_demand(g[0], task)) {
            Some(group) => group.push(task),
            None => groups.push(vec![task]),
        }
    }
    by_service
        .into_iter()
        .flat_map(|(service, groups)| {
            groups.into_iter().map(move |mut tasks| {
                // Tasks arrive in ID order; a stable sort keeps it within a slot.
                tasks.sort_by_key(|t| t.slot);
                Group { service, tasks }
            })
        })
        .collect()
}

/// Decides where every waiting task goes (see the module notes).
pub fn schedule(state: &ClusterState) -> Plan {
    let mut round = Round::new(state);
    let mut plan = Plan::default();
    for group in &round.preassigned {
        let record = round.services[group.service];
        let demand = Demand::new(group.service, record, group.tasks[0]);
        for task in &group.tasks {
            let Some(&node) = round.node_index.get(task.node_id.as_str()) else {
                continue;
            };
            match demand.first_failure(&round.nodes[node]) {
                None => {
                    demand.place_on(&mut round.nodes[node]);
                    plan.assign(task, node, &round.nodes);
                }
                // Swarm explains a preassigned task's failure without the prefix.
                Some(filter) => plan.leave(task, filter.explain(1)),
            }
        }
    }
    for group in &round.unassigned {
        let record = round.services[group.service];
        let demand = Demand::new(group.service, record, group.tasks[0]);
        let mut tree = Tree::build(&demand, &round.nodes);
        for (placed, task) in group.tasks.iter().enumerate() {
            if let Some(node) = tree.place(&demand, &mut round.nodes) {
                plan.assign(task, node, &round.nodes);
                continue;
            }
            let explanation = failures(&demand, &round.nodes).explain();
            let err = if explanation.is_empty() {
                NO_SUITABLE_NODE.to_string()
            } else {
                format!("{NO_SUITABLE_NODE} ({explanation})")
            };
            for task in &group.tasks[placed..] {
                plan.leave(task, err.clone());
            }
            break;
        }
    }
    plan
}

impl Plan {
    fn assign(&mut self, task: &Task, node: usize, nodes: &[NodeInfo<'_>]) {
        self.assignments.push(TaskAssignment {
            task_id: task.id.clone(),
            node_id: nodes[node].node.id.clone(),
        });
    }

    /// Leaves `task` pending with `err`, unless it already says so.
    fn leave(&mut self, task: &Task, err: String) {
        if task.status.err == err {
            return;
        }
        self.unplaced.push(TaskStatusUpdate {
            task_id: task.id.clone(),
            status: TaskStatus {
                err,
                ..task.status.clone()
            },
        });
    }
}

/// The proposals for a plan: one command of placements, one of explanations, stamped `now`.
pub fn commands(plan: Plan, now: UnixNanos) -> Vec<Command> {
    let mut commands = Vec::new();
    if !plan.assignments.is_empty() {
        commands.push(Command::AssignTasks {
            assignments: plan.assignments,
            at: now,
        });
    }
    if !plan.unplaced.is_empty() {
        let timestamp = Timestamp::from_unix_nanos(i128::from(now)).unwrap_or_default();
        let reports = plan
            .unplaced
            .into_iter()
            .map(|mut report| {
                report.status.timestamp = timestamp;
                report
            })
            .collect();
        commands.push(Command::UpdateTaskStatus { reports });
    }
    commands
}

/// Debounce, as the orchestrator does (see its SETTLE).
const SETTLE: Duration = Duration::from_millis(10);
/// Look again at least this often, whatever happens.
const SAFETY_NET: Duration = Duration::from_secs(10);
/// After a write failed (leadership lost, a slow quorum), wait this long before retrying.
const RETRY: Duration = Duration::from_millis(500);

/// Whether `pending` changes can make a task placeable or change where it fits: only tasks
/// (new pending ones, ended ones freeing resources and ports) and nodes do. A client creating
/// services, secrets or configs does not wake the scheduler.
fn concerns_scheduling(pending: &Pending) -> bool {
    pending.lagged
        || pending
            .changes
            .iter()
            .any(|c| matches!(c.kind, Kind::Task | Kind::Node))
}

/// The leader's scheduling loop: schedule, propose, wait for a change that concerns it.
pub async fn run(manager: Arc<Manager>, clock: SharedClock, cancel: CancellationToken) {
    let mut changes = manager.store.feed().cursor();
    loop {
        if cancel.is_cancelled() {
            return;
        }
        let leader = manager.is_leader();
        let plan = if leader {
            let state = manager.store.read();
            schedule(&state)
        } else {
            Plan::default()
        };
        let (placed, unplaced) = (plan.assignments.len(), plan.unplaced.len());
        let mut wrote = false;
        let mut failed = false;
        for command in commands(plan, clock.now_nanos()) {
            match manager.propose(command).await {
                Ok(()) => wrote = true,
                Err(error) => {
                    failed = true;
                    tracing::warn!(%error, "scheduler write failed");
                }
            }
        }
        if placed + unplaced > 0 {
            tracing::debug!(placed, unplaced, "scheduler round");
        }
        if wrote && !failed {
            // Our own writes changed the state: look at the result before sleeping.
            changes.take();
            continue;
        }
        let deadline = tokio::time::Instant::now() + if failed { RETRY } else { SAFETY_NET };
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                arrived = changes.wait() => {
                    if !arrived {
                        return;
                    }
                    tokio::time::sleep(SETTLE).await;
                    if !leader || !concerns_scheduling(&changes.take()) {
                        continue;
                    }
                }
                _ = manager.leadership_changed() => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
            break;
        }
    }
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
